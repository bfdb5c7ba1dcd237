//! Every human-facing output of a batch: `risk.csv`, `risk.json`, `report.md`,
//! `report.html` and the PNG figures under `figures/`.
//!
//! [`write_batch_report`] reads the run folders of a batch output (`<out>/runs/<id>/`),
//! gathers each flood's population exposure per group, builds the exceedance curve of
//! every river system and the expected annual exposure ([`risk`]), and writes the
//! batch-level products atomically. The products are deterministic functions of the
//! run folders (no clock, no thread count), so merged shards give the same files as
//! one unsharded batch.
//!
//! Flood exposure comes from each run's `exposure_population.csv` (columns group_id,
//! name, kind, population, then `pop_depth_gt_<d>m` per depth threshold). Where a run
//! lacks it, the persons per group on cells whose maximum depth reaches 0.15, 0.5 and
//! 1.5 m are computed here from `max_depth.tif`, `population.tif` and the groups of the
//! scenario's model folder ([`crate::exposure::population_by_class`]); a run on its own
//! DEM (not on the model grids) has no groups, and its system is reported as a gap.

pub mod figures;
pub mod html;
pub mod markdown;
pub mod ranking;
pub mod risk;

use crate::exposure::{self, GroupZones, PGA_CLASSES_G};
use crate::flood::plausibility::{Finding, Severity};
use crate::grid::io::{read_raster_as, write_atomically};
use crate::scenario::batch::{read_manifest, BatchRecord, ScenarioEntry, ScenarioKind};
use crate::{Error, Grid, Result};
use risk::RareTail;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Depth thresholds of the fallback exposure, m (the columns of the exposure tables).
pub const DEPTH_THRESHOLDS_M: [f32; 3] = [0.15, 0.5, 1.5];

/// Groups shown at each end of a ranking (`ranking.md`).
pub const RANKED_GROUPS: usize = 5;

/// The exposure metric the report's tables lead with: persons on cells deeper than
/// 0.5 m.
pub const HEADLINE_METRIC: &str = "pop_depth_gt_0p5m";

/// One group's row of a flood exposure table.
#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    /// Group id (`county-110105`, a named group id).
    pub group_id: String,
    /// Name.
    pub name: String,
    /// `county` or the named group's kind.
    pub kind: String,
    /// Residents, persons.
    pub population: f64,
    /// (metric column, persons), e.g. (`pop_depth_gt_0p5m`, 1234.0).
    pub metrics: Vec<(String, f64)>,
}

/// A flood run's exposure table and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct FloodExposure {
    /// `exposure_population.csv` or `computed from max_depth.tif`.
    pub source: String,
    /// Rows, one per group.
    pub rows: Vec<GroupRow>,
}

/// Reads `exposure_population.csv`: the columns group_id, name, kind, population and
/// every `pop_depth_gt_*` column. With a `statistic` column, the rows of its first
/// value are used.
pub fn read_flood_exposure_csv(path: &Path) -> Result<Vec<GroupRow>> {
    let bad = |field: &str, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field: field.into(),
        message,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad("file", e.to_string()))?;
    let h = r
        .headers()
        .map_err(|e| bad("header", e.to_string()))?
        .clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x.trim() == n)
            .ok_or_else(|| bad("header", format!("no `{n}` column")))
    };
    let (ci, cn, ck, cp) = (
        col("group_id")?,
        col("name")?,
        col("kind")?,
        col("population")?,
    );
    let stat = h.iter().position(|x| x.trim() == "statistic");
    let metric_cols: Vec<(usize, String)> = h
        .iter()
        .enumerate()
        .filter(|(_, n)| n.trim().starts_with("pop_depth_gt_"))
        .map(|(i, n)| (i, n.trim().to_string()))
        .collect();
    let mut first_stat: Option<String> = None;
    let mut rows = Vec::new();
    for (line, rec) in r.records().enumerate() {
        let rec = crate::escape::unguard_record(&rec.map_err(|e| bad("row", e.to_string()))?);
        let get = |c: usize| rec.get(c).unwrap_or("").trim().to_string();
        if let Some(s) = stat {
            let v = get(s);
            match &first_stat {
                None => first_stat = Some(v),
                Some(f) if *f != v => continue,
                _ => {}
            }
        }
        let num = |c: usize, name: &str| -> Result<f64> {
            get(c).parse::<f64>().map_err(|_| {
                bad(
                    name,
                    format!("row {}: '{}' is not a number", line + 2, get(c)),
                )
            })
        };
        rows.push(GroupRow {
            group_id: get(ci),
            name: get(cn),
            kind: get(ck),
            population: num(cp, "population")?,
            metrics: metric_cols
                .iter()
                .map(|(c, n)| Ok((n.clone(), num(*c, n)?)))
                .collect::<Result<Vec<_>>>()?,
        });
    }
    Ok(rows)
}

/// Column name of a depth threshold: 0.5 → `pop_depth_gt_0p5m`.
pub fn depth_metric_name(threshold_m: f32) -> String {
    format!(
        "pop_depth_gt_{}m",
        format!("{threshold_m}").replace('.', "p")
    )
}

/// Persons per group on cells whose maximum depth reaches each threshold (kernel over
/// grids already read): sums of the depth classes at and above it.
pub fn flood_exposure_from_grids(
    zones: &GroupZones,
    population: &Grid<f32>,
    max_depth_m: &Grid<f32>,
) -> Result<Vec<GroupRow>> {
    let by = exposure::population_by_class(zones, population, max_depth_m, &DEPTH_THRESHOLDS_M)?;
    Ok(by
        .into_iter()
        .map(|g| GroupRow {
            metrics: DEPTH_THRESHOLDS_M
                .iter()
                .enumerate()
                .map(|(k, &t)| {
                    (
                        depth_metric_name(t),
                        g.persons_by_class[k + 1..].iter().sum(),
                    )
                })
                .collect(),
            group_id: g.id,
            name: g.name,
            kind: g.kind,
            population: g.persons_total,
        })
        .collect())
}

/// Groups and population of one model folder, read once per report.
type ModelCache = BTreeMap<PathBuf, (GroupZones, Grid<f32>)>;

fn flood_exposure(
    run_dir: &Path,
    entry: &ScenarioEntry,
    root: &Path,
    cache: &mut ModelCache,
) -> Result<std::result::Result<FloodExposure, String>> {
    let csv = run_dir.join("exposure_population.csv");
    if csv.exists() {
        return Ok(Ok(FloodExposure {
            source: "exposure_population.csv".into(),
            rows: read_flood_exposure_csv(&csv)?,
        }));
    }
    let Some(file) = &entry.file else {
        return Ok(Err("no scenario file".into()));
    };
    let path = if file.is_absolute() {
        file.clone()
    } else {
        root.join(file)
    };
    let s = match crate::scenario::flood::load_flood_scenario(&path) {
        Ok(s) => s,
        Err(e) => {
            return Ok(Err(format!(
                "scenario file unreadable for the fallback exposure: {e}"
            )))
        }
    };
    if s.grid.dem.is_some() {
        return Ok(Err("no exposure_population.csv, and the run is on its own DEM, not on the model grids with their groups".into()));
    }
    let dir = if s.grid.model_dir.is_absolute() {
        s.grid.model_dir.clone()
    } else {
        root.join(&s.grid.model_dir)
    };
    if !cache.contains_key(&dir) {
        let zones = GroupZones::load(&dir)?;
        let pop = read_raster_as::<f32>(&dir.join("population.tif"), 1)?;
        cache.insert(dir.clone(), (zones, pop));
    }
    let (zones, pop) = &cache[&dir];
    let depth = read_raster_as::<f32>(&run_dir.join("max_depth.tif"), 1)?;
    Ok(Ok(FloodExposure {
        source: "computed from max_depth.tif".into(),
        rows: flood_exposure_from_grids(zones, pop, &depth)?,
    }))
}

/// One point of a system's exceedance curve.
#[derive(Debug, Clone, Serialize)]
pub struct CurveEvent {
    /// Scenario id.
    pub id: String,
    /// Return period, yr.
    pub return_period_yr: f64,
    /// Annual exceedance probability 1/T.
    pub aep: f64,
    /// Gauges whose discharge was still rising when the run ended (`run.json`
    /// `gauge_peaks` with `reached = false`): the run was cut before the flood passed,
    /// and its exposure downstream of them is a lower bound.
    pub peaks_not_reached: Vec<String>,
}

/// Gauges of a finished run whose peak was not reached by its end.
fn peaks_not_reached(run_dir: &Path) -> Vec<String> {
    let Some(run) = read_json(&run_dir.join("run.json")) else {
        return Vec::new();
    };
    run.get("gauge_peaks")
        .and_then(|g| g.as_array())
        .map(|a| {
            a.iter()
                .filter(|g| g.get(3).and_then(|r| r.as_bool()) == Some(false))
                .filter_map(|g| g.get(0).and_then(|n| n.as_str()).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Risk of one group, metric and system (or `total`).
#[derive(Debug, Clone, Serialize)]
pub struct GroupRisk {
    /// Group id.
    pub group_id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// River system, or `total` (sum of the systems' expected values).
    pub system: String,
    /// Exposure metric (persons on cells deeper than a threshold).
    pub metric: String,
    /// Exceedance curve: (AEP, persons), rarest first (empty for `total`).
    pub curve: Vec<(f64, f64)>,
    /// (return period yr, persons) per event (empty for `total`).
    pub by_return_period: Vec<(f64, f64)>,
    /// Expected annual exposure, persons/yr, constant rare tail.
    pub eae: f64,
    /// Expected annual exposure, persons/yr, no rare tail.
    pub eae_no_tail: f64,
}

/// An earthquake scenario's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct QuakeOutcome {
    /// Scenario id.
    pub id: String,
    /// Surface-wave magnitude.
    pub magnitude_ms: Option<f64>,
    /// Largest median PGA, g.
    pub max_median_pga_g: Option<f64>,
    /// Largest median PGV, cm/s.
    pub max_median_pgv_cms: Option<f64>,
    /// Residents of the counties at median PGA ≥ 0.10 g.
    pub persons_ge_0p10g: f64,
    /// Residents of the counties at median PGA ≥ 0.20 g.
    pub persons_ge_0p20g: f64,
    /// Annual rate, 1/yr, if given.
    pub annual_rate: Option<f64>,
    /// rate × persons ≥ 0.20 g, persons/yr, if a rate is given.
    pub expected_annual_persons_ge_0p20g: Option<f64>,
}

/// The batch-level risk (written as `risk.json`).
#[derive(Debug, Clone, Serialize)]
pub struct BatchRisk {
    /// Batch name.
    pub batch: String,
    /// The integration and its tails, in words.
    pub method: Vec<String>,
    /// Events of each system's curve.
    pub systems: BTreeMap<String, Vec<CurveEvent>>,
    /// Where each flood's exposure came from (id → source).
    pub exposure_sources: BTreeMap<String, String>,
    /// Risk per group, metric and system.
    pub groups: Vec<GroupRisk>,
    /// Earthquake scenario outcomes.
    pub quakes: Vec<QuakeOutcome>,
    /// What could not be computed, and why.
    pub gaps: Vec<String>,
}

/// Risk from flood exposure tables: `systems` maps each system to its (id, return
/// period) events, `tables` each id to its exposure rows. Systems with a missing table
/// are left out with a gap. Kernel without I/O.
pub fn flood_risk(
    systems: &BTreeMap<String, Vec<(String, f64)>>,
    tables: &BTreeMap<String, Vec<GroupRow>>,
    gaps: &mut Vec<String>,
) -> Result<Vec<GroupRisk>> {
    // Group order and names from the first table seen.
    let mut groups: Vec<(String, String, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for rows in tables.values() {
        for r in rows {
            if seen.insert(r.group_id.clone()) {
                groups.push((r.group_id.clone(), r.name.clone(), r.kind.clone()));
            }
        }
    }
    let mut per_system: Vec<GroupRisk> = Vec::new();
    for (sys, events) in systems {
        let missing: Vec<&str> = events
            .iter()
            .filter(|(id, _)| !tables.contains_key(id))
            .map(|(id, _)| id.as_str())
            .collect();
        if !missing.is_empty() {
            gaps.push(format!(
                "system {sys}: no exposure for {}; its risk is not computed",
                missing.join(", ")
            ));
            continue;
        }
        let ev_tables: Vec<(f64, BTreeMap<&str, &GroupRow>)> = events
            .iter()
            .map(|(id, t)| {
                (
                    *t,
                    tables[id]
                        .iter()
                        .map(|r| (r.group_id.as_str(), r))
                        .collect(),
                )
            })
            .collect();
        // Metrics present in every event's table, in the first table's order.
        let metrics: Vec<String> = tables[&events[0].0]
            .first()
            .map(|r| {
                r.metrics
                    .iter()
                    .map(|m| m.0.clone())
                    .collect::<Vec<String>>()
            })
            .unwrap_or_default()
            .into_iter()
            .filter(|m| {
                ev_tables.iter().all(|(_, t)| {
                    t.values()
                        .next()
                        .is_none_or(|r| r.metrics.iter().any(|x| x.0 == *m))
                })
            })
            .collect();
        for (gid, name, kind) in &groups {
            for m in &metrics {
                let pts: Vec<(f64, f64)> = ev_tables
                    .iter()
                    .map(|(t, tab)| {
                        let v = tab
                            .get(gid.as_str())
                            .and_then(|r| r.metrics.iter().find(|x| x.0 == *m))
                            .map_or(0.0, |x| x.1);
                        (*t, v)
                    })
                    .collect();
                per_system.push(GroupRisk {
                    group_id: gid.clone(),
                    name: name.clone(),
                    kind: kind.clone(),
                    system: sys.clone(),
                    metric: m.clone(),
                    curve: risk::exceedance_curve(&pts)?,
                    by_return_period: {
                        let mut p = pts.clone();
                        p.sort_by(|a, b| a.0.total_cmp(&b.0));
                        p
                    },
                    eae: risk::expected_annual(&pts, RareTail::Constant)?,
                    eae_no_tail: risk::expected_annual(&pts, RareTail::Zero)?,
                });
            }
        }
    }
    // Totals over systems, per group and metric.
    let mut out = Vec::new();
    for (gid, name, kind) in &groups {
        let mine: Vec<&GroupRisk> = per_system.iter().filter(|r| r.group_id == *gid).collect();
        let mut metrics: Vec<&str> = Vec::new();
        for r in &mine {
            if !metrics.contains(&r.metric.as_str()) {
                metrics.push(&r.metric);
            }
        }
        for m in metrics {
            let rows: Vec<&&GroupRisk> = mine.iter().filter(|r| r.metric == m).collect();
            out.extend(rows.iter().map(|r| (**r).clone()));
            out.push(GroupRisk {
                group_id: gid.clone(),
                name: name.clone(),
                kind: kind.clone(),
                system: "total".into(),
                metric: m.to_string(),
                curve: Vec::new(),
                by_return_period: Vec::new(),
                eae: rows.iter().map(|r| r.eae).sum(),
                eae_no_tail: rows.iter().map(|r| r.eae_no_tail).sum(),
            });
        }
    }
    Ok(out)
}

/// Persons of the counties (which tile the region) at median PGA at or above `g`,
/// from a quake run's `exposure.csv`.
fn quake_persons_at_least(path: &Path, g: f32) -> Result<f64> {
    let bad = |message: String| Error::Invalid {
        path: path.to_path_buf(),
        field: "exposure.csv".into(),
        message,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let h = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let names = exposure::class_columns(&PGA_CLASSES_G, "g");
    let cols: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(k, _)| *k >= 1 && PGA_CLASSES_G[k - 1] >= g)
        .map(|(_, n)| {
            h.iter()
                .position(|x| x == n.as_str())
                .ok_or_else(|| bad(format!("no `{n}` column")))
        })
        .collect::<Result<_>>()?;
    let (cs, ck) = (
        h.iter()
            .position(|x| x == "statistic")
            .ok_or_else(|| bad("no `statistic` column".into()))?,
        h.iter()
            .position(|x| x == "kind")
            .ok_or_else(|| bad("no `kind` column".into()))?,
    );
    let mut sum = 0.0;
    for rec in r.records() {
        let rec = crate::escape::unguard_record(&rec.map_err(|e| bad(e.to_string()))?);
        if rec.get(cs) == Some("median") && rec.get(ck) == Some("county") {
            for &c in &cols {
                sum += rec
                    .get(c)
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0);
            }
        }
    }
    Ok(sum)
}

/// The plausibility findings a reader must see first (warnings and serious ones) of the
/// batch's flood runs, with the run's id, from each run's `run.json` (`warnings`, written
/// by [`crate::flood::plausibility`]); most severe first, then in batch order.
pub fn plausibility_warnings(out: &Path, record: &BatchRecord) -> Vec<(String, Finding)> {
    let mut all = Vec::new();
    for e in record
        .scenarios
        .iter()
        .filter(|e| e.kind == ScenarioKind::Flood)
    {
        let Some(run) = read_json(&out.join("runs").join(&e.id).join("run.json")) else {
            continue;
        };
        let found: Vec<Finding> = run
            .get("warnings")
            .cloned()
            .and_then(|w| serde_json::from_value(w).ok())
            .unwrap_or_default();
        all.extend(
            found
                .into_iter()
                .filter(|f| f.severity >= Severity::Warning)
                .map(|f| (e.id.clone(), f)),
        );
    }
    all.sort_by_key(|f| std::cmp::Reverse(f.1.severity));
    all
}

/// A gauge peak of `run.json` (`[name, m³/s, h, reached]`) in words: "张坊: 8323 m³/s at
/// 24.0 h", or "张坊: not reached by t_end (≥ 8323 m³/s)" when the discharge still rose
/// at the end (a run written before the flag counts as reached).
pub fn gauge_peak_words(g: &serde_json::Value) -> Option<String> {
    let name = g.get(0)?.as_str()?;
    let q = g.get(1)?.as_f64()?;
    let t = g.get(2)?.as_f64()?;
    let reached = g.get(3).and_then(|r| r.as_bool()).unwrap_or(true);
    Some(if reached {
        format!("{name}: {} m³/s at {t:.1} h", markdown::num(q))
    } else {
        format!("{name}: not reached by t_end (≥ {} m³/s)", markdown::num(q))
    })
}

fn read_json(path: &Path) -> Option<serde_json::Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// Computes the risk of a batch output folder (no writing).
pub fn batch_risk(out: &Path, record: &BatchRecord, root: &Path) -> Result<BatchRisk> {
    let mut gaps = Vec::new();
    let mut systems: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for s in &record.scenarios {
        if let (Some(t), Some(sys)) = (s.return_period_yr, &s.system) {
            systems
                .entry(sys.clone())
                .or_default()
                .push((s.id.clone(), t));
        }
    }
    for v in systems.values_mut() {
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
    }
    let mut tables = BTreeMap::new();
    let mut sources = BTreeMap::new();
    let mut cache = ModelCache::new();
    for s in record
        .scenarios
        .iter()
        .filter(|s| s.kind == ScenarioKind::Flood && s.return_period_yr.is_some())
    {
        let dir = out.join("runs").join(&s.id);
        if read_manifest(&dir).is_none() {
            gaps.push(format!("{}: no finished run", s.id));
            continue;
        }
        match flood_exposure(&dir, s, root, &mut cache)? {
            Ok(fe) => {
                sources.insert(s.id.clone(), fe.source);
                tables.insert(s.id.clone(), fe.rows);
            }
            Err(why) => gaps.push(format!("{}: {why}", s.id)),
        }
    }
    let groups = flood_risk(&systems, &tables, &mut gaps)?;
    let mut quakes = Vec::new();
    for s in record
        .scenarios
        .iter()
        .filter(|s| s.kind == ScenarioKind::Quake)
    {
        let dir = out.join("runs").join(&s.id);
        if read_manifest(&dir).is_none() {
            gaps.push(format!("{}: no finished run", s.id));
            continue;
        }
        let run = read_json(&dir.join("run.json"));
        let f = |k: &str| {
            run.as_ref()
                .and_then(|r| r.pointer(k))
                .and_then(|v| v.as_f64())
        };
        let ex = dir.join("exposure.csv");
        let (p10, p20) = (
            quake_persons_at_least(&ex, 0.10)?,
            quake_persons_at_least(&ex, 0.20)?,
        );
        quakes.push(QuakeOutcome {
            id: s.id.clone(),
            magnitude_ms: f("/source/ms"),
            max_median_pga_g: f("/max_median_pga_g"),
            max_median_pgv_cms: f("/max_median_pgv_cms"),
            persons_ge_0p10g: p10,
            persons_ge_0p20g: p20,
            annual_rate: s.annual_rate,
            expected_annual_persons_ge_0p20g: s
                .annual_rate
                .map(|r| risk::event_expectation(&[(r, p20)]))
                .transpose()?,
        });
    }
    Ok(BatchRisk {
        batch: record.name.clone(),
        method: vec![
            "exceedance curve over annual exceedance probability p = 1/T of the design events of each system".into(),
            "expected annual exposure (EAE) = ∫ D(p) dp by the trapezoid rule between events".into(),
            "frequent tail: zero for p above the most frequent event (truncation)".into(),
            "rare tail: `eae` holds the rarest event's value down to p = 0; `eae_no_tail` adds nothing".into(),
            "total = sum of the systems' EAE (expectations add over sources)".into(),
            "earthquakes: scenario outcomes; with an annual rate λ, λ × persons at median PGA ≥ 0.20 g".into(),
        ],
        systems: systems
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    v.into_iter()
                        .map(|(id, t)| CurveEvent {
                            peaks_not_reached: peaks_not_reached(&out.join("runs").join(&id)),
                            id,
                            return_period_yr: t,
                            aep: 1.0 / t,
                        })
                        .collect(),
                )
            })
            .collect(),
        exposure_sources: sources,
        groups,
        quakes,
        gaps,
    })
}

fn write_text(path: &Path, text: &str) -> Result<()> {
    write_atomically(path, |p| {
        std::fs::write(p, text).map_err(|e| Error::io(p, e))
    })
}

/// `risk.csv`: one row per group, metric and system (then `total`), with the persons
/// at each return period of the batch (empty where a system has no such event, and on
/// `total` rows), the expected annual exposure with and without the rare tail, and the
/// runs of that system cut before a gauge peaked (`runs_cut_before_peak`, space
/// separated ids; their exposure is a lower bound).
pub fn risk_csv(risk: &BatchRisk) -> String {
    let mut ts: Vec<f64> = risk
        .systems
        .values()
        .flatten()
        .map(|e| e.return_period_yr)
        .collect();
    ts.sort_by(f64::total_cmp);
    ts.dedup();
    let mut s = String::from("group_id,name,kind,system,metric");
    for t in &ts {
        s.push_str(&format!(",persons_T{t}yr"));
    }
    s.push_str(",eae_persons_per_yr,eae_no_tail_persons_per_yr,runs_cut_before_peak\n");
    // Runs of each system (and of all, for `total`) that ended with a gauge still rising.
    let cut = |system: &str| -> String {
        let ids: Vec<&str> = risk
            .systems
            .iter()
            .filter(|(k, _)| system == "total" || k.as_str() == system)
            .flat_map(|(_, v)| v.iter())
            .filter(|e| !e.peaks_not_reached.is_empty())
            .map(|e| e.id.as_str())
            .collect();
        ids.join(" ")
    };
    // Quoted where needed and neutralised against formula injection.
    let q = |v: &str| crate::escape::csv_line([v]);
    for g in &risk.groups {
        s.push_str(&format!(
            "{},{},{},{},{}",
            q(&g.group_id),
            q(&g.name),
            q(&g.kind),
            q(&g.system),
            q(&g.metric)
        ));
        for t in &ts {
            match g.by_return_period.iter().find(|p| p.0 == *t) {
                Some(p) => s.push_str(&format!(",{:.1}", p.1)),
                None => s.push(','),
            }
        }
        s.push_str(&format!(
            ",{:.3},{:.3},{}\n",
            g.eae,
            g.eae_no_tail,
            q(&cut(&g.system))
        ));
    }
    s
}

/// Name of the report's completion marker, written last (see [`write_batch_report`]).
pub const REPORT_COMPLETE: &str = "report.complete.json";

/// Writes `risk.csv`, `risk.json`, `ranking.md`, `ranking.json`, the figures
/// (`figures/*.png`, [`figures`]), `report.md` (with links to the figures) and the
/// self-contained `report.html` ([`html`]) into `out`; returns their paths. County
/// outlines on the maps come from `<root>/rasters/model/counties.tif`.
///
/// The files are written as a set: first into `<out>/.report-<pid>/`, fsynced, then
/// `report.complete.json` of the previous report is removed, every file is renamed into
/// place, the folder is fsynced, and `report.complete.json` (the files, the batch and
/// the time) is written last. A report without that marker is incomplete: a kill
/// while the set is moved leaves no marker, and a failure before leaves the previous
/// report as it was.
pub fn write_batch_report(out: &Path, record: &BatchRecord, root: &Path) -> Result<Vec<PathBuf>> {
    let stage = out.join(format!(".report-{}", std::process::id()));
    if stage.exists() {
        std::fs::remove_dir_all(&stage).map_err(|e| Error::io(&stage, e))?;
    }
    std::fs::create_dir_all(&stage).map_err(|e| Error::io(&stage, e))?;
    let result = write_report_set(out, &stage, record, root).and_then(|names| {
        install_report_set(out, &stage, &names, record)?;
        Ok(names.iter().map(|n| out.join(n)).collect())
    });
    let _ = std::fs::remove_dir_all(&stage);
    result
}

/// Writes the report's files into `stage` (reading the runs and scores of `out`);
/// returns their names.
fn write_report_set(
    out: &Path,
    stage: &Path,
    record: &BatchRecord,
    root: &Path,
) -> Result<Vec<String>> {
    let risk = batch_risk(out, record, root)?;
    let mut written = Vec::new();
    write_text(&stage.join("risk.csv"), &risk_csv(&risk))?;
    written.push("risk.csv".to_string());
    let json = serde_json::to_string_pretty(&risk).map_err(|e| Error::Data(e.to_string()))?;
    write_text(&stage.join("risk.json"), &json)?;
    written.push("risk.json".to_string());
    let rankings = ranking::batch_rankings(
        out,
        record,
        &root.join("rasters/model/counties.csv"),
        RANKED_GROUPS,
    )?;
    let ranking_md = ranking::markdown(&rankings);
    write_text(&stage.join("ranking.md"), &ranking_md)?;
    written.push("ranking.md".to_string());
    let json = serde_json::to_string_pretty(&rankings).map_err(|e| Error::Data(e.to_string()))?;
    write_text(&stage.join("ranking.json"), &json)?;
    written.push("ranking.json".to_string());
    let figs = figures::batch_figures(out, stage, record, &risk, &root.join("rasters/model"));
    // The folder goes in even when empty, so figures of an earlier report do not stay.
    if stage.join("figures").is_dir() {
        written.push("figures".to_string());
    }
    let mut md = markdown::report(out, record, &risk);
    if !rankings.is_empty() {
        md.push_str("\n## Resilience ranking: top and bottom groups\n\n");
        md.push_str(&ranking_md);
    }
    md.push_str(&markdown::figure_links(&figs));
    write_text(&stage.join("report.md"), &md)?;
    written.push("report.md".to_string());
    write_text(
        &stage.join("report.html"),
        &html::page(out, stage, record, &risk, &figs, &rankings)?,
    )?;
    written.push("report.html".to_string());
    Ok(written)
}

/// Moves the staged report set into `out` and writes the completion marker last.
fn install_report_set(
    out: &Path,
    stage: &Path,
    names: &[String],
    record: &BatchRecord,
) -> Result<()> {
    crate::outdir::sync_tree(stage)?;
    // A stop on a signal waits for the set to be moved and marked complete.
    let _commit = crate::outdir::commit_guard();
    let marker = out.join(REPORT_COMPLETE);
    if marker.exists() {
        std::fs::remove_file(&marker).map_err(|e| Error::io(&marker, e))?;
        crate::outdir::sync_dir(out)?;
    }
    for n in names {
        let (from, to) = (stage.join(n), out.join(n));
        if to.is_dir() {
            // A folder (figures/) cannot be renamed onto a non-empty one: the old one is
            // moved into the staging folder, which is removed afterwards.
            let parked = stage.join(format!(".old-{n}"));
            std::fs::rename(&to, &parked).map_err(|e| Error::io(&to, e))?;
        }
        std::fs::rename(&from, &to).map_err(|e| Error::io(&to, e))?;
    }
    crate::outdir::sync_dir(out)?;
    let json = serde_json::to_string_pretty(&serde_json::json!({
        "batch": record.name,
        "batch_hash": record.batch_hash,
        "files": names,
        "finished_utc": crate::scenario::batch::utc_now_rfc3339(),
    }))
    .map_err(|e| Error::Data(e.to_string()))?;
    write_text(&marker, &json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, v: f64) -> GroupRow {
        GroupRow {
            group_id: id.into(),
            name: id.into(),
            kind: "county".into(),
            population: 1000.0,
            metrics: vec![(HEADLINE_METRIC.into(), v)],
        }
    }

    #[test]
    fn systems_add_and_gaps_are_named() {
        let mut systems = BTreeMap::new();
        systems.insert(
            "A".to_string(),
            vec![("a10".to_string(), 10.0), ("a100".to_string(), 100.0)],
        );
        systems.insert("B".to_string(), vec![("b50".to_string(), 50.0)]);
        systems.insert("C".to_string(), vec![("c10".to_string(), 10.0)]);
        let mut tables = BTreeMap::new();
        tables.insert("a10".to_string(), vec![row("g", 0.0)]);
        tables.insert("a100".to_string(), vec![row("g", 100.0)]);
        tables.insert("b50".to_string(), vec![row("g", 10.0)]);
        let mut gaps = Vec::new();
        let r = flood_risk(&systems, &tables, &mut gaps).unwrap();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert!(gaps[0].contains("system C"));
        // A: (0.1−0.01)·50 = 4.5, tail 0.01·100 = 1; B: tail 0.02·10 = 0.2.
        let total = r.iter().find(|g| g.system == "total").unwrap();
        assert!((total.eae - 5.7).abs() < 1e-12, "{}", total.eae);
        assert!((total.eae_no_tail - 4.5).abs() < 1e-12);
    }

    #[test]
    fn risk_csv_names_the_runs_cut_before_a_gauge_peaked() {
        let mut systems = BTreeMap::new();
        systems.insert(
            "A".to_string(),
            vec![("a10".to_string(), 10.0), ("a100".to_string(), 100.0)],
        );
        systems.insert("B".to_string(), vec![("b50".to_string(), 50.0)]);
        let mut tables = BTreeMap::new();
        for id in ["a10", "a100", "b50"] {
            tables.insert(id.to_string(), vec![row("g", 10.0)]);
        }
        let groups = flood_risk(&systems, &tables, &mut Vec::new()).unwrap();
        let event = |id: &str, t: f64, cut: bool| CurveEvent {
            id: id.into(),
            return_period_yr: t,
            aep: 1.0 / t,
            peaks_not_reached: if cut {
                vec!["顺义".into()]
            } else {
                Vec::new()
            },
        };
        let risk = BatchRisk {
            batch: "b".into(),
            method: Vec::new(),
            systems: [
                (
                    "A".to_string(),
                    vec![event("a10", 10.0, false), event("a100", 100.0, true)],
                ),
                ("B".to_string(), vec![event("b50", 50.0, false)]),
            ]
            .into_iter()
            .collect(),
            exposure_sources: BTreeMap::new(),
            groups,
            quakes: Vec::new(),
            gaps: Vec::new(),
        };
        let csv = risk_csv(&risk);
        let header = csv.lines().next().unwrap();
        assert!(header.ends_with(",runs_cut_before_peak"), "{header}");
        for line in csv.lines().skip(1) {
            let system = line.split(',').nth(3).unwrap();
            let last = line.rsplit(',').next().unwrap();
            match system {
                "A" | "total" => assert_eq!(last, "a100", "{line}"),
                _ => assert_eq!(last, "", "{line}"),
            }
        }
    }

    #[test]
    fn metric_names() {
        assert_eq!(depth_metric_name(0.5), "pop_depth_gt_0p5m");
        assert_eq!(depth_metric_name(0.15), "pop_depth_gt_0p15m");
        assert_eq!(depth_metric_name(1.5), "pop_depth_gt_1p5m");
    }
}
