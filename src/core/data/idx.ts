/**
 * IDX files (the MNIST / Fashion-MNIST container, LeCun et al.): a 4-byte magic `0x00 0x00 <type> <ndims>`,
 * then `ndims` big-endian uint32 sizes, then the data in row-major order. Only type 0x08 (unsigned byte) is used
 * by these datasets, so only it is accepted.
 */
import { UserError } from '../util/errors.js';

export interface IdxArray {
  file: string;
  dims: number[];
  data: Uint8Array;
}

const IDX_UBYTE = 0x08;

/** Parses an (already gunzipped) IDX buffer; `file` names it in errors. */
export function parseIdx(bytes: Uint8Array, file: string, hint = ''): IdxArray {
  const tail = hint === '' ? '' : `; ${hint}`;
  if (bytes.length < 4) throw new UserError(`${file}: truncated IDX file (${bytes.length} bytes, the header alone needs at least 4)${tail}`);
  const hex = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new UserError(`${file}: not an IDX file (magic 0x${hex}, expected 0x0000080N)${tail}`);
  }
  if (bytes[2] !== IDX_UBYTE) {
    throw new UserError(`${file}: unsupported IDX element type 0x${bytes[2]!.toString(16).padStart(2, '0')} (magic 0x${hex}; only 0x08 unsigned byte is supported)${tail}`);
  }
  const ndims = bytes[3]!;
  if (ndims === 0) throw new UserError(`${file}: IDX file declares 0 dimensions (magic 0x${hex})${tail}`);
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw new UserError(`${file}: truncated IDX file (${bytes.length} bytes, the ${ndims}-dimension header needs ${headerBytes})${tail}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < ndims; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d;
  }
  const have = bytes.length - headerBytes;
  if (have < count) {
    throw new UserError(`${file}: truncated IDX file (dims ${dims.join('×')} need ${count} data bytes, found ${have})${tail}`);
  }
  if (have > count) {
    throw new UserError(`${file}: IDX file has ${have - count} bytes after the data (dims ${dims.join('×')}); the file is corrupt${tail}`);
  }
  return { file, dims, data: bytes.subarray(headerBytes, headerBytes + count) };
}

export interface IdxImagesLabels {
  /** n·h·w bytes, row-major. */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  h: number;
  w: number;
}

/**
 * Pairs a parsed images file (3-D, n×h×w) with its labels file (1-D, n) and checks they agree and that every label
 * is below `classes`. `readLabels` is called after the images check, so a wrong images file is reported first.
 */
export function idxImagesLabels(img: IdxArray, readLabels: () => IdxArray, classes: number, hint = ''): IdxImagesLabels {
  const tail = hint === '' ? '' : `; ${hint}`;
  const imagesFile = img.file;
  if (img.dims.length !== 3) throw new UserError(`${imagesFile}: expected a 3-D IDX image file (n×h×w), got dims ${img.dims.join('×')}${tail}`);
  const lab = readLabels();
  const labelsFile = lab.file;
  if (lab.dims.length !== 1) throw new UserError(`${labelsFile}: expected a 1-D IDX label file, got dims ${lab.dims.join('×')}${tail}`);
  const [n, h, w] = img.dims as [number, number, number];
  if (lab.dims[0] !== n) {
    throw new UserError(`${labelsFile}: ${lab.dims[0]} labels but ${imagesFile} has ${n} images; the two files do not belong together${tail}`);
  }
  for (let i = 0; i < n; i++) {
    if (lab.data[i]! >= classes) throw new UserError(`${labelsFile}: label ${lab.data[i]} at index ${i} is outside 0..${classes - 1}${tail}`);
  }
  return { images: img.data, labels: lab.data, n, h, w };
}

/** Builds IDX bytes (type 0x08) from dims and data; used by tests and by tools that write IDX files. */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = IDX_UBYTE;
  out[3] = dims.length;
  const view = new DataView(out.buffer);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
