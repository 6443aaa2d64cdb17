#!/usr/bin/env bash
# Prepare this checkout on a fresh machine: the Debian libraries Qt's windows need (only those
# missing), a virtual environment in .venv, and the suite with its test tools. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."

# What PyQt5's xcb platform plugin loads on a desktop or under Xvfb (offscreen needs none).
QT_DEBIAN_PACKAGES=(libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-cursor0 libgl1 libegl1
  libfontconfig1 libdbus-1-3)

install_debian_packages() {
  command -v dpkg-query >/dev/null || { echo "bootstrap: not Debian; install Qt's xcb libraries yourself" >&2; return 0; }
  local missing=() package
  for package in "${QT_DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: please install: ${missing[*]}" >&2; return 0; }
    sudo="sudo"
  fi
  echo "bootstrap: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_debian_packages
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"
