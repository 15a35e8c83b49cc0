/**
 * Users' arrays → a validated Dataset. Every format (npz, npy pairs, CSV, IDX, image folders) ends here, so one set
 * of checks covers them all: x and y agree in length, no split is empty, inputs are finite float32 values, labels are
 * integers 0..K−1 with K = 1 + the largest training label, and every split has the same sample shape. Inputs are
 * kept exactly as given (uint8 stays 0..255): `--inputs raw` trains on them as they are, `standardize` maps each
 * channel to zero mean and unit variance with the training split's statistics.
 */
import { UserError } from '../../core/util/errors.js';
import type { Dataset, Split } from '../../core/data/dataset.js';
import type { NpyArray } from './npy.js';

/** Most classes a label array may imply; a stray huge label should not build a million-way output layer. */
export const MAX_CLASSES = 100_000;

export type SplitName = 'train' | 'test' | 'val';

export interface ArraySplits {
  train: { x: NpyArray; y: NpyArray };
  test: { x: NpyArray; y: NpyArray };
  val?: { x: NpyArray; y: NpyArray };
}

/** [c, h, w] of one sample from x's shape after n: (d) → [1, 1, d], (h, w) → [1, h, w], 3-D by `layout`. */
function sampleShape(x: NpyArray, layout: 'nchw' | 'nhwc'): [number, number, number] {
  const s = x.shape.slice(1);
  if (s.length === 1) return [1, 1, s[0]!];
  if (s.length === 2) return [1, s[0]!, s[1]!];
  if (s.length === 3) return layout === 'nchw' ? [s[0]!, s[1]!, s[2]!] : [s[2]!, s[0]!, s[1]!];
  throw new UserError(`${x.name}: shape (${x.shape.join(', ')}) is not (n, d), (n, h, w) or (n, c, h, w)/(n, h, w, c); reshape the inputs`);
}

/** x as float32 in (c, h, w) order, refusing NaN, ±Inf and float64 values beyond float32's range. */
function inputs(x: NpyArray, shape: readonly [number, number, number], layout: 'nchw' | 'nhwc'): Float32Array {
  const src = x.data;
  const out = src instanceof Float32Array ? src : new Float32Array(src.length);
  if (src instanceof BigInt64Array) for (let i = 0; i < src.length; i++) out[i] = Number(src[i]!);
  else if (!(src instanceof Float32Array)) out.set(src);
  if (x.dtype === 'float32' || x.dtype === 'float64') {
    const per = shape[0] * shape[1] * shape[2];
    for (let i = 0; i < out.length; i++) {
      const v = out[i]!;
      if (v - v !== 0) {
        const what = Number.isNaN(v) ? 'NaN' : Number.isFinite(src[i] as number) ? `${src[i] as number} (beyond float32's range)` : String(v);
        throw new UserError(`${x.name}: ${what} at sample ${Math.floor(i / per)} (flat index ${i}); inputs must be finite numbers`);
      }
    }
  }
  if (layout === 'nchw' || shape[0] === 1 || x.shape.length !== 4) return out;
  // (n, h, w, c) → (n, c, h, w)
  const [C, H, W] = shape;
  const per = C * H * W;
  const t = new Float32Array(out.length);
  for (let b = 0; b < out.length; b += per) {
    for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) t[b + c * H * W + p] = out[b + p * C + c]!;
  }
  return t;
}

/** y as Int32 class indices; `classes` bounds them when known (test and validation labels). */
function labels(y: NpyArray, n: number, xName: string, classes: number | null): Int32Array {
  // `archive.npz:x_train` is named `x_train` in a message that already starts with `archive.npz:y_train`.
  const cut = xName.lastIndexOf(':');
  if (cut > 0 && y.name.startsWith(xName.slice(0, cut + 1))) xName = xName.slice(cut + 1);
  const ok = y.shape.length === 1 ? y.shape[0] === n : y.shape.length === 2 && y.shape[0] === n && y.shape[1] === 1;
  if (!ok) {
    const hint = y.shape.length === 2 && y.shape[0] === n ? ' (one-hot labels? save y.argmax(1))' : '';
    throw new UserError(`${y.name}: shape (${y.shape.join(', ')}) does not match ${xName}'s ${n} samples; x/y shape mismatch: labels must be (${n},)${hint}`);
  }
  const out = new Int32Array(n);
  const src = y.data;
  for (let i = 0; i < n; i++) {
    const v = typeof src[i] === 'bigint' ? Number(src[i]) : (src[i] as number);
    if (!Number.isInteger(v)) throw new UserError(`${y.name}: label ${v} at index ${i} is not an integer; labels are class indices 0..K−1`);
    if (v < 0) throw new UserError(`${y.name}: label ${v} at index ${i} is out of range (negative); labels are class indices 0..K−1`);
    if (classes !== null && v >= classes) throw new UserError(`${y.name}: label ${v} at index ${i} is out of range: the train labels have classes 0..${classes - 1}`);
    if (v >= MAX_CLASSES) throw new UserError(`${y.name}: label ${v} at index ${i} is out of range (at most ${MAX_CLASSES} classes)`);
    out[i] = v;
  }
  return out;
}

/** Validates users' arrays and builds the Dataset; `name` and `source` describe the file. */
export function datasetFromArrays(a: ArraySplits, layout: 'nchw' | 'nhwc', name: string, source: string): Dataset {
  const parts: [SplitName, { x: NpyArray; y: NpyArray }][] = [['train', a.train], ['test', a.test]];
  if (a.val !== undefined) parts.push(['val', a.val]);
  let shape: [number, number, number] | null = null;
  let classes: number | null = null;
  const splits = {} as Record<SplitName, Split>;
  for (const [which, { x, y }] of parts) {
    if (x.shape.length < 2) throw new UserError(`${x.name}: shape (${x.shape.join(', ')}) has no sample axis; inputs are (n, …) with one row per sample`);
    const n = x.shape[0]!;
    if (n === 0) throw new UserError(`${x.name}: the ${which} split is empty (0 samples)`);
    const s = sampleShape(x, layout);
    if (s.some((d) => d === 0)) throw new UserError(`${x.name}: shape (${x.shape.join(', ')}) has a zero-length axis`);
    if (shape !== null && s.join() !== shape.join()) {
      throw new UserError(`${x.name}: samples are ${s.join('×')} (c×h×w) but the train split's are ${shape.join('×')}; every split needs the same sample shape`);
    }
    shape ??= s;
    const lab = labels(y, n, x.name, classes);
    if (which === 'train') {
      classes = lab.reduce((m, v) => Math.max(m, v), 0) + 1;
      if (classes < 2) throw new UserError(`${y.name}: every train label is 0; a classifier needs at least two classes`);
    }
    splits[which] = { images: inputs(x, s, layout), labels: lab, n };
  }
  return {
    name, source, shape: [...shape!], classes: classes!, train: splits.train, test: splits.test,
    ...(splits.val !== undefined ? { validation: splits.val } : {}),
  };
}
