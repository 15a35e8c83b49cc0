/**
 * Float64 GEMM for the float64 backend (the advisor's Hessian-vector products, gradient checks): C = op(A)·op(B),
 * or C += op(A)·op(B), with the reference kernel's exact rounding. Every output is summed over p in ascending
 * order from 0, as `referenceGemm` does, so the two agree bit for bit. The speed comes from packing op(A) in 4-row
 * panels and op(B) in 4-column panels into contiguous buffers and computing 4×4 outputs per pass over p, in
 * WebAssembly SIMD (assembly/gemm-f64.ts → build/gemm-f64.wasm) once the host registers it with `useGemmF64Wasm`
 * (Node: installNodeHost), else in the TypeScript loop below; both give the same bits (test/engine/gemm-f64.test.ts).
 */
const TILE = 4;

/** Where the packed panels and the padded product live: plain arrays, or views of the module's memory. */
interface Scratch { pa: Float64Array; pb: Float64Array; out: Float64Array; tiles(mb: number, nb: number, K: number): void }

let gemmModule: WebAssembly.Module | null = null;
let wasmScratch: ((doubles: [number, number, number]) => Scratch) | null = null;
let jsBuffers = { pa: new Float64Array(0), pb: new Float64Array(0), out: new Float64Array(0) };

/**
 * Registers the compiled assembly/gemm-f64.ts (or its bytes) for this thread; null goes back to TypeScript. Either
 * way the products are the same bits.
 */
export function useGemmF64Wasm(source: WebAssembly.Module | BufferSource | null): void {
  gemmModule = source === null || source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  wasmScratch = null;
}

/** Which implementation gemmF64 uses in this thread. */
export function gemmF64Backend(): 'wasm-simd' | 'typescript' {
  return gemmModule === null ? 'typescript' : 'wasm-simd';
}

function wasmScratchOf(module: WebAssembly.Module): (doubles: [number, number, number]) => Scratch {
  const e = new WebAssembly.Instance(module, {}).exports as unknown as {
    memory: WebAssembly.Memory;
    tiles(mb: number, nb: number, K: number, pa: number, pb: number, out: number): void;
  };
  return ([na, nb, no]) => {
    const bytes = 8 * (na + nb + no);
    const have = e.memory.buffer.byteLength;
    if (bytes > have) e.memory.grow(Math.ceil((bytes - have) / 65536));
    // Views are taken after any growth (growing detaches the old buffer).
    const buf = e.memory.buffer;
    const pa = new Float64Array(buf, 0, na), pb = new Float64Array(buf, 8 * na, nb), out = new Float64Array(buf, 8 * (na + nb), no);
    return { pa, pb, out, tiles: (mb, nbl, K) => e.tiles(mb, nbl, K, 0, 8 * na, 8 * (na + nb)) };
  };
}

function jsScratch([na, nb, no]: [number, number, number]): Scratch {
  const b = jsBuffers;
  if (b.pa.length < na) b.pa = new Float64Array(na);
  if (b.pb.length < nb) b.pb = new Float64Array(nb);
  if (b.out.length < no) b.out = new Float64Array(no);
  const { pa, pb, out } = b;
  return { pa, pb, out, tiles: (mb, nbl, K) => jsTiles(mb, nbl, K, pa, pb, out) };
}

export function gemmF64(transA: boolean, transB: boolean, M: number, N: number, K: number,
  A: ArrayLike<number>, B: ArrayLike<number>, C: { [i: number]: number }, accumulate: boolean): void {
  const mb = Math.ceil(M / TILE), nb = Math.ceil(N / TILE);
  const sizes: [number, number, number] = [mb * K * TILE, nb * K * TILE, mb * TILE * nb * TILE];
  const s = gemmModule === null ? jsScratch(sizes) : (wasmScratch ??= wasmScratchOf(gemmModule))(sizes);
  const { pa, pb, out } = s;
  // op(A)[i, p] = A[i·sᵢ + p·sₚ] and op(B)ᵀ[j, p] = B[j·sⱼ + p·sₚ] go into panels the same way.
  packPanels(pa, A, M, K, transA ? 1 : K, transA ? M : 1);
  packPanels(pb, B, N, K, transB ? K : 1, transB ? 1 : N);
  s.tiles(mb, nb, K);
  const ldo = nb * TILE;
  for (let i = 0; i < M; i++) {
    const c = i * N, r = i * ldo;
    if (accumulate) for (let j = 0; j < N; j++) C[c + j] = C[c + j]! + out[r + j]!;
    else for (let j = 0; j < N; j++) C[c + j] = out[r + j]!;
  }
}

/**
 * Rows r of X (element p at X[r·rowStride + p·pStride]) in panels of four: row r's element p at
 * dst[(⌊r/4⌋·K + p)·4 + r mod 4]. Rows past `rows` up to the next multiple of 4 are zero; their products are
 * computed and never read.
 */
function packPanels(dst: Float64Array, X: ArrayLike<number>, rows: number, K: number, rowStride: number, pStride: number): void {
  const padded = Math.ceil(rows / TILE) * TILE;
  for (let r = 0; r < padded; r++) {
    let o = Math.floor(r / TILE) * K * TILE + (r % TILE);
    if (r >= rows) { for (let p = 0; p < K; p++, o += TILE) dst[o] = 0; continue; }
    for (let p = 0, x = r * rowStride; p < K; p++, o += TILE, x += pStride) dst[o] = X[x]!;
  }
}

/** The TypeScript twin of assembly/gemm-f64.ts `tiles`: 16 running sums per 4×4 tile, p ascending from 0. */
function jsTiles(mb: number, nb: number, K: number, pa: Float64Array, pb: Float64Array, out: Float64Array): void {
  const ldo = nb * TILE;
  for (let ib = 0; ib < mb; ib++) {
    for (let jb = 0; jb < nb; jb++) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      let oa = ib * K * TILE, ob = jb * K * TILE;
      for (let p = 0; p < K; p++, oa += TILE, ob += TILE) {
        const a0 = pa[oa]!, a1 = pa[oa + 1]!, a2 = pa[oa + 2]!, a3 = pa[oa + 3]!;
        const b0 = pb[ob]!, b1 = pb[ob + 1]!, b2 = pb[ob + 2]!, b3 = pb[ob + 3]!;
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
        s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
      }
      let o = ib * TILE * ldo + jb * TILE;
      out[o] = s00; out[o + 1] = s01; out[o + 2] = s02; out[o + 3] = s03; o += ldo;
      out[o] = s10; out[o + 1] = s11; out[o + 2] = s12; out[o + 3] = s13; o += ldo;
      out[o] = s20; out[o + 1] = s21; out[o + 2] = s22; out[o + 3] = s23; o += ldo;
      out[o] = s30; out[o + 1] = s31; out[o + 2] = s32; out[o + 3] = s33;
    }
  }
}
