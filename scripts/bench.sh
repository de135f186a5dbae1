#!/usr/bin/env bash
# Runs the benchmarks and writes BENCHMARKS.md at the repository's root: the date (UTC), the machine,
# the exact command, then each benchmark's figures in step order. Not part of scripts/test.sh.
#
#   bash scripts/bench.sh              every step at full size
#   bash scripts/bench.sh --quick      smaller sizes and shorter runs, for trying it
#   bash scripts/bench.sh --only NAME  one step (e.g. 40-server, or several: 40-server,50-dashboard);
#                                      the other steps' fragments from earlier runs are kept in
#                                      BENCHMARKS.md, marked with their time
#
# A step is one line at the bottom of this file: `run_step NAME COMMAND...`. The command writes its
# Markdown fragment to the file named by $BENCH_FRAGMENT (target/bench/NAME.md) and may read
# $BENCH_QUICK (1 with --quick) and $BENCH_DIR (target/bench, absolute). A step that fails, or writes
# no fragment, gets a fragment saying so with the last lines of its output, and the next step runs.
set -euo pipefail
# The whole script is one block, read before it runs: editing this file during a run (a new step
# added meanwhile) cannot derail the run in progress.
{
cd "$(dirname "$0")/.."
source scripts/setup.sh

COMMAND="bash scripts/bench.sh${*:+ $*}"
QUICK=0
ONLY=""
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --only)
            ONLY="${2:?--only needs step names, e.g. 40-server or 40-server,50-dashboard}"
            shift
            ;;
        -h | --help)
            sed -n '2,14p' "$0"
            exit 0
            ;;
        *)
            echo "bench.sh: unknown option $1 (--quick, --only NAME)" >&2
            exit 2
            ;;
    esac
    shift
done

export BENCH_QUICK=$QUICK
export BENCH_DIR="$PWD/target/bench"
mkdir -p "$BENCH_DIR"
STARTED=$(date -u +%s)
STEPS=()
RAN=()

# run_step NAME COMMAND...: runs COMMAND (unless --only names another step) with BENCH_FRAGMENT set,
# keeps its output in target/bench/NAME.log, and writes a failure fragment when it fails.
run_step() {
    local name="$1"
    shift
    STEPS+=("$name")
    if [ -n "$ONLY" ] && [[ ",$ONLY," != *",$name,"* ]]; then
        return 0
    fi
    RAN+=("$name")
    local fragment="$BENCH_DIR/$name.md" log="$BENCH_DIR/$name.log" status
    rm -f "$fragment"
    echo
    echo "== $name ($(($(date -u +%s) - STARTED)) s) =="
    set +e
    (
        set -euo pipefail
        export BENCH_FRAGMENT="$fragment"
        "$@"
    ) 2>&1 | tee "$log"
    status=${PIPESTATUS[0]}
    set -e
    if [ "$status" -ne 0 ] || [ ! -s "$fragment" ]; then
        {
            echo "## $name"
            echo
            if [ "$status" -ne 0 ]; then
                echo "**Failed** (exit status $status): \`$*\`. Its last lines:"
            else
                echo "**No figures**: \`$*\` ended without writing its fragment. Its last lines:"
            fi
            echo
            echo '```text'
            tail -n 30 "$log" | cut -c1-200
            echo '```'
        } >"$fragment"
        echo "== $name failed (status $status); going on with the next step"
    fi
}

# The machine and the run, then every step's fragment in order.
assemble() {
    local out=BENCHMARKS.md cpu cores memory os chromium postgres commit
    cpu=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
    cores=$(grep -c '^processor' /proc/cpuinfo || true)
    memory=$(awk '/^MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)
    os=$( (. /etc/os-release && echo "$PRETTY_NAME") 2>/dev/null || uname -s)
    chromium=$( (chromium --version 2>/dev/null || true) | head -n 1)
    postgres=$( (ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 | xargs -I{} {}/postgres --version 2>/dev/null || true) | head -n 1)
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
        commit="$commit (with uncommitted changes)"
    fi
    {
        echo "# Benchmarks"
        echo
        echo "Written by \`scripts/bench.sh\` (see the README's \"Benchmarks\"); every figure below comes from"
        echo "the run described here, except a step marked as from an earlier run."
        echo
        echo "- Date: $(date -u -d "@$STARTED" '+%Y-%m-%d %H:%M UTC')"
        echo "- Command: \`$COMMAND\`"
        echo "- Commit: $commit"
        echo "- CPU: ${cpu:-unknown}, $cores logical cores"
        echo "- Memory: $memory"
        echo "- OS: $os, Linux $(uname -r)"
        echo "- Rust: $(rustc --version)"
        [ -n "$chromium" ] && echo "- Chromium: $chromium"
        [ -n "$postgres" ] && echo "- PostgreSQL: $postgres"
        echo
        local name fragment ran
        for name in "${STEPS[@]}"; do
            fragment="$BENCH_DIR/$name.md"
            [ -s "$fragment" ] || continue
            cat "$fragment"
            ran=0
            for r in "${RAN[@]}"; do [ "$r" = "$name" ] && ran=1; done
            if [ $ran -eq 0 ]; then
                echo
                echo "_(This step is from an earlier run, $(date -u -r "$fragment" '+%Y-%m-%d %H:%M UTC').)_"
            fi
            echo
        done
    } >"$out"
    echo
    echo "wrote $out ($(($(date -u +%s) - STARTED)) s)"
}

# ---- the steps' commands

# 40-server: the load benchmark (crates/server/benches/load.rs) against the built server, on SQLite and
# on a throwaway PostgreSQL cluster with durable settings (fsync on, as in production)
bench_server() {
    setup_rust
    cargo build --profile server -p thidua-server --locked --bin thidua-server
    local args=(--out "$BENCH_FRAGMENT")
    [ "$BENCH_QUICK" = 1 ] && args+=(--quick)
    command -v perf >/dev/null && args+=(--perf "$BENCH_DIR/perf")
    setup_postgres_tools || echo "PostgreSQL cannot be installed: the server is measured on SQLite only"
    if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        PG_PORT=55437 PG_SETTINGS="" start_postgres
        export THIDUA_BENCH_POSTGRES_URL="$POSTGRES_URL"
    fi
    THIDUA_SERVER_BIN="$PWD/target/server/thidua-server" \
        cargo bench --profile server -p thidua-server --locked --bench load -- "${args[@]}"
    stop_postgres
}

# 50-dashboard: the dashboard's criterion benchmark (crates/server/benches/dashboard.rs), in the
# server's build profile, its printed figures against the goal
bench_dashboard() {
    setup_rust
    local out="$BENCH_DIR/50-dashboard.out"
    cargo bench --profile server -p thidua-server --locked --bench dashboard 2>&1 | tee "$out"
    {
        echo "## Dashboard on the server (\`50-dashboard\`)"
        echo
        echo "\`cargo bench --profile server -p thidua-server --bench dashboard\` (crates/server/benches/dashboard.rs):"
        echo "204 communes, 60,000 households of the 2023 review (and 6,000 of 2022), an NTM assessment and a"
        echo "target report per commune, on SQLite; the domain's computation alone, then the whole"
        echo "\`GET /api/dashboard\` over HTTP. Goal: the dashboard computes in at most 200 ms on the server."
        echo
        grep -E '^(records|stored|household classes|province|GET /api/dashboard.* answers)' "$out" | sed 's/^/- /'
        echo
        echo "| what | mean (ms) | best (ms) | runs |"
        echo "|---|---:|---:|---:|"
        sed -nE 's/^(.*): mean ([0-9.]+) ms, best ([0-9.]+) ms over ([0-9]+) runs$/| \1 | \2 | \3 | \4 |/p' "$out"
        echo
        local whole domain
        whole=$(sed -nE 's/^GET \/api\/dashboard\?unit=14 \(province.*: mean ([0-9.]+) ms.*/\1/p' "$out" | head -n 1)
        domain=$(sed -nE 's/^domain, 2023 structure.*: mean ([0-9.]+) ms.*/\1/p' "$out" | head -n 1)
        if [ -n "$whole" ]; then
            awk -v w="$whole" -v d="$domain" 'BEGIN {
                verdict = (w <= 200) ? sprintf("**met**: %.0f ms, %.1f× under the budget", w, 200 / w) \
                                     : sprintf("**missed** by %.0f ms (%.0f ms)", w - 200, w)
                printf "Goal, the province'"'"'s whole request within 200 ms: %s. ", verdict
                if (d != "") {
                    printf "The domain'"'"'s computation over all the records, in memory: %.0f ms %s.\n", d, (d <= 200) ? "(within)" : "(over, but the request reads stored classes and does not run it whole)"
                } else {
                    printf "\n"
                }
            }'
        else
            echo "The benchmark printed no figure for the whole request."
        fi
    } >"$BENCH_FRAGMENT"
}

# 10-first-load, 20-indexeddb, 30-sync: the browser benchmarks (bench/*.mjs; each builds what it needs —
# the release build, the bench variant, the server — only when missing or older than its sources, and
# reads $BENCH_FRAGMENT and $BENCH_QUICK itself)
bench_browser_setup() {
    setup_web_build
    setup_browser
    need_node
    if [ ! -d bench/node_modules/playwright-core ]; then
        (cd bench && npm ci --no-audit --no-fund)
    fi
}
bench_first_load() {
    bench_browser_setup
    # the wasm's size by crate; without twiggy the fragment says so and the rest is measured
    command -v twiggy >/dev/null || cargo install twiggy --version 0.8.0 --locked || true
    node bench/first-load.mjs
}
bench_indexeddb() {
    bench_browser_setup
    node bench/indexeddb.mjs
}
bench_sync() {
    bench_browser_setup
    node bench/sync.mjs
}

# 60-dashboard-render: the dashboard with 204 communes and 60,000 households behind it, the server's
# answer and the browser's drawing timed apart (bench/dashboard-render.mjs; the e2e harness starts the
# release server on a fresh SQLite file and drives Chromium)
bench_dashboard_render() {
    bench_browser_setup
    [ -f dist/index.html ] || build_web
    # always asked for: cargo rebuilds only what changed, and a stale server would time old code
    cargo build --profile server -p thidua-server --locked
    setup_e2e
    local quick=()
    [ "$BENCH_QUICK" = 1 ] && quick=(--quick)
    THIDUA_SERVER_BIN="$PWD/target/server/thidua-server" THIDUA_DIST="$PWD/dist" \
        node bench/dashboard-render.mjs "${quick[@]}"
}

# ---- the steps, in report order (one line each; browser steps 10–30 go before the server's)
run_step 10-first-load bench_first_load
run_step 20-indexeddb bench_indexeddb
run_step 30-sync bench_sync
run_step 40-server bench_server
run_step 50-dashboard bench_dashboard

run_step 60-dashboard-render bench_dashboard_render

assemble
exit
}
