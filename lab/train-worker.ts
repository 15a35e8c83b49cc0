/**
 * The training worker: loads digits.bin and the WebAssembly kernels, then runs the `train` hook or the live
 * lock-step view. The kernels block in Atomics.wait while helper threads work, so they live here, never on the
 * page's main thread. Threads only when the page is cross-origin isolated (SharedArrayBuffer needs it).
 */
import kernelsUrl from '../build/kernels.wasm?url';
import { createReferenceKernels } from '../src/core/engine/kernels/reference.js';
import { instantiateWasmKernels, type KernelWorkerHandle, type KernelWorkerInit } from '../src/core/engine/kernels/wasm.js';
import type { Kernels } from '../src/core/engine/kernels/api.js';
import type { Dataset } from '../src/core/data/dataset.js';
import type { Trainer } from '../src/core/nn/trainer.js';
import { unpackDigits } from './digits-asset.js';
import { labOptimizer, labTrainer, trainSteps, type TrainRequest } from './lock-step.js';

export type WorkerRequest =
  | { type: 'init'; digitsUrl: string }
  | { type: 'train'; id: number; request: TrainRequest }
  | { type: 'live'; eta: number; beta: number; batch: number; seed: number; steps: number; evalEvery: number }
  | { type: 'stop' };

export interface RunPoint { loss: number; testLoss: number; testAccuracy: number }
export type WorkerReply =
  | { type: 'ready'; threads: number; kernels: string; trainN: number; testN: number }
  | { type: 'error'; message: string }
  | { type: 'trained'; id: number; result?: unknown; message?: string }
  | { type: 'progress'; step: number; sgd: RunPoint; sgdm: RunPoint; done: boolean };

const post = (m: WorkerReply): void => self.postMessage(m);
let data: Dataset | null = null;
/** The compiled kernels and the thread count each kernel set gets; null module: the reference kernels. */
let kernelSource: { module: WebAssembly.Module | null; threads: number } | null = null;
let live: { runs: Trainer[]; kernels: Kernels; lossSums: number[]; step: number; steps: number; evalEvery: number; gen: number } | null = null;
/** Bumped by every live/stop request, so a run whose kernels arrive after a newer request is dropped. */
let generation = 0;

function spawnKernelWorker(init: KernelWorkerInit): KernelWorkerHandle {
  const w = new Worker(new URL('./kernel-worker.ts', import.meta.url), { type: 'module' });
  const ready = new Promise<void>((resolve, reject) => {
    w.onmessage = (e: MessageEvent<{ ok: boolean; message?: string }>) => (e.data.ok ? resolve() : reject(new Error(`kernel helper thread: ${e.data.message}`)));
    w.onerror = (e) => reject(new Error(`kernel helper thread: ${e.message}`));
  });
  w.postMessage(init);
  return { ready, terminate: () => w.terminate() };
}

/**
 * A fresh kernel set per run: its memory is one bump allocation that only grows, so each run (every slider move
 * restarts one) gets its own and gives it back with `dispose`.
 */
function openKernels(): Promise<Kernels> {
  const { module, threads } = kernelSource!;
  if (module === null) return Promise.resolve(createReferenceKernels());
  return instantiateWasmKernels({ module, threads, ...(threads > 1 ? { spawnWorker: spawnKernelWorker } : {}) });
}

async function init(digitsUrl: string): Promise<void> {
  const [digits, wasm] = await Promise.all([fetch(digitsUrl), fetch(kernelsUrl)]);
  if (!digits.ok || !wasm.ok) throw new Error(`could not load ${digits.ok ? kernelsUrl : digitsUrl} (HTTP ${digits.ok ? wasm.status : digits.status})`);
  data = unpackDigits(new Uint8Array(await digits.arrayBuffer()));
  const module = await WebAssembly.compile(await wasm.arrayBuffer());
  const threads = self.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
  kernelSource = { module, threads };
  let k: Kernels;
  try {
    k = await openKernels();
  } catch {
    // A shared WebAssembly memory can be refused outside cross-origin isolation: the reference kernels still train.
    kernelSource = { module: null, threads: 1 };
    k = await openKernels();
  }
  post({ type: 'ready', threads: (k as { threads?: number }).threads ?? 1, kernels: k.name, trainN: data.train.n, testN: data.test.n });
  k.dispose();
}

function point(t: Trainer, loss: number): RunPoint {
  const ev = t.evaluate(data!.test);
  return { loss, testLoss: ev.loss, testAccuracy: ev.accuracy };
}

/** Steps both runs for ~30 ms, reports every `evalEvery` steps, then yields so a new request can arrive. */
function tick(gen: number): void {
  if (live === null || gen !== live.gen) return;
  const L = live, until = performance.now() + 30;
  while (L.step < L.steps && performance.now() < until) {
    L.runs.forEach((t, i) => { L.lossSums[i] = L.lossSums[i]! + t.step().loss; });
    L.step++;
    if (L.step % L.evalEvery === 0 || L.step === L.steps) {
      const [a, b] = L.runs.map((t, i) => point(t, L.lossSums[i]! / L.evalEvery));
      L.lossSums = [0, 0];
      post({ type: 'progress', step: L.step, sgd: a!, sgdm: b!, done: L.step === L.steps });
    }
  }
  if (L.step < L.steps) setTimeout(() => tick(gen), 0);
}

async function handle(m: WorkerRequest): Promise<void> {
  if (m.type === 'init') return init(m.digitsUrl);
  if (data === null || kernelSource === null) throw new Error('the training worker is not ready yet');
  if (m.type === 'train') {
    let kernels: Kernels | null = null;
    try {
      kernels = await openKernels();
      post({ type: 'trained', id: m.id, result: trainSteps(data, kernels, m.request) });
    } catch (err) {
      post({ type: 'trained', id: m.id, message: (err as Error)?.message ?? String(err) });
    } finally {
      kernels?.dispose();
    }
    return;
  }
  const gen = ++generation;
  live?.kernels.dispose();
  live = null;
  if (m.type === 'stop') return;
  const kernels = await openKernels();
  if (gen !== generation) { kernels.dispose(); return; }
  // Matched effective learning rate: SGD at η, SGDM at γ = η(1−β).
  const runs = [labTrainer(data, kernels, m.seed, m.batch, labOptimizer(m.eta, 0)), labTrainer(data, kernels, m.seed, m.batch, labOptimizer(m.eta * (1 - m.beta), m.beta))];
  live = { runs, kernels, lossSums: [0, 0], step: 0, steps: m.steps, evalEvery: m.evalEvery, gen };
  const [a, b] = runs.map((t) => point(t, NaN));
  post({ type: 'progress', step: 0, sgd: a!, sgdm: b!, done: false });
  tick(gen);
}

self.onmessage = (e: MessageEvent<WorkerRequest>) => {
  handle(e.data).catch((err: unknown) => post({ type: 'error', message: (err as Error)?.message ?? String(err) }));
};
