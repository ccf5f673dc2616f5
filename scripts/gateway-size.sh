#!/usr/bin/env bash
# Size and memory of a gateway's program (gateway/: smol only; connects, logs
# in, streams `/interface/monitor-traffic`), as README "Embedded → Gateways"
# reports them. Builds, in target/gateway-*:
#   - with the usual size settings (gateway/Cargo.toml's release profile:
#     opt-level "z", lto, panic "abort", codegen-units 1, strip), plain and
#     with `tls` (rustls + ring), plain with the connection on the crate's
#     own thread instead of smol's global executor (`--features
#     crate-thread`), and the floor (the same smol program shape with no
#     RouterOS client in it);
#   - with Cargo's default release settings (opt-level 3, no LTO, unwind,
#     16 codegen units), unstripped and stripped.
# Then runs the plain size build against the MockRouter in another process
# (127.0.0.1 only) and reads its resident memory (VmRSS) after login (idle)
# and while streaming, and its peak (VmHWM).
#
# `scripts/gateway-size.sh` (add `--no-tls` to skip the TLS build, the slow one).
#
# `scripts/gateway-size.sh --check` (CI) builds only the two size-settings
# builds and fails if either is larger than its ceiling below: what the
# crate keeps out of a gateway (the reconnect supervisor, CA verification,
# private-key loading) is kept out only by how it is named, so a change can
# bring it back silently. The ceilings are this toolchain's sizes (rustc 1.95,
# x86_64) plus a margin smaller than any of those parts (9.6 KB and more);
# raise them, with a note in the commit, when a toolchain or dependency
# update moves the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
plain_ceiling=606000
tls_ceiling=1448000
tls=yes
check=no
[ "${1:-}" = "--no-tls" ] && tls=no
[ "${1:-}" = "--check" ] && check=yes

bytes() { stat -c %s "$1"; }
show() { printf '%-52s %9s bytes (%s KiB)\n' "$1" "$(bytes "$2")" "$(( $(bytes "$2") / 1024 ))"; }

build() { # target-dir, extra cargo args...
  local dir=$1; shift
  (cd gateway && CARGO_TARGET_DIR="$root/target/$dir" cargo build --quiet --release "$@")
}

build gateway-size --bins
cp target/gateway-size/release/mikrotik-gateway target/gateway-plain
if [ $tls = yes ]; then
  build gateway-size-tls --bin mikrotik-gateway --features tls
fi

if [ $check = yes ]; then
  status=0
  for pair in "plain target/gateway-plain $plain_ceiling" \
    "tls target/gateway-size-tls/release/mikrotik-gateway $tls_ceiling"; do
    set -- $pair
    size=$(bytes "$2")
    if [ "$size" -gt "$3" ]; then
      echo "gateway ($1): $size bytes, above the ceiling of $3"; status=1
    else
      echo "gateway ($1): $size bytes (ceiling $3)"
    fi
  done
  exit $status
fi

build gateway-size-thread --bin mikrotik-gateway --features crate-thread
CARGO_PROFILE_RELEASE_OPT_LEVEL=3 CARGO_PROFILE_RELEASE_LTO=false \
  CARGO_PROFILE_RELEASE_PANIC=unwind CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
  CARGO_PROFILE_RELEASE_STRIP=none build gateway-default --bin mikrotik-gateway
strip -o target/gateway-default-stripped target/gateway-default/release/mikrotik-gateway

echo "=== size ($(uname -m), $(rustc --version))"
show "size settings, plain" target/gateway-plain
[ $tls = yes ] && show "size settings, tls (ring)" target/gateway-size-tls/release/mikrotik-gateway
show "size settings, plain, on the crate's thread" target/gateway-size-thread/release/mikrotik-gateway
show "size settings, floor (smol, no client)" target/gateway-size/release/floor
show "defaults (opt 3, no LTO, unwind), unstripped" target/gateway-default/release/mikrotik-gateway
show "defaults (opt 3, no LTO, unwind), stripped" target/gateway-default-stripped

echo "=== memory (plain, size settings, against the mock in another process)"
cargo build --quiet --example mock-router --features testing
mock_in=$(mktemp -u); mkfifo "$mock_in"
mock_out=$(mktemp)
target/debug/examples/mock-router --monitor-interval-ms 1 <"$mock_in" >"$mock_out" &
mock=$!
exec 9>"$mock_in" # the mock serves until this closes
trap 'exec 9>&-; wait $mock 2>/dev/null; rm -f "$mock_in" "$mock_out"' EXIT
until grep -q listening "$mock_out"; do sleep 0.05; done
address=$(sed -n 's/^listening on //p' "$mock_out")

measure() { # label, binary
  local log gateway peak=0 hwm now
  log=$(mktemp)
  "$2" "$address" admin "" >"$log" &
  gateway=$!
  rss() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$gateway/status"; }
  wait_for() { until grep -q "^$1" "$log"; do kill -0 $gateway || { cat "$log"; exit 1; }; sleep 0.01; done; }
  echo "--- $1"
  wait_for idle
  echo "idle, logged in:        $(rss VmRSS)"
  wait_for streaming
  while kill -0 $gateway 2>/dev/null && ! grep -q '^done' "$log"; do
    now=$(rss VmRSS | tr -dc 0-9) || break
    [ -n "$now" ] && [ "$now" -gt "$peak" ] && peak=$now
    hwm=$(rss VmHWM)
    sleep 0.05
  done
  echo "streaming (max seen):   $peak kB"
  echo "peak (VmHWM):           $hwm"
  wait $gateway
  tail -1 "$log"
  rm -f "$log"
}
measure "smol::spawn" target/gateway-plain
measure "the crate's thread" target/gateway-size-thread/release/mikrotik-gateway
