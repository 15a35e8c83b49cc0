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
 * m < ki[i], giving out[k] = ±(2m + 1)·zxs[i]. Positions that miss are listed at `pend`; returns their count.
 */
export function zigFast(u: usize, out: usize, n: i32, ki: usize, zxs: usize, pend: usize): i32 {
  let p = 0;
  for (let k = 0; k < n; k++) {
    const t = load<i32>(u + (<usize>k << 2));
    const i = <usize>(t & 255);
    const m = (t >>> 8) & 0x7fffff;
    const s = t >> 31;
    if (m < load<i32>(ki + (i << 2))) {
      store<f64>(out + (<usize>k << 3), <f64>(((2 * m + 1) ^ s) - s) * load<f64>(zxs + (i << 3)));
    } else {
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
