/**
 * The many-chain simulator's helper threads on Node (core/theory/simulate.ts `SimulationThreads`), as
 * worker_threads running src/node/sim-worker.ts.
 *
 * Workers are kept between simulations (unref'd, so they never keep the process alive): starting one costs
 * ~40 ms and its JIT starts cold, as much as a whole 1000-chain × 2000-step run. An idle worker waits in its
 * event loop for the next job message; during a job it steps its slice whenever the job's TARGET moves.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { SimulationThreads, SliceJob, SliceWorker } from '../core/theory/simulate.js';

const idleWorkers: Worker[] = [];

function takeWorker(): Worker {
  const w = idleWorkers.pop();
  if (w !== undefined) return w;
  const fresh = new Worker(new URL('./sim-worker.js', import.meta.url));
  fresh.on('error', (e) => process.stderr.write(`simulator worker: ${e.stack ?? String(e)}\n`));
  fresh.on('exit', () => {
    const i = idleWorkers.indexOf(fresh);
    if (i !== -1) idleWorkers.splice(i, 1);
  });
  fresh.unref();
  return fresh;
}

/**
 * The Node helper threads, or null when running from .ts sources (tsx): there a worker would need tsx's loader,
 * which waits on the main thread's event loop while the main thread blocks in Atomics.wait, a deadlock; the
 * chains then run on one thread (same numbers).
 */
export function nodeSimulationThreads(): SimulationThreads | null {
  if (import.meta.url.endsWith('.ts')) return null;
  return {
    available: availableParallelism(),
    acquire(): SliceWorker {
      const w = takeWorker();
      return {
        post: (job: SliceJob) => w.postMessage(job),
        release: (failed: boolean) => {
          if (failed) void w.terminate();
          else idleWorkers.push(w);
        },
      };
    },
  };
}
