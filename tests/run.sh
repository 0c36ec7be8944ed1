#!/usr/bin/env bash
# The one test command. Installs what the tests need from the package registries into
# git-ignored folders of this repository, then runs every test: the workspace's Rust tests,
# the deploy-asset checks against moto, the AWS emulator's own checks, and the official MCP
# conformance suite. The Rust tests include tests/everything.rs, which runs the reference
# server @modelcontextprotocol/server-everything (installed here with Node 22).
# Idempotent: a second run reuses the installs. Any missing piece fails the run loudly.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

conformance_version=0.2.0-alpha.12
# The reference server tests/everything.rs runs; its tests read this version's tool outputs.
everything_version=2026.8.31
venv="$repo/.venv"
npm_prefix="$repo/.tools/npm"

step() { printf '\n== %s\n' "$*"; }
die() { printf 'tests/run.sh: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed ($2)"; }

need cargo "install Rust with rustup"
need python3 "install CPython 3.10 or newer"
need npm "install Node.js and npm (any version; Node 22 itself comes from npm)"
if ! command -v tmux >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  step "tmux (the console's end-to-end tests drive the real binary in it)"
  { apt-get update -qq && apt-get install -y -qq tmux >/dev/null; } || die "apt-get could not install tmux"
fi
need tmux "install tmux (apt-get install tmux)"

step "Python venv with moto and cfn-lint ($venv)"
stamp="$venv/.requirements.sha"
want=$(sha256sum tests/requirements.txt | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  python3 -m venv "$venv" || die "cannot create a venv (install python3-venv)"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/requirements.txt \
    || die "pip could not install tests/requirements.txt"
  echo "$want" > "$stamp"
fi
"$venv/bin/python" -c 'import moto, boto3, pytest, yaml' || die "the venv lacks moto/boto3/pytest/yaml"

step "Node 22, @modelcontextprotocol/conformance@$conformance_version and server-everything@$everything_version ($npm_prefix)"
node="$npm_prefix/node_modules/.bin/node"
suite="$npm_prefix/node_modules/@modelcontextprotocol/conformance/dist/index.js"
everything_dir="$npm_prefix/node_modules/@modelcontextprotocol/server-everything"
everything="$everything_dir/dist/index.js"
if [ ! -x "$node" ] || [ ! -f "$suite" ] || [ ! -f "$everything" ] \
   || ! grep -q "\"version\": \"$conformance_version\"" "$npm_prefix/node_modules/@modelcontextprotocol/conformance/package.json" \
   || ! grep -q "\"version\": \"$everything_version\"" "$everything_dir/package.json"; then
  mkdir -p "$npm_prefix"
  npm install --prefix "$npm_prefix" --no-audit --no-fund --loglevel=error \
    node@22 "@modelcontextprotocol/conformance@$conformance_version" \
    "@modelcontextprotocol/server-everything@$everything_version" \
    || die "npm could not install Node 22, the conformance suite and server-everything"
fi
"$node" --version | grep -q '^v22\.' || die "$node is not Node 22"
[ -f "$suite" ] || die "conformance suite missing at $suite"
[ -f "$everything" ] || die "server-everything missing at $everything"
export MCPFLEET_NODE="$node" MCPFLEET_CONFORMANCE="$suite" MCPFLEET_VENV="$venv" \
  MCPFLEET_EVERYTHING="$everything"

step "Rust tests (workspace)"
# The test build also builds the server binary the later stages run; building it again with
# `cargo build -p` would resolve features differently and compile much of the tree twice.
server_bin="${CARGO_TARGET_DIR:-$repo/target}/debug/mcpfleet-server"
console_bin="${CARGO_TARGET_DIR:-$repo/target}/debug/mcpfleet"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  echo "cargo-nextest not found; using cargo test"
  cargo test --workspace --no-fail-fast
fi

step "Deploy assets: cfn-lint and moto"
tests/aws_assets/run.sh

step "AWS emulator self-checks (moto fidelity layer, fleet simulator, fault proxy)"
[ -x "$server_bin" ] || die "the Rust test build did not leave $server_bin"
tests/aws_emulator/run.sh "$server_bin"

step "MCP conformance suite"
tests/conformance/run.sh "$server_bin"

step "MCP conformance suite: the console as a client"
[ -x "$console_bin" ] || die "the Rust test build did not leave $console_bin"
tests/conformance/clients.sh "$console_bin"

printf '\ntests/run.sh: all stages passed\n'
