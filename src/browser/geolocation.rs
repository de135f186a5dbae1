//! `current_position`: the device's GPS position on demand, with its accuracy. Asked only when the
//! officer presses the button (it costs battery and, on 2G, can take a while to fix).

use thidua_domain::poverty::Position;
use thidua_domain::Lang;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::i18n::{td_string, Locale};

/// How long to wait for a fix before saying so.
const FIX_TIMEOUT_MS: i32 = 30_000;

/// Why there is no position: the Geolocation API's error code (1 permission denied, 2 unavailable,
/// 3 timeout), or 0 when the device has no position to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositionError(pub u16);

impl PositionError {
    /// Why there is no position and what to do, in plain words.
    pub fn message(self, lang: Lang) -> &'static str {
        let locale = Locale::from(lang);
        match self.0 {
            1 => td_string!(locale, error.position_denied),
            2 => td_string!(locale, error.position_unavailable),
            3 => td_string!(locale, error.position_timeout),
            _ => td_string!(locale, error.position_unsupported),
        }
    }
}

/// Asks the device for its position (high accuracy: GPS rather than cell towers).
pub async fn current_position() -> Result<Position, PositionError> {
    let geolocation = web_sys::window()
        .and_then(|w| w.navigator().geolocation().ok())
        .ok_or(PositionError(0))?;
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let ok = Closure::once_into_js(move |position: JsValue| {
            let _ = resolve.call1(&JsValue::NULL, &position);
        });
        let failed = Closure::once_into_js(move |error: JsValue| {
            let _ = reject.call1(&JsValue::NULL, &error);
        });
        let options = web_sys::PositionOptions::new();
        options.set_enable_high_accuracy(true);
        options.set_timeout(FIX_TIMEOUT_MS as u32);
        options.set_maximum_age(0);
        let _ = geolocation.get_current_position_with_error_callback_and_options(
            ok.unchecked_ref(),
            Some(failed.unchecked_ref()),
            &options,
        );
    });
    match JsFuture::from(promise).await {
        // (web-sys has the position types only behind its unstable flag: read the plain object)
        Ok(position) => {
            let coords = js_sys::Reflect::get(&position, &"coords".into()).unwrap_or(JsValue::NULL);
            let number = |key: &str| {
                js_sys::Reflect::get(&coords, &key.into())
                    .ok()
                    .and_then(|v| v.as_f64())
            };
            match (number("latitude"), number("longitude"), number("accuracy")) {
                (Some(lat), Some(lon), Some(accuracy_m)) => Ok(Position {
                    lat,
                    lon,
                    accuracy_m,
                    at_ms: js_sys::Date::now(),
                }),
                _ => Err(PositionError(0)),
            }
        }
        Err(error) => {
            let code = js_sys::Reflect::get(&error, &"code".into())
                .ok()
                .and_then(|v| v.as_f64())
                .unwrap_or(0.0) as u16;
            Err(PositionError(code))
        }
    }
}
