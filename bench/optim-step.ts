/**
 * Optimizer-step benchmark: one step of SGD / SGDM on 10M float32 parameters, as GB/s of memory traffic,
 * against this machine's copy bandwidth (TypedArray.set = memcpy) and torch.optim.SGD on the same buffer size.
 * Traffic per element: SGD reads x, g and writes x (12 B); SGDM also reads and writes the buffer (20 B).
 * Run: npm run build && node dist/bench/optim-step.js [--n 10000000] [--reps 15]
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { initOptimizer, optimizerConfig, optimizerStep, type OptimizerConfig } from '../src/core/optim/index.js';
import { createWasmKernels } from '../src/node/kernels.js';
import { fastOptimizerStep } from '../src/core/engine/kernels/optimizer-step.js';
import { median } from '../src/core/util/stats.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const n = arg('n', 10_000_000);
const reps = arg('reps', 15);

function timeIt(fn: () => void): number {
  fn();
  fn();
  const t: number[] = [];
  for (let r = 0; r < reps; r++) {
    const s = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e9);
  }
  return median(t);
}

function mlStep(cfg: OptimizerConfig): number {
  const x = new Float32Array(n).map(() => Math.random());
  const g = new Float32Array(n).map(() => Math.random() * 1e-3);
  const s = initOptimizer(cfg, n, 'float32');
  return timeIt(() => optimizerStep(cfg, x, g, s));
}

const src = new Float32Array(n * 2).fill(1);
const dst = new Float32Array(n * 2);
const copySec = timeIt(() => dst.set(src));
const copyGBs = (2 * src.byteLength) / copySec / 1e9; // read + write

const rows: { what: string; sec: number; GBs: number }[] = [];
const sgdSec = mlStep(optimizerConfig({ form: 'sgd', lr: 1e-3 }));
rows.push({ what: 'momentum-lab SGD', sec: sgdSec, GBs: (12 * n) / sgdSec / 1e9 });
const sgdmSec = mlStep(optimizerConfig({ form: 'pytorch', lr: 1e-3, momentum: 0.9 }));
rows.push({ what: 'momentum-lab SGDM (pytorch form)', sec: sgdmSec, GBs: (20 * n) / sgdmSec / 1e9 });

// The engine's path: parameters, gradients and buffer in WebAssembly memory, heavy-ball step in SIMD (bit-identical).
{
  const kernels = await createWasmKernels({ threads: 1 });
  const x = kernels.alloc(n).map(() => Math.random());
  const g = kernels.alloc(n).map(() => Math.random() * 1e-3);
  const xs = kernels.alloc(n);
  xs.set(x);
  const gs = kernels.alloc(n);
  gs.set(g);
  const cfg = optimizerConfig({ form: 'pytorch', lr: 1e-3, momentum: 0.9 });
  const s = initOptimizer(cfg, n, 'float32');
  const sec = timeIt(() => fastOptimizerStep(kernels, cfg, xs, gs, s));
  rows.push({ what: `momentum-lab SGDM (${kernels.name})`, sec, GBs: (20 * n) / sec / 1e9 });
  kernels.dispose();
}

const torchRows: typeof rows = [];
let torchCopyGBs: number | null = null;
const script = join(process.cwd(), 'bench', 'optim_step_torch.py');
if (existsSync('/usr/bin/python3') && existsSync(script)) {
  for (const [label, mom, bytes] of [['torch SGD', 0, 12], ['torch SGDM', 0.9, 20]] as const) {
    const r = spawnSync('/usr/bin/python3', [script, String(n), String(reps), String(mom), '1'], {
      encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
    });
    if (r.status === 0) {
      const o = JSON.parse(r.stdout) as { medianSec: number; copyGBs: number };
      torchCopyGBs = Math.max(torchCopyGBs ?? 0, o.copyGBs);
      torchRows.push({ what: `${label} (1 thread)`, sec: o.medianSec, GBs: (bytes * n) / o.medianSec / 1e9 });
    } else {
      console.error(`torch peer failed: ${r.stderr.trim().split('\n').pop()}`);
    }
  }
} else {
  console.error('torch peer skipped: /usr/bin/python3 with python3-torch not found (apt-get install -y python3-torch)');
}
rows.push(...torchRows);

console.log(`optimizer step on ${n.toLocaleString()} float32 parameters (median of ${reps})`);
console.log(`copy bandwidth, read+write: ${copyGBs.toFixed(2)} GB/s (TypedArray.set), ${torchCopyGBs?.toFixed(2) ?? 'n/a'} GB/s (torch copy_)`);
console.log('(40-120 MB working sets: on machines with a large L3 these are cache, not DRAM, bandwidths)');
const bandwidth = Math.max(copyGBs, torchCopyGBs ?? 0);
for (const r of rows) {
  console.log(`${r.what.padEnd(36)} ${(r.sec * 1e3).toFixed(2).padStart(8)} ms  ${r.GBs.toFixed(2).padStart(6)} GB/s  ${((100 * r.GBs) / bandwidth).toFixed(0).padStart(4)}% of copy bandwidth`);
}
const t = (w: string): number | undefined => torchRows.find((r) => r.what.startsWith(w))?.sec;
const wasmSec = rows.find((r) => r.what.includes('wasm'))?.sec;
const ratio = {
  sgd: t('torch SGD ') !== undefined ? t('torch SGD ')! / sgdSec : null,
  sgdm: t('torch SGDM') !== undefined ? t('torch SGDM')! / sgdmSec : null,
  sgdmWasm: t('torch SGDM') !== undefined && wasmSec !== undefined ? t('torch SGDM')! / wasmSec : null,
};
console.log(`speed vs torch (torch time / ours): SGD ${ratio.sgd?.toFixed(2) ?? 'n/a'}×, SGDM ${ratio.sgdm?.toFixed(2) ?? 'n/a'}× (TypeScript loop), ${ratio.sgdmWasm?.toFixed(2) ?? 'n/a'}× (wasm kernel)`);
console.log(JSON.stringify({ n, copyGBs, torchCopyGBs, rows, ratioVsTorch: ratio }));
