//! Group files: the serde structs of a group TOML (such as
//! `models/groups/capital_plan.toml`), their loading, and their check against the
//! model's county table.

use crate::{Error, Result};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// A group file: named county groups (`[[group]]`) and user polygon layers
/// (`[[user_layer]]`). Both lists may be empty, but not both.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupFile {
    /// Groups defined as lists of counties.
    #[serde(default)]
    pub group: Vec<GroupDef>,
    /// Polygon layers whose features each become a group.
    #[serde(default)]
    pub user_layer: Vec<UserGroupSpec>,
}

/// What a group is, in the plan's terms. Written in TOML in snake case
/// (`kind = "cross_border"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// One county-level unit (区, 县, 县级市); made by [`super::county_groups`].
    County,
    /// The capital's core (北京中心城区).
    Core,
    /// The city sub-centre (北京城市副中心).
    SubCentre,
    /// A state-level new area (河北雄安新区).
    NewArea,
    /// The plain new towns (北京平原新城).
    NewTown,
    /// An ecological conservation area (北京生态涵养区).
    Ecological,
    /// A cross-border cooperation area (跨界地区: 通州区与北三县, 通武廊, 房涿涞 …).
    CrossBorder,
    /// A ring of the metropolitan area (通勤圈, 功能圈).
    Circle,
    /// A feature of a user polygon layer.
    User,
}

impl GroupKind {
    /// The snake-case name used in TOML and in the group table.
    pub fn as_str(&self) -> &'static str {
        match self {
            GroupKind::County => "county",
            GroupKind::Core => "core",
            GroupKind::SubCentre => "sub_centre",
            GroupKind::NewArea => "new_area",
            GroupKind::NewTown => "new_town",
            GroupKind::Ecological => "ecological",
            GroupKind::CrossBorder => "cross_border",
            GroupKind::Circle => "circle",
            GroupKind::User => "user",
        }
    }
}

impl std::fmt::Display for GroupKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sentence of the plan that names a group: the line of the reference text where the
/// quoted words begin (1-based; a quote may run on past a line break) and the words.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanQuote {
    /// 1-based line number in `capital-area-spatial-plan-2023-2035.txt`.
    pub line: usize,
    /// The plan's words, verbatim.
    pub text: String,
}

/// One county of a group, by adcode and name (both must match the county table), with
/// optional elevation rules that keep only part of it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountyRef {
    /// The county's 6-digit administrative division code (GB/T 2260).
    pub adcode: u32,
    /// The county's name as in the county table (e.g. "昌平区").
    pub name: String,
    /// Keep only cells whose conditioned-DEM elevation is at or above this, m.
    #[serde(default)]
    pub min_elevation_m: Option<f64>,
    /// Keep only cells whose conditioned-DEM elevation is strictly below this, m.
    #[serde(default)]
    pub max_elevation_m: Option<f64>,
}

impl CountyRef {
    /// True when the county carries an elevation rule (and so needs the DEM).
    pub fn has_elevation_rule(&self) -> bool {
        self.min_elevation_m.is_some() || self.max_elevation_m.is_some()
    }
    /// The county's name with its rule, e.g. "昌平区 (≥ 100 m)", for tables.
    pub fn label(&self) -> String {
        match (self.min_elevation_m, self.max_elevation_m) {
            (None, None) => self.name.clone(),
            (Some(lo), None) => format!("{} (≥ {lo} m)", self.name),
            (None, Some(hi)) => format!("{} (< {hi} m)", self.name),
            (Some(lo), Some(hi)) => format!("{} ({lo}–{hi} m)", self.name),
        }
    }
}

/// A named group defined as a list of counties (an entry `[[group]]` of a group file).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDef {
    /// ASCII slug, unique in the file: lower-case letters, digits and '-'.
    pub id: String,
    /// Chinese name in the plan's words.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// What kind of area it is.
    pub kind: GroupKind,
    /// Its counties (at least one), each at most once.
    pub counties: Vec<CountyRef>,
    /// The plan's sentences that name it (may be empty for groups not from the plan).
    #[serde(default)]
    pub plan_quote: Vec<PlanQuote>,
    /// Every approximation, said plainly.
    #[serde(default)]
    pub notes: String,
}

/// A polygon layer whose features each become one group (an entry `[[user_layer]]`).
/// A relative `path` is read relative to the group file's folder.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserGroupSpec {
    /// The polygon layer (GeoJSON, GeoPackage, Shapefile: anything GDAL reads).
    pub path: PathBuf,
    /// Attribute holding each feature's unique id.
    pub id_field: String,
    /// Attribute holding each feature's display name.
    pub name_field: String,
}

/// One row of the model's county table (`rasters/model/counties.csv`), minimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountyInfo {
    /// 6-digit administrative division code.
    pub adcode: u32,
    /// County name (e.g. "通州区").
    pub name: String,
    /// Province name (e.g. "北京市").
    pub province: String,
    /// Prefecture-level city name (e.g. "廊坊市").
    pub city: String,
}

/// Reads a group file and checks its structure (see [`load_group_file`]); relative
/// `user_layer` paths are resolved against the file's folder.
pub fn read_group_file(path: &Path) -> Result<GroupFile> {
    let mut file: GroupFile = crate::error::read_toml(
        path,
        "give the path of a group TOML such as models/groups/capital_plan.toml",
    )?;
    check_structure(&file, path)?;
    let dir = path.parent().unwrap_or(Path::new(""));
    for layer in &mut file.user_layer {
        if layer.path.is_relative() {
            layer.path = dir.join(&layer.path);
        }
    }
    Ok(file)
}

/// Reads the `[[group]]` entries of a group file. A file that is not valid TOML, or
/// has an unknown key, gives [`Error::Toml`] naming the file and line; duplicate ids,
/// bad slugs, empty county lists, a county listed twice or a bad elevation rule give
/// [`Error::Invalid`]. Counties are checked against the county table by
/// [`validate_groups`].
pub fn load_group_file(path: &Path) -> Result<Vec<GroupDef>> {
    Ok(read_group_file(path)?.group)
}

fn invalid(path: &Path, field: String, message: String) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        field,
        message,
    }
}

fn check_structure(file: &GroupFile, path: &Path) -> Result<()> {
    if file.group.is_empty() && file.user_layer.is_empty() {
        return Err(invalid(
            path,
            "group".into(),
            "the file defines no groups: add at least one [[group]] or [[user_layer]] table".into(),
        ));
    }
    let mut seen = HashSet::new();
    for def in &file.group {
        let id = &def.id;
        let slug_ok = !id.is_empty()
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !slug_ok {
            return Err(invalid(
                path,
                format!("group[{id}].id"),
                format!("'{id}' is not an id: use lower-case ASCII letters, digits and '-' (e.g. \"tongwulang\")"),
            ));
        }
        if id.starts_with("county-") {
            return Err(invalid(
                path,
                format!("group[{id}].id"),
                "ids starting with 'county-' are reserved for the one-county groups; choose another".into(),
            ));
        }
        if !seen.insert(id.as_str()) {
            return Err(invalid(
                path,
                format!("group[{id}].id"),
                format!("the id '{id}' is used by more than one group; ids must be unique"),
            ));
        }
        if def.name.trim().is_empty() {
            return Err(invalid(
                path,
                format!("group[{id}].name"),
                "the name is empty".into(),
            ));
        }
        if def.counties.is_empty() {
            return Err(invalid(
                path,
                format!("group[{id}].counties"),
                "the group lists no counties".into(),
            ));
        }
        let mut codes = HashSet::new();
        for c in &def.counties {
            if !codes.insert(c.adcode) {
                return Err(invalid(
                    path,
                    format!("group[{id}].counties"),
                    format!(
                        "county '{}' (adcode {}) is listed twice; list it once, with all its rules",
                        c.name, c.adcode
                    ),
                ));
            }
            for v in [c.min_elevation_m, c.max_elevation_m].into_iter().flatten() {
                if !v.is_finite() {
                    return Err(invalid(
                        path,
                        format!("group[{id}].counties"),
                        format!(
                            "county '{}': elevation rule {v} m is not a finite number",
                            c.name
                        ),
                    ));
                }
            }
            if let (Some(lo), Some(hi)) = (c.min_elevation_m, c.max_elevation_m) {
                if lo >= hi {
                    return Err(invalid(
                        path,
                        format!("group[{id}].counties"),
                        format!(
                            "county '{}': min_elevation_m = {lo} is not below max_elevation_m = {hi}, so no cell could qualify",
                            c.name
                        ),
                    ));
                }
            }
        }
        for q in &def.plan_quote {
            if q.line == 0 || q.text.trim().is_empty() {
                return Err(invalid(
                    path,
                    format!("group[{id}].plan_quote"),
                    "each quote needs a 1-based line and non-empty text".into(),
                ));
            }
        }
    }
    for (i, layer) in file.user_layer.iter().enumerate() {
        if layer.id_field.trim().is_empty() || layer.name_field.trim().is_empty() {
            return Err(invalid(
                path,
                format!("user_layer[{i}]"),
                "id_field and name_field must name attributes of the layer".into(),
            ));
        }
    }
    Ok(())
}

/// Levenshtein distance over Unicode scalar values.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// Checks that every county a group names exists in the county table with that adcode
/// AND that name. An unknown county gives [`Error::Invalid`] on field
/// `group[<id>].counties`, naming the county and, where one is close, a suggestion.
pub fn validate_groups(defs: &[GroupDef], counties: &[CountyInfo], path: &Path) -> Result<()> {
    let by_code: HashMap<u32, &CountyInfo> = counties.iter().map(|c| (c.adcode, c)).collect();
    let mut by_name: HashMap<&str, Vec<u32>> = HashMap::new();
    for c in counties {
        by_name.entry(c.name.as_str()).or_default().push(c.adcode);
    }
    for def in defs {
        for c in &def.counties {
            if by_code.get(&c.adcode).is_some_and(|k| k.name == c.name) {
                continue;
            }
            let hint = if let Some(k) = by_code.get(&c.adcode) {
                format!(
                    "; adcode {} is '{}' ({}{})",
                    c.adcode, k.name, k.province, k.city
                )
            } else if let Some(codes) = by_name.get(c.name.as_str()) {
                let codes: Vec<String> = codes.iter().map(u32::to_string).collect();
                format!("; '{}' has adcode {}", c.name, codes.join(" or "))
            } else {
                // Nearest name (ties broken by adcode, so the hint is deterministic).
                counties
                    .iter()
                    .map(|k| (edit_distance(&k.name, &c.name), k.adcode, k))
                    .filter(|(d, _, _)| *d <= 2)
                    .min_by_key(|(d, code, _)| (*d, *code))
                    .map(|(_, _, k)| format!("; did you mean '{}' (adcode {})?", k.name, k.adcode))
                    .unwrap_or_default()
            };
            return Err(Error::Invalid {
                path: path.to_path_buf(),
                field: format!("group[{}].counties", def.id),
                message: format!(
                    "unknown county '{}' (adcode {}){hint}; known counties are listed in rasters/model/counties.csv",
                    c.name, c.adcode
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_characters() {
        assert_eq!(edit_distance("涿州市", "涿州市"), 0);
        assert_eq!(edit_distance("琢州市", "涿州市"), 1);
        assert_eq!(edit_distance("大厂县", "大厂回族自治县"), 4);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
