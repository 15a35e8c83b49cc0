/**
 * Exports of the results store for re-analysis (Crowded Valley: publish raw per-run results):
 * CSV — one row per scalar with the run's grid coordinates (AlgoPerf-style `split/metric` tags);
 * wide CSV — one row per run: its config flattened into columns and its final metrics (Optuna's `trials_dataframe`);
 * JSONL — one JSON object per run (DeepOBS-style: config, optimizer record, status, summary, per-tag series).
 */
import { UserError } from '../core/util/errors.js';
import { mapIoError } from '../node/io-errors.js';
import { outputFileProblem } from '../node/output-paths.js';
import { writeAtomically } from '../node/atomic-write.js';
import type { ResultsStore, RunRow } from '../node/store.js';
import { runEffectiveLr } from './config.js';

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function runColumns(r: RunRow): unknown[] {
  const o = r.config.optimizer;
  return [r.hash, r.task, r.status, r.divergedAtStep, o.form, o.lr, o.momentum, runEffectiveLr(o), o.dampening, o.nesterov,
    o.weightDecay, o.weightDecayMode, r.config.batchSize, r.config.svag, r.config.seed, r.config.steps];
}
const RUN_HEADER = ['hash', 'task', 'status', 'diverged_at_step', 'form', 'lr', 'momentum', 'effective_lr', 'dampening', 'nesterov',
  'weight_decay', 'weight_decay_mode', 'batch_size', 'svag', 'seed', 'steps'];

/** An unknown sweep name is an error listing the store's sweeps. */
export function checkSweep(store: ResultsStore, sweep: string | undefined): void {
  if (sweep === undefined) return;
  const known = store.sweepNames();
  if (!known.includes(sweep)) {
    throw new UserError(`no sweep named ${sweep} in ${store.path}; its sweeps: ${known.length === 0 ? '(none)' : known.join(', ')}`, '--sweep');
  }
}

/** Writes the export chunk by chunk through `write`. An unknown `opts.sweep` is an error listing the known ones. */
export function exportRuns(store: ResultsStore, format: 'csv' | 'jsonl', write: (s: string) => void, opts: { sweep?: string } = {}): number {
  checkSweep(store, opts.sweep);
  const runs = store.listRuns(opts);
  if (format === 'csv') {
    write([...RUN_HEADER, 'tag', 'step', 'epoch', 'value'].join(',') + '\n');
    for (const r of runs) {
      const head = runColumns(r).map(csvCell).join(',');
      const ms = store.metrics(r.hash);
      if (ms.length === 0) write(`${head},,,,\n`);
      for (const m of ms) write(`${head},${csvCell(m.tag)},${m.step},${csvCell(m.epoch)},${csvCell(m.value)}\n`);
    }
  } else {
    for (const r of runs) {
      const series = store.metricSeries(r.hash);
      const metrics: Record<string, { steps: number[]; epochs: (number | null)[]; values: (number | null)[] }> = {};
      for (const [tag, pts] of Object.entries(series)) {
        metrics[tag] = { steps: pts.map((p) => p.step), epochs: pts.map((p) => p.epoch), values: pts.map((p) => p.value) };
      }
      write(JSON.stringify({
        hash: r.hash, task: r.task, status: r.status, divergedAtStep: r.divergedAtStep, error: r.error,
        config: r.config, record: r.record, summary: r.summary, metrics,
      }) + '\n');
    }
  }
  return runs.length;
}

/** Nested plain objects as dotted keys (`optimizer.lr`, `params.model.kind`); arrays and scalars are values. */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenConfig(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

/**
 * A run's metrics as one flat record: `final/<tag>` (the value at the tag's last step, as the runner's summary
 * computes it, so runs that stopped early have them too), and the summary's other numbers (`best/<tag>`; names without a
 * slash, like samplesPerSec, as `summary/<name>` so that they cannot be mistaken for config columns).
 */
export function runMetrics(store: ResultsStore, r: RunRow): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const m of store.metrics(r.hash)) out[`final/${m.tag}`] = m.value; // ordered by step within each tag
  for (const [k, v] of Object.entries(r.summary ?? {})) out[k.includes('/') ? k : `summary/${k}`] = v;
  return out;
}

const WIDE_RUN_HEADER = ['hash', 'status', 'diverged_at_step', 'error', 'attempts', 'created_at', 'started_at', 'finished_at', 'effective_lr'];

/**
 * One CSV row per run: the run columns, then every config column (flattened, in the order first met), then every metric
 * column (sorted). A run without some column leaves it empty.
 */
export function exportRunsWide(store: ResultsStore, write: (s: string) => void, opts: { sweep?: string } = {}): number {
  checkSweep(store, opts.sweep);
  const runs = store.listRuns(opts);
  const rows = runs.map((r) => ({ run: r, config: flattenConfig(r.config), metrics: runMetrics(store, r) }));
  const configColumns = [...new Set(rows.flatMap((x) => Object.keys(x.config)))];
  const metricColumns = [...new Set(rows.flatMap((x) => Object.keys(x.metrics)))].sort();
  write([...WIDE_RUN_HEADER, ...configColumns, ...metricColumns].map(csvCell).join(',') + '\n');
  for (const { run: r, config, metrics } of rows) {
    const head = [r.hash, r.status, r.divergedAtStep, r.error, r.attempts, r.createdAt, r.startedAt, r.finishedAt, runEffectiveLr(r.config.optimizer)];
    write([...head, ...configColumns.map((c) => config[c]), ...metricColumns.map((c) => metrics[c])].map(csvCell).join(',') + '\n');
  }
  return runs.length;
}

const OUT_REMEDY = 'give another --out path';

/**
 * Refuses an output path that cannot be written before any work is done: a missing folder, or a folder itself. A
 * read-only folder is left to the write, whose error names the export file.
 */
export function checkOutputPath(out: string): void {
  const p = outputFileProblem(out);
  if (p === null || p.kind === 'read-only') return;
  const why = p.kind === 'missing-folder' ? `folder ${p.dir} does not exist; create it or ${OUT_REMEDY}`
    : p.kind === 'not-a-folder' ? `${p.dir} is not a folder; ${OUT_REMEDY}` : `it is a folder; ${OUT_REMEDY}`;
  throw new UserError(`cannot write ${out}: ${why}`);
}

/**
 * Writes `out` through a temporary file in the same folder, renamed over `out` once complete: a reader never sees a
 * half-written file, and a failed write (disk full, read-only folder) leaves neither `out` nor the temporary file.
 */
export function writeFileAtomically(out: string, produce: (write: (s: string) => void) => void): void {
  checkOutputPath(out);
  try {
    writeAtomically(out, (write) => {
      // Many small strings: joined into 64 KiB writes.
      let pending: string[] = [];
      let size = 0;
      produce((s) => {
        pending.push(s);
        size += s.length;
        if (size >= 1 << 16) { write(pending.join('')); pending = []; size = 0; }
      });
      write(pending.join(''));
    });
  } catch (e) {
    throw mapIoError(e, { file: out, what: 'export file', remedy: OUT_REMEDY });
  }
}
