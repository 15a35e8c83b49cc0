/** Summary statistics over seeds, and the "within seed noise" comparison every paper claim uses. */

export { summarize, type Summary } from '../../util/stats.js';
import type { Summary } from '../../util/stats.js';

export function formatSummary(s: Summary, digits = 4): string {
  return s.n > 1 ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : s.mean.toFixed(digits);
}

/**
 * The noise scale for a difference of two means: 2 standard errors of the difference (≈95% two-sided for
 * Gaussian seed noise), floored by `floor` so that two single-seed or zero-variance measurements are not
 * declared different by a rounding-level gap.
 */
export function differenceNoise(a: Summary, b: Summary, floor: number): number {
  const se = Math.sqrt((a.n > 0 ? a.std ** 2 / a.n : 0) + (b.n > 0 ? b.std ** 2 / b.n : 0));
  return Math.max(2 * se, floor);
}

/** How b compares with a: 'same' within noise, else which one is larger. */
export function compare(a: Summary, b: Summary, floor: number): { diff: number; noise: number; outcome: 'same' | 'b-higher' | 'a-higher' } {
  const diff = b.mean - a.mean;
  const noise = differenceNoise(a, b, floor);
  return { diff, noise, outcome: Math.abs(diff) <= noise ? 'same' : diff > 0 ? 'b-higher' : 'a-higher' };
}
