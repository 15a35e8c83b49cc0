import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../core/util/errors.js';
import { CHECKS, CHECK_NAMES, getCheck, renderSvg, runCheck, type CheckResult, type Row } from '../../core/theory/index.js';
import type { FlagSpec, FlagValues } from '../args.js';
import type { Command } from '../command.js';

// Every check parameter is a flag; values are strings here and are parsed and range-checked by the check itself
// (lists are comma-separated: --eta 0.5,1,1.5). A flag that the chosen check does not take is an error.
const PARAM_FLAGS: Record<string, FlagSpec> = {};
for (const def of CHECKS) {
  for (const [name, spec] of Object.entries(def.params)) {
    const prev = PARAM_FLAGS[name];
    const line = `${def.name}: ${spec.help} (default ${Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default)})`;
    PARAM_FLAGS[name] = { kind: 'string', help: prev === undefined ? line : `${prev.help}; ${line}` };
  }
}

function cell(v: Row[string]): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'NO';
  return String(v);
}

/** A plain-text table of rows whose keys may differ (the union of keys, in first-seen order). */
export function formatTable(rows: readonly Row[]): string {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  const cells = rows.map((r) => keys.map((k) => (k in r ? cell(r[k]!) : '')));
  const widths = keys.map((k, i) => Math.max(k.length, ...cells.map((c) => c[i]!.length)));
  const line = (cs: string[]): string => cs.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [line(keys), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function report(r: CheckResult, chartPath: string): string {
  const params = Object.entries(r.params).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : String(v)}`).join(' ');
  return [
    `theory ${r.check}: ${getCheck(r.check).summary}`,
    `parameters: ${params}`,
    '',
    formatTable(r.rows),
    '',
    ...r.notes.map((n) => `note: ${n}`),
    `criterion: ${r.criterion}`,
    `result: ${r.pass ? 'PASS' : 'FAIL'}`,
    `chart: ${chartPath}`,
  ].join('\n');
}

export const theory: Command = {
  path: ['theory'],
  summary: `run a theory check of the paper (${CHECK_NAMES.join(', ')})`,
  usage: `momentum-lab theory <${CHECK_NAMES.join('|')}> [--param value ...] [--json] [--out DIR]\n` +
    'Prints a table, the pass criterion and PASS/FAIL (exit code 1 on FAIL), and writes DIR/<check>.svg.',
  positionals: 1,
  flags: {
    json: { kind: 'boolean', help: 'print { check, pass, criterion, rows, params, notes } as JSON instead of the table' },
    out: { kind: 'string', help: 'directory for the chart', default: './theory-out' },
    ...PARAM_FLAGS,
  },
  async run(flags: FlagValues, positionals: string[]) {
    if (positionals.length !== 1) {
      throw new UserError(`theory needs exactly one check name (one of: ${CHECK_NAMES.join(', ')}), got ${positionals.length === 0 ? 'none' : positionals.join(' ')}`);
    }
    const name = positionals[0]!;
    const def = getCheck(name);
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(flags)) {
      if (k === 'json' || k === 'out' || v === undefined) continue;
      params[k] = v;
    }
    const result = runCheck(def.name, params);
    const dir = String(flags.out);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (e) {
      throw new UserError(`cannot create chart directory ${dir}: ${(e as Error).message}`, '--out');
    }
    const chartPath = join(dir, `${def.name}.svg`);
    writeFileSync(chartPath, await renderSvg(def.chart(result)));
    if (flags.json === true) {
      process.stdout.write(JSON.stringify({ check: result.check, pass: result.pass, criterion: result.criterion, rows: result.rows, params: result.params, notes: result.notes, chart: chartPath }) + '\n');
    } else {
      process.stdout.write(report(result, chartPath) + '\n');
    }
    return result.pass ? 0 : 1;
  },
};
