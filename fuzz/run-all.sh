#!/usr/bin/env bash
# Build every fuzz target once, then run them one after the other for
# SECONDS each (default 600), one job each. Running the built binaries
# directly means edits made meanwhile do not trigger rebuilds.
# Usage: bash fuzz/run-all.sh [SECONDS] [TARGET...]
#   FUZZ_SANITIZER=none bash fuzz/run-all.sh   # when the address sanitizer fails
set -uo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"; shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(terraform arm arm_expr nsg config bicep)
[ -d corpus ] || bash seed.sh
mkdir -p logs
san="${FUZZ_SANITIZER:-address}"
if [ -z "${FUZZ_NO_BUILD:-}" ]; then
  RUSTC_BOOTSTRAP=1 cargo fuzz build -s "$san" > logs/build.log 2>&1 || { tail -n 30 logs/build.log; exit 1; }
fi
bin=target/x86_64-unknown-linux-gnu/release
for t in "${targets[@]}"; do
  echo "== $t ($secs s, sanitizer $san) $(date -u +%H:%M)"
  mkdir -p "artifacts/$t"
  "$bin/$t" -artifact_prefix="artifacts/$t/" -rss_limit_mb=2048 -timeout=10 \
    -max_total_time="$secs" -max_len=65536 -print_final_stats=1 "corpus/$t" > "logs/$t.log" 2>&1
  echo "exit $?"
  grep -h "Done \|ERROR\|SUMMARY\|panicked\|Test unit written\|stat::number_of_executed_units" "logs/$t.log" | head -n 20
done
