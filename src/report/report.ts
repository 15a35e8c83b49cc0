/**
 * `writeReport`: one self-contained HTML file (charts inlined as SVG, styles inline, no scripts, no network), the
 * charts as separate SVG files for papers, and the tables as Markdown and CSV.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../core/util/errors.js';
import { bestGroups, bestVsBatchChart, curvesChart, gapVsSvagChart, metricVsLrChart, renderSvg, type Chart } from './charts.js';
import { findStores, finalValue, fmt, groupRuns, loadRuns, meanStd, tagsOf, unfinishedCounts, type Group, type ReportRun } from './data.js';

export interface ReportOptions {
  /** Output folder (created). */
  outDir: string;
  /** The metric for lr and batch-size plots (default: test/accuracy, else valid/accuracy, else valid/loss, …). */
  metric?: string;
  /** The metric that picks the best lr per setting for the curves (default: valid/loss if logged, else `metric`). */
  selectMetric?: string;
  title?: string;
}

export interface ReportResult {
  html: string;
  charts: { name: string; svg: string; title: string }[];
  tables: string[];
  runs: number;
  omitted: string[];
}

export interface Table { name: string; title: string; header: string[]; rows: (string | number)[][] }

function pickMetric(tags: string[], preferred: string[]): string | undefined {
  return preferred.find((t) => tags.includes(t)) ?? tags[0];
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function csv(t: Table): string {
  const cell = (v: string | number): string => {
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [t.header, ...t.rows].map((r) => r.map(cell).join(',')).join('\n') + '\n';
}

function markdown(t: Table): string {
  const line = (r: (string | number)[]): string => `| ${r.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [`## ${t.title}`, '', line(t.header), line(t.header.map(() => '---')), ...t.rows.map(line), ''].join('\n');
}

function htmlTable(t: Table): string {
  return `<table><thead><tr>${t.header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${t.rows.map((r) => `<tr>${r.map((c) => `<td>${esc(String(c))}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function pm(xs: number[]): string {
  const { mean, std, n } = meanStd(xs);
  if (n === 0) return '—';
  return n > 1 ? `${fmt(mean)} ± ${fmt(std)}` : fmt(mean);
}

function groupTable(groups: Group[], metric: string, selectMetric: string): Table {
  return {
    name: 'runs',
    title: `All settings: final ${metric} (mean ± std over seeds)`,
    header: ['optimizer', 'η (effective lr)', 'γ (optimizer lr)', 'β', 'batch', 'ℓ', 'seeds', 'diverged', `final ${metric}`, `final ${selectMetric}`],
    rows: groups.map((g) => {
      const c = g.runs[0]!.config.optimizer;
      const div = g.runs.filter((r) => r.status === 'diverged');
      return [g.optimizer, fmt(g.effectiveLr), fmt(c.lr), g.momentum, g.batchSize, g.svag, g.runs.length,
        div.length === 0 ? 0 : `${div.length} (step ${div.map((r) => r.divergedAtStep).join(', ')})`,
        pm(g.runs.map((r) => finalValue(r, metric))), pm(g.runs.map((r) => finalValue(r, selectMetric)))];
    }),
  };
}

function bestTable(groups: Group[], metric: string, selectMetric: string): Table {
  const best = bestGroups(groups, selectMetric);
  return {
    name: 'best',
    title: `Best lr per setting (by final ${selectMetric})`,
    header: ['optimizer', 'batch', 'ℓ', 'best η', 'seeds', `final ${selectMetric}`, `final ${metric}`],
    rows: best.map((g) => [g.optimizer, g.batchSize, g.svag, fmt(g.effectiveLr), g.runs.length,
      pm(g.runs.map((r) => finalValue(r, selectMetric))), pm(g.runs.map((r) => finalValue(r, metric)))]),
  };
}

/** Counts SVG mark elements (path, rect, line, circle, symbol paths) inside a chart's mark groups. */
export function countMarks(svg: string): number {
  return (svg.match(/<g[^>]*class="mark-(?:line|area|symbol|rule|rect)[^"]*"[^>]*>(?:<path|<line|<rect|<circle)/g) ?? []).length;
}

export async function writeReport(source: string | string[] | ReportRun[], opts: ReportOptions): Promise<ReportResult> {
  const dbs = typeof source === 'string' ? findStores(source) : null;
  const paths = dbs ?? (Array.isArray(source) && typeof source[0] === 'string' ? (source as string[]) : null);
  const runs = paths !== null ? loadRuns(paths) : (source as ReportRun[]);
  const unfinished = paths !== null ? unfinishedCounts(paths) : {};
  const unfinishedNote = Object.entries(unfinished).map(([k, v]) => `${v} ${k}`).join(', ');
  if (runs.length === 0) throw new UserError('report: the results store has no finished runs yet (run a sweep first)');
  const tags = tagsOf(runs);
  const metric = opts.metric ?? pickMetric(tags, ['test/accuracy', 'valid/accuracy', 'test/loss', 'valid/loss', 'train/loss'])!;
  const selectMetric = opts.selectMetric ?? pickMetric(tags, ['valid/loss', metric])!;
  if (!tags.includes(metric)) throw new UserError(`report: --metric ${metric} was not logged (available: ${tags.join(', ')})`);
  const groups = groupRuns(runs);

  const candidates: (Chart | null)[] = [];
  const omitted: string[] = [];
  for (const t of [selectMetric, 'train/loss', metric].filter((x, i, a) => tags.includes(x) && a.indexOf(x) === i)) candidates.push(curvesChart(groups, t, selectMetric));
  candidates.push(metricVsLrChart(groups, metric));
  const bb = bestVsBatchChart(groups, metric);
  if (bb === null) omitted.push('best metric vs batch size (needs ≥ 2 batch sizes)');
  const gap = gapVsSvagChart(groups, metric);
  if (gap === null) omitted.push('SGDM advantage vs SVAG ℓ (needs ≥ 2 SVAG levels with SGD and SGDM)');
  candidates.push(bb, gap);
  const charts = candidates.filter((c): c is Chart => c !== null);
  for (const c of charts) c.svg = await renderSvg(c.spec);

  const out = resolve(opts.outDir);
  mkdirSync(join(out, 'charts'), { recursive: true });
  mkdirSync(join(out, 'tables'), { recursive: true });
  const chartFiles = charts.map((c) => {
    const p = join(out, 'charts', `${c.name}.svg`);
    writeFileSync(p, c.svg!);
    writeFileSync(join(out, 'charts', `${c.name}.vl.json`), JSON.stringify(c.spec, null, 1));
    return { name: c.name, svg: p, title: c.title };
  });
  const tables = [bestTable(groups, metric, selectMetric), groupTable(groups, metric, selectMetric)];
  const tableFiles: string[] = [];
  for (const t of tables) {
    writeFileSync(join(out, 'tables', `${t.name}.csv`), csv(t));
    tableFiles.push(join(out, 'tables', `${t.name}.csv`));
  }
  writeFileSync(join(out, 'tables', 'tables.md'), tables.map(markdown).join('\n'));
  tableFiles.push(join(out, 'tables', 'tables.md'));

  const nDiv = runs.filter((r) => r.status === 'diverged').length;
  const title = opts.title ?? 'momentum-lab report';
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}.sub{color:#666;margin-top:0}
.charts{display:flex;flex-wrap:wrap;gap:1.5rem}figure{margin:0;flex:1 1 520px;border:1px solid #e4e4e4;border-radius:6px;padding:.6rem;background:#fff}
figure svg{max-width:100%;height:auto}figcaption{font-size:.9rem;color:#444;margin-top:.4rem}
table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0 1.5rem}th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}.note{font-size:.9rem;color:#555}
</style></head><body>
<h1>${esc(title)}</h1>
<p class="sub">${runs.length} finished runs (${nDiv} diverged, kept in every table and plot) in ${groups.length} settings × seeds; metric: <b>${esc(metric)}</b>; best lr chosen by final <b>${esc(selectMetric)}</b>. Sources: ${esc((paths ?? []).join(', ') || 'in-memory runs')}.${unfinishedNote === '' ? '' : ` Not shown (no results yet): ${esc(unfinishedNote)} runs.`}</p>
<p class="note">SGD and SGDM are compared at matched effective learning rate η = γ/(1−β) (the paper's Eq. 1 parameterisation; PyTorch form unless noted). Every run's optimizer form, dampening, first-step rule and weight-decay placement are stored with it in the results store (<code>momentum-lab runs export DB --format jsonl</code>).</p>
<section class="charts">
${charts.map((c) => `<figure id="${esc(c.name)}" class="chart" data-chart="${esc(c.name)}">${c.svg!.replace(/^<\?xml[^>]*>/, '')}<figcaption><b>${esc(c.title)}.</b> ${esc(c.caption)}</figcaption></figure>`).join('\n')}
</section>
${omitted.length > 0 ? `<p class="note">Not drawn for this data: ${esc(omitted.join('; '))}.</p>` : ''}
${tables.map((t) => `<h2>${esc(t.title)}</h2>${htmlTable(t)}`).join('\n')}
</body></html>
`;
  const htmlPath = join(out, 'index.html');
  writeFileSync(htmlPath, html);
  return { html: htmlPath, charts: chartFiles, tables: tableFiles, runs: runs.length, omitted };
}
