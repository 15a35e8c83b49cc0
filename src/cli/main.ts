#!/usr/bin/env node
import { isUserError } from '../core/util/errors.js';
import { installNodeHost } from '../node/host.js';
import { installEnvLimits } from '../node/limits.js';
import { addPlugins, extractPluginFlags, loadPlugins } from '../node/plugins.js';
import { flagHelp, parseArgs } from './args.js';
import { COMMANDS } from './commands/index.js';
import type { Command } from './command.js';

/**
 * A user error as one terminal-safe line: control characters that came from a config or flag (newlines, escape
 * sequences) are written as \xNN rather than acted on by the terminal.
 */
function printable(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function usage(): string {
  const lines = COMMANDS.map((c) => `  momentum-lab ${c.path.join(' ').padEnd(18)} ${c.summary}`);
  return `momentum-lab — does momentum matter for this training run?\n\nCommands:\n${lines.join('\n')}\n\nRun 'momentum-lab <command> --help' for its flags. Any command takes --plugin FILE (repeatable): a module that\nregisters a model family or a dataset source first (README, "Extending").`;
}

function findCommand(argv: string[]): { cmd: Command; rest: string[] } | null {
  let best: Command | null = null;
  for (const c of COMMANDS) {
    if (c.path.every((w, i) => argv[i] === w) && (best === null || c.path.length > best.path.length)) best = c;
  }
  return best === null ? null : { cmd: best, rest: argv.slice(best.path.length) };
}

export async function main(args: string[]): Promise<number> {
  let argv: string[];
  try {
    installEnvLimits();
    const { plugins, rest } = extractPluginFlags(args);
    addPlugins(plugins);
    await loadPlugins();
    argv = rest;
  } catch (e) {
    if (!isUserError(e)) throw e;
    process.stderr.write(`error: ${printable(e.message)}\n`);
    return 2;
  }
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  const found = findCommand(argv);
  if (found === null) {
    const names = [...new Set(COMMANDS.map((c) => c.path[0]!))];
    process.stderr.write(`error: unknown command ${printable(JSON.stringify(argv[0]))} (commands: ${names.join(', ')}; run 'momentum-lab --help' for what each does)\n`);
    return 2;
  }
  const { cmd, rest } = found;
  if (rest.includes('--help')) {
    process.stdout.write(`${cmd.usage ?? `momentum-lab ${cmd.path.join(' ')}`}\n${cmd.summary}\n\n${flagHelp(cmd.flags)}\n`);
    return 0;
  }
  try {
    const { flags, positionals } = parseArgs(rest, cmd.flags, cmd.path.join(' '), cmd.positionals);
    const code = await cmd.run(flags, positionals);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (isUserError(e)) {
      process.stderr.write(`error: ${printable(e.message)}\n`);
      return 2;
    }
    throw e;
  }
}

installNodeHost();
main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`momentum-lab: internal error (a bug, please report it):\n${(e as Error)?.stack ?? String(e)}\n`);
    process.exitCode = 1;
  },
);
