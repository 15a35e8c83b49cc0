/**
 * The paper suite's report: `report.html` (self-contained: inline SVG charts, no scripts, no network) with the claim
 * verdicts first, then the evidence per experiment, plus `claims.json` and the charts as SVG files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PaperResult } from '../experiments/paper/suite.js';
import { ResultsStore } from '../node/store.js';
import { getCheck } from '../core/theory/index.js';
import { REGIME_RULE, statisticsRule } from '../experiments/paper/claims.js';
import { curvesChart, metricVsLrChart, renderSvg, type Chart } from './charts.js';
import { pairChart } from './claim-charts.js';
import { groupRuns, loadRuns, type ReportRun } from './data.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function runsOf(db: string, sweeps: string[]): ReportRun[] {
  const store = new ResultsStore(db, { readonly: true });
  const hashes = new Set(sweeps.flatMap((s) => store.sweepMembers(s).map((m) => m.hash)));
  store.close();
  return loadRuns([db]).filter((r) => hashes.has(r.hash));
}

/** claims.json: each claim with its statement, measurements, criterion and verdict, and how it was obtained. */
export function claimsJson(r: PaperResult): Record<string, unknown> {
  return {
    tool: 'momentum-lab paper',
    mode: r.plan.mode,
    dataset: r.plan.dataset,
    reductions: r.plan.reductions,
    seconds: r.details.seconds,
    // How every SGD/SGDM comparison is judged, and the regime rule of the batch-size claim, fixed before the runs.
    margin: r.plan.margin,
    statistics: statisticsRule(r.plan.margin),
    regimeRule: REGIME_RULE,
    // Steps per run at each batch size (tuning runs train on the set less the hold-out).
    batchBudgets: r.details.batchBudgets,
    // The tuned effective lr of each optimiser at each batch size (validation accuracy on the held-out samples).
    batchSelections: r.details.batchSelections,
    // Fine-tuning: each optimiser's lr per K, chosen on the K-shot validation split.
    fineTuneSelections: r.details.fineTuneSelections,
    // The masked-LM text experiment: pre-training curve, each optimiser's lr per (task, K), the controls.
    text: r.details.text,
    claims: r.claims,
  };
}

export async function writePaperReport(r: PaperResult, outDir: string): Promise<{ html: string; claims: string; charts: string[] }> {
  const out = resolve(outDir);
  mkdirSync(join(out, 'charts'), { recursive: true });
  const sections: { title: string; intro: string; charts: Chart[] }[] = [];

  const bsTune = groupRuns(runsOf(r.db, ['paper/batch-size/tune']));
  if (bsTune.length > 0) {
    const claim = r.claims.find((c) => c.id === 'batch-size');
    const charts = [
      claim === undefined ? null : pairChart('batch-size-best', 'Best test accuracy vs batch size', 'SGD and SGDM at their own best effective lr per batch size, mean ± std over seeds (a diverged seed counts as chance). The paper: equal at small and medium batch, SGDM ahead only at large batch.', claim.measurements, 'batch', 'batch size B'),
      metricVsLrChart(bsTune, 'valid/accuracy'),
    ].filter((c): c is Chart => c !== null);
    sections.push({ title: '1. Batch-size sweep', intro: 'Best SGD and SGDM (β = 0.9) test accuracy per batch size (lr tuned on held-out training data, best re-run with several seeds), and the tuning grid on the effective-lr axis η = γ/(1−β).', charts });
  }
  const sv = groupRuns(runsOf(r.db, ['paper/svag']));
  if (sv.length > 0) {
    const claim = r.claims.find((c) => c.id === 'svag');
    const charts = [
      claim === undefined ? null : pairChart('svag-vs-l', 'Test accuracy vs SVAG level ℓ', 'Same effective lr for both (SGDM\'s best at this batch size), mean ± std over seeds; a diverged seed counts as chance. The paper: SGDM ahead at ℓ = 1, the gap closes as ℓ grows.', claim.measurements, 'l', 'SVAG level ℓ'),
      curvesChart(sv, 'test/accuracy', 'test/accuracy'),
    ].filter((c): c is Chart => c !== null);
    sections.push({ title: '2. SVAG at large batch', intro: `SGD and SGDM at SGDM's best effective lr η = ${r.details.svagEta?.toPrecision(3) ?? '—'}, ×0.1 decays at 50% and 75% of training; curves on effective steps (one epoch = ℓ × the steps).`, charts });
  }
  const ftClaim = r.claims.find((c) => c.id === 'fine-tuning');
  if (ftClaim !== undefined && ftClaim.measurements.length > 0) {
    sections.push({ title: '3. Fine-tuning', intro: `${r.details.fineTuneShift ?? ''}. Test accuracy after fine-tuning the whole network, mean ± std over the data seeds; each optimiser's lr chosen per K by mean accuracy over the seeds on a validation split of min(K, ${r.plan.fineTune.maxValidationShot}) examples per class drawn from the training pool, disjoint from the K-shot sample, never on test.`, charts: [pairChart('fine-tuning-vs-k', 'Fine-tuning: test accuracy vs K', `Mean ± std over the data seeds; the claim is that the two are equivalent within ±${(100 * r.plan.margin).toFixed(0)} pp at every K.`, ftClaim.measurements, 'k', 'K (examples per class)')] });
  }
  const textClaim = r.claims.find((c) => c.id === 'fine-tuning-text');
  const text = r.details.text;
  if (textClaim !== undefined && text !== null) {
    const pt = text.pretraining;
    const curve: Chart = {
      name: 'text-pretraining', title: 'Masked-LM pre-training: held-out loss', caption: `Nats per masked token on held-out emails; the dashed line is the unigram baseline (${pt.unigramLoss.toFixed(3)}). Final ${pt.mlmLoss.toFixed(3)} (perplexity ${Math.exp(pt.mlmLoss).toFixed(0)} vs ${Math.exp(pt.unigramLoss).toFixed(0)}).`,
      spec: {
        width: 480, height: 280, background: 'white',
        layer: [
          { data: { values: pt.curve }, mark: { type: 'line', point: true }, encoding: { x: { field: 'step', type: 'quantitative', title: 'step' }, y: { field: 'loss', type: 'quantitative', title: 'held-out MLM loss', scale: { zero: false } } } },
          { data: { values: [{ unigram: pt.unigramLoss }] }, mark: { type: 'rule', strokeDash: [6, 4] }, encoding: { y: { field: 'unigram', type: 'quantitative' } } },
        ],
      },
    };
    const byTask = text.tasks.map((t) => pairChart(`text-${t.task}-vs-k`, `Prompt fine-tuning (${t.classes.join(' / ')}): test accuracy vs K`, `Mean ± std over the data seeds; majority class ${(100 * t.majority).toFixed(1)}%. The claim: equivalent within ±${(100 * r.plan.margin).toFixed(0)} pp at every K.`, textClaim.measurements.filter((m) => m.task === t.task), 'k', 'K (examples per class)'));
    const controls = text.controls.map((c) => `${c.task} ${c.variant}${c.k > 0 ? ` K = ${c.k}` : ''}: ${(100 * c.accuracies.reduce((a, b) => a + b, 0) / c.accuracies.length).toFixed(1)}%`).join('; ');
    sections.push({ title: '3b. Fine-tuning a masked LM on text', intro: `A ${pt.parameters.toLocaleString('en-US')}-parameter transformer pre-trained as a masked LM for ${pt.steps} steps on ${pt.trainSequences} windows of SpamAssassin email bodies (BPE vocabulary ${pt.vocab}), then fine-tuned K-shot through a prompt ("this message is [MASK] :", label words ${text.tasks.map((t) => t.labelWords.join('/')).join(', ')}) with SGD and SGDM at matched effective lr, each lr chosen on a K-shot validation sample. Controls (SGDM, test accuracy): ${controls}. Reductions: ${text.reductions.join('; ')}.`, charts: [curve, ...byTask] });
  }
  const theoryCharts: Chart[] = r.details.theory.map((t) => ({ name: `theory-${t.check}`, title: `theory: ${t.check}`, caption: t.criterion, spec: getCheck(t.check).chart(t) }));
  if (theoryCharts.length > 0) sections.push({ title: '4. Theory lab', intro: 'Seeded float64 simulations against closed forms (docs/theory.md §3–§5).', charts: theoryCharts });
  for (const s of sections) for (const c of s.charts) c.svg = await renderSvg(c.spec);
  const chartFiles: string[] = [];
  for (const s of sections) for (const c of s.charts) {
    const p = join(out, 'charts', `${c.name}.svg`);
    writeFileSync(p, c.svg!);
    chartFiles.push(p);
  }

  const color = { supported: '#1a7f37', 'not supported': '#b42318', inconclusive: '#9a6700' } as const;
  const claimRows = r.claims.map((c) => `<tr><td>${esc(c.id)}</td><td style="text-align:left">${esc(c.statement)}</td><td style="color:${color[c.verdict]};font-weight:600">${esc(c.verdict)}</td><td style="text-align:left">${esc(c.reason)}</td></tr>`).join('\n');
  const measurementTable = (rows: Record<string, unknown>[]): string => {
    if (rows.length === 0) return '';
    const keys = Object.keys(rows[0]!).filter((k) => !/Mean$|Std$/.test(k));
    const num = (v: number): string => (Number.isInteger(v) ? String(v) : Number.isNaN(v) ? '—' : v.toPrecision(4));
    const cell = (v: unknown): string => (typeof v === 'number' ? num(v) : Array.isArray(v) ? `[${v.map((x) => (typeof x === 'number' ? num(x) : esc(String(x)))).join(', ')}]` : esc(String(v ?? '—')));
    return `<table><thead><tr>${keys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr></thead><tbody>${rows.map((row) => `<tr>${keys.map((k) => `<td>${cell(row[k])}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
  };
  const claimDetails = r.claims.map((c) => `<h3 id="claim-${esc(c.id)}">${esc(c.id)} — <span style="color:${color[c.verdict]}">${esc(c.verdict)}</span></h3><p>${esc(c.statement)}</p><p class="note"><b>Criterion:</b> ${esc(c.criterion)}<br><b>Result:</b> ${esc(c.reason)}</p>${measurementTable(c.measurements)}`).join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>momentum-lab: The Marginal Value of Momentum, reproduced at CPU scale</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1150px;padding:0 1rem;color:#222;line-height:1.45}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}figure{margin:0;flex:1 1 480px;border:1px solid #e4e4e4;border-radius:6px;padding:.6rem;background:#fff}
figure svg{max-width:100%;height:auto}figcaption{font-size:.9rem;color:#444;margin-top:.4rem}
table{border-collapse:collapse;font-size:.86rem;margin:.5rem 0 1.2rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;vertical-align:top}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}#claims th,#claims td{text-align:left}.note{font-size:.9rem;color:#555}
</style></head><body>
<h1>The Marginal Value of Momentum for Small Learning Rate SGD — reproduced at CPU scale</h1>
<p class="note">Wang, Malladi, Wang, Lyu, Li (ICLR 2024). Mode <b>${esc(r.plan.mode)}</b> on <b>${esc(r.plan.dataset)}</b>, ${r.details.seconds.toFixed(0)} s. Verdicts are computed from the measurements below; a claim that does not reproduce is reported as such.${r.plan.reductions.length > 0 ? ` Reduced protocol: ${esc(r.plan.reductions.join('; '))}.` : ''}</p>
<h2>Claims</h2>
<p class="note" id="rules"><b>How each claim is judged</b> (fixed before the runs): ${esc(statisticsRule(r.plan.margin))}. Batch-size regimes: ${esc(REGIME_RULE)}.${r.details.batchBudgets.length > 0 ? ` Budget per batch size (steps per run, tuning / final): ${esc(r.details.batchBudgets.map((b) => `B = ${b.batch}: ${b.tuneSteps} / ${b.finalSteps}`).join(', '))}${r.plan.batchSweep.schedule === null ? ', constant lr' : `, linear warm-up over ${100 * r.plan.batchSweep.schedule.warmup}% then ×0.1 at ${r.plan.batchSweep.schedule.decayAt.map((f) => `${100 * f}%`).join(' and ')}`}.` : ''}</p>
<table id="claims"><thead><tr><th>claim</th><th>statement</th><th>verdict</th><th>why</th></tr></thead><tbody>
${claimRows}
</tbody></table>
${sections.map((s) => `<h2>${esc(s.title)}</h2><p class="note">${esc(s.intro)}</p><section class="charts">${s.charts.map((c) => `<figure id="${esc(c.name)}" class="chart" data-chart="${esc(c.name)}">${c.svg!.replace(/^<\?xml[^>]*>/, '')}<figcaption><b>${esc(c.title)}.</b> ${esc(c.caption)}</figcaption></figure>`).join('\n')}</section>`).join('\n')}
<h2>Measurements behind each claim</h2>
${claimDetails}
</body></html>
`;
  const htmlPath = join(out, 'report.html');
  writeFileSync(htmlPath, html);
  const claimsPath = join(out, 'claims.json');
  writeFileSync(claimsPath, JSON.stringify(claimsJson(r), null, 2) + '\n');
  return { html: htmlPath, claims: claimsPath, charts: chartFiles };
}
