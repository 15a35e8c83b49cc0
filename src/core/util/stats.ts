/** Mean and sample standard deviation over seeds: the one summary every table, claim and verdict uses. */
export interface Summary {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  std: number;
  n: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, n: 0 };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const ss = values.reduce((a, b) => a + (b - mean) ** 2, 0);
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0, n };
}

/**
 * The middle of timed rounds: the middle value for an odd count, the upper of the two middle values for an even
 * one, so the result is always one of the measured rounds. NaN for none.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  return [...values].sort((a, b) => a - b)[values.length >> 1]!;
}

/** Standard error of the difference of two means (Welch): √(s₁²/n₁ + s₂²/n₂). */
export function differenceStandardError(a: Summary, b: Summary): number {
  return Math.sqrt((a.n > 0 ? a.std ** 2 / a.n : 0) + (b.n > 0 ? b.std ** 2 / b.n : 0));
}

/**
 * The gap two seed means must exceed to count as different: z standard errors of the difference, floored by `floor`
 * so that single-seed or zero-variance measurements are not told apart by a rounding-level gap.
 */
export function differenceThreshold(a: Summary, b: Summary, z: number, floor: number): number {
  return Math.max(z * differenceStandardError(a, b), floor);
}
