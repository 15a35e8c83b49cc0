/**
 * Flag parsing for the CLI: `--key value`, `--key=value`, boolean `--flag` and `--no-flag`, checked against each
 * command's declared flags so a typo is a one-line error (with the nearest flag), not a silently ignored option.
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../core/util/errors.js';
import { nearest } from '../core/util/suggest.js';

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
    let raw: string | undefined = eq === -1 ? undefined : a.slice(eq + 1);
    const negated = negatedBoolean(name, specs);
    if (negated !== null) {
      if (raw !== undefined) throw new UserError(`--${name} takes no value; give --${negated}=${raw} instead`);
      flags[negated] = false;
      continue;
    }
    const spec = specs[name];
    if (spec === undefined) throw new UserError(unknownFlag(name, specs, command));
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

/** `no-X` names the boolean flag X (unless `no-X` is itself a flag): the name of X, else null. */
function negatedBoolean(name: string, specs: Record<string, FlagSpec>): string | null {
  if (!name.startsWith('no-') || specs[name] !== undefined) return null;
  const base = name.slice(3);
  return specs[base]?.kind === 'boolean' ? base : null;
}

function unknownFlag(name: string, specs: Record<string, FlagSpec>, command: string): string {
  const names = Object.keys(specs);
  const booleans = names.filter((k) => specs[k]!.kind === 'boolean').map((k) => `no-${k}`);
  const near = nearest(name, [...names, ...booleans]);
  if (near !== null) return `unknown flag --${name} for '${command}'; did you mean --${near}? (run 'momentum-lab ${command} --help' for its flags)`;
  const known = names.map((k) => `--${k}`).join(', ');
  return `unknown flag --${name} for '${command}' (known: ${known || 'none'})`;
}

/** Help text is wrapped to this many columns. */
export const HELP_WIDTH = 100;

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter((x) => x !== '')) {
    if (line !== '' && line.length + 1 + w.length > width) { lines.push(line); line = w; } else line = line === '' ? w : `${line} ${w}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/**
 * Two aligned columns: names padded to the widest of at most `maxName` characters (a longer name has a line of its
 * own, its text below), texts wrapped to `HELP_WIDTH` and continued under themselves.
 */
export function twoColumns(rows: readonly (readonly [string, string])[], maxName = 32): string {
  const pad = Math.max(0, ...rows.map(([n]) => n.length).filter((w) => w <= maxName));
  const indent = ' '.repeat(2 + pad + 2);
  const out: string[] = [];
  for (const [name, text] of rows) {
    const wrapped = wrapWords(text, Math.max(HELP_WIDTH - indent.length, 30));
    if (name.length > pad) out.push(`  ${name}`); else out.push(`  ${name.padEnd(pad)}  ${wrapped.shift() ?? ''}`.trimEnd());
    for (const w of wrapped) out.push(indent + w);
  }
  return out.join('\n');
}

export function flagHelp(specs: Record<string, FlagSpec>): string {
  const rows = Object.entries(specs).map(([k, s]): [string, string] => [
    `--${k}${s.kind === 'boolean' ? '' : ` <${s.choices?.join('|') ?? s.kind}>`}`,
    `${s.help}${s.default !== undefined ? ` (default ${String(s.default)})` : ''}`,
  ]);
  const hasBoolean = Object.values(specs).some((s) => s.kind === 'boolean');
  return [
    twoColumns([...rows, ['-h, --help', 'print this help and exit']]),
    ...(hasBoolean ? ['', 'A boolean --FLAG is also given as --FLAG=true|false; --no-FLAG turns it off.'] : []),
  ].join('\n');
}
