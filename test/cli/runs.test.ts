// `runs list DB`, `runs show DB RUN` and `runs export DB --wide` on a store of two finished runs (tinySweep: plain SGD
// at lr 0.1 and 0.2); every number printed is checked against the store's own rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ResultsStore } from '../../src/node/store.js';
import { realStore } from '../node/faults.js';
import { cliCommand, tempDir } from '../experiments/helpers.js';

const dir = tempDir('runs-cli');
const db = join(dir, 'r.db');
const ready = realStore(db);

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [...cliCommand(), ...args], { encoding: 'utf8', timeout: 60_000 });
}

function ok(...args: string[]): string {
  const r = cli(...args);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** The store's runs and, per run, each tag's value at its last step. */
function storeView(): { hash: string; lr: number; final: Record<string, number | null>; metricCount: number }[] {
  const s = new ResultsStore(db, { readonly: true });
  try {
    return s.listRuns().map((r) => {
      const final: Record<string, number | null> = {};
      const ms = s.metrics(r.hash);
      for (const m of ms) final[m.tag] = m.value;
      return { hash: r.hash, lr: r.config.optimizer.lr, final, metricCount: ms.length };
    });
  } finally {
    s.close();
  }
}

test('runs list: one line per run with its id, status, config summary and final metrics, then the count', async () => {
  await ready;
  const runs = storeView();
  assert.equal(runs.length, 2);
  const lines = ok('runs', 'list', db).trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.equal(lines[2], '2 runs');
  runs.forEach((r, i) => {
    const line = lines[i]!;
    assert.ok(line.startsWith(`${r.hash}  done `), line);
    assert.match(line, new RegExp(`synthetic sgd lr=${r.lr} η=${r.lr.toPrecision(4)} B=16 seed=0`));
    for (const [tag, v] of Object.entries(r.final)) assert.ok(line.includes(`${tag}=${v!.toPrecision(4)}`), `${tag} in ${line}`);
  });
  const json = ok('runs', 'list', db, '--json').trim().split('\n').map((l) => JSON.parse(l) as { hash: string; metrics: Record<string, number> });
  assert.deepEqual(json.map((j) => j.hash), runs.map((r) => r.hash));
  for (const [tag, v] of Object.entries(runs[0]!.final)) assert.equal(json[0]!.metrics[`final/${tag}`], v);
  assert.equal(ok('runs', 'list', db, '--status', 'failed'), '0 runs\n');
  assert.equal(ok('runs', 'list', db, '--sweep', 'tiny', '--no-json'), ok('runs', 'list', db));
});

test('runs show: a run by its id or a unique beginning of it, with its config and every recorded metric', async () => {
  await ready;
  const [run] = storeView();
  const text = ok('runs', 'show', db, run!.hash.slice(0, 6));
  assert.equal(ok('runs', 'show', db, run!.hash), text);
  assert.match(text, new RegExp(`^run ${run!.hash}: done \\(1 attempt,`));
  assert.match(text, new RegExp(`"lr": ${run!.lr},`));
  const metricLines = text.split('\n').filter((l) => /^ {2}[a-z]+\/[a-z]+ +\d+ /.test(l));
  assert.equal(metricLines.length, run!.metricCount);
  const shown = JSON.parse(ok('runs', 'show', db, run!.hash, '--json')) as { hash: string; config: { optimizer: { lr: number } }; metrics: Record<string, { values: number[] }> };
  assert.equal(shown.hash, run!.hash);
  for (const [tag, v] of Object.entries(run!.final)) assert.equal(shown.metrics[tag]!.values.at(-1), v);
  const missing = cli('runs', 'show', db, 'zzzz');
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^error: no run "zzzz" in \S+r\.db; 'momentum-lab runs list \S+r\.db' lists its runs\n$/);
});

test('runs export --wide: one row per run, config columns flattened (optimizer.lr), final metrics as final/<tag>', async () => {
  await ready;
  const runs = storeView();
  const rows = ok('runs', 'export', db, '--wide').trimEnd().split('\n').map((l) => l.split(','));
  assert.equal(rows.length, 1 + runs.length);
  const header = rows[0]!;
  const col = (name: string): number => {
    const i = header.indexOf(name);
    assert.ok(i >= 0, `no column ${name} in ${header.join(',')}`);
    return i;
  };
  assert.deepEqual(header.slice(0, 3), ['hash', 'status', 'diverged_at_step']);
  runs.forEach((r, i) => {
    const row = rows[i + 1]!;
    assert.equal(row.length, header.length);
    assert.equal(row[col('hash')], r.hash);
    assert.equal(row[col('optimizer.lr')], String(r.lr));
    assert.equal(row[col('optimizer.form')], 'sgd');
    assert.equal(row[col('batchSize')], '16');
    assert.equal(row[col('params.train')], '64');
    for (const [tag, v] of Object.entries(r.final)) assert.equal(row[col(`final/${tag}`)], String(v));
  });
  assert.equal(ok('runs', 'export', db, '--wide', '--sweep', 'tiny'), ok('runs', 'export', db, '--wide'));
  const bad = cli('runs', 'export', db, '--wide', '--format', 'jsonl');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^error: --wide writes CSV; leave out --format jsonl/);
});
