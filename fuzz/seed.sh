#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ with seeds from testdata/ (and a few configs).
# Run from anywhere; existing corpus files are kept.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
c="$here/corpus"
mkdir -p "$c"/{terraform,arm,arm_expr,nsg,config,bicep}

seed() { # target file...
  local t="$1"; shift
  for f in "$@"; do
    [ -f "$f" ] || continue
    cp "$f" "$c/$t/$(echo "${f#"$repo"/}" | tr '/' '_')"
  done
}

mapfile -t tf < <(find "$repo/testdata" "$repo/examples" -name '*.tf' -o -name '*.tfvars')
seed terraform "${tf[@]}"
mapfile -t arm < <(grep -rlis 'deploymentTemplate\|deploymentParameters' "$repo/testdata" --include='*.json')
seed arm "${arm[@]}"
mapfile -t nsg < <(grep -rlis 'securityRules\|"priority"' "$repo/testdata" --include='*.json')
seed nsg "${nsg[@]}"
mapfile -t bicep < <(find "$repo/testdata" -name '*.bicep' -o -name '*.bicepparam')
seed bicep "${bicep[@]}"
# Every bracketed expression of the ARM seeds, one per file.
i=0
for f in "${arm[@]}"; do
  grep -o '"\[[^"]*\]"' "$f" | sed 's/^"//; s/"$//' | sort -u | while IFS= read -r e; do
    printf '%s' "$e" > "$c/arm_expr/$(basename "$f" .json)-$((i++))"
  done || true
done
# Configs: the `init` template with its comments removed, and the documented example.
awk '/^pub const INIT_TEMPLATE/{on=1; sub(/.*r#"/, ""); } on{ if ($0 ~ /^"#;/) exit; print }' \
  "$repo/src/config.rs" > "$c/config/init.yaml"
sed 's/^# \{0,1\}//' "$c/config/init.yaml" > "$c/config/init-uncommented.yaml"
awk '/^\/\/! ```yaml/{on=1; next} /^\/\/! ```/{on=0} on{ sub(/^\/\/! ?/, ""); print }' \
  "$repo/src/config.rs" > "$c/config/doc-example.yaml"
for t in terraform arm arm_expr nsg config bicep; do
  printf '%-10s %s seeds\n' "$t" "$(find "$c/$t" -type f | wc -l)"
done
