/**
 * decodeCheckpoint on files with a valid checksum but a header no momentum-lab build writes, saveCheckpoint on a
 * path it cannot write, and lr selection with no finished run: each a one-line UserError, nothing left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../src/core/util/errors.js';
import { decodeCheckpoint, encodeCheckpoint, expandGrid, parseSweepConfig, saveCheckpoint, selectBest } from '../../src/experiments/index.js';
import type { RunRow } from '../../src/node/store.js';
import { tempDir } from './helpers.js';
import { fullDisk } from '../node/faults.js';

/** Checkpoint bytes with `header` as its header text, `data` bytes of buffers and a correct SHA-256. */
function crafted(header: string, data = 16, declaredLength?: number): Uint8Array {
  const h = Buffer.from(header, 'utf8');
  const hlen = ((12 + h.length + 7) & ~7) - 12;
  const out = Buffer.alloc(12 + hlen + data + 32, 0x20);
  out.write('MLCKPT01', 0, 'latin1');
  out.writeUInt32LE(declaredLength ?? hlen, 8);
  h.copy(out, 12);
  out.fill(0, 12 + hlen, 12 + hlen + data);
  createHash('sha256').update(out.subarray(0, out.length - 32)).digest().copy(out, out.length - 32);
  return out;
}

const header = (over: Record<string, unknown>): string =>
  JSON.stringify({ version: 1, signature: 's', meta: {}, buffers: [{ name: 'x', dtype: 'float32', length: 4, offset: 0 }], ...over });

/** decodeCheckpoint throws a one-line UserError naming the file and matching `why`. */
function refuses(bytes: Uint8Array, why: RegExp): void {
  assert.throws(() => decodeCheckpoint(bytes, 'checkpoint /tmp/c.ckpt'), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.ok(!e.message.includes('\n'), e.message);
    assert.match(e.message, /^checkpoint \/tmp\/c\.ckpt has a malformed header/);
    assert.match(e.message, why);
    return true;
  });
}

test('the crafting helper writes what decodeCheckpoint accepts: 4 float32 zeros', () => {
  const d = decodeCheckpoint(crafted(header({})), 'c');
  assert.deepEqual([...(d.buffers.x as Float32Array)], [0, 0, 0, 0]);
  assert.equal(d.signature, 's');
});

test('decodeCheckpoint refuses every bad header field with a checksum that matches', () => {
  refuses(crafted('{"version":1,'), /not JSON/);
  refuses(crafted('[1,2]'), /not a JSON object/);
  refuses(crafted(header({ version: 2 })), /version 2, expected 1/);
  refuses(crafted(header({ version: undefined })), /version undefined/);
  refuses(crafted(header({ signature: 7 })), /signature is not a string/);
  refuses(crafted(header({ meta: [1] })), /meta is not an object/);
  refuses(crafted(header({ meta: null })), /meta is not an object/);
  refuses(crafted(header({ buffers: {} })), /buffers is not a list/);
  refuses(crafted(header({ buffers: [7] })), /buffer 0 is not an object/);
  refuses(crafted(header({ buffers: [{ dtype: 'uint8', length: 1, offset: 0 }] })), /buffer 0 has a missing or repeated name/);
  refuses(crafted(header({ buffers: [{ name: 'a', dtype: 'uint8', length: 1, offset: 0 }, { name: 'a', dtype: 'uint8', length: 1, offset: 8 }] })), /repeated name/);
  refuses(crafted(header({ buffers: [{ name: 'x', dtype: 'float16', length: 4, offset: 0 }] })), /unknown dtype "float16"/);
  refuses(crafted(header({ buffers: [{ name: 'x', dtype: 'toString', length: 4, offset: 0 }] })), /unknown dtype "toString"/);
  refuses(crafted(header({ buffers: [{ name: 'x', dtype: 'float32', length: -1, offset: 0 }] })), /length -1/);
  refuses(crafted(header({ buffers: [{ name: 'x', dtype: 'float32', length: 1.5, offset: 0 }] })), /length 1\.5/);
  refuses(crafted(header({ buffers: [{ name: 'x', dtype: 'float32', length: '4', offset: 0 }] })), /length "4"/);
  refuses(crafted(header({ buffers: [{ name: 'x', dtype: 'float32', length: 4, offset: -8 }] })), /offset -8/);
  refuses(crafted(header({ buffers: [{ name: 'x', dtype: 'float32', length: 4, offset: 4 }] })), /offset 4/);
  // 16 data bytes: 5 float32s (20 bytes) at 0, or 4 float32s at offset 8, run past them.
  refuses(crafted(header({ buffers: [{ name: 'x', dtype: 'float32', length: 5, offset: 0 }] })), /buffer x \(20 bytes at offset 0\) runs past the end/);
  refuses(crafted(header({ buffers: [{ name: 'x', dtype: 'float32', length: 4, offset: 8 }] })), /buffer x \(16 bytes at offset 8\) runs past the end/);
  refuses(crafted(header({}), 16, 1_000_000), /header length 1000000 runs past the end/);
});

test('decodeCheckpoint still reads what encodeCheckpoint writes, every dtype', () => {
  const bytes = encodeCheckpoint({
    signature: 'sig',
    meta: { step: 3 },
    buffers: { a: Float32Array.of(1.5), b: Float64Array.of(2.25, 3), c: Int32Array.of(-4), d: Uint32Array.of(5), e: Uint8Array.of(6, 7, 8) },
  });
  const d = decodeCheckpoint(bytes);
  assert.deepEqual(d.meta, { step: 3 });
  assert.deepEqual([...(d.buffers.b as Float64Array)], [2.25, 3]);
  assert.deepEqual([...(d.buffers.e as Uint8Array)], [6, 7, 8]);
});

test('saveCheckpoint onto a folder or into a missing folder is a one-line UserError and leaves no temp file', () => {
  const d = tempDir('ckpt-save');
  const data = { signature: 's', meta: {}, buffers: { x: new Float32Array(1000) } };
  const folder = join(d, 'taken.ckpt');
  mkdirSync(folder);
  writeFileSync(join(folder, 'keep'), 'x'); // a non-empty folder: the rename over it fails after the write
  assert.throws(() => saveCheckpoint(folder, data), (e: unknown) => e instanceof UserError && /checkpoint .*taken\.ckpt/.test(e.message) && !e.message.includes('\n'));
  assert.deepEqual(readdirSync(d).sort(), ['taken.ckpt']);
  assert.throws(() => saveCheckpoint(join(d, 'missing', 'c.ckpt'), data), (e: unknown) => e instanceof UserError && /missing/.test(e.message) && !e.message.includes('\n'));
  assert.deepEqual(readdirSync(d).sort(), ['taken.ckpt']);
});

test('selecting an lr when no run of the tuning phase finished is a one-line UserError, never a pick among −∞ scores', () => {
  const s = parseSweepConfig({
    name: 'none', task: 'synthetic', base: { steps: 4, batchSize: 16 }, grid: { form: ['sgd'], lr: [0.1, 0.2] },
    protocol: { tune: true, metric: 'valid/accuracy', mode: 'max' },
  });
  const planned = expandGrid(s);
  const rows = new Map(planned.map((p) => [p.hash, { hash: p.hash, status: 'failed', summary: null, error: 'disk gone\nsecond line' } as unknown as RunRow]));
  assert.throws(() => selectBest(planned, rows, s), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.equal(e.message, 'no run of the tuning phase finished (2 runs: 2 failed), so no lr can be selected; first error: disk gone');
    return true;
  });
  // One finished run is enough to select: its lr, with its score.
  const [a, b] = planned;
  rows.set(a!.hash, { hash: a!.hash, status: 'done', summary: { 'final/valid/accuracy': 0.5 }, error: null } as unknown as RunRow);
  const sel = selectBest(planned, rows, s);
  assert.equal(sel.length, 1);
  assert.equal(sel[0]!.gridLr, a!.labels.gridLr);
  assert.equal(sel[0]!.score, 0.5);
  assert.ok(b !== undefined);
});

test('saveCheckpoint on a full disk is a one-line UserError and leaves no temp file', (t) => {
  const disk = fullDisk(join(tempDir('ckpt-full'), 'full'), 64, []);
  assert.ok(disk !== null, 'mounting a tmpfs needs root (as CI has)');
  try {
    // 64K float32s = 256 KiB, four times the disk.
    const data = { signature: 's', meta: {}, buffers: { x: new Float32Array(1 << 16) } };
    assert.throws(() => saveCheckpoint(join(disk.path, 'c.ckpt'), data), (e: unknown) =>
      e instanceof UserError && /^disk full writing checkpoint \S+c\.ckpt/.test(e.message) && !e.message.includes('\n'));
    assert.deepEqual(readdirSync(disk.path).sort(), ['filler']);
  } finally {
    disk.release();
  }
});
