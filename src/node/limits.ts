/** Limits raised from the environment (MOMENTUM_LAB_MAX_GRID=… etc., listed in src/core/util/limits.ts). */
import { LIMIT_ENV, useLimits, type Limits } from '../core/util/limits.js';
import { UserError } from '../core/util/errors.js';

export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const [key, name] of Object.entries(LIMIT_ENV) as [keyof Limits, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const v = Number(raw);
    if (!Number.isFinite(v) || v <= 0) throw new UserError(`must be a positive number, got ${JSON.stringify(raw)}`, name);
    out[key] = v;
  }
  return out;
}

export function installEnvLimits(): void {
  useLimits(limitsFromEnv());
}
