// The engine's own exp and log (src/core/util/fmath.ts) against e^x and ln y correctly rounded by Python's decimal
// module at 60 digits (test/fixtures/fmath/reference.json, from scripts/gen_fixtures_fmath.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exp, log } from '../../src/core/util/fmath.js';
import { readFixture } from '../helpers.js';

const ref = readFixture('fmath/reference.json') as { exp: [number, number][]; log: [number, number][] };

/** Signed distance in units in the last place between two doubles of one sign (0 when equal). */
function ulps(a: number, b: number): number {
  const v = new DataView(new ArrayBuffer(16));
  v.setFloat64(0, a);
  v.setFloat64(8, b);
  return Number(v.getBigInt64(0) - v.getBigInt64(8));
}

for (const [name, f, pairs] of [['exp', exp, ref.exp], ['log', log, ref.log]] as const) {
  test(`${name}: every value within 1 ulp of the correctly rounded one, and at least 95% of them exact`, () => {
    let exact = 0;
    for (const [x, want] of pairs) {
      const got = f(x);
      const d = Math.abs(ulps(got, want));
      assert.ok(d <= 1, `${name}(${x}) = ${got}, correctly rounded ${want}: ${d} ulp apart`);
      if (d === 0) exact++;
    }
    assert.ok(exact >= 0.95 * pairs.length, `${name}: ${exact} of ${pairs.length} correctly rounded`);
  });
}

test('special values: exact points, overflow, underflow, NaN and the edges of log', () => {
  assert.equal(exp(0), 1);
  assert.equal(log(1), 0);
  assert.equal(exp(710), Infinity);
  assert.equal(exp(-746), 0);
  assert.ok(Number.isNaN(exp(NaN)));
  assert.equal(exp(-Infinity), 0);
  assert.equal(exp(Infinity), Infinity);
  assert.equal(log(0), -Infinity);
  assert.equal(log(Infinity), Infinity);
  assert.ok(Number.isNaN(log(-1)));
  assert.ok(Number.isNaN(log(NaN)));
  // Subnormals: the smallest double is 2^−1074, so its log is −1074·ln 2 = −744.44007192138126…
  assert.equal(log(5e-324), -744.4400719213812);
  assert.equal(exp(-744.4400719213812), 5e-324);
});
