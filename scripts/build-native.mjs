#!/usr/bin/env node
/**
 * Builds native/ (the optional BLAS addon) with node-gyp. Never fails the install: on any failure it prints one
 * line and exits 0, and the engine runs on its WebAssembly kernels. MOMENTUM_LAB_NATIVE=0 skips the build.
 *
 * node-gyp is npm's own (npm passes its path as npm_config_node_gyp to scripts; otherwise it is looked up next to
 * npm). Node's headers come from npm_config_nodedir, else from the install prefix of this node when it ships
 * include/node (Debian's nodejs, official tarballs), so no header download is attempted when they are local.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const say = (why) => console.log(`native BLAS path not built: ${why}; running on WASM`);

function nodeGyp() {
  const npmDir = process.env.npm_execpath ? resolve(dirname(process.env.npm_execpath), '..') : undefined;
  const candidates = [
    process.env.npm_config_node_gyp,
    join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    npmDir && join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((p) => p && existsSync(p));
}

function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = resolve(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function main() {
  if (process.env.MOMENTUM_LAB_NATIVE === '0') { say('MOMENTUM_LAB_NATIVE=0'); return; }
  const gyp = nodeGyp();
  if (gyp === undefined) { say('node-gyp not found'); return; }
  const dir = nodeDir();
  // configure + build rather than rebuild: a failed attempt leaves an earlier working build in place.
  const run = (...a) => spawnSync(process.execPath, [gyp, ...a, ...(dir ? [`--nodedir=${dir}`] : [])],
    { cwd: join(root, 'native'), encoding: 'utf8', timeout: 300_000 });
  let r = run('configure', '--release');
  if (r.status === 0) r = run('build', '--release');
  if (r.status === 0) { console.log('native BLAS path built: native/build/Release/blas.node'); return; }
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.split('\n').filter((l) => /error|ERR!/i.test(l) && !/stack|ERR! (cwd|node|System|command)/.test(l));
  say(r.error ? r.error.message : (out[0] ?? `node-gyp exited with ${r.status}`).trim());
}

try { main(); } catch (e) { say(e instanceof Error ? e.message : String(e)); }
