/**
 * Sweeps on a BullMQ queue with a real redis-server (started here on 127.0.0.1, persistence off): worker processes
 * that die, a coordinator that dies, a Redis that restarts, and jobs that cannot run. In every case the store ends
 * with each run once and the same results, bit for bit, as the same sweep run locally — or a one-line failure.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { ResultsStore, runSweep, type SweepConfigInput } from '../../src/experiments/index.js';
import { QUEUE_NAME } from '../../src/experiments/queue/coordinator.js';
import { cliCommand, repoRoot, storeLines, storeStatuses, tempDir } from '../experiments/helpers.js';
import { startRedis, type RedisServer } from './redis.js';

const sweep: SweepConfigInput = {
  name: 'queued',
  task: 'synthetic',
  base: { steps: 300, batchSize: 16, evalEvery: 50, checkpointEvery: 50, params: { train: 256, valid: 64, test: 64 } },
  // lr 3000 diverges: a diverged run is a result too.
  grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.03, 0.1, 3000] },
};
const RUNS = 6;

const servers: RedisServer[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers) await s.stop();
});

let reference: string[] | undefined;
async function referenceLines(): Promise<string[]> {
  if (reference === undefined) {
    const db = join(tempDir('queue-ref'), 'r.db');
    await runSweep(sweep, { db, workers: 0 });
    reference = storeLines(db);
  }
  return reference;
}

interface Proc { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> }

function start(args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [...cliCommand(), ...args], { cwd: repoRoot(), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '', err = '';
  child.stdout!.on('data', (b) => { out += b; });
  child.stderr!.on('data', (b) => { err += b; });
  const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}

/** A worker with its own checkpoint folder; 20 ms per step, so a 300-step run takes about 6 s. */
function worker(url: string, dir: string, name: string, extra: string[] = []): Proc {
  const ck = join(dir, `${name}.ckpt`);
  return start(['worker', '--queue', url, '--checkpoint-dir', ck, '--lock-seconds', '2', ...extra], { MOMENTUM_LAB_STEP_DELAY_MS: '20' });
}

async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function setup(tag: string): Promise<{ redis: RedisServer; dir: string; cfg: string; db: string }> {
  const redis = await startRedis();
  servers.push(redis);
  const dir = tempDir(tag);
  const cfg = join(dir, 'sweep.json');
  writeFileSync(cfg, JSON.stringify(sweep));
  return { redis, dir, cfg, db: join(dir, 'r.db') };
}

test('two workers, one SIGKILLed mid-run: every run finishes once, with the same bits as the local sweep', async () => {
  const ref = await referenceLines();
  const { redis, dir, cfg, db } = await setup('queue-kill-worker');
  const a = worker(redis.url, dir, 'a');
  const b = worker(redis.url, dir, 'b');
  const coord = start(['sweep', cfg, '--db', db, '--queue', redis.url, '--json']);
  await until(() => /worker: start /.test(a.err()), 'worker a to start a run');
  await new Promise((r) => setTimeout(r, 1000));
  a.child.kill('SIGKILL');
  assert.equal(await coord.exit, 0, coord.err());
  const out = JSON.parse(coord.out()) as { executed: number; counts: Record<string, number> };
  assert.deepEqual(out.counts, { done: 4, diverged: 2 });
  assert.equal(out.executed, RUNS);
  assert.deepEqual(storeLines(db), ref);
  // The killed run was taken over by worker b after a's lock lapsed.
  const killed = /worker: start (\w+)/.exec(a.err())![1]!;
  assert.match(b.err(), new RegExp(`worker: done ${killed}`));
  const s = new ResultsStore(db, { readonly: true });
  assert.ok(s.listRuns().every((r) => r.attempts === 1), 'the coordinator claimed each run once');
  s.close();
  b.child.kill('SIGINT');
  assert.equal(await b.exit, 0, b.err());
});

test('the coordinator SIGKILLed and started again picks up what finished meanwhile; the same bits as locally', async () => {
  const ref = await referenceLines();
  const { redis, dir, cfg, db } = await setup('queue-kill-coord');
  const w = worker(redis.url, dir, 'w', ['--concurrency', '2']);
  const first = start(['sweep', cfg, '--db', db, '--queue', redis.url]);
  await until(() => ((storeStatuses(db).done ?? 0) + (storeStatuses(db).diverged ?? 0)) >= 1, 'a first result in the store');
  first.child.kill('SIGKILL');
  await first.exit;
  const mid = storeStatuses(db);
  assert.ok((mid.running ?? 0) >= 1, `runs left running by the dead coordinator: ${JSON.stringify(mid)}`);
  // Jobs finish on the worker while no coordinator is there.
  await new Promise((r) => setTimeout(r, 3000));
  const again = start(['sweep', cfg, '--db', db, '--queue', redis.url, '--json']);
  assert.equal(await again.exit, 0, again.err());
  assert.deepEqual((JSON.parse(again.out()) as { counts: Record<string, number> }).counts, { done: 4, diverged: 2 });
  assert.deepEqual(storeLines(db), ref);
  w.child.kill('SIGINT');
  await w.exit;
});

test('Redis restarted mid-sweep (its jobs lost): the sweep enqueues them again and ends with the same bits', async () => {
  const ref = await referenceLines();
  const { redis, dir, cfg, db } = await setup('queue-restart');
  const w = worker(redis.url, dir, 'w', ['--concurrency', '2']);
  const coord = start(['sweep', cfg, '--db', db, '--queue', redis.url, '--json']);
  await until(() => ((storeStatuses(db).done ?? 0) + (storeStatuses(db).diverged ?? 0)) >= 1, 'a first result in the store');
  const before = storeLines(db).length;
  await redis.restart();
  assert.equal(await coord.exit, 0, coord.err());
  assert.ok(before > 0);
  assert.deepEqual(storeLines(db), ref);
  w.child.kill('SIGINT');
  await w.exit;
});

test('Redis gone for good: the sweep stops in one line naming Redis, and keeps every result it stored', async () => {
  const { redis, dir, cfg, db } = await setup('queue-gone');
  const w = worker(redis.url, dir, 'w', ['--concurrency', '2']);
  const coord = start(['sweep', cfg, '--db', db, '--queue', redis.url, '--quiet', '--redis-wait', '3']);
  await until(() => ((storeStatuses(db).done ?? 0) + (storeStatuses(db).diverged ?? 0)) >= 1, 'a first result in the store');
  const kept = storeLines(db);
  await redis.stop();
  assert.equal(await coord.exit, 2, `${coord.out()}\n${coord.err()}`);
  const errLines = coord.err().trim().split('\n');
  assert.equal(errLines.length, 1, coord.err());
  assert.match(errLines[0]!, new RegExp(`^error: Redis at ${redis.url} was unreachable for 3 s .*; the results already stored are kept: run the same command again once Redis is back$`));
  // Every result stored before is still there: the finished runs and their metrics. (A run still running at the
  // snapshot may have finished before Redis went, so its line may have changed since.)
  const hashOf = (l: string): string => (l.startsWith('{') ? (JSON.parse(l) as { hash: string }).hash : l.slice(0, l.indexOf('/')));
  const finished = new Set(kept.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { hash: string; status: string })
    .filter((r) => r.status === 'done' || r.status === 'diverged').map((r) => r.hash));
  const results = kept.filter((l) => finished.has(hashOf(l)));
  assert.ok(results.length > finished.size, `${finished.size} finished runs with their metrics`);
  const now = storeLines(db);
  for (const l of results) assert.ok(now.includes(l), `lost or changed: ${l}`);
  w.child.kill('SIGKILL');
});

test('a job that cannot run fails in one line: a forged config on the queue, and runs whose worker lacks the data', async () => {
  const { redis, dir } = await setup('queue-bad');
  const w = worker(redis.url, dir, 'w', ['--data-dir', join(dir, 'no-data')]);
  mkdirSync(join(dir, 'no-data'));
  // A job not made by a coordinator: an invalid lr. The worker refuses it before running anything.
  const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
  const forged = await q.add('run', { hash: '0123456789abcdef', config: { task: 'synthetic', optimizer: { form: 'sgd', lr: -1 } }, label: 'forged' }, { jobId: '0123456789abcdef', attempts: 1 });
  await until(() => /worker: failed 0123456789abcdef/.test(w.err()), 'the forged job to fail');
  const failed = await q.getJob(forged.id!);
  assert.match(failed!.failedReason, /^config\.optimizer\.lr: Number must be greater than 0$/);
  await q.close();

  // A sweep on MNIST whose worker has an empty --data-dir: each run fails on the worker, the sweep names them.
  const cfg = join(dir, 'mnist.json');
  writeFileSync(cfg, JSON.stringify({ name: 'm', task: 'train', base: { steps: 5, batchSize: 16, params: { dataset: 'mnist', model: 'mlp', epochs: 1 } }, grid: { lr: [0.1, 0.2] } }));
  const db = join(dir, 'm.db');
  const r = spawnSync(process.execPath, [...cliCommand(), 'sweep', cfg, '--db', db, '--queue', redis.url, '--attempts', '2', '--quiet'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1, r.stderr);
  const errs = r.stderr.trim().split('\n');
  assert.equal(errs.length, 2, r.stderr);
  for (const e of errs) assert.match(e, /^run [0-9a-f]{16} \(pytorch β=0 η=0\.[12]00 B=16 seed=0\) failed: failed 2 time\(s\) on the queue: --data-dir \S+no-data: no mnist files there/);
  assert.deepEqual(storeStatuses(db), { failed: 2 });
  w.child.kill('SIGINT');
  await w.exit;
});

test('bad queue flags are one line, before the store is created', () => {
  const dir = tempDir('queue-flags');
  const cfg = join(dir, 's.json');
  writeFileSync(cfg, JSON.stringify(sweep));
  const run = (...args: string[]): { status: number | null; stderr: string } => spawnSync(process.execPath, [...cliCommand(), ...args], { encoding: 'utf8' });
  const cases: [string[], RegExp][] = [
    [['sweep', cfg, '--db', join(dir, 'r.db'), '--queue', 'http://x'], /--queue http:\/\/x: the scheme must be redis: or rediss:/],
    [['sweep', cfg, '--db', join(dir, 'r.db'), '--queue', 'redis://:secret@127.0.0.1:1/99'], /--queue redis:\/\/:\*\*\*@127\.0\.0\.1:1\/99: the database must be a number 0–15/],
    [['sweep', cfg, '--db', join(dir, 'r.db'), '--queue', 'redis://127.0.0.1', '--workers', '2'], /give one of them/],
    [['worker'], /--queue is required/],
    [['worker', '--queue', 'nope'], /--queue "nope" is not a URL/],
  ];
  for (const [args, re] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, r.stderr);
    const l = r.stderr.trim().split('\n');
    assert.equal(l.length, 1, r.stderr);
    assert.match(l[0]!, re);
    assert.doesNotMatch(r.stderr, /secret/);
  }
  assert.deepEqual(spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.trim().split('\n'), ['s.json']);
});
