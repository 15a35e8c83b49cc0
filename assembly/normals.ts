// Bulk normal generator of the theory simulator (src/theory/normals.ts), built to build/normals.wasm by
// `npm run build:wasm-normals`. Eight sfc32 generators run in the eight 32-bit lanes of two v128 registers; the
// ziggurat fast path then turns each 32-bit draw into a normal with one table compare and one multiply.
// src/theory/normals.ts holds a plain TypeScript copy of both loops (used when this file is not built) and the
// tests check that the two give bit-identical streams. Memory layout is chosen by the caller (pointers below).

/**
 * `rounds` rounds of the eight sfc32 lanes: state at `st` (words a, b, c, d, each 8 lanes of i32, lanes 0–3 then
 * 4–7), output draws at `u`, round r's lane l at u[8r + l].
 */
export function sfc32x8(st: usize, u: usize, rounds: i32): void {
  let a0 = v128.load(st, 0), a1 = v128.load(st, 16);
  let b0 = v128.load(st, 32), b1 = v128.load(st, 48);
  let c0 = v128.load(st, 64), c1 = v128.load(st, 80);
  let d0 = v128.load(st, 96), d1 = v128.load(st, 112);
  const one = i32x4.splat(1);
  for (let r = 0; r < rounds; r++) {
    const t0 = i32x4.add(i32x4.add(a0, b0), d0);
    const t1 = i32x4.add(i32x4.add(a1, b1), d1);
    d0 = i32x4.add(d0, one);
    d1 = i32x4.add(d1, one);
    a0 = v128.xor(b0, i32x4.shr_u(b0, 9));
    a1 = v128.xor(b1, i32x4.shr_u(b1, 9));
    b0 = i32x4.add(c0, i32x4.shl(c0, 3));
    b1 = i32x4.add(c1, i32x4.shl(c1, 3));
    c0 = i32x4.add(v128.or(i32x4.shl(c0, 21), i32x4.shr_u(c0, 11)), t0);
    c1 = i32x4.add(v128.or(i32x4.shl(c1, 21), i32x4.shr_u(c1, 11)), t1);
    const p = u + (<usize>r << 5);
    v128.store(p, t0, 0);
    v128.store(p, t1, 16);
  }
  v128.store(st, a0, 0); v128.store(st, a1, 16);
  v128.store(st, b0, 32); v128.store(st, b1, 48);
  v128.store(st, c0, 64); v128.store(st, c1, 80);
  v128.store(st, d0, 96); v128.store(st, d1, 112);
}

/**
 * Ziggurat fast path over draws u[0..n): bits 0–7 layer i, bits 8–30 magnitude m, bit 31 sign; accepted when
 * m < ki[i], giving out[k] = ±(2m + 1)·zxs[i]. Four draws at a time (the per-layer table entries are loaded lane
 * by lane: WebAssembly has no gather); every out[k] is written, and positions that miss are listed at `pend` for
 * the caller's wedge/tail code, which overwrites them. Returns how many missed.
 */
export function zigFast(u: usize, out: usize, n: i32, ki: usize, zxs: usize, pend: usize): i32 {
  let p = 0;
  const mask23 = i32x4.splat(0x7fffff), one = i32x4.splat(1);
  let k = 0;
  for (; k + 3 < n; k += 4) {
    const pu = u + (<usize>k << 2);
    const t = v128.load(pu);
    const i0 = <usize>(load<i32>(pu, 0) & 255), i1 = <usize>(load<i32>(pu, 4) & 255);
    const i2 = <usize>(load<i32>(pu, 8) & 255), i3 = <usize>(load<i32>(pu, 12) & 255);
    let kv = v128.load32_zero(ki + (i0 << 2));
    kv = v128.load32_lane(ki + (i1 << 2), kv, 1);
    kv = v128.load32_lane(ki + (i2 << 2), kv, 2);
    kv = v128.load32_lane(ki + (i3 << 2), kv, 3);
    let z01 = v128.load64_zero(zxs + (i0 << 3));
    z01 = v128.load64_lane(zxs + (i1 << 3), z01, 1);
    let z23 = v128.load64_zero(zxs + (i2 << 3));
    z23 = v128.load64_lane(zxs + (i3 << 3), z23, 1);
    const m = v128.and(i32x4.shr_u(t, 8), mask23);
    const s = i32x4.shr_s(t, 31);
    const v = i32x4.sub(v128.xor(v128.or(i32x4.shl(m, 1), one), s), s);
    const po = out + (<usize>k << 3);
    v128.store(po, f64x2.mul(f64x2.convert_low_i32x4_s(v), z01), 0);
    v128.store(po, f64x2.mul(f64x2.convert_low_i32x4_s(v128.shuffle<i32>(v, v, 2, 3, 0, 1)), z23), 16);
    const ok = i32x4.bitmask(i32x4.lt_s(m, kv));
    if (ok != 15) {
      for (let l = 0; l < 4; l++) {
        if ((ok & (1 << l)) == 0) {
          store<i32>(pend + (<usize>p << 2), k + l);
          p++;
        }
      }
    }
  }
  for (; k < n; k++) {
    const t = load<i32>(u + (<usize>k << 2));
    const i = <usize>(t & 255);
    const m = (t >>> 8) & 0x7fffff;
    const s = t >> 31;
    store<f64>(out + (<usize>k << 3), <f64>(((2 * m + 1) ^ s) - s) * load<f64>(zxs + (i << 3)));
    if (m >= load<i32>(ki + (i << 2))) {
      store<i32>(pend + (<usize>p << 2), k);
      p++;
    }
  }
  return p;
}

/** out[k] = u[k]·2^−32 (unsigned), uniforms on [0, 1). */
export function toUniform(u: usize, out: usize, n: i32): void {
  for (let k = 0; k < n; k++) {
    store<f64>(out + (<usize>k << 3), <f64>load<u32>(u + (<usize>k << 2)) * 2.3283064365386963e-10);
  }
}
