// End-to-end: `momentum-lab train` and `bench train` through the built CLI (npm test builds dist/ first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const run = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 120_000 });

test('train --json prints one object with the metrics and the optimizer record', (t) => {
  assert.ok(existsSync(cli), 'dist/src/cli/main.js not built: run npm run build');
  const r = run(['train', '--dataset', 'synthetic', '--model', 'mlp', '--optimizer', 'sgdm', '--lr', '0.05', '--momentum', '0.9',
    '--batch', '64', '--epochs', '1', '--max-steps', '20', '--seed', '0', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const out = JSON.parse(lines[0]!) as Record<string, unknown>;
  for (const k of ['testAccuracy', 'testLoss', 'trainLoss', 'samplesPerSec', 'diverged', 'optimizerRecord', 'history']) assert.ok(k in out, k);
  assert.equal(out.diverged, false);
  assert.equal(out.steps, 20);
  assert.equal((out.optimizerRecord as Record<string, unknown>).momentum, 0.9);
});

test('train reports divergence with exit code 3 and diverged: true', (t) => {
  assert.ok(existsSync(cli), 'dist/src/cli/main.js not built: run npm run build');
  const r = run(['train', '--dataset', 'synthetic', '--optimizer', 'sgd', '--lr', '1e9', '--batch', '64', '--max-steps', '30', '--json']);
  assert.equal(r.status, 3, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { diverged: boolean }).diverged, true);
});

test('user errors are one line with exit code 2', (t) => {
  assert.ok(existsSync(cli), 'dist/src/cli/main.js not built: run npm run build');
  const cases: [string[], RegExp][] = [
    [['train', '--dataset', 'synthetic'], /--lr is required/],
    [['train', '--dataset', 'synthetic', '--lr', '0.1', '--model', 'vgg'], /unknown model "vgg"/],
    [['train', '--dataset', 'synthetic', '--lr', '0.1', '--optimizer', 'sgd', '--momentum', '0.9'], /--momentum/],
    [['train', '--dataset', 'synthetic', '--lr', '0.1', '--schedule', '{bad'], /--schedule must be JSON/],
    [['train', '--dataset', 'synthetic', '--lr', '0.1', '--svag', '0'], /svag/],
  ];
  for (const [args, re] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('bench train --json prints samplesPerSec', (t) => {
  assert.ok(existsSync(cli), 'dist/src/cli/main.js not built: run npm run build');
  const r = run(['bench', 'train', '--model', 'mlp', '--batch', '32', '--steps', '3', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { samplesPerSec: number };
  assert.ok(out.samplesPerSec > 0);
});
