#!/usr/bin/env bash
# Runs every test of Thi Đua, installing what is missing first (scripts/setup.sh):
#   1. domain rules and the server against a real SQLite file (cargo test)
#   2. the server again against a real PostgreSQL that this script starts
#   3. storage in headless Chromium (wasm-bindgen-test)
#   4. user journeys end to end: the release build, the real server, Playwright driving Chromium
#   --soak: only the fault-injection harness at soak size (50 devices × 2,000 mutations), with counts
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
HARNESS=devices_converge_with_nothing_lost_or_duplicated_through_faults_and_restarts

if [[ "${1:-}" == "--soak" ]]; then
    source scripts/setup.sh
    setup_rust
    THIDUA_SOAK=1 cargo test --release -p thidua-server --locked --test fault_injection -- --nocapture
    exit 0
fi
source scripts/setup.sh

setup_web_build
setup_browser
setup_postgres_tools

step() { echo; echo "== $* ($(( $(date +%s) - started )) s) =="; }

step "domain rules and server on SQLite (cargo test)"
cargo test -p thidua-domain -p thidua-server --locked -- --skip "$HARNESS"

step "fault injection on SQLite (seeded; counts below)"
cargo test -p thidua-server --locked --test fault_injection -- --nocapture

step "server on PostgreSQL, then fault injection on it"
start_postgres
THIDUA_TEST_POSTGRES_URL="$POSTGRES_URL" cargo test -p thidua-server --locked -- --skip "$HARNESS"
THIDUA_TEST_POSTGRES_URL="$POSTGRES_URL" cargo test -p thidua-server --locked --test fault_injection -- --nocapture
stop_postgres

step "storage in headless Chromium (wasm-bindgen-test)"
cargo test --target wasm32-unknown-unknown -p thidua-app --locked

step "release build of the app (trunk, wasm-opt)"
trunk build --release
report_sizes dist

step "end to end (Playwright + Chromium against the real server)"
cargo build -p thidua-server --locked
setup_e2e
THIDUA_SERVER_BIN="$PWD/target/debug/thidua-server" THIDUA_DIST="$PWD/dist" \
    node --test --test-concurrency=1 tests/e2e/

echo
echo "all tests passed in $(( $(date +%s) - started )) s"
