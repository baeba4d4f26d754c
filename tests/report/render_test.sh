#!/usr/bin/env bash
# Renders fixture reports in headless Chromium and checks what the page drew:
#   plain  the small fixture run;
#   gated  the same with the gate files (gate.csv, model_metrics.json, ungated/);
#   large  a long run (report_fixture --large: 60,000 chart bars, 400,000 trades).
# Each page must have <body data-rendered="ok">, <canvas> elements (the charts),
# filled sections, no console message (errors included), every time chart
# opened on all its data (data-visible="all" on each chart element), trade
# markers only when few enough are in view (large: none, with the "zoom in"
# hint), and at 1024 and 1400 px wide nothing that overflows or overlaps: the
# page is opened with ?layout-check, which makes report.js list such elements in
# <body data-layout> ("ok" when there are none). Screenshots of the gated and the
# large report at both widths are kept in ARTIFACT_DIR.
# Usage: render_test.sh path/to/report_fixture [ARTIFACT_DIR]
# Exits 77 (skipped) when Chromium is not installed (scripts/setup.sh installs it).
set -uo pipefail
FIXTURE=${1:?usage: $0 path/to/report_fixture [ARTIFACT_DIR]}
ARTIFACTS=${2:-}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x $CHROMIUM ]]; then
  echo "skip: $CHROMIUM not found (run scripts/setup.sh)"
  exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/quant-report-render.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
if [[ -n $ARTIFACTS ]]; then mkdir -p "$ARTIFACTS" && rm -f "$ARTIFACTS"/*.png; fi
failures=0
ok() { echo "  ok: $*"; }
bad() { failures=$((failures + 1)); echo "  FAIL: $*"; }

# chromium NAME WIDTH OUTPUT-FLAG URL: one headless run with the network blocked
# (everything the page needs is inline); stderr goes to $WORK/NAME.stderr.txt.
chromium() {
  local name=$1 width=$2 output=$3 url=$4
  timeout 120 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>' \
    --user-data-dir="$WORK/profile-$name" --enable-logging=stderr --v=0 --virtual-time-budget=5000 \
    --window-size="$width,6000" "$output" "$url" 2>"$WORK/$name.stderr.txt"
}

# check_run NAME WIDTHS [fixture flags...]: writes the run and its report,
# renders it at each width and checks the DOM.
check_run() {
  local name=$1 widths=$2
  shift 2
  local run="$WORK/$name"
  echo "$name:"
  "$FIXTURE" "$@" "$run" >/dev/null || { bad "report_fixture $* failed"; return; }
  [[ -f $run/report.html ]] || { bad "no report.html"; return; }
  local bytes
  bytes=$(stat -c %s "$run/report.html")
  if ((bytes <= 10 * 1024 * 1024)); then ok "report.html is $bytes bytes (at most 10 MiB)"; else bad "report.html is $bytes bytes: more than 10 MiB"; fi

  local width
  for width in $widths; do
    local tag="$name-$width" dom="$WORK/$name-$width.dom.html"
    echo " $width px:"
    chromium "$tag" "$width" --dump-dom "file://$run/report.html?layout-check" >"$dom"
    local status=$?
    if [[ $status -ne 0 ]]; then
      bad "chromium exited with $status"
      tail -20 "$WORK/$tag.stderr.txt"
    fi
    check_dom "$name" "$dom" "$WORK/$tag.stderr.txt"
    if [[ -n $ARTIFACTS && $name != plain ]]; then
      chromium "$tag-shot" "$width" --screenshot="$ARTIFACTS/$tag.png" "file://$run/report.html" >/dev/null
      if [[ -s $ARTIFACTS/$tag.png ]]; then ok "screenshot $ARTIFACTS/$tag.png"; else bad "no screenshot"; fi
    fi
  done
}

# check_dom NAME DOM STDERR
check_dom() {
  local name=$1 dom=$2 stderr=$3
  local body console canvases charts visible
  body=$(grep -o '<body[^>]*>' "$dom" | head -1)
  if [[ $body == *'data-rendered="ok"'* ]]; then
    ok "body has data-rendered=\"ok\""
  else
    bad "body is not rendered: ${body:-<no body in the dumped DOM>}"
    grep -o 'id="render-error"[^<]*' "$dom" | head -3
  fi
  if [[ $body == *'data-layout="ok"'* ]]; then
    ok "nothing overflows or overlaps (data-layout=\"ok\")"
  else
    bad "layout: $(grep -o 'data-layout="[^"]*"' <<<"$body" || echo 'no data-layout attribute')"
  fi

  canvases=$(grep -o '<canvas' "$dom" | wc -l)
  if ((canvases > 0)); then ok "$canvases canvas elements (charts drew)"; else bad "no <canvas> in the DOM"; fi
  # Each time chart opens on its whole data, not on its last bars.
  charts=$(grep -Eo '<div [^>]*class="chart [^"]*"[^>]*>' "$dom")
  visible=$(grep -c 'data-visible="all"' <<<"$charts")
  if [[ -n $charts ]] && ((visible == $(wc -l <<<"$charts"))); then
    ok "all $visible time charts show the whole run"
  else
    bad "charts not opened on the whole run: $(grep -Eo 'id="[a-z-]*chart"[^>]*' <<<"$charts" | tr '\n' ' ')"
  fi

  local ids=(header-facts metrics-body monthly-body trades-body risk-body daily-body config-text price-markers)
  [[ $name == gated ]] && ids+=(compare-body model-body gate-counts gate-body gate-markers)
  local id
  for id in "${ids[@]}"; do
    # The element's first child is text or an opening tag, not its own end tag.
    if grep -Eq "id=\"$id\"[^>]*>([^<]|<[^/])" "$dom"; then ok "#$id has content"; else bad "#$id is empty"; fi
  done

  # Trade markers: one by one when few trades are in view, none (and a hint) when many are.
  local markers
  markers=$(grep -o '<p class="hint" id="price-markers"[^<]*' "$dom")
  if [[ $name == large ]]; then
    if [[ $markers == *'data-markers="hidden"'* && $markers == *'Zoom in to see the 400,000 trades'* ]]; then
      ok "no trade markers on the whole run, a hint to zoom in"
    else
      bad "price markers on the whole large run: $markers"
    fi
    # The tables page through the embedded rows and say where the others are.
    if grep -q 'trades.csv holds all 400,000' "$dom" && grep -q 'class="pager-status">Page 1 of 80' "$dom"; then
      ok "trade table paged (80 pages of the first and last 2,000), trades.csv named"
    else
      bad "trade table not paged as expected"
    fi
  elif [[ $markers == *'data-markers="trades"'* ]]; then
    ok "each trade marked"
  else
    bad "trades not marked: $markers"
  fi

  # Chromium logs console.error() without its level ('INFO:CONSOLE:1] "text"'), so
  # any console line fails the test: the page logs nothing when all is well.
  console=$(grep 'CONSOLE' "$stderr" || true)
  if [[ -z $console ]]; then ok "no console messages"; else bad "console messages:"; echo "$console"; fi
  if [[ $name == gated ]]; then
    if grep -q '<svg[^>]*class="calibration"' "$dom"; then ok "calibration chart drawn"; else bad "no calibration <svg>"; fi
  else
    # Without the gate files the gate sections are left out.
    if grep -Eq 'id="(gate-compare|model|gate)"' "$dom"; then bad "gate sections in a run without gate files"; else ok "no gate sections"; fi
  fi
}

check_run plain "1400"
check_run gated "1024 1400" --gated
check_run large "1024 1400" --large

if ((failures)); then echo "$failures check(s) failed"; exit 1; fi
echo "all checks passed"
