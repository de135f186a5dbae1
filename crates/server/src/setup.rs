//! The first administrator and the demo. There is no default password outside demo mode: the first
//! administrator comes from `thidua-server create-admin` or from THIDUA_ADMIN_USERNAME and
//! THIDUA_ADMIN_PASSWORD at start. Demo mode (THIDUA_DEMO=1) creates one account per role with a
//! published password and prints them, labelled as demo accounts.

use thidua_domain::org::UnitCode;
use thidua_domain::poverty::{Area, Deprivation, Household};
use thidua_domain::protocol::{
    DataSet, DeviceId, Mutation, MutationId, Outcome, Period, Record, RecordId,
};

use crate::accounts::{create_account, NewAccount};
use crate::auth::{unix_now, NewPassword, Role, Username};
use crate::config::Config;
use crate::error::ApiError;
use crate::store::StartError;
use crate::AppState;

/// The province's unit code: every administrator's unit.
pub const PROVINCE: &str = "14";

pub const DEMO_PASSWORD: &str = "thidua-demo";

/// (username, display name, role, unit) of the demo accounts.
pub const DEMO_ACCOUNTS: [(&str, &str, Role, &str); 3] = [
    (
        "tinh.admin",
        "Quản trị tỉnh Sơn La (tài khoản demo)",
        Role::ProvinceAdmin,
        PROVINCE,
    ),
    (
        "huyen.sonla",
        "Giám sát Thành phố Sơn La (tài khoản demo)",
        Role::DistrictSupervisor,
        "116",
    ),
    (
        "xa.tohieu",
        "Cán bộ phường Tô Hiệu (tài khoản demo)",
        Role::CommuneOfficer,
        "03646",
    ),
];

/// The device the demo households are "pushed" from, so their stamps say where they came from.
pub const DEMO_DEVICE: DeviceId = DeviceId(uuid::Uuid::from_u128(
    0xde70_0000_0000_7000_8000_0000_0000_0001,
));

fn start_error(what: &str) -> impl Fn(ApiError) -> StartError + '_ {
    move |e| StartError(format!("{what}: {}", e.message_en))
}

/// What create-admin did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminChange {
    Created,
    /// The username existed: it is now an active province administrator with the new password, and
    /// its open sessions were ended.
    Updated,
}

/// `thidua-server create-admin`: creates the province administrator `username`, or resets an existing
/// account of that name to an active administrator with this password.
pub async fn create_admin(
    state: &AppState,
    username: &str,
    password: &str,
) -> Result<AdminChange, String> {
    let username =
        Username::parse(username).map_err(|e| format!("{} / {}", e.message_vi, e.message_en))?;
    let password =
        NewPassword::parse(password).map_err(|e| format!("{} / {}", e.message_vi, e.message_en))?;
    let fail = |e: ApiError| format!("{} / {}", e.message_vi, e.message_en);
    let province = UnitCode::parse(PROVINCE).expect("valid code");
    match state
        .store
        .user_by_username(username.as_str())
        .await
        .map_err(fail)?
    {
        Some(existing) => {
            let hash = state.passwords.hash_blocking(password).await;
            state
                .store
                .make_admin(&existing.user.id, &province, &hash)
                .await
                .map_err(fail)?;
            state
                .store
                .revoke_user_sessions(&existing.user.id, unix_now())
                .await
                .map_err(fail)?;
            Ok(AdminChange::Updated)
        }
        None => {
            let account = NewAccount {
                username,
                display_name: "Quản trị tỉnh".to_string(),
                role: Role::ProvinceAdmin,
                org_unit: province,
                password,
            };
            create_account(state, account).await.map_err(fail)?;
            Ok(AdminChange::Created)
        }
    }
}

/// Everything the server does with accounts at start, returning what to print: the administrator
/// from the environment, the demo accounts and households, or how to create the first administrator.
pub async fn on_start(state: &AppState, config: &Config) -> Result<Vec<String>, StartError> {
    let mut lines = Vec::new();
    if let Some(admin) = &config.admin_bootstrap {
        let exists = Username::parse(&admin.username).map_err(|e| {
            StartError(format!(
                "THIDUA_ADMIN_USERNAME: {} / {}",
                e.message_vi, e.message_en
            ))
        })?;
        let found = state
            .store
            .user_by_username(exists.as_str())
            .await
            .map_err(start_error("reading users"))?;
        if found.is_none() {
            create_admin(state, &admin.username, &admin.password.0)
                .await
                .map_err(|e| StartError(format!("THIDUA_ADMIN_*: {e}")))?;
            lines.push(format!(
                "Đã tạo tài khoản quản trị tỉnh «{}» từ THIDUA_ADMIN_USERNAME / created the province \
                 administrator «{}» from THIDUA_ADMIN_USERNAME.",
                exists.as_str(),
                exists.as_str()
            ));
        }
    }
    if config.demo {
        lines.extend(ensure_demo(state).await?);
    } else if state
        .store
        .user_count()
        .await
        .map_err(start_error("counting users"))?
        == 0
    {
        lines.push(
            "Chưa có tài khoản nào. Tạo tài khoản quản trị tỉnh bằng lệnh / no account exists yet; \
             create the province administrator with:"
                .to_string(),
        );
        lines.push(
            "    THIDUA_ADMIN_PASSWORD='…' thidua-server create-admin --username TÊN_ĐĂNG_NHẬP"
                .to_string(),
        );
        lines.push(
            "(hoặc bỏ THIDUA_ADMIN_PASSWORD để nhập mật khẩu từ bàn phím / or leave \
             THIDUA_ADMIN_PASSWORD unset to type the password)"
                .to_string(),
        );
    }
    Ok(lines)
}

/// Demo mode: the three demo accounts when missing (an existing account of the same name is left as
/// it is), and demo households when the database has no record at all. Returns the banner to print.
pub async fn ensure_demo(state: &AppState) -> Result<Vec<String>, StartError> {
    for (username, display_name, role, unit) in DEMO_ACCOUNTS {
        let found = state
            .store
            .user_by_username(username)
            .await
            .map_err(start_error("reading users"))?;
        if found.is_none() {
            let account = NewAccount {
                username: Username::parse(username).expect("valid demo username"),
                display_name: display_name.to_string(),
                role,
                org_unit: UnitCode::parse(unit).expect("valid demo unit"),
                password: NewPassword::parse(DEMO_PASSWORD).expect("valid demo password"),
            };
            create_account(state, account)
                .await
                .map_err(start_error("creating demo accounts"))?;
        }
    }
    let seeded = seed_demo_households(state).await?;
    let mut ids = Vec::new();
    for (username, ..) in DEMO_ACCOUNTS {
        let user = state
            .store
            .user_by_username(username)
            .await
            .map_err(start_error("reading users"))?
            .ok_or_else(|| StartError(format!("demo account {username} missing")))?;
        ids.push(user.user.id);
    }
    let dashboard = crate::demo::seed(state, &ids[2], &ids[1], &ids[0]).await?;

    let mut lines = vec![
        "=== CHẾ ĐỘ DEMO — tài khoản demo, mật khẩu công khai; không dùng cho dữ liệu thật ==="
            .to_string(),
        "=== DEMO MODE — demo accounts with a published password; never use for real data ==="
            .to_string(),
    ];
    for (username, _, role, unit) in DEMO_ACCOUNTS {
        lines.push(format!(
            "  {username:<12} / {DEMO_PASSWORD}   {} ({}), đơn vị / unit {unit}",
            role.label_vi(),
            role.as_str()
        ));
    }
    if seeded > 0 {
        lines.push(format!(
            "  Đã thêm {seeded} hộ demo cho phường 03646 và 03649 / added {seeded} demo households \
             for communes 03646 and 03649."
        ));
    }
    if dashboard.records > 0 {
        lines.push(format!(
            "  Bảng tổng hợp: thêm {} bản ghi demo năm {} (và 2022, 2021) cho 5 xã của huyện 116 và 118, cùng \
             các báo cáo gửi duyệt / dashboard: added {} demo records for {} (and 2022, 2021) in 5 communes \
             of districts 116 and 118, with submissions.",
            dashboard.records,
            crate::demo::DEMO_PERIOD,
            dashboard.records,
            crate::demo::DEMO_PERIOD
        ));
    }
    if dashboard.requirements {
        lines.push(
            "  Mức đạt của các chỉ tiêu NTM chưa cấu hình được đặt GIẢ ĐỊNH cho demo / demo requirements \
             were set for the NTM indicators the province had not configured."
                .to_string(),
        );
    }
    lines.push(
        "  Tắt chế độ demo: bỏ THIDUA_DEMO=1 / turn demo mode off: unset THIDUA_DEMO.".to_string(),
    );
    Ok(lines)
}

/// A few households of this year's review for 03646 and 03649, written through the same store path
/// as a push (merge and all), only when the records table is empty. Returns how many were stored.
pub async fn seed_demo_households(state: &AppState) -> Result<usize, StartError> {
    let count = state
        .store
        .record_count()
        .await
        .map_err(start_error("counting records"))?;
    if count > 0 {
        return Ok(0);
    }
    let period = Period::parse(&current_year().to_string()).expect("a year is a period");
    let mut stored = 0;
    let reference = state
        .reference
        .now(&state.store)
        .await
        .map_err(start_error("reading the reference data"))?;
    for (unit, household) in demo_households() {
        let record = Record {
            id: RecordId(uuid::Uuid::now_v7()),
            data_set: DataSet::Household,
            org_unit: UnitCode::parse(unit).expect("valid demo unit"),
            period: period.clone(),
            fields: household.to_fields(),
            revision: 0,
            deleted: false,
            conflicts: Vec::new(),
        };
        let mutation = Mutation {
            id: MutationId(uuid::Uuid::now_v7()),
            device: DEMO_DEVICE,
            changed: record.fields.keys().cloned().collect(),
            record,
            base_revision: 0,
        };
        let result = state
            .store
            .apply_mutation(&mutation, |m| crate::sync::check_mutation(&reference, m))
            .await
            .map_err(start_error("seeding demo households"))?;
        match result.outcome {
            Outcome::Rejected { errors } => {
                return Err(StartError(format!(
                    "a demo household was refused: {}",
                    errors
                        .iter()
                        .map(|e| format!("{}: {}", e.field, e.message_en))
                        .collect::<Vec<_>>()
                        .join("; ")
                )))
            }
            _ => stored += 1,
        }
    }
    Ok(stored)
}

/// Made-up households: a poor, a near-poor and an average one in each commune.
pub fn demo_households() -> Vec<(&'static str, Household)> {
    let household = |head: &str,
                     village: &str,
                     area: Area,
                     members: i64,
                     income: i64,
                     deprivations: Vec<Deprivation>| Household {
        head_name: head.to_string(),
        village: village.to_string(),
        area,
        members,
        working_age_members: 2.min(members),
        children_under_16: (members - 2).max(0),
        members_16_to_30: 1.min(members),
        income_per_person_month: income,
        floor_area_m2: Some(12 * members),
        deprivations,
    };
    vec![
        (
            "03646",
            household(
                "Lò Văn Minh (demo)",
                "Tổ 1",
                Area::Urban,
                5,
                1_500_000,
                vec![
                    Deprivation::HealthInsurance,
                    Deprivation::Latrine,
                    Deprivation::DomesticWater,
                ],
            ),
        ),
        (
            "03646",
            household(
                "Cầm Thị Hoa (demo)",
                "Tổ 2",
                Area::Urban,
                4,
                2_600_000,
                vec![Deprivation::Employment],
            ),
        ),
        (
            "03646",
            household(
                "Quàng Văn Sơn (demo)",
                "Tổ 3",
                Area::Urban,
                3,
                5_000_000,
                vec![],
            ),
        ),
        (
            "03649",
            household(
                "Lường Thị Mai (demo)",
                "Bản Hài",
                Area::Urban,
                6,
                1_400_000,
                vec![
                    Deprivation::Nutrition,
                    Deprivation::AdultEducation,
                    Deprivation::HousingQuality,
                ],
            ),
        ),
        (
            "03649",
            household(
                "Tòng Văn Hùng (demo)",
                "Bản Cọ",
                Area::Urban,
                4,
                2_500_000,
                vec![],
            ),
        ),
        (
            "03649",
            household(
                "Điêu Thị Lan (demo)",
                "Tổ 5",
                Area::Urban,
                2,
                6_000_000,
                vec![],
            ),
        ),
    ]
}

/// The calendar year now (UTC is close enough for choosing the review year of demo data).
pub fn current_year() -> i64 {
    year_of_unix(unix_now())
}

/// The proleptic Gregorian year of a unix time (Howard Hinnant's days-to-civil algorithm).
fn year_of_unix(seconds: i64) -> i64 {
    let days = seconds.div_euclid(86_400) + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let year = year_of_era + era * 400;
    if month_index >= 10 {
        year + 1
    } else {
        year
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_of_unix_times() {
        assert_eq!(year_of_unix(0), 1970);
        assert_eq!(year_of_unix(951_782_400), 2000); // 2000-02-29
        assert_eq!(year_of_unix(1_704_067_199), 2023); // 2023-12-31 23:59:59
        assert_eq!(year_of_unix(1_704_067_200), 2024);
        assert_eq!(year_of_unix(1_798_761_599), 2026); // 2026-12-31 23:59:59
    }

    #[test]
    fn demo_households_are_valid() {
        for (unit, household) in demo_households() {
            assert!(["03646", "03649"].contains(&unit));
            assert_eq!(household.validate(), vec![], "{}", household.head_name);
        }
    }
}
