/**
 * The paper's results as runnable checks (docs/theory.md §3–§5). `runCheck(name, params)` is the programmatic entry
 * point (the CLI `momentum-lab theory <check>` and the paper suite both call it); params are validated and
 * defaults filled in, unknown names and out-of-range values are UserErrors.
 */
import { UserError } from '../../util/errors.js';
import { couplingCheck } from './coupling.js';
import { curvatureVsNoiseCheck } from './curvature-vs-noise.js';
import { slowSdeCheck } from './slow-sde.js';
import { stabilityCheck } from './stability.js';
import { stationaryCheck } from './stationary.js';
import { svagCheck } from './svag.js';
import { resolveParams, type CheckDefinition, type CheckResult } from './types.js';
import { weakApproxCheck } from './weak-approx.js';

export const CHECKS: readonly CheckDefinition[] = [
  stationaryCheck, stabilityCheck, weakApproxCheck, couplingCheck, slowSdeCheck, svagCheck, curvatureVsNoiseCheck,
];

export const CHECK_NAMES = CHECKS.map((c) => c.name);

export function getCheck(name: string): CheckDefinition {
  const c = CHECKS.find((d) => d.name === name);
  if (c === undefined) throw new UserError(`unknown theory check '${name}' (known: ${CHECK_NAMES.join(', ')})`, 'check');
  return c;
}

/** Runs one check with `params` (missing ones take their defaults). */
export function runCheck(name: string, params: Record<string, unknown> = {}): CheckResult {
  const def = getCheck(name);
  return def.run(resolveParams(name, def.params, params));
}

export * from './types.js';
export { measureStationary, sgdmAt, type SgdmForm } from './stationary.js';
export { logLogSlope } from './weak-approx.js';
