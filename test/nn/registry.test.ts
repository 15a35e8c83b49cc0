/**
 * The model-family registry: a family registered from outside the package (a linear classifier, here in the test)
 * parses, builds and trains like a built-in one, and the built-ins declare the facts the advisor and the suite use.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { Flatten, Linear } from '../../src/core/engine/layers/index.js';
import { buildModel, modelFamily, parseModelSpec, registerModelFamily, type ModelSpecBase } from '../../src/core/nn/models.js';
import { LayerChain } from '../../src/core/nn/registry.js';
import { trainOnData } from '../../src/core/nn/train.js';
import { syntheticDataset } from '../../src/core/data/synthetic.js';
import { defaultMeasureSamples } from '../../src/core/advisor/probe.js';
import { modelLabel } from '../../src/experiments/paper/plan.js';
import { optimizerConfig } from '../../src/core/optim/index.js';
import { UserError, check } from '../../src/core/util/errors.js';

/** Multinomial logistic regression: Flatten then one Linear layer, with or without a bias. */
interface LinearSpec extends ModelSpecBase { kind: 'linear'; bias: boolean }

registerModelFamily<LinearSpec>({
  kind: 'linear',
  parse(o, field) {
    const bias = o.bias ?? true;
    check(typeof bias === 'boolean', `${field}.bias`, 'must be true or false');
    return { kind: 'linear', bias };
  },
  build(spec, inShape, classes, ctx) {
    const net = new LayerChain(inShape);
    net.add(new Flatten(ctx, net.shape));
    net.add(new Linear(ctx, 'fc', net.shape, classes, spec.bias));
    return net.layers;
  },
});

const data = syntheticDataset({ shape: [1, 8, 8], classes: 4, train: 640, test: 200, seed: 3 });

test('a family registered in the test parses from a name or an object, with its defaults and its errors', () => {
  assert.deepEqual(parseModelSpec('linear'), { kind: 'linear', bias: true });
  assert.deepEqual(parseModelSpec({ kind: 'linear', bias: false }), { kind: 'linear', bias: false });
  assert.throws(() => parseModelSpec({ kind: 'linear', bias: 1 }), (e) => e instanceof UserError && e.message === 'model.bias: must be true or false');
  assert.throws(() => registerModelFamily({ kind: 'linear', parse: () => ({ kind: 'linear' }), build: () => [] }), /already registered/);
  assert.throws(() => registerModelFamily({ kind: 'mlp2', names: ['mlp'], parse: () => ({ kind: 'mlp2' }), build: () => [] }), /"mlp" is already registered/);
});

test('it builds: 64·4 weights + 4 biases on [1, 8, 8] with 4 classes, in the declared order', () => {
  const m = buildModel(parseModelSpec('linear'), { inShape: [1, 8, 8], classes: 4, seed: 0 });
  assert.equal(m.store.size, 260);
  assert.deepEqual(m.store.list.map((p) => p.name), ['fc.weight', 'fc.bias']);
  assert.equal(buildModel(parseModelSpec({ kind: 'linear', bias: false }), { inShape: [1, 8, 8], classes: 4, seed: 0 }).store.size, 256);
});

test('it trains with trainOnData: the loss falls from above ln 4 to near 0 and the separable task is learnt', () => {
  const losses: number[] = [];
  const r = trainOnData({ model: parseModelSpec('linear'), optimizer: optimizerConfig({ lr: 0.1, momentum: 0.9 }), batch: 32, epochs: 1, seed: 1 },
    data, { hooks: { onStep: (s) => { losses.push(s.loss); } } });
  assert.equal(losses.length, 20); // 640 / 32 steps
  // Standardised inputs and U(±1/8) weights give logits of spread √(64/192) ≈ 0.58, so the first batch's loss is
  // ln 4 ≈ 1.386 plus a few tenths: 1.772 with seed 1.
  assert.ok(Math.abs(losses[0]! - 1.772) < 5e-4, `first loss ${losses[0]}`);
  // Four well-separated prototypes: the loss is below 0.01 from step 7 on and every test image is classified right.
  assert.ok(losses.slice(6).every((l) => l < 0.01), `losses ${losses.join(', ')}`);
  assert.equal(r.testAccuracy, 1);
});

test('unregistered names and kinds are one-line errors listing every registered family, the new one included', () => {
  // The message already contains the field's name ("model"), so UserError adds no "model: " prefix.
  assert.throws(() => parseModelSpec('vgg'), (e) => e instanceof UserError && e.field === 'model'
    && e.message === 'unknown model "vgg" (expected one of: mlp, cnn, resnet20, resnet32, transformer, FILE.onnx, linear, or an object with "kind")');
  assert.throws(() => parseModelSpec({ kind: 'vgg' }, 'params.model'), (e) => e instanceof UserError
    && e.message === 'params.model.kind: unknown model kind "vgg" (expected mlp, cnn, resnet, transformer, onnx, linear)');
});

test('what a family leaves out takes the defaults: same-spec twin, 64 measurement samples, JSON label, no peak RSS', () => {
  const spec = parseModelSpec('linear');
  const family = modelFamily(spec);
  assert.equal(family.hvpTwin(spec), spec);
  assert.equal(defaultMeasureSamples(spec), 64);
  assert.equal(modelLabel({ kind: 'linear' }), '{"kind":"linear"}');
  assert.equal(family.measurePeakRss, false);
  assert.equal(family.probeNote, null);
});

test('the built-in families declare what the advisor and the paper suite ask of them', () => {
  const mlp = parseModelSpec({ kind: 'mlp', dropout: 0.3 });
  assert.deepEqual(modelFamily(mlp).hvpTwin(mlp), { kind: 'mlp', hidden: [256, 256], activation: 'relu', dropout: 0 });
  assert.deepEqual(['mlp', 'cnn', 'resnet20', 'transformer'].map((n) => defaultMeasureSamples(parseModelSpec(n))), [256, 64, 64, 64]);
  assert.deepEqual(['mlp', 'cnn', 'resnet20', 'transformer'].map((n) => modelFamily(parseModelSpec(n)).measurePeakRss), [true, true, false, false]);
  assert.equal(modelFamily('resnet').probeNote, 'BatchNorm in train mode: batch statistics of the measurement batch');
  const resnet = parseModelSpec('resnet20');
  assert.equal(modelFamily(resnet).hvpTwin(resnet), resnet);
  assert.deepEqual(parseModelSpec('resnet44'), { kind: 'resnet', depth: 44, width: 16 });
  assert.equal(modelLabel({ kind: 'cnn', channels: [16, 32] }), 'cnn 16-32-128');
  assert.equal(modelLabel({ kind: 'cnn', channels: [8, 8], dense: 20 }), 'cnn 8-8-20');
  assert.equal(modelLabel({ kind: 'resnet', depth: 8 }), '{"kind":"resnet","depth":8}');
});
