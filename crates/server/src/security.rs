//! Security headers on every response, API and app alike, and the Content-Security-Policy that lets
//! exactly the app's own scripts run.
//!
//! Trunk starts the wasm with one inline `<script type="module">` in index.html. Rather than allow
//! inline scripts in general (`'unsafe-inline'`), the policy names the SHA-256 of each inline script
//! of the built index.html. The hashes are computed at start and again whenever index.html changes
//! (the app may be rebuilt while the server runs; a stale hash would leave a blank page).
//!
//! No CORS headers are ever sent: the app is served from the same origin as the API, and a page on any
//! other origin must not be able to read answers with a stolen token.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The policy without the inline-script hashes, which go at the end of `script-src`.
const SCRIPT_SRC: &str = "script-src 'self' 'wasm-unsafe-eval'";
// img-src blob:: evidence photos are shown from the browser's own copy (IndexedDB) or from a download
// made with the session's token (an <img src> cannot send it), both as blob: URLs of this page.
const REST: &str = "style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; \
     manifest-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

const FIXED: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("x-frame-options", "DENY"),
    (
        "permissions-policy",
        // the app itself takes a household's position (and, next, evidence photos); no other origin,
        // no frame, and nothing else
        "camera=(self), microphone=(), geolocation=(self)",
    ),
];

/// The Content-Security-Policy for a set of inline-script hashes (`'sha256-…'` sources).
pub fn content_security_policy(script_hashes: &[String]) -> String {
    let mut script_src = SCRIPT_SRC.to_string();
    for hash in script_hashes {
        script_src.push(' ');
        script_src.push_str(hash);
    }
    format!("default-src 'self'; {script_src}; {REST}")
}

/// `'sha256-<base64>'` of the exact text of every inline `<script>` (one without a `src` attribute)
/// of an HTML page, in order.
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let mut hashes = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find("<script") {
        let tag_start = from + found;
        let after_name = tag_start + "<script".len();
        // "<scripts>" or "<script-x>" are other elements
        if !lower[after_name..]
            .starts_with(|c: char| c == '>' || c.is_ascii_whitespace() || c == '/')
        {
            from = after_name;
            continue;
        }
        let Some(tag_len) = tag_end(&lower[after_name..]) else {
            break;
        };
        let attributes = &lower[after_name..after_name + tag_len];
        let body_start = after_name + tag_len + 1;
        let Some(body_len) = lower[body_start..].find("</script") else {
            break;
        };
        if !has_attribute(attributes, "src") {
            let body = &html[body_start..body_start + body_len];
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        from = body_start + body_len;
    }
    hashes
}

/// The length of a start tag's attribute text up to its closing `>`, skipping `>` inside quotes.
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// True when an attribute named `name` appears (not inside a value; `data-src` is another attribute).
fn has_attribute(attributes: &str, name: &str) -> bool {
    let mut rest = attributes;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if rest.is_empty() {
            return false;
        }
        let name_len = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        if &rest[..name_len] == name {
            return true;
        }
        rest = rest[name_len..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            rest = match value.chars().next() {
                Some(q @ ('"' | '\'')) => match value[1..].find(q) {
                    Some(end) => &value[end + 2..],
                    None => "",
                },
                _ => {
                    let end = value
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(value.len());
                    &value[end..]
                }
            };
        }
    }
}

/// The policy for the built app in `dist`, kept in step with its index.html.
#[derive(Clone)]
pub struct Headers {
    index: PathBuf,
    cached: Arc<Mutex<Cached>>,
}

struct Cached {
    modified: Option<SystemTime>,
    policy: HeaderValue,
}

impl Headers {
    /// Reads `<dist>/index.html` now; with no built app the policy has no hashes (and allows no
    /// inline script).
    pub fn for_dist(dist: &Path) -> Headers {
        let index = dist.join("index.html");
        let (modified, policy) = read_policy(&index);
        Headers {
            index,
            cached: Arc::new(Mutex::new(Cached { modified, policy })),
        }
    }

    /// The current policy: recomputed only when index.html's modification time changed.
    pub fn policy(&self) -> HeaderValue {
        let modified = modified(&self.index);
        let mut cached = self.cached.lock().expect("policy lock");
        if cached.modified != modified {
            let (modified, policy) = read_policy(&self.index);
            *cached = Cached { modified, policy };
        }
        cached.policy.clone()
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn read_policy(index: &Path) -> (Option<SystemTime>, HeaderValue) {
    let modified = modified(index);
    let hashes = std::fs::read_to_string(index)
        .map(|html| inline_script_hashes(&html))
        .unwrap_or_default();
    let policy = HeaderValue::from_str(&content_security_policy(&hashes))
        .expect("a policy of ASCII sources is a valid header value");
    (modified, policy)
}

/// Adds the security headers to every response.
pub async fn add_headers(State(headers): State<Headers>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let map = response.headers_mut();
    map.insert(header::CONTENT_SECURITY_POLICY, headers.policy());
    for (name, value) in FIXED {
        map.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_inline_scripts_only() {
        let html =
            "<html><head><script type=\"module\">import init from '/a.js';\nawait init();</script>\
                    <script src=\"/b.js\"></script><SCRIPT data-src=\"x\" type='a>b'>x()</SCRIPT>\
                    <scripts>no</scripts><script defer src=/c.js></script></head></html>";
        let hashes = inline_script_hashes(html);
        let expected = |text: &str| {
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
            )
        };
        assert_eq!(
            hashes,
            vec![
                expected("import init from '/a.js';\nawait init();"),
                expected("x()")
            ]
        );
        assert!(inline_script_hashes("<p>no scripts</p>").is_empty());
    }

    #[test]
    fn the_policy_names_every_directive() {
        let policy = content_security_policy(&["'sha256-abc='".to_string()]);
        assert_eq!(
            policy,
            "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' 'sha256-abc='; style-src 'self'; \
             img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; manifest-src 'self'; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
        );
    }
}
