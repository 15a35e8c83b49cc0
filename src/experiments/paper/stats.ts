/** Summary statistics over seeds, and the "within seed noise" comparison every paper claim uses. */

export { summarize, type Summary } from '../../core/util/stats.js';
import { differenceThreshold, type Summary } from '../../core/util/stats.js';

export function formatSummary(s: Summary, digits = 4): string {
  return s.n > 1 ? `${s.mean.toFixed(digits)} ± ${s.std.toFixed(digits)}` : s.mean.toFixed(digits);
}

/** The noise scale of every claim: 2 standard errors of the difference (≈95% two-sided), floored. */
export function differenceNoise(a: Summary, b: Summary, floor: number): number {
  return differenceThreshold(a, b, 2, floor);
}

/** How b compares with a: 'same' within noise, else which one is larger. */
export function compare(a: Summary, b: Summary, floor: number): { diff: number; noise: number; outcome: 'same' | 'b-higher' | 'a-higher' } {
  const diff = b.mean - a.mean;
  const noise = differenceNoise(a, b, floor);
  return { diff, noise, outcome: Math.abs(diff) <= noise ? 'same' : diff > 0 ? 'b-higher' : 'a-higher' };
}
