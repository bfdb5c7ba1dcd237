//! `haihe batch` and `haihe report` end to end on a tiny batch: three small floods on
//! their own DEM (a 2-, 10- and 100-year "system"), the 1679 earthquake with a small
//! Monte Carlo sample, and a combined case. Resume after a kill, shards merged,
//! scenario- against grid-level parallelism, the Slurm script, the risk integral and
//! bad input.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("batch-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A 20 × 40 valley of 100 m cells in EPSG:32650 (as in tests/flood_cli.rs).
fn write_valley(path: &Path) {
    let (nr, nc) = (20usize, 40usize);
    let mut z = Vec::with_capacity(nr * nc);
    for r in 0..nr {
        for c in 0..nc {
            let across = (r as f64 - 9.5).abs() * 0.5;
            z.push((50.0 - 0.1 * c as f64 + across) as f32);
        }
    }
    let a = ndarray::Array2::from_shape_vec((nr, nc), z).unwrap();
    let wkt = haihe::grid::io::epsg_wkt(32650).unwrap();
    let t = haihe::GeoTransform {
        x0: 400000.0,
        dx: 100.0,
        y0: 4400000.0,
        dy: -100.0,
    };
    haihe::grid::io::write_geotiff(&haihe::Grid::new(a, t, wkt, None), path).unwrap();
}

fn flood_scenario(dir: &Path, name: &str, rain_mm: f64) -> PathBuf {
    let dem = dir.join("valley.tif");
    if !dem.exists() {
        write_valley(&dem);
    }
    let text = format!(
        r#"name = "{name}"
duration_h = 2.0
output_interval_h = 0.5

[grid]
dem = "{}"
manning_n = 0.04

[boundaries]
north = "closed"
south = "closed"
west = "closed"
east = {{ free_outflow = {{ slope = 0.001 }} }}

[rain]
kind = "uniform"
step_s = 1800.0
depth_mm = [{rain_mm}, {rain_mm}, 0.0]

[[gauge]]
name = "outlet"
x = 403850.0
y = 4399050.0
crs = "grid"
"#,
        dem.display()
    );
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// The 1679 scenario with 20 realisations instead of 1000 (paths stay relative to the
/// project root, where the binary runs).
fn quake_scenario(dir: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(root().join("models/scenarios/quake-1679-sanhe-pinggu.toml"))
            .unwrap()
            .replace("realisations = 1000", "realisations = 20");
    assert!(text.contains("realisations = 20"));
    let p = dir.join("quake-1679.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// The tiny batch; `extra` is appended.
fn batch(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let f2 = flood_scenario(dir, "valley-2yr", 5.0);
    let f10 = flood_scenario(dir, "valley-10yr", 15.0);
    let f100 = flood_scenario(dir, "valley-100yr", 40.0);
    let q = quake_scenario(dir);
    let text = format!(
        r#"name = "{name}"
[monte_carlo]
samples = 10
seed = 1

[[scenario]]
id = "flood-t2"
kind = "flood"
file = "{}"
return_period_yr = 2.0
system = "valley"

[[scenario]]
id = "flood-t10"
kind = "flood"
file = "{}"
return_period_yr = 10.0
system = "valley"

[[scenario]]
id = "flood-t100"
kind = "flood"
file = "{}"
return_period_yr = 100.0
system = "valley"

[[scenario]]
id = "quake-1679"
kind = "quake"
file = "{}"

[[scenario]]
id = "combined-t100-1679"
kind = "combined"
flood = "flood-t100"
quake = "quake-1679"
{extra}"#,
        f2.display(),
        f10.display(),
        f100.display(),
        q.display()
    );
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

fn haihe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haihe"))
        .current_dir(root())
        .args(args)
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file of every run folder except the timing records (`run.json`, `exposure.json`
/// with its timings and paths, and the time
/// inside `manifest.json`, whose file list is compared instead), plus the batch-level
/// products: name → bytes.
fn deterministic_files(out: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut m = BTreeMap::new();
    for f in ["risk.csv", "risk.json", "report.md", "batch.json"] {
        if let Ok(b) = std::fs::read(out.join(f)) {
            m.insert(f.to_string(), b);
        }
    }
    let runs = out.join("runs");
    for run in std::fs::read_dir(&runs).unwrap().map(|e| e.unwrap().path()) {
        let id = run.file_name().unwrap().to_string_lossy().into_owned();
        for f in std::fs::read_dir(&run).unwrap().map(|e| e.unwrap().path()) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            match name.as_str() {
                "run.json" | "exposure.json" => {}
                "manifest.json" => {
                    let v: serde_json::Value =
                        serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
                    let files: Vec<&serde_json::Value> = v["files"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|x| x[0] != "run.json" && x[0] != "exposure.json")
                        .collect();
                    let key = format!("{}|{}|{}", v["id"], v["kind"], v["scenario_hash"]);
                    m.insert(
                        format!("{id}/manifest"),
                        format!("{key}|{}", serde_json::to_string(&files).unwrap()).into_bytes(),
                    );
                }
                _ => {
                    m.insert(format!("{id}/{name}"), std::fs::read(&f).unwrap());
                }
            }
        }
    }
    m
}

fn assert_same(a: &Path, b: &Path) {
    let (fa, fb) = (deterministic_files(a), deterministic_files(b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "different files in {} and {}",
        a.display(),
        b.display()
    );
    for (k, v) in &fa {
        assert!(
            v == &fb[k],
            "{k} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// Provenance names installed folders: no JSON output below `out` mentions a staging
/// folder (`.partial/<id>.<pid>/`, `.staging-<pid>/`) that is gone once a run is in
/// place.
fn assert_no_staging_paths(out: &Path) {
    let mut stack = vec![out.to_path_buf()];
    let mut seen = 0;
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else if p.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&p).unwrap();
            seen += 1;
            for bad in ["/.partial/", "/.staging-"] {
                assert!(!text.contains(bad), "{} names {bad}:\n{text}", p.display());
            }
        }
    }
    assert!(seen > 10, "only {seen} JSON files below {}", out.display());
}

fn run_dirs(out: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(out.join("runs"))
        .map(|r| {
            r.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn expected_annual_exposure_by_the_trapezoid_rule_on_a_hand_made_curve() {
    use haihe::report::risk::{expected_annual, RareTail};
    // T = 10, 50, 100, 500 yr with 0, 100, 200, 400 persons: p = 0.1, 0.02, 0.01, 0.002.
    // 0.08·(0+100)/2 + 0.01·(100+200)/2 + 0.008·(200+400)/2 = 4 + 1.5 + 2.4 = 7.9;
    // the constant rare tail adds 0.002·400 = 0.8; nothing above p = 0.1.
    let pts = [(10.0, 0.0), (50.0, 100.0), (100.0, 200.0), (500.0, 400.0)];
    let zero = expected_annual(&pts, RareTail::Zero).unwrap();
    let constant = expected_annual(&pts, RareTail::Constant).unwrap();
    assert!((zero - 7.9).abs() < 1e-12, "{zero}");
    assert!((constant - 8.7).abs() < 1e-12, "{constant}");
}

#[test]
fn risk_tables_from_exposure_files() {
    // A batch output made by hand: two events of one system with synthetic
    // exposure_population.csv files; the report must integrate them.
    let d = tmp("risk-files");
    let out = d.join("out");
    let record: serde_json::Value = serde_json::json!({
        "name": "synthetic", "batch_file": "x.toml", "batch_hash": "0", "description": "",
        "monte_carlo": {"samples": 1, "seed": 1}, "ensemble": null,
        "scenarios": [
            {"id": "a10", "kind": "flood", "file": "a10.toml", "return_period_yr": 10.0, "system": "S"},
            {"id": "a100", "kind": "flood", "file": "a100.toml", "return_period_yr": 100.0, "system": "S"}
        ]
    });
    let record: haihe::scenario::batch::BatchRecord = serde_json::from_value(record).unwrap();
    for (id, v) in [("a10", 100.0), ("a100", 1000.0)] {
        let run = out.join("runs").join(id);
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(
            run.join("exposure_population.csv"),
            format!("group_id,name,kind,population,pop_depth_gt_0p15m,pop_depth_gt_0p5m,pop_depth_gt_1p5m\ng1,一,cluster,5000,{},{v},0\n", v * 2.0),
        )
        .unwrap();
        std::fs::write(
            run.join("manifest.json"),
            format!(r#"{{"id":"{id}","kind":"flood","scenario_file":null,"scenario_hash":"0","code_version":"t","finished_utc":"t","wall_seconds":0.0,"files":[]}}"#),
        )
        .unwrap();
    }
    haihe::report::write_batch_report(&out, &record, &root()).unwrap();
    let csv = std::fs::read_to_string(out.join("risk.csv")).unwrap();
    // 0.5 m: (0.1 − 0.01)·(100 + 1000)/2 = 49.5; tail 0.01·1000 = 10 → 59.5.
    let line = csv
        .lines()
        .find(|l| l.starts_with("g1,") && l.contains(",total,pop_depth_gt_0p5m"))
        .unwrap_or_else(|| panic!("{csv}"));
    // The last column names the runs cut before a gauge peaked: none here.
    assert!(line.ends_with(",59.500,49.500,"), "{line}");
    let line = csv
        .lines()
        .find(|l| l.starts_with("g1,") && l.contains(",S,pop_depth_gt_0p5m"))
        .unwrap();
    assert!(line.contains(",100.0,1000.0,"), "{line}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("| 一 | cluster | 59.5 | 59.5 | 49.5 |"), "{md}");
}

#[test]
fn interrupted_batch_resumed_equals_an_uninterrupted_one_in_either_parallel_mode() {
    let d = tmp("resume");
    let b = batch(&d, "tiny", "");
    // Uninterrupted, scenario-level: four runs on two threads, one thread each.
    let a = d.join("a");
    ok(&haihe(&[
        "batch",
        s(&b),
        "--out",
        s(&a),
        "--jobs",
        "2",
        "--parallel",
        "scenarios",
    ]));
    assert_eq!(
        run_dirs(&a),
        [
            "combined-t100-1679",
            "flood-t10",
            "flood-t100",
            "flood-t2",
            "quake-1679"
        ]
    );
    for f in ["risk.csv", "risk.json", "report.md"] {
        assert!(a.join(f).exists(), "{f} missing");
    }
    let md = std::fs::read_to_string(a.join("report.md")).unwrap();
    assert!(md.contains("quake-1679") && md.contains("outlet:"), "{md}");

    // Grid-level: one run at a time with both threads; same outputs.
    let g = d.join("g");
    ok(&haihe(&[
        "batch",
        s(&b),
        "--out",
        s(&g),
        "--jobs",
        "2",
        "--parallel",
        "grid",
    ]));
    assert_same(&a, &g);

    // Interrupted: killed as soon as the first run folder is in place.
    let k = d.join("k");
    let mut child = Command::new(env!("CARGO_BIN_EXE_haihe"))
        .current_dir(root())
        .args(["batch", s(&b), "--out", s(&k), "--jobs", "1"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    loop {
        if run_dirs(&k)
            .iter()
            .any(|id| k.join("runs").join(id).join("manifest.json").exists())
        {
            break;
        }
        assert!(t0.elapsed().as_secs() < 120, "no run finished");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let done = run_dirs(&k);
    assert!(
        done.len() < 5,
        "the batch finished before it was killed: {done:?}"
    );
    for id in &done {
        assert!(
            k.join("runs").join(id).join("manifest.json").exists(),
            "{id} half-written"
        );
    }
    assert!(!k.join("report.md").exists());
    // Without --resume the folder is refused, and left as it was.
    let o = haihe(&["batch", s(&b), "--out", s(&k)]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--resume"));
    assert_eq!(run_dirs(&k), done);
    // Resumed: skips what is done, runs the rest; the same outputs as uninterrupted.
    let o = haihe(&["batch", s(&b), "--out", s(&k), "--resume", "--jobs", "2"]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&format!("{} skipped", done.len())), "{text}");
    assert_same(&a, &k);
    assert!(!k.join(".partial").exists());
}

#[test]
fn shards_merged_equal_the_unsharded_batch() {
    let d = tmp("shards");
    let b = batch(&d, "tiny", "");
    let all = d.join("all");
    ok(&haihe(&["batch", s(&b), "--out", s(&all)]));
    let mut dirs = Vec::new();
    for i in 1..=3 {
        let o = d.join(format!("s{i}"));
        ok(&haihe(&[
            "batch",
            s(&b),
            "--out",
            s(&o),
            "--shard",
            &format!("{i}/3"),
        ]));
        dirs.push(o);
    }
    // Sorted flood and quake ids: flood-t10, flood-t100, flood-t2, quake-1679;
    // shard i takes positions ≡ i − 1 (mod 3). Combined cases wait for the merge.
    assert_eq!(run_dirs(&dirs[0]), ["flood-t10", "quake-1679"]);
    assert_eq!(run_dirs(&dirs[1]), ["flood-t100"]);
    assert_eq!(run_dirs(&dirs[2]), ["flood-t2"]);
    assert!(!dirs[0].join("report.md").exists());
    let merged = d.join("merged");
    let mut args = vec!["report"];
    args.extend(dirs.iter().map(|p| s(p)));
    args.extend(["--out", s(&merged)]);
    ok(&haihe(&args));
    assert_same(&all, &merged);
}

#[test]
fn emitted_slurm_script_is_valid_bash_with_the_shard_ranges() {
    let d = tmp("slurm");
    let b = batch(&d, "tiny", "");
    let out = d.join("out");
    ok(&haihe(&[
        "batch",
        s(&b),
        "--out",
        s(&out),
        "--emit-slurm",
        "--slurm-tasks",
        "3",
    ]));
    let script = out.join("batch.slurm");
    let o = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(text.starts_with("#!/bin/bash\n"));
    assert!(text.contains("#SBATCH --array=1-3\n"), "{text}");
    assert!(
        text.contains("--shard \"$SLURM_ARRAY_TASK_ID/3\" --resume"),
        "{text}"
    );
    assert!(text.contains("--dependency=afterok:"), "{text}");
    assert!(
        text.contains(" report ") && text.contains(s(&out)),
        "{text}"
    );
    // Default: one task per flood or earthquake scenario (4).
    let out4 = d.join("out4");
    ok(&haihe(&["batch", s(&b), "--out", s(&out4), "--emit-slurm"]));
    let text = std::fs::read_to_string(out4.join("batch.slurm")).unwrap();
    assert!(text.contains("#SBATCH --array=1-4\n") && text.contains("/4\" --resume"));
}

fn refused(args: &[&str], needles: &[&str]) {
    let o = haihe(args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "expected a refusal of {args:?}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "message should mention {n:?}: {err}");
    }
}

#[test]
fn bad_input_is_refused_and_nothing_is_overwritten() {
    let d = tmp("bad");
    // A missing scenario file.
    let b = batch(
        &d,
        "missing",
        "\n[[scenario]]\nid = \"ghost\"\nkind = \"flood\"\nfile = \"models/scenarios/no_such.toml\"\n",
    );
    let out = d.join("out-missing");
    refused(
        &["batch", s(&b), "--out", s(&out)],
        &["missing.toml", "ghost", "no_such.toml", "not found"],
    );
    assert!(!out.exists(), "an output folder was created");
    // A duplicate id.
    let b = batch(
        &d,
        "dup",
        &format!(
            "\n[[scenario]]\nid = \"flood-t2\"\nkind = \"quake\"\nfile = \"{}\"\n",
            s(&quake_scenario(&d))
        ),
    );
    refused(
        &["batch", s(&b), "--out", s(&d.join("out-dup"))],
        &["duplicate id", "flood-t2"],
    );
    // A combined case naming an unknown flood.
    let b = batch(&d, "combo", "\n[[scenario]]\nid = \"c2\"\nkind = \"combined\"\nflood = \"nope\"\nquake = \"quake-1679\"\n");
    refused(
        &["batch", s(&b), "--out", s(&d.join("out-combo"))],
        &["'nope' is not a flood scenario"],
    );
    // A misspelt key.
    let b = batch(
        &d,
        "typo",
        "\n[[scenario]]\nid = \"t\"\nkind = \"flood\"\nfiel = \"x.toml\"\n",
    );
    refused(
        &["batch", s(&b), "--out", s(&d.join("out-typo"))],
        &["fiel"],
    );
    // --shard 4/3.
    let good = batch(&d, "tiny", "");
    refused(
        &[
            "batch",
            s(&good),
            "--out",
            s(&d.join("out-shard")),
            "--shard",
            "4/3",
        ],
        &["--shard '4/3'"],
    );
    assert!(!d.join("out-shard").exists());
    // An output folder holding another batch's results: a finished one-flood batch.
    let other = d.join("other.toml");
    std::fs::write(
        &other,
        format!(
            "name = \"other\"\n[monte_carlo]\nsamples = 1\nseed = 1\n[[scenario]]\nid = \"f\"\nkind = \"flood\"\nfile = \"{}\"\n",
            s(&flood_scenario(&d, "valley-other", 5.0))
        ),
    )
    .unwrap();
    let out = d.join("out-other");
    ok(&haihe(&["batch", s(&other), "--out", s(&out)]));
    let before = deterministic_files(&out);
    let batch_json = std::fs::read(out.join("batch.json")).unwrap();
    for extra in [&[][..], &["--resume"][..]] {
        let mut args = vec!["batch", s(&good), "--out", s(&out)];
        args.extend(extra);
        refused(
            &args,
            &[
                "holds the results of batch 'other'",
                "another output folder",
            ],
        );
    }
    assert_eq!(deterministic_files(&out), before);
    assert_eq!(std::fs::read(out.join("batch.json")).unwrap(), batch_json);
    // A non-empty folder that is not a batch output.
    let plain = d.join("plain");
    std::fs::create_dir_all(&plain).unwrap();
    std::fs::write(plain.join("notes.txt"), "mine").unwrap();
    refused(
        &["batch", s(&good), "--out", s(&plain)],
        &["holds no batch.json"],
    );
    assert_eq!(
        std::fs::read_to_string(plain.join("notes.txt")).unwrap(),
        "mine"
    );
    // Merging shards of different batches.
    refused(
        &[
            "report",
            s(&out),
            s(&d.join("nothing")),
            "--out",
            s(&d.join("m")),
        ],
        &["batch.json"],
    );
}

/// A changed input that the scenario file only names (here its DEM) makes `--resume`
/// rerun the scenarios that read it, and the combined case built on them; the
/// earthquake, which does not read it, is skipped. The manifest lists the inputs.
#[test]
fn resume_reruns_scenarios_whose_referenced_inputs_changed() {
    let d = tmp("inputs");
    let b = batch(&d, "tiny", "");
    let out = d.join("o");
    ok(&haihe(&["batch", s(&b), "--out", s(&out), "--jobs", "2"]));
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("runs/flood-t2/manifest.json")).unwrap(),
    )
    .unwrap();
    let inputs = m["inputs"].as_array().unwrap();
    assert!(
        inputs
            .iter()
            .any(|i| i[0].as_str().unwrap().ends_with("valley.tif")),
        "{inputs:?}"
    );
    // Unchanged: everything is skipped.
    let o = haihe(&["batch", s(&b), "--out", s(&out), "--resume"]);
    ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("0 ran, 5 skipped"));
    // The DEM changes (one metre higher everywhere): the three floods and the combined
    // case rerun, the earthquake does not.
    let dem = d.join("valley.tif");
    let mut g = haihe::grid::read_raster_as::<f32>(&dem, 1).unwrap();
    g.data.mapv_inplace(|z| z + 1.0);
    haihe::grid::io::write_geotiff(&g, &dem).unwrap();
    let o = haihe(&["batch", s(&b), "--out", s(&out), "--resume"]);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("4 ran, 1 skipped"), "{text}");
}

/// A batch with `[ensemble]` runs every flood's members into `member-NNN/` of its run
/// folder beside the nominal run, with `ensemble.json`; the earthquake has none.
#[test]
fn batch_flood_ensemble_runs_its_members() {
    let d = tmp("ensemble");
    let b = batch(&d, "tiny-ens", "\n[ensemble]\nmembers = 2\nseed = 7\n");
    let out = d.join("o");
    ok(&haihe(&["batch", s(&b), "--out", s(&out), "--jobs", "2"]));
    for id in ["flood-t2", "flood-t10", "flood-t100"] {
        let run = out.join("runs").join(id);
        assert!(run.join("max_depth.tif").exists(), "{id}: nominal run");
        for m in ["member-001", "member-002"] {
            assert!(run.join(m).join("max_depth.tif").exists(), "{id}/{m}");
        }
        let e: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(run.join("ensemble.json")).unwrap())
                .unwrap();
        assert_eq!(
            (e["members"].as_u64(), e["seed"].as_u64()),
            (Some(2), Some(7))
        );
    }
    assert!(!out.join("runs/quake-1679/member-001").exists());
}

/// A combined case reads its parts from the batch's installed `runs/<id>/`, not from the
/// partial folder it is written in (it used to look in `.partial/` and silently combine
/// nothing); a part that is not a finished run is an error, not an empty result.
#[test]
fn a_combined_case_reads_its_parts_from_the_installed_runs() {
    use haihe::scenario::batch::{after_run, ScenarioKind};
    let out = tmp("combined-parts");
    let partial = out.join(".partial").join("c.1");
    std::fs::create_dir_all(&partial).unwrap();
    let combined =
        r#"{"id":"c","flood":["f","runs/f"],"quake":["q","runs/q"],"part_hashes":["0","0"]}"#;
    std::fs::write(partial.join("combined.json"), combined).unwrap();
    // Parts missing from runs/: a clear error naming them.
    let e = after_run(&partial, ScenarioKind::Combined, &root(), &out).unwrap_err();
    assert!(e.to_string().contains("must be finished runs"), "{e}");
    // Parts installed (a flood on its own DEM: nothing to combine, and no error).
    for id in ["f", "q"] {
        let d = out.join("runs").join(id);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("run.json"), "{}").unwrap();
    }
    after_run(&partial, ScenarioKind::Combined, &root(), &out).unwrap();
}

/// `--resume` checks every finished run's files against its manifest (size first, then
/// the hash): a truncated `max_depth.tif`, an edited `exposure_population.csv` (same
/// size, other bytes) and a deleted one are each found, the run is run again (with the
/// combined case built on it) and says so on the console and in its manifest, and the
/// outputs, scores included, are those of the undamaged batch: an edit never reaches the
/// scores or the report, and no stale score folder is left. No JSON output names a
/// staging folder (provenance points at installed folders).
#[test]
fn resume_verifies_finished_runs_and_reruns_damaged_ones() {
    let d = tmp("verify");
    let b = batch(&d, "tiny", "");
    let out = d.join("o");
    ok(&haihe(&["batch", s(&b), "--out", s(&out), "--jobs", "2"]));
    assert_no_staging_paths(&out);
    let reference = deterministic_files(&out);
    let scores = |o: &Path| -> BTreeMap<String, Vec<u8>> {
        let mut m = BTreeMap::new();
        for f in ["scores.csv", "scores.json"] {
            let p = o.join("scores").join(f);
            let text = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            m.insert(f.to_string(), text);
        }
        m
    };
    let scores_before = scores(&out);

    // A truncated raster and an edited table (one digit changed: same size).
    let tif = out.join("runs/flood-t2/max_depth.tif");
    let bytes = std::fs::read(&tif).unwrap();
    std::fs::write(&tif, &bytes[..bytes.len() / 2]).unwrap();
    let csv = out.join("runs/quake-1679/exposure_population.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    let line = text.lines().nth(1).unwrap();
    let pop_at = line.match_indices(',').nth(2).unwrap().0 + 1;
    let old = line.as_bytes()[pop_at];
    assert!(old.is_ascii_digit(), "{line}");
    let new = if old == b'9' { b'1' } else { old + 1 };
    let mut edited = text.clone().into_bytes();
    edited[text.find(line).unwrap() + pop_at] = new;
    std::fs::write(&csv, &edited).unwrap();

    let o = haihe(&["batch", s(&b), "--out", s(&out), "--resume", "--jobs", "2"]);
    ok(&o);
    let console = String::from_utf8_lossy(&o.stdout);
    assert!(
        console.contains("flood-t2: finished earlier, but its files do not match")
            && console.contains("max_depth.tif has"),
        "{console}"
    );
    assert!(
        console.contains("quake-1679: finished earlier")
            && console.contains("exposure_population.csv was changed"),
        "{console}"
    );
    // The two damaged runs and the combined case built on the earthquake ran again.
    assert!(console.contains("3 ran, 2 skipped"), "{console}");
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("runs/flood-t2/manifest.json")).unwrap(),
    )
    .unwrap();
    assert!(
        m["rerun_reason"]
            .as_str()
            .is_some_and(|r| r.contains("max_depth.tif")),
        "{m}"
    );
    let m: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("runs/combined-t100-1679/manifest.json")).unwrap(),
    )
    .unwrap();
    assert!(
        m["rerun_reason"]
            .as_str()
            .is_some_and(|r| r.contains("quake-1679")),
        "{m}"
    );
    assert_eq!(deterministic_files(&out), reference);
    assert_eq!(scores(&out), scores_before);

    // A deleted table: found, run again; the scores are those of the intact run.
    std::fs::remove_file(&csv).unwrap();
    let o = haihe(&["batch", s(&b), "--out", s(&out), "--resume", "--jobs", "2"]);
    ok(&o);
    let console = String::from_utf8_lossy(&o.stdout);
    assert!(
        console.contains("exposure_population.csv is missing"),
        "{console}"
    );
    assert_eq!(deterministic_files(&out), reference);
    assert_eq!(scores(&out), scores_before);
    assert_no_staging_paths(&out);

    // Intact: everything skipped, nothing rerun.
    let o = haihe(&["batch", s(&b), "--out", s(&out), "--resume"]);
    ok(&o);
    let console = String::from_utf8_lossy(&o.stdout);
    assert!(console.contains("0 ran, 5 skipped"), "{console}");
    assert!(!console.contains("running it again"), "{console}");
}

/// A batch of three floods on the valley with their own ids: `a-short` (its gauge
/// named like a spreadsheet formula), `b-long` (24 h, a few seconds) and `c-short`.
fn floods_batch(dir: &Path, name: &str) -> PathBuf {
    let a = flood_scenario(dir, "a-short", 5.0);
    let text = std::fs::read_to_string(&a)
        .unwrap()
        .replace("name = \"outlet\"", "name = '=SUM(1)+@x'");
    assert!(text.contains("=SUM(1)+@x"));
    std::fs::write(&a, text).unwrap();
    let b = flood_scenario(dir, "b-long", 10.0);
    let text = std::fs::read_to_string(&b)
        .unwrap()
        .replace("duration_h = 2.0", "duration_h = 24.0")
        .replace("output_interval_h = 0.5", "output_interval_h = 1.0");
    assert!(text.contains("duration_h = 24.0"));
    std::fs::write(&b, text).unwrap();
    let c = flood_scenario(dir, "c-short", 15.0);
    let mut text = format!("name = \"{name}\"\n[monte_carlo]\nsamples = 10\nseed = 1\n");
    for (id, f) in [("a-short", &a), ("b-long", &b), ("c-short", &c)] {
        text.push_str(&format!(
            "\n[[scenario]]\nid = \"{id}\"\nkind = \"flood\"\nfile = \"{}\"\n",
            f.display()
        ));
    }
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// `haihe batch … | head -1`: the closed stdout ends the console output quietly, the
/// batch runs to its end and its outputs are those of a batch printing to a live
/// stdout. SIGTERM in the middle of a run stops the batch at once with exit code 143
/// and a message saying how to resume: the finished run is kept, the one in progress is
/// left in `.partial/` for cleanup, the lock is released, and `--resume` then gives
/// the outputs of an uninterrupted batch.
#[test]
fn closed_stdout_spares_the_batch_and_sigterm_stops_it_cleanly() {
    use std::io::BufRead;
    use std::process::Stdio;
    let d = tmp("signals");
    let b = floods_batch(&d, "floods");
    let reference = d.join("reference");
    ok(&haihe(&[
        "batch",
        s(&b),
        "--out",
        s(&reference),
        "--jobs",
        "2",
    ]));
    // A gauge named like a formula is written as text, and read back by the report.
    let hydro = std::fs::read_to_string(reference.join("runs/a-short/hydrographs.csv")).unwrap();
    assert!(
        hydro.starts_with("time_h,'=SUM(1)+@x discharge_m3s,'=SUM(1)+@x stage_m\n"),
        "{hydro}"
    );

    // stdout closed after the first line.
    let piped = d.join("piped");
    let mut child = Command::new(env!("CARGO_BIN_EXE_haihe"))
        .current_dir(root())
        .args(["batch", s(&b), "--out", s(&piped), "--jobs", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("haihe batch: floods"), "{first}");
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_same(&reference, &piped);
    assert!(piped.join("report.md").exists());

    // SIGTERM while b-long runs (one run at a time, in id order).
    let k = d.join("k");
    let child = Command::new(env!("CARGO_BIN_EXE_haihe"))
        .current_dir(root())
        .args(["batch", s(&b), "--out", s(&k), "--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = std::time::Instant::now();
    while !k.join("runs/a-short/manifest.json").exists() {
        assert!(t0.elapsed().as_secs() < 60, "no run finished");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(143), "{err}");
    assert!(
        err.contains("stopped by SIGTERM") && err.contains("--resume") && err.contains(s(&k)),
        "{err}"
    );
    assert_eq!(run_dirs(&k), ["a-short"], "{err}");
    assert!(!k.join("report.md").exists());
    // Resumed: the lock was released (no wait), the staging left behind is cleaned,
    // and the outputs are those of the uninterrupted batch.
    let o = haihe(&["batch", s(&b), "--out", s(&k), "--resume", "--jobs", "2"]);
    ok(&o);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("waiting"));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("2 ran, 1 skipped"), "{text}");
    assert!(!k.join(".partial").exists());
    assert_same(&reference, &k);
}

/// `--emit-slurm` into a folder whose name holds `$(…)`, backquotes, a space and a `'`:
/// the script is valid bash, submitting it (with a stand-in `sbatch` that records its
/// arguments) runs nothing from the name, the merge job's `--wrap` command splits back
/// into the exact paths, and the array task and the merge job both run on that folder.
/// Ids that are not safe folder names are refused.
#[test]
fn slurm_script_quotes_hostile_paths() {
    let d = tmp("slurm-hostile");
    let b = floods_batch(&d, "floods");
    let out = d.join("o'ut $(touch pwned-by-slurm) `touch pwned-by-slurm2`");
    ok(&haihe(&[
        "batch",
        s(&b),
        "--out",
        s(&out),
        "--emit-slurm",
        "--slurm-tasks",
        "1",
    ]));
    let script = out.join("batch.slurm");
    let o = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Submitted from a login node: a stand-in sbatch records each call's arguments.
    let bin = d.join("bin");
    let calls = d.join("calls");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(&calls).unwrap();
    let stub = bin.join("sbatch");
    std::fs::write(
        &stub,
        "#!/bin/sh\nn=$(ls \"$CALLS\" | wc -l)\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$CALLS/call-$n\"\necho 42\n",
    )
    .unwrap();
    let chmod = Command::new("chmod").arg("+x").arg(&stub).status().unwrap();
    assert!(chmod.success());
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let o = Command::new("bash")
        .arg(&script)
        .current_dir(&d)
        .env("PATH", &path)
        .env("CALLS", &calls)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let args = |n: usize| -> Vec<String> {
        std::fs::read_to_string(calls.join(format!("call-{n}")))
            .unwrap()
            .split('\0')
            .filter(|a| !a.is_empty())
            .map(String::from)
            .collect()
    };
    let first = args(0);
    assert_eq!(
        first.last().map(String::as_str),
        Some(s(&script)),
        "{first:?}"
    );
    let second = args(1);
    let w = second.iter().position(|a| a == "--wrap").unwrap();
    let wrap = &second[w + 1];
    let words = shlex::split(wrap).unwrap();
    let abs = |p: &Path| p.canonicalize().unwrap().display().to_string();
    assert_eq!(
        words,
        [
            "cd".to_string(),
            abs(&root()),
            "&&".into(),
            abs(Path::new(env!("CARGO_BIN_EXE_haihe"))),
            "report".into(),
            abs(&out),
            "--out".into(),
            abs(&out)
        ],
        "{wrap}"
    );
    // The array task, then the merge job's command, on this machine.
    let o = Command::new("bash")
        .arg(&script)
        .current_dir(&d)
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_CPUS_PER_TASK", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(run_dirs(&out), ["a-short", "b-long", "c-short"]);
    let o = Command::new("sh").arg("-c").arg(wrap).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.join("report.md").exists());
    for dir in [root(), d.clone(), out.clone()] {
        for f in ["pwned-by-slurm", "pwned-by-slurm2"] {
            assert!(!dir.join(f).exists(), "{} ran", dir.join(f).display());
        }
    }
    // An id that is not a safe folder name is refused, naming the field.
    let text = std::fs::read_to_string(&b)
        .unwrap()
        .replace("id = \"c-short\"", "id = \"c$(touch pwned-by-id)\"");
    let bad = d.join("bad.toml");
    std::fs::write(&bad, text).unwrap();
    refused(
        &["batch", s(&bad), "--out", s(&d.join("bad-out"))],
        &["bad.toml", ".id", "use ASCII letters"],
    );
}

/// Names that a spreadsheet would run as formulas are written as text in the project's
/// CSV files (a single quote in front), numbers stay numbers, and the project's readers
/// give the names back unchanged; in `report.md` raw HTML is shown as text and a line
/// break in a batch name or description cannot start a heading or a table row.
#[test]
fn hostile_names_stay_text_in_csv_and_markdown() {
    let d = tmp("hostile");
    let hostile = [
        "=HYPERLINK(\"http://x\",\"y\")",
        "+cmd",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "'=quoted",
    ];
    // counties.csv: written by `haihe prepare`, read by the exposure and report steps.
    let recs: Vec<haihe::prepare::counties::CountyRecord> = hostile
        .iter()
        .enumerate()
        .map(|(i, n)| haihe::prepare::counties::CountyRecord {
            adcode: 110101 + i as u32,
            name: n.to_string(),
            province: "<b>北京市</b>".into(),
            city: "-".into(),
            area_km2: 10.0,
            polygon_area_km2: 10.0,
            population_2020: Some(1000.0),
            population_basis: "@census".into(),
            seat_lon: 116.4,
            seat_lat: -39.9,
        })
        .collect();
    let csv_path = d.join("counties.csv");
    haihe::prepare::counties::write_counties_csv(&csv_path, &recs).unwrap();
    let raw = std::fs::read_to_string(&csv_path).unwrap();
    let mut rd = csv::Reader::from_path(&csv_path).unwrap();
    for rec in rd.records() {
        let rec = rec.unwrap();
        for cell in rec.iter() {
            assert!(
                !cell.starts_with(['=', '+', '@', '\t', '\r'])
                    && (!cell.starts_with('-') || cell.parse::<f64>().is_ok()),
                "unguarded cell {cell:?} in\n{raw}"
            );
        }
    }
    assert!(
        raw.contains(",-39.9"),
        "a negative number stays a number: {raw}"
    );
    let back = haihe::groups::read_counties_csv(&csv_path).unwrap();
    let names: Vec<&str> = back.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, hostile);
    assert!(back.iter().all(|c| c.city == "-"));

    // A batch output made by hand (as in risk_tables_from_exposure_files) whose groups,
    // batch name and description are hostile.
    let out = d.join("out");
    let record: serde_json::Value = serde_json::json!({
        "name": "b\n# injected heading <script>alert(1)</script>",
        "batch_file": "x`y.toml", "batch_hash": "0",
        "description": "line one\n| a | b |\n<img src=x onerror=alert(1)>",
        "monte_carlo": {"samples": 1, "seed": 1}, "ensemble": null,
        "scenarios": [
            {"id": "a10", "kind": "flood", "file": "a10.toml", "return_period_yr": 10.0, "system": "=S"},
            {"id": "a100", "kind": "flood", "file": "a100.toml", "return_period_yr": 100.0, "system": "=S"}
        ]
    });
    let record: haihe::scenario::batch::BatchRecord = serde_json::from_value(record).unwrap();
    for (id, v) in [("a10", 100.0), ("a100", 1000.0)] {
        let run = out.join("runs").join(id);
        std::fs::create_dir_all(&run).unwrap();
        let mut w = csv::Writer::from_path(run.join("exposure_population.csv")).unwrap();
        w.write_record([
            "group_id",
            "name",
            "kind",
            "population",
            "pop_depth_gt_0p15m",
            "pop_depth_gt_0p5m",
            "pop_depth_gt_1p5m",
        ])
        .unwrap();
        for (g, n) in [
            ("g1", "'=HYPERLINK(\"http://x\")"),
            ("g2", "<script>alert(1)</script>\n# x | y"),
        ] {
            w.write_record([
                g,
                n,
                "cluster",
                "5000",
                &format!("{}", v * 2.0),
                &format!("{v}"),
                "0",
            ])
            .unwrap();
        }
        w.flush().unwrap();
        std::fs::write(
            run.join("manifest.json"),
            format!(r#"{{"id":"{id}","kind":"flood","scenario_file":null,"scenario_hash":"0","code_version":"t","finished_utc":"t","wall_seconds":0.0,"files":[]}}"#),
        )
        .unwrap();
    }
    haihe::report::write_batch_report(&out, &record, &root()).unwrap();
    let risk = std::fs::read_to_string(out.join("risk.csv")).unwrap();
    let mut rd = csv::Reader::from_path(out.join("risk.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    let g1 = rows.iter().find(|r| &r[0] == "g1").unwrap();
    // Read back from exposure_population.csv without its guard, written with it again.
    assert_eq!(&g1[1], "'=HYPERLINK(\"http://x\")", "{risk}");
    assert!(rows.iter().any(|r| &r[3] == "'=S"), "{risk}");
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    for bad in ["<script", "<img", "\n# injected", "\n| a | b |"] {
        assert!(!md.contains(bad), "{bad:?} in report.md:\n{md}");
    }
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
    assert_eq!(
        md.lines().filter(|l| l.starts_with("# ")).count(),
        1,
        "one heading of level 1:\n{md}"
    );
}
