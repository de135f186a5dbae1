//! The household form of the annual poverty review, with the classification shown live as the
//! officer types. Validation is the domain's, so the form refuses exactly what the server would.

use std::collections::BTreeSet;

use leptos::prelude::*;
use thidua_domain::poverty::{
    field_label, Area, Deprivation, Dimension, Household, Position, POSITION,
};
use thidua_domain::protocol::{RecordId, DELETED_FIELD};
use thidua_domain::FieldError;

use crate::components::conflicts::ConflictPanel;
use crate::components::photo_evidence::PhotoEvidence;
use crate::components::position_field::PositionField;
use crate::i18n::{pick, t, t_string, td_string, tu_string, ui_lang, use_i18n, Locale};
use crate::pages::Selection;
use crate::photos::PHOTOS;
use crate::storage::{LocalRecord, SyncState};

/// What the officer has typed, as text, before it is a `Household`.
#[derive(Clone, Copy)]
struct FormState {
    head_name: RwSignal<String>,
    village: RwSignal<String>,
    area: RwSignal<Area>,
    members: RwSignal<String>,
    working_age_members: RwSignal<String>,
    children_under_16: RwSignal<String>,
    members_16_to_30: RwSignal<String>,
    income: RwSignal<String>,
    floor_area: RwSignal<String>,
    deprivations: RwSignal<Vec<Deprivation>>,
    /// Taken on demand; not part of the household's answers.
    position: RwSignal<Option<Position>>,
    /// Evidence photos (their ids; the bytes are in the device's photo store).
    photos: RwSignal<Vec<String>>,
}

/// What the officer has typed, as it is kept in a draft: the texts exactly, typos included.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FormDraft {
    head_name: String,
    village: String,
    area: Area,
    members: String,
    working_age_members: String,
    children_under_16: String,
    members_16_to_30: String,
    income: String,
    floor_area: String,
    deprivations: Vec<Deprivation>,
    #[serde(default)]
    position: Option<Position>,
    #[serde(default)]
    photos: Vec<String>,
    /// When it was last written (Unix ms), to tell the officer.
    saved_at: f64,
}

/// The meta key of a household form's draft: one per household, one for a new household per commune
/// and year.
fn draft_key(existing: Option<&LocalRecord>, selection: &Selection) -> String {
    match existing {
        Some(l) => format!("draft:household:{}", l.id),
        None => format!(
            "draft:household:new:{}:{}",
            selection.commune,
            selection.period.as_str()
        ),
    }
}

/// Reads a whole number as officers write it: "1.500.000", "1 500 000" and "1500000" are the same.
pub fn parse_whole(text: &str) -> Result<Option<i64>, std::num::ParseIntError> {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | ',' | '\u{a0}'))
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    cleaned.parse::<i64>().map(Some)
}

/// The form's own checks make `FieldError`s like the domain's, with both languages in them.
fn not_a_number(field: &str) -> FieldError {
    let (vi, en) = field_label(field);
    FieldError::new(
        field,
        "wrong_type",
        td_string!(Locale::vi, household_form.not_a_number, field = vi),
        td_string!(Locale::en, household_form.not_a_number, field = en),
    )
}

fn required(field: &str) -> FieldError {
    let (vi, en) = field_label(field);
    FieldError::new(
        field,
        "required",
        td_string!(Locale::vi, household_form.required, field = vi),
        td_string!(Locale::en, household_form.required, field = en),
    )
}

impl FormState {
    fn from_household(h: Option<Household>) -> FormState {
        let h = h.as_ref();
        let num = |v: Option<i64>| RwSignal::new(v.map(|v| v.to_string()).unwrap_or_default());
        FormState {
            head_name: RwSignal::new(h.map(|h| h.head_name.clone()).unwrap_or_default()),
            village: RwSignal::new(h.map(|h| h.village.clone()).unwrap_or_default()),
            area: RwSignal::new(h.map_or(Area::Rural, |h| h.area)),
            members: num(h.map(|h| h.members)),
            working_age_members: num(h.map(|h| h.working_age_members)),
            children_under_16: num(h.map(|h| h.children_under_16)),
            members_16_to_30: num(h.map(|h| h.members_16_to_30)),
            income: num(h.map(|h| h.income_per_person_month)),
            floor_area: num(h.and_then(|h| h.floor_area_m2)),
            deprivations: RwSignal::new(h.map(|h| h.deprivations.clone()).unwrap_or_default()),
            position: RwSignal::new(None),
            photos: RwSignal::new(Vec::new()),
        }
    }

    fn draft(&self) -> FormDraft {
        FormDraft {
            head_name: self.head_name.get(),
            village: self.village.get(),
            area: self.area.get(),
            members: self.members.get(),
            working_age_members: self.working_age_members.get(),
            children_under_16: self.children_under_16.get(),
            members_16_to_30: self.members_16_to_30.get(),
            income: self.income.get(),
            floor_area: self.floor_area.get(),
            deprivations: self.deprivations.get(),
            position: self.position.get(),
            photos: self.photos.get(),
            saved_at: 0.0,
        }
    }

    fn restore(&self, d: &FormDraft) {
        self.head_name.set(d.head_name.clone());
        self.village.set(d.village.clone());
        self.area.set(d.area);
        self.members.set(d.members.clone());
        self.working_age_members.set(d.working_age_members.clone());
        self.children_under_16.set(d.children_under_16.clone());
        self.members_16_to_30.set(d.members_16_to_30.clone());
        self.income.set(d.income.clone());
        self.floor_area.set(d.floor_area.clone());
        self.deprivations.set(d.deprivations.clone());
        self.position.set(d.position);
        self.photos.set(d.photos.clone());
    }

    /// Puts a stored value into the form (the officer picked it to settle a conflict).
    fn set_field(&self, field: &str, value: &serde_json::Value) {
        let text = || match value {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        match field {
            "head_name" => self.head_name.set(text()),
            "village" => self.village.set(text()),
            "area" => {
                if let Ok(area) = serde_json::from_value::<Area>(value.clone()) {
                    self.area.set(area);
                }
            }
            "members" => self.members.set(text()),
            "working_age_members" => self.working_age_members.set(text()),
            "children_under_16" => self.children_under_16.set(text()),
            "members_16_to_30" => self.members_16_to_30.set(text()),
            "income_per_person_month" => self.income.set(text()),
            "floor_area_m2" => self.floor_area.set(text()),
            other => {
                if let Some(d) = Deprivation::ALL.into_iter().find(|d| d.field() == other) {
                    let on = value.as_bool().unwrap_or(false);
                    self.deprivations.update(|ds| {
                        ds.retain(|x| *x != d);
                        if on {
                            ds.push(d);
                        }
                    });
                }
            }
        }
    }

    /// The household typed so far, or what keeps it from being one, then the domain's own checks.
    fn household(&self) -> (Option<Household>, Vec<FieldError>) {
        let mut errors = Vec::new();
        let mut number = |field: &str, text: String, needed: bool| match parse_whole(&text) {
            Ok(Some(v)) => Some(v),
            Ok(None) => {
                if needed {
                    errors.push(required(field));
                }
                None
            }
            Err(_) => {
                errors.push(not_a_number(field));
                None
            }
        };
        let members = number("members", self.members.get(), true);
        let working = number("working_age_members", self.working_age_members.get(), false);
        let children = number("children_under_16", self.children_under_16.get(), false);
        let young = number("members_16_to_30", self.members_16_to_30.get(), false);
        let income = number("income_per_person_month", self.income.get(), true);
        let floor = number("floor_area_m2", self.floor_area.get(), false);
        let (Some(members), Some(income)) = (members, income) else {
            return (None, errors);
        };
        let household = Household {
            head_name: self.head_name.get().trim().to_string(),
            village: self.village.get().trim().to_string(),
            area: self.area.get(),
            members,
            working_age_members: working.unwrap_or(0),
            children_under_16: children.unwrap_or(0),
            members_16_to_30: young.unwrap_or(0),
            income_per_person_month: income,
            floor_area_m2: floor,
            deprivations: self.deprivations.get(),
        };
        errors.extend(household.validate());
        (Some(household), errors)
    }
}

const DIMENSIONS: [Dimension; 6] = [
    Dimension::Employment,
    Dimension::Health,
    Dimension::Education,
    Dimension::Housing,
    Dimension::WaterSanitation,
    Dimension::Information,
];

#[component]
pub fn HouseholdForm(
    selection: Selection,
    existing: Option<LocalRecord>,
    on_done: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let status = expect_context::<crate::sync::SyncStatus>();
    let form = FormState::from_household(
        existing
            .as_ref()
            .and_then(|l| Household::from_fields(&l.record.fields).ok()),
    );
    form.position.set(
        existing
            .as_ref()
            .and_then(|l| l.record.fields.get(POSITION))
            .and_then(|p| serde_json::from_value::<Position>(p.clone()).ok()),
    );
    form.photos.set(
        existing
            .as_ref()
            .and_then(|l| l.record.fields.get(PHOTOS))
            .and_then(|p| serde_json::from_value::<Vec<String>>(p.clone()).ok())
            .unwrap_or_default(),
    );
    let photo_unit = selection.commune.to_string();
    // a new household's id is made now, so photos taken before the first save can name it
    let record_id = StoredValue::new(existing.as_ref().map_or_else(
        || RecordId(crate::services().device.new_id()),
        |l| l.record.id,
    ));
    let edits = crate::current_role().is_none_or(|r| r.edits());
    let tried = RwSignal::new(false);
    let saving = RwSignal::new(false);
    let save_error = RwSignal::new(None::<String>);
    // what the server said last time, shown until the officer saves a new version
    let server_errors = existing
        .as_ref()
        .filter(|l| l.sync == SyncState::NeedsFix)
        .map(|l| l.errors.clone())
        .unwrap_or_default();
    let server_errors = StoredValue::new(server_errors);
    let conflicts = existing
        .as_ref()
        .map(|l| l.record.conflicts.clone())
        .unwrap_or_default();
    // Drafts: what is typed is kept on the device as the officer types (after a short pause), so a
    // closed tab, a flat battery or an app update loses nothing; opening the form again brings it back.
    let key = StoredValue::new(draft_key(existing.as_ref(), &selection));
    let pristine = StoredValue::new(form.draft());
    let restored_at = RwSignal::new(None::<f64>);
    let ready = RwSignal::new(false); // no draft writes until the stored one has been read
    if edits {
        leptos::task::spawn_local(async move {
            // drafts written before version 3 of the app were the bare form, with its time inside
            let found = match crate::drafts::load::<FormDraft>(&key.get_value()).await {
                // what was typed, over the household as stored now (a colleague's sync may have
                // changed the fields the officer did not touch)
                Some(draft) => Some((pristine.with_value(|p| draft.over(p)), draft.saved_at)),
                None => crate::services()
                    .store
                    .meta::<FormDraft>(&key.get_value())
                    .await
                    .ok()
                    .flatten()
                    .map(|d| {
                        let at = d.saved_at;
                        (d, at)
                    }),
            };
            if let Some((draft, saved_at)) = found {
                form.restore(&draft);
                restored_at.set(Some(saved_at));
            }
            ready.set(true);
        });
    }
    let dirty = Memo::new(move |_| {
        let mut now = form.draft();
        now.saved_at = 0.0;
        pristine.with_value(|p| *p != now)
    });
    crate::drafts::use_autosave(
        key.get_value(),
        move || form.draft(),
        move || Some(pristine.get_value()),
        Signal::derive(move || edits && dirty.get()),
        Signal::derive(move || edits && ready.get()),
    );
    // leaving with unsaved changes asks first
    let leave_now = move || {
        let question = tu_string!(i18n, household_form.discard_question);
        if crate::drafts::may_leave(edits && dirty.get_untracked(), question, &key.get_value()) {
            on_done.run(());
        }
    };
    // the device's back button leaves the same way, asking first
    // (the closure is Copy: both take their own)
    crate::browser::back_button::use_back_button(leave_now);
    let leave = move |_| leave_now();
    let existing = StoredValue::new(existing);
    // the officer's picks for conflicted fields: field → value (None: what is typed in the form)
    let chosen = RwSignal::new(Vec::<(String, Option<serde_json::Value>)>::new());
    let on_pick = Callback::new(move |(field, value): (String, Option<serde_json::Value>)| {
        if let Some(value) = &value {
            form.set_field(&field, value);
        }
        chosen.update(|c| {
            c.retain(|(f, _)| *f != field);
            c.push((field, value));
        });
    });

    let checked = Memo::new(move |_| form.household());
    let field_errors = move |field: &'static str| {
        let mut shown: Vec<String> = Vec::new();
        if tried.get() {
            shown.extend(
                checked
                    .get()
                    .1
                    .iter()
                    .filter(|e| e.field == field)
                    .map(|e| e.message(lang.get()).to_string()),
            );
        }
        server_errors.with_value(|errors| {
            shown.extend(
                errors
                    .iter()
                    .filter(|e| e.field == field)
                    .map(|e| e.message(lang.get()).to_string()),
            );
        });
        shown
    };
    let error_view = move |field: &'static str| {
        move || {
            field_errors(field)
                .into_iter()
                .map(|m| view! { <span class="field-error" role="alert" data-testid=format!("error-{field}")>{m}</span> })
                .collect_view()
        }
    };
    let text_input = move |field: &'static str, signal: RwSignal<String>, numeric: bool| {
        let (vi, en) = field_label(field);
        view! {
            <label class="field">
                <span>{move || pick(lang.get(), vi, en)}</span>
                <input type="text" inputmode=if numeric { "numeric" } else { "text" } name=field
                    prop:value=move || signal.get() on:input=move |ev| signal.set(event_target_value(&ev))/>
                {error_view(field)}
            </label>
        }
    };

    // what the typed income is in words, beside the lines that classify it
    let income_hint = move || {
        let lang = lang.get();
        let money = |vnd: i64| thidua_domain::format::money(vnd, lang);
        let area = form.area.get();
        let (poverty_line, upper) = (
            money(area.lines().poverty_line),
            money(area.lines().average_upper),
        );
        let lines = match area {
            Area::Rural => t_string!(i18n, household_form.income_lines_rural, poverty_line, upper),
            Area::Urban => t_string!(i18n, household_form.income_lines_urban, poverty_line, upper),
        };
        match parse_whole(&form.income.get()) {
            Ok(Some(income)) if income >= 0 => {
                let amount = money(income);
                format!(
                    "{} {lines}",
                    t_string!(i18n, household_form.income_per_month, amount)
                )
            }
            _ => lines,
        }
    };

    let save = move |_| {
        tried.set(true);
        let (household, errors) = checked.get_untracked();
        let Some(household) = household.filter(|_| errors.is_empty()) else {
            save_error.set(Some(tu_string!(i18n, household_form.fix_fields).into()));
            return;
        };
        saving.set(true);
        let selection = selection.clone();
        let picks = chosen.get_untracked();
        let resolved: BTreeSet<String> = picks.iter().map(|(f, _)| f.clone()).collect();
        let delete_chosen = picks
            .iter()
            .any(|(f, v)| f == DELETED_FIELD && v.as_ref().and_then(|v| v.as_bool()) == Some(true));
        leptos::task::spawn_local(async move {
            let services = crate::services();
            let existing = existing.get_value();
            let saved = match (&existing, delete_chosen) {
                (Some(seen), true) => {
                    crate::households::delete_household(
                        &services.store,
                        &services.device,
                        seen,
                        resolved,
                    )
                    .await
                }
                _ => {
                    let position = form
                        .position
                        .get_untracked()
                        .and_then(|p| serde_json::to_value(p).ok())
                        .unwrap_or(serde_json::Value::Null);
                    let photos = form.photos.get_untracked();
                    let photos = if photos.is_empty() {
                        serde_json::Value::Null
                    } else {
                        serde_json::Value::from(photos)
                    };
                    crate::households::save_household_with(
                        &services.store,
                        &services.device,
                        existing.as_ref(),
                        record_id.get_value(),
                        &selection.commune,
                        &selection.period,
                        &household,
                        [
                            (POSITION.to_string(), position),
                            (PHOTOS.to_string(), photos),
                        ]
                        .into_iter()
                        .collect(),
                        resolved,
                    )
                    .await
                }
            };
            match saved {
                Ok(_) => {
                    let _ = services.store.delete_meta(&key.get_value()).await;
                    // the badge counts the new change at once, even before sync tries to send it
                    crate::sync::refresh_counts(&services.store, status).await;
                    services.trigger.fire();
                    on_done.run(());
                }
                Err(e) => save_error.set(Some(e.message(lang.get_untracked()))),
            }
            saving.set(false);
        });
    };
    let delete = move |_| {
        let Some(local) = existing.get_value() else {
            return;
        };
        let question = tu_string!(i18n, household_form.delete_question);
        if !crate::drafts::confirm(question) {
            return;
        }
        leptos::task::spawn_local(async move {
            let services = crate::services();
            match crate::households::delete_household(
                &services.store,
                &services.device,
                &local,
                BTreeSet::new(),
            )
            .await
            {
                Ok(_) => {
                    services.trigger.fire();
                    on_done.run(());
                }
                Err(e) => save_error.set(Some(e.message(lang.get_untracked()))),
            }
        });
    };

    view! {
        <section class="card form" data-testid="household-form">
            <h2>{move || if existing.with_value(|e| e.is_some()) { t_string!(i18n, household_form.title_edit) } else { t_string!(i18n, household_form.title_add) }}</h2>
            {move || restored_at.get().map(|at| view! {
                <p class="notice" role="status" data-testid="draft-restored">
                    {move || t_string!(i18n, household_form.draft_restored, time = crate::components::sync_badge::date_time(at, lang.get()))}
                    {t!(i18n, household_form.draft_choice)}
                </p>
            })}
            {(!server_errors.with_value(|e| e.is_empty())).then(|| view! {
                <p class="notice error" role="alert" data-testid="needs-fix-notice">
                    {t!(i18n, household_form.server_refused)}
                </p>
            })}
            {(!conflicts.is_empty()).then(|| view! {
                <ConflictPanel conflicts=conflicts.clone() this_device=crate::services().device.id
                    chosen=chosen editable=edits on_pick=on_pick/>
            })}
            {text_input("head_name", form.head_name, false)}
            {text_input("village", form.village, false)}
            <fieldset class="field">
                <legend>{t!(i18n, area.label)}</legend>
                {[Area::Rural, Area::Urban].into_iter().map(|a| view! {
                    <label class="radio">
                        <input type="radio" name="area" prop:checked=move || form.area.get() == a on:change=move |_| form.area.set(a)/>
                        {move || if a == Area::Rural { t_string!(i18n, area.rural) } else { t_string!(i18n, area.urban) }}
                    </label>
                }).collect_view()}
            </fieldset>
            {text_input("members", form.members, true)}
            {text_input("working_age_members", form.working_age_members, true)}
            {text_input("children_under_16", form.children_under_16, true)}
            {text_input("members_16_to_30", form.members_16_to_30, true)}
            {text_input("income_per_person_month", form.income, true)}
            <p class="hint" data-testid="income-hint">{income_hint}</p>
            {text_input("floor_area_m2", form.floor_area, true)}
            <fieldset class="field position" data-testid="position">
                <legend>{t!(i18n, household_form.position)}</legend>
                <PositionField position=form.position editable=edits/>
            </fieldset>
            <fieldset class="field">
                <legend>{t!(i18n, household_form.photos)}</legend>
                <PhotoEvidence unit=photo_unit record_id=record_id.get_value().to_string()
                    photos=form.photos name="household".to_string() editable=edits/>
            </fieldset>
            <h3>{t!(i18n, household_form.deprivations)}</h3>
            {DIMENSIONS.into_iter().map(|dim| view! {
                <fieldset class="dimension">
                    <legend>{move || pick(lang.get(), dim.label_vi(), dim.label_en())}</legend>
                    {Deprivation::ALL.into_iter().filter(|d| d.dimension() == dim).map(|d| view! {
                        <label class="check">
                            <input type="checkbox" name=d.field()
                                prop:checked=move || form.deprivations.with(|ds| ds.contains(&d))
                                on:change=move |_| form.deprivations.update(|ds| if let Some(i) = ds.iter().position(|x| *x == d) { ds.remove(i); } else { ds.push(d); })/>
                            {move || pick(lang.get(), d.label_vi(), d.label_en())}
                        </label>
                        {error_view(d.field())}
                    }).collect_view()}
                </fieldset>
            }).collect_view()}
            {move || save_error.get().map(|e| view! { <p class="notice error" role="alert">{e}</p> })}
            <div class="formbar">
                <div class="live" data-testid="classification">
                    {move || match checked.get() {
                        (Some(h), _) => {
                            let c = h.classification();
                            view! {
                                <span class=crate::pages::households::class_badge(c)>{pick(lang.get(), c.label_vi(), c.label_en())}</span>
                                <small>{t_string!(i18n, household_form.deprivation_count, n = h.deprivation_count())}</small>
                            }.into_any()
                        }
                        (None, _) => view! { <small>{t!(i18n, household_form.classify_hint)}</small> }.into_any(),
                    }}
                </div>
                <div class="actions">
                {edits.then(|| view! {
                    <button class="primary big" on:click=save disabled=move || saving.get() data-testid="save">{t!(i18n, common.save)}</button>
                })}
                {(!edits).then(|| view! { <span class="notice" data-testid="read-only">{t!(i18n, household_form.read_only)}</span> })}
                <button class="big" on:click=leave data-testid="cancel">{move || if edits { t_string!(i18n, common.cancel) } else { t_string!(i18n, common.back) }}</button>
                {(edits && existing.with_value(|e| e.is_some())).then(|| view! {
                    <button class="danger" on:click=delete data-testid="delete">{t!(i18n, household_form.delete)}</button>
                })}
                </div>
            </div>
        </section>
    }
}
