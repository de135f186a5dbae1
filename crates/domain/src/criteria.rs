//! Criteria sets as data (bộ tiêu chí), and a commune's assessment against one.
//!
//! The NTM set 2021–2025 (Quyết định 318/QĐ-TTg) is carried; the 2026–2030 set (Quyết định
//! 51/2025/QĐ-TTg) or any later one loads from the same JSON format without a code change.
//! A requirement that is not known stays `None` ("chưa cấu hình") until the province sets it:
//! the app never invents one, and an indicator without one is never counted as met.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// What kind of value an indicator takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// Có / không
    YesNo,
    /// 0 to 100
    Percent,
    Number,
    Text,
}

/// What an indicator must reach to be met (mức đạt chuẩn).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    AtLeast(f64),
    AtMost(f64),
    /// For yes/no indicators: the answer that meets it.
    Equals(bool),
    /// For text indicators: something has been written.
    Provided,
}

impl Requirement {
    fn fits(&self, kind: ValueKind) -> bool {
        matches!(
            (self, kind),
            (
                Requirement::AtLeast(_) | Requirement::AtMost(_),
                ValueKind::Percent | ValueKind::Number
            ) | (Requirement::Equals(_), ValueKind::YesNo)
                | (Requirement::Provided, ValueKind::Text)
        )
    }

    pub fn describe_vi(&self) -> String {
        match self {
            Requirement::AtLeast(v) => format!("≥ {v}"),
            Requirement::AtMost(v) => format!("≤ {v}"),
            Requirement::Equals(true) => "Đạt (có)".into(),
            Requirement::Equals(false) => "Không có".into(),
            Requirement::Provided => "Có nội dung".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// "2.1", "17.10"
    pub code: String,
    pub name_vi: String,
    pub name_en: String,
    pub kind: ValueKind,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub requirement: Option<Requirement>,
    /// False where the wording was not checked against the official text.
    #[serde(default)]
    pub wording_verified: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub number: u16,
    pub group: String,
    pub name_vi: String,
    pub name_en: String,
    pub indicators: Vec<Indicator>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionGroup {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CriteriaSet {
    pub id: String,
    pub name_vi: String,
    pub name_en: String,
    pub legal_basis: String,
    pub first_year: u16,
    pub last_year: u16,
    #[serde(default)]
    pub note: String,
    pub groups: Vec<CriterionGroup>,
    pub criteria: Vec<Criterion>,
}

pub const NTM_2021_2025: &str = include_str!("../data/criteria/ntm-2021-2025.json");

impl CriteriaSet {
    /// The carried NTM set 2021–2025. Checked by the tests, so reading it cannot fail.
    pub fn ntm_2021_2025() -> CriteriaSet {
        CriteriaSet::from_json(NTM_2021_2025).expect("carried criteria set is valid")
    }

    /// Whether an assessment of `year` belongs to this set's period.
    pub fn covers(&self, year: u16) -> bool {
        (self.first_year..=self.last_year).contains(&year)
    }

    /// The set among `sets` (in force, one per id) that an assessment of `year` is checked against:
    /// of those whose years hold it, the one starting latest, because a set for a new period
    /// replaces an older one stretched over it; among equals the last given. The server and the
    /// tablet both choose with this, so the tablet shows what the server will accept.
    pub fn for_year<'a>(
        sets: impl IntoIterator<Item = &'a CriteriaSet>,
        year: u16,
    ) -> Option<&'a CriteriaSet> {
        sets.into_iter()
            .filter(|set| set.covers(year))
            .max_by_key(|set| set.first_year)
    }

    /// Reads a set from JSON and checks it: groups exist, numbers and codes are unique, and each
    /// requirement suits its indicator's kind.
    pub fn from_json(text: &str) -> Result<CriteriaSet, String> {
        let set: CriteriaSet =
            serde_json::from_str(text).map_err(|e| format!("bộ tiêu chí không đọc được: {e}"))?;
        set.check()?;
        Ok(set)
    }

    fn check(&self) -> Result<(), String> {
        if self.criteria.is_empty() {
            return Err("bộ tiêu chí không có tiêu chí nào".into());
        }
        if self.first_year > self.last_year {
            return Err("năm bắt đầu sau năm kết thúc".into());
        }
        let groups: BTreeSet<&str> = self.groups.iter().map(|g| g.id.as_str()).collect();
        let mut numbers = BTreeSet::new();
        let mut codes = BTreeSet::new();
        for c in &self.criteria {
            if !groups.contains(c.group.as_str()) {
                return Err(format!(
                    "tiêu chí {} thuộc nhóm «{}» không có",
                    c.number, c.group
                ));
            }
            if !numbers.insert(c.number) {
                return Err(format!("số tiêu chí {} bị trùng", c.number));
            }
            if c.indicators.is_empty() {
                return Err(format!("tiêu chí {} không có chỉ tiêu nào", c.number));
            }
            for i in &c.indicators {
                if !codes.insert(i.code.as_str()) {
                    return Err(format!("mã chỉ tiêu {} bị trùng", i.code));
                }
                if let Some(r) = &i.requirement {
                    if !r.fits(i.kind) {
                        return Err(format!(
                            "mức đạt của chỉ tiêu {} không hợp với loại giá trị",
                            i.code
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.criteria
            .iter()
            .flat_map(|c| &c.indicators)
            .find(|i| i.code == code)
    }

    /// The province sets (or clears) a requirement. Refused when it does not suit the indicator.
    pub fn set_requirement(
        &mut self,
        code: &str,
        requirement: Option<Requirement>,
    ) -> Result<(), String> {
        let indicator = self
            .criteria
            .iter_mut()
            .flat_map(|c| c.indicators.iter_mut())
            .find(|i| i.code == code)
            .ok_or_else(|| format!("không có chỉ tiêu {code}"))?;
        if let Some(r) = &requirement {
            if !r.fits(indicator.kind) {
                return Err(format!(
                    "mức đạt không hợp với loại giá trị của chỉ tiêu {code}"
                ));
            }
        }
        indicator.requirement = requirement;
        Ok(())
    }

    /// Evaluates a commune's values (by indicator code) against this set.
    pub fn evaluate(&self, values: &BTreeMap<String, IndicatorValue>) -> Evaluation {
        let criteria: Vec<CriterionResult> = self
            .criteria
            .iter()
            .map(|c| {
                let indicators: Vec<(String, Status)> = c
                    .indicators
                    .iter()
                    .map(|i| (i.code.clone(), indicator_status(i, values.get(&i.code))))
                    .collect();
                let statuses = || indicators.iter().map(|(_, s)| *s);
                // A failed indicator fails the criterion whatever else is unknown; otherwise an
                // unconfigured requirement is reported before a missing value, since it blocks assessment.
                let status = if statuses().any(|s| s == Status::NotMet) {
                    Status::NotMet
                } else if statuses().any(|s| s == Status::NotConfigured) {
                    Status::NotConfigured
                } else if statuses().any(|s| s == Status::NotAssessed) {
                    Status::NotAssessed
                } else {
                    Status::Met
                };
                CriterionResult {
                    number: c.number,
                    status,
                    indicators,
                }
            })
            .collect();
        let met = criteria.iter().filter(|c| c.status == Status::Met).count();
        Evaluation {
            total: criteria.len(),
            met,
            criteria,
        }
    }

    /// Checks a commune's values: each code must exist and each value suit its indicator.
    pub fn validate_values(&self, values: &BTreeMap<String, IndicatorValue>) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (code, value) in values {
            let Some(indicator) = self.indicator(code) else {
                errors.push(FieldError::new(
                    code,
                    "unknown_indicator",
                    format!("Chỉ tiêu {code} không có trong bộ tiêu chí {}", self.id),
                    format!("Indicator {code} is not in criteria set {}", self.id),
                ));
                continue;
            };
            let ok = match (indicator.kind, value) {
                (ValueKind::YesNo, IndicatorValue::YesNo(_)) => true,
                (ValueKind::Percent, IndicatorValue::Number(n)) => (0.0..=100.0).contains(n),
                (ValueKind::Number, IndicatorValue::Number(n)) => n.is_finite(),
                (ValueKind::Text, IndicatorValue::Text(_)) => true,
                _ => false,
            };
            if !ok {
                let (vi, en) = match indicator.kind {
                    ValueKind::YesNo => ("phải chọn Có hoặc Không", "must be yes or no"),
                    ValueKind::Percent => (
                        "phải là tỷ lệ từ 0 đến 100",
                        "must be a percentage from 0 to 100",
                    ),
                    ValueKind::Number => ("phải là một số", "must be a number"),
                    ValueKind::Text => ("phải là chữ", "must be text"),
                };
                errors.push(FieldError::new(
                    code,
                    "wrong_value",
                    format!("Chỉ tiêu {code}: {vi}"),
                    format!("Indicator {code}: {en}"),
                ));
            }
        }
        errors
    }
}

/// A value entered for one indicator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IndicatorValue {
    YesNo(bool),
    Number(f64),
    Text(String),
}

/// The state of an indicator, a criterion, or the whole commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Đạt
    Met,
    /// Chưa đạt
    NotMet,
    /// Chưa đánh giá: no value entered yet
    NotAssessed,
    /// Chưa cấu hình: the province has not set the requirement
    NotConfigured,
}

impl Status {
    pub fn label_vi(self) -> &'static str {
        match self {
            Status::Met => "Đạt",
            Status::NotMet => "Chưa đạt",
            Status::NotAssessed => "Chưa đánh giá",
            Status::NotConfigured => "Chưa cấu hình",
        }
    }
}

fn indicator_status(indicator: &Indicator, value: Option<&IndicatorValue>) -> Status {
    let Some(requirement) = &indicator.requirement else {
        return Status::NotConfigured;
    };
    let Some(value) = value else {
        return Status::NotAssessed;
    };
    let met = match (requirement, value) {
        (Requirement::AtLeast(min), IndicatorValue::Number(v)) => v >= min,
        (Requirement::AtMost(max), IndicatorValue::Number(v)) => v <= max,
        (Requirement::Equals(want), IndicatorValue::YesNo(v)) => v == want,
        (Requirement::Provided, IndicatorValue::Text(t)) => !t.trim().is_empty(),
        // a value of the wrong kind cannot show the requirement is met; validation reports it
        _ => return Status::NotAssessed,
    };
    if met {
        Status::Met
    } else {
        Status::NotMet
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionResult {
    pub number: u16,
    pub status: Status,
    pub indicators: Vec<(String, Status)>,
}

/// A commune's assessment against a criteria set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub criteria: Vec<CriterionResult>,
    pub met: usize,
    pub total: usize,
}

impl Evaluation {
    /// Đạt chuẩn nông thôn mới: every criterion of the set is met.
    pub fn meets_standard(&self) -> bool {
        self.total > 0 && self.met == self.total
    }
    pub fn status_vi(&self) -> String {
        if self.meets_standard() {
            "Đạt chuẩn nông thôn mới".into()
        } else {
            format!("Chưa đạt chuẩn: đạt {}/{} tiêu chí", self.met, self.total)
        }
    }
}
