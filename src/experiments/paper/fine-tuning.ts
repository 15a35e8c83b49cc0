/**
 * Experiment 3 of the paper suite (the paper's RoBERTa few-shot fine-tuning at CPU scale): pre-train on one task,
 * then fine-tune the whole network K-shot on a shifted task with SGD and SGDM. Each optimiser's lr is chosen per K on
 * a K-shot validation split drawn from the training pool (tasks/finetune.ts `fewShotSplits`), never on test; the
 * chosen lr is then run again, on the same seeds, evaluated on the test split.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/util/errors.js';
import type { SweepConfigInput } from '../config.js';
import type { PlannedRun } from '../grid.js';
import type { ResultsStore, RunRow } from '../../node/store.js';
import { runGridSweeps, runSweep, type SweepOptions } from '../sweep.js';
import { parseSweepConfig } from '../config.js';
import { expandGrid } from '../grid.js';
import { fineTuneClaim, type Claim } from './claims.js';
import type { PaperPlan } from './plan.js';
import { pairBySeed, type PairedRuns } from './stats.js';

export interface FineTuneContext {
  plan: PaperPlan;
  dataset: string;
  outDir: string;
  store: ResultsStore;
  sweepOpts: SweepOptions;
  log: (line: string) => void;
  finalAccuracy: (r: RunRow | undefined, tag: string, classes: number) => number | null;
}

export interface FineTuneResult {
  claim: Claim;
  shift: string;
  selections: { k: number; validationShot: number; sgdEta: number; sgdmEta: number; sgdValid: number; sgdmValid: number }[];
}

/**
 * The lr with the highest mean validation accuracy over data seeds (first on ties, in grid order). Only validation
 * numbers enter: the test split plays no part in the choice.
 */
export function chooseLr(valid: ReadonlyMap<number, readonly number[]>): { eta: number; mean: number } {
  let best = { eta: NaN, mean: -Infinity };
  for (const [eta, accs] of valid) {
    if (accs.length === 0) continue;
    const m = accs.reduce((s, x) => s + x, 0) / accs.length;
    if (m > best.mean) best = { eta, mean: m };
  }
  return best;
}

export async function fineTuneExperiment(c: FineTuneContext): Promise<FineTuneResult> {
  const ft = c.plan.fineTune;
  const momentum = c.plan.batchSweep.momentum;
  const all = Array.from({ length: 10 }, (_, i) => i);
  const shift = c.dataset === 'fashion-mnist'
    ? { source: { dataset: 'fashion-mnist', classes: all }, target: { dataset: 'mnist', classes: all }, label: 'pre-train on Fashion-MNIST, fine-tune on MNIST digits' }
    : { source: { dataset: c.dataset, classes: [0, 1, 2, 3, 4] }, target: { dataset: c.dataset, classes: [5, 6, 7, 8, 9] }, label: `pre-train on ${c.dataset} 0–4, fine-tune on ${c.dataset} 5–9 (the 5-way head is re-used for new classes)` };
  const weights = join(c.outDir, 'pretrained.ckpt');
  c.log(`[3/5] fine-tuning: ${shift.label}; K ∈ {${ft.shots.join(', ')}} per class, data seeds ${ft.dataSeeds.join(', ')}, ${ft.steps} steps at batch ${ft.batch}; lr chosen on min(K, ${ft.maxValidationShot}) validation examples per class`);
  const preCfg = parseSweepConfig({
    name: 'paper/fine-tuning/pretrain', task: 'finetune',
    base: { params: { dataset: shift.source.dataset, model: ft.model, classes: shift.source.classes, epochs: ft.pretrainEpochs, weightsOut: weights }, optimizer: { form: 'pytorch', lr: 0.1 }, batchSize: 64 },
    grid: { form: ['pytorch'], momentum: [momentum], lr: [0.1] },
    lrAxis: 'effective',
  });
  await runSweep(preCfg, c.sweepOpts);
  const pre = expandGrid(preCfg);
  const preRow = c.store.getRun(pre[0]!.hash);
  if (preRow?.status !== 'done') {
    throw new UserError(`fine-tuning: the pre-training run ${pre[0]!.hash} ended ${preRow?.status ?? 'missing'}${preRow?.error == null ? '' : `: ${preRow.error.split('\n')[0]}`}; fix that and run the same command again (finished runs are kept)`);
  }
  // On a queue the weights stay in the workers' checkpoint folder (queue/job.ts), not here.
  if (c.sweepOpts.queue === undefined && !existsSync(weights)) throw new UserError(`pre-trained weights ${weights} are missing although the run finished; delete ${join(c.outDir, 'runs.db')} to start over`);

  const classes = shift.target.classes.length;
  const cfg = (name: string, k: number, forms: string[], lr: number[], validationShot?: number): SweepConfigInput => ({
    name, task: 'finetune',
    base: { params: { dataset: shift.target.dataset, model: ft.model, classes: shift.target.classes, kShot: k, weightsIn: weights, ...(validationShot === undefined ? {} : { validationShot }) }, optimizer: { form: 'pytorch', lr: 0.1 }, batchSize: ft.batch, steps: ft.steps },
    grid: { form: forms as 'sgd'[], momentum: [momentum], lr, seed: ft.dataSeeds },
    lrAxis: 'effective',
  });
  const accs = (runs: PlannedRun[], form: string, tag: string): Map<number, number> => new Map(runs.filter((p) => p.labels.form === form)
    .map((p) => [p.labels.seed, c.finalAccuracy(c.store.getRun(p.hash), tag, classes)] as const).filter((e): e is readonly [number, number] => e[1] !== null));

  // Selection: every lr of the grid, evaluated on the validation split only.
  const shots = ft.shots.map((k) => ({ k, v: Math.min(k, ft.maxValidationShot) }));
  const selection = await runGridSweeps(shots.map(({ k, v }) => cfg(`paper/fine-tuning/k${k}/select`, k, ['sgd', 'pytorch'], ft.lr, v)), c.sweepOpts);
  const chosen = shots.map(({ k, v }, i) => {
    const pick = (form: string): { eta: number; mean: number } => chooseLr(new Map(ft.lr.map((eta) => [eta, [...accs(selection[i]!.filter((p) => p.labels.gridLr === eta), form, 'valid/accuracy').values()]])));
    return { k, validationShot: v, sgd: pick('sgd'), sgdm: pick('pytorch') };
  });
  // Scoring: the chosen lr of each optimiser, the same seeds, on the test split.
  const scored = await runGridSweeps(chosen.flatMap((s) => [cfg(`paper/fine-tuning/k${s.k}`, s.k, ['sgd'], [s.sgd.eta]), cfg(`paper/fine-tuning/k${s.k}`, s.k, ['pytorch'], [s.sgdm.eta])]), c.sweepOpts);
  const rows: { k: number; runs: PairedRuns }[] = chosen.map((s, i) => ({ k: s.k, runs: pairBySeed(accs(scored[2 * i]!, 'sgd', 'test/accuracy'), accs(scored[2 * i + 1]!, 'pytorch', 'test/accuracy')) }));
  const claim = fineTuneClaim(rows, c.plan.margin);
  c.log(`      → ${claim.verdict}: ${claim.reason}`);
  return {
    claim, shift: shift.label,
    selections: chosen.map((s) => ({ k: s.k, validationShot: s.validationShot, sgdEta: s.sgd.eta, sgdmEta: s.sgdm.eta, sgdValid: s.sgd.mean, sgdmValid: s.sgdm.mean })),
  };
}
