//! A commune's households for the review year, read from the device.

use leptos::prelude::*;
use thidua_domain::poverty::{
    Classification, Escapes, Household, ReviewCount, ReviewTotals, CARRIED_FROM,
};
use thidua_domain::protocol::{Period, RecordId};
use thidua_domain::Lang;

use super::Selection;
use crate::i18n::{t, tr, UiLang};
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
    let lang = expect_context::<UiLang>().0;
    let rate = move |r: Option<f64>| {
        r.map(|v| percent(v, lang.get()))
            .unwrap_or_else(|| "—".into())
    };
    let row = move |name: String, c: ReviewCount, total: bool| {
        view! {
            <tr class:total=total>
                <th scope="row">{name}</th>
                <td>{c.households}</td>
                <td>{c.poor}</td>
                <td>{rate(c.poverty_rate())}</td>
                <td>{c.near_poor}</td>
                <td>{rate(c.near_poverty_rate())}</td>
            </tr>
        }
    };
    view! {
        <div class="totals" data-testid="review-totals">
            <table>
                <thead><tr>
                    <th scope="col">{t("Thôn, bản", "Village")}</th>
                    <th scope="col">{t("Số hộ", "Households")}</th>
                    <th scope="col">{t("Hộ nghèo", "Poor")}</th>
                    <th scope="col">{t("Tỷ lệ nghèo", "Poverty rate")}</th>
                    <th scope="col">{t("Hộ cận nghèo", "Near-poor")}</th>
                    <th scope="col">{t("Tỷ lệ cận nghèo", "Near-poverty rate")}</th>
                </tr></thead>
                <tbody>
                    {move || totals.with(|t| t.villages.values().map(|(name, c)| row(name.clone(), *c, false)).collect_view())}
                    {move || row(tr(lang.get(), "Toàn xã", "Whole commune").into(), totals.with(|t| t.commune), true)}
                </tbody>
            </table>
            <p data-testid="change-from-last-year">
                {move || match (last_year.get().and_then(|l| l.commune.poverty_rate()), totals.with(|t| t.commune.poverty_rate())) {
                    (Some(before), Some(now)) => {
                        let change = now - before;
                        let sign = if change > 0.0 { "+" } else if change < 0.0 { "−" } else { "±" };
                        let points = percent(change.abs(), lang.get()).replace(" %", "");
                        format!("{} {} → {} ({sign}{points} {})", tr(lang.get(), "Tỷ lệ nghèo so với rà soát năm trước:", "Poverty rate against last year's review:"),
                            percent(before, lang.get()), percent(now, lang.get()), tr(lang.get(), "điểm %", "points"))
                    }
                    _ => tr(lang.get(), "Chưa có dữ liệu rà soát năm trước trên máy này để so sánh.", "No review of last year on this device to compare with.").to_string(),
                }}
            </p>
        </div>
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
    let lang = expect_context::<UiLang>().0;
    let edits = crate::current_role().is_none_or(|r| r.edits());
    let households = RwSignal::new(Vec::<LocalRecord>::new());
    let last_year_list = RwSignal::new(Vec::<LocalRecord>::new());
    let last_year =
        Signal::derive(move || last_year_list.with(|l| (!l.is_empty()).then(|| totals_of(l))));
    let carrying = RwSignal::new(None::<Result<usize, String>>);
    let carry_busy = RwSignal::new(false);
    let load_error = RwSignal::new(None::<String>);
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
                Err(e) => load_error.set(Some(e.message_vi())),
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
            .await
            .map_err(|e| e.message_vi());
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
                <button on:click=move |_| on_change_commune.run(())>{t("Đổi xã", "Change commune")}</button>
            </div>
            <div class="actions">
                <button class="big" data-testid="open-ntm" on:click=move |_| on_assessment.run(())>
                    {t("Tự đánh giá tiêu chí nông thôn mới", "NTM self-assessment")}
                </button>
                <button class="big" data-testid="open-report" on:click=move |_| on_report.run(())>
                    {t("Báo cáo chỉ tiêu thi đua", "Target report")}
                </button>
                <button class="big" data-testid="open-examples" on:click=move |_| on_examples.run(())>
                    {t("Điển hình tiên tiến", "Advanced examples")}
                </button>
            </div>
            {edits.then(|| view! {
                <button class="primary big" on:click=move |_| on_edit.run(None) data-testid="add-household">
                    {t("+ Thêm hộ", "+ Add household")}
                </button>
            })}
            {move || (edits && to_carry.get() > 0).then(|| view! {
                <button class="big" data-testid="carry-over" disabled=move || carry_busy.get() on:click=move |_| carry.run(())>
                    {move || format!("{} {} {} {}", tr(lang.get(), "Chép", "Carry over"), to_carry.get(),
                        tr(lang.get(), "hộ từ danh sách năm", "households from the list of"), previous_label.get_value())}
                </button>
            })}
            {move || carrying.get().map(|r| match r {
                Ok(n) => view! { <p class="notice" role="status" data-testid="carried">{format!("{} {n} {}", tr(lang.get(), "Đã chép", "Carried over"), tr(lang.get(), "hộ; hãy rà soát lại từng hộ.", "households; review each one."))}</p> }.into_any(),
                Err(e) => view! { <p class="notice error" role="alert">{e}</p> }.into_any(),
            })}
            {crate::current_role().map(|role| view! {
                <crate::components::submission::SubmissionPanel selection=selection.clone() role=role/>
            })}
            {move || load_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <p class="count" data-testid="household-count">
                {move || format!("{} {}", households.get().len(), t("hộ", "households")())}
            </p>
            {move || (!households.with(|h| h.is_empty())).then(|| view! {
                <ReviewTotalsTable totals=Signal::derive(move || households.with(|h| totals_of(h))) last_year=last_year/>
                <p class="escapes" data-testid="escapes">
                    {move || {
                        let e = escapes.get();
                        format!("{} {} · {} {} · {} {}",
                            tr(lang.get(), "Thoát nghèo:", "Left poverty:"), e.left_poverty,
                            tr(lang.get(), "thoát cận nghèo:", "left near-poverty:"), e.left_near_poverty,
                            tr(lang.get(), "nghèo mới hoặc tái nghèo:", "newly or again poor:"), e.fell_into_poverty)
                    }}
                </p>
            })}
            <div class="filters">
                <label class="field">
                    <span>{t("Tìm hộ (tên chủ hộ hoặc bản, gõ không dấu cũng được)", "Find a household (head or village; accents optional)")}</span>
                    <input type="search" data-testid="household-search" prop:value=move || query.get()
                        on:input=move |ev| { query.set(event_target_value(&ev)); shown.set(PAGE); }/>
                </label>
                <label class="field">
                    <span>{t("Loại hộ", "Class")}</span>
                    <select data-testid="class-filter" on:change=move |ev| { class_filter.set(event_target_value(&ev)); shown.set(PAGE); }>
                        <option value="all">{t("Tất cả", "All")}</option>
                        <option value="poor">{t("Hộ nghèo", "Poor")}</option>
                        <option value="near_poor">{t("Hộ cận nghèo", "Near-poor")}</option>
                        <option value="average">{t("Hộ có mức sống trung bình", "Average living standard")}</option>
                        <option value="above">{t("Trên mức trung bình", "Above average")}</option>
                        <option value="conflict">{t("Có xung đột", "With a conflict")}</option>
                    </select>
                </label>
            </div>
            <p class="count" data-testid="household-shown">
                {move || format!("{} {}", filtered.with(|f| f.len()), t("hộ khớp", "match")())}
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
                        let local_for_edit = local.clone();
                        view! {
                            <li>
                                <button class="household" on:click=move |_| on_edit.run(Some(local_for_edit.clone())) data-testid="household">
                                    <span class="name">{name}</span>
                                    <span class="village">{village}</span>
                                    {class.map(|c| view! { <span class=class_badge(c)>{move || tr(lang.get(), c.label_vi(), c.label_en())}</span> })}
                                    <span class=move || match sync { SyncState::Synced => "state synced", SyncState::Pending => "state pending", SyncState::NeedsFix => "state needs-fix" }
                                        data-testid="household-state">
                                        {move || match sync {
                                            SyncState::Synced => tr(lang.get(), "Đã gửi", "Sent"),
                                            SyncState::Pending => tr(lang.get(), "Chờ gửi", "Waiting"),
                                            SyncState::NeedsFix => tr(lang.get(), "Cần sửa", "Needs a fix"),
                                        }}
                                    </span>
                                    {conflicts.then(|| view! { <span class="state conflict">{move || tr(lang.get(), "Có xung đột", "Conflict")}</span> })}
                                </button>
                            </li>
                        }
                    }
                </For>
            </ul>
            {move || (filtered.with(|f| f.len()) > shown.get()).then(|| view! {
                <button class="big" data-testid="show-more" on:click=move |_| shown.update(|n| *n += PAGE)>
                    {move || format!("{} ({} {})", tr(lang.get(), "Xem thêm", "Show more"),
                        filtered.with(|f| f.len()) - shown.get(), tr(lang.get(), "hộ nữa", "more"))}
                </button>
            })}
        </section>
    }
}
