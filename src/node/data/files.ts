/**
 * Reading dataset files: raw or gzip (detected by the 0x1f 0x8b magic, not by the file name), with one-line
 * errors that name the file and say how to get the data.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../../core/util/errors.js';
import { concatCifarBatches, parseCifarBatch, type CifarBatch } from '../../core/data/cifar.js';
import { idxImagesLabels, parseIdx, type IdxArray, type IdxImagesLabels } from '../../core/data/idx.js';

/** True when `bytes` starts with the gzip magic number 0x1f 0x8b (RFC 1952 §2.3.1). */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * The bytes of `file`, gunzipped when it is gzip. `hint` (how to get the data) is appended to a
 * missing-file or corrupt-gzip error.
 */
export function readMaybeGzip(file: string, hint: string): Uint8Array {
  let raw: Buffer;
  try {
    raw = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? String(e);
    throw new UserError(`cannot read ${file}: ${what}; ${hint}`);
  }
  if (!isGzip(raw)) return raw;
  try {
    return gunzipSync(raw);
  } catch (e) {
    const msg = (e as Error).message === 'unexpected end of file' ? 'gzip stream is truncated' : `corrupt gzip (${(e as Error).message})`;
    throw new UserError(`${file}: ${msg}; delete it and get the data again: ${hint}`);
  }
}

/** Reads an IDX file, raw or gzip. */
export function readIdxFile(file: string, hint = ''): IdxArray {
  return parseIdx(readMaybeGzip(file, hint), file, hint);
}

/** Reads an images file (3-D, n×h×w) and its labels file (1-D, n); see `idxImagesLabels` for the checks. */
export function readIdxImagesLabels(imagesFile: string, labelsFile: string, classes: number, hint = ''): IdxImagesLabels {
  return idxImagesLabels(readIdxFile(imagesFile, hint), () => readIdxFile(labelsFile, hint), classes, hint);
}

/** Reads and concatenates several CIFAR-10 batch files (raw or gzip). */
export function readCifarBatches(files: readonly string[], hint = ''): CifarBatch {
  return concatCifarBatches(files.map((f) => parseCifarBatch(readMaybeGzip(f, hint), f, hint)));
}
