//! The plausibility guard: checks every flood run makes on its own results, so that what
//! an experienced basin engineer would disprove at a glance (a reservoir above its crest,
//! a structure on the wrong river, a peak at the last time step, a velocity of 500 m/s,
//! the sea bed as the largest depth) is reported, never passed on silently.
//!
//! Each check gives [`Finding`]s with a severity, a place and a reason. The runner prints
//! them on the console, writes them into `run.json` (`warnings`), the batch manifest
//! carries them, and the report shows them on its first screen.

use serde::{Deserialize, Serialize};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; the result stands.
    Info,
    /// The result is usable with care; the reason says where it is weak.
    Warning,
    /// A part of the result is not credible (e.g. a dam overtopped, a peak not reached).
    Serious,
}

impl Severity {
    /// The word printed on the console and in the report.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Serious => "SERIOUS",
        }
    }
}

/// One finding of the guard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// Which check found it: a short stable key such as `reservoir-level`,
    /// `structure-area`, `peak-not-reached`, `velocity`, `mass-balance`, `rain-depth`,
    /// `depth-on-land`.
    pub check: String,
    /// Where: a structure or gauge name, or a cell with its county and lon/lat.
    pub place: String,
    /// Why, in a sentence a water-authority engineer reads: the figures and what they mean.
    pub reason: String,
}

impl Finding {
    /// A finding.
    pub fn new(
        severity: Severity,
        check: &str,
        place: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            check: check.to_string(),
            place: place.into(),
            reason: reason.into(),
        }
    }

    /// One console line: `SERIOUS [reservoir-level] 官厅: …`.
    pub fn line(&self) -> String {
        format!(
            "{} [{}] {}: {}",
            self.severity.label(),
            self.check,
            self.place,
            self.reason
        )
    }
}

/// Findings sorted for display: most severe first, then by check and place (stable, so
/// that the same run gives the same order whatever the thread count).
pub fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.place.cmp(&b.place))
    });
    findings
}

/// Reservoir levels against the check level (校核水位, warning) and the dam crest
/// (serious: the dam overtops, which the model passes as a weir over the crest but an
/// embankment dam may not survive).
pub fn reservoir_levels(sites: &[crate::flood::structures::ReservoirSite]) -> Vec<Finding> {
    use crate::flood::structures::ReleaseRule;
    let mut out = Vec::new();
    for r in sites {
        let (level, t_s) = r.max_level;
        let name = &r.model.name;
        if let Some(c) = r.model.crest {
            if r.overtopping.1 > 0.0 || level > c.level_m {
                out.push(Finding::new(
                    Severity::Serious,
                    "dam-overtopped",
                    name.as_str(),
                    format!(
                        "the pool reached {level:.2} m at {:.1} h, {:.2} m above the dam crest ({:.2} m); up to {:.0} m³/s passed over the {:.0} m crest for {:.1} h. The dam's survival is not modelled",
                        t_s / 3600.0,
                        level - c.level_m,
                        c.level_m,
                        r.overtopping.0,
                        c.length_m,
                        r.overtopping.1 / 3600.0
                    ),
                ));
                continue;
            }
        }
        if let ReleaseRule::Operating(rule) = r.model.rule {
            if level > rule.check_level_m {
                out.push(Finding::new(
                    Severity::Warning,
                    "reservoir-level",
                    name.as_str(),
                    format!(
                        "the pool reached {level:.2} m at {:.1} h, above its check level 校核水位 ({:.2} m): a flood beyond the dam's check flood",
                        t_s / 3600.0,
                        rule.check_level_m
                    ),
                ));
            }
        }
    }
    out
}

/// Relative mass-balance error above which a run gets a warning: the solver books every
/// volume in f64 and closes to round-off (about 1e-12 on the regional runs), so 1e-6 is
/// far above round-off (the benchmark tests assert the same bound).
pub const MASS_ERROR_WARNING: f64 = 1e-6;
/// Relative mass-balance error above which the run's volumes are not credible (0.1 %).
pub const MASS_ERROR_SERIOUS: f64 = 1e-3;

/// `mass-balance`: the relative error of the run's water budget (change of storage minus
/// net input, over the input), against [`MASS_ERROR_WARNING`] and [`MASS_ERROR_SERIOUS`].
pub fn check_mass_balance(relative_error: f64) -> Vec<Finding> {
    let e = relative_error.abs();
    let severity = if !e.is_finite() || e > MASS_ERROR_SERIOUS {
        Severity::Serious
    } else if e > MASS_ERROR_WARNING {
        Severity::Warning
    } else {
        return Vec::new();
    };
    vec![Finding::new(
        severity,
        "mass-balance",
        "whole grid",
        format!(
            "relative mass-balance error {relative_error:.1e} exceeds {:.0e} (warning) / {:.0e} (serious): water was created or lost by the solver or the structures, so volumes and depths are off by about that share",
            MASS_ERROR_WARNING, MASS_ERROR_SERIOUS
        ),
    )]
}

/// The peak of a recorded series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Peak {
    /// Largest value.
    pub value: f64,
    /// Its time, h (the first time it was reached).
    pub time_h: f64,
    /// False when the largest value is the last record and the series still rises into
    /// it: the peak lies after the end of the run, and `value` is only a lower bound.
    pub reached: bool,
}

/// The peak of `values` recorded at `times_h`; `None` for an empty series or one without
/// a finite value. The peak is not reached when the largest value is the last record
/// and it is above the record before it (still rising at the end of the run).
pub fn peak_of(times_h: &[f64], values: &[f64]) -> Option<Peak> {
    let n = values.len().min(times_h.len());
    let mut best: Option<(usize, f64)> = None;
    for (k, &v) in values[..n].iter().enumerate() {
        if v.is_finite() && best.is_none_or(|(_, b)| v > b) {
            best = Some((k, v));
        }
    }
    let (k, value) = best?;
    let rising = k + 1 == n && n >= 2 && values[n - 1] > values[n - 2];
    Some(Peak {
        value,
        time_h: times_h[k],
        reached: !rising,
    })
}

/// `peak-not-reached`: a serious finding when the series `what` at `place` (a gauge's
/// discharge, a reservoir's release) is still rising at its last record, so its peak
/// lies after the end of the run.
pub fn check_peak(place: &str, what: &str, times_h: &[f64], values: &[f64]) -> Option<Finding> {
    let p = peak_of(times_h, values)?;
    if p.reached {
        return None;
    }
    let n = values.len().min(times_h.len());
    Some(Finding::new(
        Severity::Serious,
        "peak-not-reached",
        place,
        format!(
            "{what} still rising at the end of the run ({:.0} at {:.1} h, up from {:.0} at {:.1} h): the peak comes later than t_end, so {:.0} is a lower bound, not the peak; run longer",
            values[n - 1],
            times_h[n - 1],
            values[n - 2],
            times_h[n - 2],
            values[n - 1]
        ),
    ))
}

/// What a cell's surface is, for the land-only figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Surface {
    /// Land: counted in the largest depth, velocities, exposure and the maps' statistics.
    Land,
    /// The sea (held at sea level: its depth is the sea bed, not a flood).
    Sea,
    /// Open water of the land cover (rivers, lakes, reservoirs on the map).
    Water,
    /// A reservoir's pool on the grid (its water is the reservoir's, not a flood).
    Pool,
    /// Outside the model (inactive cell).
    Outside,
}

impl Surface {
    /// Whether the cell is land.
    pub fn is_land(self) -> bool {
        self == Surface::Land
    }
}

/// Why water stands deep, or flows fast, at a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Setting {
    /// A reservoir's pool.
    Pool,
    /// A mountain valley (land-cover class mountain): narrow valleys and gorges the 1 km
    /// grid does not resolve hold water deep and drive it fast down steep beds.
    Valley,
    /// The plain: depth gathers where the flow is blocked (a pit left in the DEM, a dike,
    /// a road or rail embankment in the bed).
    Plain,
}

impl Setting {
    /// The word printed with a place.
    pub fn label(self) -> &'static str {
        match self {
            Setting::Pool => "pool",
            Setting::Valley => "valley",
            Setting::Plain => "plain",
        }
    }
}

/// A cell named for a reader: where it is and why it matters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellSite {
    /// Row and column on the model grid.
    pub row: usize,
    /// Column.
    pub col: usize,
    /// County (from `counties.tif`), if known.
    pub county: Option<String>,
    /// Longitude and latitude of the cell centre, WGS 84 degrees, if the grid has a CRS.
    pub lon_lat: Option<(f64, f64)>,
    /// Pool, valley or plain.
    pub setting: Setting,
    /// More on the setting (e.g. bed elevation, HAND), for the reason.
    pub detail: String,
}

impl CellSite {
    /// `涿州市 (115.97 E, 39.49 N; cell 322, 346)`.
    pub fn place(&self) -> String {
        let mut s = self.county.clone().unwrap_or_else(|| "cell".into());
        match self.lon_lat {
            Some((lon, lat)) => s.push_str(&format!(
                " ({lon:.3} E, {lat:.3} N; cell {}, {})",
                self.row, self.col
            )),
            None => s.push_str(&format!(" (cell {}, {})", self.row, self.col)),
        }
        s
    }
}

/// The largest value on land cells and its cell (the first such cell in row-major order
/// on ties); `None` when no land cell has a finite value above 0.
pub fn largest_on_land(values: &[f32], surface: &[Surface]) -> Option<(usize, f32)> {
    let mut best: Option<(usize, f32)> = None;
    for (i, (&v, s)) in values.iter().zip(surface).enumerate() {
        if s.is_land() && v.is_finite() && v > 0.0 && best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best
}

/// Depth on land above which a cell is reported, m (`depth-on-land`). ASSUMPTION: a
/// stated screening bound, not a published one: on a 1 km grid a flood standing more
/// than 5 m over the floodplain (the bank, in river cells) is rare outside reservoirs,
/// and usually marks water ponded in a pit or a valley the grid does not resolve.
pub const DEPTH_ON_LAND_WARNING_M: f32 = 5.0;

/// Land speed above which a cell is reported, m/s (`velocity`): beyond what rivers in
/// flood reach (a few m/s); the local-inertial scheme, without advection, is meant for
/// subcritical flow (Bates et al. 2010; de Almeida & Bates 2013), so such a speed marks
/// a steep drop between cells, not a flood velocity to pass on.
pub const LAND_SPEED_WARNING_MS: f32 = 10.0;

/// Counts land cells above `limit` and names the largest.
fn land_excess(values: &[f32], surface: &[Surface], limit: f32) -> Option<(usize, f32, usize)> {
    let (cell, v) = largest_on_land(values, surface)?;
    if v <= limit {
        return None;
    }
    let n = values
        .iter()
        .zip(surface)
        .filter(|(&x, s)| s.is_land() && x > limit)
        .count();
    Some((cell, v, n))
}

/// `depth-on-land`: a warning naming the deepest land cell (outside the sea, open water
/// and reservoir pools) when its largest depth exceeds `limit_m`, with the number of such
/// cells. `site` names a cell.
pub fn check_depth_on_land(
    max_depth_m: &[f32],
    surface: &[Surface],
    limit_m: f32,
    site: &dyn Fn(usize) -> CellSite,
) -> Vec<Finding> {
    let Some((cell, d, n)) = land_excess(max_depth_m, surface, limit_m) else {
        return Vec::new();
    };
    let s = site(cell);
    vec![Finding::new(
        Severity::Warning,
        "depth-on-land",
        s.place(),
        format!(
            "largest depth on land {d:.2} m, above {limit_m} m ({n} land cells above it), in a {} ({}): not a pool or the sea, so check the DEM there (a pit, a valley or embankment the 1 km grid does not resolve) before reading it as flood depth",
            s.setting.label(),
            s.detail
        ),
    )]
}

/// `velocity`: a warning naming the fastest land cell when its largest speed exceeds
/// `limit_ms`, with the number of such cells and the depth there.
pub fn check_land_velocity(
    max_speed_ms: &[f32],
    max_depth_m: &[f32],
    surface: &[Surface],
    limit_ms: f32,
    site: &dyn Fn(usize) -> CellSite,
) -> Vec<Finding> {
    let Some((cell, v, n)) = land_excess(max_speed_ms, surface, limit_ms) else {
        return Vec::new();
    };
    let s = site(cell);
    vec![Finding::new(
        Severity::Warning,
        "velocity",
        s.place(),
        format!(
            "speed {v:.1} m/s on land (largest depth there {:.2} m), above {limit_ms} m/s ({n} land cells above it), in a {} ({}): the local-inertial scheme drops advection and is meant for subcritical flow, so this marks a steep drop between cells, not a velocity to pass on",
            max_depth_m.get(cell).copied().unwrap_or(f32::NAN),
            s.setting.label(),
            s.detail
        ),
    )]
}

/// Kind of an observed rain total.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RainKind {
    /// At one gauge.
    Point,
    /// Mean over an area.
    Areal,
}

/// One of the largest observed rain totals (`models/observed_rain_extremes.toml`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedRain {
    /// Point or areal.
    pub kind: RainKind,
    /// Event (year and dates).
    pub event: String,
    /// Gauge or area.
    pub place: String,
    /// Total, mm.
    pub total_mm: f64,
    /// Duration of the total, h.
    pub duration_h: f64,
    /// Area of an areal mean, km².
    #[serde(default)]
    pub area_km2: Option<f64>,
    /// Where the number comes from (copied from `../reference/`).
    pub source: String,
    /// Marked `[?]` (uncertain) in the reference.
    #[serde(default)]
    pub uncertain: bool,
}

/// The table of the largest observed rain totals.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ObservedRainTable {
    /// The records.
    pub record: Vec<ObservedRain>,
}

/// Reads `models/observed_rain_extremes.toml`.
pub fn load_observed_rain(path: &std::path::Path) -> crate::Result<ObservedRainTable> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::io(path, e))?;
    let t: ObservedRainTable = toml::from_str(&text).map_err(|e| crate::Error::Invalid {
        path: path.to_path_buf(),
        field: "record".into(),
        message: e.to_string(),
    })?;
    for (i, r) in t.record.iter().enumerate() {
        let ok = r.total_mm > 0.0
            && r.duration_h > 0.0
            && (r.kind == RainKind::Point || r.area_km2.is_some_and(|a| a > 0.0));
        if !ok {
            return Err(crate::Error::Invalid {
                path: path.to_path_buf(),
                field: format!("record[{i}]"),
                message: "needs total_mm > 0, duration_h > 0 and, for an areal mean, area_km2 > 0"
                    .into(),
            });
        }
    }
    Ok(t)
}

/// A run's rain, for [`check_rain`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunRain {
    /// Duration over which it falls, h.
    pub duration_h: f64,
    /// Largest cell total, mm, and where.
    pub point_mm: f64,
    /// Where the largest cell total falls.
    pub point_place: String,
    /// Mean over the rained area, mm.
    pub areal_mm: f64,
    /// Rained area, km².
    pub area_km2: f64,
}

/// `rain-depth`: the run's largest cell total and areal mean against the largest observed
/// totals. A record bounds the run when it is comparable: for an areal mean, its area is
/// at least the run's (a mean over a larger area is smaller). Above the largest comparable
/// record of at most the run's duration (rain observed within the same time or less) the
/// run gets a warning; above the largest comparable record of any duration (more rain than
/// ever measured, even over longer storms) a serious finding.
pub fn check_rain(table: &ObservedRainTable, run: &RunRain) -> Vec<Finding> {
    let mut out = Vec::new();
    for (kind, value, place, label) in [
        (
            RainKind::Point,
            run.point_mm,
            run.point_place.clone(),
            "largest cell total",
        ),
        (
            RainKind::Areal,
            run.areal_mm,
            format!("rained area ({:.0} km²)", run.area_km2),
            "areal mean",
        ),
    ] {
        let comparable = |r: &&ObservedRain| {
            r.kind == kind && (kind == RainKind::Point || r.area_km2.unwrap_or(0.0) >= run.area_km2)
        };
        let largest = |within: bool| {
            table
                .record
                .iter()
                .filter(comparable)
                .filter(|r| !within || r.duration_h <= run.duration_h)
                .max_by(|a, b| a.total_mm.total_cmp(&b.total_mm))
        };
        let (severity, rec, scope) = match (largest(false), largest(true)) {
            (Some(r), _) if value > r.total_mm => (Severity::Serious, r, "of any duration"),
            (_, Some(r)) if value > r.total_mm => {
                (Severity::Warning, r, "within the run's duration or less")
            }
            _ => continue,
        };
        out.push(Finding::new(
            severity,
            "rain-depth",
            place,
            format!(
                "{label} {value:.0} mm in {:.0} h exceeds the largest observed {} total {scope} in the table: {:.0} mm in {:.0} h{}, {} {} ({}{}); check the design rain statistics",
                run.duration_h,
                if kind == RainKind::Point { "point" } else { "comparable areal" },
                rec.total_mm,
                rec.duration_h,
                rec.area_km2.map(|a| format!(" over {a:.0} km²")).unwrap_or_default(),
                rec.event,
                rec.place,
                rec.source,
                if rec.uncertain { "; marked uncertain" } else { "" }
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serious_findings_come_first() {
        let f = sorted(vec![
            Finding::new(Severity::Info, "b", "x", "r"),
            Finding::new(Severity::Serious, "z", "y", "r"),
            Finding::new(Severity::Warning, "a", "x", "r"),
        ]);
        let s: Vec<Severity> = f.iter().map(|f| f.severity).collect();
        assert_eq!(s, [Severity::Serious, Severity::Warning, Severity::Info]);
        assert!(f[0].line().starts_with("SERIOUS [z] y:"));
    }

    #[test]
    fn mass_balance_bounds() {
        assert!(check_mass_balance(-5.8e-15).is_empty());
        assert_eq!(check_mass_balance(2e-5)[0].severity, Severity::Warning);
        assert_eq!(check_mass_balance(-0.01)[0].severity, Severity::Serious);
        assert_eq!(check_mass_balance(f64::NAN)[0].severity, Severity::Serious);
    }

    #[test]
    fn a_peak_at_the_last_record_is_not_reached() {
        let t = [0.0, 1.0, 2.0, 3.0];
        let p = peak_of(&t, &[0.0, 5.0, 8.0, 9.0]).unwrap();
        assert!(!p.reached);
        assert_eq!((p.value, p.time_h), (9.0, 3.0));
        let f = check_peak("张坊", "discharge", &t, &[0.0, 5.0, 8.0, 9.0]).unwrap();
        assert_eq!(
            (f.severity, f.check.as_str()),
            (Severity::Serious, "peak-not-reached")
        );
        // A peak inside the run, and a flat top at the end, are reached.
        assert!(peak_of(&t, &[0.0, 9.0, 8.0, 7.0]).unwrap().reached);
        assert!(peak_of(&t, &[0.0, 9.0, 9.0, 9.0]).unwrap().reached);
        assert!(check_peak("x", "discharge", &t, &[0.0, 9.0, 8.0, 7.0]).is_none());
        assert!(peak_of(&t, &[]).is_none());
    }

    fn site(i: usize) -> CellSite {
        CellSite {
            row: 0,
            col: i,
            county: Some("县".into()),
            lon_lat: None,
            setting: Setting::Plain,
            detail: "bed 3 m".into(),
        }
    }

    #[test]
    fn land_checks_leave_out_sea_water_and_pools() {
        use Surface::*;
        let surface = [Sea, Water, Pool, Land, Land];
        let depth = [25.0, 12.0, 30.0, 6.0, 1.0];
        assert_eq!(largest_on_land(&depth, &surface), Some((3, 6.0)));
        let f = check_depth_on_land(&depth, &surface, DEPTH_ON_LAND_WARNING_M, &site);
        assert_eq!(f.len(), 1);
        assert!(f[0].place.contains("cell 0, 3"), "{}", f[0].place);
        assert!(f[0].reason.contains("6.00 m"), "{}", f[0].reason);
        assert!(check_depth_on_land(&[25.0, 1.0], &[Sea, Land], 5.0, &site).is_empty());
        let speed = [500.0, 0.0, 0.0, 12.0, 2.0];
        let v = check_land_velocity(&speed, &depth, &surface, LAND_SPEED_WARNING_MS, &site);
        assert_eq!(v.len(), 1);
        assert!(v[0].reason.contains("12.0 m/s"), "{}", v[0].reason);
    }

    #[test]
    fn rain_check_fires_above_the_table() {
        let rec = |kind, total_mm, duration_h, area_km2| ObservedRain {
            kind,
            event: "e".into(),
            place: "p".into(),
            total_mm,
            duration_h,
            area_km2,
            source: "s".into(),
            uncertain: false,
        };
        let table = ObservedRainTable {
            record: vec![
                rec(RainKind::Point, 950.0, 24.0, None),
                rec(RainKind::Point, 2050.0, 168.0, None),
                rec(RainKind::Areal, 300.0, 24.0, Some(900.0)),
                rec(RainKind::Areal, 500.0, 168.0, Some(43_800.0)),
            ],
        };
        let run = |point_mm, areal_mm, area_km2| RunRain {
            duration_h: 24.0,
            point_mm,
            point_place: "cell".into(),
            areal_mm,
            area_km2,
        };
        assert!(check_rain(&table, &run(600.0, 250.0, 30_000.0)).is_empty());
        let f = check_rain(&table, &run(1000.0, 250.0, 30_000.0));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].reason.contains("950 mm"), "{}", f[0].reason);
        let f = check_rain(&table, &run(2100.0, 520.0, 30_000.0));
        assert_eq!(f.len(), 2);
        assert!(f.iter().all(|f| f.severity == Severity::Serious));
        // The 900 km² record does not bound a mean over 30,000 km².
        assert!(check_rain(&table, &run(100.0, 400.0, 30_000.0)).is_empty());
        assert_eq!(check_rain(&table, &run(100.0, 400.0, 500.0)).len(), 1);
    }
}
