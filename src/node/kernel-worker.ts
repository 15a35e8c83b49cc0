/**
 * Worker-thread entry of one WebAssembly kernel helper thread (started by src/node/kernels.ts): runs the core's
 * helper loop over the shared memory in `workerData` and reports once the module is instantiated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runKernelWorker, type KernelWorkerInit } from '../core/engine/kernels/wasm-worker.js';

runKernelWorker(workerData as KernelWorkerInit, (error) => {
  parentPort!.postMessage(error === undefined ? { ok: true } : { ok: false, message: (error as Error)?.message ?? String(error) });
});
