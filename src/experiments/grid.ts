/**
 * Sweep expansion: the grid (form × β × batch size × SVAG ℓ × schedule × lr × seed) as resolved run configs, and
 * the DeepOBS protocol's selection step (best lr per setting by final or best validation metric).
 */
import { UserError } from '../core/util/errors.js';
import { checkLimit } from '../core/util/limits.js';
import { canonicalJson, configHash, lrValues, protocolMode, resolveRunConfig, runEffectiveLr, type ResolvedRunConfig, type SweepConfig } from './config.js';
import { resolveTaskParams } from './task.js';
import type { RunRow } from '../node/store.js';

/** Where a run sits in the sweep; `setting` is the group an lr is tuned within (everything but lr and seed). */
export interface GridLabels {
  form: string;
  momentum: number;
  /** The grid's lr value: η when lrAxis is `effective`, the optimizer's own lr when `raw`. */
  gridLr: number;
  effectiveLr: number;
  batchSize: number;
  svag: number;
  schedule: string;
  seed: number;
  setting: string;
}

export interface PlannedRun {
  hash: string;
  config: ResolvedRunConfig;
  labels: GridLabels;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = b !== null && typeof b === 'object' && !Array.isArray(b) && v !== null && typeof v === 'object' && !Array.isArray(v)
      ? merge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** Expands the sweep grid; `seeds` overrides grid.seed (used for the protocol's final phase). */
export function expandGrid(s: SweepConfig, seeds?: number[]): PlannedRun[] {
  const base = s.base as Record<string, unknown>;
  const baseOpt = (base.optimizer ?? {}) as Record<string, unknown>;
  const forms = s.grid.form ?? [String(baseOpt.form ?? 'pytorch')];
  const momenta = s.grid.momentum ?? [typeof baseOpt.momentum === 'number' ? baseOpt.momentum : 0];
  // Counted before any axis is materialised: `lr.num: 1e7` must be refused, not allocated.
  const lrCount = s.grid.lr === undefined ? 1 : Array.isArray(s.grid.lr) ? s.grid.lr.length : s.grid.lr.num;
  const betaCount = forms.filter((f) => f !== 'sgd').length * momenta.length + forms.filter((f) => f === 'sgd').length;
  const runs = betaCount * lrCount * (s.grid.batchSize?.length ?? 1) * (s.grid.svag?.length ?? 1) * (s.grid.schedule?.length ?? 1) * (seeds ?? s.grid.seed ?? [0]).length;
  checkLimit(runs, 'gridRuns', 'the sweep grid (form/β × lr × batchSize × svag × schedule × seed)', 'grid');
  const lrs = lrValues(s.grid.lr) ?? (typeof baseOpt.lr === 'number' ? [baseOpt.lr] : undefined);
  if (lrs === undefined) throw new UserError('grid.lr: required when base.optimizer.lr is not set (e.g. {"min": 0.01, "max": 1, "num": 5})');
  const batches = s.grid.batchSize ?? [typeof base.batchSize === 'number' ? base.batchSize : NaN];
  const svags = s.grid.svag ?? [typeof base.svag === 'number' ? base.svag : 1];
  const schedules = s.grid.schedule ?? [baseOpt.schedule];
  const seedList = seeds ?? s.grid.seed ?? [typeof base.seed === 'number' ? base.seed : 0];
  const out: PlannedRun[] = [];
  const seen = new Set<string>();
  for (const form of forms) {
    // Plain SGD has no β: one β = 0 entry instead of the β axis.
    for (const beta of form === 'sgd' ? [0] : momenta) {
      for (const batchSize of batches) {
        for (const svag of svags) {
          for (const schedule of schedules) {
            for (const gridLr of lrs) {
              for (const seed of seedList) {
                // lrAxis applies to grid.lr values only; a base lr without a grid is the optimizer's own lr.
                const lr = s.grid.lr !== undefined && s.lrAxis === 'effective' && (form === 'pytorch' || form === 'keras') ? gridLr * (1 - beta) : gridLr;
                const over: Record<string, unknown> = {
                  task: s.task,
                  seed,
                  svag,
                  optimizer: { form, lr, momentum: beta, ...(schedule === undefined ? {} : { schedule }) },
                };
                if (!Number.isNaN(batchSize)) over.batchSize = batchSize;
                const raw = merge(base, over);
                const config = resolveRunConfig(raw, resolveTaskParams, 'base');
                const hash = configHash(config);
                if (seen.has(hash)) continue;
                seen.add(hash);
                const scheduleKey = canonicalJson(config.optimizer.schedule);
                out.push({
                  hash,
                  config,
                  labels: {
                    form, momentum: beta, gridLr, effectiveLr: runEffectiveLr(config.optimizer), batchSize: config.batchSize, svag, schedule: scheduleKey, seed,
                    setting: canonicalJson({ form, momentum: beta, batchSize: config.batchSize, svag, schedule: scheduleKey }),
                  },
                });
              }
            }
          }
        }
      }
    }
  }
  return out;
}

/** The protocol's score of one finished run: its final or best value of the metric; diverged runs score worst. */
export function runScore(r: RunRow, s: SweepConfig): number {
  const mode = protocolMode(s.protocol);
  const worst = mode === 'min' ? Infinity : -Infinity;
  if (r.status !== 'done' || r.summary === null) return worst;
  const v = r.summary[`${s.protocol.select}/${s.protocol.metric}`];
  return typeof v === 'number' && Number.isFinite(v) ? v : worst;
}

export interface Selection {
  setting: string;
  /** Readable setting: optimizer, β, batch size, ℓ. */
  label: string;
  gridLr: number;
  effectiveLr: number;
  score: number;
  /** Mean score over the tuning seeds at each grid lr. */
  candidates: { gridLr: number; score: number }[];
}

/** For each setting, the grid lr with the best mean score over the tuning seeds (ties: the smaller lr). */
export function selectBest(planned: PlannedRun[], rows: Map<string, RunRow>, s: SweepConfig): Selection[] {
  const mode = protocolMode(s.protocol);
  const bySetting = new Map<string, Map<number, { sum: number; n: number; eff: number }>>();
  for (const p of planned) {
    const r = rows.get(p.hash);
    if (r === undefined) continue;
    const m = bySetting.get(p.labels.setting) ?? new Map();
    bySetting.set(p.labels.setting, m);
    const c = m.get(p.labels.gridLr) ?? { sum: 0, n: 0, eff: p.labels.effectiveLr };
    c.sum += runScore(r, s);
    c.n += 1;
    m.set(p.labels.gridLr, c);
  }
  const key = `${s.protocol.select}/${s.protocol.metric}`;
  const finished = [...rows.values()].filter((r) => r.status === 'done' && r.summary !== null);
  // With no finished run every candidate scores the worst value, and a "best" lr would be an arbitrary pick.
  if (bySetting.size > 0 && finished.length === 0) {
    const failed = [...rows.values()].find((r) => r.status === 'failed' && r.error !== null);
    throw new UserError(`no run of the tuning phase finished (${rows.size} runs: ${countStatuses(rows)}), so no lr can be selected${failed === undefined ? '' : `; first error: ${failed.error!.split('\n')[0]}`}`);
  }
  if (finished.length > 0 && !finished.some((r) => key in r.summary!)) {
    const logged = [...new Set(finished.flatMap((r) => Object.keys(r.summary!).filter((k) => k.startsWith(`${s.protocol.select}/`)).map((k) => k.slice(s.protocol.select.length + 1))))];
    throw new UserError(`protocol.metric: ${s.protocol.metric} was not logged by these runs (logged: ${logged.join(', ')})`);
  }
  const out: Selection[] = [];
  for (const [setting, m] of bySetting) {
    const candidates = [...m.entries()].sort((a, b) => a[0] - b[0]).map(([gridLr, c]) => ({ gridLr, score: c.sum / c.n, eff: c.eff }));
    let best = candidates[0]!;
    for (const c of candidates) if (mode === 'min' ? c.score < best.score : c.score > best.score) best = c;
    const l = planned.find((p) => p.labels.setting === setting)!.labels;
    const label = `${l.form === 'sgd' ? 'sgd' : `${l.form} β=${l.momentum}`} B=${l.batchSize}${l.svag > 1 ? ` ℓ=${l.svag}` : ''}${bySchedule(planned) ? ` schedule=${l.schedule}` : ''}`;
    out.push({ setting, label, gridLr: best.gridLr, effectiveLr: best.eff, score: best.score, candidates: candidates.map(({ gridLr, score }) => ({ gridLr, score })) });
  }
  return out;
}

function countStatuses(rows: Map<string, RunRow>): string {
  const n = new Map<string, number>();
  for (const r of rows.values()) n.set(r.status, (n.get(r.status) ?? 0) + 1);
  return [...n].map(([k, v]) => `${v} ${k}`).join(', ');
}

function bySchedule(planned: PlannedRun[]): boolean {
  return new Set(planned.map((p) => p.labels.schedule)).size > 1;
}

/** A run's one-line label for progress and logs. */
export function runLabel(l: GridLabels): string {
  const beta = l.form === 'sgd' ? '' : ` β=${l.momentum}`;
  return `${l.form}${beta} η=${l.effectiveLr.toPrecision(3)} B=${l.batchSize}${l.svag > 1 ? ` ℓ=${l.svag}` : ''} seed=${l.seed}`;
}
