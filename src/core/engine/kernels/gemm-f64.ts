/**
 * Float64 GEMM for the float64 backend (the advisor's Hessian-vector products, gradient checks): C = op(A)·op(B),
 * or C += op(A)·op(B), with the reference kernel's exact rounding. Every output is summed over p in ascending
 * order from 0, as `referenceGemm` does, so the two agree bit for bit; the speed comes from packing 4-row panels of
 * op(A) and 4-column panels of op(B) into contiguous buffers and computing 4×4 outputs per pass over p.
 */
const TILE = 4;

let packA = new Float64Array(0);
let packB = new Float64Array(0);

export function gemmF64(transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: ArrayLike<number>, B: ArrayLike<number>, C: { [i: number]: number }, accumulate: boolean): void {
  const nb = Math.ceil(N / TILE);
  if (packB.length < nb * K * TILE) packB = new Float64Array(nb * K * TILE);
  if (packA.length < K * TILE) packA = new Float64Array(K * TILE);
  const pb = packB, pa = packA;
  // op(B)[p, j] for j in column block jb at pb[(jb·K + p)·4 + (j − 4·jb)]; columns past N are zero.
  for (let jb = 0; jb < nb; jb++) {
    for (let jj = 0; jj < TILE; jj++) {
      const j = jb * TILE + jj;
      let o = jb * K * TILE + jj;
      if (j >= N) { for (let p = 0; p < K; p++, o += TILE) pb[o] = 0; continue; }
      if (transB) for (let p = 0; p < K; p++, o += TILE) pb[o] = B[j * K + p]!;
      else for (let p = 0; p < K; p++, o += TILE) pb[o] = B[p * N + j]!;
    }
  }
  for (let i0 = 0; i0 < M; i0 += TILE) {
    const rows = Math.min(TILE, M - i0);
    for (let ii = 0; ii < TILE; ii++) {
      const i = i0 + ii;
      let o = ii;
      if (ii >= rows) { for (let p = 0; p < K; p++, o += TILE) pa[o] = 0; continue; }
      if (transA) for (let p = 0; p < K; p++, o += TILE) pa[o] = A[p * M + i]!;
      else for (let p = 0; p < K; p++, o += TILE) pa[o] = A[i * K + p]!;
    }
    for (let jb = 0; jb < nb; jb++) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      let ob = jb * K * TILE;
      for (let p = 0, oa = 0; p < K; p++, oa += TILE, ob += TILE) {
        const a0 = pa[oa]!, a1 = pa[oa + 1]!, a2 = pa[oa + 2]!, a3 = pa[oa + 3]!;
        const b0 = pb[ob]!, b1 = pb[ob + 1]!, b2 = pb[ob + 2]!, b3 = pb[ob + 3]!;
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
        s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
      }
      const j0 = jb * TILE, cols = Math.min(TILE, N - j0);
      const put = (i: number, j: number, s: number): void => {
        if (i < rows && j < cols) { const c = (i0 + i) * N + j0 + j; C[c] = accumulate ? C[c]! + s : s; }
      };
      put(0, 0, s00); put(0, 1, s01); put(0, 2, s02); put(0, 3, s03);
      put(1, 0, s10); put(1, 1, s11); put(1, 2, s12); put(1, 3, s13);
      put(2, 0, s20); put(2, 1, s21); put(2, 2, s22); put(2, 3, s23);
      put(3, 0, s30); put(3, 1, s31); put(3, 2, s32); put(3, 3, s33);
    }
  }
}
