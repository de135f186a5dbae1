//! A place taken on demand (vị trí): the button that asks the tablet's GPS, the coordinates with
//! their accuracy in the user's decimals, and a way to clear it. Used for a household and for a work
//! item such as an advanced example's model.

use leptos::prelude::*;
use thidua_domain::poverty::Position;
use thidua_domain::Lang;

use crate::browser::geolocation::{current_position, PositionError};
use crate::i18n::{t, t_string, ui_lang, use_i18n};

/// 21.325612 → "21,32561" in Vietnamese: five decimals, about a metre.
fn coordinate(value: f64, lang: Lang) -> String {
    crate::i18n::decimal(value, 5, lang)
}

#[component]
pub fn PositionField(position: RwSignal<Option<Position>>, editable: bool) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let locating = RwSignal::new(false);
    let problem = RwSignal::new(None::<PositionError>);
    let locate = move |_| {
        locating.set(true);
        problem.set(None);
        leptos::task::spawn_local(async move {
            match current_position().await {
                Ok(p) => position.set(Some(p)),
                Err(e) => problem.set(Some(e)),
            }
            locating.set(false);
        });
    };
    view! {
        <p data-testid="position-text">
            {move || match position.get() {
                Some(p) => t_string!(i18n, position.value, lat = coordinate(p.lat, lang.get()),
                    lon = coordinate(p.lon, lang.get()), accuracy = p.accuracy_m.round()),
                None => t_string!(i18n, position.none).to_string(),
            }}
        </p>
        {editable.then(|| view! {
            <div class="actions">
                <button type="button" class="big" data-testid="locate" disabled=move || locating.get() on:click=locate>
                    {move || if locating.get() { t_string!(i18n, position.locating) } else { t_string!(i18n, position.locate) }}
                </button>
                {move || position.get().is_some().then(|| view! {
                    <button type="button" class="big" on:click=move |_| position.set(None)>{t!(i18n, position.clear)}</button>
                })}
            </div>
        })}
        {move || problem.get().map(|e| view! { <span class="field-error" role="alert">{move || e.message(lang.get())}</span> })}
    }
}
