/**
 * A fast seeded source of standard normals and uniforms in bulk, for Monte-Carlo over many chains.
 *
 * Generator: two interleaved sfc32 streams (same algorithm as `Rng`, seeded from `Rng(seed)` so one integer seed
 * names the stream), inlined in the fill loops. Normals: the ziggurat method with 256 layers (Marsaglia & Tsang 2000, in the
 * formulation of Doornik 2005, "An improved ziggurat method"): one 32-bit draw gives the layer (low 8 bits)
 * and a signed 24-bit abscissa (high 24 bits), so layer and value use disjoint bits; ~99% of draws take the
 * fast path (one multiply, one compare). The wedge and tail use further uniforms, so the law is exactly
 * N(0, 1) up to the 24-bit resolution of the abscissa within a layer.
 */
import { Rng } from '../util/rng.js';

const LAYERS = 256;
/** Right edge of the base layer and area of each layer for the 256-layer normal ziggurat (Marsaglia & Tsang). */
const ZIG_R = 3.6541528853610088;
const ZIG_V = 0.00492867323399;
const TWO_M24 = 1 / 16777216; // 2^−24: maps ±(2m+1), m < 2^23, into (−1, 1)
const TWO_M32 = 1 / 4294967296;

/** Layer edges x_i and ratios x_{i+1}/x_i (Doornik's ZIGNOR tables). */
const ZX = new Float64Array(LAYERS + 1);
const ZR = new Float64Array(LAYERS);
const ZXS = new Float64Array(LAYERS); // x_i · 2^−24
/** Fast-path bound on the 23-bit magnitude m: (m + ½)·2^−23 < x_{i+1}/x_i ⇔ m < ⌈x_{i+1}/x_i·2^23 − ½⌉ (Doornik's |u| < x_{i+1}/x_i). */
const KI = new Int32Array(LAYERS);
{
  let f = Math.exp(-0.5 * ZIG_R * ZIG_R);
  ZX[0] = ZIG_V / f;
  ZX[1] = ZIG_R;
  ZX[LAYERS] = 0;
  for (let i = 2; i < LAYERS; i++) {
    ZX[i] = Math.sqrt(-2 * Math.log(ZIG_V / ZX[i - 1]! + f));
    f = Math.exp(-0.5 * ZX[i]! * ZX[i]!);
  }
  for (let i = 0; i < LAYERS; i++) {
    ZR[i] = ZX[i + 1]! / ZX[i]!;
    ZXS[i] = ZX[i]! * TWO_M24;
    KI[i] = Math.ceil(ZR[i]! * 8388608 - 0.5);
  }
}

const CHUNK = 4096;

/**
 * The ziggurat fast path over out[from..to), advancing two interleaved sfc32 generators (state words 0–3 give
 * the even positions of each pair, 4–7 the odd ones: two independent dependency chains run in parallel on the
 * CPU, 20% faster than one). Draws that miss the fast path are queued in pendK (position) / pendT (raw draw) for
 * `slowPath`, so the hot loop makes no calls; returns how many.
 */
function zigguratChunk(st: Int32Array, out: Float64Array, from: number, to: number, pendK: Int32Array, pendT: Int32Array): number {
  // Tables are aliased into locals: V8 reloads module-level bindings on every iteration otherwise (2.5× slower).
  const ki = KI, zxs = ZXS;
  let a = st[0]!, b = st[1]!, c = st[2]!, d = st[3]!;
  let a2 = st[4]!, b2 = st[5]!, c2 = st[6]!, d2 = st[7]!;
  let pending = 0;
  const pairsEnd = from + ((to - from) & ~1);
  for (let k = from; k < pairsEnd; k += 2) {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    const t2 = (((a2 + b2) | 0) + d2) | 0;
    d2 = (d2 + 1) | 0;
    a2 = b2 ^ (b2 >>> 9);
    b2 = (c2 + (c2 << 3)) | 0;
    c2 = (((c2 << 21) | (c2 >>> 11)) + t2) | 0;
    // Bits 0–7: layer i; bits 8–30: magnitude m; bit 31: sign. The abscissa is u = ±(m + ½)·2^−23 ∈ (−1, 1),
    // symmetric, and the sign is applied without a data-dependent branch.
    const i = t & 255, m = (t >>> 8) & 0x7fffff, s = t >> 31;
    if (m < ki[i]!) {
      out[k] = (((2 * m + 1) ^ s) - s) * zxs[i]!;
    } else {
      pendK[pending] = k;
      pendT[pending++] = t;
    }
    const i2 = t2 & 255, m2 = (t2 >>> 8) & 0x7fffff, s2 = t2 >> 31;
    if (m2 < ki[i2]!) {
      out[k + 1] = (((2 * m2 + 1) ^ s2) - s2) * zxs[i2]!;
    } else {
      pendK[pending] = k + 1;
      pendT[pending++] = t2;
    }
  }
  if (pairsEnd < to) {
    // Odd count: one more draw from the first generator.
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (((c << 21) | (c >>> 11)) + t) | 0;
    const i = t & 255, m = (t >>> 8) & 0x7fffff, s = t >> 31;
    if (m < ki[i]!) out[pairsEnd] = (((2 * m + 1) ^ s) - s) * zxs[i]!;
    else {
      pendK[pending] = pairsEnd;
      pendT[pending++] = t;
    }
  }
  st[0] = a; st[1] = b; st[2] = c; st[3] = d;
  st[4] = a2; st[5] = b2; st[6] = c2; st[7] = d2;
  return pending;
}

export class NormalStream {
  /**
   * Two sfc32 states (a, b, c, d) ×2. Kept in an Int32Array, not in number fields: the words leave V8's
   * small-integer range, and boxed fields made the fill loop 3.5× slower.
   */
  private readonly st = new Int32Array(8);
  /** Positions and raw draws that missed the fast path in the current fill. */
  private pendK = new Int32Array(0);
  private pendT = new Int32Array(0);

  constructor(seed: number) {
    const r = new Rng(seed);
    for (let i = 0; i < 8; i++) this.st[i] = r.nextU32() | 0;
  }

  private u32(): number {
    const st = this.st;
    const a = st[0]!, b = st[1]!, c = st[2]!, d = st[3]!;
    const t = (((a + b) | 0) + d) | 0;
    st[3] = (d + 1) | 0;
    st[0] = b ^ (b >>> 9);
    st[1] = (c + (c << 3)) | 0;
    st[2] = (((c << 21) | (c >>> 11)) + t) | 0;
    return t;
  }

  /** Uniform on (0, 1) (never 0, so its log is finite). */
  private open01(): number {
    return ((this.u32() >>> 0) + 0.5) * TWO_M32;
  }

  /** Fills `out[from..to)` with independent N(0, 1) draws and returns `out`. */
  fillNormal(out: Float64Array, from = 0, to = out.length): Float64Array {
    const n = to - from;
    if (this.pendK.length < Math.min(n, CHUNK)) {
      this.pendK = new Int32Array(CHUNK);
      this.pendT = new Int32Array(CHUNK);
    }
    // Short chunks: V8 then optimises `zigguratChunk` as a whole function instead of on-stack-replacing one long
    // loop, whose code was sometimes 2.5× slower (depending on background-compilation timing).
    for (let lo = from; lo < to; lo += CHUNK) {
      const hi = Math.min(to, lo + CHUNK);
      const pending = zigguratChunk(this.st, out, lo, hi, this.pendK, this.pendT);
      for (let j = 0; j < pending; j++) {
        const t = this.pendT[j]!;
        const s = t >> 31;
        out[this.pendK[j]!] = this.slowPath(t & 255, (((2 * ((t >>> 8) & 0x7fffff) + 1) ^ s) - s) * TWO_M24);
      }
    }
    return out;
  }

  /** Wedge or tail of the ziggurat; loops with fresh draws until a value is accepted. */
  private slowPath(i: number, u: number): number {
    for (;;) {
      if (i === 0) {
        // Tail beyond R (Marsaglia 1964).
        let x: number, y: number;
        do {
          x = Math.log(this.open01()) / ZIG_R;
          y = Math.log(this.open01());
        } while (-2 * y < x * x);
        return u < 0 ? x - ZIG_R : ZIG_R - x;
      }
      const x = u * ZX[i]!;
      const f0 = Math.exp(-0.5 * (ZX[i]! * ZX[i]! - x * x));
      const f1 = Math.exp(-0.5 * (ZX[i + 1]! * ZX[i + 1]! - x * x));
      if (f1 + this.open01() * (f0 - f1) < 1) return x;
      const t = this.u32();
      i = t & 255;
      const s = t >> 31;
      u = (((2 * ((t >>> 8) & 0x7fffff) + 1) ^ s) - s) * TWO_M24;
      if (Math.abs(u) < ZR[i]!) return u * ZX[i]!;
    }
  }

  /** Fills `out[from..to)` with independent uniforms on [0, 1) (32-bit resolution) and returns `out`. */
  fillUniform(out: Float64Array, from = 0, to = out.length): Float64Array {
    for (let k = from; k < to; k++) out[k] = (this.u32() >>> 0) * TWO_M32;
    return out;
  }
}
