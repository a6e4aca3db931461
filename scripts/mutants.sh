#!/usr/bin/env bash
# Mutation testing of the rules core and the engine, each against its own tests.
#
#   scripts/mutants.sh                 # core (whole crate) and engine (a quarter, round-robin)
#   scripts/mutants.sh core            # one crate
#   scripts/mutants.sh engine 2/4      # another shard of the engine
#   scripts/mutants.sh engine all      # the whole engine (several hours on two cores)
#   scripts/mutants.sh summary         # print the figures of the last runs again
#   scripts/mutants.sh core --iterate  # test again only what the last run did not catch
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

# The lines of those files that exist.
existing() { for f in "$@"; do if [ -f "$f" ]; then cat "$f"; fi; done; }

# With --iterate, cargo-mutants tests only what earlier runs did not catch. The script keeps what
# earlier runs caught or found unviable (accumulated_*.txt) and counts those of them that still
# exist in the code (a mutant of an edited line has a new name and is tested again).
summary() {
    local name=$1 package=$2 dir=$out_root/$1/mutants.out
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
    if [ -f "$dir/accumulated_caught.txt" ]; then
        local current
        current=$(mktemp)
        cargo mutants --list --package "$package" 2>/dev/null | sort -u >"$current"
        local tested
        tested=$(mktemp)
        existing "$dir/caught.txt" "$dir/missed.txt" "$dir/timeout.txt" "$dir/unviable.txt" | sort -u >"$tested"
        still() { sort -u "$dir/$1" | comm -12 - "$current" | comm -23 - "$tested" | grep -c . || true; }
        caught=$((caught + $(still accumulated_caught.txt)))
        unviable=$((unviable + $(still accumulated_unviable.txt)))
        rm -f "$current" "$tested"
    fi
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
    local dir=$out_root/$name/mutants.out
    if [[ " $* " == *" --iterate "* ]] && [ -d "$dir" ]; then
        # Keep what this and earlier runs caught or found unviable; cargo-mutants rewrites both.
        existing "$dir/caught.txt" "$dir/accumulated_caught.txt" | sort -u >"$out_root/$name/acc_caught"
        existing "$dir/unviable.txt" "$dir/accumulated_unviable.txt" | sort -u >"$out_root/$name/acc_unviable"
    else
        rm -f "$out_root/$name/acc_caught" "$out_root/$name/acc_unviable"
    fi
    cargo mutants --package "$package" --jobs "$jobs" --timeout-multiplier 3 --minimum-test-timeout 60 \
        --output "$out_root/$name" "$@" || true
    if [ -f "$out_root/$name/acc_caught" ]; then
        mv "$out_root/$name/acc_caught" "$dir/accumulated_caught.txt"
        mv "$out_root/$name/acc_unviable" "$dir/accumulated_unviable.txt"
    fi
}

case "${1:-all}" in
summary)
    summary core aftersale-core
    summary engine aftersale-engine
    ;;
core)
    run core aftersale-core "${@:2}"
    summary core aftersale-core
    ;;
engine)
    shard=${2:-1/4}
    if [ "$shard" = all ]; then
        run engine aftersale-engine "${@:3}"
    else
        run engine aftersale-engine --shard "$shard" --sharding round-robin "${@:3}"
    fi
    summary engine aftersale-engine
    ;;
all)
    run core aftersale-core
    run engine aftersale-engine --shard 1/4 --sharding round-robin
    summary core aftersale-core
    summary engine aftersale-engine
    ;;
*)
    echo "usage: scripts/mutants.sh [all|core|engine [K/N|all]|summary]" >&2
    exit 1
    ;;
esac
