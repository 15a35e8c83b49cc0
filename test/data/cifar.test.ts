import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CIFAR_RECORD_BYTES, parseCifarBatch } from '../../src/core/data/cifar.js';
import { readCifarBatches } from '../../src/node/data/files.js';
import { loadDatasetSync } from '../../src/node/data/load.js';
import { UserError } from '../../src/core/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ml-cifar-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** n CIFAR records; record i has label (i+offset) mod 10 and pixel p = (i + 3p) mod 256. */
function batch(n: number, offset = 0): Uint8Array {
  const b = new Uint8Array(n * CIFAR_RECORD_BYTES);
  for (let i = 0; i < n; i++) {
    b[i * CIFAR_RECORD_BYTES] = (i + offset) % 10;
    for (let p = 0; p < 3072; p++) b[i * CIFAR_RECORD_BYTES + 1 + p] = (i + 3 * p) % 256;
  }
  return b;
}

test('a CIFAR-10 batch parses into labels and channel-major pixels', () => {
  const r = parseCifarBatch(batch(3), 'mem');
  assert.equal(r.n, 3);
  assert.deepEqual(Array.from(r.labels), [0, 1, 2]);
  // record 2: red (0,0) is p=0 → 2; green (0,0) is p=1024 → (2 + 3072) mod 256 = 2; blue (31,31) is p=3071 → (2+9213) mod 256 = 255
  assert.equal(r.images[2 * 3072 + 0], 2);
  assert.equal(r.images[2 * 3072 + 1024], (2 + 3 * 1024) % 256);
  assert.equal(r.images[2 * 3072 + 3071], (2 + 3 * 3071) % 256);
});

test('truncated, empty and non-CIFAR files give one-line errors naming the file', () => {
  const f = join(dir, 'trunc.bin');
  writeFileSync(f, batch(2).subarray(0, 2 * CIFAR_RECORD_BYTES - 100));
  assert.throws(() => readCifarBatches([f], 'HINT'), (e: unknown) => e instanceof UserError && e.message.includes(f) && e.message.includes('1 whole 3073-byte records + 2973 bytes') && e.message.includes('HINT'));
  const empty = join(dir, 'empty.bin');
  writeFileSync(empty, new Uint8Array(0));
  assert.throws(() => readCifarBatches([empty]), (e: unknown) => e instanceof UserError && e.message.includes(empty) && e.message.includes('empty'));
  const badLabel = batch(2);
  badLabel[CIFAR_RECORD_BYTES] = 200;
  const fb = join(dir, 'badlabel.bin');
  writeFileSync(fb, badLabel);
  assert.throws(() => readCifarBatches([fb]), (e: unknown) => e instanceof UserError && e.message.includes('record 1 has label 200'));
  const missing = join(dir, 'data_batch_9.bin');
  assert.throws(() => readCifarBatches([missing], 'momentum-lab data fetch cifar10'), (e: unknown) => e instanceof UserError && e.message.includes(missing) && e.message.includes('data fetch cifar10'));
});

test('loadDataset reads a CIFAR-10 folder (tarball layout) in batch order', () => {
  const root = join(dir, 'cifar');
  const sub = join(root, 'cifar-10-batches-bin');
  mkdirSync(sub, { recursive: true });
  for (let k = 1; k <= 5; k++) writeFileSync(join(sub, `data_batch_${k}.bin`), batch(2, k));
  writeFileSync(join(sub, 'test_batch.bin'), batch(3, 7));
  const ds = loadDatasetSync('cifar10', { dataDir: root, useCache: false });
  assert.deepEqual(ds.shape, [3, 32, 32]);
  assert.equal(ds.source, sub);
  // 5 files × 2 records; file k's labels are k, k+1
  assert.equal(ds.train.n, 10);
  assert.deepEqual(Array.from(ds.train.labels), [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
  assert.deepEqual(Array.from(ds.test.labels), [7, 8, 9]);
  // test record 1, pixel p=1: (1 + 3) / 255
  assert.equal(ds.test.images[3072 + 1], Math.fround(4 / 255));
  // a folder without the files names it and says how to get them
  assert.throws(() => loadDatasetSync('cifar10', { dataDir: join(dir, 'nothing'), useCache: false }), (e: unknown) => e instanceof UserError && e.message.includes('nothing') && e.message.includes('momentum-lab data fetch cifar10'));
});
