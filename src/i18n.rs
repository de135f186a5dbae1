//! Vietnamese first, English as a switch. Every text of the app lives in `locales/vi.json` (the
//! default) and `locales/en.json`; `build.rs` compiles them with leptos_i18n, so a key missing from a
//! file, or an interpolation given the wrong name, is a compile error rather than a blank on screen.
//!
//! In a view: `let i18n = use_i18n();` then `{t!(i18n, household_form.save)}` (reactive), or
//! `t_string!(i18n, sync_badge.pending, n = 3)` for a `String` with values in it. Away from a view
//! (an error message built in a task): `td_string!(locale, key)` with the locale passed in.
//!
//! The chosen language is kept in localStorage, so a reload keeps it; a new device starts in
//! Vietnamese whatever the browser's own language is. Messages that come from the domain crate (a
//! `FieldError`, the names of criteria and indicators) are data with both languages in them: the app
//! shows the one for the chosen language ([`UiLang`] gives it as a `thidua_domain::Lang`).

use leptos::prelude::*;
use leptos_i18n::{I18nContext, Locale as _};
use thidua_domain::Lang;

// generated code: some of what it offers (providers, scopes) is not used here
#[allow(unused, clippy::all)]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/i18n/mod.rs"));
}

pub use generated::i18n::{use_i18n, Locale};
pub use leptos_i18n::{t, t_string, td_string, tu_string};

/// Where the chosen language is kept between visits.
const STORAGE_KEY: &str = "thidua.lang";

impl From<Locale> for Lang {
    fn from(locale: Locale) -> Lang {
        match locale {
            Locale::vi => Lang::Vi,
            Locale::en => Lang::En,
        }
    }
}

impl From<Lang> for Locale {
    fn from(lang: Lang) -> Locale {
        match lang {
            Lang::Vi => Locale::vi,
            Lang::En => Locale::en,
        }
    }
}

/// The language kept from the last visit, if any.
fn stored_locale() -> Option<Locale> {
    let text = crate::storage::local_storage()?
        .get_item(STORAGE_KEY)
        .ok()??;
    text.parse().ok()
}

/// Sets up the translations for the whole app: the language of the last visit, else Vietnamese (the
/// browser's own language is not consulted), kept in localStorage and on `<html lang>` on each change.
pub fn provide_i18n() -> I18nContext<Locale> {
    let initial = stored_locale().unwrap_or(Locale::vi);
    // a context whose starting locale is ours, not the browser's preferred one
    let i18n = leptos_i18n::context::init_i18n_subcontext::<Locale>(Some(Signal::stored(initial)));
    provide_context(i18n);
    Effect::new(move |_| {
        let locale = i18n.get_locale();
        if let Some(storage) = crate::storage::local_storage() {
            let _ = storage.set_item(STORAGE_KEY, locale.as_str());
        }
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", locale.as_str());
        }
    });
    i18n
}

/// Switches between Vietnamese and English.
pub fn toggle(i18n: I18nContext<Locale>) {
    let next = match i18n.get_locale_untracked() {
        Locale::vi => Locale::en,
        Locale::en => Locale::vi,
    };
    i18n.set_locale(next);
}

/// The chosen language as the domain crate knows it, for domain messages and number formats.
#[derive(Clone, Copy)]
pub struct UiLang(I18nContext<Locale>);

impl UiLang {
    /// The chosen language, tracked (a view showing it follows a switch).
    pub fn get(self) -> Lang {
        self.0.get_locale().into()
    }
    pub fn get_untracked(self) -> Lang {
        self.0.get_locale_untracked().into()
    }
}

/// The chosen language, from the context [`provide_i18n`] set.
pub fn ui_lang() -> UiLang {
    UiLang(use_i18n())
}

/// Picks the text for the chosen language from data that carries both (the domain's labels: field
/// names, classifications, criteria). Never for the app's own texts, which are in the locale files.
pub fn pick<T>(lang: Lang, vi: T, en: T) -> T {
    match lang {
        Lang::Vi => vi,
        Lang::En => en,
    }
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
