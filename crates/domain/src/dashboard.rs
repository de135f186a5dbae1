//! The supervisors' dashboard: every figure of a commune, a district and the province for one period,
//! computed from the records themselves, so each number can be traced back to the records behind it.
//!
//! Two steps, both pure:
//! 1. [`collect_facts`] reads the records of one period into [`CommuneFacts`] per commune: the poverty
//!    review's counts (each household classified by [`crate::poverty::classify_fields`]), the latest
//!    indicator report's tallies per target key, and the latest NTM assessment evaluated against the
//!    criteria set in force ([`CriteriaSet::evaluate`]). With a basis of accepted reports only the
//!    records of (commune, data set) whose submission is accepted are read.
//! 2. [`build`] turns each commune's facts (this period and the one before) into additive
//!    [`Totals`], maps the communes to the structure shown (the 2023 list itself, or a later list
//!    through [`OrgCatalog::holder`]), rolls them up with [`roll_up`] (counts add; a rate is always
//!    recomputed from the added numerator and denominator, never averaged) and states each unit's
//!    [`Figures`] against the directive's targets ([`Target::progress`]).
//!
//! Where the figures come from:
//! - **Poverty rate** (`poverty_rate`): poor households of the commune's review over its total
//!   households. The total is the indicator report's `poverty_rate` denominator ("Tổng số hộ") when
//!   the commune reported one, since the review lists the households reviewed rather than every
//!   household; otherwise the number of households in the review. `denominator_source` says which
//!   (`mixed` above a commune when communes differ). A commune with a report but no review counts
//!   the report's own numerator (`numerator_source`).
//! - **Communes at the NTM standard** (`ntm_communes`): communes whose assessment meets every
//!   criterion of the set in force ([`crate::criteria::Evaluation::meets_standard`]); a commune's
//!   own claim in its target report is not counted, only its assessment.
//! - **Every other target built from communes**: the indicator reports' numerators and denominators.
//!   Targets reported for the province as a whole (`measure: reported`) have no data here.
//!
//! A count target (`sum`, the 64 communes) is set for the province: below it, its status is `null`
//! (not applicable). A rate applies at every level, so a commune's poverty rate is judged against
//! 15.66% too.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Add;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::criteria::{CriteriaSet, Evaluation, Status};
use crate::org::{Level, OrgCatalog, UnitCode, UnitKind, UnitList};
use crate::poverty::{classify_fields, Classification, ReviewCount};
use crate::protocol::{indicator_values, DataSet, Fields, Period, Record};
use crate::targets::{roll_up, Direction, Measure, Tally, Target, TargetSet, TargetStatus};
use crate::Day;

/// The target the poverty summary stands for.
pub const POVERTY_TARGET: &str = "poverty_rate";
/// The target the NTM summary stands for.
pub const NTM_TARGET: &str = "ntm_communes";

/// The data sets the dashboard reads.
pub const DATA_SETS: [DataSet; 3] = [
    DataSet::Household,
    DataSet::NtmAssessment,
    DataSet::IndicatorReport,
];

/// The (commune, data set) pairs whose submission of the period is accepted: the basis "accepted".
pub type Accepted = BTreeMap<UnitCode, BTreeSet<DataSet>>;

/// What one commune's records of one period say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommuneFacts {
    /// The poverty review: households by class.
    pub review: ReviewCount,
    /// Households whose class cannot be read (missing area or income): not counted.
    pub unreadable_households: u32,
    /// The indicator report (the latest revision, if a commune holds several): target key → tally.
    pub report: Option<Report>,
    /// The NTM assessment (the latest revision), evaluated.
    pub ntm: Option<Assessment>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub revision: u64,
    pub tallies: BTreeMap<String, Tally>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub revision: u64,
    pub evaluation: Evaluation,
}

/// Reads the records of `period` (other periods, other data sets and deleted records are skipped)
/// into facts per commune. With `accepted`, only the records of accepted (commune, data set) pairs.
pub fn collect_facts<'r>(
    records: impl IntoIterator<Item = &'r Record>,
    period: &Period,
    criteria: &CriteriaSet,
    accepted: Option<&Accepted>,
) -> BTreeMap<UnitCode, CommuneFacts> {
    let mut facts: BTreeMap<UnitCode, CommuneFacts> = BTreeMap::new();
    for record in records {
        if record.deleted || &record.period != period || !DATA_SETS.contains(&record.data_set) {
            continue;
        }
        if let Some(accepted) = accepted {
            let counted = accepted
                .get(&record.org_unit)
                .is_some_and(|sets| sets.contains(&record.data_set));
            if !counted {
                continue;
            }
        }
        let entry = match facts.get_mut(&record.org_unit) {
            Some(entry) => entry,
            None => facts.entry(record.org_unit.clone()).or_default(),
        };
        add_record(entry, record, criteria);
    }
    facts
}

impl CommuneFacts {
    /// Keeps only what the data sets in `accepted` say (the basis "accepted"): a commune's review,
    /// report or assessment counts only when its submission of that data set is accepted.
    pub fn keep_only(&mut self, accepted: Option<&BTreeSet<DataSet>>) {
        let has = |d: DataSet| accepted.is_some_and(|a| a.contains(&d));
        if !has(DataSet::Household) {
            self.review = ReviewCount::default();
            self.unreadable_households = 0;
        }
        if !has(DataSet::IndicatorReport) {
            self.report = None;
        }
        if !has(DataSet::NtmAssessment) {
            self.ntm = None;
        }
    }

    /// Adds `count` households of `class` to the review (`None`: households whose class cannot be
    /// read), for a caller that counted the classes already (the server stores each household's
    /// class, by [`classify_fields`], when it writes the record).
    pub fn add_households(&mut self, class: Option<Classification>, count: u32) {
        match class {
            None => self.unreadable_households += count,
            Some(class) => {
                self.review.households += count;
                match class {
                    Classification::Poor => self.review.poor += count,
                    Classification::NearPoor => self.review.near_poor += count,
                    Classification::AverageLivingStandard | Classification::Above => {}
                }
            }
        }
    }
}

/// Adds one live record of a commune to its facts (see [`collect_facts`]).
pub fn add_record(facts: &mut CommuneFacts, record: &Record, criteria: &CriteriaSet) {
    match record.data_set {
        DataSet::Household => match classify_fields(&record.fields) {
            Some(class) => facts.review.add(class),
            None => facts.unreadable_households += 1,
        },
        DataSet::IndicatorReport => {
            if facts
                .report
                .as_ref()
                .is_some_and(|r| r.revision >= record.revision)
            {
                return;
            }
            facts.report = Some(Report {
                revision: record.revision,
                tallies: report_tallies(&record.fields),
            });
        }
        DataSet::NtmAssessment => {
            if facts
                .ntm
                .as_ref()
                .is_some_and(|a| a.revision >= record.revision)
            {
                return;
            }
            // a value the set cannot read is left out (not assessed), as the server would refuse it
            let values = indicator_values(&record.fields).unwrap_or_else(|_| {
                let mut only_valid = record.fields.clone();
                only_valid.retain(|_, v| {
                    serde_json::from_value::<crate::criteria::IndicatorValue>(v.clone()).is_ok()
                });
                indicator_values(&only_valid).unwrap_or_default()
            });
            facts.ntm = Some(Assessment {
                revision: record.revision,
                evaluation: criteria.evaluate(&values),
            });
        }
        DataSet::AdvancedExample | DataSet::Commendation => {}
    }
}

/// The tallies of an indicator report's fields: `{"numerator": n, "denominator": d}` per target key;
/// anything else is skipped.
pub fn report_tallies(fields: &Fields) -> BTreeMap<String, Tally> {
    fields
        .iter()
        .filter_map(|(key, value)| {
            let o = value.as_object()?;
            let tally = Tally {
                numerator: o.get("numerator").and_then(Value::as_i64)?,
                denominator: o.get("denominator").and_then(Value::as_i64)?,
            };
            (tally.numerator >= 0 && tally.denominator >= 0).then(|| (key.clone(), tally))
        })
        .collect()
}

/// Where a figure's numerator or denominator comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The commune's indicator report (báo cáo chỉ tiêu).
    IndicatorReport,
    /// The households of the poverty review, classified by the standard.
    HouseholdReview,
    /// The NTM assessment, evaluated against the criteria set in force.
    NtmAssessment,
    /// Above a commune: the communes under the unit differ.
    Mixed,
}

/// How many communes took each source: adds up; the unit's source is the one all share.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SourceCount {
    pub indicator_report: u32,
    pub household_review: u32,
    pub ntm_assessment: u32,
}

impl SourceCount {
    fn one(source: Source) -> SourceCount {
        let mut count = SourceCount::default();
        match source {
            Source::IndicatorReport => count.indicator_report = 1,
            Source::HouseholdReview => count.household_review = 1,
            Source::NtmAssessment => count.ntm_assessment = 1,
            Source::Mixed => {}
        }
        count
    }

    pub fn source(&self) -> Option<Source> {
        let used = [
            (self.indicator_report, Source::IndicatorReport),
            (self.household_review, Source::HouseholdReview),
            (self.ntm_assessment, Source::NtmAssessment),
        ];
        let mut found = used.iter().filter(|(n, _)| *n > 0).map(|(_, s)| *s);
        match (found.next(), found.next()) {
            (None, _) => None,
            (Some(only), None) => Some(only),
            (Some(_), Some(_)) => Some(Source::Mixed),
        }
    }
}

impl Add for SourceCount {
    type Output = SourceCount;
    fn add(self, o: SourceCount) -> SourceCount {
        SourceCount {
            indicator_report: self.indicator_report + o.indicator_report,
            household_review: self.household_review + o.household_review,
            ntm_assessment: self.ntm_assessment + o.ntm_assessment,
        }
    }
}

/// One target's tally under a unit, with how many communes contributed and from where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TargetTally {
    pub tally: Tally,
    pub communes: u32,
    pub numerator_sources: SourceCount,
    pub denominator_sources: SourceCount,
}

impl Add for TargetTally {
    type Output = TargetTally;
    fn add(self, o: TargetTally) -> TargetTally {
        TargetTally {
            tally: self.tally + o.tally,
            communes: self.communes + o.communes,
            numerator_sources: self.numerator_sources + o.numerator_sources,
            denominator_sources: self.denominator_sources + o.denominator_sources,
        }
    }
}

/// The NTM counts under a unit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NtmTotals {
    pub assessed: u32,
    pub at_standard: u32,
    pub criteria_met: u32,
    /// Criterion number → communes where it is not met (chưa đạt).
    pub not_met: BTreeMap<u16, u32>,
    /// Criterion number → communes where it is not assessed yet.
    pub not_assessed: BTreeMap<u16, u32>,
    /// Criterion number → communes where a requirement is not configured.
    pub not_configured: BTreeMap<u16, u32>,
}

fn add_counts(mut a: BTreeMap<u16, u32>, b: BTreeMap<u16, u32>) -> BTreeMap<u16, u32> {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
    a
}

impl Add for NtmTotals {
    type Output = NtmTotals;
    fn add(self, o: NtmTotals) -> NtmTotals {
        NtmTotals {
            assessed: self.assessed + o.assessed,
            at_standard: self.at_standard + o.at_standard,
            criteria_met: self.criteria_met + o.criteria_met,
            not_met: add_counts(self.not_met, o.not_met),
            not_assessed: add_counts(self.not_assessed, o.not_assessed),
            not_configured: add_counts(self.not_configured, o.not_configured),
        }
    }
}

/// Communes with records of each data set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportingCounts {
    /// Communes counted under the unit (with records or not).
    pub communes: u32,
    pub household: u32,
    pub ntm_assessment: u32,
    pub indicator_report: u32,
}

impl Add for ReportingCounts {
    type Output = ReportingCounts;
    fn add(self, o: ReportingCounts) -> ReportingCounts {
        ReportingCounts {
            communes: self.communes + o.communes,
            household: self.household + o.household,
            ntm_assessment: self.ntm_assessment + o.ntm_assessment,
            indicator_report: self.indicator_report + o.indicator_report,
        }
    }
}

/// Everything that adds up from communes to a unit. Rates are never stored here: they are computed
/// from these counts at each level.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Totals {
    pub reporting: ReportingCounts,
    pub review: ReviewCount,
    pub previous_review: ReviewCount,
    pub unreadable_households: u32,
    /// Target key → tally, for the targets built from communes.
    pub targets: BTreeMap<String, TargetTally>,
    /// The previous period's poverty tally (same rule as this period's).
    pub previous_poverty: Option<TargetTally>,
    /// Near-poor households over the same denominator as the poverty rate, for communes with a review.
    pub near_poor: Option<TargetTally>,
    pub ntm: NtmTotals,
}

fn add_opt<T: Add<Output = T>>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a + b),
        (a, None) => a,
        (None, b) => b,
    }
}

impl Add for Totals {
    type Output = Totals;
    fn add(self, o: Totals) -> Totals {
        let mut targets = self.targets;
        for (key, tally) in o.targets {
            let entry = targets.entry(key).or_default();
            *entry = *entry + tally;
        }
        Totals {
            reporting: self.reporting + o.reporting,
            review: self.review.plus(o.review),
            previous_review: self.previous_review.plus(o.previous_review),
            unreadable_households: self.unreadable_households + o.unreadable_households,
            targets,
            previous_poverty: add_opt(self.previous_poverty, o.previous_poverty),
            near_poor: add_opt(self.near_poor, o.near_poor),
            ntm: self.ntm + o.ntm,
        }
    }
}

/// The poverty tally of one commune: poor households from the review (or the report's numerator
/// without a review) over the report's total households (or the review's count without one).
fn poverty_tally(facts: &CommuneFacts) -> Option<TargetTally> {
    let reported = facts
        .report
        .as_ref()
        .and_then(|r| r.tallies.get(POVERTY_TARGET))
        .copied();
    let review = (facts.review.households > 0).then_some(facts.review);
    let (numerator, numerator_source) = match (review, reported) {
        (Some(review), _) => (i64::from(review.poor), Source::HouseholdReview),
        (None, Some(tally)) => (tally.numerator, Source::IndicatorReport),
        (None, None) => return None,
    };
    let (denominator, denominator_source) = match (reported, review) {
        (Some(tally), _) if tally.denominator > 0 => (tally.denominator, Source::IndicatorReport),
        (_, Some(review)) => (i64::from(review.households), Source::HouseholdReview),
        (Some(tally), None) => (tally.denominator, Source::IndicatorReport),
        (None, None) => return None,
    };
    Some(TargetTally {
        tally: Tally {
            numerator,
            denominator,
        },
        communes: 1,
        numerator_sources: SourceCount::one(numerator_source),
        denominator_sources: SourceCount::one(denominator_source),
    })
}

/// One commune's totals from its facts of this period and the one before.
pub fn commune_totals(
    facts: Option<&CommuneFacts>,
    previous: Option<&CommuneFacts>,
    targets: Option<&TargetSet>,
) -> Totals {
    let mut totals = Totals {
        reporting: ReportingCounts {
            communes: 1,
            ..Default::default()
        },
        ..Default::default()
    };
    if let Some(previous) = previous {
        totals.previous_review = previous.review;
        totals.previous_poverty = poverty_tally(previous);
    }
    let Some(facts) = facts else {
        return totals;
    };
    totals.review = facts.review;
    totals.unreadable_households = facts.unreadable_households;
    totals.reporting.household = u32::from(facts.review.households > 0);
    totals.reporting.indicator_report = u32::from(facts.report.is_some());
    totals.reporting.ntm_assessment = u32::from(facts.ntm.is_some());
    let poverty = poverty_tally(facts);
    if facts.review.households > 0 {
        totals.near_poor = poverty.map(|p| TargetTally {
            tally: Tally {
                numerator: i64::from(facts.review.near_poor),
                denominator: p.tally.denominator,
            },
            ..p
        });
    }
    if let Some(assessment) = &facts.ntm {
        let evaluation = &assessment.evaluation;
        let ntm = &mut totals.ntm;
        ntm.assessed = 1;
        ntm.at_standard = u32::from(evaluation.meets_standard());
        ntm.criteria_met = evaluation.met as u32;
        for criterion in &evaluation.criteria {
            let map = match criterion.status {
                Status::Met => continue,
                Status::NotMet => &mut ntm.not_met,
                Status::NotAssessed => &mut ntm.not_assessed,
                Status::NotConfigured => &mut ntm.not_configured,
            };
            map.insert(criterion.number, 1);
        }
    }
    for target in targets.map(|t| t.targets.as_slice()).unwrap_or_default() {
        let tally = match (target.key.as_str(), &target.measure) {
            (_, Measure::Reported) => None,
            (POVERTY_TARGET, _) => poverty,
            (NTM_TARGET, _) => facts.ntm.as_ref().map(|a| TargetTally {
                tally: Tally {
                    numerator: i64::from(a.evaluation.meets_standard()),
                    denominator: 1,
                },
                communes: 1,
                numerator_sources: SourceCount::one(Source::NtmAssessment),
                denominator_sources: SourceCount::one(Source::NtmAssessment),
            }),
            (key, _) => facts
                .report
                .as_ref()
                .and_then(|r| r.tallies.get(key))
                .map(|tally| TargetTally {
                    tally: *tally,
                    communes: 1,
                    numerator_sources: SourceCount::one(Source::IndicatorReport),
                    denominator_sources: SourceCount::one(Source::IndicatorReport),
                }),
        };
        if let Some(tally) = tally {
            totals.targets.insert(target.key.clone(), tally);
        }
    }
    totals
}

// ---------------------------------------------------------------------------------------------------
// What the dashboard shows

/// How a target's figure is formed, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureKind {
    Sum,
    Rate,
    Reported,
}

/// One target's figure for one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetFigure {
    pub key: String,
    pub name_vi: String,
    pub name_en: String,
    pub unit_vi: String,
    pub direction: Direction,
    pub measure: MeasureKind,
    /// The directive's target value.
    pub target: f64,
    pub baseline: Option<f64>,
    /// Null when nothing under the unit reported it.
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    /// The figure: Σ numerator / divisor for a count, Σ numerator × scale / Σ denominator for a rate.
    pub value: Option<f64>,
    /// Against the target; null where the target does not apply at this level (a count set for the
    /// province, below the province).
    pub status: Option<TargetStatus>,
    /// The way from the start to the target covered (1 = reached); null where status is.
    pub fraction: Option<f64>,
    /// Where the figure should be by now on the straight path from the baseline to the target.
    pub expected: Option<f64>,
    /// Communes whose records make the figure.
    pub communes_reporting: u32,
    pub numerator_source: Option<Source>,
    pub denominator_source: Option<Source>,
}

/// The NTM (nông thôn mới) picture of one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NtmSummary {
    /// Communes counted under the unit.
    pub communes: u32,
    /// Communes with an assessment for the period.
    pub assessed: u32,
    /// Communes meeting every criterion.
    pub at_standard: u32,
    /// The directive's count (64) and start (59): at the province only.
    pub target: Option<f64>,
    pub baseline: Option<f64>,
    pub status: Option<TargetStatus>,
    /// Criteria in the set (19).
    pub criteria_total: u32,
    /// Criteria met, summed over the assessed communes.
    pub criteria_met_total: u32,
    /// A commune's own assessment (for one commune of the list the records were made against).
    pub commune: Option<CommuneNtm>,
    /// Criteria not met, most communes first (ties by number); only those missed somewhere.
    pub most_missed: Vec<CriterionCount>,
    /// Criteria whose requirement the province has not configured, with the communes concerned.
    pub not_configured: Vec<CriterionCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommuneNtm {
    pub criteria_met: u32,
    pub meets_standard: bool,
    pub not_met: Vec<u16>,
    pub not_assessed: Vec<u16>,
    pub not_configured: Vec<u16>,
    pub criteria: Vec<CriterionState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionState {
    pub number: u16,
    pub name_vi: String,
    pub name_en: String,
    pub status: Status,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CriterionCount {
    pub number: u16,
    pub name_vi: String,
    pub name_en: String,
    pub communes: u32,
}

/// The poverty picture of one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PovertySummary {
    /// Households in the review, by class.
    pub households: u32,
    pub poor: u32,
    pub near_poor: u32,
    /// The rate's tally (see the module docs for where each side comes from).
    pub numerator: Option<i64>,
    pub denominator: Option<i64>,
    pub numerator_source: Option<Source>,
    pub denominator_source: Option<Source>,
    /// Tỷ lệ hộ nghèo, in percent.
    pub rate: Option<f64>,
    /// Tỷ lệ hộ cận nghèo over the same total, for the communes with a review.
    pub near_poor_rate: Option<f64>,
    /// The directive's 15.66% and its start 19.66%.
    pub target: Option<f64>,
    pub baseline: Option<f64>,
    pub status: Option<TargetStatus>,
    pub expected: Option<f64>,
    pub communes_reviewed: u32,
    /// Household records whose class could not be read.
    pub unreadable: u32,
    /// The previous period's review, same rules; null when no commune under the unit had one.
    pub previous: Option<PreviousPoverty>,
    /// Rate now minus the previous rate, in percentage points (negative: fewer poor).
    pub change: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviousPoverty {
    pub period: Period,
    pub households: u32,
    pub poor: u32,
    pub near_poor: u32,
    pub numerator: i64,
    pub denominator: i64,
    pub rate: Option<f64>,
}

/// Whether anything under the unit reported each data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reported {
    pub household: bool,
    pub ntm_assessment: bool,
    pub indicator_report: bool,
}

/// Every figure of one unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    pub targets: Vec<TargetFigure>,
    pub ntm: NtmSummary,
    pub poverty: PovertySummary,
    pub reported: Reported,
    pub reporting_communes: ReportingCounts,
}

/// A commune of the records' list whose records a unit of another structure holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceCommune {
    pub code: UnitCode,
    pub name: String,
    pub full_name: String,
    /// Its district in the records' list.
    pub district: Option<UnitCode>,
    /// False when only part of it went into this unit (its records all come here, as the main part).
    pub whole: bool,
    /// It has records of the period (on the basis asked for).
    pub has_records: bool,
}

/// One unit of the structure shown, with its figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitFigures {
    pub code: UnitCode,
    pub name: String,
    pub full_name: String,
    pub kind: UnitKind,
    pub level: Level,
    pub parent: Option<UnitCode>,
    pub figures: Figures,
    /// In a structure other than the records' list: the old communes whose records this unit holds.
    /// Empty when the structure is the records' list.
    pub sources: Vec<SourceCommune>,
    /// Some of `sources` went only partly into this unit.
    pub partial: bool,
}

/// The whole dashboard of a period in one structure: every unit's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub period: Period,
    pub previous_period: Option<Period>,
    /// The list the records were made against, and the list shown.
    pub source_list: String,
    pub structure: String,
    /// Share of the target period gone by on the day asked for.
    pub elapsed: f64,
    pub units: BTreeMap<UnitCode, UnitFigures>,
    /// Communes with records that are not communes of the records' list (never counted).
    pub unplaced: Vec<UnitCode>,
}

impl Dashboard {
    pub fn unit(&self, code: &UnitCode) -> Option<&UnitFigures> {
        self.units.get(code)
    }

    /// The units directly under `code`, by code.
    pub fn children(&self, code: &UnitCode) -> Vec<&UnitFigures> {
        self.units
            .values()
            .filter(|u| u.parent.as_ref() == Some(code))
            .collect()
    }
}

/// What the dashboard is computed with.
#[derive(Debug, Clone, Copy)]
pub struct Settings<'a> {
    pub catalog: &'a OrgCatalog,
    /// The list the period's records were made against ("sonla-2023").
    pub source_list: &'a str,
    /// The list to show: the same, or a successor ("sonla-2025-07").
    pub structure: &'a str,
    /// The directive's targets for the period, if any.
    pub targets: Option<&'a TargetSet>,
    pub criteria: &'a CriteriaSet,
    /// The day "expected by now" and "on track" are judged on.
    pub as_of: &'a Day,
}

/// Reads the records and builds the dashboard: [`collect_facts`] for `period` and the one before,
/// then [`build`]. `accepted` (this period's, the previous period's) restricts both to accepted reports.
pub fn compute<'r>(
    settings: &Settings<'_>,
    period: &Period,
    records: impl IntoIterator<Item = &'r Record>,
    accepted: Option<(&Accepted, &Accepted)>,
) -> Result<Dashboard, String> {
    let previous_period = period.previous();
    let mut current = Vec::new();
    let mut previous = Vec::new();
    for record in records {
        if &record.period == period {
            current.push(record);
        } else if Some(&record.period) == previous_period.as_ref() {
            previous.push(record);
        }
    }
    let facts = collect_facts(current, period, settings.criteria, accepted.map(|a| a.0));
    let previous_facts = match &previous_period {
        Some(p) => collect_facts(previous, p, settings.criteria, accepted.map(|a| a.1)),
        None => BTreeMap::new(),
    };
    build(settings, period, &facts, &previous_facts)
}

/// Builds every unit's figures from the communes' facts. Fails only when a list is unknown or the
/// structure does not descend from the records' list.
pub fn build(
    settings: &Settings<'_>,
    period: &Period,
    facts: &BTreeMap<UnitCode, CommuneFacts>,
    previous: &BTreeMap<UnitCode, CommuneFacts>,
) -> Result<Dashboard, String> {
    let catalog = settings.catalog;
    let source = catalog
        .list(settings.source_list)
        .ok_or_else(|| format!("không có danh mục «{}»", settings.source_list))?;
    let structure = catalog
        .list(settings.structure)
        .ok_or_else(|| format!("không có danh mục «{}»", settings.structure))?;
    let same = source.id == structure.id;

    // each commune of the records' list, mapped to the structure's commune holding its records
    let mut by_commune: BTreeMap<UnitCode, Totals> = BTreeMap::new();
    let mut sources: BTreeMap<UnitCode, Vec<SourceCommune>> = BTreeMap::new();
    for commune in source.communes() {
        let holder = catalog
            .holder(&source.id, &commune.code, &structure.id)
            .ok_or_else(|| {
                format!(
                    "xã {} của «{}» không có đơn vị giữ hồ sơ trong «{}»",
                    commune.code, source.id, structure.id
                )
            })?;
        let own = facts.get(&commune.code);
        let totals = commune_totals(own, previous.get(&commune.code), settings.targets);
        let entry = by_commune.entry(holder.unit.code.clone()).or_default();
        *entry = std::mem::take(entry) + totals;
        if !same {
            sources
                .entry(holder.unit.code.clone())
                .or_default()
                .push(SourceCommune {
                    code: commune.code.clone(),
                    name: commune.name.clone(),
                    full_name: commune.full_name(),
                    district: commune.parent.clone(),
                    whole: holder.whole,
                    has_records: own.is_some(),
                });
        }
    }
    let totals = roll_up(structure, &by_commune);
    let unplaced = facts
        .keys()
        .filter(|code| source.get(code).is_none_or(|u| u.level() != Level::Commune))
        .cloned()
        .collect();

    let elapsed = settings.targets.map_or(1.0, |t| t.elapsed(settings.as_of));
    let previous_period = period.previous();
    let empty = Totals::default();
    let units = structure
        .units()
        .iter()
        .map(|unit| {
            let t = totals.get(&unit.code).unwrap_or(&empty);
            // a commune's own assessment, when the unit is one commune of the records' list
            let own_ntm = (same && unit.level() == Level::Commune)
                .then(|| facts.get(&unit.code).and_then(|f| f.ntm.as_ref()))
                .flatten();
            let figures = figures(
                settings,
                unit.level(),
                t,
                own_ntm,
                elapsed,
                previous_period.as_ref(),
            );
            let unit_sources = sources.remove(&unit.code).unwrap_or_default();
            let partial = unit_sources.iter().any(|s| !s.whole);
            (
                unit.code.clone(),
                UnitFigures {
                    code: unit.code.clone(),
                    name: unit.name.clone(),
                    full_name: unit.full_name(),
                    kind: unit.kind,
                    level: unit.level(),
                    parent: unit.parent.clone(),
                    figures,
                    sources: unit_sources,
                    partial,
                },
            )
        })
        .collect();
    Ok(Dashboard {
        period: period.clone(),
        previous_period,
        source_list: source.id.clone(),
        structure: structure.id.clone(),
        elapsed,
        units,
        unplaced,
    })
}

fn measure_kind(measure: &Measure) -> MeasureKind {
    match measure {
        Measure::Sum { .. } => MeasureKind::Sum,
        Measure::Rate { .. } => MeasureKind::Rate,
        Measure::Reported => MeasureKind::Reported,
    }
}

/// A target's figure from its tally at a unit of `level`.
fn target_figure(
    target: &Target,
    tally: Option<&TargetTally>,
    level: Level,
    elapsed: f64,
) -> TargetFigure {
    let kind = measure_kind(&target.measure);
    let value = tally.and_then(|t| target.figure(t.tally));
    // a count is set for the province; a rate applies at every level
    let applies = match kind {
        MeasureKind::Rate => true,
        MeasureKind::Sum | MeasureKind::Reported => level == Level::Province,
    };
    let progress = applies.then(|| target.progress(value, elapsed));
    TargetFigure {
        key: target.key.clone(),
        name_vi: target.name_vi.clone(),
        name_en: target.name_en.clone(),
        unit_vi: target.unit_vi.clone(),
        direction: target.direction,
        measure: kind,
        target: target.value,
        baseline: target.baseline,
        numerator: tally.map(|t| t.tally.numerator),
        denominator: tally.map(|t| t.tally.denominator),
        value,
        status: progress.map(|p| p.status),
        fraction: progress.and_then(|p| p.fraction),
        expected: applies.then(|| target.expected(elapsed)).flatten(),
        communes_reporting: tally.map_or(0, |t| t.communes),
        numerator_source: tally.and_then(|t| t.numerator_sources.source()),
        denominator_source: tally.and_then(|t| t.denominator_sources.source()),
    }
}

fn percent(tally: Tally) -> Option<f64> {
    (tally.denominator > 0).then(|| tally.numerator as f64 * 100.0 / tally.denominator as f64)
}

fn criterion_counts(criteria: &CriteriaSet, counts: &BTreeMap<u16, u32>) -> Vec<CriterionCount> {
    let mut list: Vec<CriterionCount> = counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(number, communes)| {
            let criterion = criteria.criteria.iter().find(|c| c.number == *number);
            CriterionCount {
                number: *number,
                name_vi: criterion.map(|c| c.name_vi.clone()).unwrap_or_default(),
                name_en: criterion.map(|c| c.name_en.clone()).unwrap_or_default(),
                communes: *communes,
            }
        })
        .collect();
    list.sort_by(|a, b| b.communes.cmp(&a.communes).then(a.number.cmp(&b.number)));
    list
}

fn figures(
    settings: &Settings<'_>,
    level: Level,
    totals: &Totals,
    own_ntm: Option<&Assessment>,
    elapsed: f64,
    previous_period: Option<&Period>,
) -> Figures {
    let targets: Vec<TargetFigure> = settings
        .targets
        .map(|set| {
            set.targets
                .iter()
                .map(|t| target_figure(t, totals.targets.get(&t.key), level, elapsed))
                .collect()
        })
        .unwrap_or_default();
    let find = |key: &str| targets.iter().find(|t| t.key == key);

    let ntm_figure = find(NTM_TARGET);
    let criteria = settings.criteria;
    let ntm = NtmSummary {
        communes: totals.reporting.communes,
        assessed: totals.ntm.assessed,
        at_standard: totals.ntm.at_standard,
        target: ntm_figure
            .filter(|_| level == Level::Province)
            .map(|t| t.target),
        baseline: ntm_figure
            .filter(|_| level == Level::Province)
            .and_then(|t| t.baseline),
        status: ntm_figure.and_then(|t| t.status),
        criteria_total: criteria.criteria.len() as u32,
        criteria_met_total: totals.ntm.criteria_met,
        commune: own_ntm.map(|a| commune_ntm(criteria, &a.evaluation)),
        most_missed: criterion_counts(criteria, &totals.ntm.not_met),
        not_configured: criterion_counts(criteria, &totals.ntm.not_configured),
    };

    let poverty_figure = find(POVERTY_TARGET);
    let poverty_tally = totals.targets.get(POVERTY_TARGET);
    let rate = poverty_tally.and_then(|t| percent(t.tally));
    let previous = match (previous_period, totals.previous_poverty) {
        (Some(period), Some(tally)) => Some(PreviousPoverty {
            period: period.clone(),
            households: totals.previous_review.households,
            poor: totals.previous_review.poor,
            near_poor: totals.previous_review.near_poor,
            numerator: tally.tally.numerator,
            denominator: tally.tally.denominator,
            rate: percent(tally.tally),
        }),
        _ => None,
    };
    let change = match (rate, previous.as_ref().and_then(|p| p.rate)) {
        (Some(now), Some(before)) => Some(now - before),
        _ => None,
    };
    let poverty = PovertySummary {
        households: totals.review.households,
        poor: totals.review.poor,
        near_poor: totals.review.near_poor,
        numerator: poverty_tally.map(|t| t.tally.numerator),
        denominator: poverty_tally.map(|t| t.tally.denominator),
        numerator_source: poverty_tally.and_then(|t| t.numerator_sources.source()),
        denominator_source: poverty_tally.and_then(|t| t.denominator_sources.source()),
        rate,
        near_poor_rate: totals.near_poor.and_then(|t| percent(t.tally)),
        target: poverty_figure.map(|t| t.target),
        baseline: poverty_figure.and_then(|t| t.baseline),
        status: poverty_figure.and_then(|t| t.status),
        expected: poverty_figure.and_then(|t| t.expected),
        communes_reviewed: totals.reporting.household,
        unreadable: totals.unreadable_households,
        previous,
        change,
    };
    let r = totals.reporting;
    Figures {
        targets,
        ntm,
        poverty,
        reported: Reported {
            household: r.household > 0,
            ntm_assessment: r.ntm_assessment > 0,
            indicator_report: r.indicator_report > 0,
        },
        reporting_communes: r,
    }
}

fn commune_ntm(criteria: &CriteriaSet, evaluation: &Evaluation) -> CommuneNtm {
    let with = |status: Status| -> Vec<u16> {
        evaluation
            .criteria
            .iter()
            .filter(|c| c.status == status)
            .map(|c| c.number)
            .collect()
    };
    CommuneNtm {
        criteria_met: evaluation.met as u32,
        meets_standard: evaluation.meets_standard(),
        not_met: with(Status::NotMet),
        not_assessed: with(Status::NotAssessed),
        not_configured: with(Status::NotConfigured),
        criteria: evaluation
            .criteria
            .iter()
            .map(|c| {
                let criterion = criteria.criteria.iter().find(|k| k.number == c.number);
                CriterionState {
                    number: c.number,
                    name_vi: criterion.map(|k| k.name_vi.clone()).unwrap_or_default(),
                    name_en: criterion.map(|k| k.name_en.clone()).unwrap_or_default(),
                    status: c.status,
                }
            })
            .collect(),
    }
}

/// The classification of each household, for drill-down lists (the dashboard's own rule).
pub fn household_class(record: &Record) -> Option<Classification> {
    classify_fields(&record.fields)
}

/// The list a structure name stands for: "2023" → the 2023 list, "2025" → the list from 01/07/2025;
/// any list id of the catalog names itself.
pub fn structure_list<'a>(catalog: &'a OrgCatalog, name: &str) -> Option<&'a UnitList> {
    let id = match name {
        "2023" => "sonla-2023",
        "2025" => "sonla-2025-07",
        other => other,
    };
    catalog.list(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_step_back() {
        let p = |t: &str| Period::parse(t).unwrap();
        assert_eq!(p("2023").previous(), Some(p("2022")));
        assert_eq!(p("2023-01").previous(), Some(p("2022-12")));
        assert_eq!(p("2023-10").previous(), Some(p("2023-09")));
        assert_eq!(p("2023").first_day().as_str(), "2023-01-01");
        assert_eq!(p("2023-06").first_day().as_str(), "2023-06-01");
    }

    #[test]
    fn sources_name_the_one_all_share() {
        let mut count = SourceCount::one(Source::IndicatorReport);
        assert_eq!(count.source(), Some(Source::IndicatorReport));
        count = count + SourceCount::one(Source::IndicatorReport);
        assert_eq!(count.source(), Some(Source::IndicatorReport));
        count = count + SourceCount::one(Source::HouseholdReview);
        assert_eq!(count.source(), Some(Source::Mixed));
        assert_eq!(SourceCount::default().source(), None);
    }
}
