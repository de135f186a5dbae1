//! The sync protocol's types, shared by the device and the server (see the crate docs for the rules).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::criteria::{CriteriaSet, IndicatorValue};
use crate::examples::{AdvancedExample, Commendation, CommendationLevel};
use crate::org::UnitCode;
use crate::poverty::Household;
use crate::FieldError;

/// Bumped when a change would make an older peer misread a message.
pub const PROTOCOL_VERSION: u16 = 1;
/// The oldest protocol version the server still accepts. When the protocol changes, this stays one
/// version behind for at least a release, so a tablet that has been offline across an update can
/// still send what it holds before it takes the new app.
pub const OLDEST_SUPPORTED_PROTOCOL: u16 = 1;
/// Most mutations in one push; a device with more sends several batches.
pub const MAX_PUSH_BATCH: usize = 200;
/// Most records in one pull page.
pub const MAX_PULL_LIMIT: u32 = 500;
/// The pseudo-field that carries the tombstone in merges: deleting is writing `true` to it.
pub const DELETED_FIELD: &str = "_deleted";

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            pub fn parse(text: &str) -> Result<$name, String> {
                Uuid::try_parse(text.trim())
                    .map($name)
                    .map_err(|_| format!("mã «{text}» không phải UUID hợp lệ"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A record's id, made on the device that created it (UUIDv7).
    RecordId
);
impl RecordId {
    /// The one record of a unit's data set for a period (a commune's NTM assessment for a year): the
    /// same id on every device (UUIDv5 of the three), so two officers who start it offline write to
    /// one record whose fields merge, not to two records.
    pub fn of_unit_period(data_set: DataSet, unit: &UnitCode, period: &Period) -> RecordId {
        // any fixed namespace will do; this one is the v5 URL namespace
        let name = format!("thidua:{}:{}:{}", data_set.as_str(), unit, period.as_str());
        RecordId(Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()))
    }
}

impl RecordId {
    /// The record a household of `from`'s list becomes in the review of `period` when carried over:
    /// the same id on every device, so two officers carrying the list over offline make one copy.
    pub fn carried(from: RecordId, period: &Period) -> RecordId {
        let name = format!("thidua:carried:{}:{}", from, period.as_str());
        RecordId(Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()))
    }

    /// The one commendation of `example` at `level`: the same id on every device (UUIDv5), so two
    /// supervisors of one level commending the same example concurrently write one record (its
    /// fields merge, or meet as a conflict), never two.
    pub fn commendation(example: RecordId, level: CommendationLevel) -> RecordId {
        let name = format!("thidua:commendation:{}:{}", example, level.as_str());
        RecordId(Uuid::new_v5(&Uuid::NAMESPACE_URL, name.as_bytes()))
    }
}

uuid_id!(
    /// A mutation's id (UUIDv7), for idempotency and for the deterministic conflict winner.
    MutationId
);
uuid_id!(
    /// The browser profile a mutation came from.
    DeviceId
);

/// Makes UUIDv7 ids for one device, strictly increasing even when the clock stalls or steps back,
/// so a device's later edit always has the greater id. Time and randomness are passed in: no I/O here.
#[derive(Debug, Clone, Default)]
pub struct IdGenerator {
    last: Option<Uuid>,
}

impl IdGenerator {
    pub fn new(last: Option<Uuid>) -> IdGenerator {
        IdGenerator { last }
    }

    pub fn next(&mut self, unix_ms: u64, random: [u8; 10]) -> Uuid {
        let candidate = uuid::Builder::from_unix_timestamp_millis(unix_ms, &random).into_uuid();
        let id = match self.last {
            Some(last) if candidate <= last => {
                // same or earlier millisecond: count up in the random bits (the low 62), keeping
                // the version and variant bits
                let v = last.as_u128();
                let low = v & ((1u128 << 62) - 1);
                if low < (1u128 << 62) - 1 {
                    Uuid::from_u128(v + 1)
                } else {
                    let ms = (v >> 80) as u64 + 1;
                    uuid::Builder::from_unix_timestamp_millis(ms, &[0; 10]).into_uuid()
                }
            }
            _ => candidate,
        };
        self.last = Some(id);
        id
    }
}

/// What kind of data a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataSet {
    /// A household of the annual poverty review (rà soát hộ nghèo).
    Household,
    /// A commune's NTM assessment: indicator code → value.
    NtmAssessment,
    /// A unit's report for the directive's targets: target key → {numerator, denominator}.
    IndicatorReport,
    /// An advanced example, initiative or new model a commune reports ([`crate::examples`]).
    AdvancedExample,
    /// A commendation of an advanced example by the district or the province.
    Commendation,
}

impl DataSet {
    /// The name on the wire ("household", "ntm_assessment", "indicator_report",
    /// "advanced_example", "commendation").
    pub fn as_str(self) -> &'static str {
        match self {
            DataSet::Household => "household",
            DataSet::NtmAssessment => "ntm_assessment",
            DataSet::IndicatorReport => "indicator_report",
            DataSet::AdvancedExample => "advanced_example",
            DataSet::Commendation => "commendation",
        }
    }
}

/// The period a record belongs to: a year ("2023") or a month ("2023-06").
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period(String);

impl Period {
    pub fn parse(text: &str) -> Result<Period, String> {
        let b = text.trim().as_bytes();
        let year_ok = b.len() >= 4 && b[..4].iter().all(u8::is_ascii_digit);
        let ok = match b.len() {
            4 => year_ok,
            7 => {
                year_ok
                    && b[4] == b'-'
                    && matches!(
                        &text.trim()[5..7],
                        "01" | "02"
                            | "03"
                            | "04"
                            | "05"
                            | "06"
                            | "07"
                            | "08"
                            | "09"
                            | "10"
                            | "11"
                            | "12"
                    )
            }
            _ => false,
        };
        if ok {
            Ok(Period(text.trim().to_string()))
        } else {
            Err(format!(
                "kỳ báo cáo «{text}» không hợp lệ: dùng năm (2023) hoặc tháng (2023-06)"
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The year the period falls in ("2023" for "2023" and for "2023-06").
    pub fn year(&self) -> u16 {
        // parse checked the four leading digits
        self.0[..4].parse().unwrap_or(0)
    }

    /// The period before: the year before a year ("2022" for "2023"), the month before a month
    /// ("2022-12" for "2023-01"). `None` before year 0001.
    pub fn previous(&self) -> Option<Period> {
        let year: u32 = self.0[..4].parse().ok()?;
        match self.0.len() {
            4 => (year > 1).then(|| Period(format!("{:04}", year - 1))),
            _ => {
                let month: u32 = self.0[5..7].parse().ok()?;
                if month > 1 {
                    Some(Period(format!("{year:04}-{:02}", month - 1)))
                } else {
                    (year > 1).then(|| Period(format!("{:04}-12", year - 1)))
                }
            }
        }
    }

    /// The first day of the period: 1 January of a year, the 1st of a month.
    pub fn first_day(&self) -> crate::Day {
        let text = match self.0.len() {
            4 => format!("{}-01-01", self.0),
            _ => format!("{}-01", self.0),
        };
        crate::Day::parse(&text).expect("a checked period starts on a valid day")
    }
}

impl TryFrom<String> for Period {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Period::parse(&value)
    }
}

impl From<Period> for String {
    fn from(p: Period) -> String {
        p.0
    }
}

pub type Fields = BTreeMap<String, Value>;

/// One side of a conflict: the value one mutation wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConflictVersion {
    pub mutation: MutationId,
    pub device: DeviceId,
    pub value: Value,
}

/// The same field written concurrently with different values. The record shows the winner's value;
/// every version stays here until a person resolves it by writing the field again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub field: String,
    /// Sorted by mutation id; the last one is the winner, unless `held` names another.
    pub versions: Vec<ConflictVersion>,
    /// Set when the record belongs to a report the district accepted (locked): the version of the
    /// accepted value, which stays shown whatever the mutation ids, while a change that arrived after
    /// the lock waits beside it as another version ([`crate::merge::apply_locked`]). Cleared by the
    /// first ordinary merge of the field once the report is returned. Absent on the wire otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<MutationId>,
}

impl Conflict {
    /// The version the record shows: the held (accepted) one when the record is locked, else the
    /// one of the greatest mutation.
    pub fn winner(&self) -> Option<&ConflictVersion> {
        self.held
            .and_then(|held| self.versions.iter().find(|v| v.mutation == held))
            .or_else(|| self.versions.last())
    }
}

/// The writer named by the version of a value that no device wrote: "the record was not in the
/// accepted report" (a record created after the lock is kept deleted, this version holding `true`).
pub const ACCEPTED_REPORT: MutationId = MutationId(Uuid::nil());
/// The device of [`ACCEPTED_REPORT`].
pub const NO_DEVICE: DeviceId = DeviceId(Uuid::nil());

/// A record as devices and the server exchange it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub id: RecordId,
    pub data_set: DataSet,
    pub org_unit: UnitCode,
    pub period: Period,
    pub fields: Fields,
    /// The server's sequence number of the last change; 0 for a record the server has never stored.
    pub revision: u64,
    /// Tombstone: a deleted record stays, so the deletion reaches every device.
    pub deleted: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
}

impl Record {
    /// The record's fields with the tombstone as a field, as the merge sees them.
    pub fn merge_fields(&self) -> Fields {
        let mut fields = self.fields.clone();
        fields.insert(DELETED_FIELD.into(), Value::Bool(self.deleted));
        fields
    }

    /// [`Record::validate_with`] with the directive's 2023 targets.
    pub fn validate(&self, criteria: &CriteriaSet) -> Vec<FieldError> {
        self.validate_with(criteria, &crate::targets::TargetSet::sonla_2023())
    }

    /// Checks the record against the rules of its data set: an NTM assessment against `criteria`,
    /// an indicator report against `targets` (the set in force for its year: only its targets, by
    /// their own rules). Every rejected push names each field and the reason; nothing is stored.
    pub fn validate_with(
        &self,
        criteria: &CriteriaSet,
        targets: &crate::targets::TargetSet,
    ) -> Vec<FieldError> {
        if self.org_unit.as_str().len() != 5 {
            return vec![FieldError::new(
                "org_unit",
                "not_a_commune",
                "Dữ liệu phải ghi cho một xã, phường hoặc thị trấn".into(),
                "Records belong to a commune-level unit".into(),
            )];
        }
        if self.deleted {
            return Vec::new(); // a tombstone's last values need not be valid to delete it
        }
        match self.data_set {
            DataSet::Household => Household::parse_valid(&self.fields)
                .err()
                .unwrap_or_default(),
            DataSet::NtmAssessment => match indicator_values(&self.fields) {
                Ok(values) => criteria.validate_values(&values),
                Err(errors) => errors,
            },
            DataSet::IndicatorReport => validate_report(&self.fields, targets),
            DataSet::AdvancedExample => {
                let mut errors = AdvancedExample::parse_valid(&self.fields)
                    .err()
                    .unwrap_or_default();
                errors.extend(crate::examples::year_period(&self.period));
                errors
            }
            DataSet::Commendation => Commendation::validate_record(self),
        }
    }
}

/// The field of an NTM assessment holding the evidence note for indicator CODE: "evidence/CODE".
pub const EVIDENCE_PREFIX: &str = "evidence/";
/// The longest evidence note, in characters.
pub const MAX_EVIDENCE_CHARS: usize = 2_000;

/// The evidence field's name for an indicator.
pub fn evidence_field(code: &str) -> String {
    format!("{EVIDENCE_PREFIX}{code}")
}

/// The field of an NTM assessment listing the evidence photos of indicator CODE: "photos/CODE", an
/// array of at most [`crate::evidence::MAX_PHOTOS`] photo ids, as a household's `photos`.
pub const PHOTOS_PREFIX: &str = "photos/";

/// The photos field's name for an indicator.
pub fn photos_field(code: &str) -> String {
    format!("{PHOTOS_PREFIX}{code}")
}

/// Reads an NTM assessment's fields as indicator values (evidence notes and photo lists are checked,
/// not values).
pub fn indicator_values(
    fields: &Fields,
) -> Result<BTreeMap<String, IndicatorValue>, Vec<FieldError>> {
    let mut values = BTreeMap::new();
    let mut errors = Vec::new();
    for (code, value) in fields {
        if value.is_null() {
            continue; // cleared: not assessed
        }
        if let Some(indicator) = code.strip_prefix(PHOTOS_PREFIX) {
            if let Err(error) = crate::evidence::parse_photos(
                code,
                value,
                &format!("Ảnh minh chứng của chỉ tiêu {indicator}"),
                &format!("Evidence photos of indicator {indicator}"),
            ) {
                errors.push(error);
            }
            continue;
        }
        if let Some(indicator) = code.strip_prefix(EVIDENCE_PREFIX) {
            match value.as_str() {
                Some(note) if note.chars().count() <= MAX_EVIDENCE_CHARS => {}
                Some(_) => errors.push(FieldError::new(
                    code,
                    "too_long",
                    format!("Minh chứng của chỉ tiêu {indicator}: dài quá {MAX_EVIDENCE_CHARS} ký tự; hãy viết ngắn lại"),
                    format!("Evidence for indicator {indicator}: longer than {MAX_EVIDENCE_CHARS} characters"),
                )),
                None => errors.push(FieldError::new(
                    code,
                    "wrong_type",
                    format!("Minh chứng của chỉ tiêu {indicator}: phải là chữ"),
                    format!("Evidence for indicator {indicator}: must be text"),
                )),
            }
            continue;
        }
        match serde_json::from_value::<IndicatorValue>(value.clone()) {
            Ok(v) => {
                values.insert(code.clone(), v);
            }
            Err(_) => errors.push(FieldError::new(
                code,
                "wrong_type",
                format!("Chỉ tiêu {code}: phải là có/không, một số hoặc chữ"),
                format!("Indicator {code}: must be yes/no, a number or text"),
            )),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// A unit's report for the directive's targets: each field is a target key holding
/// `{"numerator": n, "denominator": d}` in whole numbers. For a share (a rate in percent) the part can
/// never exceed its total: 1,200 cultural families out of 1,000 households is a typing mistake.
fn validate_report(fields: &Fields, targets: &crate::targets::TargetSet) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, value) in fields {
        let Some(target) = targets.targets.iter().find(|t| &t.key == key) else {
            errors.push(FieldError::new(
                key,
                "unknown_target",
                format!("«{key}» không phải chỉ tiêu nào của chỉ thị"),
                format!("«{key}» is not a target of the directive"),
            ));
            continue;
        };
        let tally = value.as_object().and_then(|o| {
            Some((
                o.get("numerator")?.as_i64()?,
                o.get("denominator")?.as_i64()?,
            ))
        });
        match (tally, &target.measure) {
            (Some((n, d)), _) if n < 0 || d < 0 => errors.push(FieldError::new(
                key,
                "negative",
                format!("{}: số liệu không được âm", target.name_vi),
                format!("{}: figures cannot be negative", target.name_en),
            )),
            (Some((n, d)), crate::targets::Measure::Rate { scale: 100, numerator_vi, denominator_vi, .. })
                if n > d =>
            {
                errors.push(FieldError::new(
                    key,
                    "part_exceeds_total",
                    format!(
                        "{}: {numerator_vi} ({n}) không được lớn hơn {denominator_vi} ({d}); hãy kiểm tra lại số liệu",
                        target.name_vi
                    ),
                    format!(
                        "{}: the part ({n}) cannot exceed the total ({d})",
                        target.name_en
                    ),
                ))
            }
            (Some(_), _) => {}
            (None, _) => errors.push(FieldError::new(
                key,
                "wrong_type",
                format!("{}: cần tử số và mẫu số là số nguyên", target.name_vi),
                format!("{}: needs a whole-number numerator and denominator", target.name_en),
            )),
        }
    }
    errors
}

/// A change made on a device, as it sits in the outbox and travels in a push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutation {
    pub id: MutationId,
    pub device: DeviceId,
    /// The record as the device wants it; its `revision` is ignored in favour of `base_revision`.
    pub record: Record,
    /// The revision the device's change was based on; 0 when the device created the record.
    pub base_revision: u64,
    /// The fields the device changed since `base_revision` (all of them for a new record). Only these
    /// are written; the server keeps its own value of every other field.
    pub changed: BTreeSet<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub protocol: u16,
    pub device: DeviceId,
    pub mutations: Vec<Mutation>,
}

/// What became of one mutation.
/// On the wire: `{"applied": {"revision": 3}}`, `{"rejected": {"errors": [...]}}`, … (externally
/// tagged, which the browser reads without buffering the whole answer first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Based on the latest revision (or new): written as sent.
    Applied { revision: u64 },
    /// Based on an older revision; the fields changed on each side do not overlap, so both were kept.
    Merged {
        revision: u64,
        kept_from_server: Vec<String>,
    },
    /// The same fields changed on both sides: both versions kept on the record, winner shown.
    /// `locked`: the record belongs to a report the district accepted, so the change was not applied
    /// over the accepted values: each changed field keeps its accepted value shown and the device's
    /// value waits beside it as a conflict version, until the report is returned and someone settles
    /// it (absent on the wire when false, so older devices read it as an ordinary conflict).
    Conflict {
        revision: u64,
        fields: Vec<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        locked: bool,
    },
    /// Not stored: each field and the reason. The device keeps the change, marked "needs a fix".
    Rejected { errors: Vec<FieldError> },
}

impl Outcome {
    pub fn revision(&self) -> Option<u64> {
        match self {
            Outcome::Applied { revision }
            | Outcome::Merged { revision, .. }
            | Outcome::Conflict { revision, .. } => Some(*revision),
            Outcome::Rejected { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MutationResult {
    pub mutation: MutationId,
    pub outcome: Outcome,
    /// The record as the server now holds it, so the device can replace its copy at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<Record>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushResponse {
    pub protocol: u16,
    /// One per mutation, in the order sent.
    pub results: Vec<MutationResult>,
}

/// Where a pull continues from; opaque to devices (the server encodes its sequence in it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(pub String);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub protocol: u16,
    /// None: from the beginning.
    #[serde(default)]
    pub cursor: Option<Cursor>,
    /// At most [`MAX_PULL_LIMIT`].
    pub limit: u32,
    /// Only records of this unit (a commune, or everything under a district or province).
    #[serde(default)]
    pub org_unit: Option<UnitCode>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullResponse {
    pub protocol: u16,
    pub records: Vec<Record>,
    pub next_cursor: Cursor,
    pub has_more: bool,
}

/// The `format` of an [`UnsyncedExport`] file.
pub const UNSYNCED_EXPORT_FORMAT: &str = "thidua-unsynced";
/// The version of that file format.
pub const UNSYNCED_EXPORT_VERSION: u16 = 1;

/// What "Xuất dữ liệu chưa đồng bộ" writes: every change the device has not had acknowledged (its
/// outbox, refused ones included), for the province administrator to import on the server when the
/// tablet will never reach it. Importing applies the mutations exactly as a push from that device by
/// that user would, so importing twice, or after the device did sync after all, changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnsyncedExport {
    /// Always [`UNSYNCED_EXPORT_FORMAT`].
    pub format: String,
    /// [`UNSYNCED_EXPORT_VERSION`] when written.
    pub format_version: u16,
    /// The protocol version the mutations follow.
    pub protocol: u16,
    pub device: DeviceId,
    /// The account signed in on the device: the import writes with that account's scope.
    pub user_id: String,
    pub username: String,
    pub org_unit: UnitCode,
    /// The device's clock when exported (Unix ms): shown to the administrator, never used to order.
    pub exported_at_ms: u64,
    pub mutations: Vec<Mutation>,
}
