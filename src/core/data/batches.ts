/**
 * Minibatch streams. A stream is a pure function of (n, batch size, mode, seed): two streams with the same options
 * give the same batches, so SGD and SGDM runs can be coupled on one sample order (common random numbers, as in the
 * ConvNetJS trainer demo). Its position is a small JSON object (`getState`/`setState`) for checkpoints.
 */
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { Split } from './dataset.js';

/** 'epoch': a fresh seeded permutation each epoch (PyTorch `DataLoader(shuffle=True)`); 'replacement': i.i.d. uniform indices. */
export type SamplingMode = 'epoch' | 'replacement';

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
  /** Epoch mode: generator state before the current epoch's shuffle; replacement mode: current generator state. */
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
    this.perm = new Int32Array(this.mode === 'epoch' ? this.n : 0);
    this.out = new Int32Array(this.batchSize);
    const rem = this.n % this.batchSize;
    this.tail = this.out.subarray(0, rem === 0 ? this.batchSize : rem);
    if (this.mode === 'epoch') this.shuffle();
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
    return this.mode === 'epoch' ? this.epochNo : Math.floor(this.stepNo / this.stepsPerEpoch);
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
   * the next call (copy it to keep it). No allocation per call.
   */
  next(): Int32Array {
    const B = this.batchSize;
    const out = this.out;
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
      rng: this.mode === 'epoch' ? [...this.epochRng] : this.rng.getState(),
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
    if (this.mode === 'epoch') this.shuffle();
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
    if (this.mode === 'epoch') this.shuffle();
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

/**
 * Copies the samples `indices[0..count)` of `split` into preallocated batch buffers: images (count·pixels values)
 * and labels. Called once per training step: it allocates no data (float32 rows are copied by memcpy through
 * short-lived views; float64 output converts element by element).
 */
export function gatherBatch(
  split: Split,
  indices: Int32Array,
  count: number,
  outImages: Float32Array | Float64Array,
  outLabels: Int32Array,
): void {
  const pixels = split.images.length / split.n;
  if (count > indices.length || count * pixels > outImages.length || count > outLabels.length) {
    throw new RangeError(`gatherBatch: ${count} samples of ${pixels} values do not fit the buffers (${outImages.length} values, ${outLabels.length} labels)`);
  }
  const src = split.images;
  const lab = split.labels;
  const same = outImages instanceof Float32Array;
  for (let b = 0; b < count; b++) {
    const i = indices[b]!;
    if (!(i >= 0 && i < split.n)) throw new RangeError(`gatherBatch: index ${i} outside 0..${split.n - 1}`);
    outLabels[b] = lab[i]!;
    const s = i * pixels;
    const d = b * pixels;
    if (same) {
      // memcpy through a view: 2–4× faster than an element loop here (measured in bench/data-load.ts); the view
      // is a small short-lived object, no data is allocated.
      outImages.set(src.subarray(s, s + pixels), d);
    } else {
      for (let p = 0; p < pixels; p++) outImages[d + p] = src[s + p]!;
    }
  }
}

/** The data seeds of the paper's few-shot fine-tuning runs (Gao et al.'s LM-BFF protocol). */
export const DATA_SEEDS: readonly number[] = [13, 21, 42, 87, 100];

/**
 * K samples of every class, chosen by `seed`: for c = 0..classes−1, the first K of a seeded shuffle of class c's
 * indices. Returned class by class (c = 0 first). Errors if a class has fewer than K samples.
 */
export function kShotIndices(labels: Int32Array, classes: number, k: number, seed: number): Int32Array {
  checkInt(k, 'k', 1);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i]!;
    if (c < 0 || c >= classes) throw new RangeError(`kShotIndices: label ${c} at ${i} outside 0..${classes - 1}`);
    byClass[c]!.push(i);
  }
  const rng = new Rng(seed);
  const out = new Int32Array(classes * k);
  byClass.forEach((idx, c) => {
    if (idx.length < k) throw new UserError(`class ${c} has only ${idx.length} samples, fewer than K = ${k}`, 'k');
    const perm = rng.permutation(idx.length);
    for (let j = 0; j < k; j++) out[c * k + j] = idx[perm[j]!]!;
  });
  return out;
}

/** A new split holding copies of the samples at `indices`, in that order. */
export function subsetSplit(split: Split, indices: Int32Array): Split {
  const pixels = split.images.length / Math.max(split.n, 1);
  const images = new Float32Array(indices.length * pixels);
  const labels = new Int32Array(indices.length);
  gatherBatch(split, indices, indices.length, images, labels);
  return { images, labels, n: indices.length };
}

/** K-shot class-balanced subset of a split for one data seed. */
export function kShotSubset(split: Split, classes: number, k: number, seed: number): Split {
  return subsetSplit(split, kShotIndices(split.labels, classes, k, seed));
}

/**
 * Seeded train/validation split: a permutation of 0..n−1 by Rng(seed); its first `validation` entries (a count, or
 * a fraction of n when < 1) form the validation set. Both index lists are sorted, so samples keep their order.
 */
export function trainValidationSplit(
  split: Split,
  validation: number,
  seed: number,
): { train: Split; validation: Split; trainIndices: Int32Array; validationIndices: Int32Array } {
  const m = validation < 1 ? Math.round(validation * split.n) : validation;
  if (!(validation > 0) || !Number.isInteger(m) || m >= split.n) {
    throw new UserError(`validation must be a fraction in (0, 1) or a count below ${split.n}, got ${validation}`, 'validation');
  }
  const perm = new Rng(seed).permutation(split.n);
  const validationIndices = perm.slice(0, m).sort();
  const trainIndices = perm.slice(m).sort();
  return { train: subsetSplit(split, trainIndices), validation: subsetSplit(split, validationIndices), trainIndices, validationIndices };
}

export interface CropFlipOptions {
  /** Zero-padding on each side before a random h×w crop (torchvision `RandomCrop(h, padding=pad)`); 0 = no crop. */
  pad: number;
  /** Mirror left–right with probability ½ (`RandomHorizontalFlip`). */
  flip: boolean;
  /** Value of padded pixels: 0 for [0,1] pixels; −mean/std after `normalize`. Default 0. */
  fill?: number;
}

/**
 * Random-crop + horizontal-flip augmentation of a batch, in place, seeded (its Rng state is part of a checkpoint).
 * Per image: offsets dy, dx uniform in 0..2·pad, then out(y, x) = in(y+dy−pad, x'+dx−pad) with x' = w−1−x when
 * flipped, `fill` outside the image. One scratch image is allocated at construction, nothing per call.
 */
export class CropFlipAugmenter {
  private readonly rng: Rng;
  private readonly scratch: Float32Array;
  constructor(
    readonly shape: readonly [number, number, number],
    readonly opts: CropFlipOptions,
    seed: number,
  ) {
    checkInt(opts.pad, 'augment.pad', 0);
    this.rng = new Rng(seed);
    this.scratch = new Float32Array(shape[0] * shape[1] * shape[2]);
  }

  apply(images: Float32Array | Float64Array, count: number): void {
    const [C, H, W] = this.shape;
    const P = this.opts.pad;
    const fill = this.opts.fill ?? 0;
    const per = C * H * W;
    const tmp = this.scratch;
    for (let b = 0; b < count; b++) {
      const dy = P > 0 ? this.rng.int(2 * P + 1) - P : 0;
      const dx = P > 0 ? this.rng.int(2 * P + 1) - P : 0;
      const flip = this.opts.flip && this.rng.uniform() < 0.5;
      if (dy === 0 && dx === 0 && !flip) continue;
      const off = b * per;
      for (let i = 0; i < per; i++) tmp[i] = images[off + i]!;
      for (let c = 0; c < C; c++) {
        for (let y = 0; y < H; y++) {
          const sy = y + dy;
          const row = off + (c * H + y) * W;
          if (sy < 0 || sy >= H) {
            for (let x = 0; x < W; x++) images[row + x] = fill;
            continue;
          }
          const srow = (c * H + sy) * W;
          for (let x = 0; x < W; x++) {
            const sx = (flip ? W - 1 - x : x) + dx;
            images[row + x] = sx < 0 || sx >= W ? fill : tmp[srow + sx]!;
          }
        }
      }
    }
  }

  getState(): number[] {
    return this.rng.getState();
  }

  setState(s: readonly number[]): void {
    this.rng.setState(s);
  }
}
