// The core runs in a browser: bundled for one by esbuild it meets no Node built-in, and no core source imports
// one or touches `process`. Both tests name every offending file, so the list is the work left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { packageRoot } from '../../src/node/package-root.js';

const root = packageRoot();
const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

test('src/core/index.ts bundles for the browser without any Node built-in', async () => {
  const met: string[] = [];
  // Records each built-in and who imports it, and keeps it out of the bundle so the build finishes.
  const recordBuiltins: Plugin = {
    name: 'record-node-builtins',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!builtins.has(args.path) && !args.path.startsWith('node:')) return undefined;
        met.push(`${args.path} (imported by ${relative(root, args.importer)})`);
        return { path: args.path, external: true };
      });
    },
  };
  const out = await build({
    entryPoints: [join(root, 'src/core/index.ts')], bundle: true, write: false, format: 'esm', platform: 'browser',
    logLevel: 'silent', plugins: [recordBuiltins],
  });
  assert.equal(out.errors.length, 0);
  const names = [...new Set(met)].sort();
  assert.ok(names.length === 0, `Node built-ins in the core bundle:\n  ${names.join('\n  ')}`);
});

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

test('no file under src/core imports a Node built-in or src/node, or uses `process`', () => {
  const found: string[] = [];
  const importOf = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
  for (const file of sources(join(root, 'src/core'))) {
    readFileSync(file, 'utf8').split('\n').forEach((line, i) => {
      const where = `${relative(root, file)}:${i + 1}`;
      for (const m of line.matchAll(importOf)) {
        const spec = m[1]!;
        const intoNode = spec.startsWith('.') && relative(join(root, 'src/node'), join(dirname(file), spec)).split(sep)[0] !== '..';
        if (builtins.has(spec) || spec.startsWith('node:') || intoNode) found.push(`${where} imports ${spec}`);
      }
      if (/(?<![\w.])process\./.test(line)) found.push(`${where} uses process.`);
    });
  }
  assert.ok(found.length === 0, `Node in src/core:\n  ${found.join('\n  ')}`);
});
