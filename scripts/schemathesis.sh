#!/usr/bin/env bash
# Schemathesis against a demo built from this checkout: every check on, for a bounded time, once
# with a merchant's token and once with a buyer's. No server error, no answer that contradicts
# the document, no schema-valid request refused (see schemathesis.toml for the status rule).
#
#   scripts/schemathesis.sh [seconds per role, default 90]
#
# One worker: Hypothesis's caches are not safe across schemathesis's worker threads.
# Needs `schemathesis` on PATH or in .venv (CI makes the venv: python3 -m venv .venv &&
# .venv/bin/pip install schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."
budget="${1:-90}"
st="$(command -v schemathesis || echo .venv/bin/schemathesis)"
[ -x "$st" ] || { echo "schemathesis not found: python3 -m venv .venv && .venv/bin/pip install schemathesis" >&2; exit 2; }

cargo build --locked --bin aftersale
dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
./target/debug/aftersale demo --dir "$dir/demo" --bind "127.0.0.1:$port" --print-credentials >"$dir/demo.out" 2>"$dir/demo.err" &
demo=$!
trap 'kill $demo 2>/dev/null || true; wait $demo 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 1 100); do
    [ -s "$dir/demo.out" ] && break
    sleep 0.2
done
token() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['tokens'][sys.argv[2]])" "$dir/demo.out" "$1"; }

status=0
for role in merchant buyer; do
    echo "== schemathesis as the demo's $role (${budget}s)"
    # Revoking tokens is left out: a generated id could revoke the very token the run uses.
    "$st" --config-file schemathesis.toml run "http://127.0.0.1:$port/api/v1/openapi.json" \
        -H "Authorization: Bearer $(token "$role")" \
        --checks all --exclude-operation-id revoke_token \
        --max-time "$budget" --workers 1 --seed 20261130 \
        --suppress-health-check all || status=1
done
if ! kill -0 $demo 2>/dev/null; then
    echo "the demo server died during the run:" >&2
    cat "$dir/demo.err" >&2
    status=1
fi
exit $status
