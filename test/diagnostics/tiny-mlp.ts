/**
 * A tiny float64 MLP written out by hand for the sharpness tests: x ∈ R^I → tanh(W1x + b1) ∈ R^H → W2h + b2 ∈ R^O,
 * loss L = (1/2N) Σ_n ‖y_n − t_n‖². It has an exact gradient (backprop) AND an exact Hessian-vector product
 * (Pearlmutter's R-operator applied to that backprop, derived by hand below), so the finite-difference HVP of
 * src/diagnostics can be checked against an HVP that involves no differencing at all.
 * Parameter layout: [W1 (H×I row-major), b1 (H), W2 (O×H), b2 (O)].
 */
import { Rng } from '../../src/core/util/rng.js';
import type { FloatBuffer } from '../../src/core/advisor/linalg.js';

export interface TinyMlp {
  I: number;
  H: number;
  O: number;
  N: number;
  x: Float64Array;
  t: Float64Array;
  size: number;
  init: Float64Array;
  grad(params: FloatBuffer, out: FloatBuffer): number;
  /** Exact H·v at `params` (R-operator). */
  hvp(params: ArrayLike<number>, v: ArrayLike<number>, out: Float64Array): void;
}

export function tinyMlp(I: number, H: number, O: number, N: number, seed: number): TinyMlp {
  const rng = new Rng(seed);
  const x = Float64Array.from({ length: N * I }, () => rng.normal());
  const t = Float64Array.from({ length: N * O }, () => rng.normal());
  const size = H * I + H + O * H + O;
  const init = Float64Array.from({ length: size }, () => rng.normal() * 0.8);
  const oW1 = 0, ob1 = H * I, oW2 = ob1 + H, ob2 = oW2 + O * H;

  const grad = (p: FloatBuffer, out: FloatBuffer): number => {
    const g = new Float64Array(size);
    let loss = 0;
    const h = new Float64Array(H), dy = new Float64Array(O), dz = new Float64Array(H);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        let z = p[ob1 + j]!;
        for (let i = 0; i < I; i++) z += p[oW1 + j * I + i]! * x[n * I + i]!;
        h[j] = Math.tanh(z);
      }
      for (let o = 0; o < O; o++) {
        let y = p[ob2 + o]!;
        for (let j = 0; j < H; j++) y += p[oW2 + o * H + j]! * h[j]!;
        const r = y - t[n * O + o]!;
        loss += (r * r) / (2 * N);
        dy[o] = r / N;
      }
      for (let j = 0; j < H; j++) {
        let dh = 0;
        for (let o = 0; o < O; o++) dh += p[oW2 + o * H + j]! * dy[o]!;
        dz[j] = dh * (1 - h[j]! * h[j]!);
      }
      for (let o = 0; o < O; o++) {
        g[ob2 + o]! += dy[o]!;
        for (let j = 0; j < H; j++) g[oW2 + o * H + j]! += dy[o]! * h[j]!;
      }
      for (let j = 0; j < H; j++) {
        g[ob1 + j]! += dz[j]!;
        for (let i = 0; i < I; i++) g[oW1 + j * I + i]! += dz[j]! * x[n * I + i]!;
      }
    }
    for (let i = 0; i < size; i++) out[i] = g[i]!;
    return loss;
  };

  // R-operator R{·} = d/dr (·)(θ + r v) at r = 0, applied line by line to the backprop above:
  //   Rz = V1 x + c1,  Rh = (1−h²)⊙Rz,  Ry = V2 h + W2 Rh + c2,  Rdy = Ry/N,
  //   RdW2 = Rdy hᵀ + dy Rhᵀ,  Rdb2 = Rdy,  Rdh = V2ᵀdy + W2ᵀRdy,
  //   Rdz = Rdh⊙(1−h²) − 2 dh⊙h⊙Rh,  RdW1 = Rdz xᵀ,  Rdb1 = Rdz.
  const hvp = (p: ArrayLike<number>, v: ArrayLike<number>, out: Float64Array): void => {
    out.fill(0);
    const h = new Float64Array(H), Rh = new Float64Array(H), dy = new Float64Array(O), Rdy = new Float64Array(O);
    for (let n = 0; n < N; n++) {
      for (let j = 0; j < H; j++) {
        let z = p[ob1 + j]!, Rz = v[ob1 + j]!;
        for (let i = 0; i < I; i++) {
          z += p[oW1 + j * I + i]! * x[n * I + i]!;
          Rz += v[oW1 + j * I + i]! * x[n * I + i]!;
        }
        h[j] = Math.tanh(z);
        Rh[j] = (1 - h[j]! * h[j]!) * Rz;
      }
      for (let o = 0; o < O; o++) {
        let y = p[ob2 + o]!, Ry = v[ob2 + o]!;
        for (let j = 0; j < H; j++) {
          y += p[oW2 + o * H + j]! * h[j]!;
          Ry += v[oW2 + o * H + j]! * h[j]! + p[oW2 + o * H + j]! * Rh[j]!;
        }
        dy[o] = (y - t[n * O + o]!) / N;
        Rdy[o] = Ry / N;
      }
      for (let o = 0; o < O; o++) {
        out[ob2 + o]! += Rdy[o]!;
        for (let j = 0; j < H; j++) out[oW2 + o * H + j]! += Rdy[o]! * h[j]! + dy[o]! * Rh[j]!;
      }
      for (let j = 0; j < H; j++) {
        let dh = 0, Rdh = 0;
        for (let o = 0; o < O; o++) {
          dh += p[oW2 + o * H + j]! * dy[o]!;
          Rdh += v[oW2 + o * H + j]! * dy[o]! + p[oW2 + o * H + j]! * Rdy[o]!;
        }
        const s = 1 - h[j]! * h[j]!;
        const Rdz = Rdh * s - 2 * dh * h[j]! * Rh[j]!;
        out[ob1 + j]! += Rdz;
        for (let i = 0; i < I; i++) out[oW1 + j * I + i]! += Rdz * x[n * I + i]!;
      }
    }
  };
  return { I, H, O, N, x, t, size, init, grad, hvp };
}
