#!/usr/bin/env bash
# Runs every test of Thi Đua. Installs what is missing first (see scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

source scripts/setup.sh
setup_rust

echo "== domain rules (cargo test) =="
cargo test --workspace --locked

echo "== the domain crate builds for the browser (wasm32) =="
cargo build -p thidua-domain --target wasm32-unknown-unknown --locked

echo "all tests passed in $(( $(date +%s) - started )) s"
