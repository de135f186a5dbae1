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
# the map's boundaries are the deployment's, never part of the release: when the reference data sits
# beside the repository (../shared/data), the demo uses copies of its boundary files
if [ -z "${THIDUA_BOUNDARIES_DIR:-}" ] && [ -f ../shared/data/sonla_districts.geojson ]; then
    export THIDUA_BOUNDARIES_DIR="$THIDUA_DATA_DIR/boundaries"
    mkdir -p "$THIDUA_BOUNDARIES_DIR"
    cp ../shared/data/sonla_districts.geojson "$THIDUA_BOUNDARIES_DIR/districts-2023.geojson"
    cp ../shared/data/sonla_communes_2025.geojson "$THIDUA_BOUNDARIES_DIR/communes-2025.geojson"
fi
exec target/server/thidua-server
