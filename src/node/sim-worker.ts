/**
 * Worker-thread entry of the many-chain simulator: each message is one job, stepping one slice of chains in
 * shared memory (see simulate.ts); between jobs the thread idles in its event loop.
 */
import { parentPort } from 'node:worker_threads';
import { runSliceWorker } from '../core/theory/simulate.js';

parentPort!.on('message', (job: Parameters<typeof runSliceWorker>[0]) => runSliceWorker(job));
