/**
 * SVAG (Li, Malladi, Arora 2021; the paper's Def. 5.1): ĝ = r₁g¹ + r₂g² from two independent minibatch gradients,
 * r₁ = (1+√(2ℓ−1))/2, r₂ = (1−√(2ℓ−1))/2, so r₁+r₂ = 1 (unbiased) and r₁²+r₂² = ℓ (noise variance ×ℓ).
 * Run at lr/ℓ for ℓ× the steps with milestones ×ℓ and β unchanged; ℓ = 1 is the plain optimizer.
 */
import { check } from '../util/errors.js';
import { stretchSchedule, type ScheduleSpec } from './schedules.js';
import type { FloatBuffer } from './sgd.js';

export function checkSvagLevel(l: number, field = 'svag.l'): void {
  check(Number.isFinite(l) && l >= 1, field, `SVAG level ℓ must be ≥ 1, got ${l}`);
}

export function svagCoefficients(l: number): { r1: number; r2: number } {
  checkSvagLevel(l);
  const s = Math.sqrt(2 * l - 1);
  return { r1: (1 + s) / 2, r2: (1 - s) / 2 };
}

/** out = r₁·g1 + r₂·g2. For ℓ = 1 this copies g1 bit for bit (r₂ = 0 is never multiplied in). */
export function svagCombine(g1: FloatBuffer, g2: FloatBuffer, l: number, out: FloatBuffer = g1): FloatBuffer {
  const n = g1.length;
  if (g2.length !== n || out.length !== n) throw new Error(`svagCombine: lengths ${n}, ${g2.length}, ${out.length} differ`);
  if (l === 1) {
    if (out !== g1) out.set(g1);
    return out;
  }
  const { r1, r2 } = svagCoefficients(l);
  for (let i = 0; i < n; i++) out[i] = r1 * g1[i]! + r2 * g2[i]!;
  return out;
}

/** The SVAG transform of a training plan: lr/ℓ, steps ×ℓ, schedule stretched ×ℓ in steps, β unchanged. */
export function svagPlan<T extends { lr: number; steps: number; schedule: ScheduleSpec }>(plan: T, l: number): T {
  checkSvagLevel(l);
  check(Number.isInteger(l), 'svag.l', `must be an integer to stretch steps and milestones, got ${l}`);
  return { ...plan, lr: plan.lr / l, steps: plan.steps * l, schedule: stretchSchedule(plan.schedule, l) };
}
