import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CURVATURE_LIMITED_ETA_LAMBDA, NOISE_DOMINATED_ETA_LAMBDA, SGD_KEEPS_UP_TOLERANCE, SGD_STABILITY_LIMIT, adviseFromMeasurements, effectiveRates, formatVerdict,
  meanSeedGap, scoredLoss, sgdmStabilityLimit, stationaryLoss, stationarySplit, svagStationaryLoss,
  type RuleResult, type Verdict,
} from '../../src/core/advisor/verdict.js';
import { finiteDifferenceHvp, lanczos } from '../../src/core/advisor/sharpness.js';
import { linearRegressionTask, logSpaced } from '../../src/core/data/synthetic.js';

// The deciding rule's evidence, after checking which rule decided. Expected evidence is compared with `r4`: every
// number to 4 significant digits, so a test states the number it expects as a short literal.
type EvidenceOf = { [R in RuleResult['decidedBy']]: Extract<RuleResult, { decidedBy: R }>['evidence'] };
function evidence<R extends keyof EvidenceOf>(v: Verdict, rule: R): EvidenceOf[R] {
  const decided: string = v.decision.rule.decidedBy;
  assert.equal(decided, rule, formatVerdict(v));
  return v.decision.rule.evidence as EvidenceOf[R];
}
const ownRun = (v: Verdict) => evidence(v, 'own-run');
const shadow = (v: Verdict) => evidence(v, 'sgd-shadow');
const wholeRun = (v: Verdict) => evidence(v, 'whole-run');
const noiseScale = (v: Verdict) => evidence(v, 'noise-scale');
function r4(x: unknown): unknown {
  if (typeof x === 'number') return Number.isFinite(x) ? Number(x.toPrecision(4)) : x;
  if (Array.isArray(x)) return x.map(r4);
  if (x !== null && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, r4(v)]));
  return x;
}

test('stationary loss formula reproduces docs/theory.md §3.1 (λ = 1, s = 1) and the stability limits 2, 6, 38', () => {
  // docs/theory.md §3.1: η=0.5: SGD 0.1667, SGDM(0.9) 0.1267; η=1: 0.5000, 0.2568; η=1.5: 1.5000, 0.3904.
  const cases: [number, number, number][] = [[0.5, 0.1667, 0.1267], [1, 0.5, 0.2568], [1.5, 1.5, 0.3904]];
  for (const [eta, sgd, sgdm] of cases) {
    assert.ok(Math.abs(stationaryLoss(eta, 1, 0, 1) - sgd) < 5e-5, `SGD η=${eta}`);
    assert.ok(Math.abs(stationaryLoss(eta, 1, 0.9, 1) - sgdm) < 5e-5, `SGDM η=${eta}`);
  }
  assert.equal(stationaryLoss(2.5, 1, 0, 1), Infinity);
  // docs/theory.md §4.3 SVAG quadratic check (η = 1, λ = 1, s = 1, SGD): ℓ = 1, 2, 4, 8 → 0.5000, 0.3333, 0.2857, 0.2667.
  [0.5, 0.3333, 0.2857, 0.2667].forEach((want, i) => assert.ok(Math.abs(svagStationaryLoss(1, 1, 0, 1, 2 ** i) - want) < 5e-5, `ℓ = ${2 ** i}`));
  // docs/theory.md §5.7: thresholds 2, 6, 38 for β = 0, 0.5, 0.9.
  assert.ok(Math.abs(sgdmStabilityLimit(0) - 2) < 1e-12 && Math.abs(sgdmStabilityLimit(0.5) - 6) < 1e-12 && Math.abs(sgdmStabilityLimit(0.9) - 38) < 1e-9);
  // η = γ/(1−β) for the PyTorch form; the normalised form's lr is η itself.
  assert.deepEqual(effectiveRates(0.025, 0.9, 'pytorch').eta.toFixed(12), (0.25).toFixed(12));
  assert.equal(effectiveRates(0.25, 0.9, 'normalized').eta, 0.25);
});

/**
 * docs/theory.md §5.5: d = 50, input spectrum log-spaced in [1e−2, 10], label noise σ = 0.5, B = 256, β = 0.9.
 * λ_max is measured (Lanczos on the finite-difference HVP of the full-batch gradient of the exact-spectrum task:
 * 10 by construction). Noise numbers are the closed forms at SGD's stationary state around w*: per-example
 * Σ = σ²H ⇒ tr Σ = σ²·tr H, and E|∇L|² = Σ_i λ_i²·Var(r_i) with Var(r_i) = ηs_i²/(λ_i(2 − ηλ_i)), s_i² = σ²λ_i/B.
 */
function t5Numbers(eta: number, batch: number): { lambdaMax: number; traceSigma: number; gradNormSq: number; lambdas: number[] } {
  const task = linearRegressionTask({ seed: 5, n: 1024 });
  const { x, y, n } = task.train;
  const d = task.d;
  const grad = (w: Float32Array | Float64Array, out: Float32Array | Float64Array): void => {
    out.fill(0);
    for (let i = 0; i < n; i++) {
      let r = -y[i]!;
      for (let j = 0; j < d; j++) r += x[i * d + j]! * w[j]!;
      for (let j = 0; j < d; j++) out[j] += (x[i * d + j]! * r) / n;
    }
  };
  const lambdaMax = lanczos(finiteDifferenceHvp(grad, new Float64Array(d)).hvp, d, { steps: 40, seed: 1 }).top.value;
  const lambdas = logSpaced(1e-2, 10, 50);
  const sigma2 = 0.25;
  const traceSigma = sigma2 * lambdas.reduce((a, l) => a + l, 0);
  const gradNormSq = lambdas.reduce((a, l) => a + (l * l * eta * (sigma2 * l / batch)) / (l * (2 - eta * l)), 0);
  return { lambdaMax, traceSigma, gradNormSq, lambdas };
}

test('T5 linear regression, B = 256: η = 0.25 is curvature-limited, η = 0.05 is noise-dominated', () => {
  const hi = t5Numbers(0.25, 256);
  // FD step 1e-9 at w = 0 against gradients of size ~|Xᵀy|/n ≈ 50: rounding u·50/2e-9 ≈ 5e-6 absolute (measured 1.7e-6).
  assert.ok(Math.abs(hi.lambdaMax - 10) < 1e-4, `measured λ_max ${hi.lambdaMax}, task built with exactly 10`);
  // η = 0.25 as PyTorch γ = η(1−β) = 0.025: ηλ_max = 2.5 ≥ 2 (SGD unstable) but < 38 (SGDM stable).
  const vHi = adviseFromMeasurements({ batch: 256, lr: 0.025, momentum: 0.9, form: 'pytorch', lambdaMax: hi.lambdaMax, traceSigma: hi.traceSigma, gradNormSq: 1, paramCount: 50 });
  assert.equal(vHi.regime, 'curvature-limited', formatVerdict(vHi));
  assert.ok(Math.abs(vHi.numbers.etaLambdaMax - 2.5) < 1e-4);
  assert.equal(vHi.numbers.sgdStable, false);
  assert.equal(vHi.numbers.sgdmStable, true);
  assert.deepEqual(r4(ownRun(vHi)), { case: 'curvature', etaLambda: 2.5, sgdStable: false, sgdmStable: true, usesMomentum: true });
  // η = 0.05 (γ = 0.005): ηλ_max = 0.5 ≤ 2/3 and B_noise ≈ 1.8e3 ≥ B/2 ⇒ noise-dominated; SGD at η = 0.005/(1−0.9) = 0.05.
  const lo = t5Numbers(0.05, 256);
  const params = 1_000_000; // a model with 1M parameters: the buffer is 4·10⁶ B = 3.81 MiB in float32
  const vLo = adviseFromMeasurements({ batch: 256, lr: 0.005, momentum: 0.9, form: 'pytorch', lambdaMax: lo.lambdaMax, traceSigma: lo.traceSigma, gradNormSq: lo.gradNormSq, paramCount: params });
  assert.equal(vLo.regime, 'noise-dominated', formatVerdict(vLo));
  assert.ok(vLo.numbers.bNoise! > 1000 && vLo.numbers.bNoise! < 3000, `B_noise ${vLo.numbers.bNoise}`);
  assert.equal(vLo.memoryBytesSaved, 4_000_000);
  const eLo = ownRun(vLo);
  // B/B_noise = 256/(1e3 … 3e3) < 0.26 ≤ 2.
  assert.ok(eLo.case === 'noise' && Math.abs(eLo.etaLambda - 0.5) < 1e-4 && eLo.batchOverBNoise! < 0.26 && eLo.usesMomentum, JSON.stringify(eLo));
  assert.ok(Math.abs(vLo.numbers.eta - 0.05) < 1e-15 && vLo.numbers.gamma === 0.005, 'SGD at η = 0.005/(1−0.9) = 0.05');
  // Worst-case split (all noise on the sharpest direction): momentum removes 1 − (1−0.25)/(1 − 0.5·0.1/3.8) = 24.0%.
  assert.ok(Math.abs(vLo.numbers.stationary!.momentumRemovesFraction - (1 - 0.75 / (1 - 0.05 / 3.8))) < 1e-6);
  // With the whole spectrum as directions (variance σ²λ_i): the exact split, 13.47% (hand/numpy sum over the 50 λ_i).
  const split = stationarySplit(0.05, 0.9, 256, 10, lo.traceSigma, lo.lambdas.map((l) => ({ lambda: l, variance: 0.25 * l })));
  assert.ok(Math.abs(split.momentumRemovesFraction - 0.13466) < 1e-4, `exact split ${split.momentumRemovesFraction}`);
  assert.ok(Math.abs(split.noiseInduced - (0.05 * lo.traceSigma) / 1024) < 1e-15);
});

test('T5 at B = 8, η = 0.25: a diverged SGDM probe inside SGDM\'s deterministic stability region is noise-driven', () => {
  // docs/theory.md §5.5: at B = 8, η = 0.25 both SGD and SGDM diverge for every ℓ — momentum cannot help.
  const v = adviseFromMeasurements({ batch: 8, lr: 0.025, momentum: 0.9, form: 'pytorch', lambdaMax: 10, paramCount: 50, diverged: true });
  assert.equal(v.regime, 'noise-dominated');
  // ηλ = 2.5 ≥ 2 but < 38: inside SGDM's region, so the divergence is noise-driven.
  assert.deepEqual(r4(ownRun(v)), { case: 'diverged', etaLambda: 2.5, sgdStable: false, sgdmStable: true, usesMomentum: true, momentumWouldStabilise: false });
  const w = adviseFromMeasurements({ batch: 8, lr: 0.5, momentum: 0.9, form: 'pytorch', lambdaMax: 10, paramCount: 50, diverged: true });
  assert.equal(w.regime, 'curvature-limited', 'ηλ = 50 ≥ 38: even SGDM is deterministically unstable');
  assert.deepEqual(r4(ownRun(w)), { case: 'diverged', etaLambda: 50, sgdStable: false, sgdmStable: false, usesMomentum: true, momentumWouldStabilise: false });
});

test('borderline cases and the thresholds themselves', () => {
  const base = { batch: 128, momentum: 0.9, form: 'normalized' as const, lambdaMax: 10, paramCount: 10 };
  // ηλ between 2/3 and 1 ⇒ borderline.
  const mid = adviseFromMeasurements({ ...base, lr: 0.08 });
  assert.equal(mid.regime, 'borderline');
  assert.deepEqual(r4(ownRun(mid)), { case: 'between', etaLambda: 0.8, usesMomentum: true, sharpnessBetween: true, batchOverNoise: false });
  // ηλ = 0.3 but B = 128 ≫ 2·B_noise = 20 ⇒ borderline (a larger lr is within reach).
  const b = adviseFromMeasurements({ ...base, lr: 0.03, traceSigma: 10, gradNormSq: 1 });
  assert.equal(b.regime, 'borderline');
  assert.deepEqual(r4(ownRun(b)), { case: 'between', etaLambda: 0.3, usesMomentum: true, sharpnessBetween: false, batchOverNoise: true });
  assert.equal(b.numbers.batchOverBNoise, 12.8);
  // Same with B = 16 ≤ 20 ⇒ noise-dominated; normalised form states η directly.
  const n = adviseFromMeasurements({ ...base, batch: 16, lr: 0.03, traceSigma: 10, gradNormSq: 1 });
  assert.equal(n.regime, 'noise-dominated');
  assert.deepEqual(r4(ownRun(n)), { case: 'noise', etaLambda: 0.3, batchOverBNoise: 1.6, usesMomentum: true });
  assert.equal(n.numbers.eta, 0.03, 'the normalised lr is η itself');
  // Exactly at the named thresholds.
  assert.equal(adviseFromMeasurements({ ...base, lr: CURVATURE_LIMITED_ETA_LAMBDA / 10 }).regime, 'curvature-limited');
  assert.equal(adviseFromMeasurements({ ...base, lr: (NOISE_DOMINATED_ETA_LAMBDA * 0.999) / 10 }).regime, 'noise-dominated');
  // Plain SGD config: nothing to save; curvature-limited suggests adding momentum.
  const s = adviseFromMeasurements({ ...base, form: 'sgd', momentum: 0, lr: 0.15 });
  assert.equal(s.memoryBytesSaved, 0);
  assert.equal(s.regime, 'curvature-limited');
  // ηλ = 1.5 ≥ 1 with β = 0: SGDM(0.9) would add momentum's stability region (edge 38).
  assert.deepEqual(r4(ownRun(s)), { case: 'curvature', etaLambda: 1.5, sgdStable: true, sgdmStable: true, usesMomentum: false });
  const s2 = adviseFromMeasurements({ ...base, form: 'sgd', momentum: 0, lr: 0.01 });
  assert.equal(s2.regime, 'noise-dominated');
  assert.equal(s2.memoryBytesSaved, 0);
});

test('coupled SGD probe: overrides and downgrades of the sharpness rule', () => {
  const base = { batch: 128, lr: 0.01, momentum: 0.9, form: 'pytorch' as const, paramCount: 10 };
  // ηλ = 0.1·20 = 2 ⇒ curvature-limited by sharpness; SGD kept up within 5% ⇒ borderline (edge-of-stability caveat).
  const keptUp = adviseFromMeasurements({ ...base, lambdaMax: 20, sgdProbe: { diverged: false, loss: 0.50, sgdmLoss: 0.49 } });
  assert.equal(keptUp.regime, 'borderline');
  assert.equal(ownRun(keptUp).case, 'curvature');
  assert.deepEqual(r4(keptUp.decision.coupledCheck), { regime: 'borderline', check: 'coupled-probe', evidence: { case: 'kept-up', gap: 0.02041, loss: 0.5, sgdmLoss: 0.49 } });
  // SGD trained but 20% behind ⇒ stays curvature-limited, and says so instead of claiming SGD is unstable.
  const behind = adviseFromMeasurements({ ...base, lambdaMax: 20, sgdProbe: { diverged: false, loss: 0.6, sgdmLoss: 0.5 } });
  assert.equal(behind.regime, 'curvature-limited');
  assert.deepEqual(r4(behind.decision.coupledCheck), { regime: 'curvature-limited', check: 'coupled-probe', evidence: { case: 'fell-behind', gap: 0.2, loss: 0.6, sgdmLoss: 0.5 } });
  // Same, SGD diverged ⇒ curvature-limited, decided by the shadow (failing outright needs no sharpness).
  const diverged = adviseFromMeasurements({ ...base, lambdaMax: 20, sgdProbe: { diverged: true, loss: Infinity, sgdmLoss: 0.49 } });
  assert.equal(diverged.regime, 'curvature-limited');
  assert.deepEqual(shadow(diverged), { case: 'past-edge', diverged: true, etaLambda: null, loss: Infinity, sgdmLoss: 0.49, lower: null });
  // ηλ = 0.1·2 = 0.2 ⇒ noise-dominated by sharpness; SGD diverged in the coupled probe ⇒ curvature-limited.
  const low = adviseFromMeasurements({ ...base, lambdaMax: 2, sgdProbe: { diverged: true, loss: Infinity, sgdmLoss: 0.49 } });
  assert.equal(low.regime, 'curvature-limited');
  assert.equal(shadow(low).case, 'past-edge');
  // SGD 20% behind (> SGD_KEEPS_UP_TOLERANCE) ⇒ borderline; 1% behind ⇒ still noise-dominated.
  assert.ok(0.2 > SGD_KEEPS_UP_TOLERANCE && 0.01 < SGD_KEEPS_UP_TOLERANCE);
  const lag = adviseFromMeasurements({ ...base, lambdaMax: 2, sgdProbe: { diverged: false, loss: 0.6, sgdmLoss: 0.5 } });
  assert.equal(lag.regime, 'borderline');
  assert.equal(ownRun(lag).case, 'noise');
  assert.deepEqual(r4(lag.decision.coupledCheck?.evidence), { case: 'behind-marginal', gap: 0.2, loss: 0.6, sgdmLoss: 0.5 });
  const close = adviseFromMeasurements({ ...base, lambdaMax: 2, sgdProbe: { diverged: false, loss: 0.505, sgdmLoss: 0.5 } });
  assert.equal(close.regime, 'noise-dominated');
  assert.equal(close.decision.coupledCheck?.evidence.case, 'consistent');
});

test('SGD shadow sharpness decides: SGDM\'s edge-of-stability λ_max alone does not force curvature-limited', () => {
  // The paper quick sweep's B = 128 numbers: γ = 0.064, β = 0.9 ⇒ η = 0.64; λ_max along SGDM 34.1 ⇒ ηλ = 21.8 (≫ 1,
  // the own-run rule's curvature-limited threshold). B_noise not measured, so neither the noise-scale rule nor the
  // B ≤ 2·B_noise condition of the shadow rule applies (a measured B ≤ 2·B_noise decides first: see below).
  const base = { batch: 128, lr: 0.064, momentum: 0.9, form: 'pytorch' as const, paramCount: 10, lambdaMax: 34.1 };
  assert.ok(SGD_STABILITY_LIMIT === 2);
  const run = (lambdaMax: number | undefined, loss = 0.5, sgdmLoss = 0.49, diverged = false) =>
    adviseFromMeasurements({ ...base, sgdProbe: { diverged, loss, sgdmLoss, ...(lambdaMax !== undefined ? { lambdaMax } : {}) } });
  // SGD's own λ_max 0.9 ⇒ ηλ_sgd = 0.576 ≤ 2/3, kept up (+2.04% ≤ 5%) ⇒ noise-dominated (by SGDM's λ_max: borderline).
  const calm = run(0.9);
  assert.equal(calm.regime, 'noise-dominated', formatVerdict(calm));
  assert.equal(calm.numbers.sharpnessBasis, 'sgd-shadow');
  assert.ok(Math.abs(calm.numbers.sgdEtaLambdaMax! - 0.576) < 1e-12 && Math.abs(calm.numbers.etaLambdaMax - 21.824) < 1e-9);
  assert.deepEqual(r4(shadow(calm)), { case: 'kept-up', gap: 0.02041, etaLambda: 0.576, batchOverBNoise: null });
  // Same, but B = 128 > 2·B_noise when B_noise = 50 (B/B_noise = 2.56) ⇒ a larger lr is within reach ⇒ borderline.
  const big = adviseFromMeasurements({ ...base, traceSigma: 50, gradNormSq: 1, sgdProbe: { diverged: false, loss: 0.5, sgdmLoss: 0.49, lambdaMax: 0.9 } });
  assert.equal(big.regime, 'borderline');
  assert.deepEqual(r4(shadow(big)), { case: 'inconclusive', gap: 0.02041, etaLambda: 0.576, sharpnessBetween: false, batchOverNoise: true });
  // ηλ_sgd = 0.64·1.5 = 0.96 ∈ (2/3, 2), kept up ⇒ borderline (quadratic model and shadow disagree).
  const between = run(1.5);
  assert.equal(between.regime, 'borderline');
  assert.deepEqual(r4(shadow(between)), { case: 'inconclusive', gap: 0.02041, etaLambda: 0.96, sharpnessBetween: true, batchOverNoise: false });
  // ηλ_sgd = 0.64·3.2 = 2.048 ≥ 2: SGD at or past its edge of stability ⇒ curvature-limited even though it kept up.
  const edge = run(3.2);
  assert.equal(edge.regime, 'curvature-limited');
  assert.deepEqual(r4(shadow(edge)), { case: 'past-edge', diverged: false, etaLambda: 2.048, loss: 0.5, sgdmLoss: 0.49, lower: null });
  // ηλ_sgd = 0.96 < 2 but 20% behind SGDM on the same batches (> SGD_KEEPS_UP_TOLERANCE) ⇒ curvature-limited.
  assert.ok(0.2 > SGD_KEEPS_UP_TOLERANCE);
  const behind = run(1.5, 0.6, 0.5);
  assert.equal(behind.regime, 'curvature-limited');
  assert.deepEqual(r4(shadow(behind)), { case: 'fell-behind', gap: 0.2, etaLambda: 0.96 });
  // Diverged shadow, no sharpness measured ⇒ curvature-limited, decided by the shadow.
  const div = run(undefined, Infinity, 0.49, true);
  assert.equal(div.regime, 'curvature-limited');
  assert.equal(div.numbers.sharpnessBasis, 'sgd-shadow');
  assert.deepEqual(shadow(div), { case: 'past-edge', diverged: true, etaLambda: null, loss: Infinity, sgdmLoss: 0.49, lower: null });
  // SGD ahead of SGDM (negative gap) counts as keeping up: ηλ_sgd = 0.576 ⇒ noise-dominated.
  const ahead = run(0.9, 0.3, 0.5);
  assert.equal(ahead.regime, 'noise-dominated');
  assert.deepEqual(r4(shadow(ahead)), { case: 'kept-up', gap: -0.4, etaLambda: 0.576, batchOverBNoise: null });
  // Without the shadow's sharpness the SGDM λ_max rule applies (ηλ = 21.8 ≥ 1), and the coupled run that kept up
  // turns curvature-limited into borderline.
  const own = run(undefined);
  assert.equal(own.numbers.sharpnessBasis, 'own-run');
  assert.equal(own.regime, 'borderline');
  assert.equal(ownRun(own).case, 'curvature');
  assert.equal(own.decision.coupledCheck?.evidence.case, 'kept-up');
});

test('SGD past its edge at η: the shadow one grid step lower (η/2) decides between marginal and curvature-limited', () => {
  // γ = 0.064, β = 0.9 ⇒ η = 0.64. SGD at η: λ_sgd = 10 ⇒ ηλ = 6.4 ≥ 2 (past its edge), loss 1.5 vs SGDM 0.5.
  // B_noise = 50 ⇒ B/B_noise = 2.56 > NOISE_BATCH_RATIO, so the noise-scale rule does not decide.
  const base = { batch: 128, lr: 0.064, momentum: 0.9, form: 'pytorch' as const, paramCount: 1000, lambdaMax: 34.1, traceSigma: 50, gradNormSq: 1 };
  const at = (lower?: { diverged: boolean; loss: number; lambdaMax?: number }) =>
    adviseFromMeasurements({ ...base, sgdProbe: { diverged: false, loss: 1.5, sgdmLoss: 0.5, lambdaMax: 10, ...(lower !== undefined ? { lower: { eta: 0.32, ...lower } } : {}) } });
  // No lower shadow: curvature-limited.
  assert.equal(at().regime, 'curvature-limited');
  assert.deepEqual(r4(shadow(at())), { case: 'past-edge', diverged: false, etaLambda: 6.4, loss: 1.5, sgdmLoss: 0.5, lower: null });
  // η/2 = 0.32 with λ = 5 ⇒ η/2·λ = 1.6 < 2, loss 0.51 vs 0.5 (+2% ≤ SGD_KEEPS_UP_TOLERANCE) ⇒ marginal, SGD at η/2.
  const kept = at({ diverged: false, loss: 0.51, lambdaMax: 5 });
  assert.equal(kept.regime, 'noise-dominated', formatVerdict(kept));
  assert.deepEqual(r4(shadow(kept)), {
    case: 'past-edge', diverged: false, etaLambda: 6.4, loss: 1.5, sgdmLoss: 0.5,
    lower: { eta: 0.32, diverged: false, gap: 0.02, etaLambda: 1.6, keptUp: true },
  });
  assert.equal(kept.memoryBytesSaved, 4000, '1000 float32 parameters');
  // Same loss but η/2·λ = 0.32·7 = 2.24 ≥ 2: past its edge too ⇒ curvature-limited.
  const edge = at({ diverged: false, loss: 0.51, lambdaMax: 7 });
  assert.equal(edge.regime, 'curvature-limited');
  assert.deepEqual(r4((shadow(edge) as { lower: unknown }).lower), { eta: 0.32, diverged: false, gap: 0.02, etaLambda: 2.24, keptUp: false });
  // Stable at η/2 but 20% behind ⇒ curvature-limited.
  assert.ok(0.2 > SGD_KEEPS_UP_TOLERANCE);
  const lowerOf = (v: Verdict): unknown => r4((shadow(v) as { lower: unknown }).lower);
  const behind = at({ diverged: false, loss: 0.6, lambdaMax: 5 });
  assert.equal(behind.regime, 'curvature-limited');
  assert.deepEqual(lowerOf(behind), { eta: 0.32, diverged: false, gap: 0.2, etaLambda: 1.6, keptUp: false });
  // Diverged at η/2 too ⇒ curvature-limited; no sharpness at η/2 ⇒ not enough to call it marginal.
  const both = at({ diverged: true, loss: Infinity });
  assert.equal(both.regime, 'curvature-limited');
  assert.deepEqual(lowerOf(both), { eta: 0.32, diverged: true, gap: Infinity, etaLambda: null, keptUp: false });
  const unmeasured = at({ diverged: false, loss: 0.51 });
  assert.equal(unmeasured.regime, 'curvature-limited');
  assert.deepEqual(lowerOf(unmeasured), { eta: 0.32, diverged: false, gap: 0.02, etaLambda: null, keptUp: false });
  // The lower shadow is not consulted when SGD at η itself is stable and kept up (ηλ_sgd = 0.576).
  const { traceSigma: _t, gradNormSq: _g, ...noNoise } = base;
  const calm = adviseFromMeasurements({ ...noNoise, sgdProbe: { diverged: false, loss: 0.5, sgdmLoss: 0.49, lambdaMax: 0.9, lower: { eta: 0.32, diverged: true, loss: Infinity } } });
  assert.equal(calm.regime, 'noise-dominated');
  assert.equal(shadow(calm).case, 'kept-up', 'η/2 is looked at only when SGD at η is past its edge');
});

test('probe shorter than the run: B ≤ 2·B_noise decides before the coupled runs\' early gap', () => {
  // The full sweep's B = 32 numbers: η = 0.08 (γ = 0.008), SGD at η past its edge early (ηλ = 3.18) and 15% behind
  // after 100 of 5,156 steps; B_noise = 36.5 ⇒ B/B_noise = 0.88 ≤ 2.
  const base = { batch: 32, lr: 0.008, momentum: 0.9, form: 'pytorch' as const, paramCount: 1000, lambdaMax: 104, traceSigma: 36.5, gradNormSq: 1, budgetSteps: 5156, probeSteps: 100 };
  const probe = { diverged: false, loss: 0.575, sgdmLoss: 0.5, lambdaMax: 39.7, lower: { eta: 0.04, diverged: false, loss: 0.58, lambdaMax: 60 } };
  const v = adviseFromMeasurements({ ...base, sgdProbe: probe });
  assert.equal(v.regime, 'noise-dominated', formatVerdict(v));
  assert.deepEqual(r4(noiseScale(v)), { bNoise: 36.5, batchOverBNoise: 0.8767, probeSteps: 100, budget: 5156 });
  // The same with B_noise = 12 (B/B_noise = 2.67 > 2): the shadow rule decides ⇒ curvature-limited.
  const big = adviseFromMeasurements({ ...base, traceSigma: 12, sgdProbe: probe });
  assert.equal(big.regime, 'curvature-limited');
  assert.deepEqual(r4(shadow(big)), {
    case: 'past-edge', diverged: false, etaLambda: 3.176, loss: 0.575, sgdmLoss: 0.5,
    lower: { eta: 0.04, diverged: false, gap: 0.16, etaLambda: 2.4, keptUp: false },
  });
  // SGD diverged at η ⇒ η is past SGD's stability limit: the shadow rule decides (η/2 past its edge too, ηλ = 2.4 ⇒
  // curvature-limited; stable and within 5% at η/2 ⇒ marginal, use η/2).
  const half = adviseFromMeasurements({ ...base, sgdProbe: { ...probe, diverged: true, loss: Infinity } });
  assert.equal(half.regime, 'curvature-limited');
  assert.deepEqual(r4(shadow(half)), {
    case: 'past-edge', diverged: true, etaLambda: 3.176, loss: Infinity, sgdmLoss: 0.5,
    lower: { eta: 0.04, diverged: false, gap: 0.16, etaLambda: 2.4, keptUp: false },
  });
  const halfOk = adviseFromMeasurements({ ...base, sgdProbe: { ...probe, diverged: true, loss: Infinity, lower: { eta: 0.04, diverged: false, loss: 0.51, lambdaMax: 30 } } });
  assert.equal(halfOk.regime, 'noise-dominated');
  assert.deepEqual(r4((shadow(halfOk) as { lower: unknown }).lower), { eta: 0.04, diverged: false, gap: 0.02, etaLambda: 1.2, keptUp: true });
  // Budget unknown: treated as longer than the probe.
  const { budgetSteps: _b, ...noBudget } = base;
  const unknown = adviseFromMeasurements({ ...noBudget, sgdProbe: probe });
  assert.deepEqual(r4(noiseScale(unknown)), { bNoise: 36.5, batchOverBNoise: 0.8767, probeSteps: 100, budget: null });
});

test('probe covering the whole budget: the coupled runs are the run and decide', () => {
  // B = 2048 with 80 steps in the budget, probe of 100 steps ⇒ covered. B/B_noise = 0.5 would say noise-dominated,
  // but the whole-run comparison decides.
  const base = { batch: 2048, lr: 0.064, momentum: 0.9, form: 'pytorch' as const, paramCount: 1000, lambdaMax: 90, traceSigma: 4096, gradNormSq: 1, budgetSteps: 80, probeSteps: 80 };
  const behind = adviseFromMeasurements({ ...base, sgdProbe: { diverged: false, loss: 0.66, sgdmLoss: 0.5, lambdaMax: 17, lower: { eta: 0.32, diverged: false, loss: 0.62, lambdaMax: 20 } } });
  assert.equal(behind.regime, 'curvature-limited', formatVerdict(behind));
  // One seed (the probe's own runs): SGD at η (0.66 − 0.5)/0.5 = +32%, at η/2 (0.62 − 0.5)/0.5 = +24%.
  assert.deepEqual(r4(wholeRun(behind)), {
    budget: 80, probeSteps: 80, escalated: false, seeds: 1, kept: null,
    tried: [{ eta: 0.64, diverged: false, gap: 0.32, failed: 0, perSeed: [0.32] }, { eta: 0.32, diverged: false, gap: 0.24, failed: 0, perSeed: [0.24] }],
  });
  // SGD at η/2 within 5% (+3%) ⇒ marginal, use η/2 — even though SGD at η/2 sat past its edge (ηλ = 6.4 ≥ 2).
  const kept = adviseFromMeasurements({ ...base, sgdProbe: { diverged: true, loss: Infinity, sgdmLoss: 0.5, lower: { eta: 0.32, diverged: false, loss: 0.515, lambdaMax: 20 } } });
  assert.equal(kept.regime, 'noise-dominated', formatVerdict(kept));
  const eKept = wholeRun(kept);
  assert.deepEqual(r4(eKept.tried[0]), { eta: 0.64, diverged: true, gap: Infinity, failed: 1, perSeed: [Infinity] });
  assert.deepEqual(r4(eKept.kept), { eta: 0.32, diverged: false, gap: 0.03, failed: 0, perSeed: [0.03] });
  // Both within 5%: the smaller gap wins (SGD at η ahead, −2%).
  const both = adviseFromMeasurements({ ...base, sgdProbe: { diverged: false, loss: 0.49, sgdmLoss: 0.5, lambdaMax: 2, lower: { eta: 0.32, diverged: false, loss: 0.51 } } });
  assert.deepEqual(r4(wholeRun(both).kept), { eta: 0.64, diverged: false, gap: -0.02, failed: 0, perSeed: [-0.02] });
  // probeSteps < budgetSteps ⇒ not covered.
  assert.notEqual(adviseFromMeasurements({ ...base, probeSteps: 79, sgdProbe: { diverged: false, loss: 0.66, sgdmLoss: 0.5, lambdaMax: 17 } }).numbers.decidedBy, 'whole-run');
});

test('whole-run comparison over seeds: scored losses, mean gap, one lucky seed does not decide', () => {
  // The full sweep's B = 2048 miss with one seed: SGD at η/2 = 0.32 ended +0.5%, +69%, +38% behind SGDM on seeds 0, 1,
  // 2. With SGDM at 0.5 on every seed: SGD losses 0.5025, 0.845, 0.69 ⇒ mean 0.679167, gap (0.679167 − 0.5)/0.5 =
  // +35.8% > 5% ⇒ curvature-limited, where seed 0 alone (+0.5%) said marginal.
  const seed = (i: number, sgd: number, lower: number, sgdDiverged = false) => ({
    seed: i, initialLoss: 2.3, sgdm: { diverged: false, loss: 0.5 }, sgd: { diverged: sgdDiverged, loss: sgdDiverged ? Infinity : sgd }, lower: { diverged: false, loss: lower },
  });
  const seeds = [seed(0, 0.9, 0.5025), seed(1, 1.1, 0.845), seed(2, 1.0, 0.69)];
  const g = meanSeedGap(seeds, 'lower')!;
  assert.ok(Math.abs(g.gap - 0.358333) < 1e-5, String(g.gap));
  assert.deepEqual(g.perSeed.map((x) => Number(x.toFixed(3))), [0.005, 0.69, 0.38]);
  assert.equal(g.failed, 0);
  const base = { batch: 2048, lr: 0.064, momentum: 0.9, form: 'pytorch' as const, paramCount: 1000, lambdaMax: 90, traceSigma: 4096, gradNormSq: 1, budgetSteps: 87, probeSteps: 87 };
  const probe = { diverged: false, loss: 0.9, sgdmLoss: 0.5, lambdaMax: 17, lower: { eta: 0.32, diverged: false, loss: 0.5025, lambdaMax: 9 } };
  assert.equal(adviseFromMeasurements({ ...base, sgdProbe: probe }).regime, 'noise-dominated', 'one seed: +0.5% keeps up');
  const v = adviseFromMeasurements({ ...base, sgdProbe: { ...probe, seeds } });
  assert.equal(v.regime, 'curvature-limited', formatVerdict(v));
  assert.equal(v.numbers.wholeRunSeeds, 3);
  // SGD at η: 0.9, 1.1, 1.0 ⇒ mean 1.0, +100%.
  assert.deepEqual(r4(wholeRun(v)), {
    budget: 87, probeSteps: 87, escalated: false, seeds: 3, kept: null,
    tried: [{ eta: 0.64, diverged: false, gap: 1, failed: 0, perSeed: [0.8, 1.2, 1] }, { eta: 0.32, diverged: false, gap: 0.3583, failed: 0, perSeed: [0.005, 0.69, 0.38] }],
  });
  // A seed where SGD diverged scores the initial loss 2.3 (a diverged sweep run scores chance): SGD at η with losses
  // 0.51, 0.51 and a failure ⇒ mean (0.51 + 0.51 + 2.3)/3 = 1.10667, gap +121%; marginal only at η/2 if it keeps up.
  const fail = [seed(0, 0.51, 0.52), seed(1, 0.51, 0.52), seed(2, 0, 0.52, true)];
  const gf = meanSeedGap(fail, 'sgd')!;
  assert.ok(Math.abs(gf.gap - (1.106667 - 0.5) / 0.5) < 1e-5);
  assert.equal(gf.failed, 1);
  const kept = adviseFromMeasurements({ ...base, sgdProbe: { ...probe, loss: 0.51, seeds: fail } });
  assert.equal(kept.regime, 'noise-dominated');
  const eFail = wholeRun(kept);
  assert.deepEqual(r4(eFail.tried[0]), { eta: 0.64, diverged: false, gap: 1.213, failed: 1, perSeed: [0.02, 0.02, 3.6] });
  assert.deepEqual(r4(eFail.kept), { eta: 0.32, diverged: false, gap: 0.04, failed: 0, perSeed: [0.04, 0.04, 0.04] });
  assert.equal(scoredLoss({ diverged: false, loss: 3 }, 2.3), 2.3, 'ended above its start: no better than untrained');
  assert.equal(meanSeedGap([{ ...seed(0, 0.5, 0.5), lower: null }], 'lower'), null);
});

test('probe shorter than the run whose rules disagree: flagged, and per-seed whole-run results then decide', () => {
  // The full sweep's B = 32 numbers again (see above): B/B_noise = 0.88 says noise-dominated, while SGD at η is past
  // its edge (ηλ = 0.08·39.7 = 3.18) and at η/2 too (0.04·60 = 2.4): the shadow rule alone says curvature-limited.
  const base = { batch: 32, lr: 0.008, momentum: 0.9, form: 'pytorch' as const, paramCount: 1000, lambdaMax: 104, traceSigma: 36.5, gradNormSq: 1, budgetSteps: 5156, probeSteps: 100 };
  const probe = { diverged: false, loss: 0.575, sgdmLoss: 0.5, lambdaMax: 39.7, lower: { eta: 0.04, diverged: false, loss: 0.58, lambdaMax: 60 } };
  const v = adviseFromMeasurements({ ...base, sgdProbe: probe });
  assert.equal(v.numbers.decidedBy, 'noise-scale');
  assert.equal(v.numbers.rulesDisagree, true);
  assert.equal(v.numbers.wholeRunEscalated, false);
  // What the shadow rule alone says: SGD at η past its edge (ηλ = 3.176), at η/2 too (2.4) and +16% behind.
  assert.deepEqual(r4(v.decision.disagreement), {
    regime: 'curvature-limited', decidedBy: 'sgd-shadow',
    evidence: { case: 'past-edge', diverged: false, etaLambda: 3.176, loss: 0.575, sgdmLoss: 0.5, lower: { eta: 0.04, diverged: false, gap: 0.16, etaLambda: 2.4, keptUp: false } },
  });
  // SGD at η/2 stable (ηλ = 0.04·30 = 1.2 < 2) and within 5% (+2%): the shadow rule says marginal too ⇒ no disagreement.
  const agree = adviseFromMeasurements({ ...base, sgdProbe: { ...probe, lower: { eta: 0.04, diverged: false, loss: 0.51, lambdaMax: 30 } } });
  assert.equal(agree.numbers.rulesDisagree, false);
  assert.equal(agree.numbers.decidedBy, 'noise-scale');
  // B > 2·B_noise: the shadow rule decides, nothing to disagree with.
  assert.equal(adviseFromMeasurements({ ...base, traceSigma: 12, sgdProbe: probe }).numbers.rulesDisagree, false);
  // Whole-run results over 3 seeds given with the 100-step probe ⇒ escalated: the whole-run rule decides on their
  // mean. SGDM 0.5 on each seed; SGD at η/2: 0.52, 0.49, 0.50 ⇒ mean 0.503333, +0.67% ≤ 5% ⇒ marginal, use η/2.
  const seed = (i: number, sgd: number, lower: number) => ({ seed: i, initialLoss: 2.3, sgdm: { diverged: false, loss: 0.5 }, sgd: { diverged: false, loss: sgd }, lower: { diverged: false, loss: lower } });
  const marginal = adviseFromMeasurements({ ...base, sgdProbe: { ...probe, seeds: [seed(0, 0.6, 0.52), seed(1, 0.55, 0.49), seed(2, 0.56, 0.5)] } });
  assert.equal(marginal.numbers.decidedBy, 'whole-run', formatVerdict(marginal));
  assert.equal(marginal.numbers.wholeRunEscalated, true);
  assert.equal(marginal.numbers.rulesDisagree, true);
  assert.equal(marginal.regime, 'noise-dominated');
  const { budget, probeSteps, escalated, seeds, kept } = wholeRun(marginal);
  assert.deepEqual(r4({ budget, probeSteps, escalated, seeds, kept }), { budget: 5156, probeSteps: 100, escalated: true, seeds: 3, kept: { eta: 0.04, diverged: false, gap: 0.006667, failed: 0, perSeed: [0.04, -0.02, 0] } });
  // SGD at η: (0.6 + 0.55 + 0.56)/3 = 0.57 ⇒ +14%; at η/2 0.54, 0.56, 0.55 ⇒ +10% ⇒ curvature-limited.
  const behind = adviseFromMeasurements({ ...base, sgdProbe: { ...probe, seeds: [seed(0, 0.6, 0.54), seed(1, 0.55, 0.56), seed(2, 0.56, 0.55)] } });
  assert.equal(behind.regime, 'curvature-limited', formatVerdict(behind));
  assert.deepEqual(r4(wholeRun(behind).tried.map((t) => [t.eta, t.gap])), [[0.08, 0.14], [0.04, 0.1]]);
  // One escalated seed is judged like several (the probe's own coupled runs are not one of them).
  const one = adviseFromMeasurements({ ...base, sgdProbe: { ...probe, seeds: [seed(0, 0.6, 0.54)] } });
  const eOne = wholeRun(one);
  assert.ok(eOne.escalated && eOne.seeds === 1);
  assert.deepEqual(r4(eOne.tried[1]), { eta: 0.04, diverged: false, gap: 0.08, failed: 0, perSeed: [0.08] });
});
