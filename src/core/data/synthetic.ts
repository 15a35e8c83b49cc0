/**
 * Synthetic tasks for the toy experiments (docs/theory.md §5): linear regression with a chosen input spectrum and label
 * noise (T5), teacher–student regression/classification, Gaussian mixtures. Everything is drawn from one
 * Rng(seed), in a fixed order (task parameters, then train, then test), so a task is a pure function of its options.
 * Classification tasks come back as the same `Dataset` as images (shape [1, 1, d]; features are not in [0, 1]);
 * regression tasks as float64 `RegressionTask`s, since their targets are real numbers.
 */
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { Dataset, Split } from './dataset.js';

export interface RegressionSplit {
  /** n·d inputs, row-major. */
  x: Float64Array;
  y: Float64Array;
  n: number;
}

export interface RegressionTask {
  name: string;
  d: number;
  train: RegressionSplit;
  test: RegressionSplit;
  /** Ground truth and construction details (recorded with a run). */
  meta: Record<string, unknown>;
}

function posInt(v: number, field: string): void {
  if (!Number.isInteger(v) || v < 1) throw new UserError(`must be a positive integer, got ${v}`, field);
}

/** d values log-spaced from lo to hi: λ_j = lo·(hi/lo)^{j/(d−1)}, j = 0..d−1 (ascending). */
export function logSpaced(lo: number, hi: number, d: number): number[] {
  if (!(lo > 0 && hi >= lo)) throw new UserError(`need 0 < min ≤ max, got ${lo}, ${hi}`, 'spectrum');
  return Array.from({ length: d }, (_, j) => (d === 1 ? hi : lo * Math.pow(hi / lo, j / (d - 1))));
}

export interface LinearRegressionOptions {
  /** Dimension d (T5: 50). */
  d?: number;
  /** Training samples (T5: 4096). */
  n?: number;
  nTest?: number;
  /** Input covariance eigenvalues, log-spaced in [min, max] (T5: [1e−2, 10]). */
  spectrum?: [number, number];
  /** Standard deviation of the Gaussian label noise (T5: 0.5). */
  labelNoise?: number;
  seed: number;
  /**
   * Default true: the training inputs are whitened (modified Gram–Schmidt on the columns) so that the empirical
   * Hessian of L(w) = (1/2n)·Σ(xᵢ·w − yᵢ)² is exactly diag(λ), and ηλ_max is known exactly (T5's thresholds).
   * False: i.i.d. rows x ~ N(0, diag λ), whose empirical spectrum deviates by O(√(d/n)).
   */
  exactSpectrum?: boolean;
}

/**
 * Linear regression y = x·w* + σ_y ξ with x ~ N(0, diag λ), λ log-spaced, w* ~ N(0, I). Loss convention
 * L(w) = (1/2n) Σ (x·w − y)², Hessian (1/n) XᵀX (= diag λ exactly with exactSpectrum).
 */
export function linearRegressionTask(o: LinearRegressionOptions): RegressionTask {
  const d = o.d ?? 50;
  const n = o.n ?? 4096;
  const nTest = o.nTest ?? 1024;
  const [lo, hi] = o.spectrum ?? [1e-2, 10];
  const noise = o.labelNoise ?? 0.5;
  const exact = o.exactSpectrum ?? true;
  posInt(d, 'd');
  posInt(n, 'n');
  posInt(nTest, 'nTest');
  if (exact && n < d) throw new UserError(`exactSpectrum needs n ≥ d, got n = ${n}, d = ${d}`, 'n');
  if (!(noise >= 0)) throw new UserError(`must be ≥ 0, got ${noise}`, 'labelNoise');
  const lambda = logSpaced(lo, hi, d);
  const rng = new Rng(o.seed);
  const wStar = Array.from({ length: d }, () => rng.normal());
  const sample = (m: number, whiten: boolean): RegressionSplit => {
    const x = new Float64Array(m * d);
    for (let i = 0; i < x.length; i++) x[i] = rng.normal();
    if (whiten) {
      // Columns z_j: modified Gram–Schmidt, then ‖z_j‖² = m, so (1/m) ZᵀZ = I to rounding.
      for (let j = 0; j < d; j++) {
        for (let k = 0; k < j; k++) {
          let dot = 0;
          for (let i = 0; i < m; i++) dot += x[i * d + j]! * x[i * d + k]!;
          dot /= m;
          for (let i = 0; i < m; i++) x[i * d + j]! -= dot * x[i * d + k]!;
        }
        let nrm = 0;
        for (let i = 0; i < m; i++) nrm += x[i * d + j]! ** 2;
        const s = Math.sqrt(m / nrm);
        for (let i = 0; i < m; i++) x[i * d + j]! *= s;
      }
    }
    const sq = lambda.map(Math.sqrt);
    for (let i = 0; i < m; i++) for (let j = 0; j < d; j++) x[i * d + j]! *= sq[j]!;
    const y = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j]! * wStar[j]!;
      y[i] = s + noise * rng.normal();
    }
    return { x, y, n: m };
  };
  const train = sample(n, exact);
  const test = sample(nTest, false);
  return {
    name: 'linear-regression',
    d,
    train,
    test,
    meta: { eigenvalues: lambda, lambdaMax: hi, wStar, labelNoise: noise, exactSpectrum: exact, loss: '(1/2n)·Σ(x·w − y)²', seed: o.seed },
  };
}

export interface TeacherOptions {
  d: number;
  /** Hidden width of the teacher (one tanh layer). */
  hidden?: number;
  n: number;
  nTest?: number;
  seed: number;
}

interface Teacher {
  w1: Float64Array;
  w2: Float64Array;
  hidden: number;
  out: number;
}

function makeTeacher(rng: Rng, d: number, hidden: number, out: number): Teacher {
  // W1 ~ N(0, 1/d), W2 ~ N(0, 1/hidden): pre-activations and outputs are O(1) for x ~ N(0, I).
  const w1 = Float64Array.from({ length: hidden * d }, () => rng.normal() / Math.sqrt(d));
  const w2 = Float64Array.from({ length: out * hidden }, () => rng.normal() / Math.sqrt(hidden));
  return { w1, w2, hidden, out };
}

function teacherForward(t: Teacher, x: Float64Array | Float32Array, off: number, d: number, h: Float64Array, out: Float64Array): void {
  for (let a = 0; a < t.hidden; a++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += t.w1[a * d + j]! * x[off + j]!;
    h[a] = Math.tanh(s);
  }
  for (let o = 0; o < t.out; o++) {
    let s = 0;
    for (let a = 0; a < t.hidden; a++) s += t.w2[o * t.hidden + a]! * h[a]!;
    out[o] = s;
  }
}

/** Teacher–student regression: y = W2·tanh(W1·x) + σ ξ, x ~ N(0, I_d). */
export function teacherStudentRegression(o: TeacherOptions & { noise?: number }): RegressionTask {
  const hidden = o.hidden ?? 16;
  const nTest = o.nTest ?? Math.max(1, Math.floor(o.n / 4));
  const noise = o.noise ?? 0;
  posInt(o.d, 'd');
  posInt(o.n, 'n');
  posInt(hidden, 'hidden');
  const rng = new Rng(o.seed);
  const t = makeTeacher(rng, o.d, hidden, 1);
  const h = new Float64Array(hidden);
  const f = new Float64Array(1);
  const sample = (m: number): RegressionSplit => {
    const x = Float64Array.from({ length: m * o.d }, () => rng.normal());
    const y = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      teacherForward(t, x, i * o.d, o.d, h, f);
      y[i] = f[0]! + noise * rng.normal();
    }
    return { x, y, n: m };
  };
  const train = sample(o.n);
  const test = sample(nTest);
  return { name: 'teacher-student-regression', d: o.d, train, test, meta: { hidden, noise, teacher: { w1: Array.from(t.w1), w2: Array.from(t.w2) }, seed: o.seed } };
}

/**
 * Teacher–student classification: label = argmax of the teacher's `classes` outputs; with probability
 * `labelNoise` the label is replaced by a uniform random class (train split only; test labels are clean).
 */
export function teacherStudentClassification(o: TeacherOptions & { classes?: number; labelNoise?: number }): Dataset {
  const classes = o.classes ?? 2;
  const hidden = o.hidden ?? 16;
  const nTest = o.nTest ?? Math.max(1, Math.floor(o.n / 4));
  const flip = o.labelNoise ?? 0;
  posInt(o.d, 'd');
  posInt(o.n, 'n');
  if (!Number.isInteger(classes) || classes < 2) throw new UserError(`must be an integer ≥ 2, got ${classes}`, 'classes');
  if (!(flip >= 0 && flip <= 1)) throw new UserError(`must be in [0, 1], got ${flip}`, 'labelNoise');
  const rng = new Rng(o.seed);
  const t = makeTeacher(rng, o.d, hidden, classes);
  const h = new Float64Array(hidden);
  const f = new Float64Array(classes);
  const sample = (m: number, noisy: boolean): Split => {
    const images = Float32Array.from({ length: m * o.d }, () => rng.normal());
    const labels = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      teacherForward(t, images, i * o.d, o.d, h, f);
      let best = 0;
      for (let c = 1; c < classes; c++) if (f[c]! > f[best]!) best = c;
      if (noisy) {
        // Both draws are always made, so the inputs do not depend on the noise level (runs can be coupled).
        const u = rng.uniform();
        const r = rng.int(classes);
        labels[i] = u < flip ? r : best;
      } else labels[i] = best;
    }
    return { images, labels, n: m };
  };
  const train = sample(o.n, true);
  const test = sample(nTest, false);
  return { name: 'teacher-student-classification', source: `synthetic (seed ${o.seed}, d ${o.d}, hidden ${hidden}, label noise ${flip})`, shape: [1, 1, o.d], classes, train, test };
}

export interface GaussianMixtureOptions {
  d: number;
  classes: number;
  n: number;
  nTest?: number;
  /** Class means μ_c ~ N(0, (separation²/d)·I), so ‖μ_c‖ ≈ separation; samples x = μ_y + N(0, I). */
  separation: number;
  seed: number;
}

/** A Gaussian mixture classification task; labels uniform over classes. */
export function gaussianMixture(o: GaussianMixtureOptions): Dataset {
  const nTest = o.nTest ?? Math.max(1, Math.floor(o.n / 4));
  posInt(o.d, 'd');
  posInt(o.n, 'n');
  if (!Number.isInteger(o.classes) || o.classes < 2) throw new UserError(`must be an integer ≥ 2, got ${o.classes}`, 'classes');
  if (!(o.separation >= 0)) throw new UserError(`must be ≥ 0, got ${o.separation}`, 'separation');
  const rng = new Rng(o.seed);
  const mu = Float64Array.from({ length: o.classes * o.d }, () => (rng.normal() * o.separation) / Math.sqrt(o.d));
  const sample = (m: number): Split => {
    const images = new Float32Array(m * o.d);
    const labels = new Int32Array(m);
    for (let i = 0; i < m; i++) {
      const c = rng.int(o.classes);
      labels[i] = c;
      for (let j = 0; j < o.d; j++) images[i * o.d + j] = mu[c * o.d + j]! + rng.normal();
    }
    return { images, labels, n: m };
  };
  const train = sample(o.n);
  const test = sample(nTest);
  return { name: 'gaussian-mixture', source: `synthetic (seed ${o.seed}, d ${o.d}, ${o.classes} classes, separation ${o.separation})`, shape: [1, 1, o.d], classes: o.classes, train, test };
}

/** A synthetic classification set (Gaussian class prototypes + noise, clipped to [0, 1]) for tests and offline use. */
export function syntheticDataset(opts: { shape: readonly number[]; classes: number; train: number; test: number; seed: number; noise?: number }): Dataset {
  const rng = new Rng(opts.seed);
  const S = opts.shape.reduce((a, b) => a * b, 1);
  const protos = Array.from({ length: opts.classes }, () => Float32Array.from({ length: S }, () => rng.uniform()));
  const noise = opts.noise ?? 0.3;
  const make = (n: number): Split => {
    const images = new Float32Array(n * S), labels = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = rng.int(opts.classes);
      labels[i] = c;
      for (let j = 0; j < S; j++) images[i * S + j] = Math.min(1, Math.max(0, protos[c]![j]! + noise * rng.normal()));
    }
    return { images, labels, n };
  };
  return { name: 'synthetic', shape: [...opts.shape], classes: opts.classes, train: make(opts.train), test: make(opts.test) };
}
