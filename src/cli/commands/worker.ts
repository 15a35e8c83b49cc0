import { UserError } from '../../core/util/errors.js';
import { startQueueWorker } from '../../experiments/queue/worker.js';
import { parseRedisUrl, redactedUrl } from '../../experiments/queue/redis-url.js';
import type { Command } from '../command.js';

export const workerCommand: Command = {
  path: ['worker'],
  summary: 'take runs from a sweep queue on Redis and train them (sweep --queue URL starts the sweep)',
  usage: 'momentum-lab worker --queue redis://HOST:PORT[/DB] [--concurrency N] [--threads N] [--checkpoint-dir DIR] [--data-dir DIR]',
  positionals: 0,
  flags: {
    queue: { kind: 'string', help: 'Redis URL of the queue: redis://[:password@]host[:port][/db], rediss:// for TLS' },
    concurrency: { kind: 'int', help: 'runs trained at once, each in its own thread (default 1)', default: 1 },
    threads: { kind: 'int', threads: true, help: 'kernel threads per run (default: what the run asks, usually 1)' },
    'checkpoint-dir': { kind: 'string', help: 'this worker\'s checkpoint folder; shared by workers, a run taken over resumes from it', default: 'worker.ckpt' },
    'data-dir': { kind: 'string', help: 'folder with the datasets\' files (default: the dataset cache)' },
    'lock-seconds': { kind: 'number', help: 'how long a run stays locked without this worker\'s heartbeat: a dead worker\'s run is taken over after about this long', default: 30 },
  },
  async run(flags) {
    if (typeof flags.queue !== 'string') throw new UserError('--queue is required (e.g. --queue redis://127.0.0.1:6379)');
    parseRedisUrl(flags.queue);
    const concurrency = flags.concurrency as number;
    if (concurrency < 1) throw new UserError(`--concurrency must be ≥ 1, got ${concurrency}`);
    const lock = flags['lock-seconds'] as number;
    if (!(lock >= 1)) throw new UserError(`--lock-seconds must be ≥ 1, got ${lock}`);
    const w = startQueueWorker({
      lockDurationMs: lock * 1000,
      url: flags.queue,
      concurrency,
      checkpointDir: flags['checkpoint-dir'] as string,
      ...(typeof flags['data-dir'] === 'string' ? { dataDir: flags['data-dir'] } : {}),
      ...(typeof flags.threads === 'number' ? { threads: flags.threads } : {}),
    });
    process.stderr.write(`worker: waiting for runs on ${redactedUrl(flags.queue)} (concurrency ${concurrency}); Ctrl-C finishes the running ones and stops\n`);
    await new Promise<void>((resolve) => {
      let signals = 0;
      const stop = (): void => {
        signals++;
        if (signals === 1) process.stderr.write('worker: stopping after the running runs (signal again to leave them to other workers)\n');
        void w.close(signals > 1).then(resolve, resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return 0;
  },
};
