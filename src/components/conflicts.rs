//! Conflicts shown side by side: when two devices changed the same field of a record while apart,
//! the server keeps every value and this panel shows them next to each other, with who wrote which
//! and which one is shown for now. The officer settles each one by picking a value, or by typing a
//! new one in the form and keeping that; saving sends the choice to every device.

use leptos::prelude::*;
use serde_json::Value;
use thidua_domain::poverty::field_label;
use thidua_domain::protocol::{Conflict, DeviceId, DELETED_FIELD};
use thidua_domain::Lang;

use crate::i18n::{pick, t, t_string, td_string, ui_lang, use_i18n, Locale};

/// A stored value as a person reads it: whole numbers exactly, grouped the Vietnamese way (the
/// officer compares the versions digit by digit), yes/no, the area's name.
pub fn value_text(field: &str, value: &Value, lang: Lang) -> String {
    let locale = Locale::from(lang);
    match (field, value) {
        (DELETED_FIELD, Value::Bool(true)) => td_string!(locale, conflicts.delete_household).into(),
        (DELETED_FIELD, _) => td_string!(locale, conflicts.keep_household).into(),
        ("area", Value::String(a)) if a == "urban" => td_string!(locale, area.urban).into(),
        ("area", Value::String(a)) if a == "rural" => td_string!(locale, area.rural).into(),
        (_, Value::Null) => td_string!(locale, conflicts.empty).into(),
        (_, Value::Bool(true)) => td_string!(locale, common.yes).into(),
        (_, Value::Bool(false)) => td_string!(locale, common.no).into(),
        (_, Value::Number(n)) => match n.as_i64() {
            Some(n) => thidua_domain::format::integer(n, lang),
            None => crate::i18n::localize_decimal(n.to_string(), lang),
        },
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

fn field_name(field: &str, lang: Lang) -> &'static str {
    if field == DELETED_FIELD {
        return td_string!(Locale::from(lang), conflicts.delete_or_keep);
    }
    let (vi, en) = field_label(field);
    pick(lang, vi, en)
}

/// The conflicts of one record. `chosen` holds the officer's picks (field → value); None as the
/// value means "what is typed in the form". `editable` is false for a reader (a district supervisor),
/// who sees the same versions but does not pick.
#[component]
pub fn ConflictPanel(
    conflicts: Vec<Conflict>,
    this_device: DeviceId,
    chosen: RwSignal<Vec<(String, Option<Value>)>>,
    editable: bool,
    on_pick: Callback<(String, Option<Value>)>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    // a conflict with a held version is one the lock made: the district accepted the report, and a
    // change that reached the server afterwards waits beside the accepted value instead of over it
    let locked = conflicts.iter().any(|c| c.held.is_some());
    view! {
        <section class="conflicts" data-testid="conflicts" role="region"
            aria-label=move || t_string!(i18n, conflicts.region)>
            {if locked {
                view! { <p class="notice warn" data-testid="conflicts-locked">{t!(i18n, conflicts.explain_locked)}</p> }.into_any()
            } else {
                view! { <p class="notice warn">{t!(i18n, conflicts.explain)}</p> }.into_any()
            }}
            {conflicts.into_iter().map(|conflict| {
                let field = conflict.field.clone();
                let shown = conflict.winner().map(|w| w.mutation);
                let held = conflict.held;
                let is_chosen = {
                    let field = field.clone();
                    move || chosen.with(|c| c.iter().any(|(f, _)| *f == field))
                };
                let versions = conflict.versions.iter().map(|version| {
                    let value = version.value.clone();
                    let field_for_pick = field.clone();
                    let field_for_text = field.clone();
                    let field_for_state = field.clone();
                    let value_for_state = value.clone();
                    let own = version.device == this_device;
                    let device_short: String = version.device.to_string().chars().take(8).collect();
                    let is_shown = Some(version.mutation) == shown;
                    let is_accepted = Some(version.mutation) == held;
                    let picked = move || chosen.with(|c| c.iter().any(|(f, v)| *f == field_for_state && v.as_ref() == Some(&value_for_state)));
                    view! {
                        <div class="version" class:picked=picked data-testid="conflict-version">
                            <strong class="value" data-testid="conflict-value">{move || value_text(&field_for_text, &value, lang.get())}</strong>
                            <small>
                                {move || if own { t_string!(i18n, conflicts.from_this_device).to_string() }
                                         else { t_string!(i18n, conflicts.from_other_device, device = &device_short) }}
                                {move || is_shown.then(|| t_string!(i18n, conflicts.shown_now))}
                                {move || is_accepted.then(|| t_string!(i18n, conflicts.accepted_value))}
                            </small>
                            {editable.then(|| {
                                let value = version.value.clone();
                                let field = field_for_pick.clone();
                                view! {
                                    <button class="big" data-testid="conflict-pick"
                                        on:click=move |_| on_pick.run((field.clone(), Some(value.clone())))>
                                        {t!(i18n, conflicts.pick)}
                                    </button>
                                }
                            })}
                        </div>
                    }
                }).collect_view();
                let field_for_typed = field.clone();
                let test_id = format!("conflict-{field}");
                let settled = is_chosen.clone();
                view! {
                    <div class="conflict" class:settled=settled data-testid=test_id>
                        <h3>{move || field_name(&field, lang.get())}</h3>
                        <div class="versions">{versions}</div>
                        {(editable && field_for_typed != DELETED_FIELD).then(|| {
                            let field = field_for_typed.clone();
                            view! {
                                <button class="link" data-testid="conflict-keep-typed"
                                    on:click=move |_| on_pick.run((field.clone(), None))>
                                    {t!(i18n, conflicts.keep_typed)}
                                </button>
                            }
                        })}
                        {move || is_chosen().then(|| view! {
                            <p class="chosen" role="status">{t!(i18n, conflicts.chosen)}</p>
                        })}
                    </div>
                }
            }).collect_view()}
        </section>
    }
}
