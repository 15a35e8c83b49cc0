/**
 * The dataset-source registry: a source registered from outside the package (4×4 images in CSV files, here in the
 * test) is found in a --data-dir folder, decoded, listed with the built-ins, accepted by the advisor's config parser
 * and trained on by name through the Node `train` entry point, like a built-in one.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { datasetNames, registerDatasetSource, type FileHost } from '../../src/core/data/registry.js';
import type { RawSplit } from '../../src/core/data/dataset.js';
import { parseAdviseConfig } from '../../src/core/advisor/config.js';
import { optimizerConfig } from '../../src/core/optim/index.js';
import { loadDataset } from '../../src/node/data/load.js';
import { train } from '../../src/node/train.js';
import { UserError } from '../../src/core/util/errors.js';

/** "label,p0,…,p15" per line, pixels 0–255. */
function decodeCsv(text: string): RawSplit {
  const rows = text.trim().split('\n').map((l) => l.split(',').map(Number));
  const images = new Uint8Array(rows.length * 16), labels = new Uint8Array(rows.length);
  rows.forEach((r, i) => { labels[i] = r[0]!; images.set(r.slice(1), i * 16); });
  return { images, labels, n: rows.length };
}

registerDatasetSource({
  name: 'tiny-csv',
  shape: [1, 4, 4],
  classes: 2,
  classNames: ['dark', 'bright'],
  hint: 'write train.csv and test.csv into the folder given by --data-dir',
  systemDirs: [],
  remote: [],
  wants: 'train.csv and test.csv',
  findIn(dir: string, host: FileHost) {
    const files = [host.join(dir, 'train.csv'), host.join(dir, 'test.csv')];
    return files.every((f) => host.exists(f)) ? { name: 'tiny-csv', format: 'csv', source: dir, files } : null;
  },
  decode(loc, host) {
    const [tr, te] = loc.files.map((f) => decodeCsv(new TextDecoder().decode(host.read(f, this.hint))));
    return { train: tr!, test: te! };
  },
});

// Class 0: every pixel 40; class 1: every pixel 200 — separable by the mean pixel alone.
const dir = mkdtempSync(join(tmpdir(), 'mlab-source-'));
const csv = (n: number): string => Array.from({ length: n }, (_, i) => [i % 2, ...new Array(16).fill(i % 2 === 0 ? 40 : 200)].join(',')).join('\n');
writeFileSync(join(dir, 'train.csv'), csv(64));
writeFileSync(join(dir, 'test.csv'), csv(10));

test('a registered source is listed with the built-ins and accepted by the advisor config', () => {
  assert.deepEqual(datasetNames().slice(-1), ['tiny-csv']);
  assert.ok(datasetNames().includes('fashion-mnist'));
  const c = parseAdviseConfig({ model: 'mlp', dataset: 'tiny-csv', batch: 8, lr: 0.1, momentum: 0.9, form: 'pytorch' });
  assert.equal(c.dataset, 'tiny-csv');
});

test('it loads from --data-dir: shape, class count and pixel/255 values', async () => {
  const ds = await loadDataset('tiny-csv', { dataDir: dir, useCache: false });
  assert.deepEqual([...ds.shape], [1, 4, 4]);
  assert.equal(ds.classes, 2);
  assert.equal(ds.train.n, 64);
  assert.equal(ds.test.n, 10);
  assert.equal(ds.train.images[0], Math.fround(40 / 255)); // first row is class 0
  assert.equal(ds.train.images[16], Math.fround(200 / 255));
  assert.deepEqual([...ds.train.labels.subarray(0, 4)], [0, 1, 0, 1]);
});

test('a folder without its files is a one-line error naming what it wants', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'mlab-source-empty-'));
  await assert.rejects(loadDataset('tiny-csv', { dataDir: empty, useCache: false }),
    (e) => e instanceof UserError && !e.message.includes('\n') && e.message.includes('train.csv and test.csv'));
});

test('train() trains on it by name: the two classes are learnt', async () => {
  const r = await train({
    dataset: 'tiny-csv', dataDir: dir, threads: 1, model: { kind: 'mlp', hidden: [8] },
    optimizer: optimizerConfig({ lr: 0.1, momentum: 0.9 }), batch: 8, epochs: 5, seed: 0,
  });
  assert.equal(r.dataset, 'tiny-csv');
  assert.equal(r.steps, 40); // 5 epochs × 64/8
  assert.equal(r.testAccuracy, 1);
});
