#!/usr/bin/env bash
# Benchmark driver. `--smoke` (CI): N = 20 on a debug build, no timing claims.
# Otherwise: release build (LTO), N = 100 and N = 1000, plus checkov if installed.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--smoke" ]; then
  cargo bench --locked --profile dev --bench bench -- --smoke
else
  cargo build --release --locked
  cargo bench --locked --bench bench -- "$@" --checkov
fi
