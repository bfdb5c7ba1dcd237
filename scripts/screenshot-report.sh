#!/usr/bin/env bash
# Opens a batch report (report.html) in headless Chromium without network access, takes a
# screenshot and checks that the page's images loaded.
#
#   scripts/screenshot-report.sh <report.html> <out.png> [width] [height]
#
# The page's own script writes data-images-loaded / data-images-failed on <body> at
# `load`; this script reads them from --dump-dom and exits non-zero if any image failed
# or none loaded. Needs Debian's chromium (scripts/install-deps.sh installs it); set
# CHROMIUM to use another binary.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 <report.html> <out.png> [width=1400] [height=3000]" >&2
  exit 2
fi
html=$1
png=$2
width=${3:-1400}
height=${4:-3000}
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
  echo "error: $chromium not found; install the chromium package (scripts/install-deps.sh)" >&2
  exit 3
fi
if [ ! -f "$html" ]; then
  echo "error: $html: no such file" >&2
  exit 2
fi
url="file://$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
mkdir -p "$(dirname "$png")"
png_abs="$(cd "$(dirname "$png")" && pwd)/$(basename "$png")"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  --disable-extensions --disable-dev-shm-usage --hide-scrollbars
  --proxy-server=127.0.0.1:9 --proxy-bypass-list='<-loopback>'
  "--user-data-dir=$profile" --virtual-time-budget=15000)
# The DOM after load, for the image counts.
dom=$(timeout 120 "$chromium" "${flags[@]}" --dump-dom "$url" 2>/dev/null || true)
body=$(printf '%s' "$dom" | grep -o '<body[^>]*>' | head -n 1 || true)
loaded=$(printf '%s' "$body" | sed -n 's/.*data-images-loaded="\([0-9]*\)".*/\1/p')
failed=$(printf '%s' "$body" | sed -n 's/.*data-images-failed="\([0-9]*\)".*/\1/p')
timeout 120 "$chromium" "${flags[@]}" "--window-size=$width,$height" \
  "--screenshot=$png_abs" "$url" >/dev/null 2>&1 || true
if [ ! -s "$png_abs" ]; then
  echo "error: chromium wrote no screenshot to $png_abs" >&2
  exit 1
fi
echo "screenshot: $png_abs (${width}x${height})"
echo "images loaded: ${loaded:-?}, failed: ${failed:-?}"
if [ -z "$loaded" ] || [ -z "$failed" ]; then
  echo "error: the page did not report its images (no data-images-* on <body>)" >&2
  exit 1
fi
if [ "$failed" -ne 0 ] || [ "$loaded" -eq 0 ]; then
  echo "error: $failed image(s) failed, $loaded loaded" >&2
  exit 1
fi
