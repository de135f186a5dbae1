//! The advanced-example register and its commendations: what the form and the server accept.

use proptest::prelude::*;
use serde_json::{json, Value};
use thidua_domain::criteria::CriteriaSet;
use thidua_domain::examples::{
    AdvancedExample, Commendation, CommendationLevel, ExampleKind, MAX_DESCRIPTION_CHARS,
    MAX_FIELD_CHARS, MAX_HOLDER_CHARS, MAX_NOTE_CHARS, MAX_TITLE_CHARS,
};
use thidua_domain::org::UnitCode;
use thidua_domain::protocol::{DataSet, Fields, Period, Record, RecordId};
use uuid::Uuid;

/// A new id each call (the domain crate has no clock or randomness to make UUIDv7s with).
fn fresh() -> Uuid {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Uuid::from_u128(0x0190_f1c2_5b3a_7000_8000_0000_0000_0000 | u128::from(n))
}

fn fields(value: Value) -> Fields {
    serde_json::from_value(value).unwrap()
}

fn example_fields() -> Fields {
    fields(json!({
        "kind": "mo_hinh",
        "title": "  Mô hình trồng cà phê xen cây ăn quả  ",
        "holder": "Hợp tác xã Bản Hụm",
        "field": "Nông nghiệp",
        "description": "Năng suất tăng 30% sau hai năm.",
        "photos": ["0190f1c2-5b3a-7d4e-8f60-1a2b3c4d5e6f"]
    }))
}

fn codes(errors: &[thidua_domain::FieldError]) -> Vec<(String, String)> {
    errors
        .iter()
        .map(|e| (e.field.clone(), e.code.clone()))
        .collect()
}

#[test]
fn a_valid_example_reads_trimmed_and_round_trips() {
    let example = AdvancedExample::parse_valid(&example_fields()).unwrap();
    assert_eq!(example.kind, ExampleKind::MoHinh);
    assert_eq!(example.title, "Mô hình trồng cà phê xen cây ăn quả");
    assert_eq!(
        example.photos,
        vec![Uuid::parse_str("0190f1c2-5b3a-7d4e-8f60-1a2b3c4d5e6f").unwrap()]
    );
    assert_eq!(
        AdvancedExample::parse_valid(&example.to_fields()).unwrap(),
        example
    );
    // description and photos may be left out
    let mut bare = example_fields();
    bare.remove("description");
    bare.remove("photos");
    let bare = AdvancedExample::parse_valid(&bare).unwrap();
    assert_eq!(bare.description, "");
    assert!(bare.photos.is_empty());
}

#[test]
fn every_problem_of_an_example_names_its_field_in_both_languages() {
    let errors = AdvancedExample::parse_valid(&fields(json!({
        "kind": "giai_thuong",
        "title": "   ",
        "field": 5,
        "photos": ["not-a-uuid"],
        "colour": "red"
    })))
    .unwrap_err();
    assert_eq!(
        codes(&errors),
        [
            ("kind", "wrong_value"),
            ("title", "required"),
            ("holder", "required"),
            ("field", "wrong_type"),
            ("photos", "wrong_value"),
            ("colour", "unknown_field"),
        ]
        .map(|(f, c)| (f.to_string(), c.to_string()))
    );
    for error in &errors {
        assert!(!error.message_vi.is_empty() && !error.message_en.is_empty());
        assert_ne!(error.message_vi, error.message_en, "{error:?}");
    }
    assert!(
        errors[1].message_vi.starts_with("Tên điển hình"),
        "{errors:?}"
    );
    let missing_kind = AdvancedExample::parse_valid(&fields(json!({
        "title": "A", "holder": "B", "field": "C"
    })))
    .unwrap_err();
    assert_eq!(codes(&missing_kind), [("kind".into(), "required".into())]);
}

#[test]
fn photos_are_at_most_ten_ids() {
    let ids: Vec<String> = (0..11).map(|_| fresh().to_string()).collect();
    let mut f = example_fields();
    f.insert("photos".into(), json!(ids[..10]));
    assert!(AdvancedExample::parse_valid(&f).is_ok());
    f.insert("photos".into(), json!(ids));
    let errors = AdvancedExample::parse_valid(&f).unwrap_err();
    assert_eq!(
        codes(&errors),
        [("photos".into(), "too_many_photos".into())]
    );
    f.insert(
        "photos".into(),
        json!("0190f1c2-5b3a-7d4e-8f60-1a2b3c4d5e6f"),
    );
    assert_eq!(
        AdvancedExample::parse_valid(&f).unwrap_err()[0].code,
        "wrong_type"
    );
    f.insert("photos".into(), Value::Null);
    assert!(AdvancedExample::parse_valid(&f).unwrap().photos.is_empty());
}

/// (field, the most characters it takes, whether it may be empty)
const TEXT_FIELDS: [(&str, usize, bool); 4] = [
    ("title", MAX_TITLE_CHARS, false),
    ("holder", MAX_HOLDER_CHARS, false),
    ("field", MAX_FIELD_CHARS, false),
    ("description", MAX_DESCRIPTION_CHARS, true),
];

proptest! {
    /// Each text field is accepted exactly when its trimmed length is within its bounds, counted in
    /// characters (Vietnamese letters are several bytes), whatever surrounds it.
    #[test]
    fn text_lengths_are_counted_in_trimmed_characters(
        which in 0..TEXT_FIELDS.len(),
        length in 0usize..4_100,
        letter in prop::sample::select(vec!['a', 'ệ', 'Đ', 'ữ']),
        padding in 0usize..3,
        kind in prop::sample::select(ExampleKind::ALL.to_vec()),
    ) {
        let (name, max, may_be_empty) = TEXT_FIELDS[which];
        let pad = " ".repeat(padding);
        let text = format!("{pad}{}{pad}", letter.to_string().repeat(length));
        let mut f = example_fields();
        f.insert("kind".into(), json!(kind.as_str()));
        f.insert(name.into(), json!(text));
        let accepted = length <= max && (may_be_empty || length >= 1);
        match AdvancedExample::parse_valid(&f) {
            Ok(example) => {
                prop_assert!(accepted, "{name} of {length} accepted");
                prop_assert_eq!(example.kind, kind);
                let value = example.to_fields()[name].clone();
                prop_assert_eq!(value.as_str().unwrap().chars().count(), length);
            }
            Err(errors) => {
                prop_assert!(!accepted, "{name} of {length} refused: {errors:?}");
                prop_assert_eq!(errors.len(), 1);
                prop_assert_eq!(&errors[0].field, name);
                let expected = if length == 0 { "required" } else { "too_long" };
                prop_assert_eq!(&errors[0].code, expected);
            }
        }
    }

    /// Only the three kinds' own words are kinds.
    #[test]
    fn only_the_three_kinds_are_accepted(word in "[a-z_]{0,12}") {
        let mut f = example_fields();
        f.insert("kind".into(), json!(word));
        let known = ["dien_hinh", "sang_kien", "mo_hinh"].contains(&word.as_str());
        prop_assert_eq!(AdvancedExample::parse_valid(&f).is_ok(), known);
    }

    /// A note is accepted up to its limit; anything else of a commendation stays valid.
    #[test]
    fn commendation_notes_up_to_their_limit(length in 0usize..1_100, province in any::<bool>()) {
        let example = RecordId(fresh());
        let level = if province { CommendationLevel::Province } else { CommendationLevel::District };
        let c = Commendation { example, level, note: "ố".repeat(length) };
        let parsed = Commendation::parse_valid(&c.to_fields());
        if length <= MAX_NOTE_CHARS {
            prop_assert_eq!(parsed.unwrap(), c);
        } else {
            let errors = parsed.unwrap_err();
            prop_assert_eq!(codes(&errors), vec![("note".to_string(), "too_long".to_string())]);
        }
    }
}

#[test]
fn kinds_and_levels_have_labels_in_both_languages() {
    for kind in ExampleKind::ALL {
        assert_eq!(ExampleKind::parse(kind.as_str()), Some(kind));
        assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        assert_ne!(kind.label_vi(), kind.label_en());
    }
    assert_eq!(ExampleKind::DienHinh.label_vi(), "Điển hình tiên tiến");
    for level in CommendationLevel::ALL {
        assert_eq!(CommendationLevel::parse(level.as_str()), Some(level));
        assert_eq!(serde_json::to_value(level).unwrap(), json!(level.as_str()));
    }
}

fn record(data_set: DataSet, id: RecordId, fields: Fields) -> Record {
    Record {
        id,
        data_set,
        org_unit: UnitCode::parse("03646").unwrap(),
        period: Period::parse("2023").unwrap(),
        fields,
        revision: 0,
        deleted: false,
        conflicts: vec![],
    }
}

#[test]
fn a_commendation_has_one_id_per_example_and_level() {
    let example = RecordId(fresh());
    let district = RecordId::commendation(example, CommendationLevel::District);
    assert_eq!(
        district,
        RecordId::commendation(example, CommendationLevel::District)
    );
    assert_ne!(
        district,
        RecordId::commendation(example, CommendationLevel::Province)
    );
    assert_ne!(
        district,
        RecordId::commendation(RecordId(fresh()), CommendationLevel::District)
    );
    assert_eq!(district.0.get_version_num(), 5);
}

#[test]
fn records_of_examples_and_commendations_are_validated_by_their_rules() {
    let criteria = CriteriaSet::ntm_2021_2025();
    let example_id = RecordId(fresh());
    let mut example = record(DataSet::AdvancedExample, example_id, example_fields());
    assert!(example.validate(&criteria).is_empty());
    example.fields.insert("title".into(), json!(""));
    assert_eq!(example.validate(&criteria)[0].field, "title");
    example.period = Period::parse("2023-06").unwrap();
    example.fields = example_fields();
    assert_eq!(example.validate(&criteria)[0].code, "not_a_year");

    let commendation = Commendation {
        example: example_id,
        level: CommendationLevel::District,
        note: "Biểu dương trước toàn huyện".into(),
    };
    let mut record_c = record(
        DataSet::Commendation,
        commendation.record_id(),
        commendation.to_fields(),
    );
    assert!(record_c.validate(&criteria).is_empty());
    assert_eq!(
        Commendation::identity(&record_c),
        Some((example_id, CommendationLevel::District))
    );
    // the same fields under another id: refused, and not taken for that commendation
    record_c.id = RecordId(fresh());
    assert_eq!(record_c.validate(&criteria)[0].code, "wrong_id");
    assert_eq!(Commendation::identity(&record_c), None);
    // a tombstone claiming the province level under the district's id is not the province's
    record_c.id = commendation.record_id();
    record_c.deleted = true;
    record_c.fields.insert("level".into(), json!("province"));
    assert_eq!(Commendation::identity(&record_c), None);

    let errors =
        Commendation::parse_valid(&fields(json!({"level": "commune", "note": 3}))).unwrap_err();
    assert_eq!(
        codes(&errors),
        [
            ("example", "required"),
            ("level", "wrong_value"),
            ("note", "wrong_type")
        ]
        .map(|(f, c)| (f.to_string(), c.to_string()))
    );
    assert!(errors[1].message_vi.starts_with("Cấp khen"), "{errors:?}");
}

#[test]
fn data_sets_have_their_wire_names() {
    for (set, name) in [
        (DataSet::AdvancedExample, "advanced_example"),
        (DataSet::Commendation, "commendation"),
    ] {
        assert_eq!(set.as_str(), name);
        assert_eq!(serde_json::to_value(set).unwrap(), json!(name));
    }
}

#[test]
fn an_example_may_carry_where_it_is_with_its_accuracy() {
    let mut with_place = example_fields();
    with_place.insert(
        "position".into(),
        json!({"lat": 21.3256, "lon": 103.9188, "accuracy_m": 12.0, "at_ms": 1_700_000_000_000u64}),
    );
    let example = AdvancedExample::parse_valid(&with_place).unwrap();
    let position = example.position.expect("kept");
    assert_eq!(
        (position.lat, position.lon, position.accuracy_m),
        (21.3256, 103.9188, 12.0)
    );
    assert_eq!(
        AdvancedExample::parse_valid(&example.to_fields()).unwrap(),
        example
    );
    // a latitude off the globe is refused, naming the field
    with_place.insert(
        "position".into(),
        json!({"lat": 121.0, "lon": 103.9, "accuracy_m": 12.0, "at_ms": 1}),
    );
    let errors = AdvancedExample::parse_valid(&with_place).unwrap_err();
    assert_eq!(
        codes(&errors),
        vec![("position".into(), "wrong_value".into())]
    );
}
