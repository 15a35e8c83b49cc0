import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx, parseIdx } from '../../src/core/data/idx.js';
import { readIdxFile, readIdxImagesLabels } from '../../src/node/data/files.js';
import { UserError } from '../../src/core/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ml-idx-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** n images of h×w where pixel (i, p) = (7i + p) mod 256, labels i mod 10: every byte is predictable. */
function makeImages(n: number, h: number, w: number): Uint8Array {
  const d = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) d[i * h * w + p] = (7 * i + p) % 256;
  return d;
}
const labels = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i % 10);

function write(name: string, bytes: Uint8Array): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

function throwsUser(fn: () => unknown, ...parts: (string | RegExp)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected UserError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'error must be one line');
    for (const p of parts) {
      if (typeof p === 'string') assert.ok(e.message.includes(p), `message '${e.message}' lacks '${p}'`);
      else assert.match(e.message, p);
    }
    return true;
  });
}

test('raw and gzip IDX files decode to the same dims and bytes', () => {
  const imgs = makeImages(5, 3, 4);
  const idx = encodeIdx([5, 3, 4], imgs);
  // header = 4 magic bytes + 3 dims × 4 bytes = 16 bytes, then 60 data bytes
  assert.equal(idx.length, 16 + 60);
  const raw = readIdxFile(write('a-idx3-ubyte', idx));
  const gz = readIdxFile(write('a-idx3-ubyte.gz', gzipSync(idx)));
  // gzip detection is by magic, not name: a gzip stream without .gz decodes too
  const gzNoExt = readIdxFile(write('b-idx3-ubyte', gzipSync(idx)));
  for (const r of [raw, gz, gzNoExt]) {
    assert.deepEqual(r.dims, [5, 3, 4]);
    assert.deepEqual(Array.from(r.data), Array.from(imgs));
  }
  // spot check: image 2, pixel 5 = (7·2 + 5) mod 256 = 19
  assert.equal(raw.data[2 * 12 + 5], 19);
});

test('images + labels pair: counts and label ranges are checked', () => {
  const fi = write('p-images', encodeIdx([4, 2, 2], makeImages(4, 2, 2)));
  const fl = write('p-labels', encodeIdx([4], labels(4)));
  const r = readIdxImagesLabels(fi, fl, 10);
  assert.equal(r.n, 4);
  assert.deepEqual([r.h, r.w], [2, 2]);
  assert.deepEqual(Array.from(r.labels), [0, 1, 2, 3]);

  const fl3 = write('p-labels3', encodeIdx([3], labels(3)));
  throwsUser(() => readIdxImagesLabels(fi, fl3, 10, 'HINT'), fl3, '3 labels', '4 images', 'HINT');
  const flBad = write('p-labels-bad', encodeIdx([4], Uint8Array.from([0, 1, 12, 3])));
  throwsUser(() => readIdxImagesLabels(fi, flBad, 10), flBad, 'label 12 at index 2');
  throwsUser(() => readIdxImagesLabels(fl, fl, 10), fl, '3-D');
});

test('bad IDX input gives one-line errors naming the file', () => {
  const good = encodeIdx([5, 3, 4], makeImages(5, 3, 4));
  const wrongMagic = good.slice();
  wrongMagic[0] = 0x50; // "P": e.g. a PNG/HTML page saved under the IDX name
  const f1 = write('wrong-magic', wrongMagic);
  throwsUser(() => readIdxFile(f1, 'get it with X'), f1, 'not an IDX file', 'magic 0x50000803', 'get it with X');

  const wrongType = good.slice();
  wrongType[2] = 0x0d; // float32 element type
  const f2 = write('wrong-type', wrongType);
  throwsUser(() => readIdxFile(f2), f2, 'unsupported IDX element type 0x0d');

  // 10 bytes short: 60 data bytes are needed, 50 present
  const f3 = write('truncated', good.subarray(0, good.length - 10));
  throwsUser(() => readIdxFile(f3), f3, 'truncated', 'need 60 data bytes, found 50');
  const f4 = write('truncated-header', good.subarray(0, 9));
  throwsUser(() => readIdxFile(f4), f4, 'truncated', 'header needs 16');
  const f5 = write('tiny', good.subarray(0, 2));
  throwsUser(() => readIdxFile(f5), f5, 'truncated');
  const f6 = write('trailing', new Uint8Array([...good, 1, 2, 3]));
  throwsUser(() => readIdxFile(f6), f6, '3 bytes after the data');

  // a truncated gzip stream (half of it)
  const gz = gzipSync(good);
  const f7 = write('truncated.gz', gz.subarray(0, Math.floor(gz.length / 2)));
  throwsUser(() => readIdxFile(f7, 'HINT'), f7, 'gzip stream is truncated', 'HINT');

  const missing = join(dir, 'nope-idx3-ubyte');
  throwsUser(() => readIdxFile(missing, 'apt-get install dataset-fashion-mnist'), missing, 'no such file', 'apt-get install dataset-fashion-mnist');
});

test('parseIdx accepts 1-D labels with exact length', () => {
  const r = parseIdx(encodeIdx([3], Uint8Array.from([9, 8, 7])), 'mem');
  assert.deepEqual(r.dims, [3]);
  assert.deepEqual(Array.from(r.data), [9, 8, 7]);
});
