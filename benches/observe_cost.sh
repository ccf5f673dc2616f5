#!/usr/bin/env bash
# Builds benches/observe_cost.rs three ways and runs them alternately,
# round after round, then prints each build's medians and the ratios:
#   plain    — default build (counters on, no tracing)
#   tracing  — `--features tracing`, no subscriber installed
#   nocount  — MIKROTIK_BENCH_NO_COUNTERS=1: counters compiled, never added to
#   plain2   — the plain build again: plain2/plain is the noise of the run
# Usage: bash benches/observe_cost.sh [ROUNDS]   (default 5)
#        bash benches/observe_cost.sh --instructions
# The second counts instructions under valgrind's callgrind instead of
# timing: the same count on every run whatever else loads the machine, so
# differences of a percent or less show. Each build runs each piece of work
# (a stream of rows, short round trips; Tokio current-thread) at two sizes;
# the difference divided by the extra units is the cost of one unit, with
# start-up, connect and login subtracted away.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=time
if [ "${1:-}" = "--instructions" ]; then mode=instructions; shift; fi
rounds=${1:-5}
out=$(mktemp -d)
build() { # name, then cargo arguments
    local name=$1; shift
    local exe
    exe=$(cargo bench --bench observe_cost --no-run --message-format=json "$@" 2>/dev/null |
        grep '"executable":"[^"]*observe_cost' | sed 's/.*"executable":"\([^"]*\)".*/\1/' | tail -1)
    cp "$exe" "$out/$name"
}
build plain
build tracing --features tracing
MIKROTIK_BENCH_NO_COUNTERS=1 build nocount
# Leave the usual build in place for the next cargo command.
cargo bench --bench observe_cost --no-run >/dev/null 2>&1
# A second copy of the plain build measures the noise floor (plain2/plain).
cp "$out/plain" "$out/plain2"
names=(plain tracing nocount plain2)
if [ "$mode" = instructions ]; then
    command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)"; exit 1; }
    # Instructions the client process ran for OBSERVE_COST_WORK=$2 (the mock
    # is a child process, which callgrind does not follow).
    count() {
        OBSERVE_COST_WORK=$2 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$out/$1" 2>&1 |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    printf '%-10s %-8s %16s %16s\n' work build "instr. per unit" "vs plain"
    for work in stream:20000 roundtrip:500; do
        kind=${work%%:*} n=${work#*:}
        for name in "${names[@]}"; do
            small=$(count "$name" "$kind:$n")
            large=$(count "$name" "$kind:$((2 * n))")
            per=$(((large - small) / n))
            [ "$name" = plain ] && base=$per
            printf '%-10s %-8s %16d %16s\n' "$kind" "$name" "$per" \
                "$(awk -v a="$per" -v b="$base" 'BEGIN { printf "%.4f", a / b }')"
        done
    done
    rm -rf "$out"
    exit 0
fi
for round in $(seq "$rounds"); do
    # Rotate the order each round, so no build always runs first.
    for i in 0 1 2 3; do
        name=${names[$(((i + round) % 4))]}
        "$out/$name" | sed "s/^observe_cost /$name /" >>"$out/results"
    done
done
awk '
    { key = $1" "$2; v[key, ++n[key]] = $3; names[$2] = 1 }
    function med(key,   m, i, j, t, a) {
        m = n[key]; for (i = 1; i <= m; i++) a[i] = v[key, i]
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return a[int((m + 1) / 2)]
    }
    END {
        printf "%-18s %10s %10s %10s %10s %14s %14s %14s\n", "per CPU second", "plain", "plain2", "tracing", "nocount", "plain2/plain", "tracing/plain", "plain/nocount"
        for (k in names) {
            if (k == "counted_sentences") continue
            p = med("plain " k); q = med("plain2 " k); t = med("tracing " k); c = med("nocount " k)
            printf "%-18s %10.0f %10.0f %10.0f %10.0f %14.3f %14.3f %14.3f\n", k, p, q, t, c, q / p, t / p, p / c
        }
    }' "$out/results"
grep counted_sentences "$out/results" | sort -u
[ -n "${KEEP:-}" ] && echo "results in $out" || rm -rf "$out"
