//! Reading what `score` needs: a run directory's exposure tables and hazard rasters,
//! the model's groups, and a user's group file. The edges of the module: files in,
//! [`GroupData`] out.
//!
//! A run directory holds `exposure_population.csv`, `exposure_lifelines.csv`,
//! `exposure_redline.csv`, `run.json`, and `max_depth.tif` (m) for a flood and/or
//! `pga.tif` (g, band 1 the median) for an earthquake. A flood ensemble is a folder of
//! `member-*/` folders, each a run directory; its own `run.json` is optional.

use super::indicators::{ExceedanceCurve, GroupData, LifelineData, Quantity};
use crate::exposure::{GroupZones, Zone, PGA_CLASSES_G};
use crate::grid::io::read_raster_as;
use crate::grid::warp::GridSpec;
use crate::groups::{self, GroupKind};
use crate::lifelines::LifelineType;
use crate::{Error, Grid, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Flood-depth thresholds of `exposure_population.csv` (residents in cells deeper), m.
pub const DEPTH_CLASSES_M: [f64; 3] = [0.15, 0.5, 1.5];
const DEPTH_COLUMNS: [&str; 3] = [
    "pop_depth_gt_0p15m",
    "pop_depth_gt_0p5m",
    "pop_depth_gt_1p5m",
];
const PGA_COLUMNS: [&str; 6] = [
    "pop_pga_ge_0p05g",
    "pop_pga_ge_0p10g",
    "pop_pga_ge_0p15g",
    "pop_pga_ge_0p20g",
    "pop_pga_ge_0p30g",
    "pop_pga_ge_0p40g",
];

/// The files of a run directory that `score` reads.
pub const REQUIRED_FILES: [&str; 4] = [
    "exposure_population.csv",
    "exposure_lifelines.csv",
    "exposure_redline.csv",
    "run.json",
];

/// A group to score and its cells on the model grid.
#[derive(Debug, Clone)]
pub struct ScoreGroup {
    /// Group id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `county`, a named kind, or `user`.
    pub kind: String,
    /// Row-major cell indices, ascending.
    pub cells: Vec<usize>,
    /// Adcodes of its counties (user groups from a group file; empty otherwise).
    pub counties: Vec<u32>,
    /// True for groups from `--groups`: their exposure comes from the rasters.
    pub user: bool,
}

/// The groups and the static grids of a model folder.
#[derive(Debug, Clone)]
pub struct ModelGrids {
    /// The model grid.
    pub spec: GridSpec,
    /// Groups: counties, named groups, then user groups.
    pub groups: Vec<ScoreGroup>,
    /// Residents per cell.
    pub population: Grid<f32>,
    /// Land-cover codes (models/land_cover.toml).
    pub land_cover: Grid<u8>,
    /// Red-line class codes (> 0 inside a red line).
    pub redline: Grid<u8>,
    /// Storage (reservoir total storage + detention capacity) per cell, m³.
    pub works_storage_m3: Vec<(usize, f64)>,
    /// Pairs of user groups that share cells, with the shared cell count.
    pub overlaps: Vec<(String, String, usize)>,
}

fn need(path: &Path, fix: &str) -> Result<()> {
    if path.exists() {
        Ok(())
    } else {
        Err(Error::MissingFile {
            path: path.to_path_buf(),
            fix: fix.to_string(),
        })
    }
}

fn zone_to_group(z: Zone) -> ScoreGroup {
    ScoreGroup {
        id: z.id,
        name: z.name,
        kind: z.kind,
        cells: z.cells,
        counties: Vec::new(),
        user: false,
    }
}

fn cells_of(mask: &ndarray::Array2<bool>) -> Vec<usize> {
    mask.iter()
        .enumerate()
        .filter_map(|(i, &v)| v.then_some(i))
        .collect()
}

/// Loads the model's groups (counties, then the named groups of `groups.csv`/`groups.tif`)
/// and, with `user_groups`, the groups of a group TOML: `[[group]]` county lists
/// (validated against `counties.csv`; an unknown county is [`Error::Invalid`] naming
/// it) and `[[user_layer]]` polygons, each rasterised on its own so that overlaps are
/// kept; overlapping user groups are allowed and listed in [`ModelGrids::overlaps`].
pub fn load_model(
    model_dir: &Path,
    structures_dir: &Path,
    user_groups: Option<&Path>,
) -> Result<ModelGrids> {
    let zones = GroupZones::load(model_dir)?;
    let spec = zones.spec.clone();
    let mut groups: Vec<ScoreGroup> = zones.zones.into_iter().map(zone_to_group).collect();
    let population = read_raster_as::<f32>(&model_dir.join("population.tif"), 1)?;
    let land_cover = read_raster_as::<u8>(&model_dir.join("land_cover.tif"), 1)?;
    let redline = read_raster_as::<u8>(&model_dir.join("redline.tif"), 1)?;
    let counties = read_raster_as::<i32>(&model_dir.join("counties.tif"), 1)?;
    counties.check_aligned(&population, "counties.tif and population.tif")?;
    counties.check_aligned(&land_cover, "counties.tif and land_cover.tif")?;
    counties.check_aligned(&redline, "counties.tif and redline.tif")?;
    let mut overlaps = Vec::new();
    if let Some(path) = user_groups {
        let first_user = groups.len();
        let file = groups::read_group_file(path)?;
        let infos = groups::read_counties_csv(&model_dir.join("counties.csv"))?;
        groups::validate_groups(&file.group, &infos, path)?;
        let known: std::collections::HashSet<String> =
            groups.iter().map(|g| g.id.clone()).collect();
        let dem = if file
            .group
            .iter()
            .any(|d| d.counties.iter().any(|c| c.has_elevation_rule()))
        {
            let d = read_raster_as::<f64>(&model_dir.join("dem_source.tif"), 1)?;
            counties.check_aligned(&d, "counties.tif and dem_source.tif")?;
            Some(d)
        } else {
            None
        };
        for def in &file.group {
            let mask = groups::membership_mask(
                def,
                counties.data.view(),
                dem.as_ref().map(|d| d.data.view()),
            )?;
            groups.push(ScoreGroup {
                id: def.id.clone(),
                name: def.name.clone(),
                kind: def.kind.as_str().to_string(),
                cells: cells_of(&mask),
                counties: def.counties.iter().map(|c| c.adcode).collect(),
                user: true,
            });
        }
        for layer in &file.user_layer {
            let fs = crate::grid::vector::read_layer(&layer.path, Some(&spec.crs_wkt))?;
            crate::grid::vector::check_simple_polygons(&fs, &layer.path, &layer.id_field)?;
            for (i, f) in fs.iter().enumerate() {
                if !matches!(f.geometry, crate::grid::Geometry::Polygons(_)) {
                    return Err(Error::Invalid {
                        path: layer.path.clone(),
                        field: "geometry".into(),
                        message: format!(
                            "feature {i} is not a polygon; user groups must be polygons"
                        ),
                    });
                }
                let id = f.fields.get(&layer.id_field).cloned().unwrap_or_default();
                if id.trim().is_empty() {
                    return Err(Error::Invalid {
                        path: layer.path.clone(),
                        field: layer.id_field.clone(),
                        message: format!("feature {i} has no id in `{}`", layer.id_field),
                    });
                }
                let z = crate::grid::vector::rasterize_polygons(
                    std::slice::from_ref(f),
                    &[1.0],
                    &spec,
                )?;
                let mask = z.data.mapv(|v| v == 1.0);
                groups.push(ScoreGroup {
                    id,
                    name: f.fields.get(&layer.name_field).cloned().unwrap_or_default(),
                    kind: GroupKind::User.as_str().to_string(),
                    cells: cells_of(&mask),
                    counties: Vec::new(),
                    user: true,
                });
            }
        }
        let mut seen = known;
        for g in &groups[first_user..] {
            if !seen.insert(g.id.clone()) {
                return Err(Error::Invalid {
                    path: path.to_path_buf(),
                    field: format!("group[{}].id", g.id),
                    message: format!(
                        "the id '{}' is already used by another group (the model's or this file's); choose another",
                        g.id
                    ),
                });
            }
        }
        for a in first_user..groups.len() {
            for b in a + 1..groups.len() {
                let n = shared_cells(&groups[a].cells, &groups[b].cells);
                if n > 0 {
                    overlaps.push((groups[a].id.clone(), groups[b].id.clone(), n));
                }
            }
        }
    }
    let works_storage_m3 = works_storage(structures_dir, &spec)?;
    Ok(ModelGrids {
        spec,
        groups,
        population,
        land_cover,
        redline,
        works_storage_m3,
        overlaps,
    })
}

/// Number of cells two ascending index lists share.
pub fn shared_cells(a: &[usize], b: &[usize]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Reservoir total storage (总库容) and detention-basin capacity, m³, at the cell of
/// each structure's location (`reservoirs.toml`, `detention_basins.toml`); structures
/// outside the grid are skipped.
fn works_storage(dir: &Path, spec: &GridSpec) -> Result<Vec<(usize, f64)>> {
    use crate::flood::structures::{load_detention_basins, load_reservoirs};
    let mut pts = Vec::new();
    for r in load_reservoirs(&dir.join("reservoirs.toml"))? {
        pts.push((
            (r.location.lon, r.location.lat),
            r.total_storage_1e8_m3.value * 1e8,
        ));
    }
    for b in load_detention_basins(&dir.join("detention_basins.toml"))? {
        pts.push((
            (b.location.lon, b.location.lat),
            b.capacity_1e8_m3.value * 1e8,
        ));
    }
    let lonlat: Vec<(f64, f64)> = pts.iter().map(|p| p.0).collect();
    let xy = crate::grid::warp::transform_points(&lonlat, "EPSG:4326", &spec.crs_wkt)?;
    let mut out = Vec::new();
    for ((x, y), (_, v)) in xy.into_iter().zip(pts) {
        let (r, c) = spec.transform.fractional_index(x, y);
        if r >= 0.0 && c >= 0.0 && r < spec.rows as f64 && c < spec.cols as f64 {
            out.push((r as usize * spec.cols + c as usize, v));
        }
    }
    Ok(out)
}

/// A CSV table with named columns, for reading the exposure files.
struct Table {
    path: PathBuf,
    headers: Vec<String>,
    rows: Vec<csv::StringRecord>,
}

impl Table {
    fn read(path: &Path) -> Result<Self> {
        need(path, "run `haihe flood` or `haihe quake` (with the exposure step) into this run directory first")?;
        let bad = |m: String| Error::Invalid {
            path: path.to_path_buf(),
            field: "row".into(),
            message: m,
        };
        let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
        let headers = r
            .headers()
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        // Text cells come back without the guard against formula injection.
        let rows = r
            .records()
            .map(|rec| rec.map(|rec| crate::escape::unguard_record(&rec)))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        Ok(Table {
            path: path.to_path_buf(),
            headers,
            rows,
        })
    }
    fn col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }
    fn need_col(&self, name: &str) -> Result<usize> {
        self.col(name).ok_or_else(|| Error::Invalid {
            path: self.path.clone(),
            field: name.to_string(),
            message: format!("no `{name}` column in the header"),
        })
    }
    fn text(&self, row: usize, col: usize) -> &str {
        self.rows[row].get(col).unwrap_or("").trim()
    }
    /// A number, None for an empty cell; an unparsable cell is an error.
    fn num(&self, row: usize, col: Option<usize>) -> Result<Option<f64>> {
        let Some(c) = col else { return Ok(None) };
        let t = self.text(row, c);
        if t.is_empty() || t.eq_ignore_ascii_case("nan") {
            return Ok(None);
        }
        t.parse::<f64>().map(Some).map_err(|_| Error::Invalid {
            path: self.path.clone(),
            field: self.headers[c].clone(),
            message: format!("row {}: '{t}' is not a number", row + 2),
        })
    }
    /// A quantity `name` with optional `name_p05`/`name_p95` columns.
    fn quantity(&self, row: usize, name: &str) -> Result<Option<Quantity>> {
        let Some(p50) = self.num(row, self.col(name))? else {
            return Ok(None);
        };
        Ok(Some(Quantity {
            p50,
            p05: self.num(row, self.col(&format!("{name}_p05")))?,
            p95: self.num(row, self.col(&format!("{name}_p95")))?,
        }))
    }
}

/// A row of `exposure_population.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationRow {
    /// Residents, persons.
    pub population: f64,
    /// Residents above the flood-depth classes, if the run has a flood.
    pub flood: Option<ExceedanceCurve>,
    /// Residents at or above the PGA classes, if the run has an earthquake.
    pub quake: Option<ExceedanceCurve>,
}

fn curve(
    t: &Table,
    row: usize,
    cols: &[&str],
    thresholds: &[f64],
) -> Result<Option<ExceedanceCurve>> {
    let vals: Vec<Option<f64>> = cols
        .iter()
        .map(|c| t.num(row, t.col(c)))
        .collect::<Result<_>>()?;
    if vals.iter().all(Option::is_none) {
        return Ok(None);
    }
    if let Some(k) = vals.iter().position(Option::is_none) {
        return Err(Error::Invalid {
            path: t.path.clone(),
            field: cols[k].to_string(),
            message: format!(
                "row {}: empty while the other classes of this hazard have values",
                row + 2
            ),
        });
    }
    Ok(Some(ExceedanceCurve {
        thresholds: thresholds.to_vec(),
        persons: vals.into_iter().flatten().collect(),
    }))
}

/// Reads `exposure_population.csv`: per group id, residents and the exceedance curves.
pub fn read_population_csv(path: &Path) -> Result<HashMap<String, PopulationRow>> {
    let t = Table::read(path)?;
    let id = t.need_col("group_id")?;
    let pop = t.need_col("population")?;
    let pga: Vec<f64> = PGA_CLASSES_G.iter().map(|&v| v as f64).collect();
    let mut out = HashMap::new();
    for r in 0..t.rows.len() {
        out.insert(
            t.text(r, id).to_string(),
            PopulationRow {
                population: t.num(r, Some(pop))?.unwrap_or(0.0),
                flood: curve(&t, r, &DEPTH_COLUMNS, &DEPTH_CLASSES_M)?,
                quake: curve(&t, r, &PGA_COLUMNS, &pga)?,
            },
        );
    }
    Ok(out)
}

/// Reads `exposure_lifelines.csv`: per group id, the assessed lifelines: rows with
/// components > 0 of which at least one was assessed. `not_assessed` is the count of
/// components the run's hazards have no model for (written by
/// [`crate::exposure::lifeline::lifeline_exposure`]); a row is left out only when that count
/// reaches `components` (or the field holds text, such as a reason).
pub fn read_lifelines_csv(path: &Path) -> Result<HashMap<String, Vec<LifelineData>>> {
    let t = Table::read(path)?;
    let id = t.need_col("group_id")?;
    let ll = t.need_col("lifeline")?;
    let comp = t.need_col("components")?;
    let na = t.col("not_assessed");
    let mut out: HashMap<String, Vec<LifelineData>> = HashMap::new();
    for r in 0..t.rows.len() {
        let name = t.text(r, ll);
        let lifeline = LifelineType::parse(name).ok_or_else(|| Error::Invalid {
            path: path.to_path_buf(),
            field: "lifeline".into(),
            message: format!(
                "row {}: '{name}' is not a lifeline (water_supply, power, gas, road, rail, communications)",
                r + 2
            ),
        })?;
        let components = t.num(r, Some(comp))?.unwrap_or(0.0);
        let skipped = na.is_some_and(|c| {
            let text = t.text(r, c).trim();
            match text.parse::<f64>() {
                Ok(n) => n >= components,
                Err(_) => !text.is_empty(),
            }
        });
        if components <= 0.0 || skipped {
            continue;
        }
        out.entry(t.text(r, id).to_string())
            .or_default()
            .push(LifelineData {
                lifeline,
                components,
                expected_damaged: t.quantity(r, "expected_damaged")?,
                service_kept_share: t.quantity(r, "service_kept_share")?,
                paths_after: t
                    .quantity(r, "paths_after_p50")?
                    .or(t.quantity(r, "paths_after")?),
                days_to_90pct: t.quantity(r, "days_to_90pct")?,
                resilience_loss_pct_days: t.quantity(r, "resilience_loss_pct_days")?,
            });
    }
    Ok(out)
}

/// Red-line area (km²) and wetland storage (m³) of one group; None where empty.
pub type RedlineRow = (Option<f64>, Option<f64>);

/// Reads `exposure_redline.csv`: per group id, (red-line km², wetland storage m³).
pub fn read_redline_csv(path: &Path) -> Result<HashMap<String, RedlineRow>> {
    let t = Table::read(path)?;
    let id = t.need_col("group_id")?;
    let rk = t.need_col("redline_km2")?;
    let ws = t.need_col("wetland_storage_m3")?;
    let mut out = HashMap::new();
    for r in 0..t.rows.len() {
        out.insert(
            t.text(r, id).to_string(),
            (t.num(r, Some(rk))?, t.num(r, Some(ws))?),
        );
    }
    Ok(out)
}

/// What `run.json` says that `score` uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunMeta {
    /// Scenario name (the folder's name when `run.json` has none).
    pub scenario: String,
    /// σ of ln PGA of the ground-motion model (`sigma_ln[0]`), when given.
    pub sigma_ln_pga: Option<f64>,
}

/// Reads a `run.json` (required).
pub fn read_run_json(dir: &Path) -> Result<RunMeta> {
    let path = dir.join("run.json");
    let text = crate::error::read_text(
        &path,
        "score needs the run's run.json; run `haihe flood` or `haihe quake` into this folder",
    )?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Invalid {
        path: path.clone(),
        field: "json".into(),
        message: e.to_string(),
    })?;
    let fallback = dir
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_else(|| "run".into());
    Ok(RunMeta {
        scenario: v
            .get("scenario")
            .and_then(|s| s.as_str())
            .map(str::to_string)
            .unwrap_or(fallback),
        sigma_ln_pga: v
            .get("sigma_ln")
            .and_then(|s| s.get(0))
            .and_then(|s| s.as_f64()),
    })
}

/// The run directories of a run: its `member-*` folders (sorted by name) when it has
/// any, else the folder itself.
pub fn run_members(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(Error::MissingFile {
            path: dir.to_path_buf(),
            fix: "give a run directory written by `haihe flood`, `haihe quake` or `haihe batch`"
                .into(),
        });
    }
    let mut members: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("member-"))
        })
        .collect();
    members.sort();
    if members.is_empty() {
        members.push(dir.to_path_buf());
    }
    Ok(members)
}

/// Residents above thresholds from the grids, for one group's cells: `strict` counts
/// hazard > t (depth), otherwise hazard ≥ t (PGA). NaN hazard counts as none.
pub fn exceedance_from_cells(
    cells: &[usize],
    population: &[f32],
    hazard: &[f32],
    thresholds: &[f64],
    strict: bool,
) -> ExceedanceCurve {
    let mut persons = vec![0.0; thresholds.len()];
    for &i in cells {
        let (p, h) = (population[i] as f64, hazard[i] as f64);
        if !p.is_finite() || !h.is_finite() {
            continue;
        }
        for (k, &t) in thresholds.iter().enumerate() {
            if (strict && h > t) || (!strict && h >= t) {
                persons[k] += p;
            }
        }
    }
    ExceedanceCurve {
        thresholds: thresholds.to_vec(),
        persons,
    }
}

/// One run directory (or ensemble member) read into [`GroupData`] per group.
pub struct MemberData {
    /// Per group, in [`ModelGrids::groups`] order.
    pub groups: Vec<GroupData>,
    /// run.json.
    pub meta: RunMeta,
    /// Hazards present: "flood", "earthquake".
    pub hazards: Vec<String>,
}

fn slice<'a, T>(g: &'a Grid<T>, what: &Path) -> Result<&'a [T]> {
    g.data
        .as_slice()
        .ok_or_else(|| Error::Data(format!("{}: grid not in row-major layout", what.display())))
}

/// Reads one run directory: the exposure tables, `run.json`, and `max_depth.tif` /
/// `pga.tif` (band 1, median). A file the score needs and the folder lacks gives
/// [`Error::MissingFile`] naming it. `refuge_classes` and `refuge_max_depth_m` define
/// the refuge land; shaking does not remove it (open land is where people shelter
/// after an earthquake, GB 21734-2008).
pub fn read_member(
    dir: &Path,
    model: &ModelGrids,
    refuge_classes: &[u8],
    refuge_max_depth_m: f64,
) -> Result<MemberData> {
    for f in REQUIRED_FILES {
        need(&dir.join(f), "score needs the exposure tables and run.json of the run; see README \"Resilience scores\"")?;
    }
    let meta = read_run_json(dir)?;
    let pop_rows = read_population_csv(&dir.join("exposure_population.csv"))?;
    let life = read_lifelines_csv(&dir.join("exposure_lifelines.csv"))?;
    let red = read_redline_csv(&dir.join("exposure_redline.csv"))?;
    let has_flood = pop_rows.values().any(|r| r.flood.is_some());
    let has_quake = pop_rows.values().any(|r| r.quake.is_some());
    let depth_path = dir.join("max_depth.tif");
    let pga_path = dir.join("pga.tif");
    if !has_flood && !has_quake && !depth_path.exists() && !pga_path.exists() {
        return Err(Error::MissingFile {
            path: depth_path,
            fix: "the run has no hazard: score needs max_depth.tif (flood) or pga.tif (earthquake) and their columns in exposure_population.csv".into(),
        });
    }
    let fix_depth = "a flood run must hold max_depth.tif (m), written by `haihe flood`";
    let fix_pga =
        "an earthquake run must hold pga.tif (g, band 1 the median), written by `haihe quake`";
    let depth = if has_flood || depth_path.exists() {
        need(&depth_path, fix_depth)?;
        let g = read_raster_as::<f32>(&depth_path, 1)?;
        model
            .population
            .check_aligned(&g, "population.tif and max_depth.tif")?;
        Some(g)
    } else {
        None
    };
    let pga = if has_quake || pga_path.exists() {
        need(&pga_path, fix_pga)?;
        let g = read_raster_as::<f32>(&pga_path, 1)?;
        model
            .population
            .check_aligned(&g, "population.tif and pga.tif")?;
        Some(g)
    } else {
        None
    };
    let pop = slice(&model.population, Path::new("population.tif"))?;
    let lc = slice(&model.land_cover, Path::new("land_cover.tif"))?;
    let rl = slice(&model.redline, Path::new("redline.tif"))?;
    let dep = depth.as_ref().map(|g| slice(g, &depth_path)).transpose()?;
    let pg = pga.as_ref().map(|g| slice(g, &pga_path)).transpose()?;
    let cell_m2 = model.spec.transform.dx.abs() * model.spec.transform.dy.abs();
    let pga_classes: Vec<f64> = PGA_CLASSES_G.iter().map(|&v| v as f64).collect();
    // County rows, for aggregating lifelines and wetland storage into user groups.
    let mut groups_out = Vec::with_capacity(model.groups.len());
    for g in &model.groups {
        let mut d = GroupData {
            area_km2: g.cells.len() as f64 * cell_m2 / 1e6,
            ..Default::default()
        };
        let raster_pop: f64 = g
            .cells
            .iter()
            .map(|&i| pop[i] as f64)
            .filter(|p| p.is_finite())
            .sum();
        if let (false, Some(row)) = (g.user, pop_rows.get(&g.id)) {
            d.population = row.population;
            d.flood = row.flood.clone();
            d.quake = row.quake.clone();
        } else {
            d.population = raster_pop;
            d.flood = dep.map(|h| exceedance_from_cells(&g.cells, pop, h, &DEPTH_CLASSES_M, true));
            d.quake = pg.map(|h| exceedance_from_cells(&g.cells, pop, h, &pga_classes, false));
        }
        let (redline_km2, wetland) = if g.user {
            let red_cells = g.cells.iter().filter(|&&i| rl[i] > 0).count();
            let wet: Vec<f64> = g
                .counties
                .iter()
                .filter_map(|c| red.get(&format!("county-{c}")).and_then(|r| r.1))
                .collect();
            (
                Some(red_cells as f64 * cell_m2 / 1e6),
                (!wet.is_empty()).then(|| wet.iter().sum()),
            )
        } else {
            red.get(&g.id).copied().unwrap_or((None, None))
        };
        d.redline_km2 = redline_km2;
        d.wetland_storage_m3 = wetland;
        d.lifelines = if g.user {
            aggregate_lifelines(
                g.counties
                    .iter()
                    .filter_map(|c| life.get(&format!("county-{c}"))),
            )
        } else {
            life.get(&g.id).cloned().unwrap_or_default()
        };
        let mut refuge = 0.0;
        let mut water = 0.0;
        for &i in &g.cells {
            let depth_i = dep.map_or(0.0, |h| if h[i].is_finite() { h[i] as f64 } else { 0.0 });
            water += depth_i.max(0.0) * cell_m2;
            if refuge_classes.contains(&lc[i]) && depth_i < refuge_max_depth_m {
                refuge += cell_m2;
            }
        }
        d.refuge_m2 = Some(refuge);
        d.flood_water_m3 = dep.map(|_| water);
        let works: f64 = model
            .works_storage_m3
            .iter()
            .filter(|(c, _)| g.cells.binary_search(c).is_ok())
            .map(|(_, v)| v)
            .sum();
        d.storage_m3 = Some(works + d.wetland_storage_m3.unwrap_or(0.0));
        groups_out.push(d);
    }
    let mut hazards = Vec::new();
    if depth.is_some() {
        hazards.push("flood".to_string());
    }
    if pga.is_some() {
        hazards.push("earthquake".to_string());
    }
    Ok(MemberData {
        groups: groups_out,
        meta,
        hazards,
    })
}

/// Lifelines of several counties merged: components, expected damage summed; service
/// kept, days to 90 % and resilience loss averaged weighted by components (medians
/// only); paths are not derivable from county rows and stay missing.
pub fn aggregate_lifelines<'a>(
    rows: impl Iterator<Item = &'a Vec<LifelineData>>,
) -> Vec<LifelineData> {
    let mut by: BTreeMap<usize, Vec<&LifelineData>> = BTreeMap::new();
    for v in rows {
        for l in v {
            by.entry(l.lifeline.index()).or_default().push(l);
        }
    }
    by.into_values()
        .map(|ls| {
            let comp: f64 = ls.iter().map(|l| l.components).sum();
            let wmean = |f: &dyn Fn(&LifelineData) -> Option<Quantity>| {
                let (s, w) = ls.iter().fold((0.0, 0.0), |(s, w), l| match f(l) {
                    Some(q) => (s + q.p50 * l.components, w + l.components),
                    None => (s, w),
                });
                (w > 0.0).then(|| Quantity::fixed(s / w))
            };
            let dam: Vec<f64> = ls
                .iter()
                .filter_map(|l| l.expected_damaged.map(|q| q.p50))
                .collect();
            LifelineData {
                lifeline: ls[0].lifeline,
                components: comp,
                expected_damaged: (!dam.is_empty()).then(|| Quantity::fixed(dam.iter().sum())),
                service_kept_share: wmean(&|l| l.service_kept_share),
                paths_after: None,
                days_to_90pct: wmean(&|l| l.days_to_90pct),
                resilience_loss_pct_days: wmean(&|l| l.resilience_loss_pct_days),
            }
        })
        .collect()
}
