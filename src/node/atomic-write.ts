/**
 * One way to write a file so that nobody ever sees half of it: the bytes go to `.<name>.tmp-<pid>-<random>` in the
 * same folder, are fsynced, and the file is renamed over `path`. On any error the temp file is removed and the error
 * is rethrown as it came (each caller says what the file was, or decides that a failed write only costs speed).
 * Checkpoints, the decoded-dataset cache and `runs export --out` all write through here.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { crashPoint } from './crash-points.js';

/** The temp-file name `writeAtomically` uses for `path` (a kill mid-write can leave one; callers may sweep them). */
export function isTempFileOf(name: string, path: string): boolean {
  return name.startsWith(`.${basename(path)}.tmp-`);
}

export function writeAtomically(path: string, produce: (write: (chunk: Uint8Array | string) => void) => void): void {
  const tmp = join(dirname(resolve(path)), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let fd: number | null = null;
  try {
    fd = openSync(tmp, 'wx');
    const file = fd;
    produce((chunk) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      for (let off = 0; off < b.length;) off += writeSync(file, b, off, b.length - off);
    });
    fsyncSync(file);
    closeSync(file);
    fd = null;
    crashPoint('atomic-rename');
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try { closeSync(fd); } catch { /* the write error is the one to report */ }
    }
    rmSync(tmp, { force: true });
    throw e;
  }
}
