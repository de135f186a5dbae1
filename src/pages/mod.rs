//! The screens. They render and wire; the rules live in `thidua_domain`, the data in `storage`.

pub mod assessment;
pub mod communes;
pub mod dashboard;
pub mod examples;
pub mod households;
pub mod print_report;
pub mod report;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::Period;

use crate::storage::LocalRecord;

const META_SELECTION: &str = "selection";

/// The commune and review period the officer works on; kept on the device so a reload returns to it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub commune: UnitCode,
    pub period: Period,
}

#[derive(Clone, PartialEq)]
pub enum Screen {
    /// Choose a commune (and the review year).
    Communes,
    Households,
    /// Add (None) or edit a household.
    Edit(Option<LocalRecord>),
    /// The commune's NTM self-assessment for the year.
    Assessment,
    /// The commune's report for the directive's targets.
    Report,
    /// The commune's advanced examples (điển hình tiên tiến) and their commendations.
    Examples,
    /// The supervisors' dashboard (needs the network).
    Dashboard,
    /// The printable report to the Chairman, for the dashboard's query.
    Print(dashboard::Query),
}

/// The unit a supervisor's dashboard opens on: their own (a district, or the province).
fn home_unit() -> String {
    use_context::<crate::CurrentUser>()
        .and_then(|u| u.0.get_untracked())
        .map_or_else(|| "14".to_string(), |u| u.org_unit)
}

#[component]
pub fn Main() -> impl IntoView {
    let screen = RwSignal::new(Screen::Communes);
    let selection = RwSignal::new(None::<Selection>);
    // return to the commune chosen before the reload
    leptos::task::spawn_local(async move {
        if let Ok(Some(saved)) = crate::services()
            .store
            .meta::<Selection>(META_SELECTION)
            .await
        {
            selection.set(Some(saved));
            screen.set(Screen::Households);
        }
    });
    // an open form holds back a pending app update until it is saved or cancelled
    let open_forms = use_context::<crate::components::device_panel::OpenForms>();
    let go = move |next: Screen| {
        if let Some(open) = open_forms {
            open.0.set(u32::from(matches!(
                next,
                Screen::Edit(_) | Screen::Assessment | Screen::Report | Screen::Examples
            )));
        }
        screen.set(next);
    };
    let choose = Callback::new(move |chosen: Selection| {
        selection.set(Some(chosen.clone()));
        screen.set(Screen::Households);
        leptos::task::spawn_local(async move {
            let _ = crate::services()
                .store
                .set_meta(META_SELECTION, &chosen)
                .await;
        });
    });
    view! {
        <main>
            {move || match (screen.get(), selection.get()) {
                (Screen::Dashboard, _) => view! {
                    <dashboard::Dashboard unit=home_unit() on_back=Callback::new(move |_| go(Screen::Communes))
                        on_print=Callback::new(move |q| go(Screen::Print(q)))
                        on_examples=Callback::new(move |(commune, period): (String, String)| {
                            // the commune's own register, on the device: its photos, and the commend buttons
                            if let (Ok(commune), Ok(period)) = (UnitCode::parse(&commune), Period::parse(&period)) {
                                choose.run(Selection { commune, period });
                                go(Screen::Examples);
                            }
                        })/>
                }.into_any(),
                (Screen::Print(query), _) => view! {
                    <print_report::PrintReport query=query on_back=Callback::new(move |_| go(Screen::Dashboard))/>
                }.into_any(),
                (Screen::Communes, _) | (_, None) => view! {
                    <communes::CommunePicker on_choose=choose on_dashboard=Callback::new(move |_| go(Screen::Dashboard))/>
                }.into_any(),
                (Screen::Households, Some(sel)) => view! {
                    <households::HouseholdList selection=sel
                        on_change_commune=Callback::new(move |_| go(Screen::Communes))
                        on_edit=Callback::new(move |r: Option<LocalRecord>| go(Screen::Edit(r)))
                        on_assessment=Callback::new(move |_| go(Screen::Assessment))
                        on_report=Callback::new(move |_| go(Screen::Report))
                        on_examples=Callback::new(move |_| go(Screen::Examples))/>
                }.into_any(),
                (Screen::Report, Some(sel)) => view! {
                    <report::IndicatorReport selection=sel on_back=Callback::new(move |_| go(Screen::Households))/>
                }.into_any(),
                (Screen::Examples, Some(sel)) => view! {
                    <examples::ExampleRegister selection=sel on_back=Callback::new(move |_| go(Screen::Households))/>
                }.into_any(),
                (Screen::Assessment, Some(sel)) => view! {
                    <assessment::NtmAssessment selection=sel on_back=Callback::new(move |_| go(Screen::Households))/>
                }.into_any(),
                (Screen::Edit(existing), Some(sel)) => view! {
                    <crate::components::household_form::HouseholdForm selection=sel existing=existing
                        on_done=Callback::new(move |_| go(Screen::Households))/>
                }.into_any(),
            }}
        </main>
    }
}
