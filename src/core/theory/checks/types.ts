/**
 * A theory check: named parameters with defaults, a run that returns table rows and a verdict against a stated
 * criterion, and a chart of those rows. Used by `momentum-lab theory <check>` and, programmatically, by the paper
 * suite (`runCheck`).
 */
import { UserError } from '../../util/errors.js';

export type ParamValue = number | number[] | string;
export type ParamValues = Record<string, ParamValue>;

export interface ParamSpec {
  /** number/int: one value; numbers: a list (given as an array or "a,b,c"); choice: one of `choices`. */
  kind: 'number' | 'int' | 'numbers' | 'choice';
  default: ParamValue;
  help: string;
  /** Inclusive lower bound, or exclusive when `above` is set. */
  min?: number;
  above?: number;
  /** Exclusive upper bound. */
  below?: number;
  max?: number;
  choices?: readonly string[];
}

export type Row = Record<string, number | string | boolean | null>;

export interface CheckResult {
  check: string;
  pass: boolean;
  /** The pass criterion in words, with its tolerance. */
  criterion: string;
  rows: Row[];
  /** The parameters the check ran with (defaults filled in). */
  params: ParamValues;
  /** Remarks a reader needs (e.g. what the Monte-Carlo error was). */
  notes: string[];
  /** The paper's statement the check tests, with its docs/theory.md section (also the first note). */
  statement?: string;
}

export interface CheckDefinition {
  name: string;
  summary: string;
  params: Record<string, ParamSpec>;
  run(params: ParamValues): CheckResult;
  /** A Vega-Lite spec (plain JSON) drawing the rows. */
  chart(result: CheckResult): Record<string, unknown>;
}

function numberOrThrow(v: unknown, field: string): number {
  const x = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new UserError(`must be a finite number, got ${JSON.stringify(v)}`, field);
  return x;
}

function checkRange(x: number, s: ParamSpec, field: string): void {
  if (s.min !== undefined && !(x >= s.min)) throw new UserError(`must be ≥ ${s.min}, got ${x}`, field);
  if (s.above !== undefined && !(x > s.above)) throw new UserError(`must be > ${s.above}, got ${x}`, field);
  if (s.max !== undefined && !(x <= s.max)) throw new UserError(`must be ≤ ${s.max}, got ${x}`, field);
  if (s.below !== undefined && !(x < s.below)) throw new UserError(`must be < ${s.below}, got ${x}`, field);
}

/** Fills defaults and validates untrusted values; unknown names are errors that list the known ones. */
export function resolveParams(check: string, specs: Record<string, ParamSpec>, raw: Record<string, unknown>): ParamValues {
  const out: ParamValues = {};
  for (const name of Object.keys(raw)) {
    if (raw[name] !== undefined && !(name in specs)) {
      throw new UserError(`'${name}' is not a parameter of the ${check} check (its parameters: ${Object.keys(specs).join(', ')})`, `--${name}`);
    }
  }
  for (const [name, s] of Object.entries(specs)) {
    const field = `--${name}`;
    const v = raw[name] ?? s.default;
    switch (s.kind) {
      case 'number':
      case 'int': {
        const x = numberOrThrow(v, field);
        if (s.kind === 'int' && !Number.isInteger(x)) throw new UserError(`must be an integer, got ${x}`, field);
        checkRange(x, s, field);
        out[name] = x;
        break;
      }
      case 'numbers': {
        const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',') : [v];
        if (list.length === 0) throw new UserError('needs at least one value (e.g. 0.5,1)', field);
        const xs = list.map((e) => numberOrThrow(e, field));
        xs.forEach((x) => checkRange(x, s, field));
        out[name] = xs;
        break;
      }
      case 'choice': {
        if (typeof v !== 'string' || !s.choices!.includes(v)) {
          throw new UserError(`must be one of ${s.choices!.join(', ')}, got ${JSON.stringify(v)}`, field);
        }
        out[name] = v;
        break;
      }
    }
  }
  return out;
}

export function num(p: ParamValues, name: string): number {
  return p[name] as number;
}
export function nums(p: ParamValues, name: string): number[] {
  return p[name] as number[];
}
export function str(p: ParamValues, name: string): string {
  return p[name] as string;
}

/** Rounds for tables and JSON (keeps 6 significant digits; Monte-Carlo numbers carry no more). */
export function round(x: number, digits = 6): number {
  return Number.isFinite(x) ? Number(x.toPrecision(digits)) : x;
}

export const SEED: ParamSpec = { kind: 'int', default: 1, help: 'seed of the noise stream', min: 0 };
