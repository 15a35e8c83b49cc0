// End-to-end: the `optim trace` contract through the built CLI (npm test builds dist/ first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maxAbsDiff, readFixture, repoRoot } from '../helpers.js';

const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'mlab-trace-'));

function trace(spec: unknown): { status: number | null; stdout: string; stderr: string } {
  const file = join(dir, `spec-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof spec === 'string' ? spec : JSON.stringify(spec));
  const r = spawnSync(process.execPath, [cli, 'optim', 'trace', '--spec', file], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('prints {"x": [...]} matching torch for the SVAG + step-decay fixture', () => {
  const fx = readFixture<{ cases: { name: string; spec: unknown; x: number[][] }[] }>('optim', 'torch_sgd.json');
  const c = fx.cases.find((k) => k.name.startsWith('SVAG l=4'))!;
  const r = trace(c.spec);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { x: number[][] };
  assert.ok(maxAbsDiff(out.x, c.x) <= 1e-12);
});

test('malformed specs exit with code 2 and one line naming the bad field', () => {
  const base = { x0: [1, 2], problem: { kind: 'quadratic', h: [1, 1] }, optimizer: { form: 'pytorch', lr: 0.1 }, steps: 3 };
  const cases: [unknown, RegExp][] = [
    [{ ...base, optimizer: { form: 'pytorch', lr: 0.1, momentum: 1.5 } }, /optimizer\.momentum/],
    [{ ...base, problem: { kind: 'quadratic', h: [1] } }, /problem\.h: must have 2 entries/],
    [{ ...base, steps: -1 }, /steps: must be an integer/],
    [{ ...base, svag: { l: 0.5 } }, /svag\.l: SVAG level ℓ must be ≥ 1/],
    [{ ...base, svag: { l: 2 } }, /problem\.noise2: is required with svag/],
    [{ ...base, schedule: { kind: 'multistep', milestones: [1], gamma: -1 } }, /schedule\.gamma/],
    [{ ...base, optimizer: { form: 'heavyball', lr: 0.1 } }, /optimizer\.form/],
    ['{ not json', /is not valid JSON/],
  ];
  for (const [spec, re] of cases) {
    const r = trace(spec);
    assert.equal(r.status, 2, `exit code for ${JSON.stringify(spec)}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  }
});

test('an iterate that overflows is an error naming the step (exit code 2), not a null in the output', () => {
  // x₁ = 1 − 10³⁰⁰·1 ≈ −10³⁰⁰; x₂ = x₁ − 10³⁰⁰·x₁ ≈ 10⁶⁰⁰ overflows to +∞ at step 2.
  const r = trace({ x0: [1], problem: { kind: 'quadratic', h: [1] }, optimizer: { form: 'sgd', lr: 1e300 }, steps: 5 });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: .*step 2.*x_2\[0\] = Infinity/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});
