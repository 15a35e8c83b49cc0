#!/usr/bin/env node
import { isUserError } from '../core/util/errors.js';
import { installNodeHost } from '../node/host.js';
import { installEnvLimits } from '../node/limits.js';
import { addPlugins, extractPluginFlags, loadPlugins } from '../node/plugins.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../node/package-root.js';
import { flagHelp, HELP_WIDTH, parseArgs, twoColumns, wrapWords } from './args.js';
import { COMMANDS } from './commands/index.js';
import type { Command } from './command.js';
import { nearest } from '../core/util/suggest.js';

/**
 * A user error as one terminal-safe line: control characters that came from a config or flag (newlines, escape
 * sequences) are written as \xNN rather than acted on by the terminal.
 */
function printable(message: string): string {
  // eslint-disable-next-line no-control-regex
  return message.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function usage(): string {
  const rows = COMMANDS.map((c): [string, string] => [c.path.join(' '), c.summary]);
  const notes = `Run 'momentum-lab <command> --help' (or 'momentum-lab help <command>') for its flags; 'momentum-lab --version'
    prints the version. Any command takes --plugin FILE (repeatable): a module that registers a model family or a dataset
    source first (README, "Extending"). Exit codes: 0 success; 1 a sweep run failed, a theory check failed, or a bug (with
    its stack trace); 2 bad input (one line naming it); 3 train diverged. More: docs/cli.md.`;
  return `momentum-lab — does momentum matter for this training run?

Usage: momentum-lab <command> [arguments] [--flags]

Commands:
${twoColumns(rows)}

${wrapWords(notes, HELP_WIDTH).join('\n')}`;
}

function commandHelp(cmd: Command): string {
  return `${cmd.usage ?? `momentum-lab ${cmd.path.join(' ')}`}\n${wrapWords(cmd.summary, HELP_WIDTH).join('\n')}\n\n${flagHelp(cmd.flags)}`;
}

function groupHelp(word: string, members: readonly Command[]): string {
  return `momentum-lab ${word} <subcommand> [arguments] [--flags]

Subcommands:
${twoColumns(members.map((c): [string, string] => [c.path.slice(1).join(' '), c.summary]))}

Run 'momentum-lab ${word} <subcommand> --help' for its flags.`;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string };
  return `momentum-lab ${pkg.version}`;
}

const isHelp = (a: string | undefined): boolean => a === '-h' || a === '--help';

/** The first words of every command, in the order of `COMMANDS`. */
const topWords = (): string[] => [...new Set(COMMANDS.map((c) => c.path[0]!))];

type Resolved =
  | { kind: 'command'; cmd: Command; rest: string[] }
  | { kind: 'group'; word: string; members: Command[]; rest: string[] }
  | { kind: 'unknown'; message: string };

/** The command that `argv` names (the longest path it begins with), the group its first word names, or why neither. */
function resolve(argv: readonly string[]): Resolved {
  let best: Command | null = null;
  for (const c of COMMANDS) {
    if (c.path.every((w, i) => argv[i] === w) && (best === null || c.path.length > best.path.length)) best = c;
  }
  if (best !== null) return { kind: 'command', cmd: best, rest: argv.slice(best.path.length) };
  const word = argv[0]!;
  const members = COMMANDS.filter((c) => c.path[0] === word && c.path.length > 1);
  if (members.length > 0) return { kind: 'group', word, members, rest: argv.slice(1) };
  const words = topWords();
  const near = nearest(word, word.startsWith('-') ? ['--help', '--version'] : [...words, 'help']);
  return {
    kind: 'unknown',
    message: `unknown ${word.startsWith('-') ? 'option' : 'command'} ${JSON.stringify(word)}${near === null ? '' : `; did you mean '${near}'?`} (commands: ${words.join(', ')}; run 'momentum-lab --help' for what each does)`,
  };
}

/** A group word followed by something other than one of its subcommands. */
function unknownSubcommand(word: string, members: readonly Command[], typed: string): string {
  const subs = members.map((c) => c.path[1]!);
  const near = typed.startsWith('-') ? null : nearest(typed, subs);
  const what = typed.startsWith('-') ? `'${word}' needs a subcommand before ${typed}` : `unknown subcommand ${JSON.stringify(typed)} for '${word}'`;
  return `${what}${near === null ? '' : `; did you mean '${word} ${near}'?`} (subcommands: ${subs.join(', ')}; run 'momentum-lab ${word} --help')`;
}

function fail(message: string): number {
  process.stderr.write(`error: ${printable(message)}\n`);
  return 2;
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
    return fail(e.message);
  }
  if (argv.length === 0 || isHelp(argv[0])) {
    process.stdout.write(usage() + '\n');
    return 0;
  }
  if (argv[0] === '--version') {
    process.stdout.write(version() + '\n');
    return 0;
  }
  // `help <command>` is `<command> --help`.
  if (argv[0] === 'help') {
    if (argv.length === 1) {
      process.stdout.write(usage() + '\n');
      return 0;
    }
    argv = [...argv.slice(1), '--help'];
  }
  const found = resolve(argv);
  if (found.kind === 'unknown') return fail(found.message);
  if (found.kind === 'group') {
    const next = found.rest[0];
    if (next === undefined || isHelp(next)) {
      process.stdout.write(groupHelp(found.word, found.members) + '\n');
      return 0;
    }
    return fail(unknownSubcommand(found.word, found.members, next));
  }
  const { cmd, rest } = found;
  // Help is answered before anything else is checked, so `train --help` needs no --lr.
  if (rest.some(isHelp)) {
    process.stdout.write(commandHelp(cmd) + '\n');
    return 0;
  }
  try {
    const { flags, positionals } = parseArgs(rest, cmd.flags, cmd.path.join(' '), cmd.positionals);
    const code = await cmd.run(flags, positionals);
    return typeof code === 'number' ? code : 0;
  } catch (e) {
    if (isUserError(e)) return fail(e.message);
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
