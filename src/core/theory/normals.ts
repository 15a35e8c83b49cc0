/**
 * A fast seeded source of standard normals and uniforms in bulk, for Monte-Carlo over many chains.
 *
 * Generator: eight sfc32 streams (same algorithm as `Rng`, seeded from `Rng(seed)` so one integer seed names the
 * stream) run side by side; position k of a fill takes lane k mod 8 of round ⌊k/8⌋. Normals: the ziggurat method
 * with 256 layers (Marsaglia & Tsang 2000, in the formulation of Doornik 2005, "An improved ziggurat method"): one
 * 32-bit draw gives the layer (low 8 bits) and a signed 24-bit abscissa (high 24 bits), so layer and value use
 * disjoint bits; ~99% of draws take the fast path (one compare, one multiply). The wedge and tail use uniforms
 * from a ninth, scalar sfc32 stream, so the law is exactly N(0, 1) up to the 24-bit resolution of the abscissa
 * within a layer.
 *
 * Both bulk loops (eight-lane sfc32, ziggurat fast path) run in WebAssembly SIMD (assembly/normals.ts →
 * build/normals.wasm, `npm run build`) once the host registers that module with `useNormalsWasm` (Node:
 * src/node/host.ts); until then, or where it is not built, the same loops run in TypeScript below and give the
 * same numbers bit for bit (test/theory/normals.test.ts checks this).
 */
import { Rng } from '../util/rng.js';
import { exp, log } from '../util/fmath.js';

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
/** e^{−x_i²/2} at the layer edges (FX[0] is below the base layer's curve: only the tail uses layer 0's edge). */
const FX = new Float64Array(LAYERS + 1);
{
  let f = exp(-0.5 * ZIG_R * ZIG_R);
  ZX[0] = ZIG_V / f;
  ZX[1] = ZIG_R;
  ZX[LAYERS] = 0;
  for (let i = 2; i < LAYERS; i++) {
    ZX[i] = Math.sqrt(-2 * log(ZIG_V / ZX[i - 1]! + f));
    f = exp(-0.5 * ZX[i]! * ZX[i]!);
  }
  for (let i = 0; i < LAYERS; i++) {
    ZR[i] = ZX[i + 1]! / ZX[i]!;
    ZXS[i] = ZX[i]! * TWO_M24;
    KI[i] = Math.ceil(ZR[i]! * 8388608 - 0.5);
  }
  for (let i = 0; i <= LAYERS; i++) FX[i] = exp(-0.5 * ZX[i]! * ZX[i]!);
}

/** Numbers per bulk call (a multiple of 8: whole sfc32 rounds). */
const CHUNK = 4096;
const LANES = 8;

/** The two bulk loops and their buffers: u (raw draws), out, pend (positions that missed the fast path). */
interface Bulk {
  /** Runs `rounds` rounds of the eight lanes whose state is `st` (32 words: a, b, c, d × 8 lanes), draws into u. */
  draws(st: Int32Array, rounds: number): void;
  /** Ziggurat fast path over u[0..n) into out; returns how many positions went to pend. */
  zigFast(n: number): number;
  toUniform(n: number): void;
  readonly u: Int32Array;
  readonly out: Float64Array;
  readonly pend: Int32Array;
  readonly name: 'wasm-simd' | 'typescript';
}

function jsBulk(): Bulk {
  const u = new Int32Array(CHUNK), out = new Float64Array(CHUNK), pend = new Int32Array(CHUNK);
  return {
    u, out, pend, name: 'typescript',
    draws(st, rounds) {
      for (let l = 0; l < LANES; l++) {
        let a = st[l]!, b = st[8 + l]!, c = st[16 + l]!, d = st[24 + l]!;
        for (let r = 0; r < rounds; r++) {
          const t = (((a + b) | 0) + d) | 0;
          d = (d + 1) | 0;
          a = b ^ (b >>> 9);
          b = (c + (c << 3)) | 0;
          c = (((c << 21) | (c >>> 11)) + t) | 0;
          u[r * LANES + l] = t;
        }
        st[l] = a; st[8 + l] = b; st[16 + l] = c; st[24 + l] = d;
      }
    },
    zigFast(n) {
      const ki = KI, zxs = ZXS;
      let p = 0;
      for (let k = 0; k < n; k++) {
        const t = u[k]!;
        const i = t & 255, m = (t >>> 8) & 0x7fffff, s = t >> 31;
        if (m < ki[i]!) out[k] = (((2 * m + 1) ^ s) - s) * zxs[i]!;
        else pend[p++] = k;
      }
      return p;
    },
    toUniform(n) {
      for (let k = 0; k < n; k++) out[k] = (u[k]! >>> 0) * TWO_M32;
    },
  };
}

// Byte offsets in the module's own 2-page (128 KiB) memory; assembly/normals.ts has no static data of its own.
const ST = 0, KI_AT = 1024, ZXS_AT = 2048, U_AT = 8192, OUT_AT = 32768, PEND_AT = 65536;

function wasmBulk(module: WebAssembly.Module): Bulk {
  const e = new WebAssembly.Instance(module, {}).exports as unknown as {
    memory: WebAssembly.Memory;
    sfc32x8(st: number, u: number, rounds: number): void;
    zigFast(u: number, out: number, n: number, ki: number, zxs: number, pend: number): number;
    toUniform(u: number, out: number, n: number): void;
  };
  const buf = e.memory.buffer; // the module never grows its memory, so these views stay valid
  const st = new Int32Array(buf, ST, 32);
  new Int32Array(buf, KI_AT, LAYERS).set(KI);
  new Float64Array(buf, ZXS_AT, LAYERS).set(ZXS);
  return {
    u: new Int32Array(buf, U_AT, CHUNK), out: new Float64Array(buf, OUT_AT, CHUNK), pend: new Int32Array(buf, PEND_AT, CHUNK),
    name: 'wasm-simd',
    draws(state, rounds) {
      st.set(state);
      e.sfc32x8(ST, U_AT, rounds);
      state.set(st);
    },
    zigFast: (n) => e.zigFast(U_AT, OUT_AT, n, KI_AT, ZXS_AT, PEND_AT),
    toUniform: (n) => e.toUniform(U_AT, OUT_AT, n),
  };
}

let normalsModule: WebAssembly.Module | null = null;
let defaultBulk: Bulk | null = null;
let typescriptBulk: Bulk | null = null;

/**
 * Registers the compiled assembly/normals.ts (or its bytes) for this thread: streams created afterwards with
 * 'auto' run their bulk loops in it. null goes back to TypeScript. Either way the numbers are the same.
 */
export function useNormalsWasm(source: WebAssembly.Module | BufferSource | null): void {
  normalsModule = source === null || source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  defaultBulk = null;
}

function bulkFor(backend: NormalBackend): Bulk {
  if (backend === 'typescript') return (typescriptBulk ??= jsBulk());
  if (defaultBulk === null) defaultBulk = normalsModule !== null ? wasmBulk(normalsModule) : (typescriptBulk ??= jsBulk());
  if (backend === 'wasm-simd' && defaultBulk.name !== 'wasm-simd') {
    throw new Error('no normals WebAssembly registered (useNormalsWasm; on Node installNodeHost, after `npm run build`)');
  }
  return defaultBulk;
}

/** 'auto': WebAssembly SIMD when the host registered it (useNormalsWasm), else TypeScript (same numbers either way). */
export type NormalBackend = 'auto' | 'wasm-simd' | 'typescript';

/** Which implementation `auto` uses in this thread. */
export function normalBackend(): 'wasm-simd' | 'typescript' {
  return bulkFor('auto').name;
}

export class NormalStream {
  /**
   * Eight sfc32 lane states, words a, b, c, d × lanes 0–7 (the layout assembly/normals.ts loads as v128s); `sl`
   * is the scalar stream of the wedge and tail. Int32Arrays, not number fields: the words leave V8's small-integer
   * range.
   */
  private readonly st = new Int32Array(32);
  private readonly sl = new Int32Array(4);
  private readonly bulk: Bulk;

  constructor(seed: number, backend: NormalBackend = 'auto') {
    const r = new Rng(seed);
    for (let i = 0; i < 32; i++) this.st[i] = r.nextU32() | 0;
    for (let i = 0; i < 4; i++) this.sl[i] = r.nextU32() | 0;
    this.bulk = bulkFor(backend);
  }

  /** Draw of the scalar stream (wedge and tail only). */
  private u32(): number {
    const st = this.sl;
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

  /**
   * Fills `out[from..to)` with independent N(0, 1) draws and returns `out`. Each call uses whole rounds of the
   * eight lanes (a fill of n numbers consumes ⌈n/8⌉ rounds), so the stream is a function of the seed and the
   * sequence of fill sizes.
   */
  fillNormal(out: Float64Array, from = 0, to = out.length): Float64Array {
    const bulk = this.bulk, u = bulk.u, pend = bulk.pend, res = bulk.out;
    for (let lo = from; lo < to; lo += CHUNK) {
      const n = Math.min(to, lo + CHUNK) - lo;
      bulk.draws(this.st, (n + LANES - 1) >>> 3);
      const pending = bulk.zigFast(n);
      out.set(n === CHUNK ? res : res.subarray(0, n), lo);
      for (let j = 0; j < pending; j++) {
        const k = pend[j]!, t = u[k]!;
        const s = t >> 31;
        out[lo + k] = this.slowPath(t & 255, (((2 * ((t >>> 8) & 0x7fffff) + 1) ^ s) - s) * TWO_M24);
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
          x = log(this.open01()) / ZIG_R;
          y = log(this.open01());
        } while (-2 * y < x * x);
        return u < 0 ? x - ZIG_R : ZIG_R - x;
      }
      // Wedge: accept x when a uniform height between the layer's edges f(x_{i+1}) and f(x_i) falls under
      // f(x) = e^{−x²/2} (one exp; the edges come from the FX table).
      const x = u * ZX[i]!;
      if (FX[i + 1]! + this.open01() * (FX[i]! - FX[i + 1]!) < exp(-0.5 * x * x)) return x;
      const t = this.u32();
      i = t & 255;
      const s = t >> 31;
      u = (((2 * ((t >>> 8) & 0x7fffff) + 1) ^ s) - s) * TWO_M24;
      if (Math.abs(u) < ZR[i]!) return u * ZX[i]!;
    }
  }

  /** Fills `out[from..to)` with independent uniforms on [0, 1) (32-bit resolution) and returns `out`. */
  fillUniform(out: Float64Array, from = 0, to = out.length): Float64Array {
    const bulk = this.bulk;
    for (let lo = from; lo < to; lo += CHUNK) {
      const n = Math.min(to, lo + CHUNK) - lo;
      bulk.draws(this.st, (n + LANES - 1) >>> 3);
      bulk.toUniform(n);
      out.set(n === CHUNK ? bulk.out : bulk.out.subarray(0, n), lo);
    }
    return out;
  }
}
