/**
 * Minibatch streams. A stream is a pure function of (n, batch size, mode, seed): two streams with the same options
 * give the same batches, so SGD and SGDM runs can be coupled on one sample order (common random numbers, as in the
 * ConvNetJS trainer demo). Its position is a small JSON object (`getState`/`setState`) for checkpoints.
 */
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

/**
 * 'epoch': a fresh seeded permutation each epoch (PyTorch `DataLoader(shuffle=True)`), batches within one epoch;
 * 'stream': the same permutations read as one endless sequence, so a batch may span two epochs and `next(count)`
 * may ask for fewer than batchSize indices (the advisor's probe); 'replacement': i.i.d. uniform indices.
 */
export type SamplingMode = 'epoch' | 'stream' | 'replacement';

export interface BatchStreamOptions {
  n: number;
  batchSize: number;
  seed: number;
  /** Default 'epoch'. */
  mode?: SamplingMode;
  /** Epoch mode: drop the last n mod B samples of each epoch so every batch has B samples. Default false (PyTorch). */
  dropLast?: boolean;
}

/** Serialisable position of a stream (checkpoints). */
export interface BatchStreamState {
  kind: 'batch-stream/1';
  n: number;
  batchSize: number;
  seed: number;
  mode: SamplingMode;
  dropLast: boolean;
  /** Batches served so far. */
  step: number;
  /** Current epoch (epoch mode) — starts at 0. */
  epoch: number;
  /** Next position in the current epoch's permutation (epoch mode). */
  cursor: number;
  /** Epoch and stream modes: generator state before the current epoch's shuffle; replacement mode: current generator state. */
  rng: number[];
}

/** An independent 32-bit seed for sub-stream `stream` of `seed` (splitmix32 finaliser of a mixed input). */
export function deriveSeed(seed: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul((stream + 1) >>> 0, 0x85ebca77)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function checkInt(v: number, field: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new UserError(`must be an integer ≥ ${min}, got ${v}`, field);
}

export class BatchStream {
  readonly n: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly mode: SamplingMode;
  readonly dropLast: boolean;
  private readonly rng: Rng;
  private readonly perm: Int32Array;
  private readonly out: Int32Array;
  private readonly tail: Int32Array;
  private epochRng: number[] = [];
  private cursor = 0;
  private epochNo = 0;
  private stepNo = 0;

  constructor(opts: BatchStreamOptions) {
    checkInt(opts.n, 'n', 1);
    checkInt(opts.batchSize, 'batchSize', 1);
    if (!Number.isInteger(opts.seed)) throw new UserError(`must be an integer, got ${opts.seed}`, 'seed');
    this.n = opts.n;
    this.batchSize = opts.batchSize;
    this.seed = opts.seed;
    this.mode = opts.mode ?? 'epoch';
    this.dropLast = opts.dropLast ?? false;
    if (this.mode === 'epoch' && this.batchSize > this.n) {
      throw new UserError(`batch size ${this.batchSize} is larger than the ${this.n} samples; use a smaller batch or mode 'replacement'`, 'batchSize');
    }
    this.rng = new Rng(this.seed);
    this.perm = new Int32Array(this.mode === 'replacement' ? 0 : this.n);
    this.out = new Int32Array(this.batchSize);
    const rem = this.n % this.batchSize;
    this.tail = this.out.subarray(0, rem === 0 ? this.batchSize : rem);
    if (this.mode !== 'replacement') this.shuffle();
  }

  /** Options that reproduce this stream; record them with a run. */
  get options(): Required<BatchStreamOptions> {
    return { n: this.n, batchSize: this.batchSize, seed: this.seed, mode: this.mode, dropLast: this.dropLast };
  }

  /** Batches per epoch: ⌊n/B⌋ with dropLast, else ⌈n/B⌉ (also the nominal epoch length in replacement mode). */
  get stepsPerEpoch(): number {
    return this.dropLast ? Math.floor(this.n / this.batchSize) : Math.ceil(this.n / this.batchSize);
  }

  get step(): number {
    return this.stepNo;
  }

  get epoch(): number {
    return this.mode === 'replacement' ? Math.floor(this.stepNo / this.stepsPerEpoch) : this.epochNo;
  }

  /** Fisher–Yates from the identity, drawing like `Rng.permutation`, into the reused buffer. */
  private shuffle(): void {
    this.epochRng = this.rng.getState();
    const p = this.perm;
    for (let i = 0; i < p.length; i++) p[i] = i;
    for (let i = p.length - 1; i > 0; i--) {
      const j = this.rng.int(i + 1);
      const t = p[i]!;
      p[i] = p[j]!;
      p[j] = t;
    }
    this.cursor = 0;
  }

  /**
   * The next batch's sample indices. The returned array is a view of a buffer the stream reuses: it is valid until
   * the next call (copy it to keep it). No allocation per call. `count` (≤ batchSize) is for mode 'stream' only.
   */
  next(count = this.batchSize): Int32Array {
    const B = this.batchSize;
    const out = this.out;
    if (this.mode === 'stream') {
      if (!(Number.isInteger(count) && count >= 1 && count <= B)) throw new RangeError(`BatchStream.next: count ${count} outside 1..${B}`);
      for (let k = 0; k < count; k++) {
        if (this.cursor === this.n) {
          this.epochNo++;
          this.shuffle();
        }
        out[k] = this.perm[this.cursor++]!;
      }
      this.stepNo++;
      return count === B ? out : out.subarray(0, count);
    }
    if (this.mode === 'replacement') {
      for (let k = 0; k < B; k++) out[k] = this.rng.int(this.n);
      this.stepNo++;
      return out;
    }
    const left = this.n - this.cursor;
    if (left === 0 || (this.dropLast && left < B)) {
      this.epochNo++;
      this.shuffle();
    }
    const take = Math.min(B, this.n - this.cursor);
    const p = this.perm;
    const c = this.cursor;
    for (let k = 0; k < take; k++) out[k] = p[c + k]!;
    this.cursor += take;
    this.stepNo++;
    return take === B ? out : this.tail;
  }

  /** Copies the next batch into `out` (length ≥ batchSize); returns how many indices were written. */
  nextInto(out: Int32Array): number {
    const b = this.next();
    out.set(b);
    return b.length;
  }

  getState(): BatchStreamState {
    return {
      kind: 'batch-stream/1',
      ...this.options,
      step: this.stepNo,
      epoch: this.epochNo,
      cursor: this.cursor,
      rng: this.mode === 'replacement' ? this.rng.getState() : [...this.epochRng],
    };
  }

  /** Restores a position from `getState()` of a stream with the same options (checked). */
  setState(s: BatchStreamState): void {
    if (s?.kind !== 'batch-stream/1') throw new UserError(`not a batch-stream/1 state (kind ${String(s?.kind)})`, 'batchStream');
    for (const k of ['n', 'batchSize', 'seed', 'mode', 'dropLast'] as const) {
      if (s[k] !== this[k]) throw new UserError(`checkpoint has ${k} = ${String(s[k])} but this stream has ${String(this[k])}`, `batchStream.${k}`);
    }
    if (!Number.isInteger(s.cursor) || s.cursor < 0 || s.cursor > this.n) throw new UserError(`cursor ${s.cursor} outside 0..${this.n}`, 'batchStream.cursor');
    this.rng.setState(s.rng);
    if (this.mode !== 'replacement') this.shuffle();
    this.cursor = s.cursor;
    this.epochNo = s.epoch;
    this.stepNo = s.step;
  }

  /** A new stream at the same position; both then yield the same batches. */
  clone(): BatchStream {
    const c = new BatchStream(this.options);
    c.setState(this.getState());
    return c;
  }

  /** Back to step 0 (the first batch again). */
  reset(): void {
    this.rng.setState(new Rng(this.seed).getState());
    this.epochNo = 0;
    this.stepNo = 0;
    if (this.mode !== 'replacement') this.shuffle();
  }
}

export interface PairedBatchStreamState {
  kind: 'paired-batch-stream/1';
  first: BatchStreamState;
  second: BatchStreamState;
}

/**
 * SVAG (the paper's Def. 5.1) needs two independent minibatches per step. `first` uses `seed` itself — so an
 * ℓ = 1 run (plain SGD/SGDM) that uses `new BatchStream({seed})` sees the same first batches — and `second`
 * uses `deriveSeed(seed, 1)`.
 */
export class PairedBatchStream {
  readonly first: BatchStream;
  readonly second: BatchStream;

  constructor(opts: BatchStreamOptions) {
    this.first = new BatchStream(opts);
    this.second = new BatchStream({ ...opts, seed: deriveSeed(opts.seed, 1) });
  }

  /** Both batches of the next step (views valid until the next call). */
  next(): [Int32Array, Int32Array] {
    return [this.first.next(), this.second.next()];
  }

  get step(): number {
    return this.first.step;
  }

  getState(): PairedBatchStreamState {
    return { kind: 'paired-batch-stream/1', first: this.first.getState(), second: this.second.getState() };
  }

  setState(s: PairedBatchStreamState): void {
    if (s?.kind !== 'paired-batch-stream/1') throw new UserError(`not a paired-batch-stream/1 state (kind ${String(s?.kind)})`, 'batchStream');
    this.first.setState(s.first);
    this.second.setState(s.second);
  }

  clone(): PairedBatchStream {
    const c = new PairedBatchStream(this.first.options);
    c.setState(this.getState());
    return c;
  }
}
