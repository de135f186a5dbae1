//! The unit lists the app knows: the carried ones (Sơn La 2023 and from 07/2025) plus any list the
//! province uploaded later, downloaded during sync and kept on the device, so that new communes can be
//! picked offline without a new release of the app.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use thidua_domain::org::{OrgCatalog, UnitList};

use crate::api::{get_json, ApiError};
use crate::storage::{StorageError, Store};

const META_UNIT_LISTS: &str = "unit_lists";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DownloadedList {
    pub id: String,
    pub text: String,
}

#[derive(Deserialize)]
struct DeviceUnitLists {
    unit_lists: Vec<DownloadedList>,
}

thread_local! {
    static DOWNLOADED: RefCell<Vec<DownloadedList>> = const { RefCell::new(Vec::new()) };
}

/// The carried lists plus the downloaded ones that fit (one that does not is left out, never fatal).
pub fn catalog() -> OrgCatalog {
    let mut catalog = OrgCatalog::sonla();
    DOWNLOADED.with(|lists| {
        for list in lists.borrow().iter() {
            if let Ok(parsed) = UnitList::parse(&list.text) {
                let _ = catalog.add(parsed);
            }
        }
    });
    catalog
}

/// Reads the lists kept on the device (at start).
pub async fn load(store: &Store) -> Result<(), StorageError> {
    let lists: Vec<DownloadedList> = store.meta(META_UNIT_LISTS).await?.unwrap_or_default();
    DOWNLOADED.with(|d| *d.borrow_mut() = lists);
    Ok(())
}

/// Downloads the uploaded lists; true when they changed (screens then rebuild their choices).
pub async fn refresh(store: &Store, token: &str) -> Result<bool, RefreshError> {
    let answer: DeviceUnitLists = get_json("/api/unit-lists", token, 45_000)
        .await
        .map_err(RefreshError::Api)?;
    let changed = DOWNLOADED.with(|d| *d.borrow() != answer.unit_lists);
    if changed {
        store
            .set_meta(META_UNIT_LISTS, &answer.unit_lists)
            .await
            .map_err(RefreshError::Storage)?;
        DOWNLOADED.with(|d| *d.borrow_mut() = answer.unit_lists);
    }
    Ok(changed)
}

pub enum RefreshError {
    Api(ApiError),
    Storage(StorageError),
}
