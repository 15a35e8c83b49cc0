/**
 * Run and sweep configs: JSON or YAML files validated with zod (unknown keys are errors), resolved to a frozen,
 * fully explicit run config whose hash identifies the run in the results store (nanoGPT's "config saved with the run").
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { checkJsonDepth } from '../core/util/limits.js';
import { z } from 'zod';
import { UserError } from '../core/util/errors.js';
import { SEED_LIMIT } from '../core/util/rng.js';
import {
  OPTIMIZER_FORMS, effectiveLearningRate, optimizerRecord, parseOptimizerConfig, type OptimizerConfig,
} from '../core/optim/index.js';

// ---------------------------------------------------------------------------------------------------------------
// zod → one-line UserError

type AnySchema = z.ZodTypeAny;

/** The object keys a schema accepts at `path` (for "unknown key" messages). */
function allowedKeysAt(schema: AnySchema, path: readonly (string | number)[]): string[] {
  let s: AnySchema | undefined = schema;
  const unwrap = (x: AnySchema): AnySchema => {
    for (;;) {
      if (x instanceof z.ZodOptional || x instanceof z.ZodNullable) x = x.unwrap();
      else if (x instanceof z.ZodDefault) x = x._def.innerType;
      else if (x instanceof z.ZodEffects) x = x.innerType();
      else return x;
    }
  };
  for (const p of path) {
    if (s === undefined) return [];
    s = unwrap(s);
    if (s instanceof z.ZodObject) s = (s.shape as Record<string, AnySchema>)[String(p)];
    else if (s instanceof z.ZodArray) s = s.element;
    else if (s instanceof z.ZodRecord) s = s.valueSchema;
    else if (s instanceof z.ZodUnion) {
      const opts = (s.options as AnySchema[]).map(unwrap);
      s = opts.find((o) => o instanceof z.ZodObject && String(p) in o.shape) ?? opts.find((o) => o instanceof z.ZodArray);
      if (s instanceof z.ZodObject) s = (s.shape as Record<string, AnySchema>)[String(p)];
      else if (s instanceof z.ZodArray) s = s.element;
    } else return [];
  }
  if (s === undefined) return [];
  s = unwrap(s);
  if (s instanceof z.ZodObject) return Object.keys(s.shape as object);
  if (s instanceof z.ZodUnion) return (s.options as AnySchema[]).map(unwrap).flatMap((o) => (o instanceof z.ZodObject ? Object.keys(o.shape as object) : []));
  return [];
}

function pathString(prefix: string, path: readonly (string | number)[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`;
  return out === '' ? '(top level)' : out;
}

/** Parses `raw` with `schema`; the first problem becomes a one-line UserError naming the field and what is allowed. */
export function parseWith<S extends AnySchema>(schema: S, raw: unknown, prefix = '', source = 'config'): z.output<S> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data as z.output<S>;
  // A misspelt key is usually the root cause of the other problems (e.g. a "missing" field), so report it first.
  const issue = r.error.issues.find((i) => i.code === 'unrecognized_keys') ?? r.error.issues[0]!;
  const where = pathString(prefix, issue.path);
  let msg: string;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(schema, issue.path);
      const keyPath = pathString(prefix, [...issue.path, issue.keys[0]!]);
      msg = `${keyPath}: unknown key in ${source} (allowed: ${allowed.join(', ') || 'none'})`;
      break;
    }
    case 'invalid_enum_value':
      msg = `${where}: must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(issue.received)}`;
      break;
    case 'invalid_literal':
      msg = `${where}: must be ${JSON.stringify(issue.expected)}, got ${JSON.stringify(issue.received)}`;
      break;
    case 'invalid_type':
      msg = issue.received === 'undefined' ? `${where}: required (${issue.expected})` : `${where}: must be ${issue.expected}, got ${issue.received}`;
      break;
    default:
      msg = `${where}: ${issue.message}`;
  }
  throw new UserError(msg);
}

/**
 * YAML's .inf and .nan parse to numbers that JSON (run records, hashes) cannot hold; refused where they are written,
 * under YAML's spelling, instead of surfacing later as null. Iterative: depth is checked first but may be raised.
 */
export function checkFiniteNumbers(value: unknown, what: string): void {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) {
      const written = Number.isNaN(v) ? '.nan' : v > 0 ? '.inf' : '-.inf';
      throw new UserError(`${what}: ${at === '' ? 'value' : at} must be a finite number, got ${written}`, at === '' ? undefined : at);
    }
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) v.forEach((c, i) => stack.push([c, `${at}[${i}]`]));
    else for (const [k, c] of Object.entries(v)) stack.push([c, at === '' ? k : `${at}.${k}`]);
  }
}

/** Reads a JSON or YAML (by extension, .yaml/.yml) config file, naming the file in any error. */
export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read config ${path}: ${code === 'ENOENT' ? 'no such file' : code ?? String(e)}`);
  }
  let value: unknown;
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new UserError(`config ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(e as Error).message.split('\n')[0]}`);
  }
  checkJsonDepth(value, `config ${path}`);
  checkFiniteNumbers(value, `config ${path}`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// Run config

const SEED_RANGE = `must be an integer in [0, ${SEED_LIMIT})`;
/** A seed as the generators take it (see `SEED_LIMIT`). */
export const seedSchema = z.number().int().min(0, SEED_RANGE).lt(SEED_LIMIT, SEED_RANGE);

const optimizerSchema = z.object({
  form: z.enum(OPTIMIZER_FORMS).default('pytorch'),
  lr: z.number().positive(),
  momentum: z.number().min(0).lt(1).default(0),
  dampening: z.number().min(0).max(1).default(0),
  nesterov: z.boolean().default(false),
  weightDecay: z.number().min(0).default(0),
  weightDecayMode: z.enum(['coupled', 'decoupled']).default('coupled'),
  maximize: z.boolean().default(false),
  /** Validated by src/optim's parseSchedule (kinds constant, multistep, cosine, warmup-linear, array). */
  schedule: z.unknown().optional(),
}).strict();

export const runConfigSchema = z.object({
  /** A registered task name (see tasks.ts: `synthetic`, `train`). */
  task: z.string().min(1),
  name: z.string().optional(),
  seed: seedSchema.default(0),
  /** Task-specific parameters, validated by the task's own schema. */
  params: z.record(z.unknown()).default({}),
  optimizer: optimizerSchema,
  batchSize: z.number().int().min(1),
  /** Steps at ℓ = 1; SVAG runs ℓ× as many (svagPlan). Required by `synthetic`; a step cap for `train`. */
  steps: z.number().int().min(1).optional(),
  /** SVAG level ℓ (1 = plain optimizer). */
  svag: z.number().int().min(1).default(1),
  /** Evaluate (valid/test metrics) every this many steps, and at the end. */
  evalEvery: z.number().int().min(1).default(50),
  /** Save a checkpoint every this many steps (0: only at the end). */
  checkpointEvery: z.number().int().min(0).default(0),
  /** A run diverges when its training loss is non-finite or exceeds factor × its initial loss. */
  divergence: z.object({ factor: z.number().gt(1).default(100) }).strict().default({}),
}).strict();

export type RunConfigInput = z.input<typeof runConfigSchema>;

/** A run config with every default filled in; this exact object is stored with the run and hashed. */
export interface ResolvedRunConfig {
  task: string;
  name?: string;
  seed: number;
  params: Record<string, unknown>;
  optimizer: OptimizerConfig;
  batchSize: number;
  steps?: number;
  svag: number;
  evalEvery: number;
  checkpointEvery: number;
  divergence: { factor: number };
}

/** Task parameter validator (a task's zod schema, or pass-through for the engine adapter). */
export type ParamsResolver = (task: string, params: Record<string, unknown>, field: string, run: { steps?: number | undefined }) => Record<string, unknown>;

export function resolveRunConfig(raw: unknown, resolveParams: ParamsResolver, prefix = ''): ResolvedRunConfig {
  const c = parseWith(runConfigSchema, raw, prefix);
  const optimizer = parseOptimizerConfig(c.optimizer, prefix === '' ? 'optimizer' : `${prefix}.optimizer`);
  const out: ResolvedRunConfig = {
    task: c.task,
    seed: c.seed,
    params: resolveParams(c.task, c.params, prefix === '' ? 'params' : `${prefix}.params`, { steps: c.steps }),
    optimizer,
    batchSize: c.batchSize,
    svag: c.svag,
    evalEvery: c.evalEvery,
    checkpointEvery: c.checkpointEvery,
    divergence: { factor: c.divergence.factor },
  };
  if (c.steps !== undefined) out.steps = c.steps;
  if (c.name !== undefined) out.name = c.name;
  return out;
}

/** JSON with sorted object keys, so equal configs hash equally whatever their key order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The run's identity: sha256 of the canonical resolved config (the `name` label excluded), 16 hex digits. */
export function configHash(c: ResolvedRunConfig): string {
  const { name: _name, ...rest } = c;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex').slice(0, 16);
}

/** η = γ/(1−β) for PyTorch/Keras forms; the lr itself for the normalised form and plain SGD. */
export function runEffectiveLr(o: OptimizerConfig): number {
  return o.form === 'pytorch' || o.form === 'keras' ? effectiveLearningRate(o.lr, o.momentum) : o.lr;
}

/** Everything about the algorithm a reader must know, stored next to the config (STYLE: no silent defaults). */
export function runRecord(c: ResolvedRunConfig): Record<string, unknown> {
  return { ...optimizerRecord(c.optimizer), effectiveLr: runEffectiveLr(c.optimizer), svagLevel: c.svag };
}

// ---------------------------------------------------------------------------------------------------------------
// Sweep config

const lrGridSchema = z.union([
  z.array(z.number().positive()).min(1),
  z.object({ min: z.number().positive(), max: z.number().positive(), num: z.number().int().min(1) }).strict(),
]);

export const sweepConfigSchema = z.object({
  name: z.string().min(1).default('sweep'),
  task: z.string().min(1),
  /** Run config fields shared by every run (anything but `task`); grid values override them. */
  base: z.record(z.unknown()),
  grid: z.object({
    form: z.array(z.enum(OPTIMIZER_FORMS)).min(1).optional(),
    /** Log grid {min, max, num} (geometric, both ends included) or an explicit list. */
    lr: lrGridSchema.optional(),
    /** β values for the momentum forms; form "sgd" always runs with β = 0. */
    momentum: z.array(z.number().min(0).lt(1)).min(1).optional(),
    batchSize: z.array(z.number().int().min(1)).min(1).optional(),
    svag: z.array(z.number().int().min(1)).min(1).optional(),
    schedule: z.array(z.unknown()).min(1).optional(),
    seed: z.array(seedSchema).min(1).optional(),
  }).strict().default({}),
  /**
   * `effective`: grid lr values are η and each run gets γ = η(1−β) (pytorch/keras forms), so SGD and SGDM are
   * paired at matched effective lr η = γ/(1−β). `raw`: grid values are the optimizer's own lr.
   */
  lrAxis: z.enum(['effective', 'raw']).default('effective'),
  /** DeepOBS protocol: tune lr on the grid with `grid.seed`, pick the best, re-run it with `finalSeeds`. */
  protocol: z.object({
    tune: z.boolean().default(false),
    metric: z.string().default('valid/loss'),
    mode: z.enum(['min', 'max']).optional(),
    select: z.enum(['final', 'best']).default('final'),
    /** N (seeds 0..N−1) or an explicit list. */
    finalSeeds: z.union([z.number().int().min(1).max(SEED_LIMIT, `N (seeds 0 … N−1) must be ≤ ${SEED_LIMIT}: seeds are integers in [0, ${SEED_LIMIT})`), z.array(seedSchema).min(1)]).default(10),
  }).strict().default({}),
  workers: z.number().int().min(0).optional(),
}).strict();

export type SweepConfigInput = z.input<typeof sweepConfigSchema>;
export type SweepConfig = z.output<typeof sweepConfigSchema>;

export function parseSweepConfig(raw: unknown): SweepConfig {
  const c = parseWith(sweepConfigSchema, raw, '', 'sweep config');
  if ('task' in c.base) throw new UserError('base.task: set the task at the top level of the sweep config, not in base');
  if (c.grid.lr !== undefined && !Array.isArray(c.grid.lr) && c.grid.lr.max < c.grid.lr.min) {
    throw new UserError(`grid.lr: max (${c.grid.lr.max}) must be ≥ min (${c.grid.lr.min})`);
  }
  return c;
}

/** Geometric grid from min to max inclusive, rounded to 12 significant digits (so 1e-3…1e1 gives 0.01, 0.1, 1). */
export function logGrid(min: number, max: number, num: number): number[] {
  if (num === 1) return [min];
  return Array.from({ length: num }, (_, i) => Number((min * (max / min) ** (i / (num - 1))).toPrecision(12)));
}

export function lrValues(g: SweepConfig['grid']['lr']): number[] | undefined {
  if (g === undefined) return undefined;
  return Array.isArray(g) ? g : logGrid(g.min, g.max, g.num);
}

/** Which metric direction is better: losses are minimised, anything else (accuracy) maximised, unless set. */
export function protocolMode(p: SweepConfig['protocol']): 'min' | 'max' {
  return p.mode ?? (/loss|error/i.test(p.metric) ? 'min' : 'max');
}
