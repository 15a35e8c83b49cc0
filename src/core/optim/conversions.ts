/**
 * Exact conversions between momentum parameterisations (docs/theory.md §1).
 *   effective lr                 η = γ/(1−β)
 *   normalised (η_k, β_k) → PyTorch   γ_k = η_k(1−β_k),  b_k = β_k(1−β_{k−1})/(1−β_k),  β_{−1} := β₀
 *   averaged schedule            η̄_k = (1−β_k) Σ_{s≥k} η_s Π_{τ=k+1..s} β_τ
 */
import { check } from '../util/errors.js';

/** η = γ/(1−β): the lr of plain SGD that matches PyTorch-form SGDM (γ, β). */
export function effectiveLearningRate(lr: number, momentum: number): number {
  check(momentum >= 0 && momentum < 1, 'momentum', `must be in [0, 1), got ${momentum}`);
  return lr / (1 - momentum);
}

/** PyTorch (γ, β) → normalised (η, β). */
export function pytorchToNormalized(p: { lr: number; momentum: number }): { lr: number; momentum: number } {
  return { lr: effectiveLearningRate(p.lr, p.momentum), momentum: p.momentum };
}

/** Normalised (η, β) → PyTorch (γ = η(1−β), β). */
export function normalizedToPytorch(p: { lr: number; momentum: number }): { lr: number; momentum: number } {
  check(p.momentum >= 0 && p.momentum < 1, 'momentum', `must be in [0, 1), got ${p.momentum}`);
  return { lr: p.lr * (1 - p.momentum), momentum: p.momentum };
}

/**
 * A general normalised schedule (η_k, β_k) as PyTorch-form per-step (γ_k, b_k), dampening 0, giving identical iterates.
 * Derivation: with m = (1−β_{k−1})·b after step k−1, m_{k+1} = β_k m_k + (1−β_k) g_k becomes
 * b_{k+1} = [β_k(1−β_{k−1})/(1−β_k)]·b_k + g_k and x −= η_k(1−β_k)·b_{k+1}; PyTorch's first step b = g is exact for k = 0.
 */
export function normalizedScheduleToPytorch(etas: ArrayLike<number>, betas: ArrayLike<number>): { lrs: number[]; momenta: number[] } {
  check(etas.length === betas.length, 'betas', `needs one β_k per η_k (${etas.length} learning rates, ${betas.length} betas)`);
  const lrs: number[] = [];
  const momenta: number[] = [];
  for (let k = 0; k < etas.length; k++) {
    const b = betas[k]!;
    check(b >= 0 && b < 1, `betas[${k}]`, `β_k must be in [0, 1), got ${b}`);
    const prev = k === 0 ? b : betas[k - 1]!;
    lrs.push(etas[k]! * (1 - b));
    momenta.push((b * (1 - prev)) / (1 - b));
  }
  return { lrs, momenta };
}

/**
 * The averaged schedule η̄: the SGD learning rates whose step k moves x as far as gradient g_k eventually moves
 * SGDM's iterate. Computed backwards with A_k = η_k + β_{k+1} A_{k+1}, η̄_k = (1−β_k) A_k.
 * `tail: 'continue'` (default) lets the last (η, β) continue forever, so constant (η, β) gives η̄ = η exactly in exact
 * arithmetic; `tail: 'truncate'` counts only displacement within the given steps.
 */
export function averagedSchedule(etas: ArrayLike<number>, betas: ArrayLike<number>, tail: 'continue' | 'truncate' = 'continue'): Float64Array {
  const n = etas.length;
  check(betas.length === n, 'betas', `needs one β_k per η_k (${n} learning rates, ${betas.length} betas)`);
  const out = new Float64Array(n);
  if (n === 0) return out;
  const lastBeta = betas[n - 1]!;
  check(lastBeta >= 0 && lastBeta < 1, `betas[${n - 1}]`, `β_k must be in [0, 1), got ${lastBeta}`);
  // A_{n} for the tail: Σ_{s≥n} η_{n−1} β^{s−n} = η_{n−1}/(1−β) when the last values continue.
  let next = tail === 'continue' ? etas[n - 1]! / (1 - lastBeta) : 0;
  let nextBeta = lastBeta;
  for (let k = n - 1; k >= 0; k--) {
    const a = etas[k]! + nextBeta * next;
    out[k] = (1 - betas[k]!) * a;
    next = a;
    nextBeta = betas[k]!;
  }
  return out;
}
