//! `compress_photo`: a photo from the tablet's camera made small enough for 2G, on the device.
//!
//! A cheap tablet's camera writes 2–5 MB JPEGs; over 2G (about 6 KB/s up) that is ten minutes a
//! photo. Evidence only has to be legible, so the photo is drawn at most 1600 px on its long side
//! and encoded as JPEG at the best quality that fits about 200 KB, stepping the size down when even
//! a low quality does not fit. `createImageBitmap` applies the EXIF orientation, so portrait photos
//! stay upright.

use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The size a photo should not pass ("around 200 KB").
pub const TARGET_BYTES: f64 = 200.0 * 1024.0;
/// The long side a photo starts from: enough to read a document or a sign.
pub const MAX_SIDE: f64 = 1600.0;
/// Below this long side, stop shrinking and keep the best effort.
const MIN_SIDE: f64 = 640.0;
const QUALITIES: [f64; 4] = [0.82, 0.72, 0.62, 0.5];

/// Why a photo could not be prepared.
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoError {
    /// The file is not an image the browser can read.
    NotAnImage,
    /// The browser cannot draw or encode it (very old browser).
    Unsupported,
}

/// The photo resized and JPEG-compressed to about [`TARGET_BYTES`]; its width and height.
pub async fn compress_photo(file: &web_sys::Blob) -> Result<(web_sys::Blob, u32, u32), PhotoError> {
    let window = web_sys::window().ok_or(PhotoError::Unsupported)?;
    let bitmap = window
        .create_image_bitmap_with_blob(file)
        .map_err(|_| PhotoError::Unsupported)?;
    let bitmap: web_sys::ImageBitmap = JsFuture::from(bitmap)
        .await
        .map_err(|_| PhotoError::NotAnImage)?
        .dyn_into()
        .map_err(|_| PhotoError::NotAnImage)?;
    let (width, height) = (bitmap.width() as f64, bitmap.height() as f64);
    if width < 1.0 || height < 1.0 {
        return Err(PhotoError::NotAnImage);
    }
    let document = window.document().ok_or(PhotoError::Unsupported)?;
    let canvas: web_sys::HtmlCanvasElement = document
        .create_element("canvas")
        .map_err(|_| PhotoError::Unsupported)?
        .dyn_into()
        .map_err(|_| PhotoError::Unsupported)?;
    let mut side = MAX_SIDE.min(width.max(height));
    let mut best: Option<(web_sys::Blob, u32, u32)> = None;
    loop {
        let scale = side / width.max(height);
        let (w, h) = (
            (width * scale).round().max(1.0),
            (height * scale).round().max(1.0),
        );
        canvas.set_width(w as u32);
        canvas.set_height(h as u32);
        let context: web_sys::CanvasRenderingContext2d = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .ok_or(PhotoError::Unsupported)?
            .dyn_into()
            .map_err(|_| PhotoError::Unsupported)?;
        context
            .draw_image_with_image_bitmap_and_dw_and_dh(&bitmap, 0.0, 0.0, w, h)
            .map_err(|_| PhotoError::Unsupported)?;
        for quality in QUALITIES {
            let blob = to_jpeg(&canvas, quality).await?;
            let fits = blob.size() <= TARGET_BYTES;
            best = Some((blob, w as u32, h as u32));
            if fits {
                bitmap.close();
                return Ok(best.expect("just set"));
            }
        }
        // even the lowest quality is too big at this size (a very detailed scene): smaller
        if side * 0.75 < MIN_SIDE {
            break;
        }
        side *= 0.75;
    }
    bitmap.close();
    best.ok_or(PhotoError::Unsupported)
}

async fn to_jpeg(
    canvas: &web_sys::HtmlCanvasElement,
    quality: f64,
) -> Result<web_sys::Blob, PhotoError> {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let done = Closure::once_into_js(move |blob: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &blob);
        });
        let _ = canvas.to_blob_with_type_and_encoder_options(
            done.unchecked_ref(),
            "image/jpeg",
            &JsValue::from_f64(quality),
        );
    });
    JsFuture::from(promise)
        .await
        .ok()
        .and_then(|b| b.dyn_into::<web_sys::Blob>().ok())
        .ok_or(PhotoError::Unsupported)
}

/// SHA-256 of a Blob as lower-case hex, by the browser's own crypto (a secure context, which a PWA
/// always is).
pub async fn sha256_hex(blob: &web_sys::Blob) -> Option<String> {
    let buffer = JsFuture::from(blob.array_buffer()).await.ok()?;
    let subtle = web_sys::window()?.crypto().ok()?.subtle();
    let digest = subtle
        .digest_with_str_and_buffer_source("SHA-256", &buffer.unchecked_into::<js_sys::Object>())
        .ok()?;
    let digest = JsFuture::from(digest).await.ok()?;
    let bytes = js_sys::Uint8Array::new(&digest).to_vec();
    let mut hex = String::with_capacity(64);
    for b in bytes {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        hex.push(DIGITS[(b >> 4) as usize] as char);
        hex.push(DIGITS[(b & 15) as usize] as char);
    }
    Some(hex)
}
