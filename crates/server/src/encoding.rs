//! Compression on the API, both ways.
//!
//! Answers: JSON is sent brotli- or gzip-compressed when the request's `Accept-Encoding` allows it
//! (tower-http's `CompressionLayer`, brotli at quality 4, as on-the-fly servers use): a pull page of
//! households is text with the same field names over and over, and shrinks several times over, which
//! is what a tablet on a weak signal pays for. The app's own files are not touched here: they are
//! served precompressed from the dist folder ([`crate::static_files`]), so the layer is on `/api`
//! only and nothing is compressed twice.
//!
//! Requests: the app sends push bodies gzip-compressed with `Content-Encoding: gzip`. tower-http's
//! `RequestDecompressionLayer` inflates them as the handler reads, so the body limit (1 MiB,
//! [`crate::API_BODY_LIMIT`]; 32 MiB on the one route that reads a tablet's exported outbox,
//! [`crate::IMPORT_BODY_LIMIT`]; applied by the handler's extractor) counts the inflated bytes, and a
//! small body that inflates past it (a "gzip bomb") is cut off there with a 413. Each group of routes
//! gets the whole stack below with its own [`BodyLimit`] (`read_bodies` in lib.rs). Around it:
//! - [`check_request_encoding`], before it: refuses a coding the server does not read (415, in the
//!   API's JSON, where tower-http would answer with an empty body), and limits the compressed bytes
//!   too, since a stream of empty deflate blocks inflates to nothing and would otherwise be read for
//!   ever;
//! - [`mark_decoding_errors`], after it: tells the error mapping that a body failed because it is not
//!   gzip at all ([`BodyError::NotGzip`], a 400), not because the connection broke.
//!
//! Why compressing answers does not open BREACH-style leaks: those need a browser to send requests
//! with ambient credentials (cookies) from an attacker's page. The API reads only the
//! `Authorization` header, which a page of another origin cannot make the browser send (no CORS), so
//! an attacker cannot have secrets and their own text compressed together into one answer.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

use crate::error::ApiError;
use crate::API_BODY_LIMIT;

/// The most bytes a group of routes reads from a request body, compressed as sent and again once
/// inflated. [`check_request_encoding`] takes it as its state and leaves it in the request, so the
/// extractors' 413 names the limit of the route that refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

impl BodyLimit {
    /// The limit of the routes `request` goes to ([`API_BODY_LIMIT`] where none was set).
    pub fn of<B>(request: &axum::http::Request<B>) -> usize {
        request
            .extensions()
            .get::<BodyLimit>()
            .map_or(API_BODY_LIMIT, |limit| limit.0)
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Compresses answers the client accepts compressed: brotli or gzip (the only codings compiled in).
pub fn compress_answers() -> CompressionLayer {
    CompressionLayer::new()
}

/// Inflates `Content-Encoding: gzip` request bodies (the only request coding compiled in).
pub fn inflate_requests() -> RequestDecompressionLayer {
    RequestDecompressionLayer::new()
}

/// Why a request body could not be read, for the error mapping ([`ApiError::body_failure`]), which
/// finds it anywhere in the chain of errors the body's layers wrap around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// More compressed bytes than the route's [`BodyLimit`].
    TooLarge,
    /// Marked `Content-Encoding: gzip`, but the bytes are not gzip, or stop in the middle of it.
    NotGzip,
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BodyError::TooLarge => "the compressed request body is over the limit",
            BodyError::NotGzip => "the request body is not valid gzip",
        })
    }
}

impl std::error::Error for BodyError {}

/// A request's content coding, as far as the server reads one.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Coding {
    Identity,
    Gzip,
    /// What the header said (the first coding the server does not read, or the whole unreadable value).
    Unsupported(String),
}

/// Reads every `Content-Encoding` header: codings are case-insensitive, `identity` changes nothing,
/// `x-gzip` is gzip's old name (RFC 9110 §8.4.1.3). Exactly one gzip is read; anything else, including
/// gzip applied twice, is refused rather than guessed at.
fn request_coding(headers: &HeaderMap) -> Coding {
    let mut codings = Vec::new();
    for value in headers.get_all(header::CONTENT_ENCODING) {
        let Ok(text) = value.to_str() else {
            return Coding::Unsupported(String::from_utf8_lossy(value.as_bytes()).into_owned());
        };
        for coding in text.split(',') {
            let coding = coding.trim().to_ascii_lowercase();
            if !coding.is_empty() && coding != "identity" {
                codings.push(coding);
            }
        }
    }
    match codings.as_slice() {
        [] => Coding::Identity,
        [one] if one == "gzip" || one == "x-gzip" => Coding::Gzip,
        [one] => Coding::Unsupported(one.clone()),
        [first, second, ..] if first == "gzip" || first == "x-gzip" => {
            Coding::Unsupported(format!("{first}, {second}"))
        }
        [first, ..] => Coding::Unsupported(first.clone()),
    }
}

/// Marks a request whose body arrives gzip-compressed, for [`mark_decoding_errors`].
#[derive(Debug, Clone, Copy)]
struct Gzipped;

/// Before the decompression layer: a 415 for a coding the server does not read, a 413 for a
/// compressed body over `limit`, and the header normalised to the exact `gzip` tower-http matches
/// (it compares bytes, so `GZIP` would otherwise be its own empty 415).
pub async fn check_request_encoding(
    State(limit): State<BodyLimit>,
    mut request: Request,
    next: Next,
) -> Response {
    request.extensions_mut().insert(limit);
    let BodyLimit(limit) = limit;
    match request_coding(request.headers()) {
        Coding::Unsupported(named) => {
            return ApiError::unsupported_encoding(&named).into_response()
        }
        Coding::Identity => {
            request.headers_mut().remove(header::CONTENT_ENCODING);
        }
        Coding::Gzip => {
            let declared = request
                .headers()
                .get(header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            // refused before a byte is read, as the handler's limit does for a plain body
            if declared.is_some_and(|length| length > limit as u64) {
                return ApiError::body_too_large(limit).into_response();
            }
            let headers = request.headers_mut();
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            request.extensions_mut().insert(Gzipped);
            // a chunked body has no length to check: count its compressed bytes as they come
            request = request.map(|body| {
                Body::new(Limited::new(body, limit).map_err(|error: BoxError| {
                    if error.is::<LengthLimitError>() {
                        Box::new(BodyError::TooLarge) as BoxError
                    } else {
                        error
                    }
                }))
            });
        }
    }
    next.run(request).await
}

/// After the decompression layer: an error from a gzip body that is not the wire body's own is the
/// decoder's, so the bytes were not gzip ([`BodyError::NotGzip`]).
pub async fn mark_decoding_errors(request: Request, next: Next) -> Response {
    let request = if request.extensions().get::<Gzipped>().is_some() {
        request.map(|body| Body::new(body.map_err(decoding_error)))
    } else {
        request
    };
    next.run(request).await
}

fn decoding_error(error: axum::Error) -> BoxError {
    let inner = error.into_inner();
    // tower-http hands the wire body's errors on as they are (axum's error type: the limit above, a
    // dropped connection), and its decoder's own as I/O errors or text
    if inner.is::<axum::Error>() {
        inner
    } else {
        tracing::debug!(error = %inner, "a gzip request body cannot be inflated");
        Box::new(BodyError::NotGzip)
    }
}

/// The [`BodyError`] anywhere in `error`'s source chain.
pub fn find_body_error(error: &(dyn std::error::Error + 'static)) -> Option<BodyError> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<BodyError>() {
            return Some(*found);
        }
        next = error.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coding(values: &[&str]) -> Coding {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::CONTENT_ENCODING, value.parse().unwrap());
        }
        request_coding(&headers)
    }

    #[test]
    fn request_codings() {
        assert_eq!(coding(&[]), Coding::Identity);
        assert_eq!(coding(&["identity"]), Coding::Identity);
        assert_eq!(coding(&["gzip"]), Coding::Gzip);
        assert_eq!(coding(&[" GZip "]), Coding::Gzip);
        assert_eq!(coding(&["x-gzip"]), Coding::Gzip);
        assert_eq!(coding(&["identity, gzip"]), Coding::Gzip);
        assert_eq!(coding(&["br"]), Coding::Unsupported("br".into()));
        assert_eq!(coding(&["deflate"]), Coding::Unsupported("deflate".into()));
        assert_eq!(
            coding(&["gzip", "gzip"]),
            Coding::Unsupported("gzip, gzip".into())
        );
        assert_eq!(coding(&["br, gzip"]), Coding::Unsupported("br".into()));
    }

    #[test]
    fn body_errors_are_found_under_wrappers() {
        let wrapped = axum::Error::new(axum::Error::new(BodyError::NotGzip));
        assert_eq!(find_body_error(&wrapped), Some(BodyError::NotGzip));
        let other = axum::Error::new(std::io::Error::other("reset"));
        assert_eq!(find_body_error(&other), None);
    }
}
