//! The supervisors' dashboard (bảng theo dõi thi đua): for the province, a district or a commune and
//! a period, every target of the directive with its actual, progress and status; the NTM picture and
//! the poverty rate against 15.66 %; the units below with their figures, as a table, bars and a map;
//! drill-down province → district → commune → the records behind a figure, and back by the path.
//! The figures are the server's (it holds every commune's records); this screen needs the network.

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::Deserialize;
use serde_json::{json, Value};
use thidua_domain::dashboard::{TargetFigure, UnitFigures};
use thidua_domain::org::UnitCode;
use thidua_domain::targets::TargetStatus;
use thidua_domain::Lang;

use crate::api::{get_json, ApiError};
use crate::charts::{shapes_of_geojson, Shape};
use crate::components::charts::{Bar, BarChart, ChoroplethMap, MapValue, Point, TrendChart};
use crate::components::table_export::{ExportButtons, Table};
use crate::i18n::{pick, t, t_string, td_string, ui_lang, use_i18n, Locale};

/// What `GET /api/dashboard` answers (the parts this screen shows).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct DashboardView {
    pub period: String,
    pub previous_period: Option<String>,
    pub structure: String,
    pub basis: String,
    pub unit: UnitView,
    pub path: Vec<PathUnit>,
    pub children: Vec<UnitView>,
    /// The unit's poverty rate over its last reviews, oldest first.
    #[serde(default)]
    pub trend: Vec<TrendPoint>,
}

/// One review of the poverty trend.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TrendPoint {
    pub period: String,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct PathUnit {
    pub code: String,
    pub full_name: String,
}

/// One unit with its figures, and for a commune the state of its submissions.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct UnitView {
    #[serde(flatten)]
    pub unit: UnitFigures,
    #[serde(default)]
    pub submissions: Option<BTreeMap<String, SubmissionBrief>>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct SubmissionBrief {
    pub state: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// Which dashboard to ask for.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub period: String,
    pub unit: String,
    pub structure: String,
    pub basis: String,
}

impl Query {
    pub fn path(&self) -> String {
        format!(
            "/api/dashboard?period={}&unit={}&structure={}&basis={}",
            self.period, self.unit, self.structure, self.basis
        )
    }
}

pub async fn fetch_dashboard(query: &Query) -> Result<DashboardView, ApiError> {
    let token = crate::services().session.borrow().token.clone();
    get_json(&query.path(), &token, 60_000).await
}

/// A figure written with its unit: "17,85 %", "52,4 triệu đồng/người/năm", "12 xã".
pub fn figure_text(value: Option<f64>, unit: &str, lang: Lang) -> String {
    match value {
        None => "—".into(),
        Some(v) => {
            let decimals = if v.fract().abs() < 1e-9 { 0 } else { 2 };
            let number = crate::i18n::decimal(v, decimals, lang);
            if unit == "%" {
                format!("{number} %")
            } else {
                format!("{number} {unit}")
            }
        }
    }
}

pub fn status_text(status: Option<TargetStatus>, lang: Lang) -> &'static str {
    let locale = Locale::from(lang);
    match status {
        Some(TargetStatus::Met) => td_string!(locale, dashboard.status.met),
        Some(TargetStatus::OnTrack) => td_string!(locale, dashboard.status.on_track),
        Some(TargetStatus::Behind) => td_string!(locale, dashboard.status.behind),
        Some(TargetStatus::NoData) | None => td_string!(locale, dashboard.status.no_data),
    }
}

fn status_class(status: Option<TargetStatus>) -> &'static str {
    match status {
        Some(TargetStatus::Met) => "met",
        Some(TargetStatus::OnTrack) => "on_track",
        Some(TargetStatus::Behind) => "behind",
        _ => "no_data",
    }
}

fn target_of<'a>(unit: &'a UnitFigures, key: &str) -> Option<&'a TargetFigure> {
    unit.figures.targets.iter().find(|t| t.key == key)
}

/// Criteria met: a commune's "17/19"; above it, its assessed communes' total ("52/57"); "—" when none.
fn criteria_met_text(n: &thidua_domain::dashboard::NtmSummary) -> String {
    match &n.commune {
        Some(c) => format!("{}/{}", c.criteria_met, n.criteria_total),
        None if n.assessed > 0 => {
            format!("{}/{}", n.criteria_met_total, n.criteria_total * n.assessed)
        }
        None => "—".to_string(),
    }
}

/// The key of the poverty target, the default picture.
pub const POVERTY: &str = "poverty_rate";

#[component]
pub fn Dashboard(
    /// Where to start: the user's own unit (the province or a district).
    unit: String,
    on_back: Callback<()>,
    on_print: Callback<Query>,
    /// Opens a commune's example register (commune code, period) to see its photos and commend.
    on_examples: Callback<(String, String)>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    // a district supervisor has no unit of its own under the 2025 structure (no districts since
    // 07/2025): there the dashboard starts from the list of new communes its communes went into,
    // asked for with an empty unit
    let home = StoredValue::new(unit.clone());
    let province_home = unit == "14";
    let query = RwSignal::new(Query {
        period: "2023".into(),
        unit,
        structure: "2023".into(),
        basis: "all".into(),
    });
    let data = RwSignal::new(None::<Result<DashboardView, ApiError>>);
    Effect::new(move |_| {
        let q = query.get();
        data.set(None);
        if q.unit.is_empty() {
            return;
        }
        leptos::task::spawn_local(async move {
            let answer = fetch_dashboard(&q).await;
            // an answer for a query the supervisor has since changed is dropped
            if query.get_untracked() == q {
                data.set(Some(answer));
            }
        });
    });
    let chosen_target = RwSignal::new(POVERTY.to_string());
    let tab = RwSignal::new("figures");
    let go_to = move |code: String| {
        query.update(|q| {
            q.unit = if q.structure == "2025" && !province_home && code == "14" {
                String::new()
            } else {
                code
            }
        })
    };

    view! {
        <section class="card dashboard" data-testid="dashboard">
            <div class="row no-print">
                <h2>{t!(i18n, dashboard.title)}</h2>
                <button class="big" data-testid="dashboard-back" on:click=move |_| on_back.run(())>{t!(i18n, dashboard.back)}</button>
            </div>
            <div class="controls no-print">
                <label class="field">
                    <span>{t!(i18n, dashboard.period)}</span>
                    <select data-testid="dashboard-period" on:change=move |ev| { let v = event_target_value(&ev); query.update(|q| q.period = v) }>
                        {["2023", "2024", "2025"].into_iter().map(|y| view! { <option value=y selected=move || query.with(|q| q.period == y)>{y}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>{t!(i18n, dashboard.structure)}</span>
                    <select data-testid="dashboard-structure" on:change=move |ev| {
                        let v = event_target_value(&ev);
                        // the province is the one unit both structures share; a district starts from
                        // its own district (2023) or the new communes of its communes (2025)
                        query.update(|q| {
                            q.unit = match (province_home, v.as_str()) {
                                (true, _) => "14".into(),
                                (false, "2025") => String::new(),
                                (false, _) => home.get_value(),
                            };
                            q.structure = v;
                        })
                    }>
                        <option value="2023" selected=move || query.with(|q| q.structure == "2023")>{t!(i18n, dashboard.structure_2023)}</option>
                        <option value="2025" selected=move || query.with(|q| q.structure == "2025")>{t!(i18n, dashboard.structure_2025)}</option>
                    </select>
                </label>
                <label class="field">
                    <span>{t!(i18n, dashboard.basis)}</span>
                    <select data-testid="dashboard-basis" on:change=move |ev| { let v = event_target_value(&ev); query.update(|q| q.basis = v) }>
                        <option value="all">{t!(i18n, dashboard.basis_all)}</option>
                        <option value="accepted">{t!(i18n, dashboard.basis_accepted)}</option>
                    </select>
                </label>
                <div class="actions">
                    <button class=move || if tab.get() == "figures" { "primary" } else { "" } data-testid="tab-figures" on:click=move |_| tab.set("figures")>{t!(i18n, dashboard.tab_figures)}</button>
                    <button class=move || if tab.get() == "completeness" { "primary" } else { "" } data-testid="tab-completeness" on:click=move |_| tab.set("completeness")>{t!(i18n, dashboard.tab_completeness)}</button>
                    <button class=move || if tab.get() == "examples" { "primary" } else { "" } data-testid="tab-examples" on:click=move |_| tab.set("examples")>{t!(i18n, dashboard.tab_examples)}</button>
                    <button data-testid="print-report" on:click=move |_| on_print.run(query.get_untracked())>{t!(i18n, dashboard.print)}</button>
                </div>
            </div>
            {move || data.with(|d| d.as_ref().and_then(|d| d.as_ref().ok()).map(|d| d.path.clone())).map(|path| view! {
                <nav class="path no-print" aria-label=move || t_string!(i18n, dashboard.path) data-testid="path">
                    {path.into_iter().map(|p| {
                        let code = p.code.clone();
                        view! { <button class="link" on:click=move |_| go_to(code.clone())>{p.full_name}</button><span>" › "</span> }
                    }).collect_view()}
                </nav>
            })}
            {move || match (tab.get(), data.get()) {
                ("completeness", _) if !query.with(|q| q.unit.is_empty()) => view! { <Completeness query=query.get()/> }.into_any(),
                // examples belong to the communes of the records' list: under 2025 the supervisor's own unit
                ("examples", _) => {
                    let q = query.get();
                    let unit = if q.structure == "2023" && !q.unit.is_empty() { q.unit.clone() } else { home.get_value() };
                    view! { <UnitExamples period=q.period.clone() unit=unit on_open=on_examples/> }.into_any()
                }
                (_, None) if query.with(|q| q.unit.is_empty()) => view! {
                    <NewCommunesOfDistrict district=home.get_value() on_open=Callback::new(go_to)/>
                }.into_any(),
                (_, None) => view! { <p class="notice" role="status">{t!(i18n, dashboard.loading)}</p> }.into_any(),
                (_, Some(Err(e))) => view! { <p class="notice error" role="alert">{e.message(lang.get_untracked())}</p> }.into_any(),
                (_, Some(Ok(view))) => view! {
                    <Figures view=view chosen_target=chosen_target on_open=Callback::new(go_to)
                        on_open_source=Callback::new(move |code| query.update(|q| { q.structure = "2023".into(); q.unit = code; }))/>
                }.into_any(),
            }}
        </section>
    }
}

/// One example as `GET /api/examples` lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ListedExample {
    id: String,
    org_unit: String,
    #[serde(default)]
    commune: Option<String>,
    fields: thidua_domain::protocol::Fields,
    #[serde(default)]
    commendations: Vec<thidua_domain::protocol::Fields>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ExamplesView {
    examples: Vec<ListedExample>,
}

/// The advanced examples of every commune under the unit, side by side (điển hình tiên tiến): what
/// each commune reported and who commended it; each opens in its commune's register, where its photos
/// are and where the supervisor commends (on the device, synced like any record).
#[component]
fn UnitExamples(
    period: String,
    unit: String,
    on_open: Callback<(String, String)>,
) -> impl IntoView {
    use thidua_domain::examples::{AdvancedExample, Commendation};
    let i18n = use_i18n();
    let lang = ui_lang();
    let data = RwSignal::new(None::<Result<ExamplesView, ApiError>>);
    {
        let path = format!("/api/examples?period={period}&unit={unit}");
        leptos::task::spawn_local(async move {
            let token = crate::services().session.borrow().token.clone();
            data.set(Some(get_json(&path, &token, 60_000).await));
        });
    }
    move || {
        match data.get() {
        None => view! { <p class="notice" role="status">{t!(i18n, dashboard.loading)}</p> }.into_any(),
        Some(Err(e)) => view! { <p class="notice error" role="alert">{e.message(lang.get_untracked())}</p> }.into_any(),
        Some(Ok(list)) if list.examples.is_empty() => view! {
            <p class="notice" data-testid="unit-examples-none">{t!(i18n, dashboard.examples_none)}</p>
        }.into_any(),
        Some(Ok(list)) => {
            let period = period.clone();
            let count = list.examples.len();
            view! {
                <h3>{move || t_string!(i18n, dashboard.examples_title, n = count)}</h3>
                <ul class="example-list" data-testid="unit-examples">
                    {list.examples.into_iter().map(|e| {
                        let example = AdvancedExample::parse_valid(&e.fields).ok();
                        let commendations: Vec<Commendation> = e.commendations.iter().filter_map(|c| Commendation::parse_valid(c).ok()).collect();
                        let open = (e.org_unit.clone(), period.clone());
                        view! {
                            <li class="example" data-testid="unit-example" data-id=e.id.clone() data-commune=e.org_unit.clone()>
                                <p class="state">{e.commune.clone().unwrap_or_else(|| e.org_unit.clone())}</p>
                                {example.map(|x| view! {
                                    <p class="badge average">{move || pick(lang.get(), x.kind.label_vi(), x.kind.label_en())}</p>
                                    <h4 data-testid="unit-example-title">{x.title.clone()}</h4>
                                    <p><strong>{t!(i18n, examples.holder_is)}</strong>{x.holder.clone()}</p>
                                    <p><strong>{t!(i18n, examples.field_is)}</strong>{x.field.clone()}</p>
                                    {(!x.description.is_empty()).then(|| view! { <p>{x.description.clone()}</p> })}
                                })}
                                <ul class="commendations">
                                    {commendations.into_iter().map(|c| view! {
                                        <li class="badge above" data-testid=format!("unit-commended-{}", c.level.as_str())>
                                            {move || pick(lang.get(), c.level.label_vi(), c.level.label_en())}
                                            {(!c.note.is_empty()).then(|| format!(": {}", c.note))}
                                        </li>
                                    }).collect_view()}
                                </ul>
                                <button class="big" data-testid="open-example-commune" on:click=move |_| on_open.run(open.clone())>
                                    {t!(i18n, dashboard.open_examples)}
                                </button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any()
        }
    }
    }
}

/// Under the 2025 structure, for a district supervisor: the new communes its district's communes went
/// into, each opened with its figures when the district covers every commune it holds; the others
/// (holding communes of another district too) are the province's to see.
#[component]
fn NewCommunesOfDistrict(district: String, on_open: Callback<String>) -> impl IntoView {
    let i18n = use_i18n();
    let catalog = crate::units::catalog();
    let units: Vec<(String, String, bool)> = UnitCode::parse(&district)
        .map(|d| {
            catalog
                .successors_within("sonla-2023", &d, "sonla-2025-07")
                .into_iter()
                .map(|(u, all)| (u.code.to_string(), u.full_name(), all))
                .collect()
        })
        .unwrap_or_default();
    view! {
        <h3>{t!(i18n, dashboard.new_communes)}</h3>
        <p class="notice" role="status">{t!(i18n, dashboard.new_communes_note)}</p>
        <ul class="sources" data-testid="new-communes">
            {units.into_iter().map(|(code, name, all)| {
                let shown = code.clone();
                view! {
                    <li data-testid="new-commune" data-code=shown>
                        <span>{name}</span>
                        {if all {
                            view! { <button class="big" data-testid="open-new-commune" on:click=move |_| on_open.run(code.clone())>{t!(i18n, dashboard.open_unit)}</button> }.into_any()
                        } else {
                            view! { <span class="state" data-testid="shared-commune">{t!(i18n, dashboard.shared_commune)}</span> }.into_any()
                        }}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The figures of one unit and of the units below it.
#[component]
fn Figures(
    view: DashboardView,
    chosen_target: RwSignal<String>,
    on_open: Callback<String>,
    /// Opens a commune of the records' list (the 2023 structure) with its records.
    on_open_source: Callback<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let unit = view.unit.unit.clone();
    let figures = unit.figures.clone();
    let children = StoredValue::new(view.children.clone());
    let targets = StoredValue::new(figures.targets.clone());
    let title = unit.full_name.clone();
    let period = view.period.clone();
    let is_commune = children.with_value(|c| c.is_empty());
    let poverty = figures.poverty.clone();
    let ntm = figures.ntm.clone();

    let targets_table = {
        let title = title.clone();
        let period = period.clone();
        Callback::new(move |_| {
            let lang = lang.get_untracked();
            let locale = Locale::from(lang);
            Table {
                title: format!(
                    "{} — {} {period}",
                    td_string!(locale, dashboard.targets_of),
                    title
                ),
                columns: vec![
                    td_string!(locale, dashboard.col_target).into(),
                    td_string!(locale, dashboard.col_actual).into(),
                    td_string!(locale, dashboard.col_unit).into(),
                    td_string!(locale, dashboard.col_goal).into(),
                    td_string!(locale, dashboard.col_expected).into(),
                    td_string!(locale, dashboard.col_progress).into(),
                    td_string!(locale, dashboard.col_status).into(),
                    td_string!(locale, dashboard.col_reporting).into(),
                ],
                rows: targets.with_value(|ts| {
                    ts.iter()
                        .map(|t| {
                            vec![
                                json!(pick(lang, &t.name_vi, &t.name_en)),
                                json!(t.value),
                                json!(t.unit_vi),
                                json!(t.target),
                                json!(t.expected),
                                json!(t.fraction.map(|f| (f * 1000.0).round() / 10.0)),
                                json!(status_text(t.status, lang)),
                                json!(t.communes_reporting),
                            ]
                        })
                        .collect()
                }),
            }
        })
    };
    let most_missed_table = {
        let title = title.clone();
        let period = period.clone();
        let missed = ntm.most_missed.clone();
        Callback::new(move |_| {
            let lang = lang.get_untracked();
            let locale = Locale::from(lang);
            Table {
                title: format!(
                    "{} — {title} {period}",
                    td_string!(locale, dashboard.most_missed)
                ),
                columns: vec![
                    td_string!(locale, print.col_no).into(),
                    td_string!(locale, dashboard.col_criterion).into(),
                    td_string!(locale, dashboard.col_missed_communes).into(),
                ],
                rows: missed
                    .iter()
                    .map(|c| {
                        vec![
                            json!(c.number),
                            json!(pick(lang, &c.name_vi, &c.name_en)),
                            json!(c.communes),
                        ]
                    })
                    .collect(),
            }
        })
    };
    let children_table = {
        let title = title.clone();
        let period = period.clone();
        Callback::new(move |_| {
            let lang = lang.get_untracked();
            let locale = Locale::from(lang);
            let key = chosen_target.get_untracked();
            Table {
                title: format!(
                    "{} — {} {period}",
                    td_string!(locale, dashboard.units_of),
                    title
                ),
                columns: vec![
                    td_string!(locale, dashboard.col_unit_name).into(),
                    td_string!(locale, dashboard.col_poor).into(),
                    td_string!(locale, dashboard.col_households).into(),
                    td_string!(locale, dashboard.col_poverty_rate).into(),
                    td_string!(locale, dashboard.col_change).into(),
                    td_string!(locale, dashboard.col_ntm).into(),
                    td_string!(locale, dashboard.col_criteria_met).into(),
                    td_string!(locale, dashboard.col_chosen).into(),
                ],
                rows: children.with_value(|cs| {
                    cs.iter()
                        .map(|c| {
                            let f = &c.unit.figures;
                            vec![
                                json!(c.unit.full_name),
                                json!(f.poverty.numerator),
                                json!(f.poverty.denominator),
                                json!(f.poverty.rate),
                                json!(f.poverty.change),
                                json!(f.ntm.at_standard),
                                // as on the screen: "17/19" for a commune, the communes' total above
                                json!(criteria_met_text(&f.ntm)),
                                json!(target_of(&c.unit, &key).and_then(|t| t.value)),
                            ]
                        })
                        .collect()
                }),
            }
        })
    };
    let bars = move || {
        let key = chosen_target.get();
        let lang = lang.get();
        children.with_value(|cs| {
            cs.iter()
                .map(|c| {
                    let t = target_of(&c.unit, &key);
                    Bar {
                        label: c.unit.name.clone(),
                        value: t.and_then(|t| t.value),
                        text: figure_text(
                            t.and_then(|t| t.value),
                            t.map_or("", |t| &t.unit_vi),
                            lang,
                        ),
                        status: status_class(t.and_then(|t| t.status)).into(),
                    }
                })
                .collect::<Vec<_>>()
        })
    };
    let chosen =
        move || targets.with_value(|ts| ts.iter().find(|t| t.key == chosen_target.get()).cloned());
    // the map: districts (2023) or communes (2025), when the deployment loaded boundaries
    let shapes = RwSignal::new(None::<Vec<Shape>>);
    if !is_commune {
        let structure = view.structure.clone();
        leptos::task::spawn_local(async move {
            let token = crate::services().session.borrow().token.clone();
            if let Ok(collection) =
                get_json::<Value>(&format!("/api/boundaries/{structure}"), &token, 60_000).await
            {
                shapes.set(Some(shapes_of_geojson(&collection)));
            }
        });
    }
    let poverty_trend = {
        let trend = view.trend.clone();
        let target = poverty.target;
        move || {
            let lang = lang.get();
            let points: Vec<Point> = trend
                .iter()
                .map(|p| Point {
                    period: p.period.clone(),
                    value: p.rate,
                    text: figure_text(p.rate, "%", lang),
                })
                .collect();
            view! {
                <TrendChart title=t_string!(i18n, dashboard.poverty_trend).to_string() points=points target=target
                    target_text=t_string!(i18n, dashboard.target_line, value = figure_text(target, "%", lang)).to_string()/>
            }
        }
    };

    view! {
        <h3 data-testid="dashboard-unit">{title.clone()}" — "{period.clone()}</h3>
        <div class="summary-cards">
            <div class="summary-card" data-testid="card-poverty">
                <span class="label">{t!(i18n, dashboard.poverty_rate)}</span>
                <strong>{move || figure_text(poverty.rate, "%", lang.get())}</strong>
                <span>{move || t_string!(i18n, dashboard.against, value = figure_text(poverty.target, "%", lang.get()))}</span>
                <span class=format!("badge {}", status_class(poverty.status))>{move || status_text(poverty.status, lang.get())}</span>
                {poverty.change.map(|c| view! {
                    <span data-testid="poverty-change">{move || t_string!(i18n, dashboard.change, value = crate::i18n::decimal(c, 2, lang.get()))}</span>
                })}
            </div>
            <div class="summary-card" data-testid="card-ntm">
                <span class="label">{t!(i18n, dashboard.ntm_at_standard)}</span>
                <strong>{ntm.at_standard}{ntm.target.map(|t| format!(" / {t}"))}</strong>
                <span>{move || t_string!(i18n, dashboard.ntm_assessed, assessed = ntm.assessed, communes = ntm.communes)}</span>
                <span class=format!("badge {}", status_class(ntm.status))>{move || status_text(ntm.status, lang.get())}</span>
            </div>
        </div>
        {poverty_trend}
        <h4>{t!(i18n, dashboard.targets)}</h4>
        <div class="table-wrap">
            <table class="figures" data-testid="targets-table">
                <thead><tr>
                    <th>{t!(i18n, dashboard.col_target)}</th><th>{t!(i18n, dashboard.col_actual)}</th>
                    <th>{t!(i18n, dashboard.col_goal)}</th><th>{t!(i18n, dashboard.col_expected)}</th>
                    <th>{t!(i18n, dashboard.col_progress)}</th><th>{t!(i18n, dashboard.col_status)}</th>
                </tr></thead>
                <tbody>
                    {targets.get_value().into_iter().map(|t| {
                        let key = t.key.clone();
                        let row_id = format!("target-{key}");
                        let (unit_a, unit_b, unit_c) = (t.unit_vi.clone(), t.unit_vi.clone(), t.unit_vi.clone());
                        let (value, goal, direction, expected) = (t.value, t.target, t.direction, t.expected);
                        // the way from the start to the target covered, as a bar and a percentage
                        // (past 100 % the bar stays full; the figure says by how much)
                        let progress = t.fraction.map(|f| (f * 100.0).max(0.0));
                        view! {
                            <tr data-testid=row_id>
                                <td><button class="link" on:click=move |_| chosen_target.set(key.clone())>{move || pick(lang.get(), t.name_vi.clone(), t.name_en.clone())}</button></td>
                                <td class="number" data-testid="actual">{move || figure_text(value, &unit_a, lang.get())}</td>
                                <td class="number">{move || format!("{} {}", if direction == thidua_domain::targets::Direction::AtMost { "≤" } else { "≥" }, figure_text(Some(goal), &unit_b, lang.get()))}</td>
                                <td class="number" data-testid="expected">{move || figure_text(expected, &unit_c, lang.get())}</td>
                                <td class="progress" data-testid="progress">{progress.map(|p| view! {
                                    <progress max="100" value=p.min(100.0)></progress>
                                    " "<span>{move || crate::i18n::decimal((p * 10.0).round() / 10.0, 1, lang.get())}" %"</span>
                                })}{progress.is_none().then_some("—")}</td>
                                <td><span class=format!("badge {}", status_class(t.status))>{move || status_text(t.status, lang.get())}</span></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <ExportButtons table=targets_table name="targets"/>
        {(!ntm.most_missed.is_empty()).then(|| view! {
            <h4>{t!(i18n, dashboard.most_missed)}</h4>
            <ol class="most-missed" data-testid="most-missed">
                {ntm.most_missed.clone().into_iter().map(|c| view! {
                    <li>{move || t_string!(i18n, dashboard.missed_by, number = c.number, name = pick(lang.get(), c.name_vi.clone(), c.name_en.clone()), communes = c.communes)}</li>
                }).collect_view()}
            </ol>
            <ExportButtons table=most_missed_table name="most-missed"/>
        })}
        {(!is_commune).then(|| view! {
            <h4>{t!(i18n, dashboard.units)}</h4>
            <label class="field no-print">
                <span>{t!(i18n, dashboard.picture_of)}</span>
                <select data-testid="chart-target" on:change=move |ev| chosen_target.set(event_target_value(&ev))>
                    {targets.get_value().into_iter().map(|t| {
                        let key = t.key.clone();
                        view! { <option value=t.key.clone() selected=move || chosen_target.get() == key>{move || pick(lang.get(), t.name_vi.clone(), t.name_en.clone())}</option> }
                    }).collect_view()}
                </select>
            </label>
            {move || {
                let target = chosen();
                view! {
                    <BarChart title=target.as_ref().map(|t| pick(lang.get(), t.name_vi.clone(), t.name_en.clone())).unwrap_or_default()
                        bars=bars() target=target.as_ref().map(|t| t.target)
                        target_text=t_string!(i18n, dashboard.target_line, value = figure_text(target.as_ref().map(|t| t.target), target.as_ref().map_or("", |t| &t.unit_vi), lang.get())).to_string()/>
                }
            }}
            {move || shapes.get().filter(|s| !s.is_empty()).map(|shapes| {
                let key = chosen_target.get();
                let lang_now = lang.get();
                let values = children.with_value(|cs| cs.iter().map(|c| {
                    let t = target_of(&c.unit, &key);
                    MapValue { code: c.unit.code.to_string(), name: c.unit.full_name.clone(), value: t.and_then(|t| t.value),
                        text: figure_text(t.and_then(|t| t.value), t.map_or("", |t| &t.unit_vi), lang_now) }
                }).collect::<Vec<_>>());
                let unit = chosen().map(|t| t.unit_vi).unwrap_or_default();
                view! {
                    <ChoroplethMap title=t_string!(i18n, dashboard.map_title).to_string() shapes=shapes values=values
                        format=Callback::new(move |v: f64| figure_text(Some(v), &unit, lang_now))
                        no_data_text=t_string!(i18n, dashboard.status.no_data).to_string()/>
                }
            })}
            <div class="table-wrap">
                <table class="figures" data-testid="children-table">
                    <thead><tr>
                        <th>{t!(i18n, dashboard.col_unit_name)}</th><th>{t!(i18n, dashboard.col_poverty_rate)}</th>
                        <th>{t!(i18n, dashboard.col_change)}</th><th>{t!(i18n, dashboard.col_ntm)}</th>
                        <th>{t!(i18n, dashboard.col_criteria_met)}</th>
                    </tr></thead>
                    <tbody>
                        {children.get_value().into_iter().map(|c| {
                            let code = c.unit.code.to_string();
                            let row_code = code.clone();
                            let p = c.unit.figures.poverty.clone();
                            let n = c.unit.figures.ntm.clone();
                            view! {
                                <tr data-testid="child" data-code=row_code>
                                    <td><button class="link" data-testid="open-child" on:click=move |_| on_open.run(code.clone())>{c.unit.full_name.clone()}</button></td>
                                    <td class="number">{move || figure_text(p.rate, "%", lang.get())}</td>
                                    <td class="number">{move || p.change.map(|c| crate::i18n::decimal(c, 2, lang.get())).unwrap_or_else(|| "—".into())}</td>
                                    <td class="number">{n.at_standard}" / "{n.communes}</td>
                                    // a commune: how many of the 19 criteria it meets; a district: its communes' total
                                    <td class="number" data-testid="criteria-met">{criteria_met_text(&n)}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
            <ExportButtons table=children_table name="children"/>
        })}
        {ntm.commune.clone().map(|c| {
            let criteria_table = {
                let criteria = c.criteria.clone();
                let title = format!("{} — {}", title.clone(), period.clone());
                Callback::new(move |_| {
                    let lang = lang.get_untracked();
                    let locale = Locale::from(lang);
                    Table {
                        title: format!("{} — {title}", td_string!(locale, dashboard.commune_criteria)),
                        columns: vec![
                            td_string!(locale, print.col_no).into(),
                            td_string!(locale, dashboard.col_criterion).into(),
                            td_string!(locale, dashboard.col_status).into(),
                        ],
                        rows: criteria
                            .iter()
                            .map(|k| vec![
                                json!(k.number),
                                json!(pick(lang, &k.name_vi, &k.name_en)),
                                json!(criterion_text(k.status, lang)),
                            ])
                            .collect(),
                    }
                })
            };
            view! {
            <h4>{t!(i18n, dashboard.commune_criteria)}</h4>
            <table class="figures" data-testid="commune-criteria">
                <tbody>
                    {c.criteria.into_iter().map(|k| view! {
                        <tr>
                            <td class="number">{k.number}</td>
                            <td>{move || pick(lang.get(), k.name_vi.clone(), k.name_en.clone())}</td>
                            <td><span class=format!("badge {}", criterion_class(k.status))>{move || criterion_text(k.status, lang.get())}</span></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <ExportButtons table=criteria_table name="criteria"/>
        }})}
        // a commune of the records' list: its records and submissions; a commune of another
        // structure (2025) holds the records of old communes: each is opened in the records' list,
        // where its records and its approval are (its own code may name another commune there)
        {(is_commune && unit.sources.is_empty()).then(|| view! {
            <CommuneReports period=period.clone() code=unit.code.to_string() title=title.clone()/>
            <CommuneRecords period=period.clone() unit=unit.clone() submissions=view.unit.submissions.clone().unwrap_or_default() basis=view.basis.clone()/>
        })}
        {(!unit.sources.is_empty()).then(|| view! {
            <h4>{t!(i18n, dashboard.sources)}</h4>
            {unit.partial.then(|| view! { <p class="notice warn" role="status">{t!(i18n, dashboard.sources_partial)}</p> })}
            <ul class="sources" data-testid="sources">
                {unit.sources.clone().into_iter().map(|s| {
                    let code = s.code.to_string();
                    let shown_code = code.clone();
                    view! {
                        <li data-testid="source" data-code=shown_code>
                            <span>{s.full_name.clone()}</span>
                            <span class="state">{move || match (s.has_records, s.whole) {
                                (true, true) => t_string!(i18n, dashboard.source_records),
                                (true, false) => t_string!(i18n, dashboard.source_records_part),
                                (false, _) => t_string!(i18n, dashboard.source_none),
                            }}</span>
                            <button class="big" data-testid="open-source" on:click=move |_| on_open_source.run(code.clone())>
                                {t!(i18n, dashboard.open_source)}
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
    }
}

/// One household as the drill-down lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct HouseholdRow {
    id: String,
    #[serde(default)]
    head_name: Option<String>,
    #[serde(default)]
    village: Option<String>,
    #[serde(default)]
    members: Option<i64>,
    #[serde(default)]
    income_per_person_month: Option<i64>,
    #[serde(default)]
    deprivations: Option<i64>,
    #[serde(default)]
    classification: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
struct RecordsPage {
    #[serde(default)]
    records: Vec<Value>,
    #[serde(default, rename = "next_after")]
    next: Option<String>,
    #[serde(default)]
    total: usize,
    /// Whether these records count in the figures on accepted reports only (the district accepted).
    #[serde(default)]
    counted_when_accepted_only: bool,
}

/// One figure of a commune's indicator report, as the drill-down lists it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
struct ReportFigure {
    key: String,
    #[serde(default)]
    name_vi: Option<String>,
    #[serde(default)]
    name_en: Option<String>,
    #[serde(default)]
    numerator: Option<i64>,
    #[serde(default)]
    denominator: Option<i64>,
    #[serde(default)]
    value: Option<f64>,
}

/// The commune's indicator reports behind its target figures (cultural families, schools, ...):
/// each report's part and total as the commune entered them, and the figure they make.
#[component]
fn CommuneReports(period: String, code: String, title: String) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let figures = RwSignal::new(None::<Result<Vec<ReportFigure>, String>>);
    // the export writes the report's figures as shown: name, part, total, figure
    let table = {
        let period = period.clone();
        Callback::new(move |_| {
            let lang = lang.get_untracked();
            let locale = Locale::from(lang);
            let rows = figures.with_untracked(|f| match f {
                Some(Ok(list)) => list
                    .iter()
                    .map(|f| {
                        let vi = f.name_vi.clone().unwrap_or_else(|| f.key.clone());
                        let name = match (lang, &f.name_en) {
                            (Lang::En, Some(en)) => en.clone(),
                            _ => vi,
                        };
                        vec![
                            json!(name),
                            json!(f.numerator),
                            json!(f.denominator),
                            json!(f.value),
                        ]
                    })
                    .collect(),
                _ => Vec::new(),
            });
            Table {
                title: format!(
                    "{} — {title} {period}",
                    td_string!(locale, dashboard.reports)
                ),
                columns: vec![
                    td_string!(locale, dashboard.col_target).into(),
                    td_string!(locale, dashboard.col_part).into(),
                    td_string!(locale, dashboard.col_total).into(),
                    td_string!(locale, dashboard.col_actual).into(),
                ],
                rows,
            }
        })
    };
    leptos::task::spawn_local(async move {
        let token = crate::services().session.borrow().token.clone();
        let path = format!(
            "/api/dashboard/records?period={period}&unit={code}&data_set=indicator_report&limit=100"
        );
        let found = get_json::<RecordsPage>(&path, &token, 60_000)
            .await
            .map(|page| {
                page.records
                    .into_iter()
                    .flat_map(|r| {
                        r.get("targets")
                            .cloned()
                            .and_then(|t| serde_json::from_value::<Vec<ReportFigure>>(t).ok())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .map_err(|e| e.message(lang.get_untracked()));
        figures.set(Some(found));
    });
    let number = move |n: Option<i64>| {
        n.map(|n| thidua_domain::format::integer(n, lang.get()))
            .unwrap_or_else(|| "—".into())
    };
    view! {
        <h4>{t!(i18n, dashboard.reports)}</h4>
        {move || match figures.get() {
            None => view! { <p class="notice">{t!(i18n, dashboard.loading)}</p> }.into_any(),
            Some(Err(e)) => view! { <p class="notice error" role="alert">{e}</p> }.into_any(),
            Some(Ok(list)) if list.is_empty() => view! { <p class="notice" data-testid="commune-reports-none">{t!(i18n, dashboard.no_reports)}</p> }.into_any(),
            Some(Ok(list)) => view! {
                <div class="table-wrap">
                    <table class="figures" data-testid="commune-reports">
                        <thead><tr>
                            <th>{t!(i18n, dashboard.col_target)}</th><th>{t!(i18n, dashboard.col_part)}</th>
                            <th>{t!(i18n, dashboard.col_total)}</th><th>{t!(i18n, dashboard.col_actual)}</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|f| view! {
                                <tr data-testid="report-row" data-key=f.key.clone()>
                                    <td>{
                                        let (vi, en) = (f.name_vi.clone().unwrap_or_else(|| f.key.clone()), f.name_en.clone());
                                        move || pick(lang.get(), vi.clone(), en.clone().unwrap_or_else(|| vi.clone()))
                                    }</td>
                                    <td class="number">{move || number(f.numerator)}</td>
                                    <td class="number">{move || number(f.denominator)}</td>
                                    <td class="number">{move || f.value.map(|v| crate::i18n::decimal(v, 2, lang.get())).unwrap_or_else(|| "—".into())}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
                <ExportButtons table=table name="reports"/>
            }.into_any(),
        }}
    }
}

/// The records behind a commune's figures, and its submissions with the district's decision.
#[component]
fn CommuneRecords(
    period: String,
    unit: UnitFigures,
    submissions: BTreeMap<String, SubmissionBrief>,
    /// "accepted" when the figures above count accepted reports only.
    basis: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let rows = RwSignal::new(Vec::<HouseholdRow>::new());
    // on accepted figures only, whether these households are in them
    let counted = RwSignal::new(None::<bool>);
    let next = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let filter = RwSignal::new(String::new());
    let total = RwSignal::new(0usize);
    let code = unit.code.to_string();
    let load = {
        let period = period.clone();
        let code = code.clone();
        move |after: Option<String>| {
            let mut path = format!(
                "/api/dashboard/records?period={period}&unit={code}&data_set=household&limit=100"
            );
            let class = filter.get_untracked();
            if !class.is_empty() {
                path.push_str(&format!("&classification={class}"));
            }
            if let Some(after) = &after {
                path.push_str(&format!("&after={after}"));
            }
            leptos::task::spawn_local(async move {
                let token = crate::services().session.borrow().token.clone();
                match get_json::<RecordsPage>(&path, &token, 60_000).await {
                    Ok(page) => {
                        let found: Vec<HouseholdRow> = page
                            .records
                            .into_iter()
                            .filter_map(|r| serde_json::from_value(r).ok())
                            .collect();
                        if after.is_some() {
                            rows.update(|r| r.extend(found))
                        } else {
                            rows.set(found)
                        }
                        next.set(page.next);
                        total.set(page.total);
                        counted.set(Some(page.counted_when_accepted_only));
                    }
                    Err(e) => error.set(Some(e.message(lang.get_untracked()))),
                }
            });
        }
    };
    let load = StoredValue::new(load);
    load.with_value(|l| l(None));
    let role = crate::current_role();
    let period_parsed = thidua_domain::protocol::Period::parse(&period).ok();
    let selection = period_parsed.map(|period| super::Selection {
        commune: unit.code.clone(),
        period,
    });
    // the rows on screen (the pages loaded so far; the title says how many of the commune's)
    let records_table = {
        let name = unit.full_name.clone();
        let period = period.clone();
        Callback::new(move |_| {
            let lang = lang.get_untracked();
            let locale = Locale::from(lang);
            let shown = rows.with_untracked(Vec::len);
            Table {
                title: format!(
                    "{} — {name} — {period} ({shown}/{})",
                    td_string!(locale, dashboard.records),
                    total.get_untracked()
                ),
                columns: vec![
                    td_string!(locale, dashboard.col_head).into(),
                    td_string!(locale, dashboard.col_village).into(),
                    td_string!(locale, dashboard.col_members).into(),
                    td_string!(locale, dashboard.col_income).into(),
                    td_string!(locale, dashboard.col_deprivations).into(),
                    td_string!(locale, households.class).into(),
                ],
                rows: rows.with_untracked(|rs| {
                    rs.iter()
                        .map(|r| {
                            vec![
                                json!(r.head_name),
                                json!(r.village),
                                json!(r.members),
                                json!(r.income_per_person_month),
                                json!(r.deprivations),
                                json!(r.classification.as_deref().map(|c| class_text(c, lang))),
                            ]
                        })
                        .collect()
                }),
            }
        })
    };
    view! {
        <h4>{t!(i18n, dashboard.submissions)}</h4>
        <ul class="submission-states" data-testid="commune-submissions">
            {submissions.into_iter().map(|(data_set, s)| view! {
                <li data-testid=format!("submission-{data_set}")>{
                    let (state, kind) = (s.state.clone(), data_set.clone());
                    move || format!("{}: {}", data_set_text(&kind, lang.get()), submission_text(&state, lang.get()))
                }{s.note.map(|n| format!(" — {n}"))}</li>
            }).collect_view()}
        </ul>
        {selection.zip(role).map(|(selection, role)| view! {
            <div class="approvals">
                <h5>{t!(i18n, dashboard.review_household)}</h5>
                <crate::components::submission::SubmissionPanel selection=selection.clone() role=role data_set="household"/>
                <h5>{t!(i18n, dashboard.review_ntm)}</h5>
                <crate::components::submission::SubmissionPanel selection=selection role=role data_set="ntm_assessment"/>
            </div>
        })}
        <h4>{t!(i18n, dashboard.records)}</h4>
        <label class="field">
            <span>{t!(i18n, households.class)}</span>
            <select data-testid="records-class" on:change=move |ev| { filter.set(event_target_value(&ev)); load.with_value(|l| l(None)); }>
                <option value="">{t!(i18n, households.filter.all)}</option>
                <option value="poor">{t!(i18n, households.filter.poor)}</option>
                <option value="near_poor">{t!(i18n, households.filter.near_poor)}</option>
                <option value="average_living_standard">{t!(i18n, households.filter.average)}</option>
                <option value="above">{t!(i18n, households.filter.above)}</option>
            </select>
        </label>
        {move || error.get().map(|e| view! { <p class="notice error" role="alert">{e}</p> })}
        <div class="table-wrap">
            <p data-testid="records-total">{move || t_string!(i18n, households.count, n = thidua_domain::format::integer(total.get() as i64, lang.get()))}</p>
            {(basis == "accepted").then(|| view! {
                {move || counted.get().map(|counted| view! {
                    <p class=if counted { "notice" } else { "notice warn" } role="status" data-testid="records-counted">
                        {move || if counted { t_string!(i18n, dashboard.records_counted) } else { t_string!(i18n, dashboard.records_not_counted) }}
                    </p>
                })}
            })}
            <table class="figures" data-testid="records-table">
                <thead><tr>
                    <th>{t!(i18n, dashboard.col_head)}</th><th>{t!(i18n, dashboard.col_village)}</th>
                    <th>{t!(i18n, dashboard.col_members)}</th><th>{t!(i18n, dashboard.col_income)}</th>
                    <th>{t!(i18n, dashboard.col_deprivations)}</th><th>{t!(i18n, households.class)}</th>
                </tr></thead>
                <tbody>
                    <For each=move || rows.get() key=|r| r.id.clone() let:row>
                        <tr data-testid="record-row">
                            <td>{row.head_name.clone().unwrap_or_default()}</td>
                            <td>{row.village.clone().unwrap_or_default()}</td>
                            <td class="number">{row.members}</td>
                            <td class="number">{row.income_per_person_month.map(|m| thidua_domain::format::money(m, lang.get_untracked()))}</td>
                            <td class="number">{row.deprivations}</td>
                            <td>{row.classification.clone().map(|c| class_text(&c, lang.get_untracked())).unwrap_or_default()}</td>
                        </tr>
                    </For>
                </tbody>
            </table>
        </div>
        <ExportButtons table=records_table name="records"/>
        {move || next.get().map(|after| view! {
            <button class="big" data-testid="records-more" on:click=move |_| load.with_value(|l| l(Some(after.clone())))>{t!(i18n, dashboard.more)}</button>
        })}
    }
}

fn criterion_class(status: thidua_domain::criteria::Status) -> &'static str {
    use thidua_domain::criteria::Status;
    match status {
        Status::Met => "met",
        Status::NotMet => "behind",
        Status::NotAssessed | Status::NotConfigured => "no_data",
    }
}

fn criterion_text(status: thidua_domain::criteria::Status, lang: Lang) -> &'static str {
    use thidua_domain::criteria::Status;
    let locale = Locale::from(lang);
    match status {
        Status::Met => td_string!(locale, assessment.status.met),
        Status::NotMet => td_string!(locale, assessment.status.not_met),
        Status::NotAssessed => td_string!(locale, assessment.status.not_assessed),
        Status::NotConfigured => td_string!(locale, assessment.status.not_configured),
    }
}

fn class_text(class: &str, lang: Lang) -> String {
    use thidua_domain::poverty::Classification::*;
    let c = match class {
        "poor" => Poor,
        "near_poor" => NearPoor,
        "average_living_standard" => AverageLivingStandard,
        _ => Above,
    };
    pick(lang, c.label_vi(), c.label_en()).to_string()
}

/// Each commune's submissions, last sync and devices (`GET /api/completeness`).
#[component]
fn Completeness(query: Query) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let data = RwSignal::new(None::<Result<Value, ApiError>>);
    let stale_days = RwSignal::new(7u32);
    let q = StoredValue::new(query);
    Effect::new(move |_| {
        let days = stale_days.get();
        let q = q.get_value();
        leptos::task::spawn_local(async move {
            let token = crate::services().session.borrow().token.clone();
            let path = format!(
                "/api/completeness?period={}&unit={}&structure={}&stale_days={days}",
                q.period, q.unit, q.structure
            );
            data.set(Some(get_json(&path, &token, 60_000).await));
        });
    });
    let communes = move || {
        data.with(|d| {
            d.as_ref()
                .and_then(|d| d.as_ref().ok())
                .and_then(|v| v.get("communes"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
    };
    let state_of = |c: &Value, data_set: &str| {
        c.pointer(&format!("/submissions/{data_set}/state"))
            .and_then(Value::as_str)
            .unwrap_or("none")
            .to_string()
    };
    let last_sync = move |c: &Value| {
        c.get("last_sync_at")
            .and_then(Value::as_i64)
            .map(|s| thidua_domain::format::date_time(s * 1000, lang.get_untracked()))
            .unwrap_or_else(|| "—".into())
    };
    let table = Callback::new(move |_| {
        let lang = lang.get_untracked();
        let locale = Locale::from(lang);
        Table {
            title: td_string!(locale, dashboard.completeness_title).to_string(),
            columns: vec![
                td_string!(locale, dashboard.col_unit_name).into(),
                td_string!(locale, dashboard.review_household).into(),
                td_string!(locale, dashboard.review_ntm).into(),
                td_string!(locale, dashboard.review_report).into(),
                td_string!(locale, dashboard.col_last_sync).into(),
                td_string!(locale, dashboard.col_stale).into(),
            ],
            rows: communes()
                .iter()
                .map(|c| {
                    vec![
                        c.get("full_name")
                            .or_else(|| c.get("name"))
                            .cloned()
                            .unwrap_or(Value::Null),
                        // in words, as on the screen
                        json!(submission_text(&state_of(c, "household"), lang)),
                        json!(submission_text(&state_of(c, "ntm_assessment"), lang)),
                        json!(submission_text(&state_of(c, "indicator_report"), lang)),
                        json!(last_sync(c)),
                        // a cell holds text or a number: the export refuses true/false
                        json!(
                            if c.get("stale").and_then(Value::as_bool).unwrap_or(false) {
                                td_string!(locale, common.yes)
                            } else {
                                td_string!(locale, common.no)
                            }
                        ),
                    ]
                })
                .collect(),
        }
    });
    view! {
        <h3>{t!(i18n, dashboard.completeness_title)}</h3>
        <label class="field">
            <span>{t!(i18n, dashboard.stale_days)}</span>
            <input type="number" min="1" data-testid="stale-days" prop:value=move || stale_days.get().to_string()
                on:change=move |ev| if let Ok(d) = event_target_value(&ev).parse() { stale_days.set(d) }/>
        </label>
        {move || data.with(|d| match d {
            None => Some(view! { <p class="notice">{t!(i18n, dashboard.loading)}</p> }.into_any()),
            Some(Err(e)) => Some(view! { <p class="notice error" role="alert">{e.message(lang.get_untracked())}</p> }.into_any()),
            Some(Ok(_)) => None,
        })}
        <div class="table-wrap">
            <table class="figures" data-testid="completeness-table">
                <thead><tr>
                    <th>{t!(i18n, dashboard.col_unit_name)}</th><th>{t!(i18n, dashboard.review_household)}</th>
                    <th>{t!(i18n, dashboard.review_ntm)}</th><th>{t!(i18n, dashboard.col_last_sync)}</th>
                </tr></thead>
                <tbody>
                    {move || communes().into_iter().map(|c| {
                        let stale = c.get("stale").and_then(Value::as_bool).unwrap_or(false);
                        let devices = c.get("devices").and_then(Value::as_array).map_or(0, Vec::len);
                        view! {
                            <tr data-testid="completeness-row" class:stale=stale>
                                <td>{c.get("full_name").or_else(|| c.get("name")).and_then(Value::as_str).unwrap_or_default().to_string()}</td>
                                <td data-testid="state-household">{submission_text(&state_of(&c, "household"), lang.get())}</td>
                                <td data-testid="state-ntm">{submission_text(&state_of(&c, "ntm_assessment"), lang.get())}</td>
                                <td>
                                    {last_sync(&c)}
                                    {stale.then(|| view! { <span class="badge behind" data-testid="stale">{t!(i18n, dashboard.stale)}</span> })}
                                    <small>{move || t_string!(i18n, dashboard.devices, n = devices)}</small>
                                    // each device's own last sync: which tablet of the commune has gone quiet
                                    <ul class="devices" data-testid="device-list">
                                        {c.get("devices").and_then(Value::as_array).cloned().unwrap_or_default().into_iter().map(|d| {
                                            let text = |key: &str| d.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
                                            let (name, username) = (text("display_name"), text("username"));
                                            let at = d.get("last_sync_at").and_then(Value::as_i64);
                                            view! {
                                                <li data-testid="device">{move || t_string!(i18n, dashboard.device_line, name = name.clone(), username = username.clone(),
                                                    time = at.map(|s| thidua_domain::format::date_time(s * 1000, lang.get())).unwrap_or_else(|| "—".into()))}</li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <ExportButtons table=table name="completeness"/>
    }
}

/// What a submitted data set is, in the supervisor's words.
fn data_set_text(data_set: &str, lang: Lang) -> &str {
    let locale = Locale::from(lang);
    match data_set {
        "household" => td_string!(locale, dashboard.review_household),
        "ntm_assessment" => td_string!(locale, dashboard.review_ntm),
        "indicator_report" => td_string!(locale, dashboard.review_indicators),
        other => other,
    }
}

fn submission_text(state: &str, lang: Lang) -> &'static str {
    let locale = Locale::from(lang);
    match state {
        "submitted" => td_string!(locale, dashboard.submission.submitted),
        "accepted" => td_string!(locale, dashboard.submission.accepted),
        "returned" => td_string!(locale, dashboard.submission.returned),
        _ => td_string!(locale, dashboard.submission.none),
    }
}
