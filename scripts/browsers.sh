#!/usr/bin/env bash
# Installs Debian's Chromium for the HTML rendering tests when it is
# missing (and LibreOffice too with WITH_LIBREOFFICE=1; its XLSX check is
# skipped with a message otherwise). Needs apt-get and root; otherwise it
# says so and the rendering test skips with a clear message.
set -uo pipefail
pkgs=()
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
if [ "${WITH_LIBREOFFICE:-0}" = 1 ] && ! command -v libreoffice >/dev/null 2>&1; then
  pkgs+=(libreoffice-calc)
fi
[ ${#pkgs[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "browsers.sh: cannot install ${pkgs[*]} (need apt-get as root); rendering tests will skip" >&2
  exit 0
fi
echo "installing ${pkgs[*]} (Debian packages)…" >&2
apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null \
  || echo "browsers.sh: installing ${pkgs[*]} failed; rendering tests will skip" >&2
exit 0
