#!/usr/bin/env bash
# The console's benchmarks in one run: frame render time and memory on a large synthetic
# fleet (`cargo bench --bench tui`), then launch time and idle CPU of the release binary in
# tmux (benches/tui_idle.sh). Needs tmux. Arguments go to the tui bench, e.g. --frames 2000;
# TUI_IDLE_SECONDS sets the idle stretch (default 30).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
command -v tmux >/dev/null || { echo "benches/run_tui.sh: tmux is required" >&2; exit 2; }

cargo build --release --bin mcpfleet
cargo bench --bench tui -- "$@"
echo
benches/tui_idle.sh
