/**
 * The commands that use the results store (`sweep`, `sweep --plan`, `runs export`, `report`) against bad stores,
 * read-only folders, bad output paths and a full disk: exit code 2, exactly one line on stderr, no stack frames, and
 * the store and output paths unchanged. Two sweeps starting together on a new store both finish.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommand, repoRoot, tempDir } from '../experiments/helpers.js';
import {
  fakeHeaderFile, fingerprint, foreignSqlite, fullDisk, otherRunsTable, randomBytesFile, readOnlyFile, readOnlyFolder, realStore, runCount,
  sha256, tinySweep, truncatedCopy,
} from '../node/faults.js';

interface Result { status: number | null; stdout: string; stderr: string }

function cli(...args: string[]): Result {
  const r = spawnSync(process.execPath, [...cliCommand(), ...args], { cwd: repoRoot(), encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit code 2 and one `error:` line on stderr, with no stack frame; returns that line. */
function oneLineError(r: Result, what: string): string {
  assert.equal(r.status, 2, `${what}: exit code ${r.status}, stderr ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `${what}: stderr is not one line:\n${r.stderr}`);
  assert.match(lines[0]!, /^error: /, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, what);
  return lines[0]!;
}

function config(dir: string): string {
  const cfg = join(dir, 'sweep.json');
  writeFileSync(cfg, JSON.stringify(tinySweep));
  return cfg;
}

test('sweep, sweep --plan, runs export and report refuse a file that is not a store, and leave it as it was', async () => {
  const d = tempDir('cli-faults');
  const cfg = config(d);
  const real = join(d, 'real.db');
  await realStore(real);
  const kinds: [string, (p: string) => void, RegExp][] = [
    ['random.db', randomBytesFile, /is not an SQLite database/],
    ['fake-header.db', fakeHeaderFile, /is not an SQLite database/],
    ['truncated.db', (p) => truncatedCopy(real, p), /is corrupt/],
    ['foreign.db', foreignSqlite, /is an SQLite database of another program \(notes\)/],
    ['runs.db', otherRunsTable, /whose runs table has another layout/],
  ];
  for (const [name, make, reason] of kinds) {
    const sub = join(d, name.replace('.db', ''));
    mkdirSync(sub);
    const db = join(sub, name);
    make(db);
    const before = fingerprint(sub);
    const report = join(d, `report-${name}`);
    const runs: [string, Result][] = [
      ['sweep', cli('sweep', cfg, '--db', db, '--workers', '0', '--quiet')],
      ['sweep --plan', cli('sweep', cfg, '--db', db, '--plan')],
      ['runs export', cli('runs', 'export', db)],
      ['report', cli('report', db, '--out', report)],
    ];
    for (const [cmd, r] of runs) {
      const line = oneLineError(r, `${cmd} ${name}`);
      assert.ok(line.includes(db), `${cmd} ${name}: ${line}`);
      assert.match(line, reason, `${cmd} ${name}`);
      assert.equal(r.stdout, '', `${cmd} ${name}`);
    }
    assert.match(runs[0]![1].stderr, /; give another --db path\n$/);
    assert.match(runs[2]![1].stderr, /; give the path of another results store\n$/);
    assert.deepEqual(fingerprint(sub), before, `${name}: the file or its folder changed`);
    assert.equal(existsSync(report), false);
  }
});

test('a store in a read-only folder exports, plans and reports; sweeping into it or exporting next to it is refused', async (t) => {
  const d = tempDir('cli-faults');
  const cfg = config(d);
  const db = join(d, 'r.db');
  await realStore(db);
  const ro = readOnlyFolder(join(d, 'ro'), [db]);
  assert.ok(ro !== null, 'mount is not permitted here: no read-only folder to test with (this test needs root and mount/chattr, as CI has)');
  try {
    const inRo = join(ro.path, 'r.db');
    const before = fingerprint(ro.path);
    const exported = cli('runs', 'export', inRo, '--format', 'jsonl');
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(exported.stdout, cli('runs', 'export', db, '--format', 'jsonl').stdout);
    assert.equal(exported.stdout.trim().split('\n').length, 2);
    const plan = cli('sweep', cfg, '--db', inRo, '--plan');
    assert.equal(plan.status, 0, plan.stderr);
    assert.equal(plan.stdout.split('\n').filter((l) => / done /.test(l)).length, 2);
    const report = cli('report', inRo, '--out', join(d, 'report'));
    assert.equal(report.status, 0, report.stderr);
    assert.match(report.stdout, /\(2 runs,/);
    assert.match(oneLineError(cli('sweep', cfg, '--db', inRo, '--workers', '0', '--quiet'), 'sweep'), /r\.db: the file is read-only; give another --db path$/);
    assert.match(oneLineError(cli('runs', 'export', inRo, '--out', join(ro.path, 'r.csv')), 'export --out'), /cannot write export file \S+r\.csv: the file or its folder is read-only/);
    assert.match(oneLineError(cli('report', inRo), 'report'), /cannot open report folder \S+report: it cannot be created/);
    assert.deepEqual(fingerprint(ro.path), before);
  } finally {
    ro.release();
  }
});

test('a read-only store file (chattr +i) exports, and sweeping into it is one line', async (t) => {
  const d = tempDir('cli-faults');
  const cfg = join(d, 'sweep.json');
  writeFileSync(cfg, JSON.stringify({ ...tinySweep, grid: { form: ['sgd'], lr: [0.3] } })); // a run not in the store
  const db = join(d, 'r.db');
  await realStore(db);
  const ro = readOnlyFile(db);
  assert.ok(ro !== null, 'chattr is not supported on this file system (this test needs root and mount/chattr, as CI has)');
  try {
    const before = sha256(db);
    assert.match(oneLineError(cli('sweep', cfg, '--db', db, '--workers', '0', '--quiet'), 'sweep'), /^error: cannot write results store \S+r\.db: the file or its folder is read-only; give another --db path$/);
    const exported = cli('runs', 'export', db);
    assert.equal(exported.status, 0, exported.stderr);
    assert.equal(exported.stdout.trim().split('\n').length > 2, true);
    assert.equal(sha256(db), before);
  } finally {
    ro.release();
  }
});

test('runs export --out: a missing folder, a folder and an unknown --sweep are refused before any output', async () => {
  const d = tempDir('cli-faults');
  const db = join(d, 'r.db');
  await realStore(db);
  const out = join(d, 'out');
  mkdirSync(out);
  const before = fingerprint(d);
  assert.match(oneLineError(cli('runs', 'export', db, '--out', join(d, 'missing', 'r.csv')), 'missing folder'), /folder \S+missing does not exist; create it or give another --out path$/);
  assert.match(oneLineError(cli('runs', 'export', db, '--out', out), 'folder'), /cannot write \S+out: it is a folder; give another --out path$/);
  const unknown = cli('runs', 'export', db, '--sweep', 'nope');
  assert.equal(oneLineError(unknown, 'unknown sweep'), `error: --sweep: no sweep named nope in ${db}; its sweeps: tiny`);
  assert.equal(unknown.stdout, '');
  // A read-only SQLite connection to a WAL store may leave its (empty) -wal and -shm beside it, as SQLite's own shell
  // does; the store itself is unchanged.
  const after = Object.fromEntries(Object.entries(fingerprint(d)).filter(([f]) => !/-(wal|shm)$/.test(f)));
  assert.deepEqual(after, before);
  // The export written to a file is the one printed on stdout, and no temporary file is left.
  const ok = cli('runs', 'export', db, '--out', join(out, 'r.csv'), '--sweep', 'tiny');
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(readdirSync(out), ['r.csv']);
  assert.equal(readFileSync(join(out, 'r.csv'), 'utf8'), cli('runs', 'export', db).stdout);
});

test('runs export --out onto a full disk is one line and leaves no file, no temporary file', async (t) => {
  const d = tempDir('cli-faults');
  const db = join(d, 'r.db');
  await realStore(db);
  const disk = fullDisk(join(d, 'full'), 64, []);
  assert.ok(disk !== null, 'mount is not permitted here (store-faults.test.ts simulates ENOSPC instead) (this test needs root and mount/chattr, as CI has)');
  try {
    const before = fingerprint(disk.path);
    const line = oneLineError(cli('runs', 'export', db, '--out', join(disk.path, 'r.csv')), 'full disk');
    assert.match(line, /^error: disk full writing export file \S+r\.csv \(free some space and re-run\); give another --out path$/);
    assert.deepEqual(fingerprint(disk.path), before);
  } finally {
    disk.release();
  }
});

test('two sweeps starting together on a new store both finish, and the store holds every run once', async () => {
  const d = tempDir('cli-faults');
  const cfg = join(d, 'sweep.json');
  writeFileSync(cfg, JSON.stringify({ ...tinySweep, grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.1, 0.2] } }));
  const db = join(d, 'new.db');
  const start = (): Promise<Result> => new Promise((resolve) => {
    const c = spawn(process.execPath, [...cliCommand(), 'sweep', cfg, '--db', db, '--workers', '0', '--quiet'], { cwd: repoRoot() });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    c.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  const rs = await Promise.all([start(), start(), start()]);
  for (const r of rs) {
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^sweep tiny: 4 runs/);
  }
  assert.equal(runCount(db), 4); // sgd × 2 lr + pytorch β=0.9 × 2 lr, each once
});
