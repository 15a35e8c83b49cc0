/**
 * One sweep served by two workers on two "hosts": each worker runs in its own network namespace (`ip netns`), joined
 * to this one by a veth pair on a private /30, and reaches Redis only through that link with a password — its
 * 127.0.0.1 is its own. The coordinator runs here. The store must equal the same sweep run locally, bit for bit,
 * and both workers must have trained runs. Needs root (network namespaces); cleans up after itself.
 * Run: npm run build && sudo node dist/bench/queue-multihost.js
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsStore, runSweep, type SweepConfigInput } from '../src/experiments/index.js';
import { installNodeHost } from '../src/node/host.js';

installNodeHost();

const sweep: SweepConfigInput = {
  name: 'multihost',
  task: 'train',
  base: { batchSize: 128, evalEvery: 50, params: { dataset: 'mnist', model: 'mlp', epochs: 2, validation: 1000 } },
  grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.05, 0.1, 0.2, 0.4] },
};
const cli = join(import.meta.dirname, '..', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'ml-multihost-'));
const password = 'bench-secret';
const port = 16379;
const hosts = [{ ns: 'mlq-a', host: '10.231.1.1', peer: '10.231.1.2' }, { ns: 'mlq-b', host: '10.231.2.1', peer: '10.231.2.2' }];

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}
function cleanup(): void {
  for (const h of hosts) {
    spawnSync('ip', ['netns', 'del', h.ns]);
    spawnSync('ip', ['link', 'del', `${h.ns}-h`]);
  }
}
const lines = (db: string): string[] => {
  const s = new ResultsStore(db, { readonly: true });
  try { return s.resultLines(); } finally { s.close(); }
};

cleanup();
const procs: ChildProcess[] = [];
try {
  for (const h of hosts) {
    ip('netns', 'add', h.ns);
    ip('link', 'add', `${h.ns}-h`, 'type', 'veth', 'peer', 'name', `${h.ns}-n`);
    ip('link', 'set', `${h.ns}-n`, 'netns', h.ns);
    ip('addr', 'add', `${h.host}/30`, 'dev', `${h.ns}-h`);
    ip('link', 'set', `${h.ns}-h`, 'up');
    ip('-n', h.ns, 'addr', 'add', `${h.peer}/30`, 'dev', `${h.ns}-n`);
    ip('-n', h.ns, 'link', 'set', `${h.ns}-n`, 'up');
    ip('-n', h.ns, 'link', 'set', 'lo', 'up');
  }
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', ...hosts.map((h) => h.host), '--requirepass', password, '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  procs.push(redis);
  await new Promise((r) => setTimeout(r, 500));

  // Inside a namespace, 127.0.0.1 is that namespace's own loopback: Redis is reachable only over the veth link.
  const probe = spawnSync('ip', ['netns', 'exec', hosts[0]!.ns, 'redis-cli', '-p', String(port), '-a', password, '--no-auth-warning', 'ping'], { encoding: 'utf8' });
  console.log(`from ${hosts[0]!.ns}, 127.0.0.1:${port} answers: ${JSON.stringify((probe.stdout + probe.stderr).trim())}`);
  const probe2 = spawnSync('ip', ['netns', 'exec', hosts[0]!.ns, 'redis-cli', '-h', hosts[0]!.host, '-p', String(port), '-a', password, '--no-auth-warning', 'ping'], { encoding: 'utf8' });
  console.log(`from ${hosts[0]!.ns}, ${hosts[0]!.host}:${port} answers: ${JSON.stringify(probe2.stdout.trim())}`);

  const logs = hosts.map(() => '');
  hosts.forEach((h, i) => {
    const w = spawn('ip', ['netns', 'exec', h.ns, process.execPath, cli, 'worker', '--queue', `redis://:${password}@${h.host}:${port}`, '--checkpoint-dir', join(dir, `${h.ns}.ckpt`)], { stdio: ['ignore', 'ignore', 'pipe'] });
    w.stderr!.on('data', (b) => { logs[i] += b; });
    procs.push(w);
  });

  const localDb = join(dir, 'local.db');
  await runSweep(sweep, { db: localDb, workers: 2 });
  const db = join(dir, 'queued.db');
  const t0 = performance.now();
  const r = await runSweep(sweep, { db, queue: `redis://:${password}@127.0.0.1:${port}` });
  const sec = (performance.now() - t0) / 1000;
  const same = JSON.stringify(lines(db)) === JSON.stringify(lines(localDb));
  const done = logs.map((l) => (l.match(/worker: done /g) ?? []).length);
  console.log(`${r.runs.length} runs in ${sec.toFixed(1)} s; runs trained per namespace: ${hosts.map((h, i) => `${h.ns} ${done[i]}`).join(', ')}`);
  console.log(`store equal to the local sweep's, bit for bit: ${same ? 'yes' : 'NO'}`);
  process.exitCode = same && done.every((d) => d > 0) ? 0 : 1;
} finally {
  for (const p of procs) p.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 300));
  cleanup();
  rmSync(dir, { recursive: true, force: true });
}
