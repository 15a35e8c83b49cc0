/** Worker-thread entry of the many-chain simulator: steps one slice of chains in shared memory (see simulate.ts). */
import { workerData } from 'node:worker_threads';
import { runSliceWorker } from './simulate.js';

runSliceWorker(workerData);
