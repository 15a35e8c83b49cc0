import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/util/errors.js';
import { runText } from '../../experiments/text/index.js';
import { checkOutputFolder } from '../../node/output-paths.js';
import type { Command } from '../command.js';

export const textCommand: Command = {
  path: ['text'],
  summary: 'pre-train a small masked LM on the SpamAssassin emails, then compare SGD and SGDM in K-shot prompt fine-tuning',
  usage: 'momentum-lab text [--quick | --full] [--out DIR] [--json]\nWrites DIR/text.json; the pre-trained checkpoint is cached in DIR and reused.',
  positionals: 0,
  flags: {
    quick: { kind: 'boolean', help: 'the few-minute protocol (default)' },
    full: { kind: 'boolean', help: 'the full protocol (about an hour on 2 cores)' },
    out: { kind: 'string', help: 'output folder (text.json and the cached pre-trained checkpoint)', default: 'text-out' },
    json: { kind: 'boolean', help: 'print text.json on stdout at the end' },
  },
  async run(flags) {
    if (flags.quick === true && flags.full === true) throw new UserError('give --quick or --full, not both');
    const out = flags.out as string;
    checkOutputFolder(out, '--out');
    const t0 = performance.now();
    const { plan, result } = await runText(flags.full === true ? 'full' : 'quick', out, (line) => { process.stderr.write(`${line}\n`); });
    const resources = { wallSeconds: (performance.now() - t0) / 1000, peakRssMiB: process.resourceUsage().maxRSS / 1024 };
    const json = JSON.stringify({ plan, ...result, resources }, null, 2);
    writeFileSync(join(out, 'text.json'), `${json}\n`);
    process.stderr.write(`${result.claim.id}: ${result.claim.verdict} — wall ${resources.wallSeconds.toFixed(0)} s, peak RSS ${resources.peakRssMiB.toFixed(0)} MiB; ${join(out, 'text.json')}\n`);
    if (flags.json === true) process.stdout.write(`${json}\n`);
  },
};
