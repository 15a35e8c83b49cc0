/**
 * Compares two `claims.json` files written by `momentum-lab paper` value by value, so a change to the code can be
 * shown to leave every reported number as it was.
 *
 *   node dist/scripts/compare-claims.js results/paper-quick/claims.json paper-out/claims.json
 *
 * Every number, string and boolean must be equal, except readings of time and process memory, which differ from
 * run to run on any code: keys named `seconds` or ending in `PeakRss`, and inside prose, the "peak RSS a → b MiB"
 * phrase and durations written as "12.3 s". Those are listed as ignored, never silently dropped. Exit status 0 when
 * nothing else differs, 1 when something does, 2 on bad input.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const IGNORED_KEY = /^(seconds|.*PeakRss)$/;
const IGNORED_TEXT: RegExp[] = [/peak RSS [\d.,]+ → [\d.,]+ MiB/g, /\b\d+(?:\.\d+)? s\b/g];

export interface Comparison { compared: number; ignored: string[]; differences: string[] }

function mask(s: string): string {
  return IGNORED_TEXT.reduce((t, re) => t.replace(re, '…'), s);
}

/** Walks `a` and `b` together; `path` names the place in JSON-pointer-like form for the report. */
export function compareJson(a: unknown, b: unknown, path = '', out: Comparison = { compared: 0, ignored: [], differences: [] }): Comparison {
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.differences.push(`${path}: ${a.length} entries vs ${b.length}`);
    for (let i = 0; i < Math.min(a.length, b.length); i++) compareJson(a[i], b[i], `${path}[${i}]`, out);
    return out;
  }
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const p = `${path}.${k}`;
      if (!(k in a) || !(k in b)) { out.differences.push(`${p}: only in ${k in a ? 'the first' : 'the second'} file`); continue; }
      if (IGNORED_KEY.test(k)) { out.ignored.push(p); continue; }
      compareJson(a[k], b[k], p, out);
    }
    return out;
  }
  out.compared++;
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return out;
    if (mask(a) === mask(b)) { out.ignored.push(`${path} (time or memory inside the text)`); return out; }
  } else if (Object.is(a, b)) {
    return out;
  }
  out.differences.push(`${path}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    process.stderr.write(`compare-claims: cannot read ${file}: ${(e as Error).message.split('\n')[0]}\n`);
    process.exit(2);
  }
}

function main(argv: string[]): void {
  if (argv.length !== 2) {
    process.stderr.write('usage: node dist/scripts/compare-claims.js EXPECTED.json ACTUAL.json\n');
    process.exit(2);
  }
  const [a, b] = argv as [string, string];
  const r = compareJson(readJson(a), readJson(b));
  for (const p of r.ignored) process.stdout.write(`ignored  ${p}\n`);
  for (const d of r.differences) process.stdout.write(`DIFFERS  ${d}\n`);
  process.stdout.write(`${r.compared} values compared, ${r.ignored.length} time/memory readings ignored, ${r.differences.length} differ\n`);
  process.exit(r.differences.length === 0 ? 0 : 1);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2));
