//! The built web app: files from the dist folder (with their .br/.gz twins when present), index.html
//! for the app's own routes, and cache headers that let the service worker and the browser keep hashed
//! files forever while always revalidating the files that name them.

use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

const NO_CACHE: &str = "no-cache";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

pub async fn serve(State(dist): State<PathBuf>, request: Request) -> Response {
    let index = dist.join("index.html");
    // checked per request, so building the app while the server runs is enough to serve it
    if !index.is_file() {
        return not_built(&dist);
    }
    let path = request.uri().path().to_string();
    let name = path.rsplit('/').next().unwrap_or_default().to_string();
    // A path without an extension is one of the app's own routes (/households/x): the app routes it.
    // A missing file with an extension (/missing.js) stays a 404, or the browser would run HTML as JS.
    let spa_route = !name.contains('.');
    let response = if spa_route {
        let app = ServeFile::new(&index)
            .precompressed_br()
            .precompressed_gzip();
        app.oneshot(request).await
    } else {
        let files = ServeDir::new(&dist).precompressed_br().precompressed_gzip();
        files.oneshot(request).await
    };
    let mut response = match response {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        let policy = if spa_route {
            NO_CACHE
        } else {
            cache_policy(&name)
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// `immutable` for files whose name carries trunk's content hash (a new build has new names), and
/// `no-cache` (revalidate each time, served from cache when unchanged) for everything else, above all
/// index.html and sw.js, which must change the moment a new build is installed.
fn cache_policy(file_name: &str) -> &'static str {
    if file_name != "sw.js" && file_name != "index.html" && has_content_hash(file_name) {
        IMMUTABLE
    } else {
        NO_CACHE
    }
}

/// True for trunk's hashed names: `-` then 16 hex digits, then `.` or `_` (trunk writes
/// `app-0123456789abcdef.js` and `app-0123456789abcdef_bg.wasm`).
fn has_content_hash(file_name: &str) -> bool {
    let bytes = file_name.as_bytes();
    bytes.windows(18).any(|w| {
        w[0] == b'-' && w[1..17].iter().all(u8::is_ascii_hexdigit) && matches!(w[17], b'.' | b'_')
    })
}

fn not_built(dist: &Path) -> Response {
    let page = format!(
        "<!doctype html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Thi Đua: ứng dụng chưa được dựng</title></head><body>\
         <h1>Ứng dụng Thi Đua chưa được dựng</h1>\
         <p>Máy chủ đang chạy, nhưng chưa có ứng dụng web trong thư mục <code>{}</code>.</p>\
         <p>Hãy chạy lệnh <code>bash scripts/start.sh</code> trong thư mục dự án: lệnh này dựng ứng dụng rồi khởi động máy chủ.</p>\
         <p lang=\"en\">The web app has not been built yet. Run <code>bash scripts/start.sh</code> in the project folder.</p>\
         </body></html>\n",
        escape_html(&dist.display().to_string())
    );
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, Html(page)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    response
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert!(has_content_hash("app-0123456789abcdef.wasm"));
        assert!(has_content_hash("thidua-app-0123456789abcdef_bg.wasm"));
        assert!(has_content_hash("style-a1b2c3d4e5f60718.css"));
        assert!(!has_content_hash("app.wasm"));
        assert!(!has_content_hash("app-0123456789abcdeg.wasm"));
        assert!(!has_content_hash("app-0123456789abcde.wasm"));
        assert_eq!(cache_policy("sw.js"), NO_CACHE);
        assert_eq!(cache_policy("index.html"), NO_CACHE);
        assert_eq!(cache_policy("manifest.json"), NO_CACHE);
        assert_eq!(cache_policy("app-0123456789abcdef.js"), IMMUTABLE);
    }
}
