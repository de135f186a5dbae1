//! Vietnamese first, English second. Each text is written in both languages where it is used, so a
//! screen reads as one piece; `tr` picks the one the user chose.

use leptos::prelude::*;
use thidua_domain::Lang;

/// The language the user chose (Vietnamese by default).
#[derive(Clone, Copy)]
pub struct UiLang(pub RwSignal<Lang>);

pub fn tr(lang: Lang, vi: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
}

/// Reactive text for a view: `{t("Lưu", "Save")}`.
pub fn t(
    vi: &'static str,
    en: &'static str,
) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let lang = use_context::<UiLang>().map(|l| l.0);
    move || tr(lang.map(|l| l.get()).unwrap_or_default(), vi, en)
}

/// A number with `decimals` decimals, written as the user's language writes it: 12,5 in Vietnamese,
/// 12.5 in English. The one place the app writes decimals.
pub fn decimal(value: f64, decimals: usize, lang: Lang) -> String {
    localize_decimal(format!("{value:.decimals$}"), lang)
}

/// A number already written with a decimal point, in the user's language.
pub fn localize_decimal(text: String, lang: Lang) -> String {
    match lang {
        Lang::Vi => text.replace('.', ","),
        Lang::En => text,
    }
}
