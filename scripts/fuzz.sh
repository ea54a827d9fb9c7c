#!/usr/bin/env bash
# Runs each libFuzzer target of a SIMUL_FUZZ build for a fixed time (make fuzz).
#   scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]     (default: every target)
# Each target starts from its corpus in tests/fuzz/corpus/<name>/ and adds what it finds to
# BUILD_DIR/fuzz-corpus/<name>/ (the tree's corpus stays small: copy a find there by hand,
# minimized, with a regression test). A crash or failed invariant is saved as
# BUILD_DIR/fuzz-artifacts/<name>-crash-* and makes this script fail after all targets ran.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: scripts/fuzz.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(line_framer irc_message chat_session config http hub_snapshot)
fi

failed=()
for t in "${targets[@]}"; do
  bin=$build/tests/fuzz/${t}_fuzz
  [[ -x $bin ]] || { echo "fuzz.sh: $bin not built" >&2; exit 2; }
  work=$build/fuzz-corpus/$t
  mkdir -p "$work" "$build/fuzz-artifacts"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$build/fuzz-artifacts/$t-")
  [[ -f tests/fuzz/$t.dict ]] && args+=(-dict="tests/fuzz/$t.dict")
  echo "=== fuzz $t for ${seconds}s"
  log=$build/fuzz-artifacts/$t.log
  # stdin from /dev/null: nothing a target does may wait for a terminal.
  if "$bin" "${args[@]}" "$work" "tests/fuzz/corpus/$t" </dev/null >"$log" 2>&1; then
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tr '\n' ' '
    echo
  else
    failed+=("$t")
    grep -E 'invariant failed|ERROR: |SUMMARY|^    #[0-9] |Test unit written' "$log" | head -20
    echo "fuzz $t FAILED (log: $log)"
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
