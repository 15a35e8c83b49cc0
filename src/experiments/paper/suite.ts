/**
 * The paper suite: runs the paper's experiments at CPU scale through the sweep runner (so an interrupted
 * suite resumes where it stopped: finished runs are skipped by config hash), the theory checks and the memory
 * measurement, and turns the measurements into claims with verdicts (claims.ts).
 */
import { mkdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../../core/util/errors.js';
import { initOptimizer, optimizerConfig, stateBytes } from '../../core/optim/index.js';
import { CHECK_NAMES, runCheck, type CheckResult } from '../../core/theory/index.js';
import { isDataFilePath, loadDatasetSync, tryLocateDataset } from '../../node/data/load.js';
import { buildModel, modelFamily, parseModelSpec } from '../../core/nn/models.js';
import { parseSweepConfig, type SweepConfigInput } from '../config.js';
import { expandGrid, type PlannedRun } from '../grid.js';
import { ResultsStore, type RunRow } from '../../node/store.js';
import { measurePeakRss } from '../../node/memory.js';
import { checkOutputFolder } from '../../node/output-paths.js';
import { runSweep, type SweepProgress } from '../sweep.js';
import { ACCURACY_FLOOR, advisorClaim, memoryClaim, svagClaim, theoryClaim, type Claim } from './claims.js';
import { batchSizeExperiment } from './batch-size.js';
import { fineTuneExperiment } from './fine-tuning.js';
import { cachedProbes, paperProbeJob } from './probe-cache.js';
import type { ShadowSummary } from '../../core/advisor/probe.js';
import { shadowLossGap } from '../../core/advisor/verdict.js';
import { sweepAgreement, type SweepPoint } from '../../core/advisor/validation.js';
import { modelLabel, paperPlan, type PaperMode, type PaperPlan, type PlanModel } from './plan.js';
import { pairBySeed } from './stats.js';
import { runTextInBackground, textPlan, type TextJob, type TextResult } from '../text/index.js';

export interface PaperOptions {
  mode: PaperMode;
  outDir: string;
  /** Dataset for experiments 1–2 (default: mnist for quick — the embedded digits — and fashion-mnist for full). */
  data?: string;
  workers?: number;
  /** Run the sweeps' runs on the workers of this BullMQ queue (redis://…) instead of local threads. */
  queue?: string;
  onProgress?: (e: SweepProgress) => void;
  log?: (line: string) => void;
  /** Skip parts (for tests and partial reruns): any of batch-size, svag, fine-tuning, theory, memory. */
  skip?: string[];
  /**
   * Replace parts of the mode's plan (e.g. another model for the batch-size sweep, as bench/advisor-heldout.ts does
   * to test the advisor on a sweep that played no part in choosing its rule). The report lists the plan it ran.
   */
  planOverride?: (plan: PaperPlan) => PaperPlan;
}

export interface PaperResult {
  plan: PaperPlan;
  claims: Claim[];
  db: string;
  /** Everything the report needs beyond the runs in the store. */
  details: {
    batchSelections: { optimizer: string; batch: number; eta: number; validAccuracy: number }[];
    /** Steps per run at each batch size (tuning and final runs). */
    batchBudgets: { batch: number; tuneSteps: number; finalSteps: number }[];
    svagEta: number | null;
    fineTuneShift: string | null;
    /** Each optimiser's lr per K, chosen on the validation split (mean validation accuracy over data seeds). */
    fineTuneSelections: { k: number; validationShot: number; sgdEta: number; sgdmEta: number; sgdValid: number; sgdmValid: number }[];
    /** The masked-LM text experiment (experiments/text), its claim aside; null when skipped. */
    text: (Omit<TextResult, 'claim'> & { reductions: string[] }) | null;
    theory: CheckResult[];
    seconds: number;
  };
}

export const PAPER_PARTS = ['batch-size', 'advisor', 'svag', 'fine-tuning', 'fine-tuning-text', 'theory', 'memory'] as const;

/**
 * The advisor's probe at each batch size: `advise`'s default length (100 steps, or the run's whole budget when that
 * is shorter); --quick measures at fewer checkpoints with shorter Lanczos runs, which is where a probe's time goes.
 */
const ADVISOR_PROBE = { quick: { probeSteps: 100, checkpoints: 2, lanczosSteps: 10 }, full: { probeSteps: 100, checkpoints: 4, lanczosSteps: 12 } } as const;

/** Final test accuracy of a finished run; a diverged run scores chance (DeepOBS keeps it at its initial metric). */
function finalAccuracy(r: RunRow | undefined, tag: string, classes: number): number | null {
  if (r === undefined) return null;
  if (r.status === 'diverged') return 1 / classes;
  if (r.status !== 'done' || r.summary === null) return null;
  const v = r.summary[`final/${tag}`];
  return typeof v === 'number' ? v : null;
}

export async function runPaperSuite(o: PaperOptions): Promise<PaperResult> {
  const t0 = performance.now();
  const log = o.log ?? ((): void => {});
  checkOutputFolder(o.outDir, '--out');
  const skip = new Set(o.skip ?? []);
  for (const s of skip) if (!(PAPER_PARTS as readonly string[]).includes(s)) throw new UserError(`unknown part '${s}' (parts: ${PAPER_PARTS.join(', ')})`, '--skip');
  const dataset = o.data ?? (o.mode === 'quick' ? 'mnist' : tryLocateDataset('fashion-mnist') !== null ? 'fashion-mnist' : 'mnist');
  // A user's data file (paper --data FILE) is read and checked once here, before the results store is opened.
  const userData = isDataFilePath(dataset) ? loadDatasetSync(dataset) : null;
  if (userData !== null && userData.classes < 10 && !skip.has('fine-tuning')) throw new UserError(`${dataset}: the fine-tuning part splits classes 0–4 from 5–9, the file has ${userData.classes} classes; add --skip fine-tuning`, '--data');
  const loc = userData === null ? tryLocateDataset(dataset) : { name: userData.name, format: 'user', source: userData.source ?? dataset, files: [dataset] };
  if (loc === null) {
    throw new UserError(`dataset ${dataset} is not on this machine: run 'momentum-lab data list' (Fashion-MNIST: apt-get install dataset-fashion-mnist, or momentum-lab data fetch fashion-mnist)`, '--data');
  }
  const basePlan = paperPlan(o.mode, dataset);
  const plan = o.planOverride?.(basePlan) ?? basePlan;
  const out = resolve(o.outDir);
  mkdirSync(out, { recursive: true });
  const db = join(out, 'runs.db');
  const store = new ResultsStore(db, { remedy: 'give another --out folder' });
  const claims: Claim[] = [];
  const details: PaperResult['details'] = { batchSelections: [], batchBudgets: [], svagEta: null, fineTuneShift: null, fineTuneSelections: [], text: null, theory: [], seconds: 0 };
  const classes = userData?.classes ?? 10;
  const sweepOpts = {
    db: store, ...(o.workers === undefined ? {} : { workers: o.workers }), ...(o.queue === undefined ? {} : { queue: o.queue }),
    ...(o.onProgress === undefined ? {} : { onProgress: o.onProgress }),
  };
  // The advisor's probes (one thread each) run as many at once as the sweeps' local workers.
  const probeWorkers = o.workers ?? availableParallelism();
  const sweep = async (cfg: SweepConfigInput): Promise<PlannedRun[]> => {
    const parsed = parseSweepConfig(cfg);
    await runSweep(parsed, sweepOpts);
    return expandGrid(parsed);
  };
  const trainParams = (model: PlanModel, epochs: number, validation: number): Record<string, unknown> => ({ dataset, model, epochs, validation, threads: 1 });
  // The text experiment takes one core and depends on nothing else here: it starts on its own thread before the
  // first sweep, runs beside the sweeps and probes, and is collected in its place in the order (3b).
  const tp = textPlan(o.mode);
  let textJob = null as TextJob | null;
  const startedText = (): TextJob => (textJob ??= runTextInBackground(o.mode, out, tp));

  try {
    // ---- 1. batch-size sweep -------------------------------------------------------------------------------
    const bs = plan.batchSweep;
    let bestEta = new Map<string, number>();
    const nTrain = userData?.train.n ?? (loc === null ? 0 : loadDatasetSync(dataset).train.n);
    if (!skip.has('fine-tuning-text')) startedText();
    if (!skip.has('batch-size')) {
      const probe = ADVISOR_PROBE[plan.mode];
      const finalAcc = (r: RunRow | undefined, tag: string): number | null => finalAccuracy(r, tag, classes);
      const res = await batchSizeExperiment({ plan, dataset, trainExamples: nTrain, store, sweepOpts, log, probe, probeWorkers, outDir: out, finalAccuracy: finalAcc });
      claims.push(...res.claims);
      details.batchSelections.push(...res.selections);
      details.batchBudgets = res.budgets;
      bestEta = res.bestEta;
      const claimRows = res.rows;

      // ---- advisor validation: does a short probe predict the winner at each batch size? -----------
      if (!skip.has('advisor')) {
        const { probes: runs, reused } = cachedProbes(claimRows.map((row) => paperProbeJob(plan, dataset, row.batch, bestEta.get(`sgdm/${row.batch}`)!, { ...probe, threads: 1 })), probeWorkers, out);
        log(`[1b]  advisor: probe of SGDM at its best lr for each batch size (${probe.probeSteps} steps, or the run's whole budget when shorter; coupled runs over the whole budget where the probe's rules disagree), verdict vs the measured winner${reused > 0 ? ` (${reused} of ${claimRows.length} probes kept from an earlier run)` : ''}`);
        const points: SweepPoint[] = [];
        const probes: Record<string, unknown>[] = [];
        for (const [i, row] of claimRows.entries()) {
          const eta = bestEta.get(`sgdm/${row.batch}`)!;
          const { result: res, seconds } = await runs[i]!;
          points.push({ batch: row.batch, verdict: res.verdict, sgd: row.sgd, sgdm: row.sgdm, higherIsBetter: true });
          const sgdEtaLambda = res.verdict.numbers.sgdEtaLambdaMax;
          const lo = res.sgdShadowLower;
          const sgdHalfEtaLambda = lo === null || lo.lambdaMax === null ? null : lo.eta * lo.lambdaMax;
          // Evaluation-loss gaps of the two SGD shadows against SGDM on the probe's seed (null when a shadow did not
          // run or diverged), and over all seeds when the probe covered the whole budget.
          const gapOf = (sh: ShadowSummary | null): number | null => (sh === null || sh.diverged ? null : shadowLossGap(false, sh.evalLoss, sh.sgdmEvalLoss));
          const whole = res.verdict.numbers.wholeRunGaps;
          probes.push({
            batch: row.batch, eta, sgdmEtaLambda: eta * res.lambdaMax, sgdEtaLambda, sgdLossGap: gapOf(res.sgdShadow),
            sgdHalfEtaLambda, sgdHalfLossGap: gapOf(lo),
            wholeRunSeeds: res.verdict.numbers.wholeRunSeeds, sgdMeanGap: whole?.[0]?.gap ?? null, sgdHalfMeanGap: whole?.[1]?.gap ?? null,
            bNoise: res.verdict.numbers.bNoise ?? null, batchOverBNoise: res.verdict.numbers.batchOverBNoise ?? null,
            probeSteps: res.steps, budgetSteps: res.verdict.numbers.budgetSteps, decidedBy: res.verdict.numbers.decidedBy,
            rulesDisagree: res.verdict.numbers.rulesDisagree, wholeRunEscalated: res.verdict.numbers.wholeRunEscalated,
            basis: res.verdict.numbers.sharpnessBasis, regime: res.verdict.regime, seconds,
          });
          log(`      B = ${row.batch}: ${res.verdict.regime} by ${res.verdict.numbers.decidedBy}${res.verdict.numbers.wholeRunEscalated ? ' after the probe\'s rules disagreed' : res.verdict.numbers.rulesDisagree ? ' (the probe\'s rules disagreed; no whole run)' : ''} (probe ${res.steps} of ${res.verdict.numbers.budgetSteps ?? '?'} steps; ηλ_max along SGD at η: ${res.sgdShadow?.diverged === true ? 'diverged' : sgdEtaLambda?.toPrecision(3) ?? '—'}, at η/2: ${lo?.diverged === true ? 'diverged' : sgdHalfEtaLambda?.toPrecision(3) ?? '—'}, along SGDM: ${(eta * res.lambdaMax).toPrecision(3)}; B/B_noise ${res.verdict.numbers.batchOverBNoise?.toPrecision(3) ?? '—'}${whole === null ? '' : `; over ${res.verdict.numbers.wholeRunSeeds} seeds SGD ${whole.map((g) => `at ${g.eta.toPrecision(3)} ${g.gap >= 0 ? '+' : ''}${(100 * g.gap).toFixed(1)}%${g.failed > 0 ? ` (diverged on ${g.failed}, scored at the initial loss)` : ''}`).join(', ')} behind SGDM on the mean loss`})`);
        }
        claims.push(advisorClaim(sweepAgreement(points, { floor: ACCURACY_FLOOR }), probes));
        log(`      → ${claims[claims.length - 1]!.verdict}: ${claims[claims.length - 1]!.reason}`);
      }
    }

    // ---- 2. SVAG at large batch -----------------------------------------------------------------------------
    if (!skip.has('svag')) {
      const sv = plan.svag;
      const eta = bestEta.get(`sgdm/${sv.batch}`) ?? bestEta.get(`sgdm/${bs.batches[bs.batches.length - 1]}`) ?? 1;
      details.svagEta = eta;
      const steps = Math.floor(nTrain / sv.batch) * sv.epochs;
      const milestones = sv.decayAt.map((f) => Math.max(1, Math.round(f * steps)));
      log(`[2/5] SVAG: B = ${sv.batch}, SGDM's best η = ${eta.toPrecision(3)} for both, ×0.1 at steps ${milestones.join(', ')} of ${steps}, ℓ ∈ {${sv.levels.join(', ')}}`);
      const planned = await sweep({
        name: 'paper/svag', task: 'train',
        base: { params: trainParams(sv.model, sv.epochs, 0), optimizer: { form: 'pytorch', lr: 0.1, schedule: { kind: 'multistep', milestones, gamma: 0.1 } }, batchSize: sv.batch },
        grid: { form: ['sgd', 'pytorch'], momentum: [bs.momentum], lr: [eta], svag: sv.levels, seed: sv.seeds },
        lrAxis: 'effective',
      });
      const rows = sv.levels.map((l) => {
        const pick = (form: string): Map<number, number> => new Map(planned.filter((p) => p.labels.svag === l && p.labels.form === form)
          .map((p) => [p.labels.seed, finalAccuracy(store.getRun(p.hash), 'test/accuracy', classes)] as const).filter((e): e is readonly [number, number] => e[1] !== null));
        return { l, runs: pairBySeed(pick('sgd'), pick('pytorch')) };
      });
      claims.push(svagClaim(rows, plan.margin));
      log(`      → ${claims[claims.length - 1]!.verdict}: ${claims[claims.length - 1]!.reason}`);
    }

    // ---- 3. fine-tuning -------------------------------------------------------------------------------------
    if (!skip.has('fine-tuning')) {
      const res = await fineTuneExperiment({ plan, dataset, outDir: out, store, sweepOpts, log, finalAccuracy });
      details.fineTuneShift = res.shift;
      details.fineTuneSelections = res.selections;
      claims.push(res.claim);
    }

    // ---- 3b. fine-tuning a masked LM on text (its pre-trained checkpoint cached in the output folder) -----------
    if (!skip.has('fine-tuning-text')) {
      log(`[3b]  fine-tuning a masked LM on text: SpamAssassin emails, K ∈ {${tp.fineTune.shots.join(', ')}} per class, data seeds ${tp.fineTune.dataSeeds.join(', ')}`);
      const { result } = await startedText().finish(log);
      const { claim, ...rest } = result;
      details.text = { ...rest, reductions: tp.reductions };
      claims.push(claim);
    }

    // ---- 4. theory --------------------------------------------------------------------------------------------
    if (!skip.has('theory')) {
      log(`[4/5] theory checks: ${plan.theory.join(', ')}`);
      for (const name of plan.theory) {
        if (!CHECK_NAMES.includes(name)) throw new Error(`unknown theory check ${name}`);
        const t = performance.now();
        const r = runCheck(name, {});
        details.theory.push(r);
        const c = theoryClaim(name, r.pass, r.criterion, r.rows as Record<string, unknown>[], (performance.now() - t) / 1000);
        claims.push(c);
        log(`      ${name}: ${c.verdict} (${c.reason})`);
      }
    }

    // ---- 5. memory --------------------------------------------------------------------------------------------
    if (!skip.has('memory')) {
      log('[5/5] memory: optimizer state of SGD vs SGDM on each model, peak RSS of short training runs');
      const rows = plan.memoryModels.map((m) => {
        const spec = parseModelSpec(m);
        const model = buildModel(spec, { inShape: [1, 28, 28], classes: 10, seed: 0 });
        const n = model.store.size;
        const sgd = initOptimizer(optimizerConfig({ form: 'sgd', lr: 0.1 }), n, 'float32');
        const sgdm = initOptimizer(optimizerConfig({ form: 'pytorch', lr: 0.1, momentum: 0.9 }), n, 'float32');
        // Peak RSS only for the families that declare it (those the experiments train): the others are minutes per run.
        const rss = (opt: 'sgd' | 'sgdm'): number | null => (!modelFamily(spec).measurePeakRss ? null : measurePeakRss({ model: m, optimizer: opt }));
        return { model: modelLabel(m), parameters: n, sgdStateBytes: stateBytes(sgd), sgdmStateBytes: stateBytes(sgdm), sgdPeakRss: rss('sgd'), sgdmPeakRss: rss('sgdm') };
      });
      claims.push(memoryClaim(rows));
      log(`      → ${claims[claims.length - 1]!.verdict}: ${claims[claims.length - 1]!.reason}`);
    }
  } finally {
    textJob?.cancel();
    store.close();
  }
  details.seconds = (performance.now() - t0) / 1000;
  return { plan, claims, db, details };
}
