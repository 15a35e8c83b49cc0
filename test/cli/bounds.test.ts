// Inputs that would hang, exhaust memory or be silently ignored: each is refused by the built CLI with exit code 2,
// exactly one line on stderr and no stack trace, well within the spawn timeout (a hang fails the test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers.js';

const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'mlab-bounds-'));

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function refused(args: string[], expect: RegExp, env: Record<string, string> = {}): string {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  assert.equal(r.error, undefined, `${args.join(' ')}: ${String(r.error)}`);
  assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.match(lines[0]!, expect);
  assert.ok(Date.now() - t0 < 15_000, `${args.join(' ')} took ${Date.now() - t0} ms`);
  return lines[0]!;
}

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

test('a sweep grid of 10⁷ lr values is refused before it is built, naming the limit and its variable', () => {
  const cfg = file('grid.json', JSON.stringify({ task: 'noisy-quadratic', base: { optimizer: { lr: 0.1 } }, grid: { lr: { min: 0.01, max: 1, num: 1e7 } } }));
  refused(['sweep', '--plan', cfg], /sweep grid .* is 10,000,000, over the limit of 100,000 \(raise it with MOMENTUM_LAB_MAX_GRID=N\)/);
});

test('the grid limit is raised by MOMENTUM_LAB_MAX_GRID (and a bad value of it is named)', () => {
  const cfg = file('grid2.json', JSON.stringify({ task: 'noisy-quadratic', base: { optimizer: { lr: 0.1 } }, grid: { lr: { min: 0.01, max: 1, num: 20 } } }));
  refused(['sweep', '--plan', cfg], /is 20, over the limit of 10 /, { MOMENTUM_LAB_MAX_GRID: '10' });
  refused(['sweep', '--plan', cfg], /MOMENTUM_LAB_MAX_GRID: must be a positive number, got "lots"/, { MOMENTUM_LAB_MAX_GRID: 'lots' });
});

test('theory: 10⁹ chains and a horizon of T = 10¹² are refused', () => {
  // coupling runs SGD and SGDM: 2 × 10⁹ chain values.
  refused(['theory', 'coupling', '--chains', '1e9'], /simulator state .* is 2,000,000,000, over the limit of 134,217,728 .*MOMENTUM_LAB_MAX_CHAIN_VALUES/);
  refused(['theory', 'coupling', '--T', '1e12'], /horizon in steps .* over the limit of 10,000,000 .*MOMENTUM_LAB_MAX_STEPS/);
  // 10⁵ chains × 2 runs × 10⁶ steps (T = 1000 at η = 0.001) = 2·10¹¹ chain-steps.
  refused(['theory', 'coupling', '--T', '1000', '--eta', '0.001', '--chains', '100000'],
    /simulation work .* is 200,000,000,000, over the limit of 10,000,000,000 .*MOMENTUM_LAB_MAX_WORK/);
});

test('optim trace with 10⁹ steps is refused', () => {
  const spec = file('trace.json', JSON.stringify({ x0: [1], problem: { kind: 'quadratic', h: [1] }, optimizer: { form: 'pytorch', lr: 0.1 }, steps: 1e9 }));
  refused(['optim', 'trace', '--spec', spec], /steps is 1,000,000,000, over the limit of 10,000,000 \(raise it with MOMENTUM_LAB_MAX_STEPS=N\)/);
});

test('a model of 10⁸ hidden units is refused from its parameter count before allocation', () => {
  // 784·10⁸ + 10⁸ + 10⁸·10 + 10 = 79,500,000,010 parameters on 28×28 inputs with 10 classes.
  refused(['train', '--dataset', 'synthetic', '--lr', '0.1', '--model', '{"kind":"mlp","hidden":[100000000]}'],
    /parameter count is 79,500,000,010, over the limit of 536,870,912 \(raise it with MOMENTUM_LAB_MAX_PARAMETERS=N\)/);
});

test('a batch whose activations exceed the limit (or the 4 GiB WASM memory, when the limit is raised) is refused before allocation', () => {
  // The first 512-channel convolution's output on 28×28 inputs alone is 512 × 784 = 401,408 values per sample,
  // so a batch of 4096 needs more than 1.6·10⁹ of them.
  const args = ['train', '--dataset', 'mnist', '--lr', '0.1', '--batch', '4096', '--max-steps', '1', '--model', '{"kind":"cnn","channels":[512,512]}'];
  const line = refused(args, /model cnn: the activation count \(values\) for batches of 4096 samples is ([\d,]+), over the limit of 1,073,741,824 \(raise it with MOMENTUM_LAB_MAX_ACTIVATIONS=N\)/);
  assert.ok(Number(/is ([\d,]+),/.exec(line)![1]!.replaceAll(',', '')) > 4096 * 512 * 784);
  refused(args, /need \d+\.\d GiB of WASM kernel memory, over its 4 GiB maximum: use a smaller batch or model/, { MOMENTUM_LAB_MAX_ACTIVATIONS: '1e12' });
});

test('configs nested 5,000 levels deep are refused (model flag, schedule flag, advise config, sweep config)', () => {
  refused(['train', '--lr', '0.1', '--model', `{"kind":"mlp","hidden":${deep(5000)}}`], /--model is nested more than 64 levels deep .*MOMENTUM_LAB_MAX_JSON_DEPTH/);
  refused(['train', '--lr', '0.1', '--schedule', `{"kind":"multistep","milestones":${deep(5000)}}`], /--schedule is nested more than 64 levels/);
  refused(['advise', file('advise.json', `{"model":${deep(5000)}}`)], /advise\.json is nested more than 64 levels/);
  refused(['sweep', '--plan', file('deep.json', `{"task":"noisy-quadratic","base":${deep(5000)}}`)], /deep\.json is nested more than 64 levels/);
});

test('--threads above the core count is an error naming the count', () => {
  refused(['train', '--lr', '0.1', '--threads', '999'], new RegExp(`--threads 999 is more than the ${availableParallelism()} cores here`));
});

test('an extra positional argument is an error naming it', () => {
  refused(['train', 'extra', '--lr', '0.1'], /'train' takes no positional arguments; unexpected: "extra"/);
  refused(['sweep', 'a.json', 'b.json'], /'sweep' takes at most 1 positional argument; unexpected: "b\.json"/);
});

test('a flag that needs a value is not given the next flag', () => {
  refused(['train', '--data-dir', '--lr', '0.1'], /^error: --data-dir needs a value/);
});

test('non-finite numbers are named with the value as written', () => {
  refused(['train', '--lr', 'inf'], /--lr must be a number, got 'inf'/);
  refused(['train', '--lr', 'nan'], /--lr must be a number, got 'nan'/);
  const cfg = file('inf.yaml', 'task: noisy-quadratic\nbase: {optimizer: {lr: 0.1}}\ngrid: {lr: [0.1, .inf]}\n');
  refused(['sweep', '--plan', cfg], /grid\.lr\[1\] must be a finite number, got \.inf/);
});

test('control characters from user input are escaped in the error line', () => {
  const line = refused(['train', '--lr', '0.1', '--optimizer', 'sg\x1b[31md\rx'], /got 'sg\\x1b\[31md\\x0dx'/);
  assert.doesNotMatch(line, /[\x00-\x1f]/);
});

test('an unknown command is one escaped line listing the commands', () => {
  const line = refused(['tran\x1b[2J', '--lr', '0.1'], /^error: unknown command "tran\\u001b\[2J" \(commands: optim, data, sweep, runs, train, .*; run 'momentum-lab --help' for what each does\)$/);
  assert.doesNotMatch(line, /[\x00-\x1f]/);
});
