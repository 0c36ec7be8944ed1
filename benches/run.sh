#!/usr/bin/env bash
# Measure `tools/call echo` on loopback: our server against its peers, in one run.
#
# Installs the peers from their registries into git-ignored folders of the repo
# (Node 22 and @modelcontextprotocol/server-everything under .tools/npm, FastMCP in the
# venv .tools/bench-venv), builds mcpfleet-server in release, then runs the mcp_echo
# bench. Idempotent: a second run reuses what is installed. Arguments go to the bench,
# e.g. `benches/run.sh --quick` or `benches/run.sh --duration 10 --conc 1,8,32`.
set -euo pipefail

EVERYTHING_VERSION=2026.8.31
FASTMCP_VERSION=4.2.3

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
NPM_DIR="$REPO/.tools/npm"
VENV="$REPO/.tools/bench-venv"
NODE="$NPM_DIR/node_modules/.bin/node"
EVERYTHING_DIR="$NPM_DIR/node_modules/@modelcontextprotocol/server-everything"
PY="$VENV/bin/python"
TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"

die() { echo "benches/run.sh: $*" >&2; exit 2; }
for tool in npm python3 cargo; do
  command -v "$tool" >/dev/null || die "'$tool' is not on PATH"
done

installed_everything() {
  [[ -x "$NODE" && -f "$EVERYTHING_DIR/package.json" ]] &&
    "$NODE" -p "require('$EVERYTHING_DIR/package.json').version" 2>/dev/null
}
if [[ "$(installed_everything || true)" != "$EVERYTHING_VERSION" ]]; then
  echo "installing Node 22 and server-everything $EVERYTHING_VERSION into .tools/npm" >&2
  mkdir -p "$NPM_DIR"
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error \
    node@22 "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION"
fi
"$NODE" --version | grep -q '^v22\.' || die "$NODE is not Node 22"
[[ "$(installed_everything || true)" == "$EVERYTHING_VERSION" ]] ||
  die "server-everything $EVERYTHING_VERSION is missing from $EVERYTHING_DIR"

installed_fastmcp() { [[ -x "$PY" ]] && "$PY" -c 'import fastmcp; print(fastmcp.__version__)' 2>/dev/null; }
if [[ "$(installed_fastmcp || true)" != "$FASTMCP_VERSION" ]]; then
  echo "installing FastMCP $FASTMCP_VERSION into .tools/bench-venv" >&2
  [[ -x "$PY" ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "fastmcp==$FASTMCP_VERSION"
fi
[[ "$(installed_fastmcp || true)" == "$FASTMCP_VERSION" ]] || die "FastMCP $FASTMCP_VERSION is missing from $VENV"

cargo build --release -p mcpfleet-server
SERVER_BIN="$TARGET_DIR/release/mcpfleet-server"
[[ -x "$SERVER_BIN" ]] || die "$SERVER_BIN was not built"

export MCPFLEET_SERVER_BIN="$SERVER_BIN"
export MCP_BENCH_NODE="$NODE"
export MCP_BENCH_EVERYTHING_JS="$EVERYTHING_DIR/dist/index.js"
export MCP_BENCH_PYTHON="$PY"
exec cargo bench --bench mcp_echo -- "$@"
