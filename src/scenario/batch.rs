//! Batches of scenarios (`models/batches/*.toml`) and the `haihe batch` runner.
//!
//! A batch names flood and earthquake scenario files and *combined* cases (a flood and
//! an earthquake of the same batch striking the networks at once), the Monte Carlo
//! size handed to the later steps (lifeline damage, scores), and optionally a flood
//! ensemble. The runner:
//!
//! - **claims the output folder**: `<out>/batch.json` records the batch's name and the
//!   FNV-1a hash of its file. A folder holding another batch, or files but no
//!   `batch.json`, is refused; a folder holding this batch's runs is refused without
//!   `--resume`. Nothing is overwritten silently.
//! - **flood ensembles**: with `[ensemble] members, seed`, every flood scenario also
//!   runs as an ensemble (`haihe flood --ensemble`: CN shifted and Manning's n scaled
//!   per member, seeded by (seed, member)) into `member-NNN/` folders of its run
//!   folder; the scores take their spread, the risk tables the nominal run.
//! - **runs each scenario into `<out>/.partial/<id>.<pid>/`**, calls [`after_run`],
//!   writes `manifest.json` (id, kind, scenario hash, code version, time, files with
//!   their sizes and hashes) and only then renames the folder to `<out>/runs/<id>/`.
//!   A run folder therefore appears whole or not at all, and a killed batch loses at
//!   most the scenarios in flight. `--resume` skips every scenario whose manifest
//!   carries the same kind and scenario hash, and reruns the rest (a run whose
//!   scenario file changed is replaced).
//! - **parallel**: with more scenarios to run than threads, scenario-level
//!   parallelism (`jobs` workers take the scenarios from a queue, floods first, and
//!   run each inside a one-thread rayon pool of its own); otherwise grid-level (one run at a time with all threads). The flood solver
//!   and the earthquake exposure sums are bit-identical across thread counts, so the
//!   outputs are the same either way (tested in `tests/batch.rs`; only the timings and
//!   thread counts inside `run.json` differ).
//! - **shards**: `--shard i/n` runs the flood and earthquake scenarios whose position
//!   in the list of their ids sorted byte-wise (0-based) is ≡ i − 1 (mod n). Combined
//!   cases are not sharded: they join two finished runs and are evaluated by an
//!   unsharded batch or by `haihe report`, once both parts are present.
//!   [`emit_slurm`] writes a Slurm job-array script whose task i runs shard i/n with
//!   `--resume`, followed by a dependent `haihe report` job that merges the shards.
//!
//! Scenario paths in the batch file are relative to the project root, as the paths
//! inside scenario files are.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Version string recorded in manifests.
pub const CODE_VERSION: &str = concat!("haihe-resilience ", env!("CARGO_PKG_VERSION"));

/// A batch file.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BatchFile {
    /// Short name; an output folder belongs to one batch name.
    pub name: String,
    /// What the batch is for.
    #[serde(default)]
    pub description: String,
    /// Monte Carlo settings for the later steps (lifeline damage, scores).
    pub monte_carlo: BatchMonteCarlo,
    /// Optional flood ensemble (members with CN and roughness varied): every flood
    /// scenario also runs its members into `member-NNN/` of its run folder.
    #[serde(default)]
    pub ensemble: Option<Ensemble>,
    /// The scenarios.
    #[serde(rename = "scenario")]
    pub scenarios: Vec<ScenarioEntry>,
}

/// Monte Carlo size of a batch.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BatchMonteCarlo {
    /// Realisations per scenario (1 to 1,000,000).
    pub samples: usize,
    /// Seed; realisation i of a scenario draws from (seed, i) alone.
    pub seed: u64,
}

/// A flood ensemble: `members` variants of every flood scenario.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Ensemble {
    /// Number of members (1 to 1000).
    pub members: usize,
    /// Seed; member i draws from (seed, i) alone.
    pub seed: u64,
}

/// The kind of a scenario.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum ScenarioKind {
    /// A flood scenario (`haihe flood`).
    Flood,
    /// An earthquake scenario (`haihe quake`).
    Quake,
    /// A flood and an earthquake of the batch at once.
    Combined,
}

impl ScenarioKind {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioKind::Flood => "flood",
            ScenarioKind::Quake => "quake",
            ScenarioKind::Combined => "combined",
        }
    }
    /// Rough relative cost, for the overall progress bar's ETA (a regional flood run
    /// takes about ten times an earthquake run).
    pub fn work_units(self) -> u64 {
        match self {
            ScenarioKind::Flood => 10,
            ScenarioKind::Quake => 1,
            ScenarioKind::Combined => 1,
        }
    }
}

/// One scenario of a batch.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ScenarioEntry {
    /// Unique id: letters, digits, `-`, `_`, `.`; names the run folder.
    pub id: String,
    /// flood, quake or combined.
    pub kind: ScenarioKind,
    /// Scenario file (flood and quake), relative to the project root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// Combined: the id of the flood scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flood: Option<String>,
    /// Combined: the id of the earthquake scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quake: Option<String>,
    /// Flood: return period of the design event, years (> 1); with `system`, the
    /// scenario is a point of that system's risk curve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_period_yr: Option<f64>,
    /// Flood: the river system (or any label) whose risk curve the scenario belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Earthquake: annual rate of occurrence, 1/yr; absent: reported as a scenario
    /// outcome only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annual_rate: Option<f64>,
}

/// A loaded and checked batch.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The batch file as given.
    pub path: PathBuf,
    /// FNV-1a 64 of the batch file's bytes (hex).
    pub hash: String,
    /// Its content.
    pub def: BatchFile,
}

/// `<out>/batch.json`: which batch an output folder belongs to (deterministic content,
/// the same for every shard).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BatchRecord {
    /// Batch name.
    pub name: String,
    /// Batch file as given.
    pub batch_file: String,
    /// FNV-1a 64 of the batch file (hex).
    pub batch_hash: String,
    /// What the batch is for.
    pub description: String,
    /// Monte Carlo settings.
    pub monte_carlo: BatchMonteCarlo,
    /// Flood ensemble, if any.
    pub ensemble: Option<Ensemble>,
    /// Every scenario of the batch (not only a shard's).
    pub scenarios: Vec<ScenarioEntry>,
}

impl Batch {
    /// The record written to `<out>/batch.json`.
    pub fn record(&self) -> BatchRecord {
        BatchRecord {
            name: self.def.name.clone(),
            batch_file: self.path.display().to_string(),
            batch_hash: self.hash.clone(),
            description: self.def.description.clone(),
            monte_carlo: self.def.monte_carlo,
            ensemble: self.def.ensemble,
            scenarios: self.def.scenarios.clone(),
        }
    }
}

/// FNV-1a 64-bit hash of bytes (Fowler, Noll, Vo), as 16 hex digits.
pub fn fnv1a64_hex(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

fn hash_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::MissingFile {
                path: path.to_path_buf(),
                fix: "check the scenario's `file` in the batch (paths are relative to the project root)".into(),
            }
        } else {
            Error::io(path, e)
        }
    })?;
    Ok(fnv1a64_hex(&bytes))
}

fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// Reads a batch file and checks it: ids unique and usable as folder names, scenario
/// files present, combined cases naming a flood and an earthquake of the batch, return
/// periods above one year, rates positive, one scenario per (system, return period).
pub fn load_batch(path: &Path, root: &Path) -> Result<Batch> {
    let text = crate::error::read_text(
        path,
        "give a batch file such as models/batches/default.toml",
    )?;
    let def: BatchFile = toml::from_str(&text).map_err(|e| Error::Toml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let bad = |field: String, message: String| Error::Invalid {
        path: path.to_path_buf(),
        field,
        message,
    };
    if def.name.trim().is_empty() {
        return Err(bad("name".into(), "give the batch a name".into()));
    }
    if !(1..=1_000_000).contains(&def.monte_carlo.samples) {
        return Err(bad(
            "monte_carlo.samples".into(),
            format!("{}: use 1 to 1,000,000", def.monte_carlo.samples),
        ));
    }
    if let Some(e) = def.ensemble {
        if !(1..=1000).contains(&e.members) {
            return Err(bad(
                "ensemble.members".into(),
                format!("{}: use 1 to 1000", e.members),
            ));
        }
    }
    if def.scenarios.is_empty() {
        return Err(bad(
            "scenario".into(),
            "the batch lists no [[scenario]]".into(),
        ));
    }
    let mut seen = std::collections::BTreeMap::new();
    for (i, s) in def.scenarios.iter().enumerate() {
        let f = |k: &str| format!("scenario[{i}] ({}).{k}", s.id);
        crate::outdir::check_id(&s.id, path, &f("id"))?;
        if let Some(j) = seen.insert(s.id.clone(), i) {
            return Err(bad(
                f("id"),
                format!(
                    "duplicate id '{}' (also scenario[{j}]); ids must be unique",
                    s.id
                ),
            ));
        }
        match s.kind {
            ScenarioKind::Flood | ScenarioKind::Quake => {
                let Some(file) = &s.file else {
                    return Err(bad(f("file"), "give the scenario file".into()));
                };
                let p = resolve(root, file);
                if !p.is_file() {
                    return Err(bad(
                        f("file"),
                        format!(
                            "{}: file not found (paths are relative to the project root, {})",
                            file.display(),
                            root.display()
                        ),
                    ));
                }
                if s.flood.is_some() || s.quake.is_some() {
                    return Err(bad(
                        f("flood"),
                        "only combined scenarios name a flood and a quake".into(),
                    ));
                }
            }
            ScenarioKind::Combined => {
                if s.file.is_some() {
                    return Err(bad(f("file"), "a combined scenario has no file: name `flood` and `quake` ids of the batch".into()));
                }
                if s.flood.is_none() || s.quake.is_none() {
                    return Err(bad(
                        f("flood"),
                        "a combined scenario names both `flood` and `quake` (ids of the batch)"
                            .into(),
                    ));
                }
            }
        }
        if s.kind != ScenarioKind::Flood && (s.return_period_yr.is_some() || s.system.is_some()) {
            return Err(bad(
                f("return_period_yr"),
                "return periods and systems belong to flood scenarios".into(),
            ));
        }
        if s.kind != ScenarioKind::Quake && s.annual_rate.is_some() {
            return Err(bad(
                f("annual_rate"),
                "annual rates belong to earthquake scenarios".into(),
            ));
        }
        if let Some(t) = s.return_period_yr {
            if !(t.is_finite() && t > 1.0) {
                return Err(bad(
                    f("return_period_yr"),
                    format!("{t}: must be a number of years above 1"),
                ));
            }
            if s.system.is_none() {
                return Err(bad(
                    f("system"),
                    "a return period needs the `system` whose risk curve it belongs to".into(),
                ));
            }
        }
        if let Some(r) = s.annual_rate {
            if !(r.is_finite() && r > 0.0) {
                return Err(bad(
                    f("annual_rate"),
                    format!("{r}: must be a positive rate per year"),
                ));
            }
        }
    }
    let kind_of = |id: &str| def.scenarios.iter().find(|s| s.id == id).map(|s| s.kind);
    let mut curve_points = std::collections::BTreeSet::new();
    for (i, s) in def.scenarios.iter().enumerate() {
        if s.kind == ScenarioKind::Combined {
            for (k, want) in [
                (&s.flood, ScenarioKind::Flood),
                (&s.quake, ScenarioKind::Quake),
            ] {
                let id = k.as_deref().unwrap_or_default();
                if kind_of(id) != Some(want) {
                    return Err(bad(
                        format!("scenario[{i}] ({}).{}", s.id, want.as_str()),
                        format!("'{id}' is not a {} scenario of this batch", want.as_str()),
                    ));
                }
            }
        }
        if let (Some(t), Some(sys)) = (s.return_period_yr, &s.system) {
            if !curve_points.insert((sys.clone(), t.to_bits())) {
                return Err(bad(
                    format!("scenario[{i}] ({}).return_period_yr", s.id),
                    format!("a second {t}-year event for system '{sys}': give a variant (a breach, an operating rule) its own `system` label or no return period"),
                ));
            }
        }
    }
    Ok(Batch {
        path: path.to_path_buf(),
        hash: fnv1a64_hex(text.as_bytes()),
        def,
    })
}

/// A shard: part `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1 to `count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            Error::Data(format!(
                "--shard '{s}': give i/n with 1 ≤ i ≤ n, e.g. --shard 2/3"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// The flood and earthquake scenarios of a shard: those whose 0-based position in the
/// byte-wise sorted list of flood and earthquake ids is ≡ index − 1 (mod count). All of
/// them without a shard. Returned in that sorted order.
pub fn shard_scenarios(batch: &Batch, shard: Option<Shard>) -> Vec<&ScenarioEntry> {
    let mut v: Vec<&ScenarioEntry> = batch
        .def
        .scenarios
        .iter()
        .filter(|s| s.kind != ScenarioKind::Combined)
        .collect();
    v.sort_by(|a, b| a.id.cmp(&b.id));
    v.into_iter()
        .enumerate()
        .filter(|(k, _)| shard.is_none_or(|sh| k % sh.count == sh.index - 1))
        .map(|(_, s)| s)
        .collect()
}

/// `manifest.json` of a finished run.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Scenario id.
    pub id: String,
    /// Scenario kind.
    pub kind: ScenarioKind,
    /// Scenario file as given (combined: none).
    pub scenario_file: Option<String>,
    /// FNV-1a 64 over the scenario file and every input it reads (combined: of its
    /// parts' hashes); see [`scenario_hash`].
    pub scenario_hash: String,
    /// The inputs behind `scenario_hash`: (path, FNV-1a 64); empty for combined cases.
    #[serde(default)]
    pub inputs: Vec<(String, String)>,
    /// Code that wrote the run.
    pub code_version: String,
    /// When the run finished, UTC (RFC 3339).
    pub finished_utc: String,
    /// Wall time of the run, s.
    pub wall_seconds: f64,
    /// Files of the run folder (besides the manifest): name, bytes, FNV-1a 64.
    pub files: Vec<(String, u64, String)>,
    /// Findings of the plausibility guard on the run (a flood's `run.json` `warnings`),
    /// most severe first; empty for earthquakes and combined cases.
    #[serde(default)]
    pub findings: Vec<crate::flood::plausibility::Finding>,
    /// Why `--resume` reran this scenario although an earlier run of it had finished:
    /// the files of that run that failed the check against its manifest (missing, other
    /// size, other hash). Absent for a first run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_reason: Option<String>,
}

/// What happened to one scenario in a batch.
#[derive(Debug, Clone, Serialize)]
pub struct RunRecord {
    /// Scenario id.
    pub id: String,
    /// Scenario kind.
    pub kind: ScenarioKind,
    /// `ran`, `skipped` (finished earlier, same scenario hash), `failed: …` or
    /// `pending` (combined case whose parts are not all present).
    pub status: String,
    /// Wall time, s (0 when skipped).
    pub wall_seconds: f64,
    /// Run folder.
    pub dir: PathBuf,
}

/// How to share the threads between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parallelism {
    /// Scenario-level when more scenarios are to run than threads, else grid-level.
    #[default]
    Auto,
    /// Several runs at once, each on one thread.
    Scenarios,
    /// One run at a time with every thread.
    Grid,
}

/// Options of [`run_batch`].
#[derive(Debug, Clone)]
pub struct BatchOptions {
    /// Output folder.
    pub out: PathBuf,
    /// Project root (scenario paths are relative to it).
    pub root: PathBuf,
    /// Run only this shard.
    pub shard: Option<Shard>,
    /// Continue a batch in this folder: skip finished runs, rerun the rest.
    pub resume: bool,
    /// Threads (default: rayon's, i.e. RAYON_NUM_THREADS or the cores).
    pub jobs: Option<usize>,
    /// Scenario- or grid-level parallelism.
    pub parallelism: Parallelism,
}

/// Receives progress events (the command line draws bars from them).
pub trait Progress: Sync {
    /// The runs about to start: (id, kind) of each, and whether it is skipped.
    fn planned(&self, _runs: &[(String, ScenarioKind, bool)]) {}
    /// A run started.
    fn started(&self, _id: &str, _kind: ScenarioKind) {}
    /// A run ended (see [`RunRecord::status`]).
    fn finished(&self, _record: &RunRecord) {}
    /// A finished run failed the check against its manifest ([`verify_run`]) and is run
    /// again; `reason` names the files.
    fn rerun(&self, _id: &str, _reason: &str) {}
}

/// Progress that shows nothing.
pub struct NoProgress;
impl Progress for NoProgress {}

/// What a batch did.
#[derive(Debug, Clone, Serialize)]
pub struct BatchSummary {
    /// One record per scenario of the shard (and combined cases).
    pub runs: Vec<RunRecord>,
    /// Batch-level files written (report, risk tables), empty for a shard.
    pub files: Vec<PathBuf>,
    /// Finished runs that failed the check against their manifest and were run again:
    /// (id, the files that differed).
    pub reruns: Vec<(String, String)>,
    /// Wall time, s.
    pub wall_seconds: f64,
}

/// Hook called on every finished run folder before its manifest is written (so what
/// it writes is part of the run and appears atomically with it). Flood runs on the
/// regional grids and earthquake runs already hold their exposure tables
/// ([`crate::exposure::assess_run`] is called by their runners). A combined case gets its
/// own: the flood's depths are copied into its folder, the earthquake's ground motion is
/// read from its run, and the exposure and lifeline damage are computed with both hazards striking the same
/// networks at once.
pub fn after_run(run_dir: &Path, kind: ScenarioKind, root: &Path, out: &Path) -> Result<()> {
    if kind != ScenarioKind::Combined {
        return Ok(());
    }
    let c: serde_json::Value = serde_json::from_str(&crate::error::read_text(
        &run_dir.join("combined.json"),
        "the combined case's combined.json is written by the batch",
    )?)
    .map_err(|e| Error::Data(format!("{}: {e}", run_dir.join("combined.json").display())))?;
    // The parts are installed runs of the batch (`<out>/runs/<id>`); the combined run
    // itself is still being written in its partial folder.
    let runs = out.join("runs");
    let part = |k: &str| -> Result<PathBuf> {
        let id = c[k][0]
            .as_str()
            .ok_or_else(|| Error::Data(format!("combined.json: no {k} part")))?;
        Ok(runs.join(id))
    };
    let (flood, quake) = (part("flood")?, part("quake")?);
    if !flood.join("run.json").exists() || !quake.join("run.json").exists() {
        return Err(Error::Data(format!(
            "combined case {}: its parts {} and {} must be finished runs of the batch",
            run_dir.display(),
            flood.display(),
            quake.display()
        )));
    }
    let depth = flood.join("max_depth.tif");
    if !depth.exists() || !flood.join("exposure_population.csv").exists() {
        // A flood on its own DEM is not on the model grids (it has no exposure tables):
        // nothing to combine.
        return Ok(());
    }
    // The flood's depths are copied in; the earthquake's ground motion is read from its
    // run (`combine_with`), so that the folder holds one hazard of each.
    let to = run_dir.join("max_depth.tif");
    crate::grid::io::write_atomically(&to, |p| {
        std::fs::copy(&depth, p)
            .map(|_| ())
            .map_err(|e| Error::io(&depth, e))
    })?;
    let id = run_dir
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let meta = serde_json::json!({
        "scenario": format!("{id} (flood + earthquake)"),
        "flood_run": flood.display().to_string(),
        "quake_run": quake.display().to_string(),
    });
    let text = serde_json::to_string_pretty(&meta).map_err(|e| Error::Data(e.to_string()))?;
    crate::grid::io::write_atomically(&run_dir.join("run.json"), |p| {
        std::fs::write(p, &text).map_err(|e| Error::io(p, e))
    })?;
    crate::exposure::assess_run(
        run_dir,
        root,
        &crate::exposure::ExposureOptions {
            model_dir: root.join("rasters/model"),
            combine_with: Some(quake),
            ..Default::default()
        },
    )?;
    Ok(())
}

/// Hook called once every run of a batch (or of merged shards) is present, before the
/// report is written: the resilience scores (`haihe score`) of every run that holds
/// exposure tables, into `<out>/scores/` (one subfolder per scenario and a summary),
/// with the batch's own `[monte_carlo]` samples and seed (the ones the report prints).
pub fn after_batch(
    out_dir: &Path,
    runs: &[RunRecord],
    root: &Path,
    monte_carlo: BatchMonteCarlo,
) -> Result<()> {
    let dirs: Vec<PathBuf> = runs
        .iter()
        .map(|r| out_dir.join("runs").join(&r.id))
        .filter(|d| d.join("exposure_population.csv").exists() && d.join("run.json").exists())
        .collect();
    let scores = out_dir.join("scores");
    if dirs.is_empty() {
        // Scores of an earlier call would describe runs that no longer have exposure
        // tables, and the report would show them.
        prune_scores(&scores, &[])?;
        let _ = std::fs::remove_dir(&scores);
        return Ok(());
    }
    let report = crate::resilience::run_score(&crate::resilience::ScoreOptions {
        runs: dirs,
        groups: None,
        model_dir: root.join("rasters/model"),
        structures_dir: root.join("models/structures"),
        model_file: root.join("models/resilience.toml"),
        seed: monte_carlo.seed,
        samples: monte_carlo.samples,
        out: scores.clone(),
    })?;
    prune_scores(&scores, &report.files)
}

/// Removes from a batch's `scores/` what the last scoring did not write (`written`:
/// names directly inside it): a scenario subfolder of a run that is no longer scored, or
/// the files of the one-scenario (flat) or several-scenario layout the folder had
/// before. Only haihe's own score files and marked subfolders are removed.
fn prune_scores(scores: &Path, written: &[String]) -> Result<()> {
    let Ok(rd) = std::fs::read_dir(scores) else {
        return Ok(());
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || written.contains(&name) {
            continue;
        }
        let p = e.path();
        if p.is_dir() {
            if crate::outdir::marker_kind(&p).is_some() {
                std::fs::remove_dir_all(&p).map_err(|e| Error::io(&p, e))?;
            }
        } else if matches!(
            name.as_str(),
            "scores.csv" | "scores.json" | "scores.tif" | "summary.csv" | "summary.json"
        ) {
            std::fs::remove_file(&p).map_err(|e| Error::io(&p, e))?;
        }
    }
    crate::outdir::sync_dir(scores)
}

/// Folders and files a scenario of `kind` reads besides the scenario file, relative to
/// the project root (defaults of `haihe flood`, `haihe quake` and the exposure that
/// follows every run). Paths named in the scenario file are added by
/// [`scenario_inputs`].
pub fn default_inputs(kind: ScenarioKind) -> &'static [&'static str] {
    match kind {
        ScenarioKind::Flood => &[
            "rasters/model",
            "rasters/lifelines",
            "models/runoff.toml",
            "models/design_rain.toml",
            "models/channels.toml",
            "models/structures",
            "models/urban_drainage.toml",
            "models/observed_rain_extremes.toml",
            "models/fragility.toml",
        ],
        ScenarioKind::Quake => &[
            "rasters/model",
            "rasters/lifelines",
            "rasters/source/faults",
            "models/seismic",
            "models/fragility.toml",
        ],
        ScenarioKind::Combined => &[],
    }
}

fn push_files(p: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if p.is_file() {
        out.push(p.to_path_buf());
    } else if p.is_dir() && depth > 0 {
        if let Ok(rd) = std::fs::read_dir(p) {
            let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            entries.sort();
            for e in entries {
                push_files(&e, depth - 1, out);
            }
        }
    }
}

fn toml_strings(v: &toml::Value, out: &mut Vec<String>) {
    match v {
        toml::Value::String(s) => out.push(s.clone()),
        toml::Value::Array(a) => a.iter().for_each(|x| toml_strings(x, out)),
        toml::Value::Table(t) => t.values().for_each(|x| toml_strings(x, out)),
        _ => {}
    }
}

/// Every file a flood or earthquake scenario depends on: the scenario file, the
/// defaults of its kind ([`default_inputs`]) and every string of the scenario file
/// that names an existing file or folder (rain netCDF, DEM, model folder, structures
/// folder, inflow tables); folders count with the files inside them (two levels).
/// Sorted, without repeats. Combined cases have none of their own.
pub fn scenario_inputs(entry: &ScenarioEntry, root: &Path) -> Result<Vec<PathBuf>> {
    let Some(file) = entry.file.as_deref() else {
        return Ok(Vec::new());
    };
    let file = resolve(root, file);
    let text = std::fs::read_to_string(&file).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::MissingFile {
                path: file.clone(),
                fix: "check the scenario's `file` in the batch (paths are relative to the project root)".into(),
            }
        } else {
            Error::io(&file, e)
        }
    })?;
    let mut named = Vec::new();
    if let Ok(t) = toml::from_str::<toml::Table>(&text) {
        t.values().for_each(|v| toml_strings(v, &mut named));
    }
    let mut out = vec![file.clone()];
    let dir = file.parent().unwrap_or(Path::new(""));
    for d in default_inputs(entry.kind) {
        push_files(&root.join(d), 3, &mut out);
    }
    for s in named {
        if s.is_empty() || s.contains('\n') || s.len() > 500 {
            continue;
        }
        let p = Path::new(&s);
        for cand in [resolve(root, p), dir.join(p)] {
            if cand.exists() {
                push_files(&cand, 3, &mut out);
                break;
            }
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|p| seen.insert(p.canonicalize().unwrap_or_else(|_| p.clone())));
    out.sort();
    Ok(out)
}

/// FNV-1a 64 of a file, remembered per (path, length, modification time) within the
/// process, so that a batch hashes its shared model folder once.
fn hash_file_cached(path: &Path) -> Result<String> {
    use std::sync::{Mutex, OnceLock};
    type Key = (PathBuf, u64, Option<std::time::SystemTime>);
    static CACHE: OnceLock<Mutex<HashMap<Key, String>>> = OnceLock::new();
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let key = (path.to_path_buf(), meta.len(), meta.modified().ok());
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(h) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(h);
    }
    let h = hash_file(path)?;
    if let Ok(mut c) = cache.lock() {
        c.insert(key, h.clone());
    }
    Ok(h)
}

/// The inputs of a scenario with their hashes: (path relative to the root where it
/// lies under it, FNV-1a 64), in [`scenario_inputs`] order.
pub fn input_hashes(entry: &ScenarioEntry, root: &Path) -> Result<Vec<(String, String)>> {
    hashed(scenario_inputs(entry, root)?, root)
}

/// [`input_hashes`] of a scenario file of `kind` outside a batch (written into a flood's
/// `run.json`).
pub fn file_input_hashes(
    kind: ScenarioKind,
    file: &Path,
    root: &Path,
) -> Result<Vec<(String, String)>> {
    let entry = ScenarioEntry {
        id: String::new(),
        kind,
        file: Some(file.to_path_buf()),
        flood: None,
        quake: None,
        return_period_yr: None,
        system: None,
        annual_rate: None,
    };
    input_hashes(&entry, root)
}

fn hashed(files: Vec<PathBuf>, root: &Path) -> Result<Vec<(String, String)>> {
    files
        .into_iter()
        .map(|p| {
            let h = hash_file_cached(&p)?;
            let shown = p.strip_prefix(root).unwrap_or(&p).display().to_string();
            Ok((shown, h))
        })
        .collect()
}

/// The hash a run of `entry` is checked against: of its scenario file and every input
/// it reads ([`input_hashes`]), so that a changed rain file, DEM, structure table or
/// model folder makes `--resume` rerun the scenario; for a combined case, of its parts'
/// hashes.
pub fn scenario_hash(batch: &BatchRecord, entry: &ScenarioEntry, root: &Path) -> Result<String> {
    match entry.kind {
        ScenarioKind::Combined => {
            let part = |id: &Option<String>| -> Result<String> {
                let id = id.as_deref().unwrap_or_default();
                let e = batch.scenarios.iter().find(|s| s.id == id).ok_or_else(|| {
                    Error::Data(format!("combined '{}': no scenario '{id}'", entry.id))
                })?;
                scenario_hash(batch, e, root)
            };
            let joint = format!("combined:{}:{}", part(&entry.flood)?, part(&entry.quake)?);
            Ok(fnv1a64_hex(joint.as_bytes()))
        }
        _ => {
            let mut text = String::new();
            if let (ScenarioKind::Flood, Some(e)) = (entry.kind, batch.ensemble) {
                // The ensemble's size and seed change what a flood run folder holds.
                text.push_str(&format!("ensemble\t{}\t{}\n", e.members, e.seed));
            }
            for (p, h) in input_hashes(entry, root)? {
                text.push_str(&p);
                text.push('\t');
                text.push_str(&h);
                text.push('\n');
            }
            Ok(fnv1a64_hex(text.as_bytes()))
        }
    }
}

/// The manifest of a run folder, if it has a readable one.
pub fn read_manifest(run_dir: &Path) -> Option<Manifest> {
    let text = std::fs::read_to_string(run_dir.join("manifest.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn manifest_matches(run_dir: &Path, entry: &ScenarioEntry, hash: &str) -> bool {
    read_manifest(run_dir)
        .is_some_and(|m| m.kind == entry.kind && m.scenario_hash == hash && m.id == entry.id)
}

/// FNV-1a 64 and length of a file, read in 1 MiB blocks.
fn hash_file_streamed(path: &Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut len = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        len += n as u64;
        for &b in &buf[..n] {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    Ok((len, format!("{h:016x}")))
}

/// Checks a finished run folder against its manifest: every file the manifest lists
/// must be present with its size and, when the size matches, its FNV-1a 64 hash (the
/// size is checked first, so a truncated file costs no hashing). Returns one line per
/// file that differs, naming it; empty when the run is intact. Files the manifest does
/// not list (a user's notes, `member-NNN/` folders of an ensemble) are not checked.
pub fn verify_run(run_dir: &Path, manifest: &Manifest) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, size, hash) in &manifest.files {
        let p = run_dir.join(name);
        match std::fs::metadata(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                problems.push(format!("{name} is missing"));
            }
            Err(e) => problems.push(format!("{name} cannot be read ({e})")),
            Ok(m) if !m.is_file() => problems.push(format!("{name} is not a file")),
            Ok(m) if m.len() != *size => problems.push(format!(
                "{name} has {} bytes where the manifest says {size}",
                m.len()
            )),
            Ok(_) => match hash_file_streamed(&p) {
                Ok((_, h)) if h == *hash => {}
                Ok((_, h)) => problems.push(format!(
                    "{name} was changed (hash {h} where the manifest says {hash})"
                )),
                Err(e) => problems.push(format!("{name} cannot be read ({e})")),
            },
        }
    }
    problems
}

/// What `--resume` finds in the run folder of a scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Finished {
    /// No finished run of this scenario (none, or one of other inputs): run it.
    No,
    /// A finished run of this scenario whose files match its manifest: skip it.
    Intact,
    /// A finished run of this scenario whose files do not match its manifest (or whose
    /// manifest cannot be read): run it again, for this reason.
    Damaged(String),
}

/// Whether `run_dir` holds an intact finished run of `entry` with scenario hash `hash`.
fn finished(run_dir: &Path, entry: &ScenarioEntry, hash: &str) -> Finished {
    let mp = run_dir.join("manifest.json");
    let text = match std::fs::read_to_string(&mp) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Finished::No,
        Err(e) => return Finished::Damaged(format!("manifest.json cannot be read ({e})")),
    };
    let m: Manifest = match serde_json::from_str(&text) {
        Ok(m) => m,
        Err(e) => return Finished::Damaged(format!("manifest.json is not a manifest ({e})")),
    };
    if !(m.kind == entry.kind && m.scenario_hash == hash && m.id == entry.id) {
        return Finished::No;
    }
    let problems = verify_run(run_dir, &m);
    if problems.is_empty() {
        Finished::Intact
    } else {
        Finished::Damaged(problems.join("; "))
    }
}

fn read_record(out: &Path) -> Result<Option<BatchRecord>> {
    let p = out.join("batch.json");
    if !p.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| Error::Invalid {
            path: p.clone(),
            field: "batch.json".into(),
            message: format!("{e}: not a batch record; choose another output folder"),
        })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_string_pretty(value).map_err(|e| Error::Data(e.to_string()))?;
    crate::grid::io::write_atomically(path, |p| {
        std::fs::write(p, &json).map_err(|e| Error::io(p, e))
    })
}

/// Whether a folder has any finished run.
fn has_runs(out: &Path) -> bool {
    std::fs::read_dir(out.join("runs"))
        .map(|mut d| d.any(|e| e.is_ok_and(|e| e.path().join("manifest.json").exists())))
        .unwrap_or(false)
}

/// Claims `out` for `record`: creates it and writes `batch.json`, or checks that it
/// already belongs to this batch. Refuses a folder of another batch, a non-empty folder
/// without `batch.json`, and (without `resume`) a folder holding this batch's runs.
pub fn claim_output(out: &Path, record: &BatchRecord, resume: bool) -> Result<()> {
    let refuse = |message: String| Error::Invalid {
        path: out.to_path_buf(),
        field: "--out".into(),
        message,
    };
    match read_record(out)? {
        Some(old) if old.name != record.name => {
            return Err(refuse(format!(
                "holds the results of batch '{}' (from {}); nothing was changed. Choose another output folder",
                old.name, old.batch_file
            )))
        }
        Some(old) if old.batch_hash != record.batch_hash && !resume => {
            return Err(refuse(format!(
                "holds results of an earlier version of batch '{}' (batch file hash {} against {} now); add --resume to rerun the scenarios that changed, or choose another output folder",
                old.name, old.batch_hash, record.batch_hash
            )))
        }
        Some(old) => {
            if !resume && has_runs(out) {
                return Err(refuse(format!(
                    "already holds runs of batch '{}'; add --resume to continue it, or choose another output folder",
                    old.name
                )));
            }
            if old != *record {
                write_json(&out.join("batch.json"), record)?;
            }
        }
        None => {
            // haihe's own marker and lock (the command's claim) do not count.
            if out.exists() && !crate::outdir::user_entries(out)?.is_empty() {
                return Err(refuse(
                    "is not empty and holds no batch.json (not a batch output folder); choose a new or empty folder".into(),
                ));
            }
            std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
            write_json(&out.join("batch.json"), record)?;
        }
    }
    Ok(())
}

/// UTC time as RFC 3339 (civil date from days since 1970, Hinnant's algorithm).
pub fn utc_now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = crate::validation::time::civil_from_days(secs.div_euclid(86_400));
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Files of a folder (not starting with '.'), sorted, with size and FNV-1a 64.
fn list_files(dir: &Path) -> Result<Vec<(String, u64, String)>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != "manifest.json")
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let p = dir.join(&n);
            let (len, h) = hash_file_streamed(&p).map_err(|e| Error::io(&p, e))?;
            Ok((n, len, h))
        })
        .collect()
}

/// The folder holding a run in progress.
fn partial_dir(out: &Path, id: &str) -> PathBuf {
    out.join(".partial")
        .join(format!("{id}.{}", std::process::id()))
}

/// Moves a finished folder to `<out>/runs/<id>`, replacing an older run of that id.
fn install(out: &Path, id: &str, from: &Path) -> Result<PathBuf> {
    let runs = out.join("runs");
    std::fs::create_dir_all(&runs).map_err(|e| Error::io(&runs, e))?;
    // Durable before it is published: a crash leaves the old run or the whole new one.
    crate::outdir::sync_tree(from)?;
    // A stop on a signal waits for the renames below (never between them).
    let _commit = crate::outdir::commit_guard();
    let to = runs.join(id);
    if to.exists() {
        let old = out
            .join(".partial")
            .join(format!("{id}.{}.old", std::process::id()));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(&to, &old).map_err(|e| Error::io(&to, e))?;
        std::fs::rename(from, &to).map_err(|e| Error::io(&to, e))?;
        let _ = std::fs::remove_dir_all(&old);
    } else {
        std::fs::rename(from, &to).map_err(|e| Error::io(&to, e))?;
    }
    crate::outdir::sync_dir(&runs)?;
    Ok(to)
}

/// `combined.json` of a combined case: the run folders of its parts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CombinedRun {
    /// Scenario id.
    pub id: String,
    /// Flood scenario id and its run folder (relative to the output folder).
    pub flood: (String, String),
    /// Earthquake scenario id and its run folder (relative to the output folder).
    pub quake: (String, String),
    /// The flood's and the earthquake's scenario hashes.
    pub part_hashes: (String, String),
}

/// A scenario to run: its entry, its scenario hash, and why it is run again when an
/// earlier finished run of it failed the check against its manifest.
struct Todo<'a> {
    entry: &'a ScenarioEntry,
    hash: String,
    rerun_reason: Option<String>,
}

/// Runs one scenario into a partial folder, calls [`after_run`], writes the manifest
/// (with `rerun_reason`, when an earlier run failed its check) and installs the folder
/// as `<out>/runs/<id>`.
fn execute(record: &BatchRecord, todo: &Todo, out: &Path, root: &Path) -> Result<(PathBuf, f64)> {
    let (entry, hash) = (todo.entry, todo.hash.as_str());
    let clock = Instant::now();
    let dir = partial_dir(out, &entry.id);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    }
    let mut findings = Vec::new();
    let result = (|| -> Result<PathBuf> {
        match entry.kind {
            ScenarioKind::Flood => {
                let f = resolve(root, entry.file.as_deref().unwrap_or(Path::new("")));
                findings = super::flood::run_flood(&f, root, &dir)?.warnings;
                // The batch's flood ensemble: member-NNN/ beside the nominal run, each a
                // full run folder with its exposure tables; the scores use their spread,
                // the risk tables and the report the nominal run.
                if let Some(e) = record.ensemble {
                    super::flood::run_flood_ensemble(&f, root, &dir, e.members, e.seed)?;
                }
            }
            ScenarioKind::Quake => {
                let f = resolve(root, entry.file.as_deref().unwrap_or(Path::new("")));
                super::quake::run_quake(&f, root, &dir)?;
            }
            ScenarioKind::Combined => {
                let part = |id: &Option<String>| -> Result<(String, String)> {
                    let id = id.clone().unwrap_or_default();
                    let e = record
                        .scenarios
                        .iter()
                        .find(|s| s.id == id)
                        .ok_or_else(|| Error::Data(format!("no scenario '{id}'")))?;
                    let h = scenario_hash(record, e, root)?;
                    if !manifest_matches(&out.join("runs").join(&id), e, &h) {
                        return Err(Error::Data(format!(
                            "combined '{}': the run of '{id}' is missing or out of date",
                            entry.id
                        )));
                    }
                    Ok((id.clone(), h))
                };
                let (f, fh) = part(&entry.flood)?;
                let (q, qh) = part(&entry.quake)?;
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                let c = CombinedRun {
                    id: entry.id.clone(),
                    flood: (f.clone(), format!("runs/{f}")),
                    quake: (q.clone(), format!("runs/{q}")),
                    part_hashes: (fh, qh),
                };
                write_json(&dir.join("combined.json"), &c)?;
            }
        }
        after_run(&dir, entry.kind, root, out)?;
        let m = Manifest {
            id: entry.id.clone(),
            kind: entry.kind,
            scenario_file: entry.file.as_ref().map(|f| f.display().to_string()),
            scenario_hash: hash.to_string(),
            inputs: input_hashes(entry, root)?,
            code_version: CODE_VERSION.into(),
            finished_utc: utc_now_rfc3339(),
            wall_seconds: clock.elapsed().as_secs_f64(),
            files: list_files(&dir)?,
            findings: std::mem::take(&mut findings),
            rerun_reason: todo.rerun_reason.clone(),
        };
        write_json(&dir.join("manifest.json"), &m)?;
        install(out, &entry.id, &dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok((result?, clock.elapsed().as_secs_f64()))
}

fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Data(format!("thread pool: {e}")))
}

/// Runs `todo` with the chosen parallelism; returns one record per entry, in order.
fn run_all(
    record: &BatchRecord,
    todo: &[Todo],
    opts: &BatchOptions,
    progress: &dyn Progress,
) -> Result<Vec<RunRecord>> {
    let threads = opts.jobs.unwrap_or_else(rayon::current_num_threads).max(1);
    let scenario_level = match opts.parallelism {
        Parallelism::Auto => todo.len() > threads,
        Parallelism::Scenarios => true,
        Parallelism::Grid => false,
    };
    let one = |t: &Todo| -> RunRecord {
        let e = t.entry;
        progress.started(&e.id, e.kind);
        let r = execute(record, t, &opts.out, &opts.root);
        let rec = match r {
            Ok((dir, secs)) => RunRecord {
                id: e.id.clone(),
                kind: e.kind,
                status: "ran".into(),
                wall_seconds: secs,
                dir,
            },
            Err(err) => RunRecord {
                id: e.id.clone(),
                kind: e.kind,
                status: format!("failed: {err}"),
                wall_seconds: 0.0,
                dir: opts.out.join("runs").join(&e.id),
            },
        };
        progress.finished(&rec);
        rec
    };
    if scenario_level {
        // A queue in order of decreasing cost (floods first, for a better balance),
        // served by `threads` workers; each run gets a one-thread pool of its own. The
        // result order is that of `todo`.
        let mut order: Vec<usize> = (0..todo.len()).collect();
        order.sort_by_key(|&k| std::cmp::Reverse(todo[k].entry.kind.work_units()));
        let next = std::sync::atomic::AtomicUsize::new(0);
        let done = std::sync::Mutex::new(Vec::with_capacity(todo.len()));
        std::thread::scope(|scope| {
            for _ in 0..threads.min(todo.len()) {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(&k) = order.get(i) else { break };
                    let rec = match pool(1) {
                        Ok(inner) => inner.install(|| one(&todo[k])),
                        Err(e) => RunRecord {
                            id: todo[k].entry.id.clone(),
                            kind: todo[k].entry.kind,
                            status: format!("failed: {e}"),
                            wall_seconds: 0.0,
                            dir: opts.out.join("runs").join(&todo[k].entry.id),
                        },
                    };
                    if let Ok(mut d) = done.lock() {
                        d.push((k, rec));
                    }
                });
            }
        });
        let mut recs = done
            .into_inner()
            .map_err(|_| Error::Data("a scenario worker panicked".into()))?;
        recs.sort_by_key(|r| r.0);
        Ok(recs.into_iter().map(|r| r.1).collect())
    } else {
        let outer = pool(threads)?;
        Ok(outer.install(|| todo.iter().map(one).collect()))
    }
}

/// Combined cases whose parts are both finished in `out` and that are not yet done
/// (or are out of date, or fail the check against their manifest, or have a part in
/// `fresh`: the ids run in this call, whose combined cases are computed again): runs
/// them; the rest are reported as pending or skipped. A combined case run again after
/// a failed check is reported to `progress` and listed in `reruns`.
pub fn run_combined(
    record: &BatchRecord,
    out: &Path,
    root: &Path,
    fresh: &[String],
    progress: &dyn Progress,
    reruns: &mut Vec<(String, String)>,
) -> Result<Vec<RunRecord>> {
    let mut recs = Vec::new();
    for e in record
        .scenarios
        .iter()
        .filter(|s| s.kind == ScenarioKind::Combined)
    {
        let dir = out.join("runs").join(&e.id);
        let hash = match scenario_hash(record, e, root) {
            Ok(h) => h,
            Err(err) => {
                recs.push(RunRecord {
                    id: e.id.clone(),
                    kind: e.kind,
                    status: format!("failed: {err}"),
                    wall_seconds: 0.0,
                    dir,
                });
                continue;
            }
        };
        // A part run in this call (after a failed check, or because its run was gone)
        // makes the case be computed again from it.
        let part_ran: Vec<&str> = [&e.flood, &e.quake]
            .into_iter()
            .filter_map(|id| id.as_deref())
            .filter(|id| fresh.iter().any(|f| f == id))
            .collect();
        let rerun_reason = match finished(&dir, e, &hash) {
            Finished::Intact if part_ran.is_empty() => {
                recs.push(RunRecord {
                    id: e.id.clone(),
                    kind: e.kind,
                    status: "skipped".into(),
                    wall_seconds: 0.0,
                    dir,
                });
                continue;
            }
            Finished::Intact => Some(format!(
                "computed from {}, which ran again",
                part_ran.join(" and ")
            )),
            Finished::Damaged(why) => Some(why),
            Finished::No => None,
        };
        let parts_ready = [&e.flood, &e.quake].iter().all(|id| {
            let id = id.as_deref().unwrap_or_default();
            record
                .scenarios
                .iter()
                .find(|s| s.id == id)
                .is_some_and(|p| {
                    scenario_hash(record, p, root).is_ok_and(|h| {
                        finished(&out.join("runs").join(id), p, &h) == Finished::Intact
                    })
                })
        });
        if !parts_ready {
            recs.push(RunRecord {
                id: e.id.clone(),
                kind: e.kind,
                status: "pending".into(),
                wall_seconds: 0.0,
                dir,
            });
            continue;
        }
        if let Some(why) = &rerun_reason {
            progress.rerun(&e.id, why);
            reruns.push((e.id.clone(), why.clone()));
        }
        progress.started(&e.id, e.kind);
        let todo = Todo {
            entry: e,
            hash,
            rerun_reason,
        };
        let rec = match execute(record, &todo, out, root) {
            Ok((dir, secs)) => RunRecord {
                id: e.id.clone(),
                kind: e.kind,
                status: "ran".into(),
                wall_seconds: secs,
                dir,
            },
            Err(err) => RunRecord {
                id: e.id.clone(),
                kind: e.kind,
                status: format!("failed: {err}"),
                wall_seconds: 0.0,
                dir,
            },
        };
        progress.finished(&rec);
        recs.push(rec);
    }
    Ok(recs)
}

/// Runs a batch (or one shard of it) into `opts.out`; without a shard, then evaluates
/// the combined cases, calls [`after_batch`] and writes the report
/// ([`crate::report::write_batch_report`]). A scenario that fails leaves no run folder
/// and does not stop the others; the summary lists it, and the call returns an error
/// naming the failures after the rest have finished.
pub fn run_batch(
    batch: &Batch,
    opts: &BatchOptions,
    progress: &dyn Progress,
) -> Result<BatchSummary> {
    let clock = Instant::now();
    let record = batch.record();
    claim_output(&opts.out, &record, opts.resume)?;
    let selected = shard_scenarios(batch, opts.shard);
    let mut planned = Vec::new();
    let mut todo = Vec::new();
    let mut skipped = Vec::new();
    let mut reruns = Vec::new();
    for e in selected {
        let h = scenario_hash(&record, e, &opts.root)?;
        let dir = opts.out.join("runs").join(&e.id);
        // A finished run is skipped only when its files still match its manifest; one
        // that was truncated, edited or lost a file is run again, and says why.
        let state = if opts.resume {
            finished(&dir, e, &h)
        } else {
            Finished::No
        };
        planned.push((e.id.clone(), e.kind, state == Finished::Intact));
        match state {
            Finished::Intact => skipped.push(RunRecord {
                id: e.id.clone(),
                kind: e.kind,
                status: "skipped".into(),
                wall_seconds: 0.0,
                dir,
            }),
            Finished::Damaged(why) => {
                progress.rerun(&e.id, &why);
                reruns.push((e.id.clone(), why.clone()));
                todo.push(Todo {
                    entry: e,
                    hash: h,
                    rerun_reason: Some(why),
                });
            }
            Finished::No => todo.push(Todo {
                entry: e,
                hash: h,
                rerun_reason: None,
            }),
        }
    }
    progress.planned(&planned);
    let mut runs = skipped;
    runs.extend(run_all(&record, &todo, opts, progress)?);
    let fresh: Vec<String> = runs
        .iter()
        .filter(|r| r.status == "ran")
        .map(|r| r.id.clone())
        .collect();
    let mut files = Vec::new();
    if opts.shard.is_none() {
        runs.extend(run_combined(
            &record,
            &opts.out,
            &opts.root,
            &fresh,
            progress,
            &mut reruns,
        )?);
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        if runs.iter().all(|r| !r.status.starts_with("failed")) {
            after_batch(&opts.out, &runs, &opts.root, record.monte_carlo)?;
            files = crate::report::write_batch_report(&opts.out, &record, &opts.root)?;
        }
    } else {
        runs.sort_by(|a, b| a.id.cmp(&b.id));
    }
    let _ = std::fs::remove_dir(opts.out.join(".partial"));
    let failed: Vec<String> = runs
        .iter()
        .filter(|r| r.status.starts_with("failed"))
        .map(|r| format!("{} ({})", r.id, r.status))
        .collect();
    if !failed.is_empty() {
        return Err(Error::Data(format!(
            "{} of {} scenarios failed (the others are in {}/runs; rerun with --resume after fixing): {}",
            failed.len(),
            runs.len(),
            opts.out.display(),
            failed.join("; ")
        )));
    }
    Ok(BatchSummary {
        runs,
        files,
        reruns,
        wall_seconds: clock.elapsed().as_secs_f64(),
    })
}

/// Merges the run folders of shard outputs `inputs` into `out` (copying those not
/// already there; the same id with a different scenario hash is a conflict), evaluates
/// the combined cases whose parts are present, calls [`after_batch`] and writes the
/// report. Every input must hold the same batch (name and hash in `batch.json`).
pub fn merge_and_report(inputs: &[PathBuf], out: &Path, root: &Path) -> Result<BatchSummary> {
    let clock = Instant::now();
    let mut record: Option<BatchRecord> = None;
    for d in inputs {
        let r = read_record(d)?.ok_or_else(|| Error::MissingFile {
            path: d.join("batch.json"),
            fix: "give folders written by `haihe batch`".into(),
        })?;
        if let Some(first) = &record {
            if first.name != r.name || first.batch_hash != r.batch_hash {
                return Err(Error::Invalid {
                    path: d.clone(),
                    field: "batch.json".into(),
                    message: format!(
                        "holds batch '{}' (hash {}), not '{}' (hash {}): merge only shards of one batch",
                        r.name, r.batch_hash, first.name, first.batch_hash
                    ),
                });
            }
        } else {
            record = Some(r);
        }
    }
    let record =
        record.ok_or_else(|| Error::Data("give at least one batch output folder".into()))?;
    claim_output(out, &record, true)?;
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    for d in inputs.iter().filter(|d| !same(d, out)) {
        let Ok(rd) = std::fs::read_dir(d.join("runs")) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = rd
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for src in dirs {
            let Some(m) = read_manifest(&src) else {
                continue;
            };
            let dst = out.join("runs").join(&m.id);
            if let Some(have) = read_manifest(&dst) {
                if have.scenario_hash != m.scenario_hash || have.kind != m.kind {
                    return Err(Error::Invalid {
                        path: src.clone(),
                        field: "manifest.json".into(),
                        message: format!(
                            "run '{}' differs from the one already in {} (scenario hash {} against {}); nothing was overwritten",
                            m.id, dst.display(), m.scenario_hash, have.scenario_hash
                        ),
                    });
                }
                continue;
            }
            let tmp = partial_dir(out, &m.id);
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
            for f in std::fs::read_dir(&src)
                .map_err(|e| Error::io(&src, e))?
                .filter_map(|e| e.ok())
            {
                if f.path().is_file() {
                    let to = tmp.join(f.file_name());
                    std::fs::copy(f.path(), &to).map_err(|e| Error::io(&to, e))?;
                }
            }
            install(out, &m.id, &tmp)?;
        }
    }
    let mut runs: Vec<RunRecord> = Vec::new();
    for e in record
        .scenarios
        .iter()
        .filter(|s| s.kind != ScenarioKind::Combined)
    {
        let dir = out.join("runs").join(&e.id);
        let status = match read_manifest(&dir) {
            Some(_) => "present",
            None => "missing",
        };
        runs.push(RunRecord {
            id: e.id.clone(),
            kind: e.kind,
            status: status.into(),
            wall_seconds: 0.0,
            dir,
        });
    }
    let mut reruns = Vec::new();
    runs.extend(run_combined(
        &record,
        out,
        root,
        &[],
        &NoProgress,
        &mut reruns,
    )?);
    runs.sort_by(|a, b| a.id.cmp(&b.id));
    let _ = std::fs::remove_dir(out.join(".partial"));
    after_batch(out, &runs, root, record.monte_carlo)?;
    let files = crate::report::write_batch_report(out, &record, root)?;
    Ok(BatchSummary {
        runs,
        files,
        reruns,
        wall_seconds: clock.elapsed().as_secs_f64(),
    })
}

/// Writes `<out>/batch.slurm`: a Slurm job-array script with `#SBATCH --array=1-n`
/// whose task i runs `haihe batch <file> --out <out> --shard i/n --resume` with
/// `cpus_per_task` threads. Submitted with `sbatch batch.slurm`, it runs the shards;
/// run as `bash batch.slurm` on a login node, it submits the array and then a merge
/// job (`haihe report <out> --out <out>`) that starts after every task succeeded
/// (`--dependency=afterok`). Paths are made absolute. Claims `out` like a batch run.
///
/// Every path is one shell word quoted by `shlex` ([`crate::escape::shell_word`]); the
/// merge job's `--wrap` command is built from quoted words and then quoted as a whole,
/// so `$(…)`, backquotes and `'` in a path stay text on the login node and in the job.
/// The `#SBATCH --output` directive, which Slurm reads without a shell, is written only
/// for a log folder of plain characters (`%` doubled); otherwise the log goes to the
/// submission folder (`sbatch batch.slurm`) or is given on the command line (`bash
/// batch.slurm`).
pub fn emit_slurm(
    batch: &Batch,
    out: &Path,
    root: &Path,
    haihe_exe: &Path,
    tasks: usize,
    cpus_per_task: usize,
    resume: bool,
) -> Result<PathBuf> {
    if tasks == 0 {
        return Err(Error::Data("--slurm-tasks must be at least 1".into()));
    }
    claim_output(out, &batch.record(), resume)?;
    let abs = |p: &Path| -> String {
        let p = resolve(root, p);
        p.canonicalize().unwrap_or(p).display().to_string()
    };
    let q = crate::escape::shell_word;
    let (exe, file, dir, rootd) = (
        q(&abs(haihe_exe))?,
        q(&abs(&batch.path))?,
        q(&abs(out))?,
        q(&abs(root))?,
    );
    let script_path = abs(&out.join("batch.slurm"));
    // The merge job's command: quoted words, then quoted once more as one argument.
    let wrap = q(&format!("cd {rootd} && {exe} report {dir} --out {dir}"))?;
    let log_dir = abs(out);
    let plain = log_dir
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c) || !c.is_ascii());
    let array_log = q(&format!(
        "--output={}/slurm-%A_%a.out",
        log_dir.replace('%', "%%")
    ))?;
    let sbatch_output = if plain && !log_dir.chars().any(char::is_whitespace) {
        format!(
            "#SBATCH --output={}/slurm-%A_%a.out",
            log_dir.replace('%', "%%")
        )
    } else {
        "# (no #SBATCH --output: the output folder's name is not plain; `bash batch.slurm` gives it on the command line)".to_string()
    };
    let name: String = batch
        .def
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let text = format!(
        r#"#!/bin/bash
# Slurm job array for batch '{bname}' ({n} shards), written by `haihe batch --emit-slurm`.
#   sbatch batch.slurm   runs the shards only;
#   bash batch.slurm     submits the shards and a merge job that writes the report
#                        once every shard has succeeded.
# Shard i/{n} runs the flood and earthquake scenarios whose position in the sorted list
# of their ids is i-1 modulo {n}; --resume lets a resubmitted task skip finished runs.
#SBATCH --job-name=haihe-{name}
#SBATCH --array=1-{n}
#SBATCH --cpus-per-task={cpus}
{sbatch_output}
set -euo pipefail
cd {rootd}
if [ -z "${{SLURM_ARRAY_TASK_ID:-}}" ]; then
    jid=$(sbatch --parsable {array_log} {script})
    jid=${{jid%%;*}}
    sbatch --dependency=afterok:"$jid" --job-name=haihe-{name}-report \
        {report_log} \
        --wrap {wrap}
    echo "submitted shards as job $jid and the report after them"
    exit 0
fi
export RAYON_NUM_THREADS="${{SLURM_CPUS_PER_TASK:-{cpus}}}"
{exe} batch {file} --out {dir} --shard "$SLURM_ARRAY_TASK_ID/{n}" --resume
"#,
        bname = batch.def.name.replace(['\n', '\r'], " "),
        n = tasks,
        cpus = cpus_per_task.max(1),
        report_log = q(&format!(
            "--output={}/slurm-report-%j.out",
            log_dir.replace('%', "%%")
        ))?,
        script = q(&script_path)?,
    );
    let p = out.join("batch.slurm");
    crate::grid::io::write_atomically(&p, |t| {
        std::fs::write(t, &text).map_err(|e| Error::io(t, e))
    })?;
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parsing_and_slices() {
        assert!("4/3".parse::<Shard>().is_err());
        assert!("0/3".parse::<Shard>().is_err());
        assert!("x".parse::<Shard>().is_err());
        assert_eq!(
            "2/3".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 3 }
        );
    }

    #[test]
    fn fnv_matches_published_vectors() {
        // FNV-1a 64 test vectors (Fowler/Noll/Vo reference): "" and "a".
        assert_eq!(fnv1a64_hex(b""), "cbf29ce484222325");
        assert_eq!(fnv1a64_hex(b"a"), "af63dc4c8601ec8c");
    }

    #[test]
    fn rfc3339_has_the_right_shape() {
        let t = utc_now_rfc3339();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.as_bytes()[10] == b'T');
    }
}
