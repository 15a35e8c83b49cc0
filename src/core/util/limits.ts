/**
 * Upper bounds on what a config or flag may ask for, so that a typo (`num: 1e7`, `--chains 1e9`) is a one-line
 * error instead of a run that never ends or exhausts memory. Each limit has an environment variable that raises it;
 * the host (src/node/limits.ts) reads those, the core only checks against `limits()`.
 */
import { UserError } from './errors.js';

export interface Limits {
  /** Runs in one sweep grid (all axes multiplied, per protocol phase). */
  gridRuns: number;
  /** Steps of one optimizer trace or one simulated horizon (K = T/η). */
  steps: number;
  /** Simulator work: chains × coordinates × steps × runs (× 2 under SVAG); about 1e8 per second on one core. */
  work: number;
  /** Simulator state: chains × coordinates × runs float64 values held at once. */
  chainValues: number;
  /** Trainable parameters of one model (float32: 2³¹ bytes of weights, as many again for gradients). */
  parameters: number;
  /**
   * Activation values (layer outputs, input gradients, layer buffers) of one model for its largest batch; the
   * default is what a 4 GiB WASM memory holds in float32.
   */
  activations: number;
  /** Nesting depth of JSON/YAML configs and JSON flags. */
  jsonDepth: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  gridRuns: 100_000,
  steps: 10_000_000,
  work: 1e10,
  chainValues: 2 ** 27,
  parameters: 2 ** 29,
  activations: 2 ** 30,
  jsonDepth: 64,
});

/** The environment variable that raises each limit. */
export const LIMIT_ENV: Readonly<Record<keyof Limits, string>> = Object.freeze({
  gridRuns: 'MOMENTUM_LAB_MAX_GRID',
  steps: 'MOMENTUM_LAB_MAX_STEPS',
  work: 'MOMENTUM_LAB_MAX_WORK',
  chainValues: 'MOMENTUM_LAB_MAX_CHAIN_VALUES',
  parameters: 'MOMENTUM_LAB_MAX_PARAMETERS',
  activations: 'MOMENTUM_LAB_MAX_ACTIVATIONS',
  jsonDepth: 'MOMENTUM_LAB_MAX_JSON_DEPTH',
});

let current: Limits = { ...DEFAULT_LIMITS };

export function limits(): Readonly<Limits> {
  return current;
}

/** Replaces some limits (the host calls this once, from its environment); each must be a positive number. */
export function useLimits(over: Partial<Limits>): void {
  for (const [k, v] of Object.entries(over)) {
    if (v !== undefined && !(typeof v === 'number' && v > 0)) throw new UserError(`must be a positive number, got ${String(v)}`, LIMIT_ENV[k as keyof Limits]);
  }
  current = { ...current, ...over };
}

/** Throws a one-line UserError naming `what`, the limit and its environment variable unless `value` ≤ the limit. */
export function checkLimit(value: number, key: keyof Limits, what: string, field?: string): void {
  const max = current[key];
  if (value <= max) return;
  throw new UserError(`${what} is ${fmt(value)}, over the limit of ${fmt(max)} (raise it with ${LIMIT_ENV[key]}=N)`, field);
}

function fmt(x: number): string {
  return Number.isFinite(x) && x < 1e15 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3);
}

/**
 * Depth of nested arrays/objects in parsed JSON, walked iteratively (a recursive walk would overflow the stack on
 * exactly the inputs this refuses); a UserError naming `what` past the jsonDepth limit.
 */
export function checkJsonDepth(value: unknown, what: string): void {
  const max = current.jsonDepth;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) {
      throw new UserError(`${what} is nested more than ${max} levels deep (raise the limit with ${LIMIT_ENV.jsonDepth}=N)`);
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
}
