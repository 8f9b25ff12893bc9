#!/usr/bin/env bash
# Installs headless Chromium (Debian package `chromium`) for the benchmark report render test,
# unless it is already there. Safe to call repeatedly (CI: from .ci/run before the tests).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ensure-chromium: chromium is missing and this is not root; install the Debian package 'chromium'" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium >/dev/null
command -v chromium
