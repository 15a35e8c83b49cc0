// Bad ONNX files and graphs: each is a one-line UserError that names the file and what is wrong (the graphs come from
// scripts/gen_fixtures_onnx.py); through the CLI, exit code 2, one line on stderr and no stack trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float64Backend } from '../../src/core/engine/backend.js';
import { ParameterStore } from '../../src/core/engine/params.js';
import { graphToNetwork } from '../../src/core/onnx/graph-to-model.js';
import { parseOnnx } from '../../src/core/onnx/proto.js';
import { UserError } from '../../src/core/util/errors.js';
import { Rng } from '../../src/core/util/rng.js';
import { repoRoot } from '../helpers.js';

const fixtures = join(repoRoot(), 'test', 'fixtures', 'onnx');
const cli = join(repoRoot(), 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'mlab-onnx-'));
const mlpBytes = readFileSync(join(fixtures, 'mlp.onnx'));

function refusedBuild(bytes: Uint8Array, inShape: number[], classes: number, expect: RegExp): void {
  const backend = float64Backend();
  const ctx = { store: new ParameterStore(backend), backend, rng: new Rng(0) };
  assert.throws(() => graphToNetwork(parseOnnx(bytes, 'model.onnx'), 'model.onnx', inShape, classes, ctx), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, /^model\.onnx: /);
    assert.match(e.message, expect);
    return true;
  });
}

test('an empty file is not an ONNX model', () => refusedBuild(new Uint8Array(0), [1, 3, 4], 3, /not a readable ONNX model \(empty file/));
test('a text file is not an ONNX model', () => refusedBuild(new TextEncoder().encode('x,y\n1,2\n'), [1, 3, 4], 3, /not a readable ONNX model/));
test('a truncated file is refused, at any cut', () => {
  for (const cut of [1, 7, 100, 600, mlpBytes.length - 30]) refusedBuild(mlpBytes.subarray(0, cut), [1, 3, 4], 3, /not a readable ONNX model|truncated|opset 0/);
});
test('bytes of 0xff are refused (a varint that never ends)', () => refusedBuild(new Uint8Array(64).fill(0xff), [1, 3, 4], 3, /truncated varint/));
test('an operator outside the supported set names the node, its op type and what is supported', () => {
  refusedBuild(readFileSync(join(fixtures, 'bad_op.onnx')), [1, 3, 4], 3, /node \S+ \(Abs\) is not supported \(supported: Gemm, MatMul, /);
});
test('opset 11 is refused with the opsets to export with', () => {
  refusedBuild(readFileSync(join(fixtures, 'bad_opset.onnx')), [1, 3, 4], 3, /opset 11 is not supported \(export with torch\.onnx\.export\(\.\.\., opset_version=13\.\.17\)\)/);
});
test('a grouped convolution is refused', () => {
  refusedBuild(readFileSync(join(fixtures, 'bad_groups.onnx')), [2, 4, 4], 3, /\(Conv\) is supported only as a 2-D convolution with .* group 1/);
});
test('an input shape other than the data\'s is refused, with both shapes', () => {
  refusedBuild(mlpBytes, [1, 4, 3], 3, /input input has shape \[batch, 1, 3, 4\], but the data's samples have shape \[1, 4, 3\]/);
  refusedBuild(mlpBytes, [12], 3, /input input has shape \[batch, 1, 3, 4\], but the data's samples have shape \[12\]/);
});
test('a model whose outputs are not the data\'s classes is refused', () => {
  refusedBuild(mlpBytes, [1, 3, 4], 5, /the model gives 3 outputs per sample, but the data has 5 classes/);
});

function refusedCli(args: string[], expect: RegExp): void {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2, `exit ${r.status}, stderr ${r.stderr}`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
  assert.match(lines[0]!, expect);
}

const data = join(fixtures, 'mlp_data.npz');
test('train --model with a missing file: exit 2, one line naming the file', () => {
  refusedCli(['train', '--data', data, '--model', join(dir, 'missing.onnx'), '--epochs', '1', '--lr', '0.05'], /missing\.onnx: cannot read the ONNX model \(no such file\)/);
});
test('train --model with a truncated file and with a CNN for other data: exit 2, one line naming the file', () => {
  const cut = join(dir, 'cut.onnx');
  writeFileSync(cut, mlpBytes.subarray(0, 300));
  refusedCli(['train', '--data', data, '--model', cut, '--epochs', '1', '--lr', '0.05'], /cut\.onnx: not a readable ONNX model/);
  refusedCli(['train', '--data', data, '--model', join(fixtures, 'cnn.onnx'), '--epochs', '1', '--lr', '0.05'], /cnn\.onnx: input input has shape \[batch, 2, 8, 8\], but the data's samples have shape \[1, 3, 4\]/);
});

test('a Transpose of the batch axis, a Softmax before the last layer and the Add of a learnt shift are refused, naming the node', () => {
  refusedBuild(readFileSync(join(fixtures, 'bad_transpose.onnx')), [1, 3, 4], 3, /\(Transpose\) permutes axes \[1, 0, 2, 3\]; only permutations that keep the batch axis 0 first are supported/);
  refusedBuild(readFileSync(join(fixtures, 'bad_softmax_mid.onnx')), [1, 3, 4], 3, /\(Softmax\) is supported only as the last node, over the classes/);
  refusedBuild(readFileSync(join(fixtures, 'bad_shift.onnx')), [1, 3, 4], 3, /\(Add\) needs input \S+ computed from the graph's input \(a constant there is not supported\)/);
});
