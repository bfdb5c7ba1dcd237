//! Exposure: what each spatial group has in harm's way, by hazard class.
//!
//! A hazard grid (PGA in g, later flood depth in m) is cut into classes by ascending
//! thresholds: class 0 holds values below the first threshold, class k values in
//! [t_k, t_k+1), the last class values at or above the last threshold. For every group
//! [`population_by_class`] sums the residents of `population.tif` in each class.
//! Groups are the counties (`counties.tif` + `counties.csv`) and the named and user
//! groups (`groups.tif` bands, described by group id, + `groups.csv`), loaded by
//! [`GroupZones::load`]. Groups may overlap; each is summed on its own.
//!
//! The kernel is generic over the hazard: PGA classes use the zone values of GB
//! 18306-2015 ([`PGA_CLASSES_G`]); flood depth classes, lifeline lengths and red-line
//! areas are further kernels of the same shape.
//!
//! [`assess_run`] (`haihe exposure <run dir>`) turns a finished flood or earthquake run
//! into the per-group products: residents above depth and PGA thresholds
//! ([`population`]), lifeline exposure, damage, service and restoration per lifeline type
//! ([`lifeline`]), and red-line area exposed ([`population::redline_exposure`]).
//!
//! # Reference
//! The hazard–exposure split follows CLIMADA (Aznar-Siguan and Bresch 2019, Geosci.
//! Model Dev. 12, 3085–3097): hazard and exposure are separate objects, met per cell.

pub mod lifeline;
pub mod population;
pub mod run;

pub use lifeline::{LifelineRow, LifelineSettings};
pub use population::{PopulationRow, RedlineRow};
pub use run::{assess_run, ExposureOptions, ExposureSummary, EXPOSURE_FILES};

use crate::escape::WriteCells;
use crate::grid::io::{read_raster_as, write_atomically};
use crate::grid::warp::GridSpec;
use crate::{Error, Grid, Result};
use gdal::Metadata;
use rayon::prelude::*;
use std::path::Path;

/// Lower bounds of the PGA classes, g: the basic PGA values of GB 18306-2015's zones
/// (0.05, 0.10, 0.15, 0.20, 0.30, 0.40 g; GB 18306-2015 Table 1, intensities VI–IX).
pub const PGA_CLASSES_G: [f32; 6] = [0.05, 0.10, 0.15, 0.20, 0.30, 0.40];

/// One group's cells on the model grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// Group id (`county-<adcode>`, a named group's slug, a user feature's id).
    pub id: String,
    /// Name.
    pub name: String,
    /// `county`, or the kind in `groups.csv`.
    pub kind: String,
    /// Row-major indices of the group's cells, ascending.
    pub cells: Vec<usize>,
}

/// Every group's cells on one grid.
#[derive(Debug, Clone)]
pub struct GroupZones {
    /// The grid the cell indices refer to.
    pub spec: GridSpec,
    /// Counties first (in `counties.csv` order), then named and user groups.
    pub zones: Vec<Zone>,
}

/// Persons of one group per hazard class.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupExposure {
    /// Group id.
    pub id: String,
    /// Group name.
    pub name: String,
    /// Group kind.
    pub kind: String,
    /// Residents of the group (cells with a population value), persons.
    pub persons_total: f64,
    /// Residents per class (thresholds + 1 classes), persons.
    pub persons_by_class: Vec<f64>,
    /// Residents of cells where the hazard has no value, persons.
    pub persons_no_hazard: f64,
    /// Cells of the group without a population value (NaN), counted as 0.
    pub population_missing_cells: usize,
}

impl GroupZones {
    /// Zones from cell masks (`true` = inside), for groups built in memory.
    pub fn from_masks(
        spec: GridSpec,
        groups: Vec<(String, String, String, ndarray::Array2<bool>)>,
    ) -> Self {
        let zones = groups
            .into_iter()
            .map(|(id, name, kind, m)| Zone {
                id,
                name,
                kind,
                cells: m
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &v)| v.then_some(i))
                    .collect(),
            })
            .collect();
        GroupZones { spec, zones }
    }

    /// Loads the groups of a model folder: counties from `counties.tif`/`counties.csv`,
    /// then every group of `groups.csv` that is not a county from its band of
    /// `groups.tif` (found by band description = group id). A named group without a
    /// band is an error naming the group.
    pub fn load(model_dir: &Path) -> Result<Self> {
        let ctif = model_dir.join("counties.tif");
        let counties = read_raster_as::<i32>(&ctif, 1)?;
        let spec = counties.spec();
        let info = crate::groups::read_counties_csv(&model_dir.join("counties.csv"))?;
        let mut cells_of: std::collections::BTreeMap<i32, Vec<usize>> = Default::default();
        for (i, &c) in counties.data.iter().enumerate() {
            if c > 0 {
                cells_of.entry(c).or_default().push(i);
            }
        }
        let mut zones: Vec<Zone> = info
            .iter()
            .map(|c| Zone {
                id: format!("county-{}", c.adcode),
                name: c.name.clone(),
                kind: "county".into(),
                cells: cells_of.remove(&(c.adcode as i32)).unwrap_or_default(),
            })
            .collect();
        let gcsv = model_dir.join("groups.csv");
        let gtif = model_dir.join("groups.tif");
        let named = read_group_rows(&gcsv)?;
        if named.is_empty() {
            return Ok(GroupZones { spec, zones });
        }
        let bands = band_descriptions(&gtif)?;
        for (id, name, kind) in named {
            let Some(b) = bands.iter().position(|d| *d == id) else {
                return Err(Error::Invalid {
                    path: gtif.clone(),
                    field: format!("band `{id}`"),
                    message: format!(
                        "group '{id}' of groups.csv has no band in groups.tif; rebuild both with `haihe prepare`"
                    ),
                });
            };
            let m = read_raster_as::<u8>(&gtif, b + 1)?;
            counties.check_aligned(&m, "counties.tif and groups.tif")?;
            zones.push(Zone {
                id,
                name,
                kind,
                cells: m
                    .data
                    .iter()
                    .enumerate()
                    .filter_map(|(i, &v)| (v > 0).then_some(i))
                    .collect(),
            });
        }
        Ok(GroupZones { spec, zones })
    }
}

/// (id, name, kind) of the rows of `groups.csv` whose kind is not `county`.
fn read_group_rows(path: &Path) -> Result<Vec<(String, String, String)>> {
    let bad = |message: String| Error::Invalid {
        path: path.to_path_buf(),
        field: "header".into(),
        message,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| match e.kind() {
        csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::NotFound => Error::MissingFile {
            path: path.to_path_buf(),
            fix: "run `haihe prepare` to build rasters/model/groups.csv".into(),
        },
        _ => bad(e.to_string()),
    })?;
    let h = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x.trim() == n)
            .ok_or_else(|| bad(format!("no `{n}` column")))
    };
    let (ci, cn, ck) = (col("id")?, col("name")?, col("kind")?);
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = crate::escape::unguard_record(&rec.map_err(|e| bad(e.to_string()))?);
        let get = |c: usize| rec.get(c).unwrap_or("").trim().to_string();
        if get(ck) != "county" {
            out.push((get(ci), get(cn), get(ck)));
        }
    }
    Ok(out)
}

/// The description of every band of a raster, in band order.
fn band_descriptions(path: &Path) -> Result<Vec<String>> {
    let ds = crate::grid::io::open_raster(path)?;
    (1..=ds.raster_count())
        .map(|i| {
            ds.rasterband(i)
                .map(|b| b.description().unwrap_or_default())
                .map_err(|e| Error::gdal(path, e))
        })
        .collect()
}

/// The class of a value: the number of thresholds at or below it (thresholds ascending).
pub fn class_of(v: f32, thresholds: &[f32]) -> usize {
    thresholds.partition_point(|&t| t <= v)
}

/// Persons per hazard class in every group: for each cell of a group, its residents
/// (`population`, persons per cell; NaN counts as 0 and is reported) go to the class of
/// its hazard value ([`class_of`]), or to `persons_no_hazard` where the hazard is NaN.
/// Thresholds must ascend strictly. Parallel over groups; each group sums its cells in
/// ascending order in f64, so results do not depend on the number of threads.
pub fn population_by_class(
    zones: &GroupZones,
    population: &Grid<f32>,
    hazard: &Grid<f32>,
    thresholds: &[f32],
) -> Result<Vec<GroupExposure>> {
    population.check_aligned(hazard, "population and hazard grids")?;
    if population.rows() != zones.spec.rows || population.cols() != zones.spec.cols {
        return Err(Error::Misaligned(format!(
            "group zones are on a {} x {} grid, the population on {} x {}",
            zones.spec.rows,
            zones.spec.cols,
            population.rows(),
            population.cols()
        )));
    }
    if thresholds
        .windows(2)
        .any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater))
        || thresholds.iter().any(|t| !t.is_finite())
    {
        return Err(Error::Data(format!(
            "hazard class thresholds {thresholds:?} must be finite and strictly ascending"
        )));
    }
    let (Some(pop), Some(haz)) = (population.data.as_slice(), hazard.data.as_slice()) else {
        return Err(Error::Data(
            "grids must be in standard (row-major) layout".into(),
        ));
    };
    Ok(zones
        .zones
        .par_iter()
        .map(|z| {
            let mut by = vec![0.0f64; thresholds.len() + 1];
            let (mut total, mut none, mut missing) = (0.0f64, 0.0f64, 0usize);
            for &i in &z.cells {
                let p = pop[i];
                if p.is_nan() {
                    missing += 1;
                    continue;
                }
                let p = p as f64;
                total += p;
                let h = haz[i];
                if h.is_nan() {
                    none += p;
                } else {
                    by[class_of(h, thresholds)] += p;
                }
            }
            GroupExposure {
                id: z.id.clone(),
                name: z.name.clone(),
                kind: z.kind.clone(),
                persons_total: total,
                persons_by_class: by,
                persons_no_hazard: none,
                population_missing_cells: missing,
            }
        })
        .collect())
}

/// Column names of the classes, e.g. `lt_0.05g`, `0.05_0.10g`, `ge_0.40g` for unit "g".
pub fn class_columns(thresholds: &[f32], unit: &str) -> Vec<String> {
    let mut v = Vec::with_capacity(thresholds.len() + 1);
    if let Some(first) = thresholds.first() {
        v.push(format!("lt_{first:.2}{unit}"));
    }
    for w in thresholds.windows(2) {
        v.push(format!("{:.2}_{:.2}{unit}", w[0], w[1]));
    }
    match thresholds.last() {
        Some(last) => v.push(format!("ge_{last:.2}{unit}")),
        None => v.push(format!("all{unit}")),
    }
    v
}

/// Writes an exposure table: one row per (statistic, group) with columns statistic,
/// group_id, name, kind, persons_total, one column per class ([`class_columns`]),
/// persons_no_hazard, population_missing_cells. Persons to 0.1. Atomic.
pub fn write_exposure_csv(
    path: &Path,
    tables: &[(String, Vec<GroupExposure>)],
    thresholds: &[f32],
    unit: &str,
) -> Result<()> {
    let csv_err = |e: csv::Error| Error::Data(format!("{}: writing CSV: {e}", path.display()));
    write_atomically(path, |tmp| {
        let mut w = csv::Writer::from_path(tmp).map_err(csv_err)?;
        let mut head: Vec<String> = ["statistic", "group_id", "name", "kind", "persons_total"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        head.extend(class_columns(thresholds, unit));
        head.push("persons_no_hazard".into());
        head.push("population_missing_cells".into());
        w.write_cells(&head).map_err(csv_err)?;
        for (stat, rows) in tables {
            for g in rows {
                let mut rec = vec![
                    stat.clone(),
                    g.id.clone(),
                    g.name.clone(),
                    g.kind.clone(),
                    format!("{:.1}", g.persons_total),
                ];
                rec.extend(g.persons_by_class.iter().map(|p| format!("{p:.1}")));
                rec.push(format!("{:.1}", g.persons_no_hazard));
                rec.push(g.population_missing_cells.to_string());
                w.write_cells(&rec).map_err(csv_err)?;
            }
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

/// The mean over realisations of persons per class, where realisation i has the hazard
/// `exp(ln_hazard + shifts[i])` on every cell (a log-normal hazard with one ε per
/// realisation, as in [`crate::scenario::quake`]). Exact per realisation and cheap:
/// each group's cells are sorted by `ln_hazard` once, and a class count is then a
/// binary search in the cumulative residents. NaN residents count as 0, NaN hazard
/// goes to `persons_no_hazard`. Parallel over groups, deterministic in f64.
pub fn population_by_class_mean_shift(
    zones: &GroupZones,
    population: &Grid<f32>,
    ln_hazard: &Grid<f32>,
    thresholds: &[f32],
    shifts: &[f64],
) -> Result<Vec<GroupExposure>> {
    // Validation and the no-shift structure come from the plain kernel.
    let base = population_by_class(zones, population, ln_hazard, &[])?;
    if thresholds
        .windows(2)
        .any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater))
        || thresholds.iter().any(|t| !(t.is_finite() && *t > 0.0))
    {
        return Err(Error::Data(format!(
            "hazard class thresholds {thresholds:?} must be positive and strictly ascending"
        )));
    }
    if shifts.is_empty() {
        return Err(Error::Data("no realisations to average over".into()));
    }
    let (Some(pop), Some(haz)) = (population.data.as_slice(), ln_hazard.data.as_slice()) else {
        return Err(Error::Data(
            "grids must be in standard (row-major) layout".into(),
        ));
    };
    let ln_t: Vec<f64> = thresholds.iter().map(|&t| (t as f64).ln()).collect();
    Ok(zones
        .zones
        .par_iter()
        .zip(base)
        .map(|(z, mut g)| {
            let mut cells: Vec<(f64, f64)> = z
                .cells
                .iter()
                .filter_map(|&i| {
                    let (p, h) = (pop[i], haz[i]);
                    (!p.is_nan() && !h.is_nan()).then_some((h as f64, p as f64))
                })
                .collect();
            cells.sort_by(|a, b| a.0.total_cmp(&b.0));
            // above[k]: residents of cells with ln hazard ≥ key k, from the top down.
            let mut above = vec![0.0f64; cells.len() + 1];
            for k in (0..cells.len()).rev() {
                above[k] = above[k + 1] + cells[k].1;
            }
            let valid = above[0];
            let mut by = vec![0.0f64; thresholds.len() + 1];
            for &s in shifts {
                let ge: Vec<f64> = ln_t
                    .iter()
                    .map(|&lt| above[cells.partition_point(|c| c.0 + s < lt)])
                    .collect();
                by[0] += valid - ge.first().copied().unwrap_or(0.0);
                for k in 0..ge.len() {
                    by[k + 1] += ge[k] - ge.get(k + 1).copied().unwrap_or(0.0);
                }
            }
            let n = shifts.len() as f64;
            g.persons_by_class = by.into_iter().map(|v| v / n).collect();
            g
        })
        .collect())
}
