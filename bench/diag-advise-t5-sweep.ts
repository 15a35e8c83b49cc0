/**
 * The advisor against a small batch-size sweep on docs/theory.md §5.5 linear regression (d = 50, n = 4096, spectrum
 * [1e−2, 10], label noise 0.5): the paper suite's advisor check on a problem with a known answer. For each batch size:
 * tune η on a grid for SGD (lr η) and SGDM (PyTorch γ = η(1−β), β = 0.9) by mean final test loss over 3 seeds
 * (EPOCHS epochs each, default 16), then ask the advisor about the tuned SGDM config (probe of min(K, 200) steps) and score it with
 * `sweepAgreement` (2 standard errors of the difference).
 * Run: npx tsx bench/diag-advise-t5-sweep.ts
 */
import { linearRegressionTask } from '../src/core/data/synthetic.js';
import { linearRegressionProblem, runProbe } from '../src/core/advisor/probe.js';
import { seedSummary, sweepAgreement, type SweepPoint } from '../src/core/advisor/validation.js';
import { initOptimizer, optimizerConfig, optimizerStep, type OptimizerConfig } from '../src/core/optim/sgd.js';
import { Rng } from '../src/core/util/rng.js';

const task = linearRegressionTask({ seed: 3 });
const { x, y, n } = task.train;
const d = task.d;
const EPOCHS = Number(process.env.EPOCHS ?? 16), SEEDS = [0, 1, 2], BETA = 0.9;
const ETAS = [0.0125, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6];
const BATCHES = [8, 32, 128, 512, 2048];

function testLoss(w: Float64Array): number {
  const t = task.test;
  let s = 0;
  for (let i = 0; i < t.n; i++) {
    let r = -t.y[i]!;
    for (let j = 0; j < d; j++) r += t.x[i * d + j]! * w[j]!;
    s += r * r;
  }
  return s / (2 * t.n);
}

/** Final test loss after EPOCHS epochs; Infinity when the run diverges (kept in the table, as DeepOBS does). */
function train(cfg: OptimizerConfig, B: number, seed: number): number {
  const w = new Float64Array(d), g = new Float64Array(d);
  const st = initOptimizer(cfg, d);
  const rng = new Rng(1000 + seed);
  const steps = Math.floor((EPOCHS * n) / B);
  let perm = rng.permutation(n), pos = 0;
  for (let k = 0; k < steps; k++) {
    g.fill(0);
    for (let b = 0; b < B; b++) {
      if (pos === n) { perm = rng.permutation(n); pos = 0; }
      const i = perm[pos++]!;
      let r = -y[i]!;
      for (let j = 0; j < d; j++) r += x[i * d + j]! * w[j]!;
      for (let j = 0; j < d; j++) g[j] += (x[i * d + j]! * r) / B;
    }
    optimizerStep(cfg, w, g, st);
    if (!Number.isFinite(w[0]!) || Math.abs(w[0]!) > 1e6) return Infinity;
  }
  return testLoss(w);
}

const points: SweepPoint[] = [];
const t0 = performance.now();
for (const B of BATCHES) {
  const best = (make: (eta: number) => OptimizerConfig): { eta: number; losses: number[] } => {
    let out = { eta: NaN, losses: [] as number[] }, bestMean = Infinity;
    for (const eta of ETAS) {
      const losses = SEEDS.map((s) => train(make(eta), B, s));
      const mean = losses.reduce((a, v) => a + v, 0) / losses.length;
      if (mean < bestMean) { bestMean = mean; out = { eta, losses }; }
    }
    return out;
  };
  const sgd = best((eta) => optimizerConfig({ form: 'sgd', lr: eta }));
  const sgdm = best((eta) => optimizerConfig({ form: 'pytorch', lr: eta * (1 - BETA), momentum: BETA }));
  const K = Math.floor((EPOCHS * n) / B);
  const probe = runProbe(linearRegressionProblem({ seed: 3 }), { steps: Math.min(K, 200), batch: B, optimizer: optimizerConfig({ form: 'pytorch', lr: sgdm.eta * (1 - BETA), momentum: BETA }), checkpoints: 3, seed: 0 });
  points.push({ batch: B, verdict: probe.verdict, sgd: seedSummary(sgd.losses), sgdm: seedSummary(sgdm.losses), higherIsBetter: false });
  if (process.env['VERBOSE'] === '1') {
    for (const c of probe.checkpoints) {
      console.log(`    step ${c.step}: SGDM λ ${c.lambdaMax.toPrecision(3)} loss ${c.measureLoss.toPrecision(4)} B_noise ${c.noise.bNoise.toPrecision(3)}; SGD shadow ${c.shadow === undefined ? '—' : `λ ${c.shadow.lambdaMax.toPrecision(3)} (ηλ ${(sgdm.eta * c.shadow.lambdaMax).toPrecision(3)}) loss ${c.shadow.measureLoss.toPrecision(4)}`}`);
    }
  }
  console.log(`B=${B}: best η SGD ${sgd.eta} (test loss ${seedSummary(sgd.losses).mean.toFixed(5)}), SGDM ${sgdm.eta} (${seedSummary(sgdm.losses).mean.toFixed(5)}); advisor on SGDM: ${probe.verdict.regime} (ηλ_max ${probe.verdict.numbers.etaLambdaMax.toFixed(3)} under SGDM, ${probe.verdict.numbers.sgdEtaLambdaMax === null ? 'no SGD-shadow λ' : `${probe.verdict.numbers.sgdEtaLambdaMax.toFixed(3)} under SGD`}, decided by ${probe.verdict.numbers.sharpnessBasis}, B_noise ${probe.noise?.bNoise.toFixed(0)}; coupled SGD ${probe.sgdShadow?.diverged ? "diverged" : `loss ${probe.sgdShadow?.measureLoss.toFixed(4)} vs SGDM ${probe.sgdShadow?.sgdmMeasureLoss.toFixed(4)}`})`);
}
const a = sweepAgreement(points);
for (const p of a.points) console.log(`  B=${p.batch}: ${p.regime.padEnd(17)} outcome ${p.outcome.padEnd(15)} advantage ${p.advantage.toExponential(2)} ± ${p.standardError.toExponential(2)} → ${p.agrees === null ? 'abstain' : p.agrees ? 'agrees' : 'DISAGREES'}`);
console.log(`agreement ${a.agreed}/${a.decided} decided (${a.abstained} abstained) = ${(100 * a.rate).toFixed(0)}%; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
