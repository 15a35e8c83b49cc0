#!/usr/bin/env bash
# System packages momentum-lab uses on Debian: the real Fashion-MNIST files, headless Chromium (report tests) and
# redis-server (sweeps on a queue; its tests start their own instance on 127.0.0.1), and OpenBLAS for the native GEMM
# path (MOMENTUM_LAB_KERNELS=native; native/ is built at `npm install` by node-gyp with g++, make and python3).
# Idempotent: installs only what is missing. Fixture regeneration also needs python3-torch, and python3-onnx for the ONNX fixtures (scripts/gen_fixtures_*.py run with Debian's /usr/bin/python3).
set -euo pipefail
pkgs=(dataset-fashion-mnist chromium redis-server libopenblas0-pthread g++ make python3)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-debian: apt-get not found; install ${missing[*]} with your package manager (the tests that need them fail without them)" >&2
  exit 0
fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
