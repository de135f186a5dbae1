//! A commune's households for the review year, read from the device.

use leptos::prelude::*;
use thidua_domain::poverty::{Classification, Household};

use super::Selection;
use crate::i18n::{t, tr, UiLang};
use crate::storage::{LocalRecord, SyncState};
use crate::sync::SyncStatus;

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
) -> impl IntoView {
    let status = expect_context::<SyncStatus>();
    let lang = expect_context::<UiLang>().0;
    let edits = crate::current_role().is_none_or(|r| r.edits());
    let households = RwSignal::new(Vec::<LocalRecord>::new());
    let load_error = RwSignal::new(None::<String>);
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
        });
    });

    view! {
        <section class="card">
            <div class="row">
                <h2 data-testid="commune-name">{commune_name}" — "{selection.period.as_str().to_string()}</h2>
                <button on:click=move |_| on_change_commune.run(())>{t("Đổi xã", "Change commune")}</button>
            </div>
            {edits.then(|| view! {
                <button class="primary big" on:click=move |_| on_edit.run(None) data-testid="add-household">
                    {t("+ Thêm hộ", "+ Add household")}
                </button>
            })}
            {crate::current_role().map(|role| view! {
                <crate::components::submission::SubmissionPanel selection=selection.clone() role=role/>
            })}
            {move || load_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <p class="count" data-testid="household-count">
                {move || format!("{} {}", households.get().len(), t("hộ", "households")())}
            </p>
            <ul class="households" data-testid="households">
                <For each=move || households.get() key=|l| (l.id.clone(), l.record.revision, l.sync, serde_json::to_string(&l.record.fields).unwrap_or_default()) let:local>
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
        </section>
    }
}
