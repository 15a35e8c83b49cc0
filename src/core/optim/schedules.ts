/**
 * Learning-rate schedules as pure functions of the step count k (from 0), as in Optax.
 * A schedule gives a multiplier; the learning rate at step k is `lr · factor(k)`.
 * The formulas are the contract of `optim trace` and agree with PyTorch's
 * MultiStepLR, CosineAnnealingLR (for k ≤ total) and LinearLR warm-up.
 */
import { UserError, check } from '../util/errors.js';

export type ScheduleSpec =
  | { kind: 'constant' }
  /** ×gamma for each milestone ≤ k (PyTorch MultiStepLR, milestones in steps). */
  | { kind: 'multistep'; milestones: readonly number[]; gamma: number }
  /** min + (lr − min)(1 + cos(π·min(k,total)/total))/2; `min` is an absolute lr, not a factor. */
  | { kind: 'cosine'; total: number; min: number }
  /** lr·min(1, (k+1)/warmup), then `after` (default constant) shifted by `warmup` steps. */
  | { kind: 'warmup-linear'; warmup: number; after?: ScheduleSpec }
  /** Arbitrary per-step multipliers; asking past the end is an error. */
  | { kind: 'array'; values: readonly number[] };

export const SCHEDULE_KINDS = ['constant', 'multistep', 'cosine', 'warmup-linear', 'array'] as const;

/** Validates an untrusted schedule spec; throws a UserError naming `field` on the first problem. */
export function parseSchedule(raw: unknown, field = 'schedule'): ScheduleSpec {
  if (raw === undefined) return { kind: 'constant' };
  check(typeof raw === 'object' && raw !== null && !Array.isArray(raw), field, 'must be an object like {"kind": "constant"}');
  const o = raw as Record<string, unknown>;
  const allowed = (keys: string[]): void => {
    for (const k of Object.keys(o)) {
      check(keys.includes(k), `${field}.${k}`, `unknown key for a ${String(o.kind)} schedule (allowed: ${keys.join(', ')})`);
    }
  };
  const int = (k: string, min: number): number => {
    const v = o[k];
    check(typeof v === 'number' && Number.isInteger(v) && v >= min, `${field}.${k}`, `must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const num = (k: string, ok: (v: number) => boolean, what: string): number => {
    const v = o[k];
    check(typeof v === 'number' && Number.isFinite(v) && ok(v), `${field}.${k}`, `must be ${what}, got ${JSON.stringify(v)}`);
    return v;
  };
  switch (o.kind) {
    case 'constant':
      allowed(['kind']);
      return { kind: 'constant' };
    case 'multistep': {
      allowed(['kind', 'milestones', 'gamma']);
      const m = o.milestones;
      check(Array.isArray(m) && m.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0), `${field}.milestones`, 'must be an array of step indices (integers ≥ 0)');
      for (let i = 1; i < m.length; i++) check(m[i] > m[i - 1], `${field}.milestones`, 'must be strictly increasing');
      return { kind: 'multistep', milestones: [...(m as number[])], gamma: num('gamma', (v) => v > 0, 'a positive number') };
    }
    case 'cosine':
      allowed(['kind', 'total', 'min']);
      return { kind: 'cosine', total: int('total', 1), min: o.min === undefined ? 0 : num('min', (v) => v >= 0, 'a number ≥ 0') };
    case 'warmup-linear': {
      allowed(['kind', 'warmup', 'after']);
      const warmup = int('warmup', 1);
      return o.after === undefined ? { kind: 'warmup-linear', warmup } : { kind: 'warmup-linear', warmup, after: parseSchedule(o.after, `${field}.after`) };
    }
    case 'array': {
      allowed(['kind', 'values']);
      const v = o.values;
      check(Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number' && Number.isFinite(x) && x >= 0), `${field}.values`, 'must be a non-empty array of finite numbers ≥ 0');
      return { kind: 'array', values: [...(v as number[])] };
    }
    default:
      throw new UserError(`unknown schedule kind ${JSON.stringify(o.kind)} (expected one of: ${SCHEDULE_KINDS.join(', ')})`, `${field}.kind`);
  }
}

/** The learning rate at step k for base rate `lr`. */
export function learningRateAt(lr: number, spec: ScheduleSpec, k: number): number {
  switch (spec.kind) {
    case 'constant':
      return lr;
    case 'multistep': {
      let f = lr;
      for (const m of spec.milestones) if (m <= k) f *= spec.gamma;
      return f;
    }
    case 'cosine': {
      const t = Math.min(k, spec.total);
      return spec.min + ((lr - spec.min) * (1 + Math.cos((Math.PI * t) / spec.total))) / 2;
    }
    case 'warmup-linear':
      if (k < spec.warmup) return (lr * (k + 1)) / spec.warmup;
      return spec.after === undefined ? lr : learningRateAt(lr, spec.after, k - spec.warmup);
    case 'array': {
      const v = spec.values[k];
      if (v === undefined) throw new UserError(`array schedule has ${spec.values.length} values but step ${k} was asked for`, 'schedule.values');
      return lr * v;
    }
  }
}

/** lr_0 … lr_{steps−1} as an array (for conversions, plots and records). */
export function learningRates(lr: number, spec: ScheduleSpec, steps: number): Float64Array {
  const out = new Float64Array(steps);
  for (let k = 0; k < steps; k++) out[k] = learningRateAt(lr, spec, k);
  return out;
}

/** The number of steps a schedule is defined for (Infinity unless it is an array). */
export function scheduleLength(spec: ScheduleSpec): number {
  if (spec.kind === 'array') return spec.values.length;
  if (spec.kind === 'warmup-linear' && spec.after !== undefined) return spec.warmup + scheduleLength(spec.after);
  return Infinity;
}

/** Stretches a schedule defined in steps by ℓ (SVAG runs ℓ× the steps): milestones, totals and warm-up ×ℓ. */
export function stretchSchedule(spec: ScheduleSpec, l: number): ScheduleSpec {
  check(Number.isInteger(l) && l >= 1, 'svag.l', `must be an integer ≥ 1 to stretch a schedule, got ${l}`);
  switch (spec.kind) {
    case 'constant':
      return spec;
    case 'multistep':
      return { kind: 'multistep', milestones: spec.milestones.map((m) => m * l), gamma: spec.gamma };
    case 'cosine':
      return { kind: 'cosine', total: spec.total * l, min: spec.min };
    case 'warmup-linear':
      return spec.after === undefined
        ? { kind: 'warmup-linear', warmup: spec.warmup * l }
        : { kind: 'warmup-linear', warmup: spec.warmup * l, after: stretchSchedule(spec.after, l) };
    case 'array':
      return { kind: 'array', values: spec.values.flatMap((v) => new Array<number>(l).fill(v)) };
  }
}
