/**
 * ONNX files on disk: reading the files that `--model FILE.onnx` names, for the core's 'onnx' model family, and
 * `train --save-onnx FILE`, which writes the trained network as an ONNX file (src/core/onnx/export.ts) atomically.
 */
import { readFileSync } from 'node:fs';
import type { Dataset } from '../core/data/dataset.js';
import { standardization } from '../core/data/transforms.js';
import { float64Backend } from '../core/engine/backend.js';
import { buildModel, parseModelSpec, type Model } from '../core/nn/models.js';
import type { TrainHooks, TrainResult } from '../core/nn/train.js';
import { checkExportable, exportOnnx, EXPORT_OPSET } from '../core/onnx/export.js';
import { UserError, isUserError } from '../core/util/errors.js';
import { writeAtomically } from './atomic-write.js';
import { loadDataset } from './data/load.js';
import { checkOutputFile } from './output-paths.js';
import type { NodeTrainConfig } from './train.js';

export function readOnnxFile(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${file}: cannot read the ONNX model (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? String(e)})`);
  }
}

/** What `train --save-onnx` adds to a run: the loaded dataset, a hook that keeps the trained weights, and the write. */
export interface OnnxExportPlan {
  config: Partial<NodeTrainConfig>;
  hooks: TrainHooks;
  /** Writes the file after the run (nothing when the run diverged); returns a line for the log, or null. */
  write(result: TrainResult): string | null;
}

/**
 * Checks, before training, that the file can be written and that every layer of the model has an ONNX form (a
 * one-line UserError naming the layer otherwise). `config.dataset` is loaded here, for the model's input shape.
 */
export async function planOnnxExport(file: string | undefined, config: NodeTrainConfig): Promise<OnnxExportPlan> {
  if (file === undefined) return { config: {}, hooks: {}, write: () => null };
  checkOutputFile(file, '--save-onnx');
  const ds = config.dataset ?? 'fashion-mnist';
  const data: Dataset = typeof ds === 'string'
    ? await loadDataset(ds, { ...(config.dataDir !== undefined ? { dataDir: config.dataDir } : {}), ...(config.cacheDir !== undefined ? { cacheDir: config.cacheDir } : {}) })
    : ds;
  const spec = typeof config.model === 'string' ? parseModelSpec(config.model) : config.model;
  // float64 reference layers: building needs no kernels, and the file stores float32 weights either way.
  const model: Model = buildModel(spec, { inShape: data.shape, classes: data.classes, seed: config.seed, backend: float64Backend() });
  try {
    checkExportable(model.net);
  } catch (e) {
    throw isUserError(e) ? new UserError(`--save-onnx ${file}: ${e.message}`) : e;
  }
  let trained: { params: Float64Array; state: Float64Array[] } | null = null;
  return {
    config: { dataset: data },
    hooks: { onFinish: (params, state) => { trained = { params: Float64Array.from(params), state: state.map((s) => Float64Array.from(s)) }; } },
    write(result) {
      if (trained === null) return `--save-onnx ${file}: not written (the run diverged)`;
      const t: { params: Float64Array; state: Float64Array[] } = trained;
      model.store.params.set(t.params);
      model.net.stateBuffers().forEach((b, i) => b.set(t.state[i]!));
      const { transform, mean, std } = result.inputs;
      const plane = mean.length > 0 ? model.inputSize / mean.length : 1;
      const bytes = exportOnnx(model.net, transform === 'standardize' ? { inputs: standardization({ mean, std }, plane) } : {});
      writeAtomically(file, (w) => w(bytes));
      return `wrote ${file} (ONNX opset ${EXPORT_OPSET}, input [batch, ${data.shape.join(', ')}]${transform === 'standardize' ? ' raw, standardised in the graph' : ''}, output logits [batch, ${data.classes}])`;
    },
  };
}
