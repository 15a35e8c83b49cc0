/**
 * The layers an ONNX graph needs beyond the engine's, and the container that runs a graph of layers:
 *   Sigmoid   x → y = 1/(1 + e^−x);  dy → dx = dy·y·(1 − y)
 *   View      x [n, …] → the same buffer under another per-sample shape (Flatten, Reshape, a folded Softmax)
 *   Permute   x [n, d₀, …] → y [n, d_perm[0], …] (Transpose within each sample);  dy → dx by the inverse permutation
 *   InputOp   x [n, …] → y = x + c, x − c, x·c or x/c with a constant c per sample position (the standardisation of
 *             raw inputs at the start of a graph);  dy → dx = dy, dy, dy·c or dy/c
 *   GraphNet  tensors joined by steps (a layer of one input, or the sum of two tensors), run in the file's node
 *             order; backward runs the steps in reverse and sums the gradients of a tensor read by several steps.
 */
import type { Buf } from '../engine/backend.js';
import { Base, EMPTY, prod, type BuildContext, type Layer } from '../engine/layers/base.js';
import type { Rng } from '../util/rng.js';

export class Sigmoid extends Base {
  readonly kind = 'sigmoid';
  constructor(ctx: BuildContext, inShape: readonly number[]) { super(ctx.backend, inShape, inShape); }
  forward(x: Buf, n: number): Buf {
    const y = this.out, m = n * this.inSize;
    for (let i = 0; i < m; i++) y[i] = 1 / (1 + Math.exp(-x[i]!));
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const y = this.out, dx = this.dx, m = n * this.inSize;
    for (let i = 0; i < m; i++) { const s = y[i]!; dx[i] = dy[i]! * s * (1 - s); }
    return dx;
  }
}

/** The same values under another per-sample shape of the same size: row-major layouts need no copy. */
export class View extends Base {
  readonly kind = 'view';
  constructor(ctx: BuildContext, inShape: readonly number[], outShape: readonly number[]) {
    super(ctx.backend, inShape, outShape);
    if (prod(inShape) !== prod(outShape)) throw new Error(`View: [${inShape.join(', ')}] → [${outShape.join(', ')}] changes the size`);
  }
  override setup(): void {}
  forward(x: Buf): Buf { return x; }
  backward(dy: Buf): Buf { return dy; }
}

/** Transpose of each sample's axes: output element j reads input element from[j]. */
export class Permute extends Base {
  readonly kind = 'permute';
  private readonly from: Int32Array;
  constructor(ctx: BuildContext, inShape: readonly number[], readonly perm: readonly number[]) {
    super(ctx.backend, inShape, perm.map((p) => inShape[p]!));
    const inStride = inShape.map((_, i) => prod(inShape.slice(i + 1)));
    const out = this.outShape, idx = out.map(() => 0);
    this.from = new Int32Array(this.outSize);
    for (let j = 0; j < this.outSize; j++) {
      let src = 0;
      for (let k = 0; k < out.length; k++) src += idx[k]! * inStride[perm[k]!]!;
      this.from[j] = src;
      for (let k = out.length - 1; k >= 0 && ++idx[k]! === out[k]!; k--) idx[k] = 0;
    }
  }
  forward(x: Buf, n: number): Buf {
    const y = this.out, S = this.outSize, f = this.from;
    for (let s = 0; s < n; s++) for (let j = 0; j < S; j++) y[s * S + j] = x[s * S + f[j]!]!;
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const dx = this.dx, S = this.outSize, f = this.from;
    for (let s = 0; s < n; s++) for (let j = 0; j < S; j++) dx[s * S + f[j]!] = dy[s * S + j]!;
    return dx;
  }
}

export type InputOpKind = 'Add' | 'Sub' | 'Mul' | 'Div';

/** An element-wise op with a constant `c` of one sample's size (broadcast values already expanded). */
export class InputOp extends Base {
  readonly kind = 'inputop';
  constructor(ctx: BuildContext, inShape: readonly number[], readonly op: InputOpKind, readonly c: Float64Array) {
    super(ctx.backend, inShape, inShape);
    if (c.length !== this.inSize) throw new Error(`InputOp: ${c.length} constants for samples of ${this.inSize} values`);
  }
  forward(x: Buf, n: number): Buf {
    const y = this.out, c = this.c, S = this.inSize;
    for (let s = 0; s < n; s++) {
      const o = s * S;
      if (this.op === 'Add') for (let j = 0; j < S; j++) y[o + j] = x[o + j]! + c[j]!;
      else if (this.op === 'Sub') for (let j = 0; j < S; j++) y[o + j] = x[o + j]! - c[j]!;
      else if (this.op === 'Mul') for (let j = 0; j < S; j++) y[o + j] = x[o + j]! * c[j]!;
      else for (let j = 0; j < S; j++) y[o + j] = x[o + j]! / c[j]!;
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const dx = this.dx, c = this.c, S = this.inSize;
    for (let s = 0; s < n; s++) {
      const o = s * S;
      if (this.op === 'Mul') for (let j = 0; j < S; j++) dx[o + j] = dy[o + j]! * c[j]!;
      else if (this.op === 'Div') for (let j = 0; j < S; j++) dx[o + j] = dy[o + j]! / c[j]!;
      else for (let j = 0; j < S; j++) dx[o + j] = dy[o + j]!;
    }
    return dx;
  }
}

/** One step of a graph: `layer` applied to tensor inputs[0], or (layer null) inputs[0] + inputs[1]. */
export interface GraphStep {
  readonly layer: Layer | null;
  readonly inputs: readonly number[];
  readonly output: number;
}

/** Tensor 0 is the network's input; `output` is the tensor that holds the logits. */
export class GraphNet implements Layer {
  readonly kind = 'graph';
  readonly inShape: readonly number[];
  readonly outShape: readonly number[];
  needsInputGrad = true;
  private readonly sizes: number[];
  private readonly readers: number[];
  private readonly values: Buf[];
  private readonly grads: (Buf | null)[];
  private sums: Buf[] = [];
  private gradSums: Buf[] = [];
  private cap = 0;
  private dx: Buf = EMPTY;

  constructor(private readonly be: BuildContext['backend'], readonly shapes: readonly (readonly number[])[],
    readonly steps: readonly GraphStep[], readonly output: number) {
    this.inShape = shapes[0]!;
    this.outShape = shapes[output]!;
    this.sizes = shapes.map(prod);
    this.readers = shapes.map(() => 0);
    for (const s of steps) for (const t of s.inputs) this.readers[t]!++;
    this.values = shapes.map(() => EMPTY);
    this.grads = shapes.map(() => null);
  }

  get layers(): Layer[] { return this.steps.flatMap((s) => (s.layer === null ? [] : [s.layer])); }

  setup(capacity: number): void {
    if (capacity === this.cap) return;
    this.cap = capacity;
    for (const l of this.layers) l.setup(capacity);
    // A sum's output and the gradient of a tensor read twice need buffers of their own, apart: a layer that reads a
    // sum keeps it for its backward pass while that sum's gradient is accumulated.
    this.sums = this.sizes.map((size, t) => (this.steps.some((s) => s.layer === null && s.output === t) ? this.be.alloc(capacity * size) : EMPTY));
    this.gradSums = this.sizes.map((size, t) => (this.readers[t]! > 1 && (t > 0 || this.needsInputGrad) ? this.be.alloc(capacity * size) : EMPTY));
    this.dx = this.needsInputGrad ? this.be.alloc(capacity * this.sizes[0]!) : EMPTY;
  }

  forward(x: Buf, n: number, train: boolean): Buf {
    const v = this.values;
    v[0] = x;
    for (const s of this.steps) {
      if (s.layer !== null) { v[s.output] = s.layer.forward(v[s.inputs[0]!]!, n, train); continue; }
      const a = v[s.inputs[0]!]!, b = v[s.inputs[1]!]!, y = this.sums[s.output]!, m = n * this.sizes[s.output]!;
      for (let i = 0; i < m; i++) y[i] = a[i]! + b[i]!;
      v[s.output] = y;
    }
    return v[this.output]!;
  }

  /** Whether each tensor's gradient is needed: it depends on the input (when that needs one) or on a parameter. */
  private needed(): boolean[] {
    const need = this.sizes.map(() => false);
    need[0] = this.needsInputGrad;
    for (const s of this.steps) need[s.output] = s.inputs.some((t) => need[t]) || (s.layer !== null && hasParams(s.layer));
    return need;
  }

  backward(dy: Buf, n: number): Buf {
    const g = this.grads, need = this.needed();
    g.fill(null);
    g[this.output] = dy;
    const add = (t: number, d: Buf): void => {
      if (!need[t]) return;
      if (this.readers[t]! === 1) { g[t] = d; return; }
      const acc = this.gradSums[t]!, m = n * this.sizes[t]!, prev = g[t];
      if (prev === null) for (let i = 0; i < m; i++) acc[i] = d[i]!;
      else for (let i = 0; i < m; i++) acc[i] += d[i]!;
      g[t] = acc;
    };
    for (let k = this.steps.length - 1; k >= 0; k--) {
      const s = this.steps[k]!, d = g[s.output];
      if (d === null || d === undefined) continue;
      if (s.layer === null) { add(s.inputs[0]!, d); add(s.inputs[1]!, d); continue; }
      s.layer.needsInputGrad = need[s.inputs[0]!]!;
      add(s.inputs[0]!, s.layer.backward(d, n));
    }
    return g[0] ?? this.dx;
  }

  stateBuffers(): Buf[] { return this.layers.flatMap((l) => l.stateBuffers()); }
  generators(): Rng[] { return this.layers.flatMap((l) => l.generators?.() ?? []); }
}

function hasParams(l: Layer): boolean {
  return 'weight' in l || 'bias' in l;
}
