/**
 * exp and log from IEEE-754 additions, multiplications and divisions only, so they give the same bits on every
 * JavaScript engine. `Math.exp` and `Math.log` are not specified to the last bit: Node 20's V8 and Chromium's differ
 * in it, and a loss summed from them would not be bit-identical between the CLI and the browser lab.
 *
 * Both are accurate to about 1 ulp (test/core/fmath.test.ts measures the error against a float64 reference).
 */

const LN2_HI = 0.6931471803691238; // ln 2 rounded to 32 significant bits, so k·LN2_HI is exact for |k| < 2^21
const LN2_LO = 1.9082149292705877e-10; // ln 2 − LN2_HI
const INV_LN2 = 1.4426950408889634;
const EXP_MAX = 709.782712893384; // above: e^x overflows
const EXP_MIN = -745.1332191019412; // below: e^x rounds to 0

const bits = new DataView(new ArrayBuffer(8));

/** 2^k for an integer k in [−1022, 1023], built from its bit pattern. */
function pow2(k: number): number {
  bits.setUint32(0, (k + 1023) << 20);
  bits.setUint32(4, 0);
  return bits.getFloat64(0);
}

/**
 * e^x = 2^k · e^r with k = round(x / ln 2) and |r| ≤ ln 2 / 2, where r = hi − lo keeps the bits the subtraction
 * rounds away in c. e^r = 1 + r + r²·q(r) with q the Taylor series 1/2! + r/3! + … + r^11/13! (the next term is
 * below 2^−56 of the sum); 1 + r is summed exactly (its rounding error kept in err), so the result rounds once.
 */
export function exp(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x > EXP_MAX) return Infinity;
  if (x < EXP_MIN) return 0;
  const k = Math.round(x * INV_LN2);
  const hi = x - k * LN2_HI, lo = k * LN2_LO;
  const r = hi - lo;
  const c = (hi - r) - lo;
  let q = FACTORIAL_INV[13]!;
  for (let n = 12; n >= 2; n--) q = q * r + FACTORIAL_INV[n]!;
  const s = 1 + r;
  const err = (1 - s) + r;
  const er = s + (err + (c + r * r * q));
  if (k > 1023) return er * pow2(1023) * pow2(k - 1023);
  // A subnormal result (k ≥ −1075 here): scale in two steps so neither factor leaves the normal range.
  if (k < -1022) return er * pow2(k + 54) * pow2(-54);
  return er * pow2(k);
}

/** 1/n! for n = 0…13, each rounded once. */
const FACTORIAL_INV: number[] = (() => {
  const out = [1];
  let f = 1;
  for (let n = 1; n <= 13; n++) {
    f *= n; // exact: 13! < 2^53
    out.push(1 / f);
  }
  return out;
})();

/**
 * log x = e·ln 2 + log m with x = m·2^e, m ∈ [1/√2, √2]; log m = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + …) with
 * s = (m − 1)/(m + 1), |s| ≤ 0.172, summed to s^25 (the next term is below 2^−60 of the sum).
 */
export function log(x: number): number {
  if (Number.isNaN(x) || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return Infinity;
  let e = 0;
  if (x < 2.2250738585072014e-308) {
    x *= 18014398509481984; // 2^54: bring a subnormal into the normal range
    e = -54;
  }
  bits.setFloat64(0, x);
  const high = bits.getUint32(0);
  e += ((high >>> 20) & 0x7ff) - 1023;
  bits.setUint32(0, (high & 0x000fffff) | 0x3ff00000); // m in [1, 2)
  let m = bits.getFloat64(0);
  if (m > Math.SQRT2) {
    m *= 0.5;
    e += 1;
  }
  const f = m - 1; // exact (Sterbenz)
  const s = f / (m + 1), s2 = s * s;
  let t = 1 / 25;
  for (let n = 23; n >= 3; n -= 2) t = t * s2 + 1 / n;
  // 2s + 2s³t = f − s·(f − 2s²t) because f = 2s + s·f: the large term f is exact, the correction rounds.
  return e * LN2_HI + (f - (s * (f - 2 * s2 * t) - e * LN2_LO));
}
