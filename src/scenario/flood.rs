//! Flood scenarios (`models/scenarios/*.toml`) and the `haihe flood` runner.
//!
//! A scenario names its rain, runoff, roughness, gauges, duration and output interval,
//! and by default runs on the regional model grids of `rasters/model/`. It may instead
//! bring its own DEM (any GDAL raster), initial depth and roughness rasters and
//! boundary conditions, so that benchmark cases run through the same command.

use crate::bounds;
use crate::flood::channels::{self, HydraulicGeometry};
use crate::flood::outputs;
use crate::flood::rain::{self, RainField, RainForcing};
use crate::flood::routing::{Boundaries, Boundary, Domain, Params, State};
use crate::flood::runoff::{self, LossGrid, LossModel};
use crate::flood::simulate::{self, Forcing, Gauge, RunPlan};
use crate::grid::io::{read_raster, read_raster_as};
use crate::grid::warp::{self, GridSpec};
use crate::staging::Staged;
use crate::terrain;
use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

fn one() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
fn model_dir() -> PathBuf {
    PathBuf::from("rasters/model")
}

/// A flood scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FloodScenario {
    /// Short name.
    pub name: String,
    /// What the scenario represents.
    #[serde(default)]
    pub description: String,
    /// Simulated duration, h.
    pub duration_h: f64,
    /// Interval of the depth snapshots and hydrograph records, h.
    #[serde(default = "one")]
    pub output_interval_h: f64,
    /// Calendar time of t = 0 for the CF time axis ("YYYY-MM-DD hh:mm:ss").
    #[serde(default)]
    pub start_time: Option<String>,
    /// The grid: regional model grids, or the scenario's own rasters.
    #[serde(default)]
    pub grid: GridSection,
    /// Rain; none for a dry run driven by inflows or an initial depth.
    #[serde(default)]
    pub rain: Option<RainForcing>,
    /// Losses: the SCS curve number on cumulative rain (CN from `land_cover.tif` through
    /// `models/runoff.toml`), an initial and constant loss, or none when absent.
    #[serde(default)]
    pub losses: Option<LossModel>,
    /// Numerical parameters of the routing.
    #[serde(default)]
    pub routing: Params,
    /// Edge conditions (default: free outflow with a 0.001 slope on every side).
    #[serde(default)]
    pub boundaries: Option<Boundaries>,
    /// Gauges recorded in `hydrographs.csv`.
    #[serde(default, rename = "gauge")]
    pub gauges: Vec<GaugeSection>,
    /// Inflow hydrographs at points.
    #[serde(default, rename = "inflow")]
    pub inflows: Vec<InflowSection>,
    /// Reservoirs, detention basins, breaches and diversions (regional grids only);
    /// absent: none.
    #[serde(default)]
    pub structures: Option<super::structures::StructuresSection>,
    /// Run on after `duration_h` until the flood has passed (every gauge below `share`
    /// of its peak, every reservoir back at its flood-limit level or within its safe
    /// release), up to `max_duration_h`; absent: stop at `duration_h`.
    #[serde(default)]
    pub recession: Option<RecessionSection>,
    /// Storm sewers of the built-up cells (regional grids only;
    /// [`crate::flood::drainage`]); absent: no drains.
    #[serde(default)]
    pub drainage: Option<super::drainage::DrainageSection>,
}

fn half() -> f64 {
    0.5
}

fn ten_days_h() -> f64 {
    240.0
}

/// `[recession]`: when a run that goes on after `duration_h` stops
/// ([`crate::flood::simulate::Recession`]).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecessionSection {
    /// Share of its peak every gauge must fall to, in (0, 1); default 0.5.
    #[serde(default = "half")]
    pub share: f64,
    /// Longest run, h (at least `duration_h` and the rain's duration); default 240 h
    /// (10 days).
    #[serde(default = "ten_days_h")]
    pub max_duration_h: f64,
}

/// Where the grids come from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSection {
    /// Folder of the regional model grids (used when `dem` is absent).
    #[serde(default = "model_dir")]
    pub model_dir: PathBuf,
    /// The scenario's own bed elevation raster, m (any GDAL raster with a CRS).
    #[serde(default)]
    pub dem: Option<PathBuf>,
    /// Initial water depth raster, m, on the same grid.
    #[serde(default)]
    pub initial_depth: Option<PathBuf>,
    /// Manning's n raster on the same grid; else `manning_n`.
    #[serde(default)]
    pub roughness: Option<PathBuf>,
    /// Uniform Manning's n, s/m^(1/3), when no raster is given. Default 0.035 is an
    /// ASSUMPTION (floodplain pasture/cropland, Chow 1959 Table 5-6: 0.025–0.045).
    #[serde(default)]
    pub manning_n: Option<f64>,
    /// Carve the streams of the model grids into the bed (regional grids only).
    #[serde(default = "yes")]
    pub carve_streams: bool,
    /// Breach every depression of the bed along the D8 directions of the conditioned
    /// drainage, not only the streams (regional grids only; Lindsay 2016): the 2′ DEM's
    /// pits are mostly artefacts of its resolution, and on the routing grid each would
    /// hold back the flood until it filled. Real lakes and reservoirs are flattened by
    /// `prepare` and carry no pit. Default true.
    #[serde(default = "yes")]
    pub breach_depressions: bool,
    /// Deepest breach on the plain, m: on cells below `plain_below_m` a carve deeper than
    /// this is cut back to it and the pits this leaves are filled (Priority-Flood+ε,
    /// Barnes et al. 2014) — the hybrid of breaching and filling of Lindsay (2016). On
    /// the 2′ DEM a plain river would otherwise run in a trench up to tens of metres
    /// deep behind one noisy low cell, and never overflow. ASSUMPTION: 3 m (the order of
    /// a plain river's bank-full depth); a negative value switches the cap off.
    #[serde(default = "three")]
    pub plain_breach_max_m: f64,
    /// Elevation below which a cell counts as plain for `plain_breach_max_m`, m.
    /// ASSUMPTION: 100 m, where the North China Plain meets the 太行 and 燕山 foothills.
    #[serde(default = "hundred")]
    pub plain_below_m: f64,
    /// Give every river cell of `streams.tif` a long profile that falls downstream: the
    /// isotonic least-squares fit of the carved and capped bed along the D8 path
    /// ([`crate::terrain::profile`]; in the mountains the carve is already monotone and
    /// stays), applied after the plain's breach cap and before the pits are filled, so that a coarse-DEM ridge across a plain river neither dams it
    /// into a lake of hundreds of km² (the fill) nor digs a trench behind it (the
    /// breach). Default false: on the bundled 2′ DEM the fit removes the 1,454 km²
    /// filled flat of the 潮白河 plain, but where a long plateau pools with a pit
    /// downstream it digs trenches (the 温榆河 at 通州 lowered by 13 m), so it stays an
    /// option until a fit bounded by the breach cap lands. Reservoir releases reach
    /// their rivers without it (the pools are walled; see `scenario::structures`).
    #[serde(default)]
    pub river_profiles: bool,
    /// Hold the sea (`sea.tif`) at this level, m (regional grids only; default 0 m).
    #[serde(default = "sea_level")]
    pub sea_level_m: Option<f64>,
    /// Height of the coastal defence above sea level, m: land cells next to the sea
    /// (except river mouths) are raised to at least this much above it, so that the
    /// coarse DEM's coastal plain, which reads below sea level in places, is not
    /// flooded by the sea at the start. ASSUMPTION: 3 m; no surveyed seawall crests are
    /// bundled. 0 switches it off.
    #[serde(default = "three")]
    pub coastal_defence_m: f64,
    /// Lowest land elevation above sea level, m: the 2′ DEM mixes sea-floor values into
    /// coastal land cells (some read below sea level), so land below this height above
    /// the sea is raised to it. ASSUMPTION: 1 m (the 滨海 plain lies at about 1–3 m).
    #[serde(default = "one")]
    pub land_min_above_sea_m: f64,
    /// Rain falls only on cells of these systems of `basins.tif` (1 北三河, 2 永定河,
    /// 3 大清河, 4 海河下游); empty: everywhere.
    #[serde(default)]
    pub rain_on_basins: Vec<u8>,
    /// Subgrid channels in the stream cells (Neal et al. 2012; regional grids only).
    #[serde(default)]
    pub channels: Option<ChannelsSection>,
}

/// `[grid.channels]`: subgrid channels in the stream cells of `streams.tif`, with width
/// and bank depth from the upstream area of `flow_acc.tif` (see [`crate::flood::channels`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsSection {
    /// Switch; a scenario may keep the section and turn the channels off.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The hydraulic geometry file (default `models/channels.toml`), used when no inline
    /// `[grid.channels.geometry]` is given.
    #[serde(default)]
    pub geometry_file: Option<PathBuf>,
    /// Inline hydraulic geometry (all keys of `models/channels.toml`).
    #[serde(default)]
    pub geometry: Option<HydraulicGeometry>,
}

fn three() -> f64 {
    3.0
}

fn hundred() -> f64 {
    100.0
}

fn sea_level() -> Option<f64> {
    Some(0.0)
}

impl Default for GridSection {
    fn default() -> Self {
        GridSection {
            model_dir: model_dir(),
            dem: None,
            initial_depth: None,
            roughness: None,
            manning_n: None,
            carve_streams: true,
            breach_depressions: true,
            plain_breach_max_m: three(),
            plain_below_m: hundred(),
            river_profiles: false,
            sea_level_m: sea_level(),
            coastal_defence_m: three(),
            land_min_above_sea_m: one(),
            rain_on_basins: Vec::new(),
            channels: None,
        }
    }
}

/// A gauge.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GaugeSection {
    /// Name.
    pub name: String,
    /// Position: longitude (WGS 84) or x in the grid's CRS when `crs = "grid"`.
    pub x: f64,
    /// Position: latitude or y.
    pub y: f64,
    /// "wgs84" (default) or "grid".
    #[serde(default)]
    pub crs: Option<String>,
    /// Snap to the stream cell within this many cells whose upstream area best matches
    /// `area_km2` (or the largest, without it); 0 (default): the cell at the point.
    #[serde(default)]
    pub snap_radius_cells: usize,
    /// Published catchment area of the gauge, km², for snapping.
    #[serde(default)]
    pub area_km2: Option<f64>,
}

/// An inflow hydrograph at a point.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InflowSection {
    /// Name.
    pub name: String,
    /// Position, as for gauges.
    pub x: f64,
    /// Position, as for gauges.
    pub y: f64,
    /// "wgs84" (default) or "grid".
    #[serde(default)]
    pub crs: Option<String>,
    /// Times of the hydrograph, h, strictly increasing.
    pub times_h: Vec<f64>,
    /// Discharges at those times, m³/s (linear in between, 0 after the last).
    pub discharge_m3s: Vec<f64>,
}

/// Reads a scenario file; a broken file or unknown key names the file and line.
pub fn load_flood_scenario(path: &Path) -> Result<FloodScenario> {
    let s: FloodScenario = crate::error::read_toml(
        path,
        "give the path of a scenario such as models/scenarios/…toml",
    )?;
    let bad = |field: &str, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field: field.into(),
        message,
    };
    bounds::check_duration_h(path, "duration_h", s.duration_h)?;
    bounds::check_output_interval_h(path, "output_interval_h", s.output_interval_h, s.duration_h)?;
    if let Some(t) = &s.start_time {
        bounds::check_beijing_time(path, "start_time", t)?;
    }
    if let Some(RainForcing::Design {
        return_period_yr, ..
    }) = &s.rain
    {
        bounds::check_return_period_yr(path, "rain.return_period_yr", *return_period_yr)?;
    }
    for (i, g) in s.gauges.iter().enumerate() {
        bounds::check_snap_radius_cells(
            path,
            &format!("gauge[{i}] ({}).snap_radius_cells", g.name),
            g.snap_radius_cells,
        )?;
    }
    if let Some(st) = &s.structures {
        bounds::check_snap_radius_cells(
            path,
            "structures.snap_radius_cells",
            st.snap_radius_cells,
        )?;
        for (i, o) in st.openings.iter().enumerate() {
            if let Some(t) = &o.time {
                bounds::check_beijing_time(path, &format!("structures.open[{i}].time"), t)?;
            }
        }
    }
    if let Some(r) = &s.recession {
        if !(r.share > 0.0 && r.share < 1.0) {
            return Err(bad(
                "recession.share",
                format!(
                    "{}: give the share of its peak a gauge must fall to, between 0 and 1 (e.g. 0.5)",
                    r.share
                ),
            ));
        }
        let rain_h = match &s.rain {
            Some(RainForcing::Design { duration_h, .. }) => *duration_h,
            _ => 0.0,
        };
        let floor = s.duration_h.max(rain_h);
        bounds::check_duration_h(path, "recession.max_duration_h", r.max_duration_h)?;
        if !(r.max_duration_h.is_finite() && r.max_duration_h >= floor) {
            return Err(bad(
                "recession.max_duration_h",
                format!(
                    "{} h is shorter than the run's duration_h and the rain ({floor} h): give at least {floor} h",
                    r.max_duration_h
                ),
            ));
        }
    }
    for (i, f) in s.inflows.iter().enumerate() {
        if f.times_h.len() != f.discharge_m3s.len() || f.times_h.is_empty() {
            return Err(bad(
                &format!("inflow[{i}]"),
                "times_h and discharge_m3s must have the same, non-zero length".into(),
            ));
        }
        if f.times_h
            .windows(2)
            .any(|w| w[1].partial_cmp(&w[0]) != Some(std::cmp::Ordering::Greater))
        {
            return Err(bad(
                &format!("inflow[{i}].times_h"),
                "times must be strictly increasing".into(),
            ));
        }
        if f.discharge_m3s.iter().any(|q| !q.is_finite()) {
            return Err(bad(
                &format!("inflow[{i}].discharge_m3s"),
                "discharges must be finite".into(),
            ));
        }
    }
    Ok(s)
}

/// What a run wrote and measured (also written as `run.json`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct FloodRunSummary {
    /// Scenario name.
    pub scenario: String,
    /// Scenario file.
    pub scenario_file: String,
    /// Every input the run read, with its FNV-1a 64 hash (hex): the scenario file, the
    /// model folder, the parameter and structure tables and every file the scenario
    /// names ([`crate::scenario::batch::scenario_inputs`]).
    pub inputs: Vec<(String, String)>,
    /// Grid: rows, columns, cell size (m).
    pub grid: (usize, usize, f64),
    /// Simulated time, h: `duration_h`, or where a run to recession stopped.
    pub simulated_h: f64,
    /// Solver steps.
    pub steps: usize,
    /// Cell updates per second of the time loop (cells in the updated window × steps / s).
    pub cell_updates_per_s: f64,
    /// Wall time of the time loop, s.
    pub loop_seconds: f64,
    /// Wall time of reading the grids and building the forcing, s.
    pub setup_seconds: f64,
    /// Wall time of writing the outputs, s.
    pub write_seconds: f64,
    /// Rayon threads.
    pub threads: usize,
    /// Vector instruction level the routing kernels ran at (`base`, `avx2`, `avx512`;
    /// [`crate::flood::routing::isa::Isa`]); every level gives the same bits.
    pub simd: &'static str,
    /// Rain volume, m³.
    pub rain_m3: f64,
    /// Losses, m³.
    pub loss_m3: f64,
    /// Inflow, m³.
    pub inflow_m3: f64,
    /// Outflow across edges and into the sea, m³.
    pub boundary_out_m3: f64,
    /// Change of the water stored on the grid (sea included) over the run, m³.
    pub storage_change_m3: f64,
    /// Relative mass-balance error at the end.
    pub relative_mass_error: f64,
    /// Largest depth on land, m: the sea, open water of the land cover and reservoir
    /// pools are left out ([`crate::flood::plausibility::Surface`]), so that the sea bed
    /// or a reservoir is never the headline flood depth.
    pub max_depth_m: f64,
    /// Where the largest depth on land is (county, lon/lat) and why (pool, valley,
    /// plain); null when no land cell got wet.
    pub max_depth_site: Option<crate::flood::plausibility::CellSite>,
    /// Largest depth anywhere on the grid (sea and pools included), m.
    pub max_depth_anywhere_m: f64,
    /// Largest speed on land, m/s ([`crate::flood::simulate::VELOCITY_DEPTH_M`] and the
    /// face-flux velocities of [`crate::flood::simulate`]).
    pub max_land_speed_ms: f64,
    /// Where the largest land speed is.
    pub max_land_speed_site: Option<crate::flood::plausibility::CellSite>,
    /// Land cells per FD2320 hazard class of `hazard_rating.tif` (low, moderate,
    /// significant, extreme; [`crate::flood::hazard`]).
    pub hazard_cells: [usize; 4],
    /// Per gauge: name, peak discharge (m³/s), its time (h) and whether the peak was
    /// reached. `false`: the discharge still rises at the last record, the value is that
    /// record's (a lower bound) and the peak comes after t_end (a `peak-not-reached`
    /// finding says so).
    pub gauge_peaks: Vec<(String, f64, f64, bool)>,
    /// Water held by reservoirs and detention basins at the end, m³.
    pub works_storage_m3: f64,
    /// Water sent to the sea by diversions, m³.
    pub diverted_to_sea_m3: f64,
    /// Water the storm sewers of built-up cells moved to the rivers, m³: a transfer
    /// within the grid, part of no other total of the balance (0 without `[drainage]`).
    #[serde(default)]
    pub urban_drained_m3: f64,
    /// Opening time of each detention basin, h after the start (null: stayed shut).
    pub basin_openings_h: Vec<(String, Option<f64>)>,
    /// Start of each breach, h after the start (null: held).
    pub breach_starts_h: Vec<(String, Option<f64>)>,
    /// Files written.
    pub files: Vec<String>,
    /// Notes on inputs (placeholders, assumptions) the user should know.
    pub notes: Vec<String>,
    /// Findings of the plausibility guard ([`crate::flood::plausibility`]), most severe
    /// first.
    pub warnings: Vec<crate::flood::plausibility::Finding>,
}

fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// The grid, bed, roughness, sea and initial state of a scenario.
struct Setup {
    spec: GridSpec,
    land_cover: Option<ndarray::Array2<u8>>,
    domain: Domain,
    state: State,
    notes: Vec<String>,
}

fn f32_vec(a: &ndarray::Array2<f64>) -> Vec<f32> {
    a.iter().map(|&v| v as f32).collect()
}

fn setup(
    s: &FloodScenario,
    root: &Path,
    scenario_path: &Path,
    member: Option<&EnsembleDraw>,
) -> Result<Setup> {
    let g = &s.grid;
    let mut notes = Vec::new();
    let default_n = g.manning_n.unwrap_or(0.035);
    if g.manning_n.is_none() && g.roughness.is_none() && g.dem.is_some() {
        notes.push(
            "Manning's n: uniform 0.035 (ASSUMPTION; Chow 1959 floodplain range 0.025–0.045)"
                .into(),
        );
    }
    let boundaries = s
        .boundaries
        .unwrap_or_else(|| Boundaries::uniform(Boundary::FreeOutflow { slope: 0.001 }));
    let (spec, bed, sea, land_cover) = match &g.dem {
        Some(dem_path) => {
            let file = resolve(root, dem_path);
            let dem = read_raster(&file)?;
            let used_as = format!("`grid.dem` of {}", scenario_path.display());
            check_model_dem(&dem, &file, &used_as, &mut notes)?;
            (GridSpec::of(&dem), f32_vec(&dem.data), None, None)
        }
        None => {
            let dir = resolve(root, &g.model_dir);
            let file = dir.join("dem_source.tif");
            let dem = read_raster(&file)?;
            let used_as = format!("the model grid of `grid.model_dir` ({})", dir.display());
            check_model_dem(&dem, &file, &used_as, &mut notes)?;
            let spec = GridSpec::of(&dem);
            let mut bed = dem.data.clone();
            if g.carve_streams {
                let fd = read_raster_as::<u8>(&dir.join("flow_dir.tif"), 1)?;
                let st = read_raster_as::<u8>(&dir.join("streams.tif"), 1)?;
                dem.check_aligned(&fd, "dem_source.tif and flow_dir.tif")?;
                dem.check_aligned(&st, "dem_source.tif and streams.tif")?;
                let mask = if g.breach_depressions {
                    fd.data.mapv(|d| u8::from(d != 255))
                } else {
                    st.data.clone()
                };
                bed = terrain::carve_streams(bed.view(), fd.data.view(), mask.view(), true)?;
                if g.plain_breach_max_m >= 0.0 {
                    let cap = g.plain_breach_max_m;
                    let mut cut = 0usize;
                    for (b, &z) in bed.iter_mut().zip(dem.data.iter()) {
                        if z < g.plain_below_m && *b < z - cap {
                            *b = z - cap;
                            cut += 1;
                        }
                    }
                    if g.river_profiles {
                        notes.push(river_profile_note(&mut bed, &dem, &fd, &dir)?);
                    }
                    let sea_mask = read_raster_as::<u8>(&dir.join("sea.tif"), 1)?;
                    dem.check_aligned(&sea_mask, "dem_source.tif and sea.tif")?;
                    let sinks = sea_mask.data.mapv(|v| v == 1);
                    bed = terrain::priority_flood_epsilon(bed.view(), Some(sinks.view()))?;
                    notes.push(format!(
                        "bed: on the plain (below {} m) breaches are capped at {cap} m ({cut} cells) and the pits left are filled (ASSUMPTION, hybrid breach–fill, Lindsay 2016)",
                        g.plain_below_m
                    ));
                }
                notes.push(if g.breach_depressions {
                    "bed: rasters/model/dem_source.tif breached along the D8 drainage (every pit carved out, lowered runs graded)".into()
                } else {
                    "bed: rasters/model/dem_source.tif with the streams carved (lowered runs graded)".into()
                });
            }
            let sea = match g.sea_level_m {
                Some(level) => {
                    let m = read_raster_as::<u8>(&dir.join("sea.tif"), 1)?;
                    dem.check_aligned(&m, "dem_source.tif and sea.tif")?;
                    Some(
                        m.data
                            .iter()
                            .map(|&v| if v == 1 { level as f32 } else { f32::NAN })
                            .collect::<Vec<f32>>(),
                    )
                }
                None => None,
            };
            let lc = read_raster_as::<u8>(&dir.join("land_cover.tif"), 1)?;
            dem.check_aligned(&lc, "dem_source.tif and land_cover.tif")?;
            // Sea cells on the grid's edge would exchange water with the outside through
            // the edge boundary while being held at sea level, an endless loop through
            // the boundary books; they are taken out of the domain.
            let mut bed = f32_vec(&bed);
            if let Some(levels) = &sea {
                let (nr, nc) = (spec.rows, spec.cols);
                let sea_level = levels.iter().find(|l| !l.is_nan()).copied().unwrap_or(0.0);
                let floor = sea_level + g.land_min_above_sea_m as f32;
                let mut lifted = 0usize;
                for (z, l) in bed.iter_mut().zip(levels) {
                    if l.is_nan() && !z.is_nan() && *z < floor {
                        *z = floor;
                        lifted += 1;
                    }
                }
                notes.push(format!(
                    "coast: {lifted} land cells below {} m above sea level raised to it (ASSUMPTION: the 2′ DEM mixes sea-floor values into coastal land)",
                    g.land_min_above_sea_m
                ));
                if g.coastal_defence_m > 0.0 {
                    let st = read_raster_as::<u8>(&dir.join("streams.tif"), 1)?;
                    let mut raised = 0usize;
                    for r in 0..nr {
                        for c in 0..nc {
                            let i = r * nc + c;
                            if !levels[i].is_nan() || st.data[[r, c]] == 1 {
                                continue;
                            }
                            let by_sea = [(0isize, 1isize), (1, 0), (0, -1), (-1, 0)].iter().any(
                                |&(dr, dc)| {
                                    let (rr, cc) = (r as isize + dr, c as isize + dc);
                                    rr >= 0
                                        && cc >= 0
                                        && (rr as usize) < nr
                                        && (cc as usize) < nc
                                        && !levels[rr as usize * nc + cc as usize].is_nan()
                                },
                            );
                            let crest = sea_level + g.coastal_defence_m as f32;
                            if by_sea && bed[i] < crest {
                                bed[i] = crest;
                                raised += 1;
                            }
                        }
                    }
                    notes.push(format!(
                        "coast: {raised} land cells next to the sea raised to {} m above sea level (ASSUMPTION: no surveyed seawall crests bundled)",
                        g.coastal_defence_m
                    ));
                }
                for (i, l) in levels.iter().enumerate() {
                    let (r, c) = (i / nc, i % nc);
                    if !l.is_nan() && (r == 0 || c == 0 || r + 1 == nr || c + 1 == nc) {
                        bed[i] = f32::NAN;
                    }
                }
            }
            (spec, bed, sea, Some(lc.data))
        }
    };
    let manning = match (&g.roughness, &land_cover) {
        (None, Some(lc)) if g.manning_n.is_none() => {
            let table = runoff::load_runoff_params(&root.join("models/runoff.toml"))?;
            notes.push("Manning's n per land-cover class from models/runoff.toml".into());
            f32_vec(&table.manning_grid(lc.view())?)
        }
        _ => match &g.roughness {
            Some(p) => {
                let r = read_raster(&resolve(root, p))?;
                if !r.spec().is_aligned(&spec) {
                    return Err(Error::Invalid {
                        path: scenario_path.to_path_buf(),
                        field: "grid.roughness".into(),
                        message: format!(
                            "{} is not on the scenario's grid; warp it onto the DEM's grid",
                            p.display()
                        ),
                    });
                }
                f32_vec(&r.data)
            }
            None => vec![default_n as f32; spec.rows * spec.cols],
        },
    };
    // Diked reaches: the bed between the levees falls downstream (before the channels,
    // whose beds hang from it).
    let mut bed = bed;
    if let (Some(section), None) = (&s.structures, &g.dem) {
        notes.extend(super::structures::condition_levee_corridors(
            section,
            scenario_path,
            root,
            &resolve(root, &g.model_dir),
            &mut bed,
        )?);
    }
    let chan = match g.channels.as_ref().filter(|c| c.enabled) {
        None => {
            if g.dem.is_none() {
                notes.push("no subgrid channels: rivers are as wide as a cell".into());
            }
            None
        }
        Some(_) if g.dem.is_some() => {
            return Err(Error::Invalid {
                path: scenario_path.to_path_buf(),
                field: "grid.channels".into(),
                message: "subgrid channels need the stream network of the regional model grids; remove them or the scenario's own dem".into(),
            })
        }
        Some(c) => {
            let geom = match (&c.geometry, &c.geometry_file) {
                (Some(_), Some(_)) => {
                    return Err(Error::Invalid {
                        path: scenario_path.to_path_buf(),
                        field: "grid.channels".into(),
                        message: "give either geometry_file or an inline geometry, not both".into(),
                    })
                }
                (Some(gm), None) => {
                    gm.validate(scenario_path)?;
                    *gm
                }
                (None, f) => {
                    let f = f.clone().unwrap_or_else(|| PathBuf::from("models/channels.toml"));
                    channels::load_hydraulic_geometry(&resolve(root, &f))?
                }
            };
            let dir = resolve(root, &g.model_dir);
            let fd = read_raster_as::<u8>(&dir.join("flow_dir.tif"), 1)?;
            let st = read_raster_as::<u8>(&dir.join("streams.tif"), 1)?;
            let acc = read_raster(&dir.join("flow_acc.tif"))?;
            for (grid, name) in [(fd.spec(), "flow_dir.tif"), (st.spec(), "streams.tif"), (acc.spec(), "flow_acc.tif")] {
                if !grid.is_aligned(&spec) {
                    return Err(Error::Misaligned(format!(
                        "{name} is not on the grid of dem_source.tif"
                    )));
                }
            }
            let bed_view = ndarray::ArrayView2::from_shape((spec.rows, spec.cols), &bed[..])
                .map_err(|e| Error::Data(e.to_string()))?;
            let cells = channels::stream_channels(
                bed_view,
                fd.data.view(),
                st.data.view(),
                acc.data.view(),
                spec.transform.dx.abs(),
                &geom,
            )?;
            Some((cells, geom))
        }
    };
    // Perched diked reaches: the corridor is raised so that the river's bed stands above
    // the plain (after the grading, and once the channels' bank depths are known).
    if let (Some(section), None) = (&s.structures, &g.dem) {
        notes.extend(super::structures::perch_levee_corridors(
            section,
            scenario_path,
            root,
            &resolve(root, &g.model_dir),
            &mut bed,
            chan.as_ref().map(|(cells, _)| cells),
        )?);
    }
    let manning = match member {
        Some(d) => {
            notes.push(format!(
                "ensemble member {}: Manning's n × {:.4}, CN {:+.3}",
                d.member, d.manning_factor, d.cn_shift
            ));
            manning
                .iter()
                .map(|&n| n * d.manning_factor as f32)
                .collect()
        }
        None => manning,
    };
    let mut domain = Domain::new(
        spec.rows,
        spec.cols,
        spec.transform.dx.abs(),
        bed,
        manning,
        boundaries,
    )?;
    let sea_levels = sea.clone();
    if let Some(levels) = sea {
        domain = domain.with_fixed_levels(levels)?;
    }
    let mut fill = 0.0f32;
    if let Some((cells, geom)) = &chan {
        domain = domain.with_channels(cells)?;
        fill = geom.initial_fill as f32;
        notes.push(format!(
            "subgrid channels (Neal et al. 2012) in {} stream cells, {} links, {} closed ends: w = {}·A^{} m (≤ {}·Δx), d = {}·A^{} m, n = {}, initial fill {} of bank depth",
            domain.channel_cells(),
            domain.channel_links(),
            domain.channel_closed_ends(),
            geom.width_coeff,
            geom.width_exp,
            geom.max_width_fraction,
            geom.depth_coeff,
            geom.depth_exp,
            geom.manning_n,
            geom.initial_fill
        ));
    }
    let mut state = State::dry(&domain);
    if fill > 0.0 {
        // Dry channels hold −d; fill them to a fraction of the bank depth.
        for (i, h) in state.depth_m.iter_mut().enumerate() {
            if let Some(zc) = domain.channel_bed_at(i) {
                let z = domain.bed_at(i).unwrap_or(zc);
                *h = (1.0 - fill) * (zc - z);
            }
        }
    }
    // The sea starts at its level, so that its filling is not booked as inflow.
    if let Some(levels) = &sea_levels {
        for ((h, &l), i) in state.depth_m.iter_mut().zip(levels).zip(0..) {
            if let Some(z) = domain.bed_at(i) {
                if !l.is_nan() {
                    *h = (l - z).max(0.0);
                }
            }
        }
    }
    if let Some(p) = &g.initial_depth {
        let h = read_raster(&resolve(root, p))?;
        if !h.spec().is_aligned(&spec) {
            return Err(Error::Invalid {
                path: scenario_path.to_path_buf(),
                field: "grid.initial_depth".into(),
                message: format!("{} is not on the scenario's grid", p.display()),
            });
        }
        for (d, &v) in state.depth_m.iter_mut().zip(h.data.iter()) {
            if v.is_finite() && v > 0.0 {
                *d = v as f32;
            }
        }
    }
    Ok(Setup {
        spec,
        land_cover,
        domain,
        state,
        notes,
    })
}

/// Checks the DEM a flood runs on: a projected CRS in metres, and elevations
/// ([`crate::grid::io::check_model_grid_crs`], [`crate::grid::io::check_dem_values`]);
/// no-data cells inside it stay outside the domain, which a note says.
fn check_model_dem(
    dem: &crate::grid::Grid<f64>,
    file: &Path,
    used_as: &str,
    notes: &mut Vec<String>,
) -> Result<()> {
    crate::grid::io::check_model_grid_crs(&dem.crs_wkt, file, used_as)?;
    let nodata = crate::grid::io::check_dem_values(dem, file, used_as)?;
    if nodata > 0 {
        notes.push(format!(
            "dem: {nodata} no-data cells of {} lie outside the domain (no water, closed faces)",
            file.display()
        ));
    }
    Ok(())
}

/// Sets the beds of the river cells of `streams.tif` to their monotone long profiles
/// ([`terrain::profile::monotone_river_profiles`] of the carved and capped `bed`);
/// returns the note for `run.json` with how far the beds moved.
fn river_profile_note(
    bed: &mut ndarray::Array2<f64>,
    dem: &crate::grid::Grid<f64>,
    fd: &crate::grid::Grid<u8>,
    dir: &Path,
) -> Result<String> {
    let st = read_raster_as::<u8>(&dir.join("streams.tif"), 1)?;
    let acc = read_raster(&dir.join("flow_acc.tif"))?;
    dem.check_aligned(&st, "dem_source.tif and streams.tif")?;
    dem.check_aligned(&acc, "dem_source.tif and flow_acc.tif")?;
    let river = st.data.mapv(|v| v == 1);
    // The fit is of the carved and capped bed: in the mountains the carve is already
    // monotone and stays; on the plain the ridges the cap left pool with the pits.
    let prof = terrain::profile::monotone_river_profiles(
        bed.view(),
        fd.data.view(),
        acc.data.view(),
        river.view(),
    )?;
    let (mut cells, mut up, mut down) = (0usize, 0.0f64, 0.0f64);
    for ((b, &p), &r) in bed.iter_mut().zip(prof.iter()).zip(river.iter()) {
        let z = *b;
        if r && p.is_finite() {
            *b = p;
            cells += 1;
            up = up.max(p - z);
            down = down.max(z - p);
        }
    }
    Ok(format!(
        "bed: {cells} river cells of streams.tif on monotone long profiles (isotonic least-squares fit of the DEM along D8, Barlow et al. 1972; Schwanghart & Scherler 2017): ridges cut by up to {down:.1} m, pits raised by up to {up:.1} m, against the carved and capped bed"
    ))
}

/// Refuses a WGS 84 point whose longitude or latitude is out of range, saying so when
/// the two look swapped.
fn check_lon_lat(x: f64, y: f64, path: &Path, field: &str) -> Result<()> {
    if x.is_finite()
        && y.is_finite()
        && (-180.0..=180.0).contains(&x)
        && (-90.0..=90.0).contains(&y)
    {
        return Ok(());
    }
    let swapped = (-90.0..=90.0).contains(&x) && (-180.0..=180.0).contains(&y);
    let hint = if swapped {
        " (longitude and latitude look swapped)"
    } else {
        ""
    };
    Err(Error::Invalid {
        path: path.to_path_buf(),
        field: format!("{field}.x, .y"),
        message: format!(
            "x = {x}, y = {y} is not a longitude/latitude{hint}: give x = longitude (degrees east, about 112 to 119 here) and y = latitude (degrees north, about 38 to 42), or crs = \"grid\" with the grid's own x, y"
        ),
    })
}

/// The cell holding a scenario point, or a clear error naming the field.
fn point_cell(
    spec: &GridSpec,
    x: f64,
    y: f64,
    crs: &Option<String>,
    path: &Path,
    field: &str,
) -> Result<usize> {
    let (px, py) = match crs.as_deref() {
        None | Some("wgs84") => {
            check_lon_lat(x, y, path, field)?;
            let wgs84 = crate::grid::io::epsg_wkt(4326)?;
            warp::transform_points(&[(x, y)], &wgs84, &spec.crs_wkt).map_err(|e| {
                Error::Invalid {
                    path: path.to_path_buf(),
                    field: format!("{field}.x, .y"),
                    message: format!(
                        "cannot place lon {x}, lat {y} on the grid ({e}); give x = longitude and y = latitude in degrees (WGS 84), or crs = \"grid\" with the grid's own x, y"
                    ),
                }
            })?[0]
        }
        Some("grid") => (x, y),
        Some(other) => {
            return Err(Error::Invalid {
                path: path.to_path_buf(),
                field: format!("{field}.crs"),
                message: format!(
                    "unknown '{other}': use \"wgs84\" (lon, lat) or \"grid\" (the grid's own x, y)"
                ),
            })
        }
    };
    let (r, c) = spec.transform.fractional_index(px, py);
    if r < 0.0 || c < 0.0 || r >= spec.rows as f64 || c >= spec.cols as f64 {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: field.into(),
            message: format!("({x}, {y}) lies outside the grid"),
        });
    }
    Ok(r as usize * spec.cols + c as usize)
}

/// Rain from a [`RainField`], a constant loss rate, and inflow hydrographs.
struct ScenarioForcing<'a> {
    rain: Option<&'a RainField>,
    losses: Option<LossGrid>,
    runoff_buf: ndarray::Array2<f64>,
    loss_buf: ndarray::Array2<f64>,
    inflows: Vec<(usize, &'a InflowSection)>,
    rain_mask: Option<Vec<bool>>,
    buf: ndarray::Array2<f64>,
}

impl ScenarioForcing<'_> {
    fn inflow_at(f: &InflowSection, t_h: f64) -> f64 {
        let (t, q) = (&f.times_h, &f.discharge_m3s);
        if t_h < t[0] || t_h > t[t.len() - 1] {
            return 0.0;
        }
        let k = t.partition_point(|&x| x <= t_h).clamp(1, t.len() - 1);
        let w = ((t_h - t[k - 1]) / (t[k] - t[k - 1])).clamp(0.0, 1.0);
        q[k - 1] + w * (q[k] - q[k - 1])
    }
}

/// Interval at which inflow hydrographs are sampled (mid-interval value), s.
const INFLOW_SAMPLE_S: f64 = 60.0;

impl Forcing for ScenarioForcing<'_> {
    fn rates(
        &mut self,
        t_s: f64,
        rain_ms: &mut [f32],
        loss_ms: &mut [f32],
        points: &mut Vec<(usize, f64)>,
    ) -> Result<f64> {
        let mut until = f64::INFINITY;
        match self.rain {
            Some(field) => {
                let k = (t_s / field.step_s + 1e-9).floor() as usize;
                if k < field.n_steps {
                    field.fill_step(k, self.buf.view_mut());
                    if let Some(mask) = &self.rain_mask {
                        for (v, &m) in self.buf.iter_mut().zip(mask) {
                            if !m {
                                *v = 0.0;
                            }
                        }
                    }
                    let to_ms = 1e-3 / field.step_s;
                    for (r, &mm) in rain_ms.iter_mut().zip(self.buf.iter()) {
                        *r = (mm * to_ms) as f32;
                    }
                    match &mut self.losses {
                        Some(lg) => {
                            lg.step(
                                self.buf.view(),
                                field.step_s / 3600.0,
                                self.runoff_buf.view_mut(),
                                self.loss_buf.view_mut(),
                            );
                            for (l, &mm) in loss_ms.iter_mut().zip(self.loss_buf.iter()) {
                                *l = (mm * to_ms) as f32;
                            }
                        }
                        None => loss_ms.fill(0.0),
                    }
                    until = until.min((k + 1) as f64 * field.step_s);
                } else {
                    rain_ms.fill(0.0);
                    loss_ms.fill(0.0);
                }
            }
            None => {
                rain_ms.fill(0.0);
                loss_ms.fill(0.0);
            }
        }
        points.clear();
        if !self.inflows.is_empty() {
            let end = t_s + INFLOW_SAMPLE_S;
            let mid_h = 0.5 * (t_s + end) / 3600.0;
            for &(cell, f) in &self.inflows {
                points.push((cell, Self::inflow_at(f, mid_h)));
            }
            until = until.min(end);
        }
        Ok(until)
    }
}

/// Runs a flood scenario and writes its outputs into `out_dir` (all or nothing).
/// Paths in the scenario are relative to `root` (the project root).
pub fn run_flood(scenario_path: &Path, root: &Path, out_dir: &Path) -> Result<FloodRunSummary> {
    run_flood_member(scenario_path, root, out_dir, None)
}

/// One ensemble member's draw: a shift of every curve number and a factor on every
/// Manning's n.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EnsembleDraw {
    /// Member number, from 1.
    pub member: usize,
    /// Added to every curve number (clamped to [1, 100]).
    pub cn_shift: f64,
    /// Multiplies every Manning's n.
    pub manning_factor: f64,
}

/// Half-width of the uniform CN shift of an ensemble. ASSUMPTION: ±5 CN units, the order
/// of the spread of curve numbers fitted to observed events around the tabulated value
/// (Hawkins, Hjelmfelt & Zevenbergen 1985; USDA NEH-630 ch. 10 gives AMC I/III as the
/// bounds of that spread, which is wider).
pub const ENSEMBLE_CN_HALF_WIDTH: f64 = 5.0;
/// Range of the log-uniform factor on Manning's n. ASSUMPTION: 0.7–1.3, the spread of
/// Chow's (1959) minimum–maximum for one floodplain class around its normal value.
pub const ENSEMBLE_MANNING_RANGE: (f64, f64) = (0.7, 1.3);

/// The draws of an `n`-member ensemble with `seed`: member k draws from SplitMix64 seeded
/// by (seed, k), so a member's draw does not depend on how many members there are.
pub fn ensemble_draws(n: usize, seed: u64) -> Vec<EnsembleDraw> {
    (1..=n)
        .map(|k| {
            let mut rng = crate::lifelines::damage::SplitMix64::for_realisation(seed, k as u64);
            let u_cn = rng.uniform();
            let u_n = rng.uniform();
            let (lo, hi) = ENSEMBLE_MANNING_RANGE;
            EnsembleDraw {
                member: k,
                cn_shift: ENSEMBLE_CN_HALF_WIDTH * (2.0 * u_cn - 1.0),
                manning_factor: (lo.ln() + u_n * (hi.ln() - lo.ln())).exp(),
            }
        })
        .collect()
}

/// One member of an ensemble as run or kept: its draw and gauge peaks
/// (gauge, m³/s, h).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnsembleMember {
    /// Member number, from 1.
    pub member: usize,
    /// Added to every curve number.
    pub cn_shift: f64,
    /// Multiplies every Manning's n.
    pub manning_factor: f64,
    /// Every input the member read, with its FNV-1a 64 hash (as in `run.json`).
    pub inputs: Vec<(String, String)>,
    /// Peak discharge and its time per gauge, and whether the peak was reached within
    /// the run: (gauge, m³/s, h, reached).
    pub gauge_peaks: Vec<(String, f64, f64, bool)>,
    /// The bits of cn_shift, manning_factor and each peak's (m³/s, h): JSON text does
    /// not read back every f64 exactly, and a kept member must match bit for bit.
    #[serde(default)]
    pub bits: Vec<u64>,
    /// Whether the member was kept from an earlier run instead of being run.
    #[serde(skip)]
    pub kept: bool,
}

/// Name of a member's completion record (written last, inside `member-NNN/`).
pub const MEMBER_RECORD: &str = ".haihe-member.json";

/// What to do with `member-NNN/` before running it: `Some(kept)` if a finished member
/// with the same draw and inputs is there; `None` to run it. Errors: a folder that is
/// not haihe's, or a finished member of another draw without `replace`.
fn member_state(
    dir: &Path,
    d: &EnsembleDraw,
    inputs: &[(String, String)],
    replace: bool,
) -> Result<Option<EnsembleMember>> {
    use crate::outdir::{marker_kind, OutputKind};
    if !dir.exists() {
        return Ok(None);
    }
    let record: Option<EnsembleMember> = std::fs::read_to_string(dir.join(MEMBER_RECORD))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let record = record.and_then(|mut r| {
        // Exact values from their bits (a record without them is treated as unfinished).
        let n = 2 + 2 * r.gauge_peaks.len();
        if r.bits.len() != n {
            return None;
        }
        r.cn_shift = f64::from_bits(r.bits[0]);
        r.manning_factor = f64::from_bits(r.bits[1]);
        for (k, g) in r.gauge_peaks.iter_mut().enumerate() {
            g.1 = f64::from_bits(r.bits[2 + 2 * k]);
            g.2 = f64::from_bits(r.bits[3 + 2 * k]);
        }
        Some(r)
    });
    match (marker_kind(dir), record) {
        (Some(OutputKind::Member), Some(r)) => {
            let same = r.member == d.member
                && r.cn_shift == d.cn_shift
                && r.manning_factor == d.manning_factor
                && r.inputs == inputs;
            if same {
                Ok(Some(EnsembleMember { kept: true, ..r }))
            } else if replace {
                Ok(None)
            } else {
                Err(Error::Invalid {
                    path: dir.to_path_buf(),
                    field: "--ensemble".into(),
                    message: "holds a finished member of another draw or other inputs (seed or scenario changed); use --replace to rerun it, or choose another folder".into(),
                })
            }
        }
        // An unfinished member of ours: run again.
        (Some(OutputKind::Member), None) => Ok(None),
        _ => {
            crate::outdir::claim_subfolder(dir, OutputKind::Member)?;
            Ok(None)
        }
    }
}

/// Runs an ensemble of `n` members of a scenario, CN and roughness drawn by
/// [`ensemble_draws`], members in parallel (rayon), each written whole into
/// `out_dir/member-NNN/` and marked finished by its `.haihe-member.json` (draw, input
/// hashes, gauge peaks), then `ensemble.json` with the draws and each member's gauge
/// peaks. A finished member already there with the same draw and inputs is kept, so an
/// interrupted ensemble resumes; an unfinished one of ours is rerun; a finished one of
/// another draw is refused unless `replace`; a `member-NNN/` that haihe did not write is
/// refused and left alone.
pub fn run_flood_ensemble(
    scenario_path: &Path,
    root: &Path,
    out_dir: &Path,
    n: usize,
    seed: u64,
) -> Result<Vec<EnsembleMember>> {
    run_flood_ensemble_with(scenario_path, root, out_dir, n, seed, false)
}

/// [`run_flood_ensemble`], with `replace`: finished members of another draw are rerun.
pub fn run_flood_ensemble_with(
    scenario_path: &Path,
    root: &Path,
    out_dir: &Path,
    n: usize,
    seed: u64,
    replace: bool,
) -> Result<Vec<EnsembleMember>> {
    use rayon::prelude::*;
    if n == 0 {
        return Err(Error::Invalid {
            path: scenario_path.to_path_buf(),
            field: "--ensemble".into(),
            message: "the ensemble needs at least one member".into(),
        });
    }
    load_flood_scenario(scenario_path)?;
    let inputs =
        super::batch::file_input_hashes(super::batch::ScenarioKind::Flood, scenario_path, root)?;
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let draws = ensemble_draws(n, seed);
    // Every member folder is checked before anything runs, so a refusal changes nothing.
    let states = draws
        .iter()
        .map(|d| {
            let dir = out_dir.join(format!("member-{:03}", d.member));
            member_state(&dir, d, &inputs, replace)
        })
        .collect::<Result<Vec<_>>>()?;
    let members = draws
        .par_iter()
        .zip(states)
        .map(|(d, state)| {
            if let Some(kept) = state {
                return Ok(kept);
            }
            let dir = out_dir.join(format!("member-{:03}", d.member));
            // Ours (marked) and unfinished or replaced: emptied, marked, run again.
            if dir.exists() {
                std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            }
            crate::outdir::claim_subfolder(&dir, crate::outdir::OutputKind::Member)?;
            let s = run_flood_member(scenario_path, root, &dir, Some(d))?;
            let m = EnsembleMember {
                member: d.member,
                cn_shift: d.cn_shift,
                manning_factor: d.manning_factor,
                inputs: s.inputs.clone(),
                bits: [d.cn_shift, d.manning_factor]
                    .into_iter()
                    .chain(s.gauge_peaks.iter().flat_map(|g| [g.1, g.2]))
                    .map(f64::to_bits)
                    .collect(),
                gauge_peaks: s.gauge_peaks,
                kept: false,
            };
            let json = serde_json::to_string_pretty(&m).map_err(|e| Error::Data(e.to_string()))?;
            crate::grid::io::write_atomically(&dir.join(MEMBER_RECORD), |p| {
                std::fs::write(p, &json).map_err(|e| Error::io(p, e))
            })?;
            Ok(m)
        })
        .collect::<Result<Vec<_>>>()?;
    #[derive(serde::Serialize)]
    struct EnsembleFile<'a> {
        scenario_file: String,
        members: usize,
        seed: u64,
        cn_half_width: f64,
        manning_range: (f64, f64),
        draws: &'a [EnsembleDraw],
        gauge_peaks: Vec<Vec<(String, f64, f64, bool)>>,
    }
    let file = EnsembleFile {
        scenario_file: scenario_path.display().to_string(),
        members: n,
        seed,
        cn_half_width: ENSEMBLE_CN_HALF_WIDTH,
        manning_range: ENSEMBLE_MANNING_RANGE,
        draws: &draws,
        gauge_peaks: members.iter().map(|s| s.gauge_peaks.clone()).collect(),
    };
    let json = serde_json::to_string_pretty(&file).map_err(|e| Error::Data(e.to_string()))?;
    crate::grid::io::write_atomically(&out_dir.join("ensemble.json"), |p| {
        std::fs::write(p, &json).map_err(|e| Error::io(p, e))
    })?;
    Ok(members)
}

/// The table of the largest observed rain totals the guard compares a run's rain with.
pub const OBSERVED_RAIN_TABLE: &str = "models/observed_rain_extremes.toml";

/// What the plausibility guard needs of a finished run.
struct GuardInputs<'a> {
    spec: &'a GridSpec,
    domain: &'a Domain,
    land_cover: Option<&'a ndarray::Array2<u8>>,
    /// The regional model folder (counties, HAND); none for a run on its own DEM.
    model_dir: Option<&'a Path>,
    works: &'a crate::flood::structures::Works,
    sim: &'a simulate::Simulation,
    gauges: &'a [Gauge],
    rain: Option<(&'a RainField, Option<&'a [bool]>)>,
    duration_h: f64,
    relative_mass_error: f64,
    rain_table: &'a Path,
}

/// What the guard found and the land-only figures it computed.
struct GuardOutputs {
    findings: Vec<crate::flood::plausibility::Finding>,
    land_depth: Option<(crate::flood::plausibility::CellSite, f64)>,
    land_speed: Option<(crate::flood::plausibility::CellSite, f64)>,
    hazard_rating: Vec<f32>,
    hazard_cells: [usize; 4],
    gauge_peaks: Vec<(String, f64, f64, bool)>,
}

/// The surface of every cell: outside, sea (fixed level), reservoir pool, open water of
/// the land cover (class 4 of `models/land_cover.toml`) or land.
pub fn cell_surfaces(
    domain: &Domain,
    land_cover: Option<&[u8]>,
    pool_cells: &[usize],
) -> Vec<crate::flood::plausibility::Surface> {
    use crate::flood::plausibility::Surface;
    let n = domain.nrows() * domain.ncols();
    let mut out: Vec<Surface> = (0..n)
        .map(|i| {
            if !domain.is_active(i) {
                Surface::Outside
            } else if domain.fixed_level_at(i).is_some() {
                Surface::Sea
            } else if land_cover.is_some_and(|lc| lc.get(i) == Some(&WATER_CLASS)) {
                Surface::Water
            } else {
                Surface::Land
            }
        })
        .collect();
    for &c in pool_cells {
        if out.get(c) == Some(&Surface::Land) || out.get(c) == Some(&Surface::Water) {
            out[c] = Surface::Pool;
        }
    }
    out
}

/// Land-cover class of open water (`models/land_cover.toml`).
const WATER_CLASS: u8 = 4;
/// Land-cover class of mountain forest and grass (`models/land_cover.toml`).
const MOUNTAIN_CLASS: u8 = 1;

/// Runs the guard's checks on a finished run ([`crate::flood::plausibility`]): mass
/// balance, peaks not reached at the gauges and reservoir releases, depth and speed on
/// land, rain against the largest observed totals; and the FD2320 hazard rating grid.
fn guard_run(g: GuardInputs<'_>) -> Result<GuardOutputs> {
    use crate::flood::hazard::{self, DebrisCover};
    use crate::flood::plausibility::{self as pl, CellSite, Setting, Surface};
    let (rows, cols) = (g.spec.rows, g.spec.cols);
    let cover: Option<Vec<u8>> = g.land_cover.map(|lc| lc.iter().copied().collect());
    let pools: Vec<usize> = g
        .works
        .reservoirs
        .iter()
        .flat_map(|r| r.pool_cells.iter().copied())
        .collect();
    let surface = cell_surfaces(g.domain, cover.as_deref(), &pools);
    // Counties and HAND of the regional model, to name cells.
    let (county_of, names, hand) = match g.model_dir {
        Some(dir) => {
            let c = read_raster_as::<i32>(&dir.join("counties.tif"), 1)?;
            let names: std::collections::BTreeMap<i32, String> =
                crate::groups::read_counties_csv(&dir.join("counties.csv"))?
                    .into_iter()
                    .map(|c| (c.adcode as i32, c.name))
                    .collect();
            let hand = read_raster(&dir.join("hand.tif")).ok();
            let aligned = c.rows() == rows && c.cols() == cols;
            (
                aligned.then(|| c.data.iter().copied().collect::<Vec<i32>>()),
                names,
                hand.filter(|h| h.rows() == rows && h.cols() == cols),
            )
        }
        None => (None, Default::default(), None),
    };
    let wgs84 = crate::grid::io::epsg_wkt(4326).ok();
    let site = |i: usize| -> CellSite {
        let (r, c) = (i / cols, i % cols);
        let (x, y) = g.spec.transform.cell_center(r, c);
        let lon_lat = wgs84
            .as_ref()
            .filter(|_| !g.spec.crs_wkt.is_empty())
            .and_then(|w| warp::transform_points(&[(x, y)], &g.spec.crs_wkt, w).ok())
            .map(|p| p[0]);
        let class = cover.as_ref().map(|lc| lc[i]);
        let setting = if surface[i] == Surface::Pool {
            Setting::Pool
        } else if class == Some(MOUNTAIN_CLASS) {
            Setting::Valley
        } else {
            Setting::Plain
        };
        let mut detail = format!("bed {:.0} m", g.domain.bed_at(i).unwrap_or(f32::NAN));
        // HAND of the prepared DEM; the run's carved bed can lie below it (negative).
        if let Some(h) = hand.as_ref().map(|h| h.data[[r, c]]).filter(|h| *h >= 0.0) {
            detail.push_str(&format!(", {h:.0} m above the nearest stream (HAND)"));
        }
        if let Some(k) = class {
            detail.push_str(match k {
                MOUNTAIN_CLASS => ", mountain land cover",
                2 => ", plain cropland",
                3 => ", urban",
                5 => ", wetland",
                _ => "",
            });
        }
        CellSite {
            row: r,
            col: c,
            county: county_of.as_ref().and_then(|v| names.get(&v[i]).cloned()),
            lon_lat,
            setting,
            detail,
        }
    };
    let sim = g.sim;
    let mut findings = pl::check_mass_balance(g.relative_mass_error);
    // Peaks: gauges and reservoir releases.
    let times: Vec<f64> = sim.records.iter().map(|r| r.time_s / 3600.0).collect();
    let mut gauge_peaks = Vec::new();
    for (k, gauge) in g.gauges.iter().enumerate() {
        let q: Vec<f64> = sim.records.iter().map(|r| r.gauges[k].0).collect();
        let p = pl::peak_of(&times, &q);
        findings.extend(pl::check_peak(&gauge.name, "discharge", &times, &q));
        gauge_peaks.push(match p {
            Some(p) => (gauge.name.clone(), p.value, p.time_h, p.reached),
            None => (gauge.name.clone(), f64::NAN, 0.0, false),
        });
    }
    let columns = simulate::Exchange::columns(g.works);
    for (k, col) in columns.iter().enumerate() {
        if let Some(name) = col.strip_suffix(" release_m3s") {
            let q: Vec<f64> = sim.records.iter().map(|r| r.works[k]).collect();
            findings.extend(pl::check_peak(name, "reservoir release", &times, &q));
        }
    }
    // Depth and speed on land.
    let land_depth = pl::largest_on_land(&sim.max_depth_m, &surface);
    let land_speed = pl::largest_on_land(&sim.max_speed_ms, &surface);
    findings.extend(pl::check_depth_on_land(
        &sim.max_depth_m,
        &surface,
        pl::DEPTH_ON_LAND_WARNING_M,
        &site,
    ));
    findings.extend(pl::check_land_velocity(
        &sim.max_speed_ms,
        &sim.max_depth_m,
        &surface,
        pl::LAND_SPEED_WARNING_MS,
        &site,
    ));
    // Rain against the largest observed totals.
    if let Some((field, mask)) = g.rain {
        if g.rain_table.is_file() {
            let table = pl::load_observed_rain(g.rain_table)?;
            let total = field.total_mm();
            let cell_km2 = (g.spec.transform.dx * g.spec.transform.dy).abs() / 1e6;
            let (mut sum, mut n, mut best) = (0.0f64, 0usize, None::<(usize, f64)>);
            for (i, &t) in total.iter().enumerate() {
                let rained = surface[i] != Surface::Outside && mask.is_none_or(|m| m[i]);
                if rained {
                    sum += t;
                    n += 1;
                    if best.is_none_or(|(_, b)| t > b) {
                        best = Some((i, t));
                    }
                }
            }
            if let Some((cell, point_mm)) = best {
                let run = pl::RunRain {
                    duration_h: (field.step_s * field.n_steps as f64 / 3600.0).min(g.duration_h),
                    point_mm,
                    point_place: site(cell).place(),
                    areal_mm: sum / n as f64,
                    area_km2: n as f64 * cell_km2,
                };
                findings.extend(pl::check_rain(&table, &run));
            }
        } else {
            findings.push(pl::Finding::new(
                pl::Severity::Info,
                "rain-depth",
                "rain",
                format!(
                    "no table of observed rain extremes at {}: the rain was not checked",
                    g.rain_table.display()
                ),
            ));
        }
    }
    // FD2320 hazard rating on land.
    let debris = |i: usize| {
        cover.as_ref().map_or(DebrisCover::PastureArable, |lc| {
            DebrisCover::of_land_cover(lc[i])
        })
    };
    let hazard_rating = hazard::hazard_rating_grid(
        &sim.max_depth_velocity_m2s,
        &sim.max_depth_m,
        &sim.max_speed_ms,
        &debris,
        &|i| surface[i].is_land(),
    );
    let hazard_cells = hazard::class_counts(&hazard_rating);
    Ok(GuardOutputs {
        findings,
        land_depth: land_depth.map(|(i, d)| (site(i), d as f64)),
        land_speed: land_speed.map(|(i, v)| (site(i), v as f64)),
        hazard_rating,
        hazard_cells,
        gauge_peaks,
    })
}

/// Checks of a scenario against the files it names, before anything is read whole or
/// allocated: the run's memory estimate against the machine's
/// ([`bounds::check_flood_memory`], from the DEM's header), and the event of
/// `[structures]` against the events the structure files list.
fn check_against_inputs(s: &FloodScenario, scenario_path: &Path, root: &Path) -> Result<()> {
    let dem = match &s.grid.dem {
        Some(d) => resolve(root, d),
        None => resolve(root, &s.grid.model_dir).join("dem_source.tif"),
    };
    let size = crate::grid::io::raster_size(&dem)?;
    let longest_h = s.recession.map_or(s.duration_h, |r| r.max_duration_h);
    bounds::check_flood_memory(scenario_path, &dem, size, longest_h, s.output_interval_h)?;
    if let Some(event) = s.structures.as_ref().and_then(|st| st.event.as_ref()) {
        let dir = resolve(
            root,
            &s.structures
                .as_ref()
                .map_or_else(PathBuf::new, |st| st.dir.clone()),
        );
        let file = dir.join("detention_basins.toml");
        let known: std::collections::BTreeSet<String> =
            crate::flood::structures::load_detention_basins(&file)?
                .iter()
                .flat_map(|r| r.trigger.iter().filter_map(|t| t.event.clone()))
                .collect();
        bounds::check_event(
            scenario_path,
            "structures.event",
            event,
            &known,
            &format!("the scheduled gate openings of {}", file.display()),
        )?;
    }
    Ok(())
}

fn run_flood_member(
    scenario_path: &Path,
    root: &Path,
    out_dir: &Path,
    member: Option<&EnsembleDraw>,
) -> Result<FloodRunSummary> {
    let clock = std::time::Instant::now();
    let s = load_flood_scenario(scenario_path)?;
    check_against_inputs(&s, scenario_path, root)?;
    let mut set = setup(&s, root, scenario_path, member)?;
    let spec = set.spec.clone();
    // Upstream areas for snapping gauges, read once when the first gauge needs them.
    let mut acc_km2: Option<crate::grid::Grid<f64>> = None;
    let gauges = s
        .gauges
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let field = format!("gauge[{i}] ({})", g.name);
            let mut cell = point_cell(&spec, g.x, g.y, &g.crs, scenario_path, &field)?;
            if g.snap_radius_cells > 0 {
                if s.grid.dem.is_some() {
                    return Err(Error::Invalid {
                        path: scenario_path.to_path_buf(),
                        field: format!("{field}.snap_radius_cells"),
                        message: "snapping uses the regional flow_acc.tif; with an own DEM give the gauge's cell".into(),
                    });
                }
                if acc_km2.is_none() {
                    acc_km2 =
                        Some(read_raster(&resolve(root, &s.grid.model_dir).join("flow_acc.tif"))?);
                }
                let acc = acc_km2.as_ref().expect("read just above");
                let (r, c) = terrain::snap_to_stream(
                    acc.data.view(),
                    cell / spec.cols,
                    cell % spec.cols,
                    g.snap_radius_cells,
                    g.area_km2,
                )
                .map_err(|e| Error::Invalid {
                    path: scenario_path.to_path_buf(),
                    field: field.clone(),
                    message: e.to_string(),
                })?;
                cell = r * spec.cols + c;
                set.notes.push(format!(
                    "gauge {}: snapped to cell ({r}, {c}) with {:.0} km² upstream{}",
                    g.name,
                    acc.data[[r, c]],
                    g.area_km2.map(|a| format!(" (published {a:.0} km²)")).unwrap_or_default()
                ));
            }
            Ok(Gauge {
                name: g.name.clone(),
                cell,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let inflows = s
        .inflows
        .iter()
        .enumerate()
        .map(|(i, f)| {
            Ok((
                point_cell(
                    &spec,
                    f.x,
                    f.y,
                    &f.crs,
                    scenario_path,
                    &format!("inflow[{i}] ({})", f.name),
                )?,
                f,
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    let design = match &s.rain {
        Some(RainForcing::Design { .. }) => Some(rain::load_design_rain(
            &root.join("models/design_rain.toml"),
        )?),
        _ => None,
    };
    let field = match &s.rain {
        Some(f) => {
            Some(
                rain::rain_field(f, &spec, design.as_ref()).map_err(|e| Error::Invalid {
                    path: scenario_path.to_path_buf(),
                    field: "rain".into(),
                    message: e.to_string(),
                })?,
            )
        }
        None => None,
    };
    if let (Some(RainForcing::Design { region, .. }), Some(table)) = (&s.rain, &design) {
        if table.region(region)?.has_placeholders() {
            set.notes.push(format!(
                "design rain for '{region}': placeholder statistics in models/design_rain.toml, to be replaced by the authority's storm atlas"
            ));
        }
    }
    let rain_mask = if s.grid.rain_on_basins.is_empty() || s.grid.dem.is_some() {
        None
    } else {
        let file = resolve(root, &s.grid.model_dir).join("basins.tif");
        let b = read_raster_as::<u8>(&file, 1)?;
        let present: std::collections::BTreeSet<u8> = b
            .data
            .iter()
            .copied()
            .filter(|&v| v != 0 && b.nodata != Some(f64::from(v)))
            .collect();
        bounds::check_labels(
            scenario_path,
            "grid.rain_on_basins",
            &s.grid.rain_on_basins,
            &file,
            &present,
        )?;
        set.notes.push(format!(
            "rain only on basins {:?} of basins.tif",
            s.grid.rain_on_basins
        ));
        Some(
            b.data
                .iter()
                .map(|v| s.grid.rain_on_basins.contains(v))
                .collect::<Vec<bool>>(),
        )
    };
    let losses = match (&s.losses, &set.land_cover) {
        (None, _) => None,
        (Some(m @ LossModel::InitialConstant { .. }), _) => {
            Some(LossGrid::for_model(m, ndarray::Array2::<u8>::zeros((spec.rows, spec.cols)).view(), &runoff::load_runoff_params(&root.join("models/runoff.toml"))?)?)
        }
        (Some(m), Some(lc)) => {
            let table = runoff::load_runoff_params(&root.join("models/runoff.toml"))?;
            Some(LossGrid::for_model(m, lc.view(), &table)?)
        }
        (Some(_), None) => {
            return Err(Error::Invalid {
                path: scenario_path.to_path_buf(),
                field: "losses".into(),
                message: "the curve-number method needs the land cover of the regional model grids; with an own DEM use method = \"initial_constant\"".into(),
            })
        }
    };
    let losses = match (losses, member) {
        (Some(mut lg), Some(d)) => {
            lg.shift_curve_numbers(d.cn_shift);
            Some(lg)
        }
        (l, _) => l,
    };
    let mut forcing = ScenarioForcing {
        rain: field.as_ref(),
        losses,
        runoff_buf: ndarray::Array2::zeros((spec.rows, spec.cols)),
        loss_buf: ndarray::Array2::zeros((spec.rows, spec.cols)),
        inflows,
        rain_mask,
        buf: ndarray::Array2::zeros((spec.rows, spec.cols)),
    };
    let plan = RunPlan {
        duration_s: s.duration_h * 3600.0,
        output_interval_s: s.output_interval_h * 3600.0,
        recession: s.recession.map(|r| crate::flood::simulate::Recession {
            share: r.share,
            max_duration_s: r.max_duration_h * 3600.0,
        }),
    };
    let mut works = match &s.structures {
        None => crate::flood::structures::Works::default(),
        Some(_) if s.grid.dem.is_some() => return Err(Error::Invalid {
            path: scenario_path.to_path_buf(),
            field: "structures".into(),
            message:
                "structures are placed on the regional model grids; remove [structures] or grid.dem"
                    .into(),
        }),
        Some(section) => {
            let (w, notes) = super::structures::build_works_on(
                section,
                scenario_path,
                root,
                &resolve(root, &s.grid.model_dir),
                &gauges,
                s.start_time.as_deref(),
                &mut set.domain,
            )?;
            set.notes.extend(notes);
            w
        }
    };
    if let Some(d) = s.drainage.as_ref().filter(|d| d.enabled) {
        let lc = match (&set.land_cover, s.grid.dem.is_some()) {
            (Some(lc), false) => lc,
            _ => {
                return Err(Error::Invalid {
                    path: scenario_path.to_path_buf(),
                    field: "drainage".into(),
                    message: "urban drainage needs the land cover and rivers of the regional model grids; remove [drainage] (or set enabled = false) with an own grid.dem".into(),
                })
            }
        };
        let file = if d.file.is_absolute() {
            d.file.clone()
        } else {
            root.join(&d.file)
        };
        let (drains, notes) =
            super::drainage::build_drainage(&file, &resolve(root, &s.grid.model_dir), lc)?;
        set.notes.extend(notes);
        works.drainage = Some(drains);
    }
    let setup_seconds = clock.elapsed().as_secs_f64();
    let mut warnings: Vec<crate::flood::plausibility::Finding> = Vec::new();
    let sim = simulate::simulate_with_works(
        &set.domain,
        &mut set.state,
        &mut forcing,
        &mut works,
        &gauges,
        plan,
        &s.routing,
    )?;
    warnings.extend(works.findings.iter().cloned());
    warnings.extend(crate::flood::plausibility::reservoir_levels(
        &works.reservoirs,
    ));
    let write_start = std::time::Instant::now();
    let mut stage = Staged::new(out_dir)?;
    let origin = s
        .start_time
        .clone()
        .unwrap_or_else(|| "2000-01-01 00:00:00".into());
    outputs::write_simulation(&mut stage, &spec, &sim, &gauges, &origin)?;
    outputs::write_structures(
        &mut stage,
        &sim,
        &crate::flood::simulate::Exchange::columns(&works),
    )?;
    // The bed the model ran on (conditioned, carved), for checking the terrain.
    let bed: Vec<f32> = (0..spec.rows * spec.cols)
        .map(|i| set.domain.bed_at(i).unwrap_or(f32::NAN))
        .collect();
    let bed = ndarray::Array2::from_shape_vec((spec.rows, spec.cols), bed)
        .map_err(|e| Error::Data(format!("bed grid: {e}")))?;
    crate::grid::io::write_geotiff(
        &crate::grid::Grid::new(bed, spec.transform, spec.crs_wkt.clone(), None),
        &stage.path("bed.tif"),
    )?;
    let last = sim
        .records
        .last()
        .expect("the first record is written at t = 0");
    let v = last.volumes;
    let scale = v.input_m3().max(sim.records[0].storage_m3).max(1.0);
    // The plausibility guard: land-only figures and the checks of every run.
    let model_dir = s
        .grid
        .dem
        .is_none()
        .then(|| resolve(root, &s.grid.model_dir));
    let guard = guard_run(GuardInputs {
        spec: &spec,
        domain: &set.domain,
        land_cover: set.land_cover.as_ref(),
        model_dir: model_dir.as_deref(),
        works: &works,
        sim: &sim,
        gauges: &gauges,
        rain: field.as_ref().map(|f| (f, forcing.rain_mask.as_deref())),
        duration_h: s.duration_h,
        relative_mass_error: last.mass_error_m3 / scale,
        rain_table: &root.join(OBSERVED_RAIN_TABLE),
    })?;
    warnings.extend(guard.findings);
    outputs::write_map(&mut stage, &spec, "hazard_rating.tif", &guard.hazard_rating)?;
    set.notes.push(format!(
        "velocity from the face discharges over the face flow depths, where the depth exceeds {} m; hazard_rating.tif: FD2320 HR = d(v + 0.5) + DF on land, d(v + 0.5) its largest value over the run, DF at the depth and speed maxima ({})",
        simulate::VELOCITY_DEPTH_M,
        if set.land_cover.is_some() {
            "debris by land cover: mountain as woodland, cropland as pasture/arable, urban"
        } else {
            "no land cover: debris as on pasture/arable land (ASSUMPTION)"
        }
    ));
    let mut summary = FloodRunSummary {
        scenario: s.name.clone(),
        scenario_file: scenario_path.display().to_string(),
        inputs: super::batch::file_input_hashes(
            super::batch::ScenarioKind::Flood,
            scenario_path,
            root,
        )?,
        grid: (spec.rows, spec.cols, spec.transform.dx.abs()),
        simulated_h: last.time_s / 3600.0,
        steps: sim.steps,
        cell_updates_per_s: sim.cell_updates as f64 / sim.loop_seconds.max(1e-9),
        loop_seconds: sim.loop_seconds,
        setup_seconds,
        write_seconds: 0.0,
        threads: rayon::current_num_threads(),
        simd: crate::flood::routing::isa::Isa::current().name(),
        rain_m3: v.rain_in_m3,
        loss_m3: v.loss_m3,
        inflow_m3: v.inflow_m3,
        boundary_out_m3: v.boundary_out_m3,
        storage_change_m3: last.storage_m3 - sim.records[0].storage_m3,
        relative_mass_error: last.mass_error_m3 / scale,
        max_depth_m: guard.land_depth.as_ref().map_or(0.0, |d| d.1),
        max_depth_site: guard.land_depth.map(|d| d.0),
        max_depth_anywhere_m: sim.max_depth_m.iter().fold(0.0f32, |m, &h| m.max(h)) as f64,
        max_land_speed_ms: guard.land_speed.as_ref().map_or(0.0, |d| d.1),
        max_land_speed_site: guard.land_speed.map(|d| d.0),
        hazard_cells: guard.hazard_cells,
        gauge_peaks: guard.gauge_peaks,
        works_storage_m3: last.works_storage_m3,
        diverted_to_sea_m3: last.works_out_m3,
        urban_drained_m3: works.drainage.as_ref().map_or(0.0, |d| d.drained_m3()),
        basin_openings_h: works.basin_openings_h(),
        breach_starts_h: works.breach_starts_h(),
        files: Vec::new(),
        notes: set.notes.clone(),
        warnings: crate::flood::plausibility::sorted(warnings),
    };
    summary.write_seconds = write_start.elapsed().as_secs_f64();
    let p = stage.path("run.json");
    let json = serde_json::to_string_pretty(&summary).map_err(|e| Error::Data(e.to_string()))?;
    std::fs::write(&p, json).map_err(|e| Error::io(&p, e))?;
    summary.files = stage.commit()?;
    // Per-group exposure and lifeline damage (regional grids only: an own DEM is not on
    // the model grid), written into the run folder.
    if s.grid.dem.is_none() {
        let ex = crate::exposure::assess_run(
            out_dir,
            root,
            &crate::exposure::ExposureOptions {
                model_dir: resolve(root, &s.grid.model_dir),
                ..Default::default()
            },
        )?;
        summary.files.extend(ex.files);
    }
    Ok(summary)
}
