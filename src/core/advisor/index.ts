/**
 * The momentum advisor's diagnostics. Core (depends only on util/optim): sharpness (λ_max by power iteration or
 * Lanczos on any HVP; finite-difference HVP from any gradient), gradient noise (|∇L|², tr Σ, B_noise), the regime
 * verdict (verdict.ts; its rules in rules.ts, their wording in explain.ts, all re-exported by verdict.ts). Probe (uses engine/nn/data): a short training run that measures them; `adviseConfig` (src/node/advise.ts) ties it together.
 */
export * from './linalg.js';
export * from './sharpness.js';
export * from './noise.js';
export * from './verdict.js';
export * from './validation.js';
export * from './config.js';
export * from './probe.js';
