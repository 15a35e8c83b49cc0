/**
 * Models built from a small spec, so experiment configs can name them: 'mlp', 'cnn', 'resnet20', 'resnet32',
 * 'transformer' (or an object with the knobs of the family's spec). Every model is a `Sequential` over one
 * `ParameterStore`. The families live in families/*.ts and register in registry.ts; importing this module registers
 * the built-ins.
 */
import { float32Backend, type Backend, type Buf } from '../engine/backend.js';
import { Scratch, Sequential, type BuildContext } from '../engine/layers/index.js';
import { countCorrect, softmaxCrossEntropy } from '../engine/loss.js';
import { ParameterStore } from '../engine/params.js';
import { UserError, check } from '../util/errors.js';
import { checkLimit } from '../util/limits.js';
import { Rng } from '../util/rng.js';
import type { CnnSpec, MlpSpec, ResNetSpec, TransformerSpec } from './families/index.js';
import './families/index.js'; // registers the built-in families
import { modelFamilies, modelFamily, modelNames, type ModelSpecBase } from './registry.js';
import { didYouMean } from '../util/suggest.js';

export { LayerChain, positiveInt, findModelFamily, modelFamilies, modelFamily, modelNames, registerModelFamily, type ModelFamily, type ModelFamilyDefinition, type ModelSpecBase } from './registry.js';
export type { CnnSpec, MlpSpec, ResNetSpec, TransformerSpec } from './families/index.js';

/** A spec of a built-in family, or of any registered family (`{ kind, ...knobs }`). */
export type ModelSpec = MlpSpec | CnnSpec | ResNetSpec | TransformerSpec | ModelSpecBase;

/** A model name or a partial spec object → a full spec (missing knobs take the family's defaults). */
export function parseModelSpec(raw: unknown, field = 'model'): ModelSpec {
  if (typeof raw === 'string') {
    for (const family of modelFamilies()) {
      const partial = family.fromName(raw);
      if (partial !== null) return parseModelSpec(partial, field);
    }
    throw new UserError(`unknown model ${JSON.stringify(raw)}${didYouMean(raw, modelNames())} (expected one of: ${modelNames().join(', ')}, or an object with "kind")`, field);
  }
  check(typeof raw === 'object' && raw !== null && !Array.isArray(raw), field, 'must be a model name or an object with "kind"');
  const o = raw as Record<string, unknown>;
  return modelFamily(o as ModelSpecBase, field).parse(o, field);
}

export interface ModelOptions {
  inShape: readonly number[];
  classes: number;
  seed: number;
  backend?: Backend;
}

/** A backend whose `alloc` counts the values it hands out, so a model can measure its activation footprint. */
interface CountingBackend extends Backend { readonly allocated: number }

function countingBackend(be: Backend): CountingBackend {
  let allocated = 0;
  return {
    ...be,
    get allocated() { return allocated; },
    alloc: (n: number) => { allocated += n; return be.alloc(n); },
  };
}

/** A classifier: network, its parameter store and a preallocated logits gradient. */
export class Model {
  private dlogits: Buf = new Float64Array(0);
  private cap = 0;
  private perSample = 0;
  constructor(readonly spec: ModelSpec, readonly backend: Backend, readonly store: ParameterStore,
    readonly net: Sequential, readonly inShape: readonly number[], readonly classes: number) {}

  get capacity(): number { return this.cap; }
  get inputSize(): number { return this.inShape.reduce((a, b) => a * b, 1); }

  /**
   * Activation values (outputs, input gradients and per-layer buffers, as float32/float64 elements) one sample
   * needs, measured by preparing the network for two samples; 0 when the backend does not count its allocations.
   */
  activationsPerSample(): number {
    if (this.perSample === 0 && 'allocated' in this.backend) {
      const be = this.backend as CountingBackend;
      this.net.setup(1); // sizes the shared scratch buffers, so that the next count holds only per-sample buffers
      const before = be.allocated;
      this.net.setup(2);
      this.perSample = Math.ceil((be.allocated - before) / 2) + this.classes;
      this.cap = 0;
    }
    return this.perSample;
  }

  /** Preallocates every activation for batches of up to `capacity` samples (refused past the activations limit). */
  setup(capacity: number): void {
    if (capacity === this.cap) return;
    checkLimit(capacity * this.activationsPerSample(), 'activations',
      `model ${this.spec.kind}: the activation count (values) for batches of ${capacity} samples`, 'batch');
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
  const backend = countingBackend(opts.backend ?? float32Backend());
  const store = new ParameterStore(backend);
  const rng = new Rng(opts.seed);
  const ctx: BuildContext = { store, backend, rng: new Rng(rng.nextU32()), scratch: new Scratch(backend) };
  const layers = modelFamily(spec).build(spec, opts.inShape, opts.classes, ctx);
  // Layers only declare their parameters while building; the one allocation happens in finalize.
  checkLimit(store.size, 'parameters', `model ${spec.kind}: the parameter count`, 'model');
  const net = new Sequential(layers);
  net.needsInputGrad = false;
  store.finalize(rng);
  return new Model(spec, backend, store, net, opts.inShape, opts.classes);
}
