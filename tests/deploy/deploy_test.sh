#!/usr/bin/env bash
# The deployment files work as shipped:
# - deploy/install.sh installs into a staged root; the installed binary runs from there
#   and loads its libraries from beside it, not from the source tree;
# - every systemd unit (deploy/systemd, config/systemd) passes `systemd-analyze verify`
#   with no warning, against the installed binary;
# - deploy/nftables.conf parses (`nft -c`).
# usage: deploy_test.sh path/to/quant
set -euo pipefail
QUANT=$(readlink -f "$1")
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$(dirname "$(dirname "$(dirname "$QUANT")")")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
missing() {  # a tool the test needs: skip, except under CI
  if [[ -n "${CI:-}" ]]; then fail "$1 is missing (scripts/setup.sh installs it)"; fi
  echo "SKIP: $1 is missing (run scripts/setup.sh)"; exit 77
}

bash "$SRC/deploy/install.sh" --root "$TMP/root" "$BUILD" > "$TMP/install.log"
BIN="$TMP/root/usr/local/bin/quant"
[[ -x "$BIN" ]] || fail "install.sh put no binary at /usr/local/bin/quant"
"$BIN" --version > /dev/null || fail "the installed binary does not run"
ldd "$BIN" | grep -E 'libduckdb|libonnxruntime' > "$TMP/ldd"
if grep -v "$TMP/root/usr/local/bin/../lib/quant/" "$TMP/ldd"; then fail "libraries resolved outside the install"; fi
for f in etc/quant/quant.toml etc/quant/fix/FIX44.xml etc/quant/live-a.env usr/local/share/quant/docs/deploy.md \
         usr/local/share/quant/config/clickhouse/schema.sql; do
  [[ -e "$TMP/root/$f" ]] || fail "install.sh did not install /$f"
done
[[ "$(stat -c %a "$TMP/root/etc/quant/secrets")" == 700 ]] || fail "/etc/quant/secrets is not 0700"
# A second install keeps the operator's configuration.
echo "# edited" >> "$TMP/root/etc/quant/quant.toml"
bash "$SRC/deploy/install.sh" --root "$TMP/root" "$BUILD" > /dev/null
grep -q '^# edited' "$TMP/root/etc/quant/quant.toml" || fail "a second install overwrote /etc/quant/quant.toml"
echo "install: ok"

command -v systemd-analyze > /dev/null || missing systemd-analyze
mkdir "$TMP/units"
units=()
for f in "$TMP"/root/etc/systemd/system/*; do
  sed "s#/usr/local/bin/quant#$BIN#g" "$f" > "$TMP/units/$(basename "$f")"
  name=$(basename "$f")
  [[ "$name" == *@.service ]] && name="${name/@./@a.}"   # a template is verified as an instance
  units+=("$name")
done
(cd "$TMP/units" && systemd-analyze verify "${units[@]}") > "$TMP/verify.log" 2>&1 || true
if [[ -s "$TMP/verify.log" ]]; then cat "$TMP/verify.log" >&2; fail "systemd-analyze verify complained"; fi
echo "systemd units: ${#units[@]} verified (${units[*]})"
# Every long-running command has a unit with a restart policy and a memory limit.
for cmd in serve bridge live logger bot; do
  unit=$(grep -l -E "^ExecStart=.*/quant .*\b$cmd\b" "$TMP"/units/*.service | head -1) ||
    fail "no unit runs quant $cmd"
  grep -q '^Restart=always' "$unit" || fail "$(basename "$unit"): no Restart=always"
  grep -q '^MemoryMax=' "$unit" || fail "$(basename "$unit"): no MemoryMax"
done

if command -v nft > /dev/null; then
  if nft -c -f "$SRC/deploy/nftables.conf" 2> "$TMP/nft.log"; then echo "nftables.conf: ok"
  elif grep -q -i 'permitted' "$TMP/nft.log"; then echo "nftables.conf: not checked (nft -c needs CAP_NET_ADMIN here)"
  else cat "$TMP/nft.log" >&2; fail "deploy/nftables.conf does not parse"; fi
else
  missing nft
fi
echo "PASS"
