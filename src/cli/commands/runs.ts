/** `runs list|show|export DB`: a results store read back — one line per run, one run in full, or a file for analysis. */
import { UserError } from '../../core/util/errors.js';
import {
  checkOutputPath, checkSweep, exportRuns, exportRunsWide, ResultsStore, runEffectiveLr, runMetrics, writeFileAtomically,
  type ResolvedRunConfig, type RunRow,
} from '../../experiments/index.js';
import type { Command } from '../command.js';

/** Opens `db` read-only for `f` and closes it after. */
function withStore<T>(db: string, f: (store: ResultsStore) => T): T {
  const store = new ResultsStore(db, { readonly: true });
  try {
    return f(store);
  } finally {
    store.close();
  }
}

/** `| head` closes the pipe early; that is not an error. */
function quietPipe(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); else throw e; });
}

const num = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : Number.isInteger(v) ? String(v) : v.toPrecision(4));

/** What the model and data of a run are, from its task parameters (a name, a spec's kind, or a file). */
function paramsLabel(params: Record<string, unknown>): string {
  const label = (v: unknown): string | null => (typeof v === 'string' ? v : v !== null && typeof v === 'object' && typeof (v as { kind?: unknown }).kind === 'string' ? (v as { kind: string }).kind : null);
  const data = params.data !== undefined ? (typeof params.data === 'string' ? params.data : (params.data as { file?: string }).file ?? null) : label(params.dataset);
  return [label(params.model), data].filter((x) => x !== null).join(' ');
}

/** A run's config in one phrase: task, model and data, optimizer, batch, SVAG level, seed. */
export function configSummary(c: ResolvedRunConfig): string {
  const o = c.optimizer;
  const beta = o.form === 'sgd' ? '' : ` β=${o.momentum}`;
  const what = paramsLabel(c.params);
  return `${c.task}${what === '' ? '' : ` ${what}`} ${o.form}${beta} lr=${o.lr} η=${num(runEffectiveLr(o))} B=${c.batchSize}${c.svag > 1 ? ` ℓ=${c.svag}` : ''} seed=${c.seed}`;
}

/** The `final/<tag>` metrics of a run as `tag=value` pairs. */
function finalLine(metrics: Record<string, number | null>): string {
  return Object.entries(metrics).filter(([k]) => k.startsWith('final/')).map(([k, v]) => `${k.slice(6)}=${num(v)}`).join(' ');
}

export const runsListCommand: Command = {
  path: ['runs', 'list'],
  summary: 'list the runs of a results store, one line each: id, status, config, final metrics',
  usage: 'momentum-lab runs list DB [--sweep NAME] [--status STATUS] [--json]',
  positionals: 1,
  flags: {
    sweep: { kind: 'string', help: 'only the runs of this sweep' },
    status: { kind: 'string', help: 'only the runs with this status', choices: ['queued', 'running', 'done', 'diverged', 'failed'] },
    json: { kind: 'boolean', help: 'one JSON object per run: hash, status, divergedAtStep, config, metrics' },
  },
  run(flags, positionals) {
    if (positionals.length !== 1) throw new UserError('runs list takes one results store (DB file)');
    quietPipe();
    withStore(positionals[0]!, (store) => {
      checkSweep(store, flags.sweep as string | undefined);
      const runs = store.listRuns(typeof flags.sweep === 'string' ? { sweep: flags.sweep } : {}).filter((r) => flags.status === undefined || r.status === flags.status);
      for (const r of runs) {
        const metrics = runMetrics(store, r);
        if (flags.json === true) {
          process.stdout.write(JSON.stringify({ hash: r.hash, status: r.status, divergedAtStep: r.divergedAtStep, config: r.config, metrics }) + '\n');
        } else {
          const status = r.status === 'diverged' ? `diverged@${r.divergedAtStep}` : r.status;
          const fin = finalLine(metrics);
          process.stdout.write(`${r.hash}  ${status.padEnd(8)}  ${configSummary(r.config)}${fin === '' ? '' : `  ${fin}`}\n`);
        }
      }
      if (flags.json !== true) process.stdout.write(`${runs.length} run${runs.length === 1 ? '' : 's'}\n`);
    });
  },
};

/** The run whose hash is `id` or begins with it; an unknown or ambiguous id is an error. */
function findRun(store: ResultsStore, id: string): RunRow {
  const exact = store.getRun(id);
  if (exact !== undefined) return exact;
  const matches = id === '' ? [] : store.listRuns().filter((r) => r.hash.startsWith(id));
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) throw new UserError(`run id ${id} is ambiguous in ${store.path}: ${matches.slice(0, 5).map((r) => r.hash).join(', ')}${matches.length > 5 ? ', …' : ''}; give more of it`);
  throw new UserError(`no run ${JSON.stringify(id)} in ${store.path}; 'momentum-lab runs list ${store.path}' lists its runs`);
}

export const runsShowCommand: Command = {
  path: ['runs', 'show'],
  summary: 'print one run of a results store: its config, record, status and every recorded metric',
  usage: 'momentum-lab runs show DB RUN [--json]   (RUN: a run id from runs list, or enough of its beginning)',
  positionals: 2,
  flags: {
    json: { kind: 'boolean', help: 'one JSON object: the run and its metrics as {tag: {steps, epochs, values}}' },
  },
  run(flags, positionals) {
    if (positionals.length !== 2) throw new UserError('runs show takes a results store (DB file) and a run id');
    quietPipe();
    withStore(positionals[0]!, (store) => {
      const r = findRun(store, positionals[1]!);
      const series = store.metricSeries(r.hash);
      if (flags.json === true) {
        const metrics = Object.fromEntries(Object.entries(series).map(([tag, pts]) => [tag, { steps: pts.map((p) => p.step), epochs: pts.map((p) => p.epoch), values: pts.map((p) => p.value) }]));
        process.stdout.write(JSON.stringify({ ...r, metrics }) + '\n');
        return;
      }
      const lines = [
        `run ${r.hash}: ${r.status}${r.divergedAtStep === null ? '' : ` at step ${r.divergedAtStep}`} (${r.attempts} attempt${r.attempts === 1 ? '' : 's'}, created ${r.createdAt}${r.finishedAt === null ? '' : `, finished ${r.finishedAt}`})`,
        ...(r.error === null ? [] : [`error: ${r.error.split('\n')[0]}`]),
        `config: ${JSON.stringify(r.config, null, 2)}`,
        `record: ${JSON.stringify(r.record)}`,
        `summary: ${r.summary === null ? '—' : JSON.stringify(r.summary)}`,
        'metrics (tag, step, epoch, value):',
      ];
      const width = Math.max(0, ...Object.keys(series).map((t) => t.length));
      for (const [tag, pts] of Object.entries(series)) for (const p of pts) lines.push(`  ${tag.padEnd(width)}  ${String(p.step).padStart(6)}  ${String(p.epoch ?? '—').padStart(6)}  ${p.value ?? 'null'}`);
      if (Object.keys(series).length === 0) lines.push('  (none recorded)');
      process.stdout.write(lines.join('\n') + '\n');
    });
  },
};

export const runsExportCommand: Command = {
  path: ['runs', 'export'],
  summary: 'export a results store as CSV (one row per scalar, or with --wide one row per run) or JSONL (one object per run)',
  usage: 'momentum-lab runs export DB [--format csv|jsonl] [--wide] [--out FILE] [--sweep NAME]',
  positionals: 1,
  flags: {
    format: { kind: 'string', help: 'output format', choices: ['csv', 'jsonl'], default: 'csv' },
    wide: { kind: 'boolean', help: 'CSV with one row per run: its config flattened into columns (optimizer.lr, params.model, …) and its final metrics (final/<tag>, best/<tag>), like Optuna\'s trials_dataframe' },
    out: { kind: 'string', help: 'output file (default: stdout)' },
    sweep: { kind: 'string', help: 'only the runs of this sweep' },
  },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw new UserError('runs export takes one DB file');
    const wide = flags.wide === true;
    if (wide && flags.format === 'jsonl') throw new UserError('--wide writes CSV; leave out --format jsonl (JSONL already has one object per run)');
    const db = positionals[0]!;
    const out = typeof flags.out === 'string' ? flags.out : null;
    if (out !== null) checkOutputPath(out);
    withStore(db, (store) => {
      const format = flags.format as 'csv' | 'jsonl';
      const opts = typeof flags.sweep === 'string' ? { sweep: flags.sweep } : {};
      const produce = (write: (s: string) => void): void => { if (wide) exportRunsWide(store, write, opts); else exportRuns(store, format, write, opts); };
      if (out !== null) {
        writeFileAtomically(out, produce);
      } else {
        quietPipe();
        produce((s) => process.stdout.write(s));
      }
    });
  },
};

export const runsCommands: Command[] = [runsListCommand, runsShowCommand, runsExportCommand];
