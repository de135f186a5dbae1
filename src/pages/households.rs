//! A commune's households for the review year, read from the device.

use leptos::prelude::*;
use thidua_domain::poverty::{
    Classification, Escapes, Household, ReviewCount, ReviewTotals, ReviewWindow, CARRIED_FROM,
};
use thidua_domain::protocol::{Period, RecordId};
use thidua_domain::Lang;

use super::Selection;
use crate::i18n::{pick, t, t_string, ui_lang, use_i18n};
use crate::storage::{LocalRecord, SyncState};
use crate::sync::SyncStatus;

/// Rows drawn at once.
const PAGE: usize = 50;

/// The review totals of a list of households (deleted ones and unreadable ones left out).
fn totals_of(list: &[LocalRecord]) -> ReviewTotals {
    let classified: Vec<(String, Classification)> = list
        .iter()
        .filter(|l| !l.record.deleted)
        .filter_map(|l| {
            let h = Household::from_fields(&l.record.fields).ok()?;
            Some((h.village.clone(), h.classification()))
        })
        .collect();
    ReviewTotals::of(classified.iter().map(|(v, c)| (v.as_str(), *c)))
}

/// "2023" → "2022"; a monthly period has no previous review.
fn previous_year(period: &Period) -> Option<Period> {
    let year: u16 = period.as_str().get(..4)?.parse().ok()?;
    (period.as_str().len() == 4)
        .then(|| Period::parse(&(year - 1).to_string()).ok())
        .flatten()
}

/// 12.345 → "12,3 %" in Vietnamese, "12.3 %" in English.
pub fn percent(value: f64, lang: Lang) -> String {
    format!("{} %", crate::i18n::decimal(value, 1, lang))
}

#[component]
fn ReviewTotalsTable(
    totals: Signal<ReviewTotals>,
    last_year: Signal<Option<ReviewTotals>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let rate = move |r: Option<f64>| {
        r.map(|v| percent(v, lang.get()))
            .unwrap_or_else(|| "—".into())
    };
    // a change in percentage points: "−2,0", "+1,5", "±0,0"; "—" with nothing to compare with
    let points = move |change: Option<f64>| match change {
        None => "—".to_string(),
        Some(c) => {
            let sign = if c > 0.0 {
                "+"
            } else if c < 0.0 {
                "−"
            } else {
                "±"
            };
            format!("{sign}{}", crate::i18n::decimal(c.abs(), 1, lang.get()))
        }
    };
    let row = move |key: Option<String>, name: String, c: ReviewCount, total: bool| {
        // the same village (or the commune) in last year's review
        let changes = move || {
            last_year.with(|l| {
                let before = l.as_ref().and_then(|l| match &key {
                    Some(k) => l.villages.get(k).map(|v| v.1),
                    None => Some(l.commune),
                });
                before.map_or((None, None), |b| c.rate_changes(&b))
            })
        };
        view! {
            <tr class:total=total data-testid="totals-row">
                <th scope="row">{name}</th>
                <td>{move || count_text(c.households, lang.get())}</td>
                <td>{move || count_text(c.poor, lang.get())}</td>
                <td>{rate(c.poverty_rate())}</td>
                <td data-testid="poverty-change">{
                    let changes = changes.clone();
                    move || points(changes().0)
                }</td>
                <td>{move || count_text(c.near_poor, lang.get())}</td>
                <td>{rate(c.near_poverty_rate())}</td>
                <td data-testid="near-poverty-change">{move || points(changes().1)}</td>
            </tr>
        }
    };
    view! {
        <div class="totals" data-testid="review-totals">
            <table>
                <thead><tr>
                    <th scope="col">{t!(i18n, totals.village)}</th>
                    <th scope="col">{t!(i18n, totals.households)}</th>
                    <th scope="col">{t!(i18n, totals.poor)}</th>
                    <th scope="col">{t!(i18n, totals.poverty_rate)}</th>
                    <th scope="col">{t!(i18n, totals.change)}</th>
                    <th scope="col">{t!(i18n, totals.near_poor)}</th>
                    <th scope="col">{t!(i18n, totals.near_poverty_rate)}</th>
                    <th scope="col">{t!(i18n, totals.change)}</th>
                </tr></thead>
                <tbody>
                    {move || totals.with(|t| t.villages.iter().map(|(key, (name, c))| row(Some(key.clone()), name.clone(), *c, false)).collect_view())}
                    {move || row(None, t_string!(i18n, totals.whole_commune).into(), totals.with(|t| t.commune), true)}
                </tbody>
            </table>
            <p data-testid="change-from-last-year">
                {move || match (last_year.get().and_then(|l| l.commune.poverty_rate()), totals.with(|t| t.commune.poverty_rate())) {
                    (Some(before), Some(now)) => {
                        t_string!(i18n, totals.change_from_last_year, before = percent(before, lang.get()),
                            now = percent(now, lang.get()), change = points(Some(now - before))).to_string()
                    }
                    _ => t_string!(i18n, totals.no_last_year).to_string(),
                }}
            </p>
            {move || match (last_year.get().and_then(|l| l.commune.near_poverty_rate()), totals.with(|t| t.commune.near_poverty_rate())) {
                (Some(before), Some(now)) => Some(view! {
                    <p data-testid="near-change-from-last-year">
                        {move || t_string!(i18n, totals.near_change_from_last_year, before = percent(before, lang.get()),
                            now = percent(now, lang.get()), change = points(Some(now - before)))}
                    </p>
                }),
                _ => None,
            }}
        </div>
    }
}

/// How a carried household moved since last year's review (hộ thoát nghèo, thoát cận nghèo, tái
/// nghèo), the per-household side of [`Escapes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Movement {
    LeftPoverty,
    LeftNearPoverty,
    FellIntoPoverty,
}

impl Movement {
    fn of(was: Classification, now: Classification) -> Option<Movement> {
        let escapes = Escapes::of([(was, now)]);
        if escapes.left_poverty > 0 {
            Some(Movement::LeftPoverty)
        } else if escapes.left_near_poverty > 0 {
            Some(Movement::LeftNearPoverty)
        } else if escapes.fell_into_poverty > 0 {
            Some(Movement::FellIntoPoverty)
        } else {
            None
        }
    }
    fn badge(self) -> &'static str {
        match self {
            Movement::LeftPoverty | Movement::LeftNearPoverty => "badge moved-out",
            Movement::FellIntoPoverty => "badge moved-in",
        }
    }
}

pub fn class_badge(c: Classification) -> &'static str {
    match c {
        Classification::Poor => "badge poor",
        Classification::NearPoor => "badge near-poor",
        Classification::AverageLivingStandard => "badge average",
        Classification::Above => "badge above",
    }
}

#[component]
pub fn HouseholdList(
    selection: Selection,
    on_change_commune: Callback<()>,
    on_edit: Callback<Option<LocalRecord>>,
    on_assessment: Callback<()>,
    on_report: Callback<()>,
    on_examples: Callback<()>,
) -> impl IntoView {
    let status = expect_context::<SyncStatus>();
    let i18n = use_i18n();
    let lang = ui_lang();
    let edits = crate::current_role().is_none_or(|r| r.edits());
    let households = RwSignal::new(Vec::<LocalRecord>::new());
    let last_year_list = RwSignal::new(Vec::<LocalRecord>::new());
    let last_year =
        Signal::derive(move || last_year_list.with(|l| (!l.is_empty()).then(|| totals_of(l))));
    let carrying = RwSignal::new(None::<Result<usize, crate::storage::StorageError>>);
    let carry_busy = RwSignal::new(false);
    let load_error = RwSignal::new(None::<crate::storage::StorageError>);
    let query = RwSignal::new(String::new());
    let class_filter = RwSignal::new(String::from("all"));
    // a cheap tablet draws a few dozen rows at once, not thousands: more on demand
    let shown = RwSignal::new(PAGE);
    // codes are reused across periods (03646 is Chiềng Lề in 2023, Tô Hiệu from 07/2025): name the
    // commune from the unit list in force at the end of the review year
    let commune_name =
        thidua_domain::Day::parse(&format!("{}-12-31", &selection.period.as_str()[..4]))
            .ok()
            .and_then(|day| {
                crate::units::catalog()
                    .list_on(&day)
                    .and_then(|l| l.get(&selection.commune))
                    .map(|u| u.full_name())
            })
            .unwrap_or_else(|| selection.commune.to_string());
    let sel = selection.clone();
    Effect::new(move |_| {
        status.revision.track(); // reload after a sync changed local data
        let sel = sel.clone();
        leptos::task::spawn_local(async move {
            let services = crate::services();
            match crate::households::households_of(&services.store, &sel.commune, &sel.period).await
            {
                Ok(list) => households.set(list),
                Err(e) => load_error.set(Some(e)),
            }
            // last year's review of the same commune, for the change in the rates
            if let Some(previous) = previous_year(&sel.period) {
                if let Ok(list) =
                    crate::households::households_of(&services.store, &sel.commune, &previous).await
                {
                    last_year_list.set(list);
                }
            }
        });
    });

    // the yearly review runs from 01/9 to 14/12: where it stands today (a monthly period has none)
    let review_window = (selection.period.as_str().len() == 4)
        .then(|| {
            let year = selection.period.year();
            let now = thidua_domain::format::vietnam_time(js_sys::Date::now() as i64).date;
            let today = thidua_domain::Day::parse(&format!(
                "{:04}-{:02}-{:02}",
                now.year, now.month, now.day
            ));
            today.ok().map(|d| (year, ReviewWindow::of(year, &d)))
        })
        .flatten();
    let this_period = selection.period.clone();
    let previous_label = StoredValue::new(
        previous_year(&selection.period)
            .map(|p| p.as_str().to_string())
            .unwrap_or_default(),
    );
    // last year's households not yet in this year's list
    let to_carry = Memo::new(move |_| {
        let present: std::collections::BTreeSet<String> =
            households.with(|h| h.iter().map(|l| l.id.clone()).collect());
        last_year_list.with(|l| {
            l.iter()
                .filter(|o| !o.record.deleted)
                .filter(|o| {
                    !present.contains(&RecordId::carried(o.record.id, &this_period).to_string())
                })
                .count()
        })
    });
    // this year's class of each carried household against last year's
    let before = Memo::new(move |_| {
        last_year_list.with(|l| {
            l.iter()
                .filter_map(|o| {
                    Some((
                        o.id.clone(),
                        Household::from_fields(&o.record.fields)
                            .ok()?
                            .classification(),
                    ))
                })
                .collect::<std::collections::BTreeMap<String, Classification>>()
        })
    });
    // a carried household's move since last year: left poverty, left near-poverty, fell into it
    let movement = move |local: &LocalRecord| -> Option<Movement> {
        let from = local.record.fields.get(CARRIED_FROM)?.as_str()?;
        let was = before.with(|b| b.get(from).copied())?; // tracked: last year's list may come later
        let now = Household::from_fields(&local.record.fields)
            .ok()?
            .classification();
        Movement::of(was, now)
    };
    let escapes = Memo::new(move |_| {
        households.with(|h| {
            Escapes::of(h.iter().filter(|l| !l.record.deleted).filter_map(|l| {
                let from = l.record.fields.get(CARRIED_FROM)?.as_str()?;
                let was = before.with(|b| b.get(from).copied())?;
                Some((
                    was,
                    Household::from_fields(&l.record.fields)
                        .ok()?
                        .classification(),
                ))
            }))
        })
    });
    let sel_for_carry = selection.clone();
    let carry = Callback::new(move |_: ()| {
        let sel = sel_for_carry.clone();
        let Some(previous) = previous_year(&sel.period) else {
            return;
        };
        carry_busy.set(true);
        leptos::task::spawn_local(async move {
            let services = crate::services();
            let result = crate::households::carry_over(
                &services.store,
                &services.device,
                &sel.commune,
                &previous,
                &sel.period,
            )
            .await;
            carrying.set(Some(result));
            carry_busy.set(false);
            crate::sync::refresh_counts(&services.store, status).await;
            status.revision.update(|r| *r += 1); // reload the list
            services.trigger.fire();
        });
    });
    let filtered = Memo::new(move |_| {
        let words = thidua_domain::text::search_key(&query.get());
        let class = class_filter.get();
        households.with(|list| {
            list.iter()
                .filter(|l| {
                    let text = |f: &str| {
                        l.record
                            .fields
                            .get(f)
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                    };
                    words.is_empty()
                        || thidua_domain::text::matches_query(
                            &thidua_domain::text::search_key(&format!(
                                "{} {}",
                                text("head_name"),
                                text("village")
                            )),
                            &words,
                        )
                })
                .filter(|l| {
                    let c = Household::from_fields(&l.record.fields)
                        .ok()
                        .map(|h| h.classification());
                    match class.as_str() {
                        "poor" => c == Some(Classification::Poor),
                        "near_poor" => c == Some(Classification::NearPoor),
                        "average" => c == Some(Classification::AverageLivingStandard),
                        "above" => c == Some(Classification::Above),
                        "conflict" => !l.record.conflicts.is_empty(),
                        "moved" => movement(l).is_some(),
                        _ => true,
                    }
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });

    view! {
        <section class="card">
            <div class="row">
                <h2 data-testid="commune-name">{commune_name}" — "{selection.period.as_str().to_string()}</h2>
                <button on:click=move |_| on_change_commune.run(())>{t!(i18n, households.change_commune)}</button>
            </div>
            <div class="actions">
                <button class="big" data-testid="open-ntm" on:click=move |_| on_assessment.run(())>
                    {t!(i18n, households.open_assessment)}
                </button>
                <button class="big" data-testid="open-report" on:click=move |_| on_report.run(())>
                    {t!(i18n, households.open_report)}
                </button>
                <button class="big" data-testid="open-examples" on:click=move |_| on_examples.run(())>
                    {t!(i18n, households.open_examples)}
                </button>
            </div>
            {review_window.map(|(year, w)| view! {
                <p class=if matches!(w, ReviewWindow::Open { .. }) { "notice" } else { "notice warn" } role="status" data-testid="review-window">
                    {move || match w {
                        ReviewWindow::NotYet { days } => t_string!(i18n, households.window.not_yet, year = year, days = count_text(days, lang.get())),
                        ReviewWindow::Open { days_left } => t_string!(i18n, households.window.open, year = year, days = count_text(days_left, lang.get())),
                        ReviewWindow::Closed => t_string!(i18n, households.window.closed, year = year),
                    }}
                </p>
            })}
            {edits.then(|| view! {
                <button class="primary big" on:click=move |_| on_edit.run(None) data-testid="add-household">
                    {t!(i18n, households.add)}
                </button>
            })}
            {move || (edits && to_carry.get() > 0).then(|| view! {
                <button class="big" data-testid="carry-over" disabled=move || carry_busy.get() on:click=move |_| carry.run(())>
                    {move || t_string!(i18n, households.carry_over, n = count_text(to_carry.get(), lang.get()), year = previous_label.get_value())}
                </button>
            })}
            {move || carrying.get().map(|r| match r {
                Ok(n) => view! { <p class="notice" role="status" data-testid="carried">{move || t_string!(i18n, households.carried, n = count_text(n, lang.get()))}</p> }.into_any(),
                Err(e) => view! { <p class="notice error" role="alert">{move || e.message(lang.get())}</p> }.into_any(),
            })}
            {crate::current_role().map(|role| view! {
                <crate::components::submission::SubmissionPanel selection=selection.clone() role=role/>
            })}
            {move || load_error.get().map(|e| view! { <p class="error" role="alert">{move || e.message(lang.get())}</p> })}
            <p class="count" data-testid="household-count">
                {move || t_string!(i18n, households.count, n = count_text(households.with(|h| h.len()), lang.get()))}
            </p>
            {move || (!households.with(|h| h.is_empty())).then(|| view! {
                <ReviewTotalsTable totals=Signal::derive(move || households.with(|h| totals_of(h))) last_year=last_year/>
                <p class="escapes" data-testid="escapes">
                    {move || {
                        let e = escapes.get();
                        t_string!(i18n, households.escapes, left_poverty = e.left_poverty,
                            left_near_poverty = e.left_near_poverty, fell_into_poverty = e.fell_into_poverty)
                    }}
                </p>
            })}
            <div class="filters">
                <label class="field">
                    <span>{t!(i18n, households.search)}</span>
                    <input type="search" data-testid="household-search" prop:value=move || query.get()
                        on:input=move |ev| { query.set(event_target_value(&ev)); shown.set(PAGE); }/>
                </label>
                <label class="field">
                    <span>{t!(i18n, households.class)}</span>
                    <select data-testid="class-filter" on:change=move |ev| { class_filter.set(event_target_value(&ev)); shown.set(PAGE); }>
                        <option value="all">{t!(i18n, households.filter.all)}</option>
                        <option value="poor">{t!(i18n, households.filter.poor)}</option>
                        <option value="near_poor">{t!(i18n, households.filter.near_poor)}</option>
                        <option value="average">{t!(i18n, households.filter.average)}</option>
                        <option value="above">{t!(i18n, households.filter.above)}</option>
                        <option value="conflict">{t!(i18n, households.filter.conflict)}</option>
                        <option value="moved">{t!(i18n, households.filter.moved)}</option>
                    </select>
                </label>
            </div>
            <p class="count" data-testid="household-shown">
                {move || t_string!(i18n, households.matching, n = count_text(filtered.with(|f| f.len()), lang.get()))}
            </p>
            <ul class="households" data-testid="households">
                <For each=move || filtered.with(|f| f.iter().take(shown.get()).cloned().collect::<Vec<_>>()) key=|l| (l.id.clone(), l.record.revision, l.sync, serde_json::to_string(&l.record.fields).unwrap_or_default()) let:local>
                    {
                        let household = Household::from_fields(&local.record.fields).ok();
                        let name = local.record.fields.get("head_name").and_then(|v| v.as_str()).unwrap_or("?").to_string();
                        let village = local.record.fields.get("village").and_then(|v| v.as_str()).unwrap_or("").to_string();
                        let class = household.map(|h| h.classification());
                        let sync = local.sync;
                        let conflicts = !local.record.conflicts.is_empty();
                        let for_movement = local.clone();
                        let local_for_edit = local.clone();
                        view! {
                            <li>
                                <button class="household" on:click=move |_| on_edit.run(Some(local_for_edit.clone())) data-testid="household">
                                    <span class="name">{name}</span>
                                    <span class="village">{village}</span>
                                    {class.map(|c| view! { <span class=class_badge(c)>{move || pick(lang.get(), c.label_vi(), c.label_en())}</span> })}
                                    {move || movement(&for_movement).map(|m| view! {
                                        <span class=m.badge() data-testid="household-movement">{move || match m {
                                            Movement::LeftPoverty => t_string!(i18n, households.movement.left_poverty),
                                            Movement::LeftNearPoverty => t_string!(i18n, households.movement.left_near_poverty),
                                            Movement::FellIntoPoverty => t_string!(i18n, households.movement.fell_into_poverty),
                                        }}</span>
                                    })}
                                    <span class=move || match sync { SyncState::Synced => "state synced", SyncState::Pending => "state pending", SyncState::NeedsFix => "state needs-fix" }
                                        data-testid="household-state">
                                        {move || match sync {
                                            SyncState::Synced => t_string!(i18n, households.state.sent),
                                            SyncState::Pending => t_string!(i18n, households.state.waiting),
                                            SyncState::NeedsFix => t_string!(i18n, households.state.needs_fix),
                                        }}
                                    </span>
                                    {conflicts.then(|| view! { <span class="state conflict">{t!(i18n, households.state.conflict)}</span> })}
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            {move || (filtered.with(|f| f.len()) > shown.get()).then(|| view! {
                <button class="big" data-testid="show-more" on:click=move |_| shown.update(|n| *n += PAGE)>
                    {move || t_string!(i18n, households.show_more, n = count_text(filtered.with(|f| f.len()).saturating_sub(shown.get()), lang.get()))}
                </button>
            })}
        </section>
    }
}

/// A count as the officer reads it: "1.500" in Vietnamese, "1,500" in English.
fn count_text(n: impl TryInto<i64>, lang: thidua_domain::Lang) -> String {
    thidua_domain::format::integer(n.try_into().unwrap_or(i64::MAX), lang)
}
