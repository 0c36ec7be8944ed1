#!/usr/bin/env bash
# The client under test of the conformance suite's client scenarios: the real `mcpfleet`
# binary, given the scenario's server URL (the suite appends it) and calling the scenario's
# tool. Sign-ins go through mcpfleet's own path: it opens $BROWSER (browser.py, a headless
# stand-in that follows the authorization server's redirect) and waits on its loopback
# redirect. Each run keeps its token store in a directory of its own.
#
#   MCP_CONFORMANCE_SCENARIO   the scenario's name (set by the suite)
#   MCP_CONFORMANCE_CONTEXT    JSON with what a scenario hands the client (pre-registered
#                              client id and secret)
#   MCPFLEET_BIN               the binary (default target/debug/mcpfleet)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$REPO/tests/conformance"
BIN="${MCPFLEET_BIN:-$REPO/target/debug/mcpfleet}"
url="${!#}"

state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT
export XDG_STATE_HOME="$state/state" XDG_CONFIG_HOME="$state/config" HOME="$state"
export BROWSER="$HERE/browser.py"
unset MCPFLEET_CONFIG

context() {
    python3 -c 'import json, os, sys; print(json.loads(os.environ.get("MCP_CONFORMANCE_CONTEXT", "{}")).get(sys.argv[1], ""))' "$1"
}

args=(--url "$url" --login-timeout 20
    --client-metadata-url https://conformance-test.local/client-metadata.json)
case "${MCP_CONFORMANCE_SCENARIO:-}" in
    auth/pre-registration)
        CONFORMANCE_CLIENT_SECRET="$(context client_secret)"
        export CONFORMANCE_CLIENT_SECRET
        args+=(--client-id "$(context client_id)" --client-secret-env CONFORMANCE_CLIENT_SECRET)
        ;;
    auth/client-credentials-basic)
        CONFORMANCE_CLIENT_SECRET="$(context client_secret)"
        export CONFORMANCE_CLIENT_SECRET
        args+=(--client-credentials --client-id "$(context client_id)"
            --client-secret-env CONFORMANCE_CLIENT_SECRET)
        ;;
esac

# Scenarios about anything but signing in: list the tools and call them, as a person would,
# speaking the protocol revision under test and accepting the defaults a server asks to confirm.
if [[ "${MCP_CONFORMANCE_SCENARIO:-}" != auth/* ]]; then
    era=modern
    [[ "${MCP_CONFORMANCE_PROTOCOL_VERSION:-}" == 2025-* ]] && era=legacy
    exec "$HERE/person.py" "$BIN" "$url" --protocol-era "$era" -- --on-elicit accept-defaults
fi

# Three calls in one run: a server that changes its authorization server between them sees
# the client sign in again with the new one.
rounds=1
[[ "${MCP_CONFORMANCE_SCENARIO:-}" == auth/authorization-server-migration ]] && rounds=3
for _ in $(seq "$rounds"); do
    "$BIN" "${args[@]}" call test-tool --json
done
