//! `haihe flood` end to end on a small scenario with its own DEM: outputs, mass balance,
//! determinism across thread counts, and bad input refused with nothing written.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A 20 × 40 valley of 100 m cells in EPSG:32650: a plane falling 1 m/km to the east
/// with a V across it, so the water gathers in the middle row.
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

fn scenario(dir: &Path, extra: &str) -> PathBuf {
    let dem = dir.join("valley.tif");
    write_valley(&dem);
    let text = format!(
        r#"name = "valley test"
duration_h = 3.0
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
depth_mm = [10.0, 20.0, 0.0]

[[inflow]]
name = "upstream"
x = 400050.0
y = 4399050.0
crs = "grid"
times_h = [0.0, 1.0, 2.0]
discharge_m3s = [0.0, 20.0, 0.0]

[[gauge]]
name = "outlet"
x = 403850.0
y = 4399050.0
crs = "grid"
{extra}
"#,
        dem.display()
    );
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn run(scenario: &Path, out: &Path, threads: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_haihe"))
        .current_dir(root())
        .env("RAYON_NUM_THREADS", threads)
        .args(["flood"])
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn valley_run_writes_every_output_and_closes_its_mass_balance() {
    let d = tmp("flood-valley");
    let s = scenario(&d, "");
    let out = d.join("out");
    let o = run(&s, &out, "2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "max_depth.tif",
        "max_velocity.tif",
        "arrival_time.tif",
        "duration_over_0p5m.tif",
        "depth.nc",
        "hydrographs.csv",
        "mass_balance.csv",
        "run.json",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let err = run["relative_mass_error"].as_f64().unwrap();
    assert!(err.abs() < 1e-6, "relative mass-balance error {err}");
    // Inputs with hashes: the scenario file and the DEM it names.
    let inputs = run["inputs"].as_array().unwrap();
    for name in [".toml", ".tif"] {
        assert!(
            inputs
                .iter()
                .any(|i| i[0].as_str().unwrap().ends_with(name)
                    && i[1].as_str().unwrap().len() == 16),
            "no {name} input in {inputs:?}"
        );
    }
    // Rain: 30 mm on 20 × 40 cells of 1 ha = 240,000 m³; inflow: a triangle of
    // 20 m³/s over 2 h = 72,000 m³ (sampled every minute at mid-interval: exact).
    let rain = run["rain_m3"].as_f64().unwrap();
    assert!((rain - 240_000.0).abs() < 1.0, "rain {rain}");
    let inflow = run["inflow_m3"].as_f64().unwrap();
    assert!((inflow - 72_000.0).abs() < 1.0, "inflow {inflow}");
    // Water reaches the outlet gauge.
    let peaks = run["gauge_peaks"].as_array().unwrap();
    assert!(
        peaks[0][1].as_f64().unwrap() > 1.0,
        "outlet peak {:?}",
        peaks[0]
    );
    // The depth series opens as CF netCDF with the 7 output times (0, 0.5, … 3 h).
    let cf = haihe::grid::cf::read_cf(&out.join("depth.nc"), "depth").unwrap();
    assert_eq!(cf.times.len(), 7);
}

#[test]
fn one_and_two_threads_give_identical_maps() {
    let d = tmp("flood-threads");
    let s = scenario(&d, "");
    let (a, b) = (d.join("one"), d.join("two"));
    assert!(run(&s, &a, "1").status.success());
    assert!(run(&s, &b, "2").status.success());
    for f in ["max_depth.tif", "arrival_time.tif", "max_velocity.tif"] {
        let ga = haihe::grid::io::read_raster(&a.join(f)).unwrap();
        let gb = haihe::grid::io::read_raster(&b.join(f)).unwrap();
        let same = ga
            .data
            .iter()
            .zip(gb.data.iter())
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()));
        assert!(same, "{f} differs between 1 and 2 threads");
    }
    assert_eq!(
        std::fs::read_to_string(a.join("hydrographs.csv")).unwrap(),
        std::fs::read_to_string(b.join("hydrographs.csv")).unwrap()
    );
}

fn expect_refused(name: &str, edit: impl Fn(String) -> String, needles: &[&str]) {
    let d = tmp(name);
    let s = scenario(&d, "");
    let text = edit(std::fs::read_to_string(&s).unwrap());
    std::fs::write(&s, text).unwrap();
    let out = d.join("out");
    let o = run(&s, &out, "2");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{name}: expected a refusal");
    assert!(!err.contains("panicked"), "{name}: {err}");
    for n in needles {
        assert!(
            err.contains(n),
            "{name}: message should mention {n:?}: {err}"
        );
    }
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{name}: files left behind: {left:?}");
}

#[test]
fn gauge_outside_the_domain_is_refused() {
    expect_refused(
        "bad-gauge",
        |t| t.replace("x = 403850.0", "x = 503850.0"),
        &["scenario.toml", "gauge[0]", "outside"],
    );
}

#[test]
fn unsorted_hydrograph_times_are_refused() {
    expect_refused(
        "bad-times",
        |t| t.replace("times_h = [0.0, 1.0, 2.0]", "times_h = [0.0, 2.0, 1.0]"),
        &["scenario.toml", "inflow[0].times_h"],
    );
}

#[test]
fn negative_rain_is_refused() {
    expect_refused(
        "bad-rain",
        |t| {
            t.replace(
                "depth_mm = [10.0, 20.0, 0.0]",
                "depth_mm = [10.0, -20.0, 0.0]",
            )
        },
        &["scenario.toml", "rain", "-20"],
    );
}

#[test]
fn misspelt_key_is_refused_with_its_line() {
    expect_refused(
        "bad-key",
        |t| t.replace("output_interval_h", "output_intervall_h"),
        &["scenario.toml", "output_intervall_h", "line"],
    );
}

#[test]
fn missing_dem_is_named() {
    expect_refused(
        "bad-dem",
        |t| t.replace("valley.tif", "no-such-valley.tif"),
        &["no-such-valley.tif"],
    );
}

#[test]
fn every_shipped_scenario_loads_and_builds_its_rain() {
    let dir = root().join("models/scenarios");
    let design =
        haihe::flood::rain::load_design_rain(&root().join("models/design_rain.toml")).unwrap();
    let grid = haihe::grid::io::read_raster(&root().join("rasters/model/dem_source.tif")).unwrap();
    let spec = haihe::grid::warp::GridSpec::of(&grid);
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let quake = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("quake-"));
        if p.extension().is_some_and(|x| x == "toml") && !quake {
            let s =
                haihe::scenario::flood::load_flood_scenario(&p).unwrap_or_else(|e| panic!("{e}"));
            if let Some(r) = &s.rain {
                let f = haihe::flood::rain::rain_field(r, &spec, Some(&design))
                    .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                assert!(f.n_steps >= 24, "{}: {} rain steps", p.display(), f.n_steps);
            }
            n += 1;
        }
    }
    assert!(
        n >= 12,
        "design storms of 10, 50, 100 and 500 years for the three systems: {n} found"
    );
}

#[test]
fn an_ensemble_writes_its_members_with_reproducible_draws() {
    let d = tmp("flood-ensemble");
    let s = scenario(&d, "");
    let out = d.join("ens");
    let o = Command::new(env!("CARGO_BIN_EXE_haihe"))
        .current_dir(root())
        .args(["flood"])
        .arg(&s)
        .arg("--out")
        .arg(&out)
        .args(["--ensemble", "3", "--seed", "7"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for k in 1..=3 {
        let m = out.join(format!("member-{k:03}"));
        for f in ["max_depth.tif", "hydrographs.csv", "run.json"] {
            assert!(m.join(f).exists(), "{}/{f} missing", m.display());
        }
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("ensemble.json")).unwrap()).unwrap();
    let draws = j["draws"].as_array().unwrap();
    assert_eq!(draws.len(), 3);
    // Draws lie in the stated ranges, and member k's draw does not depend on the size of
    // the ensemble.
    let five = haihe::scenario::flood::ensemble_draws(5, 7);
    for (k, dj) in draws.iter().enumerate() {
        let f = dj["manning_factor"].as_f64().unwrap();
        let c = dj["cn_shift"].as_f64().unwrap();
        assert!((0.7..=1.3).contains(&f) && (-5.0..=5.0).contains(&c));
        assert_eq!(f, five[k].manning_factor);
        assert_eq!(c, five[k].cn_shift);
    }
    // Rougher members pass a lower, later peak: the outlet peaks differ between members.
    let peaks: Vec<f64> = j["gauge_peaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[0][1].as_f64().unwrap())
        .collect();
    assert!(
        peaks.windows(2).any(|w| (w[0] - w[1]).abs() > 1e-6),
        "{peaks:?}"
    );
}

/// A run to recession goes on after its `duration_h` until the outlet has peaked and
/// fallen to half its peak, and stops there, long before its longest duration; the peak
/// is then a peak (reached), not the last record.
#[test]
fn a_run_to_recession_stops_once_the_flood_has_passed() {
    let d = tmp("flood-recession");
    let s = scenario(&d, "\n[recession]\nshare = 0.5\nmax_duration_h = 24.0\n");
    let text = std::fs::read_to_string(&s)
        .unwrap()
        .replace("duration_h = 3.0", "duration_h = 0.5");
    std::fs::write(&s, text).unwrap();
    let out = d.join("out");
    let o = run(&s, &out, "2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let t = r["simulated_h"].as_f64().unwrap();
    assert!(t > 2.0 && t < 24.0, "stopped at {t} h");
    let peak = &r["gauge_peaks"][0];
    assert_eq!(peak[3], serde_json::Value::Bool(true), "{peak}");
    let q = peak[1].as_f64().unwrap();
    // The last recorded discharge at the outlet is at most half the peak.
    let h = std::fs::read_to_string(out.join("hydrographs.csv")).unwrap();
    let last: f64 = h
        .lines()
        .last()
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(last <= 0.5 * q + 1e-9, "last {last} against peak {q}");
    // Without [recession] the same scenario stops at its 0.5 h.
    let text = std::fs::read_to_string(&s)
        .unwrap()
        .replace("[recession]\nshare = 0.5\nmax_duration_h = 24.0\n", "");
    std::fs::write(&s, text).unwrap();
    let out2 = d.join("out2");
    assert!(run(&s, &out2, "2").status.success());
    let r2: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out2.join("run.json")).unwrap()).unwrap();
    assert!((r2["simulated_h"].as_f64().unwrap() - 0.5).abs() < 1e-9);
}

#[test]
fn bad_recession_settings_are_refused_naming_the_field() {
    for (extra, field) in [
        ("\n[recession]\nshare = 1.5\n", "recession.share"),
        ("\n[recession]\nshare = 0.0\n", "recession.share"),
        (
            "\n[recession]\nmax_duration_h = 2.0\n",
            "recession.max_duration_h",
        ),
    ] {
        let d = tmp("flood-recession-bad");
        let s = scenario(&d, extra);
        let out = d.join("out");
        let o = run(&s, &out, "1");
        assert!(!o.status.success(), "{extra} was accepted");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(field), "{extra}: {e}");
        assert!(
            !out.join("run.json").exists(),
            "nothing written for {extra}"
        );
    }
}
