#!/usr/bin/env bash
# Builds the app (trunk, release, wasm-opt -Oz) and starts the server, which serves it and the API on
# http://127.0.0.1:8080 with an SQLite file in ./data (created on first run). Installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

build_web
cargo build --profile server -p thidua-server --locked
export THIDUA_DIST="$PWD/dist"
export THIDUA_DATA_DIR="${THIDUA_DATA_DIR:-$PWD/data}"
# demo accounts and demo households, printed at start (never for real data)
export THIDUA_DEMO="${THIDUA_DEMO:-1}"
exec target/server/thidua-server
