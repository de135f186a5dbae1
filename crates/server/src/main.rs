//! `thidua-server`: reads its settings from the environment (see [`thidua_server::Config`]) and serves
//! the sync API and the web app.

use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .init();
    let result = match thidua_server::Config::from_env() {
        Ok(config) => thidua_server::serve(config)
            .await
            .map_err(|e| e.to_string()),
        Err(message) => Err(message),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("Lỗi / error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
