#!/usr/bin/env bash
# Installs what the test suite needs when it is missing, then returns: the npm packages (npm ci) and, on Debian as
# root, the system packages (chromium for the report's browser test, python3-torch and libopenblas0-pthread for the
# PyTorch parity tests; without OpenBLAS Debian's torch runs on the reference BLAS, ≈ 40× slower).
# Elsewhere it names what to install and stops. `npm test` runs it first; so does CI (.ci/run calls `npm test`).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need+=(python3-torch)
[ -e /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ] || [ -e /usr/lib/aarch64-linux-gnu/openblas-pthread/libblas.so.3 ] || need+=(libopenblas0-pthread)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test-deps: installing ${need[*]} with apt-get (once; a few minutes)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "test-deps: the tests need these system packages: ${need[*]}" >&2
    echo "HINT: on Debian or Ubuntu run: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
fi

# npm packages: install when node_modules is missing or older than the lockfile.
if [ ! -e node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "test-deps: installing npm packages (npm ci)"
  npm ci --no-audit --no-fund
fi
