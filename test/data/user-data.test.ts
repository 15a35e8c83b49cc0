// Users' data files (--data FILE) against what numpy wrote: test/fixtures/data/ and its expected.json come from
// scripts/gen_fixtures_data.py (np.savez, np.savez_compressed, np.save, CSV and PNG files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { readFixture, repoRoot } from '../helpers.js';
import { parseDataSpec } from '../../src/core/data/data-file.js';
import { UserError } from '../../src/core/util/errors.js';
import { loadUserData } from '../../src/node/data/user-data.js';
import { loadDatasetSync } from '../../src/node/data/load.js';
import { encodeIdx } from '../../src/core/data/idx.js';
import { encodeNpy } from '../../src/node/data/npy.js';
import { encodeNpz } from '../../src/node/data/npz.js';
import type { Split } from '../../src/core/data/dataset.js';

const fixtures = join(repoRoot(), 'test', 'fixtures', 'data');
const tmp = mkdtempSync(join(tmpdir(), 'ml-user-data-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

interface Expected {
  shape: number[];
  classes: number;
  layout: 'nchw' | 'nhwc';
  labelColumn?: string;
  imageSize?: string;
  splits: Record<string, { n: number; first: number[]; sum: number; labels: number[] }>;
}

test('every good fixture loads to the shapes, values and labels numpy wrote', () => {
  const expected = readFixture<Record<string, Expected>>('data', 'expected.json');
  assert.deepEqual(Object.keys(expected).sort(), ['csv-pair', 'f32-nchw.npz', 'f64-features.npz', 'images', 'npy-pairs', 'split-column.csv', 'u8-nhwc.npz']);
  for (const [file, e] of Object.entries(expected)) {
    const spec = parseDataSpec({ file: join(fixtures, file), layout: e.layout, ...(e.labelColumn ? { labelColumn: e.labelColumn } : {}), ...(e.imageSize ? { imageSize: e.imageSize } : {}) });
    const ds = loadUserData(spec);
    assert.equal(ds.name, file);
    assert.deepEqual(ds.shape, e.shape, file);
    assert.equal(ds.classes, e.classes, file);
    const splits: Record<string, Split | undefined> = { train: ds.train, test: ds.test, val: ds.validation };
    assert.deepEqual(Object.keys(e.splits).sort(), Object.keys(splits).filter((k) => splits[k] !== undefined).sort(), file);
    for (const [name, s] of Object.entries(e.splits)) {
      const got = splits[name]!;
      assert.equal(got.n, s.n, `${file} ${name}`);
      assert.equal(got.images.length, s.n * e.shape.reduce((a, b) => a * b, 1));
      // numpy's values rounded to float32, exactly (NHWC transposed to NCHW as x.transpose(0, 3, 1, 2) does)
      assert.deepEqual(Array.from(got.images.subarray(0, 8)), s.first, `${file} ${name} first values`);
      const sum = got.images.reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(sum - s.sum) <= 1e-9 * Math.max(1, Math.abs(s.sum)), `${file} ${name} sum ${sum} vs numpy ${s.sum}`);
      assert.deepEqual(Array.from(got.labels), s.labels, `${file} ${name} labels`);
    }
  }
});

test('uint8 inputs stay 0..255 (the data exactly as given)', () => {
  const ds = loadUserData(parseDataSpec({ file: join(fixtures, 'u8-nhwc.npz'), layout: 'nhwc' }));
  const max = ds.train.images.reduce((m, v) => Math.max(m, v), 0);
  assert.ok(max > 1 && max <= 255 && ds.train.images.every((v) => Number.isInteger(v)), `max ${max}`);
});

/** One bad file per line: the message it must match. Every one is a UserError of one line naming the file. */
const BAD: [string, RegExp][] = [
  ['bad/shape-mismatch.npz', /y_train: shape \(5\) does not match .*x_train's 6 samples; x\/y shape mismatch/],
  ['bad/nan.npz', /x_train: NaN at sample 3 \(flat index 14\)/],
  ['bad/inf.npz', /x_test: -Infinity at sample 1 \(flat index 4\)/],
  ['bad/overflow.npz', /x_test: 1e\+39 \(beyond float32's range\) at sample 0/],
  ['bad/label-fraction.npz', /y_train: label 0\.5 at index 2 is not an integer/],
  ['bad/label-negative.npz', /y_train: label -1 at index 2 is out of range \(negative\)/],
  ['bad/label-out-of-range.npz', /y_test: label 2 at index 1 is out of range: the train labels have classes 0\.\.1/],
  ['bad/empty-test.npz', /x_test: the test split is empty \(0 samples\)/],
  ['bad/float16.npz', /x_train: unsupported dtype '<f2' \(float16\)/],
  ['bad/missing-test.npz', /no x_test \(has x_train, y_train; needs x_train, y_train, x_test, y_test/],
  ['bad/one-hot.npz', /y_train: shape \(6, 2\) does not match .* \(one-hot labels\? save y\.argmax\(1\)\)/],
  ['bad/sample-shape.npz', /x_test: samples are 1×1×5 .* but the train split's are 1×1×4/],
  ['bad/fortran.npz', /x_train: Fortran-order array/],
  ['bad/truncated.npz', /truncated archive/],
  ['bad/truncated-npy', /x_train\.npy: truncated array \(shape \(6, 4\) of float32 needs 96 data bytes, found 86\)/],
  ['bad/ragged.csv', /ragged\.csv: row 3 has 3 columns, the first row has 4/],
  ['bad/text-cell.csv', /text-cell\.csv: 'x' at line 3, column 2 is not a number/],
  ['bad/no-split.csv', /no-split\.csv: no 'split' column/],
  ['no-such-file.npz', /no-such-file\.npz: no such file or folder/],
];

test('bad data files are refused with one line naming the file and the problem', () => {
  for (const [file, re] of BAD) {
    const path = join(fixtures, file);
    assert.throws(() => loadUserData(parseDataSpec(path)), (e: unknown) => {
      assert.ok(e instanceof UserError, `${file}: ${String(e)}`);
      assert.match(e.message, re, file);
      assert.ok(!e.message.includes('\n'), `${file}: one line`);
      assert.ok(e.message.startsWith(path), `${file}: names the file first: ${e.message}`);
      return true;
    });
  }
});

test('a damaged deflated member fails its CRC-32 check', () => {
  const x = encodeNpy('<f4', [2, 2], new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer));
  const zip = encodeNpz([{ name: 'x_train', npy: x }]);
  const at = zip.length - 22 - 46 - 'x_train.npy'.length - 1; // the last data byte of the stored member
  zip[at] = zip[at]! ^ 0xff;
  const f = join(tmp, 'crc.npz');
  writeFileSync(f, zip);
  assert.throws(() => loadUserData(parseDataSpec(f)), /crc\.npz:x_train\.npy: damaged member \(size or CRC-32/);
});

test('IDX files in a folder load as pixel/255, like the built-in datasets', () => {
  const d = join(tmp, 'idx');
  mkdirSync(d);
  const img = Uint8Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20);
  writeFileSync(join(d, 'train-images-idx3-ubyte'), encodeIdx([3, 2, 2], img));
  writeFileSync(join(d, 'train-labels-idx1-ubyte'), encodeIdx([3], Uint8Array.from([0, 2, 1])));
  writeFileSync(join(d, 't10k-images-idx3-ubyte'), encodeIdx([1, 2, 2], img.subarray(0, 4)));
  writeFileSync(join(d, 't10k-labels-idx1-ubyte'), encodeIdx([1], Uint8Array.from([2])));
  const ds = loadDatasetSync(d);
  assert.deepEqual(ds.shape, [1, 2, 2]);
  assert.equal(ds.classes, 3);
  // byte 20 → fround(20/255)
  assert.equal(ds.train.images[1], Math.fround(20 / 255));
  assert.deepEqual(Array.from(ds.train.labels), [0, 2, 1]);
});

test('image folders: JPEG and PNG decode, resize bilinearly to the declared size, and need --image-size', () => {
  const root = join(tmp, 'jpg');
  for (const [split, cls, rgb] of [['train', 'a', [200, 40, 10]], ['train', 'b', [10, 40, 200]], ['test', 'a', [200, 40, 10]]] as const) {
    mkdirSync(join(root, split, cls), { recursive: true });
    const data = new Uint8Array(8 * 8 * 4);
    for (let p = 0; p < 64; p++) data.set([...rgb, 255], 4 * p);
    writeFileSync(join(root, split, cls, 'x.jpg'), jpeg.encode({ width: 8, height: 8, data }, 100).data);
  }
  assert.throws(() => loadUserData(parseDataSpec(root)), /give --image-size HxW/);
  const ds = loadUserData(parseDataSpec({ file: root, imageSize: '4x2' }));
  assert.deepEqual(ds.shape, [3, 4, 2]);
  assert.deepEqual(Array.from(ds.train.labels), [0, 1]);
  // a flat colour stays flat under resizing; JPEG at quality 100 is within 2/255 of it
  for (const [c, v] of [200, 40, 10].entries()) {
    for (let p = 0; p < 8; p++) assert.ok(Math.abs(ds.train.images[c * 8 + p]! - v / 255) <= 2 / 255, `channel ${c}`);
  }
  const grey = loadUserData(parseDataSpec({ file: root, imageSize: '2x2', channels: 1 }));
  // ITU-R 601 luma of (200, 40, 10): 0.299·200 + 0.587·40 + 0.114·10 = 84.42
  assert.ok(Math.abs(grey.train.images[0]! - 84.42 / 255) <= 2 / 255);
});

test('bilinear resizing, by hand: a 1×2 row [0, 255] widened to 1×4 is [0, 63.75, 191.25, 255]/255', async () => {
  const { imageToPlanes } = await import('../../src/node/data/image-folder.js');
  const out = new Float32Array(4);
  // source x for target x: (x + ½)·(2/4) − ½ = −¼ (clamped to 0), ¼, ¾, 1¼ (clamped to 1)
  imageToPlanes({ width: 2, height: 1, data: Uint8Array.from([0, 0, 0, 255, 255, 255, 255, 255]) }, 1, 4, 1, out, 0);
  const luma = (0.299 + 0.587 + 0.114) * 255;
  assert.deepEqual(Array.from(out), [0, 0.25 * luma / 255, 0.75 * luma / 255, luma / 255].map(Math.fround));
});

test('data specs: bad options are one-line errors naming the field', () => {
  assert.throws(() => parseDataSpec({ file: 'a.npz', layout: 'nwhc' }), /data\.layout: must be "nchw" or "nhwc", got "nwhc"/);
  assert.throws(() => parseDataSpec({ file: 'a.npz', imageSize: '32' }), /data\.imageSize: must look like 32x32/);
  assert.throws(() => parseDataSpec({ file: 'a.npz', colour: 3 }), /data\.colour: unknown key/);
  assert.throws(() => parseDataSpec(42), /data: must be a file path or an object/);
  assert.deepEqual(parseDataSpec('a.npz'), { file: 'a.npz', layout: 'nchw', labelColumn: null, imageSize: null, channels: 3 });
});

test('Keras-shaped (n, h, w, c) arrays read without --layout nhwc get a warning; CSV label columns by index', async () => {
  const { withStderrLines } = await import('../helpers.js');
  const { lines } = await withStderrLines(() => loadUserData(parseDataSpec(join(fixtures, 'u8-nhwc.npz'))));
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /u8-nhwc\.npz:x_train has shape \(10, 4, 5, 3\), which looks like \(n, h, w, c\); add --layout nhwc/);
  const byName = loadUserData(parseDataSpec({ file: join(fixtures, 'csv-pair') }));
  const byIndex = loadUserData(parseDataSpec({ file: join(fixtures, 'csv-pair'), labelColumn: 1 }));
  assert.deepEqual(byIndex.train.labels, byName.train.labels);
  assert.throws(() => loadUserData(parseDataSpec({ file: join(fixtures, 'csv-pair'), labelColumn: 7 })), /train\.csv: label column 7 does not exist \(columns 0\.\.3\)/);
});

test('a label past the class limit is refused rather than building a huge output layer', () => {
  const f = join(tmp, 'huge-label.npz');
  const x = encodeNpy('<f4', [2, 1], new Uint8Array(new Float32Array([0, 1]).buffer));
  writeFileSync(f, encodeNpz([
    { name: 'x_train', npy: x }, { name: 'y_train', npy: encodeNpy('<i8', [2], new Uint8Array(BigInt64Array.from([0n, 10n ** 9n]).buffer)) },
    { name: 'x_test', npy: x }, { name: 'y_test', npy: encodeNpy('<i8', [2], new Uint8Array(8 * 2)) },
  ]));
  assert.throws(() => loadUserData(parseDataSpec(f)), /huge-label\.npz:y_train: label 1000000000 at index 1 is out of range \(at most 100000 classes\)/);
});

test('--inputs raw with the batch equal to the training set: every step sees exactly the file\'s rows', async () => {
  const { Trainer } = await import('../../src/core/nn/trainer.js');
  const { float32Backend } = await import('../../src/core/engine/backend.js');
  const { optimizerConfig } = await import('../../src/core/optim/index.js');
  const { parseModelSpec } = await import('../../src/core/nn/models.js');
  const data = loadUserData(parseDataSpec(join(fixtures, 'f64-features.npz')));
  const rows = (x: ArrayLike<number>, n: number): string[] => Array.from({ length: n }, (_, i) => Array.from(x).slice(i * 6, i * 6 + 6).join()).sort();
  const make = (inputs: 'raw' | 'standardize') => new Trainer({
    model: parseModelSpec({ kind: 'mlp', hidden: [4] }), optimizer: optimizerConfig({ form: 'pytorch', lr: 0.1, momentum: 0.9 }),
    data, batch: data.train.n, seed: 0, epochs: 2, inputs, backend: float32Backend(),
  });
  const raw = make('raw');
  for (let s = 0; s < 2; s++) {
    raw.gradient();
    assert.deepEqual(rows(raw.x, 9), rows(data.train.images, 9), `step ${s}`);
  }
  const std = make('standardize');
  std.gradient();
  assert.notDeepEqual(rows(std.x, 9), rows(data.train.images, 9));
});
