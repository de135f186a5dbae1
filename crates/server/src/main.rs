//! `thidua-server`: reads its settings from the environment (see [`thidua_server::Config`]) and serves
//! the sync API and the web app.
//!
//! `thidua-server create-admin --username NAME` creates (or resets) the province administrator NAME
//! with the password in THIDUA_ADMIN_PASSWORD, or typed on standard input when that is unset, then
//! exits. It uses the same database settings as the server.

use std::io::BufRead;

use tracing_subscriber::EnvFilter;

/// The server allocates for every request (JSON bodies, records, SQL rows) from many threads at once;
/// glibc's allocator was a quarter of its CPU under load (perf of the `40-server` benchmark, in
/// BENCHMARKS.md). mimalloc keeps per-thread free lists and does the same work for less.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "Cách dùng / usage:
  thidua-server                                   chạy máy chủ / run the server
  thidua-server create-admin --username TÊN       tạo hoặc đặt lại tài khoản quản trị tỉnh /
                                                  create or reset the province administrator
      mật khẩu lấy từ THIDUA_ADMIN_PASSWORD, hoặc nhập một dòng từ bàn phím /
      the password comes from THIDUA_ADMIN_PASSWORD, or one line typed on standard input";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info")),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        None => match thidua_server::Config::from_env() {
            Ok(config) => thidua_server::serve(config)
                .await
                .map_err(|e| e.to_string()),
            Err(message) => Err(message),
        },
        Some("create-admin") => create_admin(&args[1..]).await,
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            Ok(())
        }
        Some(other) => {
            eprintln!("Lệnh «{other}» không có / unknown command «{other}».\n{USAGE}");
            return std::process::ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("Lỗi / error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn create_admin(args: &[String]) -> Result<(), String> {
    let username = match args {
        [flag, name] if flag == "--username" => name.clone(),
        [one] if one.starts_with("--username=") => one["--username=".len()..].to_string(),
        _ => {
            return Err(format!(
                "thiếu --username TÊN / --username NAME is required\n{USAGE}"
            ))
        }
    };
    let password = match std::env::var("THIDUA_ADMIN_PASSWORD") {
        Ok(password) if !password.is_empty() => password,
        _ => {
            eprintln!(
                "Nhập mật khẩu cho «{username}» (ít nhất 8 ký tự) rồi nhấn Enter / type the password \
                 for «{username}» (at least 8 characters) and press Enter:"
            );
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("không đọc được mật khẩu / cannot read the password: {e}"))?;
            line.trim_end_matches(['\r', '\n']).to_string()
        }
    };
    let config = thidua_server::Config::from_env()?;
    let (_, state) = thidua_server::build_app(&config)
        .await
        .map_err(|e| e.to_string())?;
    let change = thidua_server::setup::create_admin(&state, &username, &password).await?;
    let name = username.trim().to_lowercase();
    match change {
        thidua_server::setup::AdminChange::Created => println!(
            "Đã tạo tài khoản quản trị tỉnh «{name}» / created the province administrator «{name}»."
        ),
        thidua_server::setup::AdminChange::Updated => println!(
            "Đã đặt lại «{name}» thành quản trị tỉnh với mật khẩu mới; các phiên cũ đã bị đóng / \
             «{name}» is now a province administrator with the new password; its old sessions were ended."
        ),
    }
    Ok(())
}
