/**
 * Closed forms the checks compare simulations with (docs/theory.md §3–§5). η is the normalised (effective) learning
 * rate, β the momentum, ℓ the SVAG level.
 */
import { UserError } from '../util/errors.js';

/** Largest ηλ for which deterministic normalised GDM converges: 2(1+β)/(1−β) (GD: 2; β = 0.9: 38). */
export function normalizedStabilityThreshold(beta: number): number {
  return (2 * (1 + beta)) / (1 - beta);
}

/** Largest γλ for which PyTorch-form GDM converges: 2(1+β) (the same condition with γ = η(1−β)). */
export function pytorchStabilityThreshold(beta: number): number {
  return 2 * (1 + beta);
}

/**
 * Stationary E[L] of normalised SGDM (β = 0: SGD) on L = λx²/2 with g = λx + sξ, with SVAG level ℓ (lr η/ℓ,
 * noise variance ×ℓ):  E[L]∞ = (ηs²/4) / (1 − ηλ(1−β)/(2ℓ(1+β))).
 * ℓ = 1 is the paper's warm-up formula; β = 0 gives SVAG's (ηs²/4)/(1 − ηλ/(2ℓ)). Derivation: the stationary
 * second moments of the linear recursion (x, m); the denominator vanishes exactly at the stability threshold
 * ηλ/ℓ = 2(1+β)/(1−β), beyond which there is no stationary law.
 */
export function stationaryLoss(eta: number, beta: number, lambda: number, s: number, l = 1): number {
  const q = (eta * lambda * (1 - beta)) / (2 * l * (1 + beta));
  if (!(q < 1)) {
    throw new UserError(`no stationary law: ηλ/ℓ = ${fmt(eta * lambda / l)} is not below the stability threshold 2(1+β)/(1−β) = ${fmt(normalizedStabilityThreshold(beta))} for β = ${beta} (lower --eta or --lambda)`, 'eta');
  }
  return (eta * s * s) / 4 / (1 - q);
}

/** Noise-induced part ηs²/4 of the stationary loss: the same for SGD and SGDM (Lemma 2.4's split). */
export function noiseInducedLoss(eta: number, s: number): number {
  return (eta * s * s) / 4;
}

/**
 * Limit of rms|x_K − z_K| / √(η/(1−β)) for normalised SGDM x and SGD z on the same noise, σ = η^{−1/2}, η → 0:
 * x_K − z_K ≈ ησ Σ_i ξ_i β^{K−i+1}, whose variance is η²σ²β²/(1−β²); dividing by η/(1−β) gives β²/(1+β).
 */
export function couplingConstant(beta: number): number {
  return beta / Math.sqrt(1 + beta);
}

/**
 * Sharpness S = u² + v² of the label-noise uv model along its slow SDE (t = kη²):
 * S(t) = √(4 + (S₀² − 4)e^{−2δ²t}). On Γ = {uv = 1}, S = u² + 1/u² and the flow dζ/dt = −(δ²/4)∇_Γ tr∇²L
 * gives d(S² − 4)/dt = −2δ²(S² − 4).
 */
export function slowSdeSharpness(t: number, s0: number, delta: number): number {
  return Math.sqrt(4 + (s0 * s0 - 4) * Math.exp(-2 * delta * delta * t));
}

function fmt(v: number): string {
  return Number(v.toPrecision(6)).toString();
}
