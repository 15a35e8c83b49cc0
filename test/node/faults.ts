/**
 * Fault injection for the results store tests (no tests here): files that are not stores, a read-only folder, a
 * full disk, and a fingerprint of a folder to check that a refused command changed nothing in it.
 */
import Database from 'better-sqlite3';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ResultsStore } from '../../src/node/store.js';
import { runSweep, type SweepConfigInput } from '../../src/experiments/index.js';

/** Two runs of 4 steps: a store with rows in every table in about a second. */
export const tinySweep: SweepConfigInput = {
  name: 'tiny',
  task: 'synthetic',
  base: { steps: 4, batchSize: 16, evalEvery: 2, params: { train: 64, valid: 32, test: 32 } },
  grid: { form: ['sgd'], lr: [0.1, 0.2] },
};

/** A results store holding `tinySweep`, closed cleanly (WAL mode, no -wal file left). */
export async function realStore(path: string): Promise<void> {
  await runSweep(tinySweep, { db: path, workers: 0, checkpointDir: `${path}.ckpt` });
}

/** A store of this layout without the application id and layout marks, as written before they existed. */
export async function unstampedStore(path: string): Promise<void> {
  await realStore(path);
  const db = new Database(path);
  db.pragma('application_id = 0');
  db.pragma('user_version = 0');
  db.close();
}

/** Another program's SQLite database. */
export function foreignSqlite(path: string): void {
  const db = new Database(path);
  db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES (\'keep me\');');
  db.close();
}

/** An SQLite database with a `runs` table of another layout. */
export function otherRunsTable(path: string): void {
  const db = new Database(path);
  db.exec('CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO runs (name) VALUES (\'theirs\');');
  db.close();
}

/** Deterministic pseudo-random bytes (a 32-bit LCG), so a failure reproduces. */
function noise(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

export function randomBytesFile(path: string): void {
  writeFileSync(path, noise(3000, 1));
}

/** SQLite's 16-byte magic header followed by garbage. */
export function fakeHeaderFile(path: string): void {
  writeFileSync(path, Buffer.concat([Buffer.from('SQLite format 3\0', 'latin1'), noise(5000, 2)]));
}

/** The first `bytes` of a real store: its header promises pages that are not there. */
export function truncatedCopy(src: string, path: string, bytes = 8192): void {
  writeFileSync(path, readFileSync(src).subarray(0, bytes));
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file under `dir` (recursively) with its hash: equal fingerprints mean nothing was written there. */
export function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const f of readdirSync(d).sort()) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out[p] = sha256(p);
    }
  };
  walk(dir);
  return out;
}

function sh(cmd: string, ...args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/**
 * `dir` as a read-only folder holding copies of `files`: a read-only bind mount, which even root cannot write into
 * (chmod 0555 does not stop root, and the tests run as root). Returns null where mounts are not permitted; the
 * caller fails then, naming what it needs. Call the returned function to unmount.
 */
export function readOnlyFolder(dir: string, files: string[]): { path: string; release: () => void } | null {
  const src = `${dir}.src`;
  mkdirSync(src, { recursive: true });
  mkdirSync(dir, { recursive: true });
  for (const f of files) copyFileSync(f, join(src, f.split('/').pop()!));
  if (!sh('mount', '--bind', src, dir)) return null;
  if (!sh('mount', '-o', 'remount,bind,ro', dir)) {
    sh('umount', dir);
    return null;
  }
  return { path: dir, release: () => { sh('umount', dir); } };
}

/** Makes `path` immutable (`chattr +i`: read-only even for root). Returns null where chattr is not supported. */
export function readOnlyFile(path: string): { release: () => void } | null {
  if (!sh('chattr', '+i', path)) return null;
  return { release: () => { sh('chattr', '-i', path); } };
}

/**
 * A tmpfs of `kib` KiB at `dir` holding copies of `files`, then filled up to `freeKib` KiB free. Returns null where
 * mounts are not permitted (the caller then relies on the simulated ENOSPC tests). Call release to unmount.
 */
export function fullDisk(dir: string, kib: number, files: string[], freeKib = 0): { path: string; release: () => void } | null {
  mkdirSync(dir, { recursive: true });
  if (!sh('mount', '-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir)) return null;
  for (const f of files) copyFileSync(f, join(dir, f.split('/').pop()!));
  const used = files.reduce((s, f) => s + Math.ceil(statSync(f).size / 4096) * 4, 0);
  const fill = Math.max(0, kib - used - freeKib);
  try {
    writeFileSync(join(dir, 'filler'), Buffer.alloc(fill * 1024));
  } catch {
    /* the disk is full: that is the point */
  }
  return { path: dir, release: () => { sh('umount', dir); try { rmdirSync(dir); } catch { /* left for the OS */ } } };
}

/** Opens `path` read-only and lists its runs: a check that a store still reads after a fault. */
export function runCount(path: string): number {
  const s = new ResultsStore(path, { readonly: true });
  try {
    return s.listRuns().length;
  } finally {
    s.close();
  }
}
