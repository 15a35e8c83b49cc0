/**
 * The decoded-dataset cache carries a checksum of its payload: a cache file damaged in place (same size, header
 * intact, garbage pixels) is detected, reported on one stderr line and rebuilt from the source files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, rmSync, statSync, writeFileSync, writeSync, readSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSplits } from '../../src/node/data/load.js';
import { encodeIdx } from '../../src/core/data/idx.js';
import { Rng } from '../../src/core/util/rng.js';
import { withStderrLines } from '../helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'ml-cache-sum-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const bytesOf = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('a cache overwritten with same-size garbage is rebuilt: the loaded data equals a fresh decode', async () => {
  const cacheDir = join(dir, 'cache');
  const src = join(cacheDir, 'mnist');
  mkdirSync(src, { recursive: true });
  const img = (n: number, salt: number): Uint8Array => Uint8Array.from({ length: n * 784 }, (_, i) => (i * salt) % 256);
  writeFileSync(join(src, 'train-images-idx3-ubyte'), encodeIdx([30, 28, 28], img(30, 3)));
  writeFileSync(join(src, 'train-labels-idx1-ubyte'), encodeIdx([30], Uint8Array.from({ length: 30 }, (_, i) => i % 10)));
  writeFileSync(join(src, 't10k-images-idx3-ubyte'), encodeIdx([10, 28, 28], img(10, 5)));
  writeFileSync(join(src, 't10k-labels-idx1-ubyte'), encodeIdx([10], Uint8Array.from({ length: 10 }, (_, i) => (i + 1) % 10)));

  const fresh = loadSplits('mnist', { cacheDir, useCache: false });
  assert.equal(loadSplits('mnist', { cacheDir }).cached, false);
  assert.equal(loadSplits('mnist', { cacheDir }).cached, true);

  // Keep the magic and the JSON header (its first 12 + H bytes), overwrite everything after with random bytes.
  const [name] = readdirSync(join(cacheDir, 'decoded'));
  const file = join(cacheDir, 'decoded', name!);
  const size = statSync(file).size;
  const fd = openSync(file, 'r+');
  const pre = Buffer.alloc(12);
  readSync(fd, pre, 0, 12, 0);
  const start = 12 + pre.readUInt32LE(8);
  const rng = new Rng(7);
  const garbage = Uint8Array.from({ length: size - start }, () => rng.nextU32() & 0xff);
  writeSync(fd, garbage, 0, garbage.length, start);
  closeSync(fd);
  assert.equal(statSync(file).size, size);

  const { value: got, lines } = await withStderrLines(() => loadSplits('mnist', { cacheDir }));
  assert.equal(got.cached, false);
  for (const k of ['train', 'test'] as const) {
    assert.equal(got[k].n, fresh[k].n);
    assert.ok(bytesOf(got[k].images).equals(bytesOf(fresh[k].images)), `${k} images`);
    assert.ok(bytesOf(got[k].labels).equals(bytesOf(fresh[k].labels)), `${k} labels`);
  }
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0]!, /decoded cache .*\.bin is damaged \(checksum mismatch\); rebuilding it from the source files/);
  // The rebuilt cache is trusted again.
  assert.equal(loadSplits('mnist', { cacheDir }).cached, true);
});
