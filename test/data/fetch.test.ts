import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { extractTarGz, fetchDataset } from '../../src/node/data/fetch.js';
import { loadDatasetSync } from '../../src/node/data/load.js';
import type { RemoteFile } from '../../src/core/data/registry.js';
import { UserError } from '../../src/core/util/errors.js';
import { serveOnLoopback } from './loopback.js';

// No test touches the internet: everything is served by a local server on 127.0.0.1, port 0.
const dir = mkdtempSync(join(tmpdir(), 'ml-fetch-'));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const content = new Map<string, Buffer>();
const requests: { path: string; range: string | undefined }[] = [];

// Routes: /ok/<f> full file with Range support; /trunc/<f> announces the full length, sends half, then drops the
// connection; /norange/<f> ignores Range; anything else 404.
const server: Server = createServer((req, res) => {
  const [, mode, name] = (req.url ?? '').split('/');
  requests.push({ path: req.url ?? '', range: req.headers.range });
  const body = content.get(name ?? '');
  if (body === undefined || !['ok', 'trunc', 'norange'].includes(mode ?? '')) {
    res.writeHead(404).end('not found');
    return;
  }
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (mode === 'ok' && m !== null) {
    const start = Number(m[1]);
    if (start >= body.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
      return;
    }
    res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
    return;
  }
  res.writeHead(200, { 'Content-Length': body.length });
  if (mode === 'trunc') {
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
    return;
  }
  res.end(body);
});
const base = serveOnLoopback(server, () => rmSync(dir, { recursive: true, force: true }));

function table(files: Record<string, Buffer>, wrongHashFor?: string): RemoteFile[] {
  return Object.entries(files).map(([name, body]) => {
    content.set(name, body);
    return { name, url: `http://unused.invalid/${name}`, size: body.length, sha256: name === wrongHashFor ? '0'.repeat(64) : sha(body) };
  });
}

test('fetch downloads, verifies and skips verified files on a second run', async () => {
  const cacheDir = join(dir, 'c1');
  const files = table({ 'a.bin': randomBytes(50_000), 'b.bin': randomBytes(3) });
  const r1 = await fetchDataset('mnist', { cacheDir, baseUrl: `${base()}/ok`, files });
  assert.deepEqual(r1.files.map((f) => f.status), ['downloaded', 'downloaded']);
  assert.equal(sha(readFileSync(join(cacheDir, 'mnist', 'a.bin'))), files[0]!.sha256);
  const before = requests.length;
  const r2 = await fetchDataset('mnist', { cacheDir, baseUrl: `${base()}/ok`, files });
  assert.deepEqual(r2.files.map((f) => f.status), ['present', 'present']);
  assert.equal(requests.length, before, 'no request for files already verified');
  assert.deepEqual(readdirSync(join(cacheDir, 'mnist')).sort(), ['a.bin', 'b.bin']);
});

test('a truncated response keeps .part (never the final name) and the next run resumes with a Range request', async () => {
  const cacheDir = join(dir, 'c2');
  const body = randomBytes(200_000);
  const files = table({ 'big.bin': body });
  const dest = join(cacheDir, 'mnist', 'big.bin');
  await assert.rejects(fetchDataset('mnist', { cacheDir, baseUrl: `${base()}/trunc`, files }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /stopped at \d+ of 200000 bytes/);
    assert.match(e.message, /run the same command again to resume/);
    return true;
  });
  assert.equal(existsSync(dest), false);
  const partSize = statSync(`${dest}.part`).size;
  // the server wrote half (100,000 bytes) before dropping the connection; the client may have received less
  assert.ok(partSize > 0 && partSize <= 100_000, `part ${partSize}`);
  const r = await fetchDataset('mnist', { cacheDir, baseUrl: `${base()}/ok`, files });
  assert.equal(r.files[0]!.status, 'resumed');
  assert.equal(requests.at(-1)!.range, `bytes=${partSize}-`);
  assert.ok(readFileSync(dest).equals(body));
  assert.equal(existsSync(`${dest}.part`), false);
});

test('a server that ignores Range restarts the download cleanly', async () => {
  const cacheDir = join(dir, 'c3');
  const body = randomBytes(60_000);
  const files = table({ 'n.bin': body });
  const dest = join(cacheDir, 'mnist', 'n.bin');
  await assert.rejects(fetchDataset('mnist', { cacheDir, baseUrl: `${base()}/trunc`, files }), UserError);
  assert.ok(existsSync(`${dest}.part`));
  const r = await fetchDataset('mnist', { cacheDir, baseUrl: `${base()}/norange`, files });
  assert.equal(r.files[0]!.status, 'downloaded');
  assert.ok(readFileSync(dest).equals(body));
});

test('a wrong checksum deletes the download; a corrupt existing file is replaced', async () => {
  const cacheDir = join(dir, 'c4');
  const body = randomBytes(10_000);
  const bad = table({ 'w.bin': body }, 'w.bin');
  const dest = join(cacheDir, 'mnist', 'w.bin');
  await assert.rejects(fetchDataset('mnist', { cacheDir, baseUrl: `${base()}/ok`, files: bad }), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.ok(e.message.includes('w.bin') && e.message.includes('does not match') && e.message.includes('deleted'));
    assert.ok(!e.message.includes('\n'));
    return true;
  });
  assert.equal(existsSync(dest), false);
  assert.equal(existsSync(`${dest}.part`), false);
  // a corrupt file under the final name (e.g. copied by hand) is re-downloaded, not trusted
  writeFileSync(dest, 'corrupt');
  const good = table({ 'w.bin': body });
  const r = await fetchDataset('mnist', { cacheDir, baseUrl: `${base()}/ok`, files: good });
  assert.equal(r.files[0]!.status, 'downloaded');
  assert.ok(readFileSync(dest).equals(body));
  // HTTP errors and unknown datasets are one-line user errors
  await assert.rejects(fetchDataset('mnist', { cacheDir: join(dir, 'c5'), baseUrl: `${base()}/missing`, files: good }), /HTTP 404/);
  await assert.rejects(fetchDataset('imagenet', { cacheDir }), /unknown dataset 'imagenet'/);
});

/** A ustar archive holding `files` (header checksum computed as POSIX specifies: header bytes summed, field as spaces). */
function tar(files: Record<string, Uint8Array>): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const [name, body] of Object.entries(files)) {
    const h = new Uint8Array(512);
    const put = (s: string, off: number): void => h.set(Buffer.from(s, 'utf8'), off);
    put(name, 0);
    put('0000644\0', 100);
    put('0000000\0', 108);
    put('0000000\0', 116);
    put(body.length.toString(8).padStart(11, '0') + '\0', 124);
    put('00000000000\0', 136);
    put('        ', 148);
    put('0', 156);
    put('ustar\x0000', 257);
    const sum = h.reduce((a, b) => a + b, 0);
    put(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, body, new Uint8Array((512 - (body.length % 512)) % 512));
  }
  blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}

test('cifar10 fetch unpacks the tarball so loadDataset finds the batches', async () => {
  const cacheDir = join(dir, 'c6');
  const rec = (n: number, label: number): Uint8Array => {
    const b = new Uint8Array(n * 3073);
    for (let i = 0; i < n; i++) b[i * 3073] = (label + i) % 10;
    return b;
  };
  const members: Record<string, Uint8Array> = { 'cifar-10-batches-bin/batches.meta.txt': Buffer.from('airplane\n') };
  for (let k = 1; k <= 5; k++) members[`cifar-10-batches-bin/data_batch_${k}.bin`] = rec(2, k);
  members['cifar-10-batches-bin/test_batch.bin'] = rec(1, 0);
  members['../evil.bin'] = rec(1, 0); // path traversal attempt: written under its base name only
  const files = table({ 'cifar-10-binary.tar.gz': gzipSync(tar(members)) });
  const r = await fetchDataset('cifar10', { cacheDir, baseUrl: `${base()}/ok`, files });
  assert.equal(r.extracted.length, 8);
  assert.equal(existsSync(join(cacheDir, 'evil.bin')), false);
  const ds = loadDatasetSync('cifar10', { cacheDir, useCache: false });
  assert.equal(ds.train.n, 10);
  assert.deepEqual(Array.from(ds.train.labels), [1, 2, 2, 3, 3, 4, 4, 5, 5, 6]);
  assert.equal(ds.test.n, 1);
  // a truncated archive is a one-line error
  const t = join(dir, 'trunc.tar.gz');
  writeFileSync(t, gzipSync(tar({ 'x.bin': new Uint8Array(2000) }).subarray(0, 1024)));
  assert.throws(() => extractTarGz(t, join(dir, 'xx'), () => true), /truncated tar archive/);
});
