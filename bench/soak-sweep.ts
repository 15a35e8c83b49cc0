/**
 * Crash-safety soak: a tuning sweep (8 tuning runs, then 2 final seeds of each setting's best lr, checkpoints every
 * 50 steps of 2000) is killed 50 times — SIGKILL and SIGINT at random moments, and SIGKILL exactly inside a results-store
 * commit and between a checkpoint's fsync and its rename (MOMENTUM_LAB_CRASH_AT, src/node/crash-points.ts) — and
 * started again each time. After every kill the store passes `PRAGMA integrity_check`; each time the sweep completes,
 * its store holds the same results, bit for bit, as an uninterrupted run, and its checkpoint folder is empty. A round
 * that completes starts again on a fresh store until the 50 kills are spent.
 * Run: npm run build && node dist/bench/soak-sweep.js [KILLS] [SEED]
 */
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResultsStore, runSweep, type SweepConfigInput } from '../src/experiments/index.js';
import { installNodeHost } from '../src/node/host.js';
import { Rng } from '../src/core/util/rng.js';

installNodeHost();

const kills = Number(process.argv[2] ?? 50);
const rng = new Rng(Number(process.argv[3] ?? 1));
const cli = join(import.meta.dirname, '..', 'src', 'cli', 'main.js');

const sweep: SweepConfigInput = {
  name: 'soak',
  task: 'synthetic',
  base: { steps: 2000, batchSize: 16, evalEvery: 50, checkpointEvery: 50, params: { train: 512, valid: 128, test: 128 } },
  // lr 3000 diverges: a diverged run is a result too, stored with its step.
  grid: { form: ['sgd', 'pytorch'], momentum: [0.9], lr: [0.01, 0.03, 0.1, 3000] },
  protocol: { tune: true, metric: 'valid/loss', finalSeeds: 2 },
};

type Kind = 'SIGKILL at random' | 'SIGINT at random' | 'SIGKILL in a store commit' | 'SIGKILL before a checkpoint rename';
const KINDS: Kind[] = ['SIGKILL at random', 'SIGINT at random', 'SIGKILL in a store commit', 'SIGKILL before a checkpoint rename', 'SIGKILL at random'];

const dir = mkdtempSync(join(tmpdir(), 'ml-soak-'));
const cfg = join(dir, 'sweep.json');
writeFileSync(cfg, JSON.stringify(sweep));

const t0 = performance.now();
const refDb = join(dir, 'ref.db');
await runSweep(sweep, { db: refDb, workers: 2, checkpointDir: join(dir, 'ref.ckpt') });
const lines = (db: string): string[] => {
  const s = new ResultsStore(db, { readonly: true });
  try { return s.resultLines(); } finally { s.close(); }
};
const reference = lines(refDb);
const refSeconds = (performance.now() - t0) / 1000;
console.log(`uninterrupted reference: ${reference.length} result lines in ${refSeconds.toFixed(1)} s`);

/** Starts the sweep; resolves with how it ended. `kind` null: run to completion. */
function attempt(db: string, kind: Kind | null): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A crash point is reached the N-th time: 1–3 commits (one per finished run) or 1–40 renames (one per checkpoint).
  if (kind === 'SIGKILL in a store commit') env.MOMENTUM_LAB_CRASH_AT = `store-commit:${1 + rng.int(3)}`;
  if (kind === 'SIGKILL before a checkpoint rename') env.MOMENTUM_LAB_CRASH_AT = `atomic-rename:${1 + rng.int(40)}`;
  const child = spawn(process.execPath, [cli, 'sweep', cfg, '--db', db, '--workers', '2', '--quiet'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (b) => { err += b; });
  if (kind === 'SIGKILL at random' || kind === 'SIGINT at random') {
    const signal = kind === 'SIGKILL at random' ? 'SIGKILL' : 'SIGINT';
    setTimeout(() => child.kill(signal), 300 + rng.int(2500));
  }
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, err })));
}

function integrity(db: string): string {
  if (!existsSync(db)) return 'no store yet';
  const d = new Database(db, { fileMustExist: true });
  try { return String(d.pragma('integrity_check', { simple: true })); } finally { d.close(); }
}

const landed: Record<string, number> = {};
let delivered = 0, integrityOk = 0, noStore = 0, rounds = 0, identical = 0, cleanCheckpoints = 0, attempts = 0;
let db = '';
const newRound = (): void => {
  db = join(dir, `soak-${rounds}.db`);
};
newRound();
while (delivered < kills) {
  const kind = KINDS[delivered % KINDS.length]!;
  const r = await attempt(db, kind);
  attempts++;
  if (r.code === 0) {
    // The sweep completed before the kill: the round ends here.
    rounds++;
    if (JSON.stringify(lines(db)) === JSON.stringify(reference)) identical++;
    else console.log(`round ${rounds}: store differs from the uninterrupted run`);
    const left = readdirSync(`${db}.ckpt`);
    if (left.length === 0) cleanCheckpoints++;
    else console.log(`round ${rounds}: checkpoint folder not empty: ${left.join(' ')}`);
    newRound();
    continue;
  }
  if (r.signal === null) {
    console.log(`attempt ${attempts} (${kind}) exited with code ${r.code}: ${r.err.trim().split('\n')[0]}`);
    continue;
  }
  delivered++;
  landed[kind] = (landed[kind] ?? 0) + 1;
  const check = integrity(db);
  if (check === 'ok') integrityOk++;
  else if (check === 'no store yet') noStore++;
  else console.log(`kill ${delivered} (${kind}): integrity_check says ${check}`);
  if (delivered % 10 === 0) console.log(`${delivered}/${kills} kills, ${rounds} rounds completed, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
// Finish the last round without a kill.
const last = await attempt(db, null);
if (last.code === 0) {
  rounds++;
  if (JSON.stringify(lines(db)) === JSON.stringify(reference)) identical++;
  if (readdirSync(`${db}.ckpt`).length === 0) cleanCheckpoints++;
} else {
  console.log(`final run exited with code ${last.code}: ${last.err.trim().split('\n')[0]}`);
}

console.log('\nkills by kind:');
for (const k of new Set(KINDS)) console.log(`  ${k}: ${landed[k] ?? 0}`);
console.log(`kills: ${delivered} in ${attempts} attempts`);
console.log(`integrity_check ok after ${integrityOk} of ${delivered - noStore} kills (${noStore} kills came before the store existed)`);
console.log(`rounds completed: ${rounds}; stores identical to the uninterrupted run: ${identical} of ${rounds}; checkpoint folders empty: ${cleanCheckpoints} of ${rounds}`);
console.log(`wall time ${((performance.now() - t0) / 1000).toFixed(0)} s`);
rmSync(dir, { recursive: true, force: true });
process.exitCode = integrityOk === delivered - noStore && identical === rounds && cleanCheckpoints === rounds && rounds > 0 ? 0 : 1;
