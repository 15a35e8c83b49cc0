/**
 * What the core needs from Node, installed once per thread by every Node entry point (CLI, experiment and
 * simulator workers, benchmarks, tests): the normals and float64 GEMM WebAssembly (build/normals.wasm,
 * build/gemm-f64.wasm), the simulator's helper threads and the reader of ONNX model files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useOnnxFileReader } from '../core/nn/families/index.js';
import { useNormalsWasm } from '../core/theory/normals.js';
import { useGemmF64Wasm } from '../core/engine/kernels/gemm-f64.js';
import { useSimulationThreads } from '../core/theory/simulate.js';
import { installEnvLimits } from './limits.js';
import { packageRoot } from './package-root.js';
import { readOnnxFile } from './onnx.js';
import { nodeSimulationThreads } from './sim-threads.js';

let installed = false;

export function installNodeHost(): void {
  if (installed) return;
  installed = true;
  // Without the files the TypeScript loops run instead, with the same numbers.
  const wasm = (name: string, use: (bytes: Buffer) => void): void => {
    const file = join(packageRoot(), 'build', name);
    if (!existsSync(file)) return;
    const bytes = readFileSync(file);
    if (WebAssembly.validate(bytes)) use(bytes);
  };
  wasm('normals.wasm', useNormalsWasm);
  wasm('gemm-f64.wasm', useGemmF64Wasm);
  useSimulationThreads(nodeSimulationThreads());
  useOnnxFileReader(readOnnxFile);
  try { installEnvLimits(); } catch { /* a bad value is reported by the entry point that reads it (the CLI) */ }
}
