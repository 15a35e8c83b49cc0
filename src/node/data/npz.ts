/**
 * NumPy's .npz: a zip archive (PKWARE APPNOTE 6.3) of `.npy` members, stored by np.savez and deflated by
 * np.savez_compressed; numpy writes every member with Zip64 extra fields. The reader walks the central directory
 * (found from the end-of-central-directory record), checks each member's CRC-32 and parses it with `parseNpy`.
 * Writing is kept to what tests need (stored members).
 */
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { UserError } from '../../core/util/errors.js';
import { parseNpy, type NpyArray } from './npy.js';

const EOCD = 0x06054b50;
const EOCD64 = 0x06064b50;
const EOCD64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

interface Member { name: string; method: number; crc: number; compressed: number; size: number; offset: number }

function truncated(file: string, what: string): UserError {
  return new UserError(`${file}: truncated archive (${what}); write it again with np.savez or np.savez_compressed`);
}

/** The central directory's members. */
function members(bytes: Uint8Array, file: string): Member[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The EOCD record is 22 bytes plus a comment of at most 65,535 bytes, at the very end.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - 0xffff); i--) {
    if (v.getUint32(i, true) === EOCD) { eocd = i; break; }
  }
  if (eocd < 0) {
    const zipStart = bytes.length >= 4 && v.getUint32(0, true) === LOCAL;
    throw zipStart ? truncated(file, 'no end-of-central-directory record') : new UserError(`${file}: not an .npz (zip) archive; write it with np.savez or np.savez_compressed`);
  }
  let count = v.getUint16(eocd + 10, true);
  let dirOffset = v.getUint32(eocd + 16, true);
  if ((count === 0xffff || dirOffset === 0xffffffff) && eocd >= 20 && v.getUint32(eocd - 20, true) === EOCD64_LOCATOR) {
    const at = Number(v.getBigUint64(eocd - 20 + 8, true));
    if (at + 56 > bytes.length || v.getUint32(at, true) !== EOCD64) throw truncated(file, 'bad Zip64 end record');
    count = Number(v.getBigUint64(at + 32, true));
    dirOffset = Number(v.getBigUint64(at + 48, true));
  }
  const out: Member[] = [];
  let p = dirOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || v.getUint32(p, true) !== CENTRAL) throw truncated(file, `central directory entry ${k} is missing`);
    const nameLen = v.getUint16(p + 28, true), extraLen = v.getUint16(p + 30, true), commentLen = v.getUint16(p + 32, true);
    let size = v.getUint32(p + 24, true), compressed = v.getUint32(p + 20, true), offset = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extra field (id 1): 8-byte values, in this order, for exactly the fields set to 0xFFFFFFFF.
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = v.getUint16(e, true), len = v.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const next = (): number => { const x = Number(v.getBigUint64(q, true)); q += 8; return x; };
        if (size === 0xffffffff) size = next();
        if (compressed === 0xffffffff) compressed = next();
        if (offset === 0xffffffff) offset = next();
      }
      e += 4 + len;
    }
    out.push({ name, method: v.getUint16(p + 10, true), crc: v.getUint32(p + 16, true) >>> 0, compressed, size, offset });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** The bytes of one member, inflated and CRC-checked. */
function memberBytes(bytes: Uint8Array, m: Member, file: string): Uint8Array {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const where = `${file}:${m.name}`;
  if (m.offset + 30 > bytes.length || v.getUint32(m.offset, true) !== LOCAL) throw truncated(file, `${m.name} has no local header`);
  const start = m.offset + 30 + v.getUint16(m.offset + 26, true) + v.getUint16(m.offset + 28, true);
  if (start + m.compressed > bytes.length) throw truncated(file, `${m.name} needs ${m.compressed} bytes, ${Math.max(0, bytes.length - start)} are there`);
  const raw = bytes.subarray(start, start + m.compressed);
  let data: Uint8Array;
  if (m.method === 0) data = raw;
  else if (m.method === 8) {
    try {
      // Bounded by the directory's size, so a member that inflates past it fails here instead of filling memory.
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, m.size) });
    } catch (e) {
      throw new UserError(`${where}: corrupt deflate stream (${(e as Error).message}); write the archive again`);
    }
  } else throw new UserError(`${where}: zip compression method ${m.method} is not supported (np.savez stores, np.savez_compressed deflates)`);
  if (data.length !== m.size || crc32(data) >>> 0 !== m.crc) throw new UserError(`${where}: damaged member (size or CRC-32 does not match the archive's directory); write the archive again`);
  return data;
}

/** Reads every `.npy` member of an .npz archive, keyed by its name without `.npy` (x_train, y_train, …). */
export function parseNpz(bytes: Uint8Array, file: string): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const m of members(bytes, file)) {
    if (!m.name.endsWith('.npy')) continue;
    const key = m.name.slice(0, -4);
    out.set(key, parseNpy(memberBytes(bytes, m, file), `${file}:${key}`));
  }
  return out;
}

/** Builds an .npz of stored (or deflated) .npy members; used by tests. Sizes are below 4 GiB, so no Zip64. */
export function encodeNpz(entries: readonly { name: string; npy: Uint8Array }[], compress = false): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const { name, npy } of entries) {
    const nameBytes = new TextEncoder().encode(`${name}.npy`);
    const body = compress ? deflateRawSync(npy) : npy;
    const crc = crc32(npy) >>> 0;
    const local = new Uint8Array(30 + nameBytes.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, LOCAL, true); lv.setUint16(4, 20, true); lv.setUint16(8, compress ? 8 : 0, true);
    lv.setUint32(14, crc, true); lv.setUint32(18, body.length, true); lv.setUint32(22, npy.length, true);
    lv.setUint16(26, nameBytes.length, true); local.set(nameBytes, 30);
    const central = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, CENTRAL, true); cv.setUint16(4, 20, true); cv.setUint16(6, 20, true); cv.setUint16(10, compress ? 8 : 0, true);
    cv.setUint32(16, crc, true); cv.setUint32(20, body.length, true); cv.setUint32(24, npy.length, true);
    cv.setUint16(28, nameBytes.length, true); cv.setUint32(42, offset, true); central.set(nameBytes, 46);
    locals.push(local, body);
    centrals.push(central);
    offset += local.length + body.length;
  }
  const dirSize = centrals.reduce((s, c) => s + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, EOCD, true); ev.setUint16(8, entries.length, true); ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirSize, true); ev.setUint32(16, offset, true);
  return Buffer.concat([...locals, ...centrals, end]);
}
