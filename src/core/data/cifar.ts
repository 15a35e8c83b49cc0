/**
 * CIFAR-10 binary version (Krizhevsky 2009, "cifar-10-binary.tar.gz"): each file is a sequence of 3073-byte
 * records, 1 label byte (0..9) then 3072 pixel bytes — 1024 red, 1024 green, 1024 blue, each 32×32 row-major.
 * That is already channel-major (c,h,w), so records are copied without reordering.
 */
import { UserError } from '../util/errors.js';

export const CIFAR_RECORD_PIXELS = 3 * 32 * 32;
export const CIFAR_RECORD_BYTES = 1 + CIFAR_RECORD_PIXELS;
export const CIFAR_TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'];
export const CIFAR_TEST_FILES = ['test_batch.bin'];

export interface CifarBatch {
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
}

/** Parses one CIFAR-10 binary batch; `file` names it in errors. */
export function parseCifarBatch(bytes: Uint8Array, file: string, hint = ''): CifarBatch {
  const tail = hint === '' ? '' : `; ${hint}`;
  if (bytes.length === 0) throw new UserError(`${file}: empty file, expected ${CIFAR_RECORD_BYTES}-byte CIFAR-10 records${tail}`);
  const n = Math.floor(bytes.length / CIFAR_RECORD_BYTES);
  const rest = bytes.length - n * CIFAR_RECORD_BYTES;
  if (rest !== 0) {
    throw new UserError(`${file}: truncated CIFAR-10 batch (${bytes.length} bytes = ${n} whole ${CIFAR_RECORD_BYTES}-byte records + ${rest} bytes)${tail}`);
  }
  const images = new Uint8Array(n * CIFAR_RECORD_PIXELS);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const off = i * CIFAR_RECORD_BYTES;
    const label = bytes[off]!;
    if (label > 9) throw new UserError(`${file}: record ${i} has label ${label}, outside 0..9; not a CIFAR-10 binary batch${tail}`);
    labels[i] = label;
    images.set(bytes.subarray(off + 1, off + CIFAR_RECORD_BYTES), i * CIFAR_RECORD_PIXELS);
  }
  return { images, labels, n };
}

/** Concatenates parsed CIFAR-10 batches in order. */
export function concatCifarBatches(parts: readonly CifarBatch[]): CifarBatch {
  const n = parts.reduce((s, p) => s + p.n, 0);
  const images = new Uint8Array(n * CIFAR_RECORD_PIXELS);
  const labels = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    images.set(p.images, at * CIFAR_RECORD_PIXELS);
    labels.set(p.labels, at);
    at += p.n;
  }
  return { images, labels, n };
}

/**
 * The folder holding the batch files under `dir`: `dir` itself or `dir/cifar-10-batches-bin` (the tarball's
 * layout). Null when neither has all six files.
 */
export function findCifarDir(dir: string, exists: (path: string) => boolean, join: (...parts: string[]) => string): string | null {
  for (const d of [dir, join(dir, 'cifar-10-batches-bin')]) {
    if ([...CIFAR_TRAIN_FILES, ...CIFAR_TEST_FILES].every((f) => exists(join(d, f)))) return d;
  }
  return null;
}
