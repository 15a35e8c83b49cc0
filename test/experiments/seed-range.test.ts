/**
 * Seeds are integers in [0, 2³²): the generators take a seed modulo 2³², so 2³² would silently run seed 0 while the
 * run records 2³². Every seed a user gives is checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { expandGrid, parseSweepConfig, type SweepConfigInput } from '../../src/experiments/index.js';
import { UserError } from '../../src/core/util/errors.js';
import { parseAdviseConfig } from '../../src/core/advisor/config.js';
import { cliCommand, repoRoot } from './helpers.js';

const RANGE = /\[0, 4294967296\)/;

test('train --seed outside [0, 2³²) exits with code 2 and one line naming the flag and the range', () => {
  for (const seed of ['4294967296', '-1']) {
    const r = spawnSync(process.execPath, [...cliCommand(), 'train', '--dataset', 'synthetic', '--lr', '0.1', '--max-steps', '1', '--seed', seed],
      { cwd: repoRoot(), encoding: 'utf8' });
    assert.equal(r.status, 2, `--seed ${seed}: ${r.stderr}`);
    assert.match(r.stderr, /--seed/);
    assert.match(r.stderr, RANGE);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('sweep config seeds (base, params.dataSeed, grid, final seeds) outside [0, 2³²) are one-line errors naming the field', () => {
  const base: SweepConfigInput = { name: 's', task: 'synthetic', base: { steps: 10, batchSize: 4, optimizer: { lr: 0.1 } } };
  const cases: [SweepConfigInput, RegExp][] = [
    [{ ...base, base: { ...base.base, seed: 2 ** 32 } }, /base\.seed/],
    [{ ...base, base: { ...base.base, params: { dataSeed: -1 } } }, /dataSeed/],
    [{ ...base, grid: { seed: [0, 2 ** 32] } }, /grid\.seed\[1\]/],
    [{ ...base, protocol: { tune: true, finalSeeds: [2 ** 32 + 5] } }, /protocol\.finalSeeds/],
    // N final seeds are 0 … N−1, so N may be 2³² but not more.
    [{ ...base, protocol: { tune: true, finalSeeds: 2 ** 32 + 1 } }, /protocol\.finalSeeds/],
  ];
  for (const [cfg, field] of cases) {
    assert.throws(() => expandGrid(parseSweepConfig(cfg)), (e: unknown) => e instanceof UserError && field.test(e.message) && RANGE.test(e.message) && !e.message.includes('\n'), JSON.stringify(cfg));
  }
  // The largest seed is accepted.
  assert.equal(expandGrid(parseSweepConfig({ ...base, grid: { seed: [2 ** 32 - 1] } }))[0]!.config.seed, 4294967295);
});

test('advise config seed outside [0, 2³²) is a one-line error naming the field', () => {
  const cfg = { problem: 'linear-regression', batch: 8, lr: 0.1, momentum: 0.9 };
  assert.throws(() => parseAdviseConfig({ ...cfg, seed: 2 ** 32 }), (e: unknown) => e instanceof UserError && /seed/.test(e.message) && RANGE.test(e.message));
  assert.equal(parseAdviseConfig({ ...cfg, seed: 2 ** 32 - 1 }).seed, 4294967295);
});
