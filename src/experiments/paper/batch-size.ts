/**
 * Experiment 1 of the paper suite (the paper's ImageNet batch-size sweep at CPU scale): tune SGD and SGDM's
 * effective lr per batch size on held-out training data, re-run each best lr with seeds (more where the comparison
 * is inconclusive), measure SGD's regime at its tuned lr with a short probe, and re-run the smallest η of the grid
 * with seeds for the matched-lr claim. Returns the three batch-size claims and what the advisor part reuses.
 */
import { budgetSteps } from '../../core/nn/trainer.js';
import type { ScheduleSpec } from '../../core/optim/schedules.js';
import { parseSweepConfig, type SweepConfigInput } from '../config.js';
import { selectBest, type PlannedRun } from '../grid.js';
import type { ResultsStore, RunRow } from '../../node/store.js';
import { cachedProbes, paperProbeJob } from './probe-cache.js';
import { runGridSweeps, type SweepOptions } from '../sweep.js';
import { batchSizeClaim, batchSizeStrictClaim, inconclusiveBatches, matchedLrClaim, type BatchRow, type Claim, type RegimeMeasure } from './claims.js';
import { modelLabel, type PaperPlan, type PlanModel } from './plan.js';
import { pairBySeed, summarize, type Summary } from './stats.js';

export interface BatchSizeContext {
  plan: PaperPlan;
  dataset: string;
  /** Training examples before the hold-out. */
  trainExamples: number;
  store: ResultsStore;
  sweepOpts: SweepOptions;
  log: (line: string) => void;
  /** The advisor's probe sizes for this mode. */
  probe: { probeSteps: number; checkpoints: number; lanczosSteps: number };
  /** Advisor probes run at once, one thread each. */
  probeWorkers: number;
  /** The output folder, where each probe's result is kept (probe-cache.ts). */
  outDir: string;
  finalAccuracy: (r: RunRow | undefined, tag: string) => number | null;
}

export interface BatchSizeResult {
  claims: Claim[];
  selections: { optimizer: string; batch: number; eta: number; validAccuracy: number }[];
  /** Steps per run at each B: tuning (on the training set less the hold-out) and final runs. */
  budgets: { batch: number; tuneSteps: number; finalSteps: number }[];
  /** Tuned η by `${opt}/${batch}`. */
  bestEta: Map<string, number>;
  /** Per B, both optimisers' final test accuracies over all seeds (for the advisor's agreement). */
  rows: { batch: number; sgd: Summary; sgdm: Summary }[];
}

/** Linear warm-up over `warmup`·steps, then ×0.1 at each `decayAt`·steps (milestones counted after the warm-up). */
export function warmupStepSchedule(steps: number, s: { warmup: number; decayAt: number[] }): ScheduleSpec {
  const warmup = Math.max(1, Math.round(s.warmup * steps));
  return { kind: 'warmup-linear', warmup, after: { kind: 'multistep', milestones: s.decayAt.map((f) => Math.max(1, Math.round(f * steps) - warmup)), gamma: 0.1 } };
}

export async function batchSizeExperiment(c: BatchSizeContext): Promise<BatchSizeResult> {
  const bs = c.plan.batchSweep;
  const margin = c.plan.margin;
  const params = (epochs: number, validation: number): Record<string, unknown> => ({ dataset: c.dataset, model: bs.model as PlanModel, epochs, validation, threads: 1 });
  const optimizer = (form: string, batch: number, n: number): Record<string, unknown> => ({
    form, lr: 0.1, ...(bs.schedule === null ? {} : { schedule: warmupStepSchedule(budgetSteps(n, batch, bs.epochs), bs.schedule) }),
  });
  const budgets = bs.batches.map((batch) => ({ batch, tuneSteps: budgetSteps(c.trainExamples - bs.validation, batch, bs.epochs), finalSteps: budgetSteps(c.trainExamples, batch, bs.epochs) }));
  c.log(`[1/5] batch-size sweep: ${modelLabel(bs.model)} on ${c.dataset}, B ∈ {${bs.batches.join(', ')}} (${budgets.map((b) => `${b.tuneSteps}`).join(' / ')} tuning steps), ${bs.lr.num} effective lrs × SGD/SGDM${bs.schedule === null ? '' : ', warm-up and ×0.1 decays'}, then ${bs.finalSeeds.length} seeds at the best lr (more where the comparison is inconclusive)`);

  // A constant lr tunes every B in one grid; a schedule counts its steps per B, so each B is its own grid.
  const protocol = { tune: false, metric: 'valid/accuracy', mode: 'max', select: 'final' } as const;
  const tuneCfg = (batches: number[], lr: number[] | { min: number; max: number; num: number }, seeds: number[], name: string): SweepConfigInput => ({
    name, task: 'train',
    base: { params: params(bs.epochs, bs.validation), optimizer: optimizer('pytorch', batches[0]!, c.trainExamples - bs.validation), batchSize: batches[0]! },
    grid: { form: ['sgd', 'pytorch'], momentum: [bs.momentum], lr, batchSize: batches, seed: seeds },
    lrAxis: 'effective', protocol,
  });
  const groups = bs.schedule === null ? [bs.batches] : bs.batches.map((b) => [b]);
  const tuneCfgs = groups.map((g) => tuneCfg(g, bs.lr, [0], 'paper/batch-size/tune'));
  const tuned = await runGridSweeps(tuneCfgs, c.sweepOpts);
  const selections = tuned.flatMap((planned, i) => {
    const rows = new Map(planned.map((p) => [p.hash, c.store.getRun(p.hash)!]));
    return selectBest(planned, rows, parseSweepConfig({ ...tuneCfgs[i]!, protocol: { ...protocol, tune: true } })).map((sel) => ({ sel, l: planned.find((p) => p.labels.setting === sel.setting)!.labels }));
  });
  const bestEta = new Map<string, number>();
  const finals = selections.map(({ sel, l }) => {
    const opt: 'sgd' | 'sgdm' = l.form === 'sgd' ? 'sgd' : 'sgdm';
    bestEta.set(`${opt}/${l.batchSize}`, sel.effectiveLr);
    return { sel, l, opt, batch: l.batchSize };
  });
  const finalCfg = (f: (typeof finals)[number], seeds: number[]): SweepConfigInput => ({
    name: 'paper/batch-size/final', task: 'train',
    base: { params: params(bs.epochs, 0), optimizer: optimizer(f.l.form, f.batch, c.trainExamples), batchSize: f.batch },
    grid: { form: [f.l.form as 'sgd'], momentum: [f.l.momentum], lr: [f.sel.gridLr], batchSize: [f.batch], seed: seeds },
    lrAxis: 'effective',
  });
  // seed → final test accuracy, per `${opt}/${batch}`.
  const accuracies = new Map<string, Map<number, number>>();
  const collect = (runs: PlannedRun[][], of: typeof finals): void => runs.forEach((rs, i) => {
    const key = `${of[i]!.opt}/${of[i]!.batch}`;
    const m = accuracies.get(key) ?? new Map<number, number>();
    for (const p of rs) {
      const a = c.finalAccuracy(c.store.getRun(p.hash), 'test/accuracy');
      if (a !== null) m.set(p.labels.seed, a);
    }
    accuracies.set(key, m);
  });
  const pairRows = (): BatchRow[] => bs.batches.flatMap((batch) => {
    const runs = pairBySeed(accuracies.get(`sgd/${batch}`) ?? new Map(), accuracies.get(`sgdm/${batch}`) ?? new Map());
    return runs.seeds.length > 0 ? [{ batch, runs }] : [];
  });
  // All final runs go to one worker pool, so no worker waits for a lone third seed.
  collect(await runGridSweeps(finals.map((f) => finalCfg(f, bs.finalSeeds)), c.sweepOpts), finals);
  for (const stage of bs.extraSeeds) {
    const open = new Set(inconclusiveBatches(pairRows(), margin));
    if (open.size === 0) break;
    c.log(`      inconclusive at B = ${[...open].join(', ')}: seeds ${stage[0]}–${stage[stage.length - 1]} of both final runs there`);
    const at = finals.filter((f) => open.has(f.batch));
    collect(await runGridSweeps(at.map((f) => finalCfg(f, stage)), c.sweepOpts), at);
  }
  const rows = pairRows();

  // SGD's regime at its own tuned η: a probe of SGDM at γ = η_SGD(1−β), whose coupled SGD shadow runs at η_SGD.
  const { probes, reused } = cachedProbes(rows.map((r) => paperProbeJob(c.plan, c.dataset, r.batch, bestEta.get(`sgd/${r.batch}`)!, {
    ...c.probe, wholeRunSeeds: 1, wholeRunMaxSteps: 1, threads: 1,
  })), c.probeWorkers, c.outDir);
  c.log(`      regime probes: SGD's ηλ_max at its tuned η (${c.probe.probeSteps} steps) and B/B_noise${reused > 0 ? ` (${reused} of ${rows.length} kept from an earlier run)` : ''}`);
  const regimes = new Map<number, RegimeMeasure>();
  for (const [i, r] of rows.entries()) {
    const sgdEta = bestEta.get(`sgd/${r.batch}`)!;
    const { result: res } = await probes[i]!;
    const m: RegimeMeasure = { sgdEta, sgdEtaLambda: res.verdict.numbers.sgdEtaLambdaMax ?? null, sgdDiverged: res.sgdShadow?.diverged === true, batchOverBNoise: res.verdict.numbers.batchOverBNoise ?? null };
    regimes.set(r.batch, m);
    c.log(`      B = ${r.batch}: SGD at η = ${sgdEta.toPrecision(3)}: ηλ_max ${m.sgdDiverged ? 'diverged' : m.sgdEtaLambda?.toPrecision(3) ?? '—'}, B/B_noise ${m.batchOverBNoise?.toPrecision(3) ?? '—'}`);
  }
  const claims = [batchSizeClaim(rows.map((r) => ({ ...r, ...regimes.get(r.batch)! })), margin), batchSizeStrictClaim(rows, margin)];

  // Matched-lr agreement: the smallest grid η at every B, with seeds (seed 0 is the tuning run itself).
  const etas = [...new Set(tuned.flat().map((p) => p.labels.gridLr))].sort((a, b) => a - b).slice(0, bs.matched.count);
  c.log(`      matched lr: η ∈ {${etas.join(', ')}} at every B, seeds ${bs.matched.seeds.join(', ')}`);
  const matched = await runGridSweeps(groups.map((g) => tuneCfg(g, etas, bs.matched.seeds, 'paper/batch-size/matched')), c.sweepOpts);
  const valid = new Map<string, Map<number, number>>();
  for (const p of matched.flat()) {
    const a = c.finalAccuracy(c.store.getRun(p.hash), 'valid/accuracy');
    const key = `${p.labels.form === 'sgd' ? 'sgd' : 'sgdm'}/${p.labels.batchSize}/${p.labels.gridLr}`;
    if (a !== null) valid.set(key, (valid.get(key) ?? new Map<number, number>()).set(p.labels.seed, a));
  }
  const matchedRows = bs.batches.flatMap((batch) => etas.map((eta) => ({ batch, eta, runs: pairBySeed(valid.get(`sgd/${batch}/${eta}`) ?? new Map(), valid.get(`sgdm/${batch}/${eta}`) ?? new Map()) })));
  claims.unshift(matchedLrClaim(matchedRows, margin));
  for (const cl of claims) c.log(`      ${cl.id} → ${cl.verdict}: ${cl.reason}`);

  return {
    claims,
    selections: finals.map((f) => ({ optimizer: f.opt, batch: f.batch, eta: f.sel.effectiveLr, validAccuracy: f.sel.score })),
    budgets, bestEta,
    rows: rows.map((r) => ({ batch: r.batch, sgd: summarize(r.runs.sgd), sgdm: summarize(r.runs.sgdm) })),
  };
}
