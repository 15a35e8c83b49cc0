import { PAPER_PARTS, progressReporter, runPaperSuite } from '../../experiments/index.js';
import { writePaperReport } from '../../report/paper.js';
import { UserError } from '../../core/util/errors.js';
import { checkOutputFolder } from '../../node/output-paths.js';
import type { Command } from '../command.js';
import { parseRedisUrl } from '../../experiments/queue/redis-url.js';
import { isDataFilePath } from '../../node/data/load.js';

export const paperCommand: Command = {
  path: ['paper'],
  summary: 'reproduce the paper\'s claims at CPU scale and write report.html + claims.json (resumes when re-run)',
  usage: 'momentum-lab paper [--quick | --full] [--out DIR] [--data mnist|fashion-mnist|FILE] [--workers N | --queue URL] [--json]',
  positionals: 0,
  flags: {
    quick: { kind: 'boolean', help: 'the ~5-minute protocol (2 cores) on the embedded MNIST digits (default)' },
    full: { kind: 'boolean', help: 'the full protocol (hours on 2 cores): a CNN on Fashion-MNIST when installed, B up to 2048 over 8 epochs with warm-up and ×0.1 decays, SVAG ℓ up to 8' },
    out: { kind: 'string', help: 'output folder (results store, report.html, claims.json)', default: 'paper-out' },
    data: { kind: 'string', help: 'dataset for the training experiments: mnist, fashion-mnist, or your data file (see train --data)' },
    workers: { kind: 'int', help: 'parallel runs, and advisor probes (default: number of cores)' },
    queue: { kind: 'string', help: 'run the sweeps on the workers of this Redis queue (momentum-lab worker --queue URL; share their --checkpoint-dir for fine-tuning)' },
    skip: { kind: 'string', help: `comma-separated parts to leave out: ${PAPER_PARTS.join(', ')}` },
    json: { kind: 'boolean', help: 'print claims.json on stdout at the end' },
  },
  async run(flags) {
    if (flags.quick === true && flags.full === true) throw new UserError('give --quick or --full, not both');
    const mode = flags.full === true ? 'full' : 'quick';
    if (typeof flags.data === 'string' && !['mnist', 'fashion-mnist'].includes(flags.data) && !isDataFilePath(flags.data)) {
      throw new UserError(`--data must be mnist, fashion-mnist or a data file path (./my.npz), got '${flags.data}'`);
    }
    if (flags.workers !== undefined && (flags.workers as number) < 1) throw new UserError(`--workers must be ≥ 1, got ${String(flags.workers)}`);
    if (flags.workers !== undefined && typeof flags.queue === 'string') throw new UserError('--workers sets local threads and --queue sends the runs to queue workers: give one of them');
    if (typeof flags.queue === 'string') parseRedisUrl(flags.queue);
    checkOutputFolder(flags.out as string, '--out');
    const progress = progressReporter(process.stderr);
    const log = (line: string): void => { process.stderr.write(`${line}\n`); };
    const result = await runPaperSuite({
      mode,
      outDir: flags.out as string,
      ...(typeof flags.data === 'string' ? { data: flags.data } : {}),
      ...(typeof flags.workers === 'number' ? { workers: flags.workers } : {}),
      ...(typeof flags.queue === 'string' ? { queue: flags.queue } : {}),
      ...(typeof flags.skip === 'string' ? { skip: flags.skip.split(',').map((s) => s.trim()).filter((s) => s !== '') } : {}),
      onProgress: progress.onProgress,
      log,
    });
    progress.done();
    const files = await writePaperReport(result, flags.out as string);
    if (flags.json === true) {
      const { readFileSync } = await import('node:fs');
      process.stdout.write(readFileSync(files.claims, 'utf8'));
    } else {
      process.stdout.write('\nclaim                     verdict\n');
      for (const c of result.claims) process.stdout.write(`${c.id.padEnd(26)}${c.verdict.padEnd(15)} ${c.reason}\n`);
      process.stdout.write(`\nreport: ${files.html}\nclaims: ${files.claims}\nresults store: ${result.db} (re-running resumes; delete it to start over)\n`);
    }
    return 0;
  },
};
