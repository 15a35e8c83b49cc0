import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAdviseConfig } from '../../src/core/advisor/config.js';
import { adviseConfig } from '../../src/node/advise.js';
import { engineProblem, linearRegressionProblem, runProbe, tailSteps } from '../../src/core/advisor/probe.js';
import { optimizerConfig } from '../../src/core/optim/sgd.js';
import { effectiveRates } from '../../src/core/advisor/verdict.js';
import type { OwnRunResult, WholeRunResult } from '../../src/core/advisor/rules.js';
import { SGD_KEEPS_UP_TOLERANCE } from '../../src/core/advisor/rules-thresholds.js';
import { syntheticDataset } from '../../src/core/data/synthetic.js';
import { UserError } from '../../src/core/util/errors.js';
import { symmetricEigen } from '../../src/core/advisor/linalg.js';
import { repoRoot } from '../helpers.js';

test('advise config: valid configs parse, bad ones are one-line UserErrors naming the field', () => {
  const ok = parseAdviseConfig({ model: 'mlp', dataset: 'fashion-mnist', batch: 128, lr: 0.05, momentum: 0.9, form: 'pytorch' });
  assert.equal(ok.model?.kind, 'mlp');
  assert.equal(ok.seed, 0);
  assert.equal(parseAdviseConfig({ problem: 'linear-regression', batch: 256, lr: 0.005, momentum: 0.9 }).form, 'pytorch');
  const bad: [unknown, RegExp][] = [
    [{ model: 'mlp', dataset: 'fashion-mnist', lr: 0.05, momentum: 0.9 }, /^batch: is required/],
    [{ model: 'mlp', dataset: 'fashion-mnist', batch: 128, lr: -1, momentum: 0.9 }, /^lr: must be a number > 0/],
    [{ model: 'mlp', dataset: 'fashion-mnist', batch: 128, lr: 0.1, momentum: 1 }, /^momentum: must be a number in \[0, 1\)/],
    [{ model: 'mlp', dataset: 'fashion-mnist', batch: 128, lr: 0.1, momentum: 0.9, form: 'sgd' }, /^momentum: form "sgd" has no momentum/],
    [{ model: 'mlp', dataset: 'fashion-mnist', batch: 128, lr: 0.1, momentum: 0.9, form: 'adam' }, /^form: must be one of/],
    [{ model: 'mlp', dataset: 'imagenet', batch: 128, lr: 0.1, momentum: 0.9 }, /^dataset: must be one of/],
    [{ model: 'vgg', dataset: 'mnist', batch: 128, lr: 0.1, momentum: 0.9 }, /^model: unknown model/],
    [{ dataset: 'mnist', batch: 128, lr: 0.1, momentum: 0.9 }, /^model: is required/],
    [{ problem: 'linear-regression', model: 'mlp', batch: 128, lr: 0.1, momentum: 0.9 }, /^model: not used with "problem"/],
    [{ problem: 'linear-regression', batch: 128, lr: 0.1, momentum: 0.9, lr_: 1 }, /^lr_: unknown key/],
    [[1, 2], /must be a JSON object/],
    [{ model: 'mlp', dataset: 'mnist', batch: 128, lr: 0.1, momentum: 0.9, epochs: 0 }, /^epochs: must be a number > 0/],
  ];
  assert.equal(parseAdviseConfig({ model: 'mlp', dataset: 'mnist', batch: 128, lr: 0.1, momentum: 0.9, epochs: 3 }).epochs, 3);
  assert.equal(ok.epochs, null);
  for (const [raw, re] of bad) {
    assert.throws(() => parseAdviseConfig(raw), (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n'), JSON.stringify(raw));
  }
});

test('probe on docs/theory.md §5.5 (B = 256): η = 0.25 → curvature-limited, η = 0.05 → noise-dominated, with measured λ_max = 10', () => {
  const pt = (eta: number) => optimizerConfig({ form: 'pytorch', lr: eta * (1 - 0.9), momentum: 0.9 });
  // ηK = 30 as in T5: 120 steps at η = 0.25, 600 at η = 0.05.
  const hi = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 120, batch: 256, optimizer: pt(0.25), checkpoints: 4 });
  assert.equal(hi.verdict.regime, 'curvature-limited', hi.verdict.recommendation);
  assert.ok(Math.abs(hi.lambdaMax - 10) < 1e-3, `λ_max ${hi.lambdaMax} (spectrum top is exactly 10)`);
  assert.ok(hi.checkpoints.every((c) => c.lambdaReliable));
  // The coupled SGD run at η = 0.25 (ηλ = 2.5 > 2) must not train; SGDM does.
  assert.equal(hi.sgdShadow?.diverged, true, JSON.stringify(hi.sgdShadow));
  assert.ok(hi.sgdShadow!.sgdmMeasureLoss < 1, JSON.stringify(hi.sgdShadow));
  const lo = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 600, batch: 256, optimizer: pt(0.05), checkpoints: 4 });
  assert.equal(lo.verdict.regime, 'noise-dominated', lo.verdict.recommendation);
  // Late-probe B_noise ≫ B: closed form at SGD's stationary state is ≈ 1.8e3 (test/diagnostics/verdict.test.ts).
  assert.ok(lo.noise!.bNoise > 256, `B_noise ${lo.noise!.bNoise}`);
  assert.equal(lo.verdict.memoryBytesSaved, 50 * 8);
  // At η = 0.05 SGD and SGDM on the same batches end within 5% (docs/theory.md §5.5: "at η = 0.05 they are equal").
  const sh = lo.sgdShadow!;
  assert.equal(sh.diverged, false);
  assert.ok(Math.abs(sh.measureLoss / sh.sgdmMeasureLoss - 1) < 0.05, JSON.stringify(sh));
  // The shadow's own sharpness: T5's Hessian (1/n)XᵀX does not depend on w, so λ_max along SGD's trajectory is the
  // spectrum's top, exactly 10, as along SGDM's; ηλ_sgd = 0.05·10 = 0.5 ≤ 2/3 decides 'noise-dominated'.
  assert.ok(sh.lambdaMax !== null && Math.abs(sh.lambdaMax - 10) < 1e-3, `shadow λ_max ${sh.lambdaMax}`);
  assert.equal(lo.verdict.numbers.sharpnessBasis, 'sgd-shadow');
  assert.ok(Math.abs(lo.verdict.numbers.sgdEtaLambdaMax! - 0.5) < 1e-4);
  assert.ok(lo.checkpoints.every((c) => c.shadow !== undefined && Math.abs(c.shadow.lambdaMax - 10) < 1e-3));
  assert.equal(hi.verdict.numbers.sharpnessBasis, 'sgd-shadow', 'a diverged shadow decides without sharpness');
});

test('probe with a budget shorter than its length: it stops at the budget and the coupled runs decide', () => {
  // T5, B = 256, η = 0.25: T5's budget ηK = 30 is 120 steps; 200 probe steps asked ⇒ 120 run. SGD at η diverges
  // (ηλ = 2.5); SGD at η/2 (ηλ = 1.25) trains but ends behind SGDM ⇒ curvature-limited over the whole run.
  const pt = optimizerConfig({ form: 'pytorch', lr: 0.025, momentum: 0.9 });
  const r = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 200, budgetSteps: 120, batch: 256, optimizer: pt, checkpoints: 2 });
  assert.equal(r.steps, 120);
  assert.equal(r.checkpoints[r.checkpoints.length - 1]!.step, 120);
  assert.equal(r.verdict.numbers.decidedBy, 'whole-run');
  assert.equal(r.verdict.numbers.budgetSteps, 120);
  assert.equal(r.verdict.regime, 'curvature-limited', r.verdict.recommendation);
  const whole = r.verdict.decision.rule as WholeRunResult;
  assert.equal(whole.evidence.budget, 120);
  // η = γ/(1−β) = 0.025/0.1 in floating point: 0.25 up to the last bit.
  assert.deepEqual(whole.evidence.tried.map((t) => [Number(t.eta.toPrecision(12)), t.diverged]), [[0.25, true], [0.125, false]]);
  assert.ok(whole.evidence.tried[1]!.gap > SGD_KEEPS_UP_TOLERANCE, `SGD at η/2 ${whole.evidence.tried[1]!.gap} behind`);
  assert.equal(whole.evidence.kept, null);
  // A 40-step budget: SGDM's buffer is still warming up and SGD at η/2 ends ahead of it ⇒ marginal, use η/2.
  const short = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 200, budgetSteps: 40, batch: 256, optimizer: pt, checkpoints: 2 });
  assert.equal(short.verdict.regime, 'noise-dominated', short.verdict.recommendation);
  assert.equal(Number((short.verdict.decision.rule as WholeRunResult).evidence.kept?.eta.toPrecision(12)), 0.125); // "use SGD at lr 0.125"
  // At η = 0.05 over a 600-step budget (T5's ηK = 30), SGD keeps up ⇒ noise-dominated, decided by the whole run.
  const lo = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 600, budgetSteps: 600, batch: 256, optimizer: optimizerConfig({ form: 'pytorch', lr: 0.005, momentum: 0.9 }), checkpoints: 2 });
  assert.equal(lo.verdict.numbers.decidedBy, 'whole-run');
  assert.equal(lo.verdict.regime, 'noise-dominated', lo.verdict.recommendation);
  assert.throws(() => runProbe(linearRegressionProblem({ seed: 3 }), { steps: 10, budgetSteps: 0, batch: 256, optimizer: pt }), /budgetSteps must be an integer ≥ 1/);
});

test('probe on T5 at B = 8, η = 0.25 over 400 steps: the loss grows with momentum too → noise-driven, momentum does not help', () => {
  const r = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 400, batch: 8, optimizer: optimizerConfig({ form: 'pytorch', lr: 0.025, momentum: 0.9 }), checkpoints: 4 });
  assert.ok(r.diverged || r.lossIncreased);
  assert.equal(r.verdict.regime, 'noise-dominated', r.verdict.recommendation);
  // Diverged inside SGDM's deterministic stability region: noise, which momentum does not cure.
  const own = r.verdict.decision.rule as OwnRunResult;
  assert.equal(own.evidence.case, 'diverged');
  assert.ok(own.evidence.case === 'diverged' && own.evidence.sgdmStable && own.evidence.usesMomentum, JSON.stringify(own.evidence));
});

test('probe of plain SGD on T5 at η = 0.25 (ηλ = 2.5 > 2): diverges, λ_max measured at the start, momentum would help', () => {
  const r = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 120, batch: 256, optimizer: optimizerConfig({ form: 'sgd', lr: 0.25 }), checkpoints: 2 });
  assert.ok(r.diverged || r.lossIncreased, 'SGD at ηλ_max = 2.5 must not train (docs/theory.md §5.5)');
  assert.ok(Math.abs(r.lambdaMax - 10) < 1e-3, `λ_max ${r.lambdaMax}`);
  assert.equal(r.verdict.regime, 'curvature-limited');
  const own = r.verdict.decision.rule as OwnRunResult;
  assert.ok(own.evidence.case === 'diverged' && !own.evidence.sgdStable && own.evidence.momentumWouldStabilise, JSON.stringify(own.evidence));
  assert.equal(r.verdict.memoryBytesSaved, 0);
});

test('engine probe (tanh MLP on a synthetic image set): λ_max at the last checkpoint equals Jacobi on the explicit Hessian', () => {
  const data = syntheticDataset({ shape: [1, 6, 6], classes: 3, train: 1024, test: 64, seed: 5 });
  const model = { kind: 'mlp' as const, hidden: [4], activation: 'tanh' as const, dropout: 0 }; // 36·4+4+4·3+3 = 163 parameters
  const problem = engineProblem({ model, data, seed: 1, maxBatch: 64, measureSamples: 128 });
  const r = runProbe(problem, { steps: 20, batch: 64, optimizer: optimizerConfig({ form: 'pytorch', lr: 0.01, momentum: 0.9 }), checkpoints: 2, lanczosSteps: 40 });
  const last = r.checkpoints[r.checkpoints.length - 1]!;
  assert.equal(last.step, 20);
  // The coupled SGD shadow shares the model's buffers; it must leave the SGDM trajectory bit-identical.
  const alone = runProbe(engineProblem({ model, data, seed: 1, maxBatch: 64, measureSamples: 128 }), { steps: 20, batch: 64, optimizer: optimizerConfig({ form: 'pytorch', lr: 0.01, momentum: 0.9 }), checkpoints: 2, lanczosSteps: 40, shadowSgd: false });
  assert.deepEqual(alone.checkpoints.map((c) => c.measureLoss), r.checkpoints.map((c) => c.measureLoss));
  assert.equal(alone.sgdShadow, null);
  assert.ok(r.sgdShadow !== null && Number.isFinite(r.sgdShadow.measureLoss));
  assert.ok(r.checkpoints.every((c) => c.lambdaReliable && c.noise.traceSigma > 0 && Number.isFinite(c.noise.gradNormSq)), JSON.stringify(r.checkpoints));
  // Reference: the explicit 163×163 Hessian at the final parameters, columns by central differences (h = 1e-5) of
  // the same float64 measurement gradient, then Jacobi; the two FD errors are ~1e-9 relative.
  const { grad } = problem.measurementGrad();
  const theta = Float64Array.from(problem.params);
  const n = theta.length;
  assert.equal(n, 163);
  const H = new Float64Array(n * n), gp = new Float64Array(n), gm = new Float64Array(n), p = Float64Array.from(theta);
  for (let j = 0; j < n; j++) {
    p[j] = theta[j]! + 1e-5; grad(p, gp);
    p[j] = theta[j]! - 1e-5; grad(p, gm);
    p[j] = theta[j]!;
    for (let i = 0; i < n; i++) H[i * n + j] = (gp[i]! - gm[i]!) / 2e-5;
  }
  const ref = symmetricEigen(H, n).values[0]!;
  assert.ok(Math.abs(last.lambdaMax - ref) < 1e-5 * ref, `probe λ_max ${last.lambdaMax} vs Jacobi ${ref}`);
  // η = γ/(1−β) = 0.1 against λ_max ≈ 2 (measured ηλ_max = 0.21): below 1, so this run cannot be curvature-limited.
  assert.ok(r.verdict.numbers.etaLambdaMax < 0.5, `ηλ_max ${r.verdict.numbers.etaLambdaMax}`);
  assert.notEqual(r.verdict.regime, 'curvature-limited');
  // The shadow's own sharpness: plain SGD at η = γ/(1−β) from the same seed draws the same init and minibatches,
  // so its trajectory is the shadow's (same float32 arithmetic): the same final loss, and λ_max at the last checkpoint
  // equal to the shadow's there (Lanczos from different start vectors, 40 steps on 163 parameters: converged).
  const eta = effectiveRates(0.01, 0.9, 'pytorch').eta;
  const sgd = runProbe(engineProblem({ model, data, seed: 1, maxBatch: 64, measureSamples: 128 }), { steps: 20, batch: 64, optimizer: optimizerConfig({ form: 'sgd', lr: eta }), checkpoints: 2, lanczosSteps: 40 });
  const sh = last.shadow!;
  assert.equal(sh.measureLoss, sgd.checkpoints[1]!.measureLoss);
  assert.equal(sh.measureLoss, r.sgdShadow!.measureLoss);
  assert.ok(Math.abs(sh.lambdaMax - sgd.checkpoints[1]!.lambdaMax) < 1e-6 * sh.lambdaMax, `shadow λ ${sh.lambdaMax} vs SGD probe λ ${sgd.checkpoints[1]!.lambdaMax}`);
  assert.equal(r.sgdShadow!.lambdaMax, Math.max(r.checkpoints[0]!.shadow!.lambdaMax, sh.lambdaMax));
  assert.equal(r.verdict.numbers.sharpnessBasis, 'sgd-shadow');
});

test('momentum-lab advise CLI: text and --json output, one-line config errors (built CLI)', (t) => {
  const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
  assert.ok(existsSync(cli), 'dist/src/cli/main.js not built: run npm run build');
  const dir = mkdtempSync(join(tmpdir(), 'mlab-advise-'));
  const file = join(dir, 'lr.json');
  writeFileSync(file, JSON.stringify({ problem: 'linear-regression', batch: 256, lr: 0.025, momentum: 0.9, form: 'pytorch' }));
  const r = spawnSync(process.execPath, [cli, 'advise', file, '--probe-steps', '120', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { regime: string; numbers: { etaLambdaMax: number; eta: number }; memoryBytesSaved: number };
  assert.equal(out.regime, 'curvature-limited');
  assert.ok(Math.abs(out.numbers.eta - 0.25) < 1e-12 && Math.abs(out.numbers.etaLambdaMax - 2.5) < 1e-3);
  const txt = spawnSync(process.execPath, [cli, 'advise', file, '--probe-steps', '120'], { encoding: 'utf8' });
  assert.equal(txt.status, 0, txt.stderr);
  assert.match(txt.stdout, /regime: curvature-limited\ncurvature-limited — keep momentum/);
  const badFile = join(dir, 'bad.json');
  writeFileSync(badFile, JSON.stringify({ problem: 'linear-regression', batch: 0, lr: 0.025, momentum: 0.9 }));
  const bad = spawnSync(process.execPath, [cli, 'advise', badFile], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^error: batch: must be an integer ≥ 2/);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  const badSeeds = spawnSync(process.execPath, [cli, 'advise', file, '--seeds', '0'], { encoding: 'utf8' });
  assert.equal(badSeeds.status, 2);
  assert.match(badSeeds.stderr, /^error: --seeds: must be ≥ 1, got 0/);
  assert.equal(badSeeds.stderr.trim().split('\n').length, 1);
  const badMax = spawnSync(process.execPath, [cli, 'advise', file, '--whole-run-max-steps', '-1'], { encoding: 'utf8' });
  assert.equal(badMax.status, 2);
  assert.match(badMax.stderr, /^error: --whole-run-max-steps: must be ≥ 0, got -1/);
  assert.equal(badMax.stderr.trim().split('\n').length, 1);
});

test('whole-run probe repeats the coupled comparison on more seeds (same task, other batches) and judges the mean', async () => {
  // T5 at B = 256, η = 0.25 with a 120-step budget (epochs = 120·256/4096 = 7.5): SGD at η = 0.25 (ηλ = 2.5) diverges
  // on every seed; the mean over 3 seeds decides.
  const c = parseAdviseConfig({ problem: 'linear-regression', batch: 256, lr: 0.025, momentum: 0.9, epochs: 7.5, seed: 3 });
  const r = await adviseConfig(c, { probeSteps: 200, checkpoints: 2 });
  assert.equal(r.steps, 120);
  assert.equal(r.coupledSeeds.length, 3);
  assert.deepEqual(r.coupledSeeds.map((s) => s.seed), [0, 1, 2]);
  // Seed 0 is the probe itself: its losses are the shadows' evaluation losses; T5's evaluation loss is the full-batch one.
  assert.equal(r.coupledSeeds[0]!.lower!.loss, r.sgdShadowLower!.evalLoss);
  assert.equal(r.coupledSeeds[0]!.sgdm.loss, r.evalLoss);
  assert.ok(r.coupledSeeds.every((s) => s.sgd.diverged && !s.sgdm.diverged && s.initialLoss === r.initialEvalLoss), JSON.stringify(r.coupledSeeds));
  // Other batches ⇒ other final losses on the same task.
  assert.notEqual(r.coupledSeeds[1]!.sgdm.loss, r.coupledSeeds[0]!.sgdm.loss);
  assert.equal(r.verdict.numbers.wholeRunSeeds, 3);
  assert.equal(r.verdict.regime, 'curvature-limited', r.verdict.recommendation);
  assert.equal((r.verdict.decision.rule as WholeRunResult).evidence.seeds, 3);
  // --seeds 1: the probe's own seed only.
  const one = await adviseConfig(c, { probeSteps: 200, checkpoints: 2, wholeRunSeeds: 1 });
  assert.equal(one.coupledSeeds.length, 1);
  assert.deepEqual(one.verdict.numbers.wholeRunGaps!.map((g) => g.gap), r.verdict.numbers.wholeRunGaps!.map((g) => g.perSeed[0]));
  // A probe that does not cover the budget runs no replicates.
  const part = await adviseConfig({ ...c, epochs: 100 }, { probeSteps: 50, checkpoints: 2 });
  assert.deepEqual(part.coupledSeeds, []);
  assert.equal(part.verdict.numbers.wholeRunSeeds, null);
});

test('engine evaluation loss: float32 forward over the evaluation set = float64 measurement loss on the same samples', () => {
  // evaluation 'train', 1,024 training examples < EVALUATION_SAMPLES and measureSamples = 1,024: both sets are the
  // whole training split, so the two losses are the same mean cross-entropy, in float32 and float64 (~1e-6 relative).
  const data = syntheticDataset({ shape: [1, 6, 6], classes: 3, train: 1024, test: 64, seed: 5 });
  const model = { kind: 'mlp' as const, hidden: [8], activation: 'tanh' as const, dropout: 0 };
  const p = engineProblem({ model, data, seed: 2, maxBatch: 64, measureSamples: 1024, evaluation: 'train' });
  const { grad } = p.measurementGrad();
  const f64 = Number(grad(Float64Array.from(p.params), new Float64Array(p.params.length)));
  const f32 = p.evaluationLoss(p.params);
  assert.ok(Math.abs(f32 - f64) <= 1e-5 * f64, `${f32} vs ${f64}`);
  // At other parameters: the loss there, and the live parameters and the last training batch are left as they were.
  p.trainGrad(64);
  const before = p.params.slice();
  const g1 = new Float32Array(p.params.length);
  const l1 = p.lastBatchGradAt(p.params, g1);
  const other = p.params.map((v) => v * 0.5);
  const atOther = p.evaluationLoss(other);
  assert.ok(Math.abs(atOther - Number(grad(Float64Array.from(other), new Float64Array(p.params.length)))) <= 1e-5 * atOther);
  assert.deepEqual(p.params, before);
  const g2 = new Float32Array(p.params.length);
  assert.equal(p.lastBatchGradAt(p.params, g2), l1);
  assert.deepEqual(g2, g1);
  assert.match(p.name, /losses compared on 1024 training examples/);
  // The default: the held-out test split (64 examples here). Same init (same seed), raw inputs so both problems see
  // the same pixels: its loss = the float64 loss of a problem whose training split is that test split.
  const held = engineProblem({ model, data, seed: 2, maxBatch: 64, inputs: 'raw' });
  const swapped = engineProblem({ model, data: { ...data, train: data.test, test: data.train }, seed: 2, maxBatch: 64, measureSamples: 64, inputs: 'raw', evaluation: 'train' });
  assert.deepEqual(swapped.params, held.params);
  const onTest = Number(swapped.measurementGrad().grad(Float64Array.from(held.params), new Float64Array(held.params.length)));
  assert.ok(Math.abs(held.evaluationLoss(held.params) - onTest) <= 1e-5 * onTest, `${held.evaluationLoss(held.params)} vs ${onTest}`);
  assert.match(held.name, /losses compared on 64 held-out test examples/);
});

test('tail evaluations: the last step and up to four more, evenly spaced within the last 10% of the run', () => {
  assert.deepEqual(tailSteps(1), [1]);
  assert.deepEqual(tailSteps(12), [11, 12]);
  assert.deepEqual(tailSteps(42), [38, 39, 40, 41, 42]);
  assert.deepEqual(tailSteps(100), [92, 94, 96, 98, 100]);
  assert.deepEqual(tailSteps(996), [900, 924, 948, 972, 996]);
});

test('probe whose rules disagree runs the coupled comparison over the whole budget (T5, B = 32, η = 0.12)', () => {
  // T5 (seed 3) at B = 32, η = 0.12 (γ = 0.012): after 200 of 800 steps B/B_noise ≈ 0.1 says noise-dominated, while
  // SGD at η (ηλ = 1.2, stable) ended > 5% behind SGDM on the same batches: the shadow rule says curvature-limited.
  const opt = optimizerConfig({ form: 'pytorch', lr: 0.012, momentum: 0.9 });
  const replicate = (i: number) => linearRegressionProblem({ seed: 3, samplingSeed: 3 + 1000 * i });
  const r = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 200, budgetSteps: 800, batch: 32, optimizer: opt, checkpoints: 2, replicate });
  const n = r.verdict.numbers;
  assert.equal(r.steps, 200);
  assert.ok(n.batchOverBNoise! <= 2, String(n.batchOverBNoise));
  assert.ok(r.sgdShadow!.evalLoss > 1.05 * r.sgdShadow!.sgdmEvalLoss, JSON.stringify(r.sgdShadow));
  assert.equal(n.rulesDisagree, true);
  assert.equal(n.wholeRunEscalated, true);
  assert.equal(n.decidedBy, 'whole-run');
  assert.deepEqual(r.coupledSeeds.map((s) => s.seed), [0, 1, 2]);
  // Seed 0 is the probe's own start over the whole budget: the same numbers as a probe that covers the budget.
  const full = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 800, budgetSteps: 800, batch: 32, optimizer: opt, checkpoints: 2, replicate, wholeRunSeeds: 1 });
  assert.equal(full.verdict.numbers.wholeRunEscalated, false);
  assert.deepEqual(r.coupledSeeds[0], full.coupledSeeds[0]);
  // The verdict is the whole-run rule's on the mean over the three seeds.
  const g = n.wholeRunGaps!;
  assert.equal(r.verdict.regime, g.some((x) => x.failed === 0 && x.gap <= 0.05) ? 'noise-dominated' : 'curvature-limited');
  // A step limit below the budget: no whole-run comparison, the noise-scale verdict stands with the reason said.
  const capped = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 200, budgetSteps: 800, batch: 32, optimizer: opt, checkpoints: 2, replicate, wholeRunMaxSteps: 799 });
  assert.equal(capped.verdict.numbers.decidedBy, 'noise-scale');
  assert.deepEqual(capped.coupledSeeds, []);
  assert.ok(capped.verdict.reasons.some((x) => /no whole-run comparison: the budget \(800 steps\) exceeds the whole-run step limit 799/.test(x)), capped.verdict.reasons.join('\n'));
  const off = runProbe(linearRegressionProblem({ seed: 3 }), { steps: 200, budgetSteps: 800, batch: 32, optimizer: opt, checkpoints: 2, replicate, wholeRunMaxSteps: 0 });
  assert.equal(off.verdict.numbers.decidedBy, 'noise-scale');
  assert.ok(off.verdict.reasons.includes('no whole-run comparison: turned off (whole-run step limit 0)'), off.verdict.reasons.join('\n'));
});
