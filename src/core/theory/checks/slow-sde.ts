/**
 * T4 (docs/theory.md §3.5, §5.4): the paper's Theorem 4.5 as stated. On the uv model L̄(u, v) = ½(uv − 1)² with
 * label noise δ plus coordinate noise (s_u, s_v) (`noisyUV`: a covariance that is not proportional to the Hessian),
 * SGD and normalised SGDM start off the manifold Γ = {uv = 1} at x₀ = (2, 1) and run ⌊t/η²⌋ steps for an η → 0
 * sequence. D = u² − v² is conserved by gradient flow, so the projection Φ(x₀) is the point of Γ with D = D₀ = 3,
 * and by Itô's formula the slow SDE in D is
 *
 *   dD = (−δ²D + s_u² − s_v²) dt + 2√(u²s_u² + v²s_v²) dW,   u² = (S + D)/2, v² = (S − D)/2, S = √(D² + 4),
 *
 * whose drift (the Itô term ½∂²D[Σ]) gives E D(t) in closed form and whose noise term raises the sharpness
 * E S(t) above the noise-free flow's; E S(t) comes from an Euler–Maruyama solution of this 1-D SDE.
 * `--noise none` runs noise-free GD and GDM against the same slow SDE: a negative control the check rejects.
 */
import { optimizerConfig } from '../../optim/index.js';
import { checkLimit } from '../../util/limits.js';
import { NormalStream } from '../normals.js';
import { noisyUV } from '../problems.js';
import { meanAndError, simulate } from '../simulate.js';
import { SEED, num, nums, round, str, type CheckDefinition, type Row } from './types.js';

const START = [2, 1] as const;
/** Gradient-flow time after which the iterate is compared with Φ(x₀): the normal direction relaxes as e^{−S·τ}, S ≈ 3.6. */
const FLOW_TIME = 3;
/** Standard errors allowed on top of the tolerance. */
const Z = 4;

const STATEMENT = 'Thm 4.5 (docs/theory.md §3.5): started off Γ, SGD and SGDM at step ⌊t/η²⌋ converge as η → 0 to the same slow SDE started at the gradient-flow projection Φ(x₀)';

/** E D(t) of the slow SDE: D₀e^{−δ²t} + (s_u² − s_v²)(1 − e^{−δ²t})/δ². */
export function slowSdeMeanD(t: number, d0: number, delta: number, noiseU: number, noiseV: number): number {
  const a = noiseU * noiseU - noiseV * noiseV, k = delta * delta;
  return k === 0 ? d0 + a * t : d0 * Math.exp(-k * t) + (a * (1 - Math.exp(-k * t))) / k;
}

/** Euler–Maruyama for the slow SDE in D: mean and standard error of D and S = √(D² + 4) at each time (on the dt grid). */
export function slowSdeMoments(times: readonly number[], o: { d0: number; delta: number; noiseU: number; noiseV: number; paths: number; dt: number; seed: number }):
  Map<number, { d: number; dSe: number; s: number; sSe: number }> {
  const { d0, delta, paths, dt } = o;
  const su2 = o.noiseU ** 2, sv2 = o.noiseV ** 2;
  const at = new Map<number, number[]>();
  for (const t of times) at.set(Math.round(t / dt), [...(at.get(Math.round(t / dt)) ?? []), t]);
  const steps = Math.max(...at.keys());
  checkLimit(paths, 'chainValues', 'the slow SDE\'s Euler–Maruyama state (paths)', 'paths');
  checkLimit(paths * steps, 'work', 'the slow SDE\'s Euler–Maruyama work (paths × t/dt)', 'paths');
  const D = new Float64Array(paths).fill(d0), S = new Float64Array(paths), z = new Float64Array(paths);
  const rng = new NormalStream(o.seed);
  const out = new Map<number, { d: number; dSe: number; s: number; sSe: number }>();
  const record = (k: number): void => {
    const ts = at.get(k);
    if (ts === undefined) return;
    for (let i = 0; i < paths; i++) S[i] = Math.sqrt(D[i]! * D[i]! + 4);
    const d = meanAndError(D), s = meanAndError(S);
    for (const t of ts) out.set(t, { d: d.mean, dSe: d.se, s: s.mean, sSe: s.se });
  };
  record(0);
  const sq = Math.sqrt(dt);
  for (let k = 1; k <= steps; k++) {
    rng.fillNormal(z);
    for (let i = 0; i < paths; i++) {
      const d = D[i]!, s = Math.sqrt(d * d + 4);
      D[i] = d + (-delta * delta * d + su2 - sv2) * dt + 2 * Math.sqrt(((s + d) * su2 + (s - d) * sv2) / 2) * sq * z[i]!;
    }
    record(k);
  }
  return out;
}

export const slowSdeCheck: CheckDefinition = {
  name: 'slow-sde',
  summary: 'Thm 4.5: off-manifold start, non-label noise — SGD and SGDM at k = t/η² converge as η → 0 to the slow SDE from Φ(x₀); GD does not',
  params: {
    eta: { kind: 'numbers', default: [0.04, 0.02, 0.01], help: 'normalised learning rates η, an η → 0 sequence (t = kη²; the smallest is judged)', above: 0, max: 0.1 },
    beta: { kind: 'number', default: 0.9, help: 'momentum β of the SGDM run', above: 0, below: 1 },
    delta: { kind: 'number', default: 1, help: 'label-noise scale δ', min: 0 },
    noiseU: { kind: 'number', default: 1, help: 'coordinate noise s_u on u', min: 0 },
    noiseV: { kind: 'number', default: 0.5, help: 'coordinate noise s_v on v', min: 0 },
    t: { kind: 'numbers', default: [0.25, 0.5, 1], help: 'slow times t = kη² at which the laws are compared (list)', above: 0, max: 4 },
    tol: { kind: 'number', default: 0.05, help: 'absolute tolerance on E D and E S, added to 4 combined standard errors', min: 0 },
    noise: { kind: 'choice', default: 'oracle', choices: ['oracle', 'none'], help: 'gradient noise of the runs: the problem\'s, or none (negative control: GD and GDM)' },
    chains: { kind: 'int', default: 4000, help: 'coupled SGD/SGDM chains per η', min: 2 },
    paths: { kind: 'int', default: 20000, help: 'Euler–Maruyama paths of the slow SDE (dt = 1e-3)', min: 2 },
    seed: SEED,
  },
  run(p) {
    const etas = [...new Set(nums(p, 'eta'))].sort((a, b) => b - a);
    const beta = num(p, 'beta'), delta = num(p, 'delta'), noiseU = num(p, 'noiseU'), noiseV = num(p, 'noiseV'), tol = num(p, 'tol');
    const chains = num(p, 'chains'), seed = num(p, 'seed'), noisy = str(p, 'noise') === 'oracle';
    const times = [...new Set(nums(p, 't'))].sort((a, b) => a - b);
    const d0 = START[0] ** 2 - START[1] ** 2;
    const dt = 1e-3;
    // Projection time per η: FLOW_TIME/η steps, i.e. slow time FLOW_TIME·η (on the Euler–Maruyama grid).
    const projectionStep = (eta: number): number => Math.ceil(FLOW_TIME / eta);
    const allTimes = [...times, ...etas.map((e) => Math.round((projectionStep(e) * e * e) / dt) * dt)];
    const sde = slowSdeMoments(allTimes, { d0, delta, noiseU, noiseV, paths: num(p, 'paths'), dt, seed: seed + 1 });
    const problem = noisy ? noisyUV(delta, noiseU, noiseV) : noisyUV(0, 0, 0);
    const names = noisy ? ['SGD', `SGDM(β=${beta})`] : ['GD', `GDM(β=${beta})`];
    const rows: Row[] = [];
    const D = [new Float64Array(chains), new Float64Array(chains)], S = new Float64Array(chains), off = new Float64Array(chains);
    const gap = new Float64Array(chains);
    const either = new Uint8Array(chains);
    for (const eta of etas) {
      const kp = projectionStep(eta);
      const at = new Map<number, { t: number; phase: string }>(times.map((t) => [Math.max(1, Math.round(t / (eta * eta))), { t, phase: 'slow' }]));
      at.set(kp, { t: Math.round((kp * eta * eta) / dt) * dt, phase: 'projection' });
      const judged = eta === etas[etas.length - 1];
      simulate({
        problem, chains, x0: [...START], steps: Math.max(...at.keys()), seed, every: gcdOf([...at.keys()]),
        runs: [optimizerConfig({ form: 'sgd', lr: eta }), optimizerConfig({ form: 'normalized', lr: eta, momentum: beta })],
        observe(k, xs, diverged) {
          const point = at.get(k);
          if (point === undefined) return;
          const ref = sde.get(point.t)!;
          const meanD = slowSdeMeanD(point.t, d0, delta, noiseU, noiseV);
          xs.forEach((x, r) => {
            // Theorem 4.5 is about Φ(x_k): D(Φ(x)) = D(x) since the flow conserves D, and S(Φ(x)) = √(D² + 4).
            for (let c = 0; c < chains; c++) {
              const u = x[2 * c]!, v = x[2 * c + 1]!;
              const dc = u * u - v * v;
              D[r]![c] = dc;
              S[c] = Math.sqrt(dc * dc + 4);
              off[c] = (u * v - 1) ** 2;
            }
            const d = meanAndError(D[r]!, diverged[r]), s = meanAndError(S, diverged[r]);
            // SGDM − SGD on coupled chains (same noise): its standard error is far below that of either mean.
            let minusFirst: number | null = null, minusFirstSe: number | null = null;
            if (r === 1) {
              for (let c = 0; c < chains; c++) {
                gap[c] = D[1]![c]! - D[0]![c]!;
                either[c] = diverged[0]![c]! | diverged[1]![c]!;
              }
              const g = meanAndError(gap, either);
              minusFirst = round(g.mean, 3);
              minusFirstSe = round(g.se, 2);
            }
            const okD = Math.abs(d.mean - meanD) <= tol + Z * d.se;
            const okS = Math.abs(s.mean - ref.s) <= tol + Z * Math.hypot(s.se, ref.sSe);
            rows.push({ optimizer: names[r]!, eta, phase: point.phase, step: k, t: round(point.t, 4),
              meanD: round(d.mean, 4), sdeD: round(meanD, 5), seD: round(d.se, 2),
              offGamma: round(Math.sqrt(meanAndError(off, diverged[r]).mean), 3), projectedS: round(s.mean, 4), sdeS: round(ref.s, 4), seS: round(Math.hypot(s.se, ref.sSe), 2),
              noiseFreeFlowS: round(Math.sqrt(meanD * meanD + 4), 5), momentumMinusPlainD: minusFirst, gapSe: minusFirstSe, pass: judged ? okD && okS : null });
          });
        },
      });
    }
    // SGD and SGDM approach the same limit: the mean over compared times of their coupled gap |E D(SGDM) − E D(SGD)|
    // must be smaller at the smallest η than at the largest.
    const meanGap = (eta: number): number => {
      const g = rows.filter((r) => r.eta === eta && typeof r.momentumMinusPlainD === 'number').map((r) => Math.abs(r.momentumMinusPlainD as number));
      return g.reduce((x, y) => x + y, 0) / g.length;
    };
    for (const eta of etas) {
      const judgedGap = etas.length > 1 && eta === etas[etas.length - 1];
      rows.push({ optimizer: `${names[1]} − ${names[0]}`, eta, phase: 'mean |gap| in E D', meanAbsGapD: round(meanGap(eta), 3),
        pass: judgedGap ? meanGap(eta) < meanGap(etas[0]!) : null });
    }
    const phiU = Math.sqrt((Math.sqrt(d0 * d0 + 4) + d0) / 2);
    return {
      check: 'slow-sde', pass: rows.every((r) => r.pass !== false), rows, params: p, statement: STATEMENT,
      criterion: `at the smallest η, for ${names.join(' and ')}, at every t and at the projection step ⌈${FLOW_TIME}/η⌉: |E D − E D_sde| ≤ ${tol} + ${Z}·se and |E S(Φ(x)) − E S_sde| ≤ ${tol} + ${Z}·se (D = u² − v², S = u² + v² = tr ∇²L̄ on Γ), and the mean over those points of |E D(${names[1]}) − E D(${names[0]})| on coupled chains is smaller there than at the largest η; larger η show the approach and are not judged otherwise`,
      notes: [
        `tests ${STATEMENT}`,
        `x₀ = (${START.join(', ')}) is off Γ (uv = ${START[0] * START[1]}); Φ(x₀) = (${round(phiU, 4)}, ${round(1 / phiU, 4)}) with D₀ = ${d0}, S(Φ(x₀)) = ${round(Math.sqrt(d0 * d0 + 4), 4)}, against S(x₀) = ${START[0] ** 2 + START[1] ** 2}`,
        `D = u² − v² of the iterate equals D of its projection Φ(x) (gradient flow conserves D); projectedS = S(Φ(x)) = √(D² + 4); offGamma: rms of uv − 1, the iterate's distance from Γ; sdeD: closed form D₀e^{−δ²t} + (s_u² − s_v²)(1 − e^{−δ²t})/δ²; sdeS: Euler–Maruyama of the slow SDE (dt = ${dt}, ${num(p, 'paths')} paths); noiseFreeFlowS: √(sdeD² + 4), the sharpness without the noise term, for contrast; momentumMinusPlainD: E D of ${names[1]} − E D of ${names[0]} on coupled chains`,
        noisy ? `noise: label δ = ${delta}, coordinates s_u = ${noiseU}, s_v = ${noiseV}` : 'noise: none (negative control) — the runs are judged against the noisy problem\'s slow SDE',
      ],
    };
  },
  chart(r) {
    return {
      title: 'Sharpness E S along the slow SDE: simulation (points) vs slow SDE (line), per η',
      layer: [
        { data: { values: r.rows.filter((x) => x.eta === Math.min(...(r.params.eta as number[])) && x.t !== undefined && x.optimizer === r.rows[0]!.optimizer) }, mark: 'line',
          encoding: { x: { field: 't', type: 'quantitative', title: 't = kη²' }, y: { field: 'sdeS', type: 'quantitative', title: 'E (u² + v²)', scale: { zero: false } } } },
        { data: { values: r.rows.filter((x) => x.t !== undefined) }, mark: { type: 'point', filled: true, size: 60 },
          encoding: { x: { field: 't', type: 'quantitative' }, y: { field: 'projectedS', type: 'quantitative' }, color: { field: 'optimizer', type: 'nominal' }, shape: { field: 'eta', type: 'nominal' } } },
      ],
    };
  },
};

/** Greatest common divisor of the observation steps, so the simulator stops at each of them. */
function gcdOf(ks: readonly number[]): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return ks.reduce(gcd);
}
