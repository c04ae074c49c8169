#!/usr/bin/env bash
# Debian packages the project needs beyond Python: Chromium (the dashboard's browser tests),
# Pango (WeasyPrint's PDF rendering), DejaVu fonts (both), Mosquitto (the MQTT field-ingest tests start
# their own broker with scripts/mosquitto.sh). Idempotent: installs only what is
# missing. Uses sudo when not run as root. Called by `make test` and `make demo`.
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || missing+=(libpango-1.0-0)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || missing+=(libpangoft2-1.0-0)
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
[ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || missing+=(mosquitto-clients)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "install_system_deps.sh: missing ${missing[*]} and this user is not root (no sudo)." >&2
    echo "Install them by hand: apt-get install ${missing[*]}" >&2
    exit 1
fi

echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

if [ ! -x /usr/bin/chromium ]; then
    echo "install_system_deps.sh: apt-get finished but /usr/bin/chromium is still missing" >&2
    exit 1
fi
