#!/usr/bin/env bash
# Renders the fixture report in headless Chromium and checks that the page
# drew itself: <body data-rendered="ok">, at least one <canvas> (the charts),
# and no console message (errors included). Usage: render_test.sh path/to/report_fixture
# Exits 77 (skipped) when Chromium is not installed (scripts/setup.sh installs it).
set -uo pipefail
FIXTURE=${1:?usage: $0 path/to/report_fixture}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $CHROMIUM ]]; then
  echo "skip: $CHROMIUM not found (run scripts/setup.sh)"
  exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/quant-report-render.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
ok() { echo "  ok: $*"; }
bad() { failures=$((failures + 1)); echo "  FAIL: $*"; }

"$FIXTURE" "$WORK/run" >/dev/null || { echo "FAIL: report_fixture failed"; exit 1; }
[[ -f $WORK/run/report.html ]] || { echo "FAIL: no report.html"; exit 1; }

# Everything the page needs is inline: block the network to prove it.
timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
  --no-first-run --disable-background-networking --disable-component-update --disable-sync \
  --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>' \
  --user-data-dir="$WORK/profile" --enable-logging=stderr --v=0 --virtual-time-budget=5000 \
  --dump-dom "file://$WORK/run/report.html" >"$WORK/dom.html" 2>"$WORK/stderr.txt"
status=$?
if [[ $status -ne 0 ]]; then
  bad "chromium exited with $status"
  tail -20 "$WORK/stderr.txt"
fi

body=$(grep -o '<body[^>]*>' "$WORK/dom.html" | head -1)
if [[ $body == *'data-rendered="ok"'* ]]; then
  ok "body has data-rendered=\"ok\""
else
  bad "body is not rendered: ${body:-<no body in the dumped DOM>}"
  grep -o 'id="render-error"[^<]*' "$WORK/dom.html" | head -3
fi

canvases=$(grep -o '<canvas' "$WORK/dom.html" | wc -l)
if ((canvases > 0)); then ok "$canvases canvas elements (charts drew)"; else bad "no <canvas> in the DOM"; fi

for id in header-facts metrics-body monthly-body trades-body risk-body daily-body config-text; do
  # The element's first child is text or an opening tag, not its own end tag.
  if grep -Eq "id=\"$id\"[^>]*>([^<]|<[^/])" "$WORK/dom.html"; then ok "#$id has content"; else bad "#$id is empty"; fi
done

# Chromium logs console.error() without its level ('INFO:CONSOLE:1] "text"'), so
# any console line fails the test: the page logs nothing when all is well.
console=$(grep 'CONSOLE' "$WORK/stderr.txt" || true)
if [[ -z $console ]]; then ok "no console messages"; else bad "console messages:"; echo "$console"; fi

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
