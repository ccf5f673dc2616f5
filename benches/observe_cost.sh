#!/usr/bin/env bash
# Builds benches/observe_cost.rs three ways and runs them alternately,
# round after round, then prints each build's medians and the ratios:
#   plain    — default build (counters on, no tracing)
#   tracing  — `--features tracing`, no subscriber installed
#   nocount  — MIKROTIK_BENCH_NO_COUNTERS=1: counters compiled, never added to
# Usage: bash benches/observe_cost.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
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
for round in $(seq "$rounds"); do
    for name in plain tracing nocount; do
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
        printf "%-20s %14s %14s %14s %16s %16s\n", "per second", "plain", "tracing", "nocount", "tracing/plain", "plain/nocount"
        for (k in names) {
            if (k == "counted_sentences") continue
            p = med("plain " k); t = med("tracing " k); c = med("nocount " k)
            printf "%-20s %14.0f %14.0f %14.0f %16.3f %16.3f\n", k, p, t, c, t / p, p / c
        }
    }' "$out/results"
grep counted_sentences "$out/results" | sort -u
rm -rf "$out"
