#!/usr/bin/env bash
# make lint: three checks over the project's own C++ (git ls-files: src, apps, tests, bench),
# not part of the build. Prints every finding and how long each check took; exits 1 if any
# of them finds anything, 0 when all three are clean.
#   1. clang-format-14 --dry-run --Werror  (.clang-format)
#   2. clang-tidy-14, in parallel           (.clang-tidy; scripts/clang_tidy.py: each finding
#                                            once; an unchanged translation unit comes from
#                                            BUILD_DIR/tidy-cache, LINT_CACHE=0 turns it off)
#   3. tests/deps/check_layering.py         (the module layering of src/README.md)
# Usage: scripts/lint.sh [BUILD_DIR]   BUILD_DIR holds clang-tidy's compile database
# (default build/lint, configured here from the release preset so it never fights another
# build). JOBS=n sets clang-tidy's parallelism (default: nproc).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 1
BUILD=${1:-build/lint}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
FORMAT=clang-format-14

failed=()
summary=()

# run NAME COMMAND...: runs one check, records its time and whether it passed.
run() {
  local name=$1 start rc
  shift
  echo "[lint] $name ..."
  start=$(date +%s)
  "$@"
  rc=$?
  local took=$(($(date +%s) - start))
  if ((rc == 0)); then
    summary+=("$(printf '%-13s ok      %4d s' "$name" "$took")")
  else
    summary+=("$(printf '%-13s FAILED  %4d s' "$name" "$took")")
    failed+=("$name")
  fi
}

mapfile -t cxx_files < <(git ls-files '*.cpp' '*.h')

check_format() {
  # --Werror turns each "code should be clang-formatted" note into an error and the exit code.
  local out
  out=$("$FORMAT" --dry-run --Werror "${cxx_files[@]}" 2>&1)
  local rc=$?
  if ((rc != 0)); then
    printf '%s\n' "$out"
    echo "[lint] clang-format: $(grep -c ': error: code should be clang-formatted' <<<"$out") finding(s) in" \
      "$(grep ': error: code should be clang-formatted' <<<"$out" | cut -d: -f1 | sort -u | wc -l) file(s);" \
      "fix with: $FORMAT -i \$(git ls-files '*.cpp' '*.h')"
  fi
  return "$rc"
}

check_tidy() {
  # A compile database of its own, from the release preset (configuring takes about a second
  # and picks up new files); nothing is built there.
  mkdir -p "$BUILD"
  if ! cmake --preset release -B "$BUILD" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$BUILD/lint-configure.log" 2>&1; then
    cat "$BUILD/lint-configure.log"
    return 1
  fi
  python3 scripts/clang_tidy.py "$BUILD" -j "$JOBS"
}

check_layering() {
  python3 tests/deps/check_layering.py
}

start_all=$(date +%s)
run clang-format check_format
run clang-tidy check_tidy
run layering check_layering

echo "[lint] ----"
printf '[lint] %s\n' "${summary[@]}"
echo "[lint] total $(($(date +%s) - start_all)) s"
if ((${#failed[@]})); then
  echo "[lint] FAILED: ${failed[*]}"
  exit 1
fi
echo "[lint] clean"
