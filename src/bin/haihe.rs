//! `haihe`: the command line of haihe-resilience. Parses, calls the library, reports.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use haihe::outdir::{LockMode, OutputDir, OutputKind};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Set once a write to stdout failed (the reader went away, e.g. `haihe batch … | head
/// -1`): console output ends there, quietly, and the command goes on.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes one console line to stdout; a closed stdout (EPIPE) or any other write error
/// turns console output off instead of panicking as `println!` does.
fn say_line(args: std::fmt::Arguments) {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{args}").and_then(|()| out.flush()).is_err() {
        STDOUT_CLOSED.store(true, Ordering::Relaxed);
    }
}

/// `println!` for the console lines of long commands (see [`say_line`]).
macro_rules! say {
    ($($arg:tt)*) => {
        say_line(format_args!($($arg)*))
    };
}

/// A line on stderr; a closed stderr is ignored.
fn note_line(args: std::fmt::Arguments) {
    let _ = writeln!(std::io::stderr(), "{args}");
}

/// Flood, earthquake and lifeline risk for the 北三河, 永定河 and 大清河 river systems,
/// scored per resilient spatial group. Elevations and depths in m, areas in km²,
/// discharges in m³/s, rain in mm, PGA in g. Model grids: EPSG:32650 (UTM 50N).
#[derive(Parser)]
#[command(name = "haihe", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the model grids in rasters/model/ from the data in rasters/source/:
    /// conditioned DEM, drainage (filled, flow_dir, flow_acc in km², streams, HAND in m),
    /// river systems, counties, population, land cover and spatial groups.
    Prepare {
        /// Build configuration.
        #[arg(long, default_value = "models/prepare.toml")]
        config: PathBuf,
        /// Output folder.
        #[arg(long, default_value = "rasters/model")]
        out: PathBuf,
        /// Cell size in metres (default 1000, from the configuration).
        #[arg(long, value_name = "METRES")]
        resolution: Option<f64>,
        /// A finer DEM: one or more GDAL rasters (GeoTIFF, SRTM .hgt, ASCII grid,
        /// netCDF subdataset), mosaicked and cropped to the domain. Elevations in m.
        #[arg(long, value_name = "FILE", num_args = 1..)]
        dem: Option<Vec<PathBuf>>,
    },
    /// Run one flood scenario (models/scenarios/*.toml): rain, losses and 2D
    /// local-inertial routing; writes max_depth.tif (m), max_velocity.tif (m/s),
    /// arrival_time.tif (h to 0.1 m), duration_over_0p5m.tif (h), depth.nc (m, CF),
    /// hydrographs.csv (m³/s, m), mass_balance.csv (m³) and run.json.
    Flood {
        /// Scenario file.
        scenario: PathBuf,
        /// Output folder (written whole or not at all).
        #[arg(long)]
        out: PathBuf,
        /// Run an ensemble of N members instead, with the curve numbers shifted by
        /// U(−5, +5) and Manning's n scaled by a log-uniform factor in 0.7–1.3, each member
        /// in <out>/member-NNN/.
        #[arg(long)]
        ensemble: Option<usize>,
        /// Seed of the ensemble draws.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Overwrite a previous haihe flood output in --out (with --ensemble: rerun
        /// finished members whose draw or inputs differ; matching ones are kept).
        #[arg(long)]
        replace: bool,
    },
    /// Run one earthquake scenario (models/scenarios/quake-*.toml): the Yu et al.
    /// (2013) ground-motion model with elliptical attenuation along the causative
    /// fault; writes pga.tif (g; median and percentile bands), pgv.tif (cm/s),
    /// exposure.csv (residents per group and PGA class) and run.json.
    Quake {
        /// Scenario file.
        scenario: PathBuf,
        /// Output folder (written whole or not at all).
        #[arg(long)]
        out: PathBuf,
        /// Overwrite a previous haihe quake output in --out.
        #[arg(long)]
        replace: bool,
    },
    /// Resilience per spatial group: indicators (robustness, redundancy,
    /// resourcefulness, rapidity, ecological buffer), a 0–100 composite with Monte
    /// Carlo p05/p50/p95, ranks and drivers. Writes scores.csv, scores.json and
    /// scores.tif (several run dirs: one subfolder per scenario plus summary.csv).
    Score {
        /// Run directories (from `haihe flood`, `haihe quake` or an ensemble of
        /// member-*/ folders); see README "Resilience scores" for what each must hold.
        #[arg(required = true, num_args = 1..)]
        runs: Vec<PathBuf>,
        /// A group TOML (format of models/groups/capital_plan.toml) of extra groups.
        #[arg(long)]
        groups: Option<PathBuf>,
        /// Model grids folder.
        #[arg(long, default_value = "rasters/model")]
        model_dir: PathBuf,
        /// Weights, bounds and ranges.
        #[arg(long, default_value = "models/resilience.toml")]
        weights: PathBuf,
        /// Hydraulic structures (reservoir and detention storage).
        #[arg(long, default_value = "models/structures")]
        structures: PathBuf,
        /// Monte Carlo seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Monte Carlo samples.
        #[arg(long, default_value_t = 2000)]
        samples: usize,
        /// Output folder (written whole or not at all).
        #[arg(long)]
        out: PathBuf,
        /// Overwrite a previous haihe score output in --out (its scenario subfolders
        /// are replaced only where they carry haihe's marker).
        #[arg(long)]
        replace: bool,
    },
    /// Per-group exposure and damage of a finished flood or quake run, written into its
    /// folder: exposure_population.csv (residents above depth and PGA thresholds),
    /// exposure_lifelines.csv (lifeline exposure, damage, service, paths, restoration),
    /// exposure_redline.csv (red-line km² flooded or shaken) and exposure.json.
    Exposure {
        /// Run folder holding max_depth.tif (haihe flood) and/or pga.tif + pgv.tif
        /// (haihe quake).
        run_dir: PathBuf,
        /// Folder of the model grids.
        #[arg(long, default_value = "rasters/model")]
        model_dir: PathBuf,
        /// A second run folder whose hazard strikes at the same time (a quake run for a
        /// flood run, or the reverse).
        #[arg(long, value_name = "RUN_DIR")]
        combine: Option<PathBuf>,
        /// Seed of the lifeline damage realisations.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Number of lifeline damage realisations.
        #[arg(long, default_value_t = 200)]
        realisations: usize,
    },
    /// Run a batch of scenarios (models/batches/*.toml) in parallel into <out>/runs/<id>/
    /// (each written whole, with a manifest.json), then the risk report: risk.csv,
    /// risk.json (expected annual exposure, persons/yr) and report.md.
    Batch {
        /// Batch file.
        batch: PathBuf,
        /// Output folder; refused if it holds another batch's results.
        #[arg(long)]
        out: PathBuf,
        /// Run only shard i of n (1 ≤ i ≤ n): the flood and earthquake scenarios whose
        /// position in their id-sorted list is i−1 modulo n. Merge with `haihe report`.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Continue a batch in --out: skip runs whose manifest matches the scenario
        /// file's hash, rerun the rest.
        #[arg(long)]
        resume: bool,
        /// Write <out>/batch.slurm (a Slurm job array over the shards, then a merge
        /// job) instead of running.
        #[arg(long)]
        emit_slurm: bool,
        /// Number of array tasks for --emit-slurm (default: one per flood or
        /// earthquake scenario).
        #[arg(long, value_name = "N")]
        slurm_tasks: Option<usize>,
        /// Threads (default: RAYON_NUM_THREADS or the number of cores).
        #[arg(long, value_name = "N")]
        jobs: Option<usize>,
        /// auto (scenario-level when more scenarios than threads, else grid-level),
        /// scenarios, or grid. Outputs are the same either way.
        #[arg(long, default_value = "auto", value_name = "MODE")]
        parallel: String,
    },
    /// Merge batch outputs (e.g. the shards of `haihe batch --shard`) and write the
    /// report: risk.csv, risk.json and report.md.
    Report {
        /// Batch output folders (each with batch.json and runs/).
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder (may be one of the inputs).
        #[arg(long)]
        out: PathBuf,
    },
    /// Lifeline networks (water supply, power, gas, road, rail).
    Lifelines {
        #[command(subcommand)]
        action: LifelinesCommand,
    },
    /// Validate against a historical storm of models/storms/: reconstruct its rain
    /// (rain.nc, rain_total.tif in mm), snap the gauges, run the flood engine and compare
    /// peaks (m³/s, %), peak times (h), NSE and KGE in validation.json / validation.md.
    Validate {
        /// Storm file (omit with --all).
        storm: Option<PathBuf>,
        /// Run every storm of --storms and write validation_summary.md and .json.
        #[arg(long)]
        all: bool,
        /// Folder of the storm catalogue (with --all).
        #[arg(long, default_value = "models/storms")]
        storms: PathBuf,
        /// Output folder (written whole or not at all; one subfolder per storm with --all).
        #[arg(long)]
        out: PathBuf,
        /// Operation variants: as-operated, rule-based, both, or none (rain, gauges and
        /// report without a flood run).
        #[arg(long, default_value = "as-operated")]
        operation: String,
        /// Overwrite a previous haihe validate output in --out.
        #[arg(long)]
        replace: bool,
    },
    /// Print a raster's size, CRS, extent, cell size, no-data and statistics.
    Info {
        /// Any GDAL raster.
        raster: PathBuf,
    },
    /// Upstream area (km²) at a point, from rasters/model/flow_acc.tif.
    Catchment {
        /// Longitude, degrees east (WGS 84).
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// Latitude, degrees north (WGS 84).
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        /// Snap to the river cell within this many cells whose upstream area best
        /// matches --area (or the largest, without --area).
        #[arg(long, default_value_t = 0, value_name = "CELLS")]
        snap: usize,
        /// Published catchment area to snap to and compare with, km².
        #[arg(long, value_name = "KM2")]
        area: Option<f64>,
        /// Flow-accumulation raster (km²).
        #[arg(long, default_value = "rasters/model/flow_acc.tif")]
        flow_acc: PathBuf,
    },
}

#[derive(Subcommand)]
enum LifelinesCommand {
    /// Build the bundled layers in rasters/lifelines/*.geojson from rasters/source/
    /// (railways, GeoNames places) and the named waypoints of the reference (SNWD middle
    /// route, Shaan–Jing gas lines, 500 kV substations), plus a road proxy.
    Build {
        /// Railway GeoJSON to copy into rasters/source/infrastructure/ first (e.g.
        /// ../shared/data/infrastructure/gmt_china/CN-Railways_bbox.geojson); without it
        /// the copy already there is used.
        #[arg(long, value_name = "FILE")]
        railways: Option<PathBuf>,
    },
}

fn main() {
    let cli = Cli::parse();
    // Past a file-size limit (ulimit -f) a write fails with EFBIG and is reported with
    // the file named, instead of SIGXFSZ ending the process.
    let _ = signal_hook::flag::register(
        signal_hook::consts::SIGXFSZ,
        std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
    );
    // The command runs on a worker of rayon's global pool (RAYON_NUM_THREADS threads), so
    // the parallel passes of each routing step start inside the pool instead of being
    // handed over from the main thread and waited for (a futex wake and sleep per pass,
    // about a tenth of a one-thread flood run). Workers get a main-thread-sized stack.
    if let Err(e) = rayon::ThreadPoolBuilder::new()
        .stack_size(16 << 20)
        .build_global()
    {
        note_line(format_args!(
            "error: could not start the worker threads: {e}"
        ));
        std::process::exit(1);
    }
    if let Err(e) = rayon::scope(|_| run(cli)) {
        note_line(format_args!("error: {e:#}"));
        std::process::exit(1);
    }
}

fn run(cli: Cli) -> Result<()> {
    let start = Instant::now();
    match cli.command {
        Command::Prepare {
            config,
            out,
            resolution,
            dem,
        } => {
            let root = config
                .canonicalize()
                .with_context(|| {
                    format!(
                        "{}: configuration not found; run from the project root or pass --config",
                        config.display()
                    )
                })?
                .parent()
                .and_then(|p| p.parent())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("."));
            if let Some(r) = resolution {
                anyhow::ensure!(
                    r > 0.0 && r.is_finite(),
                    "--resolution must be a positive number of metres, got {r}"
                );
            }
            let opts = haihe::prepare::PrepareOptions {
                config: config.clone(),
                root,
                out_dir: out.clone(),
                resolution_m: resolution,
                dem,
            };
            println!("haihe prepare: reading {}", config.display());
            let report = haihe::prepare::run(&opts)?;
            for line in &report.log {
                println!("  {line}");
            }
            println!("catchment areas (km²):");
            println!(
                "  {:<16} {:>10} {:>10} {:>10} {:>8} {:>8}",
                "point", "published", "at point", "snapped", "snap km", "error"
            );
            for c in &report.catchments {
                println!(
                    "  {:<16} {:>10.0} {:>10.0} {:>10.0} {:>8.1} {:>7.1}%{}",
                    c.name,
                    c.published_km2,
                    c.at_point_km2,
                    c.snapped_km2,
                    c.snap_distance_km,
                    c.error_pct,
                    if c.checked {
                        ""
                    } else {
                        "  (context, not a check)"
                    }
                );
            }
            println!("river systems (km²): drainage against sub-basin polygons");
            for s in &report.system_areas {
                println!(
                    "  {} {:<8} {:>10.0} {:>10.0}",
                    s.label, s.name, s.drainage_km2, s.polygons_km2
                );
            }
            println!("wrote {} files to {}", report.files.len(), out.display());
        }
        Command::Flood {
            scenario,
            out,
            ensemble: Some(n),
            seed,
            replace,
        } => {
            let root = std::env::current_dir()?;
            // An ensemble folder is resumed: finished members with the same draw are kept.
            let _claim = OutputDir::claim(&out, OutputKind::Ensemble, true)?;
            println!(
                "haihe flood: {} as an ensemble of {n} (seed {seed})",
                scenario.display()
            );
            let t = std::time::Instant::now();
            let runs = haihe::scenario::flood::run_flood_ensemble_with(
                &scenario, &root, &out, n, seed, replace,
            )?;
            for r in &runs {
                let peaks: Vec<String> = r
                    .gauge_peaks
                    .iter()
                    .map(|(g, q, t, reached)| {
                        if *reached {
                            format!("{g} {q:.0} m³/s at {t:.1} h")
                        } else {
                            format!("{g} not reached by t_end (≥ {q:.0} m³/s)")
                        }
                    })
                    .collect();
                println!(
                    "  member {:03}{}: {}",
                    r.member,
                    if r.kept { " (kept, done earlier)" } else { "" },
                    peaks.join("; ")
                );
            }
            println!(
                "wrote {} members and ensemble.json to {} in {:.1} s",
                runs.len(),
                out.display(),
                t.elapsed().as_secs_f64()
            );
        }
        Command::Flood {
            scenario,
            out,
            replace,
            ..
        } => {
            let root = std::env::current_dir()?;
            let claim = OutputDir::claim(&out, OutputKind::Flood, replace)?;
            println!("haihe flood: {}", scenario.display());
            let r = haihe::scenario::flood::run_flood(&scenario, &root, &out)?;
            claim.remove_leftovers(&r.files)?;
            println!(
                "  {} on {} x {} cells of {} m: {} steps, {:.1} M cell-updates/s on {} threads ({:.1} s)",
                r.scenario, r.grid.1, r.grid.0, r.grid.2, r.steps, r.cell_updates_per_s / 1e6, r.threads, r.loop_seconds
            );
            println!(
                "  rain {:.3e} m³, losses {:.3e} m³, outflow {:.3e} m³, storage change {:.3e} m³, mass-balance error {:.1e}",
                r.rain_m3, r.loss_m3, r.boundary_out_m3, r.storage_change_m3, r.relative_mass_error
            );
            let at = |s: &Option<haihe::flood::plausibility::CellSite>| {
                s.as_ref()
                    .map(|s| format!(" at {}, {} ({})", s.place(), s.setting.label(), s.detail))
                    .unwrap_or_default()
            };
            println!(
                "  largest depth on land {:.2} m{} (anywhere, sea and pools included: {:.2} m)",
                r.max_depth_m,
                at(&r.max_depth_site),
                r.max_depth_anywhere_m
            );
            println!(
                "  largest speed on land {:.2} m/s{}; hazard rating (FD2320) land cells low/moderate/significant/extreme: {:?}",
                r.max_land_speed_ms,
                at(&r.max_land_speed_site),
                r.hazard_cells
            );
            println!(
                "  setup {:.1} s, time loop {:.1} s, writing {:.1} s",
                r.setup_seconds, r.loop_seconds, r.write_seconds
            );
            for (name, q, t, reached) in &r.gauge_peaks {
                if *reached {
                    println!("  peak at {name}: {q:.0} m³/s at {t:.1} h");
                } else {
                    println!(
                        "  peak at {name}: not reached by t_end (still rising, {q:.0} m³/s at {t:.1} h)"
                    );
                }
            }
            for n in &r.notes {
                println!("  note: {n}");
            }
            for w in &r.warnings {
                println!("  {}", w.line());
            }
            println!("wrote {} files to {}", r.files.len(), out.display());
        }
        Command::Quake {
            scenario,
            out,
            replace,
        } => {
            let root = std::env::current_dir()?;
            let claim = OutputDir::claim(&out, OutputKind::Quake, replace)?;
            println!("haihe quake: {}", scenario.display());
            let r = haihe::scenario::quake::run_quake(&scenario, &root, &out)?;
            claim.remove_leftovers(&r.files)?;
            println!(
                "  {}: Ms {} at {:.3} E {:.3} N, strike {:.0}° ({})",
                r.scenario,
                r.source.ms,
                r.source.lon,
                r.source.lat,
                r.source.strike_deg,
                r.strike_from
            );
            println!(
                "  largest median PGA {:.3} g, PGV {:.1} cm/s on {} x {} cells; {} realisations of ε",
                r.max_median_pga_g, r.max_median_pgv_cms, r.grid.1, r.grid.0, r.monte_carlo.realisations
            );
            println!(
                "  ground motion {:.1} s, exposure {:.1} s, total {:.1} s on {} threads",
                r.ground_motion_seconds, r.exposure_seconds, r.total_seconds, r.threads
            );
            for n in &r.notes {
                println!("  note: {n}");
            }
            println!("wrote {} files to {}", r.files.len(), out.display());
        }
        Command::Score {
            runs,
            groups,
            model_dir,
            weights,
            structures,
            seed,
            samples,
            out,
            replace,
        } => {
            let t = Instant::now();
            let claim = OutputDir::claim(&out, OutputKind::Score, replace)?;
            println!(
                "haihe score: {} run dir(s), {samples} samples, seed {seed}",
                runs.len()
            );
            let opts = haihe::resilience::ScoreOptions {
                runs,
                groups,
                model_dir,
                structures_dir: structures,
                model_file: weights,
                seed,
                samples,
                out: out.clone(),
            };
            let r = haihe::resilience::run_score(&opts)?;
            claim.remove_leftovers(&r.files)?;
            for (a, b, n) in &r.overlaps {
                println!("  note: user groups {a} and {b} overlap on {n} cells (allowed; each is scored on its own)");
            }
            for s in &r.scenarios {
                println!(
                    "  {} ({}; {} member(s)): {} groups scored",
                    s.scenario,
                    s.hazards.join("+"),
                    s.members,
                    s.groups.iter().filter(|g| g.not_assessed.is_none()).count()
                );
                let mut v: Vec<_> = s
                    .groups
                    .iter()
                    .filter(|g| g.monte_carlo.score_p50.is_finite())
                    .collect();
                v.sort_by(|a, b| a.monte_carlo.score_p50.total_cmp(&b.monte_carlo.score_p50));
                for g in v.iter().take(3) {
                    let d: Vec<&str> = g.drivers.iter().map(|d| d.0.as_str()).collect();
                    println!(
                        "    low: {} {} {:.1} [{:.1}–{:.1}] drivers {}",
                        g.id,
                        g.name,
                        g.monte_carlo.score_p50,
                        g.monte_carlo.score_p05,
                        g.monte_carlo.score_p95,
                        d.join(", ")
                    );
                }
                for g in s.groups.iter().filter(|g| g.not_assessed.is_some()) {
                    println!(
                        "    {}: {} {} ({})",
                        haihe::resilience::NOT_ASSESSED,
                        g.id,
                        g.name,
                        g.not_assessed.as_deref().unwrap_or_default()
                    );
                }
            }
            println!(
                "wrote {} files to {} in {:.1} s",
                r.files.len(),
                out.display(),
                t.elapsed().as_secs_f64()
            );
        }
        Command::Exposure {
            run_dir,
            model_dir,
            combine,
            seed,
            realisations,
        } => {
            let root = std::env::current_dir()?;
            println!("haihe exposure: {}", run_dir.display());
            let opts = haihe::exposure::ExposureOptions {
                model_dir,
                combine_with: combine,
                seed,
                realisations,
                ..Default::default()
            };
            let r = haihe::exposure::assess_run(&run_dir, &root, &opts)?;
            println!(
                "  hazards from {}: flood {}, PGA {}, PGV {}; {} groups",
                r.run_dirs.join(" + "),
                r.hazards.flood,
                r.hazards.pga,
                r.hazards.pgv,
                r.groups
            );
            for l in &r.totals.lifelines {
                println!(
                    "  {}: {} components, {} exposed, {:.1} expected out of service, {} not assessed",
                    l.lifeline.as_str(),
                    l.components,
                    l.exposed,
                    l.expected_damaged,
                    l.not_assessed
                );
            }
            println!(
                "  {:.1} s on {} threads ({} realisations)",
                r.seconds.get("total").copied().unwrap_or(0.0),
                r.threads,
                opts.realisations
            );
            println!("wrote {} files to {}", r.files.len(), run_dir.display());
        }
        Command::Batch {
            batch,
            out,
            shard,
            resume,
            emit_slurm,
            slurm_tasks,
            jobs,
            parallel,
        } => run_batch_command(BatchArgs {
            batch,
            out,
            shard,
            resume,
            emit_slurm,
            slurm_tasks,
            jobs,
            parallel,
        })?,
        Command::Report { dirs, out } => {
            let root = std::env::current_dir()?;
            // A report writes into a batch folder (possibly one of its inputs): refused
            // at once while another process writes it.
            let _claim = OutputDir::claim(&out, OutputKind::Batch, true)?;
            say!(
                "haihe report: {} folder(s) into {}",
                dirs.len(),
                out.display()
            );
            let s = haihe::scenario::batch::merge_and_report(&dirs, &out, &root)?;
            for r in &s.runs {
                say!("  {:<40} {:<8} {}", r.id, r.kind.as_str(), r.status);
            }
            for f in &s.files {
                say!("wrote {}", f.display());
            }
        }
        Command::Lifelines {
            action: LifelinesCommand::Build { railways },
        } => {
            let opts = haihe::lifelines::build::BuildOptions {
                root: std::env::current_dir()?,
                railways_from: railways,
            };
            println!("haihe lifelines build");
            let report = haihe::lifelines::build::build(&opts)?;
            for line in &report.log {
                println!("  {line}");
            }
            for f in &report.written {
                println!("  wrote {}", f.display());
            }
        }
        Command::Validate {
            storm,
            all,
            storms,
            out,
            operation,
            replace,
        } => {
            use haihe::validation::{Operation, ValidateInputs};
            let ops = match operation.as_str() {
                "as-operated" => vec![Operation::AsOperated],
                "rule-based" => vec![Operation::RuleBased],
                "both" => vec![Operation::AsOperated, Operation::RuleBased],
                // The rain reconstruction, gauges and report without a flood run.
                "none" => Vec::new(),
                o => anyhow::bail!("--operation {o}: use as-operated, rule-based, both or none"),
            };
            let root = std::env::current_dir()?;
            let _claim = OutputDir::claim(&out, OutputKind::Validate, replace)?;
            let inputs = ValidateInputs::standard(&root);
            let reports = match (storm, all) {
                (Some(_), true) => anyhow::bail!("give a storm file or --all, not both"),
                (None, false) => {
                    anyhow::bail!("give a storm file, or --all for the whole catalogue")
                }
                (Some(f), false) => {
                    println!("haihe validate: {}", f.display());
                    vec![haihe::validation::validate_storm(&f, &inputs, &out, &ops)?]
                }
                (None, true) => {
                    println!("haihe validate --all: {}", storms.display());
                    haihe::validation::validate_all(&storms, &inputs, &out, &ops)?
                }
            };
            for r in &reports {
                println!(
                    "  {} (rain {:.2} ×10⁸ m³ on the grid, max {:.0} mm)",
                    r.name,
                    r.rain_volume_m3 / 1e8,
                    r.rain_max_mm
                );
                for s in &r.stations {
                    for run in &s.runs {
                        println!(
                            "    {:<10} {:<12} observed {:>7.0} m³/s  simulated {:>7.0} m³/s  error {:+6.1}%  snapped {:.0} km²",
                            s.station,
                            run.operation.key(),
                            s.observed_peak_m3s,
                            run.simulated_peak_m3s,
                            run.peak_error_pct,
                            s.snap.area_km2
                        );
                    }
                }
            }
            println!("wrote {}", out.display());
        }
        Command::Info { raster } => {
            print!("{}", haihe::grid::info::describe(&raster)?);
        }
        Command::Catchment {
            lon,
            lat,
            snap,
            area,
            flow_acc,
        } => {
            let acc = haihe::grid::io::read_raster(&flow_acc)
                .with_context(|| "run `haihe prepare` first, or pass --flow-acc")?;
            let wgs84 = haihe::grid::io::epsg_wkt(4326)?;
            let (x, y) =
                haihe::grid::warp::transform_points(&[(lon, lat)], &wgs84, &acc.crs_wkt)?[0];
            let (r, c) = acc.cell_of(x, y).with_context(|| {
                format!("lon {lon} lat {lat} lies outside {}", flow_acc.display())
            })?;
            let (sr, sc) = haihe::terrain::snap_to_stream(acc.data.view(), r, c, snap, area)?;
            let km = acc.cell_size() / 1000.0;
            println!(
                "point lon {lon} lat {lat}: cell (row {r}, col {c}), upstream area {:.0} km²",
                acc.data[[r, c]]
            );
            if snap > 0 {
                println!(
                    "snapped within {snap} cells to (row {sr}, col {sc}), {:.1} km away: upstream area {:.0} km²",
                    (sr as f64 - r as f64).hypot(sc as f64 - c as f64) * km,
                    acc.data[[sr, sc]]
                );
            }
            if let Some(a) = area {
                println!(
                    "published {a:.0} km²: error {:+.1}%",
                    (acc.data[[sr, sc]] - a) / a * 100.0
                );
            }
        }
    }
    note_line(format_args!(
        "done in {:.1} s",
        start.elapsed().as_secs_f64()
    ));
    Ok(())
}

struct BatchArgs {
    batch: PathBuf,
    out: PathBuf,
    shard: Option<String>,
    resume: bool,
    emit_slurm: bool,
    slurm_tasks: Option<usize>,
    jobs: Option<usize>,
    parallel: String,
}

fn run_batch_command(a: BatchArgs) -> Result<()> {
    use haihe::scenario::batch::{self, Parallelism};
    let root = std::env::current_dir()?;
    let b = batch::load_batch(&a.batch, &root)?;
    let shard = a
        .shard
        .as_deref()
        .map(str::parse::<batch::Shard>)
        .transpose()?;
    let parallelism = match a.parallel.as_str() {
        "auto" => Parallelism::Auto,
        "scenarios" => Parallelism::Scenarios,
        "grid" => Parallelism::Grid,
        other => anyhow::bail!("--parallel {other}: use auto, scenarios or grid"),
    };
    if let Some(0) = a.jobs {
        anyhow::bail!("--jobs must be at least 1");
    }
    if a.emit_slurm {
        let n = a
            .slurm_tasks
            .unwrap_or_else(|| batch::shard_scenarios(&b, None).len());
        let exe = std::env::current_exe()?;
        let p = batch::emit_slurm(&b, &a.out, &root, &exe, n, a.jobs.unwrap_or(2), a.resume)?;
        say!(
            "wrote {} ({n} array tasks); submit with `bash {}`",
            p.display(),
            p.display()
        );
        return Ok(());
    }
    say!(
        "haihe batch: {} ({} scenarios{}) into {}",
        b.def.name,
        b.def.scenarios.len(),
        shard
            .map(|s| format!(", shard {}/{}", s.index, s.count))
            .unwrap_or_default(),
        a.out.display()
    );
    // Shards of one batch share the folder (each writes only its own runs); a whole
    // batch holds it alone, and waits for another writer to finish.
    let mode = if shard.is_some() {
        LockMode::Shared
    } else {
        LockMode::Wait
    };
    let _claim = OutputDir::claim_with(&a.out, OutputKind::Batch, true, mode)?;
    let mut again = vec![
        "haihe".to_string(),
        "batch".into(),
        a.batch.display().to_string(),
        "--out".into(),
        a.out.display().to_string(),
    ];
    if let Some(s) = shard {
        again.extend(["--shard".into(), format!("{}/{}", s.index, s.count)]);
    }
    again.push("--resume".into());
    let signals = stop_on_signals(&a.out, &again)?;
    let opts = batch::BatchOptions {
        out: a.out.clone(),
        root,
        shard,
        resume: a.resume,
        jobs: a.jobs,
        parallelism,
    };
    let progress = Bars::new();
    let s = batch::run_batch(&b, &opts, &progress);
    // Past this point a signal ends the process as usual (nothing is left to stop).
    signals.close();
    let s = s?;
    progress.overall.finish_and_clear();
    let ran = s.runs.iter().filter(|r| r.status == "ran").count();
    let skipped = s.runs.iter().filter(|r| r.status == "skipped").count();
    let pending = s.runs.iter().filter(|r| r.status == "pending").count();
    say!(
        "  {ran} ran, {skipped} skipped (already done){} in {:.1} s",
        if pending > 0 {
            format!(", {pending} combined pending (parts in other shards; `haihe report` finishes them)")
        } else {
            String::new()
        },
        s.wall_seconds
    );
    if !s.reruns.is_empty() {
        say!(
            "  {} run again after failing the check against their manifest (the reason is in each one's manifest.json, rerun_reason): {}",
            s.reruns.len(),
            s.reruns
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    for f in &s.files {
        say!("wrote {}", f.display());
    }
    Ok(())
}

/// Stops the batch cleanly on SIGINT or SIGTERM: a thread waits for either and then
/// says what is kept and how to resume (`again`: the command line that resumes), and
/// ends the process with 128 + the signal's number once no run folder or report is
/// being moved into place ([`haihe::outdir::exit_between_commits`]). Finished runs stay
/// in `<out>/runs`; a run in progress stays in `<out>/.partial`, removed on the next
/// start; the folder's lock goes with the process.
fn stop_on_signals(
    out: &std::path::Path,
    again: &[String],
) -> Result<signal_hook::iterator::Handle> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])
        .context("cannot watch for SIGINT and SIGTERM")?;
    let handle = signals.handle();
    let resume = again
        .iter()
        .map(|w| haihe::escape::shell_word(w).unwrap_or_else(|_| w.clone()))
        .collect::<Vec<_>>()
        .join(" ");
    let out = out.to_path_buf();
    std::thread::spawn(move || {
        if let Some(sig) = signals.forever().next() {
            let name = if sig == SIGINT { "SIGINT" } else { "SIGTERM" };
            note_line(format_args!(
                "\nhaihe batch: stopped by {name}. Finished runs are kept in {}; the runs in progress were abandoned (their staging folders in {} are removed on the next start). Resume with:\n  {resume}",
                out.join("runs").display(),
                out.join(".partial").display()
            ));
            haihe::outdir::exit_between_commits(128 + sig);
        }
    });
    Ok(handle)
}

/// indicatif bars: one spinner per running scenario and an overall bar (weighted by the
/// rough cost of each kind) with an ETA; hidden when stderr is not a terminal, in which
/// case one line per finished scenario is printed instead.
struct Bars {
    multi: indicatif::MultiProgress,
    overall: indicatif::ProgressBar,
    running: std::sync::Mutex<std::collections::HashMap<String, indicatif::ProgressBar>>,
}

impl Bars {
    fn new() -> Self {
        let multi =
            indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
        let overall = multi.add(indicatif::ProgressBar::new(0));
        overall.set_style(
            indicatif::ProgressStyle::with_template(
                "{prefix:>8} [{bar:30}] {pos}/{len} work units, {elapsed} elapsed, ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.set_prefix("batch");
        Bars {
            multi,
            overall,
            running: Default::default(),
        }
    }
    fn line(&self, text: String) {
        if self.multi.is_hidden() {
            say!("{text}");
        } else {
            let _ = self.multi.println(text);
        }
    }
}

impl haihe::scenario::batch::Progress for Bars {
    fn planned(&self, runs: &[(String, haihe::scenario::batch::ScenarioKind, bool)]) {
        let total: u64 = runs.iter().filter(|r| !r.2).map(|r| r.1.work_units()).sum();
        self.overall.set_length(total);
        for (id, _, _) in runs.iter().filter(|r| r.2) {
            self.line(format!("  {id}: done earlier, skipped"));
        }
    }
    fn started(&self, id: &str, kind: haihe::scenario::batch::ScenarioKind) {
        let pb = self
            .multi
            .insert_before(&self.overall, indicatif::ProgressBar::new_spinner());
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {prefix:<8} {msg} {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb.set_prefix(kind.as_str());
        pb.set_message(id.to_string());
        pb.enable_steady_tick(std::time::Duration::from_millis(200));
        if let Ok(mut m) = self.running.lock() {
            m.insert(id.to_string(), pb);
        }
    }
    fn rerun(&self, id: &str, reason: &str) {
        self.line(format!(
            "  {id}: finished earlier, but its files do not match its manifest ({reason}); running it again"
        ));
    }
    fn finished(&self, r: &haihe::scenario::batch::RunRecord) {
        if let Ok(mut m) = self.running.lock() {
            if let Some(pb) = m.remove(&r.id) {
                pb.finish_and_clear();
                self.multi.remove(&pb);
            }
        }
        self.overall.inc(r.kind.work_units());
        self.line(format!(
            "  {}: {} ({:.1} s) -> {}",
            r.id,
            r.status,
            r.wall_seconds,
            r.dir.display()
        ));
    }
}
