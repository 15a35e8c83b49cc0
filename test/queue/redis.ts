/**
 * A private redis-server for a test: 127.0.0.1 on a free port, no persistence, stopped by `stop()`. A machine without
 * redis-server fails the test that asks for one (scripts/setup-debian.sh installs it); nothing is skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

export interface RedisServer { url: string; port: number; process: ChildProcess; stop(): Promise<void>; restart(): Promise<void> }

const BIN = '/usr/bin/redis-server';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function launch(port: number): Promise<ChildProcess> {
  const p = spawn(BIN, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'yes'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server on port ${port} did not start within 10 s: ${out}`)), 10_000);
    p.stdout!.on('data', (b) => {
      out += b;
      if (out.includes('Ready to accept connections')) { clearTimeout(timer); resolve(p); }
    });
    p.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with code ${code}: ${out}`)); });
  });
}

const stopped = (p: ChildProcess): Promise<void> => new Promise((resolve) => {
  if (p.exitCode !== null || p.signalCode !== null) resolve();
  else { p.once('exit', () => resolve()); p.kill('SIGKILL'); }
});

export async function startRedis(): Promise<RedisServer> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run scripts/setup-debian.sh (it installs redis-server)`);
  const port = await freePort();
  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: await launch(port),
    stop: () => stopped(server.process),
    async restart() {
      await stopped(server.process);
      server.process = await launch(port);
    },
  };
  return server;
}
