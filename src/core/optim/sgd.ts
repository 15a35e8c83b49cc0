/**
 * The SGD family on flat buffers: plain SGD, PyTorch heavy-ball, the paper's normalised EMA form and the
 * Keras/Sutskever velocity form. An optimizer is a validated config plus two pure-ish functions, `init` and
 * `step` (Optax's init/update), that update parameters in place for speed.
 *
 * Where the learning rate enters (lr_k = lr · schedule(k), β_k = betas[k] or momentum):
 *   pytorch     g = ±grad + wd·x;  b = β_k·b + (1−τ)·g  (step 0: b = g);  d = nesterov ? g + β_k·b : b;  x −= lr_k·d
 *   normalized  g = ±grad + wd·x;  m = β_k·m + (1−β_k)·g  (m₀ = 0);  x −= lr_k·(nesterov ? (1−β_k)·g + β_k·m : m)
 *   keras       g = ±grad + wd·x;  v = β_k·v − lr_k·g  (v₀ = 0);  x += nesterov ? β_k·v − lr_k·g : v
 *   sgd         g = ±grad + wd·x;  x −= lr_k·g
 * Decoupled weight decay replaces the `+ wd·x` term by `x ← x·(1 − lr_k·wd)` before the update (AdamW's placement).
 * The paper's Eq. (1) is the pytorch form; its theory uses the normalized form with η = γ/(1−β).
 */
import { UserError, check } from '../util/errors.js';
import { learningRateAt, parseSchedule, type ScheduleSpec } from './schedules.js';

export type FloatBuffer = Float32Array | Float64Array;
export const OPTIMIZER_FORMS = ['sgd', 'pytorch', 'normalized', 'keras'] as const;
export type OptimizerForm = (typeof OPTIMIZER_FORMS)[number];
export type WeightDecayMode = 'coupled' | 'decoupled';

export interface OptimizerConfig {
  form: OptimizerForm;
  /** γ for sgd/pytorch/keras, η for normalized. */
  lr: number;
  /** β (constant); ignored where `betas` is given. */
  momentum: number;
  /** τ, pytorch form only. */
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
  weightDecayMode: WeightDecayMode;
  maximize: boolean;
  schedule: ScheduleSpec;
  /** Per-step momentum β_k (normalized) or b_k (pytorch, keras); null for a constant `momentum`. */
  betas: number[] | null;
}

export interface OptimizerState {
  /** Steps taken so far (k of the next step). */
  step: number;
  /** Momentum buffer b, m or v; null for plain SGD (no memory cost, as in PyTorch and Optax). */
  buffer: FloatBuffer | null;
}

const CONFIG_KEYS = ['form', 'lr', 'momentum', 'dampening', 'nesterov', 'weightDecay', 'weightDecayMode', 'maximize', 'schedule', 'betas'];

/** Validates an untrusted optimizer description; every hyper-parameter not given takes PyTorch's default. */
export function parseOptimizerConfig(raw: unknown, field = 'optimizer'): OptimizerConfig {
  check(typeof raw === 'object' && raw !== null && !Array.isArray(raw), field, 'must be an object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) check(CONFIG_KEYS.includes(k), `${field}.${k}`, `unknown key (allowed: ${CONFIG_KEYS.join(', ')})`);
  const num = (k: string, dflt: number | undefined): number => {
    const v = o[k] === undefined ? dflt : o[k];
    check(typeof v === 'number' && Number.isFinite(v), `${field}.${k}`, `must be a finite number, got ${JSON.stringify(o[k])}`);
    return v;
  };
  const bool = (k: string): boolean => {
    const v = o[k] ?? false;
    check(typeof v === 'boolean', `${field}.${k}`, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const form = o.form ?? 'pytorch';
  if (!OPTIMIZER_FORMS.includes(form as OptimizerForm)) {
    throw new UserError(`unknown optimizer form ${JSON.stringify(form)} (expected one of: ${OPTIMIZER_FORMS.join(', ')})`, `${field}.form`);
  }
  const wdMode = o.weightDecayMode ?? 'coupled';
  check(wdMode === 'coupled' || wdMode === 'decoupled', `${field}.weightDecayMode`, `must be "coupled" or "decoupled", got ${JSON.stringify(wdMode)}`);
  let betas: number[] | null = null;
  if (o.betas !== undefined) {
    check(Array.isArray(o.betas) && o.betas.length > 0 && o.betas.every((b) => typeof b === 'number' && Number.isFinite(b)), `${field}.betas`, 'must be a non-empty array of numbers (β_k for each step)');
    betas = [...(o.betas as number[])];
  }
  return validateOptimizerConfig({
    form: form as OptimizerForm,
    lr: num('lr', undefined),
    momentum: num('momentum', 0),
    dampening: num('dampening', 0),
    nesterov: bool('nesterov'),
    weightDecay: num('weightDecay', 0),
    weightDecayMode: wdMode,
    maximize: bool('maximize'),
    schedule: parseSchedule(o.schedule, `${field}.schedule`),
    betas,
  }, field);
}

/** Checks the rules PyTorch enforces and the ones that keep each form well defined; returns the config unchanged. */
export function validateOptimizerConfig(c: OptimizerConfig, field = 'optimizer'): OptimizerConfig {
  check(OPTIMIZER_FORMS.includes(c.form), `${field}.form`, `unknown optimizer form ${JSON.stringify(c.form)} (expected one of: ${OPTIMIZER_FORMS.join(', ')})`);
  check(Number.isFinite(c.lr) && c.lr > 0, `${field}.lr`, `must be > 0, got ${c.lr}`);
  check(Number.isFinite(c.momentum) && c.momentum >= 0 && c.momentum < 1, `${field}.momentum`, `must be in [0, 1), got ${c.momentum}`);
  check(Number.isFinite(c.weightDecay) && c.weightDecay >= 0, `${field}.weightDecay`, `must be ≥ 0, got ${c.weightDecay}`);
  check(Number.isFinite(c.dampening) && c.dampening >= 0 && c.dampening <= 1, `${field}.dampening`, `must be in [0, 1], got ${c.dampening}`);
  if (c.form === 'sgd') {
    check(c.momentum === 0 && c.betas === null, `${field}.momentum`, 'form "sgd" has no momentum; use form "pytorch" or "normalized" for SGDM');
  }
  if (c.form !== 'pytorch') {
    check(c.dampening === 0, `${field}.dampening`, `dampening applies to the pytorch form only (form is "${c.form}")`);
  }
  if (c.betas !== null) {
    if (c.form === 'normalized') {
      c.betas.forEach((b, k) => check(b >= 0 && b < 1, `${field}.betas[${k}]`, `β_k must be in [0, 1), got ${b}`));
    } else {
      // b_k from the normalised→PyTorch conversion may exceed 1 when β_k grows; only sign is constrained.
      c.betas.forEach((b, k) => check(b >= 0, `${field}.betas[${k}]`, `momentum must be ≥ 0, got ${b}`));
    }
  }
  if (c.nesterov) {
    const hasMomentum = c.betas !== null ? c.betas.some((b) => b > 0) : c.momentum > 0;
    check(hasMomentum, `${field}.nesterov`, 'Nesterov momentum requires momentum > 0');
    check(c.dampening === 0, `${field}.nesterov`, 'Nesterov momentum requires dampening = 0');
  }
  return c;
}

/** Builds a config from a partial one with PyTorch's defaults, validated. */
export function optimizerConfig(partial: Partial<OptimizerConfig> & { lr: number }): OptimizerConfig {
  return validateOptimizerConfig({
    form: 'pytorch', momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, weightDecayMode: 'coupled',
    maximize: false, schedule: { kind: 'constant' }, betas: null, ...partial,
  });
}

/** Whether this config keeps a momentum buffer. */
export function hasMomentum(c: OptimizerConfig): boolean {
  return c.form !== 'sgd' && (c.betas !== null || c.momentum > 0);
}

/** β_k used at step k. */
export function momentumAt(c: OptimizerConfig, k: number): number {
  if (c.betas === null) return c.momentum;
  const b = c.betas[k];
  if (b === undefined) throw new UserError(`betas has ${c.betas.length} entries but step ${k} was asked for`, 'optimizer.betas');
  return b;
}

/** The choices that change the algorithm, written down with every run (STYLE: no silent defaults). */
export function optimizerRecord(c: OptimizerConfig): Record<string, unknown> {
  const firstStep = {
    sgd: 'no buffer',
    pytorch: 'buffer ← first gradient (dampening not applied on step 0, PyTorch rule)',
    normalized: 'm₀ = 0',
    keras: 'v₀ = 0',
  }[c.form];
  return {
    ...c,
    lrMeaning: c.form === 'normalized' ? 'η (normalised, effective lr)' : 'γ (PyTorch/Keras lr)',
    firstStep,
    weightDecayPlacement: c.weightDecay === 0 ? 'none' : c.weightDecayMode === 'coupled' ? 'coupled: wd·x added to the gradient before momentum' : 'decoupled: x ← x(1 − lr_k·wd) before the update',
  };
}

/** Optimizer state for `n` parameters; the buffer has the parameters' precision. */
export function initOptimizer(c: OptimizerConfig, n: number, precision: 'float32' | 'float64' = 'float64'): OptimizerState {
  const buffer = hasMomentum(c) ? (precision === 'float32' ? new Float32Array(n) : new Float64Array(n)) : null;
  return { step: 0, buffer };
}

/** Bytes of optimizer state (the momentum buffer is SGDM's memory cost). */
export function stateBytes(s: OptimizerState): number {
  return s.buffer === null ? 0 : s.buffer.byteLength;
}

/**
 * One step k = state.step on `params` in place, then state.step += 1.
 * `lrScale` multiplies the scheduled lr (used by SVAG, which runs at lr/ℓ); default 1.
 */
export function optimizerStep(c: OptimizerConfig, params: FloatBuffer, grads: FloatBuffer, state: OptimizerState, lrScale = 1): void {
  const n = params.length;
  if (grads.length !== n) throw new Error(`optimizerStep: ${grads.length} gradients for ${n} parameters`);
  const k = state.step;
  const lr = learningRateAt(c.lr, c.schedule, k) * lrScale;
  const sign = c.maximize ? -1 : 1;
  const wdCoupled = c.weightDecayMode === 'coupled' ? c.weightDecay : 0;
  const buf = state.buffer;
  if (buf !== null && buf.length !== n) throw new Error(`optimizerStep: momentum buffer has ${buf.length} entries for ${n} parameters`);
  if (buf === null && hasMomentum(c)) throw new Error('optimizerStep: state has no momentum buffer; build it with initOptimizer');
  // β_k is looked up before anything is written, so a bad step index leaves params untouched.
  const beta = buf === null ? 0 : momentumAt(c, k);
  if (c.weightDecayMode === 'decoupled' && c.weightDecay !== 0) {
    const shrink = 1 - lr * c.weightDecay;
    for (let i = 0; i < n; i++) params[i] = params[i]! * shrink;
  }
  if (buf === null) {
    sgdStep(params, grads, lr, sign, wdCoupled);
    state.step = k + 1;
    return;
  }
  switch (c.form) {
    case 'pytorch':
      pytorchStep(params, grads, buf, lr, beta, 1 - c.dampening, c.nesterov, sign, wdCoupled, k === 0);
      break;
    case 'normalized':
      normalizedStep(params, grads, buf, lr, beta, c.nesterov, sign, wdCoupled);
      break;
    case 'keras':
      kerasStep(params, grads, buf, lr, beta, c.nesterov, sign, wdCoupled);
      break;
    case 'sgd':
      throw new Error('unreachable: sgd has no buffer');
  }
  state.step = k + 1;
}

// The loops mirror torch's operation order (d_p.add(p, alpha=wd); buf.mul_(β).add_(d_p, alpha=1−τ);
// p.add_(d_p, alpha=−lr)) so float64 results agree with PyTorch to rounding. Each branch-free variant is its own
// loop: a flag tested per element costs V8 about 2× on a 10M-parameter step (bench/optim-step.ts). With wd = 0 and
// no maximize the gradient is used as is, as torch skips those ops (so 0·x never turns an infinite x into NaN).
function sgdStep(x: FloatBuffer, grad: FloatBuffer, lr: number, sign: number, wd: number): void {
  const n = x.length;
  const a = -lr;
  if (sign === 1 && wd === 0) {
    for (let i = 0; i < n; i++) x[i] = x[i]! + a * grad[i]!;
    return;
  }
  for (let i = 0; i < n; i++) x[i] = x[i]! + a * ((sign === 1 ? grad[i]! : -grad[i]!) + wd * x[i]!);
}

function pytorchStep(x: FloatBuffer, grad: FloatBuffer, b: FloatBuffer, lr: number, beta: number, oneMinusTau: number,
  nesterov: boolean, sign: number, wd: number, first: boolean): void {
  const n = x.length;
  const a = -lr;
  if (sign === 1 && wd === 0 && oneMinusTau === 1 && !nesterov && !first) {
    for (let i = 0; i < n; i++) {
      const bi = b[i]! * beta + grad[i]!;
      b[i] = bi;
      x[i] = x[i]! + a * bi;
    }
    return;
  }
  if (sign === 1 && wd === 0) {
    if (first) {
      for (let i = 0; i < n; i++) {
        const g = grad[i]!;
        b[i] = g;
        x[i] = x[i]! + a * (nesterov ? g + beta * g : g);
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      const g = grad[i]!;
      const bi = b[i]! * beta + oneMinusTau * g;
      b[i] = bi;
      x[i] = x[i]! + a * (nesterov ? g + beta * bi : bi);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const g = (sign === 1 ? grad[i]! : -grad[i]!) + (wd === 0 ? 0 : wd * xi);
    const bi = first ? g : b[i]! * beta + oneMinusTau * g;
    b[i] = bi;
    x[i] = xi + a * (nesterov ? g + beta * bi : bi);
  }
}

function normalizedStep(x: FloatBuffer, grad: FloatBuffer, m: FloatBuffer, lr: number, beta: number,
  nesterov: boolean, sign: number, wd: number): void {
  const n = x.length;
  const c = 1 - beta;
  if (sign === 1 && wd === 0 && !nesterov) {
    // Unrolled by 8 (same operations per element, in the same order): V8 does not unroll, and its per-iteration
    // overhead made the plain loop ~1.5× slower on the theory simulator's 10⁴-element steps.
    let i = 0;
    for (; i + 7 < n; i += 8) {
      const m0 = beta * m[i]! + c * grad[i]!; m[i] = m0; x[i] = x[i]! - lr * m0;
      const m1 = beta * m[i + 1]! + c * grad[i + 1]!; m[i + 1] = m1; x[i + 1] = x[i + 1]! - lr * m1;
      const m2 = beta * m[i + 2]! + c * grad[i + 2]!; m[i + 2] = m2; x[i + 2] = x[i + 2]! - lr * m2;
      const m3 = beta * m[i + 3]! + c * grad[i + 3]!; m[i + 3] = m3; x[i + 3] = x[i + 3]! - lr * m3;
      const m4 = beta * m[i + 4]! + c * grad[i + 4]!; m[i + 4] = m4; x[i + 4] = x[i + 4]! - lr * m4;
      const m5 = beta * m[i + 5]! + c * grad[i + 5]!; m[i + 5] = m5; x[i + 5] = x[i + 5]! - lr * m5;
      const m6 = beta * m[i + 6]! + c * grad[i + 6]!; m[i + 6] = m6; x[i + 6] = x[i + 6]! - lr * m6;
      const m7 = beta * m[i + 7]! + c * grad[i + 7]!; m[i + 7] = m7; x[i + 7] = x[i + 7]! - lr * m7;
    }
    for (; i < n; i++) {
      const mi = beta * m[i]! + c * grad[i]!;
      m[i] = mi;
      x[i] = x[i]! - lr * mi;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const g = (sign === 1 ? grad[i]! : -grad[i]!) + (wd === 0 ? 0 : wd * xi);
    const mi = beta * m[i]! + c * g;
    m[i] = mi;
    x[i] = xi - lr * (nesterov ? c * g + beta * mi : mi);
  }
}

function kerasStep(x: FloatBuffer, grad: FloatBuffer, v: FloatBuffer, lr: number, beta: number,
  nesterov: boolean, sign: number, wd: number): void {
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const xi = x[i]!;
    const g = (sign === 1 ? grad[i]! : -grad[i]!) + (wd === 0 ? 0 : wd * xi);
    const vi = beta * v[i]! - lr * g;
    v[i] = vi;
    x[i] = xi + (nesterov ? beta * vi - lr * g : vi);
  }
}
