/** One WebAssembly kernel helper thread (a Web Worker started by train-worker.ts): the core's helper loop. */
import { runKernelWorker, type KernelWorkerInit } from '../src/core/engine/kernels/wasm-worker.js';

self.onmessage = (e: MessageEvent<KernelWorkerInit>) => {
  runKernelWorker(e.data, (error) => {
    self.postMessage(error === undefined ? { ok: true } : { ok: false, message: (error as Error)?.message ?? String(error) });
  });
};
