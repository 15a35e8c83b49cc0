/**
 * Worker-thread entry: runs whole runs sent by the sweep's main thread and posts back progress and the outcome
 * (metric rows as transferable typed arrays). The main thread owns every database write.
 */
import { parentPort } from 'node:worker_threads';
import { executeRun, type RunOutcome } from './run.js';
import type { ResolvedRunConfig } from './config.js';
import { installNodeHost } from '../node/host.js';
import { loadPlugins } from '../node/plugins.js';

export interface WorkerJob { hash: string; config: ResolvedRunConfig; label: string; checkpointDir?: string; checkpointStore?: { id: string; path: string }; stepDelayMs: number }
export type WorkerMessage =
  | { type: 'progress'; hash: string; step: number; total: number; note?: string }
  | { type: 'result'; outcome: RunOutcome };

installNodeHost();
// The command that started this sweep loaded the same plugins, so a failure here is a bug, not a user error.
await loadPlugins();
const port = parentPort;
if (port !== null) {
  port.on('message', (job: WorkerJob) => {
    void executeRun(job.config, job.hash, {
      label: job.label,
      stepDelayMs: job.stepDelayMs,
      ...(job.checkpointDir === undefined ? {} : { checkpointDir: job.checkpointDir }),
      ...(job.checkpointStore === undefined ? {} : { checkpointStore: job.checkpointStore }),
      onProgress: (e) => port.postMessage({ type: 'progress', hash: e.hash, step: e.step, total: e.total, ...(e.note === undefined ? {} : { note: e.note }) } satisfies WorkerMessage),
    }).then((outcome) => {
      const r = outcome.rows;
      port.postMessage({ type: 'result', outcome } satisfies WorkerMessage, [r.tagIndex.buffer, r.steps.buffer, r.epochs.buffer, r.values.buffer] as ArrayBuffer[]);
    });
  });
}
