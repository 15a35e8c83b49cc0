/**
 * The `momentum-lab advise CONFIG` file: one flat JSON object (nanoGPT style) naming the run to advise on.
 *   { "model": "mlp", "dataset": "fashion-mnist", "batch": 128, "lr": 0.05, "momentum": 0.9, "form": "pytorch", "epochs": 3 }
 *   { "problem": "linear-regression", "batch": 256, "lr": 0.005, "momentum": 0.9, "form": "pytorch" }
 * lr is γ for the pytorch/keras/sgd forms and η for the normalized form (src/optim conventions).
 */
import { OPTIMIZER_FORMS, type OptimizerForm } from '../optim/sgd.js';
import { parseModelSpec, type ModelSpec } from '../nn/models.js';
import { UserError, check } from '../util/errors.js';
import { SEED_LIMIT } from '../util/rng.js';
import { datasetNames } from '../data/registry.js';
import { parseDataSpec, type DataFileSpec } from '../data/data-file.js';

/** `check` with the field always leading the message (UserError skips its prefix when the text merely mentions it). */
function need(ok: boolean, field: string, message: string): asserts ok {
  check(ok, field, `${field}: ${message}`);
}

export const ADVISE_PROBLEMS = ['linear-regression'] as const;

export interface AdviseConfig {
  /** A synthetic problem instead of model + dataset. */
  problem: (typeof ADVISE_PROBLEMS)[number] | null;
  model: ModelSpec | null;
  /** A registered dataset (src/core/data/registry.ts `datasetNames()`). */
  dataset: string | null;
  dataDir: string | null;
  /** A user's data file instead of `dataset` (`"data": "my.npz"` or `{"file", "layout", …}`, src/core/data/data-file.ts). */
  data?: DataFileSpec;
  batch: number;
  lr: number;
  momentum: number;
  form: OptimizerForm;
  seed: number;
  /** Samples in the fixed batch the Hessian is measured on (engine models); null = per-model default. */
  measureSamples: number | null;
  /** Input preprocessing for engine models, as `train` does it: 'standardize' (default) or 'raw'. */
  inputs: 'standardize' | 'raw';
  /**
   * Epochs the run will train (its budget: epochs × ⌊n/B⌋ steps); null = unknown. A probe that covers the whole
   * budget compares SGD and SGDM over the run itself.
   */
  epochs: number | null;
}

const KEYS = ['problem', 'model', 'dataset', 'data', 'dataDir', 'batch', 'lr', 'momentum', 'form', 'seed', 'measureSamples', 'inputs', 'epochs'];

/** Validates an untrusted advise config; every error is one line naming the field. */
export function parseAdviseConfig(raw: unknown, file = 'config'): AdviseConfig {
  need(typeof raw === 'object' && raw !== null && !Array.isArray(raw), file, 'must be a JSON object like {"model": "mlp", "dataset": "fashion-mnist", "batch": 128, "lr": 0.05, "momentum": 0.9, "form": "pytorch"}');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) need(KEYS.includes(k), k, `unknown key in ${file} (allowed: ${KEYS.join(', ')})`);
  const num = (k: string, ok: (v: number) => boolean, what: string, dflt?: number): number => {
    const v = o[k] ?? dflt;
    need(v !== undefined, k, `is required (${what})`);
    need(typeof v === 'number' && Number.isFinite(v) && ok(v), k, `must be ${what}, got ${JSON.stringify(v)}`);
    return v;
  };
  let problem: AdviseConfig['problem'] = null;
  if (o.problem !== undefined) {
    need(typeof o.problem === 'string' && (ADVISE_PROBLEMS as readonly string[]).includes(o.problem), 'problem', `must be one of ${ADVISE_PROBLEMS.join(', ')}, got ${JSON.stringify(o.problem)}`);
    problem = o.problem as AdviseConfig['problem'];
    need(o.model === undefined && o.dataset === undefined && o.data === undefined, o.model !== undefined ? 'model' : o.data !== undefined ? 'data' : 'dataset', `not used with "problem": "${problem}" (remove it, or remove "problem" to probe a model on a dataset)`);
  }
  let model: ModelSpec | null = null;
  let dataset: AdviseConfig['dataset'] = null;
  if (problem === null) {
    need(o.model !== undefined, 'model', 'is required (e.g. "mlp", "cnn", or {"kind": "mlp", "hidden": [128]}), or give "problem": "linear-regression"');
    try {
      model = parseModelSpec(o.model, 'model');
    } catch (e) {
      if (e instanceof UserError && !e.message.startsWith('model')) throw new UserError(`model: ${e.message}`, 'model');
      throw e;
    }
    const known = datasetNames();
    need(o.dataset === undefined || o.data === undefined, 'data', 'give "dataset" (a built-in) or "data" (your file), not both');
    if (o.data === undefined) {
      need(o.dataset !== undefined, 'dataset', `is required (one of ${known.join(', ')}), or give "data": "your.npz"`);
      need(typeof o.dataset === 'string' && known.includes(o.dataset), 'dataset', `must be one of ${known.join(', ')}, got ${JSON.stringify(o.dataset)}`);
      dataset = o.dataset;
    }
  }
  if (o.dataDir !== undefined) need(typeof o.dataDir === 'string' && o.dataDir.length > 0, 'dataDir', 'must be a folder path');
  const batch = num('batch', (v) => Number.isInteger(v) && v >= 2, 'an integer ≥ 2 (B, examples per step)');
  const lr = num('lr', (v) => v > 0, 'a number > 0 (γ for pytorch/keras/sgd, η for normalized)');
  const formRaw = o.form ?? 'pytorch';
  need(typeof formRaw === 'string' && (OPTIMIZER_FORMS as readonly string[]).includes(formRaw), 'form', `must be one of ${OPTIMIZER_FORMS.join(', ')}, got ${JSON.stringify(formRaw)}`);
  const form = formRaw as OptimizerForm;
  const momentum = num('momentum', (v) => v >= 0 && v < 1, 'a number in [0, 1)', form === 'sgd' ? 0 : undefined);
  need(form !== 'sgd' || momentum === 0, 'momentum', 'form "sgd" has no momentum; use form "pytorch" or "normalized" for SGDM');
  const seed = num('seed', (v) => Number.isInteger(v) && v >= 0 && v < SEED_LIMIT, `an integer in [0, ${SEED_LIMIT})`, 0);
  const measureSamples = o.measureSamples === undefined ? null : num('measureSamples', (v) => Number.isInteger(v) && v >= 2, 'an integer ≥ 2');
  const inputs = o.inputs ?? 'standardize';
  need(inputs === 'standardize' || inputs === 'raw', 'inputs', `must be "standardize" or "raw", got ${JSON.stringify(inputs)}`);
  const epochs = o.epochs === undefined ? null : num('epochs', (v) => v > 0, 'a number > 0 (the epochs the run will train)');
  const data = o.data === undefined ? {} : { data: parseDataSpec(o.data, 'data') };
  return { problem, model, dataset, ...data, dataDir: (o.dataDir as string | undefined) ?? null, batch, lr, momentum, form, seed, measureSamples, inputs, epochs };
}
