"""PyTorch side of bench/train-vs-pytorch.ts: training steps/s of the same MLP and CNN on random data.

Usage: /usr/bin/python3 bench/train_pytorch.py --model mlp|cnn --batch 128 --steps N --threads T
Prints one JSON line {"model", "threads", "samplesPerSec", "torch"}. Thread control follows
docs/benchmarks.md: the caller sets OMP_WAIT_POLICY=PASSIVE, and for one thread also
OPENBLAS_NUM_THREADS=1 (torch.set_num_threads alone does not stop OpenBLAS using 2 threads).
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn


def make(model: str) -> nn.Module:
    if model == 'mlp':
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    if model == 'cnn':
        return nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, 10))
    raise SystemExit(f'unknown model {model}')


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='mlp')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--steps', type=int, default=50)
    ap.add_argument('--warmup', type=int, default=5)
    ap.add_argument('--threads', type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = make(a.model)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(a.batch, 1, 28, 28)
    y = torch.randint(0, 10, (a.batch,))
    loss_fn = nn.CrossEntropyLoss()

    def step() -> None:
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    dt = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    # The BLAS actually loaded: Debian's torch uses whatever libblas.so.3 points to (reference BLAS unless
    # libopenblas0 is installed, which is ~20x slower and makes the comparison meaningless).
    with open('/proc/self/maps') as f:
        blas = sorted({line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line})
    print(json.dumps({'model': a.model, 'threads': a.threads, 'samplesPerSec': a.steps * a.batch / dt, 'peakRssBytes': rss, 'torch': torch.__version__, 'blas': blas}))


if __name__ == '__main__':
    main()
