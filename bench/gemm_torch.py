"""PyTorch GEMM timings for bench/gemm.ts: same shapes and transposes, GFLOP/s as JSON on stdout.

Usage: OMP_WAIT_POLICY=PASSIVE [OPENBLAS_NUM_THREADS=1] /usr/bin/python3 bench/gemm_torch.py THREADS SHAPES_JSON MIN_SECONDS [cpu]
SHAPES_JSON is a list of [transA, transB, M, N, K]; op(A) is A.t() of a K×M tensor when transA, likewise B.
With `cpu`, time is this process's CPU time (meaningful for one thread on a machine busy with other work).
"""
import json
import sys
import time

import torch

threads = int(sys.argv[1])
shapes = json.loads(sys.argv[2])
min_seconds = float(sys.argv[3])
clock = time.process_time if len(sys.argv) > 4 and sys.argv[4] == "cpu" else time.perf_counter
torch.set_num_threads(threads)
torch.manual_seed(0)
out = []
for ta, tb, m, n, k in shapes:
    a = torch.randn(k, m).t() if ta else torch.randn(m, k)
    b = torch.randn(n, k).t() if tb else torch.randn(k, n)
    c = torch.empty(m, n)
    for _ in range(3):
        torch.mm(a, b, out=c)
    best = float("inf")
    for _ in range(5):
        reps = 0
        t0 = clock()
        while True:
            torch.mm(a, b, out=c)
            reps += 1
            el = clock() - t0
            if el >= min_seconds:
                break
        best = min(best, el / reps)
    out.append(2.0 * m * n * k / best / 1e9)


def blas_library():
    """The BLAS shared object torch.mm actually runs on (Debian's torch uses whatever libblas.so.3 points to)."""
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if ".so" in line}
    for lib in sorted(libs):
        name = lib.rsplit("/", 1)[-1]
        if "openblas" in name or "mkl" in name or "blis" in name or name.startswith("libblas"):
            return lib
    return "unknown"


print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "blas": blas_library(), "gflops": out}))
