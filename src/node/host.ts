/**
 * What the core needs from Node, installed once per thread by every Node entry point (CLI, experiment and
 * simulator workers, benchmarks, tests): the normals WebAssembly (build/normals.wasm), the simulator's helper
 * threads and the reader of ONNX model files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { useOnnxFileReader } from '../core/nn/families/index.js';
import { useNormalsWasm } from '../core/theory/normals.js';
import { useSimulationThreads } from '../core/theory/simulate.js';
import { installEnvLimits } from './limits.js';
import { packageRoot } from './package-root.js';
import { readOnnxFile } from './onnx.js';
import { nodeSimulationThreads } from './sim-threads.js';

let installed = false;

export function installNodeHost(): void {
  if (installed) return;
  installed = true;
  // Without the file the TypeScript loops run instead, with the same numbers.
  const normals = join(packageRoot(), 'build', 'normals.wasm');
  if (existsSync(normals)) {
    const bytes = readFileSync(normals);
    if (WebAssembly.validate(bytes)) useNormalsWasm(bytes);
  }
  useSimulationThreads(nodeSimulationThreads());
  useOnnxFileReader(readOnnxFile);
  try { installEnvLimits(); } catch { /* a bad value is reported by the entry point that reads it (the CLI) */ }
}
