#!/usr/bin/env bash
# The whole test suite: what the README's second command runs and what CI runs.
#
# The browser tests drive Debian's Chromium through chromedriver and check each page with
# axe-core from the npm registry; this installs what is missing (Debian packages chromium,
# chromium-driver and a CJK font, with apt-get when run as root; axe-core into target/npm), then
# runs `cargo test --workspace --locked` with any arguments given: every test on SQLite.
#
# Then the storage contract (the engine suite) and the HTTP black-box tests run again on
# PostgreSQL, in a fresh database with a unique name that is dropped afterwards. The server is
# found at AFTERSALE_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432, trust auth); when
# none answers there, the suite says that it ran on SQLite only.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || missing+=(fonts-wqy-zenhei)
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "the browser tests need: ${missing[*]} (sudo apt-get install ${missing[*]})" >&2
        exit 2
    fi
fi

axe=target/npm/node_modules/axe-core/axe.min.js
if [ ! -f "$axe" ]; then
    mkdir -p target/npm
    npm install --prefix target/npm --no-audit --no-fund --silent axe-core@4.14.1
fi

cargo test --workspace --locked "$@"

pg_server="${AFTERSALE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
if ! command -v psql >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null || true
fi
if command -v psql >/dev/null && psql "$pg_server/postgres" -qAtc "SELECT 1" >/dev/null 2>&1; then
    db="aftersale_test_$(date +%s)_$$"
    psql "$pg_server/postgres" -qc "CREATE DATABASE $db" >/dev/null
    moto_pid=""
    cleanup() {
        [ -n "$moto_pid" ] && kill "$moto_pid" 2>/dev/null || true
        psql "$pg_server/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    }
    trap cleanup EXIT
    # Evidence shared by several nodes goes through an S3-compatible store: moto's server mode,
    # from PyPI, stands in for it.
    s3_endpoint=""
    if [ ! -x target/moto-venv/bin/moto_server ]; then
        python3 -m venv target/moto-venv >/dev/null 2>&1 &&
            target/moto-venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==5.1.18" >/dev/null 2>&1 || true
    fi
    if [ -x target/moto-venv/bin/moto_server ]; then
        s3_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        target/moto-venv/bin/moto_server -H 127.0.0.1 -p "$s3_port" >target/moto.log 2>&1 &
        moto_pid=$!
        for _ in $(seq 1 50); do
            curl -fs "http://127.0.0.1:$s3_port/" >/dev/null 2>&1 && break
            sleep 0.2
        done
        s3_endpoint="http://127.0.0.1:$s3_port"
        echo "== a local S3-compatible server (moto) at $s3_endpoint"
    else
        echo "== moto could not be installed: the S3 evidence test runs nothing"
    fi
    echo "== the storage contract, the HTTP tests and the many-node tests on PostgreSQL (database $db)"
    AFTERSALE_TEST_DATABASE_URL="$pg_server/$db" AFTERSALE_TEST_S3_ENDPOINT="$s3_endpoint" \
        cargo test --locked -p aftersale-engine --test engine -p aftersale-http --test api -p aftersale --test cli "$@"
else
    echo "== no PostgreSQL server answers at $pg_server: the suite ran on SQLite only"
fi
