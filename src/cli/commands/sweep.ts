import { existsSync } from 'node:fs';
import { UserError } from '../../core/util/errors.js';
import { expandGrid, parseSweepConfig, progressReporter, readConfigFile, ResultsStore, runLabel, runSweep } from '../../experiments/index.js';
import type { Command } from '../command.js';
import { parseDataSpec } from '../../core/data/data-file.js';
import { isDataFilePath } from '../../node/data/load.js';
import { loadUserData } from '../../node/data/user-data.js';

export const sweepCommand: Command = {
  path: ['sweep'],
  summary: 'run (or resume) a sweep from a JSON/YAML config into a SQLite results store',
  usage: 'momentum-lab sweep CONFIG [--db FILE] [--workers N | --queue redis://HOST:PORT] [--checkpoint-dir DIR] [--json]',
  positionals: 1,
  flags: {
    db: { kind: 'string', help: 'results store (SQLite); finished runs in it are skipped', default: 'results.db' },
    workers: { kind: 'int', help: 'worker threads (default: number of cores; 0 = run in the main thread)' },
    'checkpoint-dir': { kind: 'string', help: 'checkpoint folder (default: <db>.ckpt)' },
    queue: { kind: 'string', help: 'run on the workers of this Redis queue (momentum-lab worker --queue URL) instead of local threads' },
    attempts: { kind: 'int', help: 'with --queue: tries per run before it is stored as failed (default 3)' },
    'redis-wait': { kind: 'number', help: 'with --queue: seconds to wait for an unreachable Redis before stopping (default 120)' },
    json: { kind: 'boolean', help: 'print a JSON summary on stdout at the end' },
    quiet: { kind: 'boolean', help: 'no progress output' },
    plan: { kind: 'boolean', help: 'list the (first-phase) runs and their status in the store without running anything' },
  },
  async run(flags, positionals) {
    if (positionals.length !== 1) throw new UserError('sweep takes one CONFIG file (JSON or YAML)');
    const config = parseSweepConfig(readConfigFile(positionals[0]!));
    checkDataFile(config.base);
    if (flags.plan === true) {
      const planned = expandGrid(config);
      const store = existsSync(flags.db as string) ? new ResultsStore(flags.db as string, { readonly: true, remedy: 'give another --db path' }) : null;
      for (const p of planned) {
        const status = store?.getRun(p.hash)?.status ?? 'new';
        process.stdout.write(flags.json === true ? `${JSON.stringify({ hash: p.hash, status, labels: p.labels })}\n` : `${p.hash} ${status.padEnd(8)} ${runLabel(p.labels)}\n`);
      }
      store?.close();
      if (flags.json !== true) process.stdout.write(`${planned.length} runs${config.protocol.tune ? ' in the tuning phase (the final phase is planned after it)' : ''}\n`);
      return 0;
    }
    const workers = flags.workers as number | undefined;
    if (workers !== undefined && typeof flags.queue === 'string') throw new UserError('--workers sets local threads and --queue sends the runs to queue workers: give one of them');
    if (workers !== undefined && workers < 0) throw new UserError(`--workers must be ≥ 0, got ${workers}`);
    const progress = flags.quiet === true ? undefined : progressReporter(process.stderr);
    const result = await runSweep(config, {
      db: flags.db as string,
      ...(workers === undefined ? {} : { workers }),
      ...(typeof flags['checkpoint-dir'] === 'string' ? { checkpointDir: flags['checkpoint-dir'] } : {}),
      ...(typeof flags.queue === 'string' ? { queue: flags.queue } : {}),
      ...(typeof flags.attempts === 'number' ? { attempts: flags.attempts } : {}),
      ...(typeof flags['redis-wait'] === 'number' ? { redisWaitMs: flags['redis-wait'] * 1000 } : {}),
      ...(progress === undefined ? {} : { onProgress: progress.onProgress }),
    });
    progress?.done();
    // A run in both protocol phases (the tuning seed re-used in the final phase) is counted once.
    const unique = new Map(result.runs.map((r) => [r.hash, r.status]));
    const counts: Record<string, number> = {};
    for (const st of unique.values()) counts[st] = (counts[st] ?? 0) + 1;
    if (flags.json === true) {
      process.stdout.write(JSON.stringify({ name: result.name, executed: result.executed, counts, selections: result.selections, runs: result.runs }) + '\n');
    } else {
      process.stdout.write(`sweep ${result.name}: ${unique.size} runs (${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}), ${result.executed} executed now; store ${String(flags.db)}\n`);
      for (const s of result.selections) process.stdout.write(`best lr for ${s.label}: ${s.gridLr} (${config.protocol.select} ${config.protocol.metric} ${s.score})\n`);
    }
    const failed = [...new Map(result.runs.filter((r) => r.status === 'failed').map((r) => [r.hash, r])).values()];
    if (failed.length === 0) return 0;
    const store = new ResultsStore(flags.db as string, { readonly: true });
    for (const r of failed) process.stderr.write(`run ${r.hash} (${runLabel(r.labels)}) failed: ${(store.getRun(r.hash)?.error ?? 'no error recorded').split('\n')[0]}\n`);
    store.close();
    return 1;
  },
};

/**
 * A user's data file named by the sweep (`base.params.data`, or a path in `base.params.dataset`) is read and checked
 * once before the store is opened: a bad file is one error line, not a store of failed runs.
 */
function checkDataFile(base: Record<string, unknown>): void {
  const params = base.params as Record<string, unknown> | undefined;
  if (params?.data !== undefined) loadUserData(parseDataSpec(params.data, 'base.params.data'));
  else if (typeof params?.dataset === 'string' && isDataFilePath(params.dataset)) loadUserData(parseDataSpec(params.dataset, 'base.params.dataset'));
}
