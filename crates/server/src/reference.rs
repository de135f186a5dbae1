//! The reference data every request reads: the unit lists (the catalog), the criteria sets and the
//! target sets. The server carries Sơn La's lists, the NTM set 2021–2025 and the 2023 targets; the
//! province adds lists and sets, or replaces a carried set, through the admin API ([`crate::admin_data`]),
//! and they are in force for every later request without a restart or a new release.
//!
//! A request takes one [`Reference`] with [`LiveReference::now`] and reads it throughout, so a push
//! never checks one mutation against the old catalog and the next against the new one. A change is
//! made on a copy and swapped in whole.
//!
//! Several server processes may share one database, each with its own copy in memory. The database
//! holds a version that every stored change moves on ([`Store::reference_version`]); `now` compares
//! it with the version of the copy and reloads the copy when they differ. Why on every request rather
//! than every few seconds: an administrator who uploads a unit list and then, a second later, creates
//! the officer of a new commune may reach another process behind the proxy, and so may the officer's
//! first push; a time window would refuse both with "unknown unit" for no reason they could see. The
//! check is one primary-key read of a one-row table, beside the session lookup every request already
//! makes; the reload (parsing the stored lists and sets) happens only after a change. (A hand edit of
//! the tables in SQL moves no version: running processes see it after
//! `UPDATE server_sequence SET value = value + 1 WHERE name = 'reference_data'`, or a restart.)

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::Serialize;
use thidua_domain::criteria::CriteriaSet;
use thidua_domain::org::{Level, OrgCatalog, UnitList};
use thidua_domain::targets::TargetSet;
use thidua_domain::Day;

use crate::error::ApiError;
use crate::store::{ReferenceWrite, SetTable, StartError, Store, StoredDocument};

/// The criteria set NTM assessments are checked against. A stored set with this id replaces the
/// carried one: that is how the province's requirements reach validation.
pub const NTM_SET: &str = "ntm-2021-2025";
/// The id of the carried target set (the 2023 directive's).
pub const TARGET_SET: &str = "sonla-2023";

/// Where a list or set in force comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// The server ships a list or set with this id.
    pub carried: bool,
    /// The administrator (user id) who stored the version in force, and when (unix seconds); `None`
    /// for a carried one as shipped.
    pub stored: Option<(String, i64)>,
}

impl Provenance {
    const CARRIED: Provenance = Provenance {
        carried: true,
        stored: None,
    };

    fn stored(carried: bool, document: &StoredDocument) -> Provenance {
        Provenance {
            carried,
            stored: Some((document.by.clone(), document.at)),
        }
    }
}

/// One version of the reference data: what a request reads.
#[derive(Debug, Clone)]
pub struct Reference {
    pub catalog: OrgCatalog,
    /// By list id, for every list of the catalog.
    list_provenance: BTreeMap<String, Provenance>,
    criteria: BTreeMap<String, (CriteriaSet, Provenance)>,
    targets: BTreeMap<String, (TargetSet, Provenance)>,
}

impl Reference {
    /// What the server ships: Sơn La's unit lists, the NTM set 2021–2025, the 2023 targets.
    pub fn carried() -> Reference {
        let catalog = OrgCatalog::sonla();
        let list_provenance = catalog
            .lists()
            .iter()
            .map(|l| (l.id.clone(), Provenance::CARRIED))
            .collect();
        let ntm = CriteriaSet::ntm_2021_2025();
        let targets = TargetSet::sonla_2023();
        Reference {
            catalog,
            list_provenance,
            criteria: BTreeMap::from([(ntm.id.clone(), (ntm, Provenance::CARRIED))]),
            targets: BTreeMap::from([(targets.id.clone(), (targets, Provenance::CARRIED))]),
        }
    }

    /// At start: the version the database holds and the data of (at least) that version ([`Reference::read`]).
    pub async fn load(store: &Store) -> Result<(i64, Reference), StartError> {
        let read_error = |e: ApiError| {
            StartError(format!(
                "Không đọc được danh mục, bộ tiêu chí và bộ chỉ tiêu đã lưu / cannot read the stored \
                 unit lists, criteria sets and target sets: {}",
                e.message_en
            ))
        };
        // the version first: data read after it is at least as new (see LiveReference::reload)
        let version = store.reference_version().await.map_err(read_error)?;
        let reference = Reference::read(store).await.map_err(read_error)?;
        Ok((version, reference))
    }

    /// The carried data plus what `store` holds: lists added in `valid_from` order, sets replacing
    /// carried ones of the same id. A stored item that no longer reads or fits (after an upgrade
    /// changed a carried list, say) is logged and skipped: the server still starts, with the rest.
    pub async fn read(store: &Store) -> Result<Reference, ApiError> {
        let mut reference = Reference::carried();

        let mut lists = Vec::new();
        for document in store.unit_lists().await? {
            match UnitList::parse(&document.body) {
                Ok(list) if list.id == document.id => lists.push((list, document)),
                Ok(list) => tracing::error!(
                    stored_as = %document.id,
                    id = %list.id,
                    "a stored unit list names another id; skipped"
                ),
                Err(error) => tracing::error!(
                    id = %document.id,
                    %error,
                    "a stored unit list cannot be read; skipped"
                ),
            }
        }
        // a list's predecessor is always older than the list (OrgCatalog::add checks it), so this
        // order adds every predecessor before its successors
        lists.sort_by(|a, b| a.0.valid_from.cmp(&b.0.valid_from));
        for (list, document) in lists {
            let carried = reference.list_provenance.contains_key(&list.id);
            if let Err(error) = reference.catalog.add(list) {
                tracing::error!(
                    id = %document.id,
                    carried,
                    %error,
                    "a stored unit list no longer fits the catalog; skipped"
                );
                continue;
            }
            reference
                .list_provenance
                .insert(document.id.clone(), Provenance::stored(false, &document));
        }

        for document in store.sets(SetTable::CriteriaSets).await? {
            match CriteriaSet::from_json(&document.body) {
                Ok(set) if set.id == document.id => reference.put_criteria_set(set, &document),
                Ok(_) => {
                    tracing::error!(id = %document.id, "a stored criteria set names another id; skipped")
                }
                Err(error) => tracing::error!(
                    id = %document.id,
                    %error,
                    "a stored criteria set cannot be read; skipped"
                ),
            }
        }
        for document in store.sets(SetTable::TargetSets).await? {
            match TargetSet::from_json(&document.body) {
                Ok(set) if set.id == document.id => reference.put_target_set(set, &document),
                Ok(_) => {
                    tracing::error!(id = %document.id, "a stored target set names another id; skipped")
                }
                Err(error) => tracing::error!(
                    id = %document.id,
                    %error,
                    "a stored target set cannot be read; skipped"
                ),
            }
        }
        Ok(reference)
    }

    /// The set NTM assessments are validated against: the carried one, or the stored one of its id.
    pub fn ntm(&self) -> &CriteriaSet {
        &self
            .criteria
            .get(NTM_SET)
            .expect("the carried NTM set is always there: sets are replaced, never removed")
            .0
    }

    pub fn criteria_set(&self, id: &str) -> Option<&CriteriaSet> {
        self.criteria.get(id).map(|(set, _)| set)
    }

    pub fn target_set(&self, id: &str) -> Option<&TargetSet> {
        self.targets.get(id).map(|(set, _)| set)
    }

    /// The target set whose period holds `day` (the latest starting one if several do).
    pub fn target_set_on(&self, day: &Day) -> Option<&TargetSet> {
        self.targets
            .values()
            .map(|(set, _)| set)
            .filter(|set| &set.period_start <= day && day <= &set.period_end)
            .max_by(|a, b| a.period_start.cmp(&b.period_start))
    }

    /// Adds a list the store now holds ([`OrgCatalog::add`]'s refusal is the caller's to report).
    pub fn add_unit_list(
        &mut self,
        list: UnitList,
        document: &StoredDocument,
    ) -> Result<(), thidua_domain::org::UnitListError> {
        self.catalog.add(list)?;
        self.list_provenance
            .insert(document.id.clone(), Provenance::stored(false, document));
        Ok(())
    }

    /// Puts a set the store now holds in force, in place of any set of its id.
    pub fn put_criteria_set(&mut self, set: CriteriaSet, document: &StoredDocument) {
        let carried = self.criteria.get(&set.id).is_some_and(|(_, p)| p.carried);
        self.criteria
            .insert(set.id.clone(), (set, Provenance::stored(carried, document)));
    }

    pub fn put_target_set(&mut self, set: TargetSet, document: &StoredDocument) {
        let carried = self.targets.get(&set.id).is_some_and(|(_, p)| p.carried);
        self.targets
            .insert(set.id.clone(), (set, Provenance::stored(carried, document)));
    }

    /// The criteria sets and target sets the province stored (a carried set as shipped is left
    /// out: every device carries it already). What devices download to check and show what the
    /// province requires, offline.
    pub fn stored_sets(&self) -> (Vec<&CriteriaSet>, Vec<&TargetSet>) {
        let criteria = self
            .criteria
            .values()
            .filter(|(_, p)| p.stored.is_some())
            .map(|(set, _)| set)
            .collect();
        let targets = self
            .targets
            .values()
            .filter(|(_, p)| p.stored.is_some())
            .map(|(set, _)| set)
            .collect();
        (criteria, targets)
    }

    /// The target set an indicator report of `year` is checked against: the latest-starting set in
    /// force that year ([`TargetSet::for_year`]), else the directive's 2023 set (always there).
    pub fn targets_for_year(&self, year: u16) -> &TargetSet {
        TargetSet::for_year(self.targets.values().map(|(set, _)| set), year)
            .or_else(|| self.targets.get(TARGET_SET).map(|(set, _)| set))
            .expect("the carried target set is always there: sets are replaced, never removed")
    }

    /// The criteria set an NTM assessment of `year` is checked against ([`CriteriaSet::for_year`]
    /// over the sets in force), else the NTM set.
    pub fn criteria_for_year(&self, year: u16) -> &CriteriaSet {
        CriteriaSet::for_year(self.criteria.values().map(|(set, _)| set), year)
            .unwrap_or_else(|| self.ntm())
    }

    /// Every list of the catalog, oldest first.
    pub fn unit_list_summaries(&self) -> Vec<UnitListSummary> {
        self.catalog
            .lists()
            .iter()
            .map(|list| self.unit_list_summary(list))
            .collect()
    }

    pub fn unit_list_summary(&self, list: &UnitList) -> UnitListSummary {
        let provenance = self
            .list_provenance
            .get(&list.id)
            .cloned()
            .unwrap_or(Provenance::CARRIED);
        let (uploaded_by, uploaded_at) = provenance.stored.unzip();
        UnitListSummary {
            id: list.id.clone(),
            name: list.name.clone(),
            valid_from: list.valid_from.clone(),
            predecessor: list.predecessor.clone(),
            source: list.source.clone(),
            communes: list.communes().count(),
            districts: list.at_level(Level::District).count(),
            carried: provenance.carried,
            uploaded_by,
            uploaded_at,
        }
    }

    /// Every criteria set in force, by id.
    pub fn criteria_set_summaries(&self) -> Vec<CriteriaSetSummary> {
        self.criteria
            .keys()
            .filter_map(|id| self.criteria_set_summary(id))
            .collect()
    }

    pub fn criteria_set_summary(&self, id: &str) -> Option<CriteriaSetSummary> {
        let (set, provenance) = self.criteria.get(id)?;
        let indicators = || set.criteria.iter().flat_map(|c| &c.indicators);
        let (updated_by, updated_at) = provenance.stored.clone().unzip();
        Some(CriteriaSetSummary {
            id: set.id.clone(),
            name_vi: set.name_vi.clone(),
            first_year: set.first_year,
            last_year: set.last_year,
            criteria: set.criteria.len(),
            indicators: indicators().count(),
            configured: indicators().filter(|i| i.requirement.is_some()).count(),
            carried: provenance.carried,
            updated_by,
            updated_at,
        })
    }

    /// Every target set in force, by id.
    pub fn target_set_summaries(&self) -> Vec<TargetSetSummary> {
        self.targets
            .keys()
            .filter_map(|id| self.target_set_summary(id))
            .collect()
    }

    pub fn target_set_summary(&self, id: &str) -> Option<TargetSetSummary> {
        let (set, provenance) = self.targets.get(id)?;
        let (updated_by, updated_at) = provenance.stored.clone().unzip();
        Some(TargetSetSummary {
            id: set.id.clone(),
            name_vi: set.name_vi.clone(),
            unit_list: set.unit_list.clone(),
            period_start: set.period_start.clone(),
            period_end: set.period_end.clone(),
            targets: set.targets.len(),
            carried: provenance.carried,
            updated_by,
            updated_at,
        })
    }
}

/// A unit list as the administrator's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitListSummary {
    pub id: String,
    pub name: String,
    pub valid_from: Day,
    pub predecessor: Option<String>,
    pub source: String,
    /// Communes, wards and townships.
    pub communes: usize,
    /// Districts, towns and cities under the province (0 in a two-level list).
    pub districts: usize,
    /// Shipped with the server (never uploaded).
    pub carried: bool,
    /// Who uploaded it (user id) and when (unix seconds); null for a carried list.
    pub uploaded_by: Option<String>,
    pub uploaded_at: Option<i64>,
}

/// A criteria set as the administrator's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CriteriaSetSummary {
    pub id: String,
    pub name_vi: String,
    pub first_year: u16,
    pub last_year: u16,
    pub criteria: usize,
    pub indicators: usize,
    /// Indicators with a requirement: the others count as "chưa cấu hình" and are never met.
    pub configured: usize,
    /// The server ships a set with this id (the one in force may be the province's version of it).
    pub carried: bool,
    /// Who stored the version in force (user id) and when (unix seconds); null for a carried set as
    /// shipped.
    pub updated_by: Option<String>,
    pub updated_at: Option<i64>,
}

/// A target set as the administrator's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetSetSummary {
    pub id: String,
    pub name_vi: String,
    pub unit_list: String,
    pub period_start: Day,
    pub period_end: Day,
    pub targets: usize,
    pub carried: bool,
    pub updated_by: Option<String>,
    pub updated_at: Option<i64>,
}

/// The reference data in force, replaced whole by each change, with the version it was read at.
pub struct LiveReference {
    current: RwLock<(i64, Arc<Reference>)>,
    /// Held while this process reloads the data or changes it: many requests that find the copy
    /// stale at once reload it once, and a change never races a reload in this process. (Changes of
    /// different processes are kept apart by the database: [`Store::begin_reference_change`].)
    update: tokio::sync::Mutex<()>,
}

impl LiveReference {
    pub fn new(version: i64, reference: Reference) -> LiveReference {
        LiveReference {
            current: RwLock::new((version, Arc::new(reference))),
            update: tokio::sync::Mutex::new(()),
        }
    }

    /// The copy this process holds and its version, without asking the database. The lock is held
    /// only to clone the `Arc`, never across an await.
    fn held(&self) -> (i64, Arc<Reference>) {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        (current.0, Arc::clone(&current.1))
    }

    fn replace(&self, version: i64, reference: Arc<Reference>) {
        // a poisoned lock only means a reader panicked while cloning an Arc: the value is whole
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = (version, reference);
    }

    /// The version in force now, in this process or any other on the same database: the copy held,
    /// after one read of the stored version (see the module's notes), reloaded when they differ.
    pub async fn now(&self, store: &Store) -> Result<Arc<Reference>, ApiError> {
        let stored = store.reference_version().await?;
        let (version, reference) = self.held();
        if version == stored {
            return Ok(reference);
        }
        let _update = self.update.lock().await;
        // another request may have reloaded it while this one waited
        let (version, reference) = self.held();
        if version == stored {
            return Ok(reference);
        }
        self.reload(store).await
    }

    /// Reads the stored data again; the caller holds `update`.
    async fn reload(&self, store: &Store) -> Result<Arc<Reference>, ApiError> {
        // The version before the data: data read afterwards is at least that new (each change is
        // one commit), so a change landing in between is seen again at the next request, never lost.
        let version = store.reference_version().await?;
        let reference = Arc::new(Reference::read(store).await?);
        tracing::info!(version, "reference data reloaded");
        self.replace(version, Arc::clone(&reference));
        Ok(reference)
    }

    /// Starts a change: waits for any other change, in this process or another, to finish, then
    /// hands out the latest version to build on.
    pub async fn begin_change(&self, store: &Store) -> Result<Change<'_>, ApiError> {
        let guard = self.update.lock().await;
        loop {
            let (version, base) = self.held();
            let write = store.begin_reference_change().await?;
            if write.version() == version {
                return Ok(Change {
                    base,
                    write,
                    live: self,
                    _guard: guard,
                });
            }
            // another process changed the data: let go of the lock (a reload must not hold a
            // writer's lock while it reads through other connections), reload, and take it again
            drop(write);
            self.reload(store).await?;
        }
    }
}

/// A change in progress: build the next version from [`Change::base`], store it through
/// [`Change::write`], then [`Change::commit`]. Dropped without a commit, nothing changes, in the
/// database or in memory.
pub struct Change<'a> {
    base: Arc<Reference>,
    write: ReferenceWrite,
    live: &'a LiveReference,
    _guard: tokio::sync::MutexGuard<'a, ()>,
}

impl Change<'_> {
    pub fn base(&self) -> &Reference {
        &self.base
    }

    /// Where the change's rows are written; they are kept only by [`Change::commit`].
    pub fn write(&mut self) -> &mut ReferenceWrite {
        &mut self.write
    }

    /// Stores the change and puts `next` in force for every request that starts from now on, here
    /// and (through the stored version) in every other process.
    pub async fn commit(self, next: Reference) -> Result<(), ApiError> {
        let version = self.write.commit().await?;
        self.live.replace(version, Arc::new(next));
        Ok(())
    }
}
