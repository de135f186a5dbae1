//! The multidimensional poverty standard 2022–2025 (chuẩn nghèo đa chiều), Nghị định 07/2021/NĐ-CP.
//!
//! This is law with verified thresholds, so it is code, versioned by its decree, not data a user edits.
//! Income lines (VND per person per month): rural 1,500,000 and 2,250,000; urban 2,000,000 and 3,000,000.
//! - Poor (hộ nghèo): income at or below the poverty line and deprived on 3 or more of the 12 indicators.
//! - Near-poor (hộ cận nghèo): income at or below the poverty line and fewer than 3 deprivations.
//! - Average living standard (hộ có mức sống trung bình): above the poverty line, at or below the upper line.
//! - Above: above the upper line. Above the poverty line a household is never poor, whatever its deprivations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::FieldError;

/// Where the household lives, which sets its income lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    /// Nông thôn
    Rural,
    /// Thành thị
    Urban,
}

/// Income lines in VND per person per month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncomeLines {
    pub poverty_line: i64,
    pub average_upper: i64,
}

/// The decree this module implements.
pub const STANDARD: &str = "Nghị định 07/2021/NĐ-CP (chuẩn nghèo đa chiều giai đoạn 2022–2025)";

/// Deprived on this many indicators or more (with income at or below the line) is poor.
pub const DEPRIVATION_THRESHOLD: usize = 3;

impl Area {
    pub fn lines(self) -> IncomeLines {
        match self {
            Area::Rural => IncomeLines {
                poverty_line: 1_500_000,
                average_upper: 2_250_000,
            },
            Area::Urban => IncomeLines {
                poverty_line: 2_000_000,
                average_upper: 3_000_000,
            },
        }
    }
    pub fn label_vi(self) -> &'static str {
        match self {
            Area::Rural => "Nông thôn",
            Area::Urban => "Thành thị",
        }
    }
}

/// The six dimensions of basic social services.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Employment,
    Health,
    Education,
    Housing,
    WaterSanitation,
    Information,
}

impl Dimension {
    pub fn label_vi(self) -> &'static str {
        match self {
            Dimension::Employment => "Việc làm",
            Dimension::Health => "Y tế",
            Dimension::Education => "Giáo dục",
            Dimension::Housing => "Nhà ở",
            Dimension::WaterSanitation => "Nước sinh hoạt và vệ sinh",
            Dimension::Information => "Thông tin",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Dimension::Employment => "Employment",
            Dimension::Health => "Health",
            Dimension::Education => "Education",
            Dimension::Housing => "Housing",
            Dimension::WaterSanitation => "Water and sanitation",
            Dimension::Information => "Information",
        }
    }
}

/// The 12 deprivation indicators (chỉ số đo lường mức độ thiếu hụt dịch vụ xã hội cơ bản).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deprivation {
    Employment,
    Dependants,
    Nutrition,
    HealthInsurance,
    AdultEducation,
    ChildSchooling,
    HousingQuality,
    FloorArea,
    DomesticWater,
    Latrine,
    TelecomUse,
    InformationDevices,
}

impl Deprivation {
    pub const ALL: [Deprivation; 12] = [
        Deprivation::Employment,
        Deprivation::Dependants,
        Deprivation::Nutrition,
        Deprivation::HealthInsurance,
        Deprivation::AdultEducation,
        Deprivation::ChildSchooling,
        Deprivation::HousingQuality,
        Deprivation::FloorArea,
        Deprivation::DomesticWater,
        Deprivation::Latrine,
        Deprivation::TelecomUse,
        Deprivation::InformationDevices,
    ];

    pub fn dimension(self) -> Dimension {
        use Deprivation::*;
        match self {
            Employment | Dependants => Dimension::Employment,
            Nutrition | HealthInsurance => Dimension::Health,
            AdultEducation | ChildSchooling => Dimension::Education,
            HousingQuality | FloorArea => Dimension::Housing,
            DomesticWater | Latrine => Dimension::WaterSanitation,
            TelecomUse | InformationDevices => Dimension::Information,
        }
    }

    /// The field that carries this indicator in a household record: `dep_employment`, …
    pub fn field(self) -> &'static str {
        use Deprivation::*;
        match self {
            Employment => "dep_employment",
            Dependants => "dep_dependants",
            Nutrition => "dep_nutrition",
            HealthInsurance => "dep_health_insurance",
            AdultEducation => "dep_adult_education",
            ChildSchooling => "dep_child_schooling",
            HousingQuality => "dep_housing_quality",
            FloorArea => "dep_floor_area",
            DomesticWater => "dep_domestic_water",
            Latrine => "dep_latrine",
            TelecomUse => "dep_telecom_use",
            InformationDevices => "dep_information_devices",
        }
    }

    /// Short label for a checkbox, and what makes a household deprived.
    pub fn label_vi(self) -> &'static str {
        use Deprivation::*;
        match self {
            Employment => "Việc làm: có người trong tuổi lao động không có việc làm ổn định",
            Dependants => "Người phụ thuộc: hơn một nửa số người trong hộ",
            Nutrition => "Dinh dưỡng: có trẻ dưới 16 tuổi suy dinh dưỡng",
            HealthInsurance => "Bảo hiểm y tế: có người từ 6 tuổi không có thẻ",
            AdultEducation => "Giáo dục người lớn: có người 16–30 tuổi thiếu bằng cấp theo tuổi",
            ChildSchooling => "Đi học của trẻ em: có trẻ 3–dưới 16 tuổi không học đúng cấp",
            HousingQuality => "Chất lượng nhà ở: nhà thiếu kiên cố",
            FloorArea => "Diện tích nhà ở: dưới 8 m² mỗi người",
            DomesticWater => "Nước sinh hoạt: không có nước sạch",
            Latrine => "Nhà tiêu: không có nhà tiêu hợp vệ sinh",
            TelecomUse => "Viễn thông: không ai dùng internet",
            InformationDevices => "Thiết bị thông tin: không có TV, radio, máy tính, điện thoại",
        }
    }

    pub fn label_en(self) -> &'static str {
        use Deprivation::*;
        match self {
            Employment => "Employment: a working-age member without stable work",
            Dependants => "Dependants: more than half of the members",
            Nutrition => "Nutrition: a child under 16 stunted or underweight",
            HealthInsurance => "Health insurance: a member aged 6+ without it",
            AdultEducation => "Adult education: a member aged 16–30 without the expected diploma",
            ChildSchooling => "Child schooling: a child aged 3–15 not at the right grade",
            HousingQuality => "Housing quality: non-durable dwelling",
            FloorArea => "Floor area: under 8 m² per person",
            DomesticWater => "Domestic water: no clean water",
            Latrine => "Latrine: no hygienic latrine",
            TelecomUse => "Telecom: no member uses the internet",
            InformationDevices => "Information devices: no TV, radio, computer or phone",
        }
    }
}

/// The result of the classification (phân loại hộ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// Hộ nghèo
    Poor,
    /// Hộ cận nghèo
    NearPoor,
    /// Hộ có mức sống trung bình
    AverageLivingStandard,
    /// Above the average living standard band
    Above,
}

impl Classification {
    /// 3 for poor down to 0 for above: more is poorer. Used to state monotonicity.
    pub fn severity(self) -> u8 {
        match self {
            Classification::Poor => 3,
            Classification::NearPoor => 2,
            Classification::AverageLivingStandard => 1,
            Classification::Above => 0,
        }
    }
    pub fn label_vi(self) -> &'static str {
        match self {
            Classification::Poor => "Hộ nghèo",
            Classification::NearPoor => "Hộ cận nghèo",
            Classification::AverageLivingStandard => "Hộ có mức sống trung bình",
            Classification::Above => "Trên mức sống trung bình",
        }
    }
    pub fn label_en(self) -> &'static str {
        match self {
            Classification::Poor => "Poor",
            Classification::NearPoor => "Near-poor",
            Classification::AverageLivingStandard => "Average living standard",
            Classification::Above => "Above average",
        }
    }
}

/// Classifies from income per person per month (VND) and the number of deprivations.
/// Income exactly on a line belongs to the poorer side ("at or below").
pub fn classify(
    area: Area,
    income_per_person_month: i64,
    deprivation_count: usize,
) -> Classification {
    let lines = area.lines();
    if income_per_person_month <= lines.poverty_line {
        if deprivation_count >= DEPRIVATION_THRESHOLD {
            Classification::Poor
        } else {
            Classification::NearPoor
        }
    } else if income_per_person_month <= lines.average_upper {
        Classification::AverageLivingStandard
    } else {
        Classification::Above
    }
}

/// Largest household the form accepts; larger is almost certainly a typing error.
pub const MAX_MEMBERS: i64 = 30;
/// Income per person per month above this (VND) is almost certainly a typing error (an extra zero).
pub const MAX_INCOME: i64 = 200_000_000;
pub const MAX_TEXT: usize = 120;
/// Floor area above this (m²) for a household is almost certainly a typing error.
pub const MAX_FLOOR_AREA: i64 = 2_000;

/// A household of the annual poverty review, as entered by the commune officer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Household {
    /// Chủ hộ
    pub head_name: String,
    /// Thôn, bản, tổ dân phố
    pub village: String,
    pub area: Area,
    /// Số nhân khẩu
    pub members: i64,
    /// Members of working age (trong độ tuổi lao động)
    pub working_age_members: i64,
    /// Children under 16
    pub children_under_16: i64,
    /// Members aged 16 to 30
    pub members_16_to_30: i64,
    /// Thu nhập bình quân đầu người/tháng, VND
    pub income_per_person_month: i64,
    /// Living floor area in m², when measured
    pub floor_area_m2: Option<i64>,
    pub deprivations: Vec<Deprivation>,
}

impl Household {
    pub fn deprivation_count(&self) -> usize {
        Deprivation::ALL
            .iter()
            .filter(|d| self.deprivations.contains(d))
            .count()
    }

    pub fn classification(&self) -> Classification {
        classify(
            self.area,
            self.income_per_person_month,
            self.deprivation_count(),
        )
    }

    /// Every problem with the entry, each naming its field and the reason. Empty means valid.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for (field, text) in [("head_name", &self.head_name), ("village", &self.village)] {
            if text.trim().is_empty() {
                errors.push(err(
                    field,
                    "required",
                    "chưa nhập; hãy nhập",
                    "is empty; please fill it in",
                ));
            } else if text.chars().count() > MAX_TEXT {
                errors.push(err_fmt(
                    field,
                    "too_long",
                    format!("dài quá {MAX_TEXT} ký tự; hãy viết ngắn lại"),
                    format!("is longer than {MAX_TEXT} characters; please shorten it"),
                ));
            }
        }
        if self.members < 1 {
            errors.push(err(
                "members",
                "no_members",
                "phải có ít nhất 1 người",
                "must be at least 1 person",
            ));
        } else if self.members > MAX_MEMBERS {
            errors.push(err_fmt(
                "members",
                "implausible",
                format!(
                    "{} người là quá nhiều cho một hộ (tối đa {MAX_MEMBERS}); hãy kiểm tra lại",
                    self.members
                ),
                format!(
                    "{} people is too many for one household (at most {MAX_MEMBERS}); please check",
                    self.members
                ),
            ));
        }
        for (field, count) in [
            ("working_age_members", self.working_age_members),
            ("children_under_16", self.children_under_16),
            ("members_16_to_30", self.members_16_to_30),
        ] {
            if count < 0 {
                errors.push(err(
                    field,
                    "negative",
                    "không được là số âm",
                    "cannot be negative",
                ));
            } else if self.members >= 1 && count > self.members {
                errors.push(err_fmt(
                    field,
                    "exceeds_members",
                    format!(
                        "{count} nhiều hơn số nhân khẩu ({}); hãy kiểm tra lại",
                        self.members
                    ),
                    format!(
                        "{count} is more than the household's {} members; please check",
                        self.members
                    ),
                ));
            }
        }
        if self.income_per_person_month < 0 {
            errors.push(err(
                "income_per_person_month",
                "negative",
                "thu nhập không được là số âm; hãy nhập 0 nếu hộ không có thu nhập",
                "income cannot be negative; enter 0 if the household has no income",
            ));
        } else if self.income_per_person_month > MAX_INCOME {
            errors.push(err(
                "income_per_person_month",
                "implausible",
                "thu nhập quá lớn (trên 200 triệu đồng/người/tháng); có thể thừa chữ số 0",
                "income is implausibly high (over 200 million VND per person per month); an extra zero?",
            ));
        }
        if let Some(area) = self.floor_area_m2 {
            if area < 0 {
                errors.push(err(
                    "floor_area_m2",
                    "negative",
                    "diện tích không được là số âm",
                    "floor area cannot be negative",
                ));
            } else if area > MAX_FLOOR_AREA {
                errors.push(err(
                    "floor_area_m2",
                    "implausible",
                    "diện tích quá lớn (trên 2.000 m²); hãy kiểm tra lại",
                    "floor area is implausibly large (over 2,000 m²); please check",
                ));
            }
        }
        self.check_deprivations(&mut errors);
        errors
    }

    /// A deprivation that needs a kind of member the household does not have cannot be ticked.
    fn check_deprivations(&self, errors: &mut Vec<FieldError>) {
        let has = |d: Deprivation| self.deprivations.contains(&d);
        let needs: [(Deprivation, i64, &str, &str); 4] = [
            (
                Deprivation::Employment,
                self.working_age_members,
                "người trong tuổi lao động",
                "working-age member",
            ),
            (
                Deprivation::Nutrition,
                self.children_under_16,
                "trẻ em dưới 16 tuổi",
                "child under 16",
            ),
            (
                Deprivation::ChildSchooling,
                self.children_under_16,
                "trẻ em dưới 16 tuổi",
                "child under 16",
            ),
            (
                Deprivation::AdultEducation,
                self.members_16_to_30,
                "người từ 16 đến 30 tuổi",
                "member aged 16 to 30",
            ),
        ];
        for (d, count, who_vi, who_en) in needs {
            if has(d) && count < 1 {
                errors.push(err_fmt(
                    d.field(),
                    "inconsistent",
                    format!("đã đánh dấu thiếu hụt nhưng hộ không có {who_vi}; hãy sửa số người hoặc bỏ đánh dấu"),
                    format!("is ticked but the household has no {who_en}; fix the member counts or untick it"),
                ));
            }
        }
        if has(Deprivation::Dependants)
            && self.members >= 1
            && self.working_age_members >= self.members
        {
            errors.push(err(
                Deprivation::Dependants.field(),
                "inconsistent",
                "đã đánh dấu thiếu hụt người phụ thuộc nhưng mọi người trong hộ đều trong tuổi lao động",
                "dependants are ticked but every member is of working age",
            ));
        }
        if let (Some(area), true) = (self.floor_area_m2, self.members >= 1) {
            // deprived when under 8 m² per person: area < 8 × members
            let deprived = area < 8 * self.members;
            if deprived != has(Deprivation::FloorArea) && area >= 0 {
                let (vi, en) = if deprived {
                    (
                        "diện tích dưới 8 m² mỗi người: cần đánh dấu thiếu hụt diện tích nhà ở",
                        "under 8 m² per person: the floor-area deprivation must be ticked",
                    )
                } else {
                    (
                        "diện tích từ 8 m² mỗi người trở lên: không thiếu hụt diện tích nhà ở",
                        "8 m² or more per person: the floor-area deprivation cannot be ticked",
                    )
                };
                errors.push(err(Deprivation::FloorArea.field(), "inconsistent", vi, en));
            }
        }
    }

    /// The record fields of a household: one field per value, so two officers changing different
    /// values of the same household merge without conflict.
    pub fn to_fields(&self) -> BTreeMap<String, Value> {
        let mut f = BTreeMap::new();
        f.insert("head_name".into(), Value::from(self.head_name.clone()));
        f.insert("village".into(), Value::from(self.village.clone()));
        f.insert(
            "area".into(),
            serde_json::to_value(self.area).expect("enum serializes"),
        );
        f.insert("members".into(), Value::from(self.members));
        f.insert(
            "working_age_members".into(),
            Value::from(self.working_age_members),
        );
        f.insert(
            "children_under_16".into(),
            Value::from(self.children_under_16),
        );
        f.insert(
            "members_16_to_30".into(),
            Value::from(self.members_16_to_30),
        );
        f.insert(
            "income_per_person_month".into(),
            Value::from(self.income_per_person_month),
        );
        f.insert(
            "floor_area_m2".into(),
            self.floor_area_m2.map(Value::from).unwrap_or(Value::Null),
        );
        for d in Deprivation::ALL {
            f.insert(
                d.field().into(),
                Value::from(self.deprivations.contains(&d)),
            );
        }
        f
    }

    /// Reads record fields; a missing or mistyped field is a [`FieldError`] naming it.
    pub fn from_fields(fields: &BTreeMap<String, Value>) -> Result<Household, Vec<FieldError>> {
        let mut errors = Vec::new();
        let text = |name: &str, errors: &mut Vec<FieldError>| match fields.get(name) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(_) => {
                errors.push(err(name, "wrong_type", "phải là chữ", "must be text"));
                String::new()
            }
        };
        let int = |name: &str, errors: &mut Vec<FieldError>| -> Option<i64> {
            match fields.get(name) {
                Some(Value::Number(n)) => match n.as_i64() {
                    Some(v) => Some(v),
                    None => {
                        errors.push(err(
                            name,
                            "wrong_type",
                            "phải là số nguyên",
                            "must be a whole number",
                        ));
                        None
                    }
                },
                Some(Value::Null) | None => None,
                Some(_) => {
                    errors.push(err(name, "wrong_type", "phải là số", "must be a number"));
                    None
                }
            }
        };
        let required = |name: &str, value: Option<i64>, errors: &mut Vec<FieldError>| {
            if value.is_none() && !errors.iter().any(|e| e.field == name) {
                errors.push(err(
                    name,
                    "required",
                    "chưa nhập; hãy nhập số",
                    "is empty; please enter a number",
                ));
            }
            value.unwrap_or(0)
        };
        let head_name = text("head_name", &mut errors);
        let village = text("village", &mut errors);
        let area = match fields.get("area") {
            Some(v) => match serde_json::from_value::<Area>(v.clone()) {
                Ok(a) => a,
                Err(_) => {
                    errors.push(err(
                        "area",
                        "wrong_value",
                        "phải là «rural» (nông thôn) hoặc «urban» (thành thị)",
                        "must be rural or urban",
                    ));
                    Area::Rural
                }
            },
            None => {
                errors.push(err(
                    "area",
                    "required",
                    "chưa chọn nông thôn hay thành thị",
                    "choose rural or urban",
                ));
                Area::Rural
            }
        };
        let members = int("members", &mut errors);
        let members = required("members", members, &mut errors);
        let working_age_members = int("working_age_members", &mut errors).unwrap_or(0);
        let children_under_16 = int("children_under_16", &mut errors).unwrap_or(0);
        let members_16_to_30 = int("members_16_to_30", &mut errors).unwrap_or(0);
        let income = int("income_per_person_month", &mut errors);
        let income_per_person_month = required("income_per_person_month", income, &mut errors);
        let floor_area_m2 = int("floor_area_m2", &mut errors);
        let mut deprivations = Vec::new();
        for d in Deprivation::ALL {
            match fields.get(d.field()) {
                Some(Value::Bool(true)) => deprivations.push(d),
                Some(Value::Bool(false)) | Some(Value::Null) | None => {}
                Some(_) => errors.push(err(
                    d.field(),
                    "wrong_type",
                    "phải là có hoặc không",
                    "must be true or false",
                )),
            }
        }
        if let Err(e) = Position::of_fields(fields) {
            errors.push(e);
        }
        if let Some(photos) = fields.get(crate::evidence::PHOTOS_FIELD) {
            let (vi, en) = field_label(crate::evidence::PHOTOS_FIELD);
            if let Err(error) =
                crate::evidence::parse_photos(crate::evidence::PHOTOS_FIELD, photos, vi, en)
            {
                errors.push(error);
            }
        }
        if let Some(link) = fields.get(CARRIED_FROM) {
            if link
                .as_str()
                .is_none_or(|t| uuid::Uuid::try_parse(t).is_err())
            {
                errors.push(err(
                    CARRIED_FROM,
                    "wrong_type",
                    "phải là mã của hộ trong danh sách năm trước",
                    "must be the id of a household of last year's list",
                ));
            }
        }
        for name in fields.keys() {
            if !KNOWN_FIELDS.contains(&name.as_str())
                && !Deprivation::ALL.iter().any(|d| d.field() == name)
            {
                errors.push(err(
                    name,
                    "unknown_field",
                    "trường này không thuộc phiếu hộ gia đình",
                    "is not a field of the household form",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Household {
            head_name,
            village,
            area,
            members,
            working_age_members,
            children_under_16,
            members_16_to_30,
            income_per_person_month,
            floor_area_m2,
            deprivations,
        })
    }

    /// Reads and validates in one step: what the server runs on every pushed household.
    pub fn parse_valid(fields: &BTreeMap<String, Value>) -> Result<Household, Vec<FieldError>> {
        let household = Household::from_fields(fields)?;
        let errors = household.validate();
        if errors.is_empty() {
            Ok(household)
        } else {
            Err(errors)
        }
    }
}

/// The fields of a household besides the 12 deprivations. `photos` (evidence photo ids, see
/// [`crate::evidence`]) travels beside the form like the position: read by [`Household::from_fields`]
/// for its checks, not part of the [`Household`] the rules classify.
const KNOWN_FIELDS: [&str; 12] = [
    CARRIED_FROM,
    POSITION,
    crate::evidence::PHOTOS_FIELD,
    "head_name",
    "village",
    "area",
    "members",
    "working_age_members",
    "children_under_16",
    "members_16_to_30",
    "income_per_person_month",
    "floor_area_m2",
];

/// Vietnamese and English labels of a household field, so messages can name it.
pub fn field_label(field: &str) -> (&'static str, &'static str) {
    match field {
        "head_name" => ("Họ tên chủ hộ", "Head of household"),
        "village" => ("Thôn, bản", "Village"),
        "area" => ("Khu vực", "Area"),
        "members" => ("Số nhân khẩu", "Members"),
        "working_age_members" => ("Số người trong tuổi lao động", "Working-age members"),
        "children_under_16" => ("Số trẻ em dưới 16 tuổi", "Children under 16"),
        "members_16_to_30" => ("Số người từ 16 đến 30 tuổi", "Members aged 16 to 30"),
        "income_per_person_month" => (
            "Thu nhập bình quân đầu người/tháng",
            "Income per person per month",
        ),
        "floor_area_m2" => ("Diện tích nhà ở (m²)", "Floor area (m²)"),
        crate::evidence::PHOTOS_FIELD => ("Ảnh minh chứng", "Evidence photos"),
        other => Deprivation::ALL
            .into_iter()
            .find(|d| d.field() == other)
            .map(|d| (d.label_vi(), d.label_en()))
            .unwrap_or(("Trường", "Field")),
    }
}

fn err(field: &str, code: &str, vi: &str, en: &str) -> FieldError {
    err_fmt(field, code, vi.to_string(), en.to_string())
}

fn err_fmt(field: &str, code: &str, vi: String, en: String) -> FieldError {
    let (label_vi, label_en) = field_label(field);
    FieldError::new(
        field,
        code,
        format!("{label_vi}: {vi}"),
        format!("{label_en}: {en}"),
    )
}

/// The class of a stored household record, read from only the fields the rule needs (area, income
/// and the 12 deprivations): the same rule as [`Household::classification`], without reading the
/// whole form, for roll-ups over tens of thousands of records. `None` when the area or the income is
/// missing or mistyped (a record the server would not have stored).
pub fn classify_fields(fields: &BTreeMap<String, Value>) -> Option<Classification> {
    let area = match fields.get("area")?.as_str()? {
        "rural" => Area::Rural,
        "urban" => Area::Urban,
        _ => return None,
    };
    let income = fields.get("income_per_person_month")?.as_i64()?;
    let deprivations = Deprivation::ALL
        .iter()
        .filter(|d| fields.get(d.field()) == Some(&Value::Bool(true)))
        .count();
    Some(classify(area, income, deprivations))
}

/// How many households of a group (a village, a commune) fall in each class of the review.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewCount {
    pub households: u32,
    pub poor: u32,
    pub near_poor: u32,
}

impl ReviewCount {
    /// The counts of two groups together (a commune's villages, a district's communes).
    pub fn plus(self, other: ReviewCount) -> ReviewCount {
        ReviewCount {
            households: self.households + other.households,
            poor: self.poor + other.poor,
            near_poor: self.near_poor + other.near_poor,
        }
    }

    pub fn add(&mut self, class: Classification) {
        self.households += 1;
        match class {
            Classification::Poor => self.poor += 1,
            Classification::NearPoor => self.near_poor += 1,
            Classification::AverageLivingStandard | Classification::Above => {}
        }
    }

    /// Tỷ lệ hộ nghèo: poor households over all households, in percent; None for an empty group.
    pub fn poverty_rate(&self) -> Option<f64> {
        (self.households > 0).then(|| 100.0 * f64::from(self.poor) / f64::from(self.households))
    }

    /// Tỷ lệ hộ cận nghèo, in percent.
    /// The change of the poverty and near-poverty rates since `before` (last year's review of the
    /// same village or commune), in percentage points; None where either review has no households.
    pub fn rate_changes(&self, before: &ReviewCount) -> (Option<f64>, Option<f64>) {
        let change = |now: Option<f64>, then: Option<f64>| Some(now? - then?);
        (
            change(self.poverty_rate(), before.poverty_rate()),
            change(self.near_poverty_rate(), before.near_poverty_rate()),
        )
    }

    pub fn near_poverty_rate(&self) -> Option<f64> {
        (self.households > 0)
            .then(|| 100.0 * f64::from(self.near_poor) / f64::from(self.households))
    }
}

/// The totals of a commune's review: per village (bản) and for the commune. Villages are grouped by
/// their accent-free name, so "Bản Hụm" and "bản hụm" typed by two officers are one village.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewTotals {
    /// Search key → (the name as first written, counts), in the key's order.
    pub villages: BTreeMap<String, (String, ReviewCount)>,
    pub commune: ReviewCount,
}

impl ReviewTotals {
    pub fn of<'a>(households: impl IntoIterator<Item = (&'a str, Classification)>) -> ReviewTotals {
        let mut totals = ReviewTotals::default();
        for (village, class) in households {
            let name = village.trim();
            let entry = totals
                .villages
                .entry(crate::text::search_key(name))
                .or_insert_with(|| (name.to_string(), ReviewCount::default()));
            entry.1.add(class);
            totals.commune.add(class);
        }
        totals
    }
}

/// The field linking a household of this year's review to the same household in last year's list
/// (the record it was carried over from). Not part of the form: it travels beside it.
pub const CARRIED_FROM: &str = "carried_from";

/// Households that left poverty (thoát nghèo) or near-poverty since last year's review: each pair is
/// (last year's class, this year's class) of a carried-over household.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Escapes {
    /// Poor last year, not poor now.
    pub left_poverty: u32,
    /// Near-poor last year, neither poor nor near-poor now.
    pub left_near_poverty: u32,
    /// Not poor last year, poor now (tái nghèo).
    pub fell_into_poverty: u32,
}

impl Escapes {
    pub fn of(pairs: impl IntoIterator<Item = (Classification, Classification)>) -> Escapes {
        let mut e = Escapes::default();
        for (before, now) in pairs {
            match (before, now) {
                (Classification::Poor, Classification::Poor) => {}
                (Classification::Poor, _) => e.left_poverty += 1,
                (Classification::NearPoor, Classification::Poor) => e.fell_into_poverty += 1,
                (Classification::NearPoor, Classification::NearPoor) => {}
                (Classification::NearPoor, _) => e.left_near_poverty += 1,
                (_, Classification::Poor) => e.fell_into_poverty += 1,
                _ => {}
            }
        }
        e
    }
}

/// Where a year's periodic review stands on a day (rà soát định kỳ, Quyết định 24/2021/QĐ-TTg): it
/// runs each year from 1 September to 14 December.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewWindow {
    /// Not open yet: days until 1 September.
    NotYet { days: i64 },
    /// Open: days left, 14 December included.
    Open { days_left: i64 },
    /// Ended on 14 December.
    Closed,
}

impl ReviewWindow {
    /// The first and last day (month, day) of the review in every year.
    pub const OPENS: (u32, u32) = (9, 1);
    pub const CLOSES: (u32, u32) = (12, 14);

    /// Where the review of `year` stands on `today`.
    pub fn of(year: u16, today: &crate::Day) -> ReviewWindow {
        let text = today.as_str();
        let part = |r: std::ops::Range<usize>| text[r].parse::<u32>().unwrap_or(1);
        let now = crate::format::days_from_civil(i64::from(today.year()), part(5..7), part(8..10));
        let day = |(m, d): (u32, u32)| crate::format::days_from_civil(i64::from(year), m, d);
        let (opens, closes) = (day(Self::OPENS), day(Self::CLOSES));
        if now < opens {
            ReviewWindow::NotYet { days: opens - now }
        } else if now <= closes {
            ReviewWindow::Open {
                days_left: closes - now + 1,
            }
        } else {
            ReviewWindow::Closed
        }
    }
}

/// The field holding where the household was when the officer asked for the position (on demand).
pub const POSITION: &str = "position";

/// A GPS position with its accuracy, as the device reported it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
    /// Radius of 68% confidence, in metres.
    pub accuracy_m: f64,
    /// When it was taken (Unix ms, the device's clock: informative only).
    pub at_ms: f64,
}

impl Position {
    /// The record's position field (`position`), if set: a household's or a work item's place,
    /// taken on demand. A value that is not a valid position is refused with the field named.
    pub fn of_fields(fields: &crate::protocol::Fields) -> Result<Option<Position>, FieldError> {
        let Some(value) = fields.get(POSITION).filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        serde_json::from_value::<Position>(value.clone())
            .ok()
            .filter(Position::is_valid)
            .map(Some)
            .ok_or_else(|| {
                err(
                    POSITION,
                    "wrong_value",
                    "vị trí phải có vĩ độ (−90…90), kinh độ (−180…180) và độ chính xác tính bằng mét",
                    "a position needs latitude (−90…90), longitude (−180…180) and accuracy in metres",
                )
            })
    }

    pub fn is_valid(&self) -> bool {
        (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
            && self.accuracy_m.is_finite()
            && self.accuracy_m >= 0.0
    }
}
