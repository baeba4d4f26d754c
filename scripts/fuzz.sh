#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset "fuzz") and runs each for
# SECONDS seconds on its committed corpus (src/<module>/fuzz_corpus/<name>).
# New inputs go to a temporary directory; the committed corpus stays small.
# Usage: scripts/fuzz.sh [SECONDS]      (make fuzz FUZZ_SECONDS=600 for a real session)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SECONDS_EACH=${1:-4}
cmake --preset fuzz >/dev/null
targets=$(cmake --build build/fuzz --target help | sed -n 's/^\(fuzz_[a-z0-9_]*\):.*/\1/p' | sort -u)
if [[ -z $targets ]]; then echo "[fuzz] no fuzz targets"; exit 0; fi
cmake --build build/fuzz -j "$(nproc)" --target $targets
status=0
for t in $targets; do
  bin=$(find build/fuzz -type f -name "$t" -perm -u+x | head -1)
  corpus=$(find src -type d -path "*/fuzz_corpus/${t#fuzz_}" | head -1)
  work=$(mktemp -d)
  args=(-max_total_time="$SECONDS_EACH" -print_final_stats=0 -rss_limit_mb=2048 -timeout=10)
  if "$bin" "${args[@]}" "$work" ${corpus:+"$corpus"} >"$work.log" 2>&1; then
    echo "[fuzz] $t: ok, $(grep -o 'Done [0-9]* runs' "$work.log" | sed 's/Done //' || echo '? runs') in ${SECONDS_EACH}s"
  else
    echo "[fuzz] $t: FAILED"; tail -40 "$work.log"; status=1
  fi
  rm -rf "$work" "$work.log"
done
exit $status
