//! SVG pictures: horizontal bars by unit (readable on a phone, one unit per line, the figure written
//! beside each bar), a trend over periods, and a map coloured by a figure. Each states its figures
//! in text as well, so nothing depends on colour alone and the print is readable in grey.

use leptos::prelude::*;

use crate::charts::{
    class_of, equal_breaks, nice_ceiling, project, Shape, CLASS_COLOURS, NO_DATA_COLOUR,
};

/// One bar: the unit, its figure (None: no data yet) and the figure as written.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    pub text: String,
    /// "met", "on_track", "behind" or "no_data": the bar's colour class.
    pub status: String,
}

const WIDTH: f64 = 600.0;
const ROW: f64 = 30.0;
const LABEL_WIDTH: f64 = 190.0;
const VALUE_WIDTH: f64 = 80.0;

#[component]
pub fn BarChart(
    /// What the chart shows, for screen readers and the print.
    title: String,
    bars: Vec<Bar>,
    /// The directive's target, drawn as a line across the bars.
    target: Option<f64>,
    target_text: String,
) -> impl IntoView {
    let max = bars
        .iter()
        .filter_map(|b| b.value)
        .chain(target)
        .fold(0.0, f64::max);
    let top = nice_ceiling(max);
    let plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH;
    let x = move |v: f64| LABEL_WIDTH + plot * (v / top).clamp(0.0, 1.0);
    let height = ROW * bars.len() as f64 + 24.0;
    let aria_label = title.clone();
    view! {
        <svg class="chart bars" viewBox=format!("0 0 {WIDTH} {height}") role="img" aria-label=aria_label
            data-testid="bar-chart" preserveAspectRatio="xMinYMin meet">
            <title>{title}</title>
            {bars.into_iter().enumerate().map(|(i, bar)| {
                let y = ROW * i as f64;
                let width = bar.value.map(|v| x(v) - LABEL_WIDTH).unwrap_or(0.0);
                view! {
                    <g class=format!("bar {}", bar.status) data-testid="bar">
                        <text x=LABEL_WIDTH - 8.0 y=y + ROW * 0.65 text-anchor="end" class="bar-label">{bar.label}</text>
                        <rect x=LABEL_WIDTH y=y + 5.0 width=width.max(0.0) height=ROW - 10.0 rx="3"/>
                        <text x=LABEL_WIDTH + width + 6.0 y=y + ROW * 0.65 class="bar-value">{bar.text}</text>
                    </g>
                }
            }).collect_view()}
            {target.map(|t| view! {
                <line class="target-line" x1=x(t) x2=x(t) y1="0" y2=height - 20.0/>
                <text class="target-text" x=x(t) y=height - 6.0 text-anchor="middle">{target_text}</text>
            })}
        </svg>
    }
}

/// One point of a trend: the period and its figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub period: String,
    pub value: Option<f64>,
    pub text: String,
}

#[component]
pub fn TrendChart(
    title: String,
    points: Vec<Point>,
    target: Option<f64>,
    target_text: String,
) -> impl IntoView {
    let (w, h, left, bottom) = (WIDTH, 220.0, 50.0, 30.0);
    let top = nice_ceiling(
        points
            .iter()
            .filter_map(|p| p.value)
            .chain(target)
            .fold(0.0, f64::max),
    );
    let n = points.len().max(1) as f64;
    let px = move |i: usize| left + (w - left - 20.0) * (i as f64 + 0.5) / n;
    let py = move |v: f64| (h - bottom) * (1.0 - (v / top).clamp(0.0, 1.0)) + 10.0;
    let line: String = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.value.map(|v| format!("{:.1},{:.1}", px(i), py(v))))
        .collect::<Vec<_>>()
        .join(" ");
    let aria_label = title.clone();
    view! {
        <svg class="chart trend" viewBox=format!("0 0 {w} {}", h + 10.0) role="img" aria-label=aria_label data-testid="trend-chart">
            <title>{title}</title>
            <line class="axis" x1=left x2=w - 10.0 y1=py(0.0) y2=py(0.0)/>
            {target.map(|t| view! {
                <line class="target-line" x1=left x2=w - 10.0 y1=py(t) y2=py(t)/>
                <text class="target-text" x=w - 12.0 y=py(t) - 4.0 text-anchor="end">{target_text}</text>
            })}
            <polyline class="trend-line" points=line/>
            {points.into_iter().enumerate().map(|(i, p)| view! {
                {p.value.map(|v| view! {
                    <circle cx=px(i) cy=py(v) r="5"/>
                    <text x=px(i) y=py(v) - 10.0 text-anchor="middle" class="point-value">{p.text.clone()}</text>
                })}
                <text x=px(i) y=h + 4.0 text-anchor="middle" class="period">{p.period}</text>
            }).collect_view()}
        </svg>
    }
}

/// A unit on the map: its code, name and figure (None: no data).
#[derive(Debug, Clone, PartialEq)]
pub struct MapValue {
    pub code: String,
    pub name: String,
    pub value: Option<f64>,
    pub text: String,
}

#[component]
pub fn ChoroplethMap(
    title: String,
    shapes: Vec<Shape>,
    values: Vec<MapValue>,
    /// How a class boundary is written ("12,5 %").
    format: Callback<f64, String>,
    no_data_text: String,
) -> impl IntoView {
    let (paths, height) = project(&shapes, WIDTH);
    let figures: Vec<f64> = values.iter().filter_map(|v| v.value).collect();
    let breaks = equal_breaks(&figures);
    let legend: Vec<(String, String)> = CLASS_COLOURS
        .iter()
        .enumerate()
        .filter(|_| !breaks.is_empty())
        .map(|(i, colour)| {
            let from = if i == 0 {
                figures.iter().copied().fold(f64::INFINITY, f64::min)
            } else {
                breaks[i - 1]
            };
            let to = breaks
                .get(i)
                .copied()
                .unwrap_or_else(|| figures.iter().copied().fold(f64::NEG_INFINITY, f64::max));
            (
                colour.to_string(),
                format!("{} – {}", format.run(from), format.run(to)),
            )
        })
        .collect();
    let rows = legend.len() as f64;
    let legend_height = 26.0 * (rows + 1.0);
    let aria_label = title.clone();
    view! {
        <svg class="chart map" viewBox=format!("0 0 {WIDTH} {}", height + legend_height + 10.0) role="img"
            aria-label=aria_label data-testid="map">
            <title>{title}</title>
            {paths.into_iter().map(|(code, d)| {
                let unit = values.iter().find(|v| v.code == code).cloned();
                let (fill, label) = match &unit {
                    Some(MapValue { value: Some(v), name, text, .. }) => (CLASS_COLOURS[class_of(*v, &breaks)].to_string(), format!("{name}: {text}")),
                    Some(MapValue { name, .. }) => (NO_DATA_COLOUR.to_string(), format!("{name}: {no_data_text}")),
                    None => (NO_DATA_COLOUR.to_string(), code.clone()),
                };
                view! {
                    <path d=d fill=fill class="unit" data-code=code><title>{label}</title></path>
                }
            }).collect_view()}
            <g class="legend" transform=format!("translate(10 {})", height + 10.0)>
                {legend.into_iter().enumerate().map(|(i, (colour, text))| view! {
                    <rect x="0" y=26.0 * i as f64 width="20" height="18" fill=colour stroke="#555"/>
                    <text x="28" y=26.0 * i as f64 + 14.0>{text}</text>
                }).collect_view()}
                <rect x="0" y=26.0 * rows width="20" height="18" fill=NO_DATA_COLOUR stroke="#555"/>
                <text x="28" y=26.0 * rows + 14.0>{no_data_text.clone()}</text>
            </g>
        </svg>
    }
}
