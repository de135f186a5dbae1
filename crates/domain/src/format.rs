//! Numbers, money and dates written the way Vietnamese offices write them, with the English
//! equivalents: pure functions, used by the app's screens and by the server's exports.
//!
//! - Whole numbers: `1.500.000` (Vietnamese: '.' groups thousands) / `1,500,000`.
//! - Money in đồng: from 1 tỷ (10⁹) `4.800 tỷ đồng`, `1,25 tỷ đồng`; from 1 triệu (10⁶) `52,4 triệu
//!   đồng`; below that the exact amount, `850.000 đồng`. At most two decimals, rounded half up,
//!   trailing zeros dropped. English: `4,800 billion VND`, `52.4 million VND`, `850,000 VND`.
//! - Dates: `27/11/2026` / `27 Nov 2026`; with the time, `27/11/2026 14:05` / `27 Nov 2026 14:05`.
//!   Times are milliseconds since the Unix epoch (JavaScript's `Date.now()`), shown in Vietnam's time
//!   (UTC+7 all year: no daylight saving), whatever the device's own time zone; civil dates come from
//!   the days-from-civil algorithm (proleptic Gregorian calendar), with no date library.

use crate::Lang;

/// Vietnam's offset from UTC: seven hours, all year.
pub const VIETNAM_OFFSET_MS: i64 = 7 * 60 * 60 * 1000;

const MS_PER_DAY: i64 = 24 * 60 * 60 * 1000;
const MILLION: u128 = 1_000_000;
const BILLION: u128 = 1_000_000_000;

/// The thousands separator and the decimal mark of a language.
fn marks(lang: Lang) -> (char, char) {
    match lang {
        Lang::Vi => ('.', ','),
        Lang::En => (',', '.'),
    }
}

/// Digits grouped by three from the right: 1500000 → "1.500.000".
fn grouped(n: u128, separator: char) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

/// A whole number with its thousands grouped: `1.500.000` in Vietnamese, `1,500,000` in English.
pub fn integer(n: i64, lang: Lang) -> String {
    let (thousands, _) = marks(lang);
    let sign = if n < 0 { "-" } else { "" };
    format!("{sign}{}", grouped(u128::from(n.unsigned_abs()), thousands))
}

/// An amount in đồng as people say it: `4.800 tỷ đồng`, `1,25 tỷ đồng`, `52,4 triệu đồng`,
/// `850.000 đồng` (English: `4,800 billion VND`, `1.25 billion VND`, `52.4 million VND`,
/// `850,000 VND`). In tỷ and triệu, at most two decimals (rounded half up, trailing zeros dropped);
/// an amount that rounds up to 1.000 triệu is written `1 tỷ`. Below one triệu the amount is exact.
pub fn money(vnd: i64, lang: Lang) -> String {
    let (thousands, decimal) = marks(lang);
    let sign = if vnd < 0 { "-" } else { "" };
    let amount = u128::from(vnd.unsigned_abs());
    let currency = match lang {
        Lang::Vi => "đồng",
        Lang::En => "VND",
    };
    // hundredths of the unit, rounded half up
    let hundredths = |unit: u128| (amount * 100 + unit / 2) / unit;
    let (hundredths, unit) = if amount >= BILLION {
        (hundredths(BILLION), BILLION)
    } else if amount >= MILLION && hundredths(MILLION) < 1000 * 100 {
        (hundredths(MILLION), MILLION)
    } else if amount >= MILLION {
        (hundredths(BILLION), BILLION)
    } else {
        return format!("{sign}{} {currency}", grouped(amount, thousands));
    };
    let unit_word = match (unit == BILLION, lang) {
        (true, Lang::Vi) => "tỷ",
        (false, Lang::Vi) => "triệu",
        (true, Lang::En) => "billion",
        (false, Lang::En) => "million",
    };
    let whole = grouped(hundredths / 100, thousands);
    let fraction = match hundredths % 100 {
        0 => String::new(),
        f if f % 10 == 0 => format!("{decimal}{}", f / 10),
        f => format!("{decimal}{f:02}"),
    };
    format!("{sign}{whole}{fraction} {unit_word} {currency}")
}

/// A day of the (proleptic Gregorian) calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CivilDate {
    pub year: i64,
    /// 1–12
    pub month: u32,
    /// 1–31
    pub day: u32,
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). The month must be 1–12
/// and the day 1–31; a day past the month's end counts on into the next month.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400; // [0, 399]
    let month_from_march = if month > 2 { month - 3 } else { month + 9 }; // [0, 11]
    let day_of_year = i64::from((153 * month_from_march + 2) / 5 + day - 1); // [0, 365]
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a count of days since 1970-01-01 (Howard Hinnant's civil_from_days).
pub fn civil_from_days(days: i64) -> CivilDate {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097; // [0, 146096]
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // [0, 11]
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    CivilDate { year, month, day }
}

/// Days in a month of a year (February 29 in leap years).
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 0,
    }
}

/// A moment in Vietnam: the civil date and the time of day to the minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VietnamTime {
    pub date: CivilDate,
    pub hour: u32,
    pub minute: u32,
}

/// The date and time in Vietnam (UTC+7) of milliseconds since the Unix epoch.
pub fn vietnam_time(epoch_ms: i64) -> VietnamTime {
    let local = epoch_ms + VIETNAM_OFFSET_MS;
    let days = local.div_euclid(MS_PER_DAY);
    let minute_of_day = (local.rem_euclid(MS_PER_DAY) / 60_000) as u32;
    VietnamTime {
        date: civil_from_days(days),
        hour: minute_of_day / 60,
        minute: minute_of_day % 60,
    }
}

const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A civil date: `27/11/2026` in Vietnamese, `27 Nov 2026` in English.
pub fn civil_date(date: CivilDate, lang: Lang) -> String {
    match lang {
        Lang::Vi => format!("{:02}/{:02}/{}", date.day, date.month, date.year),
        Lang::En => {
            let month = MONTHS_EN
                .get((date.month as usize).wrapping_sub(1))
                .copied()
                .unwrap_or("?");
            format!("{} {month} {}", date.day, date.year)
        }
    }
}

/// A date as an official document writes it under the place: `ngày 27 tháng 11 năm 2026` in
/// Vietnamese (day and month below 10 with a leading zero, as administrative documents do for 01
/// and 02: `ngày 05 tháng 01 năm 2026`), `27 November 2026` in English.
pub fn long_date(date: CivilDate, lang: Lang) -> String {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    match lang {
        Lang::Vi => format!(
            "ngày {:02} tháng {:02} năm {}",
            date.day, date.month, date.year
        ),
        Lang::En => {
            let month = MONTHS
                .get((date.month as usize).wrapping_sub(1))
                .copied()
                .unwrap_or("?");
            format!("{} {month} {}", date.day, date.year)
        }
    }
}

/// The date in Vietnam of milliseconds since the Unix epoch: `27/11/2026` / `27 Nov 2026`.
pub fn date(epoch_ms: i64, lang: Lang) -> String {
    civil_date(vietnam_time(epoch_ms).date, lang)
}

/// The time of day in Vietnam, `14:05` (the same in both languages).
pub fn time(epoch_ms: i64) -> String {
    let t = vietnam_time(epoch_ms);
    format!("{:02}:{:02}", t.hour, t.minute)
}

/// The date and time in Vietnam: `27/11/2026 14:05` / `27 Nov 2026 14:05`.
pub fn date_time(epoch_ms: i64, lang: Lang) -> String {
    format!("{} {}", date(epoch_ms, lang), time(epoch_ms))
}

/// Reads a date written the Vietnamese way, `27/11/2026` (or `1/2/2026`); None if it is not a real
/// day of the calendar.
pub fn parse_date(text: &str) -> Option<CivilDate> {
    let mut parts = text.trim().split('/');
    let mut number = || -> Option<i64> {
        let part = parts.next()?;
        (!part.is_empty() && part.len() <= 4 && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse().ok())
            .flatten()
    };
    let (day, month, year) = (number()?, number()?, number()?);
    if parts.next().is_some() || !(1..=12).contains(&month) {
        return None;
    }
    let (month, day) = (month as u32, u32::try_from(day).ok()?);
    (1..=days_in_month(year, month))
        .contains(&day)
        .then_some(CivilDate { year, month, day })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// 27/11/2026 14:05 in Vietnam.
    const NOV_27_2026_1405: i64 = 1_795_763_100_000;

    #[test]
    fn a_report_is_dated_as_official_documents_date_it() {
        let day = vietnam_time(NOV_27_2026_1405).date;
        assert_eq!(long_date(day, Lang::Vi), "ngày 27 tháng 11 năm 2026");
        assert_eq!(long_date(day, Lang::En), "27 November 2026");
        let early = CivilDate {
            year: 2026,
            month: 1,
            day: 5,
        };
        assert_eq!(long_date(early, Lang::Vi), "ngày 05 tháng 01 năm 2026");
    }

    #[test]
    fn money_is_written_as_vietnamese_offices_write_it() {
        assert_eq!(money(52_400_000, Lang::Vi), "52,4 triệu đồng");
        assert_eq!(money(4_800_000_000_000, Lang::Vi), "4.800 tỷ đồng");
        assert_eq!(money(1_250_000_000, Lang::Vi), "1,25 tỷ đồng");
        assert_eq!(money(850_000, Lang::Vi), "850.000 đồng");
        assert_eq!(money(1_500_000, Lang::Vi), "1,5 triệu đồng");
        assert_eq!(money(2_250_000, Lang::Vi), "2,25 triệu đồng");
        assert_eq!(money(1_000_000, Lang::Vi), "1 triệu đồng");
        assert_eq!(money(1_000_000_000, Lang::Vi), "1 tỷ đồng");
        assert_eq!(money(1_050_000, Lang::Vi), "1,05 triệu đồng");
        assert_eq!(money(1_234_567, Lang::Vi), "1,23 triệu đồng");
        assert_eq!(
            money(1_235_000, Lang::Vi),
            "1,24 triệu đồng",
            "half rounds up"
        );
        assert_eq!(money(0, Lang::Vi), "0 đồng");
        assert_eq!(money(999, Lang::Vi), "999 đồng");
        assert_eq!(money(-850_000, Lang::Vi), "-850.000 đồng");
        assert_eq!(money(-52_400_000, Lang::Vi), "-52,4 triệu đồng");
    }

    #[test]
    fn money_in_english() {
        assert_eq!(money(52_400_000, Lang::En), "52.4 million VND");
        assert_eq!(money(4_800_000_000_000, Lang::En), "4,800 billion VND");
        assert_eq!(money(1_250_000_000, Lang::En), "1.25 billion VND");
        assert_eq!(money(850_000, Lang::En), "850,000 VND");
    }

    #[test]
    fn an_amount_rounding_to_a_thousand_million_is_one_billion() {
        assert_eq!(money(999_995_000, Lang::Vi), "1 tỷ đồng");
        assert_eq!(money(999_994_999, Lang::Vi), "999,99 triệu đồng");
        assert_eq!(
            money(999_999, Lang::Vi),
            "999.999 đồng",
            "below a triệu the amount is exact"
        );
        assert_eq!(money(i64::MAX, Lang::Vi), "9.223.372.036,85 tỷ đồng");
        assert_eq!(money(i64::MIN, Lang::Vi), "-9.223.372.036,85 tỷ đồng");
    }

    #[test]
    fn integers_are_grouped_by_thousands() {
        assert_eq!(integer(0, Lang::Vi), "0");
        assert_eq!(integer(999, Lang::Vi), "999");
        assert_eq!(integer(1000, Lang::Vi), "1.000");
        assert_eq!(integer(1_500_000, Lang::Vi), "1.500.000");
        assert_eq!(integer(1_500_000, Lang::En), "1,500,000");
        assert_eq!(integer(-12_345, Lang::Vi), "-12.345");
        assert_eq!(integer(i64::MIN, Lang::En), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn dates_are_in_vietnam_time() {
        assert_eq!(date(NOV_27_2026_1405, Lang::Vi), "27/11/2026");
        assert_eq!(date(NOV_27_2026_1405, Lang::En), "27 Nov 2026");
        assert_eq!(date_time(NOV_27_2026_1405, Lang::Vi), "27/11/2026 14:05");
        assert_eq!(date_time(NOV_27_2026_1405, Lang::En), "27 Nov 2026 14:05");
        assert_eq!(time(NOV_27_2026_1405), "14:05");
        // the epoch was seven in the morning in Hanoi
        assert_eq!(date_time(0, Lang::Vi), "01/01/1970 07:00");
        // 17:00 UTC is midnight of the next day in Vietnam
        assert_eq!(date_time(1_795_798_800_000, Lang::Vi), "28/11/2026 00:00");
        assert_eq!(date_time(1_795_798_740_000, Lang::Vi), "27/11/2026 23:59");
        // before the epoch
        assert_eq!(date_time(-25_200_001, Lang::Vi), "31/12/1969 23:59");
        assert_eq!(date(951_782_400_000, Lang::Vi), "29/02/2000");
    }

    #[test]
    fn dates_are_read_back() {
        let d = |year, month, day| Some(CivilDate { year, month, day });
        assert_eq!(parse_date("27/11/2026"), d(2026, 11, 27));
        assert_eq!(parse_date(" 1/2/2026 "), d(2026, 2, 1));
        assert_eq!(parse_date("29/02/2024"), d(2024, 2, 29));
        assert_eq!(parse_date("29/02/2100"), None, "2100 is not a leap year");
        assert_eq!(parse_date("29/02/2000"), d(2000, 2, 29), "2000 is");
        assert_eq!(parse_date("31/04/2026"), None);
        assert_eq!(parse_date("0/1/2026"), None);
        assert_eq!(parse_date("1/13/2026"), None);
        assert_eq!(parse_date("27/11/2026/1"), None);
        assert_eq!(parse_date("27-11-2026"), None);
        assert_eq!(parse_date("+1/1/2026"), None);
    }

    /// Every day from 1970 to 2100, walked one by one with a plain calendar: the algorithm gives the
    /// same date, goes back to the same day count, and the written date reads back to it.
    #[test]
    fn every_day_from_1970_to_2100_round_trips() {
        let mut expected = CivilDate {
            year: 1970,
            month: 1,
            day: 1,
        };
        let last = days_from_civil(2100, 12, 31);
        for days in 0..=last {
            let date = civil_from_days(days);
            assert_eq!(date, expected, "day {days}");
            assert_eq!(days_from_civil(date.year, date.month, date.day), days);
            assert_eq!(parse_date(&civil_date(date, Lang::Vi)), Some(date));
            let noon = days * MS_PER_DAY + 12 * 3_600_000 - VIETNAM_OFFSET_MS;
            assert_eq!(parse_date(&super::date(noon, Lang::Vi)), Some(date));
            // the next day, by hand
            expected.day += 1;
            if expected.day > days_in_month(expected.year, expected.month) {
                expected.day = 1;
                expected.month += 1;
                if expected.month > 12 {
                    expected.month = 1;
                    expected.year += 1;
                }
            }
        }
        assert_eq!(
            expected,
            CivilDate {
                year: 2101,
                month: 1,
                day: 1
            }
        );
    }

    /// The digits of a written number, separators and words dropped.
    fn digits(text: &str) -> String {
        text.chars()
            .filter(|c| c.is_ascii_digit() || *c == '-')
            .collect()
    }

    proptest! {
        #[test]
        fn a_grouped_integer_reads_back_to_itself(n in any::<i64>()) {
            for lang in [Lang::Vi, Lang::En] {
                let text = integer(n, lang);
                prop_assert_eq!(digits(&text).parse::<i64>().unwrap(), n);
                let (thousands, _) = marks(lang);
                // groups of three after the first
                for group in text.trim_start_matches('-').split(thousands).skip(1) {
                    prop_assert_eq!(group.len(), 3);
                }
            }
        }

        #[test]
        fn money_below_a_million_is_exact(n in -999_999i64..=999_999) {
            for lang in [Lang::Vi, Lang::En] {
                prop_assert_eq!(digits(&money(n, lang)).parse::<i64>().unwrap(), n);
            }
        }

        #[test]
        fn money_from_a_million_is_within_half_a_hundredth_of_its_unit(n in 1_000_000i64..=i64::MAX) {
            for lang in [Lang::Vi, Lang::En] {
                let text = money(n, lang);
                let (thousands, decimal) = marks(lang);
                let unit: i128 = if text.contains("tỷ") || text.contains("billion") { 1_000_000_000 } else { 1_000_000 };
                let number = text.split(' ').next().unwrap().replace(thousands, "");
                let (whole, fraction) = number.split_once(decimal).unwrap_or((&number, ""));
                prop_assert!(fraction.len() <= 2 && !fraction.ends_with('0'), "{}", text);
                let hundredths = whole.parse::<i128>().unwrap() * 100
                    + format!("{fraction:0<2}").parse::<i128>().unwrap();
                let back = hundredths * unit / 100;
                prop_assert!((back - i128::from(n)).abs() * 200 <= unit, "{} → {}", n, text);
                // never "1.000 triệu": that is a tỷ
                prop_assert!(unit == 1_000_000_000 || hundredths < 100_000, "{}", text);
            }
        }

        #[test]
        fn a_date_time_reads_back_to_its_minute(ms in -2_208_988_800_000i64..=4_133_980_799_999) {
            let text = date_time(ms, Lang::Vi);
            let (day, clock) = text.split_once(' ').unwrap();
            let date = parse_date(day).unwrap();
            let (h, m) = clock.split_once(':').unwrap();
            let minutes = days_from_civil(date.year, date.month, date.day) * 1440
                + h.parse::<i64>().unwrap() * 60 + m.parse::<i64>().unwrap();
            prop_assert_eq!(minutes, (ms + VIETNAM_OFFSET_MS).div_euclid(60_000));
        }

        #[test]
        fn days_and_civil_dates_are_inverse(days in -1_000_000i64..=1_000_000) {
            let d = civil_from_days(days);
            prop_assert!((1..=12).contains(&d.month) && (1..=days_in_month(d.year, d.month)).contains(&d.day));
            prop_assert_eq!(days_from_civil(d.year, d.month, d.day), days);
        }
    }
}
