/**
 * Report data: runs read from one or more results stores, grouped over seeds (everything in the resolved config
 * but the seed), with mean ± std curves and the DeepOBS conventions: a diverged run stays in every table and plot,
 * carrying its initial metric value.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../core/util/errors.js';
import { summarize, type Summary } from '../core/util/stats.js';
import { canonicalJson, runEffectiveLr, type ResolvedRunConfig } from '../experiments/config.js';
import { ResultsStore, type RunRow } from '../node/store.js';

export interface ReportRun {
  hash: string;
  status: RunRow['status'];
  divergedAtStep: number | null;
  config: ResolvedRunConfig;
  summary: Record<string, number>;
  series: Record<string, { step: number; epoch: number | null; value: number | null }[]>;
  /** "SGD" or "SGDM β=0.9" (plus the form when not PyTorch's). */
  optimizer: string;
  momentum: number;
  /** η = γ/(1−β) (PyTorch/Keras forms); the lr itself for SGD and the normalised form. */
  effectiveLr: number;
  batchSize: number;
  svag: number;
  schedule: string;
  seed: number;
  /** Seed group: runs that differ only in seed. */
  group: string;
  /** Setting: a group without the lr (what an lr is tuned within). */
  setting: string;
}

export interface Group {
  key: string;
  setting: string;
  runs: ReportRun[];
  optimizer: string;
  momentum: number;
  effectiveLr: number;
  batchSize: number;
  svag: number;
  schedule: string;
  /** Label for legends: optimizer, η, B, ℓ. */
  label: string;
}

export function optimizerLabel(c: ResolvedRunConfig): string {
  const o = c.optimizer;
  if (o.form === 'sgd' || (o.momentum === 0 && o.betas === null)) return 'SGD';
  return `SGDM β=${o.momentum}${o.form === 'pytorch' ? '' : ` (${o.form})`}${o.nesterov ? ' nesterov' : ''}`;
}

/** DB files named by `source`: a .db file, or every *.db file in a folder. */
export function findStores(source: string): string[] {
  if (!existsSync(source)) throw new UserError(`report: ${source} does not exist (give a results store .db or a folder holding some)`);
  if (statSync(source).isDirectory()) {
    const dbs = readdirSync(source).filter((f) => /\.(db|sqlite)$/i.test(f)).sort().map((f) => join(source, f));
    if (dbs.length === 0) throw new UserError(`report: no results store (*.db) in folder ${source}`);
    return dbs;
  }
  return [source];
}

/** Runs without results (queued, running, failed) per status, to say what a report leaves out. */
export function unfinishedCounts(dbPaths: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const path of dbPaths) {
    const s = new ResultsStore(path, { readonly: true });
    try {
      for (const r of s.listRuns()) if (r.status !== 'done' && r.status !== 'diverged') out[r.status] = (out[r.status] ?? 0) + 1;
    } finally {
      s.close();
    }
  }
  return out;
}

export function loadRuns(dbPaths: string[]): ReportRun[] {
  const byHash = new Map<string, ReportRun>();
  for (const path of dbPaths) {
    const s = new ResultsStore(path, { readonly: true });
    try {
      for (const r of s.listRuns()) {
        if (r.status !== 'done' && r.status !== 'diverged') continue; // queued/running/failed have no results yet
        const c = r.config;
        const { seed: _seed, name: _name, ...rest } = c;
        const lrFree = { ...rest, optimizer: { ...rest.optimizer, lr: undefined } };
        byHash.set(r.hash, {
          hash: r.hash, status: r.status, divergedAtStep: r.divergedAtStep, config: c, summary: r.summary ?? {},
          series: s.metricSeries(r.hash),
          optimizer: optimizerLabel(c), momentum: c.optimizer.form === 'sgd' ? 0 : c.optimizer.momentum,
          effectiveLr: runEffectiveLr(c.optimizer), batchSize: c.batchSize, svag: c.svag,
          schedule: canonicalJson(c.optimizer.schedule), seed: c.seed,
          group: canonicalJson(rest), setting: canonicalJson(lrFree),
        });
      }
    } finally {
      s.close();
    }
  }
  return [...byHash.values()];
}

export function groupRuns(runs: ReportRun[]): Group[] {
  const m = new Map<string, Group>();
  for (const r of runs) {
    let g = m.get(r.group);
    if (g === undefined) {
      g = {
        key: r.group, setting: r.setting, runs: [], optimizer: r.optimizer, momentum: r.momentum, effectiveLr: r.effectiveLr,
        batchSize: r.batchSize, svag: r.svag, schedule: r.schedule, label: '',
      };
      m.set(r.group, g);
    }
    g.runs.push(r);
  }
  const groups = [...m.values()];
  const multi = (f: (g: Group) => unknown): boolean => new Set(groups.map(f)).size > 1;
  const showB = multi((g) => g.batchSize);
  const showL = multi((g) => g.svag);
  const showS = multi((g) => g.schedule);
  for (const g of groups) {
    g.label = `${g.optimizer} η=${fmt(g.effectiveLr)}${showB ? ` B=${g.batchSize}` : ''}${showL ? ` ℓ=${g.svag}` : ''}${showS ? ` ${scheduleShort(g.schedule)}` : ''}`;
  }
  return groups.sort((a, b) => a.optimizer.localeCompare(b.optimizer) || a.batchSize - b.batchSize || a.svag - b.svag || a.effectiveLr - b.effectiveLr);
}

function scheduleShort(s: string): string {
  const o = JSON.parse(s) as { kind: string };
  return o.kind;
}

export function fmt(x: number): string {
  return Number.isFinite(x) ? String(Number(x.toPrecision(3))) : String(x);
}

/** Whether larger is better for this metric tag (losses/errors: smaller). */
export function maximise(tag: string): boolean {
  return !/loss|error/i.test(tag);
}

/** A run's final value of `tag`; a diverged run carries its initial value (DeepOBS). */
export function finalValue(r: ReportRun, tag: string): number {
  const s = r.series[tag];
  if (r.status === 'diverged') return s?.[0]?.value ?? NaN;
  const v = r.summary[`final/${tag}`];
  return typeof v === 'number' ? v : NaN;
}

/** Mean ± sample std of the finite values (a diverged run's NaN is left out here; tables count it separately). */
export function meanStd(xs: number[]): Summary {
  return summarize(xs.filter((x) => Number.isFinite(x)));
}

/** Mean ± std (over seeds) of a tag's curve, on the steps every run of the group logged. */
export function meanCurve(g: Group, tag: string): { step: number; epoch: number; mean: number; lo: number; hi: number }[] {
  const perStep = new Map<number, { epoch: number; values: number[] }>();
  for (const r of g.runs) {
    for (const p of r.series[tag] ?? []) {
      if (p.value === null || !Number.isFinite(p.value)) continue;
      const e = perStep.get(p.step) ?? { epoch: p.epoch ?? p.step, values: [] };
      e.values.push(p.value);
      perStep.set(p.step, e);
    }
  }
  return [...perStep.entries()].sort((a, b) => a[0] - b[0]).map(([step, e]) => {
    const { mean, std } = meanStd(e.values);
    return { step, epoch: e.epoch, mean, lo: mean - std, hi: mean + std };
  });
}

/** Tags present in the runs, e.g. `train/loss`, `valid/accuracy`. */
export function tagsOf(runs: ReportRun[]): string[] {
  const s = new Set<string>();
  for (const r of runs) for (const t of Object.keys(r.series)) s.add(t);
  return [...s].sort();
}
