#!/usr/bin/env bash
# Install what the browser test (tests/browser, marked slow) needs: Debian's headless Chromium and
# Playwright for Python, which drives that Chromium. Playwright's own browser download is never used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${DSG_VENV:-$ROOT/.venv}"

if [[ ! -x /usr/bin/chromium ]]; then
  SUDO=""
  if [[ "$(id -u)" != 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium chromium-driver
fi
"$VENV/bin/pip" install --quiet "playwright>=1.45"
/usr/bin/chromium --version
