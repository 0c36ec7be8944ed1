#!/usr/bin/env bash
# Load generators side by side, in one run, against mcpfleet-server on loopback:
#   `mcpfleet bench --stateless` and oha against the same stateless replica (oha sends one
#   fixed body, so only stateless mode compares), MCP Inspector's `--load` against it too, and
#   `mcpfleet bench` in session mode against a session-mode replica. Prints calls/s, latency,
#   failures and the client's CPU per call (user + system, from the kernel's accounting of each
#   client process) as a Markdown table.
#
# Installs the peers from their registries into git-ignored folders (oha with cargo into
# .tools/oha, Node 22 and the Inspector with npm into .tools/npm and .tools/inspector) and
# builds the release binaries. Arguments: [--duration S] [--conc N] (default 10 s at 32).
# Exit status: 0 when `mcpfleet bench` reached at least 0.9x oha's calls/s, 1 when it did not,
# 2 when something could not be installed or started.
set -euo pipefail

OHA_VERSION=1.16.0
INSPECTOR_VERSION=2.12.0

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
OHA="$REPO/.tools/oha/bin/oha"
NPM_DIR="$REPO/.tools/npm"
NODE="$NPM_DIR/node_modules/.bin/node"
INSPECTOR_DIR="$REPO/.tools/inspector"
INSPECTOR_PKG="$INSPECTOR_DIR/node_modules/@modelcontextprotocol/inspector"

die() { echo "benches/load.sh: $*" >&2; exit 2; }
for tool in npm python3 cargo; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH"
done

if ! [[ -x "$OHA" && "$("$OHA" --version 2>/dev/null)" == *"$OHA_VERSION"* ]]; then
  echo "installing oha $OHA_VERSION into .tools/oha" >&2
  cargo install --locked --quiet --root "$REPO/.tools/oha" "oha@$OHA_VERSION"
fi
if ! [[ -x "$NODE" ]] || ! "$NODE" --version | grep -q '^v22\.'; then
  echo "installing Node 22 into .tools/npm" >&2
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error node@22
fi
installed_inspector() {
  [[ -f "$INSPECTOR_PKG/package.json" ]] &&
    "$NODE" -p "require('$INSPECTOR_PKG/package.json').version" 2>/dev/null
}
if [[ "$(installed_inspector || true)" != "$INSPECTOR_VERSION" ]]; then
  echo "installing MCP Inspector $INSPECTOR_VERSION into .tools/inspector" >&2
  npm install --prefix "$INSPECTOR_DIR" --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/inspector@$INSPECTOR_VERSION"
fi
[[ "$(installed_inspector || true)" == "$INSPECTOR_VERSION" ]] ||
  die "MCP Inspector $INSPECTOR_VERSION is missing from $INSPECTOR_DIR"

cargo build --release --quiet -p mcpfleet --bin mcpfleet -p mcpfleet-server --bin mcpfleet-server

export LOAD_MCPFLEET="$TARGET_DIR/release/mcpfleet"
export LOAD_SERVER="$TARGET_DIR/release/mcpfleet-server"
export LOAD_OHA="$OHA"
export LOAD_NODE="$NODE"
export LOAD_INSPECTOR="$INSPECTOR_PKG/clients/launcher/build/index.js"
exec python3 "$REPO/benches/load_table.py" "$@"
