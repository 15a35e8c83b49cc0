/**
 * The queue executor: a sweep's runs as BullMQ jobs on Redis, executed by `momentum-lab worker` processes on any
 * machine, while this process stays the only writer of its SQLite store.
 *
 * - A job's id is its run's config hash, so enqueueing twice (a coordinator started again, two coordinators) never
 *   makes two jobs; a job that finished while no coordinator waited is picked up from Redis.
 * - Execution is at least once (BullMQ moves the job of a dead worker back to the queue); the result is written
 *   once, keyed by hash, and runs are deterministic, so a re-executed job gives the same bits.
 * - A job that fails `attempts` times is stored as failed with its error.
 * - A job Redis lost (restarted without persistence) is enqueued again. If Redis stays unreachable, the sweep stops
 *   with one line; what is stored is kept, and the same command resumes.
 */
import { Job, Queue, QueueEvents } from 'bullmq';
import { UserError } from '../../core/util/errors.js';
import type { ResultsStore, RunStatus } from '../../node/store.js';
import { runLabel, type PlannedRun } from '../grid.js';
import type { Executor, SweepProgress } from '../sweep.js';
import type { RunOutcome } from '../run.js';
import { decodeOutcome, type EncodedOutcome } from './codec.js';
import type { QueueJobData } from './job.js';
import { parseRedisUrl, redactedUrl } from './redis-url.js';

/** The one queue momentum-lab uses; jobs are keyed by config hash, so stores and sweeps can share it. */
export const QUEUE_NAME = 'momentum-lab-runs';

export interface QueueExecutorOptions {
  url: string;
  /** Tries per run before it is stored as failed (default 3). */
  attempts?: number;
  onProgress?: (e: SweepProgress) => void;
  /** How long Redis may stay unreachable before the sweep stops (default 120 s). */
  redisDownMs?: number;
}

/** Finished jobs stay in Redis a week, for a coordinator that was away when they finished. */
const KEEP = { age: 7 * 24 * 3600 };

export function redisOptions(url: string): ReturnType<typeof parseRedisUrl> & { maxRetriesPerRequest: null } {
  // Commands wait while Redis reconnects; the coordinator bounds the wait itself (redisDownMs).
  return { ...parseRedisUrl(url), maxRetriesPerRequest: null };
}

export function openQueueExecutor(store: ResultsStore, o: QueueExecutorOptions): Executor {
  const connection = redisOptions(o.url);
  const where = redactedUrl(o.url);
  const attempts = o.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) throw new UserError(`--attempts must be a positive integer, got ${attempts}`);
  const emit = o.onProgress ?? ((): void => {});
  const downMs = o.redisDownMs ?? 120_000;
  let lastError = '';
  const queue = new Queue<QueueJobData, EncodedOutcome>(QUEUE_NAME, { connection });
  const events = new QueueEvents(QUEUE_NAME, { connection });
  queue.on('error', (e) => { lastError = e.message; });
  events.on('error', (e) => { lastError = e.message; });

  /** A Redis call that fails in one line when Redis stays unreachable past `downMs`, and says it is waiting. */
  const redis = async <T>(p: Promise<T>): Promise<T> => {
    let warned = false;
    const warn = setTimeout(() => { warned = true; emit({ type: 'note', message: `waiting for Redis at ${where}${lastError === '' ? '' : ` (${lastError})`}` }); }, 5000);
    let stop: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      stop = setTimeout(() => reject(new UserError(`Redis at ${where} was unreachable for ${downMs / 1000} s${lastError === '' ? '' : ` (${lastError})`}; the results already stored are kept: run the same command again once Redis is back`)), downMs);
    });
    try {
      const v = await Promise.race([p, timeout]);
      if (warned) emit({ type: 'note', message: `Redis at ${where} is back` });
      return v;
    } finally {
      clearTimeout(warn);
      clearTimeout(stop);
    }
  };

  const enqueue = async (j: PlannedRun): Promise<void> => {
    const existing = await Job.fromId<QueueJobData, EncodedOutcome>(queue, j.hash);
    if (existing !== undefined) {
      // Running, waiting or finished: it is used as it is. One that failed before this sweep started is tried again.
      if (await existing.getState() === 'failed') await existing.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      return;
    }
    await queue.add('run', { hash: j.hash, config: j.config, label: runLabel(j.labels) }, {
      jobId: j.hash, attempts, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: KEEP, removeOnFail: KEEP,
    });
  };

  const ex = {
    executed: 0,
    async run(jobs: PlannedRun[], phase: string, announce = true): Promise<Map<string, RunStatus | 'busy'>> {
      const result = new Map<string, RunStatus | 'busy'>();
      const pending = new Map<string, PlannedRun>();
      let finished = 0;
      for (const j of jobs) {
        const c = store.claim(j.hash);
        if (c === 'claimed') pending.set(j.hash, j);
        else {
          result.set(j.hash, c === 'busy' ? 'busy' : store.getRun(j.hash)!.status);
          if (c === 'finished') finished++;
        }
      }
      if (announce) emit({ type: 'phase', phase, runs: jobs.length, finished, workers: 0 });
      if (pending.size === 0) return result;
      await redis(queue.waitUntilReady());
      await redis(events.waitUntilReady());

      // Live progress: a lane per active job, as the local pool has a lane per worker thread.
      const lanes = new Map<string, number>();
      const lane = (hash: string): number => {
        let l = lanes.get(hash);
        if (l === undefined) {
          const used = new Set(lanes.values());
          for (l = 0; used.has(l); l++);
          lanes.set(hash, l);
        }
        return l;
      };
      const dirty = new Set<string>();
      let wake = (): void => {};
      const onActive = ({ jobId }: { jobId: string }): void => {
        const j = pending.get(jobId);
        if (j !== undefined) emit({ type: 'start', worker: lane(jobId), hash: jobId, label: runLabel(j.labels) });
      };
      const onProgress = ({ jobId, data }: { jobId: string; data: unknown }): void => {
        const j = pending.get(jobId);
        const d = data as { step?: unknown; total?: unknown; note?: unknown };
        if (j === undefined || typeof d?.step !== 'number' || typeof d.total !== 'number') return;
        emit({ type: 'step', worker: lane(jobId), hash: jobId, label: runLabel(j.labels), step: d.step, total: d.total, ...(typeof d.note === 'string' ? { note: d.note } : {}) });
      };
      const onDone = ({ jobId }: { jobId: string }): void => { dirty.add(jobId); wake(); };
      // A completion event carries the result: kept, it saves fetching the job back from Redis.
      const arrived = new Map<string, EncodedOutcome>();
      const onCompleted = ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }): void => {
        const v = typeof returnvalue === 'string' ? JSON.parse(returnvalue) as unknown : returnvalue;
        if (pending.has(jobId) && v !== null && typeof v === 'object') arrived.set(jobId, v as EncodedOutcome);
        onDone({ jobId });
      };
      events.on('active', onActive);
      events.on('progress', onProgress);
      events.on('completed', onCompleted);
      events.on('failed', onDone);

      const settle = (hash: string, status: RunStatus, error: string | null, summary: Record<string, number>): void => {
        const j = pending.get(hash)!;
        pending.delete(hash);
        result.set(hash, status);
        ex.executed++;
        emit({ type: 'finish', worker: lane(hash), hash, label: runLabel(j.labels), status, error, summary });
        lanes.delete(hash);
      };
      const commit = (hash: string, outcome: RunOutcome): void => {
        store.finishRun(outcome);
        settle(hash, outcome.status, outcome.error, outcome.summary);
      };
      const check = async (hash: string): Promise<void> => {
        const sent = arrived.get(hash);
        arrived.delete(hash);
        if (sent !== undefined) {
          const outcome = decodeOutcome(sent);
          if (outcome.hash === hash) return commit(hash, outcome);
        }
        const job = await Job.fromId<QueueJobData, EncodedOutcome>(queue, hash);
        if (job === undefined) {
          // Lost: Redis restarted without its data, or the job aged out. Enqueue it again.
          await enqueue(pending.get(hash)!);
          return;
        }
        const state = await job.getState();
        if (state === 'completed') {
          const outcome = decodeOutcome(job.returnvalue);
          if (outcome.hash !== hash) {
            // A worker that lost Redis mid-job can file one run's result under another job's id; the worker signs
            // each result with the hash of the config it ran, so such a result is never stored: the run goes again.
            emit({ type: 'note', message: `queue job ${hash} came back with the result of run ${outcome.hash}; running it again` });
            await job.remove();
            await enqueue(pending.get(hash)!);
            return;
          }
          commit(hash, outcome);
        } else if (state === 'failed') {
          const error = `failed ${job.attemptsMade} time(s) on the queue: ${job.failedReason}`;
          store.failRun(hash, error);
          settle(hash, 'failed', error, {});
        }
      };

      try {
        for (const j of pending.values()) await redis(enqueue(j));
        let lastFull = 0;
        while (pending.size > 0) {
          // Events say which jobs finished; a full look every 5 s catches what events cannot (a restarted Redis).
          const full = Date.now() - lastFull >= 5000;
          const ids = full ? [...pending.keys()] : [...dirty].filter((h) => pending.has(h));
          dirty.clear();
          if (full) lastFull = Date.now();
          for (let i = 0; i < ids.length; i += 64) await redis(Promise.all(ids.slice(i, i + 64).map(check)));
          if (pending.size === 0) break;
          await new Promise<void>((r) => { wake = r; setTimeout(r, 500); });
        }
      } finally {
        events.off('active', onActive);
        events.off('progress', onProgress);
        events.off('completed', onCompleted);
        events.off('failed', onDone);
      }
      return result;
    },
    async close(): Promise<void> {
      // A Redis that is down must not hold the process at exit (nor let it end early on a promise nothing keeps alive).
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        Promise.all([events.close(), queue.close()]).then(() => true, () => false),
        new Promise<boolean>((r) => { timer = setTimeout(() => r(false), 2000); }),
      ]);
      clearTimeout(timer);
      if (!closed) {
        void events.disconnect().catch(() => {});
        void queue.disconnect().catch(() => {});
      }
    },
  };
  return ex;
}
