#!/usr/bin/env bash
# Measures what the compile-time check of `command!` costs (issue 24):
#  1. compile time of a crate with 600 `command!` calls, before (the `main` branch's
#     macro, no schema) and after (this tree's macro, checking every call), and with
#     the check turned off (`unchecked-commands`);
#  2. the bytes of that crate's release binary in each case (the schema must add none);
#  3. the bytes the schema adds to the published crates.
#
#   scripts/measure_command_check.sh [BASE_REF]     (default BASE_REF: main)
#
# Needs a built dependency tree (the first build of each case is not timed: only the
# rebuild of the measured crate after touching its source, 3 runs each).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
base_ref=${1:-main}
work=${CARGO_TARGET_DIR:-$here/target}/measure-command-check
rm -rf "$work"
mkdir -p "$work/before-tree"
git -C "$here" archive "$base_ref" | tar -x -C "$work/before-tree"

# 600 calls: real commands and arguments (those without a type hint, so "x" fits)
# spread over the tree (every 6th command).
python3 - "$here/schema/data/routeros.txt" > "$work/calls.rs" <<'PY'
import sys
menu = None; calls = []; seen = 0
for line in open(sys.argv[1]).read().split("\n")[2:]:
    if not line or line.startswith("hint "):
        continue
    if not line.startswith(" "):
        menu = line.split()[0]
    elif not line.startswith("  "):
        seen += 1
        name = line.split()[0]
        pick = seen % 6 == 0 and "@" not in line and menu != "/"
        calls.append([f"{menu}/{name}", []] if pick else None)
    elif calls and calls[-1] is not None and "@" not in line and "#" not in line:
        arg = line.split()[0]
        if len(calls[-1][1]) < 3 and arg.replace("-", "").isalnum() and not arg[0].isdigit():
            calls[-1][1].append(arg)
calls = [c for c in calls if c is not None][:600]
assert len(calls) == 600, len(calls)
print("pub fn commands() -> Vec<mikrotik::protocol::command::Command> {\n    vec![")
for path, args in calls:
    words = "".join(f', {a} = "x"' for a in args)
    print(f'        mikrotik::command!("{path}"{words}),')
print("    ]\n}")
PY

make_crate() { # name, mikrotik-rs path, features
  mkdir -p "$work/$1/src"
  cat > "$work/$1/Cargo.toml" <<TOML
[package]
name = "measure-$1"
version = "0.0.0"
edition = "2024"
publish = false
[workspace]
[dependencies]
mikrotik = { package = "mikrotik-rs", path = "$2", default-features = false, features = [$3] }
[profile.release]
strip = false
TOML
  cp "$work/calls.rs" "$work/$1/src/calls.rs"
  printf 'mod calls;\nfn main() { println!("{}", calls::commands().len()); }\n' > "$work/$1/src/main.rs"
}
make_crate before "$work/before-tree" ""
make_crate after "$here" ""
make_crate unchecked "$here" '"unchecked-commands"'

export CARGO_TARGET_DIR="$work/target"
for case in before after unchecked; do
  (cd "$work/$case" && cargo build --quiet 2>/dev/null || cargo build)
  total=0
  for run in 1 2 3; do
    touch "$work/$case/src/calls.rs"
    start=$(date +%s%N)
    (cd "$work/$case" && cargo build --quiet)
    end=$(date +%s%N)
    total=$((total + (end - start) / 1000000))
  done
  echo "compile, 600 command! calls, $case: $((total / 3)) ms (mean of 3 rebuilds)"
done
for case in before after unchecked; do
  (cd "$work/$case" && cargo build --quiet --release)
  bytes=$(stat -c %s "$work/target/release/measure-$case")
  has=$(grep -c "mikrotik-rs-schema 1" "$work/target/release/measure-$case" || true)
  echo "release binary, $case: $bytes bytes (schema text inside: $has)"
done
data=$(stat -c %s "$here/schema/data/routeros.txt")
gz=$(gzip -9c "$here/schema/data/routeros.txt" | wc -c)
echo "schema data: $data bytes; $gz gzipped (what it adds to the published .crate of mikrotik-rs-schema)"
