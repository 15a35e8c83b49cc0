/**
 * Layers made of layers, and the reshape that joins them:
 *   Sequential  x → layers in order → y;  dy → backward through the layers in reverse → dx
 *   Residual    x [n, …] → y = main(x) + shortcut(x) [n, …] (ReLU(·) when fused);  dy → dx = dmain + dshortcut
 *   Flatten     x [n, d₁, …, d_k] → y [n, d₁·…·d_k] (the same buffer);  dy → dx (the same buffer)
 */
import type { Buf } from '../backend.js';
import type { Rng } from '../../util/rng.js';
import { Base, EMPTY, prod, type BuildContext, type Layer } from './base.js';

/** Reshape to a vector per sample; NCHW is already contiguous, so this copies nothing. */
export class Flatten extends Base {
  readonly kind = 'flatten';
  constructor(ctx: BuildContext, inShape: readonly number[]) { super(ctx.backend, inShape, [prod(inShape)]); }
  override setup(): void {}
  forward(x: Buf): Buf { return x; }
  backward(dy: Buf): Buf { return dy; }
}

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
