#!/usr/bin/env bash
# The whole test suite: what the README's second command runs and what CI runs.
#
# The browser tests drive Debian's Chromium through chromedriver and check each page with
# axe-core from the npm registry; this installs what is missing (Debian packages chromium,
# chromium-driver and a CJK font, with apt-get when run as root; axe-core into target/npm), then
# runs `cargo test --workspace --locked` with any arguments given.
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
