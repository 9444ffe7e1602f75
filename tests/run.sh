#!/usr/bin/env bash
# The test command: sets up everything the tests need on a fresh machine,
# then runs the whole suite.  Usage: bash tests/run.sh [cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked "$@"
