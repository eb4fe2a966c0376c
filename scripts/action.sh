#!/usr/bin/env bash
# Logic of the GitHub Action (action.yml). Inputs arrive only as environment
# variables, never spliced into the script, and are checked here.
#
#   action.sh prepare   cache key and install folder     -> $GITHUB_OUTPUT
#   action.sh install   cached build, release download or `cargo install`
#   action.sh run       lint; writes SARIF; never fails on findings
#   action.sh check     fail the job per `fail-on`
#
# Environment: INPUT_PATH, INPUT_FAIL_ON, INPUT_CONFIG, INPUT_CATALOG,
# INPUT_FORMAT, INPUT_SARIF_FILE, INPUT_VERSION; AEL_INSTALL_DIR, AEL_BIN,
# AEL_EXIT_CODE between steps. AKS_EGRESS_LINT_BIN, when set, is a prebuilt
# binary used as is (tests, self-hosted runners).
set -euo pipefail

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"

die() {
  local msg="$*"
  echo "::error title=aks-egress-lint::${msg//$'\n'/ }"
  exit 2
}

out() {
  # name=value to $GITHUB_OUTPUT (a value never holds a newline here).
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
  fi
}

action_dir() {
  local here
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  printf '%s' "${GITHUB_ACTION_PATH:-$here}"
}

# sha256sum on Linux and Windows runners, shasum on macOS.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$@"
  else
    shasum -a 256 "$@"
  fi
}

check_version() {
  [[ "$1" =~ ^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] ||
    die "version '$1' is not a release version such as v0.2.0"
}

cmd_prepare() {
  local dir key hash
  dir="$(action_dir)"
  if [ -n "${INPUT_VERSION:-}" ]; then
    check_version "$INPUT_VERSION"
    key="release-${INPUT_VERSION}"
  else
    # The sources the binary is built from decide the key, whatever the ref.
    local parts=() part
    for part in Cargo.toml Cargo.lock src rules; do
      [ -e "${dir}/${part}" ] && parts+=("$part")
    done
    [ ${#parts[@]} -gt 0 ] || die "no sources to build in ${dir}"
    hash="$(cd "$dir" && find "${parts[@]}" -type f -print0 | LC_ALL=C sort -z |
      xargs -0 bash "$SELF" sha256 | sha256 | cut -c1-32)"
    key="build-${hash}"
  fi
  key="aks-egress-lint-${RUNNER_OS:-local}-${RUNNER_ARCH:-x64}-${key}"
  local base="${RUNNER_TOOL_CACHE:-${HOME}/.cache}"
  out cache-key "$key"
  out install-dir "${base}/aks-egress-lint/${key}"
}

target_triple() {
  local os arch
  case "${RUNNER_OS:-$(uname -s)}" in
    Linux) os="unknown-linux-gnu" ;;
    macOS | Darwin) os="apple-darwin" ;;
    Windows | MINGW* | MSYS*) os="pc-windows-msvc" ;;
    *) die "unsupported runner OS ${RUNNER_OS:-$(uname -s)}" ;;
  esac
  case "${RUNNER_ARCH:-$(uname -m)}" in
    X64 | x86_64) arch="x86_64" ;;
    ARM64 | arm64 | aarch64) arch="aarch64" ;;
    *) die "unsupported runner architecture ${RUNNER_ARCH:-$(uname -m)}" ;;
  esac
  printf '%s-%s' "$arch" "$os"
}

cmd_install() {
  local bin
  if [ -n "${AKS_EGRESS_LINT_BIN:-}" ]; then
    [ -x "$AKS_EGRESS_LINT_BIN" ] || die "AKS_EGRESS_LINT_BIN=$AKS_EGRESS_LINT_BIN is not executable"
    out bin "$AKS_EGRESS_LINT_BIN"
    return
  fi
  local root="${AEL_INSTALL_DIR:?AEL_INSTALL_DIR is set by the prepare step}"
  bin="${root}/bin/aks-egress-lint"
  if [ -x "$bin" ]; then
    echo "aks-egress-lint: using the cached build in ${root}"
  elif [ -n "${INPUT_VERSION:-}" ]; then
    check_version "$INPUT_VERSION"
    local tag="$INPUT_VERSION" triple asset url tmp
    [[ "$tag" == v* ]] || tag="v${tag}"
    triple="$(target_triple)"
    asset="aks-egress-lint-${tag}-${triple}.tar.gz"
    url="https://github.com/aks-egress-lint/aks-egress-lint/releases/download/${tag}/${asset}"
    tmp="$(mktemp -d)"
    echo "aks-egress-lint: downloading ${asset}"
    curl --fail --silent --show-error --location --retry 3 -o "${tmp}/${asset}" "$url" ||
      die "cannot download ${url}"
    curl --fail --silent --show-error --location --retry 3 -o "${tmp}/${asset}.sha256" "${url}.sha256" ||
      die "cannot download the checksum of ${asset}"
    local want got
    want="$(cut -d' ' -f1 <"${tmp}/${asset}.sha256")"
    got="$(sha256 "${tmp}/${asset}" | cut -d' ' -f1)"
    [ -n "$want" ] && [ "$want" = "$got" ] || die "checksum mismatch for ${asset}"
    mkdir -p "${root}/bin"
    tar -xzf "${tmp}/${asset}" -C "${root}/bin" aks-egress-lint || die "unexpected archive layout in ${asset}"
    rm -rf "$tmp"
  else
    command -v cargo >/dev/null 2>&1 || die "cargo is needed to build the linter; set the version input to use a release"
    echo "aks-egress-lint: building from $(action_dir)"
    cargo install --locked --quiet --path "$(action_dir)" --root "$root" ||
      die "cargo install failed"
  fi
  [ -x "$bin" ] || die "no binary at ${bin}"
  out bin "$bin"
}

cmd_run() {
  local bin="${AEL_BIN:-${AKS_EGRESS_LINT_BIN:-}}"
  [ -n "$bin" ] || die "no linter binary (run the install step first)"
  local fail_on="${INPUT_FAIL_ON:-error}" format="${INPUT_FORMAT:-github}"
  local sarif="${INPUT_SARIF_FILE:-aks-egress-lint.sarif}"
  case "$fail_on" in
    error | warning | note) ;;
    never) fail_on="error" ;;
    *) die "fail-on must be error, warning, note or never, not '${fail_on}'" ;;
  esac
  case "$format" in
    github | human | json | sarif | markdown | junit | azure-devops) ;;
    *) die "format '${format}' is not one of github, human, json, sarif, markdown, junit, azure-devops" ;;
  esac
  [ -n "$sarif" ] || die "sarif-file must not be empty"

  local args=(--fail-on "$fail_on" --format "$format" --output "sarif=${sarif}")
  if [ -n "${INPUT_CONFIG:-}" ]; then
    [ -f "$INPUT_CONFIG" ] || die "config file '${INPUT_CONFIG}' does not exist"
    args+=(--config "$INPUT_CONFIG")
  fi
  if [ -n "${INPUT_CATALOG:-}" ]; then
    args+=(--catalog "$INPUT_CATALOG")
  fi
  local paths=() p
  while IFS= read -r p; do
    p="${p#"${p%%[![:space:]]*}"}"
    p="${p%"${p##*[![:space:]]}"}"
    [ -n "$p" ] && paths+=("$p")
  done <<<"${INPUT_PATH:-.}"
  [ ${#paths[@]} -gt 0 ] || paths=(.)

  local code=0
  "$bin" "${args[@]}" -- "${paths[@]}" || code=$?
  echo "aks-egress-lint: exit code ${code}"
  out exit-code "$code"
  if [ -s "$sarif" ]; then
    out sarif-file "$sarif"
  else
    out sarif-file ""
  fi
}

cmd_check() {
  local code="${AEL_EXIT_CODE:-}"
  case "$code" in
    0) exit 0 ;;
    1)
      if [ "${INPUT_FAIL_ON:-error}" = "never" ]; then
        echo "aks-egress-lint: findings reported; fail-on is never"
        exit 0
      fi
      echo "::error title=aks-egress-lint::findings at or above '${INPUT_FAIL_ON:-error}'"
      exit 1
      ;;
    "") die "the lint step did not run" ;;
    *) die "the linter failed (exit code ${code})" ;;
  esac
}

case "${1:-}" in
  prepare) cmd_prepare ;;
  install) cmd_install ;;
  run) cmd_run ;;
  check) cmd_check ;;
  sha256)
    # Used through xargs, which cannot call a shell function.
    shift
    sha256 "$@"
    ;;
  *)
    echo "usage: $0 prepare|install|run|check" >&2
    exit 2
    ;;
esac
