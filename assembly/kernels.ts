// momentum-lab compute kernels, AssemblyScript → WebAssembly (f32x4 SIMD).
//
// Built twice (package.json "build:wasm"): build/kernels.wasm (SIMD) and build/kernels-relaxed.wasm
// (--enable relaxed-simd, which turns `madd` into f32x4.relaxed_madd, a fused multiply-add on x86 with FMA).
// Memory is imported (env.memory, shared) so that worker threads instantiate this same module over the same
// linear memory; all pointers are byte offsets into it, handed out by the JS side (src/core/engine/kernels/wasm.ts).
//
// GEMM follows the BLIS/Goto structure: op(B) is packed into KC×NR column panels, op(A) into MR×KC row panels,
// and an MR×NR register tile of v128 accumulators does the work. Transposition only changes the packing, so
// all four forms share one micro-kernel. Each element of C is computed the same way whatever sub-rectangle a
// thread is given: C[i,j] (+)= Σ_{kc block} (Σ_{p in block, in order} a·b), blocks added in order of p. That makes
// results independent of the thread count.

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 64;
const NC: i32 = 512;

/** Bytes of scratch one GEMM caller needs (packed A block, packed B block, one edge tile). */
export const GEMM_SCRATCH_BYTES: i32 = (MC * KC + KC * NC + MR * NR) * 4;

export function heapBase(): usize {
  return __heap_base;
}

export function gemmScratchBytes(): i32 {
  return GEMM_SCRATCH_BYTES;
}

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(c, f32x4.mul(a, b));
  }
}

export function isRelaxed(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

/** Packs op(A)[i0 .. i0+mc, p0 .. p0+kc] as ⌈mc/MR⌉ panels of kc×MR floats (rows past mc are zero). */
function packA(transA: bool, M: i32, K: i32, A: usize, i0: i32, mc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let r = 0; r < mc; r += MR) {
    const rows = min(MR, mc - r);
    const panel = dst + <usize>(r * kc) * 4;
    if (transA) {
      // A stored K×M: op(A)[i,p] = A[p*M + i]; the MR rows of one p are contiguous.
      const src = A + <usize>(p0 * M + i0 + r) * 4;
      const ld = <usize>M * 4;
      if (rows == MR) {
        for (let p = 0; p < kc; p++) v128.store(panel + <usize>p * 16, v128.load(src + <usize>p * ld));
      } else {
        for (let p = 0; p < kc; p++) {
          const d = panel + <usize>p * 16;
          const s = src + <usize>p * ld;
          for (let ii = 0; ii < MR; ii++) store<f32>(d + <usize>ii * 4, ii < rows ? load<f32>(s + <usize>ii * 4) : 0);
        }
      }
    } else {
      // A stored M×K: op(A)[i,p] = A[i*K + p].
      const src = A + (<usize>(i0 + r) * K + p0) * 4;
      const ld = <usize>K * 4;
      if (rows == MR) {
        let p = 0;
        // 4×4 transposes: four rows' p..p+3 become four packed columns.
        for (; p + 4 <= kc; p += 4) {
          const r0 = v128.load(src + <usize>p * 4);
          const r1 = v128.load(src + ld + <usize>p * 4);
          const r2 = v128.load(src + 2 * ld + <usize>p * 4);
          const r3 = v128.load(src + 3 * ld + <usize>p * 4);
          const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
          const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
          const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
          const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
          const d = panel + <usize>p * 16;
          v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
          v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 16);
          v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 32);
          v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 48);
        }
        for (; p < kc; p++) {
          const d = panel + <usize>p * 16;
          for (let ii = 0; ii < MR; ii++) store<f32>(d + <usize>ii * 4, load<f32>(src + <usize>ii * ld + <usize>p * 4));
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const d = panel + <usize>p * 16;
          for (let ii = 0; ii < MR; ii++) store<f32>(d + <usize>ii * 4, ii < rows ? load<f32>(src + <usize>ii * ld + <usize>p * 4) : 0);
        }
      }
    }
  }
}

/** Packs op(B)[p0 .. p0+kc, j0 .. j0+nc] as ⌈nc/NR⌉ panels of kc×NR floats (columns past nc are zero). */
function packB(transB: bool, N: i32, K: i32, B: usize, j0: i32, nc: i32, p0: i32, kc: i32, dst: usize): void {
  for (let c = 0; c < nc; c += NR) {
    const cols = min(NR, nc - c);
    const panel = dst + <usize>(c * kc) * 4;
    if (!transB) {
      // B stored K×N: op(B)[p,j] = B[p*N + j]; NR columns of one p are contiguous.
      const src = B + (<usize>p0 * N + j0 + c) * 4;
      const ld = <usize>N * 4;
      if (cols == NR) {
        for (let p = 0; p < kc; p++) {
          const s = src + <usize>p * ld;
          const d = panel + <usize>p * 32;
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const s = src + <usize>p * ld;
          const d = panel + <usize>p * 32;
          for (let jj = 0; jj < NR; jj++) store<f32>(d + <usize>jj * 4, jj < cols ? load<f32>(s + <usize>jj * 4) : 0);
        }
      }
    } else {
      // B stored N×K: op(B)[p,j] = B[j*K + p].
      const src = B + (<usize>(j0 + c) * K + p0) * 4;
      const ld = <usize>K * 4;
      if (cols == NR) {
        let p = 0;
        for (; p + 4 <= kc; p += 4) {
          // two 4×4 transposes (columns 0..3 and 4..7)
          for (let h = 0; h < 2; h++) {
            const s = src + <usize>(h * 4) * ld + <usize>p * 4;
            const r0 = v128.load(s);
            const r1 = v128.load(s + ld);
            const r2 = v128.load(s + 2 * ld);
            const r3 = v128.load(s + 3 * ld);
            const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5);
            const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
            const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
            const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
            const d = panel + <usize>p * 32 + <usize>h * 16;
            v128.store(d, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
            v128.store(d, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 32);
            v128.store(d, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 64);
            v128.store(d, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 96);
          }
        }
        for (; p < kc; p++) {
          const d = panel + <usize>p * 32;
          for (let jj = 0; jj < NR; jj++) store<f32>(d + <usize>jj * 4, load<f32>(src + <usize>jj * ld + <usize>p * 4));
        }
      } else {
        for (let p = 0; p < kc; p++) {
          const d = panel + <usize>p * 32;
          for (let jj = 0; jj < NR; jj++) store<f32>(d + <usize>jj * 4, jj < cols ? load<f32>(src + <usize>jj * ld + <usize>p * 4) : 0);
        }
      }
    }
  }
}

/**
 * The MR×NR register tile: acc = Σ_p a[p,:]ᵀ b[p,:] over one kc block (in order of p), then C = acc (add = false)
 * or C = C + acc (add = true). ldc in bytes.
 */
// @ts-ignore: decorator
@inline function microKernel(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, add: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let p = 0; p < kc; p++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  if (add) {
    c00 = f32x4.add(v128.load(c), c00); c01 = f32x4.add(v128.load(c, 16), c01); c += ldc;
    c10 = f32x4.add(v128.load(c), c10); c11 = f32x4.add(v128.load(c, 16), c11); c += ldc;
    c20 = f32x4.add(v128.load(c), c20); c21 = f32x4.add(v128.load(c, 16), c21); c += ldc;
    c30 = f32x4.add(v128.load(c), c30); c31 = f32x4.add(v128.load(c, 16), c31);
    c -= 3 * ldc;
  }
  v128.store(c, c00); v128.store(c, c01, 16); c += ldc;
  v128.store(c, c10); v128.store(c, c11, 16); c += ldc;
  v128.store(c, c20); v128.store(c, c21, 16); c += ldc;
  v128.store(c, c30); v128.store(c, c31, 16);
}

/**
 * C[M×N] = op(A)·op(B) (+ C when accumulate) restricted to rows [i0, i1) and columns [j0, j1) of C.
 * A, B, C, scratch are byte offsets; scratch holds GEMM_SCRATCH_BYTES private to the caller.
 */
export function gemm(transA: i32, transB: i32, M: i32, N: i32, K: i32, A: usize, B: usize, C: usize,
  accumulate: i32, i0: i32, i1: i32, j0: i32, j1: i32, scratch: usize): void {
  if (i1 <= i0 || j1 <= j0) return;
  const ldc = <usize>N * 4;
  if (K == 0) {
    if (!accumulate) for (let i = i0; i < i1; i++) memory.fill(C + <usize>i * ldc + <usize>j0 * 4, 0, <usize>(j1 - j0) * 4);
    return;
  }
  const apack = scratch;
  const bpack = scratch + <usize>(MC * KC) * 4;
  const tile = bpack + <usize>(KC * NC) * 4;
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const add = pc > 0 || accumulate != 0;
      packB(transB != 0, N, K, B, jc, nc, pc, kc, bpack);
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        packA(transA != 0, M, K, A, ic, mc, pc, kc, apack);
        for (let jr = 0; jr < nc; jr += NR) {
          const bp = bpack + <usize>(jr * kc) * 4;
          const cols = min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            const ap = apack + <usize>(ir * kc) * 4;
            const rows = min(MR, mc - ir);
            const c = C + <usize>(ic + ir) * ldc + <usize>(jc + jr) * 4;
            if (rows == MR && cols == NR) {
              if (add) microKernel(kc, ap, bp, c, ldc, true);
              else microKernel(kc, ap, bp, c, ldc, false);
            } else {
              microKernel(kc, ap, bp, tile, <usize>NR * 4, false);
              for (let ii = 0; ii < rows; ii++) {
                for (let jj = 0; jj < cols; jj++) {
                  const d = c + <usize>ii * ldc + <usize>jj * 4;
                  const t = load<f32>(tile + <usize>(ii * NR + jj) * 4);
                  store<f32>(d, add ? load<f32>(d) + t : t);
                }
              }
            }
          }
        }
      }
    }
  }
}

/** im2col for one image x[C×H×W] → cols[(C·kh·kw) × (oh·ow)] (see api.ts). */
export function im2col(x: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, stride: i32, pad: i32, cols: usize): void {
  const oh = (H + 2 * pad - kh) / stride + 1;
  const ow = (W + 2 * pad - kw) / stride + 1;
  let dst = cols;
  for (let c = 0; c < C; c++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
    // Valid z: 0 ≤ z·stride − pad + kj < W.
    let zlo = 0;
    while (zlo < ow && zlo * stride - pad + kj < 0) zlo++;
    let zhi = ow;
    while (zhi > zlo && (zhi - 1) * stride - pad + kj >= W) zhi--;
    for (let y = 0; y < oh; y++) {
      const iy = y * stride - pad + ki;
      if (iy < 0 || iy >= H) {
        memory.fill(dst, 0, <usize>ow * 4);
      } else {
        const row = x + <usize>((c * H + iy) * W) * 4;
        if (zlo > 0) memory.fill(dst, 0, <usize>zlo * 4);
        if (stride == 1) {
          // Rows are short (≈ the image width): an inline SIMD copy beats memory.copy's call overhead.
          const s = row + <usize>(kj - pad) * 4;
          let z = zlo;
          for (; z + 4 <= zhi; z += 4) v128.store(dst + <usize>z * 4, v128.load(s + <usize>z * 4));
          for (; z < zhi; z++) store<f32>(dst + <usize>z * 4, load<f32>(s + <usize>z * 4));
        } else {
          for (let z = zlo; z < zhi; z++) store<f32>(dst + <usize>z * 4, load<f32>(row + <usize>(z * stride - pad + kj) * 4));
        }
        if (zhi < ow) memory.fill(dst + <usize>zhi * 4, 0, <usize>(ow - zhi) * 4);
      }
      dst += <usize>ow * 4;
    }
  }
}

/** Adjoint of im2col: dx[C×H×W] = Σ of cols entries that im2col read from each pixel (dx overwritten). */
export function col2im(cols: usize, C: i32, H: i32, W: i32, kh: i32, kw: i32, stride: i32, pad: i32, dx: usize): void {
  const oh = (H + 2 * pad - kh) / stride + 1;
  const ow = (W + 2 * pad - kw) / stride + 1;
  memory.fill(dx, 0, <usize>(C * H * W) * 4);
  let src = cols;
  for (let c = 0; c < C; c++) for (let ki = 0; ki < kh; ki++) for (let kj = 0; kj < kw; kj++) {
    let zlo = 0;
    while (zlo < ow && zlo * stride - pad + kj < 0) zlo++;
    let zhi = ow;
    while (zhi > zlo && (zhi - 1) * stride - pad + kj >= W) zhi--;
    for (let y = 0; y < oh; y++) {
      const iy = y * stride - pad + ki;
      if (iy >= 0 && iy < H) {
        const row = dx + <usize>((c * H + iy) * W) * 4;
        if (stride == 1) {
          const d = row + <usize>(kj - pad) * 4;
          let z = zlo;
          for (; z + 4 <= zhi; z += 4) {
            const q = d + <usize>z * 4;
            v128.store(q, f32x4.add(v128.load(q), v128.load(src + <usize>z * 4)));
          }
          for (; z < zhi; z++) {
            const q = d + <usize>z * 4;
            store<f32>(q, load<f32>(q) + load<f32>(src + <usize>z * 4));
          }
        } else {
          for (let z = zlo; z < zhi; z++) {
            const q = row + <usize>(z * stride - pad + kj) * 4;
            store<f32>(q, load<f32>(q) + load<f32>(src + <usize>z * 4));
          }
        }
      }
      src += <usize>ow * 4;
    }
  }
}

// ---------------------------------------------------------------------------------------------- element-wise

/** y[o, c, i] += bias[c], y = [outer × channels × inner]. One float32 add per element, as the reference. */
export function biasAdd(y: usize, bias: usize, outer: i32, channels: i32, inner: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const row = y + <usize>(o * channels) * 4;
      let c = 0;
      for (; c + 4 <= channels; c += 4) {
        const q = row + <usize>c * 4;
        v128.store(q, f32x4.add(v128.load(q), v128.load(bias + <usize>c * 4)));
      }
      for (; c < channels; c++) {
        const q = row + <usize>c * 4;
        store<f32>(q, load<f32>(q) + load<f32>(bias + <usize>c * 4));
      }
    }
    return;
  }
  let q = y;
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) {
    const bs = load<f32>(bias + <usize>c * 4);
    const b = f32x4.splat(bs);
    let i = 0;
    for (; i + 4 <= inner; i += 4) { v128.store(q, f32x4.add(v128.load(q), b)); q += 16; }
    for (; i < inner; i++) { store<f32>(q, load<f32>(q) + bs); q += 4; }
  }
}

/**
 * dbias[c] += Σ_{o,i} dy[o, c, i]. inner = 1: one float32 add per row in row order (bit-identical to the
 * reference); inner > 1: each (o, c) plane is summed in float64 over 8 interleaved partial sums, then added.
 */
export function biasGrad(dy: usize, dbias: usize, outer: i32, channels: i32, inner: i32): void {
  if (inner == 1) {
    for (let o = 0; o < outer; o++) {
      const row = dy + <usize>(o * channels) * 4;
      let c = 0;
      for (; c + 4 <= channels; c += 4) {
        const q = dbias + <usize>c * 4;
        v128.store(q, f32x4.add(v128.load(q), v128.load(row + <usize>c * 4)));
      }
      for (; c < channels; c++) {
        const q = dbias + <usize>c * 4;
        store<f32>(q, load<f32>(q) + load<f32>(row + <usize>c * 4));
      }
    }
    return;
  }
  let p = dy;
  for (let o = 0; o < outer; o++) for (let c = 0; c < channels; c++) {
    let s0 = f64x2.splat(0), s1 = f64x2.splat(0), s2 = f64x2.splat(0), s3 = f64x2.splat(0);
    let i = 0;
    for (; i + 8 <= inner; i += 8) {
      const a = v128.load(p), b = v128.load(p, 16);
      s0 = f64x2.add(s0, f64x2.promote_low_f32x4(a));
      s1 = f64x2.add(s1, f64x2.promote_low_f32x4(v128.shuffle<f32>(a, a, 2, 3, 0, 1)));
      s2 = f64x2.add(s2, f64x2.promote_low_f32x4(b));
      s3 = f64x2.add(s3, f64x2.promote_low_f32x4(v128.shuffle<f32>(b, b, 2, 3, 0, 1)));
      p += 32;
    }
    const t = f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3));
    let s = f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
    for (; i < inner; i++) { s += <f64>load<f32>(p); p += 4; }
    const q = dbias + <usize>c * 4;
    store<f32>(q, <f32>(<f64>load<f32>(q) + s));
  }
}

/** y = x > 0 ? x : 0 (NaN and −0 give +0, as the reference's comparison). */
export function reluForward(x: usize, y: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const v = v128.load(x + <usize>i * 4);
    v128.store(y + <usize>i * 4, v128.and(v, f32x4.gt(v, z)));
  }
  for (; i < n; i++) { const v = load<f32>(x + <usize>i * 4); store<f32>(y + <usize>i * 4, v > 0 ? v : 0); }
}

/** dx = y > 0 ? dy : 0. */
export function reluBackward(y: usize, dy: usize, dx: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), z)));
  }
  for (; i < n; i++) { const o = <usize>i * 4; store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0); }
}

/**
 * Max pooling, no padding. The window is scanned in row-major order from best = −∞; an element replaces the best
 * when it is greater or NaN (so the first maximum wins and NaN propagates), as MaxPool2d in layers/pool.ts.
 */
export function maxPoolForward(x: usize, y: usize, arg: usize, planes: i32, H: i32, W: i32, k: i32, stride: i32): void {
  maxPoolForwardRange(x, y, arg, 0, planes, H, W, k, stride);
}

function maxPoolForwardRange(x: usize, y: usize, arg: usize, p0: i32, p1: i32, H: i32, W: i32, k: i32, stride: i32): void {
  const OH = (H - k) / stride + 1;
  const OW = (W - k) / stride + 1;
  let o: usize = <usize>(p0 * OH * OW);
  for (let p = p0; p < p1; p++) {
    const base = p * H * W;
    for (let oy = 0; oy < OH; oy++) {
      let ox = 0;
      if (k == 2 && stride == 2) {
        // Four windows at once: lanes hold windows ox..ox+3; a, b = top row pairs, c, d = bottom row pairs.
        const r0 = base + 2 * oy * W;
        const r1 = r0 + W;
        const lane = i32x4(0, 2, 4, 6);
        for (; ox + 4 <= OW; ox += 4) {
          const t0 = v128.load(x + <usize>(r0 + 2 * ox) * 4), t1 = v128.load(x + <usize>(r0 + 2 * ox) * 4, 16);
          const u0 = v128.load(x + <usize>(r1 + 2 * ox) * 4), u1 = v128.load(x + <usize>(r1 + 2 * ox) * 4, 16);
          const a = v128.shuffle<f32>(t0, t1, 0, 2, 4, 6), b = v128.shuffle<f32>(t0, t1, 1, 3, 5, 7);
          const c = v128.shuffle<f32>(u0, u1, 0, 2, 4, 6), d = v128.shuffle<f32>(u0, u1, 1, 3, 5, 7);
          const ia = i32x4.add(i32x4.splat(r0 + 2 * ox), lane);
          const ib = i32x4.add(ia, i32x4.splat(1));
          const ic = i32x4.add(ia, i32x4.splat(W));
          const id = i32x4.add(ic, i32x4.splat(1));
          let best = a, bi = ia;
          let m = v128.or(f32x4.gt(b, best), f32x4.ne(b, b));
          best = v128.bitselect(b, best, m); bi = v128.bitselect(ib, bi, m);
          m = v128.or(f32x4.gt(c, best), f32x4.ne(c, c));
          best = v128.bitselect(c, best, m); bi = v128.bitselect(ic, bi, m);
          m = v128.or(f32x4.gt(d, best), f32x4.ne(d, d));
          best = v128.bitselect(d, best, m); bi = v128.bitselect(id, bi, m);
          v128.store(y + o * 4, best);
          v128.store(arg + o * 4, bi);
          o += 4;
        }
      }
      for (; ox < OW; ox++) {
        let best = -Infinity as f32;
        let bi = base + oy * stride * W + ox * stride;
        for (let ky = 0; ky < k; ky++) {
          const row = base + (oy * stride + ky) * W + ox * stride;
          for (let kx = 0; kx < k; kx++) {
            const v = load<f32>(x + <usize>(row + kx) * 4);
            if (v > best || v != v) { best = v; bi = row + kx; }
          }
        }
        store<f32>(y + o * 4, best);
        store<i32>(arg + o * 4, bi);
        o++;
      }
    }
  }
}

/** dx = 0, then dx[arg[o]] += dy[o]. */
export function maxPoolBackward(dy: usize, arg: usize, dx: usize, planes: i32, H: i32, W: i32, k: i32, stride: i32): void {
  maxPoolBackwardRange(dy, arg, dx, 0, planes, H, W, k, stride);
}

/** Planes [p0, p1): their arg entries must point into those planes (as maxPoolForward writes them). */
function maxPoolBackwardRange(dy: usize, arg: usize, dx: usize, p0: i32, p1: i32, H: i32, W: i32, k: i32, stride: i32): void {
  const OH = (H - k) / stride + 1, OW = (W - k) / stride + 1;
  if (k == 2 && stride == 2) {
    // Non-overlapping windows: write every covered pixel directly (dy at the argmax, 0 elsewhere; 0 + dy as the
    // reference computes it, so −0 becomes +0), then zero the uncovered last row/column of odd sizes.
    const zero = f32x4.splat(0);
    const lane = i32x4(0, 2, 4, 6);
    let o = p0 * OH * OW;
    for (let p = p0; p < p1; p++) {
      const base = p * H * W;
      for (let oy = 0; oy < OH; oy++) {
        const r0 = base + 2 * oy * W;
        let ox = 0;
        for (; ox + 4 <= OW; ox += 4) {
          const g = v128.load(dy + <usize>o * 4), a = v128.load(arg + <usize>o * 4);
          const ia = i32x4.add(i32x4.splat(r0 + 2 * ox), lane);
          const tl = f32x4.add(v128.and(g, i32x4.eq(a, ia)), zero);
          const tr = f32x4.add(v128.and(g, i32x4.eq(a, i32x4.add(ia, i32x4.splat(1)))), zero);
          const bl = f32x4.add(v128.and(g, i32x4.eq(a, i32x4.add(ia, i32x4.splat(W)))), zero);
          const br = f32x4.add(v128.and(g, i32x4.eq(a, i32x4.add(ia, i32x4.splat(W + 1)))), zero);
          const d0 = dx + <usize>(r0 + 2 * ox) * 4, d1 = d0 + <usize>W * 4;
          v128.store(d0, v128.shuffle<f32>(tl, tr, 0, 4, 1, 5));
          v128.store(d0, v128.shuffle<f32>(tl, tr, 2, 6, 3, 7), 16);
          v128.store(d1, v128.shuffle<f32>(bl, br, 0, 4, 1, 5));
          v128.store(d1, v128.shuffle<f32>(bl, br, 2, 6, 3, 7), 16);
          o += 4;
        }
        for (; ox < OW; ox++) {
          const g = load<f32>(dy + <usize>o * 4), a = load<i32>(arg + <usize>o * 4);
          const i = r0 + 2 * ox;
          store<f32>(dx + <usize>i * 4, a == i ? <f32>0 + g : 0);
          store<f32>(dx + <usize>(i + 1) * 4, a == i + 1 ? <f32>0 + g : 0);
          store<f32>(dx + <usize>(i + W) * 4, a == i + W ? <f32>0 + g : 0);
          store<f32>(dx + <usize>(i + W + 1) * 4, a == i + W + 1 ? <f32>0 + g : 0);
          o++;
        }
        if (W > 2 * OW) for (let c = 2 * OW; c < W; c++) {
          store<f32>(dx + <usize>(r0 + c) * 4, 0);
          store<f32>(dx + <usize>(r0 + W + c) * 4, 0);
        }
      }
      if (H > 2 * OH) memory.fill(dx + <usize>(base + 2 * OH * W) * 4, 0, <usize>((H - 2 * OH) * W) * 4);
    }
    return;
  }
  memory.fill(dx + <usize>(p0 * H * W) * 4, 0, <usize>((p1 - p0) * H * W) * 4);
  const m = (p1 - p0) * OH * OW;
  const first = p0 * OH * OW;
  for (let o = first; o < first + m; o++) {
    const q = dx + <usize>load<i32>(arg + <usize>o * 4) * 4;
    store<f32>(q, load<f32>(q) + load<f32>(dy + <usize>o * 4));
  }
}

// ---------------------------------------------------------------------------------------------- threaded GEMM
//
// All threads call gemmShared with the same arguments. op(A) (all of it) and op(B) (all of it) are packed into
// shared buffers by "pack items", then C is computed in "tile items"; items are claimed dynamically with a CAS on
// a claim word holding (generation << 20 | next item), so a thread that arrives late (descheduled, still asleep)
// claims nothing and nobody waits for it, and a thread from an older call can never claim a newer call's item.
// A tile item waits until every pack item is done. Each element is computed exactly as in `gemm` (kc blocks in
// order of p, C (+)= block sum), so results are bit-identical to the single-thread path.
//
// Control words at ctl: [0] claim word, [4] items completed.

const GA: i32 = 8; // MR-panels per A pack item (32 rows)
const GB: i32 = 8; // NR-panels per B pack item (64 columns)
const TI: i32 = 8; // MR-panels per tile item (32 rows)
const TJ: i32 = 8; // NR-panels per tile item (64 columns)

/** Floats the shared packed op(A) needs. */
export function sharedPackABytes(M: i32, K: i32): i32 {
  return ((M + MR - 1) / MR) * MR * K * 4;
}

/** Floats the shared packed op(B) needs. */
export function sharedPackBBytes(N: i32, K: i32): i32 {
  return ((N + NR - 1) / NR) * NR * K * 4;
}

// @ts-ignore: decorator
@inline function waitAtLeast(ptr: usize, target: i32, spin: i32): void {
  let n = 0;
  for (;;) {
    const d = atomic.load<i32>(ptr);
    if (d >= target) return;
    if (++n > spin) atomic.wait<i32>(ptr, d, 1000000); // 1 ms timeout: robust to a missed notify
  }
}

export function gemmShared(transA: i32, transB: i32, M: i32, N: i32, K: i32, A: usize, B: usize, C: usize,
  accumulate: i32, ctl: usize, gen: i32, pa: usize, pb: usize, tile: usize, spin: i32, waitAll: i32): void {
  const mPanels = (M + MR - 1) / MR, nPanels = (N + NR - 1) / NR;
  const Mp = mPanels * MR, Np = nPanels * NR;
  const nKB = (K + KC - 1) / KC;
  const aGroups = (mPanels + GA - 1) / GA, bGroups = (nPanels + GB - 1) / GB;
  const nPack = nKB * (aGroups + bGroups);
  const tRows = (mPanels + TI - 1) / TI, tCols = (nPanels + TJ - 1) / TJ;
  const total = nPack + tRows * tCols;
  const tag = (gen & 0xfff) << 20;
  const done = ctl + 4;
  const ldc = <usize>N * 4;
  for (;;) {
    const v = atomic.load<i32>(ctl);
    if ((v & 0xfff00000) != tag) break;
    const item = v & 0xfffff;
    if (item >= total) break;
    if (atomic.cmpxchg<i32>(ctl, v, v + 1) != v) continue;
    if (item < nPack) {
      const kb = item % nKB;
      const g = item / nKB;
      const pc = kb * KC, kc = min(KC, K - pc);
      if (g < aGroups) {
        const i0 = g * GA * MR;
        packA(transA != 0, M, K, A, i0, min(GA * MR, M - i0), pc, kc, pa + (<usize>pc * Mp + <usize>i0 * kc) * 4);
      } else {
        const j0 = (g - aGroups) * GB * NR;
        packB(transB != 0, N, K, B, j0, min(GB * NR, N - j0), pc, kc, pb + (<usize>pc * Np + <usize>j0 * kc) * 4);
      }
      if (atomic.add<i32>(done, 1) + 1 == nPack) atomic.notify(done);
    } else {
      waitAtLeast(done, nPack, spin);
      const t = item - nPack;
      const i0 = (t / tCols) * TI * MR, i1 = min(M, i0 + TI * MR);
      const j0 = (t % tCols) * TJ * NR, j1 = min(N, j0 + TJ * NR);
      for (let pc = 0; pc < K; pc += KC) {
        const kc = min(KC, K - pc);
        const add = pc > 0 || accumulate != 0;
        const abase = pa + <usize>pc * Mp * 4, bbase = pb + <usize>pc * Np * 4;
        for (let j = j0; j < j1; j += NR) {
          const bp = bbase + <usize>j * kc * 4;
          const cols = min(NR, j1 - j);
          for (let i = i0; i < i1; i += MR) {
            const ap = abase + <usize>i * kc * 4;
            const rows = min(MR, i1 - i);
            const c = C + <usize>i * ldc + <usize>j * 4;
            if (rows == MR && cols == NR) {
              if (add) microKernel(kc, ap, bp, c, ldc, true);
              else microKernel(kc, ap, bp, c, ldc, false);
            } else {
              microKernel(kc, ap, bp, tile, <usize>NR * 4, false);
              for (let ii = 0; ii < rows; ii++) {
                for (let jj = 0; jj < cols; jj++) {
                  const d = c + <usize>ii * ldc + <usize>jj * 4;
                  const tv = load<f32>(tile + <usize>(ii * NR + jj) * 4);
                  store<f32>(d, add ? load<f32>(d) + tv : tv);
                }
              }
            }
          }
        }
      }
      if (atomic.add<i32>(done, 1) + 1 == total) atomic.notify(done);
    }
  }
  if (waitAll) waitAtLeast(done, total, spin);
}

// ---------------------------------------------------------------------------------------------- optimizer

/**
 * The hot loop of src/optim pytorchStep (wd = 0, τ = 0, no Nesterov, not the first step, not maximising):
 * b ← β·b + g;  x ← x − lr·b, evaluated in float64 in the same operation order as the TypeScript loop (the
 * unrounded b is used for x), so results are bit-identical to it.
 */
export function sgdMomentumStep(x: usize, g: usize, b: usize, n: i32, lr: f64, beta: f64): void {
  const a = -lr;
  const va = f64x2.splat(a), vbeta = f64x2.splat(beta);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i * 4;
    const b4 = v128.load(b + o), g4 = v128.load(g + o), x4 = v128.load(x + o);
    const bl = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(b4), vbeta), f64x2.promote_low_f32x4(g4));
    const bh = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<f32>(b4, b4, 2, 3, 0, 1)), vbeta),
      f64x2.promote_low_f32x4(v128.shuffle<f32>(g4, g4, 2, 3, 0, 1)));
    const xl = f64x2.add(f64x2.promote_low_f32x4(x4), f64x2.mul(va, bl));
    const xh = f64x2.add(f64x2.promote_low_f32x4(v128.shuffle<f32>(x4, x4, 2, 3, 0, 1)), f64x2.mul(va, bh));
    v128.store(b + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(bl), f32x4.demote_f64x2_zero(bh), 0, 1, 4, 5));
    v128.store(x + o, v128.shuffle<f32>(f32x4.demote_f64x2_zero(xl), f32x4.demote_f64x2_zero(xh), 0, 1, 4, 5));
  }
  for (; i < n; i++) {
    const o = <usize>i * 4;
    const bi = <f64>load<f32>(b + o) * beta + <f64>load<f32>(g + o);
    store<f32>(b + o, <f32>bi);
    store<f32>(x + o, <f32>(<f64>load<f32>(x + o) + a * bi));
  }
}

// ---------------------------------------------------------------------------------------------- threaded element-wise

/**
 * Max pooling and ReLU split across threads (claimed like gemmShared). Items are disjoint and each does exactly
 * the single-thread work for its part, so results do not depend on the thread count.
 * kind 0 maxPoolForward (x, y, arg, planes, H, W, k, stride, planes per item),
 * kind 1 maxPoolBackward (dy, arg, dx, planes, H, W, k, stride, planes per item): groups of a8 planes per item;
 * kind 2 reluForward (x, y, n), kind 3 reluBackward (y, dy, n, dx): 16K-element chunks. Unused trailing arguments are 0.
 */
export function poolReluParallel(kind: i32, a0: i32, a1: i32, a2: i32, a3: i32, a4: i32, a5: i32, a6: i32, a7: i32, a8: i32,
  ctl: usize, gen: i32, spin: i32, waitAll: i32): void {
  const total = kind <= 1 ? (a3 + a8 - 1) / a8 : (a2 + 16383) / 16384;
  const tag = (gen & 0xfff) << 20;
  const done = ctl + 4;
  for (;;) {
    const v = atomic.load<i32>(ctl);
    if ((v & 0xfff00000) != tag) break;
    const item = v & 0xfffff;
    if (item >= total) break;
    if (atomic.cmpxchg<i32>(ctl, v, v + 1) != v) continue;
    if (kind <= 1) {
      const q0 = item * a8, q1 = min(a3, q0 + a8);
      if (kind == 0) maxPoolForwardRange(<usize>a0, <usize>a1, <usize>a2, q0, q1, a4, a5, a6, a7);
      else maxPoolBackwardRange(<usize>a0, <usize>a1, <usize>a2, q0, q1, a4, a5, a6, a7);
    } else {
      const i0 = item * 16384, m = min(16384, a2 - i0), o = <usize>i0 * 4;
      if (kind == 2) reluForward(<usize>a0 + o, <usize>a1 + o, m);
      else reluBackward(<usize>a0 + o, <usize>a1 + o, <usize>a3 + o, m);
    }
    if (atomic.add<i32>(done, 1) + 1 == total) atomic.notify(done);
  }
  if (waitAll) waitAtLeast(done, total, spin);
}

/** sgdMomentumStep over chunks of `chunk` elements claimed by all threads (element-wise: any split gives the same bits). */
export function sgdMomentumParallel(x: usize, g: usize, b: usize, n: i32, lr: f64, beta: f64, chunk: i32,
  ctl: usize, gen: i32, spin: i32, waitAll: i32): void {
  const total = (n + chunk - 1) / chunk;
  const tag = (gen & 0xfff) << 20;
  const done = ctl + 4;
  for (;;) {
    const v = atomic.load<i32>(ctl);
    if ((v & 0xfff00000) != tag) break;
    const item = v & 0xfffff;
    if (item >= total) break;
    if (atomic.cmpxchg<i32>(ctl, v, v + 1) != v) continue;
    const i0 = item * chunk, m = min(chunk, n - i0);
    const o = <usize>i0 * 4;
    sgdMomentumStep(x + o, g + o, b + o, m, lr, beta);
    if (atomic.add<i32>(done, 1) + 1 == total) atomic.notify(done);
  }
  if (waitAll) waitAtLeast(done, total, spin);
}
