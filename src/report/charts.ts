/**
 * The report's charts as Vega-Lite specs, rendered to SVG in Node (vega's headless `toSVG`), so the HTML report
 * needs no chart library and no network at view time.
 *   curves        mean ± std over seeds of a metric vs epoch, best lr per setting
 *   metric-vs-lr  final metric vs effective lr η = γ/(1−β) (log axis) for SGD and SGDM, ± std, diverged runs marked
 *   best-vs-batch best (over lr) final metric vs batch size
 *   gap-vs-svag   SGDM's advantage over SGD (best over lr each) vs SVAG ℓ
 */
import { finalValue, maximise, meanCurve, meanStd, type Group } from './data.js';

export interface Chart {
  name: string;
  title: string;
  caption: string;
  spec: Record<string, unknown>;
  svg?: string;
}

const WIDTH = 520;
const HEIGHT = 300;

function base(title: string): Record<string, unknown> {
  return { title, width: WIDTH, height: HEIGHT, background: 'white', config: { font: 'sans-serif', legend: { labelLimit: 320, symbolOpacity: 1 } } };
}

/** For each setting, the group (lr) with the best mean final `tag`; ties keep the smaller lr. */
export function bestGroups(groups: Group[], tag: string): Group[] {
  const max = maximise(tag);
  const best = new Map<string, { g: Group; v: number }>();
  for (const g of groups) {
    const v = meanStd(g.runs.map((r) => finalValue(r, tag))).mean;
    const score = Number.isFinite(v) && !g.runs.some((r) => r.status === 'diverged') ? v : max ? -Infinity : Infinity;
    const cur = best.get(g.setting);
    if (cur === undefined || (max ? score > cur.v : score < cur.v)) best.set(g.setting, { g, v: score });
  }
  return [...best.values()].map((x) => x.g);
}

export function curvesChart(groups: Group[], tag: string, selectTag: string): Chart | null {
  const chosen = bestGroups(groups, selectTag).slice(0, 12);
  const values = chosen.flatMap((g) => meanCurve(g, tag).map((p) => ({ ...p, series: g.label, n: g.runs.length })));
  if (values.length === 0) return null;
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch' };
  return {
    name: `curves-${tag.replace(/\W+/g, '-')}`,
    title: `${tag} (mean ± std over seeds)`,
    caption: `${tag} against epochs for the best lr of each setting (chosen by final ${selectTag}); the band is ± one standard deviation over seeds.`,
    spec: {
      ...base(`${tag}, mean ± std over seeds`),
      data: { values },
      layer: [
        { mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: tag, scale: { zero: false } }, color: { field: 'series', type: 'nominal', title: null } } },
        { mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal', title: null } } },
      ],
    },
  };
}

function seriesName(g: Group, groups: Group[]): string {
  const multiB = new Set(groups.map((x) => x.batchSize)).size > 1;
  const multiL = new Set(groups.map((x) => x.svag)).size > 1;
  return `${g.optimizer}${multiB ? ` B=${g.batchSize}` : ''}${multiL ? ` ℓ=${g.svag}` : ''}`;
}

export function metricVsLrChart(groups: Group[], tag: string): Chart | null {
  const values = groups.map((g) => {
    const { mean, std, n } = meanStd(g.runs.map((r) => finalValue(r, tag)));
    const diverged = g.runs.filter((r) => r.status === 'diverged').length;
    return { eta: g.effectiveLr, mean, lo: mean - std, hi: mean + std, n, diverged, outcome: diverged > 0 ? 'diverged (initial value)' : 'finished', series: seriesName(g, groups) };
  }).filter((v) => Number.isFinite(v.mean));
  if (values.length === 0) return null;
  const x = { field: 'eta', type: 'quantitative', title: 'effective learning rate η = γ/(1−β)', scale: { type: 'log' } };
  const color = { field: 'series', type: 'nominal', title: null };
  return {
    name: `${tag.replace(/\W+/g, '-')}-vs-lr`,
    title: `final ${tag} vs effective lr`,
    caption: `Final ${tag} (mean ± std over seeds) against the effective learning rate, so SGD and SGDM are compared at matched η. Crosses mark settings with a diverged run, plotted at the initial value (DeepOBS).`,
    spec: {
      ...base(`final ${tag} vs effective learning rate`),
      data: { values },
      layer: [
        { mark: { type: 'rule' }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: `final ${tag}`, scale: { zero: false } }, y2: { field: 'hi' }, color } },
        { mark: { type: 'line', point: false }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y: { field: 'mean', type: 'quantitative' }, color, shape: { field: 'outcome', type: 'nominal', title: null, scale: { domain: ['finished', 'diverged (initial value)'], range: ['circle', 'cross'] } } } },
      ],
    },
  };
}

/** Best mean final value over lr for each (optimizer, batch size, ℓ). */
function bestOverLr(groups: Group[], tag: string): { optimizer: string; momentum: number; batchSize: number; svag: number; best: number; eta: number }[] {
  const max = maximise(tag);
  const m = new Map<string, { optimizer: string; momentum: number; batchSize: number; svag: number; best: number; eta: number }>();
  for (const g of groups) {
    if (g.runs.some((r) => r.status === 'diverged')) continue;
    const v = meanStd(g.runs.map((r) => finalValue(r, tag))).mean;
    if (!Number.isFinite(v)) continue;
    const key = `${g.optimizer}|${g.batchSize}|${g.svag}|${g.schedule}`;
    const cur = m.get(key);
    if (cur === undefined || (max ? v > cur.best : v < cur.best)) m.set(key, { optimizer: g.optimizer, momentum: g.momentum, batchSize: g.batchSize, svag: g.svag, best: v, eta: g.effectiveLr });
  }
  return [...m.values()];
}

export function bestVsBatchChart(groups: Group[], tag: string): Chart | null {
  const rows = bestOverLr(groups, tag);
  if (new Set(rows.map((r) => r.batchSize)).size < 2) return null;
  const multiL = new Set(rows.map((r) => r.svag)).size > 1;
  const values = rows.map((r) => ({ ...r, series: `${r.optimizer}${multiL ? ` ℓ=${r.svag}` : ''}` }));
  const x = { field: 'batchSize', type: 'quantitative', title: 'batch size', scale: { type: 'log', base: 2 }, axis: { values: [...new Set(rows.map((r) => r.batchSize))].sort((a, b) => a - b), format: 'd' } };
  const color = { field: 'series', type: 'nominal', title: null };
  return {
    name: `best-${tag.replace(/\W+/g, '-')}-vs-batch`,
    title: `best ${tag} vs batch size`,
    caption: `Best final ${tag} over the lr grid (mean over seeds) at each batch size. The paper: SGD ≈ SGDM at small and medium batch; SGDM ahead only at very large batch.`,
    spec: {
      ...base(`best final ${tag} (over lr) vs batch size`),
      data: { values },
      layer: [
        { mark: { type: 'line' }, encoding: { x, y: { field: 'best', type: 'quantitative', title: `best final ${tag}`, scale: { zero: false } }, color } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x, y: { field: 'best', type: 'quantitative' }, color, tooltip: [{ field: 'eta', title: 'best η' }] } },
      ],
    },
  };
}

export function gapVsSvagChart(groups: Group[], tag: string): Chart | null {
  const rows = bestOverLr(groups, tag);
  if (new Set(rows.map((r) => r.svag)).size < 2) return null;
  const sign = maximise(tag) ? 1 : -1;
  const values: { svag: number; gap: number; series: string }[] = [];
  for (const sgdm of rows.filter((r) => r.optimizer !== 'SGD')) {
    const sgd = rows.find((r) => r.optimizer === 'SGD' && r.batchSize === sgdm.batchSize && r.svag === sgdm.svag);
    if (sgd === undefined) continue;
    values.push({ svag: sgdm.svag, gap: sign * (sgdm.best - sgd.best), series: `${sgdm.optimizer} − SGD, B=${sgdm.batchSize}` });
  }
  if (values.length === 0) return null;
  const x = { field: 'svag', type: 'quantitative', title: 'SVAG level ℓ', scale: { type: 'log', base: 2 }, axis: { values: [...new Set(values.map((v) => v.svag))].sort((a, b) => a - b), format: 'd' } };
  const color = { field: 'series', type: 'nominal', title: null };
  return {
    name: `gap-${tag.replace(/\W+/g, '-')}-vs-svag`,
    title: `SGDM advantage vs SVAG ℓ`,
    caption: `SGDM's advantage over SGD in best final ${tag} (${sign > 0 ? 'SGDM − SGD' : 'SGD − SGDM'}, so positive means SGDM is better) at each SVAG level ℓ. The paper: the gap closes as ℓ grows.`,
    spec: {
      ...base(`SGDM advantage in ${tag} vs SVAG ℓ`),
      data: { values },
      layer: [
        { mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { datum: 0 } } },
        { mark: { type: 'line', point: { filled: true, size: 60 } }, encoding: { x, y: { field: 'gap', type: 'quantitative', title: `SGDM advantage (${tag})` }, color } },
      ],
    },
  };
}

/** Vega-Lite → SVG in Node, shared with the theory lab's charts. */
export { renderSvg } from '../core/theory/chart.js';
