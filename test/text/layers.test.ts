/**
 * The masked-LM layers and loss against PyTorch 1.13 in float64 (fixtures: scripts/gen_fixtures_text.py, Debian
 * python3-torch) to 1e-10 relative to each array's largest value, against central finite differences, and a tiny
 * MLM's first three SGDM steps in float32 against torch's float32 run.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { float32Backend, float64Backend } from '../../src/core/engine/backend.js';
import { GatherPositions, SelfAttention, TiedLMHead, type BuildContext, type Layer } from '../../src/core/engine/layers/index.js';
import { tokenCrossEntropy } from '../../src/core/engine/loss.js';
import { initOptimizer, optimizerConfig, optimizerStep } from '../../src/core/optim/index.js';
import { TextNet, type MlmSpec } from '../../src/core/nn/families/mlm.js';
import { Rng } from '../../src/core/util/rng.js';
import { readFixture } from '../helpers.js';
import { build64, checkGradients, randomBuf } from '../engine/gradcheck.js';

interface LayerCase {
  name: string; inShape: number[]; n: number; x: number[]; r: number[]; y: number[]; dx: number[] | null;
  params: Record<string, number[]>; grads: Record<string, number[]>; lengths?: number[]; positions?: number[]; columns?: number[];
}
interface ModelCase {
  vocab: number; seqLen: number; dim: number; heads: number; slots: number; ids: number[]; lengths: number[]; positions: number[];
  labels: number[]; params: Record<string, number[]>; loss: number; logits: number[]; grads: Record<string, number[]>;
  sgdm: { lr: number; momentum: number; losses: number[] };
}
const fx = readFixture<{ torch: string; layers: LayerCase[]; loss: { logits: number[]; labels: number[]; loss: number; dlogits: number[] }; model: ModelCase }>('text', 'torch_text.json');

function close(what: string, got: ArrayLike<number>, want: readonly number[], tol = 1e-10): void {
  assert.ok(got.length >= want.length, `${what}: ${got.length} values, expected ${want.length}`);
  const scale = Math.max(1, ...want.map(Math.abs));
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol * scale, `${what}[${i}]: ${got[i]} vs torch ${want[i]}`);
}

function make(c: Pick<LayerCase, 'name' | 'inShape' | 'lengths' | 'positions' | 'columns'>): (ctx: BuildContext) => Layer {
  return (ctx) => {
    if (c.name.startsWith('attention')) {
      const a = new SelfAttention(ctx, c.inShape, 2, false);
      a.keyLengths = Int32Array.from(c.lengths!);
      return a;
    }
    if (c.name === 'gather') {
      const g = new GatherPositions(ctx, c.inShape, 2);
      g.positions = Int32Array.from(c.positions!);
      return g;
    }
    const e = ctx.store.declare('e.weight', [6, 3], { kind: 'normal', std: 1 });
    return new TiedLMHead(ctx, 'head', c.inShape, e, c.columns === undefined ? null : Int32Array.from(c.columns));
  };
}

for (const c of fx.layers) {
  test(`${c.name} matches torch ${fx.torch}: output, dx, parameter gradients`, () => {
    const b = build64(make(c));
    assert.deepEqual(b.store.list.map((p) => p.name), Object.keys(c.params));
    for (const p of b.store.list) p.data.set(c.params[p.name]!);
    b.layer.setup(c.n);
    close('y', b.layer.forward(Float64Array.from(c.x), c.n, true), c.y);
    b.store.zeroGrad();
    const dx = b.layer.backward(Float64Array.from(c.r), c.n);
    if (c.dx !== null) close('dx', dx, c.dx);
    for (const p of b.store.list) close(`d ${p.name}`, p.grad, c.grads[p.name]!);
  });
  test(`${c.name}: gradients match central finite differences`, () => {
    checkGradients(build64(make(c)), c.n);
  });
}

test('attention with every key valid is bit-identical to attention without a mask', () => {
  const rng = new Rng(5);
  const x = randomBuf(3 * 5 * 12, rng);
  const run = (lengths: Int32Array | null): Float64Array[] => {
    const b = build64((ctx) => new SelfAttention(ctx, [5, 12], 2, false));
    const a = b.layer as SelfAttention;
    a.keyLengths = lengths;
    a.setup(3);
    const y = Float64Array.from(a.forward(x, 3));
    return [y, Float64Array.from(a.backward(randomBuf(3 * 5 * 4, new Rng(6)), 3))];
  };
  assert.deepEqual(run(Int32Array.from([5, 5, 5])), run(null));
});

test('token cross-entropy with ignored rows matches torch (ignore_index = -1)', () => {
  const l = fx.loss, d = new Float64Array(20);
  const r = tokenCrossEntropy(Float64Array.from(l.logits), Int32Array.from(l.labels), 5, 4, d);
  assert.equal(r.count, 3);
  close('loss', [r.loss], [l.loss]);
  close('dlogits', d, l.dlogits);
  assert.deepEqual(tokenCrossEntropy(Float64Array.from(l.logits), Int32Array.from([-1, -1, -1, -1, -1]), 5, 4, null), { loss: 0, count: 0 });
});

const m = fx.model;
const spec: MlmSpec = { kind: 'mlm', vocab: m.vocab, seqLen: m.seqLen, dim: m.dim, heads: m.heads, layers: 1, slots: m.slots, head: 'mlm', labelWords: null };

function tinyNet(precision: 'float32' | 'float64'): TextNet {
  const net = new TextNet(spec, m.vocab, 0, precision === 'float64' ? float64Backend() : float32Backend());
  assert.deepEqual(net.store.list.map((p) => p.name), Object.keys(m.params), 'parameter names and order match the torch script');
  for (const p of net.store.list) p.data.set(m.params[p.name]!);
  net.setup(2);
  return net;
}

test('tiny MLM (tied decoder, padding mask, ignored slot): float64 loss and every gradient match torch', () => {
  const net = tinyNet('float64');
  const logits = net.forward(Float64Array.from(m.ids), Int32Array.from(m.lengths), Int32Array.from(m.positions), 2, true);
  close('logits', logits, m.logits);
  const d = new Float64Array(4 * m.vocab);
  net.store.zeroGrad();
  close('loss', [tokenCrossEntropy(logits, Int32Array.from(m.labels), 4, m.vocab, d).loss], [m.loss]);
  net.backward(d, 2);
  // tok_embed.weight's gradient sums the input lookup's and the tied decoder's.
  for (const p of net.store.list) close(`d ${p.name}`, p.grad, m.grads[p.name]!);
});

test('tiny MLM: losses over 3 SGDM steps (γ = 0.1, β = 0.9) match torch float32 to float32 tolerance', () => {
  const net = tinyNet('float32');
  const cfg = optimizerConfig({ form: 'pytorch', lr: m.sgdm.lr, momentum: m.sgdm.momentum });
  const state = initOptimizer(cfg, net.store.size, 'float32');
  const ids = Float32Array.from(m.ids), lengths = Int32Array.from(m.lengths), pos = Int32Array.from(m.positions), labels = Int32Array.from(m.labels);
  const d = net.backend.alloc(4 * m.vocab);
  const losses: number[] = [];
  for (let step = 0; step < 4; step++) {
    net.store.zeroGrad();
    const logits = net.forward(ids, lengths, pos, 2, true);
    losses.push(tokenCrossEntropy(logits, labels, 4, m.vocab, step < 3 ? d : null).loss);
    if (step === 3) break;
    net.backward(d, 2);
    optimizerStep(cfg, net.store.params, net.store.grads, state);
  }
  // float32 rounding over ~10³-term sums: relative error ~1e-6; 1e-5 leaves room for three steps of drift.
  close('losses', losses, m.sgdm.losses, 1e-5);
  assert.ok(losses[3]! < losses[0]!, `SGDM lowers the loss: ${losses}`);
});
