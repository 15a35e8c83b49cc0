/**
 * The advisor against a small neural batch-size sweep run with the real engine (`trainOnData`): a tanh/ReLU MLP
 * (hidden 64) on a teacher–student classification task (d = 20, 4 classes, 8192 train / 2048 test, 10% label noise).
 * For each batch size: tune η on a grid for SGD and SGDM (γ = η(1−β), β = 0.9) by mean final test loss over 3 seeds,
 * ask the advisor about the tuned SGDM config, score with `sweepAgreement`: the paper suite's advisor check in CPU minutes.
 * Run: npx tsx bench/diag-advise-nn-sweep.ts [relu|tanh]   (EPOCHS=8 by default)
 */
import { teacherStudentClassification } from '../src/core/data/synthetic.js';
import { adviseConfig } from '../src/node/advise.js';
import { parseAdviseConfig } from '../src/core/advisor/config.js';
import { seedSummary, sweepAgreement, type SweepPoint } from '../src/core/advisor/validation.js';
import { float32Backend } from '../src/core/engine/backend.js';
import { trainOnData } from '../src/core/nn/train.js';
import { openKernels } from '../src/node/kernels.js';
import { installNodeHost } from '../src/node/host.js';
import { optimizerConfig } from '../src/core/optim/sgd.js';

installNodeHost();

const activation = (process.argv[2] ?? 'relu') as 'relu' | 'tanh';
const EPOCHS = Number(process.env['EPOCHS'] ?? 8), SEEDS = [0, 1, 2], BETA = 0.9;
const ETAS = [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6];
const BATCHES = [16, 64, 256, 1024];
const data = teacherStudentClassification({ d: 20, hidden: 16, classes: 4, n: 8192, nTest: 2048, labelNoise: 0.1, seed: 7 });
const model = { kind: 'mlp' as const, hidden: [64], activation, dropout: 0 };

const { kernels, owned } = await openKernels({ threads: 1 });
const backend = float32Backend(kernels);
const t0 = performance.now();
const points: SweepPoint[] = [];
for (const B of BATCHES) {
  const best = (form: 'sgd' | 'pytorch'): { eta: number; losses: number[] } => {
    let out = { eta: NaN, losses: [] as number[] }, bestMean = Infinity;
    for (const eta of ETAS) {
      const optimizer = form === 'sgd' ? optimizerConfig({ form: 'sgd', lr: eta }) : optimizerConfig({ form: 'pytorch', lr: eta * (1 - BETA), momentum: BETA });
      const losses = SEEDS.map((seed) => {
        const r = trainOnData({ model, optimizer, batch: B, epochs: EPOCHS, seed, evalEveryEpoch: false }, data, { backend });
        return r.diverged || !Number.isFinite(r.testLoss) ? Infinity : r.testLoss;
      });
      const mean = losses.reduce((a, v) => a + v, 0) / losses.length;
      if (mean < bestMean) { bestMean = mean; out = { eta, losses }; }
    }
    return out;
  };
  const sgd = best('sgd');
  const sgdm = best('pytorch');
  const cfg = parseAdviseConfig({ model, dataset: 'synthetic', batch: B, lr: sgdm.eta * (1 - BETA), momentum: BETA, form: 'pytorch' });
  const steps = Math.min(Math.floor((EPOCHS * data.train.n) / B), 200);
  const probe = await adviseConfig(cfg, { probeSteps: steps, checkpoints: 3, data, threads: 1 });
  const sh = probe.sgdShadow;
  points.push({ batch: B, verdict: probe.verdict, sgd: seedSummary(sgd.losses), sgdm: seedSummary(sgdm.losses), higherIsBetter: false });
  if (process.env['VERBOSE'] === '1') {
    for (const c of probe.checkpoints) {
      console.log(`    step ${c.step}: SGDM λ ${c.lambdaMax.toPrecision(3)} (ηλ ${(sgdm.eta * c.lambdaMax).toPrecision(3)}) loss ${c.measureLoss.toPrecision(4)} B_noise ${c.noise.bNoise.toPrecision(3)}; SGD shadow ${c.shadow === undefined ? '—' : `λ ${c.shadow.lambdaMax.toPrecision(3)} (ηλ ${(sgdm.eta * c.shadow.lambdaMax).toPrecision(3)}) loss ${c.shadow.measureLoss.toPrecision(4)}`}`);
    }
  }
  console.log(`B=${B}: best η SGD ${sgd.eta} (test loss ${seedSummary(sgd.losses).mean.toFixed(4)}), SGDM ${sgdm.eta} (${seedSummary(sgdm.losses).mean.toFixed(4)}); advisor: ${probe.verdict.regime} (ηλ_max ${probe.verdict.numbers.etaLambdaMax.toFixed(3)} under SGDM, ${probe.verdict.numbers.sgdEtaLambdaMax === null ? 'no SGD-shadow λ' : `${probe.verdict.numbers.sgdEtaLambdaMax.toFixed(3)} under SGD`}, decided by ${probe.verdict.numbers.sharpnessBasis}, B_noise ${probe.noise?.bNoise.toFixed(0)}, coupled SGD ${sh?.diverged ? 'diverged' : `${sh?.measureLoss.toFixed(4)} vs ${sh?.sgdmMeasureLoss.toFixed(4)}`}) [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
}
if (owned) kernels.dispose();
const a = sweepAgreement(points);
for (const p of a.points) console.log(`  B=${p.batch}: ${p.regime.padEnd(17)} outcome ${p.outcome.padEnd(15)} advantage ${p.advantage.toExponential(2)} ± ${p.standardError.toExponential(2)} → ${p.agrees === null ? 'abstain' : p.agrees ? 'agrees' : 'DISAGREES'}`);
console.log(`agreement ${a.agreed}/${a.decided} decided (${a.abstained} abstained) = ${(100 * a.rate).toFixed(0)}%; ${activation}, ${EPOCHS} epochs; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
