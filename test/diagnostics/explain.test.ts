// The advisor's wording (explain.ts): the lines `momentum-lab advise` prints, checked word for word on a few verdicts
// whose decision is tested in verdict.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adviseFromMeasurements, decide, explain, formatVerdict, measurements, type AdviceInput } from '../../src/core/advisor/verdict.js';

test('marginal momentum: the SGD lr spelled out as γ/(1−β) for PyTorch, as η for the normalised form', () => {
  // η = 0.005/(1−0.9) = 0.05, ηλ = 0.05·10 = 0.5 ≤ 2/3; B_noise = 2000/1, B/B_noise = 0.128; 10⁶ float32 = 3.81 MB.
  const base = { batch: 256, momentum: 0.9, lambdaMax: 10, traceSigma: 2000, gradNormSq: 1, paramCount: 1_000_000 };
  const v = adviseFromMeasurements({ ...base, lr: 0.005, form: 'pytorch' });
  assert.equal(v.recommendation, 'momentum has marginal value here — use SGD at lr η = γ/(1−β) = 0.005/(1−0.9) = 0.05 and save 3.81 MB (ηλ_max = 0.5 ≤ 0.667, B = 256 ≤ 2·B_noise = 2·2000)');
  assert.deepEqual(v.reasons.slice(0, 2), [
    'ηλ_max = 0.05·10 = 0.5 (SGD stable below 2, SGDM(β=0.9) below 38)',
    'B = 256 vs B_noise = tr Σ/|∇L|² = 2000 (B/B_noise = 0.128)',
  ]);
  const n = adviseFromMeasurements({ ...base, lr: 0.05, form: 'normalized' });
  assert.match(n.recommendation, /^momentum has marginal value here — use SGD at lr η = 0\.05 \(the normalised lr\) and save 3\.81 MB/);
});

test('the look one grid step lower: its reason line and the recommendation to use η/2', () => {
  // η = 0.64: SGD past its edge (ηλ = 6.4); at η/2 = 0.32, ηλ = 1.6 and loss 0.51 vs 0.5 (+2%); 1000 float32 = 3.91 kB.
  const v = adviseFromMeasurements({
    batch: 128, lr: 0.064, momentum: 0.9, form: 'pytorch', paramCount: 1000, lambdaMax: 34.1, traceSigma: 50, gradNormSq: 1,
    sgdProbe: { diverged: false, loss: 1.5, sgdmLoss: 0.5, lambdaMax: 10, lower: { eta: 0.32, diverged: false, loss: 0.51, lambdaMax: 5 } },
  });
  assert.ok(v.reasons.includes('coupled probe one grid step lower: SGD at η/2 = 0.32 reached loss 0.51 vs SGDM 0.5 at η (+2%), ηλ_max = 1.6 along its own trajectory'), v.reasons.join('\n'));
  assert.equal(v.recommendation, 'momentum has marginal value here — SGD at η = 0.64 reached ηλ_max = 6.4 ≥ 2 along its own trajectory (at or past its edge of stability; loss 1.5 vs SGDM 0.5), while SGDM(β=0.9) is stable up to 38, but SGD one grid step lower keeps up: use SGD at lr η/2 = 0.32 (+2% loss vs SGDM over the probe, stable at ηλ_max = 1.6) and save 3.91 kB');
});

test('whole-run and disagreement wording', () => {
  const whole = adviseFromMeasurements({
    batch: 2048, lr: 0.064, momentum: 0.9, form: 'pytorch', paramCount: 1000, lambdaMax: 90, traceSigma: 4096, gradNormSq: 1, budgetSteps: 80, probeSteps: 80,
    sgdProbe: { diverged: false, loss: 0.66, sgdmLoss: 0.5, lambdaMax: 17, lower: { eta: 0.32, diverged: false, loss: 0.62, lambdaMax: 20 } },
  });
  assert.equal(whole.recommendation, 'curvature-limited — keep momentum: over the whole budget of 80 steps, on the same batches, SGD at 0.64 ended +32% behind, at 0.32 ended +24% behind SGDM(β=0.9) at η = 0.64');
  assert.equal(whole.reasons[4], 'the probe covered the run\'s whole budget (80 steps): the coupled runs below are the run itself');
  const split = adviseFromMeasurements({
    batch: 32, lr: 0.008, momentum: 0.9, form: 'pytorch', paramCount: 1000, lambdaMax: 104, traceSigma: 36.5, gradNormSq: 1, budgetSteps: 5156, probeSteps: 100,
    sgdProbe: { diverged: false, loss: 0.575, sgdmLoss: 0.5, lambdaMax: 39.7, lower: { eta: 0.04, diverged: false, loss: 0.58, lambdaMax: 60 } },
  });
  assert.equal(split.reasons[split.reasons.length - 1], 'warning: the coupled SGD runs alone would say curvature-limited (SGD at η = 0.08 reached ηλ_max = 3.18 ≥ 2 along its own trajectory (at or past its edge of stability; loss 0.575 vs SGDM 0.5), while SGDM(β=0.9) is stable up to 38; SGD at η/2 = 0.04 is past its edge too (ηλ_max = 2.4)); a whole-run comparison settles it — it runs when the budget is known and at most the whole-run step limit (advise --whole-run-max-steps)');
});

test('explain words the decision alone: the same decision gives the same lines; formatVerdict lays them out', () => {
  const input: AdviceInput = { batch: 128, lr: 0.01, momentum: 0.9, form: 'pytorch', lambdaMax: 20, paramCount: 10, sgdProbe: { diverged: false, loss: 0.6, sgdmLoss: 0.5 } };
  const v = adviseFromMeasurements(input);
  const x = measurements(input);
  assert.deepEqual(explain(decide(x), x), { recommendation: v.recommendation, reasons: v.reasons });
  assert.equal(formatVerdict(v), [`regime: curvature-limited`, v.recommendation, ...v.reasons.map((r) => `  - ${r}`)].join('\n'));
  // The coupled check reworded the own-run rule: 20% behind, ηλ = 0.1·20 = 2 under SGDM.
  assert.equal(v.recommendation, 'curvature-limited — keep momentum: SGD at η = 0.1 trained but fell 20% behind SGDM on the same batches, and ηλ_max = 2 under SGDM (SGD needs < 2 there; SGDM(β=0.9) < 38)');
});
