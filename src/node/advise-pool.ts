/**
 * Several `adviseConfig` calls at once, one per worker thread (advise-worker.ts), for callers with independent probes
 * (the paper suite's one per batch size). Each probe runs exactly as it would in this thread (one kernel thread, the
 * same code and seeds), so the results do not depend on how many run at once. With one worker, or one config, the
 * probes run here one after the other.
 */
import type { Worker } from 'node:worker_threads';
import type { AdviseConfig } from '../core/advisor/config.js';
import type { ProbeResult } from '../core/advisor/probe.js';
import { fromThreadError, type ThreadError } from '../core/util/errors.js';
import { adviseConfig, type AdviseOptions } from './advise.js';
import { moduleWorker } from './module-worker.js';

/** A probe a worker can take: no dataset object or callback crosses the thread boundary. */
export type PooledAdviseOptions = Omit<AdviseOptions, 'data' | 'onCheckpoint'>;
export interface AdviseJob { config: AdviseConfig; options: PooledAdviseOptions }

export type AdviseWorkerRequest = { id: number; job: AdviseJob };
/** A probe's result and its wall time in seconds (in its own thread). */
export interface TimedProbe { result: ProbeResult; seconds: number }
export type AdviseWorkerReply =
  | { id: number; type: 'done'; probe: TimedProbe }
  | { id: number; type: 'error'; error: ThreadError };

/**
 * One promise per job, in the jobs' order, each settled when its probe is done (await them in order to report as
 * they finish). `workers` threads at most; a failed probe rejects its own promise and the others go on.
 */
export function adviseConfigs(jobs: AdviseJob[], workers: number): Promise<TimedProbe>[] {
  const lanes = Math.max(1, Math.min(Math.floor(workers), jobs.length));
  if (lanes <= 1) {
    let chain: Promise<unknown> = Promise.resolve();
    return jobs.map((j) => {
      const p = chain.then(() => timedAdvise(j));
      chain = p.catch(() => {});
      return p;
    });
  }
  const settle = jobs.map(() => {
    let resolve!: (r: TimedProbe) => void, reject!: (e: Error) => void;
    const promise = new Promise<TimedProbe>((res, rej) => { resolve = res; reject = rej; });
    // Rejections are the caller's to await; until then they must not count as unhandled.
    promise.catch(() => {});
    return { promise, resolve, reject };
  });
  let next = 0;
  let alive = lanes;
  const lane = (worker: Worker): void => {
    let current = -1;
    const take = (): void => {
      current = -1;
      if (next >= jobs.length) { void worker.terminate(); return; }
      current = next++;
      worker.postMessage({ id: current, job: jobs[current]! } satisfies AdviseWorkerRequest);
    };
    worker.on('message', (m: AdviseWorkerReply) => {
      const s = settle[m.id]!;
      if (m.type === 'done') s.resolve(m.probe);
      else s.reject(fromThreadError(m.error));
      take();
    });
    let gone = false;
    const die = (e: Error): void => {
      // The thread is gone: its job fails with its error, and so does every job no other lane is left to take.
      if (gone) return;
      gone = true;
      if (current >= 0) settle[current]!.reject(e);
      current = -1;
      if (--alive === 0) while (next < jobs.length) settle[next++]!.reject(e);
    };
    worker.on('error', die);
    worker.on('exit', (code) => { if (current >= 0) die(new Error(`an advisor probe's thread exited with code ${code}`)); });
    take();
  };
  for (let i = 0; i < lanes; i++) lane(moduleWorker(import.meta.url, './advise-worker.js'));
  return settle.map((s) => s.promise);
}

/** One probe in this thread, timed. */
export async function timedAdvise(job: AdviseJob): Promise<TimedProbe> {
  const t = performance.now();
  const result = await adviseConfig(job.config, job.options);
  return { result, seconds: (performance.now() - t) / 1000 };
}
