// `--plugin FILE`: the README's two one-file extensions (examples/plugins) used from the command line — a model
// family trained by `train` and by a sweep's worker threads, a dataset source read from --data-dir — and a plugin
// that cannot be loaded is a one-line error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliCommand, repoRoot } from '../experiments/helpers.js';
import { ResultsStore } from '../../src/node/store.js';

const SHALLOW = join(repoRoot(), 'examples/plugins/shallow-model.mjs');
const CSV = join(repoRoot(), 'examples/plugins/csv-source.mjs');
const cli = (args: string[]) => spawnSync(process.execPath, [...cliCommand(), ...args], { cwd: repoRoot(), encoding: 'utf8' });

test('train --plugin shallow-model.mjs --model shallow: 784·128 + 128 + 128·10 + 10 parameters on 28×28 inputs', () => {
  const r = cli(['train', '--plugin', SHALLOW, '--model', 'shallow', '--dataset', 'synthetic', '--epochs', '1', '--batch', '64', '--lr', '0.1', '--threads', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { parameters: number; model: { kind: string; width: number }; testAccuracy: number };
  assert.equal(out.parameters, 101_770);
  assert.deepEqual(out.model, { kind: 'shallow', width: 128 });
  assert.ok(out.testAccuracy > 0.5, `test accuracy ${out.testAccuracy}`); // ten well-separated prototypes
});

test('a sweep over the plugin family runs in worker threads, which load the plugin too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlab-plugin-sweep-'));
  const cfg = join(dir, 'sweep.json'), db = join(dir, 'runs.db');
  writeFileSync(cfg, JSON.stringify({
    task: 'train',
    base: { params: { dataset: 'synthetic', model: { kind: 'shallow', width: 16 }, epochs: 1 }, batchSize: 64, optimizer: { lr: 0.1 } },
    grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.1] },
  }));
  const r = cli(['--plugin', SHALLOW, 'sweep', cfg, '--db', db, '--workers', '2', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const store = new ResultsStore(db, { readonly: true });
  try {
    const runs = store.listRuns();
    assert.equal(runs.length, 2);
    assert.deepEqual(runs.map((x) => x.status), ['done', 'done']);
  } finally {
    store.close();
  }
});

test('train --plugin csv-source.mjs --dataset csv-digits --data-dir DIR reads the CSV files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mlab-plugin-csv-'));
  // Digit d: every pixel 20·d + 10, so the ten classes are separable by brightness alone.
  const rows = (n: number): string => Array.from({ length: n }, (_, i) => [i % 10, ...new Array(64).fill(20 * (i % 10) + 10)].join(',')).join('\n');
  writeFileSync(join(dir, 'train.csv'), rows(200));
  writeFileSync(join(dir, 'test.csv'), rows(50));
  const r = cli(['train', '--plugin', CSV, '--dataset', 'csv-digits', '--data-dir', dir, '--model', '{"kind":"mlp","hidden":[32]}', '--epochs', '20', '--batch', '20', '--lr', '0.05', '--threads', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { dataset: string; parameters: number; steps: number };
  assert.equal(out.dataset, 'csv-digits');
  assert.equal(out.parameters, 64 * 32 + 32 + 32 * 10 + 10);
  assert.equal(out.steps, 200); // 20 epochs × 200/20
  writeFileSync(join(dir, 'train.csv'), '3,1,2\n');
  const e = cli(['train', '--plugin', CSV, '--dataset', 'csv-digits', '--data-dir', dir, '--model', 'mlp', '--lr', '0.05', '--json']);
  assert.equal(e.status, 2, e.stderr);
  assert.match(e.stderr, /^error: .*train\.csv:1: expected a label and 64 pixels 0–255\n$/);
});

test('a plugin that is missing or throws is a one-line error with exit code 2', () => {
  const missing = cli(['train', '--plugin', 'no/such/plugin.mjs', '--dataset', 'synthetic']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /^error: .*plugin no\/such\/plugin\.mjs: no such file.*\n$/);
  const dir = mkdtempSync(join(tmpdir(), 'mlab-plugin-bad-'));
  const broken = join(dir, 'broken.mjs');
  writeFileSync(broken, 'throw new Error("boom");\n');
  const r = cli(['--plugin', broken, 'train', '--dataset', 'synthetic']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: .*plugin .*broken\.mjs failed to load: boom\n$/);
});
