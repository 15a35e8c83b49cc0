/**
 * The `optim trace` contract: run one optimizer on a noisy diagonal quadratic and return every iterate.
 * Gradient at step k: h ⊙ x_k + noise[k]; with SVAG, r₁(h⊙x_k + noise[k]) + r₂(h⊙x_k + noise2[k]).
 * The lr in the spec is used as is (no SVAG lr transform), so a trace isolates the update rule.
 */
import { UserError, check } from '../util/errors.js';
import { checkLimit } from '../util/limits.js';
import { initOptimizer, optimizerStep, parseOptimizerConfig, type OptimizerConfig } from './sgd.js';
import { parseSchedule, scheduleLength } from './schedules.js';
import { checkSvagLevel, svagCombine } from './svag.js';

export interface TraceSpec {
  x0: number[];
  h: number[];
  noise: number[][] | null;
  noise2: number[][] | null;
  optimizer: OptimizerConfig;
  svagLevel: number;
  steps: number;
}

const TOP_KEYS = ['x0', 'problem', 'optimizer', 'schedule', 'svag', 'steps'];

function numberArray(v: unknown, field: string, len?: number): number[] {
  check(Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x)), field, 'must be an array of finite numbers');
  if (len !== undefined) check(v.length === len, field, `must have ${len} entries (one per coordinate of x0), got ${v.length}`);
  return v as number[];
}

function noiseMatrix(v: unknown, field: string, steps: number, dim: number): number[][] | null {
  if (v === undefined) return null;
  check(Array.isArray(v), field, 'must be an array with one noise vector per step');
  check(v.length >= steps, field, `has ${v.length} rows but steps is ${steps}`);
  return v.slice(0, steps).map((row, k) => numberArray(row, `${field}[${k}]`, dim));
}

export function parseTraceSpec(raw: unknown): TraceSpec {
  check(typeof raw === 'object' && raw !== null && !Array.isArray(raw), 'spec', 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) check(TOP_KEYS.includes(k), k, `unknown key (allowed: ${TOP_KEYS.join(', ')})`);
  const x0 = numberArray(o.x0, 'x0');
  check(x0.length > 0, 'x0', 'must not be empty');
  check(typeof o.steps === 'number' && Number.isInteger(o.steps) && o.steps >= 0, 'steps', `must be an integer ≥ 0, got ${JSON.stringify(o.steps)}`);
  const steps = o.steps;
  checkLimit(steps, 'steps', 'steps', 'steps');
  check(typeof o.problem === 'object' && o.problem !== null && !Array.isArray(o.problem), 'problem', 'must be an object like {"kind": "quadratic", "h": [...]}');
  const p = o.problem as Record<string, unknown>;
  for (const k of Object.keys(p)) check(['kind', 'h', 'noise', 'noise2'].includes(k), `problem.${k}`, 'unknown key (allowed: kind, h, noise, noise2)');
  if (p.kind !== 'quadratic') throw new UserError(`unknown problem kind ${JSON.stringify(p.kind)} (expected "quadratic")`, 'problem.kind');
  const h = numberArray(p.h, 'problem.h', x0.length);
  const noise = noiseMatrix(p.noise, 'problem.noise', steps, x0.length);
  const noise2 = noiseMatrix(p.noise2, 'problem.noise2', steps, x0.length);

  check(typeof o.optimizer === 'object' && o.optimizer !== null && !Array.isArray(o.optimizer), 'optimizer', 'must be an object');
  const optRaw = { ...(o.optimizer as Record<string, unknown>) };
  check(optRaw.schedule === undefined || o.schedule === undefined, 'schedule', 'give the schedule at the top level or in optimizer, not both');
  if (o.schedule !== undefined) optRaw.schedule = parseSchedule(o.schedule, 'schedule');
  const optimizer = parseOptimizerConfig(optRaw);
  if (optimizer.betas !== null) check(optimizer.betas.length >= steps, 'optimizer.betas', `has ${optimizer.betas.length} entries but steps is ${steps}`);
  check(scheduleLength(optimizer.schedule) >= steps, 'schedule.values', `has fewer entries than steps (${steps})`);

  let svagLevel = 1;
  if (o.svag !== undefined) {
    check(typeof o.svag === 'object' && o.svag !== null && !Array.isArray(o.svag), 'svag', 'must be an object like {"l": 4}');
    const s = o.svag as Record<string, unknown>;
    for (const k of Object.keys(s)) check(k === 'l', `svag.${k}`, 'unknown key (allowed: l)');
    check(typeof s.l === 'number', 'svag.l', `must be a number ≥ 1, got ${JSON.stringify(s.l)}`);
    checkSvagLevel(s.l);
    svagLevel = s.l;
    if (svagLevel !== 1) check(noise2 !== null, 'problem.noise2', 'is required with svag (the second, independent gradient noise)');
  }
  return { x0, h, noise, noise2, optimizer, svagLevel, steps };
}

/**
 * Iterates x_1 … x_steps in float64. An iterate that overflows (±∞ or NaN) is a UserError naming its step: JSON has
 * no ∞, and a trace that silently printed null there would read as a result.
 */
export function runTrace(spec: TraceSpec): number[][] {
  const d = spec.x0.length;
  const x = Float64Array.from(spec.x0);
  const g = new Float64Array(d);
  const g2 = new Float64Array(d);
  const state = initOptimizer(spec.optimizer, d, 'float64');
  const out: number[][] = [];
  for (let k = 0; k < spec.steps; k++) {
    const nk = spec.noise?.[k];
    for (let i = 0; i < d; i++) g[i] = spec.h[i]! * x[i]! + (nk === undefined ? 0 : nk[i]!);
    if (spec.svagLevel !== 1) {
      const n2 = spec.noise2![k]!;
      for (let i = 0; i < d; i++) g2[i] = spec.h[i]! * x[i]! + n2[i]!;
      svagCombine(g, g2, spec.svagLevel, g);
    }
    optimizerStep(spec.optimizer, x, g, state);
    for (let i = 0; i < d; i++) {
      if (!Number.isFinite(x[i]!)) {
        throw new UserError(`the iterate is not finite at step ${k + 1}: x_${k + 1}[${i}] = ${x[i]} (the optimizer diverged; lower the learning rate)`);
      }
    }
    out.push(Array.from(x));
  }
  return out;
}
