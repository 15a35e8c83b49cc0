/**
 * The masked-LM head's layers (BERT's cls.predictions with the decoder tied to the input embedding):
 *   GatherPositions  h [n, T, D] → y [n, M, D] = h[positions];  dy → dx (scatter-add into the gathered rows)
 *   TiedLMHead       h [n, M, D] → logits [n, M, V] = h·Eᵀ + b;  dy → dh = dy·E, dE += dyᵀ·h, db += Σ dy
 * E is the Embedding's table [V × D] (one parameter, two uses: its gradient is the sum of both). With `columns`, the
 * head computes only those vocabulary entries' logits [n, M, C] (the label words of a prompt), the same parameters.
 */
import type { Buf } from '../backend.js';
import type { Param } from '../params.js';
import { Base, type BuildContext } from './base.js';

/** M rows per sample picked from T by `positions` [n × M] (set before each forward; repeats allowed). */
export class GatherPositions extends Base {
  readonly kind = 'gather';
  positions: Int32Array | null = null;
  constructor(ctx: BuildContext, inShape: readonly number[], readonly slots: number) {
    super(ctx.backend, inShape, [slots, inShape[1]!]);
  }
  private pos(): Int32Array {
    if (this.positions === null) throw new Error('GatherPositions: positions not set');
    return this.positions;
  }
  forward(x: Buf, n: number): Buf {
    const [T, D] = this.inShape as [number, number], M = this.slots, p = this.pos(), y = this.out;
    for (let b = 0; b < n; b++) for (let j = 0; j < M; j++) {
      const t = p[b * M + j]!;
      if (!(t >= 0 && t < T)) throw new Error(`GatherPositions: position ${t} outside [0, ${T})`);
      y.set(x.subarray((b * T + t) * D, (b * T + t + 1) * D), (b * M + j) * D);
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const [T, D] = this.inShape as [number, number], M = this.slots, p = this.pos(), dx = this.dx;
    dx.fill(0, 0, n * this.inSize);
    for (let b = 0; b < n; b++) for (let j = 0; j < M; j++) {
      const o = (b * T + p[b * M + j]!) * D, s = (b * M + j) * D;
      for (let d = 0; d < D; d++) dx[o + d] += dy[s + d]!;
    }
    return dx;
  }
}

/** logits = h·Eᵀ + b over the vocabulary (or over `columns` of it), E tied to an Embedding's table; b starts at 0. */
export class TiedLMHead extends Base {
  readonly kind = 'tiedlmhead';
  readonly bias: Param;
  private readonly rows: number;
  constructor(ctx: BuildContext, name: string, inShape: readonly number[], readonly table: Param, readonly columns: Int32Array | null = null) {
    const [V, D] = table.shape as [number, number];
    if (inShape[inShape.length - 1] !== D) throw new Error(`TiedLMHead: input width ${inShape[inShape.length - 1]} is not the table's ${D}`);
    super(ctx.backend, inShape, [...inShape.slice(0, -1), columns === null ? V : columns.length]);
    this.rows = this.inSize / D;
    this.bias = ctx.store.declare(`${name}.bias`, [V], { kind: 'constant', value: 0 }, true);
  }
  forward(x: Buf, n: number): Buf {
    this.x = x;
    const [V, D] = this.table.shape as [number, number], R = n * this.rows, E = this.table.data, b = this.bias.data, y = this.out;
    const cols = this.columns;
    if (cols === null) {
      this.be.gemm(false, true, R, V, D, x, E, y, false);
      for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) y[r * V + v] += b[v]!;
      return y;
    }
    const C = cols.length;
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
      const e = cols[c]! * D;
      let s = b[cols[c]!]!;
      for (let d = 0; d < D; d++) s += x[r * D + d]! * E[e + d]!;
      y[r * C + c] = s;
    }
    return y;
  }
  backward(dy: Buf, n: number): Buf {
    const [V, D] = this.table.shape as [number, number], R = n * this.rows, E = this.table.data, dE = this.table.grad, db = this.bias.grad, x = this.x, dx = this.dx;
    const cols = this.columns;
    if (cols === null) {
      this.be.gemm(true, false, V, D, R, dy, x, dE, true);
      for (let r = 0; r < R; r++) for (let v = 0; v < V; v++) db[v] += dy[r * V + v]!;
      if (this.needsInputGrad) this.be.gemm(false, false, R, D, V, dy, E, dx, false);
      return dx;
    }
    const C = cols.length;
    dx.fill(0, 0, R * D);
    for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
      const g = dy[r * C + c]!, e = cols[c]! * D;
      db[cols[c]!] += g;
      for (let d = 0; d < D; d++) { dx[r * D + d] += g * E[e + d]!; dE[e + d] += g * x[r * D + d]!; }
    }
    return dx;
  }
}
