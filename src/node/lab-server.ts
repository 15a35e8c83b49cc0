/**
 * A static file server for the built lab (dist/lab, `npm run build:lab`) on 127.0.0.1. It sends
 * Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, so the page is
 * cross-origin isolated and its training worker may share WebAssembly memory with helper threads.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { UserError } from '../core/util/errors.js';
import { packageRoot } from './package-root.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.bin': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
};

export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } as const;

/** The built page's folder; a one-line error when it has not been built. */
export function labDir(): string {
  const dir = join(packageRoot(), 'dist', 'lab');
  if (!existsSync(join(dir, 'index.html'))) throw new UserError(`the lab is not built: ${dir}/index.html missing (run \`npm run build:lab\`)`);
  return dir;
}

/** Serves `dir` on 127.0.0.1:port (0: any free port); resolves with the server and its URL once listening. */
export function serveLab(opts: { port: number; dir?: string; isolate?: boolean }): Promise<{ server: Server; url: string }> {
  const root = resolve(opts.dir ?? labDir());
  const isolate = opts.isolate ?? true;
  const server = createServer((req, res) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    let file = normalize(join(root, path));
    if (file !== root && !file.startsWith(root + sep)) { res.writeHead(403).end(); return; }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (!existsSync(file) || !statSync(file).isFile() || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache',
      ...(isolate ? ISOLATION_HEADERS : {}), 'Cross-Origin-Resource-Policy': 'same-origin',
    });
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' ? new UserError(`port ${opts.port} is in use (pick another with --port N)`, '--port') : e);
    });
    server.listen(opts.port, '127.0.0.1', () => {
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
      resolvePromise({ server, url: `http://127.0.0.1:${port}/` });
    });
  });
}
