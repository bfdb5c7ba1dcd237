//! Output folders never lose user data (issue 14): a command writes only into folders
//! it created and marked as its own, replacing a previous output needs `--replace`,
//! concurrent writers are refused, ensembles resume, ids cannot leave their folder,
//! stale staging folders are cleaned and provenance names installed folders. Small
//! grids: seconds each.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("output-safety")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn haihe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_haihe"))
        .current_dir(root())
        .env("RAYON_NUM_THREADS", "1")
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

fn refused(o: &Output, needles: &[&str]) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "not refused: {err}");
    for n in needles {
        assert!(err.contains(n), "'{n}' not in: {err}");
    }
}

/// A 10 × 20 valley of 100 m cells with its own DEM and one hour of rain.
fn scenario(dir: &Path) -> PathBuf {
    let (nr, nc) = (10usize, 20usize);
    let z: Vec<f32> = (0..nr * nc)
        .map(|i| {
            let (r, c) = (i / nc, i % nc);
            (50.0 - 0.1 * c as f64 + (r as f64 - 4.5).abs() * 0.5) as f32
        })
        .collect();
    let a = ndarray::Array2::from_shape_vec((nr, nc), z).unwrap();
    let t = haihe::GeoTransform {
        x0: 400000.0,
        dx: 100.0,
        y0: 4400000.0,
        dy: -100.0,
    };
    let dem = dir.join("valley.tif");
    let wkt = haihe::grid::io::epsg_wkt(32650).unwrap();
    haihe::grid::io::write_geotiff(&haihe::Grid::new(a, t, wkt, None), &dem).unwrap();
    let text = format!(
        r#"name = "valley"
duration_h = 1.0
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
depth_mm = [10.0, 0.0]

[[gauge]]
name = "outlet"
x = 401850.0
y = 4399550.0
crs = "grid"
"#,
        dem.display()
    );
    let p = dir.join("valley.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn flood_refuses_a_foreign_folder_and_the_root_and_replaces_only_on_request() {
    let d = tmp("flood");
    let sc = scenario(&d);
    // A folder of the user's: refused, left as it was.
    let mine = d.join("mine");
    std::fs::create_dir_all(&mine).unwrap();
    std::fs::write(mine.join("notes.txt"), "keep me").unwrap();
    refused(
        &haihe(&["flood", s(&sc), "--out", s(&mine)]),
        &["not a haihe flood output", "mine"],
    );
    assert_eq!(
        std::fs::read_to_string(mine.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert!(!mine.join("max_depth.tif").exists());
    // The filesystem root and the project folder: refused.
    refused(
        &haihe(&["flood", s(&sc), "--out", "/"]),
        &["filesystem root"],
    );
    refused(
        &haihe(&["flood", s(&sc), "--out", s(&root())]),
        &["project folder"],
    );
    // A new folder: written and marked; a second run needs --replace.
    let out = d.join("out");
    ok(&haihe(&["flood", s(&sc), "--out", s(&out)]));
    assert!(out.join("max_depth.tif").exists() && out.join(".haihe-output").exists());
    refused(
        &haihe(&["flood", s(&sc), "--out", s(&out)]),
        &["--replace", "previous haihe flood output"],
    );
    // Another kind into it: refused.
    refused(
        &haihe(&["validate", "--all", "--out", s(&out)]),
        &["holds a haihe flood output"],
    );
    // With --replace: rewritten, and a file the old output had and the new one has not
    // does not stay mixed in.
    std::fs::write(out.join("old_only.csv"), "x").unwrap();
    ok(&haihe(&["flood", s(&sc), "--out", s(&out), "--replace"]));
    assert!(out.join("run.json").exists());
    assert!(!out.join("old_only.csv").exists());
}

#[test]
fn two_concurrent_writers_one_refused_nothing_lost() {
    let d = tmp("concurrent");
    let sc = scenario(&d);
    let out = d.join("out");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_haihe"))
            .current_dir(root())
            .env("RAYON_NUM_THREADS", "1")
            .args(["flood", s(&sc), "--out", s(&out)])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let good = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(good, 1, "exactly one writer succeeds");
    let bad = outs.iter().find(|o| !o.status.success()).unwrap();
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("being written by another haihe process")
            || err.contains("previous haihe flood output"),
        "{err}"
    );
    for f in ["max_depth.tif", "hydrographs.csv", "run.json"] {
        assert!(out.join(f).exists(), "{f} lost");
    }

    // A held lock: refused at once, naming the folder and the holder.
    let held = d.join("held");
    std::fs::create_dir_all(&held).unwrap();
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(held.join(".haihe-lock"))
        .unwrap();
    std::io::Write::write_all(&mut &lock, b"pid 1: haihe batch test").unwrap();
    fs4::FileExt::try_lock(&lock).unwrap();
    refused(
        &haihe(&["flood", s(&sc), "--out", s(&held)]),
        &["held", "being written by another haihe process (pid 1"],
    );
    fs4::FileExt::unlock(&lock).unwrap();
    ok(&haihe(&["flood", s(&sc), "--out", s(&held)]));
}

#[test]
fn ensemble_resume_keeps_finished_members() {
    let d = tmp("ensemble");
    let sc = scenario(&d);
    let out = d.join("ens");
    let args = [
        "flood",
        s(&sc),
        "--out",
        s(&out),
        "--ensemble",
        "3",
        "--seed",
        "7",
    ];
    ok(&haihe(&args));
    let json1 = std::fs::read_to_string(out.join("ensemble.json")).unwrap();
    // A note inside a finished member, and member 2 made unfinished (its record gone).
    std::fs::write(out.join("member-001").join("note.txt"), "mine").unwrap();
    std::fs::remove_file(out.join("member-002").join(".haihe-member.json")).unwrap();
    let o = haihe(&args);
    ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("member 001 (kept"), "{text}");
    assert!(text.contains("member 003 (kept"), "{text}");
    assert!(!text.contains("member 002 (kept"), "{text}");
    assert!(out.join("member-001").join("note.txt").exists());
    assert!(out.join("member-002").join(".haihe-member.json").exists());
    // Same draws, same peaks.
    assert_eq!(
        std::fs::read_to_string(out.join("ensemble.json")).unwrap(),
        json1
    );
    // Another seed draws other members: refused without --replace, nothing changed.
    let mut other = args.to_vec();
    other[7] = "8";
    refused(&haihe(&other), &["member-001", "--replace"]);
    assert!(out.join("member-001").join("note.txt").exists());
    // A member folder that haihe did not write is never deleted.
    let foreign = d.join("ens2");
    std::fs::create_dir_all(foreign.join("member-001")).unwrap();
    std::fs::write(foreign.join("member-001").join("data.csv"), "x").unwrap();
    std::fs::write(foreign.join(".haihe-output"), "{\"kind\": \"ensemble\"}").unwrap();
    let mut f = args.to_vec();
    f[3] = s(&foreign);
    refused(&haihe(&f), &["member-001", "not a haihe member folder"]);
    assert!(foreign.join("member-001").join("data.csv").exists());
}

#[test]
fn stale_staging_folders_are_cleaned() {
    let d = tmp("stale");
    let sc = scenario(&d);
    let out = d.join("out");
    ok(&haihe(&["flood", s(&sc), "--out", s(&out)]));
    // Leftovers of a killed process (no such pid).
    std::fs::create_dir_all(out.join(".staging-999999999")).unwrap();
    std::fs::write(out.join(".staging-999999999").join("max_depth.tif"), "x").unwrap();
    std::fs::create_dir_all(out.join(".partial").join("flood-t2.999999999")).unwrap();
    ok(&haihe(&["flood", s(&sc), "--out", s(&out), "--replace"]));
    assert!(!out.join(".staging-999999999").exists());
    assert!(!out.join(".partial").exists());
}

const POP_HEADER: &str = "group_id,name,kind,population,pop_depth_gt_0p15m,pop_depth_gt_0p5m,pop_depth_gt_1p5m,pop_pga_ge_0p05g,pop_pga_ge_0p10g,pop_pga_ge_0p15g,pop_pga_ge_0p20g,pop_pga_ge_0p30g,pop_pga_ge_0p40g\n";
const LIFE_HEADER: &str = "group_id,lifeline,components,length_km,exposed,expected_damaged,service_kept_share,paths_intact,paths_after_p50,days_to_90pct,resilience_loss_pct_days,not_assessed\n";

/// A flood run folder on the model grid (as in tests/resilience.rs).
fn flood_run(dir: &Path, name: &str) {
    std::fs::create_dir_all(dir).unwrap();
    let pop = haihe::grid::read_raster_as::<f32>(&root().join("rasters/model/population.tif"), 1)
        .unwrap();
    let mut d = pop.data.mapv(|_| 0.0f32);
    for r in 0..20.min(d.nrows()) {
        d.row_mut(r).fill(1.0);
    }
    haihe::grid::write_geotiff(
        &pop.with_data(d, Some(f64::NAN)),
        &dir.join("max_depth.tif"),
    )
    .unwrap();
    let w = |f: &str, t: &str| std::fs::write(dir.join(f), t).unwrap();
    w(
        "exposure_population.csv",
        &format!("{POP_HEADER}county-110101,东城区,county,708829,1000,1000,0,,,,,,\n"),
    );
    w(
        "exposure_lifelines.csv",
        &format!("{LIFE_HEADER}county-110101,water_supply,4,20,2,1.5,0.6,1,0,12,900,0\n"),
    );
    w("exposure_redline.csv", "group_id,redline_km2,redline_flooded_km2,redline_shaken_km2,wetland_storage_m3\ncounty-110101,0,0,,0\n");
    w("run.json", &format!("{{\"scenario\": \"{name}\"}}"));
}

#[test]
fn score_keeps_a_folder_it_did_not_write() {
    let d = tmp("score");
    // Run folders named `rasters` and `b` (score names its subfolders after them).
    let runs = d.join("runs");
    flood_run(&runs.join("rasters"), "r");
    flood_run(&runs.join("b"), "b");
    let (r, b) = (runs.join("rasters"), runs.join("b"));
    let score = |out: &Path, extra: &[&str]| {
        let mut a = vec!["score", s(&r), s(&b), "--samples", "10", "--out", s(out)];
        a.extend(extra);
        haihe(&a)
    };
    // A folder of the user's holding rasters/: refused, rasters/ kept.
    let proj = d.join("project");
    std::fs::create_dir_all(proj.join("rasters")).unwrap();
    std::fs::write(proj.join("rasters").join("dem.tif"), "user data").unwrap();
    refused(&score(&proj, &[]), &["not a haihe score output"]);
    assert!(proj.join("rasters").join("dem.tif").exists());
    // A score folder of haihe's whose rasters/ was swapped for the user's own: even with
    // --replace that subfolder is refused and kept.
    let out = d.join("out");
    ok(&score(&out, &[]));
    assert!(out.join("rasters").join("scores.csv").exists());
    std::fs::remove_dir_all(out.join("rasters")).unwrap();
    std::fs::create_dir_all(out.join("rasters")).unwrap();
    std::fs::write(out.join("rasters").join("dem.tif"), "user data").unwrap();
    refused(
        &score(&out, &["--replace"]),
        &["rasters", "not a haihe score folder"],
    );
    assert!(out.join("rasters").join("dem.tif").exists());
    // Its own subfolders are replaced with --replace.
    std::fs::remove_dir_all(out.join("rasters")).unwrap();
    ok(&score(&out, &["--replace"]));
    assert!(out.join("b").join("scores.csv").exists());
}

#[test]
fn ids_that_would_leave_their_folder_are_refused() {
    // A scenario name of `..` does not become a folder `..`.
    assert_ne!(haihe::resilience::scenario_slug("..", 3), "..");
    assert!(!haihe::resilience::scenario_slug(".hidden", 1).starts_with('.'));
    // A storm id of `..` is refused, naming the file and the field, before anything runs.
    let d = tmp("ids");
    let storms = d.join("storms");
    std::fs::create_dir_all(&storms).unwrap();
    let text = std::fs::read_to_string(root().join("models/storms/2012-07-21-beijing.toml"))
        .unwrap()
        .replace("id = \"2012-07-21-beijing\"", "id = \"..\"");
    assert!(text.contains("id = \"..\""));
    std::fs::write(storms.join("bad.toml"), text).unwrap();
    let out = d.join("out");
    refused(
        &haihe(&[
            "validate",
            "--all",
            "--storms",
            s(&storms),
            "--out",
            s(&out),
            "--operation",
            "none",
        ]),
        &["bad.toml", "storm.id", "'..'"],
    );
    assert!(!d.join("validation.json").exists());
}

/// A 60 × 120 pond of 100 m cells with a noisy initial depth (so `max_depth.tif`, the
/// first file a run writes, does not compress below a few tens of kB), run for 0.1 h.
fn noisy_pond(dir: &Path) -> PathBuf {
    let (nr, nc) = (60usize, 120usize);
    let t = haihe::GeoTransform {
        x0: 400000.0,
        dx: 100.0,
        y0: 4400000.0,
        dy: -100.0,
    };
    let wkt = haihe::grid::io::epsg_wkt(32650).unwrap();
    let dem = ndarray::Array2::from_elem((nr, nc), 10.0f32);
    // A fixed linear congruential sequence: the same noise on every run.
    let mut x: u64 = 12345;
    let depth = ndarray::Array2::from_shape_fn((nr, nc), |_| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 40) as f32 / (1u64 << 24) as f32 * 2.0
    });
    let (d, h) = (dir.join("pond.tif"), dir.join("pond_depth.tif"));
    haihe::grid::io::write_geotiff(&haihe::Grid::new(dem, t, wkt.clone(), None), &d).unwrap();
    haihe::grid::io::write_geotiff(&haihe::Grid::new(depth, t, wkt, None), &h).unwrap();
    let text = format!(
        r#"name = "pond"
duration_h = 0.1
output_interval_h = 0.05

[grid]
dem = "{}"
initial_depth = "{}"
manning_n = 0.04

[boundaries]
north = "closed"
south = "closed"
west = "closed"
east = "closed"
"#,
        d.display(),
        h.display()
    );
    let p = dir.join("pond.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// Under a per-file size limit (`ulimit -f`, 16 × 512 bytes) the first GeoTIFF cannot be
/// written whole: the run fails with the file named and the limit suggested, says
/// nothing of files written, and keeps nothing. Both with SIGXFSZ ignored by the parent
/// (as in the reported case, where GDAL's errors were swallowed and the run said
/// "wrote 14 files") and with the default SIGXFSZ, which haihe catches.
#[test]
fn a_write_past_a_file_size_limit_fails_the_run_naming_the_file() {
    let d = tmp("fsize");
    let sc = noisy_pond(&d);
    // Without a limit the run succeeds and max_depth.tif is larger than the limit.
    let free = d.join("free");
    ok(&haihe(&["flood", s(&sc), "--out", s(&free)]));
    let size = std::fs::metadata(free.join("max_depth.tif")).unwrap().len();
    assert!(size > 16 * 512, "max_depth.tif is only {size} bytes");
    for (k, trap) in ["trap '' XFSZ; ", ""].into_iter().enumerate() {
        let out = d.join(format!("limited-{k}"));
        let o = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "{trap}ulimit -f 16; exec \"$0\" flood \"$1\" --out \"$2\""
            ))
            .arg(env!("CARGO_BIN_EXE_haihe"))
            .arg(&sc)
            .arg(&out)
            .current_dir(root())
            .env("RAYON_NUM_THREADS", "1")
            .output()
            .unwrap();
        let (stdout, err) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        assert_eq!(o.status.code(), Some(1), "{trap}\n{stdout}\n{err}");
        assert!(
            err.contains("max_depth.tif") && err.contains("file-size limit"),
            "{trap}\n{err}"
        );
        assert!(!stdout.contains("wrote"), "{stdout}");
        assert!(!out.join("max_depth.tif").exists());
        assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
    }
}
