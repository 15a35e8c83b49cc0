/**
 * The thread protocol of the WebAssembly kernels (wasm.ts), and the loop every helper thread runs.
 *
 * The main thread and `threads − 1` helpers share one WebAssembly.Memory. A control block in that memory (Int32
 * slots below) carries each job: the main thread writes the arguments, bumps GEN and wakes the helpers with
 * Atomics.notify; no message is posted per call. A host (Node worker_threads, a browser's Web Workers) starts each
 * helper and calls `runKernelWorker` there with what `KernelWorkerInit` lists.
 */

/** What one helper thread needs: plain data and the shared memory, so it can cross a postMessage. */
export interface KernelWorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Byte offset of the control block in `memory`. */
  ctrlPtr: number;
  /** Thread index, 1 … threads − 1 (the main thread is 0). */
  tid: number;
  /** Byte offset of this thread's GEMM scratch. */
  scratch: number;
  /** Busy-wait polls before sleeping in Atomics.wait. */
  spin: number;
}

// Control block (Int32 slots).
export const GEN = 0; // job generation, bumped by the main thread
export const DONE = 1; // helpers finished with the current generation (op 1)
/** 0 exit, 1 gemm (static rectangles), 2 gemmShared, 4 poolReluParallel, 5 sgdMomentumParallel. */
export const OP = 2;
export const FAILED = 3; // a helper trapped
export const CLAIM = 4; // dynamic jobs: claim word (generation << 20 | next item); CLAIM + 1: items completed
export const PROBE = 6; // scratch word for recognising our memory behind a new SharedArrayBuffer object
export const ARGS = 8; // integer arguments of the current job
export const F64_ARGS = 12; // Float64 slots (bytes 96..): f64 arguments (lr, β) of op 5, after the int ARGS it uses
export const SOLO = 30; // control words of a job the main thread runs alone (never visible to helpers)
export const RECTS = 32; // op 1, per thread: i0, i1, j0, j1
export const CTRL_BYTES = 4096;
export const MAX_THREADS = (CTRL_BYTES / 4 - RECTS) / 4;

export const OP_EXIT = 0;
export const OP_GEMM_STATIC = 1;
export const OP_GEMM_SHARED = 2;
export const OP_POOL_RELU = 4;
export const OP_SGD_MOMENTUM = 5;

/** The exports of assembly/kernels.ts (pointers are byte offsets into the shared memory). */
export interface KernelExports {
  heapBase(): number;
  gemmScratchBytes(): number;
  isRelaxed(): number;
  gemm(transA: number, transB: number, M: number, N: number, K: number, A: number, B: number, C: number,
    accumulate: number, i0: number, i1: number, j0: number, j1: number, scratch: number): void;
  im2col(x: number, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, cols: number): void;
  col2im(cols: number, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, dx: number): void;
  sharedPackABytes(M: number, K: number): number;
  sharedPackBBytes(N: number, K: number): number;
  gemmShared(transA: number, transB: number, M: number, N: number, K: number, A: number, B: number, C: number,
    accumulate: number, ctl: number, gen: number, pa: number, pb: number, tile: number, spin: number, waitAll: number): void;
  biasAdd(y: number, bias: number, outer: number, channels: number, inner: number): void;
  biasGrad(dy: number, dbias: number, outer: number, channels: number, inner: number): void;
  reluForward(x: number, y: number, n: number): void;
  reluBackward(y: number, dy: number, dx: number, n: number): void;
  maxPoolForward(x: number, y: number, arg: number, planes: number, H: number, W: number, k: number, stride: number): void;
  maxPoolBackward(dy: number, arg: number, dx: number, planes: number, H: number, W: number, k: number, stride: number): void;
  sgdMomentumStep(x: number, g: number, b: number, n: number, lr: number, beta: number): void;
  sgdMomentumParallel(x: number, g: number, b: number, n: number, lr: number, beta: number, chunk: number,
    ctl: number, gen: number, spin: number, waitAll: number): void;
  poolReluParallel(kind: number, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number,
    a8: number, ctl: number, gen: number, spin: number, waitAll: number): void;
}

/** Every function of KernelExports, to reject a module built from another version of assembly/kernels.ts. */
export const KERNEL_EXPORTS: readonly (keyof KernelExports)[] = [
  'heapBase', 'gemmScratchBytes', 'isRelaxed', 'gemm', 'im2col', 'col2im', 'sharedPackABytes', 'sharedPackBBytes', 'gemmShared',
  'biasAdd', 'biasGrad', 'reluForward', 'reluBackward', 'maxPoolForward', 'maxPoolBackward', 'sgdMomentumStep',
  'sgdMomentumParallel', 'poolReluParallel',
];

/**
 * A helper thread's whole life: instantiate the module over the shared memory, report through `ready` (an error
 * when instantiation failed, and then return), then serve jobs until the main thread posts OP_EXIT. Blocks its
 * thread between jobs (Atomics.wait), so it must run on a thread that may block: a worker, never a page's main
 * thread.
 */
export function runKernelWorker(init: KernelWorkerInit, ready: (error?: unknown) => void): void {
  const { module, memory, ctrlPtr, tid, scratch, spin } = init;
  let k: KernelExports;
  try {
    k = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
  } catch (e) {
    ready(e);
    return;
  }
  ready();
  const ctrl = new Int32Array(memory.buffer, ctrlPtr, CTRL_BYTES / 4);
  const u = new Uint32Array(memory.buffer, ctrlPtr, CTRL_BYTES / 4);
  const f = new Float64Array(memory.buffer, ctrlPtr, CTRL_BYTES / 8);
  const ctl = ctrlPtr + CLAIM * 4;
  const a = ARGS;
  let seen = 0;
  for (;;) {
    let n = 0;
    while (Atomics.load(ctrl, GEN) === seen) if (++n > spin) Atomics.wait(ctrl, GEN, seen);
    seen = Atomics.load(ctrl, GEN);
    const op = ctrl[OP];
    if (op === OP_EXIT) return;
    if (op !== OP_GEMM_STATIC) {
      // Claims items until none are left; a late arrival claims nothing. No check-in: nobody waits for us.
      // A trap here must not leave the main thread waiting for our item: flag it and push the done count past
      // any total (the main thread then throws).
      try {
        if (op === OP_GEMM_SHARED) k.gemmShared(u[a]!, u[a + 1]!, u[a + 2]!, u[a + 3]!, u[a + 4]!, u[a + 5]!, u[a + 6]!, u[a + 7]!,
          u[a + 8]!, ctl, seen, u[a + 9]!, u[a + 10]!, scratch, spin, 0);
        else if (op === OP_POOL_RELU) k.poolReluParallel(u[a]!, u[a + 1]!, u[a + 2]!, u[a + 3]!, u[a + 4]!, u[a + 5]!, u[a + 6]!,
          u[a + 7]!, u[a + 8]!, u[a + 9]!, ctl, seen, spin, 0);
        else if (op === OP_SGD_MOMENTUM) k.sgdMomentumParallel(u[a]!, u[a + 1]!, u[a + 2]!, u[a + 3]!, f[F64_ARGS]!, f[F64_ARGS + 1]!,
          u[a + 4]!, ctl, seen, spin, 0);
      } catch {
        Atomics.store(ctrl, FAILED, 1);
        Atomics.add(ctrl, CLAIM + 1, 1 << 24);
        Atomics.notify(ctrl, CLAIM + 1);
      }
      continue;
    }
    try {
      const r = RECTS + 4 * tid;
      if (u[r + 1]! > u[r]! && u[r + 3]! > u[r + 2]!) {
        k.gemm(u[a]!, u[a + 1]!, u[a + 2]!, u[a + 3]!, u[a + 4]!, u[a + 5]!, u[a + 6]!, u[a + 7]!, u[a + 8]!,
          u[r]!, u[r + 1]!, u[r + 2]!, u[r + 3]!, scratch);
      }
    } catch {
      Atomics.store(ctrl, FAILED, 1);
    }
    Atomics.add(ctrl, DONE, 1);
    Atomics.notify(ctrl, DONE);
  }
}
