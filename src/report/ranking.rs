//! Top and bottom groups by resilience score, per design return period and per
//! earthquake scenario: the table a decision maker reads first.
//!
//! For a return period T the batch usually holds one design storm per river system
//! (each system rained on alone). A group's **T-year score** is its lowest median score
//! over those runs, i.e. the storm of the system that hurts it most (an envelope, as a
//! flood-hazard map of several systems is drawn); the table names that system's run.
//! Earthquake scenarios are ranked one by one.
//!
//! Only groups the model can judge are ranked: a county needs its 2020 census count, at
//! least [`MIN_DOMAIN_SHARE`] of its polygon inside the model grid (edge counties cut
//! by the domain would otherwise score on a sliver of land), and at least that share of
//! its grid cells inside the modelled river systems (`basins.tif` > 0: 北三河, 永定河,
//! 大清河 and the 海河 lower reaches), since the grid's rectangle also takes in
//! counties of other basins (e.g. 平山县 on the 滹沱河) that no design storm here rains
//! on. Named groups of the plan lie inside the domain and are always ranked. The excluded counties are counted in
//! the table's caption, never dropped silently.

use crate::grid::io::read_raster_as;
use crate::scenario::batch::{BatchRecord, ScenarioKind};
use crate::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::path::Path;

/// Smallest share of a county's polygon area that must lie on the model grid for the
/// county to be ranked.
pub const MIN_DOMAIN_SHARE: f64 = 0.5;

/// One group's line of a ranking.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RankRow {
    /// Group id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `county` or the named group's kind.
    pub kind: String,
    /// Residents, persons.
    pub population: f64,
    /// Composite score percentiles (0–100).
    pub score_p05: f64,
    /// Median composite score (0–100).
    pub score_p50: f64,
    /// 95th percentile of the composite score (0–100).
    pub score_p95: f64,
    /// The indicators that pull the score down most, as `scores.csv` gives them.
    pub drivers: String,
    /// The run the score comes from.
    pub run: String,
}

/// A ranking of one return period or one earthquake.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Ranking {
    /// What is ranked, e.g. `100-year design storms (envelope of 3 systems)`.
    pub title: String,
    /// The runs that entered.
    pub runs: Vec<String>,
    /// Groups ranked.
    pub ranked: usize,
    /// Counties left out (no census count or mostly outside the grid).
    pub excluded: usize,
    /// Highest scores first.
    pub top: Vec<RankRow>,
    /// Lowest scores, lowest first.
    pub bottom: Vec<RankRow>,
}

/// A CSV reader and its header row; `fix` says how to get a readable file.
fn open_csv(path: &Path, fix: &str) -> Result<(csv::Reader<std::fs::File>, csv::StringRecord)> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::Invalid {
        path: path.to_path_buf(),
        field: "header".into(),
        message: format!("{e}; {fix}"),
    })?;
    let headers = rdr
        .headers()
        .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?
        .clone();
    Ok((rdr, headers))
}

fn read_scores(path: &Path) -> Result<Vec<RankRow>> {
    let (mut rdr, headers) = open_csv(path, "rerun `haihe score` or `haihe report` on the batch")?;
    let col = |name: &str| -> Result<usize> {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::Invalid {
                path: path.to_path_buf(),
                field: name.to_string(),
                message: "column missing from scores.csv; rerun `haihe score`".into(),
            })
    };
    let (id, name, kind, pop) = (col("id")?, col("name")?, col("kind")?, col("population")?);
    let (p05, p50, p95, drv) = (
        col("score_p05")?,
        col("score_p50")?,
        col("score_p95")?,
        col("drivers")?,
    );
    let run = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let num = |r: &csv::StringRecord, i: usize| -> f64 {
        r.get(i)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let r = crate::escape::unguard_record(
            &rec.map_err(|e| Error::Data(format!("{}: {e}", path.display())))?,
        );
        out.push(RankRow {
            id: r.get(id).unwrap_or_default().to_string(),
            name: r.get(name).unwrap_or_default().to_string(),
            kind: r.get(kind).unwrap_or_default().to_string(),
            population: num(&r, pop),
            score_p05: num(&r, p05),
            score_p50: num(&r, p50),
            score_p95: num(&r, p95),
            drivers: r.get(drv).unwrap_or_default().to_string(),
            run: run.clone(),
        });
    }
    Ok(out)
}

/// County ids (`county-<adcode>`) that may be ranked: a census count and at least
/// [`MIN_DOMAIN_SHARE`] of the polygon on the grid, from the model's `counties.csv`
/// (`area_km2` on the grid, `polygon_area_km2` of the whole county).
/// With `system_share` (adcode → share of the county's cells in the river systems),
/// a county also needs that share ≥ [`MIN_DOMAIN_SHARE`].
pub fn rankable_counties(
    counties_csv: &Path,
    system_share: Option<&HashMap<u32, f64>>,
) -> Result<HashMap<String, bool>> {
    let (mut rdr, headers) = open_csv(
        counties_csv,
        "rebuild the model folder with `haihe prepare`",
    )?;
    let col = |name: &str| headers.iter().position(|h| h == name);
    let (Some(ad), Some(on), Some(poly), Some(pop)) = (
        col("adcode"),
        col("area_km2"),
        col("polygon_area_km2"),
        col("population_2020"),
    ) else {
        return Err(Error::Invalid {
            path: counties_csv.to_path_buf(),
            field: "adcode, area_km2, polygon_area_km2, population_2020".into(),
            message: "a column is missing; rebuild the model folder with `haihe prepare`".into(),
        });
    };
    let mut out = HashMap::new();
    for rec in rdr.records() {
        let r = crate::escape::unguard_record(
            &rec.map_err(|e| Error::Data(format!("{}: {e}", counties_csv.display())))?,
        );
        let f = |i: usize| r.get(i).and_then(|v| v.trim().parse::<f64>().ok());
        let share = match (f(on), f(poly)) {
            (Some(a), Some(p)) if p > 0.0 => a / p,
            _ => 0.0,
        };
        let adcode = r.get(ad).unwrap_or_default().trim();
        let in_systems = system_share.is_none_or(|m| {
            adcode
                .parse::<u32>()
                .ok()
                .and_then(|a| m.get(&a))
                .is_some_and(|&s| s >= MIN_DOMAIN_SHARE)
        });
        let ok = f(pop).is_some_and(|p| p > 0.0) && share >= MIN_DOMAIN_SHARE && in_systems;
        out.insert(format!("county-{adcode}"), ok);
    }
    Ok(out)
}

/// `rankable`: None ranks every county (a model folder without `counties.csv`).
/// Per county adcode, the share of its cells of `counties.tif` that `basins.tif`
/// labels as a river system (> 0). The two grids must be aligned.
pub fn system_shares(counties_tif: &Path, basins_tif: &Path) -> Result<HashMap<u32, f64>> {
    let counties = read_raster_as::<i32>(counties_tif, 1)?;
    let basins = read_raster_as::<u8>(basins_tif, 1)?;
    counties.check_aligned(&basins, "counties.tif and basins.tif")?;
    let mut n: HashMap<u32, (usize, usize)> = HashMap::new();
    for (&c, &b) in counties.data.iter().zip(basins.data.iter()) {
        if c > 0 {
            let e = n.entry(c as u32).or_default();
            e.0 += 1;
            e.1 += usize::from(b > 0);
        }
    }
    Ok(n.into_iter()
        .map(|(k, (all, inside))| (k, inside as f64 / all as f64))
        .collect())
}

fn rank(
    title: String,
    runs: Vec<String>,
    rows: Vec<RankRow>,
    rankable: Option<&HashMap<String, bool>>,
    n: usize,
) -> Ranking {
    let mut excluded = 0;
    let mut kept: Vec<RankRow> = rows
        .into_iter()
        .filter(|r| {
            let ok = r.kind != "county"
                || rankable.is_none_or(|m| m.get(&r.id).copied().unwrap_or(false));
            excluded += usize::from(!ok && r.kind == "county");
            ok && r.score_p50.is_finite()
        })
        .collect();
    // Highest median first; ties by id so the order never depends on the file order.
    kept.sort_by(|a, b| b.score_p50.total_cmp(&a.score_p50).then(a.id.cmp(&b.id)));
    let top = kept.iter().take(n).cloned().collect();
    let bottom = kept.iter().rev().take(n).cloned().collect();
    Ranking {
        title,
        runs,
        ranked: kept.len(),
        excluded,
        top,
        bottom,
    }
}

/// Per group, the row of lowest median score across `tables` (ties: the first table).
pub fn envelope(tables: &[Vec<RankRow>]) -> Vec<RankRow> {
    let mut best: BTreeMap<String, RankRow> = BTreeMap::new();
    for t in tables {
        for r in t {
            match best.get(&r.id) {
                Some(b) if r.score_p50.is_nan() || r.score_p50 >= b.score_p50 => {}
                _ => {
                    best.insert(r.id.clone(), r.clone());
                }
            }
        }
    }
    best.into_values().collect()
}

/// The rankings of a batch: one per design return period (envelope over the systems'
/// storms of that period) and one per earthquake scenario, from
/// `<out>/scores/<run id>/scores.csv`. Runs without scores are skipped; without
/// `counties_csv` every county is ranked.
pub fn batch_rankings(
    out: &Path,
    record: &BatchRecord,
    counties_csv: &Path,
    n: usize,
) -> Result<Vec<Ranking>> {
    let model = counties_csv.parent().unwrap_or(Path::new("."));
    let (tif, basins) = (model.join("counties.tif"), model.join("basins.tif"));
    let shares = if tif.exists() && basins.exists() {
        Some(system_shares(&tif, &basins)?)
    } else {
        None
    };
    let rankable = if counties_csv.exists() {
        Some(rankable_counties(counties_csv, shares.as_ref())?)
    } else {
        None
    };
    let rankable = rankable.as_ref();
    let scores = |id: &str| out.join("scores").join(id).join("scores.csv");
    let mut periods: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for s in &record.scenarios {
        if let (ScenarioKind::Flood, Some(t), Some(_)) = (s.kind, s.return_period_yr, &s.system) {
            if scores(&s.id).exists() {
                periods
                    .entry(t.round() as u64)
                    .or_default()
                    .push(s.id.clone());
            }
        }
    }
    let mut out_rankings = Vec::new();
    for (t, ids) in periods {
        let tables = ids
            .iter()
            .map(|id| read_scores(&scores(id)))
            .collect::<Result<Vec<_>>>()?;
        let title = format!(
            "{t}-year design storms (each group's lowest score over {} river-system runs)",
            ids.len()
        );
        out_rankings.push(rank(title, ids, envelope(&tables), rankable, n));
    }
    for s in &record.scenarios {
        if s.kind == ScenarioKind::Quake && scores(&s.id).exists() {
            let rows = read_scores(&scores(&s.id))?;
            out_rankings.push(rank(
                format!("earthquake scenario {}", s.id),
                vec![s.id.clone()],
                rows,
                rankable,
                n,
            ));
        }
    }
    Ok(out_rankings)
}

/// The rankings as Markdown tables (rank, group, kind, population, median score with
/// its 90 % range, drivers, run).
pub fn markdown(rankings: &[Ranking]) -> String {
    // Names, kinds and drivers come from users' files: no raw HTML, markup or line
    // breaks reach the Markdown.
    let md = crate::escape::md_text;
    let mut s = String::new();
    for r in rankings {
        let _ = writeln!(
            s,
            "### {}\n\n{} groups ranked; {} counties left out (no census count, or under {:.0} % of the county on the grid or in the river systems). Runs: {}.\n",
            md(&r.title),
            r.ranked,
            r.excluded,
            MIN_DOMAIN_SHARE * 100.0,
            md(&r.runs.join(", "))
        );
        let _ = writeln!(
            s,
            "| | group | kind | residents | score p50 (p05–p95) | drivers (indicator, points lost) | run |\n|---|---|---|---:|---|---|---|"
        );
        let line = |s: &mut String, label: String, g: &RankRow| {
            let _ = writeln!(
                s,
                "| {label} | {} | {} | {:.0} | {:.1} ({:.1}–{:.1}) | {} | {} |",
                md(&g.name),
                md(&g.kind),
                g.population,
                g.score_p50,
                g.score_p05,
                g.score_p95,
                if g.drivers.is_empty() {
                    "—".to_string()
                } else {
                    md(&g.drivers)
                },
                md(&g.run)
            );
        };
        for (k, g) in r.top.iter().enumerate() {
            line(&mut s, format!("top {}", k + 1), g);
        }
        for (k, g) in r.bottom.iter().enumerate() {
            line(&mut s, format!("bottom {}", k + 1), g);
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, kind: &str, p50: f64, run: &str) -> RankRow {
        RankRow {
            id: id.into(),
            name: id.into(),
            kind: kind.into(),
            population: 1.0,
            score_p05: p50 - 1.0,
            score_p50: p50,
            score_p95: p50 + 1.0,
            drivers: String::new(),
            run: run.into(),
        }
    }

    #[test]
    fn envelope_takes_each_groups_worst_run() {
        let a = vec![row("g1", "core", 80.0, "a"), row("g2", "core", 30.0, "a")];
        let b = vec![row("g1", "core", 60.0, "b"), row("g2", "core", 40.0, "b")];
        let e = envelope(&[a, b]);
        assert_eq!((e[0].id.as_str(), e[0].run.as_str()), ("g1", "b"));
        assert_eq!((e[1].id.as_str(), e[1].run.as_str()), ("g2", "a"));
    }

    #[test]
    fn ranking_leaves_out_unrankable_counties_and_counts_them() {
        let rows = vec![
            row("county-1", "county", 90.0, "r"),
            row("county-2", "county", 10.0, "r"),
            row("county-3", "county", 50.0, "r"),
            row("xiongan", "new_area", 20.0, "r"),
        ];
        let rankable: HashMap<String, bool> = [("county-1", true), ("county-2", false)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let r = rank("t".into(), vec!["r".into()], rows, Some(&rankable), 5);
        assert_eq!(r.excluded, 2, "county-2 flagged, county-3 unknown");
        assert_eq!(r.ranked, 2);
        assert_eq!(r.top[0].id, "county-1");
        assert_eq!(r.bottom[0].id, "xiongan");
    }
}
