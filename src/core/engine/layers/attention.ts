/**
 * Self-attention (llm.c's attention_forward/backward):
 *   forward   qkv [n, T, 3D] → y [n, T, D]; keeps the softmaxed scores att [n, H, T, T]
 *   backward  dy [n, T, D] → dqkv [n, T, 3D]
 */
import type { Buf } from '../backend.js';
import { Base, EMPTY, type BuildContext } from './base.js';

/**
 * Multi-head self-attention core (llm.c's attention_forward/backward): input [T, 3D] holding q, k, v side by side
 * (the output of a Linear(D, 3D)), output [T, D] of concatenated heads. Scores are q·k/√(D/H); with `causal`,
 * position t attends to t' ≤ t only. The q/k/v and output projections are separate Linear layers.
 * With `keyLengths` set (one entry per sample of the next forward/backward), sample b attends to keys
 * t' < keyLengths[b] only: the padding mask of right-padded sequences (PyTorch's key_padding_mask).
 */
export class SelfAttention extends Base {
  readonly kind = 'attention';
  private att: Buf = EMPTY;
  private readonly T: number; private readonly D: number;
  private readonly dpre: Float64Array;
  /** Valid keys per sample (right padding beyond); null: every key. */
  keyLengths: Int32Array | null = null;
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
  private lastKey(b: number, t: number): number {
    const last = this.causal ? t : this.T - 1;
    return this.keyLengths === null ? last : Math.min(last, this.keyLengths[b]! - 1);
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const { T, D, heads } = this;
    const hs = D / heads, scale = 1 / Math.sqrt(hs), C3 = 3 * D, y = this.out, att = this.att;
    for (let b = 0; b < n; b++) for (let t = 0; t < T; t++) for (let h = 0; h < heads; h++) {
      const q = (b * T + t) * C3 + h * hs;
      const a = ((b * heads + h) * T + t) * T;
      const last = this.lastKey(b, t);
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
      const last = this.lastKey(b, t);
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
