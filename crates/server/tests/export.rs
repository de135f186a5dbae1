//! Exports over HTTP: an XLSX opened with a spreadsheet reader (Vietnamese text intact, numbers as
//! numbers, bold title and header), a CSV with its BOM and RFC 4180 quoting, the attachment names,
//! the limits. Against the real server (see common/mod.rs).

mod common;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use common::*;
use serde_json::{json, Value};
use thidua_server::auth::Role;

fn table() -> Value {
    json!({
        "title": "Tỷ lệ hộ nghèo theo xã — Sơn La 2023",
        "columns": ["Mã", "Xã, phường", "Hộ nghèo", "Tỷ lệ (%)", "Ghi chú"],
        "rows": [
            ["03646", "Phường Chiềng Lề", 2, 5.0, null],
            ["03649", "Phường Tô Hiệu", 2, 50, "Thiếu báo cáo \"tổng số hộ\", đã dùng số hộ rà soát"],
            ["03682", "Xã Mường Chiên", 1, 3.3333333333, "=1+1"],
        ]
    })
}

async fn export(
    app: &TestApp,
    token: Option<&str>,
    format: &str,
    body: &Value,
) -> reqwest::Response {
    let request = match token {
        Some(token) => app
            .anon
            .post(app.url(&format!("/api/export?format={format}")))
            .bearer_auth(token),
        None => app
            .client
            .post(app.url(&format!("/api/export?format={format}"))),
    };
    request.json(body).send().await.unwrap()
}

#[tokio::test]
async fn an_xlsx_workbook_keeps_vietnamese_text_and_numbers() {
    let app = spawn_app().await;
    // any signed-in user: a commune officer exports its own table
    let (_, officer) = app
        .user_with_token("o.03646", Role::CommuneOfficer, "03646")
        .await;
    let response = export(&app, Some(&officer), "xlsx", &table()).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(
        headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"Ty-le-ho-ngheo-theo-xa-Son-La-2023.xlsx\""),
        "{disposition}"
    );
    assert!(
        disposition.contains("filename*=UTF-8''T%E1%BB%B7%20l%E1%BB%87%20h%E1%BB%99%20ngh%C3%A8o"),
        "{disposition}"
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..2], b"PK", "a zip container, as every .xlsx");

    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    let sheets = workbook.sheet_names().to_vec();
    assert_eq!(
        sheets,
        ["Tỷ lệ hộ nghèo theo xã — Sơn La"],
        "31 characters at most, trimmed"
    );
    let range = workbook.worksheet_range(&sheets[0]).unwrap();
    let cell = |r: u32, c: u32| range.get_value((r, c)).cloned().unwrap_or(Data::Empty);
    assert_eq!(
        cell(0, 0),
        Data::String("Tỷ lệ hộ nghèo theo xã — Sơn La 2023".into())
    );
    assert_eq!(cell(1, 1), Data::String("Xã, phường".into()));
    assert_eq!(cell(1, 3), Data::String("Tỷ lệ (%)".into()));
    assert_eq!(
        cell(2, 0),
        Data::String("03646".into()),
        "a code stays text, leading zero and all"
    );
    assert_eq!(cell(2, 1), Data::String("Phường Chiềng Lề".into()));
    assert_eq!(cell(2, 2), Data::Float(2.0));
    assert_eq!(cell(2, 3), Data::Float(5.0));
    assert_eq!(cell(2, 4), Data::Empty);
    assert_eq!(cell(3, 3), Data::Float(50.0));
    assert_eq!(
        cell(3, 4),
        Data::String("Thiếu báo cáo \"tổng số hộ\", đã dùng số hộ rà soát".into())
    );
    assert_eq!(cell(4, 1), Data::String("Xã Mường Chiên".into()));
    assert_eq!(cell(4, 3), Data::Float(3.3333333333));
    assert_eq!(
        cell(4, 4),
        Data::String("=1+1".into()),
        "text, never a formula"
    );
    assert_eq!(range.height(), 5);

    // the header and the title are bold: the styles part says so, and row 2's cells use it
    let mut archive_bytes = Cursor::new(
        export(&app, None, "xlsx", &table())
            .await
            .bytes()
            .await
            .unwrap()
            .to_vec(),
    );
    let styles = zip_entry(&mut archive_bytes, "xl/styles.xml");
    let sheet = zip_entry(&mut archive_bytes, "xl/worksheets/sheet1.xml");
    for cell in ["A1", "A2", "B2", "E2"] {
        assert!(is_bold(&styles, cell_style(&sheet, cell)), "{cell} is bold");
    }
    for cell in ["A3", "B3", "C3", "B4"] {
        assert!(
            !is_bold(&styles, cell_style(&sheet, cell)),
            "{cell} is not bold"
        );
    }
}

/// The style index (`s`) of a cell of a worksheet's XML; 0, the default, when it has none.
fn cell_style(sheet: &str, cell: &str) -> usize {
    let start = sheet
        .find(&format!("<c r=\"{cell}\""))
        .unwrap_or_else(|| panic!("cell {cell} in {sheet}"));
    let tag = &sheet[start..start + sheet[start..].find('>').unwrap()];
    tag.split_once(" s=\"").map_or(0, |(_, rest)| {
        rest[..rest.find('"').unwrap()].parse().unwrap()
    })
}

/// Whether the cell format `xf` of the styles part uses a bold font.
fn is_bold(styles: &str, xf: usize) -> bool {
    let section = |name: &str| {
        let start = styles.find(&format!("<{name}")).unwrap();
        let end = styles.find(&format!("</{name}>")).unwrap();
        &styles[start..end]
    };
    let format = section("cellXfs")
        .split("<xf ")
        .nth(xf + 1)
        .unwrap_or_else(|| panic!("format {xf}"));
    let font: usize = format.split_once("fontId=\"").map_or(0, |(_, rest)| {
        rest[..rest.find('"').unwrap()].parse().unwrap()
    });
    let fonts: Vec<&str> = section("fonts").split("<font>").skip(1).collect();
    fonts
        .get(font)
        .unwrap_or_else(|| panic!("font {font} of {fonts:?}"))
        .contains("<b/>")
}

/// The text of one entry of a zip archive (stored or deflated), read with the reader's own zip.
fn zip_entry(bytes: &mut Cursor<Vec<u8>>, name: &str) -> String {
    let mut archive = zip::ZipArchive::new(bytes).unwrap();
    let mut file = archive.by_name(name).unwrap();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut file, &mut text).unwrap();
    text
}

#[tokio::test]
async fn a_csv_starts_with_the_bom_and_quotes_as_rfc_4180() {
    let app = spawn_app().await;
    let response = export(&app, None, "csv", &table()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains("filename=\"Ty-le-ho-ngheo-theo-xa-Son-La-2023.csv\""),
        "{disposition}"
    );
    let bytes = response.bytes().await.unwrap();
    assert_eq!(&bytes[..3], &[0xEF, 0xBB, 0xBF], "UTF-8 byte-order mark");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "Mã,\"Xã, phường\",Hộ nghèo,Tỷ lệ (%),Ghi chú");
    assert_eq!(lines[1], "03646,Phường Chiềng Lề,2,5.0,");
    assert_eq!(
        lines[2],
        "03649,Phường Tô Hiệu,2,50,\"Thiếu báo cáo \"\"tổng số hộ\"\", đã dùng số hộ rà soát\""
    );
    assert_eq!(lines[3], "03682,Xã Mường Chiên,1,3.3333333333,'=1+1");
    assert_eq!(lines[4], "");
    assert_eq!(lines.len(), 5);
}

#[tokio::test]
async fn bad_tables_and_limits_are_refused_with_the_reason() {
    let app = spawn_app().await;
    let mut long = table();
    long["rows"] = json!(vec![json!(["1", "x", 1, 1, null]); 100_001]);
    let response = export(&app, None, "csv", &long).await;
    assert_eq!(error_body(response, 413).await["code"], "too_many_rows");
    let mut ok = table();
    ok["rows"] = json!(vec![json!(["1", "x", 1, 1, null]); 100_000]);
    let response = export(&app, None, "xlsx", &ok).await;
    assert_eq!(response.status(), 200, "100,000 rows are fine");
    // a body over 16 MiB
    let mut huge = table();
    huge["rows"] = json!(vec![json!(["x".repeat(30_000), "", 1, 1, null]); 600]);
    let response = export(&app, None, "csv", &huge).await;
    assert_eq!(error_body(response, 413).await["code"], "body_too_large");

    let cases = [
        (
            "xlsx",
            json!({"title": "T", "columns": ["a", "b"], "rows": [["x"]]}),
            "row_length",
        ),
        (
            "xlsx",
            json!({"title": "T", "columns": ["a"], "rows": [[true]]}),
            "bad_cell",
        ),
        (
            "xlsx",
            json!({"title": "T", "columns": ["a"], "rows": [[{"x": 1}]]}),
            "bad_cell",
        ),
        (
            "csv",
            json!({"title": " ", "columns": ["a"], "rows": []}),
            "invalid_title",
        ),
        (
            "csv",
            json!({"title": "T", "columns": [], "rows": []}),
            "invalid_columns",
        ),
        ("pdf", table(), "invalid_format"),
    ];
    for (format, body, code) in cases {
        let response = export(&app, None, format, &body).await;
        assert_eq!(error_body(response, 400).await["code"], code, "{body}");
    }
    let response = export(&app, None, "csv", &json!({"title": "T", "columns": ["a"]})).await;
    assert_eq!(response.status(), 422);
    let response = app
        .anon
        .post(app.url("/api/export?format=csv"))
        .json(&table())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}
