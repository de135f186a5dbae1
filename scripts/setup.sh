# Installs what the build and the tests need, only where it is missing. Sourced by the other scripts.
# Versions: ../shared/TOOLCHAIN.md (verified together). Only the package registries are reachable.

setup_rust() {
    # rust-toolchain.toml pins the compiler; an already-installed toolchain does not get new targets by itself
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        rustup target add wasm32-unknown-unknown
    fi
}
