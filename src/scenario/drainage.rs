//! The `[drainage]` section of a flood scenario and `models/urban_drainage.toml`: which
//! built-up cells drain, with what capacity, to which outfall
//! ([`crate::flood::drainage`] holds the method).
//!
//! ```toml
//! [drainage]
//! enabled = true                       # default when the table is present
//! file = "models/urban_drainage.toml"  # default
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::structures::invalid;
use crate::flood::drainage::{sewer_capacity_mm_h, DrainedCell, UrbanDrainage};
use crate::grid::io::read_raster_as;
use crate::terrain;
use crate::{Error, Result};

/// The scenario's `[drainage]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrainageSection {
    /// Drain the built-up cells (default true when the table is present).
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The drainage file, relative to the project root.
    #[serde(default = "drainage_file")]
    pub file: PathBuf,
}

fn yes() -> bool {
    true
}

fn drainage_file() -> PathBuf {
    PathBuf::from("models/urban_drainage.toml")
}

/// The storm-intensity formula q = a(1 + c lg P)/(t + b)ⁿ, L/(s·ha).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Formula {
    /// Name (city, version).
    pub name: String,
    /// A₁.
    pub a: f64,
    /// C.
    pub c: f64,
    /// b, min.
    pub b: f64,
    /// n.
    pub n: f64,
    /// Where it comes from.
    pub source: String,
}

/// Design figures of the networks.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Concentration time t, min.
    pub concentration_min: f64,
    /// How it was chosen.
    pub concentration_assumption: String,
    /// Composite runoff coefficient ψ.
    pub runoff_coefficient: f64,
    /// How it was chosen.
    pub runoff_coefficient_assumption: String,
}

/// One drainage zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// Name.
    pub name: String,
    /// Counties (names of `counties.csv`) of the zone.
    #[serde(default)]
    pub counties: Vec<String>,
    /// Province (as in `counties.csv`) of the zone.
    #[serde(default)]
    pub province: Option<String>,
    /// Design return period of the networks, years.
    #[serde(default)]
    pub return_period_yr: Option<f64>,
    /// A capacity given directly, mm/h of runoff over the cell.
    #[serde(default)]
    pub capacity_mm_h: Option<f64>,
    /// Source of the figure.
    #[serde(default)]
    pub source: Option<String>,
    /// Or how it was estimated.
    #[serde(default)]
    pub assumption: Option<String>,
}

/// `models/urban_drainage.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrainageFile {
    /// Land-cover class of built-up cells.
    pub built_up_class: u8,
    /// Longest D8 path to an outfall, cells.
    pub max_path_cells: usize,
    /// The storm-intensity formula.
    pub formula: Formula,
    /// Network figures.
    pub network: Network,
    /// Zones, matched in order.
    #[serde(rename = "zone")]
    pub zones: Vec<Zone>,
}

impl DrainageFile {
    /// Reads and checks the file: positive formula constants and concentration time, ψ in
    /// (0, 1], each zone with a return period ≥ 1 year or a capacity ≥ 0 (exactly one)
    /// and a source or an assumption.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let f: DrainageFile = toml::from_str(&text).map_err(|e| Error::Invalid {
            path: path.to_path_buf(),
            field: "toml".into(),
            message: e.to_string(),
        })?;
        let fm = &f.formula;
        for (field, v) in [
            ("formula.a", fm.a),
            ("formula.n", fm.n),
            ("network.concentration_min", f.network.concentration_min),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(invalid(path, field, format!("{v}: must be positive")));
            }
        }
        if !(fm.b.is_finite() && fm.b >= 0.0 && fm.c.is_finite() && fm.c >= 0.0) {
            return Err(invalid(
                path,
                "formula",
                format!("b = {}, c = {}: both must be ≥ 0", fm.b, fm.c),
            ));
        }
        let psi = f.network.runoff_coefficient;
        if !(psi > 0.0 && psi <= 1.0) {
            return Err(invalid(
                path,
                "network.runoff_coefficient",
                format!("{psi}: a runoff coefficient lies in (0, 1]"),
            ));
        }
        if f.max_path_cells == 0 {
            return Err(invalid(
                path,
                "max_path_cells",
                "0: at least one cell".into(),
            ));
        }
        if f.zones.is_empty() {
            return Err(invalid(
                path,
                "zone",
                "no zones: add at least one [[zone]]".into(),
            ));
        }
        for z in &f.zones {
            let field = |x: &str| format!("zone[{}].{x}", z.name);
            match (z.return_period_yr, z.capacity_mm_h) {
                (Some(p), None) if p.is_finite() && p >= 1.0 => {}
                (Some(p), None) => {
                    return Err(invalid(
                        path,
                        &field("return_period_yr"),
                        format!("{p}: a design return period is at least 1 year"),
                    ))
                }
                (None, Some(c)) if c.is_finite() && c >= 0.0 => {}
                (None, Some(c)) => {
                    return Err(invalid(
                        path,
                        &field("capacity_mm_h"),
                        format!("{c}: a drainage capacity cannot be below zero (0 switches the zone's drains off)"),
                    ))
                }
                _ => {
                    return Err(invalid(
                        path,
                        &field("return_period_yr"),
                        "give exactly one of `return_period_yr` or `capacity_mm_h`".into(),
                    ))
                }
            }
            if z.source.is_none() && z.assumption.is_none() {
                return Err(invalid(
                    path,
                    &field("source"),
                    "give a `source`, or an `assumption` saying how the figure was chosen".into(),
                ));
            }
        }
        Ok(f)
    }

    /// Capacity of a zone's networks, mm/h of runoff over the cell.
    pub fn capacity_mm_h(&self, zone: &Zone) -> f64 {
        match (zone.capacity_mm_h, zone.return_period_yr) {
            (Some(c), _) => c,
            (None, Some(p)) => sewer_capacity_mm_h(
                self.formula.a,
                self.formula.c,
                self.formula.b,
                self.formula.n,
                p,
                self.network.concentration_min,
                self.network.runoff_coefficient,
            ),
            (None, None) => 0.0,
        }
    }

    /// The index in `zones` of a county's zone (by name and province), if any.
    pub fn zone_of(&self, county: &str, province: &str) -> Option<usize> {
        self.zones.iter().position(|z| {
            if !z.counties.is_empty() {
                z.counties.iter().any(|c| c == county)
            } else if let Some(p) = &z.province {
                p == province
            } else {
                true
            }
        })
    }
}

/// The drained cells of the regional grids in `model_dir` (land cover given, as the run
/// holds it), with a note per zone (cells and capacity) and one for cells left undrained.
pub fn build_drainage(
    file: &Path,
    model_dir: &Path,
    land_cover: &ndarray::Array2<u8>,
) -> Result<(UrbanDrainage, Vec<String>)> {
    let cfg = DrainageFile::load(file)?;
    let dir = read_raster_as::<u8>(&model_dir.join("flow_dir.tif"), 1)?;
    let streams = read_raster_as::<u8>(&model_dir.join("streams.tif"), 1)?;
    let counties = read_raster_as::<i32>(&model_dir.join("counties.tif"), 1)?;
    dir.check_aligned(&streams, "flow_dir.tif and streams.tif")?;
    dir.check_aligned(&counties, "flow_dir.tif and counties.tif")?;
    let (rows, cols) = dir.data.dim();
    if land_cover.dim() != (rows, cols) {
        return Err(Error::Data(format!(
            "urban drainage: land cover is {:?} cells, flow_dir.tif {:?}",
            land_cover.dim(),
            (rows, cols)
        )));
    }
    let csv_path = model_dir.join("counties.csv");
    let mut rd = csv::Reader::from_path(&csv_path).map_err(|e| {
        Error::Data(format!(
            "{}: {e} (needed for the drainage zones)",
            csv_path.display()
        ))
    })?;
    let mut names = std::collections::HashMap::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| Error::Data(format!("{}: {e}", csv_path.display())))?;
        let code: i32 = rec.get(0).unwrap_or("").parse().map_err(|_| {
            Error::Data(format!(
                "{}: adcode `{}` is not a number",
                csv_path.display(),
                rec.get(0).unwrap_or("")
            ))
        })?;
        names.insert(
            code,
            (
                rec.get(1).unwrap_or("").to_string(),
                rec.get(2).unwrap_or("").to_string(),
            ),
        );
    }
    let capacity: Vec<f64> = cfg.zones.iter().map(|z| cfg.capacity_mm_h(z)).collect();
    let mut per_zone = vec![0usize; cfg.zones.len()];
    let mut no_outfall = 0usize;
    let mut cells = Vec::new();
    for r in 0..rows {
        for c in 0..cols {
            if land_cover[(r, c)] != cfg.built_up_class || streams.data[(r, c)] != 0 {
                continue;
            }
            let (county, province) = names
                .get(&counties.data[(r, c)])
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .unwrap_or(("", ""));
            let Some(zi) = cfg.zone_of(county, province) else {
                continue;
            };
            if capacity[zi] <= 0.0 {
                continue;
            }
            // The outfall: the first stream cell down the D8 path.
            let mut at = (r, c);
            let mut outfall = None;
            for _ in 0..cfg.max_path_cells {
                match terrain::downstream_cell(dir.data[at], at.0, at.1, rows, cols) {
                    Some(next) => {
                        if streams.data[next] != 0 {
                            outfall = Some(next);
                            break;
                        }
                        at = next;
                    }
                    None => break,
                }
            }
            let Some(o) = outfall else {
                no_outfall += 1;
                continue;
            };
            per_zone[zi] += 1;
            cells.push(DrainedCell {
                cell: r * cols + c,
                outfall: o.0 * cols + o.1,
                capacity_ms: capacity[zi] / 1000.0 / 3600.0,
            });
        }
    }
    let mut notes = vec![format!(
        "urban drainage ({}): {} built-up cells drain to their outfalls on the rivers, by the {} storm-intensity formula at t = {} min and ψ = {}",
        file.display(),
        cells.len(),
        cfg.formula.name,
        cfg.network.concentration_min,
        cfg.network.runoff_coefficient
    )];
    for (z, (n, cap)) in cfg.zones.iter().zip(per_zone.iter().zip(&capacity)) {
        notes.push(format!(
            "urban drainage zone {}: {n} cells, {cap:.1} mm/h{}",
            z.name,
            z.return_period_yr
                .map(|p| format!(" ({p}-year networks)"))
                .unwrap_or_default()
        ));
    }
    if no_outfall > 0 {
        notes.push(format!(
            "urban drainage: {no_outfall} built-up cells have no stream within {} cells down their flow path and are not drained",
            cfg.max_path_cells
        ));
    }
    Ok((UrbanDrainage::new(cells), notes))
}
