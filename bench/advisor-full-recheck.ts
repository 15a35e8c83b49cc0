/**
 * The advisor's current rule on the `paper --full` batch-size sweep without re-running the 94-minute sweep: the
 * sweep's per-B results come from results/paper-full/claims.json (3 final seeds; the tuned η per optimiser), the
 * advisor's verdicts from `momentum-lab advise` on the same SGDM configs the suite probes, and — where the 3 seeds
 * leave a tie unresolved (claims.ts `unresolvedTie`) — the extra seeds from `momentum-lab train` runs with the
 * sweep's exact configs (its γ = η·(1−0.9) in floating point, which reproduces the sweep's own seed 0). It prints the
 * commands it needs that have no output yet, else the per-B table and the agreement as `paper` computes it.
 *
 * Run: npm run build && node dist/bench/advisor-full-recheck.js DIR   (DIR holds bN.json configs and their outputs)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACCURACY_FLOOR, unresolvedTie, type PairRow } from '../src/experiments/paper/claims.js';
import { paperPlan } from '../src/experiments/paper/plan.js';
import { summarize } from '../src/experiments/paper/stats.js';
import { sweepAgreement, type SweepPoint } from '../src/diagnostics/validation.js';
import type { Regime } from '../src/diagnostics/verdict.js';
import { packageRoot } from '../src/util/package-root.js';

interface Measurement { batch: number; sgdMean: number; sgdStd: number; sgdmMean: number; sgdmStd: number; seeds: number }
interface Probe { batch: number; eta: number }

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('usage: node dist/bench/advisor-full-recheck.js DIR\n');
  process.exit(2);
}
const claims = JSON.parse(readFileSync(join(packageRoot(), 'results', 'paper-full', 'claims.json'), 'utf8')) as { claims: { id: string; measurements: Record<string, unknown>[] }[] };
const sweep = claims.claims.find((c) => c.id === 'batch-size')!.measurements as unknown as Measurement[];
const probes = claims.claims.find((c) => c.id === 'advisor')!.measurements as unknown as Probe[];
// The sweep's 3 final seeds are 0, 1, 2; their per-seed accuracies are not in claims.json, only mean ± std, which is
// all the comparison uses. Extra seeds are pooled with them (exact pooled mean and variance from the two groups).
const plan = paperPlan('full', 'fashion-mnist');
const model = JSON.stringify(plan.batchSweep.model);
const cmds: string[] = [];
const rows: (PairRow & { batch: number; regime: Regime | null; decidedBy: string | null })[] = [];
for (const m of sweep) {
  const eta = probes.find((p) => p.batch === m.batch)!.eta;
  const cfg = join(dir, `b${m.batch}.json`);
  const out = join(dir, `b${m.batch}.out.json`);
  if (!existsSync(cfg)) {
    writeFileSync(cfg, JSON.stringify({ model: plan.batchSweep.model, dataset: 'fashion-mnist', batch: m.batch, lr: eta * (1 - plan.batchSweep.momentum), momentum: plan.batchSweep.momentum, form: 'pytorch', epochs: plan.batchSweep.epochs, seed: 0 }));
  }
  let regime: Regime | null = null, decidedBy: string | null = null;
  if (existsSync(out) && readFileSync(out, 'utf8').trim() !== '') {
    const v = JSON.parse(readFileSync(out, 'utf8')) as {
      regime: Regime;
      numbers: { decidedBy: string; wholeRunEscalated?: boolean; batchOverBNoise: number | null; wholeRunGaps: { eta: number; gap: number; failed: number }[] | null };
    };
    regime = v.regime;
    const n = v.numbers;
    const gaps = n.wholeRunGaps === null ? '' : `: SGD ${n.wholeRunGaps.map((g) => `${g.gap >= 0 ? '+' : ''}${(100 * g.gap).toFixed(1)}% at ${Number(g.eta.toPrecision(3))}${g.failed > 0 ? ` (failed on ${g.failed})` : ''}`).join(', ')}`;
    decidedBy = `${n.decidedBy}${n.wholeRunEscalated === true ? ' after the probe\'s rules disagreed' : ''}${n.decidedBy === 'noise-scale' ? ` (B/B_noise ${n.batchOverBNoise?.toPrecision(3)})` : gaps}`;
  } else {
    cmds.push(`node dist/src/cli/main.js advise ${cfg} --checkpoints 4 --lanczos-steps 12 --threads 1 --json > ${out}`);
  }
  let row: PairRow = { sgd: { mean: m.sgdMean, std: m.sgdStd, n: m.seeds }, sgdm: { mean: m.sgdmMean, std: m.sgdmStd, n: m.seeds } };
  for (const stage of plan.batchSweep.extraSeeds) {
    if (!unresolvedTie(row)) break;
    const extra: Record<'sgd' | 'sgdm', number[]> = { sgd: [], sgdm: [] };
    for (const opt of ['sgd', 'sgdm'] as const) {
      for (const s of stage) {
        const f = join(dir, `train-${opt}-b${m.batch}-${s}.out`);
        const lr = opt === 'sgd' ? selectedEta(m.batch, 'sgd') : eta * (1 - plan.batchSweep.momentum);
        if (!existsSync(f) || readFileSync(f, 'utf8').trim() === '') {
          cmds.push(`node dist/src/cli/main.js train --dataset fashion-mnist --model '${model}' --batch ${m.batch} --epochs ${plan.batchSweep.epochs} --threads 1 --json --seed ${s} --optimizer ${opt} --lr ${lr} > ${f}`);
          continue;
        }
        const last = JSON.parse(readFileSync(f, 'utf8').trim().split('\n').pop()!) as { testAccuracy: number; diverged: boolean };
        extra[opt].push(last.diverged ? 0.1 : last.testAccuracy); // a diverged run scores chance, as in the suite
      }
    }
    if (extra.sgd.length < stage.length || extra.sgdm.length < stage.length) break;
    row = { sgd: pool(row.sgd, extra.sgd), sgdm: pool(row.sgdm, extra.sgdm) };
  }
  rows.push({ batch: m.batch, ...row, regime, decidedBy });
}
if (cmds.length > 0) {
  process.stdout.write(`${cmds.length} command(s) to run first:\n${cmds.join('\n')}\n`);
  process.exit(1);
}
const points: SweepPoint[] = rows.map((r) => ({ batch: r.batch, verdict: r.regime!, sgd: r.sgd, sgdm: r.sgdm, higherIsBetter: true }));
const a = sweepAgreement(points, { floor: ACCURACY_FLOOR });
const pp = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} pp`;
for (const [i, p] of a.points.entries()) {
  const r = rows[i]!;
  process.stdout.write(`B = ${String(p.batch).padEnd(5)} seeds ${r.sgd.n}  SGD ${r.sgd.mean.toFixed(4)} ± ${r.sgd.std.toFixed(4)}  SGDM ${r.sgdm.mean.toFixed(4)} ± ${r.sgdm.std.toFixed(4)}  ${p.outcome} (${pp(p.advantage)}, noise ${(100 * p.threshold).toFixed(1)} pp)  advisor ${p.regime} by ${r.decidedBy}  agrees ${p.agrees === null ? 'abstained' : p.agrees ? 'yes' : 'NO'}\n`);
}
process.stdout.write(`agreement: ${a.agreed}/${a.decided}${a.abstained > 0 ? ` (${a.abstained} abstained)` : ''}\n`);

/**
 * SGD's tuned η per batch size in that run (its log and README table; claims.json keeps only SGDM's, in the advisor
 * rows). B = 128's was not written down; it is needed only if that tie were unresolved (it is not: noise 1.5 pp).
 */
function selectedEta(batch: number, opt: 'sgd'): number {
  const eta: Record<number, number> = { 32: 0.16, 512: 0.64, 2048: 0.64, 4096: 0.32 };
  const hit = eta[batch];
  if (hit === undefined) throw new Error(`SGD's tuned η at B = ${batch} of the full run is not recorded here (${opt})`);
  return hit;
}

/** Mean, sample std and count of a group given as (mean, std, n) pooled with more values. */
function pool(a: { mean: number; std: number; n: number }, more: number[]): { mean: number; std: number; n: number } {
  const b = summarize(more);
  const n = a.n + b.n;
  const mean = (a.n * a.mean + b.n * b.mean) / n;
  const ss = (a.n - 1) * a.std ** 2 + (b.n - 1) * b.std ** 2 + a.n * (a.mean - mean) ** 2 + b.n * (b.mean - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (n - 1)), n };
}
