/**
 * The text fine-tuning experiment end to end: pre-train (or reuse) the masked LM, then for each task and K run every
 * (optimiser, η, data seed) of prompt fine-tuning, choose each optimiser's η on the K-shot validation samples (mean
 * over seeds), score the chosen runs on the test part, and compare SGD with SGDM paired by data seed. The controls
 * (random initialisation, linear head without prompt) run at the smallest K with SGDM, their η chosen the same way.
 */
import { basename } from 'node:path';
import type { Backend } from '../../core/engine/backend.js';
import { TEXT_TASKS, type CorpusParts } from '../../core/text/corpus.js';
import { chooseLr } from '../paper/fine-tuning.js';
import { textFineTuneClaim, type Claim } from '../paper/claims.js';
import { pairBySeed, type PairedRuns } from '../paper/stats.js';
import { accuracy, encodeTask, fineTuneRun, NetPool, type RunResult, type Variant } from './finetune.js';
import type { TextPlan } from './plan.js';
import { pretrainMlm, type Pretrained, type PretrainReport } from './pretrain.js';

export interface TextRow { task: string; k: number; validationShot: number; sgdEta: number; sgdmEta: number; sgdValid: number; sgdmValid: number; runs: PairedRuns }
export interface ControlRow { task: string; variant: Variant | 'zero-shot'; k: number; eta: number | null; seeds: number[]; accuracies: number[] }

export interface TextResult {
  /** `checkpoint`: the pre-trained checkpoint's file name in the output folder (a name, so claims.json is the same wherever it is written). */
  pretraining: PretrainReport & { checkpoint: string };
  tasks: { task: string; classes: string[]; labelWords: string[]; majority: number; testExamples: number; trainPool: number[] }[];
  rows: TextRow[];
  controls: ControlRow[];
  claim: Claim;
  seconds: number;
}

export interface TextOptions { cacheDir: string; backend: Backend; log: (line: string) => void }

const mean = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

export function runTextExperiment(plan: TextPlan, parts: CorpusParts, o: TextOptions): TextResult {
  const t0 = performance.now();
  const ft = plan.fineTune;
  o.log(`      masked-LM pre-training: ${plan.pretrain.steps} steps at batch ${plan.pretrain.batch}, T = ${plan.model.seqLen}, dim ${plan.model.dim}, ${plan.model.layers} layers`);
  const pre: Pretrained = pretrainMlm(plan, parts, o);
  const r = pre.report;
  o.log(`      held-out MLM loss ${r.mlmLoss.toFixed(3)} (perplexity ${Math.exp(r.mlmLoss).toFixed(0)}) vs unigram ${r.unigramLoss.toFixed(3)} (perplexity ${Math.exp(r.unigramLoss).toFixed(0)})`);
  const settings = { steps: ft.steps, batch: ft.batch, momentum: ft.momentum, maxValidationShot: ft.maxValidationShot };
  const rows: TextRow[] = [], controls: ControlRow[] = [], tasks: TextResult['tasks'] = [];
  for (const name of ft.tasks) {
    const task = TEXT_TASKS[name];
    const data = encodeTask(pre, parts, task, plan.model.seqLen);
    const C = task.classes.length;
    const trainPool = Array.from({ length: C }, (_, c) => data.prompt.train.labels.filter((y) => y === c).length);
    const shots = ft.shots.filter((k) => k <= Math.min(...trainPool));
    tasks.push({ task: name, classes: task.classes, labelWords: data.labelWords.map((i) => pre.tokenizer.token(i)), majority: data.majority, testExamples: data.prompt.test.seqs.n, trainPool });
    o.log(`      task ${name} (${task.classes.join(' / ')}; label words ${data.labelWords.map((i) => pre.tokenizer.token(i)).join(' / ')}): K ∈ {${shots.join(', ')}}, majority class ${(100 * data.majority).toFixed(1)}% of ${data.prompt.test.seqs.n} test emails`);
    const pool = new NetPool(pre, data, o.backend);
    const zero = accuracy(pool.get('prompt', 0), null, data.prompt.test);
    controls.push({ task: name, variant: 'zero-shot', k: 0, eta: null, seeds: [], accuracies: [zero] });
    // Each (variant, optimiser, K): all η × seeds on validation; the η with the best mean; its runs on test.
    const tuned = (variant: Variant, optimizer: 'sgd' | 'sgdm', k: number): { eta: number; valid: number; test: Map<number, number>; vShot: number } => {
      const runs: RunResult[] = [];
      for (const eta of ft.lr) for (const seed of ft.dataSeeds) runs.push(fineTuneRun(pre, data, { variant, optimizer, eta, k, seed }, settings, o.backend, pool));
      const pick = chooseLr(new Map(ft.lr.map((eta) => [eta, runs.filter((x) => x.eta === eta).map((x) => x.validAccuracy)])));
      const net = pool.get(variant, 0);
      const test = new Map(runs.filter((x) => x.eta === pick.eta).map((x) => [x.seed, x.diverged ? 1 / C : accuracy(net, x.params, variant === 'linear-head' ? data.plain.test : data.prompt.test)] as const));
      return { eta: pick.eta, valid: pick.mean, test, vShot: Math.min(k, ft.maxValidationShot, data.validationCap) };
    };
    for (const k of shots) {
      const sgd = tuned('prompt', 'sgd', k), sgdm = tuned('prompt', 'sgdm', k);
      const row: TextRow = { task: name, k, validationShot: sgd.vShot, sgdEta: sgd.eta, sgdmEta: sgdm.eta, sgdValid: sgd.valid, sgdmValid: sgdm.valid, runs: pairBySeed(sgd.test, sgdm.test) };
      rows.push(row);
      o.log(`      ${name} K = ${k}: SGD η = ${sgd.eta} → test ${(100 * mean(row.runs.sgd)).toFixed(1)}%, SGDM η = ${sgdm.eta} → ${(100 * mean(row.runs.sgdm)).toFixed(1)}% (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    for (const variant of ft.controls) {
      const k = shots[0]!;
      const c = tuned(variant, 'sgdm', k);
      const seeds = [...c.test.keys()].sort((a, b) => a - b);
      controls.push({ task: name, variant, k, eta: c.eta, seeds, accuracies: seeds.map((s) => c.test.get(s)!) });
      o.log(`      ${name} K = ${k} ${variant}: SGDM η = ${c.eta} → test ${(100 * mean([...c.test.values()])).toFixed(1)}%`);
    }
  }
  const claim = textFineTuneClaim(rows, controls, tasks, { mlmLoss: r.mlmLoss, unigramLoss: r.unigramLoss, steps: r.steps }, plan.margin);
  o.log(`      → ${claim.verdict}: ${claim.reason}`);
  return { pretraining: { ...r, checkpoint: basename(pre.checkpoint) }, tasks, rows, controls, claim, seconds: (performance.now() - t0) / 1000 };
}
