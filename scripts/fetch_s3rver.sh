#!/usr/bin/env bash
# Installs the local S3 server of the lake backup tests (npm s3rver 3.7.1 and its
# dependencies, every tarball checked against the integrity hashes of
# tests/s3/package-lock.json by `npm ci`) into third_party/s3rver/node_modules.
# Idempotent: skipped when the installed lockfile equals the committed one.
# usage: scripts/fetch_s3rver.sh [TARGET_DIR]   (default: third_party/s3rver)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="${1:-$ROOT/third_party/s3rver}"
say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
LOCK="$ROOT/tests/s3/package-lock.json"
if [[ -f $DEST/package-lock.json && -d $DEST/node_modules/s3rver ]] && cmp -s "$LOCK" "$DEST/package-lock.json"; then
  say "s3rver: pinned version present"
  exit 0
fi
say "installing s3rver (tests/s3/package-lock.json) with npm ci"
rm -rf "$DEST"
mkdir -p "$DEST"
cp "$ROOT/tests/s3/package.json" "$LOCK" "$DEST/"
log=$(mktemp /tmp/quant-setup-npm.XXXXXX.log)
(cd "$DEST" && npm ci --ignore-scripts --no-audit --no-fund) >"$log" 2>&1 \
  || { tail -20 "$log" >&2; rm -rf "$DEST"; die "npm ci of s3rver failed (full log: $log)"; }
[[ -f $DEST/node_modules/s3rver/package.json ]] || die "s3rver missing after npm ci"
say "s3rver installed in $DEST"
