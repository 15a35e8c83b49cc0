/**
 * Worker-thread entry of `runTextInBackground` (index.ts): runs the text experiment and posts its log lines, then
 * its result or its error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toThreadError, type ThreadError } from '../../core/util/errors.js';
import { installNodeHost } from '../../node/host.js';
import { runText, type TextMode, type TextPlan, type TextRun } from './index.js';

export interface TextWorkerData { mode: TextMode; cacheDir: string; plan: TextPlan }
export type TextWorkerMessage =
  | { type: 'log'; line: string }
  | { type: 'done'; value: TextRun }
  | { type: 'error'; error: ThreadError };

installNodeHost();
const port = parentPort!;
const data = workerData as TextWorkerData;
try {
  const value = await runText(data.mode, data.cacheDir, (line) => port.postMessage({ type: 'log', line } satisfies TextWorkerMessage), data.plan);
  port.postMessage({ type: 'done', value } satisfies TextWorkerMessage);
} catch (e) {
  port.postMessage({ type: 'error', error: toThreadError(e) } satisfies TextWorkerMessage);
}
