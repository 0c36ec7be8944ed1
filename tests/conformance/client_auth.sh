#!/usr/bin/env bash
# Run every `auth/*` client scenario of the official MCP conformance suite that is scored for
# 2025-11-25 and for 2026-07-28 against the real `mcpfleet` binary (through client.sh), each
# against the baseline client-baseline-auth.yml, which is empty: every scenario must pass.
# Builds nothing: pass the binary as $1 (default target/debug/mcpfleet). Needs Node 22 and the
# suite under .tools/npm, as run.sh does. Results land in tests/out/conformance-client/.
#
# The scenarios come from the suite's own `list`, so a scenario the pinned suite adds for
# either revision is run without an edit here. The extension scenarios the console
# implements (client credentials) run after them.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO/tests/conformance"
SUITE_VERSION="0.2.0-alpha.12"
NODE="$REPO/.tools/npm/node_modules/.bin/node"
SUITE_DIR="$REPO/.tools/npm/node_modules/@modelcontextprotocol/conformance"
SUITE="$SUITE_DIR/dist/index.js"
OUT="$REPO/tests/out/conformance-client"
BASELINE="$HERE/client-baseline-auth.yml"
export MCPFLEET_BIN="${1:-$REPO/target/debug/mcpfleet}"

fail() {
    echo "tests/conformance/client_auth: $*" >&2
    exit 1
}

[[ -x "$MCPFLEET_BIN" ]] || fail "no mcpfleet binary at $MCPFLEET_BIN; build it or pass its path as \$1"
[[ -x "$NODE" ]] || fail "Node 22 is missing at $NODE (see tests/conformance/run.sh)"
[[ -f "$SUITE" ]] || fail "the conformance suite is missing at $SUITE_DIR"
[[ "$("$NODE" -p "require('$SUITE_DIR/package.json').version")" == "$SUITE_VERSION" ]] ||
    fail "the suite at $SUITE_DIR is not $SUITE_VERSION"
command -v python3 >/dev/null || fail "python3 is missing (client.sh reads the scenario context with it)"
[[ -f "$BASELINE" ]] || fail "missing baseline $BASELINE"

rm -rf "$OUT"
mkdir -p "$OUT"
listing="$("$NODE" "$SUITE" list)"
failed_runs=()

for era in 2025-11-25 2026-07-28; do
    # Client scenarios are listed as `  - auth/name [rev,rev,...]`.
    mapfile -t scenarios < <(sed -n 's/^  - \(auth\/[^ ]*\) \[\(.*\)\]$/\1 \2/p' <<<"$listing" |
        awk -v era="$era" '{ n = split($2, revs, ","); for (i = 1; i <= n; i++) if (revs[i] == era) print $1 }')
    ((${#scenarios[@]} > 0)) || fail "the suite lists no auth scenario for $era"
    passed=0
    for scenario in "${scenarios[@]}"; do
        dir="$OUT/$era/${scenario//\//-}"
        mkdir -p "$dir"
        status=0
        "$NODE" "$SUITE" client --command "$HERE/client.sh" --scenario "$scenario" \
            --spec-version "$era" --expected-failures "$BASELINE" -o "$dir" \
            >"$dir/suite.log" 2>&1 || status=$?
        if ((status == 0)); then
            passed=$((passed + 1))
        else
            echo "  FAILED: $scenario ($era); see $dir/suite.log"
            grep -E 'FAILURE|WARNING' "$dir/suite.log" | sed 's/^/    /' | head -5 || true
            failed_runs+=("$scenario@$era")
        fi
    done
    echo "client auth scenarios for $era: $passed of ${#scenarios[@]} pass"
done

# Extension scenarios the console also implements; not scored for either revision, held to
# passing all the same.
extensions=(auth/client-credentials-basic)
passed=0
for scenario in "${extensions[@]}"; do
    dir="$OUT/extensions/${scenario//\//-}"
    mkdir -p "$dir"
    status=0
    "$NODE" "$SUITE" client --command "$HERE/client.sh" --scenario "$scenario" \
        --expected-failures "$BASELINE" -o "$dir" >"$dir/suite.log" 2>&1 || status=$?
    if ((status == 0)); then
        passed=$((passed + 1))
    else
        echo "  FAILED: $scenario (extension); see $dir/suite.log"
        failed_runs+=("$scenario")
    fi
done
echo "client auth extension scenarios: $passed of ${#extensions[@]} pass (${extensions[*]})"

if ((${#failed_runs[@]} > 0)); then
    fail "client auth scenarios failed: ${failed_runs[*]}"
fi
echo "conformance client auth: every scored scenario passes with an empty baseline"
