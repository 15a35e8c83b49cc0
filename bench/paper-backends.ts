/**
 * WASM against native on the paper suite's own training runs. From a `paper --full` results store it takes one
 * tuning run per batch size, re-trains the first `--epochs` of it on each kernel backend (one thread each, the
 * backends interleaved, median of `--rounds`), and scales the recorded run times of the batch-size and SVAG runs by
 * each batch size's WASM/native ratio: an estimate of what the same runs cost on WASM, without a second multi-hour
 * run. Fine-tuning, theory and the regime probes are left out of the estimate.
 * Run after `npm run build`, on an otherwise idle machine:
 *   node dist/bench/paper-backends.js --store DIR [--epochs 1] [--rounds 3] [--json]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { executeRun } from '../src/experiments/run.js';
import type { ResolvedRunConfig } from '../src/experiments/config.js';
import { installNodeHost } from '../src/node/host.js';
import { median } from '../src/core/util/stats.js';

installNodeHost();

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const num = (name: string, d: number): number => {
  const v = flag(name);
  const n = v === undefined ? d : Number(v);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got '${v}'`);
  return n;
};
function fail(msg: string): never {
  process.stderr.write(`paper-backends: ${msg}\n`);
  process.exit(2);
}

const store = flag('store') ?? fail('--store DIR is required: the --out folder of a `paper --full` run');
const dbPath = join(store, 'runs.db');
if (!existsSync(dbPath)) fail(`no results store at ${dbPath}; pass the --out folder of a \`paper --full\` run`);
const epochs = num('epochs', 1);
const rounds = num('rounds', 3);

interface Row { config: string; status: string; started_at: string | null; finished_at: string | null; tune: number }
const db = new Database(dbPath, { readonly: true, fileMustExist: true });
// The batch-size sweep's runs and SVAG's (the same CNN; SVAG at the largest B): the bulk of `paper --full`'s training.
const rows = db.prepare(
  `SELECT r.config, r.status, r.started_at, r.finished_at,
     EXISTS (SELECT 1 FROM sweep_runs t WHERE t.hash = r.hash AND t.sweep = 'paper/batch-size/tune') AS tune
   FROM runs r WHERE r.hash IN (SELECT hash FROM sweep_runs WHERE sweep LIKE 'paper/batch-size/%' OR sweep = 'paper/svag')`,
).all() as Row[];
db.close();

/** Per batch size: one finished tuning run to re-time, and the recorded seconds of all its finished runs. */
const byB = new Map<number, { sample: ResolvedRunConfig | undefined; seconds: number; runs: number }>();
for (const r of rows) {
  if (r.started_at === null || r.finished_at === null || (r.status !== 'done' && r.status !== 'diverged')) continue;
  const config = JSON.parse(r.config) as ResolvedRunConfig;
  const e = byB.get(config.batchSize) ?? { sample: undefined, seconds: 0, runs: 0 };
  e.seconds += (Date.parse(r.finished_at) - Date.parse(r.started_at)) / 1000;
  e.runs++;
  if (e.sample === undefined && r.status === 'done' && r.tune === 1) e.sample = config;
  byB.set(config.batchSize, e);
}
if (byB.size === 0) fail(`${dbPath} has no finished batch-size or SVAG runs yet`);

const backends = ['auto', 'native'] as const;
const out: Record<string, unknown>[] = [];
let nativeTotal = 0;
let wasmTotal = 0;
for (const [B, e] of [...byB].sort((a, b) => a[0] - b[0])) {
  if (e.sample === undefined) continue;
  const config: ResolvedRunConfig = { ...e.sample, params: { ...e.sample.params, epochs, threads: 1 } };
  const times: Record<string, number[]> = { auto: [], native: [] };
  for (let round = 0; round < rounds; round++) {
    for (const k of backends) {
      process.env['MOMENTUM_LAB_KERNELS'] = k;
      const t0 = performance.now();
      const o = await executeRun(config, `bench-${B}-${k}`);
      times[k]!.push((performance.now() - t0) / 1000);
      if (o.status !== 'done') fail(`the B = ${B} sample run ended '${o.status}' on ${k}`);
    }
    process.stderr.write(`B = ${B}: round ${round + 1}/${rounds}\n`);
  }
  const wasm = median(times['auto']!);
  const native = median(times['native']!);
  const ratio = wasm / native;
  nativeTotal += e.seconds;
  wasmTotal += e.seconds * ratio;
  out.push({
    batchSize: B, epochs, wasmSeconds: wasm, nativeSeconds: native, wasmOverNative: ratio,
    wasmMin: Math.min(...times['auto']!), wasmMax: Math.max(...times['auto']!),
    nativeMin: Math.min(...times['native']!), nativeMax: Math.max(...times['native']!),
    recordedRuns: e.runs, recordedNativeSeconds: e.seconds, estimatedWasmSeconds: e.seconds * ratio,
  });
}

const summary = { recordedNativeSeconds: nativeTotal, estimatedWasmSeconds: wasmTotal, wasmOverNative: wasmTotal / nativeTotal };
if (argv.includes('--json')) {
  console.log(JSON.stringify({ perBatchSize: out, ...summary }));
} else {
  const f = (x: unknown, d = 1): string => (x as number).toFixed(d);
  console.log(`| B | WASM s (${epochs} epoch, min–max) | native s (min–max) | WASM/native | runs recorded | native run-s | WASM run-s, estimated |`);
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const o of out) {
    console.log(`| ${o['batchSize']} | ${f(o['wasmSeconds'])} (${f(o['wasmMin'])}–${f(o['wasmMax'])}) | ${f(o['nativeSeconds'])} (${f(o['nativeMin'])}–${f(o['nativeMax'])}) | ` +
      `${f(o['wasmOverNative'], 2)}× | ${o['recordedRuns']} | ${f(o['recordedNativeSeconds'], 0)} | ${f(o['estimatedWasmSeconds'], 0)} |`);
  }
  console.log(`batch-size and SVAG runs: ${f(nativeTotal, 0)} native run-seconds recorded, ${f(wasmTotal, 0)} estimated on WASM (${f(summary.wasmOverNative, 2)}×)`);
}
