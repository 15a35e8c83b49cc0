/**
 * Worker-thread entry of the many-chain simulator: each message is one job, stepping one slice of chains in
 * shared memory (see core/theory/simulate.ts); between jobs the thread idles in its event loop.
 */
import { parentPort } from 'node:worker_threads';
import { runSliceWorker, type SliceJob } from '../core/theory/simulate.js';
import { installNodeHost } from './host.js';

installNodeHost();
const report = (e: unknown): void => { process.stderr.write(`simulator worker: ${(e as Error)?.stack ?? String(e)}\n`); };
parentPort!.on('message', (job: SliceJob) => runSliceWorker(job, report));
