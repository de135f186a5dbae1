//! The directive's targets (chỉ tiêu), roll-ups from commune to district to province, and progress.
//!
//! Roll-ups never average: a count adds up, and a rate is recomputed from the summed numerator and
//! denominator, so a province's poverty rate is its poor households over its households, not the mean of
//! its districts' rates. Tallies are whole numbers (households, schools, communes, VND), so Σ communes =
//! district = province holds exactly.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::org::{Level, UnitCode, UnitList};
use crate::Day;

/// Which way is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Reach at least the target (growth, revenue, coverage).
    AtLeast,
    /// Stay at or below the target (poverty rate).
    AtMost,
}

/// How a target's figure is formed from what units report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// A count or amount that adds up; figure = Σ numerator / divisor (e.g. million VND → billion).
    Sum { divisor: i64 },
    /// A rate; figure = Σ numerator / Σ denominator × scale (100 for %, 10,000 for "per 10,000 people").
    Rate {
        scale: i64,
        numerator_vi: String,
        denominator_vi: String,
        /// The part's and the total's names in English (sets written before they existed lack them).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        numerator_en: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        denominator_en: Option<String>,
    },
    /// Reported for the province as a whole (growth, GRDP structure): not built from communes.
    Reported,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    pub key: String,
    pub name_vi: String,
    pub name_en: String,
    /// "%", "xã", "tỷ đồng", …
    pub unit_vi: String,
    /// The unit in English where it differs ("doctors per 10,000 people"); None: `unit_vi` serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit_en: Option<String>,
    pub direction: Direction,
    pub value: f64,
    /// The value at the start of the period, where known; "on track" is judged against the straight
    /// path from it to the target.
    #[serde(default)]
    pub baseline: Option<f64>,
    /// A flow that starts from zero each period (revenue, exports): the path starts at 0.
    #[serde(default)]
    pub accumulates: bool,
    pub measure: Measure,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetSet {
    pub id: String,
    pub name_vi: String,
    pub source: String,
    /// The unit list the targets are set against.
    pub unit_list: String,
    pub period_start: Day,
    pub period_end: Day,
    pub targets: Vec<Target>,
}

pub const SONLA_2023: &str = include_str!("../data/targets/sonla-2023.json");

impl TargetSet {
    /// The 14 targets of the 2023 directive. Checked by the tests, so reading them cannot fail.
    pub fn sonla_2023() -> TargetSet {
        TargetSet::from_json(SONLA_2023).expect("carried targets are valid")
    }

    /// The set among `sets` (in force, one per id) whose period holds part of `year`, the one
    /// starting latest when several do (among equals the last given): what a commune reports for
    /// that year.
    pub fn for_year<'a>(
        sets: impl IntoIterator<Item = &'a TargetSet>,
        year: u16,
    ) -> Option<&'a TargetSet> {
        sets.into_iter()
            .filter(|set| set.period_start.year() <= year && year <= set.period_end.year())
            .max_by(|a, b| a.period_start.cmp(&b.period_start))
    }

    pub fn from_json(text: &str) -> Result<TargetSet, String> {
        let set: TargetSet =
            serde_json::from_str(text).map_err(|e| format!("chỉ tiêu không đọc được: {e}"))?;
        if set.period_end <= set.period_start {
            return Err("kỳ chỉ tiêu phải kết thúc sau khi bắt đầu".into());
        }
        for t in &set.targets {
            let bad = match &t.measure {
                Measure::Sum { divisor } => *divisor <= 0,
                Measure::Rate { scale, .. } => *scale <= 0,
                Measure::Reported => false,
            };
            if bad || !t.value.is_finite() {
                return Err(format!("chỉ tiêu «{}» có số liệu không hợp lệ", t.key));
            }
        }
        Ok(set)
    }

    pub fn target(&self, key: &str) -> Option<&Target> {
        self.targets.iter().find(|t| t.key == key)
    }

    /// Share of the period gone by on `as_of`, from 0 (before it starts) to 1 (on or after its last day).
    pub fn elapsed(&self, as_of: &Day) -> f64 {
        let start = day_number(&self.period_start);
        let end = day_number(&self.period_end) + 1; // the last day counts in full
        let now = day_number(as_of) + 1;
        ((now - start) as f64 / (end - start) as f64).clamp(0.0, 1.0)
    }
}

/// Days since 1970-01-01 (proleptic Gregorian), for elapsed-time fractions without a date library.
fn day_number(day: &Day) -> i64 {
    let s = day.as_str();
    let (y, m, d): (i64, i64, i64) = (
        s[0..4].parse().unwrap_or(1970),
        s[5..7].parse().unwrap_or(1),
        s[8..10].parse().unwrap_or(1),
    );
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// What one unit reports for one target: a numerator and, for rates, a denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tally {
    pub numerator: i64,
    pub denominator: i64,
}

impl std::ops::Add for Tally {
    type Output = Tally;
    fn add(self, other: Tally) -> Tally {
        Tally {
            numerator: self.numerator + other.numerator,
            denominator: self.denominator + other.denominator,
        }
    }
}

impl Target {
    /// The figure a tally stands for; `None` when a rate has nothing under it (no households counted).
    pub fn figure(&self, tally: Tally) -> Option<f64> {
        match &self.measure {
            Measure::Sum { divisor } => Some(tally.numerator as f64 / *divisor as f64),
            Measure::Rate { scale, .. } => (tally.denominator > 0)
                .then(|| tally.numerator as f64 * *scale as f64 / tally.denominator as f64),
            Measure::Reported => None,
        }
    }

    /// Where the figure should be by now on the straight path from the start (the baseline, or 0 for
    /// a flow that accumulates) to the target, `elapsed` of the period gone by; `None` without a start.
    pub fn expected(&self, elapsed: f64) -> Option<f64> {
        let start = if self.accumulates {
            Some(0.0)
        } else {
            self.baseline
        }?;
        Some(start + (self.value - start) * elapsed.clamp(0.0, 1.0))
    }

    /// Progress of a figure against this target, `elapsed` of the period gone by (0..=1).
    pub fn progress(&self, figure: Option<f64>, elapsed: f64) -> Progress {
        let Some(value) = figure.filter(|v| v.is_finite()) else {
            return Progress {
                value: None,
                fraction: None,
                status: TargetStatus::NoData,
            };
        };
        let start = if self.accumulates {
            Some(0.0)
        } else {
            self.baseline
        };
        let met = match self.direction {
            Direction::AtLeast => value >= self.value,
            Direction::AtMost => value <= self.value,
        };
        // fraction of the way from the start to the target; without a start, the ratio to the target
        let fraction = match start {
            Some(s) if (self.value - s).abs() > f64::EPSILON => {
                Some((value - s) / (self.value - s))
            }
            Some(_) => Some(if met { 1.0 } else { 0.0 }),
            None => match self.direction {
                Direction::AtLeast if self.value != 0.0 => Some(value / self.value),
                Direction::AtMost if value > 0.0 => Some(self.value / value),
                _ => None,
            },
        };
        let status = if met {
            TargetStatus::Met
        } else {
            // on track: at least as far along the straight path as the time gone by; with no known
            // start there is no path to judge, so an unmet target is reported as behind
            match (start, fraction) {
                (Some(_), Some(f)) if f >= elapsed && elapsed < 1.0 => TargetStatus::OnTrack,
                _ => TargetStatus::Behind,
            }
        };
        Progress {
            value: Some(value),
            fraction,
            status,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    /// Đạt
    Met,
    /// Đúng tiến độ
    OnTrack,
    /// Chậm tiến độ
    Behind,
    /// Chưa có số liệu
    NoData,
}

impl TargetStatus {
    pub fn label_vi(self) -> &'static str {
        match self {
            TargetStatus::Met => "Đạt",
            TargetStatus::OnTrack => "Đúng tiến độ",
            TargetStatus::Behind => "Chậm tiến độ",
            TargetStatus::NoData => "Chưa có số liệu",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub value: Option<f64>,
    /// 1.0 = the target reached; may exceed 1 or be negative (moving the wrong way).
    pub fraction: Option<f64>,
    pub status: TargetStatus,
}

/// Adds commune tallies up the tree: each commune's tally counts once in itself, its district and the
/// province. Units under which nothing was reported are absent (no data), never zero.
///
/// Any value that adds up rolls up the same way: a [`Tally`], or the dashboard's totals of a commune
/// ([`crate::dashboard`]), whose rates are likewise recomputed from the added counts.
pub fn roll_up<T>(list: &UnitList, communes: &BTreeMap<UnitCode, T>) -> BTreeMap<UnitCode, T>
where
    T: Clone + Default + std::ops::Add<Output = T>,
{
    let mut out: BTreeMap<UnitCode, T> = BTreeMap::new();
    for (code, tally) in communes {
        let lineage = list.lineage(code);
        if lineage.first().map(|u| u.level()) != Some(Level::Commune) {
            continue; // not a commune of this list: its records must first be mapped with OrgCatalog::holder
        }
        for unit in lineage {
            let entry = out.entry(unit.code.clone()).or_default();
            *entry = std::mem::take(entry) + tally.clone();
        }
    }
    out
}
