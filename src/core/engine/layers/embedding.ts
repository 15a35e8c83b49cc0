/**
 * Token layers (llm.c's encoder_forward/backward for the embeddings):
 *   Embedding            ids [n, T] → y [n, T, D];  dy → dW [V × D] (ids get no gradient)
 *   PositionalEmbedding  x [n, T, D] → y = x + P [n, T, D];  dy → dx = dy, dP [T × D] += Σ_n dy
 *   Patchify             x [n, C, H, W] → y [n, (H/p)(W/p), C·p·p];  dy → dx (the inverse permutation)
 *   TokenMeanPool        x [n, T, D] → y [n, D];  dy [n, D] → dx [n, T, D] = dy/T
 */
import type { Buf } from '../backend.js';
import type { Param } from '../params.js';
import { Base, type BuildContext } from './base.js';

/**
 * Token ids (stored as floats, exact below 2^24) [T] → rows of a [V × D] table, N(0, 1) init as torch.nn.Embedding
 * (`std` scales it: BERT's tied tables start at 0.02).
 */
export class Embedding extends Base {
  readonly kind = 'embedding';
  readonly weight: Param;
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], readonly vocab: number, readonly dim: number, std = 1) {
    super(ctx.backend, inShape, [...inShape, dim]);
    this.weight = ctx.store.declare(`${name}.weight`, [vocab, dim], { kind: 'normal', std });
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
