#!/usr/bin/env bash
# What one unit of work costs the client, contender by contender: a row of
# the stream bench or a round trip of the roundtrip bench, in instructions
# (valgrind's callgrind: the same count whatever else loads the machine),
# CPU time, context switches and system calls (perf stat; software events
# and syscall tracepoints, which work where hardware counters do not).
#
# The mock runs in a process of its own, started here, so both tools see the
# client alone. Each contender runs at two sizes and the difference is
# divided by the extra units: start-up, connect and login drop out.
#
# Usage: bash benches/profile.sh stream|roundtrip [CONTENDER...]
#   contenders: bare tokio-current tokio-multi smol-background smol-executor
#   (the default: all five). Needs valgrind and perf (linux-perf).
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${1:?stream or roundtrip}
shift
contenders=("$@")
[ ${#contenders[@]} -gt 0 ] || contenders=(bare tokio-current tokio-multi smol-background smol-executor)
case $bench in
stream) n=20000 ;;
roundtrip) n=1000 ;;
*) echo "stream or roundtrip"; exit 2 ;;
esac
for tool in valgrind perf; do
    command -v $tool >/dev/null || { echo "needs $tool"; exit 1; }
done
exe=$(cargo bench --all-features --bench "$bench" --no-run --message-format=json 2>/dev/null |
    grep "\"executable\":\"[^\"]*/$bench-" | sed 's/.*"executable":"\([^"]*\)".*/\1/' | tail -1)
out=$(mktemp -d)
mocks=()
trap 'for pid in "${mocks[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$out"' EXIT

# `mock VAR ROWS`: starts a mock whose stream script has ROWS rows and puts
# its address in VAR (not in a subshell: the mock lives while this shell
# holds its stdin open).
mock() {
    mkfifo "$out/in-$1"
    "$exe" --mock-child --rows "$2" <"$out/in-$1" >"$out/addr-$1" &
    mocks+=($!)
    exec {hold}>"$out/in-$1"
    until grep -q ADDR "$out/addr-$1" 2>/dev/null; do sleep 0.1; done
    printf -v "$1" '%s' "$(sed -n 's/^ADDR //p' "$out/addr-$1")"
}
rows() { if [ "$bench" = stream ]; then echo "$1"; else echo 0; fi; }
mock small_mock "$(rows $n)"
mock large_mock "$(rows $((2 * n)))"

events=task-clock,context-switches,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait
events+=,syscalls:sys_enter_read,syscalls:sys_enter_recvfrom,syscalls:sys_enter_write,syscalls:sys_enter_sendto,syscalls:sys_enter_writev
# `name units` → one line: instructions, then each perf event's count.
measure() {
    local address=$small_mock
    [ "$2" = "$n" ] || address=$large_mock
    # Exported, not passed through `env`: valgrind must start the bench
    # itself, or it would count `env` and not follow the exec.
    export BENCH_MOCK=$address BENCH_ONLY=$1 BENCH_ROUNDS=1 BENCH_UNITS=$2
    local instructions
    instructions=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$exe" 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    [ -n "$instructions" ] || { echo "callgrind counted nothing for $1" >&2; exit 1; }
    perf stat -x, -e "$events" -o "$out/perf" "$exe" >/dev/null
    echo "$instructions $(grep -v '^#' "$out/perf" | grep . | cut -d, -f1 | tr '\n' ' ')"
}

printf '%s: per %s, client process only (n = %d and %d)\n' "$bench" \
    "$([ "$bench" = stream ] && echo row || echo 'round trip')" "$n" $((2 * n))
printf '%-16s %12s %9s %9s %8s %8s %8s %8s\n' contender instructions "CPU µs" switches futex epoll reads writes
for contender in "${contenders[@]}"; do
    read -r -a small <<<"$(measure "$contender" "$n")"
    read -r -a large <<<"$(measure "$contender" $((2 * n)))"
    awk -v n="$n" -v name="$contender" -v s="${small[*]}" -v l="${large[*]}" 'BEGIN {
        split(s, a, " "); split(l, b, " ")
        for (i in a) d[i] = (b[i] - a[i]) / n
        # task-clock is in milliseconds; the syscall columns add up their kinds.
        printf "%-16s %12.0f %9.2f %9.2f %8.2f %8.2f %8.2f %8.2f\n", name, d[1], d[2] * 1000, d[3],
            d[4], d[5] + d[6], d[7] + d[8], d[9] + d[10] + d[11]
    }'
done
