/**
 * The WebAssembly SIMD kernels (assembly/kernels.ts, built to build/kernels*.wasm by `npm run build`), instantiated
 * from a compiled module or its bytes. The host supplies the bytes and, for threads, a way to start a helper
 * thread (Node: src/node/kernels.ts; a browser: Web Workers); nothing here touches files or a runtime's APIs.
 *
 * Memory: one shared WebAssembly.Memory (maximum 4 GiB, grown on demand). `alloc` is a bump allocator over it
 * and returns Float32Array views; growing a shared memory never detaches existing views, so views stay valid.
 * Layout: [control block | per-thread GEMM scratch | allocations…].
 *
 * Threads: `threads − 1` helpers instantiate the same module over the same memory (wasm-worker.ts). A GEMM is
 * split into disjoint tiles of C claimed by whichever thread is free; the main thread publishes the job in the
 * control block, wakes the helpers with Atomics.notify, works on the job itself, then waits for the done counter.
 * Each element of C is computed identically whatever thread holds it (see assembly/kernels.ts), so results do not
 * depend on the thread count. Small GEMMs run on the main thread alone. The calling thread may block in
 * Atomics.wait too, so in a browser the kernels belong in a worker, not on the page's main thread.
 */
import type { Kernels } from './api.js';
import { convOutputSize } from './api.js';
import { UserError } from '../../util/errors.js';
import {
  ARGS, CLAIM, CTRL_BYTES, DONE, F64_ARGS, FAILED, GEN, KERNEL_EXPORTS, MAX_THREADS, OP, OP_EXIT, OP_GEMM_SHARED, OP_GEMM_STATIC,
  OP_POOL_RELU, OP_SGD_MOMENTUM, PROBE, RECTS, SOLO, type KernelExports, type KernelWorkerInit,
} from './wasm-worker.js';

export { MAX_THREADS, runKernelWorker, type KernelWorkerInit } from './wasm-worker.js';

export type WasmVariant = 'simd' | 'relaxed';

/** A helper thread the host started: `ready` settles once it has instantiated the module (or failed to). */
export interface KernelWorkerHandle {
  readonly ready: Promise<void>;
  terminate(): void;
}

/** Starts one helper thread that calls `runKernelWorker(init, …)` (init crosses to it by structured clone). */
export type SpawnKernelWorker = (init: KernelWorkerInit) => KernelWorkerHandle;

export interface WasmKernelOptions {
  /** The compiled assembly/kernels.ts (either build), or its bytes. */
  module: WebAssembly.Module | BufferSource;
  /** Threads for GEMM, main thread included (default 1). More than 1 needs `spawnWorker`. */
  threads?: number;
  spawnWorker?: SpawnKernelWorker;
  /**
   * GEMMs with M·N·K below this run on one thread. Default 128³ (≈ 4 MFLOP, ~80 µs on one core): a threaded call
   * costs ~10–15 µs more (wake-up, shared packing, claim traffic), measured on 64³ (16 µs → 28 µs forced onto 2 threads).
   */
  minThreadedWork?: number;
  /** Busy-wait iterations before a thread sleeps in Atomics.wait (lower latency, burns CPU while idle). */
  spin?: number;
  /**
   * 'dynamic' (default): shared packing and tiles claimed by whichever thread is free (a descheduled worker
   * costs nothing); 'static': one fixed rectangle of C per thread, each packing its own panels.
   */
  scheduler?: 'dynamic' | 'static';
}

const PAGE = 65536;
const MAX_PAGES = 65536;
const INITIAL_PAGES = 256;
const MR = 4;
const NR = 8;

class WasmKernels implements Required<Kernels> {
  readonly name: string;
  readonly threads: number;
  readonly variant: WasmVariant;
  private readonly memory: WebAssembly.Memory;
  private readonly k: KernelExports;
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly ctrl: Int32Array;
  private readonly args: Uint32Array;
  private readonly scratch: number[] = [];
  private readonly workers: KernelWorkerHandle[] = [];
  private readonly minThreadedWork: number;
  private readonly spin: number;
  private readonly dynamic: boolean;
  private packA = 0;
  private packB = 0;
  private packACap = 0;
  private packBCap = 0;
  private top: number;
  private disposed = false;
  /** Settles when every helper thread has instantiated the module (rejects if one could not). */
  readonly ready: Promise<void>;

  constructor(module: WebAssembly.Module, opts: Omit<WasmKernelOptions, 'module'>) {
    const threads = opts.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new RangeError(`threads must be an integer in 1..${MAX_THREADS}, got ${threads}`);
    }
    const spawn = opts.spawnWorker;
    if (threads > 1 && spawn === undefined) throw new Error(`threads = ${threads} needs a spawnWorker from the host`);
    this.threads = threads;
    this.minThreadedWork = opts.minThreadedWork ?? 128 * 128 * 128;
    this.spin = opts.spin ?? 10000;
    this.dynamic = (opts.scheduler ?? 'dynamic') === 'dynamic';
    this.memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    this.buffers.add(this.memory.buffer);
    this.k = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as KernelExports;
    const missing = KERNEL_EXPORTS.filter((f) => typeof (this.k as unknown as Record<string, unknown>)[f] !== 'function');
    if (missing.length > 0) throw new Error(`the kernels module lacks ${missing.join(', ')}: it is out of date (run \`npm run build:wasm\`)`);
    const variant: WasmVariant = this.k.isRelaxed() !== 0 ? 'relaxed' : 'simd';
    this.variant = variant;
    const base = align(this.k.heapBase(), 64);
    this.ctrl = new Int32Array(this.memory.buffer, base, CTRL_BYTES / 4);
    this.args = new Uint32Array(this.memory.buffer, base, CTRL_BYTES / 4);
    this.top = base + CTRL_BYTES;
    const scratchBytes = align(this.k.gemmScratchBytes(), 64);
    for (let t = 0; t < threads; t++) this.scratch.push(this.reserve(scratchBytes));
    for (let t = 1; t < threads; t++) {
      this.workers.push(spawn!({ module, memory: this.memory, ctrlPtr: base, tid: t, scratch: this.scratch[t]!, spin: this.spin }));
    }
    this.ready = Promise.all(this.workers.map((w) => w.ready)).then(() => undefined);
    this.name = `wasm-${variant === 'relaxed' ? 'relaxed-simd' : 'simd'}-${threads}t`;
  }

  /** Reserves `bytes` (64-byte aligned) of linear memory, growing it if needed. */
  private reserve(bytes: number): number {
    const ptr = align(this.top, 64);
    const end = ptr + bytes;
    if (end > MAX_PAGES * PAGE) {
      throw new UserError(`the model and its batches need ${(end / 2 ** 30).toFixed(1)} GiB of WASM kernel memory, over its 4 GiB maximum: use a smaller batch or model`);
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      const want = Math.max(pages, Math.ceil(have / PAGE / 2)); // grow geometrically
      const total = have / PAGE;
      this.memory.grow(Math.min(Math.max(want, pages), MAX_PAGES - total));
      this.buffers.add(this.memory.buffer);
    }
    this.top = end;
    return ptr;
  }

  alloc(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`alloc: n must be a non-negative integer, got ${n}`);
    const ptr = this.reserve(n * 4);
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  allocInt32(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`allocInt32: n must be a non-negative integer, got ${n}`);
    const ptr = this.reserve(n * 4);
    return new Int32Array(this.memory.buffer, ptr, n);
  }

  /**
   * Whether `buf` is this kernel memory. V8 may hand out a new SharedArrayBuffer object for the same shared
   * memory after a grow (one per isolate refresh), so identity alone is not enough: an unknown SAB is probed by
   * writing two random tokens through our own view and reading them back through it.
   */
  private owns(buf: ArrayBufferLike): boolean {
    if (this.buffers.has(buf)) return true;
    if (!(buf instanceof SharedArrayBuffer) || buf.byteLength <= this.ctrl.byteOffset + PROBE * 4) return false;
    const theirs = new Int32Array(buf, this.ctrl.byteOffset, PROBE + 1);
    for (let i = 0; i < 2; i++) {
      const token = (Math.random() * 0x7fffffff) | 0;
      this.ctrl[PROBE] = token;
      if (theirs[PROBE] !== token) return false;
    }
    this.buffers.add(buf);
    return true;
  }

  /** The byte offset of `a` in linear memory, after checking it came from alloc and holds n elements. */
  ptr(a: Float32Array | Int32Array, n: number, what: string): number {
    if (!this.owns(a.buffer)) throw new Error(`${what}: array does not live in this kernel memory (use kernels.alloc)`);
    if (a.length < n) throw new Error(`${what}: needs ${n} elements, has ${a.length}`);
    return a.byteOffset;
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number,
    A: Float32Array, B: Float32Array, C: Float32Array, accumulate: boolean): void {
    const pa = this.ptr(A, M * K, 'gemm A');
    const pb = this.ptr(B, K * N, 'gemm B');
    const pc = this.ptr(C, M * N, 'gemm C');
    const ta = transA ? 1 : 0, tb = transB ? 1 : 0, acc = accumulate ? 1 : 0;
    const threaded = this.threads > 1 && !this.disposed && M * N * K >= this.minThreadedWork;
    if (threaded && this.dynamic && this.gemmDynamic(ta, tb, M, N, K, pa, pb, pc, acc)) return;
    const parts = threaded && !this.dynamic ? this.partition(M, N) : null;
    if (parts === null) {
      this.k.gemm(ta, tb, M, N, K, pa, pb, pc, acc, 0, M, 0, N, this.scratch[0]!);
      return;
    }
    const a = this.args;
    a[ARGS] = ta; a[ARGS + 1] = tb; a[ARGS + 2] = M; a[ARGS + 3] = N; a[ARGS + 4] = K;
    a[ARGS + 5] = pa; a[ARGS + 6] = pb; a[ARGS + 7] = pc; a[ARGS + 8] = acc;
    for (let t = 0; t < this.threads; t++) {
      const r = parts[t] ?? [0, 0, 0, 0];
      a.set(r, RECTS + 4 * t);
    }
    this.run(OP_GEMM_STATIC);
    const r = parts[0]!;
    this.k.gemm(ta, tb, M, N, K, pa, pb, pc, acc, r[0], r[1], r[2], r[3], this.scratch[0]!);
    this.join();
  }

  /** The threaded GEMM of assembly/kernels.ts `gemmShared`; false when the shape is better done on one thread. */
  private gemmDynamic(ta: number, tb: number, M: number, N: number, K: number, pa: number, pb: number, pc: number, acc: number): boolean {
    if (M < 2 * MR && N < 2 * NR) return false;
    const mP = Math.ceil(M / MR), nP = Math.ceil(N / NR), nKB = Math.ceil(K / 256);
    const items = nKB * (Math.ceil(mP / 8) + Math.ceil(nP / 8)) + Math.ceil(mP / 8) * Math.ceil(nP / 8);
    if (K === 0 || items >= 1 << 20) return false;
    const needA = this.k.sharedPackABytes(M, K), needB = this.k.sharedPackBBytes(N, K);
    if (needA > this.packACap) { this.packACap = Math.max(needA, 2 * this.packACap); this.packA = this.reserve(this.packACap); }
    if (needB > this.packBCap) { this.packBCap = Math.max(needB, 2 * this.packBCap); this.packB = this.reserve(this.packBCap); }
    const gen = this.publish(OP_GEMM_SHARED, [ta, tb, M, N, K, pa, pb, pc, acc, this.packA, this.packB]);
    this.k.gemmShared(ta, tb, M, N, K, pa, pb, pc, acc, this.ctrl.byteOffset + CLAIM * 4, gen, this.packA, this.packB,
      this.scratch[0]!, this.spin, 1);
    // Close the call: a worker still holding this generation's arguments now sees no item to claim.
    this.finish();
    return true;
  }

  /** Publishes a dynamic-item job: arguments first, then the claim word, then the generation. */
  private publish(op: number, args: number[]): number {
    const a = this.args, c = this.ctrl;
    for (let i = 0; i < args.length; i++) a[ARGS + i] = args[i]!;
    const gen = (c[GEN]! + 1) | 0;
    c[OP] = op;
    Atomics.store(c, FAILED, 0);
    Atomics.store(c, CLAIM + 1, 0);
    Atomics.store(c, CLAIM, (gen & 0xfff) << 20);
    Atomics.store(c, GEN, gen);
    Atomics.notify(c, GEN);
    return gen;
  }

  /** Ends a dynamic-item job: closes its claim word, and reports a worker that trapped. */
  private finish(): void {
    Atomics.store(this.ctrl, CLAIM, 0xfffff);
    if (Atomics.load(this.ctrl, FAILED) !== 0) throw new Error('a kernel worker thread trapped; results of this call are invalid');
  }

  /**
   * Disjoint rectangles of C, one per thread. Splitting rows makes every thread pack all of op(B) (K·N each);
   * splitting columns makes every thread pack all of op(A) (M·K): split whichever duplicates less.
   */
  private partition(M: number, N: number): Array<[number, number, number, number]> | null {
    const T = this.threads;
    const byRows = M >= N ? M >= 2 * MR : N < 2 * NR;
    const [len, unit] = byRows ? [M, MR] : [N, NR];
    if (len < 2 * unit) return null;
    const chunk = Math.ceil(len / unit / T) * unit;
    const out: Array<[number, number, number, number]> = [];
    for (let t = 0; t < T; t++) {
      const lo = Math.min(len, t * chunk), hi = Math.min(len, lo + chunk);
      out.push(byRows ? [lo, hi, 0, N] : [0, M, lo, hi]);
    }
    return out;
  }

  private run(op: number): void {
    const c = this.ctrl;
    c[OP] = op;
    Atomics.store(c, DONE, 0);
    Atomics.store(c, FAILED, 0);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
  }

  private join(): void {
    const c = this.ctrl, want = this.workers.length;
    let n = 0, d: number;
    while ((d = Atomics.load(c, DONE)) < want) if (++n > this.spin) Atomics.wait(c, DONE, d);
    if (Atomics.load(c, FAILED) !== 0) throw new Error('a kernel worker thread failed');
  }

  im2col(x: Float32Array, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number,
    cols: Float32Array): void {
    const n = C * kh * kw * convOutputSize(H, kh, stride, pad) * convOutputSize(W, kw, stride, pad);
    this.k.im2col(this.ptr(x, C * H * W, 'im2col x'), C, H, W, kh, kw, stride, pad, this.ptr(cols, n, 'im2col cols'));
  }

  col2im(cols: Float32Array, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number,
    dx: Float32Array): void {
    const n = C * kh * kw * convOutputSize(H, kh, stride, pad) * convOutputSize(W, kw, stride, pad);
    this.k.col2im(this.ptr(cols, n, 'col2im cols'), C, H, W, kh, kw, stride, pad, this.ptr(dx, C * H * W, 'col2im dx'));
  }

  biasAdd(y: Float32Array, bias: Float32Array, outer: number, channels: number, inner: number): void {
    this.k.biasAdd(this.ptr(y, outer * channels * inner, 'biasAdd y'), this.ptr(bias, channels, 'biasAdd bias'), outer, channels, inner);
  }

  biasGrad(dy: Float32Array, dbias: Float32Array, outer: number, channels: number, inner: number): void {
    this.k.biasGrad(this.ptr(dy, outer * channels * inner, 'biasGrad dy'), this.ptr(dbias, channels, 'biasGrad dbias'), outer, channels, inner);
  }

  reluForward(x: Float32Array, y: Float32Array, n: number): void {
    this.poolRelu(2, Math.ceil(n / 16384), n, [this.ptr(x, n, 'reluForward x'), this.ptr(y, n, 'reluForward y'), n, 0, 0, 0, 0, 0, 0]);
  }

  reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void {
    this.poolRelu(3, Math.ceil(n / 16384), n, [this.ptr(y, n, 'reluBackward y'), this.ptr(dy, n, 'reluBackward dy'), n,
      this.ptr(dx, n, 'reluBackward dx'), 0, 0, 0, 0, 0]);
  }

  /** Planes per max-pool work item: about 16K input floats. */
  private static poolGroup(H: number, W: number): number {
    return Math.max(1, Math.floor(16384 / (H * W)));
  }

  maxPoolForward(x: Float32Array, y: Float32Array, arg: Int32Array, planes: number, H: number, W: number, k: number, stride: number): void {
    const m = planes * convOutputSize(H, k, stride, 0) * convOutputSize(W, k, stride, 0);
    const G = WasmKernels.poolGroup(H, W);
    this.poolRelu(0, Math.ceil(planes / G), planes * H * W, [this.ptr(x, planes * H * W, 'maxPoolForward x'), this.ptr(y, m, 'maxPoolForward y'),
      this.ptr(arg, m, 'maxPoolForward arg'), planes, H, W, k, stride, G]);
  }

  maxPoolBackward(dy: Float32Array, arg: Int32Array, dx: Float32Array, planes: number, H: number, W: number, k: number, stride: number): void {
    const m = planes * convOutputSize(H, k, stride, 0) * convOutputSize(W, k, stride, 0);
    const G = WasmKernels.poolGroup(H, W);
    this.poolRelu(1, Math.ceil(planes / G), planes * H * W, [this.ptr(dy, m, 'maxPoolBackward dy'), this.ptr(arg, m, 'maxPoolBackward arg'),
      this.ptr(dx, planes * H * W, 'maxPoolBackward dx'), planes, H, W, k, stride, G]);
  }

  sgdMomentumStep(x: Float32Array, g: Float32Array, b: Float32Array, n: number, lr: number, beta: number): void {
    const px = this.ptr(x, n, 'sgdMomentumStep x'), pg = this.ptr(g, n, 'sgdMomentumStep g'), pb = this.ptr(b, n, 'sgdMomentumStep b');
    const chunk = 16384;
    if (this.threads > 1 && !this.disposed && n >= 4 * chunk) {
      new Float64Array(this.ctrl.buffer, this.ctrl.byteOffset + F64_ARGS * 8, 2).set([lr, beta]);
      const gen = this.publish(OP_SGD_MOMENTUM, [px, pg, pb, n, chunk]);
      this.k.sgdMomentumParallel(px, pg, pb, n, lr, beta, chunk, this.ctrl.byteOffset + CLAIM * 4, gen, this.spin, 1);
      this.finish();
      return;
    }
    this.k.sgdMomentumStep(px, pg, pb, n, lr, beta);
  }

  /**
   * Runs max pooling or ReLU (assembly/kernels.ts poolReluParallel, `kind` 0..3) over `items` plane groups or
   * element chunks, on all threads when it moves at least 64K floats, else on this thread alone. Results never
   * depend on which.
   */
  private poolRelu(kind: number, items: number, floats: number, a: number[]): void {
    if (this.threads > 1 && !this.disposed && items >= 2 && floats >= 1 << 16 && items < 1 << 20) {
      const gen = this.publish(OP_POOL_RELU, [kind, ...a]);
      this.k.poolReluParallel(kind, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!,
        this.ctrl.byteOffset + CLAIM * 4, gen, this.spin, 1);
      this.finish();
      return;
    }
    const c = this.ctrl;
    c[SOLO] = 0; c[SOLO + 1] = 0;
    this.k.poolReluParallel(kind, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, c.byteOffset + SOLO * 4, 0, this.spin, 1);
  }

  /** Stops the helper threads; the kernels (and their memory) keep working on the calling thread alone. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.workers.length > 0) {
      this.run(OP_EXIT);
      for (const w of this.workers) w.terminate();
    }
  }
}

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** What instantiateWasmKernels returns: every optional kernel of api.ts is implemented. */
export type WasmKernelSet = Required<Kernels> & { readonly threads: number; readonly variant: WasmVariant };

/**
 * WebAssembly kernels over a fresh shared memory; resolves once every helper thread is up. If a helper cannot
 * instantiate the module, the others are stopped and the promise rejects.
 */
export async function instantiateWasmKernels(opts: WasmKernelOptions): Promise<WasmKernelSet> {
  const module = opts.module instanceof WebAssembly.Module ? opts.module : await WebAssembly.compile(opts.module);
  const k = new WasmKernels(module, opts);
  try {
    await k.ready;
  } catch (e) {
    k.dispose();
    throw e;
  }
  return k;
}
