//! "Tải Excel" / "Tải CSV" under a table: the table as shown (its title, column names and rows) goes
//! to the server, which returns a native Excel workbook or a UTF-8 CSV with BOM; the browser saves it.
//! Exporting what is on screen means the file always matches what the supervisor checked.

use leptos::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::i18n::{t, ui_lang, use_i18n};

/// A table as exported: column names and rows of text, numbers or nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// A file name from the table's title: letters without accents, digits and dashes (the server's
/// answer names the file too, but a download link needs one of its own).
pub fn file_name(title: &str, extension: &str) -> String {
    let folded = thidua_domain::text::fold_diacritics(title);
    let mut name = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') && !name.is_empty() {
            name.push('-');
        }
    }
    format!("{}.{extension}", name.trim_end_matches('-'))
}

#[component]
pub fn ExportButtons(
    /// The table at the moment of the click.
    table: Callback<(), Table>,
    /// A name for tests ("targets", "children", "completeness").
    name: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = ui_lang();
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let export = move |format: &'static str| {
        let table = table.run(());
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let token = crate::services().session.borrow().token.clone();
            let path = format!("/api/export?format={format}");
            match crate::api::post_json_for_blob(&path, &table, &token, 60_000).await {
                Ok(blob) => {
                    if let Err(e) =
                        crate::export::download_blob(&file_name(&table.title, format), &blob)
                    {
                        error.set(Some(e));
                    }
                }
                Err(e) => error.set(Some(e.message(lang.get_untracked()))),
            }
            busy.set(false);
        });
    };
    view! {
        <div class="actions export no-print">
            <button type="button" data-testid=format!("export-xlsx-{name}") disabled=move || busy.get()
                on:click=move |_| export("xlsx")>{t!(i18n, export.xlsx)}</button>
            <button type="button" data-testid=format!("export-csv-{name}") disabled=move || busy.get()
                on:click=move |_| export("csv")>{t!(i18n, export.csv)}</button>
            {move || error.get().map(|e| view! { <span class="field-error" role="alert">{e}</span> })}
        </div>
    }
}
