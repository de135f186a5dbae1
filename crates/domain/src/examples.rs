//! The register of advanced examples (điển hình tiên tiến, sáng kiến, mô hình mới) the 2023 directive
//! asks each commune to find and report, and the commendations (khen ngợi, biểu dương) the district
//! and the province give them.
//!
//! Both are synced records like households ([`crate::protocol::DataSet::AdvancedExample`],
//! [`crate::protocol::DataSet::Commendation`]):
//! - an example belongs to its commune and a year, with a fresh UUIDv7 per example;
//! - a commendation belongs to the example's commune and year too, so the commune's devices pull it,
//!   and its id is derived from the example and the level ([`RecordId::commendation`]): two
//!   supervisors of one level who commend the same example at the same time write one record (whose
//!   note merges, or meets as a conflict), never two. Withdrawing a commendation deletes the record.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::evidence::{parse_photos, PHOTOS_FIELD};
use crate::poverty::{Position, POSITION};
use crate::protocol::{Fields, Period, Record, RecordId};
use crate::FieldError;

/// Longest title of an example, in characters (after trimming).
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest name of the unit or person holding the example.
pub const MAX_HOLDER_CHARS: usize = 200;
/// Longest name of the field (lĩnh vực) of the example.
pub const MAX_FIELD_CHARS: usize = 100;
/// Longest description of an example.
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// Longest note of a commendation.
pub const MAX_NOTE_CHARS: usize = 1_000;

/// What kind of example it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ExampleKind {
    /// Điển hình tiên tiến: an outstanding unit or person.
    #[serde(rename = "dien_hinh")]
    DienHinh,
    /// Sáng kiến: an initiative.
    #[serde(rename = "sang_kien")]
    SangKien,
    /// Mô hình mới: a new model (of production, of organisation).
    #[serde(rename = "mo_hinh")]
    MoHinh,
}

impl ExampleKind {
    pub const ALL: [ExampleKind; 3] = [
        ExampleKind::DienHinh,
        ExampleKind::SangKien,
        ExampleKind::MoHinh,
    ];

    /// The stored word: "dien_hinh", "sang_kien", "mo_hinh".
    pub fn as_str(self) -> &'static str {
        match self {
            ExampleKind::DienHinh => "dien_hinh",
            ExampleKind::SangKien => "sang_kien",
            ExampleKind::MoHinh => "mo_hinh",
        }
    }

    pub fn parse(text: &str) -> Option<ExampleKind> {
        ExampleKind::ALL.into_iter().find(|k| k.as_str() == text)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            ExampleKind::DienHinh => "Điển hình tiên tiến",
            ExampleKind::SangKien => "Sáng kiến",
            ExampleKind::MoHinh => "Mô hình mới",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            ExampleKind::DienHinh => "Advanced example",
            ExampleKind::SangKien => "Initiative",
            ExampleKind::MoHinh => "New model",
        }
    }
}

/// An advanced example as the commune officer enters it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvancedExample {
    pub kind: ExampleKind,
    /// Tên điển hình, sáng kiến hoặc mô hình.
    pub title: String,
    /// Đơn vị hoặc cá nhân: who holds it.
    pub holder: String,
    /// Lĩnh vực: agriculture, education, security…
    pub field: String,
    /// Mô tả: what was done and what came of it; may be empty.
    pub description: String,
    /// Evidence photos, by id ([`crate::evidence`]).
    pub photos: Vec<Uuid>,
    /// Where it is (a model's field, a work), taken on demand with the tablet's GPS.
    #[serde(default)]
    pub position: Option<Position>,
}

const EXAMPLE_FIELDS: [&str; 7] = [
    "kind",
    "title",
    "holder",
    "field",
    "description",
    PHOTOS_FIELD,
    POSITION,
];

/// Vietnamese and English labels of an example's field, so messages name it as the form does.
pub fn example_field_label(field: &str) -> (&'static str, &'static str) {
    match field {
        "kind" => ("Loại", "Kind"),
        "title" => ("Tên điển hình, sáng kiến, mô hình", "Title"),
        "holder" => ("Đơn vị hoặc cá nhân", "Unit or person"),
        "field" => ("Lĩnh vực", "Field"),
        "description" => ("Mô tả", "Description"),
        PHOTOS_FIELD => ("Ảnh minh chứng", "Evidence photos"),
        POSITION => ("Vị trí", "Position"),
        "example" => ("Điển hình được khen", "Example commended"),
        "level" => ("Cấp khen", "Level"),
        "note" => ("Lời khen", "Note"),
        _ => ("Trường", "Field"),
    }
}

impl AdvancedExample {
    /// The record fields: one per value, so two officers editing different parts merge.
    pub fn to_fields(&self) -> Fields {
        let mut f = BTreeMap::new();
        f.insert("kind".into(), Value::from(self.kind.as_str()));
        f.insert("title".into(), Value::from(self.title.clone()));
        f.insert("holder".into(), Value::from(self.holder.clone()));
        f.insert("field".into(), Value::from(self.field.clone()));
        f.insert("description".into(), Value::from(self.description.clone()));
        f.insert(
            PHOTOS_FIELD.into(),
            Value::Array(
                self.photos
                    .iter()
                    .map(|p| Value::from(p.to_string()))
                    .collect(),
            ),
        );
        if let Some(position) = &self.position {
            f.insert(
                POSITION.into(),
                serde_json::to_value(position).unwrap_or(Value::Null),
            );
        }
        f
    }

    /// Reads and validates record fields: what the server runs on every pushed example and the form
    /// runs as the officer types. Every problem names its field; texts come back trimmed.
    pub fn parse_valid(fields: &Fields) -> Result<AdvancedExample, Vec<FieldError>> {
        let mut errors = Vec::new();
        let kind = match fields.get("kind") {
            None | Some(Value::Null) => {
                errors.push(err(
                    "kind",
                    "required",
                    "chưa chọn; hãy chọn điển hình tiên tiến, sáng kiến hoặc mô hình mới".into(),
                    "not chosen; choose advanced example, initiative or new model".into(),
                ));
                None
            }
            Some(value) => {
                let kind = value.as_str().and_then(ExampleKind::parse);
                if kind.is_none() {
                    errors.push(err(
                        "kind",
                        "wrong_value",
                        "phải là «dien_hinh» (điển hình tiên tiến), «sang_kien» (sáng kiến) hoặc \
                         «mo_hinh» (mô hình mới)"
                            .into(),
                        "must be dien_hinh (advanced example), sang_kien (initiative) or mo_hinh \
                         (new model)"
                            .into(),
                    ));
                }
                kind
            }
        };
        let title = text(fields, "title", 1, MAX_TITLE_CHARS, &mut errors);
        let holder = text(fields, "holder", 1, MAX_HOLDER_CHARS, &mut errors);
        let field = text(fields, "field", 1, MAX_FIELD_CHARS, &mut errors);
        let description = text(fields, "description", 0, MAX_DESCRIPTION_CHARS, &mut errors);
        let photos = photos(fields, &mut errors);
        let position = Position::of_fields(fields).unwrap_or_else(|e| {
            errors.push(e);
            None
        });
        unknown_fields(
            fields,
            &EXAMPLE_FIELDS,
            "phiếu điển hình",
            "example form",
            &mut errors,
        );
        match kind {
            Some(kind) if errors.is_empty() => Ok(AdvancedExample {
                kind,
                title,
                holder,
                field,
                description,
                photos,
                position,
            }),
            _ => Err(errors),
        }
    }
}

/// Who commends: the district (huyện) or the province (tỉnh).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommendationLevel {
    District,
    Province,
}

impl CommendationLevel {
    pub const ALL: [CommendationLevel; 2] =
        [CommendationLevel::District, CommendationLevel::Province];

    /// The stored word: "district", "province".
    pub fn as_str(self) -> &'static str {
        match self {
            CommendationLevel::District => "district",
            CommendationLevel::Province => "province",
        }
    }

    pub fn parse(text: &str) -> Option<CommendationLevel> {
        CommendationLevel::ALL
            .into_iter()
            .find(|l| l.as_str() == text)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            CommendationLevel::District => "cấp huyện",
            CommendationLevel::Province => "cấp tỉnh",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            CommendationLevel::District => "district",
            CommendationLevel::Province => "province",
        }
    }
}

/// A commendation of one example by one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commendation {
    /// The example's record id.
    pub example: RecordId,
    pub level: CommendationLevel,
    /// What the supervisor says of it; may be empty.
    pub note: String,
}

const COMMENDATION_FIELDS: [&str; 3] = ["example", "level", "note"];

impl Commendation {
    /// The one record of this commendation: [`RecordId::commendation`] of the example and level.
    pub fn record_id(&self) -> RecordId {
        RecordId::commendation(self.example, self.level)
    }

    pub fn to_fields(&self) -> Fields {
        let mut f = BTreeMap::new();
        f.insert("example".into(), Value::from(self.example.to_string()));
        f.insert("level".into(), Value::from(self.level.as_str()));
        f.insert("note".into(), Value::from(self.note.clone()));
        f
    }

    /// Reads and validates record fields; the note comes back trimmed.
    pub fn parse_valid(fields: &Fields) -> Result<Commendation, Vec<FieldError>> {
        let mut errors = Vec::new();
        let example = match fields.get("example") {
            None | Some(Value::Null) => {
                errors.push(err(
                    "example",
                    "required",
                    "chưa chọn điển hình được khen".into(),
                    "the example commended is missing".into(),
                ));
                None
            }
            Some(value) => {
                let id = value.as_str().and_then(|t| RecordId::parse(t).ok());
                if id.is_none() {
                    errors.push(err(
                        "example",
                        "wrong_value",
                        "phải là mã (UUID) của bản ghi điển hình".into(),
                        "must be the id (a UUID) of the example's record".into(),
                    ));
                }
                id
            }
        };
        let level = match fields.get("level") {
            None | Some(Value::Null) => {
                errors.push(err(
                    "level",
                    "required",
                    "chưa chọn cấp khen (huyện hoặc tỉnh)".into(),
                    "the level (district or province) is missing".into(),
                ));
                None
            }
            Some(value) => {
                let level = value.as_str().and_then(CommendationLevel::parse);
                if level.is_none() {
                    errors.push(err(
                        "level",
                        "wrong_value",
                        "phải là «district» (cấp huyện) hoặc «province» (cấp tỉnh)".into(),
                        "must be district or province".into(),
                    ));
                }
                level
            }
        };
        let note = text(fields, "note", 0, MAX_NOTE_CHARS, &mut errors);
        unknown_fields(
            fields,
            &COMMENDATION_FIELDS,
            "phiếu khen",
            "commendation",
            &mut errors,
        );
        match (example, level) {
            (Some(example), Some(level)) if errors.is_empty() => Ok(Commendation {
                example,
                level,
                note,
            }),
            _ => Err(errors),
        }
    }

    /// The example and level a commendation record is for, read from its fields and accepted only
    /// when the record's id is the one they make. Deleted or not: this is what says who may write
    /// (or withdraw) the record, so a tombstone cannot claim another level than its id's.
    pub fn identity(record: &Record) -> Option<(RecordId, CommendationLevel)> {
        let example = RecordId::parse(record.fields.get("example")?.as_str()?).ok()?;
        let level = CommendationLevel::parse(record.fields.get("level")?.as_str()?)?;
        (RecordId::commendation(example, level) == record.id).then_some((example, level))
    }

    /// Every rule of a commendation record (not deleted): its fields, its id made from its example
    /// and level, and a year as its period (the example's).
    pub fn validate_record(record: &Record) -> Vec<FieldError> {
        let mut errors = match Commendation::parse_valid(&record.fields) {
            Ok(c) if c.record_id() != record.id => vec![FieldError::new(
                "id",
                "wrong_id",
                "Mã bản ghi khen không khớp với điển hình và cấp khen; hãy cập nhật ứng dụng rồi khen lại"
                    .into(),
                "The commendation's record id does not match its example and level; update the app \
                 and commend again"
                    .into(),
            )],
            Ok(_) => Vec::new(),
            Err(errors) => errors,
        };
        errors.extend(year_period(&record.period));
        errors
    }
}

/// An example or commendation belongs to a year ("2023"), not a month.
pub(crate) fn year_period(period: &Period) -> Option<FieldError> {
    (period.as_str().len() != 4).then(|| {
        FieldError::new(
            "period",
            "not_a_year",
            format!(
                "Điển hình và khen thưởng ghi theo năm (ví dụ 2023), không theo tháng ({})",
                period.as_str()
            ),
            format!(
                "Examples and commendations belong to a year (such as 2023), not a month ({})",
                period.as_str()
            ),
        )
    })
}

/// A text field of `min..=max` characters once trimmed; a missing or null field is empty.
fn text(
    fields: &Fields,
    name: &str,
    min: usize,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> String {
    let text = match fields.get(name) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(_) => {
            errors.push(err(
                name,
                "wrong_type",
                "phải là chữ".into(),
                "must be text".into(),
            ));
            return String::new();
        }
    };
    let chars = text.chars().count();
    if chars < min {
        errors.push(err(
            name,
            "required",
            "chưa nhập; hãy nhập".into(),
            "is empty; please fill it in".into(),
        ));
    } else if chars > max {
        errors.push(err(
            name,
            "too_long",
            format!("dài {chars} ký tự, tối đa {max}; hãy viết ngắn lại"),
            format!("is {chars} characters long, at most {max}; please shorten it"),
        ));
    }
    text
}

fn photos(fields: &Fields, errors: &mut Vec<FieldError>) -> Vec<Uuid> {
    let Some(value) = fields.get(PHOTOS_FIELD) else {
        return Vec::new();
    };
    let (vi, en) = example_field_label(PHOTOS_FIELD);
    parse_photos(PHOTOS_FIELD, value, vi, en).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    })
}

fn unknown_fields(
    fields: &Fields,
    known: &[&str],
    form_vi: &str,
    form_en: &str,
    errors: &mut Vec<FieldError>,
) {
    for name in fields.keys().filter(|n| !known.contains(&n.as_str())) {
        errors.push(FieldError::new(
            name,
            "unknown_field",
            format!("Trường «{name}» không thuộc {form_vi}"),
            format!("«{name}» is not a field of the {form_en}"),
        ));
    }
}

fn err(field: &str, code: &str, vi: String, en: String) -> FieldError {
    let (label_vi, label_en) = example_field_label(field);
    FieldError::new(
        field,
        code,
        format!("{label_vi}: {vi}"),
        format!("{label_en}: {en}"),
    )
}
