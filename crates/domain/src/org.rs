//! Organisation units (đơn vị hành chính), versioned by period.
//!
//! A unit list is data: the province loads a new one (for example GSO's export after a merger) without a
//! new release. Each list names the list it succeeds, and each of its units names the old units it was
//! formed from (`merged_from`), so records made against old communes roll up under the new ones.
//!
//! The text format, one unit per line, cells separated by a tab (shown as two spaces here), with
//! `# key: value` header lines:
//! ```text
//! # id: sonla-2025-07
//! # name: Tỉnh Sơn La từ 01/07/2025
//! # valid_from: 2025-07-01
//! # predecessor: sonla-2023
//! # source: Công văn 1027/CTK-CSCL ...
//! code  kind  name  parent  merged_from
//! 14  Tỉnh  Sơn La
//! 03646  Phường  Tô Hiệu  14  03646,03649,03652,03655
//! 03980  Phường  Mộc Châu  14  03979,04012/part
//! 04078  Xã  Chiềng Hặc  14  04078,04012/part-main
//! ```
//! In `merged_from`, a bare code means the whole old unit went into this one; `/part` means only part of
//! it did; `/part-main` marks the part that holds the old unit's records by default.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::text::{matches_query, search_key};
use crate::Day;

/// An official unit code (mã đơn vị hành chính): 2 digits for a province, 3 for a district, 5 for a commune.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(text: &str) -> Result<UnitCode, String> {
        let text = text.trim();
        if (2..=5).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit()) {
            Ok(UnitCode(text.to_string()))
        } else {
            Err(format!(
                "mã đơn vị «{text}» không hợp lệ: phải gồm 2 đến 5 chữ số"
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UnitCode {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        UnitCode::parse(&value)
    }
}

impl From<UnitCode> for String {
    fn from(code: UnitCode) -> String {
        code.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The level of a unit in the tree: province, district (cấp huyện), commune (cấp xã).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Province,
    District,
    Commune,
}

/// The kind of unit, as the law names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Tỉnh
    Province,
    /// Thành phố (thuộc tỉnh)
    City,
    /// Thị xã
    Town,
    /// Huyện
    District,
    /// Xã
    Commune,
    /// Phường
    Ward,
    /// Thị trấn
    Township,
}

impl UnitKind {
    pub const ALL: [UnitKind; 7] = [
        UnitKind::Province,
        UnitKind::City,
        UnitKind::Town,
        UnitKind::District,
        UnitKind::Commune,
        UnitKind::Ward,
        UnitKind::Township,
    ];

    pub fn level(self) -> Level {
        match self {
            UnitKind::Province => Level::Province,
            UnitKind::City | UnitKind::Town | UnitKind::District => Level::District,
            UnitKind::Commune | UnitKind::Ward | UnitKind::Township => Level::Commune,
        }
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            UnitKind::Province => "Tỉnh",
            UnitKind::City => "Thành phố",
            UnitKind::Town => "Thị xã",
            UnitKind::District => "Huyện",
            UnitKind::Commune => "Xã",
            UnitKind::Ward => "Phường",
            UnitKind::Township => "Thị trấn",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            UnitKind::Province => "Province",
            UnitKind::City => "City",
            UnitKind::Town => "Town",
            UnitKind::District => "District",
            UnitKind::Commune => "Commune",
            UnitKind::Ward => "Ward",
            UnitKind::Township => "Township",
        }
    }

    /// Reads the Vietnamese label, with or without accents ("Thị trấn", "thi tran").
    pub fn parse(text: &str) -> Option<UnitKind> {
        let key = search_key(text);
        UnitKind::ALL
            .into_iter()
            .find(|kind| search_key(kind.label_vi()) == key)
    }
}

/// How much of an old unit went into a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Share {
    /// The whole old unit (toàn bộ).
    Full,
    /// Part of it; `main` marks the new unit that holds the old unit's records by default.
    Partial { main: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Predecessor {
    pub code: UnitCode,
    pub share: Share,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    pub code: UnitCode,
    pub kind: UnitKind,
    /// Vietnamese name without the kind: "Chiềng Lề".
    pub name: String,
    pub parent: Option<UnitCode>,
    /// Accent-free, lower-case key for search: "chieng le".
    pub search_key: String,
    pub merged_from: Vec<Predecessor>,
}

impl OrgUnit {
    /// "Phường Chiềng Lề"
    pub fn full_name(&self) -> String {
        format!("{} {}", self.kind.label_vi(), self.name)
    }
    pub fn level(&self) -> Level {
        self.kind.level()
    }
}

/// What went wrong reading a unit list, with the line to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitListError {
    pub line: usize,
    pub reason: String,
}

impl fmt::Display for UnitListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "danh mục đơn vị: {}", self.reason)
        } else {
            write!(f, "danh mục đơn vị, dòng {}: {}", self.line, self.reason)
        }
    }
}

impl std::error::Error for UnitListError {}

/// The units in force from one day on: a tree with one root (the province).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitList {
    pub id: String,
    pub name: String,
    pub valid_from: Day,
    /// The list this one replaces; `merged_from` codes refer to it.
    pub predecessor: Option<String>,
    pub source: String,
    units: Vec<OrgUnit>,
    index: BTreeMap<UnitCode, usize>,
}

impl UnitList {
    /// Reads a list in the text format described in the module docs.
    pub fn parse(text: &str) -> Result<UnitList, UnitListError> {
        let err = |line: usize, reason: String| UnitListError { line, reason };
        let mut header: BTreeMap<String, String> = BTreeMap::new();
        let mut units: Vec<OrgUnit> = Vec::new();
        let mut index = BTreeMap::new();
        let mut saw_columns = false;
        for (i, raw) in text.lines().enumerate() {
            let line_no = i + 1;
            let line = raw.trim_end_matches('\r');
            if line.trim().is_empty() {
                continue;
            }
            if let Some(comment) = line.strip_prefix('#') {
                if let Some((key, value)) = comment.split_once(':') {
                    header.insert(key.trim().to_string(), value.trim().to_string());
                }
                continue;
            }
            if !saw_columns {
                let columns: Vec<&str> = line.split('\t').map(str::trim).collect();
                if columns.len() < 4 || columns[..4] != ["code", "kind", "name", "parent"] {
                    return Err(err(
                        line_no,
                        "dòng tiêu đề phải là: code, kind, name, parent, merged_from (cách nhau bằng tab)".into(),
                    ));
                }
                saw_columns = true;
                continue;
            }
            let cells: Vec<&str> = line.split('\t').map(str::trim).collect();
            let cell = |n: usize| cells.get(n).copied().unwrap_or("");
            let code = UnitCode::parse(cell(0)).map_err(|e| err(line_no, e))?;
            let kind = UnitKind::parse(cell(1))
                .ok_or_else(|| err(line_no, format!("loại đơn vị «{}» không rõ", cell(1))))?;
            let name = cell(2).to_string();
            if name.is_empty() {
                return Err(err(line_no, format!("đơn vị {code} thiếu tên")));
            }
            let parent = match cell(3) {
                "" => None,
                text => Some(UnitCode::parse(text).map_err(|e| err(line_no, e))?),
            };
            let merged_from = parse_merged_from(cell(4)).map_err(|e| err(line_no, e))?;
            if index.insert(code.clone(), units.len()).is_some() {
                return Err(err(line_no, format!("mã {code} bị trùng")));
            }
            units.push(OrgUnit {
                search_key: search_key(&name),
                code,
                kind,
                name,
                parent,
                merged_from,
            });
        }
        let need = |key: &str| {
            header
                .get(key)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| err(0, format!("thiếu dòng «# {key}: …» ở đầu tệp")))
        };
        let list = UnitList {
            id: need("id")?,
            name: need("name")?,
            valid_from: Day::parse(&need("valid_from")?).map_err(|e| err(0, e))?,
            predecessor: header.get("predecessor").filter(|v| !v.is_empty()).cloned(),
            source: need("source")?,
            units,
            index,
        };
        list.check_tree()?;
        Ok(list)
    }

    fn check_tree(&self) -> Result<(), UnitListError> {
        let err = |reason: String| Err(UnitListError { line: 0, reason });
        let roots: Vec<&OrgUnit> = self.units.iter().filter(|u| u.parent.is_none()).collect();
        if roots.len() != 1 || roots[0].level() != Level::Province {
            return err("phải có đúng một đơn vị gốc là tỉnh (không có cấp trên)".into());
        }
        for unit in &self.units {
            if let Some(parent_code) = &unit.parent {
                let Some(parent) = self.get(parent_code) else {
                    return err(format!(
                        "đơn vị {} có cấp trên {} không có trong danh mục",
                        unit.code, parent_code
                    ));
                };
                if parent.level() >= unit.level() {
                    return err(format!(
                        "đơn vị {} phải ở cấp dưới của {}",
                        unit.code, parent_code
                    ));
                }
            }
            if !unit.merged_from.is_empty() && self.predecessor.is_none() {
                return err(format!(
                    "đơn vị {} có merged_from nhưng tệp không có dòng «# predecessor: …»",
                    unit.code
                ));
            }
        }
        Ok(())
    }

    pub fn units(&self) -> &[OrgUnit] {
        &self.units
    }

    pub fn get(&self, code: &UnitCode) -> Option<&OrgUnit> {
        self.index.get(code).map(|&i| &self.units[i])
    }

    pub fn root(&self) -> &OrgUnit {
        self.units
            .iter()
            .find(|u| u.parent.is_none())
            .expect("checked at parse")
    }

    pub fn children<'a>(&'a self, code: &'a UnitCode) -> impl Iterator<Item = &'a OrgUnit> + 'a {
        self.units
            .iter()
            .filter(move |u| u.parent.as_ref() == Some(code))
    }

    pub fn at_level(&self, level: Level) -> impl Iterator<Item = &OrgUnit> + '_ {
        self.units.iter().filter(move |u| u.level() == level)
    }

    pub fn communes(&self) -> impl Iterator<Item = &OrgUnit> + '_ {
        self.at_level(Level::Commune)
    }

    pub fn count_kind(&self, kind: UnitKind) -> usize {
        self.units.iter().filter(|u| u.kind == kind).count()
    }

    /// The unit and its ancestors, nearest first: commune, district, province.
    pub fn lineage(&self, code: &UnitCode) -> Vec<&OrgUnit> {
        let mut out = Vec::new();
        let mut next = self.get(code);
        while let Some(unit) = next {
            out.push(unit);
            next = unit.parent.as_ref().and_then(|p| self.get(p));
        }
        out
    }

    /// True when `code` is `ancestor` or lies under it.
    pub fn is_within(&self, code: &UnitCode, ancestor: &UnitCode) -> bool {
        self.lineage(code).iter().any(|u| &u.code == ancestor)
    }

    /// Units whose accent-free name matches every word of the query, communes first by name.
    pub fn search(&self, query: &str) -> Vec<&OrgUnit> {
        let mut found: Vec<&OrgUnit> = self
            .units
            .iter()
            .filter(|u| matches_query(&u.search_key, query) || u.code.as_str() == query.trim())
            .collect();
        found.sort_by(|a, b| {
            b.level()
                .cmp(&a.level())
                .then(a.search_key.cmp(&b.search_key))
        });
        found
    }
}

fn parse_merged_from(cell: &str) -> Result<Vec<Predecessor>, String> {
    cell.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|token| {
            let (code, share) = match token.split_once('/') {
                None => (token, Share::Full),
                Some((code, "part")) => (code, Share::Partial { main: false }),
                Some((code, "part-main")) => (code, Share::Partial { main: true }),
                Some((_, other)) => {
                    return Err(format!(
                        "«/{other}» không rõ: chỉ dùng /part hoặc /part-main"
                    ))
                }
            };
            Ok(Predecessor {
                code: UnitCode::parse(code)?,
                share,
            })
        })
        .collect()
}

/// Where the records of an old unit belong in a later list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder<'a> {
    pub unit: &'a OrgUnit,
    /// False when the old unit was split and only part of it went into `unit`: the records of a split
    /// unit go to the main part by default, and a person may move individual records.
    pub whole: bool,
}

/// Every unit list the deployment knows, oldest first.
#[derive(Debug, Clone, Default)]
pub struct OrgCatalog {
    lists: Vec<UnitList>,
}

/// The lists Thi Đua carries: Sơn La 2023 (GSO) and Sơn La from 01/07/2025.
pub const SONLA_2023: &str = include_str!("../data/units/sonla-2023.tsv");
pub const SONLA_2025_07: &str = include_str!("../data/units/sonla-2025-07.tsv");

impl OrgCatalog {
    /// Sơn La's carried lists. They are checked by the tests, so reading them cannot fail.
    pub fn sonla() -> OrgCatalog {
        let mut catalog = OrgCatalog::default();
        for text in [SONLA_2023, SONLA_2025_07] {
            let list = UnitList::parse(text).expect("carried unit list is valid");
            catalog
                .add(list)
                .expect("carried unit list fits the catalog");
        }
        catalog
    }

    /// Adds a list. Its predecessor must already be known, every `merged_from` code must exist there,
    /// and every commune of the predecessor must go somewhere, or its records would be orphaned.
    pub fn add(&mut self, list: UnitList) -> Result<(), UnitListError> {
        let err = |reason: String| Err(UnitListError { line: 0, reason });
        if self.list(&list.id).is_some() {
            return err(format!("danh mục «{}» đã có", list.id));
        }
        if let Some(pred_id) = &list.predecessor {
            let Some(pred) = self.list(pred_id) else {
                return err(format!("danh mục trước «{pred_id}» chưa được nạp"));
            };
            if pred.valid_from >= list.valid_from {
                return err(format!("danh mục phải có hiệu lực sau «{pred_id}»"));
            }
            for unit in &list.units {
                for p in &unit.merged_from {
                    if pred.get(&p.code).is_none() {
                        return err(format!(
                            "đơn vị {} ghi nhập từ {} nhưng «{pred_id}» không có mã này",
                            unit.code, p.code
                        ));
                    }
                }
            }
            let reached: BTreeSet<&UnitCode> =
                if list.units.iter().any(|u| !u.merged_from.is_empty()) {
                    list.units
                        .iter()
                        .flat_map(|u| u.merged_from.iter().map(|p| &p.code))
                        .collect()
                } else {
                    // no merged_from at all: codes are stable, each unit holds its own records
                    list.units.iter().map(|u| &u.code).collect()
                };
            let orphans: Vec<String> = pred
                .communes()
                .filter(|c| !reached.contains(&c.code))
                .map(|c| c.code.to_string())
                .collect();
            if !orphans.is_empty() {
                return err(format!(
                    "các xã của «{pred_id}» chưa được gán vào đơn vị mới: {}",
                    orphans.join(", ")
                ));
            }
        }
        self.lists.push(list);
        self.lists.sort_by(|a, b| a.valid_from.cmp(&b.valid_from));
        Ok(())
    }

    pub fn lists(&self) -> &[UnitList] {
        &self.lists
    }

    pub fn list(&self, id: &str) -> Option<&UnitList> {
        self.lists.iter().find(|l| l.id == id)
    }

    /// The list in force on a day: the latest one that started on or before it.
    pub fn list_on(&self, day: &Day) -> Option<&UnitList> {
        self.lists.iter().rev().find(|l| &l.valid_from <= day)
    }

    /// The communes of list `to` holding the records of the communes under `ancestor` in list
    /// `from` (a 2023 district → the 2025 communes its communes went into), in code order, each with
    /// whether every commune it holds is under `ancestor`: only then does the district's supervisor
    /// cover it. Empty when a list is unknown or `to` does not descend from `from`.
    pub fn successors_within(
        &self,
        from: &str,
        ancestor: &UnitCode,
        to: &str,
    ) -> Vec<(&OrgUnit, bool)> {
        let Some(source) = self.list(from) else {
            return Vec::new();
        };
        let mut held: BTreeMap<&UnitCode, (&OrgUnit, bool, bool)> = BTreeMap::new();
        for commune in source.communes() {
            let Some(holder) = self.holder(from, &commune.code, to) else {
                continue;
            };
            let within = source.is_within(&commune.code, ancestor);
            let entry = held
                .entry(&holder.unit.code)
                .or_insert((holder.unit, false, true));
            entry.1 |= within;
            entry.2 &= within;
        }
        held.into_values()
            .filter(|(_, any, _)| *any)
            .map(|(unit, _, all)| (unit, all))
            .collect()
    }

    /// Which unit of list `to` holds the records of unit `code` of list `from`?
    /// Follows the chain of predecessors; `None` when the code is unknown or `to` does not descend from `from`.
    pub fn holder<'a>(&'a self, from: &str, code: &UnitCode, to: &str) -> Option<Holder<'a>> {
        // Walk back from `to` to `from`, then map forward one list at a time.
        let mut chain = vec![self.list(to)?];
        while chain.last()?.id != from {
            let pred = chain.last()?.predecessor.as_deref()?;
            chain.push(self.list(pred)?);
        }
        chain.reverse();
        let mut current = chain[0].get(code)?;
        let mut whole = true;
        for step in chain.windows(2) {
            let (old_list, new_list) = (step[0], step[1]);
            let (next, step_whole) = successor(old_list, new_list, &current.code)?;
            current = next;
            whole &= step_whole;
        }
        Some(Holder {
            unit: current,
            whole,
        })
    }
}

fn successor<'a>(
    old: &UnitList,
    new: &'a UnitList,
    code: &UnitCode,
) -> Option<(&'a OrgUnit, bool)> {
    let carries_mapping = new.units.iter().any(|u| !u.merged_from.is_empty());
    if !carries_mapping {
        // A list with no merged_from at all keeps codes stable (a reprint of the same units).
        return new
            .get(code)
            .filter(|_| old.get(code).is_some())
            .map(|u| (u, true));
    }
    let mut partial_main = None;
    let mut partial_other = None;
    for unit in new.units() {
        for p in unit.merged_from.iter().filter(|p| &p.code == code) {
            match p.share {
                Share::Full => return Some((unit, true)),
                Share::Partial { main: true } => partial_main = partial_main.or(Some(unit)),
                Share::Partial { main: false } => partial_other = partial_other.or(Some(unit)),
            }
        }
    }
    partial_main.or(partial_other).map(|u| (u, false))
}
