/**
 * momentum-lab vs PyTorch training throughput on the same MLP (784-256-256-10) and CNN (conv 32 → conv 64 → dense 128), batch 128,
 * SGD momentum 0.9, random data, measured in ONE run so the ratio is meaningful on a noisy machine.
 *
 *   npm run build && node dist/bench/train-vs-pytorch.js [--rounds 5] [--mlp-steps 200] [--cnn-steps 30] [--json]
 *     [--no-native] [--keep-openblas-env]
 *
 * momentum-lab runs twice per round: on its default WebAssembly kernels, and with MOMENTUM_LAB_KERNELS=native (GEMM
 * on the system BLAS, src/node/native-kernels.ts) unless --no-native or the native path is not built. Both engines
 * run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from their environment (unless --keep-openblas-env), so
 * OpenBLAS picks its kernels for this CPU in PyTorch and in the native path alike. Each row reports the median,
 * min and max over the rounds.
 *
 * Each measurement is a fresh process (`momentum-lab bench train`, or bench/train_pytorch.py under Debian's
 * /usr/bin/python3), rounds interleave the engines, and the median of the rounds is reported. PyTorch thread
 * settings follow docs/benchmarks.md: 2 threads with OMP_WAIT_POLICY=PASSIVE; 1 thread with
 * OPENBLAS_NUM_THREADS=1 and torch.set_num_threads(1). Also reports the peak RSS of a short Fashion-MNIST CNN
 * training run (`momentum-lab train`), which includes the dataset in memory.
 *
 * Debian's torch calls whatever libblas.so.3 the system selects: with only libblas3 installed that is the reference
 * BLAS (~3.5 GFLOP/s), not OpenBLAS as in docs/benchmarks.md. `--torch-blas-dir DIR` puts DIR first on the PyTorch
 * processes' LD_LIBRARY_PATH without changing the system, e.g. after
 *   dpkg -x /var/cache/apt/archives/libopenblas0-pthread_*.deb /tmp/ob
 *   node dist/bench/train-vs-pytorch.js --torch-blas-dir /tmp/ob/usr/lib/x86_64-linux-gnu/openblas-pthread
 * (or `apt-get install -y libopenblas0-pthread`, which switches the system-wide libblas.so.3).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../src/node/package-root.js';
import { median } from '../src/core/util/stats.js';

const root = packageRoot();
const cli = join(root, 'dist', 'src', 'cli', 'main.js');
const argv = process.argv.slice(2);
const opt = (name: string, d: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : d;
};
const rounds = opt('rounds', 5), mlpSteps = opt('mlp-steps', 200), cnnSteps = opt('cnn-steps', 30), batch = opt('batch', 128);
const asJson = argv.includes('--json');
const blasDirAt = argv.indexOf('--torch-blas-dir');
const torchEnv: Record<string, string> = blasDirAt >= 0
  ? { LD_LIBRARY_PATH: [argv[blasDirAt + 1]!, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') }
  : {};

const baseEnv: NodeJS.ProcessEnv = { ...process.env };
if (!argv.includes('--keep-openblas-env')) { delete baseEnv['OPENBLAS_CORETYPE']; delete baseEnv['OPENBLAS_L2_SIZE']; }
const engines: Array<{ label: string; env: Record<string, string> }> = [{ label: 'momentum-lab', env: { MOMENTUM_LAB_KERNELS: 'auto' } }];
if (!argv.includes('--no-native')) engines.push({ label: 'momentum-lab-native', env: { MOMENTUM_LAB_KERNELS: 'native' } });

function json(cmd: string, args: string[], env: Record<string, string> = {}): Record<string, unknown> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...baseEnv, ...env }, cwd: root, maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}

const stats = (xs: number[]): { median: number; min: number; max: number } => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

type Key = string;
const samples = new Map<Key, number[]>();
const push = (k: Key, v: number): void => { samples.set(k, [...(samples.get(k) ?? []), v]); };
const kernels = new Set<string>();
let torchVersion = '', blas: unknown = null;

for (let r = 0; r < rounds; r++) {
  for (const model of ['mlp', 'cnn']) {
    const steps = String(model === 'mlp' ? mlpSteps : cnnSteps);
    for (const threads of [2, 1]) {
      for (const e of engines) {
        const ml = json(process.execPath, [cli, 'bench', 'train', '--model', model, '--batch', String(batch), '--steps', steps, '--threads', String(threads), '--json'], e.env);
        kernels.add(String(ml.kernels));
        push(`${e.label} ${model} ${threads}t`, ml.samplesPerSec as number);
      }
      const env: Record<string, string> = threads === 1
        ? { ...torchEnv, OMP_WAIT_POLICY: 'PASSIVE', OPENBLAS_NUM_THREADS: '1', OMP_NUM_THREADS: '1' }
        : { ...torchEnv, OMP_WAIT_POLICY: 'PASSIVE' };
      const pt = json('/usr/bin/python3', [join(root, 'bench', 'train_pytorch.py'), '--model', model, '--batch', String(batch), '--steps', steps, '--threads', String(threads)], env);
      torchVersion = String(pt.torch);
      blas = pt.blas;
      push(`pytorch ${model} ${threads}t`, pt.samplesPerSec as number);
    }
  }
}

type Stats = ReturnType<typeof stats>;
const rows: { engine: string; model: string; threads: number; momentumLab: Stats; pytorch: Stats; ratio: number }[] = [];
for (const e of engines) for (const model of ['mlp', 'cnn']) for (const threads of [2, 1]) {
  const a = stats(samples.get(`${e.label} ${model} ${threads}t`)!), b = stats(samples.get(`pytorch ${model} ${threads}t`)!);
  rows.push({ engine: e.label, model, threads, momentumLab: a, pytorch: b, ratio: a.median / b.median });
}

// Peak memory of a real training run (dataset loaded, CNN, 50 steps + evaluation on the test split).
let rss: Record<string, unknown> | null = null;
try {
  const t = json(process.execPath, [cli, 'train', '--dataset', 'fashion-mnist', '--model', 'cnn', '--lr', '0.05', '--max-steps', '50', '--json']);
  rss = { model: 'cnn', dataset: 'fashion-mnist', steps: 50, peakRssBytes: t.peakRssBytes };
} catch (e) {
  rss = { error: String((e as Error).message).split('\n')[0] };
}

const result = { batch, rounds, mlpSteps, cnnSteps, kernels: [...kernels], torch: torchVersion, torchBlas: blas, rows, trainingRunPeakRss: rss, raw: Object.fromEntries(samples) };
if (asJson) {
  process.stdout.write(JSON.stringify(result) + '\n');
} else {
  process.stdout.write(`momentum-lab (${[...kernels].join(', ')}) vs PyTorch ${torchVersion} (BLAS: ${JSON.stringify(blas)}), batch ${batch}, median of ${rounds} rounds\n`);
  if (JSON.stringify(blas).includes('/blas/libblas')) process.stdout.write('WARNING: PyTorch is using the reference BLAS (libblas3); install libopenblas0-pthread for the baseline of docs/benchmarks.md\n');
  process.stdout.write(`OPENBLAS_CORETYPE=${baseEnv['OPENBLAS_CORETYPE'] ?? '(unset)'} OPENBLAS_L2_SIZE=${baseEnv['OPENBLAS_L2_SIZE'] ?? '(unset)'} for both engines\n`);
  process.stdout.write('engine               model  threads  momentum-lab samples/s median [min–max]  PyTorch samples/s median [min–max]  ratio of medians\n');
  const cell = (x: Stats, w: number): string => `${x.median.toFixed(0)} [${x.min.toFixed(0)}–${x.max.toFixed(0)}]`.padStart(w);
  for (const r of rows) {
    process.stdout.write(`${r.engine.padEnd(20)} ${r.model.padEnd(6)} ${String(r.threads).padStart(7)}  ${cell(r.momentumLab, 39)}  ${cell(r.pytorch, 34)}  ${r.ratio.toFixed(2)}×\n`);
  }
  if (rss !== null && 'peakRssBytes' in rss) process.stdout.write(`peak RSS of a Fashion-MNIST CNN training run (50 steps + test eval): ${((rss.peakRssBytes as number) / 2 ** 20).toFixed(0)} MiB\n`);
}
