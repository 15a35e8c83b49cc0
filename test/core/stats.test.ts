// Student's t distribution and the tests on it, against published worked examples and mpmath at 40 digits
// (test/fixtures/stats/student_t.json, from scripts/gen_fixtures_stats.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { holmAdjust, pairedTTest, studentTCdf, studentTQuantile, tost, welchTTest } from '../../src/core/stats/index.js';
import { readFixture } from '../helpers.js';

const near = (got: number, want: number, tol: number, what: string): void => {
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want} (±${tol})`);
};

// Student (1908) / Cushny & Peebles: extra hours of sleep under two drugs, the same 10 patients (R's `sleep` data).
const DRUG1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0];
const DRUG2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4];

test('t quantiles match the printed table (e.g. Fisher & Yates; any statistics text) to 4 decimals', () => {
  // two-sided 95%: df 1 → 12.706, 2 → 4.303, 9 → 2.262, 30 → 2.042; one-sided 95%: df 9 → 1.833, df 1000 → 1.646
  near(studentTQuantile(0.975, 1), 12.7062, 5e-5, 't(.975, 1)');
  near(studentTQuantile(0.975, 2), 4.3027, 5e-5, 't(.975, 2)');
  near(studentTQuantile(0.975, 9), 2.2622, 5e-5, 't(.975, 9)');
  near(studentTQuantile(0.975, 30), 2.0423, 5e-5, 't(.975, 30)');
  near(studentTQuantile(0.95, 9), 1.8331, 5e-5, 't(.95, 9)');
  near(studentTQuantile(0.95, 1000), 1.6464, 5e-5, 't(.95, 1000)');
  // df = 1 is the Cauchy distribution: P(T ≤ t) = 1/2 + atan(t)/π exactly.
  for (const t of [-30, -1, 0.5, 2, 100]) near(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-13, `Cauchy CDF at ${t}`);
  // df = 2: P(T ≤ t) = 1/2 + t / (2√(2 + t²)) exactly.
  for (const t of [-5, -0.3, 1, 7]) near(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-13, `df 2 CDF at ${t}`);
});

test('t CDF and quantile agree with mpmath to 1e-10 over df 1…1000', () => {
  const f = readFixture<{ cdf: { t: number; df: number; p: number }[]; quantile: { p: number; df: number; t: number }[] }>('stats', 'student_t.json');
  assert.equal(f.cdf.length, 121);
  for (const c of f.cdf) near(studentTCdf(c.t, c.df), c.p, 1e-12, `P(T ≤ ${c.t}; df ${c.df})`);
  for (const c of f.quantile) near(studentTQuantile(c.p, c.df), c.t, 1e-10 * Math.max(1, Math.abs(c.t)), `t(${c.p}; df ${c.df})`);
});

test('paired t-test reproduces R\'s t.test(extra ~ group, data = sleep, paired = TRUE)', () => {
  // R: t = -4.0621, df = 9, p-value = 0.002833, 95% CI -2.4598858 -0.7001142, mean difference -1.58.
  const r = pairedTTest(DRUG2, DRUG1);
  assert.equal(r.test, 'paired t');
  assert.equal(r.n, 10);
  assert.equal(r.df, 9);
  near(r.diff, -1.58, 1e-12, 'mean difference');
  near(r.t, -4.0621, 5e-5, 't');
  near(r.pValue, 0.002833, 5e-7, 'p');
  near(r.ci[0], -2.4598858, 5e-8, 'CI low');
  near(r.ci[1], -0.7001142, 5e-8, 'CI high');
});

test('Welch t-test reproduces R\'s t.test(extra ~ group, data = sleep) (unpaired, unequal variances)', () => {
  // R: t = -1.8608, df = 17.776, p-value = 0.07939, 95% CI -3.3654832 0.2054832.
  const r = welchTTest(DRUG2, DRUG1);
  assert.equal(r.test, 'Welch t');
  near(r.t, -1.8608, 5e-5, 't');
  near(r.df, 17.776, 5e-4, 'df');
  near(r.pValue, 0.07939, 5e-6, 'p');
  near(r.ci[0], -3.3654832, 5e-8, 'CI low');
  near(r.ci[1], 0.2054832, 5e-8, 'CI high');
});

test('TOST on the paired sleep data: not equivalent at ±0.5 h, equivalent at ±2.5 h', () => {
  // From R's paired result above: diff −1.58, SE = 1.58 / 4.0621277 = 0.3889587, df 9. Lower test t = (−1.58 + δ)/SE,
  // upper t = (−1.58 − δ)/SE (Schuirmann 1987; Lakens 2017, eq. 1–2). mpmath: δ = 0.5 → t = −2.7766, p_lower =
  // 0.989241, p_upper = 0.000232; δ = 2.5 → t = 2.3653, p_lower = 0.021117, p_upper = 1.2e-6. 90% CI −2.293005 … −0.866995.
  const r = pairedTTest(DRUG2, DRUG1);
  const narrow = tost(r, 0.5);
  near(narrow.pLower, 0.989241, 5e-7, 'p lower at 0.5');
  near(narrow.pUpper, 0.000232, 5e-7, 'p upper at 0.5');
  near(narrow.pValue, 0.989241, 5e-7, 'TOST p at 0.5');
  const wide = tost(r, 2.5);
  near(wide.pLower, 0.021117, 5e-7, 'p lower at 2.5');
  near(wide.pValue, 0.021117, 5e-7, 'TOST p at 2.5');
  near(wide.ci90[0], -2.293005, 5e-7, '90% CI low');
  near(wide.ci90[1], -0.866995, 5e-7, '90% CI high');
  // The TOST decision at α = 0.05 is the 90% CI lying inside (−δ, δ).
  assert.equal(wide.pValue < 0.05, wide.ci90[0] > -2.5 && wide.ci90[1] < 2.5);
  assert.equal(narrow.pValue < 0.05, narrow.ci90[0] > -0.5 && narrow.ci90[1] < 0.5);
});

test('Holm step-down: R\'s p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03 0.06 0.06 0.02', () => {
  // sorted 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → running max 0.06.
  const adj = holmAdjust([0.01, 0.04, 0.03, 0.005]);
  [0.03, 0.06, 0.06, 0.02].forEach((want, i) => near(adj[i]!, want, 1e-15, `adjusted p ${i}`));
  assert.deepEqual(holmAdjust([0.9, 0.5]), [1, 1]);
  assert.deepEqual(holmAdjust([]), []);
});

test('zero-variance pairs: a constant nonzero difference is significant, a zero one is not', () => {
  const same = pairedTTest([0.9, 0.8, 0.7], [0.9, 0.8, 0.7]);
  assert.equal(same.pValue, 1);
  assert.deepEqual(same.ci, [0, 0]);
  assert.equal(tost(same, 0.01).pValue, 0);
  const shifted = pairedTTest([1, 2, 3], [1.5, 2.5, 3.5]); // differences exactly 0.5 each
  assert.equal(shifted.pValue, 0);
  assert.throws(() => pairedTTest([1], [2]), /at least 2 pairs/);
});
