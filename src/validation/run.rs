//! `haihe validate`: a historical storm of the catalogue through the flood engine and
//! back against what was observed.
//!
//! For one storm file: the stations and rain sites are placed ([`super::places`]), the
//! rain field is reconstructed ([`super::reconstruct`]) and written as CF-netCDF
//! (`rain.nc`, mm per step) with its storm-total map (`rain_total.tif`), the gauges are
//! snapped to the model's drainage ([`super::gauges`]), a flood scenario with gridded
//! rain and those gauges is generated for each operation variant and run through
//! [`crate::scenario::flood::run_flood`], and the simulated hydrographs are compared with
//! the observations ([`super::metrics`]) in `validation.json` and `validation.md`.

use super::gauges::{snap_gauge, Snapped};
use super::metrics;
use super::places::{Gazetteer, Placed};
use super::reconstruct::{
    self, AreaConstraint, Fit, IdwParams, PatternCurve, PointTotal, ZoneAnchor, ZonedPattern,
};
use super::storm::{load_storm, AreaDef, LoadedStorm, Location, Pattern, Tail};
use super::time::{format_time, parse_time};
use crate::grid::cf::{write_cf, CfSeries};
use crate::grid::io::{read_raster, read_raster_as, write_geotiff};
use crate::grid::warp::{transform_points, GridSpec};
use crate::grid::Grid;
use crate::scenario::flood::{run_flood, FloodRunSummary};
use crate::staging::Staged;
use crate::{Error, Result};
use ndarray::Array2;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// How the detention basins and reservoirs are operated in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Opening times as reported for the event.
    AsOperated,
    /// The rule-based triggers of `models/structures`.
    RuleBased,
}

impl Operation {
    /// Short name used in file names.
    pub fn key(&self) -> &'static str {
        match self {
            Operation::AsOperated => "as_operated",
            Operation::RuleBased => "rule_based",
        }
    }
}

/// Where the model grids and places are, relative to the project root.
#[derive(Debug, Clone)]
pub struct ValidateInputs {
    /// Project root (paths of generated scenarios are relative to it).
    pub root: PathBuf,
    /// Model grids folder (`rasters/model`).
    pub model_dir: PathBuf,
    /// GeoNames places (`rasters/source/places/geonames_cities500_CN_bbox.geojson`).
    pub places: PathBuf,
}

impl ValidateInputs {
    /// The project's standard inputs under `root`.
    pub fn standard(root: &Path) -> Self {
        ValidateInputs {
            root: root.to_path_buf(),
            model_dir: root.join("rasters/model"),
            places: root.join("rasters/source/places/geonames_cities500_CN_bbox.geojson"),
        }
    }
}

/// A placed rain site, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct SiteReport {
    /// Entry name.
    pub name: String,
    /// Reported value (mm or mm/h).
    pub reported: f64,
    /// Window or hour of the reported value.
    pub window: String,
    /// Reconstructed value over the same window, mm.
    pub reconstructed: Option<f64>,
    /// Storm-total equivalent used as the constraint, mm (value / pattern fraction).
    pub event_equivalent_mm: Option<f64>,
    /// How it was placed, or why it was not used.
    pub placement: String,
    /// Role: "constraint", "check" or "not used: …".
    pub role: String,
}

/// A station comparison.
#[derive(Debug, Clone, Serialize)]
pub struct StationReport {
    /// Station.
    pub station: String,
    /// River.
    pub river: String,
    /// How it was placed.
    pub placement: String,
    /// Snapping result.
    pub snap: Snapped,
    /// How the target area was obtained.
    pub area_basis: String,
    /// Observed peak, m³/s.
    pub observed_peak_m3s: f64,
    /// Observed peak time as reported.
    pub observed_peak_time: Option<String>,
    /// Per operation variant: the simulated values.
    pub runs: Vec<StationRun>,
}

/// The area a gauge is snapped to (km²) and how it was found: the published area, else
/// the sum of the reach areas it is derived from, else none (largest upstream area).
fn catchment_target(
    km2: Option<f64>,
    km2_source: &str,
    parts: &[crate::validation::storm::AreaPart],
) -> (Option<f64>, String) {
    match (km2, parts.is_empty()) {
        (Some(a), _) => (Some(a), format!("published ({km2_source})")),
        (None, false) => {
            let sum: f64 = parts.iter().map(|p| p.km2).sum();
            let named: Vec<String> = parts
                .iter()
                .map(|p| format!("{} {} km² ({})", p.name, p.km2, p.source))
                .collect();
            (
                Some(sum),
                format!("derived: {} = {sum} km²", named.join(" + ")),
            )
        }
        (None, true) => (None, "no area known: largest upstream area in reach".into()),
    }
}

/// Simulated values at a station in one run.
#[derive(Debug, Clone, Serialize)]
pub struct StationRun {
    /// Variant.
    pub operation: Operation,
    /// Simulated peak, m³/s.
    pub simulated_peak_m3s: f64,
    /// Simulated peak time.
    pub simulated_peak_time: String,
    /// Peak error, %.
    pub peak_error_pct: f64,
    /// Peak time error, h (when the observed time has an hour).
    pub peak_time_error_h: Option<f64>,
    /// When only the day is reported: the simulated peak falls on that day.
    pub peak_on_reported_day: Option<bool>,
    /// Observed points compared (peak included when timed).
    pub series_points: usize,
    /// Nash–Sutcliffe efficiency over the observed points (≥ 3 points).
    pub nse: Option<f64>,
    /// Kling–Gupta efficiency over the observed points (≥ 3 points).
    pub kge: Option<f64>,
    /// Volume error over the observed points, %.
    pub volume_error_pct: Option<f64>,
}

/// A detention basin line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct BasinReport {
    /// Basin.
    pub name: String,
    /// Used in the event.
    pub used: bool,
    /// Opening time as reported.
    pub opened: Option<String>,
    /// Stored volume, 10⁸ m³.
    pub stored_1e8_m3: Option<f64>,
    /// In the model domain.
    pub in_domain: bool,
    /// What the model did.
    pub model: String,
}

/// Volume balance of one run, m³.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeReport {
    /// Variant.
    pub operation: Operation,
    /// Rain on the grid, m³ (from the run).
    pub rain_m3: f64,
    /// Losses, m³.
    pub loss_m3: f64,
    /// Out across the edges and into the sea, m³.
    pub boundary_out_m3: f64,
    /// Change of storage, m³.
    pub storage_change_m3: f64,
    /// Relative mass-balance error.
    pub relative_mass_error: f64,
    /// Wall time of the run, s.
    pub seconds: f64,
}

/// Everything `validation.json` holds.
#[derive(Debug, Clone, Serialize)]
pub struct ValidationReport {
    /// Storm id.
    pub storm: String,
    /// Storm name.
    pub name: String,
    /// Storm file.
    pub file: String,
    /// Rain window.
    pub window: (String, String),
    /// Rain reconstruction: interpolation and fitting notes.
    pub rain_method: Vec<String>,
    /// Reconstructed rain volume over the model domain (river systems 1–4 of
    /// `basins.tif`, where the flood run lets rain fall), m³.
    pub rain_volume_m3: f64,
    /// Area of the model domain, km².
    pub domain_km2: f64,
    /// Reconstructed rain volume over the whole grid rectangle, m³ (for reference).
    pub rain_volume_grid_m3: f64,
    /// Reported rain volumes against the reconstruction.
    pub rain_volumes: Vec<VolumeCheck>,
    /// Temporal pattern zones.
    pub pattern_zones: Vec<String>,
    /// Largest storm total of a cell, mm.
    pub rain_max_mm: f64,
    /// Station totals.
    pub rain_stations: Vec<SiteReport>,
    /// Areal means.
    pub rain_areas: Vec<SiteReport>,
    /// Hourly maxima.
    pub rain_hourly: Vec<SiteReport>,
    /// Fits of the constraints.
    pub fits: Vec<Fit>,
    /// Station comparisons.
    pub stations: Vec<StationReport>,
    /// Observations kept as facts only.
    pub unused_observations: Vec<String>,
    /// Unobserved gauges read by the rule-based triggers: simulated peaks per run.
    pub trigger_gauges: Vec<String>,
    /// Detention basins.
    pub detention_basins: Vec<BasinReport>,
    /// Structures of the era.
    pub structures: Vec<(String, bool, String)>,
    /// Reservoir facts.
    pub reservoirs: Vec<(String, String)>,
    /// Impacts.
    pub impacts: Vec<(String, String)>,
    /// Volume balance per run.
    pub volumes: Vec<VolumeReport>,
    /// Per run: the detention basins the model opened and when (Beijing time).
    pub basins_opened: Vec<(Operation, Vec<(String, String)>)>,
    /// Notes.
    pub notes: Vec<String>,
}

/// The model grids needed by the validation.
struct ModelGrids {
    spec: GridSpec,
    acc_km2: Array2<f64>,
    counties: Array2<i64>,
    basins: Array2<u8>,
}

fn read_grids(model_dir: &Path) -> Result<ModelGrids> {
    let acc = read_raster(&model_dir.join("flow_acc.tif"))?;
    let counties = read_raster(&model_dir.join("counties.tif"))?;
    let basins = read_raster_as::<u8>(&model_dir.join("basins.tif"), 1)?;
    acc.check_aligned(&counties, "flow_acc.tif and counties.tif")?;
    acc.check_aligned(&basins, "flow_acc.tif and basins.tif")?;
    Ok(ModelGrids {
        spec: GridSpec::of(&acc),
        acc_km2: acc.data.mapv(|v| if v.is_nan() { 0.0 } else { v }),
        counties: counties
            .data
            .mapv(|v| if v.is_finite() { v as i64 } else { 0 }),
        basins: basins.data,
    })
}

/// Labels of `basins.tif` that make the model domain (1 北三河, 2 永定河, 3 大清河,
/// 4 海河下游): the flood runs of a validation let rain fall only there, and rain
/// volumes are reported over them.
pub const DOMAIN_BASINS: [u8; 4] = [1, 2, 3, 4];

/// A reported rain volume against the reconstruction.
#[derive(Debug, Clone, Serialize)]
pub struct VolumeCheck {
    /// Name as reported.
    pub name: String,
    /// Window.
    pub window: String,
    /// Reported volume, 10⁸ m³.
    pub reported_1e8_m3: f64,
    /// Reconstructed over the same area and window, 10⁸ m³ (None: area not on the grid).
    pub reconstructed_1e8_m3: Option<f64>,
    /// Reconstructed over the model domain and the same window, 10⁸ m³.
    pub domain_1e8_m3: f64,
    /// The area, or why it is not on the grid.
    pub area: String,
    /// Source key.
    pub source: String,
}

fn volume_checks(
    storm: &LoadedStorm,
    gaz: &Gazetteer,
    g: &ModelGrids,
    rain: &RainBuild,
    domain: &Array2<bool>,
) -> Result<Vec<VolumeCheck>> {
    let cell_m2 = (g.spec.transform.dx * g.spec.transform.dy).abs();
    let mut out = Vec::new();
    for (i, v) in storm.storm.rain.volumes.iter().enumerate() {
        let f = format!("rain.volume[{i}] ({})", v.name);
        let (a, b) = storm.window_of(&v.start, &v.end, &f)?;
        let fr = rain.pattern.fraction_grid(a, b);
        let over = |m: &Array2<bool>| -> f64 {
            rain.total_mm
                .iter()
                .zip(fr.iter())
                .zip(m.iter())
                .filter(|(_, &x)| x)
                .map(|((t, f), _)| t * f)
                .sum::<f64>()
                * 1e-3
                * cell_m2
                * 1e-8
        };
        let (rec, area) = match area_mask(&v.area, gaz, g) {
            Ok((m, what)) => (Some(over(&m)), what),
            Err(msg) if msg.starts_with("not used") => (None, msg),
            Err(msg) => return Err(storm.invalid(&format!("{f}.area"), msg)),
        };
        out.push(VolumeCheck {
            name: v.name.clone(),
            window: fmt_window(a, b),
            reported_1e8_m3: v.volume_1e8_m3,
            reconstructed_1e8_m3: rec,
            domain_1e8_m3: over(domain),
            area,
            source: v.source.clone(),
        });
    }
    Ok(out)
}

/// Share of the temporal pattern a reported window must hold for its value to be used as
/// a constraint (turned into a storm total by dividing by that share); values over
/// shorter windows are checks. ASSUMPTION: 75%, so that interim values are not blown up
/// by a pattern that is itself uncertain.
pub const MIN_CONSTRAINT_FRACTION: f64 = 0.75;

/// A site on the grid: (row, col, placement).
fn place_on_grid(
    storm: &LoadedStorm,
    gaz: &Gazetteer,
    spec: &GridSpec,
    at: &Location,
    field: &str,
) -> Result<(usize, usize, Placed)> {
    let placed = gaz
        .locate(at)
        .map_err(|m| storm.invalid(field, m))?
        .ok_or_else(|| {
            storm.invalid(
                field,
                "no coordinates (lon, lat) and no place name: give one, or set used = false to keep the entry as a fact only".into(),
            )
        })?;
    let wgs84 = crate::grid::io::epsg_wkt(4326)?;
    let (x, y) = transform_points(&[(placed.lon, placed.lat)], &wgs84, &spec.crs_wkt)?[0];
    let (r, c) = spec.transform.fractional_index(x, y);
    if !(r >= 0.0 && c >= 0.0 && r < spec.rows as f64 && c < spec.cols as f64) {
        return Err(storm.invalid(
            field,
            format!(
                "({:.4} E, {:.4} N; {}) lies outside the model domain; set used = false to keep it as a fact only",
                placed.lon, placed.lat, placed.how
            ),
        ));
    }
    Ok((r as usize, c as usize, placed))
}

/// A reported mass curve of the storm file as a pattern curve: its points, continued at
/// the last rate when `tail = "last_rate"`, shaped around `peak` when given.
fn mass_curve(
    storm: &LoadedStorm,
    points: &[crate::validation::storm::MassPoint],
    peak: &Option<String>,
    tail: Tail,
    field: &str,
) -> Result<PatternCurve> {
    let mut times_h = Vec::new();
    let mut cumulative_mm = Vec::new();
    for (i, p) in points.iter().enumerate() {
        times_h.push(storm.time(&p.time, &format!("{field}.points[{i}]"))?.hours);
        cumulative_mm.push(p.cumulative_mm);
    }
    if tail == Tail::LastRate {
        reconstruct::extend_at_last_rate(&mut times_h, &mut cumulative_mm, storm.end_h);
    }
    let peak_h = match peak {
        Some(p) => Some(storm.time(p, &format!("{field}.peak"))?.hours),
        None => None,
    };
    Ok(PatternCurve::Mass {
        times_h,
        cumulative_mm,
        start_h: storm.start_h,
        end_h: storm.end_h,
        peak_h,
    })
}

/// How a mass curve was shaped, for the report: empty, or ", triangular … (basis)" and
/// ", continued … (basis)".
fn shape_note(peak: &Option<String>, peak_basis: &str, tail: Tail, tail_basis: &str) -> String {
    let mut s = String::new();
    if let Some(p) = peak {
        s.push_str(&format!(
            ", triangular within each interval around the peak {p} ({peak_basis})"
        ));
    }
    if tail == Tail::LastRate {
        s.push_str(&format!(
            ", continued at the last interval's rate to the window end ({tail_basis})"
        ));
    }
    s
}

fn pattern_curve(storm: &LoadedStorm) -> Result<PatternCurve> {
    let (s, e) = (storm.start_h, storm.end_h);
    Ok(match &storm.storm.pattern {
        Pattern::MassCurve {
            points, peak, tail, ..
        } => mass_curve(storm, points, peak, *tail, "pattern")?,
        Pattern::Triangular { peak, .. } => PatternCurve::Triangular {
            start_h: s,
            peak_h: storm.time(peak, "pattern.peak")?.hours,
            end_h: e,
        },
        Pattern::Uniform { .. } => PatternCurve::Uniform {
            start_h: s,
            end_h: e,
        },
    })
}

fn fmt_window(a: f64, b: f64) -> String {
    format!("{} – {}", &format_time(a)[..16], &format_time(b)[..16])
}

/// The cells of an area, or why it cannot be used (an area less than 90% on the grid
/// is "not used").
fn area_mask(
    def: &AreaDef,
    gaz: &Gazetteer,
    g: &ModelGrids,
) -> std::result::Result<(Array2<bool>, String), String> {
    let (m, what, cover) = area_cells(def, gaz, g)?;
    // ASSUMPTION: 90% of the outline on the grid counts as inside the domain (the 1 km
    // rasterisation of small districts differs by a few percent from their outlines).
    if cover < 0.9 {
        return Err(format!("not used: lies partly outside the domain: {what}"));
    }
    Ok((m, what))
}

/// The cells of an area on the grid, a description and the share of its outline area
/// on the grid (1 for a river system of `basins.tif`).
fn area_cells(
    def: &AreaDef,
    gaz: &Gazetteer,
    g: &ModelGrids,
) -> std::result::Result<(Array2<bool>, String, f64), String> {
    let cell_km2 = (g.spec.transform.dx * g.spec.transform.dy).abs() * 1e-6;
    if let Some(reason) = &def.not_on_grid {
        return Err(format!("not used: no outline on the model grid ({reason})"));
    }
    if let Some(b) = def.basin {
        let m = g.basins.mapv(|v| v == b);
        if !m.iter().any(|&v| v) {
            return Err(format!("basin label {b} has no cell in basins.tif"));
        }
        return Ok((m, format!("river system {b} of basins.tif"), 1.0));
    }
    let members: Vec<&super::places::CountyRow> = if let Some(c) = &def.county {
        vec![gaz
            .county(c)
            .ok_or_else(|| format!("county '{c}' is not in counties.csv"))?]
    } else if !def.counties.is_empty() {
        def.counties
            .iter()
            .map(|c| {
                gaz.county(c)
                    .ok_or_else(|| format!("county '{c}' is not in counties.csv"))
            })
            .collect::<std::result::Result<_, _>>()?
    } else if let Some(city) = &def.city {
        gaz.counties.iter().filter(|r| &r.city == city).collect()
    } else if let Some(p) = &def.province {
        gaz.counties.iter().filter(|r| &r.province == p).collect()
    } else {
        return Err("no area given".into());
    };
    if members.is_empty() {
        return Err("no county of counties.csv belongs to it".into());
    }
    let codes: Vec<i64> = members.iter().map(|r| r.adcode).collect();
    let m = g.counties.mapv(|v| codes.contains(&v));
    let cells = m.iter().filter(|&&v| v).count();
    let area: f64 = members.iter().map(|r| r.polygon_area_km2).sum();
    let cover = cells as f64 * cell_km2 / area;
    let what = format!(
        "{} county-level units of counties.tif ({} cells, {:.0}% of their {:.0} km²)",
        members.len(),
        cells,
        100.0 * cover,
        area
    );
    if cells == 0 {
        return Err(format!("no cell on the grid: {what}"));
    }
    Ok((m, what, cover))
}

/// The rain inputs of a storm on the model grid.
struct RainBuild {
    total_mm: Array2<f64>,
    pattern: ZonedPattern,
    zones: Vec<String>,
    stations: Vec<SiteReport>,
    areas: Vec<SiteReport>,
    hourly: Vec<SiteReport>,
    fits: Vec<Fit>,
    method: Vec<String>,
}

/// The temporal pattern per cell: the storm's `[[pattern_zone]]` entries (or the default
/// `[pattern]` everywhere), with a line per zone for the report.
fn zoned_pattern(
    storm: &LoadedStorm,
    gaz: &Gazetteer,
    g: &ModelGrids,
    default: &PatternCurve,
) -> Result<(ZonedPattern, Vec<String>)> {
    let s = &storm.storm;
    let (rows, cols) = (g.spec.rows, g.spec.cols);
    if s.pattern_zones.is_empty() {
        return Ok((
            ZonedPattern::single(default.clone(), rows, cols),
            vec!["the storm's [pattern] at every cell".into()],
        ));
    }
    let wgs84 = crate::grid::io::epsg_wkt(4326)?;
    let mut zones = Vec::new();
    let mut lines = Vec::new();
    for (i, z) in s.pattern_zones.iter().enumerate() {
        let f = format!("pattern_zone[{i}] ({})", z.name);
        let curve = if z.points.is_empty() {
            default.clone()
        } else {
            mass_curve(storm, &z.points, &z.peak, z.tail, &f)?
        };
        let (anchor, what) = match &z.area {
            Some(def) => {
                let (m, what, _) =
                    area_cells(def, gaz, g).map_err(|e| storm.invalid(&format!("{f}.area"), e))?;
                (ZoneAnchor::Area(m), what)
            }
            None => {
                let placed = gaz
                    .locate(&z.location())
                    .map_err(|m| storm.invalid(&f, m))?
                    .ok_or_else(|| storm.invalid(&f, "no coordinates and no place name".into()))?;
                let (x, y) =
                    transform_points(&[(placed.lon, placed.lat)], &wgs84, &g.spec.crs_wkt)?[0];
                (ZoneAnchor::Point { x, y }, placed.how)
            }
        };
        let half = curve.fraction_before(0.5 * (storm.start_h + storm.end_h));
        let q50 = (0..=((storm.end_h - storm.start_h) as usize))
            .map(|k| storm.start_h + k as f64)
            .find(|&t| curve.fraction_before(t) >= 0.5)
            .unwrap_or(storm.end_h);
        let shape = shape_note(&z.peak, &z.peak_basis, z.tail, &z.tail_basis);
        lines.push(format!(
            "{}: {} ({}; {:.0}% of its rain by mid-window, half by {})",
            z.name,
            if z.points.is_empty() {
                "the storm's [pattern]".to_string()
            } else {
                format!("{} reported points{shape}", z.points.len())
            },
            what,
            100.0 * half,
            &format_time(q50)[..16]
        ));
        zones.push((curve, anchor));
    }
    Ok((
        ZonedPattern::new(rows, cols, &g.spec.transform, zones, 2.0)?,
        lines,
    ))
}

fn build_rain(storm: &LoadedStorm, gaz: &Gazetteer, g: &ModelGrids) -> Result<RainBuild> {
    let s = &storm.storm;
    let default_curve = pattern_curve(storm)?;
    let (zp, zones) = zoned_pattern(storm, gaz, g, &default_curve)?;
    let min_fraction = MIN_CONSTRAINT_FRACTION;
    let mut points = Vec::new();
    let mut stations = Vec::new();
    // (report index, row, col, window start, window end, index in `points`).
    let mut station_cells: Vec<(usize, usize, usize, f64, f64, Option<usize>)> = Vec::new();
    for (i, st) in s.rain.stations.iter().enumerate() {
        let f = format!("rain.station[{i}] ({})", st.name);
        let (a, b) = storm.window_of(&st.start, &st.end, &f)?;
        let mut rep = SiteReport {
            name: st.name.clone(),
            reported: st.total_mm,
            window: fmt_window(a, b),
            reconstructed: None,
            event_equivalent_mm: None,
            placement: String::new(),
            role: String::new(),
        };
        if !st.used {
            rep.role = format!("not used: {}", st.note);
            stations.push(rep);
            continue;
        }
        let (r, c, placed) = place_on_grid(storm, gaz, &g.spec, &st.location(), &f)?;
        rep.placement = format!("{} → cell ({r}, {c})", placed.how);
        let frac = zp.fraction_between_at(r, c, a, b);
        let k = if frac >= min_fraction {
            rep.event_equivalent_mm = Some(st.total_mm / frac);
            rep.role = "constraint".into();
            points.push(PointTotal {
                name: st.name.clone(),
                row: r,
                col: c,
                total_mm: st.total_mm / frac,
            });
            Some(points.len() - 1)
        } else {
            rep.role = format!(
                "check (its window holds {:.0}% of the temporal pattern, under {:.0}%)",
                100.0 * frac,
                100.0 * min_fraction
            );
            None
        };
        station_cells.push((stations.len(), r, c, a, b, k));
        stations.push(rep);
    }
    // Areal means: per distinct area, the entry whose window holds most of the pattern
    // is the constraint; the others are checks.
    let mut masks: Vec<(Array2<bool>, usize, f64)> = Vec::new(); // (mask, entry, fraction)
    let mut areas = Vec::new();
    let mut area_masks: Vec<Option<Array2<bool>>> = Vec::new();
    for (i, a) in s.rain.areal.iter().enumerate() {
        let f = format!("rain.areal[{i}] ({})", a.name);
        let (t0, t1) = storm.window_of(&a.start, &a.end, &f)?;
        let mut rep = SiteReport {
            name: a.name.clone(),
            reported: a.mean_mm,
            window: fmt_window(t0, t1),
            reconstructed: None,
            event_equivalent_mm: None,
            placement: String::new(),
            role: String::new(),
        };
        if !a.used {
            rep.role = format!("not used: {}", a.note);
            areas.push(rep);
            area_masks.push(None);
            continue;
        }
        match area_mask(&a.area, gaz, g) {
            Ok((m, what)) => {
                rep.placement = what;
                let frac = zp.area_fraction_between(&m, t0, t1);
                if frac < min_fraction {
                    rep.role = format!(
                        "check (its window holds {:.0}% of the temporal pattern, under {:.0}%)",
                        100.0 * frac,
                        100.0 * min_fraction
                    );
                    area_masks.push(Some(m));
                } else {
                    rep.event_equivalent_mm = Some(a.mean_mm / frac);
                    match masks.iter_mut().find(|(mm, _, _)| *mm == m) {
                        Some(slot) if slot.2 >= frac => {}
                        Some(slot) => {
                            slot.1 = i;
                            slot.2 = frac;
                        }
                        None => masks.push((m.clone(), i, frac)),
                    }
                    area_masks.push(Some(m));
                }
            }
            Err(msg) if msg.starts_with("not used") => {
                rep.role = msg;
                area_masks.push(None);
            }
            Err(msg) => return Err(storm.invalid(&format!("{f}.area"), msg)),
        }
        areas.push(rep);
    }
    let constraints: Vec<AreaConstraint> = masks
        .iter()
        .map(|(m, i, frac)| AreaConstraint {
            name: s.rain.areal[*i].name.clone(),
            mask: m.clone(),
            mean_mm: s.rain.areal[*i].mean_mm / frac,
        })
        .collect();
    let bg = &s.rain.background;
    let params = IdwParams {
        power: s.rain.idw_power.unwrap_or(2.0),
        background_mm: bg.mm,
        background_range_m: bg.range_km * 1000.0,
        influence_m: bg.influence_km.map(|l| l * 1000.0),
    };
    let rec = reconstruct::reconstruct(
        g.spec.rows,
        g.spec.cols,
        &g.spec.transform,
        &points,
        &constraints,
        &params,
    )?;
    let total = rec.total_mm;
    // Reconstructed values over each entry's own window.
    for &(ri, r, c, a, b, k) in &station_cells {
        stations[ri].reconstructed = Some(total[(r, c)] * zp.fraction_between_at(r, c, a, b));
        if let Some(k) = k {
            if !rec.stations[k].kept {
                stations[ri].role = "constraint released (inconsistent with an areal mean)".into();
            }
        }
    }
    for (i, a) in s.rain.areal.iter().enumerate() {
        if let Some(m) = &area_masks[i] {
            let (t0, t1) = storm.window_of(&a.start, &a.end, &format!("rain.areal[{i}]"))?;
            let n = m.iter().filter(|&&v| v).count().max(1);
            let fr = zp.fraction_grid(t0, t1);
            let within: f64 = total
                .iter()
                .zip(fr.iter())
                .zip(m.iter())
                .filter(|(_, &v)| v)
                .map(|((t, f), _)| t * f)
                .sum();
            areas[i].reconstructed = Some(within / n as f64);
            if masks.iter().any(|(_, j, _)| *j == i) {
                areas[i].role = "constraint".into();
            } else if areas[i].role.is_empty() {
                areas[i].role =
                    "check (same area as a constraint whose window holds more of the storm)".into();
            }
        }
    }
    let mut hourly = Vec::new();
    for (i, h) in s.rain.max_hourly.iter().enumerate() {
        let f = format!("rain.max_hourly[{i}] ({})", h.name);
        let t = storm.time(&h.time, &format!("{f}.time"))?.hours;
        let loc = h.location();
        let mut rep = SiteReport {
            name: h.name.clone(),
            reported: h.mm_per_h,
            window: fmt_window(t, t + 1.0),
            reconstructed: None,
            event_equivalent_mm: None,
            placement: String::new(),
            role: "check".into(),
        };
        if loc.lon.is_none() && loc.place.is_none() {
            rep.role = "not compared: not located".into();
        } else {
            match place_on_grid(storm, gaz, &g.spec, &loc, &f) {
                Ok((r, c, placed)) => {
                    rep.placement = format!("{} → cell ({r}, {c})", placed.how);
                    rep.reconstructed =
                        Some(total[(r, c)] * zp.fraction_between_at(r, c, t, t + 1.0));
                }
                Err(e) => return Err(e),
            }
        }
        hourly.push(rep);
    }
    let step_h = s.simulation.rain_step_h;
    let n = ((storm.end_h - storm.start_h) / step_h).round() as usize;
    let method = vec![
        format!(
            "inverse-distance weighting (power {}) of {} station totals converted to storm totals by the temporal pattern, with a background of {} mm weighing as one station at {} km{} ({})",
            params.power,
            points.len(),
            bg.mm,
            bg.range_km,
            match bg.influence_km {
                Some(l) => format!(
                    "; each station's influence ends at {l} km (modified Shepard weights, Franke & Nielson 1980)"
                ),
                None => String::new(),
            },
            bg.basis
        ),
        format!(
            "{} areal means imposed by iterative proportional fitting ({} sweeps), station cells held where consistent",
            constraints.len(),
            rec.sweeps
        ),
        format!(
            "temporal pattern: {}{} in {} steps of {} h",
            if zones.len() > 1 {
                format!("{} zones (cells inside a zone follow its curve, the smallest when nested; elsewhere the inverse-distance (power 2) blend of the zones' cumulative curves); default ", zones.len())
            } else {
                String::new()
            },
            match &s.pattern {
                Pattern::MassCurve {
                    reference,
                    peak,
                    peak_basis,
                    tail,
                    tail_basis,
                    ..
                } => format!(
                    "reported mass curve of {reference}{}",
                    shape_note(peak, peak_basis, *tail, tail_basis)
                ),
                Pattern::Triangular { peak, .. } => format!("triangular, peak at {peak}"),
                Pattern::Uniform { .. } => "uniform".into(),
            },
            n,
            step_h
        ),
    ];
    let mut fits = rec.areas.clone();
    fits.extend(rec.stations.iter().cloned());
    Ok(RainBuild {
        total_mm: total,
        pattern: zp,
        zones,
        stations,
        areas,
        hourly,
        fits,
        method,
    })
}

/// The text of a generated flood scenario with gridded rain and gauges at cell centres.
fn scenario_text(
    storm: &LoadedStorm,
    op: Operation,
    rain_nc: &Path,
    gauges: &[(String, f64, f64)],
    structures: &StructureNames,
) -> String {
    let s = &storm.storm;
    let q = |t: &str| toml::Value::String(t.to_string()).to_string();
    let mut t = String::new();
    t.push_str(&format!(
        "# Generated by `haihe validate` from {}; operation variant: {}.\n",
        storm.path.display(),
        op.key()
    ));
    t.push_str(&format!(
        "name = {}\n",
        q(&format!("{} ({})", s.name, op.key()))
    ));
    t.push_str(&format!(
        "description = {}\n",
        q("historical storm: reconstructed rain (rain.nc), SCS curve-number losses (AMC II, λ = 0.2, the literature default), gauges snapped to the drainage")
    ));
    t.push_str(&format!(
        "duration_h = {}\noutput_interval_h = 1.0\nstart_time = {}\n\n",
        storm.end_h - storm.start_h + s.simulation.after_h,
        q(&format_time(storm.start_h))
    ));
    t.push_str(&format!(
        "[rain]\nkind = \"gridded\"\npath = {}\nvariable = \"rain_mm\"\n\n",
        q(&rain_nc.display().to_string())
    ));
    t.push_str(&format!(
        "[grid]\n# Rain falls on the model domain only (river systems of basins.tif).\nrain_on_basins = {:?}\n\n",
        DOMAIN_BASINS
    ));
    t.push_str("[grid.channels]\n# Subgrid channels in the stream cells (models/channels.toml).\nenabled = true\n\n");
    t.push_str("[losses]\nmethod = \"curve_number\"\nlambda = 0.2\namc = \"II\"\n\n");
    t.push_str("[routing]\n# CFL-limited on the 1000 m grid, with the Courant number of the design-storm scenarios\n# (not converged in the step at 0.7; README, \"Time step\").\ndt_max_s = 120.0\nalpha_cfl = 0.3\n");
    for (name, x, y) in gauges {
        t.push_str(&format!(
            "\n[[gauge]]\nname = {}\nx = {x}\ny = {y}\ncrs = \"grid\"\n",
            q(name)
        ));
    }
    t.push_str(&structures_text(storm, op, structures));
    t
}

/// Names of the structures in `models/structures/`, by kind.
#[derive(Debug, Clone, Default)]
pub struct StructureNames {
    /// Reservoirs.
    pub reservoirs: Vec<String>,
    /// Detention basins.
    pub basins: Vec<String>,
    /// Diversions to the sea.
    pub diversions: Vec<String>,
    /// (basin, gauge) for every discharge trigger of a basin in the domain.
    pub trigger_gauges: Vec<(String, String)>,
}

impl StructureNames {
    /// Reads the names from the structure files under `dir`.
    pub fn load(dir: &Path) -> Result<Self> {
        use crate::flood::structures as st;
        let basins = st::load_detention_basins(&dir.join("detention_basins.toml"))?;
        let trigger_gauges = basins
            .iter()
            .filter(|b| !b.location.outside_domain && !b.link.outside_domain)
            .flat_map(|b| {
                b.trigger
                    .iter()
                    .filter_map(|t| t.gauge.clone().map(|g| (b.name.clone(), g)))
            })
            .collect();
        Ok(StructureNames {
            trigger_gauges,
            reservoirs: st::load_reservoirs(&dir.join("reservoirs.toml"))?
                .into_iter()
                .map(|r| r.name)
                .collect(),
            basins: st::load_detention_basins(&dir.join("detention_basins.toml"))?
                .into_iter()
                .filter(|b| !b.location.outside_domain && !b.link.outside_domain)
                .map(|b| b.name)
                .collect(),
            diversions: st::load_diversions(&dir.join("diversions.toml"))?
                .into_iter()
                .map(|d| d.name)
                .collect(),
        })
    }
}

/// The `[structures]` section of a generated scenario: the structures of the storm's era
/// (`[[structure]] present = false` leaves one out) and, as operated, the basins opened at
/// their reported times with the rule-based triggers off; rule-based, every basin on its
/// triggers.
fn structures_text(storm: &LoadedStorm, op: Operation, names: &StructureNames) -> String {
    let s = &storm.storm;
    let q = |t: &str| toml::Value::String(t.to_string()).to_string();
    let absent: Vec<&str> = s
        .structures
        .iter()
        .filter(|e| !e.present)
        .map(|e| e.name.as_str())
        .collect();
    let list = |all: &[String], keep: &dyn Fn(&str) -> bool| {
        let v: Vec<String> = all
            .iter()
            .filter(|n| !absent.contains(&n.as_str()) && keep(n))
            .map(|n| q(n))
            .collect();
        format!("[{}]", v.join(", "))
    };
    let mut t = String::from("\n[structures]\n");
    t.push_str(&format!(
        "reservoirs = {}\n",
        list(&names.reservoirs, &|_| true)
    ));
    t.push_str(&format!(
        "diversions = {}\n",
        list(&names.diversions, &|_| true)
    ));
    match op {
        Operation::RuleBased => {
            t.push_str(&format!(
                "detention_basins = {}\n",
                list(&names.basins, &|_| true)
            ));
        }
        Operation::AsOperated => {
            let opened: Vec<(&str, String)> = s
                .detention_basins
                .iter()
                .filter(|b| b.used && b.in_domain && names.basins.contains(&b.name))
                .filter_map(|b| {
                    b.opened.as_ref().map(|o| {
                        let o = o.trim();
                        let stamp = if o.contains(':') {
                            o.to_string()
                        } else {
                            format!("{o} 00:00")
                        };
                        (b.name.as_str(), stamp)
                    })
                })
                .collect();
            let used: Vec<String> = opened.iter().map(|(n, _)| n.to_string()).collect();
            t.push_str(&format!(
                "detention_basins = {}\nrule_triggers = false\n",
                list(&names.basins, &|n| used.iter().any(|u| u == n))
            ));
            for (name, time) in opened {
                t.push_str(&format!(
                    "\n[[structures.open]]\nbasin = {}\ntime = {}\n",
                    q(name),
                    q(&time)
                ));
            }
        }
    }
    t
}

/// Simulated hydrographs: times (h from the start) and discharge per gauge.
fn read_hydrographs(path: &Path, n: usize) -> Result<(Vec<f64>, Vec<Vec<f64>>)> {
    let mut rdr = csv::Reader::from_path(path)
        .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
    let mut t = Vec::new();
    let mut q = vec![Vec::new(); n];
    for rec in rdr.records() {
        let rec = crate::escape::unguard_record(
            &rec.map_err(|e| Error::Data(format!("{}: {e}", path.display())))?,
        );
        let num = |k: usize| -> Result<f64> {
            rec.get(k)
                .and_then(|v| v.parse::<f64>().ok())
                .ok_or_else(|| Error::Data(format!("{}: bad value in column {k}", path.display())))
        };
        t.push(num(0)?);
        for (i, qi) in q.iter_mut().enumerate() {
            qi.push(num(1 + 2 * i)?);
        }
    }
    Ok((t, q))
}

/// A hydrograph plot (SVG): simulated line per variant and observed points.
fn hydrograph_svg(
    title: &str,
    t_h: &[f64],
    sims: &[(Operation, Vec<f64>)],
    obs: &[(f64, f64)],
) -> String {
    let (w, h, m) = (720.0, 360.0, 50.0);
    let tmax = t_h.last().copied().unwrap_or(1.0).max(1.0);
    let qmax = sims
        .iter()
        .flat_map(|(_, q)| q.iter().copied())
        .chain(obs.iter().map(|o| o.1))
        .fold(1.0f64, f64::max)
        * 1.1;
    let x = |t: f64| m + (w - 2.0 * m) * t / tmax;
    let y = |q: f64| h - m - (h - 2.0 * m) * q / qmax;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{m}\" y=\"20\">{}</text>\n",
        title.replace('&', "&amp;").replace('<', "&lt;")
    );
    s.push_str(&format!(
        "<line x1=\"{m}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"black\"/><line x1=\"{m}\" y1=\"{m}\" x2=\"{m}\" y2=\"{}\" stroke=\"black\"/>\n",
        h - m, w - m, h - m, h - m
    ));
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\">hours from start (max {tmax:.0} h)</text><text x=\"5\" y=\"{}\">m³/s (max {:.0})</text>\n",
        w / 2.0 - 60.0,
        h - 15.0,
        m - 8.0,
        qmax
    ));
    let colours = ["#1f77b4", "#ff7f0e"];
    for (k, (op, q)) in sims.iter().enumerate() {
        let pts: Vec<String> = t_h
            .iter()
            .zip(q)
            .map(|(t, q)| format!("{:.1},{:.1}", x(*t), y(*q)))
            .collect();
        s.push_str(&format!(
            "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" points=\"{}\"/>\n<text x=\"{}\" y=\"{}\" fill=\"{}\">simulated ({})</text>\n",
            colours[k % 2],
            pts.join(" "),
            w - m - 160.0,
            m + 15.0 * k as f64,
            colours[k % 2],
            op.key()
        ));
    }
    for (t, q) in obs {
        s.push_str(&format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" fill=\"red\"/>\n",
            x(*t),
            y(*q)
        ));
    }
    s.push_str(&format!(
        "<text x=\"{}\" y=\"{}\" fill=\"red\">● observed</text>\n</svg>\n",
        w - m - 160.0,
        m + 15.0 * sims.len() as f64
    ));
    s
}

/// Runs one storm (see the module docs) into `out_dir`, written whole or not at all.
pub fn validate_storm(
    storm_path: &Path,
    inputs: &ValidateInputs,
    out_dir: &Path,
    operations: &[Operation],
) -> Result<ValidationReport> {
    let storm = load_storm(storm_path)?;
    let s = &storm.storm;
    let gaz = Gazetteer::load(&inputs.places, &inputs.model_dir.join("counties.csv"))?;
    let g = read_grids(&inputs.model_dir)?;
    let cell_km = g.spec.transform.dx.abs() / 1000.0;
    let rain = build_rain(&storm, &gaz, &g)?;
    // Gauges.
    let mut stations = Vec::new();
    let mut gauge_xy = Vec::new();
    let mut unused = Vec::new();
    let mut used_obs = Vec::new();
    for (i, o) in s.observations.iter().enumerate() {
        let f = format!("observation[{i}] ({})", o.station);
        if !o.used {
            unused.push(format!(
                "{} ({}): {} m³/s{} — {}",
                o.station,
                o.river,
                o.peak_m3s,
                o.peak_time
                    .as_ref()
                    .map(|t| format!(" at {t}"))
                    .unwrap_or_default(),
                o.note
            ));
            continue;
        }
        let (r, c, placed) = place_on_grid(&storm, &gaz, &g.spec, &o.location(), &f)?;
        let (target, basis) =
            catchment_target(o.catchment_km2, &o.catchment_source, &o.catchment_parts);
        let snap = snap_gauge(g.acc_km2.view(), r, c, cell_km, o.snap_radius_km, target)
            .map_err(|e| storm.invalid(&f, e.to_string()))?;
        let (x, y) = g.spec.transform.cell_center(snap.row, snap.col);
        gauge_xy.push((o.station.clone(), x, y));
        used_obs.push(o);
        stations.push(StationReport {
            station: o.station.clone(),
            river: o.river.clone(),
            placement: format!("{} → cell ({r}, {c})", placed.how),
            snap,
            area_basis: basis,
            observed_peak_m3s: o.peak_m3s,
            observed_peak_time: o.peak_time.clone(),
            runs: Vec::new(),
        });
    }
    // Gauges the rule-based triggers read that no observation provides: the storm's
    // [[gauge]] entries, placed and snapped in the same way; missing ones are an error
    // before anything runs.
    let names = StructureNames::load(&inputs.root.join("models/structures"))?;
    let n_observed = gauge_xy.len();
    let mut trigger_gauges: Vec<(String, Snapped)> = Vec::new();
    if operations.contains(&Operation::RuleBased) {
        let absent: Vec<&str> = s
            .structures
            .iter()
            .filter(|e| !e.present)
            .map(|e| e.name.as_str())
            .collect();
        for (basin, gauge) in &names.trigger_gauges {
            if absent.contains(&basin.as_str()) || gauge_xy.iter().any(|(n, _, _)| n == gauge) {
                continue;
            }
            let Some((i, gz)) = s
                .gauges
                .iter()
                .enumerate()
                .find(|(_, x)| &x.station == gauge)
            else {
                return Err(storm.invalid(
                    "gauge",
                    format!(
                        "rule-based: {basin} opens on the discharge at {gauge}, which is neither a used [[observation]] nor a [[gauge]] of this storm: add a [[gauge]] entry for it (station = \"{gauge}\", with its place and catchment)"
                    ),
                ));
            };
            let f = format!("gauge[{i}] ({})", gz.station);
            let (r, c, _) = place_on_grid(&storm, &gaz, &g.spec, &gz.location(), &f)?;
            let (target, _) =
                catchment_target(gz.catchment_km2, &gz.catchment_source, &gz.catchment_parts);
            let snap = snap_gauge(g.acc_km2.view(), r, c, cell_km, gz.snap_radius_km, target)
                .map_err(|e| storm.invalid(&f, e.to_string()))?;
            let (x, y) = g.spec.transform.cell_center(snap.row, snap.col);
            gauge_xy.push((gz.station.clone(), x, y));
            trigger_gauges.push((gz.station.clone(), snap));
        }
    }
    let mut stage = Staged::new(out_dir)?;
    // Rain outputs.
    let step_s = s.simulation.rain_step_h * 3600.0;
    let n_steps = ((storm.end_h - storm.start_h) / s.simulation.rain_step_h).round() as usize;
    let series = CfSeries {
        spec: g.spec.clone(),
        times: (0..n_steps).map(|k| k as f64 * step_s).collect(),
        time_units: format!("seconds since {}", format_time(storm.start_h)),
        name: "rain_mm".into(),
        units: "mm".into(),
        long_name: format!("reconstructed rain of {} (mm per step)", s.name),
        data: rain.pattern.spread(
            &rain.total_mm,
            storm.start_h,
            s.simulation.rain_step_h,
            n_steps,
        ),
    };
    let rain_staged = stage.path("rain.nc");
    write_cf(&series, &rain_staged)?;
    write_geotiff(
        &Grid::new(
            rain.total_mm.mapv(|v| v as f32),
            g.spec.transform,
            g.spec.crs_wkt.clone(),
            None,
        ),
        &stage.path("rain_total.tif"),
    )?;
    let cell_m2 = (g.spec.transform.dx * g.spec.transform.dy).abs();
    let domain = g.basins.mapv(|b| DOMAIN_BASINS.contains(&b));
    let domain_cells = domain.iter().filter(|&&d| d).count();
    let rain_volume_m3 = rain
        .total_mm
        .iter()
        .zip(domain.iter())
        .filter(|(_, &d)| d)
        .map(|(v, _)| v)
        .sum::<f64>()
        * 1e-3
        * cell_m2;
    let rain_volume_grid_m3 = rain.total_mm.sum() * 1e-3 * cell_m2;
    let rain_max_mm = rain.total_mm.iter().copied().fold(0.0, f64::max);
    let rain_volumes = volume_checks(&storm, &gaz, &g, &rain, &domain)?;
    let final_rain = out_dir.join("rain.nc");
    let mut volumes = Vec::new();
    let mut sims: Vec<(Operation, Vec<f64>, Vec<Vec<f64>>)> = Vec::new();
    // Per variant: each basin's opening time, h after the start (None: stayed shut).
    type Openings = Vec<(String, Option<f64>)>;
    let mut openings: Vec<(Operation, Openings)> = Vec::new();
    let mut notes = vec![
        "Reservoirs start at their flood-limit levels; as operated, the detention basins open at their reported times (a date alone is read as 00:00) with the rule-based triggers off; rule-based, every basin in the domain opens on its triggers.".to_string(),
        "Structures marked absent for the event's era ([[structure]] present = false) are left out of the run.".to_string(),
    ];
    for &op in operations {
        // The scenario that runs points at the staged rain.nc; the one kept points at
        // its final place.
        let text_run = scenario_text(&storm, op, &rain_staged, &gauge_xy, &names);
        let run_dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
        let run_path = run_dir.path().join(format!("scenario_{}.toml", op.key()));
        std::fs::write(&run_path, &text_run).map_err(|e| Error::io(&run_path, e))?;
        let kept = stage.path(&format!("scenario_{}.toml", op.key()));
        let text_kept = scenario_text(&storm, op, &final_rain, &gauge_xy, &names);
        std::fs::write(&kept, text_kept).map_err(|e| Error::io(&kept, e))?;
        let flood_name = format!("flood_{}", op.key());
        let flood_dir = stage.path(&flood_name);
        let old = out_dir.join(&flood_name);
        let clock = std::time::Instant::now();
        let summary: FloodRunSummary = run_flood(&run_path, &inputs.root, &flood_dir)?;
        if old.exists() {
            std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
        }
        volumes.push(VolumeReport {
            operation: op,
            rain_m3: summary.rain_m3,
            loss_m3: summary.loss_m3,
            boundary_out_m3: summary.boundary_out_m3,
            storage_change_m3: summary.storage_change_m3,
            relative_mass_error: summary.relative_mass_error,
            seconds: clock.elapsed().as_secs_f64(),
        });
        notes.extend(summary.notes.iter().map(|n| format!("{}: {n}", op.key())));
        openings.push((op, summary.basin_openings_h.clone()));
        let (t, q) = read_hydrographs(&flood_dir.join("hydrographs.csv"), gauge_xy.len())?;
        sims.push((op, t, q));
    }
    // Comparison.
    for (k, (st, o)) in stations.iter_mut().zip(&used_obs).enumerate() {
        let peak_t = match &o.peak_time {
            Some(p) => Some(parse_time(p).map_err(|m| storm.invalid("peak_time", m))?),
            None => None,
        };
        let mut obs_pts: Vec<(f64, f64)> = Vec::new();
        for p in &o.series {
            let t = parse_time(&p.time).map_err(|m| storm.invalid("series", m))?;
            obs_pts.push((t.hours - storm.start_h, p.discharge_m3s));
        }
        if let Some(pt) = peak_t.filter(|p| !p.date_only) {
            obs_pts.push((pt.hours - storm.start_h, o.peak_m3s));
        }
        obs_pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (op, t, q) in &sims {
            let qs = &q[k];
            let (ti, qp) = qs
                .iter()
                .enumerate()
                .fold((0usize, f64::NEG_INFINITY), |a, (i, &v)| {
                    if v > a.1 {
                        (i, v)
                    } else {
                        a
                    }
                });
            let sim_t = storm.start_h + t[ti];
            let (te, on_day) = match peak_t {
                Some(p) if !p.date_only => (Some(metrics::peak_time_error_h(p.hours, sim_t)), None),
                Some(p) => (None, Some(sim_t >= p.hours && sim_t < p.hours + 24.0)),
                None => (None, None),
            };
            let pairs: Vec<(f64, f64)> = obs_pts
                .iter()
                .filter_map(|&(ot, oq)| metrics::sample(t, qs, ot).map(|sq| (oq, sq)))
                .collect();
            let (ov, sv): (Vec<f64>, Vec<f64>) = pairs.iter().copied().unzip();
            let enough = ov.len() >= 3;
            st.runs.push(StationRun {
                operation: *op,
                simulated_peak_m3s: qp,
                simulated_peak_time: format_time(sim_t)[..16].to_string(),
                peak_error_pct: metrics::peak_error_pct(o.peak_m3s, qp),
                peak_time_error_h: te,
                peak_on_reported_day: on_day,
                series_points: ov.len(),
                nse: if enough { metrics::nse(&ov, &sv) } else { None },
                kge: if enough { metrics::kge(&ov, &sv) } else { None },
                volume_error_pct: if enough {
                    metrics::volume_error_pct(&ov, &sv)
                } else {
                    None
                },
            });
        }
        let svg = hydrograph_svg(
            &format!("{} ({}) — {}", st.station, st.river, s.name),
            sims.first().map(|x| x.1.as_slice()).unwrap_or(&[]),
            &sims
                .iter()
                .map(|(op, _, q)| (*op, q[k].clone()))
                .collect::<Vec<_>>(),
            &obs_pts,
        );
        let p = stage.path(&format!("hydrograph_{k}.svg"));
        std::fs::write(&p, svg).map_err(|e| Error::io(&p, e))?;
    }
    let detention_basins = s
        .detention_basins
        .iter()
        .map(|d| BasinReport {
            name: d.name.clone(),
            used: d.used,
            opened: d.opened.clone(),
            stored_1e8_m3: d.stored_1e8_m3,
            in_domain: d.in_domain,
            model: if d.in_domain {
                let said: Vec<String> = openings
                    .iter()
                    .map(|(op, list)| {
                        let what = match list.iter().find(|(n, _)| n == &d.name) {
                            None if *op == Operation::AsOperated
                                && d.used
                                && d.opened.is_none() =>
                            {
                                "no reported opening time: left shut".to_string()
                            }
                            None => "not in the run".to_string(),
                            Some((_, None)) => "stayed shut".to_string(),
                            Some((_, Some(h))) => {
                                format!("opened {}", &format_time(storm.start_h + h)[..16])
                            }
                        };
                        format!("{}: {what}", op.key())
                    })
                    .collect();
                said.join("; ")
            } else {
                "outside the domain: not modelled".into()
            },
        })
        .collect();
    let report = ValidationReport {
        storm: s.id.clone(),
        name: s.name.clone(),
        file: storm_path.display().to_string(),
        window: (s.window.start.clone(), s.window.end.clone()),
        rain_method: rain.method,
        rain_volume_m3,
        domain_km2: domain_cells as f64 * cell_m2 * 1e-6,
        rain_volume_grid_m3,
        rain_volumes,
        pattern_zones: rain.zones,
        rain_max_mm,
        rain_stations: rain.stations,
        rain_areas: rain.areas,
        rain_hourly: rain.hourly,
        fits: rain.fits,
        stations,
        unused_observations: unused,
        trigger_gauges: trigger_gauges
            .iter()
            .enumerate()
            .map(|(j, (name, snap))| {
                let k = n_observed + j;
                let peaks: Vec<String> = sims
                    .iter()
                    .map(|(op, _, q)| {
                        format!(
                            "{}: {:.0} m³/s",
                            op.key(),
                            q[k].iter().copied().fold(0.0, f64::max)
                        )
                    })
                    .collect();
                format!(
                    "{name} (snapped {:.0} km²; not observed): {}",
                    snap.area_km2,
                    peaks.join(", ")
                )
            })
            .collect(),
        detention_basins,
        structures: s
            .structures
            .iter()
            .map(|x| (x.name.clone(), x.present, x.basis.clone()))
            .collect(),
        reservoirs: s
            .reservoirs
            .iter()
            .map(|f| (f.what.clone(), f.value.clone()))
            .collect(),
        impacts: s
            .impacts
            .iter()
            .map(|f| (f.what.clone(), f.value.clone()))
            .collect(),
        volumes,
        basins_opened: openings
            .iter()
            .map(|(op, list)| {
                (
                    *op,
                    list.iter()
                        .filter_map(|(n, h)| {
                            h.map(|h| (n.clone(), format_time(storm.start_h + h)[..16].to_string()))
                        })
                        .collect(),
                )
            })
            .collect(),
        notes,
    };
    let p = stage.path("validation.json");
    let json = serde_json::to_string_pretty(&report).map_err(|e| Error::Data(e.to_string()))?;
    std::fs::write(&p, json).map_err(|e| Error::io(&p, e))?;
    let p = stage.path("validation.md");
    std::fs::write(&p, report_markdown(&report)).map_err(|e| Error::io(&p, e))?;
    stage.commit()?;
    Ok(report)
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "–".into())
}

/// `validation.md` of one storm.
pub fn report_markdown(r: &ValidationReport) -> String {
    let mut m = format!(
        "# Validation: {}\n\nStorm file `{}`; rain window {} – {} (Beijing time).\n\n## Peaks\n\n",
        r.name, r.file, r.window.0, r.window.1
    );
    m.push_str("| station | river | variant | observed m³/s | simulated m³/s | error % | observed time | simulated time | time error h | NSE | KGE | snapped / target km² |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for s in &r.stations {
        for run in &s.runs {
            let te = match (run.peak_time_error_h, run.peak_on_reported_day) {
                (Some(e), _) => format!("{e:+.1}"),
                (None, Some(d)) => {
                    format!("day only: {}", if d { "same day" } else { "other day" })
                }
                _ => "–".into(),
            };
            m.push_str(&format!(
                "| {} | {} | {} | {:.0} | {:.0} | {:+.1} | {} | {} | {} | {} | {} | {:.0} / {} |\n",
                s.station,
                s.river,
                run.operation.key(),
                s.observed_peak_m3s,
                run.simulated_peak_m3s,
                run.peak_error_pct,
                s.observed_peak_time.clone().unwrap_or_else(|| "–".into()),
                run.simulated_peak_time,
                te,
                opt(run.nse, 2),
                opt(run.kge, 2),
                s.snap.area_km2,
                opt(s.snap.target_km2, 0)
            ));
        }
    }
    m.push_str("\nHydrograph plots: `hydrograph_<n>.svg` in the order of the table.\n\n## Gauges on the grid\n\n| station | placed | moved km | upstream area at point km² | snapped km² | target km² | area error % | basis |\n|---|---|---|---|---|---|---|---|\n");
    for s in &r.stations {
        m.push_str(&format!(
            "| {} | {} | {:.1} | {:.0} | {:.0} | {} | {} | {} |\n",
            s.station,
            s.placement,
            s.snap.moved_km,
            s.snap.at_point_km2,
            s.snap.area_km2,
            opt(s.snap.target_km2, 0),
            opt(s.snap.area_error_pct, 1),
            s.area_basis
        ));
    }
    if !r.trigger_gauges.is_empty() {
        m.push_str("\nGauges read by the rule-based triggers, without observation:\n\n");
        for u in &r.trigger_gauges {
            m.push_str(&format!("- {u}\n"));
        }
    }
    if !r.unused_observations.is_empty() {
        m.push_str("\nObservations kept as facts only (not compared):\n\n");
        for u in &r.unused_observations {
            m.push_str(&format!("- {u}\n"));
        }
    }
    m.push_str(&format!(
        "\n## Rain\n\nRain on the model domain (river systems 1–4 of `basins.tif`, {:.0} km², where the flood run lets it fall): {:.2} ×10⁸ m³, a mean of {:.1} mm; over the whole grid rectangle {:.2} ×10⁸ m³. Largest storm total of a cell {:.0} mm (map: `rain_total.tif`; series: `rain.nc`).\n\n",
        r.domain_km2,
        r.rain_volume_m3 / 1e8,
        r.rain_volume_m3 / (r.domain_km2 * 1e3),
        r.rain_volume_grid_m3 / 1e8,
        r.rain_max_mm
    ));
    for x in &r.rain_method {
        m.push_str(&format!("- {x}\n"));
    }
    m.push_str("\nTemporal pattern zones:\n\n");
    for z in &r.pattern_zones {
        m.push_str(&format!("- {z}\n"));
    }
    if !r.rain_volumes.is_empty() {
        m.push_str("\n### Rain volumes\n\n| reported | window | reported 10⁸ m³ | reconstructed over the same area 10⁸ m³ | model domain, same window 10⁸ m³ | area | source |\n|---|---|---|---|---|---|---|\n");
        for v in &r.rain_volumes {
            m.push_str(&format!(
                "| {} | {} | {:.2} | {} | {:.2} | {} | {} |\n",
                v.name,
                v.window,
                v.reported_1e8_m3,
                opt(v.reconstructed_1e8_m3, 2),
                v.domain_1e8_m3,
                v.area,
                v.source
            ));
        }
    }
    let table = |title: &str, rows: &[SiteReport], unit: &str| {
        let mut t = format!("\n### {title}\n\n| name | reported {unit} | window | reconstructed | storm-total equivalent mm | role | placement / area |\n|---|---|---|---|---|---|---|\n");
        for x in rows {
            t.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} |\n",
                x.name,
                x.reported,
                x.window,
                opt(x.reconstructed, 1),
                opt(x.event_equivalent_mm, 1),
                x.role,
                x.placement
            ));
        }
        t
    };
    m.push_str(&table("Station totals", &r.rain_stations, "mm"));
    m.push_str(&table("Areal means", &r.rain_areas, "mm"));
    m.push_str(&table("Largest hourly intensities", &r.rain_hourly, "mm/h"));
    m.push_str("\n## Detention basins\n\n| basin | used in the event | opened | stored 10⁸ m³ | in domain | model |\n|---|---|---|---|---|---|\n");
    for b in &r.detention_basins {
        m.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            b.name,
            if b.used { "yes" } else { "no" },
            b.opened.clone().unwrap_or_else(|| "–".into()),
            opt(b.stored_1e8_m3, 2),
            if b.in_domain { "yes" } else { "no" },
            b.model
        ));
    }
    m.push_str("\n## Volume balance\n\n| variant | rain 10⁶ m³ | losses 10⁶ m³ | out 10⁶ m³ | storage change 10⁶ m³ | relative mass error | run s |\n|---|---|---|---|---|---|---|\n");
    for v in &r.volumes {
        m.push_str(&format!(
            "| {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.2e} | {:.0} |\n",
            v.operation.key(),
            v.rain_m3 / 1e6,
            v.loss_m3 / 1e6,
            v.boundary_out_m3 / 1e6,
            v.storage_change_m3 / 1e6,
            v.relative_mass_error,
            v.seconds
        ));
    }
    if !r.structures.is_empty() {
        m.push_str("\n## Structures of the era\n\n");
        for (n, p, b) in &r.structures {
            m.push_str(&format!("- {n}: {} ({b})\n", if *p { "on" } else { "off" }));
        }
    }
    if !r.reservoirs.is_empty() {
        m.push_str("\n## Reservoirs\n\n");
        for (w, v) in &r.reservoirs {
            m.push_str(&format!("- {w}: {v}\n"));
        }
    }
    if !r.impacts.is_empty() {
        m.push_str("\n## Impacts (reported)\n\n");
        for (w, v) in &r.impacts {
            m.push_str(&format!("- {w}: {v}\n"));
        }
    }
    m.push_str("\n## Notes\n\n");
    for n in &r.notes {
        m.push_str(&format!("- {n}\n"));
    }
    m
}

/// One row of the `--all` summary: a station in one run of a storm.
#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    /// Storm id.
    pub storm: String,
    /// Station (empty when the storm has no compared observation).
    pub station: String,
    /// Operation variant.
    pub operation: Option<Operation>,
    /// Observed peak, m³/s, and its time as reported.
    pub observed_peak_m3s: Option<f64>,
    /// Observed peak time as reported.
    pub observed_peak_time: Option<String>,
    /// Simulated peak, m³/s.
    pub simulated_peak_m3s: Option<f64>,
    /// Simulated peak time.
    pub simulated_peak_time: Option<String>,
    /// Peak error, %.
    pub peak_error_pct: Option<f64>,
    /// Peak time error, h, or "same day"/"other day" when only the day is reported.
    pub peak_time_error: String,
    /// NSE over the observed points (≥ 3).
    pub nse: Option<f64>,
    /// KGE over the observed points (≥ 3).
    pub kge: Option<f64>,
    /// Detention basins used in the event inside the domain, with reported openings.
    pub basins_used: Vec<String>,
    /// Detention basins used in the event outside the domain (not modelled).
    pub basins_not_modelled: Vec<String>,
    /// Detention basins the model opened in this run, with times.
    pub basins_activated: Vec<String>,
    /// Reconstructed rain over the model domain, 10⁸ m³, and its mean, mm.
    pub rain_domain_1e8_m3: f64,
    /// Mean rain over the model domain, mm.
    pub rain_domain_mm: f64,
    /// Reported volumes against the reconstruction (text).
    pub rain_reported: Vec<String>,
}

/// The summary rows of several storms: one per station and variant.
pub fn summary_rows(reports: &[ValidationReport]) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    for r in reports {
        let used: Vec<String> = r
            .detention_basins
            .iter()
            .filter(|b| b.used && b.in_domain)
            .map(|b| match &b.opened {
                Some(o) => format!("{} (opened {o})", b.name),
                None => format!("{} (time not reported)", b.name),
            })
            .collect();
        let outside: Vec<String> = r
            .detention_basins
            .iter()
            .filter(|b| b.used && !b.in_domain)
            .map(|b| b.name.clone())
            .collect();
        let reported: Vec<String> = r
            .rain_volumes
            .iter()
            .map(|v| match v.reconstructed_1e8_m3 {
                Some(x) => format!(
                    "{} ({}): {x:.1} vs {:.1} reported",
                    v.name, v.window, v.reported_1e8_m3
                ),
                None => format!(
                    "{} ({}): {:.1} reported over an area beyond the domain; the domain received {:.1} in that window",
                    v.name, v.window, v.reported_1e8_m3, v.domain_1e8_m3
                ),
            })
            .collect();
        let base = SummaryRow {
            storm: r.storm.clone(),
            station: String::new(),
            operation: None,
            observed_peak_m3s: None,
            observed_peak_time: None,
            simulated_peak_m3s: None,
            simulated_peak_time: None,
            peak_error_pct: None,
            peak_time_error: "–".into(),
            nse: None,
            kge: None,
            basins_used: used,
            basins_not_modelled: outside,
            basins_activated: Vec::new(),
            rain_domain_1e8_m3: r.rain_volume_m3 / 1e8,
            rain_domain_mm: r.rain_volume_m3 / (r.domain_km2 * 1e3),
            rain_reported: reported,
        };
        if r.stations.is_empty() {
            rows.push(base.clone());
        }
        for s in &r.stations {
            for run in &s.runs {
                let activated = r
                    .basins_opened
                    .iter()
                    .find(|(op, _)| *op == run.operation)
                    .map(|(_, l)| l.iter().map(|(n, t)| format!("{n} ({t})")).collect())
                    .unwrap_or_default();
                rows.push(SummaryRow {
                    station: format!("{} ({})", s.station, s.river),
                    operation: Some(run.operation),
                    observed_peak_m3s: Some(s.observed_peak_m3s),
                    observed_peak_time: s.observed_peak_time.clone(),
                    simulated_peak_m3s: Some(run.simulated_peak_m3s),
                    simulated_peak_time: Some(run.simulated_peak_time.clone()),
                    peak_error_pct: Some(run.peak_error_pct),
                    peak_time_error: match (run.peak_time_error_h, run.peak_on_reported_day) {
                        (Some(e), _) => format!("{e:+.1}"),
                        (None, Some(true)) => "same day".into(),
                        (None, Some(false)) => "other day".into(),
                        _ => "time not reported".into(),
                    },
                    nse: run.nse,
                    kge: run.kge,
                    basins_activated: activated,
                    ..base.clone()
                });
            }
        }
    }
    rows
}

/// `validation_summary.md`: one table for every storm; the basin and rain columns are
/// filled on the first row of each storm.
pub fn summary_markdown(rows: &[SummaryRow], wall_s: f64) -> String {
    let mut m = format!(
        "# Validation summary (`haihe validate --all`)\n\nWall time {:.0} s for the whole catalogue. Rain volumes in 10⁸ m³; the model domain is river systems 1–4 of `basins.tif`.\n\n",
        wall_s
    );
    m.push_str("| storm | station | variant | observed peak m³/s | simulated peak m³/s | error % | peak-time error h | NSE | KGE | detention basins used in the event (in domain) | basins the model opened | used, outside the domain (not modelled) | rain on the domain | rain, reconstructed vs reported |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let list = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join("; ")
        }
    };
    let mut last = String::new();
    for r in rows {
        let first = r.storm != last;
        last = r.storm.clone();
        let peak = |v: Option<f64>, t: &Option<String>| match v {
            Some(q) => match t {
                Some(t) => format!("{q:.0} ({t})"),
                None => format!("{q:.0}"),
            },
            None => "–".into(),
        };
        m.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            if first { r.storm.as_str() } else { "" },
            if r.station.is_empty() {
                "–"
            } else {
                &r.station
            },
            r.operation.map(|o| o.key()).unwrap_or("–"),
            peak(r.observed_peak_m3s, &r.observed_peak_time),
            peak(r.simulated_peak_m3s, &r.simulated_peak_time),
            r.peak_error_pct
                .map(|e| format!("{e:+.1}"))
                .unwrap_or_else(|| "–".into()),
            r.peak_time_error,
            opt(r.nse, 2),
            opt(r.kge, 2),
            if first {
                list(&r.basins_used)
            } else {
                String::new()
            },
            list(&r.basins_activated),
            if first {
                list(&r.basins_not_modelled)
            } else {
                String::new()
            },
            if first {
                format!("{:.1} ({:.0} mm)", r.rain_domain_1e8_m3, r.rain_domain_mm)
            } else {
                String::new()
            },
            if first {
                if r.rain_reported.is_empty() {
                    "no volume reported".to_string()
                } else {
                    r.rain_reported.join("; ")
                }
            } else {
                String::new()
            },
        ));
    }
    m
}

/// Runs every `*.toml` of `storms_dir` (sorted; checked first, then run concurrently)
/// into `out_dir/<id>/` and writes
/// `out_dir/validation_summary.md` and `.json`: one table, a row per station and
/// variant ([`summary_rows`]).
pub fn validate_all(
    storms_dir: &Path,
    inputs: &ValidateInputs,
    out_dir: &Path,
    operations: &[Operation],
) -> Result<Vec<ValidationReport>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(storms_dir)
        .map_err(|e| Error::io(storms_dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let clock = std::time::Instant::now();
    // Every storm file is checked first, so that a bad one fails before any run; the
    // storms then run concurrently (each run is deterministic; they share rayon's pool).
    let mut ids = Vec::new();
    for f in &files {
        let id = load_storm(f)?.storm.id;
        // The id names the storm's subfolder: `..` or a '/' would write outside it.
        crate::outdir::check_id(&id, f, "storm.id")?;
        check_storm(f, inputs)?;
        ids.push(id);
    }
    // A storm subfolder that haihe did not write is refused, never overwritten.
    for id in &ids {
        crate::outdir::claim_subfolder(&out_dir.join(id), crate::outdir::OutputKind::Member)?;
    }
    let results: Vec<Result<ValidationReport>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .iter()
            .zip(&ids)
            .map(|(f, id)| {
                let out = out_dir.join(id);
                scope.spawn(move || validate_storm(f, inputs, &out, operations))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Error::Data("a storm's validation thread panicked".into()))
                })
            })
            .collect()
    });
    let mut reports = Vec::new();
    for r in results {
        reports.push(r?);
    }
    let clock_s = clock.elapsed().as_secs_f64();
    let rows = summary_rows(&reports);
    let md = summary_markdown(&rows, clock_s);
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let p = out_dir.join("validation_summary.md");
    crate::grid::io::write_atomically(&p, |tmp| {
        std::fs::write(tmp, &md).map_err(|e| Error::io(tmp, e))
    })?;
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "storms": reports.iter().map(|r| &r.storm).collect::<Vec<_>>(),
        "wall_s": clock_s,
        "rows": rows,
    }))
    .map_err(|e| Error::Data(e.to_string()))?;
    let p = out_dir.join("validation_summary.json");
    crate::grid::io::write_atomically(&p, |tmp| {
        std::fs::write(tmp, &json).map_err(|e| Error::io(tmp, e))
    })?;
    Ok(reports)
}

/// Loads a storm and resolves every used entry against the model grids without running
/// the flood engine: the checks behind the "bad input" errors (placement, domain,
/// windows, areas). Returns the number of rain constraints and observations placed.
pub fn check_storm(storm_path: &Path, inputs: &ValidateInputs) -> Result<(usize, usize)> {
    let storm = load_storm(storm_path)?;
    let gaz = Gazetteer::load(&inputs.places, &inputs.model_dir.join("counties.csv"))?;
    let g = read_grids(&inputs.model_dir)?;
    let rain = build_rain(&storm, &gaz, &g)?;
    let mut n = 0;
    for (i, o) in storm.storm.observations.iter().enumerate() {
        if o.used {
            place_on_grid(
                &storm,
                &gaz,
                &g.spec,
                &o.location(),
                &format!("observation[{i}] ({})", o.station),
            )?;
            n += 1;
        }
    }
    // Every gauge a rule-based trigger reads must be an observation or a [[gauge]].
    let names = StructureNames::load(&inputs.root.join("models/structures"))?;
    for (basin, gauge) in &names.trigger_gauges {
        let s = &storm.storm;
        let absent = s.structures.iter().any(|e| !e.present && &e.name == basin);
        let known = s.observations.iter().any(|o| o.used && &o.station == gauge)
            || s.gauges.iter().any(|x| &x.station == gauge);
        if !absent && !known {
            return Err(storm.invalid(
                "gauge",
                format!(
                    "rule-based: {basin} opens on the discharge at {gauge}, which is neither a used [[observation]] nor a [[gauge]] of this storm: add a [[gauge]] entry for it"
                ),
            ));
        }
    }
    Ok((rain.fits.len(), n))
}
