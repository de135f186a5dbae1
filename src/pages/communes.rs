//! Choosing the commune and the review year. The unit list is the one in force at the end of the
//! chosen year (204 communes in 13 districts for 2023; 75 communes from 07/2025).

use leptos::prelude::*;
use thidua_domain::org::{Level, OrgUnit};
use thidua_domain::protocol::Period;
use thidua_domain::Day;

use super::Selection;
use crate::i18n::{t, t_string, use_i18n};

fn current_year() -> u16 {
    js_sys::Date::new_0().get_full_year() as u16
}

#[component]
pub fn CommunePicker(on_choose: Callback<Selection>, on_dashboard: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    // rebuilt when a sync brings a unit list the province uploaded
    let status = use_context::<crate::sync::SyncStatus>();
    let catalog = Memo::new(move |_| {
        if let Some(status) = status {
            status.revision.track();
        }
        StoredValue::new(crate::units::catalog())
    });
    // the server refuses anything outside the user's unit; the picker only offers what is inside it
    let scope = use_context::<crate::CurrentUser>()
        .and_then(|u| u.0.get_untracked())
        .and_then(|u| thidua_domain::org::UnitCode::parse(&u.org_unit).ok());
    let scope = StoredValue::new(scope);
    let year = RwSignal::new(current_year());
    let query = RwSignal::new(String::new());
    let years: Vec<u16> = (2023..=current_year().max(2023)).rev().collect();

    let communes = move || {
        let year = year.get();
        let query = query.get();
        catalog.get().with_value(|catalog| {
            let day = Day::parse(&format!("{year}-12-31")).expect("valid day");
            let Some(list) = catalog.list_on(&day) else {
                return Vec::new();
            };
            let mut found: Vec<(String, OrgUnit)> = list
                .search(&query)
                .into_iter()
                .filter(|u| u.level() == Level::Commune)
                .filter(|u| {
                    scope.with_value(|s| {
                        s.as_ref()
                            .is_none_or(|scope| list.is_within(&u.code, scope))
                    })
                })
                .map(|u| {
                    let district = list
                        .lineage(&u.code)
                        .get(1)
                        .filter(|d| d.level() == Level::District)
                        .map(|d| d.full_name())
                        .unwrap_or_default();
                    (district, (*u).clone())
                })
                .collect();
            found.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.search_key.cmp(&b.1.search_key)));
            found
        })
    };

    // district supervisors and the province follow the movement on the dashboard
    let supervises =
        crate::current_role().is_some_and(|r| r != crate::session::Role::CommuneOfficer);
    view! {
        {supervises.then(|| view! {
            <section class="card">
                <button class="primary big" data-testid="open-dashboard" on:click=move |_| on_dashboard.run(())>{t!(i18n, dashboard.open)}</button>
            </section>
        })}
        <section class="card">
            <h2>{t!(i18n, communes.title)}</h2>
            <label class="field">
                <span>{t!(i18n, communes.year)}</span>
                <select on:change=move |ev| {
                    if let Ok(y) = event_target_value(&ev).parse() { year.set(y) }
                } data-testid="year">
                    {years.into_iter().map(|y| view! { <option value=y.to_string() selected=move || year.get() == y>{y}</option> }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>{t!(i18n, communes.search)}</span>
                <input type="search" placeholder=move || t_string!(i18n, communes.search_example) prop:value=move || query.get()
                    on:input=move |ev| query.set(event_target_value(&ev)) data-testid="commune-search"/>
            </label>
            <Show when=move || communes().is_empty()>
                <p class="notice" data-testid="no-communes">
                    {t!(i18n, communes.none)}
                </p>
            </Show>
            <ul class="choices">
                {move || communes().into_iter().take(60).map(|(district, unit)| {
                    let period = Period::parse(&year.get().to_string()).expect("valid year");
                    let selection = Selection { commune: unit.code.clone(), period };
                    view! {
                        <li>
                            <button class="choice" on:click=move |_| on_choose.run(selection.clone())>
                                <strong>{unit.full_name()}</strong>
                                <small>{district}</small>
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </section>
    }
}
