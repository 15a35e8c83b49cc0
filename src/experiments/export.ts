/**
 * Exports of the results store for re-analysis (Crowded Valley: publish raw per-run results):
 * CSV — one row per scalar with the run's grid coordinates (AlgoPerf-style `split/metric` tags);
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

/** Writes the export chunk by chunk through `write`. An unknown `opts.sweep` is an error listing the known ones. */
export function exportRuns(store: ResultsStore, format: 'csv' | 'jsonl', write: (s: string) => void, opts: { sweep?: string } = {}): number {
  if (opts.sweep !== undefined) {
    const known = store.sweepNames();
    if (!known.includes(opts.sweep)) {
      throw new UserError(`no sweep named ${opts.sweep} in ${store.path}; its sweeps: ${known.length === 0 ? '(none)' : known.join(', ')}`, '--sweep');
    }
  }
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
