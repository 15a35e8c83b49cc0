/**
 * Sweeps on the BullMQ queue against the local pool, same machine, same run: 16 runs of the quick protocol's kind
 * (MLP 784-256-256-10 on the embedded MNIST, 4 epochs, B = 128, 1,000 held-out samples; SGD and SGDM over 8 lrs).
 *   - throughput in runs/minute: the local pool with 2 threads, and 1, 2 and 4 `momentum-lab worker` processes;
 *   - the coordinator's overhead per job: its CPU time (enqueue, polling, decoding, store commit) divided by the jobs,
 *     and the latency from a worker finishing a job to its result committed in the store;
 *   - Redis memory per queued job: INFO used_memory before and after enqueueing 1,000 jobs.
 * Every queued sweep must store the same results, bit for bit, as the local one.
 * Run: npm run build && node dist/bench/queue-workers.js
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job, Queue } from 'bullmq';
import { ResultsStore, expandGrid, parseSweepConfig, runSweep, runLabel, type SweepConfigInput } from '../src/experiments/index.js';
import { QUEUE_NAME } from '../src/experiments/queue/coordinator.js';
import { installNodeHost } from '../src/node/host.js';
import { startRedis } from '../test/queue/redis.js';

installNodeHost();

const sweep: SweepConfigInput = {
  name: 'bench-queue',
  task: 'train',
  base: { batchSize: 128, evalEvery: 50, params: { dataset: 'mnist', model: 'mlp', epochs: 4, validation: 1000 } },
  grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: { min: 0.02, max: 2.56, num: 8 } },
};
const cli = join(import.meta.dirname, '..', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'ml-bench-queue-'));
const lines = (db: string): string[] => {
  const s = new ResultsStore(db, { readonly: true });
  try { return s.resultLines(); } finally { s.close(); }
};

const t0 = performance.now();
const localDb = join(dir, 'local.db');
await runSweep(sweep, { db: localDb, workers: 2 });
const localSec = (performance.now() - t0) / 1000;
const runs = expandGrid(parseSweepConfig(sweep)).length;
const reference = lines(localDb);
console.log(`local pool, 2 threads: ${runs} runs in ${localSec.toFixed(1)} s = ${(runs / localSec * 60).toFixed(1)} runs/min`);

const redis = await startRedis();
const rows: string[] = [];
try {
  for (const n of [1, 2, 4]) {
    const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
    await q.obliterate({ force: true });
    const workers: ChildProcess[] = [];
    for (let i = 0; i < n; i++) {
      workers.push(spawn(process.execPath, [cli, 'worker', '--queue', redis.url, '--checkpoint-dir', join(dir, `w${n}-${i}.ckpt`)], { stdio: 'ignore' }));
    }
    await new Promise((r) => setTimeout(r, 1500)); // let the workers connect, so start-up is not timed
    const db = join(dir, `queue-${n}.db`);
    const committed = new Map<string, number>();
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    await runSweep(sweep, { db, queue: redis.url, onProgress: (e) => { if (e.type === 'finish') committed.set(e.hash, Date.now()); } });
    const sec = (performance.now() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuMsPerJob = (cpu.user + cpu.system) / 1000 / runs;
    // Latency: the worker's finish time (Redis) to the coordinator's commit; run length: processedOn → finishedOn.
    let latency = 0, runMs = 0;
    for (const [hash, at] of committed) {
      const job = await Job.fromId(q, hash);
      latency += at - job!.finishedOn!;
      runMs += job!.finishedOn! - job!.processedOn!;
    }
    latency /= committed.size;
    runMs /= committed.size;
    const same = JSON.stringify(lines(db)) === JSON.stringify(reference);
    for (const w of workers) w.kill('SIGTERM');
    await Promise.all(workers.map((w) => new Promise((r) => w.on('close', r))));
    await q.close();
    rows.push(`| ${n} worker process${n > 1 ? 'es' : ''} | ${(runs / sec * 60).toFixed(1)} | ${(localSec / sec).toFixed(2)} | ${cpuMsPerJob.toFixed(1)} | ${latency.toFixed(0)} | ${(runMs / 1000).toFixed(2)} | ${(100 * cpuMsPerJob / runMs).toFixed(2)}% | ${same ? 'yes' : 'NO'} |`);
    console.log(rows[rows.length - 1]);
  }

  // Redis memory per queued job: 1,000 jobs of this sweep's kind, nobody taking them.
  const q = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port } });
  await q.obliterate({ force: true });
  const client = await q.client;
  const used = async (): Promise<number> => Number(/used_memory:(\d+)/.exec(await client.info())![1]);
  const before = await used();
  const big = expandGrid(parseSweepConfig({ ...sweep, grid: { ...sweep.grid, lr: { min: 0.001, max: 10, num: 500 } } }));
  await q.addBulk(big.map((p) => ({ name: 'run', data: { hash: p.hash, config: p.config, label: runLabel(p.labels) }, opts: { jobId: p.hash } })));
  const perJob = (await used() - before) / big.length;
  await q.obliterate({ force: true });
  await q.close();

  console.log(`\nlocal pool, 2 threads: ${(runs / localSec * 60).toFixed(1)} runs/min (${localSec.toFixed(1)} s for ${runs} runs)\n`);
  console.log('| executor | runs/min | vs local | coordinator CPU ms/job | finish→stored ms | run length s | coordinator CPU / run | same bits as local |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
  console.log(`\nRedis memory per queued job: ${(perJob / 1024).toFixed(2)} KiB (${big.length} jobs)`);
} finally {
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
