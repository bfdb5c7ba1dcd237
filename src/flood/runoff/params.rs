//! Runoff and roughness parameters per land-cover class, from `models/runoff.toml`: the
//! AMC II curve number (TR-55 Table 2-2, with the assumed hydrologic soil group) and
//! Manning's n for the routing. Each value carries its `source` and, where the choice is
//! ours, an `assumption`.

use super::curve_number::{check_cn, cn_for_amc, Amc};
use crate::prepare::land_cover::LandCover;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The parameters of one land-cover class.
#[derive(Debug, Clone, PartialEq)]
pub struct RunoffClass {
    /// Land-cover code (models/land_cover.toml).
    pub code: u8,
    /// Class name, as in models/land_cover.toml.
    pub name: String,
    /// Curve number for AMC II and λ = 0.2 (–).
    pub cn_ii: f64,
    /// Hydrologic soil group assumed for the CN (A–D; "-" where soil plays no part).
    pub soil_group: String,
    /// Manning's roughness n, s/m^(1/3).
    pub manning_n: f64,
}

/// All classes of `models/runoff.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct RunoffTable {
    /// The file the table came from.
    pub path: PathBuf,
    /// The soil-group assumption stated in the file (no soil map is used).
    pub soil_group_assumption: String,
    /// One entry per land-cover class except "no data".
    pub classes: Vec<RunoffClass>,
}

impl RunoffTable {
    /// The class with land-cover code `code`, if listed.
    pub fn class(&self, code: u8) -> Option<&RunoffClass> {
        self.classes.iter().find(|c| c.code == code)
    }

    fn per_cell(
        &self,
        land_cover: ArrayView2<u8>,
        what: &str,
        value: impl Fn(&RunoffClass) -> f64,
    ) -> Result<Array2<f64>> {
        let mut lut = [None; 256];
        for c in &self.classes {
            lut[usize::from(c.code)] = Some(value(c));
        }
        lut[usize::from(LandCover::NoData.code())] = Some(f64::NAN);
        if let Some(&bad) = land_cover.iter().find(|&&c| lut[usize::from(c)].is_none()) {
            return Err(Error::Invalid {
                path: self.path.clone(),
                field: "class".into(),
                message: format!(
                    "the land-cover grid has class {bad}, which has no {what} here; add a [[class]] with code = {bad}"
                ),
            });
        }
        Ok(land_cover.mapv(|c| lut[usize::from(c)].unwrap_or(f64::NAN)))
    }

    /// Curve number per cell for antecedent moisture `amc`, from a land-cover grid;
    /// "no data" cells get `NaN` (no runoff). A class missing from the table is an error.
    pub fn cn_grid(&self, land_cover: ArrayView2<u8>, amc: Amc) -> Result<Array2<f64>> {
        self.per_cell(land_cover, "curve number", |c| cn_for_amc(c.cn_ii, amc))
    }

    /// Manning's n per cell, s/m^(1/3), from a land-cover grid; "no data" cells get `NaN`.
    pub fn manning_grid(&self, land_cover: ArrayView2<u8>) -> Result<Array2<f64>> {
        self.per_cell(land_cover, "Manning's n", |c| c.manning_n)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CnEntry {
    value: f64,
    soil_group: String,
    source: String,
    #[serde(default)]
    assumption: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NEntry {
    value: f64,
    source: String,
    #[serde(default)]
    assumption: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClassEntry {
    code: u8,
    name: String,
    cn: CnEntry,
    manning_n: NEntry,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunoffFile {
    soil_group_assumption: String,
    class: Vec<ClassEntry>,
}

/// Reads `models/runoff.toml`: one `[[class]]` per land-cover class 1–5 (codes and names
/// as in models/land_cover.toml), each with `cn` (0 < CN ≤ 100, soil group A–D or "-",
/// source) and `manning_n` (0.01–1, source).
pub fn load_runoff_params(path: &Path) -> Result<RunoffTable> {
    let file: RunoffFile = crate::error::read_toml(
        path,
        "the curve numbers and roughness per land-cover class ship as models/runoff.toml",
    )?;
    let invalid = |field: String, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field,
        message,
    };
    let mut classes = Vec::new();
    for (i, c) in file.class.iter().enumerate() {
        let f = |name: &str| format!("class[{i}] ({}).{name}", c.name);
        let Some(lc) = LandCover::from_code(c.code).filter(|l| *l != LandCover::NoData) else {
            return Err(invalid(
                f("code"),
                format!(
                    "code {} is not a land-cover class 1–5 of models/land_cover.toml",
                    c.code
                ),
            ));
        };
        if lc.name() != c.name {
            return Err(invalid(
                f("name"),
                format!(
                    "code {} is `{}` in models/land_cover.toml, not `{}`",
                    c.code,
                    lc.name(),
                    c.name
                ),
            ));
        }
        if file.class[..i].iter().any(|o| o.code == c.code) {
            return Err(invalid(
                f("code"),
                format!("class {} is listed twice", c.code),
            ));
        }
        check_cn(c.cn.value).map_err(|e| invalid(f("cn.value"), e.to_string()))?;
        if !matches!(c.cn.soil_group.as_str(), "A" | "B" | "C" | "D" | "-") {
            return Err(invalid(
                f("cn.soil_group"),
                format!(
                    "`{}`: expected a hydrologic soil group A, B, C or D (\"-\" for water)",
                    c.cn.soil_group
                ),
            ));
        }
        if !(c.manning_n.value >= 0.01 && c.manning_n.value <= 1.0) {
            return Err(invalid(
                f("manning_n.value"),
                format!(
                    "{} is outside the 0.01–1 s/m^(1/3) of natural surfaces",
                    c.manning_n.value
                ),
            ));
        }
        for (name, s) in [
            ("cn.source", &c.cn.source),
            ("manning_n.source", &c.manning_n.source),
        ] {
            if s.trim().is_empty() {
                return Err(invalid(
                    f(name),
                    "empty: name the table and row the value comes from".into(),
                ));
            }
        }
        let _ = (&c.cn.assumption, &c.manning_n.assumption);
        classes.push(RunoffClass {
            code: c.code,
            name: c.name.clone(),
            cn_ii: c.cn.value,
            soil_group: c.cn.soil_group.clone(),
            manning_n: c.manning_n.value,
        });
    }
    if let Some(missing) = LandCover::ALL
        .iter()
        .filter(|l| **l != LandCover::NoData)
        .find(|l| !classes.iter().any(|c| c.code == l.code()))
    {
        return Err(invalid(
            "class".into(),
            format!(
                "no [[class]] for code {} ({})",
                missing.code(),
                missing.name()
            ),
        ));
    }
    Ok(RunoffTable {
        path: path.to_path_buf(),
        soil_group_assumption: file.soil_group_assumption,
        classes,
    })
}
