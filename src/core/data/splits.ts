/**
 * Working with splits: gathering a batch (with the input transform applied), subsets (K-shot, class selections) and
 * the train/validation hold-out.
 */
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { Split } from './dataset.js';
import { applyTransform, type InputTransform } from './transforms.js';

/**
 * Copies the samples `indices[0..count)` of `split` into preallocated batch buffers — images (count·pixels values,
 * through `transform` when given) and labels. Called once per training step: it allocates no data (float32 rows
 * without a transform are copied by memcpy through short-lived views; otherwise element by element).
 */
export function gatherBatch(
  split: Split,
  indices: Int32Array,
  count: number,
  outImages: Float32Array | Float64Array,
  outLabels: Int32Array,
  transform: InputTransform | null = null,
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
    if (transform !== null) {
      applyTransform(src, s, outImages, d, pixels, transform);
    } else if (same) {
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

function checkInt(v: number, field: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new UserError(`must be an integer ≥ ${min}, got ${v}`, field);
}

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

/** The samples of `classes`, labels re-indexed to their positions in `classes` (copies, in split order). */
export function selectClasses(split: Split, classes: readonly number[]): Split {
  const where = new Map(classes.map((c, i) => [c, i]));
  const keep: number[] = [];
  for (let i = 0; i < split.n; i++) if (where.has(split.labels[i]!)) keep.push(i);
  const out = subsetSplit(split, Int32Array.from(keep));
  for (let j = 0; j < out.n; j++) out.labels[j] = where.get(out.labels[j]!)!;
  return out;
}

export interface HoldOut {
  train: Split;
  validation: Split;
  /** Sorted sample indices of each part in the original split. */
  trainIndices: Int32Array;
  validationIndices: Int32Array;
}

/**
 * Splits off a validation set of `validation` samples (a count, or a fraction of n when < 1). With a `seed`: the
 * first entries of a permutation of 0..n−1 by Rng(seed), both parts copied in sample order. Without: the last
 * samples, both parts views of the split (no copy).
 */
export function holdOut(split: Split, validation: number, seed?: number): HoldOut {
  const m = validation < 1 ? Math.round(validation * split.n) : validation;
  if (!(validation > 0) || !Number.isInteger(m) || m >= split.n) {
    throw new UserError(`validation must be a fraction in (0, 1) or a count below ${split.n}, got ${validation}`, 'validation');
  }
  if (seed === undefined) {
    const k = split.n - m;
    const S = split.images.length / split.n;
    const range = (from: number, to: number): Int32Array => Int32Array.from({ length: to - from }, (_, i) => from + i);
    return {
      train: { images: split.images.subarray(0, k * S), labels: split.labels.subarray(0, k), n: k },
      validation: { images: split.images.subarray(k * S), labels: split.labels.subarray(k), n: m },
      trainIndices: range(0, k), validationIndices: range(k, split.n),
    };
  }
  const perm = new Rng(seed).permutation(split.n);
  const validationIndices = perm.slice(0, m).sort();
  const trainIndices = perm.slice(m).sort();
  return { train: subsetSplit(split, trainIndices), validation: subsetSplit(split, validationIndices), trainIndices, validationIndices };
}
