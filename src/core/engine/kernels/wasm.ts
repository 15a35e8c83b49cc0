/**
 * The WebAssembly SIMD kernels (assembly/kernels.ts, built to build/kernels*.wasm by `npm run build`).
 *
 * Memory: one shared WebAssembly.Memory (maximum 4 GiB, grown on demand). `alloc` is a bump allocator over it
 * and returns Float32Array views; growing a shared memory never detaches existing views, so views stay valid.
 * Layout: [control block | per-thread GEMM scratch | allocations…].
 *
 * Threads: `threads − 1` worker_threads instantiate the same module over the same memory. A GEMM is split into
 * disjoint row (or column) ranges of C; the main thread writes the job into the control block, bumps a generation
 * counter and wakes the workers with Atomics.notify, computes its own range, then waits (Atomics.wait) for the done
 * counter. No postMessage per call. Each element of C is computed identically whatever range holds it (see
 * assembly/kernels.ts), so results do not depend on the thread count. Small GEMMs run on the main thread alone.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { setFlagsFromString } from 'node:v8';
import type { Kernels } from './api.js';
import { convOutputSize } from './api.js';
import { packageRoot } from '../../../node/package-root.js';

export type WasmVariant = 'simd' | 'relaxed';

export interface WasmKernelOptions {
  /** Threads for GEMM, main thread included. Default: os.availableParallelism(). */
  threads?: number;
  /** 'auto' (default) loads the relaxed-SIMD build when WebAssembly.validate accepts it. */
  variant?: 'auto' | WasmVariant;
  /**
   * With 'auto'/'relaxed' on a runtime that rejects relaxed-SIMD (Node 20), set V8's
   * --experimental-wasm-relaxed-simd at run time (v8.setFlagsFromString) and retry. Relaxed-SIMD is a finished
   * standard (on by default from V8 11.4 / Node 22); the flag only unlocks it. Its f32x4.relaxed_madd is a fused
   * multiply-add on x86 with FMA (~25% faster GEMM), so results differ in rounding from the 'simd' build
   * (both are deterministic on one machine). Default true, so every entry point picks the same build.
   */
  enableRelaxedSimdFlag?: boolean;
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

// Control block (Int32 slots).
const GEN = 0; // job generation, bumped by the main thread
const DONE = 1; // workers finished with the current generation
const OP = 2; // 0 exit, 1 gemm (static rectangles), 2 gemmShared, 3 gemmBatch, 4 layoutParallel, 5 sgdMomentumParallel
const FAILED = 3; // a worker threw
const CLAIM = 4; // gemmShared: claim word (generation << 20 | next item); CLAIM + 1: items completed
const F64_ARGS = 12; // Float64 slots (bytes 96..): f64 arguments (lr, β) of op 5, after the int ARGS it uses
const SOLO = 30; // control words of a job the main thread runs alone (never visible to workers)
const PROBE = 6; // scratch word for recognising our memory behind a new SharedArrayBuffer object
const ARGS = 8; // transA, transB, M, N, K, A, B, C, accumulate
const RECTS = 32; // per thread: i0, i1, j0, j1
const CTRL_BYTES = 4096;
export const MAX_THREADS = (CTRL_BYTES / 4 - RECTS) / 4;

interface KernelExports {
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
  softmaxCrossEntropy(logits: number, labels: number, n: number, C: number, dlogits: number, hasGrad: number): number;
  sgdMomentumStep(x: number, g: number, b: number, n: number, lr: number, beta: number): void;
  im2colBatch(x: number, n: number, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, cols: number): void;
  col2imBatch(cols: number, n: number, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number, dx: number): void;
  channelsToBatch(src: number, bias: number, n: number, C: number, S: number, relu: number, y: number): void;
  batchToChannels(dy: number, mask: number, n: number, C: number, S: number, dst: number, dbias: number): void;
  gemmBatch(transA: number, transB: number, M: number, N: number, K: number, A: number, strideA: number, B: number, strideB: number,
    C: number, strideC: number, count: number, accumulate: number, sum: number, rowChunk: number,
    ctl: number, gen: number, scratch: number, spin: number, waitAll: number): void;
  sgdMomentumParallel(x: number, g: number, b: number, n: number, lr: number, beta: number, chunk: number,
    ctl: number, gen: number, spin: number, waitAll: number): void;
  layoutParallel(kind: number, a0: number, a1: number, a2: number, a3: number, a4: number, a5: number, a6: number, a7: number,
    a8: number, a9: number, ctl: number, gen: number, spin: number, waitAll: number): void;
}

export { packageRoot };

export function wasmPath(variant: WasmVariant): string {
  return join(packageRoot(), 'build', variant === 'relaxed' ? 'kernels-relaxed.wasm' : 'kernels.wasm');
}

/** Whether this runtime accepts relaxed-SIMD (Node 20 needs --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  const p = wasmPath('relaxed');
  return existsSync(p) && WebAssembly.validate(readFileSync(p));
}

function loadModule(variant: 'auto' | WasmVariant, enableFlag: boolean): { module: WebAssembly.Module; variant: WasmVariant } {
  if (variant !== 'simd') {
    const p = wasmPath('relaxed');
    if (existsSync(p)) {
      const bytes = readFileSync(p);
      if (!WebAssembly.validate(bytes) && enableFlag) setFlagsFromString('--experimental-wasm-relaxed-simd');
      if (WebAssembly.validate(bytes)) return { module: new WebAssembly.Module(bytes), variant: 'relaxed' };
    }
    if (variant === 'relaxed') throw new Error('relaxed-SIMD kernels unavailable (Node 20: run with --experimental-wasm-relaxed-simd; or run `npm run build`)');
  }
  const p = wasmPath('simd');
  if (!existsSync(p)) throw new Error(`WebAssembly kernels not built: ${p} missing (run \`npm run build\`)`);
  return { module: new WebAssembly.Module(readFileSync(p)), variant: 'simd' };
}

// Runs inside each worker (CommonJS eval). Kept as a string so it survives any TS transpiler unchanged.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctrlPtr, tid, scratch, spin } = workerData;
let k = null;
try { k = new WebAssembly.Instance(module, { env: { memory } }).exports; } catch (e) { k = null; }
const ctrl = new Int32Array(memory.buffer, ctrlPtr, ${CTRL_BYTES / 4});
const u = new Uint32Array(memory.buffer, ctrlPtr, ${CTRL_BYTES / 4});
const f = new Float64Array(memory.buffer, ctrlPtr, ${CTRL_BYTES / 8});
let seen = 0;
for (;;) {
  let n = 0;
  while (Atomics.load(ctrl, ${GEN}) === seen) if (++n > spin) Atomics.wait(ctrl, ${GEN}, seen);
  seen = Atomics.load(ctrl, ${GEN});
  const op = ctrl[${OP}];
  if (op === 0) break;
  if (op >= 2) {
    // Claims items until none are left; a late arrival claims nothing. No check-in: nobody waits for us.
    // A trap here must not leave the main thread waiting for our item: flag it and push the done count past
    // any total (the main thread then throws).
    if (k === null) continue;
    const a = ${ARGS}, ctl = ctrlPtr + ${CLAIM * 4};
    try {
      if (op === 2) k.gemmShared(u[a], u[a + 1], u[a + 2], u[a + 3], u[a + 4], u[a + 5], u[a + 6], u[a + 7], u[a + 8],
        ctl, seen, u[a + 9], u[a + 10], scratch, spin, 0);
      else if (op === 3) k.gemmBatch(u[a], u[a + 1], u[a + 2], u[a + 3], u[a + 4], u[a + 5], u[a + 6], u[a + 7], u[a + 8],
        u[a + 9], u[a + 10], u[a + 11], u[a + 12], u[a + 13], u[a + 14], ctl, seen, scratch, spin, 0);
      else if (op === 4) k.layoutParallel(u[a], u[a + 1], u[a + 2], u[a + 3], u[a + 4], u[a + 5], u[a + 6], u[a + 7],
        u[a + 8], u[a + 9], u[a + 10], ctl, seen, spin, 0);
      else if (op === 5) k.sgdMomentumParallel(u[a], u[a + 1], u[a + 2], u[a + 3], f[${F64_ARGS}], f[${F64_ARGS} + 1], u[a + 4],
        ctl, seen, spin, 0);
    } catch (e) {
      Atomics.store(ctrl, ${FAILED}, 1);
      Atomics.add(ctrl, ${CLAIM + 1}, 1 << 24);
      Atomics.notify(ctrl, ${CLAIM + 1});
    }
    continue;
  }
  try {
    if (k === null) throw new Error('instantiate failed');
    const r = ${RECTS} + 4 * tid;
    if (op === 1 && u[r + 1] > u[r] && u[r + 3] > u[r + 2]) {
      const a = ${ARGS};
      k.gemm(u[a], u[a + 1], u[a + 2], u[a + 3], u[a + 4], u[a + 5], u[a + 6], u[a + 7], u[a + 8],
        u[r], u[r + 1], u[r + 2], u[r + 3], scratch);
    }
  } catch (e) {
    Atomics.store(ctrl, ${FAILED}, 1);
  }
  Atomics.add(ctrl, ${DONE}, 1);
  Atomics.notify(ctrl, ${DONE});
}
`;

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
  private readonly workers: Worker[] = [];
  private readonly minThreadedWork: number;
  private readonly spin: number;
  private readonly dynamic: boolean;
  private packA = 0;
  private packB = 0;
  private packACap = 0;
  private packBCap = 0;
  private top: number;
  /** First byte the arena hands out (after the control block and per-thread scratch). */
  private readonly base: number;
  private disposed = false;
  /** Resolves when every worker has instantiated the module. */
  readonly ready: Promise<void>;

  constructor(opts: WasmKernelOptions = {}) {
    const threads = opts.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
      throw new RangeError(`threads must be an integer in 1..${MAX_THREADS}, got ${threads}`);
    }
    this.threads = threads;
    this.minThreadedWork = opts.minThreadedWork ?? 128 * 128 * 128;
    this.spin = opts.spin ?? 10000;
    this.dynamic = (opts.scheduler ?? 'dynamic') === 'dynamic';
    const { module, variant } = loadModule(opts.variant ?? 'auto', opts.enableRelaxedSimdFlag ?? true);
    this.variant = variant;
    this.memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAX_PAGES, shared: true });
    this.buffers.add(this.memory.buffer);
    this.k = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as KernelExports;
    const base = align(this.k.heapBase(), 64);
    this.ctrl = new Int32Array(this.memory.buffer, base, CTRL_BYTES / 4);
    this.args = new Uint32Array(this.memory.buffer, base, CTRL_BYTES / 4);
    this.top = base + CTRL_BYTES;
    const scratchBytes = align(this.k.gemmScratchBytes(), 64);
    for (let t = 0; t < threads; t++) this.scratch.push(this.reserve(scratchBytes));
    this.base = this.top;
    const ready: Promise<void>[] = [];
    for (let t = 1; t < threads; t++) {
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, memory: this.memory, ctrlPtr: base, tid: t, scratch: this.scratch[t], spin: this.spin },
      });
      // Referenced until it is up (so awaiting `ready` keeps the process alive), then unref'd so an
      // undisposed kernel set never keeps a process from exiting.
      ready.push(new Promise((resolve, reject) => {
        w.once('online', () => { w.unref(); resolve(); });
        w.once('error', (e) => { w.unref(); reject(e); });
      }));
      this.workers.push(w);
    }
    this.ready = Promise.all(ready).then(() => undefined);
    this.name = `wasm-${variant === 'relaxed' ? 'relaxed-simd' : 'simd'}-${threads}t`;
  }

  /** Reserves `bytes` (64-byte aligned) of linear memory, growing it if needed. */
  private reserve(bytes: number): number {
    const ptr = align(this.top, 64);
    const end = ptr + bytes;
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

  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (!Number.isInteger(mark) || mark < this.base || mark > this.top) throw new RangeError(`release: ${mark} is not a mark of this arena`);
    // Re-zero the freed span so `alloc` keeps its zero-filled promise; drop GEMM pack buffers that lived there.
    new Uint8Array(this.memory.buffer, mark, this.top - mark).fill(0);
    if (this.packA + this.packACap > mark) { this.packA = 0; this.packACap = 0; }
    if (this.packB + this.packBCap > mark) { this.packB = 0; this.packBCap = 0; }
    this.top = mark;
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
    this.run(1);
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
    const gen = this.publish(2, [ta, tb, M, N, K, pa, pb, pc, acc, this.packA, this.packB]);
    this.k.gemmShared(ta, tb, M, N, K, pa, pb, pc, acc, this.ctrl.byteOffset + CLAIM * 4, gen, this.packA, this.packB,
      this.scratch[0]!, this.spin, 1);
    // Close the call: a worker still holding this generation's arguments now sees no item to claim.
    this.finish();
    return true;
  }

  /** Publishes a dynamic-item job (ops 2, 3): arguments first, then the claim word, then the generation. */
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

  gemmBatch(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float32Array, strideA: number,
    B: Float32Array, strideB: number, C: Float32Array, strideC: number, count: number, accumulate: boolean): void {
    if (count > 1 && strideC < M * N) throw new Error(`gemmBatch: strideC ${strideC} < M·N = ${M * N} makes outputs overlap (use gemmBatchSum)`);
    this.batch(transA, transB, M, N, K, A, strideA, B, strideB, C, strideC, count, accumulate, false);
  }

  gemmBatchSum(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float32Array, strideA: number,
    B: Float32Array, strideB: number, C: Float32Array, count: number, accumulate: boolean): void {
    this.batch(transA, transB, M, N, K, A, strideA, B, strideB, C, 0, count, accumulate, true);
  }

  private batch(transA: boolean, transB: boolean, M: number, N: number, K: number, A: Float32Array, strideA: number,
    B: Float32Array, strideB: number, C: Float32Array, strideC: number, count: number, accumulate: boolean, sum: boolean): void {
    for (const [v, what] of [[strideA, 'strideA'], [strideB, 'strideB'], [strideC, 'strideC'], [count, 'count']] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`gemmBatch: ${what} must be a non-negative integer, got ${v}`);
    }
    if (count === 0) return;
    const pa = this.ptr(A, (count - 1) * strideA + M * K, 'gemmBatch A');
    const pb = this.ptr(B, (count - 1) * strideB + K * N, 'gemmBatch B');
    const pc = this.ptr(C, sum ? M * N : (count - 1) * strideC + M * N, 'gemmBatch C');
    const T = this.threads;
    const threaded = T > 1 && !this.disposed && count * M * N * K >= this.minThreadedWork;
    // Row chunks: enough items to keep T threads busy, each a multiple of the 4-row register tile.
    const perImage = sum ? T : Math.max(1, Math.ceil((2 * T) / count));
    const rowChunk = threaded ? Math.max(MR, Math.ceil(Math.ceil(M / perImage) / MR) * MR) : Math.max(M, 1);
    const args = [transA ? 1 : 0, transB ? 1 : 0, M, N, K, pa, strideA, pb, strideB, pc, strideC, count, accumulate ? 1 : 0, sum ? 1 : 0, rowChunk];
    const items = sum ? Math.ceil(M / rowChunk) : count * Math.ceil(M / rowChunk);
    if (!threaded || items < 2 || items >= 1 << 20) {
      // Same routine on this thread alone, with private control words no worker ever reads.
      const c = this.ctrl;
      c[SOLO] = 0; c[SOLO + 1] = 0;
      this.k.gemmBatch(args[0]!, args[1]!, M, N, K, pa, strideA, pb, strideB, pc, strideC, count, args[12]!, args[13]!, rowChunk,
        c.byteOffset + SOLO * 4, 0, this.scratch[0]!, this.spin, 1);
      return;
    }
    const ctl = this.ctrl.byteOffset + CLAIM * 4;
    const gen = this.publish(3, args);
    this.k.gemmBatch(args[0]!, args[1]!, M, N, K, pa, strideA, pb, strideB, pc, strideC, count, args[12]!, args[13]!, rowChunk,
      ctl, gen, this.scratch[0]!, this.spin, 1);
    this.finish();
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
    this.layout(6, Math.ceil(n / 16384), n, [this.ptr(x, n, 'reluForward x'), this.ptr(y, n, 'reluForward y'), n, 0, 0, 0, 0, 0, 0, 0]);
  }

  reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, n: number): void {
    this.layout(7, Math.ceil(n / 16384), n, [this.ptr(y, n, 'reluBackward y'), this.ptr(dy, n, 'reluBackward dy'), n,
      this.ptr(dx, n, 'reluBackward dx'), 0, 0, 0, 0, 0, 0]);
  }

  /** Planes per max-pool work item: about 16K input floats. */
  private static poolGroup(H: number, W: number): number {
    return Math.max(1, Math.floor(16384 / (H * W)));
  }

  maxPoolForward(x: Float32Array, y: Float32Array, arg: Int32Array, planes: number, H: number, W: number, k: number, stride: number): void {
    const m = planes * convOutputSize(H, k, stride, 0) * convOutputSize(W, k, stride, 0);
    const G = WasmKernels.poolGroup(H, W);
    this.layout(4, Math.ceil(planes / G), planes * H * W, [this.ptr(x, planes * H * W, 'maxPoolForward x'), this.ptr(y, m, 'maxPoolForward y'),
      this.ptr(arg, m, 'maxPoolForward arg'), planes, H, W, k, stride, G, 0]);
  }

  maxPoolBackward(dy: Float32Array, arg: Int32Array, dx: Float32Array, planes: number, H: number, W: number, k: number, stride: number): void {
    const m = planes * convOutputSize(H, k, stride, 0) * convOutputSize(W, k, stride, 0);
    const G = WasmKernels.poolGroup(H, W);
    this.layout(5, Math.ceil(planes / G), planes * H * W, [this.ptr(dy, m, 'maxPoolBackward dy'), this.ptr(arg, m, 'maxPoolBackward arg'),
      this.ptr(dx, planes * H * W, 'maxPoolBackward dx'), planes, H, W, k, stride, G, 0]);
  }

  softmaxCrossEntropy(logits: Float32Array, labels: Int32Array, n: number, C: number, dlogits: Float32Array | null): number {
    for (let i = 0; i < n; i++) {
      const y = labels[i]!;
      if (!(y >= 0 && y < C)) throw new RangeError(`softmaxCrossEntropy: label ${y} at row ${i} outside 0..${C - 1}`);
    }
    const g = dlogits === null ? 0 : this.ptr(dlogits, n * C, 'softmaxCrossEntropy dlogits');
    return this.k.softmaxCrossEntropy(this.ptr(logits, n * C, 'softmaxCrossEntropy logits'),
      this.ptr(labels, n, 'softmaxCrossEntropy labels'), n, C, g, dlogits === null ? 0 : 1);
  }

  sgdMomentumStep(x: Float32Array, g: Float32Array, b: Float32Array, n: number, lr: number, beta: number): void {
    const px = this.ptr(x, n, 'sgdMomentumStep x'), pg = this.ptr(g, n, 'sgdMomentumStep g'), pb = this.ptr(b, n, 'sgdMomentumStep b');
    const chunk = 16384;
    if (this.threads > 1 && !this.disposed && n >= 4 * chunk) {
      new Float64Array(this.ctrl.buffer, this.ctrl.byteOffset + F64_ARGS * 8, 2).set([lr, beta]);
      const gen = this.publish(5, [px, pg, pb, n, chunk]);
      this.k.sgdMomentumParallel(px, pg, pb, n, lr, beta, chunk, this.ctrl.byteOffset + CLAIM * 4, gen, this.spin, 1);
      this.finish();
      return;
    }
    this.k.sgdMomentumStep(px, pg, pb, n, lr, beta);
  }

  /**
   * Runs a data-parallel kernel (assembly/kernels.ts layoutParallel, `kind` 0..7) over `items` images, channels,
   * plane groups or element chunks,
   * on all threads when it moves at least 64K floats, else on this thread alone. Results never depend on which.
   */
  private layout(kind: number, items: number, floats: number, a: number[]): void {
    if (this.threads > 1 && !this.disposed && items >= 2 && floats >= 1 << 16 && items < 1 << 20) {
      const gen = this.publish(4, [kind, ...a]);
      this.k.layoutParallel(kind, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!,
        this.ctrl.byteOffset + CLAIM * 4, gen, this.spin, 1);
      this.finish();
      return;
    }
    const c = this.ctrl;
    c[SOLO] = 0; c[SOLO + 1] = 0;
    this.k.layoutParallel(kind, a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!, a[6]!, a[7]!, a[8]!, a[9]!, c.byteOffset + SOLO * 4, 0, this.spin, 1);
  }

  im2colBatch(x: Float32Array, n: number, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number,
    cols: Float32Array): void {
    const m = n * C * kh * kw * convOutputSize(H, kh, stride, pad) * convOutputSize(W, kw, stride, pad);
    this.layout(0, n, m, [this.ptr(x, n * C * H * W, 'im2colBatch x'), n, C, H, W, kh, kw, stride, pad, this.ptr(cols, m, 'im2colBatch cols')]);
  }

  col2imBatch(cols: Float32Array, n: number, C: number, H: number, W: number, kh: number, kw: number, stride: number, pad: number,
    dx: Float32Array): void {
    const m = n * C * kh * kw * convOutputSize(H, kh, stride, pad) * convOutputSize(W, kw, stride, pad);
    this.layout(1, n, m, [this.ptr(cols, m, 'col2imBatch cols'), n, C, H, W, kh, kw, stride, pad, this.ptr(dx, n * C * H * W, 'col2imBatch dx')]);
  }

  channelsToBatch(src: Float32Array, bias: Float32Array | null, n: number, C: number, S: number, relu: boolean, y: Float32Array): void {
    this.layout(2, C, n * C * S, [this.ptr(src, n * C * S, 'channelsToBatch src'), bias === null ? 0 : this.ptr(bias, C, 'channelsToBatch bias'),
      n, C, S, relu ? 1 : 0, this.ptr(y, n * C * S, 'channelsToBatch y'), 0, 0, 0]);
  }

  batchToChannels(dy: Float32Array, mask: Float32Array | null, n: number, C: number, S: number, dst: Float32Array,
    dbias: Float32Array | null): void {
    this.layout(3, C, n * C * S, [this.ptr(dy, n * C * S, 'batchToChannels dy'), mask === null ? 0 : this.ptr(mask, n * C * S, 'batchToChannels mask'),
      n, C, S, this.ptr(dst, n * C * S, 'batchToChannels dst'), dbias === null ? 0 : this.ptr(dbias, C, 'batchToChannels dbias'), 0, 0, 0]);
  }

  /** Stops the worker threads; the kernels (and their memory) keep working on the calling thread alone. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.workers.length > 0) {
      this.run(0);
      for (const w of this.workers) void w.terminate();
    }
  }
}

function align(x: number, a: number): number {
  return Math.ceil(x / a) * a;
}

/** What createWasmKernels returns: every optional kernel of api.ts is implemented. */
export type WasmKernelSet = Required<Kernels> & { readonly threads: number; readonly variant: WasmVariant };

/** WebAssembly kernels; throws if the .wasm files are not built. Resolves once worker threads are up. */
export async function createWasmKernels(opts: WasmKernelOptions = {}): Promise<WasmKernelSet> {
  const k = new WasmKernels(opts);
  await k.ready;
  return k;
}

/** Synchronous variant (workers finish starting in the background; the first threaded GEMM waits for them). */
export function createWasmKernelsSync(opts: WasmKernelOptions = {}): WasmKernelSet {
  return new WasmKernels(opts);
}
