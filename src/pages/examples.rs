//! The advanced-example register the directive asks for (điển hình tiên tiến, sáng kiến, mô hình
//! mới): the commune officer records each example with its photos; the district and the province
//! see them and commend them. An example and each commendation are records like any other, saved on
//! the device and synced, so this works offline on both sides.

use leptos::prelude::*;
use thidua_domain::examples::{AdvancedExample, Commendation, CommendationLevel, ExampleKind};
use thidua_domain::poverty::{Position, POSITION};
use thidua_domain::protocol::{DataSet, Fields, RecordId};
use thidua_domain::Lang;

use super::Selection;
use crate::components::photo_evidence::PhotoEvidence;
use crate::components::position_field::PositionField;
use crate::i18n::{pick, t, t_string, tu_string, ui_lang, use_i18n};
use crate::photos::PHOTOS;
use crate::session::Role;
use crate::storage::LocalRecord;
use crate::sync::SyncStatus;

/// The examples of the selected commune and year, each with its commendations.
#[derive(Clone, PartialEq)]
struct Entry {
    local: LocalRecord,
    example: Option<AdvancedExample>,
    commendations: Vec<(CommendationLevel, LocalRecord, Commendation)>,
}

/// Which level a role commends at; None for an officer.
fn commend_level(role: Option<Role>) -> Option<CommendationLevel> {
    match role {
        Some(Role::DistrictSupervisor) => Some(CommendationLevel::District),
        Some(Role::ProvinceAdmin) => Some(CommendationLevel::Province),
        _ => None,
    }
}

fn level_label(level: CommendationLevel, lang: Lang) -> &'static str {
    pick(lang, level.label_vi(), level.label_en())
}

fn kind_label(kind: ExampleKind, lang: Lang) -> &'static str {
    pick(lang, kind.label_vi(), kind.label_en())
}

#[component]
pub fn ExampleRegister(selection: Selection, on_back: Callback<()>) -> impl IntoView {
    let status = expect_context::<SyncStatus>();
    let i18n = use_i18n();
    let role = crate::current_role();
    let officer = matches!(role, Some(Role::CommuneOfficer) | None);
    let level = commend_level(role);
    let entries = RwSignal::new(Vec::<Entry>::new());
    // the example being edited: None = the list; Some(None) = a new one
    let editing = RwSignal::new(None::<Option<LocalRecord>>);
    let sel = StoredValue::new(selection.clone());
    let load = move || {
        leptos::task::spawn_local(async move {
            let commune = sel.with_value(|s| s.commune.to_string());
            let period = sel.with_value(|s| s.period.clone());
            let Ok(records) = crate::services().store.records_of(&commune).await else {
                return;
            };
            let in_period: Vec<LocalRecord> = records
                .into_iter()
                .filter(|l| l.record.period == period && !l.record.deleted)
                .collect();
            let mut list: Vec<Entry> = in_period
                .iter()
                .filter(|l| l.record.data_set == DataSet::AdvancedExample)
                .map(|l| Entry {
                    local: l.clone(),
                    example: AdvancedExample::parse_valid(&l.record.fields).ok(),
                    commendations: Vec::new(),
                })
                .collect();
            for l in in_period
                .iter()
                .filter(|l| l.record.data_set == DataSet::Commendation)
            {
                if let Ok(c) = Commendation::parse_valid(&l.record.fields) {
                    if let Some(e) = list.iter_mut().find(|e| e.local.record.id == c.example) {
                        e.commendations.push((c.level, l.clone(), c));
                    }
                }
            }
            // newest first: the id is a UUIDv7, so it sorts by when the example was first saved
            list.sort_by_key(|e| std::cmp::Reverse(e.local.record.id.0));
            entries.set(list);
        });
    };
    Effect::new(move |_| {
        status.revision.track();
        load();
    });

    view! {
        <section class="card examples" data-testid="examples">
            <div class="row">
                <h2>{t!(i18n, examples.title)}" — "{selection.period.as_str().to_string()}</h2>
                <button class="big" data-testid="examples-back" on:click=move |_| on_back.run(())>{t!(i18n, common.back_to_households)}</button>
            </div>
            {move || match editing.get() {
                Some(existing) => view! {
                    <ExampleForm selection=sel.get_value() existing=existing
                        on_done=Callback::new(move |_| { editing.set(None); load(); })/>
                }.into_any(),
                None => view! {
                    {officer.then(|| view! {
                        <button class="primary big" data-testid="example-add" on:click=move |_| editing.set(Some(None))>
                            {t!(i18n, examples.add)}
                        </button>
                    })}
                    <Show when=move || entries.with(|e| e.is_empty())>
                        <p class="hint">{t!(i18n, examples.none)}</p>
                    </Show>
                    <ul class="example-list">
                        <For each=move || entries.get() key=|e| (e.local.record.id.to_string(), e.local.record.revision, e.commendations.len(), e.local.sync) let:entry>
                            <ExampleCard entry=entry officer=officer level=level
                                on_edit=Callback::new(move |l: LocalRecord| editing.set(Some(Some(l))))
                                on_changed=Callback::new(move |_| load())/>
                        </For>
                    </ul>
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn ExampleCard(
    entry: Entry,
    officer: bool,
    level: Option<CommendationLevel>,
    on_edit: Callback<LocalRecord>,
    on_changed: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let status = expect_context::<SyncStatus>();
    let local = entry.local.clone();
    let id = local.record.id;
    let photos = RwSignal::new(
        local
            .record
            .fields
            .get(PHOTOS)
            .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
            .unwrap_or_default(),
    );
    let mine = level.and_then(|l| entry.commendations.iter().find(|c| c.0 == l).cloned());
    let note = RwSignal::new(mine.as_ref().map(|c| c.2.note.clone()).unwrap_or_default());
    let message = RwSignal::new(None::<Result<String, String>>);
    let mine = StoredValue::new(mine);
    let selection = Selection {
        commune: local.record.org_unit.clone(),
        period: local.record.period.clone(),
    };
    let selection = StoredValue::new(selection);
    let commend = move |withdraw: bool| {
        let Some(level) = level else { return };
        leptos::task::spawn_local(async move {
            let c = Commendation {
                example: id,
                level,
                note: note.get_untracked().trim().to_string(),
            };
            let seen = mine.with_value(|m| m.as_ref().map(|m| m.1.clone()));
            let result = crate::records::save_record(
                &selection.get_value(),
                DataSet::Commendation,
                c.record_id(),
                seen.as_ref(),
                if withdraw {
                    Fields::new()
                } else {
                    c.to_fields()
                },
                withdraw,
                status,
            )
            .await;
            message.set(Some(crate::records::outcome_message(
                &result,
                lang.get_untracked(),
            )));
            on_changed.run(());
        });
    };
    let example = entry.example.clone();
    let commendations = entry.commendations.clone();
    let edit_local = local.clone();
    view! {
        <li class="example" data-testid="example" data-id=id.to_string()>
            {match example {
                Some(e) => view! {
                    <p class="badge average">{move || kind_label(e.kind, lang.get())}</p>
                    <h3 data-testid="example-title">{e.title.clone()}</h3>
                    <p><strong>{t!(i18n, examples.holder_is)}</strong>{e.holder.clone()}</p>
                    <p><strong>{t!(i18n, examples.field_is)}</strong>{e.field.clone()}</p>
                    <p class="description">{e.description.clone()}</p>
                    {e.position.map(|p| view! {
                        <p data-testid="example-position"><strong>{t!(i18n, examples.position_is)}</strong>
                            {move || format!("{}, {} (± {} m)", crate::i18n::decimal(p.lat, 5, lang.get()), crate::i18n::decimal(p.lon, 5, lang.get()), p.accuracy_m.round())}
                        </p>
                    })}
                }.into_any(),
                None => view! { <p class="notice warn">{t!(i18n, examples.incomplete)}</p> }.into_any(),
            }}
            <PhotoEvidence unit=local.record.org_unit.to_string() record_id=id.to_string() photos=photos
                name=format!("example-{id}") editable=false/>
            <ul class="commendations" data-testid="commendations">
                {commendations.into_iter().map(|(l, _, c)| view! {
                    <li class="badge above" data-testid=format!("commended-{}", l.as_str())>
                        {move || level_label(l, lang.get())}
                        {(!c.note.is_empty()).then(|| format!(": {}", c.note))}
                    </li>
                }).collect_view()}
            </ul>
            {officer.then(|| view! {
                <button class="big" data-testid="example-edit" on:click=move |_| on_edit.run(edit_local.clone())>{t!(i18n, examples.edit)}</button>
            })}
            {level.map(|level| view! {
                <div class="commend">
                    <label class="field">
                        <span>{move || t_string!(i18n, examples.note, level = level_label(level, lang.get()))}</span>
                        <input type="text" data-testid="commend-note" prop:value=move || note.get()
                            on:input=move |ev| note.set(event_target_value(&ev))/>
                    </label>
                    <div class="actions">
                        <button class="primary big" data-testid="commend" on:click=move |_| commend(false)>
                            {move || if mine.with_value(|m| m.is_some()) { t_string!(i18n, examples.update_commendation) } else { t_string!(i18n, examples.commend) }}
                        </button>
                        {mine.with_value(|m| m.is_some()).then(|| view! {
                            <button class="big" data-testid="commend-withdraw" on:click=move |_| commend(true)>{t!(i18n, examples.withdraw)}</button>
                        })}
                    </div>
                </div>
            })}
            {move || message.get().map(|m| match m {
                Ok(text) => view! { <p class="notice" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="notice error" role="alert">{text}</p> }.into_any(),
            })}
        </li>
    }
}

/// What the officer has typed for an example, as kept in its draft.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct ExampleDraft {
    kind: String,
    title: String,
    holder: String,
    field: String,
    description: String,
    photos: Vec<String>,
    #[serde(default)]
    position: Option<Position>,
}

#[component]
fn ExampleForm(
    selection: Selection,
    existing: Option<LocalRecord>,
    on_done: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let status = expect_context::<SyncStatus>();
    let text = |key: &str| {
        existing
            .as_ref()
            .and_then(|l| l.record.fields.get(key))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let kind = RwSignal::new(text("kind"));
    let title = RwSignal::new(text("title"));
    let holder = RwSignal::new(text("holder"));
    let field = RwSignal::new(text("field"));
    let description = RwSignal::new(text("description"));
    let photos = RwSignal::new(
        existing
            .as_ref()
            .and_then(|l| l.record.fields.get(PHOTOS))
            .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
            .unwrap_or_default(),
    );
    let position = RwSignal::new(
        existing
            .as_ref()
            .and_then(|l| Position::of_fields(&l.record.fields).ok().flatten()),
    );
    let id = existing.as_ref().map_or_else(
        || RecordId(crate::services().device.new_id()),
        |l| l.record.id,
    );
    let draft_now = move || ExampleDraft {
        kind: kind.get(),
        title: title.get(),
        holder: holder.get(),
        field: field.get(),
        description: description.get(),
        photos: photos.get(),
        position: position.get(),
    };
    let pristine = StoredValue::new(draft_now());
    let dirty = Memo::new(move |_| pristine.with_value(|p| *p != draft_now()));
    let draft_key = match &existing {
        Some(l) => format!("draft:example:{}", l.id),
        None => format!(
            "draft:example:new:{}:{}",
            selection.commune,
            selection.period.as_str()
        ),
    };
    let ready = RwSignal::new(false);
    {
        let key = draft_key.clone();
        leptos::task::spawn_local(async move {
            if let Some(d) = crate::drafts::load::<ExampleDraft>(&key).await {
                kind.set(d.value.kind);
                title.set(d.value.title);
                holder.set(d.value.holder);
                field.set(d.value.field);
                description.set(d.value.description);
                photos.set(d.value.photos);
                position.set(d.value.position);
            }
            ready.set(true);
        });
    }
    // an example is new until saved: nothing stored under the draft
    crate::drafts::use_autosave(
        draft_key.clone(),
        draft_now,
        || None,
        dirty.into(),
        ready.into(),
    );
    let errors = RwSignal::new(Vec::<thidua_domain::FieldError>::new());
    let message = RwSignal::new(None::<String>);
    let to_fields = move || {
        let mut f = Fields::new();
        for (key, value) in [
            ("kind", kind.get_untracked()),
            ("title", title.get_untracked()),
            ("holder", holder.get_untracked()),
            ("field", field.get_untracked()),
            ("description", description.get_untracked()),
        ] {
            f.insert(key.into(), serde_json::Value::from(value));
        }
        let p = photos.get_untracked();
        if !p.is_empty() {
            f.insert(PHOTOS.into(), serde_json::Value::from(p));
        }
        if let Some(place) = position.get_untracked() {
            f.insert(
                POSITION.into(),
                serde_json::to_value(place).unwrap_or_default(),
            );
        }
        f
    };
    let existing = StoredValue::new(existing);
    let photo_unit = selection.commune.to_string();
    let key_for_save = draft_key.clone();
    let save = move |_| {
        let fields = to_fields();
        if let Err(found) = AdvancedExample::parse_valid(&fields) {
            errors.set(found);
            message.set(Some(tu_string!(i18n, examples.fix_fields).into()));
            return;
        }
        errors.set(Vec::new());
        let selection = selection.clone();
        let key = key_for_save.clone();
        leptos::task::spawn_local(async move {
            let seen = existing.get_value();
            let result = crate::records::save_record(
                &selection,
                DataSet::AdvancedExample,
                id,
                seen.as_ref(),
                fields,
                false,
                status,
            )
            .await;
            match result {
                Ok(_) => {
                    crate::drafts::discard(key);
                    on_done.run(());
                }
                Err(e) => message.set(Some(e.message(lang.get_untracked()))),
            }
        });
    };
    let key_for_leave = draft_key.clone();
    let leave_now = move || {
        let question = tu_string!(i18n, drafts.discard_example);
        if crate::drafts::may_leave(dirty.get_untracked(), question, &key_for_leave) {
            on_done.run(());
        }
    };
    // the device's back button leaves the same way, asking first
    let leave = {
        let leave_now = leave_now.clone();
        crate::browser::back_button::use_back_button(leave_now.clone());
        move |_| leave_now()
    };
    let error_of = move |name: &'static str| {
        move || {
            errors.with(|es| {
                es.iter()
                    .filter(|e| e.field == name)
                    .map(|e| view! { <span class="field-error" role="alert">{e.message(lang.get()).to_string()}</span> })
                    .collect_view()
            })
        }
    };
    let text_field = move |name: &'static str, label: Signal<String>, value: RwSignal<String>| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input type="text" name=name data-testid=format!("example-{name}") prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))/>
                {error_of(name)}
            </label>
        }
    };
    view! {
        <form class="example-form" data-testid="example-form" on:submit=|ev| ev.prevent_default()>
            <label class="field">
                <span>{t!(i18n, examples.kind)}</span>
                <select name="kind" data-testid="example-kind" prop:value=move || kind.get()
                    on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="">{t!(i18n, examples.choose_kind)}</option>
                    {ExampleKind::ALL.into_iter().map(|k| view! {
                        <option value=k.as_str()>{move || kind_label(k, lang.get())}</option>
                    }).collect_view()}
                </select>
                {error_of("kind")}
            </label>
            {text_field("title", Signal::derive(move || t_string!(i18n, examples.name).to_string()), title)}
            {text_field("holder", Signal::derive(move || t_string!(i18n, examples.holder).to_string()), holder)}
            {text_field("field", Signal::derive(move || t_string!(i18n, examples.field).to_string()), field)}
            <label class="field">
                <span>{t!(i18n, examples.description)}</span>
                <textarea name="description" data-testid="example-description" rows="5" prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                {error_of("description")}
            </label>
            <fieldset class="field">
                <legend>{t!(i18n, examples.photos)}</legend>
                <PhotoEvidence unit=photo_unit record_id=id.to_string() photos=photos name="example".to_string()/>
                {error_of(PHOTOS)}
            </fieldset>
            <fieldset class="field" data-testid="position">
                <legend>{t!(i18n, examples.position)}</legend>
                <PositionField position=position editable=true/>
                {error_of(POSITION)}
            </fieldset>
            {move || message.get().map(|m| view! { <p class="notice error" role="alert">{m}</p> })}
            <div class="formbar"><div class="actions">
                <button type="button" class="primary big" data-testid="example-save" on:click=save>{t!(i18n, common.save)}</button>
                <button type="button" class="big" data-testid="example-cancel" on:click=leave>{t!(i18n, common.cancel)}</button>
            </div></div>
        </form>
    }
}
