#!/usr/bin/python3
"""Reference values of Student's t distribution for src/core/stats, computed with mpmath at 40 digits.

Run with Debian's Python:  /usr/bin/python3 scripts/gen_fixtures_stats.py
Writes test/fixtures/stats/student_t.json: CDF values P(T <= t) and quantiles t_p for a grid of df, from the
closed form P(T <= t) = 1 - I_x(df/2, 1/2)/2 with x = df/(df + t^2) (t > 0), evaluated by mpmath.betainc, and
quantiles by mpmath.findroot on that CDF.
"""
import json
import os

import mpmath

mpmath.mp.dps = 40
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'stats', 'student_t.json')


def cdf(t, df):
    t = mpmath.mpf(t)
    df = mpmath.mpf(df)
    x = df / (df + t * t)
    tail = mpmath.betainc(df / 2, mpmath.mpf(1) / 2, 0, x, regularized=True) / 2
    return 1 - tail if t > 0 else tail


def quantile(p, df):
    p = mpmath.mpf(p)
    return mpmath.findroot(lambda t: cdf(t, df) - p, mpmath.mpf(1) if p > 0.5 else mpmath.mpf(-1), tol=mpmath.mpf(10) ** -35)


DFS = [1, 2, 3, 4, 5, 9, 15, 17.776, 30, 100, 1000]
TS = [-12.7, -4.0621, -2.5, -1, -0.1, 0, 0.3, 1.8608, 3, 6.5, 40]
PS = [0.0005, 0.025, 0.05, 0.1, 0.4, 0.6, 0.9, 0.95, 0.975, 0.995, 0.9995]

cases = {
    'cdf': [{'t': t, 'df': df, 'p': float(cdf(t, df))} for df in DFS for t in TS],
    'quantile': [{'p': p, 'df': df, 't': float(quantile(p, df))} for df in DFS for p in PS],
}
os.makedirs(os.path.dirname(OUT), exist_ok=True)
with open(OUT, 'w') as f:
    json.dump(cases, f, indent=1)
    f.write('\n')
print(f'wrote {len(cases["cdf"])} CDF and {len(cases["quantile"])} quantile values to {OUT}')
