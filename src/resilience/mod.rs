//! Resilience per spatial group (韧性空间组团): indicators, a 0–100 composite with the
//! four 4R sub-scores and an ecological one, Monte Carlo percentiles and ranks, and
//! the indicators that pull each group down (`haihe score`).
//!
//! - [`indicators`]: the sixteen indicators, raw and normalised (kernels).
//! - [`config`]: `models/resilience.toml`, bounds, weights, ranges, validated.
//! - [`score`]: composite, missing-weight rule, drivers, Monte Carlo, ranks.
//! - [`inputs`]: a run directory's exposure tables and rasters, groups, `--groups`.
//! - [`output`]: `scores.csv`, `scores.json`, `scores.tif`, the all-scenario summary.
//!
//! # Reference
//! Bruneau, M. et al. (2003) Earthquake Spectra 19(4), 733–752 (4R, resilience loss);
//! Nardo, M. et al. (2008) OECD/JRC *Handbook on Constructing Composite Indicators*
//! (normalisation, weighting, uncertainty analysis by Monte Carlo).

pub mod config;
pub mod indicators;
pub mod inputs;
pub mod output;
pub mod score;

pub use config::ResilienceModel;
pub use indicators::{
    raw_indicators, Dimension, Draw, ExceedanceCurve, GroupData, IndicatorId, LifelineData,
    Quantity, N_INDICATORS,
};
pub use score::{composite, drivers, monte_carlo, GroupMonteCarlo, Weights};

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// What `haihe score` is asked to do.
#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Run directories (one scenario each; a folder of `member-*` is an ensemble).
    pub runs: Vec<PathBuf>,
    /// A group TOML of user groups (format of models/groups/capital_plan.toml).
    pub groups: Option<PathBuf>,
    /// The model grids (rasters/model).
    pub model_dir: PathBuf,
    /// Hydraulic structures (models/structures): reservoir and detention storage.
    pub structures_dir: PathBuf,
    /// Weights and bounds (models/resilience.toml).
    pub model_file: PathBuf,
    /// Monte Carlo seed.
    pub seed: u64,
    /// Monte Carlo samples.
    pub samples: usize,
    /// Output folder.
    pub out: PathBuf,
}

/// A group's result in one scenario.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupScore {
    /// Group id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: String,
    /// Residents, persons.
    pub population: f64,
    /// Monte Carlo percentiles of the score and rank.
    pub monte_carlo: GroupMonteCarlo,
    /// Score with every value at its nominal (ensemble: indicators averaged over members).
    pub score_nominal: Option<f64>,
    /// Nominal sub-scores, 0–100, in [`Dimension::ALL`] order.
    pub sub_scores_nominal: Vec<Option<f64>>,
    /// Nominal raw indicator values in [`IndicatorId::ALL`] order.
    pub raw: Vec<Option<f64>>,
    /// Nominal normalised values, 0–1.
    pub normalised: Vec<Option<f64>>,
    /// Effective nominal weights after redistribution.
    pub effective_weights: Vec<f64>,
    /// Up to three (indicator, score points lost), largest first.
    pub drivers: Vec<(String, f64)>,
    /// Indicators without a value, with the reason.
    pub missing: Vec<(String, String)>,
    /// Why the group was not assessed (it has no cell on the model grid, e.g. a user
    /// polygon outside the domain); None for a scored group. A group not assessed has
    /// no score, rank or population (NaN, written as empty or "not assessed"), never a
    /// perfect one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_assessed: Option<String>,
}

/// Text of `scores.csv` and the report for a group without a score.
pub const NOT_ASSESSED: &str = "not assessed";

impl GroupScore {
    /// A group that was not assessed, with the reason: every score, rank and the
    /// population NaN, no indicator, no driver.
    pub fn not_assessed(id: &str, name: &str, kind: &str, reason: &str) -> Self {
        let nan = f64::NAN;
        GroupScore {
            id: id.to_string(),
            name: name.to_string(),
            kind: kind.to_string(),
            population: nan,
            monte_carlo: GroupMonteCarlo {
                samples: 0,
                score_p05: nan,
                score_p50: nan,
                score_p95: nan,
                rank_p05: nan,
                rank_p50: nan,
                rank_p95: nan,
                sub_p50: [nan; score::N_DIMENSIONS],
            },
            score_nominal: None,
            sub_scores_nominal: vec![None; score::N_DIMENSIONS],
            raw: vec![None; N_INDICATORS],
            normalised: vec![None; N_INDICATORS],
            effective_weights: vec![0.0; N_INDICATORS],
            drivers: Vec::new(),
            missing: Vec::new(),
            not_assessed: Some(reason.to_string()),
        }
    }
}

/// One scenario's scores.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScenarioScores {
    /// Scenario name (run.json).
    pub scenario: String,
    /// The run directory.
    pub run_dir: String,
    /// Ensemble members used (1 without ensemble).
    pub members: usize,
    /// Hazards present.
    pub hazards: Vec<String>,
    /// σ ln PGA used for ε (0 when the run gives none).
    pub sigma_ln_pga: f64,
    /// Per group.
    pub groups: Vec<GroupScore>,
}

/// Scores one scenario from its members' data (no I/O).
pub fn score_scenario(
    model: &ResilienceModel,
    names: &[(String, String, String)],
    members: &[Vec<GroupData>],
    sigma_ln_pga: f64,
    seed: u64,
    samples: usize,
) -> Vec<GroupScore> {
    let mc = monte_carlo(model, members, sigma_ln_pga, seed, samples);
    let p = score::nominal_params(model, sigma_ln_pga);
    names
        .iter()
        .enumerate()
        .map(|(g, (id, name, kind))| {
            // Nominal raw values: mean over members where present.
            let mut sum = [0.0; N_INDICATORS];
            let mut n = [0usize; N_INDICATORS];
            for m in members {
                for (i, v) in raw_indicators(&m[g], &p.draw).iter().enumerate() {
                    if let Some(v) = v {
                        sum[i] += v;
                        n[i] += 1;
                    }
                }
            }
            let mut raw = [None; N_INDICATORS];
            for i in 0..N_INDICATORS {
                if n[i] > 0 {
                    raw[i] = Some(sum[i] / n[i] as f64);
                }
            }
            let norm = score::normalised(&raw, &p);
            let c = composite(&norm, &p.weights);
            let d = c
                .as_ref()
                .map(|c| drivers(&norm, c, 3))
                .unwrap_or_default()
                .into_iter()
                .map(|(i, pts)| (i.as_str().to_string(), pts))
                .collect();
            let missing = IndicatorId::ALL
                .iter()
                .filter(|i| raw[i.index()].is_none())
                .map(|i| {
                    (
                        i.as_str().to_string(),
                        indicators::missing_reason(&members[0][g], *i).to_string(),
                    )
                })
                .collect();
            GroupScore {
                id: id.clone(),
                name: name.clone(),
                kind: kind.clone(),
                population: members[0][g].population,
                monte_carlo: mc[g].clone(),
                score_nominal: c.as_ref().map(|c| c.score),
                sub_scores_nominal: c.as_ref().map_or(vec![None; 5], |c| c.sub_scores.to_vec()),
                raw: raw.to_vec(),
                normalised: norm.to_vec(),
                effective_weights: c
                    .as_ref()
                    .map_or(vec![0.0; N_INDICATORS], |c| c.effective_weights.to_vec()),
                drivers: d,
                missing,
                not_assessed: None,
            }
        })
        .collect()
}

/// Scores the groups that have cells on the model grid ([`score_scenario`], ranks among
/// them only) and marks the others [`GroupScore::not_assessed`]: a group entirely
/// outside the domain has no exposure, and scoring it would give it a perfect 100.
fn score_assessed(
    model: &ResilienceModel,
    groups: &[inputs::ScoreGroup],
    names: &[(String, String, String)],
    members: &[Vec<GroupData>],
    sigma_ln_pga: f64,
    seed: u64,
    samples: usize,
) -> Vec<GroupScore> {
    let assessed: Vec<bool> = groups.iter().map(|g| !g.cells.is_empty()).collect();
    if assessed.iter().all(|&a| a) {
        return score_scenario(model, names, members, sigma_ln_pga, seed, samples);
    }
    let keep = |v: &[GroupData]| -> Vec<GroupData> {
        v.iter()
            .zip(&assessed)
            .filter(|(_, &a)| a)
            .map(|(g, _)| g.clone())
            .collect()
    };
    let kept_names: Vec<(String, String, String)> = names
        .iter()
        .zip(&assessed)
        .filter(|(_, &a)| a)
        .map(|(n, _)| n.clone())
        .collect();
    let kept_members: Vec<Vec<GroupData>> = members.iter().map(|m| keep(m)).collect();
    let mut scored = if kept_names.is_empty() {
        Vec::new()
    } else {
        score_scenario(
            model,
            &kept_names,
            &kept_members,
            sigma_ln_pga,
            seed,
            samples,
        )
    }
    .into_iter();
    names
        .iter()
        .zip(&assessed)
        .map(|((id, name, kind), &a)| match a {
            true => scored.next().expect("one score per assessed group"),
            false => GroupScore::not_assessed(
                id,
                name,
                kind,
                "no cell of the group lies on the model grid (outside the domain, or smaller than a cell)",
            ),
        })
        .collect()
}

/// What `haihe score` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScoreReport {
    /// Per scenario.
    pub scenarios: Vec<ScenarioScores>,
    /// Pairs of user groups that overlap, with the shared cells (allowed; reported).
    pub overlaps: Vec<(String, String, usize)>,
    /// Files written, relative to the output folder.
    pub files: Vec<String>,
}

/// Runs `haihe score`: reads the model, the groups and every run directory, scores
/// each scenario and writes the outputs (see [`output`]) all or nothing.
pub fn run_score(opts: &ScoreOptions) -> Result<ScoreReport> {
    if opts.runs.is_empty() {
        return Err(Error::Data(
            "give at least one run directory to score".into(),
        ));
    }
    if opts.samples == 0 {
        return Err(Error::Data("--samples must be at least 1".into()));
    }
    let model = ResilienceModel::read(&opts.model_file)?;
    let grids = inputs::load_model(
        &opts.model_dir,
        &opts.structures_dir,
        opts.groups.as_deref(),
    )?;
    let names: Vec<(String, String, String)> = grids
        .groups
        .iter()
        .map(|g| (g.id.clone(), g.name.clone(), g.kind.clone()))
        .collect();
    let mut scenarios = Vec::new();
    for run in &opts.runs {
        let dirs = inputs::run_members(run)?;
        let mut members = Vec::new();
        let mut metas = Vec::new();
        let mut hazards = Vec::new();
        for d in &dirs {
            let m = inputs::read_member(
                d,
                &grids,
                &model.refuge.land_cover_classes,
                model.refuge.max_depth_m,
            )?;
            hazards = m.hazards.clone();
            metas.push(m.meta);
            members.push(m.groups);
        }
        let scenario = if dirs.len() > 1 {
            inputs::read_run_json(run).map_or_else(|_| metas[0].scenario.clone(), |m| m.scenario)
        } else {
            metas[0].scenario.clone()
        };
        let sigma = metas[0].sigma_ln_pga.unwrap_or(0.0);
        let groups = score_assessed(
            &model,
            &grids.groups,
            &names,
            &members,
            sigma,
            opts.seed,
            opts.samples,
        );
        scenarios.push(ScenarioScores {
            scenario,
            run_dir: run.display().to_string(),
            members: members.len(),
            hazards,
            sigma_ln_pga: sigma,
            groups,
        });
    }
    let files = output::write_all(&opts.out, &scenarios, &grids, &model, opts)?;
    Ok(ScoreReport {
        scenarios,
        overlaps: grids.overlaps.clone(),
        files,
    })
}

/// A folder name for a scenario: ASCII letters, digits, '-', '_' and '.'; others '_'.
pub fn scenario_slug(name: &str, k: usize) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    // A leading '.' would make `.` or `..` (outside the folder) or a hidden folder.
    let dots = s.len() - s.trim_start_matches('.').len();
    let s = format!("{}{}", "_".repeat(dots), &s[dots..]);
    if s.trim_matches('_').is_empty() {
        format!("scenario-{k}")
    } else {
        s
    }
}

/// The default model file, relative to the repository root.
pub fn default_model_file() -> PathBuf {
    Path::new("models").join("resilience.toml")
}
