/** The lab's static server (src/node/lab-server.ts): isolation headers, MIME types, no path escape, a busy port. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serveLab } from '../../src/node/lab-server.js';
import { UserError } from '../../src/core/util/errors.js';
import { tempDir } from '../experiments/helpers.js';

test('lab server: COOP/COEP on every file, wasm as application/wasm, nothing outside its folder, busy port named', async () => {
  const root = tempDir('lab-serve');
  const dir = join(root, 'site');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
  writeFileSync(join(dir, 'assets', 'k.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(root, 'secret.txt'), 'no');
  const { server, url } = await serveLab({ port: 0, dir });
  try {
    const index = await fetch(url);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(index.headers.get('cross-origin-embedder-policy'), 'require-corp');
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    const wasm = await fetch(`${url}assets/k.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.deepEqual([...new Uint8Array(await wasm.arrayBuffer())], [0, 97, 115, 109]);
    assert.equal((await fetch(`${url}missing.js`)).status, 404);
    // fetch normalises "..", so the escape is spelled percent-encoded.
    assert.notEqual((await fetch(`${url}%2e%2e/secret.txt`)).status, 200);
    // An encoded slash survives URL parsing and decodes to /../secret.txt: refused.
    assert.equal((await fetch(`${url}%2e%2e%2fsecret.txt`)).status, 403);
    // A malformed escape is a bad request, not a crash: the server still answers afterwards.
    assert.equal((await fetch(`${url}%E0%A4%A`)).status, 400);
    assert.equal((await fetch(url)).status, 200);
    const port = Number(new URL(url).port);
    await assert.rejects(serveLab({ port, dir }), (e: unknown) => e instanceof UserError && /port \d+ is in use \(pick another with --port N\)/.test(e.message));
  } finally {
    server.close();
  }
});
