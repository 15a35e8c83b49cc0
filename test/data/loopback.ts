/** A test's HTTP server on 127.0.0.1 (no other address is ever contacted), started before and closed after the file's tests. */
import { test } from 'node:test';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Registers the server's start and stop with the test runner; the returned function gives its base URL once started. */
export function serveOnLoopback(server: Server, cleanup: () => void): () => string {
  let base = '';
  test.before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  test.after(() => {
    server.close();
    cleanup();
  });
  return () => base;
}
