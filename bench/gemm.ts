/**
 * GEMM throughput of the WebAssembly kernels, the native BLAS path (src/node/native-kernels.ts, when built) and
 * PyTorch's torch.mm on the same shapes, in one run.
 *
 *   npm run build && node dist/bench/gemm.js [--threads N] [--min-ms 40] [--no-torch] [--cpu-time] [--torch-ld-path DIR] [--json]
 *     [--keep-openblas-env]
 *
 * OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed from the environment of both engines (this process, before
 * the native BLAS loads, and torch's) unless --keep-openblas-env: both then run OpenBLAS's kernels for this CPU.
 *
 * Shapes are the MLP's (784-256-256-10, batch 128) three GEMMs of its first layer plus docs/benchmarks.md's
 * 256×784·784×256, the CNN's per-image conv GEMMs (conv2: 64 channels over 13×13 → 11×11, k = 32·3·3), and a
 * 1024³ product whose OpenBLAS rate stands for the core's attainable peak.
 * Each figure is the best of 5 timing windows of ≥ min-ms, in GFLOP/s = 2·M·N·K / seconds / 1e9.
 * PyTorch runs under /usr/bin/python3 (Debian's python3-torch) with OMP_WAIT_POLICY=PASSIVE, at 1 thread
 * (OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1, torch.set_num_threads(1)) and at N threads; the BLAS library torch
 * actually loaded is printed, because Debian's torch uses whatever libblas.so.3 points to (reference BLAS unless
 * libopenblas0 is installed) and that changes its speed several-fold.
 * --cpu-time times the 1-thread columns (ours and torch's) by process CPU time instead of wall time, which stays
 * meaningful while other work shares the machine; N-thread columns are always wall time.
 * --torch-ld-path DIR puts DIR first on torch's LD_LIBRARY_PATH, e.g. an unpacked libopenblas0-pthread
 * (`apt-get download libopenblas0-pthread && dpkg-deb -x *.deb root` → root/usr/lib/x86_64-linux-gnu/openblas-pthread)
 * to time torch on OpenBLAS, as docs/benchmarks.md describes, without changing the system's libblas.so.3.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { WasmVariant } from '../src/core/engine/kernels/wasm.js';
import type { Kernels } from '../src/core/engine/kernels/api.js';
import { createWasmKernels, relaxedSimdSupported } from '../src/node/kernels.js';
import { createNativeKernels, openNativeBlas } from '../src/node/native-kernels.js';
import { packageRoot } from '../src/node/package-root.js';

interface Shape { label: string; ta: boolean; tb: boolean; M: number; N: number; K: number }

const SHAPES: Shape[] = [
  { label: 'mlp fwd  X·Wᵀ', ta: false, tb: true, M: 128, N: 256, K: 784 },
  { label: 'mlp dW   dYᵀ·X', ta: true, tb: false, M: 256, N: 784, K: 128 },
  { label: 'mlp dX   dY·W', ta: false, tb: false, M: 128, N: 784, K: 256 },
  { label: 'square   256×784·784×256', ta: false, tb: false, M: 256, N: 256, K: 784 },
  { label: 'conv2 fwd W·cols', ta: false, tb: false, M: 64, N: 121, K: 288 },
  { label: 'conv2 dW  dY·colsᵀ', ta: false, tb: true, M: 64, N: 288, K: 121 },
  { label: 'conv2 dX  Wᵀ·dY', ta: true, tb: false, M: 288, N: 121, K: 64 },
  { label: 'conv1 fwd W·cols', ta: false, tb: false, M: 32, N: 676, K: 9 },
  // Large enough for OpenBLAS to run at its best: its rate here is the core's attainable peak that the rows above
  // are read against.
  { label: 'peak     1024³', ta: false, tb: false, M: 1024, N: 1024, K: 1024 },
];

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const threads = Number(argValue('--threads') ?? availableParallelism());
const minMs = Number(argValue('--min-ms') ?? 40);
const json = process.argv.includes('--json');
const withTorch = !process.argv.includes('--no-torch');
const cpuTime = process.argv.includes('--cpu-time');
const torchLdPath = argValue('--torch-ld-path');
if (!process.argv.includes('--keep-openblas-env')) { delete process.env['OPENBLAS_CORETYPE']; delete process.env['OPENBLAS_L2_SIZE']; }

/** Milliseconds since `t0` by the chosen clock (CPU time only for one thread). */
function clock(useCpu: boolean): () => number {
  if (!useCpu) { const t0 = performance.now(); return () => performance.now() - t0; }
  const c0 = process.cpuUsage();
  return () => { const d = process.cpuUsage(c0); return (d.user + d.system) / 1e3; };
}

async function wasmColumn(variant: WasmVariant, t: number): Promise<{ name: string; gflops: number[] }> {
  return timeColumn(await createWasmKernels({ threads: t, variant }), t);
}

/** GEMM on the native BLAS for every shape (minNativeWork 0), over a 1-thread WebAssembly set. */
async function nativeColumn(t: number): Promise<{ name: string; gflops: number[] } | string> {
  const blas = openNativeBlas();
  if ('reason' in blas) return blas.reason;
  return timeColumn(createNativeKernels(await createWasmKernels({ threads: 1 }), blas, { threads: t, minNativeWork: 0 }), t);
}

async function timeColumn(k: Kernels, t: number): Promise<{ name: string; gflops: number[] }> {
  try {
    const gflops: number[] = [];
    for (const s of SHAPES) {
      const A = k.alloc(s.M * s.K), B = k.alloc(s.K * s.N), C = k.alloc(s.M * s.N);
      for (let i = 0; i < A.length; i++) A[i] = Math.sin(i);
      for (let i = 0; i < B.length; i++) B[i] = Math.cos(i);
      for (let w = 0; w < 20; w++) k.gemm(s.ta, s.tb, s.M, s.N, s.K, A, B, C, false); // tier-up to TurboFan
      let best = Infinity;
      for (let r = 0; r < 5; r++) {
        let n = 0;
        const elapsed = clock(cpuTime && t === 1);
        do { k.gemm(s.ta, s.tb, s.M, s.N, s.K, A, B, C, false); n++; } while (elapsed() < minMs);
        best = Math.min(best, elapsed() / 1e3 / n);
      }
      gflops.push((2 * s.M * s.N * s.K) / best / 1e9);
    }
    return { name: k.name.split('+')[0]!, gflops };
  } finally {
    k.dispose();
  }
}

function torchColumn(t: number): { name: string; gflops: number[]; blas: string } | { name: string; error: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' };
  if (torchLdPath !== undefined) env['LD_LIBRARY_PATH'] = [torchLdPath, process.env['LD_LIBRARY_PATH']].filter(Boolean).join(':');
  if (t === 1) { env['OPENBLAS_NUM_THREADS'] = '1'; env['OMP_NUM_THREADS'] = '1'; }
  const shapes = JSON.stringify(SHAPES.map((s) => [s.ta, s.tb, s.M, s.N, s.K]));
  const r = spawnSync('/usr/bin/python3', [join(packageRoot(), 'bench', 'gemm_torch.py'), String(t), shapes, String(minMs / 1e3),
    cpuTime && t === 1 ? 'cpu' : 'wall'],
    { env, encoding: 'utf8' });
  const name = `torch-${t}t`;
  if (r.status !== 0) return { name, error: (r.stderr || String(r.error ?? 'failed')).trim().split('\n').pop() ?? 'failed' };
  const o = JSON.parse(r.stdout) as { torch: string; blas: string; gflops: number[] };
  return { name: `torch ${o.torch} ${t}t`, gflops: o.gflops, blas: o.blas };
}

const columns: Array<{ name: string; gflops: number[] }> = [];
const notes: string[] = [];
// createWasmKernels turns on V8's relaxed-SIMD flag itself on Node 20 (enableRelaxedSimdFlag defaults to true).
let relaxedOk = true;
try { (await createWasmKernels({ threads: 1, variant: 'relaxed' })).dispose(); } catch { relaxedOk = false; }
const variants: WasmVariant[] = relaxedOk ? ['simd', 'relaxed'] : ['simd'];
if (!relaxedOk) notes.push(`relaxed-SIMD unavailable on this runtime (relaxedSimdSupported: ${relaxedSimdSupported()})`);
const threadCounts = threads > 1 ? [1, threads] : [1];
for (const v of variants) for (const t of threadCounts) columns.push(await wasmColumn(v, t));
for (const t of threadCounts) {
  const c = await nativeColumn(t);
  if (typeof c === 'string') { notes.push(`native BLAS path: ${c}`); break; }
  columns.push(c);
}
const nativeBlas = openNativeBlas();
if (!('reason' in nativeBlas)) notes.push(`native BLAS: ${nativeBlas.path} (${nativeBlas.config || 'no config string'})`);
notes.push(`OPENBLAS_CORETYPE=${process.env['OPENBLAS_CORETYPE'] ?? '(unset)'} OPENBLAS_L2_SIZE=${process.env['OPENBLAS_L2_SIZE'] ?? '(unset)'}`);
const wasmCount = columns.length;
if (withTorch) {
  for (const t of threadCounts) {
    const c = torchColumn(t);
    if ('error' in c) notes.push(`${c.name}: ${c.error}`);
    else { columns.push(c); notes.push(`${c.name} BLAS: ${c.blas}`); }
  }
}

// Ratios: the best wasm build, and the native path, at 1 thread vs torch at 1 thread, and at N threads vs torch at N.
const ratios: Array<{ name: string; values: number[] }> = [];
for (const t of threadCounts) {
  const torch = columns.slice(wasmCount).find((c) => c.name.endsWith(` ${t}t`));
  const ours = columns.slice(0, wasmCount).filter((c) => c.name.startsWith('wasm') && c.name.endsWith(`-${t}t`));
  const native = columns.slice(0, wasmCount).find((c) => c.name.startsWith('native-') && c.name.endsWith(`-${t}t`));
  if (torch === undefined) continue;
  for (const c of [ours[ours.length - 1], native]) {
    if (c !== undefined) ratios.push({ name: `${c.name}/torch-${t}t`, values: c.gflops.map((g, i) => g / torch.gflops[i]!) });
  }
}

if (json) {
  console.log(JSON.stringify({
    shapes: SHAPES, columns, ratios, notes, minMs, cpuTime, node: process.version,
  }));
} else {
  const w = 26;
  const head = ['shape'.padEnd(w), ...columns.map((c) => c.name.padStart(20)), ...ratios.map((r) => r.name.padStart(30))];
  console.log(`GEMM GFLOP/s (best of 5 × ≥${minMs} ms; 1-thread columns by ${cpuTime ? 'CPU' : 'wall'} time), node ${process.version}`);
  console.log(head.join(' '));
  SHAPES.forEach((s, i) => {
    const cells = [`${s.label} ${s.M}×${s.N}×${s.K}`.padEnd(w).slice(0, w),
      ...columns.map((c) => c.gflops[i]!.toFixed(1).padStart(20)),
      ...ratios.map((r) => `${r.values[i]!.toFixed(2)}×`.padStart(30))];
    console.log(cells.join(' '));
  });
  for (const n of notes) console.log(`note: ${n}`);
}
