/**
 * Worker-thread entry of `runTextInBackground` (index.ts): runs the text experiment and posts its log lines, then
 * its result or its error.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isUserError } from '../../core/util/errors.js';
import { installNodeHost } from '../../node/host.js';
import { runText, type TextMode, type TextPlan, type TextRun } from './index.js';

export interface TextWorkerData { mode: TextMode; cacheDir: string; plan: TextPlan }
export type TextWorkerMessage =
  | { type: 'log'; line: string }
  | { type: 'done'; value: TextRun }
  | { type: 'error'; message: string; stack: string | undefined; user: boolean };

installNodeHost();
const port = parentPort!;
const data = workerData as TextWorkerData;
try {
  const value = await runText(data.mode, data.cacheDir, (line) => port.postMessage({ type: 'log', line } satisfies TextWorkerMessage), data.plan);
  port.postMessage({ type: 'done', value } satisfies TextWorkerMessage);
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  port.postMessage({ type: 'error', message: err.message, stack: err.stack, user: isUserError(e) } satisfies TextWorkerMessage);
}
