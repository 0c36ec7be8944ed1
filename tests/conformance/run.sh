#!/usr/bin/env bash
# Run the official MCP conformance suite (@modelcontextprotocol/conformance) against
# `mcpfleet-server --profile conformance`, once per protocol era, each against its own baseline
# of expected failures. Builds nothing: pass the server binary as $1 (default
# target/debug/mcpfleet-server). Needs Node 22 and the suite under .tools/npm:
#
#   npm install --prefix .tools/npm node@22 @modelcontextprotocol/conformance@0.2.0-alpha.12
#
# Runs, each against a fresh server on a free 127.0.0.1 port:
#   2025-11-25 in session mode     - the era's initialize handshake, sessions, server-to-client
#                                    sampling/elicitation, SSE resumption; stateless mode cannot
#                                    serve those.
#   2026-07-28 in stateless mode   - how a replica runs behind ECS Service Connect.
#   2026-07-28 in session mode     - the default mode, which serves 2026-07-28 clients without a
#                                    session too, on a different response path.
# A requirement set already includes its extension, pending and added-after-release scenarios
# (reported as "not scored"); the suite refuses --suite together with --requirements.
# The suite's DNS-rebinding scenario sends a loopback Origin and expects it to be accepted,
# which the server's default Origin allow-list does.
#
# Exits non-zero when any run has a failure missing from its baseline, or a baseline entry
# that now passes (the suite reports it as stale). Results land in tests/out/conformance/.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO/tests/conformance"
SUITE_VERSION="0.2.0-alpha.12"
NODE="$REPO/.tools/npm/node_modules/.bin/node"
SUITE_DIR="$REPO/.tools/npm/node_modules/@modelcontextprotocol/conformance"
SUITE="$SUITE_DIR/dist/index.js"
OUT="$REPO/tests/out/conformance"
BIN="${1:-$REPO/target/debug/mcpfleet-server}"
INSTALL_HINT="npm install --prefix .tools/npm node@22 @modelcontextprotocol/conformance@$SUITE_VERSION"

fail() {
    echo "tests/conformance: $*" >&2
    exit 1
}

[[ -x "$BIN" ]] || fail "no server binary at $BIN; build it (cargo build -p mcpfleet-server) or pass its path as \$1"
[[ -x "$NODE" ]] || fail "Node 22 is missing at $NODE; install it with: $INSTALL_HINT"
node_major="$("$NODE" -p 'process.versions.node.split(".")[0]')"
((node_major >= 22)) || fail "$NODE is Node $("$NODE" --version); the suite needs Node >= 22 ($INSTALL_HINT)"
[[ -f "$SUITE" ]] || fail "the conformance suite is missing at $SUITE_DIR; install it with: $INSTALL_HINT"
suite_found="$("$NODE" -p "require('$SUITE_DIR/package.json').version")"
[[ "$suite_found" == "$SUITE_VERSION" ]] ||
    fail "found @modelcontextprotocol/conformance $suite_found, the baselines are for $SUITE_VERSION ($INSTALL_HINT)"

rm -rf "$OUT"
mkdir -p "$OUT"

SERVER_PID=""
stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}
trap stop_server EXIT

# Starts the server in mode $1, logging to $2; sets SERVER_ADDR to its host:port.
start_server() {
    local mode="$1" log="$2" variable unset_env=()
    # The server reads every setting from MCPFLEET_* too; keep the caller's out of this run.
    while read -r variable; do
        unset_env+=(-u "$variable")
    done < <(compgen -e | grep '^MCPFLEET_' || true)
    : >"$log"
    env "${unset_env[@]}" "$BIN" --profile conformance --mode "$mode" --bind 127.0.0.1:0 \
        --drain-deadline-secs 1 >"$log" 2>&1 &
    SERVER_PID=$!
    SERVER_ADDR=""
    for _ in $(seq 100); do
        SERVER_ADDR="$(grep -m1 '"message":"listening"' "$log" | sed -n 's/.*"address":"\([^"]*\)".*/\1/p')" || true
        [[ -n "$SERVER_ADDR" ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited at start; see $log"
        sleep 0.1
    done
    [[ -n "$SERVER_ADDR" ]] || fail "the server did not report its address within 10 s; see $log"
    for _ in $(seq 100); do
        if "$NODE" -e "fetch('http://$SERVER_ADDR/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
            return 0
        fi
        sleep 0.1
    done
    fail "http://$SERVER_ADDR/healthz did not answer 200 within 10 s; see $log"
}

failed_runs=()

# Runs requirement set $1 against a server in mode $2.
run_era() {
    local era="$1" mode="$2" name="$1-$2"
    local dir="$OUT/$name" baseline="$HERE/baseline-$1.yml"
    [[ -f "$baseline" ]] || fail "missing baseline $baseline"
    mkdir -p "$dir"
    echo "== $era requirements, server in $mode mode"
    start_server "$mode" "$dir/server.log"
    local status=0
    "$NODE" "$SUITE" server --url "http://$SERVER_ADDR/mcp" --requirements "$era" \
        --expected-failures "$baseline" -o "$dir/results" >"$dir/suite.log" 2>&1 || status=$?
    stop_server

    local summary passed failed total
    summary="$(sed -n '/=== SUMMARY ===/,$p' "$dir/suite.log")"
    passed="$(grep -c '^✓' <<<"$summary" || true)"
    failed="$(grep -c '^✗' <<<"$summary" || true)"
    total="$(grep -m1 '^Total:' <<<"$summary" || echo 'Total: not reported')"
    echo "scenarios: $passed passed, $failed failed; checks: ${total#Total: }"
    # Failing scenarios and the baseline verdict; passing scenarios only count.
    grep -v -e '^✓' -e '^=== SUMMARY ===' -e '^Total:' -e '^\s*$' <<<"$summary" | sed 's/^/  /' || true
    if ((status != 0)); then
        echo "FAILED: $name (suite exit $status); full output in $dir/suite.log"
        failed_runs+=("$name")
    fi
    echo
}

run_era 2025-11-25 session
run_era 2026-07-28 stateless
run_era 2026-07-28 session

if ((${#failed_runs[@]} > 0)); then
    fail "conformance runs failed: ${failed_runs[*]}"
fi
echo "conformance: every run matches its baseline"
