//! The `[structures]` section of a flood scenario: which reservoirs, detention basins,
//! levee breaches and diversions of `models/structures/*.toml` take part, and where
//! each joins the regional grid.
//!
//! Placement on the 1 km grid (documented in the README, "Hydraulic structures"):
//! - a reservoir's dam (or its `grid_outlet`) is snapped to the stream cell within
//!   `snap_radius_cells` whose upstream area best matches the published catchment
//!   (Lindsay et al. 2008); its pool is grown from that cell up the drainage, lowest cells
//!   first, within the flood-storage band (check level minus flood-limit level) above the
//!   dam cell, up to the water area at the check level given by the storage curve; the
//!   release enters the next cell downstream along the D8 directions;
//! - a detention basin's gate and a diversion's intake are snapped the same way, to the
//!   cell whose upstream area best matches the river's published (or estimated) area at
//!   the works (`link_area`, `intake_area`); for every structure a snapped area more than
//!   25 % from the published one is an error unless the record accepts it with a reason
//!   (`accept_area_error`), which is then a warning in every output;
//! - each pool is walled on the grid's faces from the cells outside its dam's catchment
//!   (the dam), so that the release cannot flow back into it and no other river drains
//!   into it;
//! - levees (on by default; `levees = [names]` or `levees = false`) are walls on the
//!   faces of the routing grid ([`build_works_on`]): the river corridor is the cells the
//!   levee's line passes plus the stream cells touching them, and every face between the
//!   corridor and a cell on the levee's bank carries the crest: the higher of the two
//!   cells' beds (the bed the model runs on) plus `crest_above_ground_m`
//!   ([`crate::flood::structures::levee_faces`]);
//! - a levee of a perched river (`perched_bed_above_ground_m`) has its river corridor
//!   raised so that the river's bed stands above the plain and the land between the dikes
//!   at the channel's bank ([`perch_levee_corridors`]);
//! - a breach of a levee on the grid lowers the levee faces nearest to its location
//!   (whole faces for every Δx of width, the remainder as a weir; a weir from the channel's
//!   water surface where the river cell has a subgrid channel; see
//!   [`crate::flood::structures::coupling`]);
//! - without the grid's faces ([`build_works`], or `levees = false`), a breach joins the
//!   largest river within the radius to the first non-stream cell on the levee's bank
//!   (left or right looking downstream), with crests measured from the unconditioned DEM
//!   at the river cell.

use crate::flood::routing::Domain;
use crate::flood::simulate::Gauge;
use crate::flood::structures::levee_faces::{self, Bank, LeveeFace};
use crate::flood::structures::{
    self, detention::TriggerKind, BasinSite, BreachFace, BreachSite, DiversionSite, ReadingPoint,
    ReservoirSite, Works,
};
use crate::grid::io::{read_raster, read_raster_as};
use crate::grid::warp::{self, GridSpec};
use crate::grid::Grid;
use crate::terrain;
use crate::{Error, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};

fn snap_radius() -> usize {
    3
}

/// Which structures a scenario switches on, and the decisions it takes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StructuresSection {
    /// Folder of the structure files (reservoirs.toml, detention_basins.toml,
    /// levees.toml, diversions.toml), relative to the project root.
    #[serde(default = "structures_dir")]
    pub dir: PathBuf,
    /// Reservoirs by name; absent: every reservoir of the file inside the domain; `[]`: none.
    #[serde(default)]
    pub reservoirs: Option<Vec<String>>,
    /// Detention basins by name; absent: every basin inside the domain.
    #[serde(default)]
    pub detention_basins: Option<Vec<String>>,
    /// Diversions to the sea by name; absent: all of them.
    #[serde(default)]
    pub diversions: Option<Vec<String>>,
    /// Breach scenarios of `levees.toml`, by name (the file's trigger), or as
    /// `{ name = "…", after_h = 30.0 }` to start the breach that many hours after the
    /// scenario start instead (design storms have no calendar). None by default.
    #[serde(default)]
    pub breaches: Vec<BreachChoice>,
    /// Historical event whose scheduled gate openings apply (e.g. "2023-07"); without
    /// it, only the rule-based triggers (gauge discharge, stage) open gates.
    #[serde(default)]
    pub event: Option<String>,
    /// Keep the rule-based triggers (gauge discharge, stage) of the basins; false for a
    /// replay "as operated", where only the decisions listed in `open` open gates.
    #[serde(default = "keep_rules")]
    pub rule_triggers: bool,
    /// Gate openings decided by the scenario, at a calendar time.
    #[serde(default, rename = "open")]
    pub openings: Vec<OpeningSection>,
    /// Reservoir levels at the start other than the flood-limit level.
    #[serde(default, rename = "initial_level")]
    pub initial_levels: Vec<InitialLevelSection>,
    /// Releases ordered in place of the reservoirs' flood-season rules (预泄, 错峰):
    /// `[[structures.release]]`, see [`ReleaseSection`].
    #[serde(default, rename = "release")]
    pub releases: Vec<ReleaseSection>,
    /// Search radius for snapping structures to streams, cells.
    #[serde(default = "snap_radius")]
    pub snap_radius_cells: usize,
    /// Levees of `levees.toml` standing as crests on the grid's faces: `true` (default)
    /// all of them, `false` none, or a list of names.
    #[serde(default)]
    pub levees: LeveeChoice,
}

/// Which levees a scenario puts on the grid.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum LeveeChoice {
    /// `true`: every levee of the file; `false`: none.
    All(bool),
    /// The named levees.
    Named(Vec<String>),
}

impl Default for LeveeChoice {
    fn default() -> Self {
        LeveeChoice::All(true)
    }
}

fn keep_rules() -> bool {
    true
}

fn structures_dir() -> PathBuf {
    PathBuf::from("models/structures")
}

/// A breach switched on by a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum BreachChoice {
    /// The breach with the trigger of `levees.toml`.
    Named(String),
    /// The breach, started at a time after the scenario start.
    Timed {
        /// Breach name in `levees.toml`.
        name: String,
        /// Start, hours after the scenario start.
        after_h: f64,
    },
}

impl BreachChoice {
    fn name(&self) -> &str {
        match self {
            BreachChoice::Named(n) | BreachChoice::Timed { name: n, .. } => n,
        }
    }
}

/// A gate opened by decision.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpeningSection {
    /// Detention basin name.
    pub basin: String,
    /// Beijing time "YYYY-MM-DDThh:mm", or hours after the start with `after_h`.
    #[serde(default)]
    pub time: Option<String>,
    /// Hours after the scenario start.
    #[serde(default)]
    pub after_h: Option<f64>,
}

/// A reservoir's level at the start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitialLevelSection {
    /// Reservoir name.
    pub reservoir: String,
    /// Level, m, in the datum of `reservoirs.toml`.
    pub level_m: f64,
}

/// A release ordered for one reservoir (`[[structures.release]]`), in exactly one of
/// three forms ([`crate::flood::structures::operation`]):
///
/// ```toml
/// # A constant release (e.g. a pre-release, 预泄, before the storm arrives).
/// [[structures.release]]
/// reservoir = "密云"
/// rate_m3s = 300.0
///
/// # A schedule: each rate holds from its time until the next entry; before the first
/// # entry, and from an entry without `rate_m3s`, the flood-season rule applies.
/// [[structures.release]]
/// reservoir = "官厅"
/// schedule = [ { after_h = 0.0, rate_m3s = 0.0 }, { after_h = 40.0 } ]
///
/// # A rule on a gauge (错峰): release 2000 m³/s (or, without `release_m3s`, what the
/// # rule gives) while 顺义 carries less than 1500 m³/s, and 0 while it carries more.
/// [[structures.release]]
/// reservoir = "密云"
/// gauge = "潮白河 at 顺义"
/// while_below_m3s = 1500.0
/// release_m3s = 2000.0
/// otherwise_m3s = 0.0
/// decide_every_h = 1.0
/// ```
///
/// Above `safety_level_m` (default: the check level 校核水位) the rule's release takes
/// over where it is larger; at or below `floor_level_m` (default: the dead level 死水位,
/// or the bottom of the storage curve) nothing is released; an order above the
/// reservoir's maximum release is refused.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSection {
    /// Reservoir name, switched on in this scenario.
    pub reservoir: String,
    /// A constant release, m³/s.
    #[serde(default)]
    pub rate_m3s: Option<f64>,
    /// Releases from given times on.
    #[serde(default)]
    pub schedule: Option<Vec<ScheduleEntrySection>>,
    /// Gauge of the rule (a `[[gauge]]` of the scenario).
    #[serde(default)]
    pub gauge: Option<String>,
    /// The rule's threshold discharge at the gauge, m³/s.
    #[serde(default)]
    pub while_below_m3s: Option<f64>,
    /// Release while the gauge is below the threshold, m³/s; absent: the rule's.
    #[serde(default)]
    pub release_m3s: Option<f64>,
    /// Release while the gauge is at or above the threshold, m³/s (default 0).
    #[serde(default)]
    pub otherwise_m3s: Option<f64>,
    /// How long a decision on the gauge holds, h (default 1).
    #[serde(default)]
    pub decide_every_h: Option<f64>,
    /// Level above which the rule takes over where it releases more, m.
    #[serde(default)]
    pub safety_level_m: Option<f64>,
    /// Level at or below which nothing is released, m.
    #[serde(default)]
    pub floor_level_m: Option<f64>,
}

/// One entry of a release schedule: from `time` (Beijing time) or `after_h` hours after
/// the scenario start, release `rate_m3s` (absent: the flood-season rule).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleEntrySection {
    /// Beijing time "YYYY-MM-DDThh:mm".
    #[serde(default)]
    pub time: Option<String>,
    /// Hours after the scenario start.
    #[serde(default)]
    pub after_h: Option<f64>,
    /// Release, m³/s; absent: the rule.
    #[serde(default)]
    pub rate_m3s: Option<f64>,
}

/// The longest a decision on a gauge may hold, h.
const MAX_DECISION_INTERVAL_H: f64 = 240.0;

/// The [`Operation`](structures::Operation) a `[[structures.release]]` orders, checked
/// against the reservoir's record and the scenario's gauges.
fn release_operation(
    rs: &ReleaseSection,
    rec: &structures::ReservoirRecord,
    curve_bottom_m: f64,
    gauges: &[Gauge],
    epoch0_s: f64,
    path: &Path,
) -> Result<structures::Operation> {
    use structures::{Order, ScheduledRelease};
    let f = |field: &str| format!("structures.release[{}].{field}", rs.reservoir);
    let max = rec.max_release_m3s.value;
    let rate = |q: f64, field: &str| -> Result<f64> {
        if q.is_finite() && (0.0..=max).contains(&q) {
            Ok(q)
        } else {
            Err(invalid(
                path,
                &f(field),
                format!(
                    "{q} m³/s: a release must lie between 0 and the reservoir's maximum release {max} m³/s (reservoirs.toml, max_release_m3s)"
                ),
            ))
        }
    };
    let forms = [
        rs.rate_m3s.is_some(),
        rs.schedule.is_some(),
        rs.gauge.is_some(),
    ];
    if forms.iter().filter(|&&b| b).count() != 1 {
        return Err(invalid(
            path,
            &f("rate_m3s"),
            "give exactly one of `rate_m3s`, `schedule` or `gauge` (with `while_below_m3s`)".into(),
        ));
    }
    if rs.gauge.is_none()
        && (rs.while_below_m3s.is_some()
            || rs.release_m3s.is_some()
            || rs.otherwise_m3s.is_some()
            || rs.decide_every_h.is_some())
    {
        return Err(invalid(
            path,
            &f("gauge"),
            "`while_below_m3s`, `release_m3s`, `otherwise_m3s` and `decide_every_h` belong to a rule on a gauge: add `gauge = \"…\"` or remove them".into(),
        ));
    }
    let order = if let Some(q) = rs.rate_m3s {
        Order::Rate(rate(q, "rate_m3s")?)
    } else if let Some(entries) = &rs.schedule {
        if entries.is_empty() {
            return Err(invalid(
                path,
                &f("schedule"),
                "empty: give at least one `{ after_h = …, rate_m3s = … }`".into(),
            ));
        }
        let mut out: Vec<ScheduledRelease> = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let field = format!("schedule[{i}]");
            let from_s = match (&e.time, e.after_h) {
                (Some(t), None) => structures::beijing_time_s(t).ok_or_else(|| {
                    invalid(
                        path,
                        &f(&format!("{field}.time")),
                        format!("`{t}` is not a Beijing time like 2023-07-31T23:30"),
                    )
                })?,
                (None, Some(h)) if h.is_finite() && h >= 0.0 => epoch0_s + h * 3600.0,
                _ => {
                    return Err(invalid(
                        path,
                        &f(&field),
                        "give either `time = \"YYYY-MM-DDThh:mm\"` or `after_h` ≥ 0, not both"
                            .into(),
                    ))
                }
            };
            if let Some(prev) = out.last() {
                if from_s <= prev.from_s {
                    return Err(invalid(
                        path,
                        &f(&field),
                        format!(
                            "times must increase: this entry starts {:.2} h after the start, not after the previous entry ({:.2} h); sort the schedule",
                            (from_s - epoch0_s) / 3600.0,
                            (prev.from_s - epoch0_s) / 3600.0
                        ),
                    ));
                }
            }
            let rate_m3s = match e.rate_m3s {
                Some(q) => Some(rate(q, &format!("{field}.rate_m3s"))?),
                None => None,
            };
            out.push(ScheduledRelease { from_s, rate_m3s });
        }
        Order::Schedule(out)
    } else {
        let gauge = rs.gauge.clone().unwrap_or_default();
        if !gauges.iter().any(|g| g.name == gauge) {
            let known: Vec<&str> = gauges.iter().map(|g| g.name.as_str()).collect();
            return Err(invalid(
                path,
                &f("gauge"),
                format!(
                    "`{gauge}` is not a gauge of this scenario (its gauges: {}): add a [[gauge]] named \"{gauge}\" or name one of those",
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ),
            ));
        }
        let below = rs.while_below_m3s.ok_or_else(|| {
            invalid(
                path,
                &f("while_below_m3s"),
                "missing: the gauge discharge (m³/s) below which the release is made".into(),
            )
        })?;
        if !(below.is_finite() && below > 0.0) {
            return Err(invalid(
                path,
                &f("while_below_m3s"),
                format!("{below}: must be a positive discharge, m³/s"),
            ));
        }
        let every_h = rs.decide_every_h.unwrap_or(1.0);
        if !(every_h > 0.0 && every_h <= MAX_DECISION_INTERVAL_H) {
            return Err(invalid(
                path,
                &f("decide_every_h"),
                format!("{every_h}: must lie in (0, {MAX_DECISION_INTERVAL_H}] h"),
            ));
        }
        Order::OnGauge {
            gauge,
            below_m3s: below,
            release_m3s: match rs.release_m3s {
                Some(q) => Some(rate(q, "release_m3s")?),
                None => None,
            },
            otherwise_m3s: rate(rs.otherwise_m3s.unwrap_or(0.0), "otherwise_m3s")?,
            decide_every_s: every_h * 3600.0,
        }
    };
    let crest = rec.crest_level_m.value;
    let safety = rs.safety_level_m.unwrap_or(rec.check_level_m.value);
    let floor = rs.floor_level_m.unwrap_or(
        rec.dead_level_m
            .as_ref()
            .map_or(curve_bottom_m, |d| d.value.max(curve_bottom_m)),
    );
    if !(safety.is_finite() && safety > floor && safety <= crest) {
        return Err(invalid(
            path,
            &f("safety_level_m"),
            format!(
                "{safety} m: must lie above the floor level {floor:.2} m and not above the dam crest {crest:.2} m"
            ),
        ));
    }
    if !(floor.is_finite() && floor >= curve_bottom_m) {
        return Err(invalid(
            path,
            &f("floor_level_m"),
            format!(
                "{floor} m: must lie at or above the bottom of the storage curve ({curve_bottom_m:.2} m)"
            ),
        ));
    }
    Ok(structures::Operation::new(order, safety, floor))
}

/// The regional grids the placement needs.
struct Placement {
    spec: GridSpec,
    acc_km2: Grid<f64>,
    dir: Grid<u8>,
    streams: Grid<u8>,
    ground: Grid<f64>,
}

impl Placement {
    fn load(model_dir: &Path) -> Result<Self> {
        let ground = read_raster(&model_dir.join("dem_source.tif"))?;
        let acc_km2 = read_raster(&model_dir.join("flow_acc.tif"))?;
        let dir = read_raster_as::<u8>(&model_dir.join("flow_dir.tif"), 1)?;
        let streams = read_raster_as::<u8>(&model_dir.join("streams.tif"), 1)?;
        ground.check_aligned(&acc_km2, "dem_source.tif and flow_acc.tif")?;
        ground.check_aligned(&dir, "dem_source.tif and flow_dir.tif")?;
        ground.check_aligned(&streams, "dem_source.tif and streams.tif")?;
        Ok(Placement {
            spec: GridSpec::of(&ground),
            acc_km2,
            dir,
            streams,
            ground,
        })
    }

    fn cell(&self, lon: f64, lat: f64) -> Result<Option<(usize, usize)>> {
        let wgs84 = crate::grid::io::epsg_wkt(4326)?;
        let (x, y) = warp::transform_points(&[(lon, lat)], &wgs84, &self.spec.crs_wkt)?[0];
        let (r, c) = self.spec.transform.fractional_index(x, y);
        if r < 0.0 || c < 0.0 || r >= self.spec.rows as f64 || c >= self.spec.cols as f64 {
            return Ok(None);
        }
        Ok(Some((r as usize, c as usize)))
    }

    fn index(&self, rc: (usize, usize)) -> usize {
        rc.0 * self.spec.cols + rc.1
    }

    fn downstream(&self, rc: (usize, usize)) -> Option<(usize, usize)> {
        terrain::downstream_cell(
            self.dir.data[rc],
            rc.0,
            rc.1,
            self.spec.rows,
            self.spec.cols,
        )
    }
}

/// Pool cells of a reservoir: grown from the dam cell up the drainage, lowest first,
/// while the ground is within `band_m` above the dam cell, up to `max_cells` cells.
fn grow_pool(p: &Placement, dam: (usize, usize), band_m: f64, max_cells: usize) -> Vec<usize> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let (nr, nc) = (p.spec.rows, p.spec.cols);
    let z0 = p.ground.data[dam];
    let mut seen = vec![false; nr * nc];
    let mut heap = BinaryHeap::new();
    let key = |z: f64| (z * 1000.0).round() as i64;
    heap.push(Reverse((key(z0), dam.0, dam.1)));
    seen[p.index(dam)] = true;
    let mut pool = Vec::new();
    while let Some(Reverse((_, r, c))) = heap.pop() {
        if pool.len() >= max_cells.max(1) {
            break;
        }
        let z = p.ground.data[[r, c]];
        let within = z <= z0 + band_m;
        if !pool.is_empty() && !within {
            continue;
        }
        pool.push(r * nc + c);
        // Neighbours that drain into this cell (up the drainage).
        for (dr, dc) in terrain::D8_OFFSETS {
            let (rr, cc) = (r as isize + dr, c as isize + dc);
            if rr < 0 || cc < 0 || rr >= nr as isize || cc >= nc as isize {
                continue;
            }
            let (rr, cc) = (rr as usize, cc as usize);
            let i = rr * nc + cc;
            if seen[i] {
                continue;
            }
            if p.downstream((rr, cc)) == Some((r, c)) {
                seen[i] = true;
                let zz = p.ground.data[[rr, cc]];
                if zz.is_finite() {
                    heap.push(Reverse((key(zz), rr, cc)));
                }
            }
        }
    }
    pool.sort_unstable();
    pool
}

/// The cell where a structure joins the grid: the cell within the radius whose upstream
/// area best matches the published one (smallest |ln(A / A_pub)|, Lindsay et al. 2008).
/// A snapped area more than [`structures::provenance::AREA_TOLERANCE`] from the
/// published one is an error that names the structure, both areas and the fixes, unless
/// the record accepts it with a reason (then a warning in every output).
#[allow(clippy::too_many_arguments)]
fn place_by_area(
    p: &Placement,
    at: (usize, usize),
    snap: &structures::provenance::AreaSnap,
    default_radius: usize,
    what: &str,
    file: &Path,
    field: &str,
    findings: &mut Vec<crate::flood::plausibility::Finding>,
) -> Result<(usize, usize)> {
    use crate::flood::plausibility::{Finding, Severity};
    let radius = snap.snap_radius_cells.unwrap_or(default_radius);
    let published = snap.area_km2.value;
    let cell = terrain::snap_to_stream(p.acc_km2.data.view(), at.0, at.1, radius, Some(published))?;
    let snapped = p.acc_km2.data[cell];
    let err = snapped / published - 1.0;
    if err.abs() > structures::provenance::AREA_TOLERANCE {
        let what_areas = format!(
            "the best cell within {radius} cells, ({}, {}), drains {snapped:.0} km² against the published {published:.0} km² ({:+.0} %)",
            cell.0,
            cell.1,
            100.0 * err
        );
        match &snap.accept_area_error {
            Some(a) => findings.push(Finding::new(
                Severity::Warning,
                "structure-area",
                what,
                format!("{what_areas}; accepted in {}: {}", file.display(), a.reason),
            )),
            None => {
                return Err(invalid(
                    file,
                    field,
                    format!(
                        "{what} lies on the wrong river: {what_areas}. Fix: move the point closer to the river, give a larger `snap_radius_cells` (up to {}), correct the published area, or accept it with `accept_area_error = {{ reason = \"…\" }}`",
                        structures::provenance::MAX_SNAP_RADIUS_CELLS
                    ),
                ))
            }
        }
    }
    Ok(cell)
}

/// Height of a dam wall above the higher bed of its face, m: far above any water on the
/// grid, so that the face is closed. Water above the dam's crest is the reservoir
/// model's to pass (over the crest as a weir), not the grid's.
pub const DAM_WALL_ABOVE_BED_M: f32 = 1000.0;

/// Closes every face between a reservoir's pool and a cell outside the dam's catchment
/// (the cell below the dam, and cells beside the pool that drain elsewhere), so that the
/// pool takes only water of its own drainage and the release, put into the cell below
/// the dam, cannot flow back into the pool (the dam is a wall on the grid, as levees are
/// walls on faces in LISFLOOD-FP). Faces to cells that drain into the pool stay open.
/// Returns the number of faces closed.
fn wall_pool(
    p: &Placement,
    dam: (usize, usize),
    pool: &[usize],
    domain: &mut Domain,
) -> Result<usize> {
    use crate::flood::routing::Face;
    let (nr, nc) = (p.spec.rows, p.spec.cols);
    let catchment = terrain::upstream_mask(p.dir.data.view(), dam.0, dam.1)?;
    let mut in_pool = vec![false; nr * nc];
    for &i in pool {
        in_pool[i] = true;
    }
    let mut walled = 0;
    for &i in pool {
        for (face, rr, cc) in Face::around(nr, nc, i / nc, i % nc) {
            let j = rr * nc + cc;
            if in_pool[j] || catchment[[rr, cc]] {
                continue;
            }
            let (Some(za), Some(zb)) = (domain.bed_at(i), domain.bed_at(j)) else {
                continue;
            };
            domain.set_crest_m(face, za.max(zb) + DAM_WALL_ABOVE_BED_M)?;
            walled += 1;
        }
    }
    Ok(walled)
}

/// An [`Error::Invalid`] naming the file and field (shared by the scenario sections).
pub(crate) fn invalid(path: &Path, field: &str, message: String) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        field: field.into(),
        message,
    }
}

/// Picks records by name: all (`None`) or the named ones, each of which must exist.
fn pick<'a, T>(
    all: &'a [T],
    name: impl Fn(&T) -> &str,
    wanted: &Option<Vec<String>>,
    path: &Path,
    field: &str,
    file: &Path,
) -> Result<Vec<&'a T>> {
    match wanted {
        None => Ok(all.iter().collect()),
        Some(names) => names
            .iter()
            .map(|n| {
                all.iter().find(|r| name(r) == n).ok_or_else(|| {
                    let known: Vec<&str> = all.iter().map(&name).collect();
                    invalid(
                        path,
                        field,
                        format!(
                            "unknown name `{n}`: {} lists {}",
                            file.display(),
                            known.join(", ")
                        ),
                    )
                })
            })
            .collect(),
    }
}

/// Builds the coupled structures of a scenario on the regional grid, without levees on
/// the grid's faces (breaches are weirs between a river cell and a land cell). `gauges`
/// are the scenario's gauges (triggers read them by name); `start_time` is the
/// scenario's t = 0 ("YYYY-MM-DD hh:mm:ss", Beijing time). Returns the works and notes
/// for `run.json`.
pub fn build_works(
    section: &StructuresSection,
    scenario_path: &Path,
    root: &Path,
    model_dir: &Path,
    gauges: &[Gauge],
    start_time: Option<&str>,
) -> Result<(Works, Vec<String>)> {
    build(
        section,
        scenario_path,
        root,
        model_dir,
        gauges,
        start_time,
        None,
    )
}

/// Builds the coupled structures as [`build_works`] does, and puts the scenario's levees
/// (`section.levees`) on the faces of `domain` as crests; breaches of those levees lower
/// their faces. `domain` must be on the grid of `model_dir`.
pub fn build_works_on(
    section: &StructuresSection,
    scenario_path: &Path,
    root: &Path,
    model_dir: &Path,
    gauges: &[Gauge],
    start_time: Option<&str>,
    domain: &mut Domain,
) -> Result<(Works, Vec<String>)> {
    build(
        section,
        scenario_path,
        root,
        model_dir,
        gauges,
        start_time,
        Some(domain),
    )
}

#[allow(clippy::too_many_arguments)]
fn build(
    section: &StructuresSection,
    scenario_path: &Path,
    root: &Path,
    model_dir: &Path,
    gauges: &[Gauge],
    start_time: Option<&str>,
    mut domain: Option<&mut Domain>,
) -> Result<(Works, Vec<String>)> {
    let path = scenario_path;
    let dir = if section.dir.is_absolute() {
        section.dir.clone()
    } else {
        root.join(&section.dir)
    };
    let p = Placement::load(model_dir)?;
    let mut notes = Vec::new();
    let epoch0_s = match start_time {
        Some(t) => structures::beijing_time_s(t).ok_or_else(|| {
            invalid(
                path,
                "start_time",
                format!("`{t}` is not a time like 2023-07-29 00:00:00"),
            )
        })?,
        None => 0.0,
    };
    let mut works = Works {
        epoch0_s,
        ..Works::default()
    };
    let radius = section.snap_radius_cells;
    // Reservoirs.
    let rfile = dir.join("reservoirs.toml");
    let records = structures::load_reservoirs(&rfile)?;
    let picked = pick(
        &records,
        |r| r.name.as_str(),
        &section.reservoirs,
        path,
        "structures.reservoirs",
        &rfile,
    )?;
    for rec in picked {
        if rec.location.outside_domain {
            continue;
        }
        let at = rec.grid_outlet.as_ref().unwrap_or(&rec.location);
        let field = format!("structures.reservoirs ({})", rec.name);
        let Some((r, c)) = p.cell(at.lon, at.lat)? else {
            notes.push(format!(
                "reservoir {}: outside the grid, left out",
                rec.name
            ));
            continue;
        };
        let dam = place_by_area(
            &p,
            (r, c),
            &structures::provenance::AreaSnap {
                area_km2: rec.catchment_km2.clone(),
                snap_radius_cells: rec.snap_radius_cells,
                accept_area_error: rec.accept_area_error.clone(),
            },
            radius,
            &format!("reservoir {}", rec.name),
            &rfile,
            &format!("reservoir[{}].catchment_km2", rec.name),
            &mut works.findings,
        )?;
        let outlet = p.downstream(dam).ok_or_else(|| {
            invalid(
                path,
                &field,
                "the dam cell drains off the grid; no outlet cell for the release".into(),
            )
        })?;
        let mut model = rec
            .model()
            .map_err(|m| invalid(&rfile, &format!("reservoir[{}]", rec.name), m))?;
        if let Some(il) = section
            .initial_levels
            .iter()
            .find(|l| l.reservoir == rec.name)
        {
            let crest = rec.crest();
            let bed = model.curve.level_m(0.0);
            if !(il.level_m.is_finite() && il.level_m >= bed && il.level_m <= crest.level_m) {
                return Err(invalid(
                    path,
                    "structures.initial_level",
                    format!(
                        "reservoir {}: level {} m must lie between the bottom of its storage curve ({bed:.2} m) and its dam crest ({:.2} m)",
                        rec.name, il.level_m, crest.level_m
                    ),
                ));
            }
            let s = model.curve.storage_m3(il.level_m);
            model = structures::Reservoir::with_storage(&rec.name, model.curve, model.rule, s)
                .with_crest(crest);
        }
        let operation = match section.releases.iter().find(|o| o.reservoir == rec.name) {
            Some(rs) => Some(release_operation(
                rs,
                rec,
                model.curve.level_m(0.0),
                gauges,
                epoch0_s,
                path,
            )?),
            None => None,
        };
        let rule = rec.rule();
        let band = (rule.check_level_m - rule.flood_limit_level_m).max(1.0);
        let area_top_m2 = (model.curve.storage_m3(rule.check_level_m)
            - model.curve.storage_m3(rule.check_level_m - 1.0))
        .max(0.0);
        let cell_m2 = p.spec.transform.dx.abs() * p.spec.transform.dy.abs();
        let max_cells = ((area_top_m2 / cell_m2).ceil() as usize).clamp(1, 1000);
        let pool = grow_pool(&p, dam, band, max_cells);
        let walled = match domain.as_deref_mut() {
            Some(d) => wall_pool(&p, dam, &pool, d)?,
            None => 0,
        };
        notes.push(format!(
            "reservoir {}: dam cell ({}, {}) with {:.0} km² upstream (published {:.0}), pool of {} cells walled on {walled} faces from cells outside its catchment, starts at {:.2} m",
            rec.name,
            dam.0,
            dam.1,
            p.acc_km2.data[dam],
            rec.catchment_km2.value,
            pool.len(),
            model.level_m()
        ));
        let mut site = ReservoirSite::new(model, pool, p.index(outlet));
        if let Some(op) = operation {
            notes.push(format!(
                "reservoir {}: release ordered in place of its rule ({}), within {:.2} m (safety level, above which the rule takes over) and {:.2} m (floor)",
                rec.name,
                match &op.order {
                    structures::Order::Rate(q) => format!("{q} m³/s"),
                    structures::Order::Schedule(e) => format!("a schedule of {} entries", e.len()),
                    structures::Order::OnGauge { gauge, below_m3s, .. } =>
                        format!("a rule on {gauge} below {below_m3s} m³/s"),
                },
                op.safety_level_m,
                op.floor_level_m
            ));
            if let Some(g) = op.gauge() {
                if !works.readings.iter().any(|q| q.name == g) {
                    let cell = gauges.iter().find(|x| x.name == g).map(|x| x.cell);
                    works.readings.push(ReadingPoint {
                        name: g.to_string(),
                        cell: cell.unwrap_or_default(),
                    });
                }
            }
            site.operation = Some(op);
        }
        works.reservoirs.push(site);
    }
    let mut ordered = std::collections::BTreeSet::new();
    for rs in &section.releases {
        if !ordered.insert(rs.reservoir.as_str()) {
            return Err(invalid(
                path,
                &format!("structures.release[{}]", rs.reservoir),
                "listed twice: give one order per reservoir (a schedule can change the rate)"
                    .into(),
            ));
        }
        if !works
            .reservoirs
            .iter()
            .any(|r| r.model.name == rs.reservoir)
        {
            return Err(invalid(
                path,
                &format!("structures.release[{}].reservoir", rs.reservoir),
                format!(
                    "reservoir `{}` is not switched on in this scenario (check `structures.reservoirs` and the names in reservoirs.toml)",
                    rs.reservoir
                ),
            ));
        }
    }
    for il in &section.initial_levels {
        if !works
            .reservoirs
            .iter()
            .any(|r| r.model.name == il.reservoir)
        {
            return Err(invalid(
                path,
                "structures.initial_level",
                format!(
                    "reservoir `{}` is not switched on in this scenario",
                    il.reservoir
                ),
            ));
        }
    }
    // Gauges the triggers can read.
    let reading_of = |name: &str| gauges.iter().find(|g| g.name == name).map(|g| g.cell);
    // Detention basins.
    let bfile = dir.join("detention_basins.toml");
    let records = structures::load_detention_basins(&bfile)?;
    let named = section.detention_basins.is_some();
    let picked = pick(
        &records,
        |r| r.name.as_str(),
        &section.detention_basins,
        path,
        "structures.detention_basins",
        &bfile,
    )?;
    for rec in picked {
        if rec.location.outside_domain || rec.link.outside_domain {
            if named {
                return Err(invalid(
                    path,
                    "structures.detention_basins",
                    format!("{} lies outside the model domain", rec.name),
                ));
            }
            continue;
        }
        let Some((r, c)) = p.cell(rec.link.lon, rec.link.lat)? else {
            continue;
        };
        let snap = rec.link_area.as_ref().ok_or_else(|| {
            invalid(
                &bfile,
                &format!("basin[{}].link_area", rec.name),
                "missing: give the river's upstream area at the gate".into(),
            )
        })?;
        let link = place_by_area(
            &p,
            (r, c),
            snap,
            radius,
            &format!("detention basin {} gate", rec.name),
            &bfile,
            &format!("basin[{}].link_area", rec.name),
            &mut works.findings,
        )?;
        let mut model = rec
            .model()
            .map_err(|m| invalid(&bfile, &format!("basin[{}]", rec.name), m))?;
        let mut triggers = Vec::new();
        for (t, trec) in model.triggers.iter().zip(&rec.trigger) {
            match trec.kind {
                TriggerKind::Scheduled => {
                    if section.event.is_some() && trec.event == section.event {
                        triggers.push(t.clone());
                    }
                }
                TriggerKind::GaugeDischarge | TriggerKind::Stage if !section.rule_triggers => {}
                TriggerKind::GaugeDischarge | TriggerKind::Stage => {
                    let name = trec
                        .gauge
                        .as_deref()
                        .or(trec.point.as_deref())
                        .unwrap_or_default();
                    match reading_of(name) {
                        Some(cell) => {
                            if !works.readings.iter().any(|q| q.name == name) {
                                works.readings.push(ReadingPoint {
                                    name: name.to_string(),
                                    cell,
                                });
                            }
                            triggers.push(t.clone());
                        }
                        None if named => {
                            return Err(invalid(
                                path,
                                "structures.detention_basins",
                                format!(
                                    "{} opens on `{name}`, which is not a gauge of this scenario: add a [[gauge]] named \"{name}\"",
                                    rec.name
                                ),
                            ))
                        }
                        None => notes.push(format!(
                            "detention basin {}: its trigger on `{name}` is off (no [[gauge]] of that name in the scenario)",
                            rec.name
                        )),
                    }
                }
            }
        }
        model.triggers = triggers;
        for o in section.openings.iter().filter(|o| o.basin == rec.name) {
            let t = match (&o.time, o.after_h) {
                (Some(t), None) => structures::beijing_time_s(t).ok_or_else(|| {
                    invalid(
                        path,
                        "structures.open.time",
                        format!("`{t}` is not a time like 2023-07-31T23:30"),
                    )
                })?,
                (None, Some(h)) if h >= 0.0 => epoch0_s + h * 3600.0,
                _ => {
                    return Err(invalid(
                        path,
                        "structures.open",
                        format!(
                            "basin {}: give exactly one of `time` or `after_h` (≥ 0)",
                            rec.name
                        ),
                    ))
                }
            };
            model.triggers.push(structures::Trigger::At { time_s: t });
        }
        let opens = if model.triggers.is_empty() {
            "never opens (no trigger in force)"
        } else {
            "gate on its triggers"
        };
        notes.push(format!(
            "detention basin {}: gate at cell ({}, {}) with {:.0} km² upstream, {:.2}×10⁸ m³, {opens}",
            rec.name,
            link.0,
            link.1,
            p.acc_km2.data[link],
            model.capacity_m3 / 1e8
        ));
        works.basins.push(BasinSite::new(model, p.index(link)));
    }
    for o in &section.openings {
        if !works.basins.iter().any(|b| b.model.name == o.basin) {
            return Err(invalid(
                path,
                "structures.open.basin",
                format!(
                    "detention basin `{}` is not switched on in this scenario",
                    o.basin
                ),
            ));
        }
    }
    // Levees on the grid, then breaches.
    let lfile = dir.join("levees.toml");
    let levees = structures::load_levees(&lfile)?;
    let on_grid = match domain {
        Some(d) => place_levees(section, path, &lfile, &levees, &p, d, &mut notes)?,
        None => Vec::new(),
    };
    for choice in &section.breaches {
        let name = &choice.name().to_string();
        let rec = levees
            .breach
            .iter()
            .find(|b| &b.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = levees.breach.iter().map(|b| b.name.as_str()).collect();
                invalid(
                    path,
                    "structures.breaches",
                    format!(
                        "unknown breach `{name}`: {} lists {}",
                        lfile.display(),
                        known.join(", ")
                    ),
                )
            })?;
        let mut model = levees.breach_model(name).ok_or_else(|| {
            invalid(
                &lfile,
                &format!("breach[{name}]"),
                "needs `time` or `trigger_stage_above_ground_m`, and its levee".into(),
            )
        })?;
        if let BreachChoice::Timed { after_h, .. } = choice {
            if !(after_h.is_finite() && *after_h >= 0.0) {
                return Err(invalid(
                    path,
                    "structures.breaches",
                    format!("{name}: after_h must be a time ≥ 0 h"),
                ));
            }
            model.trigger =
                crate::flood::structures::levee::BreachTrigger::At(epoch0_s + after_h * 3600.0);
        }
        let bank = levees
            .levee
            .iter()
            .find(|l| l.name == rec.levee)
            .map(|l| l.bank.clone())
            .unwrap_or_default();
        let Some((r, c)) = p.cell(rec.location.lon, rec.location.lat)? else {
            return Err(invalid(
                path,
                "structures.breaches",
                format!("{name} lies outside the grid"),
            ));
        };
        if let Some((_, faces)) = on_grid.iter().find(|(n, _)| n == &rec.levee) {
            let picked = breach_faces(faces, (r, c), p.spec.cols, BREACH_FACES);
            let Some(f0) = picked.first() else {
                return Err(invalid(
                    path,
                    "structures.breaches",
                    format!("{name}: its levee `{}` has no face on the grid", rec.levee),
                ));
            };
            notes.push(format!(
                "breach {name}: levee face {:?} between river cell {} and land cell {} (ground {:.1} m), {} faces lowered as the width reaches each Δx",
                f0.face,
                f0.river_cell,
                f0.land_cell,
                f0.ground_m,
                picked.len()
            ));
            works
                .breaches
                .push(BreachSite::on_faces(name, model, picked)?);
            continue;
        }
        let river = terrain::snap_to_stream(p.acc_km2.data.view(), r, c, radius, None)?;
        let land = landside_cell(&p, river, &bank).ok_or_else(|| {
            invalid(
                path,
                "structures.breaches",
                format!(
                    "{name}: no land cell found on the {bank} bank within 3 cells of the river"
                ),
            )
        })?;
        let ground = p.ground.data[river];
        notes.push(format!(
            "breach {name}: river cell ({}, {}) → land cell ({}, {}), ground {ground:.1} m",
            river.0, river.1, land.0, land.1
        ));
        works.breaches.push(BreachSite::new(
            name,
            model,
            p.index(river),
            p.index(land),
            ground,
        ));
    }
    // Diversions.
    let dfile = dir.join("diversions.toml");
    let records = structures::load_diversions(&dfile)?;
    let picked = pick(
        &records,
        |r| r.name.as_str(),
        &section.diversions,
        path,
        "structures.diversions",
        &dfile,
    )?;
    for rec in picked {
        let Some((r, c)) = p.cell(rec.intake.lon, rec.intake.lat)? else {
            continue;
        };
        let intake = place_by_area(
            &p,
            (r, c),
            &rec.intake_area,
            radius,
            &format!("diversion {} intake", rec.name),
            &dfile,
            &format!("diversion[{}].intake_area", rec.name),
            &mut works.findings,
        )?;
        let model = rec.model();
        notes.push(format!(
            "diversion {}: intake cell ({}, {}) with {:.0} km² upstream, capacity {:.0} m³/s",
            rec.name, intake.0, intake.1, p.acc_km2.data[intake], model.capacity_m3s
        ));
        works
            .diversions
            .push(DiversionSite::new(model, p.index(intake)));
    }
    Ok((works, notes))
}

/// Grades the bed of every chosen levee's river corridor so that it falls monotonically
/// downstream ([`levee_faces::grade_monotone`]), along the cells the levee line passes
/// and along the D8 stream path while it stays in the corridor: between dikes the river
/// is a known channel, and the coarse DEM (or its pit filling) may leave a ridge across
/// it that would dam the flood and send it over the dikes (burning the known river
/// lines, as in SCIENCE.md's DEM conditioning). `bed` is row-major on the grid of
/// `model_dir`; call before the domain and its channels are built. Returns notes.
pub fn condition_levee_corridors(
    section: &StructuresSection,
    scenario_path: &Path,
    root: &Path,
    model_dir: &Path,
    bed: &mut [f32],
) -> Result<Vec<String>> {
    let Some((lfile, levees)) = section_levees(section, root)? else {
        return Ok(Vec::new());
    };
    let p = Placement::load(model_dir)?;
    let (nr, nc) = (p.spec.rows, p.spec.cols);
    if bed.len() != nr * nc {
        return Err(invalid(
            scenario_path,
            "structures.levees",
            format!(
                "the bed has {} cells, the model grid {}",
                bed.len(),
                nr * nc
            ),
        ));
    }
    let streams: Vec<bool> = p.streams.data.iter().map(|&v| v == 1).collect();
    let mut notes = Vec::new();
    for rec in chosen_levees(section, scenario_path, &lfile, &levees)? {
        let line = grid_line(&p, rec)?;
        let cells = levee_faces::line_cells(nr, nc, &line);
        let corridor = levee_faces::river_corridor(nr, nc, &line, Some(&streams));
        let (n1, cut1) = levee_faces::grade_monotone(bed, &cells);
        // The D8 river path from the corridor's first stream cell.
        let mut path = Vec::new();
        if let Some(&start) = cells.iter().find(|&&i| streams[i]) {
            let mut rc = (start / nc, start % nc);
            while corridor[rc.0 * nc + rc.1] && path.len() <= nr * nc {
                path.push(rc.0 * nc + rc.1);
                match p.downstream(rc) {
                    Some(next) => rc = next,
                    None => break,
                }
            }
        }
        let (n2, cut2) = levee_faces::grade_monotone(bed, &path);
        notes.push(format!(
            "levee {}: river corridor graded to fall downstream, {} cells lowered by up to {:.1} m (DEM ridges across the diked reach)",
            rec.name,
            n1 + n2,
            cut1.max(cut2)
        ));
    }
    Ok(notes)
}

/// Raises the river corridor of every chosen levee of a perched river (悬河, a levee with
/// `perched_bed_above_ground_m` = p in `levees.toml`) so that the river's bed stands p
/// above the ground of the corridor, and the land between the dikes stands at the
/// channel's bank above it. Call after [`condition_levee_corridors`] (the graded bed is
/// the ground) and after the subgrid channels are known, before the domain is built.
///
/// On the coarse DEM a river cell's elevation is the plain around it, and a subgrid
/// channel is cut `d` (its bank-full depth) below it (Neal et al. 2012), so a diked river
/// sits below the land outside its dikes, and a breach can only drain the land into it.
/// A perched river's bed lies above that land (it is built up by the sediment the dikes
/// keep on the floodplain between them; e.g. the lower 黄河 and the 永定河 below 卢沟桥).
/// Here every cell of the corridor is raised: a channel cell by `p + d` (its channel bed
/// then lies p above the graded ground), a corridor cell without a channel by `p + d_max`
/// (the land between the dikes at the level of the channels' banks), or by p without
/// channels. A cell in the corridors of two levees (the two banks of one river) is raised
/// once, by the larger p. The dikes' crests, placed later on the raised bed, stand
/// `crest_above_ground_m` above the land between the dikes. `channels` holds the subgrid
/// channels (`None`: none). Returns notes.
pub fn perch_levee_corridors(
    section: &StructuresSection,
    scenario_path: &Path,
    root: &Path,
    model_dir: &Path,
    bed: &mut [f32],
    channels: Option<&crate::flood::routing::ChannelCells>,
) -> Result<Vec<String>> {
    let Some((lfile, levees)) = section_levees(section, root)? else {
        return Ok(Vec::new());
    };
    let chosen = chosen_levees(section, scenario_path, &lfile, &levees)?;
    if chosen
        .iter()
        .all(|l| l.perched_bed_above_ground_m.is_none())
    {
        return Ok(Vec::new());
    }
    let p = Placement::load(model_dir)?;
    let (nr, nc) = (p.spec.rows, p.spec.cols);
    let n_ch = channels.map(|c| c.width_m.len());
    if bed.len() != nr * nc || n_ch.is_some_and(|n| n != nr * nc) {
        return Err(invalid(
            scenario_path,
            "structures.levees",
            format!(
                "the bed has {} cells, the model grid {}",
                bed.len(),
                nr * nc
            ),
        ));
    }
    let streams: Vec<bool> = p.streams.data.iter().map(|&v| v == 1).collect();
    let mut perch = vec![f32::NAN; nr * nc];
    let mut reaches = Vec::new();
    for rec in chosen {
        let Some(h) = &rec.perched_bed_above_ground_m else {
            continue;
        };
        let line = grid_line(&p, rec)?;
        let corridor = levee_faces::river_corridor(nr, nc, &line, Some(&streams));
        for (i, _) in corridor.iter().enumerate().filter(|(_, &v)| v) {
            let v = h.value as f32;
            if perch[i].is_nan() || perch[i] < v {
                perch[i] = v;
            }
        }
        reaches.push(rec.name.clone());
    }
    let cells: Vec<usize> = (0..nr * nc)
        .filter(|&i| !perch[i].is_nan() && !bed[i].is_nan())
        .collect();
    let raised = perch_beds(nr, nc, bed, &perch, channels);
    let mut notes = Vec::new();
    if !cells.is_empty() {
        let (lo, hi) = raised
            .iter()
            .fold((f32::INFINITY, 0.0f32), |(a, b), &(_, r)| {
                (a.min(r), b.max(r))
            });
        notes.push(format!(
            "perched river ({}): {} of {} corridor cells raised by {lo:.2}–{hi:.2} m, so that the river's bed stands {} m above the graded ground (no higher than the channel bed upstream of the reach) and the land between the dikes at the channels' bank",
            reaches.join(", "),
            raised.len(),
            cells.len(),
            perch[cells[0]],
        ));
    }
    Ok(notes)
}

/// Raises the cells marked in `perch` (the height p of the river's bed above the ground,
/// m; NaN elsewhere) in `bed` (row-major `nr × nc`): see [`perch_levee_corridors`].
/// With subgrid `channels`, each marked channel cell's bed (its bank) becomes `t + d`,
/// where its channel bed `t = min(z + p, t_up)`: `z` its bed, `d` its bank-full depth,
/// `t_up` the channel bed of the channel that feeds it (the widest one, i.e. the main
/// stem; its unraised `z − d` outside the marked cells), so that the channel bed never
/// steps up where the reach begins (a perched river grows out of an incised one below
/// its fan's apex) and tributaries keep their own level. A marked cell without a channel
/// is raised to the lowest bank of the marked channel cells around it (8 neighbours).
/// Without channels a marked cell is raised by p. Cells are never lowered. Returns the
/// cells raised with their raise, m, in cell order.
pub fn perch_beds(
    nr: usize,
    nc: usize,
    bed: &mut [f32],
    perch: &[f32],
    channels: Option<&crate::flood::routing::ChannelCells>,
) -> Vec<(usize, f32)> {
    let n = nr * nc;
    let old = bed.to_vec();
    let marked = |i: usize| !perch[i].is_nan() && !old[i].is_nan();
    let mut out = Vec::new();
    let Some(ch) = channels else {
        for i in (0..n).filter(|&i| marked(i)) {
            if perch[i] > 0.0 {
                bed[i] += perch[i];
                out.push((i, perch[i]));
            }
        }
        return out;
    };
    let has = |i: usize| !ch.width_m[i].is_nan() && ch.width_m[i] > 0.0;
    let down = |i: usize| -> Option<usize> {
        let (r, c) = ch.downstream[i]?.neighbour(i / nc, i % nc, nr, nc)?;
        Some(r * nc + c)
    };
    // The widest channel feeding each channel cell (ties: the lower index).
    let mut feeder: Vec<Option<usize>> = vec![None; n];
    for j in (0..n).filter(|&j| has(j)) {
        if let Some(i) = down(j).filter(|&i| has(i)) {
            let better = feeder[i].is_none_or(|k| ch.width_m[j] > ch.width_m[k]);
            if better {
                feeder[i] = Some(j);
            }
        }
    }
    // Channel bed targets of the marked channel cells, upstream first along each
    // feeder chain (iterative; a chain that loops back is cut).
    let mut target: Vec<f32> = vec![f32::NAN; n];
    let mut state = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    for i0 in (0..n).filter(|&i| marked(i) && has(i)) {
        let mut stack = vec![i0];
        while let Some(&i) = stack.last() {
            if state[i] == 2 {
                stack.pop();
                continue;
            }
            state[i] = 1;
            let up = feeder[i].filter(|&j| marked(j) && state[j] != 1);
            if let Some(j) = up.filter(|&j| state[j] == 0) {
                stack.push(j);
                continue;
            }
            let own = old[i] + perch[i];
            let cap = match feeder[i] {
                Some(j) if marked(j) && state[j] == 2 => target[j],
                Some(j) if !marked(j) => old[j] - ch.bank_depth_m[j],
                _ => f32::INFINITY,
            };
            target[i] = own.min(cap);
            state[i] = 2;
            stack.pop();
        }
    }
    for i in (0..n).filter(|&i| marked(i) && has(i)) {
        let bank = target[i] + ch.bank_depth_m[i];
        if bank > old[i] {
            bed[i] = bank;
            out.push((i, bank - old[i]));
        }
    }
    for i in (0..n).filter(|&i| marked(i) && !has(i)) {
        let (r, c) = ((i / nc) as isize, (i % nc) as isize);
        let mut level = f32::INFINITY;
        for dr in -1..=1isize {
            for dc in -1..=1isize {
                let (rr, cc) = (r + dr, c + dc);
                if (dr, dc) == (0, 0) || rr < 0 || cc < 0 || rr >= nr as isize || cc >= nc as isize
                {
                    continue;
                }
                let j = rr as usize * nc + cc as usize;
                if marked(j) && has(j) {
                    let bank = target[j] + ch.bank_depth_m[j];
                    level = level.min(bank.max(old[j]));
                }
            }
        }
        if level.is_finite() && level > old[i] {
            bed[i] = level;
            out.push((i, level - old[i]));
        }
    }
    out.sort_by_key(|&(i, _)| i);
    out
}

/// The levee file of the scenario's structures folder and its levees, or `None` when the
/// scenario switches levees off (`levees = false`).
fn section_levees(
    section: &StructuresSection,
    root: &Path,
) -> Result<Option<(PathBuf, structures::levee::LeveeFile)>> {
    if section.levees == LeveeChoice::All(false) {
        return Ok(None);
    }
    let dir = if section.dir.is_absolute() {
        section.dir.clone()
    } else {
        root.join(&section.dir)
    };
    let lfile = dir.join("levees.toml");
    let levees = structures::load_levees(&lfile)?;
    Ok(Some((lfile, levees)))
}

/// The levees of the file a scenario chooses (`levees`), each name checked.
fn chosen_levees<'a>(
    section: &StructuresSection,
    path: &Path,
    lfile: &Path,
    levees: &'a structures::LeveeFile,
) -> Result<Vec<&'a structures::levee::LeveeRecord>> {
    match &section.levees {
        LeveeChoice::All(false) => Ok(Vec::new()),
        LeveeChoice::All(true) => Ok(levees.levee.iter().collect()),
        LeveeChoice::Named(names) => pick(
            &levees.levee,
            |l| l.name.as_str(),
            &Some(names.clone()),
            path,
            "structures.levees",
            lfile,
        ),
    }
}

/// A levee's line in fractional (row, column) grid coordinates.
fn grid_line(p: &Placement, rec: &structures::levee::LeveeRecord) -> Result<Vec<(f64, f64)>> {
    let wgs84 = crate::grid::io::epsg_wkt(4326)?;
    let lonlat: Vec<(f64, f64)> = rec.line.points.iter().map(|q| (q[0], q[1])).collect();
    let xy = warp::transform_points(&lonlat, &wgs84, &p.spec.crs_wkt)?;
    Ok(xy
        .iter()
        .map(|&(x, y)| p.spec.transform.fractional_index(x, y))
        .collect())
}

/// Levee faces a breach may lower at most (its final width over Δx, rounded up, is
/// usually one or two on the 1 km grid).
const BREACH_FACES: usize = 8;

/// Puts the chosen levees on the faces of `domain` (crest = the higher bed of the two
/// cells + the levee's height; the highest crest where two levees share a face) and
/// returns each placed levee's faces with their ground.
#[allow(clippy::too_many_arguments)]
fn place_levees(
    section: &StructuresSection,
    path: &Path,
    lfile: &Path,
    levees: &structures::LeveeFile,
    p: &Placement,
    domain: &mut Domain,
    notes: &mut Vec<String>,
) -> Result<Vec<(String, Vec<BreachFace>)>> {
    let picked = chosen_levees(section, path, lfile, levees)?;
    if picked.is_empty() {
        return Ok(Vec::new());
    }
    let (nr, nc) = (p.spec.rows, p.spec.cols);
    if domain.nrows() != nr || domain.ncols() != nc {
        return Err(invalid(
            path,
            "structures.levees",
            format!(
                "the routing grid ({} × {}) is not the grid of the model folder ({nr} × {nc})",
                domain.nrows(),
                domain.ncols()
            ),
        ));
    }
    let streams: Vec<bool> = p.streams.data.iter().map(|&v| v == 1).collect();
    let mut out = Vec::new();
    for rec in picked {
        let field = format!("levee[{}]", rec.name);
        let bank = Bank::parse(&rec.bank).ok_or_else(|| {
            invalid(
                lfile,
                &format!("{field}.bank"),
                "must be `left` or `right`".into(),
            )
        })?;
        let line = grid_line(p, rec)?;
        let corridor = levee_faces::river_corridor(nr, nc, &line, Some(&streams));
        let faces = levee_faces::levee_faces(nr, nc, &line, &corridor, bank);
        let h = rec.crest_above_ground_m.value;
        let mut placed = Vec::with_capacity(faces.len());
        for LeveeFace {
            face,
            river_cell,
            land_cell,
            ..
        } in faces
        {
            let (Some(za), Some(zb)) = (domain.bed_at(river_cell), domain.bed_at(land_cell)) else {
                continue;
            };
            let ground = za.max(zb) as f64;
            let crest = (ground + h) as f32;
            if domain.crest_m(face).is_none_or(|c| c < crest) {
                domain.set_crest_m(face, crest)?;
            }
            placed.push(BreachFace {
                face,
                river_cell,
                land_cell,
                ground_m: ground,
            });
        }
        let cells = corridor.iter().filter(|&&v| v).count();
        notes.push(format!(
            "levee {}: {} faces on the {} bank of a {cells}-cell river corridor, crest {h} m above the higher bed of each face",
            rec.name,
            placed.len(),
            rec.bank
        ));
        out.push((rec.name.clone(), placed));
    }
    Ok(out)
}

/// Up to `n` faces of a levee nearest to the cell `at` (by the distance of the face's
/// midpoint from the cell's centre), nearest first.
fn breach_faces(
    faces: &[BreachFace],
    at: (usize, usize),
    ncols: usize,
    n: usize,
) -> Vec<BreachFace> {
    let mid = |f: &BreachFace| {
        let (a, b) = (f.river_cell, f.land_cell);
        (
            0.5 * ((a / ncols) as f64 + (b / ncols) as f64),
            0.5 * ((a % ncols) as f64 + (b % ncols) as f64),
        )
    };
    let mut v: Vec<(f64, usize)> = faces
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let (r, c) = mid(f);
            ((r - at.0 as f64).powi(2) + (c - at.1 as f64).powi(2), k)
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    v.iter().take(n).map(|&(_, k)| faces[k]).collect()
}

/// The first non-stream cell on the `bank` side ("left" or "right" looking downstream)
/// of a river cell, within three cells.
fn landside_cell(p: &Placement, river: (usize, usize), bank: &str) -> Option<(usize, usize)> {
    let down = p.downstream(river)?;
    let (dr, dc) = (
        down.0 as isize - river.0 as isize,
        down.1 as isize - river.1 as isize,
    );
    // Looking downstream along (dr, dc) in row/column terms, the left bank lies at
    // (−dc, dr) and the right bank at (dc, −dr).
    let (sr, sc) = match bank {
        "left" => (-dc, dr),
        _ => (dc, -dr),
    };
    (1..=3).find_map(|k| {
        let (rr, cc) = (river.0 as isize + k * sr, river.1 as isize + k * sc);
        if rr < 0 || cc < 0 || rr >= p.spec.rows as isize || cc >= p.spec.cols as isize {
            return None;
        }
        let rc = (rr as usize, cc as usize);
        (p.streams.data[rc] == 0 && p.ground.data[rc].is_finite()).then_some(rc)
    })
}
