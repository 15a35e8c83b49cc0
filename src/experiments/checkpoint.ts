/**
 * Checkpoints: named typed buffers (model parameters, optimizer state with its momentum buffer, data-stream
 * position, …), a model signature and JSON metadata (RNG state, step counts) in one file, written atomically
 * (write temp → fsync → rename → fsync dir) and protected by a SHA-256 checksum. A damaged or foreign file is refused
 * with a one-line UserError. The engine's `train --resume` / `--init-from` use the same format.
 *
 * File layout (little-endian):
 *   "MLCKPT01" | u32 header length H | header JSON (H bytes, padded with spaces to a multiple of 8)
 *   | buffer bytes, each 8-byte aligned, at the offsets the header lists | SHA-256 of everything before it (32 bytes)
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { UserError } from '../core/util/errors.js';
import { mapIoError } from '../node/io-errors.js';
import { writeAtomically } from '../node/atomic-write.js';
import type { OptimizerState } from '../core/optim/index.js';

const MAGIC = 'MLCKPT01';
const HASH_BYTES = 32;

export type CheckpointBuffer = Float32Array | Float64Array | Int32Array | Uint32Array | Uint8Array;
type DType = 'float32' | 'float64' | 'int32' | 'uint32' | 'uint8';

export interface CheckpointData {
  /** Model signature (see `modelSignature`): a checkpoint is only loaded into the model it came from. */
  signature: string;
  buffers: Record<string, CheckpointBuffer>;
  /** JSON-serialisable state: step, epoch, data position, `Rng.getState()`, config hash, … */
  meta: Record<string, unknown>;
}

interface HeaderEntry { name: string; dtype: DType; length: number; offset: number }
interface Header { version: 1; signature: string; meta: Record<string, unknown>; buffers: HeaderEntry[] }

function dtypeOf(b: CheckpointBuffer): DType {
  if (b instanceof Float32Array) return 'float32';
  if (b instanceof Float64Array) return 'float64';
  if (b instanceof Int32Array) return 'int32';
  if (b instanceof Uint32Array) return 'uint32';
  return 'uint8';
}

function makeBuffer(dtype: DType, bytes: Uint8Array): CheckpointBuffer {
  // Copy into a fresh aligned ArrayBuffer so the result owns its memory (Buffer#slice would share the file's).
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const ab = copy.buffer;
  switch (dtype) {
    case 'float32': return new Float32Array(ab);
    case 'float64': return new Float64Array(ab);
    case 'int32': return new Int32Array(ab);
    case 'uint32': return new Uint32Array(ab);
    case 'uint8': return new Uint8Array(ab);
  }
}

/** A stable hash of a model's parameter names and shapes (plus an optional architecture tag). */
export function modelSignature(shapes: Record<string, readonly number[]>, architecture = ''): string {
  const body = Object.keys(shapes).sort().map((k) => `${k}:${shapes[k]!.join('x')}`).join(';');
  return `${architecture}#${createHash('sha256').update(`${architecture}|${body}`).digest('hex').slice(0, 16)}`;
}

const pad8 = (n: number): number => (n + 7) & ~7;

/** Serialises a checkpoint to bytes (with trailing checksum). */
export function encodeCheckpoint(data: CheckpointData): Uint8Array {
  const entries: HeaderEntry[] = [];
  let offset = 0;
  for (const [name, buf] of Object.entries(data.buffers)) {
    entries.push({ name, dtype: dtypeOf(buf), length: buf.length, offset });
    offset = pad8(offset + buf.byteLength);
  }
  const header: Header = { version: 1, signature: data.signature, meta: data.meta, buffers: entries };
  let headerText = JSON.stringify(header);
  const headerBytesRaw = Buffer.from(headerText, 'utf8');
  const hlen = pad8(8 + 4 + headerBytesRaw.length) - 12;
  headerText += ' '.repeat(hlen - headerBytesRaw.length);
  const start = 12 + hlen;
  const total = start + offset + HASH_BYTES;
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(hlen, 8);
  out.write(headerText, 12, 'utf8');
  for (const e of entries) {
    const b = data.buffers[e.name]!;
    out.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), start + e.offset);
  }
  const digest = createHash('sha256').update(out.subarray(0, total - HASH_BYTES)).digest();
  out.set(digest, total - HASH_BYTES);
  return out;
}

/** Parses and verifies checkpoint bytes; `what` names the file in errors. */
export function decodeCheckpoint(bytes: Uint8Array, what = 'checkpoint'): CheckpointData {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 + HASH_BYTES || buf.toString('latin1', 0, 8) !== MAGIC) {
    throw new UserError(`${what} is not a momentum-lab checkpoint (bad magic or truncated file)`);
  }
  const digest = createHash('sha256').update(buf.subarray(0, buf.length - HASH_BYTES)).digest();
  if (!digest.equals(buf.subarray(buf.length - HASH_BYTES))) {
    throw new UserError(`${what} is damaged (checksum mismatch); delete it to start the run from scratch`);
  }
  const header = parseHeader(buf, what);
  const start = 12 + buf.readUInt32LE(8);
  const buffers: Record<string, CheckpointBuffer> = {};
  for (const e of header.buffers) {
    const size = DTYPE_BYTES[e.dtype] * e.length;
    buffers[e.name] = makeBuffer(e.dtype, buf.subarray(start + e.offset, start + e.offset + size));
  }
  return { signature: header.signature, buffers, meta: header.meta };
}

const DTYPE_BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4, uint32: 4, uint8: 1 };

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The header of checksummed bytes, every field checked: a valid checksum proves the file is intact, not that a
 * momentum-lab build of this format wrote it.
 */
function parseHeader(buf: Buffer, what: string): Header {
  const bad = (why: string): UserError => new UserError(`${what} has a malformed header (${why}); it was not written by this version of momentum-lab`);
  const hlen = buf.readUInt32LE(8);
  const dataEnd = buf.length - HASH_BYTES;
  if (12 + hlen > dataEnd) throw bad(`header length ${hlen} runs past the end of the file`);
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8', 12, 12 + hlen));
  } catch {
    throw bad('not JSON');
  }
  if (!isRecord(raw)) throw bad('not a JSON object');
  if (raw.version !== 1) throw bad(`version ${JSON.stringify(raw.version)}, expected 1`);
  if (typeof raw.signature !== 'string') throw bad('signature is not a string');
  if (!isRecord(raw.meta)) throw bad('meta is not an object');
  if (!Array.isArray(raw.buffers)) throw bad('buffers is not a list');
  const room = dataEnd - (12 + hlen);
  const names = new Set<string>();
  for (const [i, e] of (raw.buffers as unknown[]).entries()) {
    if (!isRecord(e)) throw bad(`buffer ${i} is not an object`);
    const { name, dtype, length, offset } = e;
    if (typeof name !== 'string' || names.has(name)) throw bad(`buffer ${i} has a missing or repeated name`);
    names.add(name);
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) throw bad(`buffer ${name} has unknown dtype ${JSON.stringify(dtype)}`);
    if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) throw bad(`buffer ${name} has length ${JSON.stringify(length)}`);
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset % 8 !== 0) throw bad(`buffer ${name} has offset ${JSON.stringify(offset)}`);
    const bytes = DTYPE_BYTES[dtype as DType] * length;
    if (offset + bytes > room) throw bad(`buffer ${name} (${bytes} bytes at offset ${offset}) runs past the end of the file`);
  }
  return raw as unknown as Header;
}

const CKPT_REMEDY = 'give another checkpoint path';

/** Writes `data` to `path` atomically: a crash leaves either the old file or the new one, never a torn file. */
export function saveCheckpoint(path: string, data: CheckpointData): void {
  const bytes = encodeCheckpoint(data);
  try {
    writeAtomically(path, (write) => write(bytes));
  } catch (e) {
    throw mapIoError(e, { file: path, what: 'checkpoint', remedy: CKPT_REMEDY });
  }
  // The rename itself survives a power cut only once the folder is synced.
  const dfd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dfd);
  } finally {
    closeSync(dfd);
  }
}

export interface LoadOptions {
  /** Refuse a checkpoint whose model signature differs (a checkpoint from another model). */
  expectSignature?: string;
}

/** Reads and verifies a checkpoint file; every problem is a one-line UserError naming the file. */
export function loadCheckpoint(path: string, opts: LoadOptions = {}): CheckpointData {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read checkpoint ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
  }
  const data = decodeCheckpoint(bytes, `checkpoint ${path}`);
  if (opts.expectSignature !== undefined && data.signature !== opts.expectSignature) {
    throw new UserError(`checkpoint ${path} is from another model (signature ${data.signature}, this model is ${opts.expectSignature})`);
  }
  return data;
}

/** Loads `path` if it exists, else null. */
export function loadCheckpointIfExists(path: string, opts: LoadOptions = {}): CheckpointData | null {
  return existsSync(path) ? loadCheckpoint(path, opts) : null;
}

/** The optimizer state as checkpoint buffers/meta under `prefix` (momentum buffer included, step count in meta). */
export function optimizerStateToCheckpoint(s: OptimizerState, prefix = 'optimizer'): { buffers: Record<string, CheckpointBuffer>; meta: Record<string, unknown> } {
  return {
    buffers: s.buffer === null ? {} : { [`${prefix}.buffer`]: s.buffer },
    meta: { [`${prefix}.step`]: s.step, [`${prefix}.hasBuffer`]: s.buffer !== null },
  };
}

/** Restores optimizer state saved by `optimizerStateToCheckpoint` into `s` (buffer copied in place). */
export function restoreOptimizerState(data: CheckpointData, s: OptimizerState, prefix = 'optimizer'): void {
  const step = data.meta[`${prefix}.step`];
  if (typeof step !== 'number') throw new UserError(`checkpoint has no ${prefix} state`);
  const saved = data.buffers[`${prefix}.buffer`];
  if ((saved === undefined) !== (s.buffer === null)) {
    throw new UserError(`checkpoint ${prefix} state ${saved === undefined ? 'has no' : 'has a'} momentum buffer but this optimizer ${s.buffer === null ? 'has none' : 'needs one'}`);
  }
  if (saved !== undefined && s.buffer !== null) {
    if (saved.constructor !== s.buffer.constructor) throw new UserError(`checkpoint ${prefix} buffer is ${dtypeOf(saved)}, this optimizer keeps ${dtypeOf(s.buffer)}`);
    if (saved.length !== s.buffer.length) throw new UserError(`checkpoint ${prefix} buffer has ${saved.length} entries, expected ${s.buffer.length}`);
    s.buffer.set(saved);
  }
  s.step = step;
}
