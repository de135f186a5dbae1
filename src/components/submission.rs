//! Sending a commune's review to the district for approval, and the district's answer (duyệt /
//! trả lại). The state shown is what the server last said; an officer with no signal, or with
//! changes still on the device, asks anyway and the request waits for the next sync
//! ([`crate::submissions`]).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::api::{get_json, post_json, ApiError};
use crate::i18n::{t, t_string, ui_lang, use_i18n};
use crate::pages::Selection;
use crate::session::Role;
use crate::sync::SyncStatus;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Submission {
    pub id: String,
    pub org_unit: String,
    pub period: String,
    pub data_set: String,
    /// submitted | accepted | returned
    pub state: String,
    pub note: Option<String>,
    pub record_count: i64,
}

#[derive(Deserialize)]
struct SubmissionList {
    submissions: Vec<Submission>,
}

#[derive(Serialize)]
struct NewSubmission<'a> {
    org_unit: &'a str,
    period: &'a str,
    data_set: &'a str,
}

#[derive(Serialize)]
struct Decision {
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

fn token() -> String {
    crate::services().session.borrow().token.clone()
}

async fn fetch(selection: &Selection, data_set: &str) -> Result<Option<Submission>, ApiError> {
    let path = format!("/api/submissions?period={}", selection.period.as_str());
    let list: SubmissionList = get_json(&path, &token(), 30_000).await?;
    Ok(list
        .submissions
        .into_iter()
        .find(|s| s.org_unit == selection.commune.as_str() && s.data_set == data_set))
}

#[component]
pub fn SubmissionPanel(
    selection: Selection,
    role: Role,
    /// "household" (the poverty review) or "ntm_assessment".
    #[prop(default = "household")]
    data_set: &'static str,
) -> impl IntoView {
    let status = expect_context::<SyncStatus>();
    let current = RwSignal::new(None::<Submission>);
    let loaded = RwSignal::new(false);
    // the server was asked (answered or not): before that the state shown is not known yet
    let asked = RwSignal::new(false);
    let message = RwSignal::new(None::<ApiError>);
    let i18n = use_i18n();
    let lang = ui_lang();
    let reason = RwSignal::new(String::new());
    let selection = StoredValue::new(selection);
    // this report's request waits on the device for the network
    let queued = RwSignal::new(false);
    let this_request = move || {
        let sel = selection.get_value();
        crate::submissions::Queued {
            org_unit: sel.commune.to_string(),
            period: sel.period.as_str().to_string(),
            data_set: data_set.to_string(),
        }
    };

    let reload = move || {
        leptos::task::spawn_local(async move {
            match fetch(&selection.get_value(), data_set).await {
                Ok(found) => {
                    current.set(found);
                    loaded.set(true);
                }
                // no signal: the sync badge says so, and asking still works (it waits)
                Err(ApiError::Unreachable) => {}
                Err(e) => message.set(Some(e)),
            }
            asked.set(true);
        })
    };
    Effect::new(move |_| {
        status.last_sync.track(); // look again after each sync
        reload();
        leptos::task::spawn_local(async move {
            let waiting = crate::submissions::queued(&crate::services().store).await;
            queued.set(waiting.contains(&this_request()));
        });
    });

    let submit = move |_| {
        message.set(None);
        // no answer from the server yet, or changes still to send: the request waits for the sync
        if !loaded.get_untracked() || status.pending.get_untracked() > 0 {
            leptos::task::spawn_local(async move {
                let services = crate::services();
                match crate::submissions::queue(&services.store, this_request()).await {
                    Ok(()) => {
                        queued.set(true);
                        services.trigger.fire();
                    }
                    Err(e) => {
                        message.set(Some(ApiError::Unreadable(e.message(lang.get_untracked()))))
                    }
                }
            });
            return;
        }
        leptos::task::spawn_local(async move {
            let sel = selection.get_value();
            let body = NewSubmission {
                org_unit: sel.commune.as_str(),
                period: sel.period.as_str(),
                data_set,
            };
            match post_json::<_, Submission>("/api/submissions", &body, Some(&token()), 30_000)
                .await
            {
                Ok(s) => current.set(Some(s)),
                Err(e) => message.set(Some(e)),
            }
        });
    };
    let decide = move |action: &'static str| {
        message.set(None);
        let Some(id) = current.get_untracked().map(|s| s.id) else {
            return;
        };
        let note = Some(reason.get_untracked().trim().to_string()).filter(|n| !n.is_empty());
        leptos::task::spawn_local(async move {
            let path = format!("/api/submissions/{id}/{action}");
            match post_json::<_, Submission>(&path, &Decision { note }, Some(&token()), 30_000)
                .await
            {
                Ok(s) => {
                    current.set(Some(s));
                    reason.set(String::new());
                }
                Err(e) => message.set(Some(e)),
            }
        });
    };

    // what the count counts: households for the review, records for an assessment
    let households = data_set == "household";
    let state_text = move || match current.get() {
        None => t_string!(i18n, submission.not_sent).to_string(),
        Some(s) => {
            let n = s.record_count;
            match s.state.as_str() {
                "submitted" if households => t_string!(i18n, submission.submitted_households, n),
                "submitted" => t_string!(i18n, submission.submitted_records, n),
                "accepted" if households => t_string!(i18n, submission.accepted_households, n),
                "accepted" => t_string!(i18n, submission.accepted_records, n),
                "returned" => {
                    t_string!(i18n, submission.returned, note = s.note.unwrap_or_default())
                }
                other => other.to_string(),
            }
        }
    };
    let state_is =
        move |state: &str| current.with(|c| c.as_ref().is_some_and(|s| s.state == state));
    let can_submit = move || current.with(|c| c.as_ref().is_none_or(|s| s.state == "returned"));

    view! {
        <div class="submission" data-testid="submission">
            <p data-testid="submission-state">{state_text}</p>
            {move || (asked.get() && role == Role::CommuneOfficer && can_submit() && !queued.get()).then(|| view! {
                <button class="primary" on:click=submit data-testid="submit-report">
                    {t!(i18n, submission.send)}
                </button>
                <Show when=move || { status.pending.get() > 0 || !loaded.get() }>
                    <small>{t!(i18n, submission.sync_first)}</small>
                </Show>
            })}
            {move || (role == Role::CommuneOfficer && queued.get()).then(|| view! {
                <p class="notice" role="status" data-testid="submission-queued">{t!(i18n, submission.queued)}</p>
            })}
            // the district decides a submitted report, and may return an approved one (which unlocks
            // the commune's records) with a reason
            {move || (role != Role::CommuneOfficer && (state_is("submitted") || state_is("accepted"))).then(|| view! {
                <label class="field">
                    <span>{t!(i18n, submission.note)}</span>
                    <input type="text" name="decision_note" prop:value=move || reason.get() on:input=move |ev| reason.set(event_target_value(&ev))/>
                </label>
                <div class="actions">
                    <Show when=move || state_is("submitted")>
                        <button class="primary" on:click=move |_| decide("accept") data-testid="accept">{t!(i18n, submission.approve)}</button>
                    </Show>
                    <button class="danger" on:click=move |_| decide("return") data-testid="return">{t!(i18n, submission.send_back)}</button>
                </div>
            })}
            {move || message.get().map(|e| view! { <p class="notice error" role="alert">{e.message(lang.get())}</p> })}
        </div>
    }
}
