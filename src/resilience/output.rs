//! Writing the scores: `scores.csv` (one row per group), `scores.json` and `scores.tif`
//! (the median score on each group's cells: band `counties` for the county groups, then
//! one band per named or user group, described by its id). One run directory writes
//! them into the output folder; several write them into one subfolder per scenario
//! (named for the scenario) plus `summary.csv` and `summary.json` across scenarios.
//! Everything goes through [`Staged`], so the folder is updated whole or not at all.

use super::config::ResilienceModel;
use super::indicators::{Dimension, IndicatorId};
use super::inputs::ModelGrids;
use super::{scenario_slug, ScenarioScores, ScoreOptions};
use crate::escape::WriteCells;
use crate::grid::io::{write_atomically, write_geotiff_bands};
use crate::staging::Staged;
use crate::{Error, Grid, Result};
use ndarray::Array2;
use std::path::Path;

fn fmt(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        _ => String::new(),
    }
}

fn csv_err(path: &Path) -> impl Fn(csv::Error) -> Error + '_ {
    move |e| Error::Data(format!("{}: writing CSV: {e}", path.display()))
}

/// The header of `scores.csv`.
pub fn scores_header() -> Vec<String> {
    let mut h: Vec<String> = [
        "id",
        "name",
        "kind",
        "population",
        "score_p05",
        "score_p50",
        "score_p95",
        "score_nominal",
        "rank_p50",
        "rank_p05",
        "rank_p95",
        "samples",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for d in Dimension::ALL {
        h.push(format!("{}_p50", d.as_str()));
    }
    for d in Dimension::ALL {
        h.push(format!("{}_nominal", d.as_str()));
    }
    for i in IndicatorId::ALL {
        h.push(i.as_str().to_string());
        h.push(format!("{}_norm", i.as_str()));
    }
    h.push("drivers".into());
    h.push("missing".into());
    h
}

/// Writes one scenario's `scores.csv`.
pub fn write_scores_csv(path: &Path, s: &ScenarioScores) -> Result<()> {
    write_atomically(path, |tmp| {
        let err = csv_err(path);
        let mut w = csv::Writer::from_path(tmp).map_err(&err)?;
        w.write_cells(scores_header()).map_err(&err)?;
        for g in &s.groups {
            if let Some(reason) = &g.not_assessed {
                w.write_record(not_assessed_row(g, reason)).map_err(&err)?;
                continue;
            }
            let m = &g.monte_carlo;
            let mut r = vec![
                g.id.clone(),
                g.name.clone(),
                g.kind.clone(),
                format!("{:.0}", g.population),
                fmt(Some(m.score_p05), 2),
                fmt(Some(m.score_p50), 2),
                fmt(Some(m.score_p95), 2),
                fmt(g.score_nominal, 2),
                fmt(Some(m.rank_p50), 0),
                fmt(Some(m.rank_p05), 0),
                fmt(Some(m.rank_p95), 0),
                m.samples.to_string(),
            ];
            r.extend(m.sub_p50.iter().map(|v| fmt(Some(*v), 2)));
            r.extend(g.sub_scores_nominal.iter().map(|v| fmt(*v, 2)));
            for i in 0..IndicatorId::ALL.len() {
                r.push(fmt(g.raw[i], 4));
                r.push(fmt(g.normalised[i], 4));
            }
            r.push(
                g.drivers
                    .iter()
                    .map(|(id, p)| format!("{id} (-{p:.1})"))
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            r.push(
                g.missing
                    .iter()
                    .map(|(id, _)| id.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            );
            w.write_cells(&r).map_err(&err)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

/// The `scores.csv` row of a group that was not assessed: its id, name and kind,
/// [`super::NOT_ASSESSED`] in `score_p50`, 0 samples, the reason in `missing`, every
/// other cell empty (the columns stay those of [`scores_header`]).
fn not_assessed_row(g: &super::GroupScore, reason: &str) -> Vec<String> {
    let header = scores_header();
    header
        .iter()
        .map(|h| match h.as_str() {
            "id" => g.id.clone(),
            "name" => g.name.clone(),
            "kind" => g.kind.clone(),
            "score_p50" => super::NOT_ASSESSED.to_string(),
            "samples" => "0".to_string(),
            "missing" => format!("{}: {reason}", super::NOT_ASSESSED),
            _ => String::new(),
        })
        .collect()
}

fn write_json<T: serde::Serialize>(path: &Path, v: &T) -> Result<()> {
    write_atomically(path, |tmp| {
        let text = serde_json::to_string_pretty(v)
            .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
        std::fs::write(tmp, text).map_err(|e| Error::io(tmp, e))
    })
}

/// Writes `scores.tif`: band `counties` holds each county group's median score on its
/// cells, then one band per other group (description = group id); NaN elsewhere.
pub fn write_scores_tif(path: &Path, s: &ScenarioScores, grids: &ModelGrids) -> Result<()> {
    let spec = &grids.spec;
    let blank = || Array2::<f32>::from_elem((spec.rows, spec.cols), f32::NAN);
    let mk = |a: Array2<f32>| Grid::new(a, spec.transform, spec.crs_wkt.clone(), Some(f64::NAN));
    let mut counties = blank();
    let mut others: Vec<(String, Grid<f32>)> = Vec::new();
    for (g, sc) in grids.groups.iter().zip(&s.groups) {
        let v = sc.monte_carlo.score_p50 as f32;
        if g.kind == "county" {
            let flat = counties
                .as_slice_mut()
                .ok_or_else(|| Error::Data("layout".into()))?;
            for &i in &g.cells {
                flat[i] = v;
            }
        } else {
            let mut a = blank();
            let flat = a
                .as_slice_mut()
                .ok_or_else(|| Error::Data("layout".into()))?;
            for &i in &g.cells {
                flat[i] = v;
            }
            others.push((g.id.clone(), mk(a)));
        }
    }
    let first = mk(counties);
    let mut bands: Vec<(&str, &Grid<f32>)> = vec![("counties", &first)];
    bands.extend(others.iter().map(|(id, g)| (id.as_str(), g)));
    write_geotiff_bands(&bands, path)
}

#[derive(serde::Serialize)]
struct ScoresJson<'a> {
    model_file: String,
    seed: u64,
    samples: usize,
    indicators: Vec<&'static str>,
    dimensions: Vec<&'static str>,
    overlaps: &'a [(String, String, usize)],
    scenario: &'a ScenarioScores,
}

fn write_scenario(
    dir: &Path,
    s: &ScenarioScores,
    grids: &ModelGrids,
    model: &ResilienceModel,
    opts: &ScoreOptions,
) -> Result<()> {
    write_scores_csv(&dir.join("scores.csv"), s)?;
    write_json(
        &dir.join("scores.json"),
        &ScoresJson {
            model_file: model.path.display().to_string(),
            seed: opts.seed,
            samples: opts.samples,
            indicators: IndicatorId::ALL.iter().map(|i| i.as_str()).collect(),
            dimensions: Dimension::ALL.iter().map(|d| d.as_str()).collect(),
            overlaps: &grids.overlaps,
            scenario: s,
        },
    )?;
    write_scores_tif(&dir.join("scores.tif"), s, grids)
}

/// Writes the all-scenario summary: per group, each scenario's median score and rank,
/// the mean of the medians, and the scenario where the group scores lowest.
pub fn write_summary_csv(
    path: &Path,
    scenarios: &[ScenarioScores],
    slugs: &[String],
) -> Result<()> {
    write_atomically(path, |tmp| {
        let err = csv_err(path);
        let mut w = csv::Writer::from_path(tmp).map_err(&err)?;
        let mut h = vec![
            "id".to_string(),
            "name".into(),
            "kind".into(),
            "population".into(),
        ];
        for s in slugs {
            h.push(format!("{s}_score_p50"));
            h.push(format!("{s}_rank_p50"));
        }
        h.push("mean_score_p50".into());
        h.push("worst_scenario".into());
        w.write_cells(&h).map_err(&err)?;
        let n = scenarios.first().map_or(0, |s| s.groups.len());
        for g in 0..n {
            let first = &scenarios[0].groups[g];
            let mut r = vec![
                first.id.clone(),
                first.name.clone(),
                first.kind.clone(),
                fmt(Some(first.population), 0),
            ];
            let mut vals = Vec::new();
            for (k, s) in scenarios.iter().enumerate() {
                let m = &s.groups[g].monte_carlo;
                if s.groups[g].not_assessed.is_some() {
                    r.push(super::NOT_ASSESSED.to_string());
                } else {
                    r.push(fmt(Some(m.score_p50), 2));
                }
                r.push(fmt(Some(m.rank_p50), 0));
                if m.score_p50.is_finite() {
                    vals.push((m.score_p50, k));
                }
            }
            let mean = (!vals.is_empty())
                .then(|| vals.iter().map(|v| v.0).sum::<f64>() / vals.len() as f64);
            r.push(fmt(mean, 2));
            r.push(
                vals.iter()
                    .min_by(|a, b| a.0.total_cmp(&b.0))
                    .map(|v| slugs[v.1].clone())
                    .unwrap_or_default(),
            );
            w.write_cells(&r).map_err(&err)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

/// Writes every output into `out` (see the module doc); returns the names committed.
pub fn write_all(
    out: &Path,
    scenarios: &[ScenarioScores],
    grids: &ModelGrids,
    model: &ResilienceModel,
    opts: &ScoreOptions,
) -> Result<Vec<String>> {
    let mut stage = Staged::new(out)?;
    if scenarios.len() == 1 {
        let mut names = Vec::new();
        for f in ["scores.csv", "scores.json", "scores.tif"] {
            names.push(stage.path(f));
        }
        let dir = names[0].parent().map(Path::to_path_buf).unwrap_or_default();
        write_scenario(&dir, &scenarios[0], grids, model, opts)?;
        return stage.commit();
    }
    let mut slugs: Vec<String> = Vec::new();
    for (k, s) in scenarios.iter().enumerate() {
        // Named for the run folder (a batch's scenario id), which is unique and readable;
        // the scenario's own name, which may be all CJK, when the folder has no name.
        let base = Path::new(&s.run_dir)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| s.scenario.clone());
        let mut slug = scenario_slug(&base, k);
        if slugs.contains(&slug) {
            slug = format!("{slug}-{k}");
        }
        // A folder of that name that haihe did not write (no marker) is never replaced:
        // refused before anything is written.
        let old = out.join(&slug);
        if old.exists() && crate::outdir::marker_kind(&old).is_none() {
            return Err(Error::Invalid {
                path: old,
                field: "--out".into(),
                message: format!(
                    "exists and is not a haihe score folder (no {} marker); nothing was changed. Move it away or choose another output folder",
                    crate::outdir::MARKER
                ),
            });
        }
        slugs.push(slug);
    }
    for (s, slug) in scenarios.iter().zip(&slugs) {
        let dir = stage.path(slug);
        crate::outdir::claim_subfolder(&dir, crate::outdir::OutputKind::Member)?;
        write_scenario(&dir, s, grids, model, opts)?;
    }
    // A haihe folder of an earlier run would block the rename: move it into the staging
    // folder, which is removed when `stage` is dropped.
    for slug in &slugs {
        let old = out.join(slug);
        if old.exists() && crate::outdir::marker_kind(&old).is_some() {
            let parked = stage.dir().join(format!(".old-{slug}"));
            std::fs::rename(&old, &parked).map_err(|e| Error::io(&old, e))?;
        }
    }
    let summary = stage.path("summary.csv");
    write_summary_csv(&summary, scenarios, &slugs)?;
    let sj = stage.path("summary.json");
    let brief: Vec<serde_json::Value> = scenarios
        .iter()
        .zip(&slugs)
        .map(|(s, slug)| {
            serde_json::json!({
                "scenario": s.scenario, "folder": slug, "run_dir": s.run_dir,
                "members": s.members, "hazards": s.hazards,
                "groups": s.groups.iter().map(|g| serde_json::json!({
                    "id": g.id, "score_p05": g.monte_carlo.score_p05,
                    "score_p50": g.monte_carlo.score_p50, "score_p95": g.monte_carlo.score_p95,
                    "rank_p50": g.monte_carlo.rank_p50, "drivers": g.drivers,
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    write_json(
        &sj,
        &serde_json::json!({"seed": opts.seed, "samples": opts.samples, "overlaps": grids.overlaps, "scenarios": brief}),
    )?;
    stage.commit()
}
