/**
 * SQLite and file-system errors a user can cause (a file that is not a database, a corrupt or locked store, a
 * read-only file or folder, a full disk) as one-line `UserError`s naming the file and the remedy. Everything else
 * (a constraint violation, a misuse of the API) is a bug and keeps its stack trace.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { UserError } from '../core/util/errors.js';

export interface IoErrorContext {
  /** The file the operation was about. */
  file: string;
  /** What the file is, for the message: "results store", "export file". */
  what: string;
  /** What the user can do instead, e.g. "give another --db path". */
  remedy: string;
  /** How long a locked store was waited for, for the message. */
  busyTimeoutMs?: number;
}

/** SQLITE_IOERR_WRITE → SQLITE_IOERR; ENOSPC stays ENOSPC. */
function primaryCode(code: string): string {
  return code.startsWith('SQLITE_') ? code.split('_').slice(0, 2).join('_') : code;
}

/** Why `file` cannot be opened, as far as the file system tells. */
function openFailure(file: string): string {
  const dir = dirname(resolve(file));
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a folder`;
  } catch {
    return `folder ${dir} does not exist`;
  }
  try {
    if (statSync(file).isDirectory()) return 'it is a folder';
  } catch {
    return 'it cannot be created (is its folder read-only?)';
  }
  for (const p of [file, dir]) {
    try {
      accessSync(p, constants.W_OK);
    } catch {
      return p === file ? 'the file is read-only' : `its folder ${dir} is read-only`;
    }
  }
  return 'the file or its folder is not accessible';
}

/**
 * The one-line error for `e`, or `e` itself when it is not something a user can cause. Errors are mapped by their
 * code (better-sqlite3's SqliteError carries SQLite's extended code; Node's fs errors carry errno names).
 */
export function mapIoError(e: unknown, ctx: IoErrorContext): unknown {
  if (e instanceof UserError) return e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e;
  const { file, what, remedy } = ctx;
  const line = (s: string): UserError => new UserError(`${s}; ${remedy}`);
  switch (code === 'SQLITE_IOERR_SHMSIZE' ? code : primaryCode(code)) {
    case 'SQLITE_NOTADB':
      return line(`not a momentum-lab ${what}: ${file} is not an SQLite database`);
    case 'SQLITE_CORRUPT':
      return line(`${what} ${file} is corrupt (${(e as Error).message})`);
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return line(`${what} ${file} stayed locked by another process for ${(ctx.busyTimeoutMs ?? 0) / 1000} s (wait for it to finish)`);
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return line(`cannot write ${what} ${file}: the file or its folder is read-only`);
    case 'SQLITE_CANTOPEN':
      return line(`cannot open ${what} ${file}: ${openFailure(file)}`);
    case 'ENOENT':
      return line(`cannot open ${what} ${file}: ${openFailure(file)}`);
    case 'EISDIR':
      return line(`cannot write ${what} ${file}: it is a folder`);
    case 'ENOTDIR':
      return line(`cannot open ${what} ${file}: a part of its path is not a folder`);
    case 'SQLITE_FULL':
    case 'SQLITE_IOERR_SHMSIZE': // the -shm index could not grow: its file system is full
    case 'ENOSPC':
    case 'EDQUOT':
      return line(`disk full writing ${what} ${file} (free some space and re-run)`);
    case 'SQLITE_IOERR':
    case 'EIO':
      return line(`I/O error on ${what} ${file} (${code}; check the disk)`);
    default:
      return e;
  }
}
