/**
 * Gradient noise: unbiased estimates of the true gradient's squared norm |G|² = |∇L|² and of the trace of the
 * per-example gradient covariance tr(Σ), and the simple noise scale B_noise = tr(Σ)/|G|²
 * (McCandlish, Kaplan, Amodei et al. 2018, "An Empirical Model of Large-Batch Training", §2.2 and Appendix A).
 *
 * A minibatch gradient G_B over B i.i.d. examples has E|G_B|² = |G|² + tr(Σ)/B. Two batch sizes B_small < B_big
 * therefore give the unbiased pair (their Eq. A.2)
 *     |G|²  = (B_big·|G_big|² − B_small·|G_small|²) / (B_big − B_small)
 *     S     = (|G_small|² − |G_big|²) / (1/B_small − 1/B_big)        (E S = tr Σ).
 * With m microbatches of size b, B_small = b (mean of the m squared norms) and B_big = m·b (norm of their mean);
 * this is exactly the textbook unbiased sample covariance: S = b/(m−1)·Σ_j |g_j − ḡ|².
 * The ratio of two unbiased estimates is biased, so average |G|² and S separately over steps before dividing
 * (McCandlish et al. Appendix A.1), as `NoiseScaleTracker` does.
 * Sampling without replacement from n examples multiplies tr(Σ)/B by (n−B)/(n−1); ignored (B ≪ n in a probe).
 */
import { dot } from './linalg.js';

export interface NoiseEstimate {
  /** Unbiased estimate of |∇L|² (can be negative when the gradient is small compared with the noise). */
  gradNormSq: number;
  /** Unbiased estimate of tr(Σ), Σ the per-example gradient covariance. */
  traceSigma: number;
  /** tr(Σ)/|∇L|²; +Infinity when the |∇L|² estimate is ≤ 0 (noise swamps the signal). */
  bNoise: number;
}

export function simpleNoiseScale(traceSigma: number, gradNormSq: number): number {
  return gradNormSq > 0 ? traceSigma / gradNormSq : Infinity;
}

/** McCandlish et al. Eq. A.2 from squared norms of two minibatch-mean gradients at the same parameters. */
export function twoBatchNoiseEstimate(o: { bSmall: number; normSqSmall: number; bBig: number; normSqBig: number }): NoiseEstimate {
  if (!(o.bBig > o.bSmall && o.bSmall > 0)) throw new Error(`twoBatchNoiseEstimate: need 0 < bSmall < bBig, got ${o.bSmall}, ${o.bBig}`);
  const gradNormSq = (o.bBig * o.normSqBig - o.bSmall * o.normSqSmall) / (o.bBig - o.bSmall);
  const traceSigma = (o.normSqSmall - o.normSqBig) / (1 / o.bSmall - 1 / o.bBig);
  return { gradNormSq, traceSigma, bNoise: simpleNoiseScale(traceSigma, gradNormSq) };
}

/**
 * Streaming moments of m gradient samples at the SAME parameters, each the mean gradient of `microbatch`
 * i.i.d. examples (microbatch 1 = per-example gradients). Memory: one vector.
 */
export class GradientMoments {
  private readonly sum: Float64Array;
  private sumNormSq = 0;
  private m = 0;
  constructor(readonly dim: number, readonly microbatch = 1) {
    if (!(Number.isInteger(microbatch) && microbatch >= 1)) throw new Error(`GradientMoments: microbatch must be a positive integer, got ${microbatch}`);
    this.sum = new Float64Array(dim);
  }
  add(g: ArrayLike<number>): void {
    if (g.length !== this.dim) throw new Error(`GradientMoments: got ${g.length} entries for dimension ${this.dim}`);
    for (let i = 0; i < this.dim; i++) this.sum[i] = this.sum[i]! + g[i]!;
    this.sumNormSq += dot(g, g);
    this.m++;
  }
  get count(): number {
    return this.m;
  }
  mean(): Float64Array {
    return this.sum.map((s) => s / this.m);
  }
  /** The two-batch estimate with B_small = microbatch, B_big = m·microbatch; needs m ≥ 2. */
  estimate(): NoiseEstimate & { samples: number; microbatch: number } {
    if (this.m < 2) throw new Error(`GradientMoments: need at least 2 samples, got ${this.m}`);
    const mean = this.mean();
    const e = twoBatchNoiseEstimate({ bSmall: this.microbatch, normSqSmall: this.sumNormSq / this.m, bBig: this.m * this.microbatch, normSqBig: dot(mean, mean) });
    return { ...e, samples: this.m, microbatch: this.microbatch };
  }
}

/** Standard errors of the per-example estimators when gradients are Gaussian: used by tests and reports. */
export function gaussianNoiseStandardErrors(o: { samples: number; microbatch: number; traceSigmaSq: number; gradSigmaGrad: number }): { traceSigma: number; gradNormSq: number } {
  // Sample covariance of m Gaussian vectors with covariance Σ/b: Var tr(Ŝ) = 2 tr((Σ/b)²)/(m−1); scaled by b.
  // ḡ ~ N(G, Σ/(mb)) independent of Ŝ: Var|ḡ|² = 4GᵀΣG/(mb) + 2tr(Σ²)/(mb)², and |G|² = |ḡ|² − tr(Ŝ)/(mb).
  const { samples: m, microbatch: b, traceSigmaSq: t2, gradSigmaGrad: gsg } = o;
  const varTrace = (2 * t2) / (m - 1);
  const B = m * b;
  const varGrad = (4 * gsg) / B + (2 * t2) / (B * B) + varTrace / (B * B);
  return { traceSigma: Math.sqrt(varTrace), gradNormSq: Math.sqrt(varGrad) };
}

/**
 * Averages |G|² and S estimates over probe steps, then takes the ratio (McCandlish et al. A.1). `decay` = 0 gives
 * the plain mean over all steps; decay ∈ (0, 1) an exponential moving average with bias correction.
 */
export class NoiseScaleTracker {
  private g = 0;
  private s = 0;
  private w = 0;
  private n = 0;
  constructor(readonly decay = 0) {}
  add(e: NoiseEstimate): void {
    if (this.decay > 0) {
      this.g = this.decay * this.g + (1 - this.decay) * e.gradNormSq;
      this.s = this.decay * this.s + (1 - this.decay) * e.traceSigma;
      this.w = this.decay * this.w + (1 - this.decay);
    } else {
      this.g += e.gradNormSq;
      this.s += e.traceSigma;
      this.w += 1;
    }
    this.n++;
  }
  get count(): number {
    return this.n;
  }
  estimate(): NoiseEstimate {
    const g = this.g / this.w;
    const s = this.s / this.w;
    return { gradNormSq: g, traceSigma: s, bNoise: simpleNoiseScale(s, g) };
  }
}
