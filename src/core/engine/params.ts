/**
 * The parameter store (llm.c's one-allocation rule): every parameter of a model lives in ONE flat buffer and
 * every gradient in a second one of the same length; a layer's weight and bias are subarray views. The optimizer
 * core (`optimizerStep(cfg, store.params, store.grads, state)`) therefore updates the whole model in one pass.
 *
 * Layers declare parameters while the model is built (`declare`), then `finalize(rng)` allocates both buffers
 * and runs each initialiser in declaration order, so the same seed gives the same weights.
 */
import type { Rng } from '../util/rng.js';
import type { Backend, Buf } from './backend.js';

export type Init =
  /** U(−b, b). PyTorch Linear/Conv weights (kaiming_uniform, a = √5) and biases both use b = 1/√fan_in. */
  | { kind: 'uniform'; bound: number }
  | { kind: 'normal'; std: number }
  | { kind: 'constant'; value: number }
  /** Given values (a model read from a file starts from the file's weights). */
  | { kind: 'values'; values: ArrayLike<number> };

export interface Param {
  readonly name: string;
  readonly shape: readonly number[];
  readonly size: number;
  readonly offset: number;
  readonly init: Init;
  /** Views into the store's flat buffers; valid after `finalize`. */
  data: Buf;
  grad: Buf;
  /** Excluded from weight decay by convention (biases, norm affine)? Recorded for experiments; not applied here. */
  readonly noDecay: boolean;
}

const EMPTY = new Float64Array(0);

export class ParameterStore {
  readonly list: Param[] = [];
  private total = 0;
  params: Buf = EMPTY;
  grads: Buf = EMPTY;
  private finalized = false;

  constructor(readonly backend: Backend) {}

  declare(name: string, shape: readonly number[], init: Init, noDecay = false): Param {
    if (this.finalized) throw new Error(`ParameterStore: cannot declare ${name} after finalize`);
    const size = shape.reduce((a, b) => a * b, 1);
    const p: Param = { name, shape: [...shape], size, offset: this.total, init, data: EMPTY, grad: EMPTY, noDecay };
    this.total += size;
    this.list.push(p);
    return p;
  }

  get size(): number {
    return this.total;
  }

  /** Allocates the flat buffers and initialises every parameter, in declaration order, from `rng`. */
  finalize(rng: Rng): void {
    if (this.finalized) throw new Error('ParameterStore: finalize called twice');
    this.finalized = true;
    this.params = this.backend.alloc(this.total);
    this.grads = this.backend.alloc(this.total);
    for (const p of this.list) {
      p.data = this.params.subarray(p.offset, p.offset + p.size);
      p.grad = this.grads.subarray(p.offset, p.offset + p.size);
      const d = p.data;
      const init = p.init;
      if (init.kind === 'uniform') for (let i = 0; i < p.size; i++) d[i] = (2 * rng.uniform() - 1) * init.bound;
      else if (init.kind === 'normal') for (let i = 0; i < p.size; i++) d[i] = rng.normal() * init.std;
      else if (init.kind === 'values') for (let i = 0; i < p.size; i++) d[i] = init.values[i]!;
      else d.fill(init.value);
    }
  }

  /** Makes a declared parameter start from `values` instead of its layer's initialiser. */
  initFrom(p: Param, values: ArrayLike<number>): void {
    if (this.finalized || !this.list.includes(p)) throw new Error(`ParameterStore: cannot set the initial values of ${p.name}`);
    if (values.length !== p.size) throw new Error(`ParameterStore: ${p.name} needs ${p.size} values, got ${values.length}`);
    (p as { init: Init }).init = { kind: 'values', values };
  }

  zeroGrad(): void {
    this.grads.fill(0);
  }

  byName(name: string): Param {
    const p = this.list.find((q) => q.name === name);
    if (p === undefined) throw new Error(`no parameter named ${name}`);
    return p;
  }
}

/** PyTorch's default bound for Linear/Conv weights and biases: kaiming_uniform(a=√5) gives gain·√(3/fan_in) = 1/√fan_in. */
export function pytorchDefaultBound(fanIn: number): number {
  return 1 / Math.sqrt(fanIn);
}
