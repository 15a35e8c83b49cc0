/**
 * A queue worker: pulls runs from the BullMQ queue and trains them in worker threads (BullMQ's sandboxed
 * processors, processor.ts), `concurrency` at a time. BullMQ's job lock is its heartbeat: if this process dies, the
 * lock lapses and another worker takes the job (at least once; runs are deterministic). On SIGINT/SIGTERM it stops
 * taking jobs and finishes the ones it has; a second signal leaves them for other workers at once.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'bullmq';
import { checkOutputFolder } from '../../node/output-paths.js';
import type { WorkerFolders } from './job.js';
import { QUEUE_NAME, redisOptions } from './coordinator.js';
import { redactedUrl } from './redis-url.js';

export interface QueueWorkerOptions extends Partial<WorkerFolders> {
  url: string;
  concurrency?: number;
  /** How long a job's lock lasts without a heartbeat (default 30 s); a dead worker's job is taken after about this. */
  lockDurationMs?: number;
  log?: (line: string) => void;
}

export interface QueueWorker {
  /** Stops taking jobs; `force` leaves running jobs to other workers instead of finishing them. */
  close(force?: boolean): Promise<void>;
  readonly worker: Worker;
}

export function startQueueWorker(o: QueueWorkerOptions): QueueWorker {
  const log = o.log ?? ((line: string): void => { process.stderr.write(`${line}\n`); });
  const checkpointDir = resolve(o.checkpointDir ?? 'worker.ckpt');
  checkOutputFolder(checkpointDir, '--checkpoint-dir');
  // Fine-tuning weights are read and written by name here (queue/job.ts).
  mkdirSync(join(checkpointDir, 'weights'), { recursive: true });
  const folders: WorkerFolders = {
    checkpointDir,
    ...(o.dataDir === undefined ? {} : { dataDir: resolve(o.dataDir) }),
    ...(o.cacheDir === undefined ? {} : { cacheDir: resolve(o.cacheDir) }),
    ...(o.threads === undefined ? {} : { threads: o.threads }),
  };
  // The processor threads read their folders from the environment they inherit.
  process.env['MOMENTUM_LAB_QUEUE_WORKER'] = JSON.stringify(folders);
  const lockDuration = o.lockDurationMs ?? 30_000;
  const processor = new URL(`./processor.${import.meta.url.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url);
  const worker = new Worker(QUEUE_NAME, processor, {
    connection: redisOptions(o.url),
    concurrency: o.concurrency ?? 1,
    useWorkerThreads: true,
    lockDuration,
    stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
    // A job whose worker died is taken over up to this many times before it counts as failed.
    maxStalledCount: 3,
  });
  let lastError = '';
  worker.on('error', (e) => {
    if (e.message !== lastError) log(`worker: ${e.message} (Redis at ${redactedUrl(o.url)}; retrying)`);
    lastError = e.message;
  });
  worker.on('active', (job) => log(`worker: start ${job.id} ${String((job.data as { label?: unknown }).label ?? '')}`));
  worker.on('completed', (job) => log(`worker: done ${job.id}`));
  worker.on('failed', (job, e) => log(`worker: failed ${job?.id ?? '?'}: ${e.message.split('\n')[0]}`));
  return { worker, close: (force = false) => worker.close(force) };
}
