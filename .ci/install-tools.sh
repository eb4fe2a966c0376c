#!/usr/bin/env bash
# Install the external validators that tests/integrations.rs runs, and only
# those; idempotent (a second run installs nothing):
#   - check-jsonschema: GitHub Actions and Azure Pipelines schemas (vendored)
#   - zizmor: audit of action.yml
#   - @microsoft/sarif-multitool: SARIF 2.1.0 and GitHub ingestion rules
#   - mermaid + jsdom: the Mermaid parser, offline, for the Markdown report
# npm packages go to tools/node_modules (ignored by git); the versions are
# pinned in tools/package.json.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECK_JSONSCHEMA=0.39.0
ZIZMOR=1.32.0

have_version() { # command, version
  command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -qF "$2"
}

pip_wanted=()
have_version check-jsonschema "$CHECK_JSONSCHEMA" || pip_wanted+=("check-jsonschema==${CHECK_JSONSCHEMA}")
have_version zizmor "$ZIZMOR" || pip_wanted+=("zizmor==${ZIZMOR}")
if [ ${#pip_wanted[@]} -gt 0 ]; then
  echo "install-tools: pip install ${pip_wanted[*]}"
  python3 -m pip install --quiet --disable-pip-version-check "${pip_wanted[@]}"
  # pyenv installs console scripts behind shims.
  if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
fi

npm_ok() {
  node -e '
    const want = require("./tools/package.json").dependencies;
    for (const [name, version] of Object.entries(want)) {
      const got = require("./tools/node_modules/" + name + "/package.json").version;
      if (got !== version) process.exit(1);
    }' 2>/dev/null
}
if ! npm_ok; then
  echo "install-tools: npm install in tools/"
  (cd tools && npm install --no-package-lock --no-audit --no-fund --loglevel=error)
fi
# npm may skip the package's own install script that marks it executable.
for f in tools/node_modules/@microsoft/sarif-multitool-*/Sarif.Multitool; do
  [ -f "$f" ] && chmod u+x "$f"
done

echo "install-tools: check-jsonschema $(check-jsonschema --version | tr -d '\n'), zizmor $(zizmor --version | tr -d '\n'), sarif-multitool, mermaid ready"
