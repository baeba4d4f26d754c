#!/usr/bin/env bash
# Installs QuantTrading on this machine (as root), or under --root DIR (a staged
# tree: no user is created and systemd is not touched; the tests use it).
#   deploy/install.sh [--root DIR] [BUILD_DIR]     (default build/release; `make install`)
# - the binary and its two libraries: /usr/local/{bin/quant,lib/quant/}, docs and
#   examples in /usr/local/share/quant;
# - the user quant, /var/lib/quant (lake, live state, models, backups of state);
# - /etc/quant/quant.toml and /etc/quant/fix/ from config/ when absent (never overwritten),
#   /etc/quant/secrets/ (0700, root's) for the tokens, /etc/quant/live-a.env;
# - the systemd units of deploy/systemd and config/systemd (enabled by you: docs/deploy.md).
set -euo pipefail

ROOT=/
if [[ "${1:-}" == "--root" ]]; then ROOT=${2:?--root needs a directory}; shift 2; fi
BUILD=${1:-build/release}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
say() { printf 'install: %s\n' "$*"; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }

[[ -x "$SRC/$BUILD/apps/quant/quant" || -x "$BUILD/apps/quant/quant" ]] ||
  die "no quant binary under $BUILD/apps/quant: build first (make, or cmake --build $BUILD)"
[[ -d "$BUILD" ]] || BUILD="$SRC/$BUILD"
if [[ "$ROOT" == / && $EUID -ne 0 ]]; then die "run as root (or with --root DIR for a staged tree)"; fi

PREFIX="$ROOT/usr/local"
ETC="$ROOT/etc/quant"
VAR="$ROOT/var/lib/quant"
UNITS="$ROOT/etc/systemd/system"

say "binary, libraries, docs -> $PREFIX"
cmake --install "$BUILD" --prefix "$PREFIX" >/dev/null

if [[ "$ROOT" == / ]] && ! id quant >/dev/null 2>&1; then
  say "user quant"
  useradd --system --home-dir /var/lib/quant --shell /usr/sbin/nologin quant
fi
owner() { if [[ "$ROOT" == / ]]; then chown -R quant:quant "$@"; fi; }

install -d -m 0755 "$ETC" "$UNITS"
# Secrets stay root's: systemd hands them to the units (LoadCredential, EnvironmentFile).
install -d -m 0700 "$ETC/secrets"
if [[ ! -e "$ETC/quant.toml" ]]; then
  say "configuration -> $ETC (edit it: [lake] dir, [serve], [telegram], [fix])"
  cp "$SRC/config/quant.toml" "$ETC/quant.toml"
  cp -r "$SRC/config/fix" "$ETC/fix"
else
  say "$ETC/quant.toml exists: kept (the shipped one is $PREFIX/share/quant/config/quant.toml)"
fi
[[ -e "$ETC/live-a.env" ]] || cp "$SRC/deploy/env/live-a.env" "$ETC/live-a.env"

install -d -m 0750 "$VAR" "$VAR/lake" "$VAR/live" "$VAR/models" "$VAR/fix" "$VAR/bot"
owner "$VAR"

say "systemd units -> $UNITS"
for unit in "$SRC"/deploy/systemd/*.service "$SRC"/deploy/systemd/*.timer "$SRC"/config/systemd/*; do
  install -m 0644 "$unit" "$UNITS/"
done
if [[ "$ROOT" == / ]] && [[ -d /run/systemd/system ]]; then
  systemctl daemon-reload
  say "next: the secrets, then systemctl enable --now ... (docs/deploy.md, 'Install')"
fi
say "done"
