# Installs what the build and the tests need, only where it is missing. Sourced by the other scripts.
# Versions: ../shared/TOOLCHAIN.md (verified together). Only the package registries are reachable.

setup_rust() {
    # rust-toolchain.toml pins the compiler; an already-installed toolchain does not get new targets by itself
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        rustup target add wasm32-unknown-unknown
    fi
}

# the wasm build: trunk, wasm-bindgen-cli (same version as Cargo.lock) and binaryen's wasm-opt 132 from npm
setup_web_build() {
    setup_rust
    if ! command -v trunk >/dev/null || ! trunk --version | grep -q '0.21.14'; then
        cargo install trunk --version 0.21.14 --locked
    fi
    if ! command -v wasm-bindgen >/dev/null || ! wasm-bindgen --version | grep -q '0.2.130'; then
        # without --locked: its lockfile names a crate version the registry here lacks
        cargo install wasm-bindgen-cli --version 0.2.130
    fi
    if [ ! -x .tools/node_modules/.bin/wasm-opt ]; then
        need_node
        npm install --prefix .tools --no-audit --no-fund binaryen@132.0.0
    fi
    export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
}

need_node() {
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        apt_install nodejs npm
    fi
}

apt_updated=0
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    if [ $apt_updated -eq 0 ]; then
        $sudo apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

# the built app in dist/ (release, wasm-opt -Oz)
build_web() {
    setup_web_build
    trunk build --release
}

# Debian's Chromium and its driver, for wasm-bindgen-test and Playwright
setup_browser() {
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        apt_install chromium chromium-driver
    fi
}

setup_postgres_tools() {
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
        apt_install postgresql
    fi
}

# a throwaway PostgreSQL cluster on 127.0.0.1:55432, owned by the postgres user (root cannot run initdb).
# PG_PORT moves it; PG_SETTINGS replaces its extra settings ("-c fsync=off" by default: tests need no
# durability; the benchmarks set it empty to measure PostgreSQL as production runs it).
start_postgres() {
    local bin port="${PG_PORT:-55432}" settings="${PG_SETTINGS--c fsync=off}"
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    PG_BIN="$bin"
    PG_DIR=$(mktemp -d)
    chmod 755 "$PG_DIR"
    local as_pg=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres:postgres "$PG_DIR"
        as_pg=(runuser -u postgres --)
    fi
    "${as_pg[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust >/dev/null
    "${as_pg[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" \
        -o "-p $port -k $PG_DIR -c listen_addresses=127.0.0.1 $settings" -w start >/dev/null
    PG_AS=("${as_pg[@]}")
    POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
    trap stop_postgres EXIT
}

stop_postgres() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
        PG_DIR=""
    fi
}

# Playwright's library (never its browser download): the tests drive /usr/bin/chromium
setup_e2e() {
    need_node
    if [ ! -d tests/e2e/node_modules/playwright-core ]; then
        (cd tests/e2e && npm ci --no-audit --no-fund)
    fi
}

# raw, gzip and brotli sizes of what the browser downloads on first load
report_sizes() {
    node scripts/sizes.mjs "$1"
}
