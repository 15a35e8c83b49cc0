#!/usr/bin/python3
"""Writes test/fixtures/fmath/reference.json: e^x and ln y correctly rounded to float64, from Python's decimal module
at 60 significant digits, for test/core/fmath.test.ts.

Run with Debian's /usr/bin/python3: /usr/bin/python3 scripts/gen_fixtures_fmath.py
  exp: [x, e^x] pairs: x uniform in ±1, ±20 and ±700, the ends of the range, and exact multiples of ln 2 / 2
  log: [y, ln y] pairs: y uniform in [1/2, 2], log-uniform over the normal range, subnormals, powers of two
"""
import json, math, os, random
from decimal import Decimal, getcontext

getcontext().prec = 60
random.seed(20241)
OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'fmath')

xs = [random.uniform(-1, 1) * [1, 20, 700][i % 3] for i in range(3000)]
xs += [709.78, -745.0, -708.5, -740.0, 1e-300, -1e-300, 0.5 * math.log(2), -0.5 * math.log(2), 0.0]
xs += [k * math.log(2) / 2 for k in range(-40, 41)]
ys = [random.uniform(0.5, 2) for _ in range(1500)]
ys += [2.0 ** random.uniform(-1020, 1020) for _ in range(1500)]
ys += [5e-324, 1e-310, 2.2250738585072014e-308, 1.7976931348623157e308, 1.0, math.e]
ys += [2.0 ** k for k in range(-60, 61, 7)]

os.makedirs(OUT, exist_ok=True)
with open(os.path.join(OUT, 'reference.json'), 'w') as f:
    json.dump({
        'exp': [[x, float(Decimal(x).exp())] for x in xs],
        'log': [[y, float(Decimal(y).ln())] for y in ys],
    }, f)
