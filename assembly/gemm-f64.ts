// Float64 GEMM tiles of src/core/engine/kernels/gemm-f64.ts, built to build/gemm-f64.wasm by
// `npm run build:wasm-gemm-f64`. The caller packs op(A) in 4-row panels and op(B) in 4-column panels (K entries of
// four doubles each) into this module's memory; each 4×4 tile of the product is summed over p in ascending order
// from 0 with separate f64x2 multiplies and adds (no fused multiply-add), so every output is rounded exactly as the
// TypeScript loop rounds it and the two give the same bits.

/** Tiles of out (row-major, nb·4 columns) = the packed panels' products: mb row panels at pa, nb column panels at pb. */
export function tiles(mb: i32, nb: i32, K: i32, pa: usize, pb: usize, out: usize): void {
  const panel = <usize>K * 32;
  const ldo = <usize>nb * 32;
  for (let ib = 0; ib < mb; ib++) {
    const aStart = pa + <usize>ib * panel;
    const oRow = out + <usize>ib * 4 * ldo;
    for (let jb = 0; jb < nb; jb++) {
      let ap = aStart;
      let bp = pb + <usize>jb * panel;
      let c00 = f64x2.splat(0), c01 = f64x2.splat(0), c10 = f64x2.splat(0), c11 = f64x2.splat(0);
      let c20 = f64x2.splat(0), c21 = f64x2.splat(0), c30 = f64x2.splat(0), c31 = f64x2.splat(0);
      for (let p = 0; p < K; p++) {
        const b0 = v128.load(bp), b1 = v128.load(bp, 16);
        const a0 = v128.load64_splat(ap), a1 = v128.load64_splat(ap, 8), a2 = v128.load64_splat(ap, 16), a3 = v128.load64_splat(ap, 24);
        c00 = f64x2.add(c00, f64x2.mul(a0, b0)); c01 = f64x2.add(c01, f64x2.mul(a0, b1));
        c10 = f64x2.add(c10, f64x2.mul(a1, b0)); c11 = f64x2.add(c11, f64x2.mul(a1, b1));
        c20 = f64x2.add(c20, f64x2.mul(a2, b0)); c21 = f64x2.add(c21, f64x2.mul(a2, b1));
        c30 = f64x2.add(c30, f64x2.mul(a3, b0)); c31 = f64x2.add(c31, f64x2.mul(a3, b1));
        ap += 32;
        bp += 32;
      }
      const o = oRow + <usize>jb * 32;
      v128.store(o, c00); v128.store(o, c01, 16);
      v128.store(o + ldo, c10); v128.store(o + ldo, c11, 16);
      v128.store(o + 2 * ldo, c20); v128.store(o + 2 * ldo, c21, 16);
      v128.store(o + 3 * ldo, c30); v128.store(o + 3 * ldo, c31, 16);
    }
  }
}
