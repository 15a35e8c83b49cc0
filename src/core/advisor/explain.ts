/**
 * The advisor's wording: turns the structured verdict of rules.ts (`Decision`, with the `Measurements` it read) into
 * the recommendation and the reason lines that `momentum-lab advise`, the reports and claims.json print. Nothing
 * here decides; every branch below follows a field of the decision.
 */
import type {
  CoupledCheckResult, Decision, LowerShadowRun, Measurements, NoiseScaleResult, OwnRunResult, ShadowEvidence, ShadowResult, ShadowRun, WholeRunResult,
} from './rules.js';
import type { Verdict } from './verdict.js';
import { CURVATURE_LIMITED_ETA_LAMBDA, NOISE_BATCH_RATIO, NOISE_DOMINATED_ETA_LAMBDA, SGD_STABILITY_LIMIT, SUGGESTED_MOMENTUM } from './rules-thresholds.js';

/** x to `digits` significant digits, trailing zeros dropped; Infinity and NaN as themselves. */
export function fmt(x: number, digits = 3): string {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)).toString() : String(x);
}

/** A relative gap as a signed percentage: +2%, −0.5%. */
function pct(g: number): string {
  return `${g >= 0 ? '+' : ''}${fmt(100 * g, 2)}%`;
}

/** Bytes in MB (2^20) for anything ≥ 0.1 MB, else in kB or B. */
export function formatBytes(b: number): string {
  if (b >= 0.1 * 2 ** 20) return `${fmt(b / 2 ** 20)} MB`;
  if (b >= 1024) return `${fmt(b / 1024)} kB`;
  return `${b} B`;
}

/** Human-readable verdict: the recommendation, then the numbers behind it. */
export function formatVerdict(v: Verdict): string {
  return [`regime: ${v.regime}`, v.recommendation, ...v.reasons.map((r) => `  - ${r}`)].join('\n');
}

/** The recommendation and the reason lines of a decision. */
export function explain(d: Decision, x: Measurements): { recommendation: string; reasons: string[] } {
  const reasons = measuredLines(x);
  const r = d.rule;
  let recommendation: string;
  if (r.decidedBy === 'whole-run') recommendation = wholeRun(r, x, reasons);
  else if (r.decidedBy === 'noise-scale') recommendation = noiseScale(r, d.disagreement, x, reasons);
  else if (r.decidedBy === 'sgd-shadow') recommendation = shadow(r, x, reasons);
  else recommendation = ownRun(r, x, reasons);
  if (d.coupledCheck !== null) recommendation = coupledCheck(d.coupledCheck, x, reasons) ?? recommendation;
  return { recommendation, reasons };
}

/** The numbers every verdict reports first: ηλ_max, B against B_noise, the stationary split and its SVAG prediction. */
function measuredLines(x: Measurements): string[] {
  const lines = [`ηλ_max = ${fmt(x.eta)}·${fmt(x.lambdaMax)} = ${fmt(x.etaLambda)} (SGD stable below ${SGD_STABILITY_LIMIT}, SGDM(β=${x.beta}) below ${fmt(x.sgdmLimit)})`];
  lines.push(x.bNoise !== null ? `B = ${x.batch} vs B_noise = tr Σ/|∇L|² = ${fmt(x.bNoise)} (B/B_noise = ${fmt(x.batchOverBNoise!)})` : 'B_noise not measured');
  const st = x.stationary;
  if (st !== null) {
    lines.push(`stationary loss: noise-induced ηtrΣ/(4B) = ${fmt(st.noiseInduced)}, curvature-induced SGD ${fmt(st.curvatureInducedSgd)} vs SGDM ${fmt(st.curvatureInducedSgdm)} (${st.basis}); momentum removes ${fmt(100 * st.momentumRemovesFraction, 2)}%`);
    lines.push(`SVAG prediction along the sharpest direction (ℓ: SGD vs SGDM): ${st.svagSharpest.map((s) => `${s.l}: ${fmt(s.sgd)} vs ${fmt(s.sgdm)}`).join(', ')}`);
  }
  return lines;
}

/** "use SGD at lr η = …", with γ/(1−β) spelled out for the PyTorch/Keras forms. */
function sgdAt(x: Measurements): string {
  return x.form === 'normalized' ? `use SGD at lr η = ${fmt(x.eta)} (the normalised lr)` : `use SGD at lr η = γ/(1−β) = ${fmt(x.gamma)}/(1−${x.beta}) = ${fmt(x.eta)}`;
}

/** The coupled run at η in one line (with its own sharpness when measured); every rule that saw it reports it. */
function shadowLine(x: Measurements, s: ShadowRun): string {
  return s.diverged
    ? `coupled probe: SGD at η = ${fmt(x.eta)} diverged or did not train on the same batches, SGDM trained (loss ${fmt(s.sgdmLoss)})`
    : `coupled probe: SGD at η = ${fmt(x.eta)} reached loss ${fmt(s.loss)} vs SGDM ${fmt(s.sgdmLoss)} on the same batches (${pct(s.gap)})${s.lambdaMax === null ? '' : `; along its own trajectory λ_max = ${fmt(s.lambdaMax)}, ηλ = ${fmt(s.etaLambda!)} (SGD's edge: 2)`}`;
}

/** The coupled runs' lines shared by the three shadow-based rules: SGD at η, SGDM's own edge, and SGD at η/2 if `withLower`. */
function shadowLines(x: Measurements, withLower: boolean): string[] {
  const s = x.shadow!;
  const lines = [shadowLine(x, s)];
  if (x.etaLambda >= x.sgdmLimit) lines.push(`SGDM's own λ_max = ${fmt(x.lambdaMax)} reached ηλ = ${fmt(x.etaLambda)} ≥ its edge ${fmt(x.sgdmLimit)} during the probe yet SGDM trained (a catapult: sharpness falls back after the spike)`);
  if (withLower && x.lower !== null) lines.push(lowerLine(x.lower, s.sgdmLoss));
  return lines;
}

function lowerLine(lo: LowerShadowRun, sgdmLoss: number): string {
  return lo.diverged
    ? `coupled probe one grid step lower: SGD at η/2 = ${fmt(lo.eta)} diverged or did not train too`
    : `coupled probe one grid step lower: SGD at η/2 = ${fmt(lo.eta)} reached loss ${fmt(lo.loss)} vs SGDM ${fmt(sgdmLoss)} at η (${pct(lo.gap)})${lo.etaLambda === null ? '' : `, ηλ_max = ${fmt(lo.etaLambda)} along its own trajectory`}`;
}

function wholeRun(r: WholeRunResult, x: Measurements, reasons: string[]): string {
  const e = r.evidence;
  const n = e.seeds;
  reasons.push(e.escalated
    ? `the probe (${e.probeSteps ?? '?'} steps) saw only the start of the run and its rules disagreed — B = ${x.batch} ≤ ${NOISE_BATCH_RATIO}·B_noise says noise-dominated, the probe's coupled SGD runs below say curvature-limited — so SGDM and SGD at η and η/2 were run again over the whole budget (${e.budget} steps) on ${n} seed${n > 1 ? 's' : ''}, judged on the mean`
    : `the probe covered the run's whole budget (${e.budget} steps): the coupled runs below are the run itself${n > 1 ? `, repeated on ${n} seeds and judged on the mean` : ''}`);
  reasons.push(...shadowLines(x, true));
  if (n > 1 || e.escalated) {
    for (const t of e.tried) reasons.push(`over ${n} seed${n > 1 ? 's' : ''} SGD at ${fmt(t.eta)} ended ${pct(t.gap)} from SGDM on the mean loss (per seed ${t.perSeed.map(pct).join(', ')}${t.failed > 0 ? `; diverged or did not train on ${t.failed}, scored at the initial loss` : ''})`);
  }
  const over = n > 1 ? ` and ${n} seeds` : '';
  const ok = e.kept;
  if (ok !== null) {
    return `momentum has marginal value here — over the whole budget of ${e.budget} steps${over} SGD at lr ${fmt(ok.eta)} ended ${pct(ok.gap)} from SGDM on the same batches: use SGD at lr ${fmt(ok.eta)} and save ${formatBytes(x.memoryBytesSaved)}`;
  }
  const how = e.tried.map((t) => `at ${fmt(t.eta)} ${t.diverged ? 'diverged' : `ended ${pct(t.gap)} behind${t.failed > 0 ? ` (failed on ${t.failed} seed${t.failed > 1 ? 's' : ''})` : ''}`}`).join(', ');
  return `curvature-limited — keep momentum: over the whole budget of ${e.budget} steps${over}, on the same batches, SGD ${how} SGDM(β=${x.beta}) at η = ${fmt(x.eta)}`;
}

function noiseScale(r: NoiseScaleResult, disagreement: ShadowResult | null, x: Measurements, reasons: string[]): string {
  const e = r.evidence;
  reasons.push(...shadowLines(x, true));
  reasons.push(`the probe (${e.probeSteps ?? '?'} steps) saw only the start of the run (${e.budget === null ? 'budget not given' : `${e.budget} steps`}): B_noise only grows as the loss falls, so B ≤ ${NOISE_BATCH_RATIO}·B_noise decides; the coupled runs above compare early training and do not`);
  if (disagreement !== null) reasons.push(`warning: the coupled SGD runs alone would say curvature-limited (${keepMomentumBecause(disagreement.evidence, x)}); a whole-run comparison settles it — it runs when the budget is known and at most the whole-run step limit (advise --whole-run-max-steps)`);
  return `momentum has marginal value here — ${sgdAt(x)} and save ${formatBytes(x.memoryBytesSaved)} (B = ${x.batch} ≤ ${NOISE_BATCH_RATIO}·B_noise = ${NOISE_BATCH_RATIO}·${fmt(e.bNoise)}: the batch is noise-limited, so a tuned lr stays below where momentum's larger stability region matters)`;
}

const KEEP_MOMENTUM = 'curvature-limited — keep momentum: ';

function shadow(r: ShadowResult, x: Measurements, reasons: string[]): string {
  const e = r.evidence;
  reasons.push(...shadowLines(x, e.case === 'past-edge'));
  switch (e.case) {
    case 'past-edge': {
      const lo = e.lower;
      if (lo === null || !lo.keptUp) return KEEP_MOMENTUM + keepMomentumBecause(e, x);
      return `momentum has marginal value here — ${sgdPastEdge(e, x)}, but SGD one grid step lower keeps up: use SGD at lr η/2 = ${fmt(lo.eta)} (${pct(lo.gap)} loss vs SGDM over the probe, stable at ηλ_max = ${fmt(lo.etaLambda!)}) and save ${formatBytes(x.memoryBytesSaved)}`;
    }
    case 'fell-behind':
      return KEEP_MOMENTUM + keepMomentumBecause(e, x);
    case 'kept-up': {
      const why = `SGD at η kept up (${pct(e.gap)}) with ηλ_max = ${fmt(e.etaLambda)} ≤ ${fmt(NOISE_DOMINATED_ETA_LAMBDA)} along its own trajectory${e.batchOverBNoise === null ? '' : `, B = ${x.batch} ≤ ${NOISE_BATCH_RATIO}·B_noise = ${NOISE_BATCH_RATIO}·${fmt(x.bNoise!)}`}`;
      if (e.batchOverBNoise === null) reasons.push('verdict rests on the coupled probe alone: B_noise was not measured');
      return `momentum has marginal value here — ${sgdAt(x)} and save ${formatBytes(x.memoryBytesSaved)} (${why})`;
    }
    case 'inconclusive': {
      const parts: string[] = [];
      if (e.sharpnessBetween) parts.push(`SGD at η = ${fmt(x.eta)} kept up over the probe but its own ηλ_max = ${fmt(e.etaLambda)} is between ${fmt(NOISE_DOMINATED_ETA_LAMBDA)} and its edge 2 (momentum would remove ${fmt(50 * e.etaLambda, 2)}% of SGD's stationary loss along the sharpest direction)`);
      if (e.batchOverNoise) parts.push(batchOverNoisePart(x));
      return `borderline — ${parts.join('; ')}. ${sgdAt(x).replace('use SGD', 'SGD')} would save ${formatBytes(x.memoryBytesSaved)}; confirm with a longer run before dropping momentum`;
    }
  }
}

/** SGD at η past its edge, in words: diverged, or its own ηλ_max ≥ 2. */
function sgdPastEdge(e: Extract<ShadowEvidence, { case: 'past-edge' }>, x: Measurements): string {
  return e.diverged
    ? `SGD at η = ${fmt(x.eta)} diverged in the coupled probe while SGDM(β=${x.beta}) trained`
    : `SGD at η = ${fmt(x.eta)} reached ηλ_max = ${fmt(e.etaLambda!)} ≥ 2 along its own trajectory (at or past its edge of stability; loss ${fmt(e.loss)} vs SGDM ${fmt(e.sgdmLoss)}), while SGDM(β=${x.beta}) is stable up to ${fmt(x.sgdmLimit)}`;
}

/** Why the shadow rule says curvature-limited (the text after "keep momentum: "): SGD at η fell behind or was past its edge. */
function keepMomentumBecause(e: ShadowEvidence, x: Measurements): string {
  if (e.case === 'fell-behind') return `SGD at η = ${fmt(x.eta)} stayed stable (ηλ_max = ${fmt(e.etaLambda)} < 2) but fell ${fmt(100 * e.gap, 2)}% behind SGDM on the same batches`;
  if (e.case !== 'past-edge') throw new Error(`shadow rule: '${e.case}' does not keep momentum`);
  const atEta = sgdPastEdge(e, x);
  const lo = e.lower;
  if (lo === null) return atEta;
  const why = lo.diverged ? 'diverged too' : lo.etaLambda !== null && lo.etaLambda >= SGD_STABILITY_LIMIT ? `is past its edge too (ηλ_max = ${fmt(lo.etaLambda)})` : `fell ${fmt(100 * lo.gap, 2)}% behind`;
  return `${atEta}; SGD at η/2 = ${fmt(lo.eta)} ${why}`;
}

function batchOverNoisePart(x: Measurements): string {
  return `B = ${x.batch} exceeds ${NOISE_BATCH_RATIO}·B_noise = ${NOISE_BATCH_RATIO}·${fmt(x.bNoise!)}, so a larger lr — where momentum starts to matter — is within reach`;
}

function ownRun(r: OwnRunResult, x: Measurements, reasons: string[]): string {
  const e = r.evidence;
  const { eta, etaLambda, sgdmLimit } = x;
  // A plain-SGD config is told what SGDM(β = SUGGESTED_MOMENTUM) at the same η would cost and allow.
  const b = SUGGESTED_MOMENTUM;
  const withMomentum = `SGDM with β = ${b} at the same η (PyTorch lr γ = η(1−β) = ${fmt(eta * (1 - b))}) is stable up to ηλ = ${fmt(x.suggestedSgdmLimit)}, at a cost of ${formatBytes(x.bufferBytes)}`;
  switch (e.case) {
    case 'diverged':
      // 'diverged' also covers a probe whose loss ended above its start.
      reasons.push('the probe diverged or ended with a loss above its start');
      if (e.momentumWouldStabilise) return `the probe diverged: plain SGD at ηλ_max = ${fmt(etaLambda)} ≥ 2 is deterministically unstable — momentum would help: ${withMomentum}; or lower the lr`;
      if (e.sgdmStable) return `the probe diverged or did not reduce the loss although ηλ_max = ${fmt(etaLambda)} is inside SGDM's deterministic stability region (< ${fmt(sgdmLimit)}): noise-driven instability, which momentum does not cure — lower η (SGD at the same η diverges too)`;
      return `the probe diverged or did not reduce the loss: ηλ_max = ${fmt(etaLambda)} exceeds even SGDM's stability limit ${fmt(sgdmLimit)} — lower the lr`;
    case 'curvature':
      if (!e.sgdmStable) return `curvature-limited and unstable even with momentum (ηλ_max = ${fmt(etaLambda)} ≥ ${fmt(sgdmLimit)}) — lower the lr`;
      if (e.usesMomentum) {
        return e.sgdStable
          ? `curvature-limited — keep momentum: ηλ_max = ${fmt(etaLambda)}, so ${fmt(100 * etaLambda / 2, 2)}% of SGD's stationary loss along the sharpest direction is curvature-induced, which momentum removes`
          : `curvature-limited — keep momentum: SGD at η = ${fmt(eta)} would be unstable (ηλ_max = ${fmt(etaLambda)} ≥ 2), SGDM(β=${x.beta}) is stable up to ${fmt(sgdmLimit)}`;
      }
      return `curvature-limited — momentum would help: ${e.sgdStable ? `ηλ_max = ${fmt(etaLambda)} is close to SGD's limit 2` : `SGD is unstable here (ηλ_max = ${fmt(etaLambda)} ≥ 2)`}; ${withMomentum}`;
    case 'noise': {
      const why = `ηλ_max = ${fmt(etaLambda)} ≤ ${fmt(NOISE_DOMINATED_ETA_LAMBDA)}${e.batchOverBNoise === null ? '' : `, B = ${x.batch} ≤ ${NOISE_BATCH_RATIO}·B_noise = ${NOISE_BATCH_RATIO}·${fmt(x.bNoise!)}`}`;
      if (e.batchOverBNoise === null) reasons.push('verdict rests on ηλ_max alone: B_noise was not measured');
      return e.usesMomentum
        ? `momentum has marginal value here — ${sgdAt(x)} and save ${formatBytes(x.memoryBytesSaved)} (${why})`
        : `momentum has marginal value here — plain SGD at η = ${fmt(eta)} is the right choice (${why})`;
    }
    case 'between': {
      const parts: string[] = [];
      if (e.sharpnessBetween) parts.push(`ηλ_max = ${fmt(etaLambda)} is between ${fmt(NOISE_DOMINATED_ETA_LAMBDA)} and ${CURVATURE_LIMITED_ETA_LAMBDA}`);
      if (e.batchOverNoise) parts.push(batchOverNoisePart(x));
      const st = x.stationary;
      return e.usesMomentum
        ? `borderline — ${parts.join('; ')}. At this lr SGD (${sgdAt(x).replace('use SGD at ', '')}) would save ${formatBytes(x.memoryBytesSaved)}${st !== null ? `; momentum removes ${fmt(100 * st.momentumRemovesFraction, 2)}% of SGD's stationary loss (${st.basis.startsWith('upper') ? 'upper bound' : 'estimate'})` : ''}; keep momentum if you plan to raise the lr`
        : `borderline — ${parts.join('; ')}`;
    }
  }
}

/** The coupled probe's line, and its recommendation when it overrode or reworded the own-run rule (else null). */
function coupledCheck(c: CoupledCheckResult, x: Measurements, reasons: string[]): string | null {
  const e = c.evidence;
  reasons.push(shadowLine(x, x.shadow!));
  switch (e.case) {
    case 'kept-up':
      return `borderline — ηλ_max = ${fmt(x.etaLambda)} measured under SGDM says curvature matters, but SGD at η = ${fmt(x.eta)} kept up over the probe (loss ${fmt(e.loss)} vs ${fmt(e.sgdmLoss)}): sharpness adapts to the optimizer (edge of stability). ${sgdAt(x).replace('use SGD', 'SGD')} would save ${formatBytes(x.memoryBytesSaved)}; confirm with a longer run before dropping momentum`;
    case 'fell-behind':
      return `curvature-limited — keep momentum: SGD at η = ${fmt(x.eta)} trained but fell ${fmt(100 * e.gap, 2)}% behind SGDM on the same batches, and ηλ_max = ${fmt(x.etaLambda)} under SGDM (SGD needs < 2 there; SGDM(β=${x.beta}) < ${fmt(x.sgdmLimit)})`;
    case 'behind-marginal':
      return `borderline — the sharpness and noise numbers say momentum is marginal, but SGD at η = ${fmt(x.eta)} fell ${fmt(100 * e.gap, 2)}% behind SGDM over the probe; keep momentum unless a longer comparison says otherwise`;
    case 'consistent':
      return null;
  }
}
