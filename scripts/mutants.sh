#!/usr/bin/env bash
# Mutation testing of the rules core and the engine, each against its own tests.
#
#   scripts/mutants.sh                 # core (whole crate) and engine (a quarter, round-robin)
#   scripts/mutants.sh core            # one crate
#   scripts/mutants.sh engine 2/4      # another shard of the engine
#   scripts/mutants.sh engine all      # the whole engine (several hours on two cores)
#   scripts/mutants.sh summary         # print the figures of the last runs again
#
# Prints caught / missed / timeout / unviable and the score per crate: caught (timeouts
# included, since every test loop is bounded) over viable (everything but unviable). Results
# stay in mutants.out/<crate>/mutants.out/ (missed.txt lists what no test noticed). For a change
# against main, only the mutants on changed lines:
#
#   git diff main > /tmp/change.diff && cargo mutants --in-diff /tmp/change.diff -p aftersale-core
#
# Needs cargo-mutants (`cargo install cargo-mutants --locked`). Not part of .ci/run: a full
# run takes longer than CI allows on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."

out_root=mutants.out
jobs=${MUTANTS_JOBS:-2}

summary() {
    local name=$1 dir=$out_root/$1/mutants.out
    if [ ! -d "$dir" ]; then
        echo "$name: no run yet"
        return
    fi
    count() { if [ -f "$dir/$1.txt" ]; then grep -c . "$dir/$1.txt" || true; else echo 0; fi; }
    local caught missed timeout unviable
    caught=$(count caught)
    missed=$(count missed)
    timeout=$(count timeout)
    unviable=$(count unviable)
    local viable=$((caught + missed + timeout))
    local score="n/a"
    if [ "$viable" -gt 0 ]; then
        score=$(awk -v c=$((caught + timeout)) -v v="$viable" 'BEGIN { printf "%.1f%%", 100 * c / v }')
    fi
    printf '%-8s caught %4d  missed %4d  timeout %3d  unviable %4d  score %s (%d/%d viable)\n' \
        "$name" "$caught" "$missed" "$timeout" "$unviable" "$score" $((caught + timeout)) "$viable"
}

run() {
    local name=$1 package=$2
    shift 2
    mkdir -p "$out_root/$name"
    cargo mutants --package "$package" --jobs "$jobs" --timeout-multiplier 3 --minimum-test-timeout 60 \
        --output "$out_root/$name" "$@" || true
}

case "${1:-all}" in
summary)
    summary core
    summary engine
    ;;
core)
    run core aftersale-core
    summary core
    ;;
engine)
    shard=${2:-1/4}
    if [ "$shard" = all ]; then
        run engine aftersale-engine
    else
        run engine aftersale-engine --shard "$shard" --sharding round-robin
    fi
    summary engine
    ;;
all)
    run core aftersale-core
    run engine aftersale-engine --shard 1/4 --sharding round-robin
    summary core
    summary engine
    ;;
*)
    echo "usage: scripts/mutants.sh [all|core|engine [K/N|all]|summary]" >&2
    exit 1
    ;;
esac
