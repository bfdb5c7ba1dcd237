//! `haihe exposure <run dir>`: the per-group exposure and damage products of a finished
//! flood or earthquake run, written into the run folder.
//!
//! [`assess_run`] reads the run's hazard grids — `max_depth.tif` (m) from `haihe flood`,
//! `pga.tif` band 1 (median, g) and `pgv.tif` band 1 (median, cm/s) from `haihe quake` —
//! and, for a combined case, those of a second run folder
//! ([`ExposureOptions::combine_with`]): the earthquake's shaking and the flood's depths
//! then strike the same networks at once. With the model grids (`counties.tif`,
//! `groups.tif`, `population.tif`, `redline.tif`, `redline_summary.csv`), the lifeline
//! layers and the fragility table it writes, each file atomically, so that a rerun
//! replaces them:
//!
//! - `exposure_population.csv` ([`super::population::population_cumulative`]);
//! - `exposure_lifelines.csv` ([`super::lifeline::lifeline_exposure`]);
//! - `exposure_redline.csv` ([`super::population::redline_exposure`]);
//! - `exposure.json` ([`ExposureSummary`]: inputs with FNV-1a hashes, options,
//!   totals, notes, timings, threads).
//!
//! Everything is computed and checked before the first file is written: a refused input
//! leaves the folder as it was.

use super::lifeline::{self, HazardsPresent, LifelineOutcome, LifelineSettings, LifelineTotal};
use super::population::{self, PopulationRow, RedlineRow, DEPTH_CLASSES_M};
use super::{GroupZones, PGA_CLASSES_G};
use crate::escape::WriteCells;
use crate::grid::io::{read_raster_as, write_atomically};
use crate::lifelines::{assess, read_network_dir, Fragility, Intensity};
use crate::scenario::quake::{fnv1a64, resolve, InputFile};
use crate::{Error, Grid, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The files [`assess_run`] writes into the run folder.
pub const EXPOSURE_FILES: [&str; 4] = [
    "exposure_population.csv",
    "exposure_lifelines.csv",
    "exposure_redline.csv",
    "exposure.json",
];

fn model_dir() -> PathBuf {
    PathBuf::from("rasters/model")
}
fn lifelines_dir() -> PathBuf {
    PathBuf::from("rasters/lifelines")
}
fn fragility() -> PathBuf {
    PathBuf::from("models/fragility.toml")
}

/// Options of [`assess_run`]. Paths are relative to the project root unless absolute.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExposureOptions {
    /// Folder of the model grids.
    pub model_dir: PathBuf,
    /// Folder of the lifeline layers (`*.geojson`).
    pub lifelines_dir: PathBuf,
    /// Fragility table.
    pub fragility: PathBuf,
    /// A second run folder whose hazard is added (a flood to a quake or the reverse);
    /// used as given (relative to the working directory).
    pub combine_with: Option<PathBuf>,
    /// Seed of the lifeline damage realisations.
    pub seed: u64,
    /// Number of lifeline damage realisations (1 to 100,000).
    pub realisations: usize,
    /// Horizon T of the restoration curve and of the resilience loss, days.
    pub horizon_days: f64,
    /// Step of the restoration time grid, days.
    pub step_days: f64,
}

impl Default for ExposureOptions {
    fn default() -> Self {
        ExposureOptions {
            model_dir: model_dir(),
            lifelines_dir: lifelines_dir(),
            fragility: fragility(),
            combine_with: None,
            seed: 1,
            realisations: 200,
            horizon_days: 180.0,
            step_days: 0.5,
        }
    }
}

impl ExposureOptions {
    /// The restoration time grid 0, step, 2·step, …, horizon, days.
    pub fn times_days(&self) -> Vec<f64> {
        let n = (self.horizon_days / self.step_days).round() as usize;
        (0..=n).map(|i| i as f64 * self.step_days).collect()
    }
}

/// Totals over the counties (which tile the domain without overlap), persons and km².
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ExposureTotals {
    /// Residents of all counties.
    pub population: f64,
    /// Residents with depth > 0.15, 0.5, 1.5 m.
    pub pop_depth_gt: Option<Vec<f64>>,
    /// Residents with median PGA ≥ 0.05 … 0.40 g.
    pub pop_pga_ge: Option<Vec<f64>>,
    /// Red-line area, km².
    pub redline_km2: f64,
    /// Red-line area flooded deeper than 0.5 m, km².
    pub redline_flooded_km2: Option<f64>,
    /// Red-line area at median PGA ≥ 0.20 g, km².
    pub redline_shaken_km2: Option<f64>,
    /// Per lifeline, over the whole network.
    pub lifelines: Vec<LifelineTotal>,
}

/// What [`assess_run`] read, computed and wrote (`exposure.json`, plus the rows).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExposureSummary {
    /// The run folders whose hazards were used.
    pub run_dirs: Vec<String>,
    /// Which hazards were present.
    pub hazards: HazardsPresent,
    /// Inputs with hashes.
    pub inputs: Vec<InputFile>,
    /// The options.
    pub options: ExposureOptions,
    /// The restoration time grid: first, step, last, days.
    pub times_days: (f64, f64, f64),
    /// Depth thresholds of the population columns, m.
    pub depth_classes_m: Vec<f32>,
    /// PGA thresholds of the population columns, g.
    pub pga_classes_g: Vec<f32>,
    /// Number of groups.
    pub groups: usize,
    /// Totals.
    pub totals: ExposureTotals,
    /// Assumptions and caveats.
    pub notes: Vec<String>,
    /// Wall time of each part, s: population, red line, lifelines, total.
    pub seconds: BTreeMap<String, f64>,
    /// Rayon threads.
    pub threads: usize,
    /// Files written (names in the run folder).
    pub files: Vec<String>,
    /// Rows of `exposure_population.csv`.
    #[serde(skip)]
    pub population: Vec<PopulationRow>,
    /// Rows of `exposure_lifelines.csv`.
    #[serde(skip)]
    pub lifelines: Vec<lifeline::LifelineRow>,
    /// Rows of `exposure_redline.csv`.
    #[serde(skip)]
    pub redline: Vec<RedlineRow>,
}

/// The hazard grids of one run folder.
#[derive(Default)]
struct RunHazards {
    depth: Option<(PathBuf, Grid<f32>)>,
    pga: Option<(PathBuf, Grid<f32>)>,
    pgv: Option<(PathBuf, Grid<f32>)>,
}

/// Band 1 of a float raster with its no-data cells as NaN.
fn read_hazard(path: &Path) -> Result<Grid<f32>> {
    let g = crate::grid::io::read_raster_band(path, 1)?;
    let data = g.data.mapv(|v| v as f32);
    Ok(Grid::new(data, g.transform, g.crs_wkt, None))
}

/// Reads the hazards of a run folder; `field` names the option in errors.
fn read_run(dir: &Path, field: &str) -> Result<RunHazards> {
    let refuse = |message: String| Error::Invalid {
        path: dir.to_path_buf(),
        field: field.into(),
        message,
    };
    if !dir.is_dir() {
        return Err(refuse(
            "is not a folder: give the output folder of `haihe flood` or `haihe quake`".into(),
        ));
    }
    let (d, a, v) = (
        dir.join("max_depth.tif"),
        dir.join("pga.tif"),
        dir.join("pgv.tif"),
    );
    if !d.is_file() && !a.is_file() {
        return Err(refuse(
            "holds neither max_depth.tif nor pga.tif: give the output folder of a finished `haihe flood` or `haihe quake` run".into(),
        ));
    }
    let mut h = RunHazards::default();
    if d.is_file() {
        h.depth = Some((d.clone(), read_hazard(&d)?));
    }
    if a.is_file() {
        h.pga = Some((a.clone(), read_hazard(&a)?));
        if v.is_file() {
            h.pgv = Some((v.clone(), read_hazard(&v)?));
        }
    }
    Ok(h)
}

/// `depth` with the sea (`sea.tif` = 1) and open water (`land_cover.tif` class 4) set to
/// 0, so that the sea bed and lakes are never counted as flooded land; either mask is
/// skipped where its file is absent or not on the depth's grid.
fn land_only_depth(depth: &Grid<f32>, model_dir: &Path) -> Result<Grid<f32>> {
    let mut out = depth.clone();
    for (file, code) in [("sea.tif", 1u8), ("land_cover.tif", 4u8)] {
        let p = model_dir.join(file);
        if !p.is_file() {
            continue;
        }
        let m = read_raster_as::<u8>(&p, 1)?;
        if m.data.dim() != out.data.dim() {
            continue;
        }
        ndarray::Zip::from(&mut out.data)
            .and(&m.data)
            .for_each(|d, &c| {
                if c == code {
                    *d = 0.0;
                }
            });
    }
    Ok(out)
}

/// Refuses a hazard grid that is not on the model grid, naming the file and the fix.
fn check_on_model(model: &Grid<f32>, path: &Path, g: &Grid<f32>, model_dir: &Path) -> Result<()> {
    model
        .check_aligned(g, "model grid and hazard grid")
        .map_err(|e| Error::Invalid {
            path: path.to_path_buf(),
            field: "grid".into(),
            message: format!(
                "{e}. Exposure needs the hazard on the model grid of {} ({} x {} cells): run the scenario on the regional grids (no grid.dem), or warp the file onto population.tif's grid (gdalwarp -te <extent> -tr <cell> -t_srs <CRS of population.tif>)",
                model_dir.display(),
                model.rows(),
                model.cols()
            ),
        })
}

/// `wetland_storage_m3` per zone id from the red-line build's `redline_summary.csv`.
fn read_storage(path: &Path) -> Result<BTreeMap<String, f64>> {
    let bad = |m: String| Error::Invalid {
        path: path.to_path_buf(),
        field: "wetland_storage_m3".into(),
        message: m,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let h = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x.trim() == n)
            .ok_or_else(|| bad(format!("no `{n}` column; rebuild with `haihe prepare`")))
    };
    let (ci, cs) = (col("id")?, col("wetland_storage_m3")?);
    let mut out = BTreeMap::new();
    for rec in r.records() {
        let rec = crate::escape::unguard_record(&rec.map_err(|e| bad(e.to_string()))?);
        let id = rec.get(ci).unwrap_or("").trim().to_string();
        let s = rec.get(cs).unwrap_or("").trim();
        if s.is_empty() {
            continue;
        }
        let v: f64 = s
            .parse()
            .map_err(|_| bad(format!("row '{id}': '{s}' is not a number")))?;
        out.insert(id, v);
    }
    Ok(out)
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}
fn opt_f(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}")).unwrap_or_default()
}

/// Column names of `exposure_population.csv`.
pub fn population_columns() -> Vec<String> {
    let mut h: Vec<String> = ["group_id", "name", "kind", "population"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(
        [
            "pop_depth_gt_0p15m",
            "pop_depth_gt_0p5m",
            "pop_depth_gt_1p5m",
        ]
        .map(String::from),
    );
    h.extend(
        [
            "pop_pga_ge_0p05g",
            "pop_pga_ge_0p10g",
            "pop_pga_ge_0p15g",
            "pop_pga_ge_0p20g",
            "pop_pga_ge_0p30g",
            "pop_pga_ge_0p40g",
        ]
        .map(String::from),
    );
    h
}

/// Column names of `exposure_lifelines.csv`.
pub const LIFELINE_COLUMNS: [&str; 12] = [
    "group_id",
    "lifeline",
    "components",
    "length_km",
    "exposed",
    "expected_damaged",
    "service_kept_share",
    "paths_intact",
    "paths_after_p50",
    "days_to_90pct",
    "resilience_loss_pct_days",
    "not_assessed",
];

/// Column names of `exposure_redline.csv`.
pub const REDLINE_COLUMNS: [&str; 5] = [
    "group_id",
    "redline_km2",
    "redline_flooded_km2",
    "redline_shaken_km2",
    "wetland_storage_m3",
];

fn csv_text(head: &[String], rows: Vec<Vec<String>>) -> Result<Vec<u8>> {
    let err = |e: csv::Error| Error::Data(format!("writing CSV: {e}"));
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_cells(head).map_err(err)?;
    for r in rows {
        w.write_cells(&r).map_err(err)?;
    }
    w.into_inner()
        .map_err(|e| Error::Data(format!("writing CSV: {e}")))
}

fn population_csv(rows: &[PopulationRow]) -> Result<Vec<u8>> {
    let cells = |v: &Option<Vec<f64>>, n: usize| -> Vec<String> {
        match v {
            Some(v) => v.iter().map(|p| format!("{p:.1}")).collect(),
            None => vec![String::new(); n],
        }
    };
    csv_text(
        &population_columns(),
        rows.iter()
            .map(|r| {
                let mut rec = vec![
                    r.group_id.clone(),
                    r.name.clone(),
                    r.kind.clone(),
                    format!("{:.1}", r.population),
                ];
                rec.extend(cells(&r.depth_gt, DEPTH_CLASSES_M.len()));
                rec.extend(cells(&r.pga_ge, PGA_CLASSES_G.len()));
                rec
            })
            .collect(),
    )
}

fn lifelines_csv(rows: &[lifeline::LifelineRow]) -> Result<Vec<u8>> {
    csv_text(
        &LIFELINE_COLUMNS.map(String::from),
        rows.iter()
            .map(|r| {
                vec![
                    r.group_id.clone(),
                    r.lifeline.as_str().to_string(),
                    r.components.to_string(),
                    format!("{:.3}", r.length_km),
                    opt(r.exposed),
                    opt_f(r.expected_damaged, 4),
                    opt_f(r.service_kept_share, 4),
                    opt(r.paths_intact),
                    opt(r.paths_after_p50),
                    opt_f(r.days_to_90pct, 2),
                    opt_f(r.resilience_loss_pct_days, 2),
                    opt(r.not_assessed),
                ]
            })
            .collect(),
    )
}

fn redline_csv(rows: &[RedlineRow]) -> Result<Vec<u8>> {
    csv_text(
        &REDLINE_COLUMNS.map(String::from),
        rows.iter()
            .map(|r| {
                vec![
                    r.group_id.clone(),
                    format!("{:.3}", r.redline_km2),
                    opt_f(r.redline_flooded_km2, 3),
                    opt_f(r.redline_shaken_km2, 3),
                    opt_f(r.wetland_storage_m3, 0),
                ]
            })
            .collect(),
    )
}

fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |tmp| {
        std::fs::write(tmp, bytes).map_err(|e| Error::io(tmp, e))
    })
}

/// Turns a finished run folder (holding `max_depth.tif` and/or `pga.tif` + `pgv.tif`)
/// into per-group exposure and damage products, written into that folder (see the
/// module notes and the README section "Exposure products"). Errors
/// ([`Error::Invalid`], naming the file and the fix): a folder with neither hazard, a
/// hazard grid not on the model grid, a `combine_with` that is not a run folder or
/// holds the same hazard as the run; bad options. Nothing is written on error.
pub fn assess_run(run_dir: &Path, root: &Path, opts: &ExposureOptions) -> Result<ExposureSummary> {
    let clock = std::time::Instant::now();
    let bad_opt = |field: &str, message: String| Error::Invalid {
        path: run_dir.to_path_buf(),
        field: format!("options.{field}"),
        message,
    };
    if !(1..=100_000).contains(&opts.realisations) {
        return Err(bad_opt(
            "realisations",
            format!("{}: use 1 to 100,000", opts.realisations),
        ));
    }
    let steps_ok = opts.step_days > 0.0
        && opts.horizon_days >= opts.step_days
        && opts.horizon_days.is_finite()
        && opts.horizon_days / opts.step_days <= 10_000.0;
    if !steps_ok {
        return Err(bad_opt(
            "horizon_days",
            format!(
                "horizon {} d and step {} d: need 0 < step ≤ horizon, at most 10,000 steps",
                opts.horizon_days, opts.step_days
            ),
        ));
    }

    // Hazards of the run, and of the combined run.
    let mut hz = read_run(run_dir, "run folder")?;
    // Provenance names the folders as installed (a batch runs in `.partial/<id>.<pid>/`
    // and installs as `runs/<id>/`; staged runs move out of `.staging-<pid>/`).
    let mut run_dirs = vec![crate::outdir::installed_path(run_dir).display().to_string()];
    if let Some(other) = &opts.combine_with {
        let same = match (std::fs::canonicalize(run_dir), std::fs::canonicalize(other)) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        };
        if same {
            return Err(Error::Invalid {
                path: other.clone(),
                field: "combine_with".into(),
                message: "is the run folder itself: combine a flood run with a quake run".into(),
            });
        }
        let o = read_run(other, "combine_with")?;
        let clash =
            (o.depth.is_some() && hz.depth.is_some()) || (o.pga.is_some() && hz.pga.is_some());
        if clash {
            return Err(Error::Invalid {
                path: other.clone(),
                field: "combine_with".into(),
                message: format!(
                    "holds the same hazard as {} (both floods or both earthquakes): combine a flood run with a quake run",
                    run_dir.display()
                ),
            });
        }
        if o.depth.is_some() {
            hz.depth = o.depth;
        }
        if o.pga.is_some() {
            hz.pga = o.pga;
            hz.pgv = o.pgv;
        }
        run_dirs.push(crate::outdir::installed_path(other).display().to_string());
    }
    let present = HazardsPresent {
        pga: hz.pga.is_some(),
        pgv: hz.pgv.is_some(),
        flood: hz.depth.is_some(),
    };

    // The model grids; every hazard must sit on them.
    let dir = resolve(root, &opts.model_dir);
    let zones = GroupZones::load(&dir)?;
    let pop_path = dir.join("population.tif");
    let population = read_raster_as::<f32>(&pop_path, 1)?;
    if population.rows() != zones.spec.rows || population.cols() != zones.spec.cols {
        return Err(Error::Invalid {
            path: pop_path.clone(),
            field: "grid".into(),
            message: "differs in shape from counties.tif; rebuild with `haihe prepare`".into(),
        });
    }
    for (p, g) in [&hz.depth, &hz.pga, &hz.pgv].into_iter().flatten() {
        check_on_model(&population, p, g, &dir)?;
    }
    // Depths on the sea and on open water are not floods of land: they count as dry.
    let land_depth = match hz.depth.as_ref() {
        Some((_, g)) => Some(land_only_depth(g, &dir)?),
        None => None,
    };
    let depth = land_depth.as_ref();
    let pga = hz.pga.as_ref().map(|x| &x.1);
    let pgv = hz.pgv.as_ref().map(|x| &x.1);
    let mut notes = vec![
        "population: residents of population.tif summed per group cell; depth columns count cells with depth > threshold, PGA columns cells with median PGA ≥ threshold (cumulative); the sea and open water (land cover class 4) count as dry".to_string(),
        "lifeline damage uses the median PGA and PGV maps; the Hazus fragility β carries the variability".to_string(),
        "expected_damaged = Σ P(out of service at the event): 1 when flooded past the class's threshold, else P(DS ≥ nonfunctional_from)".to_string(),
        "service_kept_share, days_to_90pct and resilience_loss_pct_days count the group's nodes that reach a source on the undamaged network".to_string(),
        format!(
            "resilience loss ∫₀^T (100 − Q) dt by the trapezoid rule on a {} d grid, T = {} d (Bruneau et al. 2003)",
            opts.step_days, opts.horizon_days
        ),
    ];
    if hz.depth.is_some() && hz.pga.is_some() {
        notes.push("combined case: the flood's depths and the earthquake's shaking strike the networks at once (a component is out when either puts it out; restoration takes the longer)".into());
    }
    if hz.pga.is_some() && hz.pgv.is_none() {
        notes.push("no pgv.tif: buried pipes are not assessed for shaking".into());
    }
    let mut seconds = BTreeMap::new();

    // Population.
    let t = std::time::Instant::now();
    let pop_rows = population::population_cumulative(&zones, &population, depth, pga)?;
    seconds.insert("population".to_string(), t.elapsed().as_secs_f64());

    // Red line.
    let t = std::time::Instant::now();
    let red_path = dir.join("redline.tif");
    let redline = read_raster_as::<u8>(&red_path, 1)?;
    population
        .check_aligned(&redline, "population.tif and redline.tif")
        .map_err(|e| Error::Invalid {
            path: red_path.clone(),
            field: "grid".into(),
            message: format!("{e}; rebuild with `haihe prepare`"),
        })?;
    let storage_path = dir.join("redline_summary.csv");
    let storage = if storage_path.is_file() {
        read_storage(&storage_path)?
    } else {
        notes.push(format!(
            "{} not found: wetland_storage_m3 left empty",
            storage_path.display()
        ));
        BTreeMap::new()
    };
    let red_rows = population::redline_exposure(&zones, &redline, depth, pga, &storage)?;
    seconds.insert("redline".to_string(), t.elapsed().as_secs_f64());

    // Lifelines.
    let t = std::time::Instant::now();
    let ll_dir = resolve(root, &opts.lifelines_dir);
    let frag_path = resolve(root, &opts.fragility);
    let net = read_network_dir(&ll_dir)?;
    let fragility = Fragility::read(&frag_path)?;
    let hazards = assess(
        &net,
        &fragility,
        &Intensity {
            pga_g: pga,
            pgv_cms: pgv,
            flood_depth_m: depth,
        },
    )?;
    let places = lifeline::component_cells(&net, &zones.spec)?;
    let times = opts.times_days();
    let LifelineOutcome {
        rows: ll_rows,
        totals: ll_totals,
        unserved_intact_nodes,
        not_recovered,
    } = lifeline::lifeline_exposure(
        &net,
        &fragility,
        &hazards,
        present,
        &places,
        &zones,
        &LifelineSettings {
            seed: opts.seed,
            realisations: opts.realisations,
            times_days: times.clone(),
        },
    );
    if unserved_intact_nodes > 0 {
        notes.push(format!(
            "{unserved_intact_nodes} lifeline nodes reach no source even on the undamaged network; they are left out of the service shares"
        ));
    }
    if not_recovered > 0 {
        notes.push(format!(
            "{not_recovered} (group, lifeline) rows do not regain 90 % within {} d: days_to_90pct left empty",
            opts.horizon_days
        ));
    }
    seconds.insert("lifelines".to_string(), t.elapsed().as_secs_f64());

    // Inputs and totals.
    let mut inputs = Vec::new();
    for p in [&hz.depth, &hz.pga, &hz.pgv].into_iter().flatten() {
        inputs.push(fnv1a64(&p.0)?);
    }
    inputs.push(fnv1a64(&frag_path)?);
    for f in [
        "counties.tif",
        "counties.csv",
        "groups.tif",
        "groups.csv",
        "population.tif",
        "redline.tif",
        "redline_summary.csv",
    ] {
        let p = dir.join(f);
        if p.is_file() {
            inputs.push(fnv1a64(&p)?);
        }
    }
    let counties = |k: &str| k == "county";
    let sum_vec = |f: &dyn Fn(&PopulationRow) -> Option<&Vec<f64>>| -> Option<Vec<f64>> {
        let mut acc: Option<Vec<f64>> = None;
        for r in pop_rows.iter().filter(|r| counties(&r.kind)) {
            if let Some(v) = f(r) {
                let a = acc.get_or_insert_with(|| vec![0.0; v.len()]);
                a.iter_mut().zip(v).for_each(|(a, b)| *a += b);
            }
        }
        acc
    };
    let county_red: Vec<&RedlineRow> = red_rows
        .iter()
        .zip(&pop_rows)
        .filter(|(_, p)| counties(&p.kind))
        .map(|(r, _)| r)
        .collect();
    let totals = ExposureTotals {
        population: pop_rows
            .iter()
            .filter(|r| counties(&r.kind))
            .map(|r| r.population)
            .fold(0.0, |a, b| a + b),
        pop_depth_gt: sum_vec(&|r| r.depth_gt.as_ref()),
        pop_pga_ge: sum_vec(&|r| r.pga_ge.as_ref()),
        redline_km2: county_red
            .iter()
            .map(|r| r.redline_km2)
            .fold(0.0, |a, b| a + b),
        redline_flooded_km2: depth.map(|_| {
            county_red
                .iter()
                .filter_map(|r| r.redline_flooded_km2)
                .fold(0.0, |a, b| a + b)
        }),
        redline_shaken_km2: pga.map(|_| {
            county_red
                .iter()
                .filter_map(|r| r.redline_shaken_km2)
                .fold(0.0, |a, b| a + b)
        }),
        lifelines: ll_totals,
    };
    seconds.insert("total".to_string(), clock.elapsed().as_secs_f64());
    let mut summary = ExposureSummary {
        run_dirs,
        hazards: present,
        inputs,
        options: opts.clone(),
        times_days: (0.0, opts.step_days, times.last().copied().unwrap_or(0.0)),
        depth_classes_m: DEPTH_CLASSES_M.to_vec(),
        pga_classes_g: PGA_CLASSES_G.to_vec(),
        groups: zones.zones.len(),
        totals,
        notes,
        seconds,
        threads: rayon::current_num_threads(),
        files: EXPOSURE_FILES.iter().map(|s| s.to_string()).collect(),
        population: pop_rows,
        lifelines: ll_rows,
        redline: red_rows,
    };

    // Everything computed: write.
    let pop_csv = population_csv(&summary.population)?;
    let ll_csv = lifelines_csv(&summary.lifelines)?;
    let red_csv = redline_csv(&summary.redline)?;
    let json = serde_json::to_string_pretty(&summary).map_err(|e| Error::Data(e.to_string()))?;
    // As a set: all four are written (and fsynced) in a staging folder before any is
    // moved into the run folder, so a full disk leaves the previous set, not a mix.
    let mut stage = crate::staging::Staged::new(run_dir)?;
    for (name, bytes) in
        EXPOSURE_FILES
            .iter()
            .zip([&pop_csv[..], &ll_csv[..], &red_csv[..], json.as_bytes()])
    {
        write_bytes(&stage.path(name), bytes)?;
    }
    summary.files = stage.commit()?;
    Ok(summary)
}
