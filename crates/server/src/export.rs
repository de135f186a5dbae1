//! Exports of any table the app shows: `POST /api/export?format=xlsx|csv` with
//! `{"title": "…", "columns": ["…", …], "rows": [[string | number | null, …], …]}` → the file, as an
//! attachment named after the title (an ASCII name, and the Vietnamese one in `filename*`).
//!
//! - **XLSX**: a native Excel workbook (rust_xlsxwriter): the title in bold on the first row, the
//!   column names in bold on the second (frozen), then the rows; numbers are numbers, text is text
//!   (never a formula), columns sized to their contents.
//! - **CSV**: UTF-8 with a byte-order mark (so Excel reads Vietnamese right), RFC 4180: CRLF line
//!   ends, fields with a comma, a quote or a line break in quotes, quotes doubled. A text cell that
//!   starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`, so a
//!   spreadsheet never runs it as a formula. The title is in the file name only.
//!
//! Limits: at most [`MAX_ROWS`] rows (413 `too_many_rows`), [`MAX_COLUMNS`] columns, a body of at most
//! [`EXPORT_BODY_LIMIT`] bytes (413); every row as long as `columns`, every cell text, a number or
//! null (400, naming the row and column). Any signed-in user may export: the rows are what the app
//! already shows them.

use axum::extract::rejection::QueryRejection;
use axum::extract::Query;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use serde::Deserialize;
use serde_json::Value;
use thidua_domain::text::fold_diacritics;

use crate::auth::Caller;
use crate::error::{ApiError, ApiJson};

pub const EXPORT_BODY_LIMIT: usize = 16 * 1024 * 1024;
pub const MAX_ROWS: usize = 100_000;
pub const MAX_COLUMNS: usize = 500;
pub const MAX_TITLE_CHARS: usize = 200;
/// Excel's own limit for the text of one cell.
pub const MAX_CELL_CHARS: usize = 32_767;

pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub const CSV_TYPE: &str = "text/csv; charset=utf-8";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Csv,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    format: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A checked cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Text(&'a str),
    /// The number, and its text as sent (for CSV).
    Number(f64, String),
    Empty,
}

fn bad(code: &'static str, vi: String, en: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, vi, en)
}

/// Checks the table: title, columns, every row's length and every cell's kind.
pub fn check(request: &ExportRequest) -> Result<Vec<Vec<Cell<'_>>>, ApiError> {
    let title = request.title.trim();
    if title.is_empty()
        || title.chars().count() > MAX_TITLE_CHARS
        || title.chars().any(char::is_control)
    {
        return Err(bad(
            "invalid_title",
            format!("Tiêu đề bảng phải có từ 1 đến {MAX_TITLE_CHARS} ký tự, không xuống dòng."),
            format!("The title must be 1 to {MAX_TITLE_CHARS} characters on one line."),
        ));
    }
    if request.columns.is_empty() || request.columns.len() > MAX_COLUMNS {
        return Err(bad(
            "invalid_columns",
            format!("Bảng phải có từ 1 đến {MAX_COLUMNS} cột."),
            format!("A table has 1 to {MAX_COLUMNS} columns."),
        ));
    }
    if request.rows.len() > MAX_ROWS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_rows",
            format!(
                "Bảng có {} dòng; mỗi lần xuất tối đa {MAX_ROWS} dòng. Hãy lọc bớt rồi xuất lại.",
                request.rows.len()
            ),
            format!(
                "The table has {} rows; at most {MAX_ROWS} are exported at once. Filter it and export again.",
                request.rows.len()
            ),
        ));
    }
    let too_long = |what: &str| {
        bad(
            "cell_too_long",
            format!("{what} dài quá {MAX_CELL_CHARS} ký tự (giới hạn của Excel)."),
            format!("{what} is longer than {MAX_CELL_CHARS} characters (Excel's limit)."),
        )
    };
    if let Some(i) = request
        .columns
        .iter()
        .position(|c| c.chars().count() > MAX_CELL_CHARS)
    {
        return Err(too_long(&format!("Tên cột {}", i + 1)));
    }
    let width = request.columns.len();
    request
        .rows
        .iter()
        .enumerate()
        .map(|(r, row)| {
            if row.len() != width {
                return Err(bad(
                    "row_length",
                    format!(
                        "Dòng {} có {} ô nhưng bảng có {width} cột.",
                        r + 1,
                        row.len()
                    ),
                    format!(
                        "Row {} has {} cells but the table has {width} columns.",
                        r + 1,
                        row.len()
                    ),
                ));
            }
            row.iter()
                .enumerate()
                .map(|(c, cell)| match cell {
                    Value::String(text) if text.chars().count() > MAX_CELL_CHARS => {
                        Err(too_long(&format!("Ô dòng {}, cột {}", r + 1, c + 1)))
                    }
                    Value::String(text) => Ok(Cell::Text(text)),
                    Value::Number(n) => match n.as_f64().filter(|f| f.is_finite()) {
                        Some(f) => Ok(Cell::Number(f, n.to_string())),
                        None => Err(bad_cell(r, c)),
                    },
                    Value::Null => Ok(Cell::Empty),
                    _ => Err(bad_cell(r, c)),
                })
                .collect()
        })
        .collect()
}

fn bad_cell(r: usize, c: usize) -> ApiError {
    bad(
        "bad_cell",
        format!(
            "Ô dòng {}, cột {}: chỉ nhận chữ, số hoặc ô trống (null).",
            r + 1,
            c + 1
        ),
        format!(
            "Row {}, column {}: only text, a number or null.",
            r + 1,
            c + 1
        ),
    )
}

/// The title as an ASCII file name: accents dropped, anything else but letters and digits made `-`.
pub fn ascii_name(title: &str) -> String {
    let folded = fold_diacritics(title);
    let mut name = String::new();
    for ch in folded.chars() {
        if ch.is_ascii_alphanumeric() {
            name.push(ch);
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    let name: String = name.trim_matches('-').chars().take(80).collect();
    let name = name.trim_end_matches('-');
    if name.is_empty() {
        "thidua-export".to_string()
    } else {
        name.to_string()
    }
}

/// RFC 5987 `filename*` value: UTF-8, percent-encoded but for attr-chars.
pub fn encoded_name(name: &str) -> String {
    let mut out = String::from("UTF-8''");
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The title with what a file name cannot hold (slashes, quotes) replaced.
fn file_title(title: &str) -> String {
    title
        .trim()
        .chars()
        .map(|c| if "/\\\"<>:|?*".contains(c) { '-' } else { c })
        .collect()
}

pub fn csv(columns: &[String], rows: &[Vec<Cell<'_>>]) -> Vec<u8> {
    fn field(out: &mut String, text: &str, guard: bool) {
        let guarded;
        let text = if guard
            && text
                .chars()
                .next()
                .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'))
        {
            guarded = format!("'{text}");
            guarded.as_str()
        } else {
            text
        };
        if text.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&text.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(text);
        }
    }
    let mut out = String::from("\u{FEFF}");
    for (i, column) in columns.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(&mut out, column, true);
    }
    out.push_str("\r\n");
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match cell {
                Cell::Text(text) => field(&mut out, text, true),
                Cell::Number(_, text) => out.push_str(text),
                Cell::Empty => {}
            }
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// A worksheet's name: at most 31 characters, none of `[]:*?/\`.
fn sheet_name(title: &str) -> String {
    let name: String = title
        .chars()
        .filter(|c| !"[]:*?/\\'".contains(*c))
        .take(31)
        .collect();
    let name = name.trim().to_string();
    if name.is_empty() {
        "Thi Đua".into()
    } else {
        name
    }
}

pub fn xlsx(title: &str, columns: &[String], rows: &[Vec<Cell<'_>>]) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format as CellFormat, FormatBorder, Workbook};
    let failed = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(title)).map_err(failed)?;
    let title_format = CellFormat::new().set_bold().set_font_size(14);
    let header = CellFormat::new()
        .set_bold()
        .set_border_bottom(FormatBorder::Thin)
        .set_text_wrap();
    let last = (columns.len() - 1) as u16;
    if last > 0 {
        sheet
            .merge_range(0, 0, 0, last, title, &title_format)
            .map_err(failed)?;
    } else {
        sheet
            .write_string_with_format(0, 0, title, &title_format)
            .map_err(failed)?;
    }
    let mut widths: Vec<usize> = columns.iter().map(|c| c.chars().count()).collect();
    for (c, column) in columns.iter().enumerate() {
        sheet
            .write_string_with_format(1, c as u16, column, &header)
            .map_err(failed)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 2;
        for (c, cell) in row.iter().enumerate() {
            let col = c as u16;
            let len = match cell {
                Cell::Text(text) => {
                    sheet.write_string(r, col, *text).map_err(failed)?;
                    text.chars().count()
                }
                Cell::Number(n, text) => {
                    sheet.write_number(r, col, *n).map_err(failed)?;
                    text.len()
                }
                Cell::Empty => 0,
            };
            widths[c] = widths[c].max(len);
        }
    }
    for (c, width) in widths.iter().enumerate() {
        let width = (*width).clamp(6, 60) as f64 + 2.0;
        sheet.set_column_width(c as u16, width).map_err(failed)?;
    }
    sheet.set_freeze_panes(2, 0).map_err(failed)?;
    workbook.save_to_buffer().map_err(failed)
}

pub async fn export(
    Extension(caller): Extension<Caller>,
    query: Result<Query<ExportQuery>, QueryRejection>,
    ApiJson(request): ApiJson<ExportRequest>,
) -> Result<Response, ApiError> {
    let format = match query.ok().and_then(|q| q.0.format).as_deref() {
        Some("xlsx") => Format::Xlsx,
        Some("csv") => Format::Csv,
        other => {
            let other = other.unwrap_or_default();
            return Err(bad(
                "invalid_format",
                format!(
                    "Định dạng «{other}» không có: dùng ?format=xlsx (Excel) hoặc ?format=csv."
                ),
                format!("No format «{other}»: use ?format=xlsx (Excel) or ?format=csv."),
            ));
        }
    };
    // checking and writing 100,000 rows takes a while: off the async workers
    let title = request.title.trim().to_string();
    let (bytes, count) = tokio::task::spawn_blocking(move || {
        let rows = check(&request)?;
        let title = request.title.trim();
        let bytes = match format {
            Format::Csv => csv(&request.columns, &rows),
            Format::Xlsx => xlsx(title, &request.columns, &rows)
                .map_err(|e| ApiError::corrupt("xlsx export", e))?,
        };
        Ok::<_, ApiError>((bytes, rows.len()))
    })
    .await
    .map_err(|e| ApiError::corrupt("export task", e))??;
    let title = title.as_str();
    let (content_type, extension) = match format {
        Format::Csv => (CSV_TYPE, "csv"),
        Format::Xlsx => (XLSX_TYPE, "xlsx"),
    };
    let disposition = format!(
        "attachment; filename=\"{}.{extension}\"; filename*={}",
        ascii_name(title),
        encoded_name(&format!("{}.{extension}", file_title(title)))
    );
    tracing::info!(
        user = %caller.user.id,
        format = extension,
        rows = count,
        bytes = bytes.len(),
        "export"
    );
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|e| ApiError::corrupt("disposition", e))?,
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(
            ascii_name("Tỷ lệ hộ nghèo — Sơn La 2023"),
            "Ty-le-ho-ngheo-Son-La-2023"
        );
        assert_eq!(ascii_name("Đường / Điện"), "Duong-Dien");
        assert_eq!(ascii_name("…"), "thidua-export");
        assert_eq!(encoded_name("hộ.csv"), "UTF-8''h%E1%BB%99.csv");
        assert_eq!(sheet_name("a/b:c"), "abc");
    }

    #[test]
    fn csv_quotes_and_guards() {
        let columns = vec!["Tên".to_string(), "Số".to_string()];
        let rows = vec![
            vec![Cell::Text("a, \"b\""), Cell::Number(1.5, "1.5".into())],
            vec![Cell::Text("=SUM(A1)"), Cell::Empty],
        ];
        let text = String::from_utf8(csv(&columns, &rows)).unwrap();
        assert_eq!(
            text,
            "\u{FEFF}Tên,Số\r\n\"a, \"\"b\"\"\",1.5\r\n'=SUM(A1),\r\n"
        );
    }
}
