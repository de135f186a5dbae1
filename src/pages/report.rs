//! The commune's report for its part of the directive's targets (báo cáo chỉ tiêu), for a period:
//! for each target measured from communes, the part and the total it is a share of (cultural families
//! out of all households, safe residential areas out of all of them, …), with the figure computed
//! live beside the province's target. A part never exceeds its total. Saved on the device, synced.

use leptos::prelude::*;
use serde_json::{json, Value};
use thidua_domain::protocol::{DataSet, Fields, Record, RecordId};
use thidua_domain::targets::{Direction, Measure, Target};
use thidua_domain::Lang;

use super::Selection;
use crate::components::household_form::parse_whole;
use crate::i18n::{pick, t, t_string, tu_string, ui_lang, use_i18n};
use crate::storage::LocalRecord;
use crate::sync::SyncStatus;

/// The targets a commune reports for `year`: those built from communes' figures (not the province's
/// own economic figures, not the NTM count, which comes from the assessments), from the target set
/// in force on the device (the province's values once a sync brought them). Only the targets the
/// server's checks know are offered, so a report saved here is never refused for its keys.
fn commune_targets(year: u16) -> Vec<Target> {
    crate::reference_sets::targets_for(year)
        .targets
        .into_iter()
        .filter(|t| !matches!(t.measure, Measure::Reported) && t.key != "ntm_communes")
        .collect()
}

/// The poverty rate's key: its part is the review's count of poor households.
const POVERTY_KEY: &str = "poverty_rate";

/// What is wrong with a typed pair of figures.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Problem {
    /// One of the two is typed, the other not.
    OneMissing,
    /// Not a whole number.
    NotWhole,
}

#[component]
pub fn IndicatorReport(selection: Selection, on_back: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let status = expect_context::<SyncStatus>();
    let edits = crate::current_role().is_none_or(|r| r.edits());
    let id = RecordId::of_unit_period(
        DataSet::IndicatorReport,
        &selection.commune,
        &selection.period,
    );
    let seen = RwSignal::new(None::<LocalRecord>);
    // what is typed, per target: (part, total) as text
    let typed = RwSignal::new(std::collections::BTreeMap::<String, (String, String)>::new());
    // the stored figures as text when the form opened: what the typing is over
    let base = StoredValue::new(std::collections::BTreeMap::<String, (String, String)>::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    // typed and not yet saved: kept as a draft, asked about before leaving
    let dirty = RwSignal::new(false);
    let draft_key = format!("draft:report:{id}");
    let ready = RwSignal::new(!edits);
    let restored_at = RwSignal::new(None::<f64>);
    if edits {
        crate::drafts::use_autosave(
            draft_key.clone(),
            move || typed.get(),
            move || Some(base.get_value()),
            dirty.into(),
            ready.into(),
        );
    }
    let leave_now = {
        let key = draft_key.clone();
        move || {
            let unsaved = edits && dirty.get_untracked();
            let question = tu_string!(i18n, drafts.discard_report);
            if crate::drafts::may_leave(unsaved, question, &key) {
                on_back.run(());
            }
        }
    };
    // the device's back button leaves the same way, asking first
    let leave = {
        let leave_now = leave_now.clone();
        crate::browser::back_button::use_back_button(leave_now.clone());
        move |_| leave_now()
    };
    // the poverty review's poor households on this device (this commune and period): the poverty
    // rate's part is that count, so the form offers it rather than have it typed twice
    let review_poor = RwSignal::new(None::<u32>);
    {
        let (commune, period) = (selection.commune.clone(), selection.period.clone());
        leptos::task::spawn_local(async move {
            let services = crate::services();
            if let Ok(list) =
                crate::households::households_of(&services.store, &commune, &period).await
            {
                let poor = list
                    .iter()
                    .filter(|l| !l.record.deleted)
                    .filter_map(|l| {
                        thidua_domain::poverty::Household::from_fields(&l.record.fields).ok()
                    })
                    .filter(|h| h.classification() == thidua_domain::poverty::Classification::Poor)
                    .count();
                if !list.is_empty() {
                    review_poor.set(Some(poor as u32));
                }
            }
        });
    }
    leptos::task::spawn_local(async move {
        let draft = if edits {
            crate::drafts::load::<std::collections::BTreeMap<String, (String, String)>>(&draft_key)
                .await
        } else {
            None
        };
        if let Ok(found) = crate::services().store.record(&id.to_string()).await {
            let texts: std::collections::BTreeMap<String, (String, String)> = found
                .as_ref()
                .map(|l| {
                    l.record
                        .fields
                        .iter()
                        .map(|(k, v)| {
                            let part = |name: &str| {
                                v.get(name)
                                    .and_then(Value::as_i64)
                                    .map(|n| n.to_string())
                                    .unwrap_or_default()
                            };
                            (k.clone(), (part("numerator"), part("denominator")))
                        })
                        .collect()
                })
                .unwrap_or_default();
            base.set_value(texts.clone());
            typed.set(texts);
            seen.set(found);
        }
        // a draft comes back over the stored figures: what was typed, and a colleague's figures
        // synced since for the targets the officer did not touch
        if let Some(draft) = draft {
            dirty.set(true);
            typed.set(draft.over(&base.get_value()));
            restored_at.set(Some(draft.saved_at));
        }
        ready.set(true);
    });

    // the fields to store, or the problems of what is typed
    let fields = Memo::new(move |_| {
        let mut fields = Fields::new();
        let mut problems = Vec::<(String, Problem)>::new();
        typed.with(|typed| {
            for (key, (part, total)) in typed {
                match (parse_whole(part), parse_whole(total)) {
                    (Ok(None), Ok(None)) => {}
                    (Ok(Some(n)), Ok(Some(d))) => {
                        fields.insert(key.clone(), json!({"numerator": n, "denominator": d}));
                    }
                    (Ok(_), Ok(_)) => problems.push((key.clone(), Problem::OneMissing)),
                    _ => problems.push((key.clone(), Problem::NotWhole)),
                }
            }
        });
        (fields, problems)
    });
    let for_check = selection.clone();
    let record_errors = Memo::new(move |_| {
        let record = Record {
            id,
            data_set: DataSet::IndicatorReport,
            org_unit: for_check.commune.clone(),
            period: for_check.period.clone(),
            fields: fields.with(|(f, _)| f.clone()),
            revision: 0,
            deleted: false,
            conflicts: Vec::new(),
        };
        // the target set of the report's year, as the server checks it
        record.validate_with(
            &thidua_domain::criteria::CriteriaSet::ntm_2021_2025(),
            &crate::reference_sets::targets_for(for_check.period.year()),
        )
    });

    let sel = selection.clone();
    let save = move |_| {
        let (to_store, problems) = fields.get_untracked();
        if !problems.is_empty() || !record_errors.with_untracked(|e| e.is_empty()) {
            message.set(Some(Err(tu_string!(i18n, report.fix_figures).into())));
            return;
        }
        let sel = sel.clone();
        leptos::task::spawn_local(async move {
            let seen_now = seen.get_untracked();
            let result = crate::records::save_unit_record(
                &sel,
                DataSet::IndicatorReport,
                seen_now.as_ref(),
                to_store,
                status,
            )
            .await;
            if let Ok(saved) = &result {
                dirty.set(false);
                restored_at.set(None);
                base.set_value(typed.get_untracked());
                if let Some(saved) = saved {
                    seen.set(Some(saved.clone()));
                }
            }
            message.set(Some(crate::records::outcome_message(
                &result,
                lang.get_untracked(),
            )));
        });
    };

    let year = selection.period.year();
    let row = move |target: Target| {
        let key = target.key.clone();
        // the part and the total named in the officer's language (Vietnamese where a set has no
        // English names)
        let (scale, part_label, total_label, part_en, total_en) = match &target.measure {
            Measure::Rate {
                scale,
                numerator_vi,
                denominator_vi,
                numerator_en,
                denominator_en,
            } => (
                *scale,
                numerator_vi.clone(),
                denominator_vi.clone(),
                numerator_en.clone().unwrap_or_else(|| numerator_vi.clone()),
                denominator_en
                    .clone()
                    .unwrap_or_else(|| denominator_vi.clone()),
            ),
            _ => (
                1,
                target.name_vi.clone(),
                String::new(),
                target.name_en.clone(),
                String::new(),
            ),
        };
        let k1 = key.clone();
        let k2 = key.clone();
        let k3 = key.clone();
        let k4 = key.clone();
        let k5 = key.clone();
        let k6 = key.clone();
        let figure = move || {
            fields.with(|(f, _)| {
                let v = f.get(&k5)?;
                let (n, d) = (
                    v.get("numerator")?.as_f64()?,
                    v.get("denominator")?.as_f64()?,
                );
                (d > 0.0).then(|| n / d * scale as f64)
            })
        };
        let direction = match target.direction {
            Direction::AtLeast => "≥",
            Direction::AtMost => "≤",
        };
        let value = target.value;
        let unit_vi = target.unit_vi.clone();
        let unit_en = target.unit_en.clone().unwrap_or_else(|| unit_vi.clone());
        let unit_in = move |lang: Lang| pick(lang, unit_vi.clone(), unit_en.clone());
        // 72.5 → "≥ 72,5 %": at most two decimals, none written when they are zeros
        let goal = {
            let unit_in = unit_in.clone();
            move |lang: Lang| {
                let figure = format!("{value:.2}");
                let figure = figure.trim_end_matches('0').trim_end_matches('.');
                format!(
                    "{direction} {} {}",
                    crate::i18n::localize_decimal(figure.to_string(), lang),
                    unit_in(lang)
                )
            }
        };
        view! {
            <div class="report-row" data-testid=format!("report-{key}")>
                <h3>{move || pick(lang.get(), &target.name_vi, &target.name_en).clone()}</h3>
                <small class="requirement">{move || t_string!(i18n, report.province_target, year = year, goal = goal(lang.get()))}</small>
                {(key == POVERTY_KEY && edits).then(|| {
                    let k = key.clone();
                    move || review_poor.get().map(|poor| {
                        let k = k.clone();
                        view! {
                            <p class="hint" data-testid="review-poor">
                                {move || t_string!(i18n, report.review_poor, n = thidua_domain::format::integer(i64::from(poor), lang.get()))}
                                " "
                                <button class="big" data-testid="use-review-poor" on:click=move |_| {
                                    typed.update(|t| t.entry(k.clone()).or_default().0 = poor.to_string());
                                    dirty.set(true);
                                    message.set(None);
                                }>{t!(i18n, report.use_review_poor)}</button>
                            </p>
                        }
                    })
                })}
                <div class="pair">
                    <label class="field">
                        <span>{move || pick(lang.get(), part_label.clone(), part_en.clone())}</span>
                        <input type="text" inputmode="numeric" name=format!("{key}.numerator") disabled=!edits
                            prop:value=move || typed.with(|t| t.get(&k1).map(|p| p.0.clone()).unwrap_or_default())
                            on:input=move |ev| { let v = event_target_value(&ev); typed.update(|t| t.entry(k2.clone()).or_default().0 = v); dirty.set(true); message.set(None); }/>
                    </label>
                    <label class="field">
                        <span>{move || pick(lang.get(), total_label.clone(), total_en.clone())}</span>
                        <input type="text" inputmode="numeric" name=format!("{key}.denominator") disabled=!edits
                            prop:value=move || typed.with(|t| t.get(&k3).map(|p| p.1.clone()).unwrap_or_default())
                            on:input=move |ev| { let v = event_target_value(&ev); typed.update(|t| t.entry(k4.clone()).or_default().1 = v); dirty.set(true); message.set(None); }/>
                    </label>
                </div>
                <p class="figure" data-testid="figure">
                    {move || match figure() {
                        Some(v) => t_string!(i18n, report.result, value = crate::i18n::decimal(v, 1, lang.get()), unit = unit_in(lang.get())),
                        None => t_string!(i18n, report.not_enough).to_string(),
                    }}
                </p>
                {move || {
                    let mut shown: Vec<String> = fields.with(|(_, p)| p.iter().filter(|(k, _)| *k == k6)
                        .map(|(_, problem)| match problem {
                            Problem::OneMissing => t_string!(i18n, report.both_numbers),
                            Problem::NotWhole => t_string!(i18n, report.whole_number),
                        }.to_string()).collect());
                    shown.extend(record_errors.with(|e| e.iter().filter(|e| e.field == k6).map(|e| e.message(lang.get()).to_string()).collect::<Vec<_>>()));
                    shown.into_iter().map(|m| view! { <span class="field-error" role="alert">{m}</span> }).collect_view()
                }}
            </div>
        }
    };

    view! {
        <section class="card report" data-testid="indicator-report">
            <div class="row">
                <h2>{t!(i18n, report.title)}" — "{selection.period.as_str().to_string()}</h2>
                <button class="big" data-testid="report-back" on:click=leave>{t!(i18n, common.back_to_households)}</button>
            </div>
            {move || restored_at.get().map(|at| view! {
                <p class="notice" role="status" data-testid="draft-restored">
                    {move || t_string!(i18n, drafts.restored, time = crate::components::sync_badge::date_time(at, lang.get()))}
                </p>
            })}
            <p class="hint">{t!(i18n, report.hint)}</p>
            {commune_targets(selection.period.year()).into_iter().map(row).collect_view()}
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status" data-testid="report-saved">{text}</p> }.into_any(),
                Err(text) => view! { <p class="notice error" role="alert">{text}</p> }.into_any(),
            })}
            {edits.then(|| view! {
                <div class="formbar"><div class="actions">
                    <button class="primary big" data-testid="report-save" on:click=save>{t!(i18n, common.save)}</button>
                </div></div>
            })}
        </section>
    }
}
