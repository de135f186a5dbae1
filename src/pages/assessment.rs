//! The commune's NTM self-assessment for a year (tự đánh giá xã nông thôn mới): the 19 criteria in
//! their groups, each indicator's value and evidence note, the live status of every criterion and the
//! count met — "chưa cấu hình" where the province has not set a requirement. One record per commune
//! and year, the same id on every device, saved on the device and synced like households.

use leptos::prelude::*;
use serde_json::Value;
use thidua_domain::criteria::{Indicator, Requirement, Status, ValueKind};
use thidua_domain::protocol::{
    evidence_field, indicator_values, photos_field, DataSet, Fields, RecordId,
};
use thidua_domain::Lang;

use super::Selection;
use crate::components::photo_evidence::PhotoEvidence;
use crate::i18n::{pick, t, t_string, td_string, tu_string, ui_lang, use_i18n, Locale};
use crate::storage::LocalRecord;
use crate::sync::SyncStatus;

fn status_text(status: Status, lang: Lang) -> &'static str {
    let locale = Locale::from(lang);
    match status {
        Status::Met => td_string!(locale, assessment.status.met),
        Status::NotMet => td_string!(locale, assessment.status.not_met),
        Status::NotAssessed => td_string!(locale, assessment.status.not_assessed),
        Status::NotConfigured => td_string!(locale, assessment.status.not_configured),
    }
}

fn status_class(status: Status) -> &'static str {
    match status {
        Status::Met => "badge above",
        Status::NotMet => "badge poor",
        Status::NotAssessed => "badge average",
        Status::NotConfigured => "badge near-poor",
    }
}

/// A requirement as the officer reads it: "≥ 12,5" in Vietnamese, "≥ 12.5" in English.
fn requirement_text(requirement: &Requirement, lang: Lang) -> String {
    let locale = Locale::from(lang);
    let number = |n: f64| crate::i18n::localize_decimal(n.to_string(), lang);
    match requirement {
        Requirement::AtLeast(n) => {
            td_string!(locale, assessment.rule.at_least, value = number(*n)).to_string()
        }
        Requirement::AtMost(n) => {
            td_string!(locale, assessment.rule.at_most, value = number(*n)).to_string()
        }
        Requirement::Equals(true) => td_string!(locale, assessment.rule.yes).to_string(),
        Requirement::Equals(false) => td_string!(locale, assessment.rule.no).to_string(),
        Requirement::Provided => td_string!(locale, assessment.rule.provided).to_string(),
    }
}

/// A number as officers type it: "12,5" and "12.5" are the same.
fn parse_number(text: &str) -> Option<f64> {
    let cleaned: String = text.trim().replace(' ', "").replace(',', ".");
    cleaned.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// What the input shows for a stored value.
fn input_text(value: Option<&Value>, lang: Lang) -> String {
    match value {
        Some(Value::Number(n)) => crate::i18n::localize_decimal(n.to_string(), lang),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

#[component]
pub fn NtmAssessment(selection: Selection, on_back: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let status = expect_context::<SyncStatus>();
    let edits = crate::current_role().is_none_or(|r| r.edits());
    let year: u16 = selection.period.as_str()[..4].parse().unwrap_or(0);
    let Some(set) = crate::reference_sets::criteria_for(year) else {
        return view! {
            <section class="card" data-testid="ntm-assessment">
                <p class="notice warn" role="status">{t!(i18n, assessment.no_criteria)}</p>
                <button class="big" on:click=move |_| on_back.run(())>{t!(i18n, common.back)}</button>
            </section>
        }
        .into_any();
    };
    // the province's requirements may arrive by a sync while the page is open: statuses and the
    // requirement lines follow them at once (the list of criteria is the one the page opened with)
    let set = RwSignal::new(set);
    Effect::new(move |_| {
        status.revision.track();
        if let Some(latest) = crate::reference_sets::criteria_for(year) {
            if set.with_untracked(|s| *s != latest) {
                set.set(latest);
            }
        }
    });
    let id = RecordId::of_unit_period(
        DataSet::NtmAssessment,
        &selection.commune,
        &selection.period,
    );
    // what the form was opened on (None until first saved), and what the officer has typed
    let seen = RwSignal::new(None::<LocalRecord>);
    let fields = RwSignal::new(Fields::new());
    // the stored fields the form was last brought up to: what the typing is over
    let base = StoredValue::new(Fields::new());
    let dirty = RwSignal::new(false);
    let message = RwSignal::new(None::<Result<String, String>>);
    // the draft: what was typed and not saved comes back after a reload or a closed tab
    let draft_key = format!("draft:ntm:{id}");
    let ready = RwSignal::new(!edits);
    let draft_read = StoredValue::new(!edits);
    let restored_at = RwSignal::new(None::<f64>);
    if edits {
        crate::drafts::use_autosave(
            draft_key.clone(),
            move || fields.get(),
            move || Some(base.get_value()),
            dirty.into(),
            ready.into(),
        );
    }
    let leave_now = {
        let key = draft_key.clone();
        move || {
            let unsaved = edits && dirty.get_untracked();
            let question = tu_string!(i18n, drafts.discard_assessment);
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
    // reads the stored assessment (and, the first time, the draft) into the form: what the officer
    // typed stays, every other value is the stored one, so a colleague's values that a sync brought
    // show even over a draft or while typing
    let load = {
        let key = draft_key.clone();
        move || {
            let key = key.clone();
            leptos::task::spawn_local(async move {
                let first = !draft_read.get_value();
                draft_read.set_value(true);
                let draft = if first {
                    crate::drafts::load::<Fields>(&key).await
                } else {
                    None
                };
                match crate::services().store.record(&id.to_string()).await {
                    Ok(found) => {
                        let stored = found
                            .as_ref()
                            .map(|l| l.record.fields.clone())
                            .unwrap_or_default();
                        if let Some(draft) = draft {
                            fields.set(draft.over(&stored));
                            dirty.set(true);
                            restored_at.set(Some(draft.saved_at));
                        } else if dirty.get_untracked() {
                            let typed = fields.get_untracked();
                            fields.set(crate::drafts::rebase(&base.get_value(), &typed, &stored));
                        } else {
                            fields.set(stored.clone());
                        }
                        base.set_value(stored);
                        seen.set(found);
                    }
                    Err(e) => message.set(Some(Err(e.message(lang.get_untracked())))),
                }
                if first {
                    ready.set(true);
                }
            });
        }
    };
    load();
    // another device's values arriving by sync show at once, under what the officer typed
    Effect::new(move |_| {
        status.revision.track();
        load();
    });

    let evaluation = Memo::new(move |_| {
        let values = fields.with(|f| indicator_values(f).unwrap_or_default());
        set.with(|s| s.evaluate(&values))
    });
    let errors = Memo::new(move |_| {
        let values = fields.with(indicator_values);
        match values {
            Ok(values) => set.with(|s| s.validate_values(&values)),
            Err(errors) => errors,
        }
    });

    let set_field = move |key: String, value: Value| {
        fields.update(|f| {
            if value.is_null() || value.as_str().is_some_and(|s| s.trim().is_empty()) {
                f.remove(&key);
            } else {
                f.insert(key, value);
            }
        });
        dirty.set(true);
        message.set(None);
    };

    let sel = selection.clone();
    let save = move |_| {
        if !errors.with(|e| e.is_empty()) {
            message.set(Some(Err(tu_string!(i18n, assessment.fix_values).into())));
            return;
        }
        let sel = sel.clone();
        leptos::task::spawn_local(async move {
            let seen_now = seen.get_untracked();
            let result = crate::records::save_unit_record(
                &sel,
                DataSet::NtmAssessment,
                seen_now.as_ref(),
                fields.get_untracked(),
                status,
            )
            .await;
            if let Ok(saved) = &result {
                dirty.set(false);
                restored_at.set(None);
                if let Some(saved) = saved {
                    base.set_value(saved.record.fields.clone());
                    seen.set(Some(saved.clone()));
                }
            }
            message.set(Some(crate::records::outcome_message(
                &result,
                lang.get_untracked(),
            )));
        });
    };

    let unit_code = StoredValue::new(selection.commune.to_string());
    let indicator_row = move |indicator: Indicator| {
        let code = indicator.code.clone();
        let code_for_status = code.clone();
        let status_of = Memo::new(move |_| {
            evaluation.with(|e| {
                e.criteria
                    .iter()
                    .flat_map(|c| c.indicators.iter())
                    .find(|(c, _)| *c == code_for_status)
                    .map(|(_, s)| *s)
                    .unwrap_or(Status::NotAssessed)
            })
        });
        let code_for_rule = code.clone();
        let requirement = Memo::new(move |_| {
            set.with(|s| {
                s.indicator(&code_for_rule)
                    .and_then(|i| i.requirement.clone())
            })
        });
        let unit = indicator.unit.clone().unwrap_or_default();
        let value_key = code.clone();
        let input = match indicator.kind {
            ValueKind::YesNo => {
                let key = value_key.clone();
                let current = move || {
                    fields.with(|f| match f.get(&value_key) {
                        Some(Value::Bool(true)) => "true",
                        Some(Value::Bool(false)) => "false",
                        _ => "",
                    })
                };
                view! {
                    <select name=code.clone() data-testid=format!("indicator-{code}") prop:value=current disabled=!edits
                        on:change=move |ev| {
                            let v = event_target_value(&ev);
                            set_field(key.clone(), match v.as_str() { "true" => Value::Bool(true), "false" => Value::Bool(false), _ => Value::Null });
                        }>
                        <option value="">{t!(i18n, assessment.choose)}</option>
                        <option value="true">{t!(i18n, assessment.yes)}</option>
                        <option value="false">{t!(i18n, assessment.no)}</option>
                    </select>
                }.into_any()
            }
            ValueKind::Percent | ValueKind::Number => {
                let key = value_key.clone();
                let typed = RwSignal::new(input_text(
                    fields
                        .with_untracked(|f| f.get(&value_key).cloned())
                        .as_ref(),
                    lang.get_untracked(),
                ));
                let bad = RwSignal::new(false);
                // the text follows the value when it changes from elsewhere (the stored record read
                // after the row was drawn, a colleague's value a sync brought); what the officer
                // types stands while it reads as the same value ("12,50" for 12.5)
                let stored = {
                    let key = value_key.clone();
                    Memo::new(move |_| fields.with(|f| f.get(&key).cloned()))
                };
                Effect::new(move |_| {
                    let value = stored.get();
                    let shown = parse_number(&typed.get_untracked());
                    let same = match (&value, shown) {
                        (Some(Value::Number(n)), Some(t)) => n.as_f64() == Some(t),
                        (None, None) => true,
                        _ => false,
                    };
                    if !same {
                        typed.set(input_text(value.as_ref(), lang.get_untracked()));
                        bad.set(false);
                    }
                });
                view! {
                    <input type="text" inputmode="decimal" name=code.clone() data-testid=format!("indicator-{code}") disabled=!edits
                        prop:value=move || typed.get()
                        on:input=move |ev| {
                            let text = event_target_value(&ev);
                            typed.set(text.clone());
                            match parse_number(&text) {
                                Some(n) => { bad.set(false); set_field(key.clone(), serde_json::json!(n)); }
                                None if text.trim().is_empty() => { bad.set(false); set_field(key.clone(), Value::Null); }
                                None => bad.set(true),
                            }
                        }/>
                    {move || bad.get().then(|| view! { <span class="field-error" role="alert">{t!(i18n, assessment.not_a_number)}</span> })}
                }.into_any()
            }
            ValueKind::Text => {
                let key = value_key.clone();
                view! {
                    <input type="text" name=code.clone() data-testid=format!("indicator-{code}") disabled=!edits
                        prop:value=move || fields.with(|f| input_text(f.get(&value_key), Lang::Vi))
                        on:input=move |ev| set_field(key.clone(), Value::String(event_target_value(&ev)))/>
                }.into_any()
            }
        };
        let evidence_key = evidence_field(&code);
        let evidence_key_for_value = evidence_key.clone();
        let code_for_errors = code.clone();
        let evidence_for_errors = evidence_key.clone();
        view! {
            <div class="indicator" data-testid=format!("ntm-indicator-{code}")>
                <div class="indicator-head">
                    <span class="code">{code.clone()}</span>
                    <span class="name">{move || pick(lang.get(), &indicator.name_vi, &indicator.name_en).clone()}</span>
                    <span class=move || status_class(status_of.get()) data-testid="indicator-status">{move || status_text(status_of.get(), lang.get())}</span>
                </div>
                <small class="requirement">
                    {move || match requirement.get() {
                        Some(r) => t_string!(i18n, assessment.requirement, requirement = requirement_text(&r, lang.get()), unit = &unit),
                        None => t_string!(i18n, assessment.not_configured).to_string(),
                    }}
                </small>
                <label class="field">
                    <span>{t!(i18n, assessment.value)}</span>
                    {input}
                </label>
                <label class="field">
                    <span>{t!(i18n, assessment.evidence)}</span>
                    <input type="text" name=evidence_key.clone() disabled=!edits
                        prop:value=move || fields.with(|f| input_text(f.get(&evidence_key_for_value), Lang::Vi))
                        on:input=move |ev| set_field(evidence_key.clone(), Value::String(event_target_value(&ev)))/>
                </label>
                <IndicatorPhotos code=code.clone() unit=unit_code.get_value() record_id=id.to_string() fields=fields editable=edits
                    on_change=Callback::new(move |(key, value): (String, Value)| set_field(key, value))/>
                {move || errors.with(|es| es.iter().filter(|e| e.field == code_for_errors || e.field == evidence_for_errors)
                    .map(|e| view! { <span class="field-error" role="alert">{e.message(lang.get()).to_string()}</span> }).collect_view())}
            </div>
        }
    };

    let groups = set.with_untracked(|s| s.groups.clone());
    view! {
        <section class="card ntm" data-testid="ntm-assessment">
            <div class="row">
                <h2>{t!(i18n, assessment.title)}" — "{selection.period.as_str().to_string()}</h2>
                <button class="big" data-testid="ntm-back" on:click=leave>{t!(i18n, common.back_to_households)}</button>
            </div>
            {move || restored_at.get().map(|at| view! {
                <p class="notice" role="status" data-testid="draft-restored">
                    {move || t_string!(i18n, drafts.restored, time = crate::components::sync_badge::date_time(at, lang.get()))}
                </p>
            })}
            <p class="summary" data-testid="ntm-summary">
                {move || evaluation.with(|e| t_string!(i18n, assessment.summary, met = e.met, total = e.total))}
                {move || evaluation.with(|e| e.meets_standard()).then(|| view! { <strong>{t!(i18n, assessment.meets_standard)}</strong> })}
            </p>
            {crate::current_role().map(|role| view! {
                <crate::components::submission::SubmissionPanel selection=selection.clone() role=role data_set="ntm_assessment"/>
            })}
            {groups.into_iter().map(|group| {
                let criteria: Vec<_> = set.with_untracked(|s| s.criteria.iter().filter(|c| c.group == group.id).cloned().collect());
                view! {
                    <h3 class="group">{move || pick(lang.get(), &group.name_vi, &group.name_en).clone()}</h3>
                    {criteria.into_iter().map(|criterion| {
                        let number = criterion.number;
                        let criterion_status = move || evaluation.with(|e| e.criteria.iter().find(|c| c.number == number).map(|c| c.status).unwrap_or(Status::NotAssessed));
                        view! {
                            <details class="criterion" data-testid=format!("criterion-{number}")>
                                <summary>
                                    <span class="number">{number}". "</span>
                                    <span class="name">{move || pick(lang.get(), &criterion.name_vi, &criterion.name_en).clone()}</span>
                                    <span class=move || status_class(criterion_status()) data-testid="criterion-status">{move || status_text(criterion_status(), lang.get())}</span>
                                </summary>
                                {criterion.indicators.clone().into_iter().map(indicator_row).collect_view()}
                            </details>
                        }
                    }).collect_view()}
                }
            }).collect_view()}
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status" data-testid="ntm-saved">{text}</p> }.into_any(),
                Err(text) => view! { <p class="notice error" role="alert">{text}</p> }.into_any(),
            })}
            {edits.then(|| view! {
                <div class="formbar">
                    <div class="actions">
                        <button class="primary big" data-testid="ntm-save" on:click=save>{t!(i18n, common.save)}</button>
                    </div>
                </div>
            })}
        </section>
    }
    .into_any()
}

/// An indicator's evidence photos, kept in the `photos/CODE` field of the assessment.
#[component]
fn IndicatorPhotos(
    code: String,
    unit: String,
    record_id: String,
    fields: RwSignal<Fields>,
    editable: bool,
    on_change: Callback<(String, Value)>,
) -> impl IntoView {
    let key = photos_field(&code);
    let read = {
        let key = key.clone();
        move || {
            fields.with(|f| {
                f.get(&key)
                    .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
                    .unwrap_or_default()
            })
        }
    };
    let photos = RwSignal::new(read());
    // both ways, each only on a real difference, so neither echoes the other: a record or draft
    // loaded later shows its photos; a photo taken or removed goes into the fields
    Effect::new(move |_| {
        let stored = read();
        if photos.with_untracked(|p| *p != stored) {
            photos.set(stored);
        }
    });
    let read_again = {
        let key = key.clone();
        move || {
            fields.with_untracked(|f| {
                f.get(&key)
                    .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
                    .unwrap_or_default()
            })
        }
    };
    Effect::new(move |_| {
        let now = photos.get();
        if now != read_again() {
            let value = if now.is_empty() {
                Value::Null
            } else {
                Value::from(now)
            };
            on_change.run((key.clone(), value));
        }
    });
    view! {
        <PhotoEvidence unit=unit record_id=record_id photos=photos name=format!("indicator-{code}") editable=editable/>
    }
}
