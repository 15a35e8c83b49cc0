import { UserError } from '../../core/util/errors.js';
import { parseTraceSpec, runTrace } from '../../core/optim/trace.js';
import { readJsonFile } from '../io.js';
import type { Command } from '../command.js';

export const optimTrace: Command = {
  path: ['optim', 'trace'],
  summary: 'print the iterates of one optimizer on a noisy quadratic given by a JSON spec',
  usage: 'momentum-lab optim trace --spec FILE',
  positionals: 0,
  flags: { spec: { kind: 'string', help: 'JSON spec: x0, problem, optimizer, schedule, svag, steps' } },
  run(flags) {
    if (typeof flags.spec !== 'string') throw new UserError('--spec FILE is required (see README: optim trace)');
    const spec = parseTraceSpec(readJsonFile(flags.spec, 'spec'));
    process.stdout.write(JSON.stringify({ x: runTrace(spec) }) + '\n');
  },
};
