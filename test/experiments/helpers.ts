/** Shared test helpers for test/experiments and test/report (no tests here). */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { repoRoot } from '../helpers.js';
import { repoRoot } from '../helpers.js';

/** `node` arguments that start the CLI: the built JS under dist, or the TS sources through tsx when tests run under tsx. */
export function cliCommand(): string[] {
  const root = repoRoot();
  if (import.meta.url.endsWith('.ts')) return ['--import', 'tsx', join(root, 'src/cli/main.ts')];
  const main = join(root, 'dist/src/cli/main.js');
  if (!existsSync(main)) throw new Error('dist/src/cli/main.js not built: run npm run build');
  return [main];
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `ml-${tag}-`));
}
