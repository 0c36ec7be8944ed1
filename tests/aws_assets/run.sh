#!/usr/bin/env bash
# Lint the CloudFormation template and check the deploy assets against moto.
# Needs the venv that tests/run.sh creates at $REPO/.venv (moto[server], cfn-lint,
# pytest, pyyaml). Everything runs on 127.0.0.1 with fake credentials.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$REPO/.venv"

fail() {
    echo "tests/aws_assets: $*" >&2
    exit 1
}

[[ -x "$VENV/bin/python" ]] ||
    fail "no Python venv at $VENV; create it with tests/run.sh (or: python3 -m venv .venv && .venv/bin/pip install 'moto[server]==5.2.5' cfn-lint pytest pyyaml)"
for tool in cfn-lint pytest; do
    [[ -x "$VENV/bin/$tool" ]] || fail "$tool is missing from $VENV; install it with $VENV/bin/pip install $tool"
done
"$VENV/bin/python" - <<'PY' || fail "a Python dependency is missing from $VENV (needs moto[server], boto3, pyyaml)"
import importlib
for name in ("moto.server", "boto3", "yaml", "flask"):
    importlib.import_module(name)
PY

cd "$REPO"
echo "== cfn-lint assets/cloudformation.yaml"
# cfn-lint exits non-zero on errors and on warnings.
"$VENV/bin/cfn-lint" --non-zero-exit-code warning -- assets/cloudformation.yaml ||
    fail "cfn-lint reported problems in assets/cloudformation.yaml"
echo "cfn-lint: no errors, no warnings"

echo "== pytest tests/aws_assets"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/aws_assets "$@"
