#!/usr/bin/env bash
# The test command: sets up everything the tests need on a fresh machine,
# then runs the whole suite.  Usage: bash tests/run.sh [cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."
# The Bluesky client's real-PDS test needs @atproto/pds from npm (Node.js 20+),
# installed into a cache outside the clone; a missing npm fails here, loudly.
SOCIAL_TEST_PDS_DIR="$(bash tests/pds/install.sh)"
export SOCIAL_TEST_PDS_DIR
cargo test --locked "$@"
