//! The province's criteria sets (bộ tiêu chí) and target sets (bộ chỉ tiêu) kept on the device: the
//! app carries the NTM set 2021–2025 and the 2023 targets, but the requirements of each indicator are
//! the province's to set, and a set for a new period may come later. Sync downloads what the province
//! stored (only when it changed: the server names the content, the device sends the name it holds)
//! and keeps it in IndexedDB, so the assessment shows "Đạt" and "Chưa đạt" by the province's rules
//! with no network, the same rules the server checks pushes against.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thidua_domain::criteria::CriteriaSet;
use thidua_domain::targets::TargetSet;

use crate::api::{get_json, ApiError};
use crate::storage::{StorageError, Store};

const META_REFERENCE_SETS: &str = "reference_sets";

/// What the server sent last, as kept on the device.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DownloadedSets {
    pub version: String,
    pub criteria_sets: Vec<CriteriaSet>,
    pub target_sets: Vec<TargetSet>,
}

/// The server's answer: the sets, or only `unchanged` when the device holds `version` already.
#[derive(Deserialize)]
struct DeviceSets {
    version: String,
    #[serde(default)]
    unchanged: bool,
    #[serde(default)]
    criteria_sets: Vec<CriteriaSet>,
    #[serde(default)]
    target_sets: Vec<TargetSet>,
}

thread_local! {
    static DOWNLOADED: RefCell<DownloadedSets> = RefCell::new(DownloadedSets::default());
}

/// The criteria sets in force on the device, one per id: the carried one unless the province stored
/// its own of that id, plus the province's others.
fn criteria_sets() -> BTreeMap<String, CriteriaSet> {
    let mut sets = BTreeMap::new();
    let carried = CriteriaSet::ntm_2021_2025();
    sets.insert(carried.id.clone(), carried);
    DOWNLOADED.with(|d| {
        for set in &d.borrow().criteria_sets {
            sets.insert(set.id.clone(), set.clone());
        }
    });
    sets
}

/// The criteria set an NTM assessment of `year` is checked against, as the server chooses it
/// ([`CriteriaSet::for_year`]); `None` when no set covers the year.
pub fn criteria_for(year: u16) -> Option<CriteriaSet> {
    let sets = criteria_sets();
    CriteriaSet::for_year(sets.values(), year).cloned()
}

/// The target set a commune reports against for `year`: the one whose period holds it, else the
/// carried 2023 targets (as the province stored them, if it did), which the server's checks know.
pub fn targets_for(year: u16) -> TargetSet {
    let mut sets = BTreeMap::new();
    let carried = TargetSet::sonla_2023();
    sets.insert(carried.id.clone(), carried);
    DOWNLOADED.with(|d| {
        for set in &d.borrow().target_sets {
            sets.insert(set.id.clone(), set.clone());
        }
    });
    TargetSet::for_year(sets.values(), year)
        .cloned()
        .unwrap_or_else(|| {
            let id = TargetSet::sonla_2023().id;
            sets.remove(&id)
                .expect("the carried set was inserted above")
        })
}

/// Reads the sets kept on the device (at start). A kept value that no longer reads (after an
/// update changed the format) counts as none: the next sync downloads the sets again.
pub async fn load(store: &Store) -> Result<(), StorageError> {
    let kept: DownloadedSets = store.meta(META_REFERENCE_SETS).await?.unwrap_or_default();
    DOWNLOADED.with(|d| *d.borrow_mut() = kept);
    Ok(())
}

/// Asks the server for the sets unless unchanged; true when they changed (screens then re-check).
pub async fn refresh(store: &Store, token: &str) -> Result<bool, RefreshError> {
    let have = DOWNLOADED.with(|d| d.borrow().version.clone());
    let path = if have.is_empty() {
        "/api/reference-sets".to_string()
    } else {
        format!("/api/reference-sets?have={have}")
    };
    let answer: DeviceSets = get_json(&path, token, 45_000)
        .await
        .map_err(RefreshError::Api)?;
    if answer.unchanged && answer.version == have {
        return Ok(false);
    }
    let downloaded = DownloadedSets {
        version: answer.version,
        criteria_sets: answer.criteria_sets,
        target_sets: answer.target_sets,
    };
    let changed = DOWNLOADED.with(|d| {
        let d = d.borrow();
        d.criteria_sets != downloaded.criteria_sets || d.target_sets != downloaded.target_sets
    });
    store
        .set_meta(META_REFERENCE_SETS, &downloaded)
        .await
        .map_err(RefreshError::Storage)?;
    DOWNLOADED.with(|d| *d.borrow_mut() = downloaded);
    Ok(changed)
}

pub enum RefreshError {
    Api(ApiError),
    Storage(StorageError),
}
