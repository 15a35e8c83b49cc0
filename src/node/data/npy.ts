/**
 * NumPy's .npy format (numpy/lib/format.py, versions 1.0–3.0): the magic `\x93NUMPY`, a version, a little-endian
 * header length (uint16 in 1.0, uint32 after), a Python dict literal `{'descr': '<f4', 'fortran_order': False,
 * 'shape': (n, 784), }` padded with spaces, then the C-order data. Only the dtypes a dataset is stored in are read:
 * float32, float64, uint8, int32 and int64, little-endian.
 */
import { UserError } from '../../core/util/errors.js';

export type NpyDtype = 'float32' | 'float64' | 'uint8' | 'int32' | 'int64';

export interface NpyArray {
  /** Where the array came from (a file, or `archive.npz:x_train.npy`), for errors. */
  name: string;
  dtype: NpyDtype;
  shape: number[];
  data: Float32Array | Float64Array | Uint8Array | Int32Array | BigInt64Array;
}

const DESCR: Record<string, { dtype: NpyDtype; size: number }> = {
  '<f4': { dtype: 'float32', size: 4 },
  '<f8': { dtype: 'float64', size: 8 },
  '|u1': { dtype: 'uint8', size: 1 },
  '<u1': { dtype: 'uint8', size: 1 },
  '|b1': { dtype: 'uint8', size: 1 },
  '<i4': { dtype: 'int32', size: 4 },
  '<i8': { dtype: 'int64', size: 8 },
};

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** Parses .npy bytes; `name` (the file) starts every error. */
export function parseNpy(bytes: Uint8Array, name: string): NpyArray {
  if (bytes.length < 10 || !MAGIC.every((b, i) => bytes[i] === b)) throw new UserError(`${name}: not a .npy file (no \\x93NUMPY magic); write it with np.save`);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw new UserError(`${name}: unsupported .npy format version ${major}.${bytes[7]} (1.0–3.0 are read)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenBytes) throw new UserError(`${name}: truncated array (the file ends inside its header)`);
  const hlen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = 8 + lenBytes + hlen;
  if (bytes.length < start) throw new UserError(`${name}: truncated array (the header needs ${start} bytes, the file has ${bytes.length})`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(8 + lenBytes, start));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new UserError(`${name}: unreadable .npy header ${JSON.stringify(header.trim().slice(0, 80))}${/'descr'\s*:\s*\[/.test(header) ? ' (structured arrays are not supported; save plain arrays)' : ''}`);
  }
  const known = DESCR[descr];
  if (known === undefined) {
    throw new UserError(`${name}: unsupported dtype '${descr}' (${dtypeWords(descr)}); save float32, float64, uint8, int32 or int64, e.g. x.astype(np.float32)`);
  }
  if (fortran === 'True') throw new UserError(`${name}: Fortran-order array; save np.ascontiguousarray(x) so it is in C order`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) throw new UserError(`${name}: unreadable shape (${shapeText}) in the .npy header`);
  const count = shape.reduce((a, b) => a * b, 1);
  const need = count * known.size;
  const have = bytes.length - start;
  if (have < need) throw new UserError(`${name}: truncated array (shape (${shape.join(', ')}) of ${known.dtype} needs ${need} data bytes, found ${have})`);
  if (have > need) throw new UserError(`${name}: ${have - need} bytes after the array data (shape (${shape.join(', ')}) of ${known.dtype}); the file is corrupt`);
  // A copy, so the typed array is aligned whatever the header length (Buffer's own slice would be a view).
  const buf = Uint8Array.prototype.slice.call(bytes, start, start + need).buffer;
  const data = known.dtype === 'float32' ? new Float32Array(buf)
    : known.dtype === 'float64' ? new Float64Array(buf)
    : known.dtype === 'int32' ? new Int32Array(buf)
    : known.dtype === 'int64' ? new BigInt64Array(buf)
    : new Uint8Array(buf);
  return { name, dtype: known.dtype, shape, data };
}

/** What a refused dtype code is, in words, so the error says what the user saved. */
function dtypeWords(descr: string): string {
  if (descr.startsWith('>')) return 'big-endian; save with x.astype(x.dtype.newbyteorder("<"))';
  const kinds: Record<string, string> = { f: 'float', i: 'int', u: 'uint', b: 'bool', O: 'Python objects', U: 'unicode strings', S: 'byte strings', c: 'complex', M: 'datetime', V: 'raw bytes' };
  const kind = kinds[descr.charAt(1)];
  const bits = Number(descr.slice(2)) * (descr.charAt(1) === 'U' ? 32 : 8);
  return kind === undefined ? 'unknown' : Number.isFinite(bits) && bits > 0 && !'OUSV'.includes(descr.charAt(1)) ? `${kind}${bits}` : kind;
}

/** Builds .npy (version 1.0) bytes; used by tests and tools that write arrays for numpy. */
export function encodeNpy(descr: string, shape: readonly number[], data: Uint8Array): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  // numpy pads the header with spaces so the data starts on a 64-byte boundary, and ends it with '\n'.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}
