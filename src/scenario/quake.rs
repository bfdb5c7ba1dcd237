//! Earthquake scenarios (`models/scenarios/quake-*.toml`) and the `haihe quake` runner.
//!
//! A scenario gives the magnitude (Ms), the epicentre, the causative fault (by its name
//! in the fault layer, whose trace near the epicentre gives the strike) or the strike
//! itself, the percentiles to map and the Monte Carlo sample of the model's ε. The run
//! evaluates the Yu et al. (2013) model ([`crate::seismic::gmpe`]) on every cell of the
//! model grid and writes, all or nothing:
//!
//! - `pga.tif`: band 1 the median PGA (g), then one band per percentile (`p50`, `p84`,
//!   …), each band described;
//! - `pgv.tif`: the same for PGV (cm/s), which pipeline repair rates need;
//! - `exposure.csv`: residents per group and PGA class (GB 18306-2015 zone values) for
//!   the median map, each percentile map, and the Monte Carlo mean;
//! - `run.json`: inputs (with FNV-1a hashes), parameters, strike, timings, threads;
//! - then, once those are in place, the per-group exposure products of
//!   [`crate::exposure::assess_run`] (`exposure_population.csv`,
//!   `exposure_lifelines.csv`, `exposure_redline.csv`, `exposure.json`).
//!
//! Monte Carlo: ε is drawn once per realisation (seeded by (seed, index)) and applied
//! to the whole field, ln Y = ln Y_median + σ·ε. The model gives a total σ only, with no
//! split into between- and within-event parts and no spatial correlation, so this
//! ASSUMPTION makes the spread of regional totals an upper bound; the per-cell
//! percentiles do not depend on it. The percentile bands are the empirical percentiles
//! of the realisations (they converge to median·exp(σ·Φ⁻¹(p)), given in `run.json`).

use crate::exposure::{self, GroupExposure, GroupZones, PGA_CLASSES_G};
use crate::grid::io::{epsg_wkt, read_raster_as, write_atomically, write_geotiff_bands};
use crate::grid::warp::transform_points;
use crate::seismic::{self, fault, gmpe, Measure, Source, Yu2013};
use crate::staging::Staged;
use crate::{Error, Grid, Result};
use ndarray::Array2;
use serde::Deserialize;
use std::path::{Path, PathBuf};

fn model_dir() -> PathBuf {
    PathBuf::from("rasters/model")
}
fn fault_layer() -> PathBuf {
    PathBuf::from("rasters/source/faults/faults_scenarios.geojson")
}
fn percentiles() -> Vec<f64> {
    vec![50.0, 84.0]
}

/// The coefficient file of the model, relative to the project root.
pub const GMPE_FILE: &str = "models/seismic/gmpe_yu2013.toml";

/// The largest distance between the epicentre and the named fault's trace, km. A
/// scenario beyond it probably names the wrong fault. (Chosen for this product: twice
/// the [`fault::STRIKE_RADIUS_KM`].)
pub const MAX_FAULT_DISTANCE_KM: f64 = 2.0 * fault::STRIKE_RADIUS_KM;

/// An earthquake scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuakeScenario {
    /// Short name.
    pub name: String,
    /// What the scenario represents, with its sources.
    #[serde(default)]
    pub description: String,
    /// Surface-wave magnitude Ms.
    pub magnitude_ms: f64,
    /// Epicentre (WGS 84).
    pub epicentre: Epicentre,
    /// Causative fault: its name in the fault layer (`断层名称`); or give `strike_deg`.
    #[serde(default)]
    pub fault: Option<String>,
    /// Strike of the ellipse's long axis, degrees clockwise from north (instead of
    /// `fault`).
    #[serde(default)]
    pub strike_deg: Option<f64>,
    /// Line layer holding the fault traces.
    #[serde(default = "fault_layer")]
    pub fault_layer: PathBuf,
    /// Percentiles to map besides the median, each in (0, 100).
    #[serde(default = "percentiles")]
    pub percentiles: Vec<f64>,
    /// The Monte Carlo sample of ε.
    pub monte_carlo: MonteCarlo,
    /// Folder of the regional model grids.
    #[serde(default = "model_dir")]
    pub model_dir: PathBuf,
}

/// An epicentre.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Epicentre {
    /// Longitude, degrees E.
    pub lon: f64,
    /// Latitude, degrees N.
    pub lat: f64,
}

/// Monte Carlo settings.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct MonteCarlo {
    /// Number of realisations (1 to 1,000,000).
    pub realisations: usize,
    /// Seed; realisation i draws ε from (seed, i) alone.
    pub seed: u64,
}

/// Reads a scenario and checks what can be checked without the grids: one of `fault`
/// and `strike_deg`, the magnitude against the model's range, percentiles, realisations.
pub fn load_quake_scenario(path: &Path, model: &Yu2013) -> Result<QuakeScenario> {
    let s: QuakeScenario = crate::error::read_toml(
        path,
        "give the path of a scenario such as models/scenarios/quake-1976-tangshan.toml",
    )?;
    let bad = |field: &str, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field: field.into(),
        message,
    };
    if !(s.magnitude_ms >= model.ms_min && s.magnitude_ms <= model.ms_max) {
        return Err(bad(
            "magnitude_ms",
            format!(
                "Ms {} is outside the range of the ground-motion model, Ms {}–{} ({GMPE_FILE})",
                s.magnitude_ms, model.ms_min, model.ms_max
            ),
        ));
    }
    match (&s.fault, s.strike_deg) {
        (Some(_), Some(_)) => {
            return Err(bad(
                "fault",
                "give either `fault` (the strike comes from its trace) or `strike_deg`, not both"
                    .into(),
            ))
        }
        (None, None) => {
            return Err(bad(
                "fault",
                "give the causative fault's name (`fault`) or the strike (`strike_deg`)".into(),
            ))
        }
        (None, Some(st)) if !st.is_finite() => {
            return Err(bad(
                "strike_deg",
                format!("{st}: must be a number of degrees"),
            ))
        }
        _ => {}
    }
    if !(s.epicentre.lon.is_finite() && s.epicentre.lat.is_finite()) {
        return Err(bad("epicentre", "lon and lat must be numbers".into()));
    }
    if let Some(p) = s.percentiles.iter().find(|p| !(**p > 0.0 && **p < 100.0)) {
        return Err(bad(
            "percentiles",
            format!("{p}: each percentile must lie strictly between 0 and 100"),
        ));
    }
    if !(1..=1_000_000).contains(&s.monte_carlo.realisations) {
        return Err(bad(
            "monte_carlo.realisations",
            format!("{}: use 1 to 1,000,000", s.monte_carlo.realisations),
        ));
    }
    Ok(s)
}

/// An input file and its FNV-1a 64-bit hash (hex).
#[derive(Debug, Clone, serde::Serialize)]
pub struct InputFile {
    /// Path as used.
    pub path: String,
    /// FNV-1a 64 of the file's bytes.
    pub fnv1a64: String,
}

/// What a run wrote and measured (also written as `run.json`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct QuakeRunSummary {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub scenario_file: String,
    /// The source: Ms, epicentre, strike.
    pub source: Source,
    /// How the strike was found: `"fault <name>"` or `"given"`.
    pub strike_from: String,
    /// Distance from the epicentre to the fault trace, km (named faults only).
    pub fault_distance_km: Option<f64>,
    /// Ground-motion model.
    pub model: String,
    /// σ of ln PGA and ln PGV.
    pub sigma_ln: (f64, f64),
    /// Monte Carlo settings.
    pub monte_carlo: MonteCarlo,
    /// Percentiles mapped, with the sampled ε and the exact Φ⁻¹(p) for comparison.
    pub percentiles: Vec<(f64, f64, f64)>,
    /// Grid: rows, columns, cell size (m).
    pub grid: (usize, usize, f64),
    /// Largest median PGA on the grid, g.
    pub max_median_pga_g: f64,
    /// Largest median PGV on the grid, cm/s.
    pub max_median_pgv_cms: f64,
    /// PGA class bounds, g.
    pub pga_classes_g: Vec<f32>,
    /// Inputs with hashes.
    pub inputs: Vec<InputFile>,
    /// Wall time of the ground-motion fields, s.
    pub ground_motion_seconds: f64,
    /// Wall time of the exposure sums, s.
    pub exposure_seconds: f64,
    /// Wall time of the whole run, s.
    pub total_seconds: f64,
    /// Rayon threads.
    pub threads: usize,
    /// Files written.
    pub files: Vec<String>,
    /// Assumptions and caveats.
    pub notes: Vec<String>,
}

/// `p` under `root` unless absolute.
pub(crate) fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// FNV-1a 64-bit hash of a file (Fowler, Noll, Vo).
pub(crate) fn fnv1a64(path: &Path) -> Result<InputFile> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    Ok(InputFile {
        // Provenance names the file where it lies once the run is installed (a batch
        // writes into `.partial/<id>.<pid>/`, a command into `.staging-<pid>/`).
        path: crate::outdir::installed_path(path).display().to_string(),
        fnv1a64: format!("{h:016x}"),
    })
}

/// Band label of a percentile: `p84`, `p97.5`.
fn label(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("p{}", p as i64)
    } else {
        format!("p{p}")
    }
}

/// The strike for a scenario and where it came from.
fn find_strike(
    s: &QuakeScenario,
    root: &Path,
    path: &Path,
) -> Result<(f64, String, Option<f64>, Option<PathBuf>)> {
    let Some(name) = &s.fault else {
        return Ok((
            s.strike_deg.unwrap_or(0.0).rem_euclid(180.0),
            "given".into(),
            None,
            None,
        ));
    };
    let layer = resolve(root, &s.fault_layer);
    let Some(trace) = fault::read_fault(&layer, name.trim())? else {
        let names = fault::fault_names(&layer)?;
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "fault".into(),
            message: format!(
                "'{name}' is not a fault of {} (field {}); known: {}",
                layer.display(),
                fault::NAME_FIELD,
                names.join(", ")
            ),
        });
    };
    let st = fault::strike_near(&trace, s.epicentre.lon, s.epicentre.lat).ok_or_else(|| {
        Error::Invalid {
            path: path.to_path_buf(),
            field: "fault".into(),
            message: format!("the trace of '{name}' has no segment of positive length"),
        }
    })?;
    if st.distance_km > MAX_FAULT_DISTANCE_KM {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "fault".into(),
            message: format!(
                "'{name}' lies {:.0} km from the epicentre (more than {MAX_FAULT_DISTANCE_KM} km): check the fault or the epicentre, or give strike_deg",
                st.distance_km
            ),
        });
    }
    Ok((
        st.strike_deg,
        format!(
            "fault {name} ({:.0} km of trace within {} km)",
            st.length_used_km,
            fault::STRIKE_RADIUS_KM
        ),
        Some(st.distance_km),
        Some(layer),
    ))
}

/// Runs an earthquake scenario and writes its outputs into `out_dir` (all or nothing;
/// nothing, not even the folder, when the inputs are refused). Paths in the scenario
/// are relative to `root` (the project root).
pub fn run_quake(scenario_path: &Path, root: &Path, out_dir: &Path) -> Result<QuakeRunSummary> {
    let clock = std::time::Instant::now();
    let gmpe_path = root.join(GMPE_FILE);
    let model = Yu2013::load(&gmpe_path)?;
    let s = load_quake_scenario(scenario_path, &model)?;
    let dir = resolve(root, &s.model_dir);
    let counties_path = dir.join("counties.tif");
    let counties = read_raster_as::<i32>(&counties_path, 1)?;
    let spec = counties.spec();
    let wgs84 = epsg_wkt(4326)?;
    let (ex, ey) =
        transform_points(&[(s.epicentre.lon, s.epicentre.lat)], &wgs84, &spec.crs_wkt)?[0];
    if counties.cell_of(ex, ey).is_none() {
        let (x0, y0, x1, y1) = spec.extent();
        let corners = transform_points(&[(x0, y0), (x1, y1)], &spec.crs_wkt, &wgs84)?;
        return Err(Error::Invalid {
            path: scenario_path.to_path_buf(),
            field: "epicentre".into(),
            message: format!(
                "lon {} lat {} lies outside the model domain (about {:.2}–{:.2} E, {:.2}–{:.2} N, {})",
                s.epicentre.lon,
                s.epicentre.lat,
                corners[0].0,
                corners[1].0,
                corners[0].1,
                corners[1].1,
                counties_path.display()
            ),
        });
    }
    let (strike, strike_from, fault_distance_km, layer) = find_strike(&s, root, scenario_path)?;
    let src = Source {
        ms: s.magnitude_ms,
        lon: s.epicentre.lon,
        lat: s.epicentre.lat,
        strike_deg: strike,
    };

    // Ground motion on every cell.
    let t_gm = std::time::Instant::now();
    let (rows, cols) = (spec.rows, spec.cols);
    let centres: Vec<(f64, f64)> = (0..rows * cols)
        .map(|i| spec.transform.cell_center(i / cols, i % cols))
        .collect();
    let lonlat = transform_points(&centres, &spec.crs_wkt, &wgs84)?;
    let ln_pga = seismic::ln_median_field(&model, Measure::Pga, &src, &lonlat, rows, cols);
    let ln_pgv = seismic::ln_median_field(&model, Measure::Pgv, &src, &lonlat, rows, cols);
    let mc = s.monte_carlo;
    let mut eps: Vec<f64> = (0..mc.realisations as u64)
        .map(|i| gmpe::epsilon(mc.seed, i))
        .collect();
    eps.sort_by(f64::total_cmp);
    let eps_p: Vec<f64> = s
        .percentiles
        .iter()
        .map(|&p| gmpe::percentile(&eps, p))
        .collect();
    let field = |ln: &Array2<f64>, shift: f64| -> Grid<f32> {
        counties.with_data(ln.mapv(|v| (v + shift).exp() as f32), None)
    };
    let mut pga_bands = vec![("median".to_string(), field(&ln_pga, 0.0))];
    let mut pgv_bands = vec![("median".to_string(), field(&ln_pgv, 0.0))];
    for (&p, &e) in s.percentiles.iter().zip(&eps_p) {
        pga_bands.push((label(p), field(&ln_pga, model.pga.sigma_ln * e)));
        pgv_bands.push((label(p), field(&ln_pgv, model.pgv.sigma_ln * e)));
    }
    let ground_motion_seconds = t_gm.elapsed().as_secs_f64();

    // Exposure per group.
    let t_ex = std::time::Instant::now();
    let zones = GroupZones::load(&dir)?;
    let pop_path = dir.join("population.tif");
    let population = read_raster_as::<f32>(&pop_path, 1)?;
    let mut tables: Vec<(String, Vec<GroupExposure>)> = Vec::new();
    for (name, g) in &pga_bands {
        tables.push((
            name.clone(),
            exposure::population_by_class(&zones, &population, g, &PGA_CLASSES_G)?,
        ));
    }
    let shifts: Vec<f64> = eps.iter().map(|e| model.pga.sigma_ln * e).collect();
    let ln_grid = counties.with_data(ln_pga.mapv(|v| v as f32), None);
    tables.push((
        "mc_mean".into(),
        exposure::population_by_class_mean_shift(
            &zones,
            &population,
            &ln_grid,
            &PGA_CLASSES_G,
            &shifts,
        )?,
    ));
    let exposure_seconds = t_ex.elapsed().as_secs_f64();

    let mut inputs = vec![fnv1a64(scenario_path)?, fnv1a64(&gmpe_path)?];
    if let Some(l) = &layer {
        inputs.push(fnv1a64(l)?);
    }
    for f in [
        "counties.tif",
        "counties.csv",
        "groups.tif",
        "groups.csv",
        "population.tif",
    ] {
        let p = dir.join(f);
        if p.exists() {
            inputs.push(fnv1a64(&p)?);
        }
    }
    let max_of = |g: &Grid<f32>| g.data.iter().fold(0.0f32, |m, &v| m.max(v)) as f64;
    let mut summary = QuakeRunSummary {
        scenario: s.name.clone(),
        scenario_file: scenario_path.display().to_string(),
        source: src,
        strike_from,
        fault_distance_km,
        model: model.name.clone(),
        sigma_ln: (model.pga.sigma_ln, model.pgv.sigma_ln),
        monte_carlo: mc,
        percentiles: s
            .percentiles
            .iter()
            .zip(&eps_p)
            .map(|(&p, &e)| (p, e, gmpe::standard_normal_quantile(p / 100.0)))
            .collect(),
        grid: (rows, cols, spec.transform.dx.abs()),
        max_median_pga_g: max_of(&pga_bands[0].1),
        max_median_pgv_cms: max_of(&pgv_bands[0].1),
        pga_classes_g: PGA_CLASSES_G.to_vec(),
        inputs,
        ground_motion_seconds,
        exposure_seconds,
        total_seconds: 0.0,
        threads: rayon::current_num_threads(),
        files: Vec::new(),
        notes: vec![
            "ε drawn once per realisation and applied to the whole field (ASSUMPTION: the model gives a total σ only, no spatial correlation); per-cell percentiles do not depend on this".into(),
            "no site term: the model has none (nor has its OpenQuake form), so no local site amplification is applied".into(),
            "point source at the epicentre with elliptical attenuation along the strike; no finite-fault distance".into(),
        ],
    };

    // Everything computed and checked: write all or nothing.
    let mut stage = Staged::new(out_dir)?;
    write_bands(&pga_bands, &stage.path("pga.tif"))?;
    write_bands(&pgv_bands, &stage.path("pgv.tif"))?;
    exposure::write_exposure_csv(&stage.path("exposure.csv"), &tables, &PGA_CLASSES_G, "g")?;
    summary.total_seconds = clock.elapsed().as_secs_f64();
    let json = serde_json::to_string_pretty(&summary).map_err(|e| Error::Data(e.to_string()))?;
    write_atomically(&stage.path("run.json"), |p| {
        std::fs::write(p, &json).map_err(|e| Error::io(p, e))
    })?;
    summary.files = stage.commit()?;
    // Per-group exposure and lifeline damage, written into the run folder.
    let ex = exposure::assess_run(
        out_dir,
        root,
        &exposure::ExposureOptions {
            model_dir: s.model_dir.clone(),
            seed: mc.seed,
            ..Default::default()
        },
    )?;
    summary.files.extend(ex.files);
    Ok(summary)
}

fn write_bands(bands: &[(String, Grid<f32>)], path: &Path) -> Result<()> {
    let refs: Vec<(&str, &Grid<f32>)> = bands.iter().map(|(n, g)| (n.as_str(), g)).collect();
    write_geotiff_bands(&refs, path)
}
