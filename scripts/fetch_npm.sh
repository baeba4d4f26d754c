#!/usr/bin/env bash
# Fetches the pinned npm packages of third_party.lock with `npm pack`, checks
# each tarball's sha512 against the lock, and lays out third_party/:
#   third_party/duckdb/{include/duckdb.h, lib/libduckdb.so}
#   third_party/onnxruntime/{include/*.h, lib/libonnxruntime.so.1}
#   third_party/lightweight-charts/{lightweight-charts.standalone.production.js, LICENSE}
# Idempotent: a package whose stamp matches its pinned hash is skipped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TP="$ROOT/third_party"
say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }
mkdir -p "$TP/.stamps" "$TP/.cache"

fetch() {  # spec integrity dir
  local spec=$1 integrity=$2 dir=$3
  local stamp="$TP/.stamps/$dir"
  if [[ -f $stamp && $(cat "$stamp") == "$spec $integrity" && -d "$TP/.pkg/$dir" ]]; then
    return 1
  fi
  say "fetching $spec"
  local work; work=$(mktemp -d "$TP/.cache/tmp.XXXXXX")
  (cd "$work" && npm pack --silent "$spec" >/dev/null 2>"$work/npm.err") \
    || { cat "$work/npm.err" >&2; die "npm pack $spec failed"; }
  local tgz; tgz=$(ls "$work"/*.tgz)
  local got="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
  [[ $got == "$integrity" ]] || die "$spec: integrity mismatch (expected $integrity, got $got)"
  rm -rf "$TP/.pkg/$dir"; mkdir -p "$TP/.pkg/$dir"
  tar -xzf "$tgz" -C "$TP/.pkg/$dir"
  rm -rf "$work"
  echo "$spec $integrity" > "$stamp"
  return 0
}

changed=0
while read -r spec integrity dir; do
  [[ -z $spec || $spec == \#* ]] && continue
  if fetch "$spec" "$integrity" "$dir"; then changed=1; fi
done < "$ROOT/third_party.lock"

layout() {
  local P="$TP/.pkg"
  rm -rf "$TP/duckdb" "$TP/onnxruntime" "$TP/lightweight-charts"
  mkdir -p "$TP/duckdb/include" "$TP/duckdb/lib" "$TP/onnxruntime/include" "$TP/onnxruntime/lib"
  cp "$P/duckdb-src/package/src/duckdb/src/include/duckdb.h" "$TP/duckdb/include/"
  cp "$P/duckdb-lib/package/libduckdb.so" "$TP/duckdb/lib/"
  cp "$P/onnxruntime-lib/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$TP/onnxruntime/lib/"
  ln -sf libonnxruntime.so.1 "$TP/onnxruntime/lib/libonnxruntime.so"
  local hdr
  hdr=$(find "$P/onnxruntime-headers" -type d -path '*ios-arm64_x86_64-simulator*/Headers' | head -1)
  [[ -n $hdr ]] || die "ONNX Runtime headers not found in the package"
  cp "$hdr"/*.h "$TP/onnxruntime/include/"
  mkdir -p "$TP/lightweight-charts"
  cp "$P/lightweight-charts/package/dist/lightweight-charts.standalone.production.js" \
     "$P/lightweight-charts/package/LICENSE" "$TP/lightweight-charts/"
}

if ((changed)) || [[ ! -f $TP/duckdb/lib/libduckdb.so || ! -f $TP/onnxruntime/lib/libonnxruntime.so.1 \
      || ! -f $TP/lightweight-charts/lightweight-charts.standalone.production.js ]]; then
  layout
  say "third_party/ laid out (duckdb, onnxruntime, lightweight-charts)"
else
  say "npm packages: all pinned versions present"
fi
