/**
 * Models built from a small spec, so experiment configs can name them: 'mlp', 'cnn', 'resnet20', 'resnet32',
 * 'transformer' (or an object with the knobs below). Every model is a `Sequential` over one `ParameterStore`.
 */
import { float32Backend, type Backend, type Buf } from '../engine/backend.js';
import {
  BatchNorm, Conv2d, Dropout, Flatten, GELU, GlobalAvgPool, LayerNorm, Linear, MaxPool2d, Patchify,
  PositionalEmbedding, ReLU, Residual, Scratch, SelfAttention, Sequential, Tanh, TokenMeanPool, type BuildContext, type Layer,
} from '../engine/layers/index.js';
import { countCorrect, softmaxCrossEntropy } from '../engine/loss.js';
import { ParameterStore } from '../engine/params.js';
import { UserError, check } from '../util/errors.js';
import { Rng } from '../util/rng.js';

export type ModelSpec =
  /** Linear layers of the given hidden widths with an activation after each (784-256-256-10 by default). */
  | { kind: 'mlp'; hidden: number[]; activation: 'relu' | 'tanh' | 'gelu'; dropout: number }
  /** conv(c1,3×3)-relu-maxpool2-conv(c2,3×3)-relu-maxpool2-dense(d)-relu-dense(classes), valid padding. */
  | { kind: 'cnn'; channels: [number, number]; dense: number }
  /** CIFAR ResNet (He et al. 2016 §4.2): depth 6n+2, stage widths w, 2w, 4w; 1×1-conv+BN projection shortcuts. */
  | { kind: 'resnet'; depth: number; width: number }
  /** Pre-LN transformer encoder over p×p patches, mean-pooled tokens, linear head. */
  | { kind: 'transformer'; patch: number; dim: number; heads: number; layers: number; causal: boolean };

export const MODEL_NAMES = ['mlp', 'cnn', 'resnet20', 'resnet32', 'transformer'] as const;

/** A model name or a partial spec object → a full spec (missing knobs take the defaults listed in ModelSpec). */
export function parseModelSpec(raw: unknown, field = 'model'): ModelSpec {
  if (typeof raw === 'string') {
    const m = /^resnet(\d+)$/.exec(raw);
    if (m !== null) return parseModelSpec({ kind: 'resnet', depth: Number(m[1]) }, field);
    if (raw === 'mlp' || raw === 'cnn' || raw === 'transformer') return parseModelSpec({ kind: raw }, field);
    throw new UserError(`unknown model ${JSON.stringify(raw)} (expected one of: ${MODEL_NAMES.join(', ')}, or an object with "kind")`, field);
  }
  check(typeof raw === 'object' && raw !== null && !Array.isArray(raw), field, 'must be a model name or an object with "kind"');
  const o = raw as Record<string, unknown>;
  const posInt = (k: string, d: number): number => {
    const v = o[k] ?? d;
    check(typeof v === 'number' && Number.isInteger(v) && v > 0, `${field}.${k}`, `must be a positive integer, got ${JSON.stringify(v)}`);
    return v;
  };
  switch (o.kind) {
    case 'mlp': {
      const hidden = o.hidden ?? [256, 256];
      check(Array.isArray(hidden) && hidden.every((h) => typeof h === 'number' && Number.isInteger(h) && h > 0), `${field}.hidden`, 'must be an array of positive integers');
      const activation = o.activation ?? 'relu';
      check(activation === 'relu' || activation === 'tanh' || activation === 'gelu', `${field}.activation`, `must be relu, tanh or gelu, got ${JSON.stringify(activation)}`);
      const dropout = o.dropout ?? 0;
      check(typeof dropout === 'number' && dropout >= 0 && dropout < 1, `${field}.dropout`, 'must be in [0, 1)');
      return { kind: 'mlp', hidden: [...(hidden as number[])], activation, dropout };
    }
    case 'cnn': {
      const ch = o.channels ?? [32, 64];
      check(Array.isArray(ch) && ch.length === 2 && ch.every((c) => typeof c === 'number' && Number.isInteger(c) && c > 0), `${field}.channels`, 'must be two positive integers');
      return { kind: 'cnn', channels: [ch[0] as number, ch[1] as number], dense: posInt('dense', 128) };
    }
    case 'resnet': {
      const depth = posInt('depth', 20);
      check((depth - 2) % 6 === 0 && depth >= 8, `${field}.depth`, `CIFAR ResNet depth must be 6n+2 (20, 32, 44, 56), got ${depth}`);
      return { kind: 'resnet', depth, width: posInt('width', 16) };
    }
    case 'transformer': {
      const dim = posInt('dim', 64), heads = posInt('heads', 4);
      check(dim % heads === 0, `${field}.heads`, `dim ${dim} must be divisible by heads ${heads}`);
      const causal = o.causal ?? false;
      check(typeof causal === 'boolean', `${field}.causal`, 'must be true or false');
      return { kind: 'transformer', patch: posInt('patch', 7), dim, heads, layers: posInt('layers', 2), causal };
    }
    default:
      throw new UserError(`unknown model kind ${JSON.stringify(o.kind)} (expected mlp, cnn, resnet, transformer)`, `${field}.kind`);
  }
}

export interface ModelOptions {
  inShape: readonly number[];
  classes: number;
  seed: number;
  backend?: Backend;
}

/** A classifier: network, its parameter store and a preallocated logits gradient. */
export class Model {
  private dlogits: Buf = new Float64Array(0);
  private cap = 0;
  constructor(readonly spec: ModelSpec, readonly backend: Backend, readonly store: ParameterStore,
    readonly net: Sequential, readonly inShape: readonly number[], readonly classes: number) {}

  get capacity(): number { return this.cap; }
  get inputSize(): number { return this.inShape.reduce((a, b) => a * b, 1); }

  /** Preallocates every activation for batches of up to `capacity` samples. */
  setup(capacity: number): void {
    if (capacity === this.cap) return;
    this.cap = capacity;
    this.net.setup(capacity);
    this.dlogits = this.backend.alloc(capacity * this.classes);
  }

  forward(x: Buf, n: number, train: boolean): Buf {
    if (n > this.cap) throw new Error(`Model: batch ${n} exceeds capacity ${this.cap}; call setup first`);
    return this.net.forward(x, n, train);
  }

  /** Zeroes the gradients, runs forward (train mode) and backward; returns the mean cross-entropy of the batch. */
  lossAndGrad(x: Buf, labels: Int32Array, n: number): number {
    this.store.zeroGrad();
    const logits = this.forward(x, n, true);
    const loss = softmaxCrossEntropy(logits, labels, n, this.classes, this.dlogits);
    this.net.backward(this.dlogits, n);
    return loss;
  }

  /** Eval-mode loss sum and correct count over n samples (for accumulating over a test split). */
  evaluate(x: Buf, labels: Int32Array, n: number): { lossSum: number; correct: number } {
    const logits = this.forward(x, n, false);
    return { lossSum: softmaxCrossEntropy(logits, labels, n, this.classes, null) * n, correct: countCorrect(logits, labels, n, this.classes) };
  }
}

export function buildModel(spec: ModelSpec, opts: ModelOptions): Model {
  const backend = opts.backend ?? float32Backend();
  const store = new ParameterStore(backend);
  const rng = new Rng(opts.seed);
  const ctx: BuildContext = { store, backend, rng: new Rng(rng.nextU32()), scratch: new Scratch(backend) };
  const layers: Layer[] = [];
  let shape: readonly number[] = opts.inShape;
  const add = <L extends Layer>(l: L): L => { layers.push(l); shape = l.outShape; return l; };
  const K = opts.classes;
  switch (spec.kind) {
    case 'mlp': {
      if (shape.length > 1) add(new Flatten(ctx, shape));
      spec.hidden.forEach((h, i) => {
        // ReLU is fused into the Linear layer (same math, one pass fewer); tanh and GELU are layers of their own.
        add(new Linear(ctx, `fc${i + 1}`, shape, h, true, spec.activation === 'relu'));
        if (spec.activation !== 'relu') add(spec.activation === 'tanh' ? new Tanh(ctx, shape) : new GELU(ctx, shape));
        if (spec.dropout > 0) add(new Dropout(ctx, shape, spec.dropout));
      });
      add(new Linear(ctx, `fc${spec.hidden.length + 1}`, shape, K));
      break;
    }
    case 'cnn': {
      check(shape.length === 3, 'model', `cnn needs image input [C, H, W], got [${shape.join(', ')}]`);
      // conv→ReLU and dense→ReLU are fused layers (relu = true): the same function with one memory pass fewer.
      add(new Conv2d(ctx, 'conv1', shape, spec.channels[0], 3, 1, 0, true, true));
      add(new MaxPool2d(ctx, shape, 2));
      add(new Conv2d(ctx, 'conv2', shape, spec.channels[1], 3, 1, 0, true, true));
      add(new MaxPool2d(ctx, shape, 2));
      add(new Flatten(ctx, shape));
      add(new Linear(ctx, 'fc1', shape, spec.dense, true, true));
      add(new Linear(ctx, 'fc2', shape, K));
      break;
    }
    case 'resnet': {
      check(shape.length === 3, 'model', `resnet needs image input [C, H, W], got [${shape.join(', ')}]`);
      const blocks = (spec.depth - 2) / 6, w = spec.width;
      add(new Conv2d(ctx, 'conv1', shape, w, 3, 1, 1, false));
      add(new BatchNorm(ctx, 'bn1', shape));
      add(new ReLU(ctx, shape));
      [w, 2 * w, 4 * w].forEach((width, s) => {
        for (let b = 0; b < blocks; b++) {
          const stride = s > 0 && b === 0 ? 2 : 1;
          const name = `layer${s + 1}.${b}`;
          const inS = shape;
          const main: Layer[] = [];
          let h: readonly number[] = inS;
          const push = (l: Layer): void => { main.push(l); h = l.outShape; };
          push(new Conv2d(ctx, `${name}.conv1`, h, width, 3, stride, 1, false));
          push(new BatchNorm(ctx, `${name}.bn1`, h));
          push(new ReLU(ctx, h));
          push(new Conv2d(ctx, `${name}.conv2`, h, width, 3, 1, 1, false));
          push(new BatchNorm(ctx, `${name}.bn2`, h));
          let shortcut: Sequential | null = null;
          if (stride !== 1 || inS[0] !== width) {
            const conv = new Conv2d(ctx, `${name}.shortcut.conv`, inS, width, 1, stride, 0, false);
            shortcut = new Sequential([conv, new BatchNorm(ctx, `${name}.shortcut.bn`, conv.outShape)]);
          }
          add(new Residual(ctx, new Sequential(main), shortcut, true)); // relu(main + shortcut), fused
        }
      });
      add(new GlobalAvgPool(ctx, shape));
      add(new Linear(ctx, 'fc', shape, K));
      break;
    }
    case 'transformer': {
      check(shape.length === 3, 'model', `transformer needs image input [C, H, W], got [${shape.join(', ')}]`);
      check(shape[1]! % spec.patch === 0 && shape[2]! % spec.patch === 0, 'model.patch', `patch ${spec.patch} must divide the image size ${shape[1]}×${shape[2]}`);
      const D = spec.dim;
      add(new Patchify(ctx, shape, spec.patch));
      add(new Linear(ctx, 'patch_embed', shape, D));
      add(new PositionalEmbedding(ctx, 'pos_embed', shape));
      for (let i = 0; i < spec.layers; i++) {
        const s0 = shape;
        const ln1 = new LayerNorm(ctx, `h${i}.ln1`, s0);
        const qkv = new Linear(ctx, `h${i}.attn.qkv`, s0, 3 * D);
        const att = new SelfAttention(ctx, qkv.outShape, spec.heads, spec.causal);
        const proj = new Linear(ctx, `h${i}.attn.proj`, att.outShape, D);
        add(new Residual(ctx, new Sequential([ln1, qkv, att, proj]), null));
        const ln2 = new LayerNorm(ctx, `h${i}.ln2`, s0);
        const fc = new Linear(ctx, `h${i}.mlp.fc`, s0, 4 * D);
        const act = new GELU(ctx, fc.outShape);
        const fc2 = new Linear(ctx, `h${i}.mlp.proj`, fc.outShape, D);
        add(new Residual(ctx, new Sequential([ln2, fc, act, fc2]), null));
      }
      add(new LayerNorm(ctx, 'ln_f', shape));
      add(new TokenMeanPool(ctx, shape));
      add(new Linear(ctx, 'head', shape, K));
      break;
    }
  }
  const net = new Sequential(layers);
  net.needsInputGrad = false;
  store.finalize(rng);
  return new Model(spec, backend, store, net, opts.inShape, K);
}
