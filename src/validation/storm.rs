//! The storm catalogue (`models/storms/*.toml`): one historical event per file, with the
//! observed rain, its timing, the observed floods at named stations, the detention
//! basins and reservoirs as operated, the structures of the era and the impacts. Every
//! number names a key of the file's `[sources]` table. The schema is documented in the
//! README section "Validation"; unknown keys are errors.

use super::time::{parse_time, CalTime};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn yes() -> bool {
    true
}
fn default_after_h() -> f64 {
    24.0
}
fn default_step_h() -> f64 {
    1.0
}
fn default_snap_radius_km() -> f64 {
    5.0
}

/// One storm file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Storm {
    /// Short identifier, e.g. `"2023-07-doksuri"`.
    pub id: String,
    /// Name of the event.
    pub name: String,
    /// What happened, briefly.
    #[serde(default)]
    pub description: String,
    /// Sources by key: title and address.
    pub sources: BTreeMap<String, String>,
    /// The rain window of the event (Beijing time).
    pub window: Window,
    /// Simulation settings derived from the window.
    #[serde(default)]
    pub simulation: SimulationSection,
    /// How the storm total is spread over time (everywhere when no zone is given).
    pub pattern: Pattern,
    /// Temporal patterns per district or site, where timing is reported there; cells
    /// between zones blend them (see [`crate::validation::reconstruct::ZonedPattern`]).
    #[serde(default, rename = "pattern_zone")]
    pub pattern_zones: Vec<PatternZone>,
    /// The rain observations.
    pub rain: RainSection,
    /// Observed floods at named stations.
    #[serde(default, rename = "observation")]
    pub observations: Vec<Observation>,
    /// Unobserved gauges that the rule-based triggers of the detention basins read (e.g.
    /// 卢沟桥 for 小清河分洪区 and 永定河泛区) when no observation of the storm is there.
    #[serde(default, rename = "gauge")]
    pub gauges: Vec<TriggerGauge>,
    /// Detention basins (蓄滞洪区): which were used, when opened, how much they stored.
    #[serde(default, rename = "detention_basin")]
    pub detention_basins: Vec<DetentionUse>,
    /// Reservoir facts of the event.
    #[serde(default, rename = "reservoir")]
    pub reservoirs: Vec<Fact>,
    /// Structures of the era: present (on) or not yet built (off).
    #[serde(default, rename = "structure")]
    pub structures: Vec<StructureEra>,
    /// Impacts, for the report.
    #[serde(default, rename = "impact")]
    pub impacts: Vec<Fact>,
}

/// A time window, Beijing time.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// Start, `"YYYY-MM-DD hh:mm"`.
    pub start: String,
    /// End, `"YYYY-MM-DD hh:mm"`.
    pub end: String,
    /// Source key, or the basis of the choice.
    #[serde(default)]
    pub source: String,
}

/// Simulation settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SimulationSection {
    /// Hours simulated after the end of the rain window, h (default 24).
    #[serde(default = "default_after_h")]
    pub after_h: f64,
    /// Time step of the rain series, h (default 1).
    #[serde(default = "default_step_h")]
    pub rain_step_h: f64,
    /// Why these settings.
    #[serde(default)]
    pub basis: String,
}

impl Default for SimulationSection {
    fn default() -> Self {
        SimulationSection {
            after_h: default_after_h(),
            rain_step_h: default_step_h(),
            basis: String::new(),
        }
    }
}

/// One point of a cumulative rain curve.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MassPoint {
    /// Time, `"YYYY-MM-DD hh:mm"`.
    pub time: String,
    /// Cumulative rain of the reference area since the curve's first point, mm.
    pub cumulative_mm: f64,
    /// Source key.
    #[serde(default)]
    pub source: String,
}

/// What a mass curve does after its last point, before the window ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tail {
    /// No more rain after the last point.
    #[default]
    None,
    /// The rate of the last interval continues to the window end (an ASSUMPTION, stated
    /// in `tail_basis`).
    LastRate,
}

fn is_no_tail(t: &Tail) -> bool {
    *t == Tail::None
}

/// The temporal pattern of the storm, the same at every cell (the storm total of a
/// cell times the fraction of the pattern in each step).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Pattern {
    /// A reported cumulative (mass) curve of an areal mean, linear between points (or
    /// shaped around `peak`, see [`crate::validation::reconstruct::PatternCurve::Mass`]).
    MassCurve {
        /// The area whose mean the points are.
        reference: String,
        /// Points in time order; the first usually has 0 mm.
        points: Vec<MassPoint>,
        /// How the curve was put together.
        #[serde(default)]
        basis: String,
        /// Reported time of the largest intensity (e.g. the middle of the hour of a
        /// reported hourly maximum); each interval is then triangular around it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peak: Option<String>,
        /// Source key(s) of `peak` or the ASSUMPTION behind it (required with `peak`).
        #[serde(default)]
        peak_basis: String,
        /// After the last point: `"none"` (default) or `"last_rate"`.
        #[serde(default, skip_serializing_if = "is_no_tail")]
        tail: Tail,
        /// Why the tail (required with `tail = "last_rate"`).
        #[serde(default)]
        tail_basis: String,
    },
    /// A triangular hyetograph over the window with its peak at `peak` (Yen & Chow 1980),
    /// placed at the reported time of the largest hourly intensity.
    Triangular {
        /// Time of the peak intensity.
        peak: String,
        /// Why this time.
        #[serde(default)]
        basis: String,
    },
    /// The same intensity throughout the window.
    Uniform {
        /// Why.
        #[serde(default)]
        basis: String,
    },
}

/// Rain where no observation reaches: the value the interpolation tends to far from
/// every station.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Background {
    /// Storm total far from the observations, mm.
    pub mm: f64,
    /// Distance at which the background weighs as much as one station, km.
    pub range_km: f64,
    /// Radius of influence of a station, km (Franke & Nielson 1980): beyond it from
    /// every station the field is the background. Absent: unlimited (classic Shepard).
    #[serde(default)]
    pub influence_km: Option<f64>,
    /// Source key or the reason for the value (an ASSUMPTION says so).
    pub basis: String,
}

/// The rain observations of the event.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RainSection {
    /// Rain far from every observation.
    pub background: Background,
    /// Inverse-distance power (default 2).
    #[serde(default)]
    pub idw_power: Option<f64>,
    /// Station (point) totals.
    #[serde(default, rename = "station")]
    pub stations: Vec<RainStation>,
    /// District and basin averages.
    #[serde(default, rename = "areal")]
    pub areal: Vec<ArealRain>,
    /// Largest hourly intensities.
    #[serde(default, rename = "max_hourly")]
    pub max_hourly: Vec<MaxHourly>,
    /// Reported rain volumes, compared with the reconstruction.
    #[serde(default, rename = "volume")]
    pub volumes: Vec<ReportedVolume>,
}

/// A reported rain volume over an area and window.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReportedVolume {
    /// Name as reported.
    pub name: String,
    /// Volume, 10⁸ m³ (亿m³).
    pub volume_1e8_m3: f64,
    /// The area (as for areal means; `not_on_grid` for areas beyond the domain).
    pub area: AreaDef,
    /// Window (default: the storm window).
    #[serde(default)]
    pub start: Option<String>,
    /// End of the window.
    #[serde(default)]
    pub end: Option<String>,
    /// Source key.
    pub source: String,
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// A temporal pattern for a district (an area) or a site (a location).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PatternZone {
    /// Name.
    pub name: String,
    /// The district (as for areal means); or give a location.
    #[serde(default)]
    pub area: Option<AreaDef>,
    /// Longitude, degrees east (WGS 84), with `lat`.
    #[serde(default)]
    pub lon: Option<f64>,
    /// Latitude, degrees north (WGS 84).
    #[serde(default)]
    pub lat: Option<f64>,
    /// A place name (GeoNames populated place or county seat).
    #[serde(default)]
    pub place: Option<String>,
    /// How the location was obtained (shown in the report).
    #[serde(default)]
    pub placement_note: String,
    /// Cumulative rain of the zone, in time order, linear in between; empty: the
    /// storm's `[pattern]` curve.
    #[serde(default)]
    pub points: Vec<MassPoint>,
    /// How the curve was put together.
    #[serde(default)]
    pub basis: String,
    /// Reported time of the largest intensity in the zone (as for `[pattern]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak: Option<String>,
    /// Source key(s) of `peak` or the ASSUMPTION behind it.
    #[serde(default)]
    pub peak_basis: String,
    /// After the last point (as for `[pattern]`).
    #[serde(default, skip_serializing_if = "is_no_tail")]
    pub tail: Tail,
    /// Why the tail.
    #[serde(default)]
    pub tail_basis: String,
}

/// Where a station or site lies: a place name (GeoNames populated place or county of
/// `counties.csv`) or explicit coordinates.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Longitude, degrees east (WGS 84), with `lat`.
    #[serde(default)]
    pub lon: Option<f64>,
    /// Latitude, degrees north (WGS 84).
    #[serde(default)]
    pub lat: Option<f64>,
    /// A place name: a GeoNames populated place (e.g. `"Zhangfang"`) or a county of
    /// `counties.csv` (e.g. `"房山区"`, placed at its seat).
    #[serde(default)]
    pub place: Option<String>,
    /// How well the place stands for the station (shown in the report).
    #[serde(default)]
    pub placement_note: String,
}

/// A station rain total.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RainStation {
    /// Station or site name as reported.
    pub name: String,
    /// Total over the window, mm.
    pub total_mm: f64,
    /// Window of the total (default: the storm window).
    #[serde(default)]
    pub start: Option<String>,
    /// End of the window.
    #[serde(default)]
    pub end: Option<String>,
    /// Longitude, degrees east (WGS 84), with `lat`.
    #[serde(default)]
    pub lon: Option<f64>,
    /// Latitude, degrees north (WGS 84).
    #[serde(default)]
    pub lat: Option<f64>,
    /// A place name: a GeoNames populated place (e.g. `"Zhangfang"`) or a county of
    /// `counties.csv` (e.g. `"房山区"`, placed at its seat).
    #[serde(default)]
    pub place: Option<String>,
    /// How well the place stands for the site (shown in the report).
    #[serde(default)]
    pub placement_note: String,
    /// Source key.
    pub source: String,
    /// Used in the reconstruction (default true); false keeps it as a fact only.
    #[serde(default = "yes")]
    pub used: bool,
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// The area an areal mean is defined over.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AreaDef {
    /// One county-level unit of `counties.csv` by name (e.g. `"房山区"`).
    #[serde(default)]
    pub county: Option<String>,
    /// Several county-level units by name.
    #[serde(default)]
    pub counties: Vec<String>,
    /// All units of a prefecture-level city (`city` column, e.g. `"保定市"`).
    #[serde(default)]
    pub city: Option<String>,
    /// All units of a province (`province` column, e.g. `"北京市"`).
    #[serde(default)]
    pub province: Option<String>,
    /// A river system of `basins.tif` (1 北三河, 2 永定河, 3 大清河, 4 海河下游).
    #[serde(default)]
    pub basin: Option<u8>,
    /// No outline on the model grid (e.g. the whole 海河流域): kept as a fact.
    #[serde(default)]
    pub not_on_grid: Option<String>,
}

/// An areal mean.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ArealRain {
    /// Name as reported.
    pub name: String,
    /// Mean over the area and window, mm.
    pub mean_mm: f64,
    /// The area.
    pub area: AreaDef,
    /// Window (default: the storm window).
    #[serde(default)]
    pub start: Option<String>,
    /// End of the window.
    #[serde(default)]
    pub end: Option<String>,
    /// Source key.
    pub source: String,
    /// Used as a constraint (default true).
    #[serde(default = "yes")]
    pub used: bool,
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// A largest hourly intensity.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MaxHourly {
    /// Station as reported.
    pub name: String,
    /// Rain in the hour, mm/h.
    pub mm_per_h: f64,
    /// Start of the hour.
    pub time: String,
    /// Longitude, degrees east (WGS 84), with `lat`.
    #[serde(default)]
    pub lon: Option<f64>,
    /// Latitude, degrees north (WGS 84).
    #[serde(default)]
    pub lat: Option<f64>,
    /// A place name: a GeoNames populated place (e.g. `"Zhangfang"`) or a county of
    /// `counties.csv` (e.g. `"房山区"`, placed at its seat).
    #[serde(default)]
    pub place: Option<String>,
    /// How well the place stands for the site (shown in the report).
    #[serde(default)]
    pub placement_note: String,
    /// Source key.
    pub source: String,
}

/// One part of a derived catchment area.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AreaPart {
    /// What the part is (e.g. `"官厅水库 catchment"`).
    pub name: String,
    /// Area, km².
    pub km2: f64,
    /// Source key.
    pub source: String,
}

/// A point of an observed hydrograph.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesPoint {
    /// Time.
    pub time: String,
    /// Discharge, m³/s.
    pub discharge_m3s: f64,
    /// Source key.
    #[serde(default)]
    pub source: String,
}

/// An observed flood at a station.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Observation {
    /// Station name.
    pub station: String,
    /// River.
    pub river: String,
    /// Longitude, degrees east (WGS 84), with `lat`.
    #[serde(default)]
    pub lon: Option<f64>,
    /// Latitude, degrees north (WGS 84).
    #[serde(default)]
    pub lat: Option<f64>,
    /// A place name: a GeoNames populated place (e.g. `"Zhangfang"`) or a county of
    /// `counties.csv` (e.g. `"房山区"`, placed at its seat).
    #[serde(default)]
    pub place: Option<String>,
    /// How well the place stands for the site (shown in the report).
    #[serde(default)]
    pub placement_note: String,
    /// Published catchment area, km².
    #[serde(default)]
    pub catchment_km2: Option<f64>,
    /// Source key of the catchment area.
    #[serde(default)]
    pub catchment_source: String,
    /// When no area is published: parts whose sum is the catchment (reach areas).
    #[serde(default)]
    pub catchment_parts: Vec<AreaPart>,
    /// Search radius for snapping to the stream, km (default 5).
    #[serde(default = "default_snap_radius_km")]
    pub snap_radius_km: f64,
    /// Peak discharge, m³/s.
    pub peak_m3s: f64,
    /// Time of the peak (a date alone when only the day is reported).
    #[serde(default)]
    pub peak_time: Option<String>,
    /// Source key.
    pub source: String,
    /// Further observed points of the hydrograph.
    #[serde(default)]
    pub series: Vec<SeriesPoint>,
    /// Compared with the model (default true); false keeps it as a fact only.
    #[serde(default = "yes")]
    pub used: bool,
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// A gauge without an observation, placed and snapped like an observation, so that the
/// rule-based triggers that read it can run; its simulated peak is reported.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerGauge {
    /// Gauge name as the triggers of `models/structures/detention_basins.toml` use it.
    pub station: String,
    /// River.
    pub river: String,
    /// Longitude, degrees east (WGS 84), with `lat`.
    #[serde(default)]
    pub lon: Option<f64>,
    /// Latitude, degrees north (WGS 84).
    #[serde(default)]
    pub lat: Option<f64>,
    /// A place name (GeoNames populated place or county seat).
    #[serde(default)]
    pub place: Option<String>,
    /// How well the place stands for the gauge.
    #[serde(default)]
    pub placement_note: String,
    /// Published catchment area, km².
    #[serde(default)]
    pub catchment_km2: Option<f64>,
    /// Source key of the catchment area.
    #[serde(default)]
    pub catchment_source: String,
    /// When no area is published: parts whose sum is the catchment.
    #[serde(default)]
    pub catchment_parts: Vec<AreaPart>,
    /// Search radius for snapping to the stream, km (default 5).
    #[serde(default = "default_snap_radius_km")]
    pub snap_radius_km: f64,
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// How a detention basin was used in the event.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DetentionUse {
    /// Basin name as in `models/structures/detention_basins.toml`.
    pub name: String,
    /// Used (opened) in this event.
    pub used: bool,
    /// Opening time, when reported (a date alone when only the day is).
    #[serde(default)]
    pub opened: Option<String>,
    /// Largest volume stored, 10⁸ m³, when reported.
    #[serde(default)]
    pub stored_1e8_m3: Option<f64>,
    /// Inside the model domain (the three river systems).
    pub in_domain: bool,
    /// Source key.
    pub source: String,
    /// Remarks.
    #[serde(default)]
    pub note: String,
}

/// A reported fact (reservoir operation, impact) with its value as text.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    /// What.
    pub what: String,
    /// The value as reported, with units.
    pub value: String,
    /// Source key.
    pub source: String,
}

/// A structure switched on (built) or off (not yet built) for the event.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StructureEra {
    /// Name as in `models/structures/*.toml`.
    pub name: String,
    /// Present at the time of the event.
    pub present: bool,
    /// Why (year built, source).
    pub basis: String,
}

/// A storm file with its times parsed (hours since 1970 in Beijing time).
#[derive(Debug, Clone)]
pub struct LoadedStorm {
    /// The file.
    pub path: PathBuf,
    /// Its content.
    pub storm: Storm,
    /// Start of the window, h.
    pub start_h: f64,
    /// End of the window, h.
    pub end_h: f64,
}

impl LoadedStorm {
    /// Error on `field` of this file.
    pub fn invalid(&self, field: &str, message: String) -> Error {
        Error::Invalid {
            path: self.path.clone(),
            field: field.into(),
            message,
        }
    }

    /// A time of this file, parsed; `field` names the entry in the error.
    pub fn time(&self, text: &str, field: &str) -> Result<CalTime> {
        parse_time(text).map_err(|m| self.invalid(field, m))
    }

    /// A window (start, end) in h, defaulting to the storm window.
    pub fn window_of(
        &self,
        start: &Option<String>,
        end: &Option<String>,
        field: &str,
    ) -> Result<(f64, f64)> {
        let s = match start {
            Some(t) => self.time(t, &format!("{field}.start"))?.hours,
            None => self.start_h,
        };
        let e = match end {
            Some(t) => {
                let c = self.time(t, &format!("{field}.end"))?;
                if c.date_only {
                    c.hours + 24.0
                } else {
                    c.hours
                }
            }
            None => self.end_h,
        };
        if e <= s {
            return Err(self.invalid(
                field,
                format!("the window ends ({e} h) before or when it starts ({s} h)"),
            ));
        }
        Ok((s, e))
    }
}

fn finite_nonneg(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

/// Reads and checks a storm file: the time windows, values, source keys and the
/// pattern. Places are resolved later against the grid ([`super::places`]).
pub fn load_storm(path: &Path) -> Result<LoadedStorm> {
    let storm: Storm = crate::error::read_toml(
        path,
        "give the path of a storm file such as models/storms/2023-07-doksuri.toml",
    )?;
    let bad = |field: String, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field,
        message,
    };
    let t = |text: &str, field: &str| parse_time(text).map_err(|m| bad(field.into(), m));
    let start = t(&storm.window.start, "window.start")?;
    let end = t(&storm.window.end, "window.end")?;
    if end.hours <= start.hours {
        return Err(bad(
            "window".into(),
            format!(
                "the window ends ({}) before or when it starts ({}); swap or correct them",
                storm.window.end, storm.window.start
            ),
        ));
    }
    let loaded = LoadedStorm {
        path: path.to_path_buf(),
        start_h: start.hours,
        end_h: end.hours,
        storm,
    };
    let s = &loaded.storm;
    let source = |key: &str, field: String| -> Result<()> {
        if s.sources.contains_key(key) {
            Ok(())
        } else {
            Err(bad(
                field,
                format!("source '{key}' is not a key of [sources]"),
            ))
        }
    };
    // The snapping fields an [[observation]] and a [[gauge]] share: a positive, sourced
    // area, sourced parts, a radius ≥ 0.
    let catchment = |f: &str,
                     km2: Option<f64>,
                     km2_source: &str,
                     parts: &[AreaPart],
                     radius_km: f64|
     -> Result<()> {
        if let Some(a) = km2 {
            if !(a > 0.0 && a.is_finite()) {
                return Err(bad(f.into(), format!("catchment_km2 {a} must be positive")));
            }
            source(km2_source, format!("{f}.catchment_source"))?;
        }
        for (j, p) in parts.iter().enumerate() {
            source(&p.source, format!("{f}.catchment_parts[{j}].source"))?;
        }
        if !(radius_km >= 0.0 && radius_km.is_finite()) {
            return Err(bad(f.into(), "snap_radius_km must be ≥ 0".into()));
        }
        Ok(())
    };
    if !(s.simulation.after_h.is_finite() && s.simulation.after_h >= 0.0) {
        return Err(bad("simulation.after_h".into(), "must be ≥ 0".into()));
    }
    let step = s.simulation.rain_step_h;
    let len = loaded.end_h - loaded.start_h;
    if !(step > 0.0 && step.is_finite()) || ((len / step).round() * step - len).abs() > 1e-6 {
        return Err(bad(
            "simulation.rain_step_h".into(),
            format!("{step} h must be positive and divide the {len} h window"),
        ));
    }
    let bg = &s.rain.background;
    if !(finite_nonneg(bg.mm) && bg.range_km > 0.0 && bg.range_km.is_finite()) {
        return Err(bad(
            "rain.background".into(),
            "mm must be ≥ 0 and range_km > 0".into(),
        ));
    }
    if bg.influence_km.is_some_and(|l| !(l > 0.0 && l.is_finite())) {
        return Err(bad(
            "rain.background.influence_km".into(),
            "must be positive".into(),
        ));
    }
    let check_curve = |points: &[MassPoint], field: &str| -> Result<()> {
        if points.len() < 2 {
            return Err(bad(field.into(), "give at least two points".into()));
        }
        let mut last: Option<(f64, f64)> = None;
        for (i, p) in points.iter().enumerate() {
            let h = t(&p.time, &format!("{field}[{i}].time"))?.hours;
            if !finite_nonneg(p.cumulative_mm) {
                return Err(bad(
                    format!("{field}[{i}]"),
                    "cumulative_mm must be ≥ 0".into(),
                ));
            }
            if let Some((lh, lv)) = last {
                if h <= lh || p.cumulative_mm < lv {
                    return Err(bad(
                        format!("{field}[{i}]"),
                        "times must increase and cumulative rain must not decrease".into(),
                    ));
                }
            }
            if !p.source.is_empty() {
                source(&p.source, format!("{field}[{i}].source"))?;
            }
            last = Some((h, p.cumulative_mm));
        }
        if points[points.len() - 1].cumulative_mm <= points[0].cumulative_mm {
            return Err(bad(field.into(), "no rain in the curve".into()));
        }
        Ok(())
    };
    let check_shape = |peak: &Option<String>,
                       peak_basis: &str,
                       tail: Tail,
                       tail_basis: &str,
                       f: &str|
     -> Result<()> {
        if let Some(p) = peak {
            let h = t(p, &format!("{f}.peak"))?.hours;
            if h < loaded.start_h || h > loaded.end_h {
                return Err(bad(
                    format!("{f}.peak"),
                    format!("{p} lies outside the window"),
                ));
            }
            if peak_basis.trim().is_empty() {
                return Err(bad(
                    format!("{f}.peak_basis"),
                    "say where the peak time comes from (source keys or ASSUMPTION)".into(),
                ));
            }
        }
        if tail != Tail::None && tail_basis.trim().is_empty() {
            return Err(bad(
                format!("{f}.tail_basis"),
                "a tail is an ASSUMPTION: state its basis".into(),
            ));
        }
        Ok(())
    };
    for (i, z) in s.pattern_zones.iter().enumerate() {
        let f = format!("pattern_zone[{i}] ({})", z.name);
        let located = z.lon.is_some() || z.lat.is_some() || z.place.is_some();
        if z.area.is_some() == located {
            return Err(bad(
                f,
                "give either an area or a location (lon/lat or place), not both or neither".into(),
            ));
        }
        if !z.points.is_empty() {
            check_curve(&z.points, &format!("{f}.points"))?;
        } else if z.peak.is_some() || z.tail != Tail::None {
            return Err(bad(
                f,
                "peak and tail shape a zone's own points; give points or drop them".into(),
            ));
        }
        check_shape(&z.peak, &z.peak_basis, z.tail, &z.tail_basis, &f)?;
    }
    for (i, v) in s.rain.volumes.iter().enumerate() {
        let f = format!("rain.volume[{i}] ({})", v.name);
        source(&v.source, format!("{f}.source"))?;
        if !(v.volume_1e8_m3 > 0.0 && v.volume_1e8_m3.is_finite()) {
            return Err(bad(f, "volume_1e8_m3 must be positive".into()));
        }
        loaded.window_of(&v.start, &v.end, &f)?;
    }
    match &s.pattern {
        Pattern::MassCurve {
            points,
            peak,
            peak_basis,
            tail,
            tail_basis,
            ..
        } => {
            check_curve(points, "pattern.points")?;
            check_shape(peak, peak_basis, *tail, tail_basis, "pattern")?;
        }
        Pattern::Triangular { peak, .. } => {
            let p = t(peak, "pattern.peak")?.hours;
            if p < loaded.start_h || p > loaded.end_h {
                return Err(bad(
                    "pattern.peak".into(),
                    format!("{peak} lies outside the window"),
                ));
            }
        }
        Pattern::Uniform { .. } => {}
    }
    for (i, st) in s.rain.stations.iter().enumerate() {
        let f = format!("rain.station[{i}] ({})", st.name);
        source(&st.source, format!("{f}.source"))?;
        if !finite_nonneg(st.total_mm) {
            return Err(bad(f, format!("total_mm {} must be ≥ 0", st.total_mm)));
        }
        loaded.window_of(&st.start, &st.end, &f)?;
    }
    for (i, a) in s.rain.areal.iter().enumerate() {
        let f = format!("rain.areal[{i}] ({})", a.name);
        source(&a.source, format!("{f}.source"))?;
        if !finite_nonneg(a.mean_mm) {
            return Err(bad(f, format!("mean_mm {} must be ≥ 0", a.mean_mm)));
        }
        let d = &a.area;
        let kinds = usize::from(d.county.is_some())
            + usize::from(!d.counties.is_empty())
            + usize::from(d.city.is_some())
            + usize::from(d.province.is_some())
            + usize::from(d.basin.is_some())
            + usize::from(d.not_on_grid.is_some());
        if kinds != 1 {
            return Err(bad(
                format!("{f}.area"),
                "give exactly one of county, counties, city, province, basin, not_on_grid".into(),
            ));
        }
        loaded.window_of(&a.start, &a.end, &f)?;
    }
    for (i, m) in s.rain.max_hourly.iter().enumerate() {
        let f = format!("rain.max_hourly[{i}] ({})", m.name);
        source(&m.source, format!("{f}.source"))?;
        t(&m.time, &format!("{f}.time"))?;
    }
    for (i, o) in s.observations.iter().enumerate() {
        let f = format!("observation[{i}] ({})", o.station);
        source(&o.source, format!("{f}.source"))?;
        if !(o.peak_m3s > 0.0 && o.peak_m3s.is_finite()) {
            return Err(bad(f, format!("peak_m3s {} must be positive", o.peak_m3s)));
        }
        catchment(
            &f,
            o.catchment_km2,
            &o.catchment_source,
            &o.catchment_parts,
            o.snap_radius_km,
        )?;
        if let Some(pt) = &o.peak_time {
            t(pt, &format!("{f}.peak_time"))?;
        }
        for (j, p) in o.series.iter().enumerate() {
            t(&p.time, &format!("{f}.series[{j}].time"))?;
            if !p.source.is_empty() {
                source(&p.source, format!("{f}.series[{j}].source"))?;
            }
        }
    }
    for (i, gz) in s.gauges.iter().enumerate() {
        catchment(
            &format!("gauge[{i}] ({})", gz.station),
            gz.catchment_km2,
            &gz.catchment_source,
            &gz.catchment_parts,
            gz.snap_radius_km,
        )?;
    }
    for (i, d) in s.detention_basins.iter().enumerate() {
        let f = format!("detention_basin[{i}] ({})", d.name);
        source(&d.source, format!("{f}.source"))?;
        if let Some(o) = &d.opened {
            t(o, &format!("{f}.opened"))?;
        }
    }
    for (i, x) in s.reservoirs.iter().enumerate() {
        source(&x.source, format!("reservoir[{i}] ({}).source", x.what))?;
    }
    for (i, x) in s.impacts.iter().enumerate() {
        source(&x.source, format!("impact[{i}] ({}).source", x.what))?;
    }
    Ok(loaded)
}

macro_rules! located {
    ($($t:ty),*) => {$(
        impl $t {
            /// The site's location fields.
            pub fn location(&self) -> Location {
                Location {
                    lon: self.lon,
                    lat: self.lat,
                    place: self.place.clone(),
                    placement_note: self.placement_note.clone(),
                }
            }
        }
    )*};
}
located!(
    RainStation,
    MaxHourly,
    Observation,
    PatternZone,
    TriggerGauge
);
