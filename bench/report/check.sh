#!/usr/bin/env bash
# Opens a run's report.html in Debian's headless chromium and saves a screenshot, so a person can look at the page as a
# browser renders it (the JUnit test RunReportTest checks its structure). Usage: bench/report/check.sh RUN_DIR [OUT.png]
# Installs chromium with apt-get when it is missing (needs root).
set -euo pipefail
run=${1:?usage: bench/report/check.sh RUN_DIR [OUT.png]}
out=${2:-$run/report-screenshot.png}
report=$(cd "$run" && pwd)/report.html
[ -f "$report" ] || { echo "$report: no report.html; train a run first (sef-onnx train --out $run)" >&2; exit 2; }
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q && apt-get install -y -q chromium
fi
# a tall window: the page is one column of sections; file:// only, the page loads nothing else
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,6000 \
  --screenshot="$out" "file://$report" 2>/dev/null
[ -s "$out" ] || { echo "chromium wrote no screenshot to $out" >&2; exit 1; }
echo "screenshot: $out"
