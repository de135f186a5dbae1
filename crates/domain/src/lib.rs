//! # Thi Đua's domain core
//!
//! The rules of the emulation movement's reporting, in one crate compiled into both the browser app
//! (wasm32) and the server, so that what a commune officer sees offline is exactly what the server
//! accepts and what the report to the Chairman adds up to. It does no I/O: no files, no network, no
//! clock, no randomness. Callers pass time and random bytes in.
//!
//! - [`org`]: organisation units versioned by period, and which new unit holds an old unit's records.
//! - [`criteria`]: criteria sets as data (NTM 2021–2025 carried), a commune's assessment and its status.
//! - [`poverty`]: the multidimensional poverty standard 2022–2025 (Nghị định 07/2021/NĐ-CP) as code,
//!   household validation with messages in Vietnamese and English.
//! - [`targets`]: the 2023 directive's targets, roll-ups commune → district → province, progress.
//! - [`dashboard`]: every figure of a commune, district and province for a period, from the records,
//!   in the 2023 structure or rolled up under the 2025 communes.
//! - [`examples`]: the register of advanced examples (điển hình tiên tiến, sáng kiến, mô hình mới) and
//!   the district's and province's commendations of them.
//! - [`evidence`]: evidence photos: the photos fields of records, and the rules of their resumable
//!   upload.
//! - [`format`]: money, whole numbers and dates written the Vietnamese way (and the English way).
//! - [`protocol`]: the sync protocol types, and [`merge`]: the merge rule the server applies.
//!
//! ## The sync protocol (version [`protocol::PROTOCOL_VERSION`])
//!
//! Devices work offline for days. Each save on a device writes the record and a **mutation** to its
//! outbox. When online, the device **pushes** batches of mutations and **pulls** the changes of others.
//!
//! - A **record** ([`protocol::Record`]) has a client-generated UUIDv7 id, a data set (household,
//!   NTM assessment, indicator report, advanced example, commendation), the org unit and period it
//!   belongs to, its fields (a JSON object), a revision, and a tombstone flag (`deleted`). Records
//!   are never physically removed by sync, so a deletion reaches every device.
//! - A **mutation** ([`protocol::Mutation`]) has its own UUIDv7 id, the record as the device wants it,
//!   the revision the device based its change on (0 for a new record), and the names of the fields it
//!   changed. The id makes a push idempotent: the server applies a mutation at most once and answers a
//!   repeat with its first answer, so a device may resend after any failure.
//! - **Push** ([`protocol::PushRequest`] → [`protocol::PushResponse`]): one outcome per mutation, in order:
//!   `applied`, `merged` (based on an older revision, but the fields changed on each side do not
//!   overlap), `conflict` (the same field changed on both sides: both values are kept on the record with
//!   a deterministic winner, for a person to resolve), or `rejected` (with each field and the reason, in
//!   Vietnamese and English; nothing is stored and the device keeps the mutation marked "needs a fix").
//! - **Pull** ([`protocol::PullRequest`] → [`protocol::PullResponse`]): records changed since an opaque
//!   cursor, in the server's own order, at most `limit` per page, with the next cursor and whether more
//!   remain. Device clocks never order anything.
//! - **Merge** ([`merge::apply`]): the server stamps each field with the revision and mutation that last
//!   wrote it. A mutation's changed field whose stamp is newer than the mutation's base revision was
//!   changed concurrently; if the values differ, that is a conflict. The winner is the mutation with the
//!   greater id (UUIDv7: the later edit on its device), so the result does not depend on the order in
//!   which mutations arrive, and every losing value stays in the record's conflict list. Two mutations
//!   from the same device are never in conflict: the later one (greater id) supersedes the earlier.
//! - Both sides send [`protocol::PROTOCOL_VERSION`]; the server refuses versions it does not speak.

pub mod client;
pub mod criteria;
pub mod dashboard;
pub mod evidence;
pub mod examples;
pub mod format;
pub mod merge;
pub mod org;
pub mod poverty;
pub mod protocol;
pub mod targets;
pub mod text;

use std::fmt;

use serde::{Deserialize, Serialize};

/// The two languages of the app; Vietnamese is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Vi,
    En,
}

/// A calendar day, `YYYY-MM-DD`. Ordered as text, which is ordered in time.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Day(String);

impl Day {
    pub fn parse(text: &str) -> Result<Day, String> {
        let b = text.trim().as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let ok = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && digits(0..4)
            && digits(5..7)
            && digits(8..10);
        if ok {
            let month = (b[5] - b'0') * 10 + (b[6] - b'0');
            let day = (b[8] - b'0') * 10 + (b[9] - b'0');
            if (1..=12).contains(&month) && (1..=31).contains(&day) {
                return Ok(Day(text.trim().to_string()));
            }
        }
        Err(format!(
            "ngày «{text}» không hợp lệ: dùng dạng NNNN-TT-NN, ví dụ 2023-12-31"
        ))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn year(&self) -> u16 {
        self.0[0..4].parse().unwrap_or(0)
    }
}

impl TryFrom<String> for Day {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Day::parse(&value)
    }
}

impl From<Day> for String {
    fn from(day: Day) -> String {
        day.0
    }
}

/// One problem with one field, said in both languages: which field, and what to do about it.
/// `code` is stable for programs; the messages are for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message_vi: String,
    pub message_en: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, message_vi: String, message_en: String) -> FieldError {
        FieldError {
            field: field.to_string(),
            code: code.to_string(),
            message_vi,
            message_en,
        }
    }
    pub fn message(&self, lang: Lang) -> &str {
        match lang {
            Lang::Vi => &self.message_vi,
            Lang::En => &self.message_en,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message_vi)
    }
}
