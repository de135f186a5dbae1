//! The printable report to the Chairman: "Báo cáo kết quả thực hiện phong trào thi đua năm 2023",
//! with the province's figures against each target, the tables by district (or by commune under the
//! 2025 structure), a chart, and the date; laid out for A4 (see `@media print` in style/main.css).

use leptos::prelude::*;
use thidua_domain::Lang;

use super::dashboard::{fetch_dashboard, figure_text, status_text, DashboardView, Query};
use crate::api::ApiError;
use crate::components::charts::{Bar, BarChart};
use crate::i18n::{pick, t, t_string, ui_lang, use_i18n};

/// "ngày 27 tháng 11 năm 2026" (or "27 November 2026"), today in Vietnam.
fn today_text(lang: Lang) -> String {
    let now = thidua_domain::format::vietnam_time(js_sys::Date::now() as i64);
    thidua_domain::format::long_date(now.date, lang)
}

#[component]
pub fn PrintReport(query: Query, on_back: Callback<()>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    // the report is of the whole of the supervisor's own unit: the province for the province (in the
    // structure chosen), a district for its district (in the 2023 structure, the only one with it)
    let home = super::home_unit();
    let province = if home == "14" {
        Query {
            unit: home,
            ..query
        }
    } else {
        // a district exists only in the 2023 structure: its report is of its district there
        Query {
            unit: home,
            structure: "2023".into(),
            ..query
        }
    };
    let data = RwSignal::new(None::<Result<DashboardView, ApiError>>);
    {
        let province = province.clone();
        leptos::task::spawn_local(async move {
            data.set(Some(fetch_dashboard(&province).await));
        });
    }
    let print = move |_| {
        if let Some(window) = web_sys::window() {
            let _ = window.print();
        }
    };
    view! {
        <section class="print-report" data-testid="print-report">
            <div class="actions no-print">
                <button class="primary big" data-testid="print-now" on:click=print>{t!(i18n, print.print)}</button>
                <button class="big" data-testid="print-back" on:click=move |_| on_back.run(())>{t!(i18n, print.back)}</button>
            </div>
            {move || match data.get() {
                None => view! { <p class="notice no-print">{t!(i18n, dashboard.loading)}</p> }.into_any(),
                Some(Err(e)) => view! { <p class="notice error" role="alert">{e.message(lang.get_untracked())}</p> }.into_any(),
                Some(Ok(view)) => {
                    let unit = view.unit.unit.clone();
                    let period = view.period.clone();
                    let accepted = view.basis == "accepted";
                    let children = view.children.clone();
                    let poverty_bars: Vec<Bar> = children.iter().map(|c| Bar {
                        label: c.unit.name.clone(),
                        value: c.unit.figures.poverty.rate,
                        text: figure_text(c.unit.figures.poverty.rate, "%", lang.get_untracked()),
                        status: "no_data".into(),
                    }).collect();
                    view! {
                        <header class="letterhead">
                            <div>
                                <p><strong>{t!(i18n, print.authority)}</strong></p>
                                <p>{t!(i18n, print.department)}</p>
                            </div>
                            <div>
                                <p><strong>{t!(i18n, print.nation)}</strong></p>
                                <p><strong>{t!(i18n, print.motto)}</strong></p>
                                <p class="date" data-testid="report-date"><em>{move || t_string!(i18n, print.place_date, date = today_text(lang.get()))}</em></p>
                            </div>
                        </header>
                        <h1 class="report-title">{t!(i18n, print.heading)}<br/>{move || t_string!(i18n, print.title, year = period.clone())}</h1>
                        <p class="basis">{move || if accepted { t_string!(i18n, print.basis_accepted) } else { t_string!(i18n, print.basis_all) }}</p>
                        <h2>{move || t_string!(i18n, print.section_targets, unit = unit.full_name.clone())}</h2>
                        <table class="figures print-table" data-testid="print-targets">
                            <thead><tr>
                                <th>{t!(i18n, print.col_no)}</th><th>{t!(i18n, dashboard.col_target)}</th><th>{t!(i18n, dashboard.col_goal)}</th>
                                <th>{t!(i18n, dashboard.col_actual)}</th><th>{t!(i18n, dashboard.col_status)}</th>
                            </tr></thead>
                            <tbody>
                                {unit.figures.targets.iter().enumerate().map(|(i, t)| {
                                    let t = t.clone();
                                    let (unit_a, unit_b) = (t.unit_vi.clone(), t.unit_vi.clone());
                                    let (goal, value, status) = (t.target, t.value, t.status);
                                    view! {
                                        <tr>
                                            <td class="number">{i + 1}</td>
                                            <td>{move || pick(lang.get(), t.name_vi.clone(), t.name_en.clone())}</td>
                                            <td class="number">{move || figure_text(Some(goal), &unit_a, lang.get())}</td>
                                            <td class="number">{move || figure_text(value, &unit_b, lang.get())}</td>
                                            <td>{move || status_text(status, lang.get())}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <h2>{t!(i18n, print.section_units)}</h2>
                        <table class="figures print-table" data-testid="print-units">
                            <thead><tr>
                                <th>{t!(i18n, print.col_no)}</th><th>{t!(i18n, dashboard.col_unit_name)}</th>
                                <th>{t!(i18n, dashboard.col_households)}</th><th>{t!(i18n, dashboard.col_poor)}</th>
                                <th>{t!(i18n, dashboard.col_poverty_rate)}</th><th>{t!(i18n, dashboard.col_change)}</th>
                                <th>{t!(i18n, dashboard.col_ntm)}</th>
                            </tr></thead>
                            <tbody>
                                {children.into_iter().enumerate().map(|(i, c)| {
                                    let p = c.unit.figures.poverty.clone();
                                    let n = c.unit.figures.ntm.clone();
                                    view! {
                                        <tr>
                                            <td class="number">{i + 1}</td>
                                            <td>{c.unit.full_name.clone()}</td>
                                            <td class="number">{move || p.denominator.map(|d| thidua_domain::format::integer(d, lang.get())).unwrap_or_else(|| "—".into())}</td>
                                            <td class="number">{move || p.numerator.map(|d| thidua_domain::format::integer(d, lang.get())).unwrap_or_else(|| "—".into())}</td>
                                            <td class="number">{move || figure_text(p.rate, "%", lang.get())}</td>
                                            <td class="number">{move || p.change.map(|c| crate::i18n::decimal(c, 2, lang.get())).unwrap_or_else(|| "—".into())}</td>
                                            <td class="number">{n.at_standard}" / "{n.communes}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                        <div class="print-chart">
                            <BarChart title=t_string!(i18n, dashboard.poverty_rate).to_string() bars=poverty_bars
                                target=view.unit.unit.figures.poverty.target
                                target_text=t_string!(i18n, dashboard.target_line, value = figure_text(view.unit.unit.figures.poverty.target, "%", lang.get_untracked())).to_string()/>
                        </div>
                        <footer class="signature">
                            <p><strong>{t!(i18n, print.signer)}</strong></p>
                        </footer>
                    }.into_any()
                }
            }}
        </section>
    }
}
