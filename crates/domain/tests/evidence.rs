//! Evidence photos: the photos fields of households and NTM assessments, and the upload's rules.

use proptest::prelude::*;
use serde_json::{json, Value};
use thidua_domain::criteria::CriteriaSet;
use thidua_domain::evidence::{
    is_sha256_hex, ImageType, NewEvidence, UploadState, MAX_PHOTOS, PHOTOS_FIELD,
};
use thidua_domain::org::UnitCode;
use thidua_domain::poverty::Household;
use thidua_domain::protocol::{
    indicator_values, photos_field, DataSet, Fields, Period, Record, RecordId, PHOTOS_PREFIX,
};
use uuid::Uuid;

fn household_fields() -> Fields {
    serde_json::from_value(json!({
        "head_name": "Lò Thị Ún", "village": "Bản Cọ", "area": "rural", "members": 3,
        "working_age_members": 2, "children_under_16": 1, "members_16_to_30": 1,
        "income_per_person_month": 1400000
    }))
    .unwrap()
}

fn ids(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| Uuid::from_u128(0x0190_f1c2_5b3a_7000_8000_0000_0000_0000 | i as u128).to_string())
        .collect()
}

proptest! {
    /// A household's photos: any number of ids up to ten, never more, never anything but ids.
    #[test]
    fn a_household_lists_up_to_ten_photo_ids(n in 0usize..20, spoil in proptest::option::of(0usize..20)) {
        let mut list: Vec<Value> = ids(n).into_iter().map(Value::from).collect();
        let spoiled = spoil.filter(|i| *i < n).map(|i| list[i] = json!("IMG_0042.jpg")).is_some();
        let mut fields = household_fields();
        fields.insert(PHOTOS_FIELD.into(), Value::Array(list));
        let result = Household::parse_valid(&fields);
        if n <= MAX_PHOTOS && !spoiled {
            prop_assert!(result.is_ok(), "{:?}", result);
        } else {
            let errors = result.unwrap_err();
            prop_assert_eq!(errors.len(), 1);
            prop_assert_eq!(&errors[0].field, PHOTOS_FIELD);
            let code = if n > MAX_PHOTOS { "too_many_photos" } else { "wrong_value" };
            prop_assert_eq!(&errors[0].code, code);
            prop_assert!(errors[0].message_vi.starts_with("Ảnh minh chứng"), "{}", errors[0].message_vi);
        }
    }
}

#[test]
fn a_household_without_photos_or_with_none_is_valid() {
    let mut fields = household_fields();
    assert!(Household::parse_valid(&fields).is_ok());
    fields.insert(PHOTOS_FIELD.into(), Value::Null);
    assert!(Household::parse_valid(&fields).is_ok());
    fields.insert(PHOTOS_FIELD.into(), json!({"a": 1}));
    assert_eq!(
        Household::parse_valid(&fields).unwrap_err()[0].code,
        "wrong_type"
    );
}

#[test]
fn an_assessment_lists_photos_per_indicator_beside_its_values() {
    let set = CriteriaSet::ntm_2021_2025();
    let unit = UnitCode::parse("03646").unwrap();
    let period = Period::parse("2023").unwrap();
    assert_eq!(photos_field("15.3"), format!("{PHOTOS_PREFIX}15.3"));
    let mut record = Record {
        id: RecordId::of_unit_period(DataSet::NtmAssessment, &unit, &period),
        data_set: DataSet::NtmAssessment,
        org_unit: unit,
        period,
        fields: serde_json::from_value(json!({
            "15.3": 12.5,
            "evidence/15.3": "Báo cáo của trạm y tế xã",
            "photos/15.3": ids(3),
            "photos/1.1": null
        }))
        .unwrap(),
        revision: 0,
        deleted: false,
        conflicts: vec![],
    };
    assert!(
        record.validate(&set).is_empty(),
        "{:?}",
        record.validate(&set)
    );
    // photo lists are not indicator values
    let values = indicator_values(&record.fields).unwrap();
    assert_eq!(values.keys().collect::<Vec<_>>(), ["15.3"]);

    record.fields.insert(photos_field("15.3"), json!(ids(11)));
    let errors = record.validate(&set);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, "photos/15.3");
    assert_eq!(errors[0].code, "too_many_photos");
    assert!(errors[0].message_vi.contains("chỉ tiêu 15.3"), "{errors:?}");
    record.fields.insert(photos_field("15.3"), json!(["x"]));
    assert_eq!(record.validate(&set)[0].code, "wrong_value");
}

#[test]
fn uploads_speak_three_image_types_and_lower_case_checksums() {
    for t in ImageType::ALL {
        assert_eq!(ImageType::parse(t.as_str()), Some(t));
        assert_eq!(serde_json::to_value(t).unwrap(), json!(t.as_str()));
    }
    for bad in [
        "image/gif",
        "IMAGE/JPEG",
        "image/jpeg; q=1",
        "",
        "image/svg+xml",
    ] {
        assert_eq!(ImageType::parse(bad), None, "{bad}");
    }
    let sum = "a".repeat(64);
    assert!(is_sha256_hex(&sum));
    assert!(is_sha256_hex(
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    ));
    assert!(!is_sha256_hex(&"A".repeat(64)));
    assert!(!is_sha256_hex(&"a".repeat(63)));
    assert!(!is_sha256_hex(&"g".repeat(64)));

    // the wire shapes the app and the server share
    let new = NewEvidence {
        id: Uuid::from_u128(1),
        unit: UnitCode::parse("03646").unwrap(),
        record: RecordId(Uuid::from_u128(2)),
        size: 200_000,
        content_type: "image/jpeg".into(),
        sha256: sum,
    };
    let value = serde_json::to_value(&new).unwrap();
    assert_eq!(
        value.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["content_type", "id", "record", "sha256", "size", "unit"]
    );
    let state: UploadState = serde_json::from_value(json!({
        "id": "00000000-0000-0000-0000-000000000001", "size": 10, "received": 6, "complete": false
    }))
    .unwrap();
    assert_eq!(state.received, 6);
}
