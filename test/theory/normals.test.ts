// The bulk normal generator (src/core/theory/normals.ts): law N(0, 1) checked by moments and tail frequencies, with
// tolerances of 5 Monte-Carlo standard errors; reproducibility by seed.
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { NormalStream, normalBackend, useNormalsWasm } from '../../src/core/theory/normals.js';
import { installNodeHost } from '../../src/node/host.js';
import { packageRoot } from '../../src/node/package-root.js';

installNodeHost();

const N = 2_000_000;

test('fillNormal: mean 0, variance 1, third moment 0, kurtosis 3, tails of N(0,1) (5·SE)', () => {
  const z = new NormalStream(42).fillNormal(new Float64Array(N));
  let m1 = 0, m2 = 0, m3 = 0, m4 = 0, t2 = 0, t3 = 0, below = 0;
  for (const x of z) {
    m1 += x; m2 += x * x; m3 += x ** 3; m4 += x ** 4;
    if (Math.abs(x) > 2) t2++;
    if (Math.abs(x) > 3) t3++; // exercises the ziggurat tail (|x| > R = 3.654 is rarer still)
    if (x < -0.5) below++;
  }
  m1 /= N; m2 /= N; m3 /= N; m4 /= N;
  // SE of the sample mean of x^k: √(Var x^k / N); Var x = 1, Var x² = 2, Var x³ = 15, Var x⁴ = 96.
  assert.ok(Math.abs(m1) < 5 * Math.sqrt(1 / N), `mean ${m1}`);
  assert.ok(Math.abs(m2 - 1) < 5 * Math.sqrt(2 / N), `variance ${m2}`);
  assert.ok(Math.abs(m3) < 5 * Math.sqrt(15 / N), `third moment ${m3}`);
  assert.ok(Math.abs(m4 - 3) < 5 * Math.sqrt(96 / N), `fourth moment ${m4}`);
  // P(|Z| > 2) = 0.0455003, P(|Z| > 3) = 0.0026998, P(Z < −0.5) = 0.3085375 (normal table); binomial SE √(p(1−p)/N).
  for (const [count, p] of [[t2, 0.0455003], [t3, 0.0026998], [below, 0.3085375]] as const) {
    assert.ok(Math.abs(count / N - p) < 5 * Math.sqrt((p * (1 - p)) / N), `frequency ${count / N} vs ${p}`);
  }
});

test('same seed, same stream; different seed, different stream', () => {
  const a = new NormalStream(7).fillNormal(new Float64Array(1000));
  const b = new NormalStream(7).fillNormal(new Float64Array(1000));
  const c = new NormalStream(8).fillNormal(new Float64Array(1000));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // The stream is a function of the seed and the sequence of fill sizes (slow-path draws are taken at the end
  // of each fill), so the same calls reproduce it exactly.
  const split = (): Float64Array => {
    const s = new NormalStream(7), d = new Float64Array(1000);
    s.fillNormal(d, 0, 300);
    s.fillNormal(d, 300, 1000);
    return d;
  };
  assert.deepEqual(split(), split());
});

test('fillUniform: mean 1/2, variance 1/12 (5·SE), all in [0, 1)', () => {
  const u = new NormalStream(3).fillUniform(new Float64Array(200_000));
  let m = 0, v = 0;
  for (const x of u) {
    assert.ok(x >= 0 && x < 1);
    m += x;
    v += (x - 0.5) ** 2;
  }
  m /= u.length; v /= u.length;
  assert.ok(Math.abs(m - 0.5) < 5 * Math.sqrt(1 / 12 / u.length));
  // Var of (U − ½)²: E(U−½)⁴ − (1/12)² = 1/80 − 1/144.
  assert.ok(Math.abs(v - 1 / 12) < 5 * Math.sqrt((1 / 80 - 1 / 144) / u.length));
});

test('the Node host registers build/normals.wasm, so streams run in WebAssembly; without it, in TypeScript', () => {
  assert.equal(normalBackend(), 'wasm-simd', 'build/normals.wasm (npm run build) registered by installNodeHost');
  useNormalsWasm(null);
  try {
    assert.equal(normalBackend(), 'typescript');
    assert.throws(() => new NormalStream(1, 'wasm-simd'), /no normals WebAssembly registered/);
  } finally {
    useNormalsWasm(readFileSync(join(packageRoot(), 'build', 'normals.wasm')));
  }
  assert.equal(normalBackend(), 'wasm-simd');
});

test('WebAssembly SIMD and TypeScript generators give the same stream bit for bit', () => {
  // Both implement the same eight-lane sfc32 + ziggurat (assembly/normals.ts and src/core/theory/normals.ts), so
  // the expected value is exact equality, including odd fill sizes (partial sfc32 rounds), chunk boundaries (4096)
  // and the slow-path draws of the wedge and tail.
  assert.equal(normalBackend(), 'wasm-simd');
  for (const sizes of [[100_003], [1, 7, 8, 9, 4095, 4096, 4097, 5120]]) {
    const w = new NormalStream(11, 'wasm-simd'), j = new NormalStream(11, 'typescript');
    for (const n of sizes) {
      const a = w.fillNormal(new Float64Array(n)), b = j.fillNormal(new Float64Array(n));
      assert.deepEqual(a, b);
      const ua = w.fillUniform(new Float64Array(n)), ub = j.fillUniform(new Float64Array(n));
      assert.deepEqual(ua, ub);
    }
  }
});
