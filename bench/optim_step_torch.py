#!/usr/bin/python3
"""torch.optim.SGD step time on one float32 tensor of N parameters (peer for bench/optim-step.ts)."""
import json, sys, time
import torch

n = int(sys.argv[1]); reps = int(sys.argv[2]); momentum = float(sys.argv[3])
torch.set_num_threads(int(sys.argv[4]) if len(sys.argv) > 4 else 1)
p = torch.nn.Parameter(torch.randn(n))
p.grad = torch.randn(n) * 1e-3
opt = torch.optim.SGD([p], lr=1e-3, momentum=momentum)
opt.step(); opt.step()  # allocate the buffer, warm up
times = []
for _ in range(reps):
    t = time.perf_counter(); opt.step(); times.append(time.perf_counter() - t)
times.sort()
# Copy bandwidth of the same machine through torch (read + write of 2n floats), the reference for GB/s.
src = torch.ones(2 * n); dst = torch.empty(2 * n); dst.copy_(src)
ct = []
for _ in range(reps):
    t = time.perf_counter(); dst.copy_(src); ct.append(time.perf_counter() - t)
ct.sort()
print(json.dumps({"torch": torch.__version__, "medianSec": times[len(times) // 2], "threads": torch.get_num_threads(),
                  "copyGBs": 2 * 2 * n * 4 / ct[len(ct) // 2] / 1e9}))
