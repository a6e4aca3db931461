#!/usr/bin/env bash
# The instruction-count guard: what one pass of each of five hot paths costs, in instructions
# counted by valgrind's callgrind (deterministic, unlike times on a shared machine), against the
# baseline kept in scripts/instructions.baseline. Fails when a path costs more than 20% over its
# baseline. Each path runs twice after the same setup, N and 2N passes (`aftersale hot-path`):
# the difference of the two totals over N is one pass, start-up and setup cancelled out.
#
#   scripts/instructions.sh           # measure and compare (CI runs this)
#   scripts/instructions.sh --update  # measure and write the baseline (commit it, saying why)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
    else
        echo "the instruction-count guard needs valgrind (sudo apt-get install valgrind)" >&2
        exit 2
    fi
fi

cargo build --release --locked --bin aftersale
bin=target/release/aftersale
baseline=scripts/instructions.baseline
limit=1.20
n=50
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

count() { # path passes → instructions collected by the whole run
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" hot-path "$1" "$2" --dir "$dir/db" 2>&1 |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}

update=false
[ "${1:-}" = "--update" ] && update=true
declare -A base
if [ -f "$baseline" ]; then
    while read -r name value; do
        case "$name" in ''|'#'*) continue ;; esac
        base[$name]=$value
    done < "$baseline"
fi

failed=0
out=""
printf '%-14s %14s %14s %7s\n' path baseline now ratio
for path in decide_refund command fire queue_json queue_html; do
    a=$(count "$path" "$n")
    b=$(count "$path" $((2 * n)))
    if [ -z "$a" ] || [ -z "$b" ]; then
        echo "$path: the run failed" >&2
        "$bin" hot-path "$path" "$n" --dir "$dir/db" >&2 || true
        exit 1
    fi
    now=$(( (b - a) / n ))
    out+="$path $now"$'\n'
    was=${base[$path]:-}
    if [ -z "$was" ]; then
        printf '%-14s %14s %14s %7s\n' "$path" "-" "$now" "-"
        $update || failed=1
        continue
    fi
    ratio=$(awk -v a="$now" -v b="$was" 'BEGIN { printf "%.3f", a / b }')
    printf '%-14s %14s %14s %7s\n' "$path" "$was" "$now" "$ratio"
    if awk -v r="$ratio" -v l="$limit" 'BEGIN { exit !(r > l) }'; then
        echo "  $path costs more than $limit × its baseline" >&2
        failed=1
    fi
done

if $update; then
    {
        echo "# Instructions per pass of each hot path (scripts/instructions.sh --update), release build."
        echo "# Update in the commit that makes a path dearer on purpose, and say why there."
        printf '%s' "$out"
    } > "$baseline"
    echo "baseline written to $baseline"
    exit 0
fi
if [ "$failed" != 0 ]; then
    echo "the instruction-count guard failed (a path without a baseline counts as failed)" >&2
    exit 1
fi
echo "every hot path within $limit × its baseline"
