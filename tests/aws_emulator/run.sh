#!/usr/bin/env bash
# Check the AWS emulator (moto + ECS fidelity layer + fleet simulator + fault proxy)
# with its own pytest suite. Usage: tests/aws_emulator/run.sh PATH_TO_mcpfleet-server [pytest args]
# Needs the venv that tests/run.sh creates at $REPO/.venv; builds nothing itself.
# Everything runs on 127.0.0.1 with fake credentials.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${MCPFLEET_VENV:-$REPO/.venv}"

fail() {
    echo "tests/aws_emulator: $*" >&2
    exit 1
}

[[ $# -ge 1 ]] || fail "usage: $0 PATH_TO_mcpfleet-server [pytest args] (build it with cargo build -p mcpfleet-server)"
[[ -f "$1" && -x "$1" ]] || fail "$1 is not an executable; build it with cargo build -p mcpfleet-server"
SERVER_BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
shift
[[ -x "$VENV/bin/python" ]] || fail "no Python venv at $VENV; create it with tests/run.sh"
"$VENV/bin/python" - <<'PY' || fail "a Python dependency is missing from $VENV; run tests/run.sh (it installs tests/requirements.txt)"
import importlib
for name in ("moto.server", "boto3", "cbor2", "pytest", "werkzeug"):
    importlib.import_module(name)
PY

cd "$REPO"
echo "== pytest tests/aws_emulator (server: $SERVER_BIN)"
MCPFLEET_SERVER_BIN="$SERVER_BIN" "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/aws_emulator "$@"
