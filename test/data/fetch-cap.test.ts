/**
 * downloadVerified stops at the expected size: a server that announces or sends more is cut off there, the partial
 * file is deleted, and the error is one line naming the URL and both sizes. Served from 127.0.0.1 only.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadVerified } from '../../src/node/data/fetch.js';
import { UserError } from '../../src/core/util/errors.js';
import { serveOnLoopback } from './loopback.js';

const dir = mkdtempSync(join(tmpdir(), 'ml-fetch-cap-'));
const body = Buffer.alloc(1000, 7);
const sha = createHash('sha256').update(body).digest('hex');
let streamed = 0;

/** Writes 64 KiB chunks until the client goes away (at most 64 MiB), counting what was sent. */
function endless(res: ServerResponse): void {
  const chunk = Buffer.alloc(1 << 16, 1);
  const pump = (): void => {
    while (!res.destroyed && streamed < 64 << 20) {
      streamed += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

// /exact: the 1000-byte body; /long: announces and sends 1001 bytes; /endless: no Content-Length, never ends;
// /range: answers a Range request with a 206 of 2000 bytes.
const server: Server = createServer((req, res) => {
  res.on('error', () => {});
  switch (req.url) {
    case '/exact': res.writeHead(200, { 'Content-Length': body.length }).end(body); return;
    case '/long': res.writeHead(200, { 'Content-Length': body.length + 1 }).end(Buffer.concat([body, Buffer.of(0)])); return;
    case '/endless': res.writeHead(200); endless(res); return;
    case '/range': res.writeHead(206, { 'Content-Range': 'bytes 500-2499/2500', 'Content-Length': 2000 }).end(Buffer.alloc(2000)); return;
    default: res.writeHead(404).end();
  }
});
const base = serveOnLoopback(server, () => rmSync(dir, { recursive: true, force: true }));

async function refused(url: string, dest: string, message: string): Promise<void> {
  await assert.rejects(downloadVerified(url, dest, sha, body.length), (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.equal(e.message, message);
    return true;
  });
  assert.ok(!existsSync(dest), 'nothing under the final name');
  assert.ok(!existsSync(`${dest}.part`), 'no partial file');
}

test('a body of exactly the expected size is downloaded and verified', async () => {
  const dest = join(dir, 'exact.bin');
  assert.equal(await downloadVerified(`${base()}/exact`, dest, sha, body.length), 'downloaded');
  assert.deepEqual(readFileSync(dest), body);
});

test('one byte more than expected, announced by Content-Length, is refused before anything is written', async () => {
  await refused(`${base()}/long`, join(dir, 'long.bin'),
    `download of ${base()}/long is larger than the expected 1000 bytes (the server announced 1001 bytes); the partial file was deleted`);
});

test('a body without Content-Length is cut off at the expected size, not read to the end', async () => {
  streamed = 0;
  await refused(`${base()}/endless`, join(dir, 'endless.bin'),
    `download of ${base()}/endless is larger than the expected 1000 bytes (the server sent more than 1000 bytes); the partial file was deleted`);
  // The server stops when the client hangs up: far less than its 64 MiB limit went out.
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(streamed < 16 << 20, `server sent ${streamed} bytes`);
});

test('a resumed download whose rest would pass the expected size is refused and its partial file deleted', async () => {
  const dest = join(dir, 'range.bin');
  writeFileSync(`${dest}.part`, body.subarray(0, 500));
  // 500 bytes kept + 2000 announced = 2500 > 1000.
  await refused(`${base()}/range`, dest,
    `download of ${base()}/range is larger than the expected 1000 bytes (the server announced 2500 bytes); the partial file was deleted`);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('range')), []);
});
