/**
 * Flag parsing for the CLI: `--key value`, `--key=value` and boolean `--flag`, checked against each command's
 * declared flags so a typo is a one-line error, not a silently ignored option.
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../core/util/errors.js';

export type FlagKind = 'string' | 'number' | 'boolean' | 'int';
export interface FlagSpec {
  kind: FlagKind;
  help: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  /**
   * A thread count: more than os.availableParallelism() is an error, not a warning, because the kernels would
   * quietly run on fewer threads than asked and the run's recorded settings would not describe it.
   */
  threads?: boolean;
}
export type FlagValues = Record<string, string | number | boolean | undefined>;

export interface ParsedArgs {
  flags: FlagValues;
  positionals: string[];
}

/** `maxPositionals`: how many positional arguments the command takes; any beyond are errors naming them. */
export function parseArgs(argv: readonly string[], specs: Record<string, FlagSpec>, command: string, maxPositionals = Infinity): ParsedArgs {
  const flags: FlagValues = {};
  const positionals: string[] = [];
  for (const [name, s] of Object.entries(specs)) if (s.default !== undefined) flags[name] = s.default;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positionals.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq === -1 ? undefined : eq);
    const spec = specs[name];
    if (spec === undefined) {
      const known = Object.keys(specs).map((k) => `--${k}`).join(', ');
      throw new UserError(`unknown flag --${name} for '${command}' (known: ${known || 'none'})`);
    }
    let raw: string | undefined = eq === -1 ? undefined : a.slice(eq + 1);
    if (spec.kind === 'boolean') {
      if (raw === undefined) flags[name] = true;
      else if (raw === 'true' || raw === 'false') flags[name] = raw === 'true';
      else throw new UserError(`--${name} takes true or false, got '${raw}'`);
      continue;
    }
    if (raw === undefined) {
      raw = argv[++i];
      // `--data-dir --lr 0.1` would otherwise take `--lr` as the folder.
      if (raw === undefined || raw.startsWith('--')) throw new UserError(`--${name} needs a value (${spec.help})`);
    }
    if (spec.kind === 'number' || spec.kind === 'int') {
      const v = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(v)) throw new UserError(`--${name} must be a number, got '${raw}'`);
      if (spec.kind === 'int' && !Number.isInteger(v)) throw new UserError(`--${name} must be an integer, got '${raw}'`);
      if (spec.threads === true && v > availableParallelism()) {
        throw new UserError(`--${name} ${raw} is more than the ${availableParallelism()} cores here (os.availableParallelism()); give at most that`);
      }
      flags[name] = v;
    } else {
      if (spec.choices !== undefined && !spec.choices.includes(raw)) {
        throw new UserError(`--${name} must be one of ${spec.choices.join(', ')}, got '${raw}'`);
      }
      flags[name] = raw;
    }
  }
  if (positionals.length > maxPositionals) {
    const extra = positionals.slice(maxPositionals).map((p) => JSON.stringify(p)).join(' ');
    throw new UserError(`'${command}' takes ${maxPositionals === 0 ? 'no' : `at most ${maxPositionals}`} positional argument${maxPositionals === 1 ? '' : 's'}; unexpected: ${extra}`);
  }
  return { flags, positionals };
}

export function flagHelp(specs: Record<string, FlagSpec>): string {
  return Object.entries(specs)
    .map(([k, s]) => `  --${k}${s.kind === 'boolean' ? '' : ` <${s.choices?.join('|') ?? s.kind}>`}  ${s.help}${s.default !== undefined ? ` (default ${String(s.default)})` : ''}`)
    .join('\n');
}
