/** Shared test helpers for test/experiments and test/report (no tests here). */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the nearest folder above this file holding package.json (works from src and dist). */
export function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) {
    const up = dirname(d);
    if (up === d) throw new Error('package.json not found above the test file');
    d = up;
  }
  return d;
}

/** `node` arguments that start the CLI: the built JS under dist, or the TS sources through tsx when tests run under tsx. */
export function cliCommand(): string[] {
  const root = repoRoot();
  if (import.meta.url.endsWith('.ts')) return ['--import', 'tsx', join(root, 'src/cli/main.ts')];
  return [join(root, 'dist/src/cli/main.js')];
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `ml-${tag}-`));
}
