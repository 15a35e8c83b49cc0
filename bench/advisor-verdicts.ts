/**
 * Re-judges every advisor probe recorded in results/*\/claims.json with the current `adviseFromMeasurements` and
 * checks that the regime and the deciding rule come out as recorded (also whether the probe's rules disagreed and
 * whether the whole-run comparison was escalated to).
 *
 * What a probe row records and how the `AdviceInput` is rebuilt from it (src/experiments/paper/suite.ts writes it):
 *   - the config: B, the tuned η (the suite's SGDM config is PyTorch form, γ = η(1−β), as the suite computes it);
 *     β is not in the row: it is the sweep's momentum, stated in the batch-size claim ("β = 0.9", checked below);
 *   - λ_max along SGDM = sgdmEtaLambda/η; B_noise as tr Σ = B_noise, |∇L|² = 1 (only their ratio enters a verdict;
 *     a B_noise written as null with a B/B_noise of 0 was infinite: |∇L|² = 0);
 *   - the coupled SGD run at η (always run for a momentum config): diverged when sgdLossGap is null, else its loss
 *     1 + gap against SGDM's 1; λ_max = sgdEtaLambda/η; the run at η/2 the same from sgdHalf*;
 *   - budgetSteps, probeSteps;
 *   - the whole-run comparison (when wholeRunSeeds is given): per-seed losses are not recorded, only the mean gaps
 *     sgdMeanGap and sgdHalfMeanGap, so every seed gets SGDM at 1 and SGD at 1 + mean gap (the same mean); a seed
 *     on which an SGD run failed is not recorded either — the probe's own seed (seed 0 when the probe covered the
 *     budget) is marked failed where its coupled run diverged, no other seed is. Failure only matters to a verdict
 *     through "SGD kept up on every seed", and a failed seed scores the initial loss, which no recorded ≤ 5% mean
 *     gap could absorb (the rebuilt mean of a run marked failed may differ from the recorded one; it is ruled out
 *     either way).
 * Not recorded, so not rebuilt (none of them changes a regime or the deciding rule): whether SGDM's own probe
 * diverged (a diverged probe is decided by its own run, decidedBy 'own-run'; no recorded row has it, so every row is
 * rebuilt as not diverged), the parameter count (memory saved), the loss and top directions (the stationary split).
 * Like probe.ts, a row with whole-run seeds whose probe was shorter than the budget is judged twice: first without
 * them (their rules must disagree), then with them.
 *
 * Run: npm run build && node dist/bench/advisor-verdicts.js [CLAIMS.json ...]   (default: every results/*\/claims.json)
 * Prints one line per probe and a total; exits 1 on any mismatch.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { adviseFromMeasurements, type AdviceInput, type CoupledSeed, type Verdict } from '../src/core/advisor/verdict.js';

/** One advisor row of a claims.json, as src/experiments/paper/suite.ts writes it. */
export interface ProbeRow {
  batch: number; eta: number; sgdmEtaLambda: number;
  sgdEtaLambda: number | null; sgdLossGap: number | null; sgdHalfEtaLambda: number | null; sgdHalfLossGap: number | null;
  wholeRunSeeds: number | null; sgdMeanGap: number | null; sgdHalfMeanGap: number | null;
  bNoise: number | null; batchOverBNoise: number | null; probeSteps: number; budgetSteps: number | null;
  decidedBy: string; rulesDisagree: boolean; wholeRunEscalated: boolean; regime: string;
}

/** The sweep's momentum, from the batch-size claim's statement (the probe rows do not repeat it). */
export function sweepMomentum(statement: string): number {
  const m = /β = ([0-9.]+)/.exec(statement);
  if (m === null) throw new Error('batch-size claim: its statement names no β');
  return Number(m[1]);
}

/** The advice input of a recorded probe; `withSeeds` adds the whole-run comparison when the row has one. */
export function probeInput(r: ProbeRow, momentum: number, withSeeds: boolean): AdviceInput {
  const lr = r.eta * (1 - momentum);
  const eta = lr / (1 - momentum); // the probe's η, as effectiveRates computes it from γ
  const loss = (gap: number | null): { diverged: boolean; loss: number } => (gap === null ? { diverged: true, loss: Infinity } : { diverged: false, loss: 1 + gap });
  const noise = r.batchOverBNoise === null ? {} : r.bNoise === null ? { traceSigma: 1, gradNormSq: 0 } : { traceSigma: r.bNoise, gradNormSq: 1 };
  const covers = r.budgetSteps !== null && r.probeSteps >= r.budgetSteps;
  const seeds = (n: number): CoupledSeed[] => Array.from({ length: n }, (_, i) => {
    const own = covers && i === 0;
    const run = (gap: number | null, probeGap: number | null): { diverged: boolean; loss: number } => ({ diverged: own && probeGap === null, loss: 1 + gap! });
    return {
      seed: i, initialLoss: 1 + Math.max(r.sgdMeanGap ?? 0, r.sgdHalfMeanGap ?? 0), sgdm: { diverged: false, loss: 1 },
      sgd: run(r.sgdMeanGap, r.sgdLossGap), lower: r.sgdHalfMeanGap === null ? null : run(r.sgdHalfMeanGap, r.sgdHalfLossGap),
    };
  });
  return {
    batch: r.batch, lr, momentum, form: 'pytorch', lambdaMax: r.sgdmEtaLambda / r.eta, paramCount: 1, ...noise,
    probeSteps: r.probeSteps, ...(r.budgetSteps !== null ? { budgetSteps: r.budgetSteps } : {}),
    sgdProbe: {
      ...loss(r.sgdLossGap), sgdmLoss: 1, ...(r.sgdEtaLambda !== null ? { lambdaMax: r.sgdEtaLambda / eta } : {}),
      lower: { eta: eta / 2, ...loss(r.sgdHalfLossGap), ...(r.sgdHalfEtaLambda !== null ? { lambdaMax: r.sgdHalfEtaLambda / (eta / 2) } : {}) },
      ...(withSeeds && r.wholeRunSeeds !== null ? { seeds: seeds(r.wholeRunSeeds) } : {}),
    },
  };
}

export interface RowCheck { file: string; batch: number; recorded: string; rebuilt: string; ok: boolean; verdict: Verdict }

const summary = (v: { regime: string; decidedBy: string; rulesDisagree: boolean; wholeRunEscalated: boolean }): string =>
  `${v.regime} by ${v.decidedBy}${v.wholeRunEscalated ? ' (escalated)' : v.rulesDisagree ? ' (rules disagree)' : ''}`;

/** Re-judges the advisor rows of one claims.json. */
export function checkClaimsFile(file: string): RowCheck[] {
  const c = JSON.parse(readFileSync(file, 'utf8')) as { claims: { id: string; statement: string; measurements: unknown[] }[] };
  const sweep = c.claims.find((x) => x.id === 'batch-size');
  const adv = c.claims.find((x) => x.id === 'advisor');
  if (sweep === undefined || adv === undefined) return [];
  const momentum = sweepMomentum(sweep.statement);
  return (adv.measurements as ProbeRow[]).map((r) => {
    const covers = r.budgetSteps !== null && r.probeSteps >= r.budgetSteps;
    // probe.ts: a shorter probe gets whole-run seeds only after a first verdict whose rules disagree.
    const first = adviseFromMeasurements(probeInput(r, momentum, covers));
    const escalates = !covers && r.wholeRunSeeds !== null;
    const v = escalates ? adviseFromMeasurements(probeInput(r, momentum, true)) : first;
    const recorded = summary(r);
    const rebuilt = summary({ regime: v.regime, ...v.numbers });
    const ok = recorded === rebuilt && (!escalates || first.numbers.rulesDisagree);
    return { file, batch: r.batch, recorded, rebuilt: escalates && !first.numbers.rulesDisagree ? `${rebuilt}, but the probe's rules agreed` : rebuilt, ok, verdict: v };
  });
}

/** Every results/<sweep>/claims.json under `root`. */
export function committedClaims(root: string): string[] {
  const dir = join(root, 'results');
  return readdirSync(dir).sort().map((d) => join(dir, d, 'claims.json')).filter((f) => existsSync(f));
}

function main(files: string[]): void {
  const rows = (files.length > 0 ? files : committedClaims('.')).flatMap(checkClaimsFile);
  for (const r of rows) process.stdout.write(`${r.ok ? 'same' : 'DIFF'}  ${r.file}  B = ${r.batch}: ${r.recorded}${r.ok ? '' : ` → ${r.rebuilt}`}\n`);
  const bad = rows.filter((r) => !r.ok).length;
  process.stdout.write(`${rows.length - bad} of ${rows.length} probes judged as recorded${bad > 0 ? `, ${bad} differ` : ''}\n`);
  if (bad > 0) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
