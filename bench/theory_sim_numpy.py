"""Vectorised NumPy counterpart of bench/theory-sim.ts: normalised SGDM on a noisy 10-dim diagonal quadratic,
many chains as one (chains, dim) array, in-place ufuncs (no temporaries in the loop), PCG64 + ziggurat normals.
Prints one JSON line: chain-steps per second (best of repeats) and the time-averaged loss (a sanity value that
must agree with the TypeScript simulator and the closed form)."""
import argparse, json, time
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument('--chains', type=int, default=1000)
ap.add_argument('--dim', type=int, default=10)
ap.add_argument('--steps', type=int, default=2000)
ap.add_argument('--eta', type=float, default=0.1)
ap.add_argument('--beta', type=float, default=0.9)
ap.add_argument('--s', type=float, default=1.0)
ap.add_argument('--repeats', type=int, default=3)
a = ap.parse_args()

lam = (np.arange(a.dim) + 1) / a.dim  # λ_j = (j+1)/dim, as in the TypeScript bench
rng = np.random.default_rng(1)
rates, loss = [], 0.0
for rep in range(a.repeats):
    x = np.zeros((a.chains, a.dim)); m = np.zeros_like(x); g = np.empty_like(x); z = np.empty_like(x); d = np.empty_like(x)
    acc = 0.0
    t = time.perf_counter()
    for k in range(a.steps):
        rng.standard_normal(out=z)
        np.multiply(x, lam, out=g)        # g = λ ⊙ x + s·z
        if a.s != 1:
            z *= a.s
        g += z
        m *= a.beta                        # m = β m + (1−β) g
        g *= 1 - a.beta
        m += g
        np.multiply(m, a.eta, out=d)       # x −= η m
        x -= d
        if k >= a.steps // 2 and k % 10 == 0:
            acc += 0.5 * float(np.einsum('ij,j,ij->', x, lam, x)) / a.chains
    dt = time.perf_counter() - t
    rates.append(a.chains * a.steps / dt)
    loss = acc / len(range(a.steps // 2, a.steps, 10))
print(json.dumps({'engine': 'numpy ' + np.__version__, 'chainStepsPerSec': max(rates), 'meanLoss': loss}))  # best of repeats: the machine is shared
