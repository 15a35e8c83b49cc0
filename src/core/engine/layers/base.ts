/**
 * Layers as llm.c writes them: each op is a `forward` and a hand-written `backward` over flat buffers.
 * Activations are NCHW / [n, T, D] row-major and preallocated for `capacity` samples by `setup`; a call may use
 * n ≤ capacity samples (the prefix of each buffer). Backward accumulates (+=) into parameter gradients — call
 * `ParameterStore.zeroGrad()` before each backward pass — and returns dL/dx in a preallocated buffer.
 * When `needsInputGrad` is false (the first layer of a network) the input gradient is not computed.
 */
import type { Kernels } from '../kernels/api.js';
import type { Backend, Buf } from '../backend.js';
import type { ParameterStore } from '../params.js';
import type { Rng } from '../../util/rng.js';

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

export const prod = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
export const EMPTY = new Float64Array(0);

export abstract class Base implements Layer {
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
export class Views {
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
