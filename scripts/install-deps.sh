#!/usr/bin/env bash
# Installs the Debian packages haihe-resilience builds against (GDAL, netCDF, HDF5,
# pkg-config), plus chromium and a CJK font (fonts-wqy-microhei) for the headless check
# of report.html (scripts/screenshot-report.sh) and its Chinese names. Needs root or
# sudo; safe to run again (it skips what is installed).
set -euo pipefail
pkgs=(libgdal-dev libnetcdf-dev libhdf5-dev pkg-config gdal-bin chromium fonts-wqy-microhei)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
