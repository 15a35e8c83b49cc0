/**
 * Output paths checked before any work starts: a checkpoint path in a missing folder, or a report folder that is a
 * file, is a one-line error at once instead of a crash at the first write, hours into a run. Nothing is created here.
 */
import { accessSync, constants, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../core/util/errors.js';

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** What stops a file from being written at `path`, or null: checked before any work, nothing created. */
export type OutputFileProblem =
  | { kind: 'missing-folder'; dir: string }
  | { kind: 'not-a-folder'; dir: string }
  | { kind: 'is-a-folder' }
  | { kind: 'read-only'; dir: string };

export function outputFileProblem(path: string): OutputFileProblem | null {
  const dir = dirname(resolve(path));
  const d = statOrNull(dir);
  if (d === null) return { kind: 'missing-folder', dir };
  if (!d.isDirectory()) return { kind: 'not-a-folder', dir };
  if (statOrNull(path)?.isDirectory() === true) return { kind: 'is-a-folder' };
  if (!writable(dir)) return { kind: 'read-only', dir };
  return null;
}

/** Refuses a file path (`flag` names the option) whose folder is missing, not a folder or read-only, or that is a folder. */
export function checkOutputFile(path: string, flag: string): void {
  const p = outputFileProblem(path);
  if (p === null) return;
  const why = p.kind === 'missing-folder' ? `folder ${p.dir} does not exist`
    : p.kind === 'not-a-folder' ? `${p.dir} is not a folder`
      : p.kind === 'is-a-folder' ? 'it is a folder, not a file' : `folder ${p.dir} is read-only`;
  throw new UserError(`${flag} ${path}: ${why}; give another path`);
}

/**
 * Refuses a folder path (`flag` names the option) that is a file or lies under one; a missing folder is fine (it is
 * created when the work starts). A read-only folder is left to the first write, whose error names the file that
 * needed it (the results store, the report).
 */
export function checkOutputFolder(path: string, flag: string): void {
  const fail = (why: string): never => { throw new UserError(`${flag} ${path}: ${why}; give another folder`); };
  let p = resolve(path);
  for (;;) {
    const s = statOrNull(p);
    if (s !== null) {
      if (!s.isDirectory()) fail(p === resolve(path) ? 'it is a file, not a folder' : `${p} is a file, not a folder`);
      return;
    }
    const up = dirname(p);
    if (up === p) fail('no part of it exists');
    p = up;
  }
}
