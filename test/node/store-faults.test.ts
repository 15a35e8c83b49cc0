/**
 * The results store opens only its own files: a new or empty file becomes a store, a store of this layout without the
 * id is stamped, anything else is refused in one line before a byte is written. Read-only opens write nothing and work
 * in a read-only folder; SQLite and file-system errors a user can cause are one-line errors naming the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isUserError, UserError } from '../../src/core/util/errors.js';
import { mapIoError } from '../../src/node/io-errors.js';
import { ResultsStore, STORE_APPLICATION_ID, STORE_LAYOUT } from '../../src/node/store.js';
import { exportRuns, writeFileAtomically } from '../../src/experiments/export.js';
import { tempDir } from '../experiments/helpers.js';
import {
  fakeHeaderFile, fingerprint, foreignSqlite, fullDisk, otherRunsTable, randomBytesFile, readOnlyFolder, realStore, runCount,
  sha256, truncatedCopy, unstampedStore,
} from './faults.js';

const marks = (path: string): { id: number; layout: number; journal: string } => {
  const db = new Database(path, { readonly: true });
  const m = { id: db.pragma('application_id', { simple: true }) as number, layout: db.pragma('user_version', { simple: true }) as number, journal: db.pragma('journal_mode', { simple: true }) as string };
  db.close();
  return m;
};

/** Runs `f`, which must throw a UserError of one line; returns its message. */
function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(isUserError(e), `expected a UserError, got ${String((e as Error)?.stack ?? e)}`);
    assert.ok(!e.message.includes('\n'), e.message);
    return e.message;
  }
  assert.fail('expected an error');
}

test('a new file and an empty file become stores: application id, layout and WAL mode', () => {
  const d = tempDir('faults');
  for (const path of [join(d, 'new.db'), join(d, 'empty.db')]) {
    if (path.endsWith('empty.db')) writeFileSync(path, '');
    new ResultsStore(path).close();
    assert.deepEqual(marks(path), { id: 0x4d4c6162, layout: 1, journal: 'wal' });
  }
  assert.equal(STORE_APPLICATION_ID, 0x4d4c6162); // "MLab" in ASCII
  assert.equal(STORE_LAYOUT, 1);
});

test('a store of this layout without the marks is stamped when opened for writing, and read as is when read-only', async () => {
  const d = tempDir('faults');
  const db = join(d, 'old.db');
  await unstampedStore(db);
  assert.deepEqual(marks(db), { id: 0, layout: 0, journal: 'wal' });
  const before = sha256(db);
  assert.equal(runCount(db), 2); // read-only: accepted, nothing written
  assert.equal(sha256(db), before);
  const s = new ResultsStore(db);
  assert.equal(s.listRuns().length, 2);
  assert.deepEqual(s.sweepNames(), ['tiny']);
  s.close();
  assert.deepEqual(marks(db), { id: 0x4d4c6162, layout: 1, journal: 'wal' });
});

test('files that are not stores are refused in one line, in both modes, and keep every byte', async () => {
  const d = tempDir('faults');
  const real = join(d, 'real.db');
  await realStore(real);
  const cases: [string, (p: string) => void, RegExp][] = [
    ['random.db', randomBytesFile, /^not a momentum-lab results store: \S+random\.db is not an SQLite database; give another --db path$/],
    ['fake-header.db', fakeHeaderFile, /^not a momentum-lab results store: \S+fake-header\.db is not an SQLite database; /],
    ['truncated.db', (p) => truncatedCopy(real, p), /^results store \S+truncated\.db is corrupt \(database disk image is malformed\); /],
    ['foreign.db', foreignSqlite, /^not a momentum-lab results store: \S+foreign\.db is an SQLite database of another program \(notes\); /],
    ['runs.db', otherRunsTable, /^not a momentum-lab results store: \S+runs\.db is an SQLite database whose runs table has another layout \(runs\); /],
  ];
  for (const [name, make, expected] of cases) {
    const sub = join(d, name.replace('.db', ''));
    const path = join(sub, name);
    mkdirSync(sub);
    make(path);
    const before = fingerprint(sub);
    assert.match(userError(() => new ResultsStore(path)), expected, name);
    assert.match(userError(() => new ResultsStore(path, { readonly: true })), new RegExp(expected.source.replace('give another --db path$', '')), name);
    assert.deepEqual(fingerprint(sub), before, `${name}: bytes or files changed`); // no WAL switch, no table, no -wal/-shm
  }
});

test('a store of a newer layout or another program\'s application id is refused before a write', () => {
  const d = tempDir('faults');
  const newer = join(d, 'newer.db');
  new ResultsStore(newer).close();
  const raw = new Database(newer);
  raw.pragma('user_version = 2');
  raw.close();
  const other = join(d, 'other.db');
  const o = new Database(other);
  o.pragma('application_id = 12345');
  o.close();
  const before = fingerprint(d);
  assert.match(userError(() => new ResultsStore(newer)), /has layout 2, and this momentum-lab reads layout 1; upgrade momentum-lab or give another --db path$/);
  assert.match(userError(() => new ResultsStore(other)), /other\.db is an SQLite database of another program \(application_id 12345\); /);
  assert.deepEqual(fingerprint(d), before);
});

test('read-only opens: a missing file, a folder and an empty file are one-line errors', () => {
  const d = tempDir('faults');
  writeFileSync(join(d, 'empty.db'), '');
  assert.match(userError(() => new ResultsStore(join(d, 'missing.db'), { readonly: true })), /missing\.db: no such file; give the path of another results store$/);
  assert.match(userError(() => new ResultsStore(d, { readonly: true })), /: it is not a file; /);
  assert.match(userError(() => new ResultsStore(join(d, 'empty.db'), { readonly: true })), /empty\.db is an empty database; /);
  assert.match(userError(() => new ResultsStore(join(d, 'no', 'such', 'r.db'))), /folder \S+no\/such does not exist; give another --db path$/);
  assert.deepEqual(readdirSync(d), ['empty.db']);
});

test('a WAL store in a read-only folder reads the same runs and metrics; writing to it is a one-line error', async (t) => {
  const d = tempDir('faults');
  const db = join(d, 'r.db');
  await realStore(db);
  const ro = readOnlyFolder(join(d, 'ro'), [db]);
  assert.ok(ro !== null, 'mount is not permitted here: no read-only folder to test with (this test needs root and mount/chattr, as CI has)');
  try {
    const inRo = join(ro.path, 'r.db');
    const before = fingerprint(ro.path);
    const a = new ResultsStore(db, { readonly: true });
    const b = new ResultsStore(inRo, { readonly: true });
    assert.deepEqual(b.listRuns(), a.listRuns());
    assert.deepEqual(b.metrics(), a.metrics());
    assert.equal(b.metrics().length > 0, true);
    a.close();
    b.close();
    assert.match(userError(() => new ResultsStore(inRo)), /^cannot open results store \S+r\.db: the file is read-only; give another --db path$/);
    assert.match(userError(() => new ResultsStore(join(ro.path, 'new.db'))), /new\.db: it cannot be created \(is its folder read-only\?\); /);
    assert.deepEqual(fingerprint(ro.path), before);
  } finally {
    ro.release();
  }
});

test('a full disk while a sweep writes is a one-line error, and the store still reads', async (t) => {
  const d = tempDir('faults');
  const db = join(d, 'r.db');
  await realStore(db);
  const disk = fullDisk(join(d, 'full'), 256, [db], 72);
  assert.ok(disk !== null, 'mount is not permitted here (this test needs root and mount/chattr, as CI has)');
  try {
    const s = new ResultsStore(join(disk.path, 'r.db'));
    const big = 'x'.repeat(200_000); // more than the 72 KiB left
    const message = userError(() => s.ensureRun('h'.repeat(16), { task: 'synthetic' } as never, { pad: big }));
    assert.match(message, /^disk full writing results store \S+r\.db \(free some space and re-run\); give another --db path$/);
    s.close();
    assert.equal(runCount(join(disk.path, 'r.db')), 2);
  } finally {
    disk.release();
  }
});

test('a store locked by another connection past the busy timeout is a one-line error; it works once released', async () => {
  const d = tempDir('faults');
  const db = join(d, 'r.db');
  await realStore(db);
  const s = new ResultsStore(db, { busyTimeoutMs: 200 });
  const other = new Database(db);
  other.prepare('BEGIN IMMEDIATE').run(); // holds the write lock
  const t0 = Date.now();
  const message = userError(() => s.ensureRun('f'.repeat(16), { task: 'synthetic' } as never, {}));
  assert.ok(Date.now() - t0 >= 150, 'the busy timeout was not waited for');
  assert.equal(message, `results store ${db} stayed locked by another process for 0.2 s (wait for it to finish); give another --db path`);
  other.prepare('ROLLBACK').run();
  other.close();
  s.ensureRun('f'.repeat(16), { task: 'synthetic' } as never, {});
  assert.equal(s.listRuns().length, 3);
  s.close();
});

test('SQLite and file-system error codes map to one line naming the file; other errors are left alone', () => {
  const ctx = { file: 'r.db', what: 'results store', remedy: 'give another --db path', busyTimeoutMs: 10_000 };
  const err = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });
  const cases: [string, string][] = [
    ['SQLITE_BUSY', 'results store r.db stayed locked by another process for 10 s (wait for it to finish); give another --db path'],
    ['SQLITE_BUSY_TIMEOUT', 'results store r.db stayed locked by another process for 10 s (wait for it to finish); give another --db path'],
    ['SQLITE_READONLY_DBMOVED', 'cannot write results store r.db: the file or its folder is read-only; give another --db path'],
    ['EROFS', 'cannot write results store r.db: the file or its folder is read-only; give another --db path'],
    ['SQLITE_FULL', 'disk full writing results store r.db (free some space and re-run); give another --db path'],
    ['ENOSPC', 'disk full writing results store r.db (free some space and re-run); give another --db path'],
    ['SQLITE_IOERR_SHMSIZE', 'disk full writing results store r.db (free some space and re-run); give another --db path'],
    ['SQLITE_IOERR_FSYNC', 'I/O error on results store r.db (SQLITE_IOERR_FSYNC; check the disk); give another --db path'],
    ['SQLITE_NOTADB', 'not a momentum-lab results store: r.db is not an SQLite database; give another --db path'],
  ];
  for (const [code, message] of cases) {
    const e = mapIoError(err(code), ctx);
    assert.ok(e instanceof UserError, code);
    assert.equal(e.message, message);
  }
  const bug = err('SQLITE_CONSTRAINT_PRIMARYKEY');
  assert.equal(mapIoError(bug, ctx), bug); // a bug keeps its stack
  const plain = new Error('no code');
  assert.equal(mapIoError(plain, ctx), plain);
});

test('an atomic write that fails part-way (simulated ENOSPC) leaves neither the file nor a temporary one', () => {
  const d = tempDir('faults');
  const out = join(d, 'runs.csv');
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  const message = userError(() => writeFileAtomically(out, (write) => {
    write('a'.repeat(1 << 17)); // flushed to the temporary file before the failure
    throw enospc;
  }));
  assert.equal(message, `disk full writing export file ${out} (free some space and re-run); give another --out path`);
  assert.deepEqual(readdirSync(d), []);
  // An existing file is replaced only by a complete export.
  writeFileSync(out, 'earlier export\n');
  userError(() => writeFileAtomically(out, () => { throw enospc; }));
  assert.deepEqual(readdirSync(d), ['runs.csv']);
  writeFileAtomically(out, (write) => { write('a,b\n'); write('1,2\n'); });
  assert.deepEqual(readdirSync(d), ['runs.csv']);
  assert.equal(readFileSync(out, 'utf8'), 'a,b\n1,2\n');
});

test('export of an unknown sweep is an error listing the known ones, before any output', async () => {
  const d = tempDir('faults');
  const db = join(d, 'r.db');
  await realStore(db);
  const s = new ResultsStore(db, { readonly: true });
  let written = '';
  assert.equal(userError(() => exportRuns(s, 'csv', (x) => { written += x; }, { sweep: 'nope' })), `--sweep: no sweep named nope in ${db}; its sweeps: tiny`);
  assert.equal(written, '');
  assert.equal(exportRuns(s, 'jsonl', (x) => { written += x; }, { sweep: 'tiny' }), 2);
  s.close();
});
