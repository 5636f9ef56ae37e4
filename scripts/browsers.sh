#!/usr/bin/env bash
# Installs, when missing, what the rendering tests run (Debian packages):
# Chromium for the browser tests and the HTML annexe's print, LibreOffice
# Calc to print the XLSX annexe, and poppler-utils (pdfinfo, pdftotext) to
# read both PDFs. Needs apt-get and root (CI runs as root); otherwise it
# says so and the tests that need a missing program skip, naming it.
set -uo pipefail
pkgs=()
command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
# The XLSX annexe is set in Arial, which LibreOffice prints in Liberation Sans.
command -v soffice >/dev/null 2>&1 || pkgs+=(libreoffice-calc fonts-liberation2)
{ command -v pdfinfo >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; } || pkgs+=(poppler-utils)
[ ${#pkgs[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
  echo "browsers.sh: cannot install ${pkgs[*]} (need apt-get as root); the tests that need them will skip" >&2
  exit 0
fi
echo "installing ${pkgs[*]} (Debian packages)…" >&2
apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null \
  || echo "browsers.sh: installing ${pkgs[*]} failed; the tests that need them will skip" >&2
exit 0
