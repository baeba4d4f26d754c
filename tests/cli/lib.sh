# Helpers for the command-line tests: tiny assertions with clear messages.
set -uo pipefail
QUANT=${1:?usage: $0 path/to/quant}
QUANT=$(readlink -f "$QUANT")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DATA="$ROOT/../shared/data"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/quant-cli.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
checks=0
q() { "$QUANT" --config "$ROOT/config/quant.toml" "$@"; }
ok() { checks=$((checks + 1)); echo "  ok: $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "  FAIL: $*"; }
expect_eq() {  # actual expected message
  if [[ "$1" == "$2" ]]; then ok "$3"; else bad "$3: got '$1', expected '$2'"; fi
}
expect_contains() {  # haystack needle message
  if [[ "$1" == *"$2"* ]]; then ok "$3"; else bad "$3: '$2' not in: $1"; fi
}
expect_status() {  # actual expected message
  if [[ "$1" -eq "$2" ]]; then ok "$3"; else bad "$3: exit $1, expected $2"; fi
}
# have_data: true when ../shared/data is there. Without it a test skips its
# real-data part with a message — except under CI (CI set), which always has
# the data: there its absence is a failure.
have_data() {
  [[ -d $DATA ]] && return 0
  if [[ -n ${CI:-} ]]; then bad "$DATA is absent, and CI always has ../shared/data"; else echo "SKIP real-data checks: $DATA is absent"; fi
  return 1
}
parquet_count() { find "$1" -name '*.parquet' 2>/dev/null | wc -l; }
finish() {
  echo "$((checks - failures)) passed, $failures failed"
  [[ $failures -eq 0 ]]
}
