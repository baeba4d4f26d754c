#!/usr/bin/env bash
# Renders the fixture report (plain, then gated: gate.csv, model_metrics.json,
# ungated/) in headless Chromium and checks that each page
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

# check_run NAME [fixture flags...]: writes the run, renders it, checks the DOM.
check_run() {
  local name=$1
  shift
  local run="$WORK/$name"
  echo "$name:"
  "$FIXTURE" "$@" "$run" >/dev/null || { bad "report_fixture $* failed"; return; }
  [[ -f $run/report.html ]] || { bad "no report.html"; return; }

  # Everything the page needs is inline: block the network to prove it.
  timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>' \
    --user-data-dir="$WORK/profile-$name" --enable-logging=stderr --v=0 --virtual-time-budget=5000 \
    --dump-dom "file://$run/report.html" >"$run.dom.html" 2>"$run.stderr.txt"
  local status=$?
  if [[ $status -ne 0 ]]; then
    bad "chromium exited with $status"
    tail -20 "$run.stderr.txt"
  fi

  local body console canvases
  body=$(grep -o '<body[^>]*>' "$run.dom.html" | head -1)
  if [[ $body == *'data-rendered="ok"'* ]]; then
    ok "body has data-rendered=\"ok\""
  else
    bad "body is not rendered: ${body:-<no body in the dumped DOM>}"
    grep -o 'id="render-error"[^<]*' "$run.dom.html" | head -3
  fi

  canvases=$(grep -o '<canvas' "$run.dom.html" | wc -l)
  if ((canvases > 0)); then ok "$canvases canvas elements (charts drew)"; else bad "no <canvas> in the DOM"; fi

  local ids=(header-facts metrics-body monthly-body trades-body risk-body daily-body config-text)
  [[ $name == gated ]] && ids+=(compare-body model-body gate-counts gate-body)
  for id in "${ids[@]}"; do
    # The element's first child is text or an opening tag, not its own end tag.
    if grep -Eq "id=\"$id\"[^>]*>([^<]|<[^/])" "$run.dom.html"; then ok "#$id has content"; else bad "#$id is empty"; fi
  done

  # Chromium logs console.error() without its level ('INFO:CONSOLE:1] "text"'), so
  # any console line fails the test: the page logs nothing when all is well.
  console=$(grep 'CONSOLE' "$run.stderr.txt" || true)
  if [[ -z $console ]]; then ok "no console messages"; else bad "console messages:"; echo "$console"; fi
  if [[ $name == plain ]]; then
    # Without the gate files the gate sections are left out.
    if grep -Eq 'id="(gate-compare|model|gate)"' "$run.dom.html"; then bad "gate sections in a run without gate files"; else ok "no gate sections"; fi
  else
    if grep -q '<svg[^>]*class="calibration"' "$run.dom.html"; then ok "calibration chart drawn"; else bad "no calibration <svg>"; fi
  fi
}

check_run plain
check_run gated --gated

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
