// Verdict logic of the paper suite on hand-made seed-paired measurements whose verdict is known. δ = 1 pp throughout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { batchSizeClaim, batchSizeStrictClaim, fineTuneClaim, inconclusiveBatches, matchedLrClaim, memoryClaim, regimeOf, svagClaim } from '../../src/experiments/paper/claims.js';

/** SGD accuracies and SGDM = SGD + the given per-seed differences, on seeds 0…n−1. */
const runs = (sgd: number[], diffs: number[]) => ({ seeds: sgd.map((_, i) => i), sgd, sgdm: sgd.map((a, i) => a + diffs[i]!) });
const BASE = [0.90, 0.88, 0.91];
// Differences +0.1, +0.2, 0.0 pp: mean 0.1 pp, sd 0.1 pp, SE 0.0577 pp; TOST t = (1 − 0.1)/0.0577 = 15.6 at df 2 ⇒ p ≈ 0.002: equivalent.
const TIE = runs(BASE, [0.001, 0.002, 0]);
// Differences +3.0, +3.2, +2.8 pp: SE 0.115 pp, t = 26 at df 2 ⇒ p ≈ 0.0015; TOST upper t = (3 − 1)/0.115 = 17 the wrong way: different.
const AHEAD = runs(BASE, [0.030, 0.032, 0.028]);
// Differences −2, +4, +1 pp: mean 1 pp, SE 1.73 pp: neither test can decide at n = 3.
const NOISY = runs(BASE, [-0.02, 0.04, 0.01]);

const curvature = { sgdEta: 0.32, sgdEtaLambda: 5.9, sgdDiverged: false, batchOverBNoise: 3 };
const noise = { sgdEta: 0.16, sgdEtaLambda: 1.5, sgdDiverged: false, batchOverBNoise: 0.9 };

test('regime rule: past the stability edge ⇒ curvature-limited; inside it with B ≤ B_noise ⇒ noise-limited; else unclassified', () => {
  assert.equal(regimeOf(curvature), 'curvature-limited');
  assert.equal(regimeOf({ ...noise, sgdEtaLambda: null, sgdDiverged: true }), 'curvature-limited');
  assert.equal(regimeOf(noise), 'noise-limited');
  assert.equal(regimeOf({ ...noise, batchOverBNoise: 1.3 }), 'unclassified');
  assert.equal(regimeOf({ ...noise, sgdEtaLambda: 2 }), 'noise-limited'); // the edge itself is still stable
});

test('batch-size claim: equivalent where noise-limited, SGDM ahead where curvature-limited → supported; records the comparison fields', () => {
  const c = batchSizeClaim([{ batch: 32, runs: TIE, ...noise }, { batch: 512, runs: AHEAD, ...curvature }]);
  assert.equal(c.verdict, 'supported', c.reason);
  const m = c.measurements[1]!;
  for (const k of ['diff', 'ci95', 'pValue', 'test', 'margin', 'n', 'outcome']) assert.ok(k in m, `measurement lacks ${k}`);
  assert.equal(m.outcome, 'different');
  assert.equal(m.test, 'paired t');
  assert.equal(m.margin, 0.01);
  assert.equal(m.n, 3);
  // mean difference 3.0 pp; 95% CI ±t(.975, 2)·SE = ±4.3027·0.11547 pp = ±0.4968 pp
  assert.ok(Math.abs((m.diff as number) - 0.03) < 1e-12);
  const ci = m.ci95 as [number, number];
  assert.ok(Math.abs(ci[1] - ci[0] - 2 * 4.302653 * 0.0011547005) < 1e-7, JSON.stringify(ci));
});

test('batch-size claim: a tie where curvature-limited contradicts → not supported; an undecided B → inconclusive', () => {
  assert.equal(batchSizeClaim([{ batch: 32, runs: TIE, ...noise }, { batch: 512, runs: TIE, ...curvature }]).verdict, 'not supported');
  assert.equal(batchSizeClaim([{ batch: 32, runs: AHEAD, ...noise }, { batch: 512, runs: AHEAD, ...curvature }]).verdict, 'not supported');
  assert.equal(batchSizeClaim([{ batch: 32, runs: NOISY, ...noise }, { batch: 512, runs: AHEAD, ...curvature }]).verdict, 'inconclusive');
  // Both regimes must occur: a sweep that never leaves the noise-limited regime cannot show where momentum helps.
  assert.match(batchSizeClaim([{ batch: 32, runs: TIE, ...noise }]).reason, /no curvature-limited/);
});

test('stricter reading: every B but the largest equivalent, the largest different', () => {
  assert.equal(batchSizeStrictClaim([{ batch: 32, runs: TIE }, { batch: 128, runs: TIE }, { batch: 2048, runs: AHEAD }]).verdict, 'supported');
  const c = batchSizeStrictClaim([{ batch: 32, runs: TIE }, { batch: 512, runs: AHEAD }, { batch: 2048, runs: AHEAD }]);
  assert.equal(c.verdict, 'not supported');
  assert.equal(c.id, 'batch-size/stricter');
  assert.match(c.reason, /B = 512: different \(SGDM higher\)/);
});

test('Holm: a p of 0.03 alone is different, among four tests it is not', () => {
  // Differences 1.8, 2.4, 1.5 pp: mean 1.9 pp, sd 0.458 pp, SE 0.265 pp ⇒ t = 7.18 at df 2, p = 0.0189; TOST fails
  // (0.9 pp past the margin is under 1 SE·2.92). Alone: different. With three zero-difference ties in its family, Holm
  // multiplies the smallest p by 4 ⇒ 0.075 > 0.05: inconclusive.
  const edge = runs(BASE, [0.018, 0.024, 0.015]);
  assert.deepEqual(inconclusiveBatches([{ batch: 2048, runs: edge }]), []);
  assert.deepEqual(inconclusiveBatches([{ batch: 32, runs: TIE }, { batch: 64, runs: TIE }, { batch: 128, runs: TIE }, { batch: 2048, runs: edge }]), [2048]);
});

test('matched-lr claim: all equivalent and the gap shrinking with η → supported; a growing gap → not supported', () => {
  const small = runs(BASE, [0.0005, 0.001, 0]);
  const c = matchedLrClaim([{ batch: 32, eta: 0.01, runs: small }, { batch: 32, eta: 0.04, runs: TIE }]);
  assert.equal(c.verdict, 'supported', c.reason);
  assert.equal(matchedLrClaim([{ batch: 32, eta: 0.01, runs: TIE }, { batch: 32, eta: 0.04, runs: small }]).verdict, 'not supported');
  assert.equal(matchedLrClaim([{ batch: 32, eta: 0.01, runs: NOISY }, { batch: 32, eta: 0.04, runs: TIE }]).verdict, 'inconclusive');
});

test('SVAG claim: SGDM ahead at ℓ = 1 and equivalent at the largest ℓ → supported; the gap staying → not supported', () => {
  assert.equal(svagClaim([{ l: 1, runs: AHEAD }, { l: 4, runs: TIE }]).verdict, 'supported');
  assert.equal(svagClaim([{ l: 1, runs: AHEAD }, { l: 4, runs: AHEAD }]).verdict, 'not supported');
  assert.equal(svagClaim([{ l: 1, runs: NOISY }, { l: 4, runs: TIE }]).verdict, 'inconclusive');
});

test('fine-tuning claim: equivalent at every K → supported; any K different → not supported', () => {
  assert.equal(fineTuneClaim([{ k: 16, runs: TIE }, { k: 64, runs: TIE }]).verdict, 'supported');
  assert.equal(fineTuneClaim([{ k: 16, runs: TIE }, { k: 64, runs: AHEAD }]).verdict, 'not supported');
  assert.equal(fineTuneClaim([{ k: 16, runs: TIE }, { k: 64, runs: NOISY }]).verdict, 'inconclusive');
});

test('memory claim: SGDM state must be exactly 4 bytes per parameter and SGD none', () => {
  assert.equal(memoryClaim([{ model: 'mlp', parameters: 269322, sgdStateBytes: 0, sgdmStateBytes: 1077288 }]).verdict, 'supported');
  assert.equal(memoryClaim([{ model: 'mlp', parameters: 269322, sgdStateBytes: 0, sgdmStateBytes: 2154576 }]).verdict, 'not supported');
});
