/**
 * Small dense linear algebra in float64 for the diagnostics: vector kernels and the cyclic Jacobi eigenvalue
 * method for symmetric matrices (Golub & Van Loan, Matrix Computations, 4th ed., §8.5). Jacobi is slow (O(n³) per
 * sweep) but simple and accurate to a few ulps of ‖A‖, which is what the Lanczos tridiagonal (k ≤ ~100) and the
 * explicit test Hessians (n ≤ ~100) need.
 */

export type FloatBuffer = Float32Array | Float64Array;

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

export function norm2(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** y ← y + α·x */
export function axpy(alpha: number, x: ArrayLike<number>, y: FloatBuffer): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + alpha * x[i]!;
}

export function scale(alpha: number, x: FloatBuffer): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * alpha;
}

/** A unit vector with independent standard-normal entries before normalisation (uniform on the sphere). */
export function randomUnitVector(n: number, normal: () => number): Float64Array {
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = normal();
  const s = norm2(v);
  scale(1 / s, v);
  return v;
}

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Eigenvectors as columns of a row-major n×n matrix: vectors[i*n + j] is entry i of eigenvector j. */
  vectors: Float64Array;
  sweeps: number;
}

/**
 * All eigenpairs of the symmetric n×n row-major matrix `a` (not modified) by cyclic Jacobi rotations, stopping
 * when the off-diagonal Frobenius norm falls below 1e-15·‖A‖_F. Only the upper triangle's symmetry is assumed:
 * the input is symmetrised as (A + Aᵀ)/2 first, so a finite-difference Hessian can be passed as it is.
 */
export function symmetricEigen(a: ArrayLike<number>, n: number, maxSweeps = 100): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: expected ${n * n} entries, got ${a.length}`);
  const A = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) A[i * n + j] = 0.5 * (a[i * n + j]! + a[j * n + i]!);
  const V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) V[i * n + i] = 1;
  let fro = 0;
  for (let i = 0; i < n * n; i++) fro += A[i]! * A[i]!;
  const tol = 1e-15 * Math.sqrt(fro);
  let sweeps = 0;
  for (; sweeps < maxSweeps; sweeps++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * A[p * n + q]! ** 2;
    if (Math.sqrt(off) <= tol) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q]!;
        if (apq === 0) continue;
        const app = A[p * n + p]!;
        const aqq = A[q * n + q]!;
        // Rotation angle that zeroes A[p][q] (Golub & Van Loan Alg. 8.5.1, sym.schur2), the smaller root for stability.
        const theta = (aqq - app) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = A[k * n + p]!;
          const akq = A[k * n + q]!;
          A[k * n + p] = c * akp - s * akq;
          A[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = A[p * n + k]!;
          const aqk = A[q * n + k]!;
          A[p * n + k] = c * apk - s * aqk;
          A[q * n + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = V[k * n + p]!;
          const vkq = V[k * n + q]!;
          V[k * n + p] = c * vkp - s * vkq;
          V[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => A[j * n + j]! - A[i * n + i]!);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => {
    values[dst] = A[src * n + src]!;
    for (let k = 0; k < n; k++) vectors[k * n + dst] = V[k * n + src]!;
  });
  return { values, vectors, sweeps };
}
