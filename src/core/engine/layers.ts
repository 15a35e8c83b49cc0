/**
 * Layers as llm.c writes them: each op is a `forward` and a hand-written `backward` over flat buffers.
 * Activations are NCHW / [n, T, D] row-major and preallocated for `capacity` samples by `setup`; a call may use
 * n ≤ capacity samples (the prefix of each buffer). Backward accumulates (+=) into parameter gradients — call
 * `ParameterStore.zeroGrad()` before each backward pass — and returns dL/dx in a preallocated buffer.
 * When `needsInputGrad` is false (the first layer of a network) the input gradient is not computed.
 */
import { convOutputSize, type Kernels } from './kernels/api.js';
import { referenceMaxPoolForward } from './kernels/reference.js';
import type { Backend, Buf } from './backend.js';
import { pytorchDefaultBound, type Param, type ParameterStore } from './params.js';
import { Rng } from '../util/rng.js';

export interface Layer {
  readonly kind: string;
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  needsInputGrad: boolean;
  setup(capacity: number): void;
  forward(x: Buf, n: number, train: boolean): Buf;
  backward(dy: Buf, n: number): Buf;
  /** Non-trainable state (BatchNorm running statistics), for checkpoints and tests. */
  stateBuffers(): Buf[];
  /**
   * Layer-private generators (dropout masks), in a fixed order, so a checkpoint can save and restore their states
   * (`Rng.getState`/`setState`); absent or empty for a layer that draws nothing.
   */
  generators?(): Rng[];
}

export interface BuildContext {
  readonly store: ParameterStore;
  readonly backend: Backend;
  /** Seeds layer-private generators (dropout masks), drawn at build time so the order is fixed. */
  readonly rng: Rng;
  /** Transient buffers shared across the model's layers (optional; a layer makes its own otherwise). */
  readonly scratch?: Scratch;
}

const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
const EMPTY = new Float64Array(0);

abstract class Base implements Layer {
  abstract readonly kind: string;
  needsInputGrad = true;
  readonly inSize: number;
  readonly outSize: number;
  protected cap = 0;
  protected out: Buf = EMPTY;
  protected dx: Buf = EMPTY;
  protected x: Buf = EMPTY;
  /** The float32 kernels (for their optional element-wise ops), null on the float64 path. */
  protected readonly kern: Kernels | null;
  constructor(protected readonly be: Backend, readonly inShape: readonly number[], readonly outShape: readonly number[]) {
    this.inSize = prod(inShape);
    this.outSize = prod(outShape);
    this.kern = be.precision === 'float32' ? be.kernels : null;
  }
  setup(capacity: number): void {
    if (capacity === this.cap) return;
    this.cap = capacity;
    this.out = this.be.alloc(capacity * this.outSize);
    this.dx = this.be.alloc(capacity * this.inSize);
    this.allocExtra(capacity);
  }
  protected allocExtra(_capacity: number): void {}
  abstract forward(x: Buf, n: number, train: boolean): Buf;
  abstract backward(dy: Buf, n: number): Buf;
  stateBuffers(): Buf[] {
    return [];
  }
  generators(): Rng[] {
    return [];
  }
}

/** Cached per-sample subarray views of a stable buffer, so per-image kernel calls allocate nothing per step. */
class Views {
  private src: Buf = EMPTY;
  private v: Buf[] = [];
  constructor(private stride: number) {}
  at(buf: Buf, i: number, stride = this.stride): Buf {
    if (buf !== this.src || stride !== this.stride) {
      this.src = buf;
      this.stride = stride;
      this.v = [];
      const m = Math.floor(buf.length / stride);
      for (let j = 0; j < m; j++) this.v.push(buf.subarray(j * stride, (j + 1) * stride));
    }
    return this.v[i]!;
  }
}

// ---------------------------------------------------------------------------------------------- Linear
/** y = x·Wᵀ + b over the last dimension (W stored [out × in] as in PyTorch). */
export class Linear extends Base {
  readonly kind = 'linear';
  readonly weight: Param;
  readonly bias: Param | null;
  private readonly rows: number;
  private dyMasked: Buf = EMPTY;
  /** With `relu`, y = ReLU(x·Wᵀ + b) fused into the bias pass. */
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], readonly outFeatures: number, bias = true, readonly relu = false) {
    const inF = inShape[inShape.length - 1]!;
    super(ctx.backend, inShape, [...inShape.slice(0, -1), outFeatures]);
    this.rows = this.inSize / inF;
    const bound = pytorchDefaultBound(inF);
    this.weight = ctx.store.declare(`${name}.weight`, [outFeatures, inF], { kind: 'uniform', bound });
    this.bias = bias ? ctx.store.declare(`${name}.bias`, [outFeatures], { kind: 'uniform', bound }, true) : null;
  }
  protected override allocExtra(capacity: number): void {
    if (this.relu) this.dyMasked = this.be.alloc(capacity * this.outSize);
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const M = n * this.rows, O = this.outFeatures, I = this.inShape[this.inShape.length - 1]!;
    const y = this.out;
    this.be.gemm(false, true, M, O, I, x, this.weight.data, y, false);
    const k = this.kern;
    if (k !== null && k.biasAdd !== undefined && k.reluForward !== undefined) {
      if (this.bias !== null) k.biasAdd(y as Float32Array, this.bias.data as Float32Array, M, O, 1);
      if (this.relu) k.reluForward(y as Float32Array, y as Float32Array, M * O);
    } else if (this.bias !== null || this.relu) {
      const b = this.bias === null ? null : this.bias.data;
      for (let r = 0; r < M; r++) {
        const o = r * O;
        if (b !== null) for (let j = 0; j < O; j++) y[o + j] += b[j]!;
        if (this.relu) for (let j = 0; j < O; j++) { const v = y[o + j]!; y[o + j] = (v + Math.abs(v)) * 0.5; }
      }
    }
    return y;
  }
  backward(dyIn: Buf, n: number): Buf {
    const M = n * this.rows, O = this.outFeatures, I = this.inShape[this.inShape.length - 1]!;
    let dy = dyIn;
    const k = this.kern;
    if (this.relu) {
      // dy may be shared (residual branches), so the mask goes into a private buffer.
      const y = this.out, d = this.dyMasked;
      if (k?.reluBackward !== undefined) k.reluBackward(y as Float32Array, dyIn as Float32Array, d as Float32Array, M * O);
      else for (let i = 0; i < M * O; i++) d[i] = dyIn[i]! * +(y[i]! > 0);
      dy = d;
    }
    this.be.gemm(true, false, O, I, M, dy, this.x, this.weight.grad, true);
    if (this.bias !== null && k?.biasGrad !== undefined) k.biasGrad(dy as Float32Array, this.bias.grad as Float32Array, M, O, 1);
    else if (this.bias !== null) {
      const db = this.bias.grad;
      for (let r = 0; r < M; r++) {
        const o = r * O;
        for (let j = 0; j < O; j++) db[j] += dy[o + j]!;
      }
    }
    if (this.needsInputGrad) this.be.gemm(false, false, M, I, O, dy, this.weight.data, this.dx, false);
    return this.dx;
  }
}

// ---------------------------------------------------------------------------------------------- Conv2d
/** Transient buffers shared by the layers of one model (valid within one forward or backward call only). */
export class Scratch {
  private readonly bufs = new Map<string, Buf>();
  constructor(private readonly be: Backend) {}
  get(key: string, n: number): Buf {
    let b = this.bufs.get(key);
    if (b === undefined || b.length < n) {
      b = this.be.alloc(n);
      this.bufs.set(key, b);
    }
    return b;
  }
}

/** Keep a layer's im2col columns from forward to backward when they are at most this many elements (else recompute). */
export const KEEP_COLS_LIMIT = 8 * 1024 * 1024;

/**
 * 2-D convolution over [C, H, W] by im2col + GEMM per image, Y_i = W·cols_i with W stored [outC × C·k·k] (PyTorch's
 * layout flattened), bias and (with `relu`) ReLU applied to each image's output while it is in cache — a fused
 * conv→ReLU costs no extra pass over memory. Measured on the 2-core machine, per-image GEMMs beat one batched GEMM
 * here because the batched column layout needs a gather and two transposes in JavaScript.
 */
export class Conv2d extends Base {
  readonly kind = 'conv2d';
  readonly weight: Param;
  readonly bias: Param | null;
  private readonly C: number; private readonly H: number; private readonly W: number;
  private readonly OC: number; private readonly OHW: number; private readonly CKK: number;
  private cols: Buf = EMPTY;
  private keepCols = false;
  private readonly scratch: Scratch;
  private readonly xv = new Views(0); private readonly yv = new Views(0); private readonly dyv = new Views(0);
  private readonly dxv = new Views(0); private readonly colv = new Views(0);
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], outChannels: number,
    readonly k: number, readonly stride = 1, readonly pad = 0, bias = true, readonly relu = false) {
    const [C, H, W] = inShape as [number, number, number];
    const oh = convOutputSize(H, k, stride, pad), ow = convOutputSize(W, k, stride, pad);
    if (!(oh > 0 && ow > 0)) throw new Error(`Conv2d ${name}: kernel ${k} does not fit input ${H}×${W} (pad ${pad})`);
    super(ctx.backend, inShape, [outChannels, oh, ow]);
    this.C = C; this.H = H; this.W = W; this.OC = outChannels; this.OHW = oh * ow; this.CKK = C * k * k;
    const bound = pytorchDefaultBound(this.CKK);
    this.weight = ctx.store.declare(`${name}.weight`, [outChannels, C, k, k], { kind: 'uniform', bound });
    this.bias = bias ? ctx.store.declare(`${name}.bias`, [outChannels], { kind: 'uniform', bound }, true) : null;
    this.scratch = ctx.scratch ?? new Scratch(ctx.backend);
  }
  protected override allocExtra(capacity: number): void {
    const size = this.CKK * capacity * this.OHW;
    this.keepCols = size <= KEEP_COLS_LIMIT;
    this.cols = this.keepCols ? this.be.alloc(size) : EMPTY;
  }
  /** Image i's columns: computed now (`fresh`) or kept from forward. */
  private columns(x: Buf, i: number, fresh: boolean): Buf {
    const per = this.CKK * this.OHW;
    const c = this.keepCols ? this.colv.at(this.cols, i, per) : this.scratch.get('conv.cols', per);
    if (fresh || !this.keepCols) this.be.im2col(this.xv.at(x, i, this.inSize), this.C, this.H, this.W, this.k, this.k, this.stride, this.pad, c);
    return c;
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const { OC, OHW, CKK } = this;
    const kern = this.kern, wd = this.weight.data, b = this.bias === null ? null : this.bias.data;
    const fast = kern !== null && kern.biasAdd !== undefined && kern.reluForward !== undefined;
    for (let i = 0; i < n; i++) {
      const yi = this.yv.at(this.out, i, this.outSize);
      this.be.gemm(false, false, OC, OHW, CKK, wd, this.columns(x, i, true), yi, false);
      if (fast) {
        if (b !== null) kern.biasAdd!(yi as Float32Array, b as Float32Array, 1, OC, OHW);
        if (this.relu) kern.reluForward!(yi as Float32Array, yi as Float32Array, OC * OHW);
      } else {
        for (let c = 0; c < OC; c++) {
          const bc = b === null ? 0 : b[c]!, o = c * OHW;
          if (this.relu) for (let j = 0; j < OHW; j++) { const v = yi[o + j]! + bc; yi[o + j] = (v + Math.abs(v)) * 0.5; }
          else for (let j = 0; j < OHW; j++) yi[o + j] += bc;
        }
      }
    }
    return this.out;
  }
  backward(dy: Buf, n: number): Buf {
    const { OC, OHW, CKK } = this;
    const kern = this.kern, db = this.bias === null ? null : this.bias.grad;
    const fast = kern !== null && kern.biasGrad !== undefined && kern.reluBackward !== undefined;
    // dy may be shared (residual branches), so the ReLU mask goes into scratch.
    const masked = this.relu ? this.scratch.get('conv.dy', OC * OHW) : EMPTY;
    for (let i = 0; i < n; i++) {
      let dyi = this.dyv.at(dy, i, this.outSize);
      if (this.relu) {
        const yi = this.yv.at(this.out, i, this.outSize);
        if (fast) kern.reluBackward!(yi as Float32Array, dyi as Float32Array, masked as Float32Array, OC * OHW);
        else for (let j = 0; j < OC * OHW; j++) masked[j] = dyi[j]! * +(yi[j]! > 0);
        dyi = masked;
      }
      if (db !== null) {
        if (fast) kern.biasGrad!(dyi as Float32Array, db as Float32Array, 1, OC, OHW);
        else for (let c = 0; c < OC; c++) { let s = 0; for (let j = 0; j < OHW; j++) s += dyi[c * OHW + j]!; db[c] += s; }
      }
      const cols = this.columns(this.x, i, false);
      this.be.gemm(false, true, OC, CKK, OHW, dyi, cols, this.weight.grad, true);
      if (this.needsInputGrad) {
        const dcols = this.scratch.get('conv.dcols', CKK * OHW);
        this.be.gemm(true, false, CKK, OHW, OC, this.weight.data, dyi, dcols, false);
        this.be.col2im(dcols, this.C, this.H, this.W, this.k, this.k, this.stride, this.pad, this.dxv.at(this.dx, i, this.inSize));
      }
    }
    return this.dx;
  }
}

// ---------------------------------------------------------------------------------------------- pooling
/** Max pooling (no padding); the gradient goes to the first maximal element of each window, as in PyTorch. */
export class MaxPool2d extends Base {
  readonly kind = 'maxpool2d';
  private arg: Int32Array<ArrayBufferLike> = new Int32Array(0);
  constructor(ctx: BuildContext, inShape: readonly number[], readonly k: number, readonly stride = k) {
    const [C, H, W] = inShape as [number, number, number];
    super(ctx.backend, inShape, [C, convOutputSize(H, k, stride, 0), convOutputSize(W, k, stride, 0)]);
  }
  protected override allocExtra(capacity: number): void {
    const kern = this.kern;
    this.arg = kern?.allocInt32 !== undefined && kern.maxPoolForward !== undefined ? kern.allocInt32(capacity * this.outSize) : new Int32Array(capacity * this.outSize);
  }
  forward(x: Buf, n: number): Buf {
    const kern = this.kern;
    if (kern !== null && kern.maxPoolForward !== undefined && kern.allocInt32 !== undefined) {
      const [C, H, W] = this.inShape as [number, number, number];
      kern.maxPoolForward(x as Float32Array, this.out as Float32Array, this.arg, n * C, H, W, this.k, this.stride);
      return this.out;
    }
    // float64 path (gradient checks): the plain loop of the reference kernels, first maximum kept, NaN wins.
    const [C, H, W] = this.inShape as [number, number, number];
    referenceMaxPoolForward(x, this.out, this.arg, n * C, H, W, this.k, this.stride);
    return this.out;
  }
  backward(dy: Buf, n: number): Buf {
    const dx = this.dx, arg = this.arg, kern = this.kern;
    if (kern !== null && kern.maxPoolBackward !== undefined && kern.allocInt32 !== undefined) {
      const [C, H, W] = this.inShape as [number, number, number];
      kern.maxPoolBackward(dy as Float32Array, arg, dx as Float32Array, n * C, H, W, this.k, this.stride);
      return dx;
    }
    dx.fill(0, 0, n * this.inSize);
    const m = n * this.outSize;
    for (let o = 0; o < m; o++) dx[arg[o]!] += dy[o]!;
    return dx;
  }
}

/** Average pooling (no padding). */
export class AvgPool2d extends Base {
  readonly kind = 'avgpool2d';
  constructor(ctx: BuildContext, inShape: readonly number[], readonly k: number, readonly stride = k) {
    const [C, H, W] = inShape as [number, number, number];
    super(ctx.backend, inShape, [C, convOutputSize(H, k, stride, 0), convOutputSize(W, k, stride, 0)]);
  }
  forward(x: Buf, n: number): Buf {
    const [, H, W] = this.inShape as [number, number, number];
    const [C, OH, OW] = this.outShape as [number, number, number];
    const { k, stride } = this;
    const inv = 1 / (k * k);
    let o = 0;
    for (let p = 0; p < n * C; p++) {
      const base = p * H * W;
      for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
        let s = 0;
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) s += x[base + (oy * stride + ky) * W + ox * stride + kx]!;
        this.out[o++] = s * inv;
      }
    }
    return this.out;
  }
  backward(dy: Buf, n: number): Buf {
    const [, H, W] = this.inShape as [number, number, number];
    const [C, OH, OW] = this.outShape as [number, number, number];
    const { k, stride } = this;
    const dx = this.dx, inv = 1 / (k * k);
    dx.fill(0, 0, n * this.inSize);
    let o = 0;
    for (let p = 0; p < n * C; p++) {
      const base = p * H * W;
      for (let oy = 0; oy < OH; oy++) for (let ox = 0; ox < OW; ox++) {
        const g = dy[o++]! * inv;
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) dx[base + (oy * stride + ky) * W + ox * stride + kx] += g;
      }
    }
    return dx;
  }
}

/** [C, H, W] → [C]: mean over the spatial positions. */
export class GlobalAvgPool extends Base {
  readonly kind = 'globalavgpool';
  constructor(ctx: BuildContext, inShape: readonly number[]) {
    super(ctx.backend, inShape, [inShape[0]!]);
  }
  forward(x: Buf, n: number): Buf {
    const S = this.inSize / this.outSize, inv = 1 / S;
    for (let p = 0; p < n * this.outSize; p++) {
      let s = 0;
      for (let j = 0; j < S; j++) s += x[p * S + j]!;
      this.out[p] = s * inv;
    }
    return this.out;
  }
  backward(dy: Buf, n: number): Buf {
    const S = this.inSize / this.outSize, inv = 1 / S;
    for (let p = 0; p < n * this.outSize; p++) {
      const g = dy[p]! * inv;
      for (let j = 0; j < S; j++) this.dx[p * S + j] = g;
    }
    return this.dx;
  }
}

// ---------------------------------------------------------------------------------------------- normalisation
/**
 * BatchNorm over channel 0 of [C, ...spatial] (BatchNorm1d on [C], BatchNorm2d on [C, H, W]), PyTorch semantics:
 * train mode normalises with the biased batch variance and updates running_mean/var with momentum 0.1, using the
 * unbiased variance (·m/(m−1), m = n·spatial) for running_var; eval mode uses the running statistics. eps = 1e-5.
 */
export class BatchNorm extends Base {
  readonly kind = 'batchnorm';
  readonly weight: Param;
  readonly bias: Param;
  readonly runningMean: Buf;
  readonly runningVar: Buf;
  private readonly C: number;
  private readonly S: number;
  private readonly mean: Float64Array;
  private readonly invStd: Float64Array;
  private lastTrain = true;
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], readonly momentum = 0.1, readonly eps = 1e-5) {
    super(ctx.backend, inShape, inShape);
    this.C = inShape[0]!;
    this.S = this.inSize / this.C;
    this.weight = ctx.store.declare(`${name}.weight`, [this.C], { kind: 'constant', value: 1 }, true);
    this.bias = ctx.store.declare(`${name}.bias`, [this.C], { kind: 'constant', value: 0 }, true);
    this.runningMean = ctx.backend.alloc(this.C);
    this.runningVar = ctx.backend.alloc(this.C);
    this.runningVar.fill(1);
    this.mean = new Float64Array(this.C);
    this.invStd = new Float64Array(this.C);
  }
  override stateBuffers(): Buf[] {
    return [this.runningMean, this.runningVar];
  }
  forward(x: Buf, n: number, train: boolean): Buf {
    this.x = x;
    this.lastTrain = train;
    const { C, S } = this;
    const y = this.out, g = this.weight.data, b = this.bias.data;
    const m = n * S;
    for (let c = 0; c < C; c++) {
      let mu: number, istd: number;
      if (train) {
        // One pass with a shift K = first element (the "shifted data" variance, exact in float64 for float32 data
        // far beyond the cancellation that plain Σx² − m·μ² would suffer).
        const K = x[c * S]!;
        let s = 0, s2 = 0;
        for (let i = 0; i < n; i++) {
          const o = (i * C + c) * S;
          for (let j = 0; j < S; j++) { const d = x[o + j]! - K; s += d; s2 += d * d; }
        }
        mu = K + s / m;
        const v = Math.max(s2 - (s * s) / m, 0);
        const varB = v / m;
        istd = 1 / Math.sqrt(varB + this.eps);
        this.runningMean[c] = (1 - this.momentum) * this.runningMean[c]! + this.momentum * mu;
        this.runningVar[c] = (1 - this.momentum) * this.runningVar[c]! + this.momentum * (m > 1 ? (v / (m - 1)) : varB);
      } else {
        mu = this.runningMean[c]!;
        istd = 1 / Math.sqrt(this.runningVar[c]! + this.eps);
      }
      this.mean[c] = mu;
      this.invStd[c] = istd;
      const a = g[c]! * istd, bb = b[c]! - mu * a;
      for (let i = 0; i < n; i++) { const o = (i * C + c) * S; for (let j = 0; j < S; j++) y[o + j] = x[o + j]! * a + bb; }
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const { C, S } = this;
    const x = this.x, dx = this.dx, g = this.weight.data, dg = this.weight.grad, db = this.bias.grad;
    const m = n * S;
    for (let c = 0; c < C; c++) {
      const mu = this.mean[c]!, istd = this.invStd[c]!;
      let sdy = 0, sdyx = 0;
      for (let i = 0; i < n; i++) {
        const o = (i * C + c) * S;
        for (let j = 0; j < S; j++) { const d = dy[o + j]!; sdy += d; sdyx += d * (x[o + j]! - mu) * istd; }
      }
      dg[c] += sdyx;
      db[c] += sdy;
      if (!this.needsInputGrad) continue;
      const gi = g[c]! * istd;
      if (this.lastTrain) {
        // dx = γ/σ · (dy − mean(dy) − x̂·mean(dy·x̂))
        const mdy = sdy / m, mdyx = sdyx / m;
        for (let i = 0; i < n; i++) {
          const o = (i * C + c) * S;
          for (let j = 0; j < S; j++) dx[o + j] = gi * (dy[o + j]! - mdy - (x[o + j]! - mu) * istd * mdyx);
        }
      } else {
        for (let i = 0; i < n; i++) { const o = (i * C + c) * S; for (let j = 0; j < S; j++) dx[o + j] = gi * dy[o + j]!; }
      }
    }
    return dx;
  }
}

/** LayerNorm over the last dimension D (eps 1e-5, affine), as torch.nn.LayerNorm(D). */
export class LayerNorm extends Base {
  readonly kind = 'layernorm';
  readonly weight: Param;
  readonly bias: Param;
  private readonly D: number;
  private mean = new Float64Array(0);
  private rstd = new Float64Array(0);
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], readonly eps = 1e-5) {
    super(ctx.backend, inShape, inShape);
    this.D = inShape[inShape.length - 1]!;
    this.weight = ctx.store.declare(`${name}.weight`, [this.D], { kind: 'constant', value: 1 }, true);
    this.bias = ctx.store.declare(`${name}.bias`, [this.D], { kind: 'constant', value: 0 }, true);
  }
  protected override allocExtra(capacity: number): void {
    const rows = (capacity * this.inSize) / this.D;
    this.mean = new Float64Array(rows);
    this.rstd = new Float64Array(rows);
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const D = this.D, rows = (n * this.inSize) / D, y = this.out, w = this.weight.data, b = this.bias.data;
    for (let r = 0; r < rows; r++) {
      const o = r * D;
      let s = 0;
      for (let j = 0; j < D; j++) s += x[o + j]!;
      const mu = s / D;
      let v = 0;
      for (let j = 0; j < D; j++) { const d = x[o + j]! - mu; v += d * d; }
      const rs = 1 / Math.sqrt(v / D + this.eps);
      this.mean[r] = mu; this.rstd[r] = rs;
      for (let j = 0; j < D; j++) y[o + j] = (x[o + j]! - mu) * rs * w[j]! + b[j]!;
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const D = this.D, rows = (n * this.inSize) / D, x = this.x, dx = this.dx;
    const w = this.weight.data, dw = this.weight.grad, db = this.bias.grad;
    for (let r = 0; r < rows; r++) {
      const o = r * D, mu = this.mean[r]!, rs = this.rstd[r]!;
      let sdn = 0, sdnx = 0;
      for (let j = 0; j < D; j++) {
        const xh = (x[o + j]! - mu) * rs, d = dy[o + j]!, dn = d * w[j]!;
        sdn += dn; sdnx += dn * xh;
        dw[j] += d * xh; db[j] += d;
      }
      const mdn = sdn / D, mdnx = sdnx / D;
      for (let j = 0; j < D; j++) {
        const xh = (x[o + j]! - mu) * rs;
        dx[o + j] = (dy[o + j]! * w[j]! - mdn - xh * mdnx) * rs;
      }
    }
    return dx;
  }
}

// ---------------------------------------------------------------------------------------------- activations
export class ReLU extends Base {
  readonly kind = 'relu';
  constructor(ctx: BuildContext, inShape: readonly number[]) { super(ctx.backend, inShape, inShape); }
  // Branch-free forms: (v + |v|)/2 is exact and ~4× faster than `v > 0 ? v : 0` on unpredictable signs.
  forward(x: Buf, n: number): Buf {
    const y = this.out, m = n * this.inSize;
    if (this.kern?.reluForward !== undefined) this.kern.reluForward(x as Float32Array, y as Float32Array, m);
    else for (let i = 0; i < m; i++) { const v = x[i]!; y[i] = (v + Math.abs(v)) * 0.5; }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const y = this.out, dx = this.dx, m = n * this.inSize;
    if (this.kern?.reluBackward !== undefined) this.kern.reluBackward(y as Float32Array, dy as Float32Array, dx as Float32Array, m);
    else for (let i = 0; i < m; i++) dx[i] = dy[i]! * +(y[i]! > 0);
    return dx;
  }
}

export class Tanh extends Base {
  readonly kind = 'tanh';
  constructor(ctx: BuildContext, inShape: readonly number[]) { super(ctx.backend, inShape, inShape); }
  forward(x: Buf, n: number): Buf {
    const y = this.out, m = n * this.inSize;
    for (let i = 0; i < m; i++) y[i] = Math.tanh(x[i]!);
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const y = this.out, dx = this.dx, m = n * this.inSize;
    for (let i = 0; i < m; i++) { const t = y[i]!; dx[i] = dy[i]! * (1 - t * t); }
    return dx;
  }
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/**
 * erf to ~1e-15: Maclaurin series for |x| < 2.5, continued fraction for erfc beyond (both double-precision
 * accurate there), so GELU and its gradient match torch's exact-erf GELU in float64 gradient checks.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf x = 2/√π Σ (−1)^k x^(2k+1) / (k!(2k+1))
    const x2 = x * x;
    let term = x, sum = x;
    for (let k = 1; k < 60; k++) {
      term *= -x2 / k;
      const t = term / (2 * k + 1);
      sum += t;
      if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 6) return x > 0 ? 1 : -1;
  // erfc x = e^{−x²}/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))) evaluated by Lentz's method.
  const tiny = 1e-300;
  let f = ax, C = ax, D = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    D = ax + a * D; if (D === 0) D = tiny; D = 1 / D;
    C = ax + a / C; if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

/**
 * erf with absolute error < 1.2e-7 (Numerical Recipes' Chebyshev fit of erfc), below float32 resolution and ~3×
 * faster than `erf`; the float32 path uses it, the float64 path (gradient checks, torch fixtures) the exact one.
 */
export function erfFast(x: number): number {
  const z = Math.abs(x), t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc : erfc - 1;
}

/** GELU(x) = x·Φ(x) with the exact erf (torch.nn.GELU() default); GELU'(x) = Φ(x) + x·φ(x). Φ is kept for backward. */
export class GELU extends Base {
  readonly kind = 'gelu';
  private cdf: Buf = EMPTY;
  constructor(ctx: BuildContext, inShape: readonly number[]) {
    super(ctx.backend, inShape, inShape);
  }
  protected override allocExtra(capacity: number): void {
    this.cdf = this.be.alloc(capacity * this.inSize);
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const y = this.out, cdf = this.cdf, m = n * this.inSize;
    if (this.be.precision === 'float32') {
      for (let i = 0; i < m; i++) { const v = x[i]!, p = 0.5 * (1 + erfFast(v * SQRT1_2)); cdf[i] = p; y[i] = v * p; }
    } else {
      for (let i = 0; i < m; i++) { const v = x[i]!, p = 0.5 * (1 + erf(v * SQRT1_2)); cdf[i] = p; y[i] = v * p; }
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const x = this.x, dx = this.dx, cdf = this.cdf, m = n * this.inSize;
    for (let i = 0; i < m; i++) {
      const v = x[i]!;
      dx[i] = dy[i]! * (cdf[i]! + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v));
    }
    return dx;
  }
}

/** Inverted dropout: in training, zero each element with probability p and scale the rest by 1/(1−p). */
export class Dropout extends Base {
  readonly kind = 'dropout';
  private mask: Buf = EMPTY;
  private readonly rng: Rng;
  private lastTrain = false;
  constructor(ctx: BuildContext, inShape: readonly number[], readonly p: number) {
    super(ctx.backend, inShape, inShape);
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout p must be in [0, 1), got ${p}`);
    this.rng = new Rng(ctx.rng.nextU32());
  }
  protected override allocExtra(capacity: number): void {
    this.mask = this.be.alloc(capacity * this.inSize);
  }
  forward(x: Buf, n: number, train: boolean): Buf {
    this.lastTrain = train && this.p > 0;
    if (!this.lastTrain) return x;
    const y = this.out, mask = this.mask, m = n * this.inSize, scale = 1 / (1 - this.p);
    for (let i = 0; i < m; i++) { const k = this.rng.uniform() >= this.p ? scale : 0; mask[i] = k; y[i] = x[i]! * k; }
    return y;
  }
  override generators(): Rng[] {
    return [this.rng];
  }
  backward(dy: Buf, n: number): Buf {
    if (!this.lastTrain) return dy;
    const dx = this.dx, mask = this.mask, m = n * this.inSize;
    for (let i = 0; i < m; i++) dx[i] = dy[i]! * mask[i]!;
    return dx;
  }
}

/** Reshape to a vector per sample; NCHW is already contiguous, so this copies nothing. */
export class Flatten extends Base {
  readonly kind = 'flatten';
  constructor(ctx: BuildContext, inShape: readonly number[]) { super(ctx.backend, inShape, [prod(inShape)]); }
  override setup(): void {}
  forward(x: Buf): Buf { return x; }
  backward(dy: Buf): Buf { return dy; }
}

// ---------------------------------------------------------------------------------------------- tokens
/** Token ids (stored as floats, exact below 2^24) [T] → rows of a [V × D] table, N(0, 1) init as torch.nn.Embedding. */
export class Embedding extends Base {
  readonly kind = 'embedding';
  readonly weight: Param;
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], readonly vocab: number, readonly dim: number) {
    super(ctx.backend, inShape, [...inShape, dim]);
    this.weight = ctx.store.declare(`${name}.weight`, [vocab, dim], { kind: 'normal', std: 1 });
    this.needsInputGrad = false;
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const D = this.dim, m = n * this.inSize, w = this.weight.data, y = this.out;
    for (let t = 0; t < m; t++) {
      const id = x[t]!;
      if (!(id >= 0 && id < this.vocab && Number.isInteger(id))) throw new Error(`Embedding: token id ${id} outside [0, ${this.vocab})`);
      const src = id * D, dst = t * D;
      for (let j = 0; j < D; j++) y[dst + j] = w[src + j]!;
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const D = this.dim, m = n * this.inSize, dw = this.weight.grad;
    for (let t = 0; t < m; t++) {
      const src = this.x[t]! * D, o = t * D;
      for (let j = 0; j < D; j++) dw[src + j] += dy[o + j]!;
    }
    return this.dx; // token ids have no gradient; stays zero
  }
}

/** y = x + P with a learned [T × D] position table (nanoGPT's wpe applied to positions 0..T−1), N(0, 0.02²) init. */
export class PositionalEmbedding extends Base {
  readonly kind = 'posembedding';
  readonly weight: Param;
  constructor(ctx: BuildContext, name: string, inShape: readonly number[]) {
    super(ctx.backend, inShape, inShape);
    this.weight = ctx.store.declare(`${name}.weight`, [...inShape], { kind: 'normal', std: 0.02 });
  }
  forward(x: Buf, n: number): Buf {
    const S = this.inSize, p = this.weight.data, y = this.out;
    for (let i = 0; i < n; i++) for (let j = 0; j < S; j++) y[i * S + j] = x[i * S + j]! + p[j]!;
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const S = this.inSize, dp = this.weight.grad;
    for (let i = 0; i < n; i++) for (let j = 0; j < S; j++) dp[j] += dy[i * S + j]!;
    return dy;
  }
}

/** [C, H, W] → [T = (H/p)(W/p), C·p·p]: non-overlapping p×p patches as tokens (a ViT patchifier without weights). */
export class Patchify extends Base {
  readonly kind = 'patchify';
  constructor(ctx: BuildContext, inShape: readonly number[], readonly p: number) {
    const [C, H, W] = inShape as [number, number, number];
    if (H % p !== 0 || W % p !== 0) throw new Error(`Patchify: ${H}×${W} is not divisible by patch ${p}`);
    super(ctx.backend, inShape, [(H / p) * (W / p), C * p * p]);
  }
  private map(n: number, f: (src: number, dst: number) => void): void {
    const [C, H, W] = this.inShape as [number, number, number];
    const p = this.p, PW = W / p, T = (H / p) * PW, F = C * p * p;
    for (let i = 0; i < n; i++) for (let t = 0; t < T; t++) {
      const py = Math.floor(t / PW) * p, px = (t % PW) * p;
      for (let c = 0; c < C; c++) for (let a = 0; a < p; a++) for (let b = 0; b < p; b++) {
        f(i * this.inSize + (c * H + py + a) * W + px + b, i * this.outSize + t * F + (c * p + a) * p + b);
      }
    }
  }
  forward(x: Buf, n: number): Buf {
    const y = this.out;
    this.map(n, (s, d) => { y[d] = x[s]!; });
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const dx = this.dx;
    this.map(n, (s, d) => { dx[s] = dy[d]!; });
    return dx;
  }
}

/** [T, D] → [D]: mean over tokens. */
export class TokenMeanPool extends Base {
  readonly kind = 'tokenmeanpool';
  constructor(ctx: BuildContext, inShape: readonly number[]) { super(ctx.backend, inShape, [inShape[1]!]); }
  forward(x: Buf, n: number): Buf {
    const [T, D] = this.inShape as [number, number];
    const y = this.out;
    for (let i = 0; i < n; i++) for (let j = 0; j < D; j++) {
      let s = 0;
      for (let t = 0; t < T; t++) s += x[(i * T + t) * D + j]!;
      y[i * D + j] = s / T;
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const [T, D] = this.inShape as [number, number];
    for (let i = 0; i < n; i++) for (let t = 0; t < T; t++) for (let j = 0; j < D; j++) this.dx[(i * T + t) * D + j] = dy[i * D + j]! / T;
    return this.dx;
  }
}

/**
 * Multi-head self-attention core (llm.c's attention_forward/backward): input [T, 3D] holding q, k, v side by side
 * (the output of a Linear(D, 3D)), output [T, D] of concatenated heads. Scores are q·k/√(D/H); with `causal`,
 * position t attends to t' ≤ t only. The q/k/v and output projections are separate Linear layers.
 */
export class SelfAttention extends Base {
  readonly kind = 'attention';
  private att: Buf = EMPTY;
  private readonly T: number; private readonly D: number;
  private readonly dpre: Float64Array;
  constructor(ctx: BuildContext, inShape: readonly number[], readonly heads: number, readonly causal: boolean) {
    const [T, D3] = inShape as [number, number];
    super(ctx.backend, inShape, [T, D3 / 3]);
    this.T = T; this.D = D3 / 3;
    if (this.D % heads !== 0) throw new Error(`SelfAttention: width ${this.D} not divisible by ${heads} heads`);
    this.dpre = new Float64Array(T);
  }
  protected override allocExtra(capacity: number): void {
    this.att = this.be.alloc(capacity * this.heads * this.T * this.T);
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const { T, D, heads } = this;
    const hs = D / heads, scale = 1 / Math.sqrt(hs), C3 = 3 * D, y = this.out, att = this.att;
    for (let b = 0; b < n; b++) for (let t = 0; t < T; t++) for (let h = 0; h < heads; h++) {
      const q = (b * T + t) * C3 + h * hs;
      const a = ((b * heads + h) * T + t) * T;
      const last = this.causal ? t : T - 1;
      let max = -Infinity;
      for (let t2 = 0; t2 <= last; t2++) {
        const k = (b * T + t2) * C3 + D + h * hs;
        let s = 0;
        for (let i = 0; i < hs; i++) s += x[q + i]! * x[k + i]!;
        s *= scale;
        att[a + t2] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let t2 = 0; t2 <= last; t2++) { const e = Math.exp(att[a + t2]! - max); att[a + t2] = e; sum += e; }
      const inv = 1 / sum;
      for (let t2 = 0; t2 < T; t2++) att[a + t2] = t2 <= last ? att[a + t2]! * inv : 0;
      const o = (b * T + t) * D + h * hs;
      for (let i = 0; i < hs; i++) y[o + i] = 0;
      for (let t2 = 0; t2 <= last; t2++) {
        const v = (b * T + t2) * C3 + 2 * D + h * hs, w = att[a + t2]!;
        for (let i = 0; i < hs; i++) y[o + i] += w * x[v + i]!;
      }
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const { T, D, heads } = this;
    const hs = D / heads, scale = 1 / Math.sqrt(hs), C3 = 3 * D, x = this.x, dx = this.dx, att = this.att, dpre = this.dpre;
    dx.fill(0, 0, n * this.inSize);
    for (let b = 0; b < n; b++) for (let t = 0; t < T; t++) for (let h = 0; h < heads; h++) {
      const q = (b * T + t) * C3 + h * hs;
      const a = ((b * heads + h) * T + t) * T;
      const o = (b * T + t) * D + h * hs;
      const last = this.causal ? t : T - 1;
      // datt[t2] = dout·v[t2];  dv[t2] += att[t2]·dout
      let dot = 0;
      for (let t2 = 0; t2 <= last; t2++) {
        const v = (b * T + t2) * C3 + 2 * D + h * hs, w = att[a + t2]!;
        let s = 0;
        for (let i = 0; i < hs; i++) { s += dy[o + i]! * x[v + i]!; dx[v + i] += w * dy[o + i]!; }
        dpre[t2] = s;
        dot += w * s;
      }
      // softmax backward: dpre = att·(datt − Σ att·datt); then q·k/√hs backward
      for (let t2 = 0; t2 <= last; t2++) {
        const g = att[a + t2]! * (dpre[t2]! - dot) * scale;
        const k = (b * T + t2) * C3 + D + h * hs;
        for (let i = 0; i < hs; i++) { dx[q + i] += g * x[k + i]!; dx[k + i] += g * x[q + i]!; }
      }
    }
    return dx;
  }
}

// ---------------------------------------------------------------------------------------------- containers
export class Sequential implements Layer {
  readonly kind = 'sequential';
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  private _needs = true;
  constructor(readonly layers: Layer[], inShape?: readonly number[]) {
    if (layers.length === 0 && inShape === undefined) throw new Error('Sequential: empty without an input shape');
    this.inShape = layers.length > 0 ? layers[0]!.inShape : inShape!;
    this.outShape = layers.length > 0 ? layers[layers.length - 1]!.outShape : inShape!;
  }
  get needsInputGrad(): boolean { return this._needs; }
  set needsInputGrad(v: boolean) {
    this._needs = v;
    // Without an input gradient, leading reshapes (flatten, patchify) and the first layer after them need none either.
    for (const l of this.layers) {
      l.needsInputGrad = v;
      if (v || !(l.kind === 'flatten' || l.kind === 'patchify')) break;
    }
  }
  setup(capacity: number): void { for (const l of this.layers) l.setup(capacity); }
  forward(x: Buf, n: number, train: boolean): Buf {
    let h = x;
    for (const l of this.layers) h = l.forward(h, n, train);
    return h;
  }
  backward(dy: Buf, n: number): Buf {
    let g = dy;
    for (let i = this.layers.length - 1; i >= 0; i--) g = this.layers[i]!.backward(g, n);
    return g;
  }
  stateBuffers(): Buf[] { return this.layers.flatMap((l) => l.stateBuffers()); }
  generators(): Rng[] { return this.layers.flatMap((l) => l.generators?.() ?? []); }
}

/**
 * y = main(x) + shortcut(x) (identity shortcut when null): the residual add of ResNets and transformer blocks.
 * With `relu`, y = ReLU(main(x) + shortcut(x)) in the same pass (the post-addition ReLU of a ResNet basic block).
 */
export class Residual extends Base {
  readonly kind = 'residual';
  private dyMasked: Buf = EMPTY;
  constructor(ctx: BuildContext, readonly main: Layer, readonly shortcut: Layer | null, readonly relu = false) {
    super(ctx.backend, main.inShape, main.outShape);
    if (shortcut === null && prod(main.inShape) !== prod(main.outShape)) throw new Error('Residual: identity shortcut needs equal shapes');
  }
  override setup(capacity: number): void {
    super.setup(capacity);
    this.main.setup(capacity);
    this.shortcut?.setup(capacity);
  }
  protected override allocExtra(capacity: number): void {
    if (this.relu) this.dyMasked = this.be.alloc(capacity * this.outSize);
  }
  forward(x: Buf, n: number, train: boolean): Buf {
    const a = this.main.forward(x, n, train);
    const s = this.shortcut === null ? x : this.shortcut.forward(x, n, train);
    const y = this.out, m = n * this.outSize;
    if (this.relu) for (let i = 0; i < m; i++) { const v = a[i]! + s[i]!; y[i] = (v + Math.abs(v)) * 0.5; }
    else for (let i = 0; i < m; i++) y[i] = a[i]! + s[i]!;
    return y;
  }
  backward(dyIn: Buf, n: number): Buf {
    this.main.needsInputGrad = this.needsInputGrad;
    if (this.shortcut !== null) this.shortcut.needsInputGrad = this.needsInputGrad;
    let dy = dyIn;
    if (this.relu) {
      const y = this.out, d = this.dyMasked, m = n * this.outSize;
      for (let i = 0; i < m; i++) d[i] = dyIn[i]! * +(y[i]! > 0);
      dy = d;
    }
    const da = this.main.backward(dy, n);
    const ds = this.shortcut === null ? dy : this.shortcut.backward(dy, n);
    if (!this.needsInputGrad) return this.dx;
    const dx = this.dx, m = n * this.inSize;
    for (let i = 0; i < m; i++) dx[i] = da[i]! + ds[i]!;
    return dx;
  }
  override stateBuffers(): Buf[] {
    return [...this.main.stateBuffers(), ...(this.shortcut?.stateBuffers() ?? [])];
  }
  override generators(): Rng[] {
    return [...(this.main.generators?.() ?? []), ...(this.shortcut?.generators?.() ?? [])];
  }
}
