/**
 * Dropout: x [n, …] → y [n, …] of the same shape, y = x·mask; dy → dx = dy·mask (the identity in eval mode).
 */
import type { Buf } from '../backend.js';
import { Rng } from '../../util/rng.js';
import { Base, EMPTY, type BuildContext } from './base.js';

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
