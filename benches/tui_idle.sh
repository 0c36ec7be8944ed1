#!/usr/bin/env bash
# Launch time and idle CPU of the console: the release binary on the default local fleet (three
# replicas), in a detached 160×48 tmux pane with an empty config and a temporary HOME.
#
# Measures the time from launch to the first frame (the first non-empty screen) and to the
# services screen showing "3/3 ready", polling capture-pane every 20 ms (so each figure is
# late by up to one poll); then the console process's own CPU time — utime+stime from
# /proc/PID/stat; its replicas are other processes and are not counted — over an idle stretch
# (TUI_IDLE_SECONDS, default 30) that starts TUI_SETTLE_SECONDS (default 2) after the fleet is
# ready. For comparison, the same idle stretch is measured on `mcpfleet logs --follow`, which
# runs the same local fleet with no UI: the difference is what the UI itself costs
# (TUI_BASELINE=0 skips it). MCPFLEET_BIN overrides the binary (default
# target/release/mcpfleet).
#
# Exit status: 0 after a complete measurement, whatever the figures; 2 if it could not run.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${MCPFLEET_BIN:-${CARGO_TARGET_DIR:-$repo/target}/release/mcpfleet}
idle=${TUI_IDLE_SECONDS:-30}
settle=${TUI_SETTLE_SECONDS:-2}
cpu_target=0.5
ready_text="3/3 ready"

die() { printf 'benches/tui_idle.sh: %b\n' "$*" >&2; exit 2; }
command -v tmux >/dev/null || die "tmux is required (apt-get install tmux)"
[ -x "$bin" ] || die "$bin is missing: cargo build --release (or run benches/run_tui.sh)"

dir=$(mktemp -d "${TMPDIR:-/tmp}/mcpfleet-tui-idle.XXXXXX")
sock="$dir/tmux.sock"
baseline_pid=""
cleanup() {
  tmux -S "$sock" kill-server 2>/dev/null || true
  if [ -n "$baseline_pid" ]; then kill "$baseline_pid" 2>/dev/null || true; wait "$baseline_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
: > "$dir/empty.toml"
mkdir -m 700 "$dir/run-console" "$dir/run-baseline"

now_ns() { date +%s%N; }
ms_since() { echo $(( ($2 - $1) / 1000000 )); }
screen() { tmux -S "$sock" capture-pane -p -t bench 2>/dev/null; }

launched=$(now_ns)
fleet_env() {
  env -u TMUX -u RUST_BACKTRACE -u MCPFLEET_LOG \
    HOME="$dir" XDG_STATE_HOME="$dir/state" XDG_CONFIG_HOME="$dir/config" \
    XDG_RUNTIME_DIR="$dir/run-console" MCPFLEET_CONFIG="$dir/empty.toml" TERM=xterm-256color "$@"
}
fleet_env tmux -S "$sock" -f /dev/null new-session -d -s bench -x 160 -y 48 \
  sh -c 'echo $$ > "$0/console.pid"; exec "$1"' "$dir" "$bin"

first_frame="" ready=""
deadline=$(( launched + 30 * 1000000000 ))
while [ -z "$ready" ]; do
  text=$(screen) || die "the console's pane is gone (did it exit?)"
  t=$(now_ns)
  if [ -z "$first_frame" ] && [ -n "${text//[[:space:]]/}" ]; then first_frame=$t; fi
  case $text in *"$ready_text"*) ready=$t ;; esac
  [ "$t" -lt "$deadline" ] || die "no \"$ready_text\" within 30 s; last screen:\n$text"
  sleep 0.02
done

pid=$(cat "$dir/console.pid")
hz=$(getconf CLK_TCK)
# Fields 14 and 15 of /proc/PID/stat, counted after the parenthesised command name.
cpu_ticks() {
  local stat
  stat=$(cat "/proc/$1/stat") || die "process $1 is gone"
  set -- ${stat##*) }
  echo $(( ${12} + ${13} ))
}
percent() { awk -v t="$1" -v hz="$hz" -v s="$idle" 'BEGIN { printf "%.3f", 100 * t / hz / s }'; }

startup_ticks=$(cpu_ticks "$pid")
if [ "${TUI_BASELINE:-1}" != 0 ]; then
  # Not through fleet_env: a backgrounded function is a subshell, and $! must be the process.
  # A runtime directory of its own, or it would attach to the console's fleet instead of
  # running one.
  env -u RUST_BACKTRACE -u MCPFLEET_LOG HOME="$dir" XDG_STATE_HOME="$dir/state" \
    XDG_CONFIG_HOME="$dir/config" XDG_RUNTIME_DIR="$dir/run-baseline" \
    MCPFLEET_CONFIG="$dir/empty.toml" \
    "$bin" logs --follow > /dev/null 2>&1 &
  baseline_pid=$!
fi
sleep "$settle"
before=$(cpu_ticks "$pid")
[ -z "$baseline_pid" ] || baseline_before=$(cpu_ticks "$baseline_pid")
sleep "$idle"
after=$(cpu_ticks "$pid")
[ -z "$baseline_pid" ] || baseline_after=$(cpu_ticks "$baseline_pid")
case $(screen) in *"$ready_text"*) ;; *) die "the services screen changed while idling:\n$(screen)" ;; esac
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")

idle_ticks=$(( after - before ))
cpu=$(percent "$idle_ticks")
verdict=$(awk -v c="$cpu" -v max="$cpu_target" 'BEGIN { print (c < max) ? "ok" : "MISSED" }')

echo "console launch and idle: release build, local fleet (3 replicas), 160×48 tmux pane"
printf '%-34s %8s ms after launch\n' "first frame" "$(ms_since "$launched" "$first_frame")"
printf '%-34s %8s ms after launch\n' "services screen shows \"$ready_text\"" "$(ms_since "$launched" "$ready")"
printf '%-34s %8s ms\n' "console CPU time until then" $(( startup_ticks * 1000 / hz ))
printf '%-34s %8s %%   (%d ticks of %d ms in %d s)  target < %s %%  %s\n' \
  "idle CPU, console process" "$cpu" "$idle_ticks" $(( 1000 / hz )) "$idle" "$cpu_target" "$verdict"
if [ -n "$baseline_pid" ]; then
  baseline_ticks=$(( baseline_after - baseline_before ))
  printf '%-34s %8s %%   (%d ticks, same %d s)\n' \
    "  same fleet, no UI (logs --follow)" "$(percent "$baseline_ticks")" "$baseline_ticks" "$idle"
fi
printf '%-34s %8.1f MB\n' "console RSS when idle" "$(awk -v k="$rss" 'BEGIN { print k / 1024 }')"
