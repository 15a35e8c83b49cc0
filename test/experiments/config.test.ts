import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  configHash, expandGrid, logGrid, parseSweepConfig, readConfigFile, resolveRunConfig, resolveTaskParams,
} from '../../src/experiments/index.js';
import { effectiveLearningRate } from '../../src/core/optim/index.js';
import { UserError } from '../../src/core/util/errors.js';
import { spawnSync } from 'node:child_process';
import { cliCommand, repoRoot, tempDir } from './helpers.js';

const base = { steps: 10, batchSize: 8, optimizer: { lr: 0.1 } };

function userError(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `message must be one line: ${e.message}`);
    return e.message;
  }
  assert.fail('expected a UserError');
}

test('an unknown key is an error naming its path and the allowed keys', () => {
  const m = userError(() => parseSweepConfig({ task: 'synthetic', base, grdi: {} }));
  assert.match(m, /^grdi: unknown key/);
  assert.match(m, /allowed: name, task, base, grid, lrAxis, protocol, workers/);
  const m2 = userError(() => parseSweepConfig({ task: 'synthetic', base, grid: { lrs: [0.1] } }));
  assert.match(m2, /^grid\.lrs: unknown key .*allowed: form, lr, momentum, batchSize, svag, schedule, seed/);
  const m3 = userError(() => parseSweepConfig({ task: 'synthetic', base, protocol: { tune: true, seeds: 3 } }));
  assert.match(m3, /^protocol\.seeds: unknown key/);
});

test('a bad enum value lists the allowed values', () => {
  const m = userError(() => parseSweepConfig({ task: 'synthetic', base, grid: { form: ['sgd', 'adam'] } }));
  assert.match(m, /^grid\.form\[1\]: must be one of "sgd", "pytorch", "normalized", "keras", got "adam"/);
  const m2 = userError(() => parseSweepConfig({ task: 'synthetic', base, protocol: { select: 'last' } }));
  assert.match(m2, /^protocol\.select: must be one of "final", "best"/);
});

test('run config errors name base.*, including task params and optimizer fields', () => {
  const sweep = (b: Record<string, unknown>) => expandGrid(parseSweepConfig({ task: 'synthetic', base: b }));
  assert.match(userError(() => sweep({ ...base, params: { clases: 3 } })), /^base\.params\.clases: unknown key .*allowed: classes, dim/);
  assert.match(userError(() => sweep({ ...base, optimizer: { lr: 0.1, momentum: 1.5 } })), /^base\.optimizer\.momentum: /);
  assert.match(userError(() => sweep({ ...base, batchSize: 0 })), /^base\.batchSize: /);
  assert.match(userError(() => sweep({ ...base, optimizer: { lr: 0.1, schedule: { kind: 'step' } } })), /^base\.optimizer\.schedule\.kind: unknown schedule kind "step"/);
  assert.match(userError(() => resolveRunConfig({ ...base, task: 'nope' }, resolveTaskParams)), /unknown task "nope" \(known: synthetic/);
});

test('YAML and JSON config files load; bad syntax names the file', () => {
  const d = tempDir('cfg');
  const y = join(d, 's.yaml');
  writeFileSync(y, 'task: synthetic\nbase:\n  steps: 5\n  batchSize: 4\n  optimizer: {lr: 0.5}\ngrid:\n  lr: {min: 0.001, max: 10, num: 5}\n');
  const s = parseSweepConfig(readConfigFile(y));
  assert.deepEqual(s.grid.lr, { min: 0.001, max: 10, num: 5 });
  const j = join(d, 'bad.json');
  writeFileSync(j, '{"task": ');
  assert.match(userError(() => readConfigFile(j)), /bad\.json is not valid JSON/);
  assert.match(userError(() => readConfigFile(join(d, 'missing.yaml'))), /missing\.yaml: no such file/);
});

test('log grid: 10^(−3..1) in 5 points is exactly 0.001, 0.01, 0.1, 1, 10', () => {
  // Geometric spacing: ratio (10/0.001)^(1/4) = 10; values rounded to 12 significant digits.
  assert.deepEqual(logGrid(0.001, 10, 5), [0.001, 0.01, 0.1, 1, 10]);
  assert.deepEqual(logGrid(0.5, 0.5, 1), [0.5]);
});

test('effective-lr axis pairs SGD and SGDM: γ = η(1−β), so γ/(1−β) = η', () => {
  const s = parseSweepConfig({ task: 'synthetic', base, grid: { form: ['sgd', 'pytorch', 'normalized'], momentum: [0.9, 0.5], lr: [0.1, 1] } });
  const runs = expandGrid(s);
  // sgd: 2 lrs (no β axis); pytorch and normalized: 2 β × 2 lr each ⇒ 2 + 4 + 4 = 10.
  assert.equal(runs.length, 10);
  for (const r of runs) {
    const o = r.config.optimizer;
    if (o.form === 'pytorch') {
      assert.equal(o.lr, r.labels.gridLr * (1 - o.momentum));
      assert.ok(Math.abs(effectiveLearningRate(o.lr, o.momentum) - r.labels.gridLr) < 1e-15);
    } else {
      assert.equal(o.lr, r.labels.gridLr); // sgd: η = γ; normalized: its lr is η already
    }
  }
  const raw = expandGrid(parseSweepConfig({ task: 'synthetic', base, lrAxis: 'raw', grid: { form: ['pytorch'], momentum: [0.9], lr: [0.1] } }));
  assert.equal(raw[0]!.config.optimizer.lr, 0.1);
  assert.ok(Math.abs(raw[0]!.labels.effectiveLr - 1) < 1e-15); // 0.1/(1−0.9) = 1
});

test('the resolved config is fully explicit and its hash ignores key order and the name label', () => {
  const a = resolveRunConfig({ task: 'synthetic', ...base, name: 'a' }, resolveTaskParams);
  const b = resolveRunConfig({ optimizer: { lr: 0.1 }, batchSize: 8, steps: 10, task: 'synthetic', name: 'b' }, resolveTaskParams);
  assert.equal(configHash(a), configHash(b));
  assert.equal(a.optimizer.form, 'pytorch');
  assert.equal(a.optimizer.dampening, 0);
  assert.equal((a.params as { classes: number }).classes, 4);
  const c = resolveRunConfig({ task: 'synthetic', ...base, seed: 1 }, resolveTaskParams);
  assert.notEqual(configHash(a), configHash(c));
});

test('CLI: a bad sweep config exits 2 with one line naming the field; --plan lists runs without running them', () => {
  const d = tempDir('cfg');
  const bad = join(d, 'bad.yaml');
  writeFileSync(bad, 'task: synthetic\nbase:\n  steps: 5\n  batchSize: 4\n  optimizer: {lr: 0.5, form: adam}\n');
  const r = spawnSync(process.execPath, [...cliCommand(), 'sweep', bad, '--db', join(d, 'x.db')], { cwd: repoRoot(), encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'error: base.optimizer.form: must be one of "sgd", "pytorch", "normalized", "keras", got "adam"\n');
  const good = join(d, 'good.json');
  writeFileSync(good, JSON.stringify({ task: 'synthetic', base: { steps: 5, batchSize: 4 }, grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.1, 1] } }));
  const p = spawnSync(process.execPath, [...cliCommand(), 'sweep', good, '--db', join(d, 'x.db'), '--plan'], { cwd: repoRoot(), encoding: 'utf8' });
  assert.equal(p.status, 0, p.stderr);
  const lines = p.stdout.trim().split('\n');
  assert.equal(lines.length, 5); // 4 runs (sgd × 2 lr, SGDM × 2 lr) + the count line
  assert.match(lines[0]!, /^[0-9a-f]{16} new +sgd η=0\.100 B=4 seed=0$/);
});
