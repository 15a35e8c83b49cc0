/** Shared test helpers for test/experiments and test/report (no tests here). */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsStore } from '../../src/node/store.js';

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

/** Runs of a store by status ({} while the store or its schema does not exist yet: a child may be creating it). */
export function storeStatuses(db: string): Record<string, number> {
  if (!existsSync(db)) return {};
  try {
    const s = new ResultsStore(db, { readonly: true });
    try {
      const out: Record<string, number> = {};
      for (const r of s.listRuns()) out[r.status] = (out[r.status] ?? 0) + 1;
      return out;
    } finally { s.close(); }
  } catch {
    return {};
  }
}

/** The store's results, without how they were obtained (ResultsStore.resultLines). */
export function storeLines(db: string): string[] {
  const s = new ResultsStore(db, { readonly: true });
  try { return s.resultLines(); } finally { s.close(); }
}
