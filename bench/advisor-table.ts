/**
 * The README's per-sweep advisor tables, printed from a sweep's claims.json (written by `paper` or
 * bench/advisor-heldout.ts): per batch size the budget, seeds, both optimisers' test accuracy, the outcome, the
 * advisor's verdict with the rule and numbers that decided it, and whether the two agree.
 *
 * Run: npm run build && node dist/bench/advisor-table.js results/heldout-cnn-mnist/claims.json [...more]
 * (given several, it ends with the agreement summed over all of them)
 */
import { readFileSync } from 'node:fs';

/** A batch-size row: paired statistics (diff, ci95, outcome equivalent | different | inconclusive), or, in sweeps
 * recorded before them, the gap against a noise band (outcome 'same within noise' | 'SGDM higher' | 'SGD higher'). */
interface Sweep {
  batch: number; sgd: string; sgdm: string; seeds: number | string; outcome: string;
  diff?: number; ci95?: [number, number]; n?: number; gap?: number; noise?: number;
}
interface Probe {
  batch: number; eta: number; regime: string; decidedBy: string; budgetSteps: number | null; batchOverBNoise: number | null;
  sgdEtaLambda: number | null; sgdLossGap: number | null; sgdHalfEtaLambda: number | null; sgdHalfLossGap: number | null;
  wholeRunSeeds: number | null; sgdMeanGap: number | null; sgdHalfMeanGap: number | null; wholeRunEscalated?: boolean; agrees: string;
}

const pct = (g: number | null): string => (g === null ? 'diverged' : `${g >= 0 ? '+' : ''}${(100 * g).toFixed(g !== 0 && Math.abs(g) < 0.1 ? 1 : 0)}%`);
const n3 = (x: number): string => Number(x.toPrecision(3)).toString();

function advisorCell(p: Probe): string {
  if (p.decidedBy === 'whole-run') {
    const how = `${p.wholeRunEscalated === true ? 'whole run after the probe\'s rules disagreed' : 'whole run'}, ${p.wholeRunSeeds} seeds`;
    return `${p.regime} (${how}: SGD ${pct(p.sgdMeanGap)} at η = ${n3(p.eta)}, ${pct(p.sgdHalfMeanGap)} at ${n3(p.eta / 2)})`;
  }
  if (p.decidedBy === 'noise-scale') return `${p.regime} (B/B_noise = ${n3(p.batchOverBNoise!)})`;
  const at = (el: number | null, gap: number | null): string => (gap === null ? 'diverged' : `${pct(gap)}, ηλ ${el === null ? '—' : n3(el)}`);
  return `${p.regime} (shadows: SGD at η = ${n3(p.eta)} ${at(p.sgdEtaLambda, p.sgdLossGap)}; at η/2 ${at(p.sgdHalfEtaLambda, p.sgdHalfLossGap)})`;
}

const pp = (x: number): string => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(2)}`;

function outcomeCell(s: Sweep): string {
  if (s.diff !== undefined && s.ci95 !== undefined) {
    const what = s.outcome === 'different' ? (s.diff > 0 ? 'SGDM ahead' : 'SGD ahead') : s.outcome;
    return `${what} (${pp(s.diff)} pp [${pp(s.ci95[0])}, ${pp(s.ci95[1])}], n ${s.n})`;
  }
  if (s.gap === undefined || s.noise === undefined) return s.outcome;
  const band = `noise ${(100 * s.noise).toFixed(1)}`;
  if (s.outcome === 'same within noise') return `same (${s.gap >= 0 ? '+' : ''}${(100 * s.gap).toFixed(1)} pp, ${band})`;
  return `${s.outcome === 'SGDM higher' ? 'SGDM' : 'SGD'} ${s.outcome === 'SGDM higher' ? '+' : ''}${(100 * Math.abs(s.gap)).toFixed(1)} pp ahead (${band})`;
}

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node dist/bench/advisor-table.js CLAIMS.json [...]\n');
  process.exit(2);
}
let agreed = 0;
let decided = 0;
for (const f of files) {
  const c = JSON.parse(readFileSync(f, 'utf8')) as { claims: { id: string; reason: string; measurements: unknown[] }[] };
  const sweep = c.claims.find((x) => x.id === 'batch-size')?.measurements as Sweep[] | undefined;
  const adv = c.claims.find((x) => x.id === 'advisor');
  if (sweep === undefined || adv === undefined) {
    process.stderr.write(`${f}: no batch-size or advisor claim\n`);
    process.exitCode = 1;
    continue;
  }
  process.stdout.write(`${f}\n\n| B | steps | seeds | SGD (test acc.) | SGDM | outcome | advisor (decided by) | agrees |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n`);
  for (const p of adv.measurements as Probe[]) {
    const s = sweep.find((x) => x.batch === p.batch)!;
    if (p.agrees === 'yes' || p.agrees === 'NO') decided++;
    if (p.agrees === 'yes') agreed++;
    process.stdout.write(`| ${p.batch} | ${p.budgetSteps?.toLocaleString('en-US') ?? '?'} | ${s.seeds} | ${s.sgd} | ${s.sgdm} | ${outcomeCell(s)} | ${advisorCell(p)} | ${p.agrees === 'yes' ? 'yes' : p.agrees === 'NO' ? '**no**' : p.agrees} |\n`);
  }
  process.stdout.write(`\n${adv.reason}\n\n`);
}
if (files.length > 1) process.stdout.write(`all ${files.length} sweeps: ${agreed} of ${decided} decided batch sizes agree\n`);
