fn main() {
    thidua_app::start();
}
