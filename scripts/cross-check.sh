#!/usr/bin/env bash
# Cross-check: two third-party RouterOS API clients from PyPI (librouteros,
# routeros-api) run their login, print-with-query, add/set/remove,
# listen-and-cancel and empty-result flows against the MockRouter (the
# `mock-router` example as a process); any answer that differs from what
# they expect of a real router fails the run.
#
# Creates its own virtual environment in target/cross-check-venv (needs
# python3 with venv, and PyPI the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir="${CARGO_TARGET_DIR:-target}"
venv="$target_dir/cross-check-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  librouteros==4.2.2 routeros-api==0.21.0
cargo build --quiet --all-features --example mock-router
"$venv/bin/python" scripts/cross_check.py "$target_dir/debug/examples/mock-router"
