/** Losses with their gradients, mean-reduced over the batch as PyTorch's defaults. */
import type { Buf } from './backend.js';
import { exp, log } from '../util/fmath.js';

/**
 * Softmax cross-entropy of logits [n × C] against integer labels: returns mean_i −log softmax(z_i)[y_i] and writes
 * dL/dz = (softmax(z) − onehot(y))/n into `dlogits` (which may alias nothing else). Uses the max-shifted log-sum-exp,
 * with the engine's own exp and log so the loss has the same bits in Node and in a browser.
 */
export function softmaxCrossEntropy(logits: Buf, labels: Int32Array, n: number, C: number, dlogits: Buf | null): number {
  // Labels are class indices (≥ 0), so no row is ignored and the mean is over all n rows.
  return tokenCrossEntropy(logits, labels, n, C, dlogits).loss;
}

/** Number of rows whose arg-max (first maximum) equals the label. */
export function countCorrect(logits: Buf, labels: Int32Array, n: number, C: number): number {
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const o = i * C;
    let best = 0;
    for (let j = 1; j < C; j++) if (logits[o + j]! > logits[o + best]!) best = j;
    if (best === labels[i]) correct++;
  }
  return correct;
}

/** Mean squared error over all n·d elements (torch.nn.MSELoss()): L = Σ(y−t)²/(n·d), dL/dy = 2(y−t)/(n·d). */
export function meanSquaredError(y: Buf, target: ArrayLike<number>, n: number, d: number, dy: Buf | null): number {
  const m = n * d;
  let s = 0;
  for (let i = 0; i < m; i++) {
    const e = y[i]! - target[i]!;
    s += e * e;
    if (dy !== null) dy[i] = (2 * e) / m;
  }
  return s / m;
}

/**
 * Token-level cross-entropy with ignored positions (torch.nn.CrossEntropyLoss(ignore_index=−1)): the mean of
 * −log softmax(z_i)[y_i] over the rows with y_i ≥ 0, and dL/dz = (softmax(z) − onehot(y))/count on those rows, 0 on
 * the ignored ones. Returns the mean and the count; with no row counted the loss is 0 (torch gives NaN).
 */
export function tokenCrossEntropy(logits: Buf, labels: Int32Array, n: number, C: number, dlogits: Buf | null): { loss: number; count: number } {
  let count = 0;
  for (let i = 0; i < n; i++) if (labels[i]! >= 0) count++;
  let total = 0;
  const inv = count === 0 ? 0 : 1 / count;
  for (let i = 0; i < n; i++) {
    const o = i * C, y = labels[i]!;
    if (y < 0) {
      if (dlogits !== null) dlogits.fill(0, o, o + C);
      continue;
    }
    let max = -Infinity;
    for (let j = 0; j < C; j++) if (logits[o + j]! > max) max = logits[o + j]!;
    let sum = 0;
    for (let j = 0; j < C; j++) sum += exp(logits[o + j]! - max);
    total += log(sum) + max - logits[o + y]!;
    if (dlogits !== null) {
      const s = 1 / sum;
      for (let j = 0; j < C; j++) dlogits[o + j] = (exp(logits[o + j]! - max) * s - (j === y ? 1 : 0)) * inv;
    }
  }
  return { loss: total * inv, count };
}
