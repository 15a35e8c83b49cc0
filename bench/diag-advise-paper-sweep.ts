/**
 * The advisor on the paper suite's quick batch-size sweep, with everything the probe measured printed (SGDM's and the
 * coupled SGD shadow's λ_max and measurement loss per checkpoint, B_noise) — the advisor part of
 * `momentum-lab paper --quick`, standalone, so the verdict rule can be studied without re-running the suite.
 * It reads the sweep's results from the suite's claims.json (the 'batch-size' claim: per-B SGD/SGDM seed summaries;
 * the 'advisor' claim: SGDM's tuned η per B) and probes exactly as the suite does (ADVISOR_PROBE quick: 30 steps,
 * 2 checkpoints, 10 Lanczos steps, seed 0, MLP on the embedded MNIST, threads 1).
 * Run: npx tsx bench/diag-advise-paper-sweep.ts /tmp/fresh/paper-out/claims.json [steps] [checkpoints]
 */
import { readFileSync } from 'node:fs';
import { adviseConfig } from '../src/diagnostics/advise.js';
import { sweepAgreement, type SweepPoint } from '../src/diagnostics/validation.js';
import { parseModelSpec } from '../src/nn/models.js';
import { loadDataset } from '../src/data/index.js';

const file = process.argv[2] ?? '/tmp/fresh/paper-out/claims.json';
const steps = Number(process.argv[3] ?? 30), checkpoints = Number(process.argv[4] ?? 2);
const claims = (JSON.parse(readFileSync(file, 'utf8')) as { claims: { id: string; measurements?: Record<string, number>[] }[] }).claims;
const bs = claims.find((c) => c.id === 'batch-size')!.measurements!;
const adv = claims.find((c) => c.id === 'advisor')!.measurements!;
const BETA = 0.9;
const data = await loadDataset('mnist');
const points: SweepPoint[] = [];
const t0 = performance.now();
for (const row of bs) {
  const B = row['batch']!;
  const eta = adv.find((a) => a['batch'] === B)!['eta']!;
  const res = await adviseConfig({
    problem: null, model: parseModelSpec('mlp'), dataset: 'mnist', dataDir: null, batch: B, lr: eta * (1 - BETA),
    momentum: BETA, form: 'pytorch', seed: 0, measureSamples: null, inputs: 'standardize',
  }, { probeSteps: steps, checkpoints, lanczosSteps: 10, threads: 1, data });
  const ck = res.checkpoints.map((c) => {
    return `step ${c.step}: SGDM λ ${c.lambdaMax.toPrecision(3)} (ηλ ${(eta * c.lambdaMax).toPrecision(3)}) loss ${c.measureLoss.toPrecision(3)}; SGD shadow ${c.shadow === undefined ? '—' : `λ ${c.shadow.lambdaMax.toPrecision(3)} (ηλ ${(eta * c.shadow.lambdaMax).toPrecision(3)}) loss ${c.shadow.measureLoss.toPrecision(3)}`}; B_noise ${c.noise.bNoise.toPrecision(3)}`;
  });
  const sh = res.sgdShadow;
  console.log(`B=${B} η=${eta}: ${res.verdict.regime} — ${res.verdict.recommendation}\n  ${ck.join('\n  ')}\n  shadow: ${sh === null ? 'none' : sh.diverged ? `diverged at ${sh.divergedAtStep}` : `final ${sh.measureLoss.toPrecision(4)} vs SGDM ${sh.sgdmMeasureLoss.toPrecision(4)}`}; B_noise ${res.noise?.bNoise.toPrecision(3)} [${((performance.now() - t0) / 1000).toFixed(0)} s]`);
  const summ = (m: number, s: number): { mean: number; std: number; n: number } => ({ mean: m, std: s, n: row['seeds']! });
  points.push({ batch: B, verdict: res.verdict, sgd: summ(row['sgdMean']!, row['sgdStd']!), sgdm: summ(row['sgdmMean']!, row['sgdmStd']!), higherIsBetter: true });
}
const a = sweepAgreement(points, { floor: 0.005 });
for (const p of a.points) console.log(`  B=${p.batch}: ${p.regime.padEnd(17)} outcome ${p.outcome.padEnd(15)} advantage ${p.advantage.toFixed(4)} (threshold ${p.threshold.toFixed(4)}) → ${p.agrees === null ? 'abstain' : p.agrees ? 'agrees' : 'DISAGREES'}`);
console.log(`agreement ${a.agreed}/${a.decided} decided (${a.abstained} abstained) = ${(100 * a.rate).toFixed(0)}%; probe ${steps} steps, ${checkpoints} checkpoints; ${((performance.now() - t0) / 1000).toFixed(1)} s`);
