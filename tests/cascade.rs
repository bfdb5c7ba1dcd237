//! Releases travel down their own river (issue: cascades that conserve and deliver), on
//! the regional grids: with no rain and a reservoir above its flood-limit level, the
//! release enters the cell below the dam and arrives at the gauges downstream; no other
//! reservoir's pool takes it. On the earlier bed, 怀柔's pool (525 km² of catchment)
//! sat in a 1,454 km² filled flat of the 潮白河 plain and took 密云's release, and
//! 官厅's release flowed back into its own pool.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `scenario` (TOML text) on the regional grids; returns the run folder.
fn run(name: &str, scenario: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{name}.toml"));
    std::fs::write(&file, scenario).unwrap();
    let out = dir.path().join("out");
    haihe::scenario::flood::run_flood(&file, &root(), &out).unwrap();
    dir
}

/// Column `name` of a CSV file as numbers.
fn column(path: &Path, name: &str) -> Vec<f64> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let i = r
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("{} has no column {name}", path.display()));
    r.records()
        .map(|x| x.unwrap()[i].parse().unwrap())
        .collect()
}

/// Volume of a rate series recorded every hour (records after t = 0), m³.
fn hourly_volume(q: &[f64]) -> f64 {
    q[1..].iter().sum::<f64>() * 3600.0
}

#[test]
fn miyun_release_reaches_the_river_below_and_never_huairou() {
    let d = run(
        "miyun",
        r#"name = "密云 release, no rain"
duration_h = 6.0
output_interval_h = 1.0
start_time = "2000-07-01 00:00:00"
[routing]
dt_max_s = 120.0
[[gauge]]
name = "below 密云"
x = 116.8123
y = 40.3485
snap_radius_cells = 4
area_km2 = 15788.0
[structures]
reservoirs = ["密云", "怀柔"]
detention_basins = []
diversions = []
[[structures.initial_level]]
reservoir = "密云"
level_m = 149.0
[grid.channels]
enabled = true
"#,
    );
    let out = d.path().join("out");
    let released = hourly_volume(&column(&out.join("structures.csv"), "密云 release_m3s"));
    let passed = hourly_volume(&column(
        &out.join("hydrographs.csv"),
        "below 密云 discharge_m3s",
    ));
    let huairou = hourly_volume(&column(&out.join("structures.csv"), "怀柔 inflow_m3s"));
    assert!(released > 3e7, "密云 releases: {released:.3e} m³");
    assert!(
        passed >= 0.9 * released,
        "at least 90 % of the release passes the gauge below the dam: {passed:.3e} of {released:.3e} m³"
    );
    assert!(
        huairou < 1e-6 * released,
        "怀柔's pool takes none of it: {huairou:.3e} m³"
    );
}

#[test]
fn guanting_release_arrives_at_lugouqiao_and_does_not_return_to_its_pool() {
    let d = run(
        "guanting",
        r#"name = "官厅 release, no rain"
duration_h = 24.0
output_interval_h = 1.0
start_time = "2000-07-01 00:00:00"
[routing]
dt_max_s = 120.0
[[gauge]]
name = "卢沟桥"
x = 116.213
y = 39.850
snap_radius_cells = 3
area_km2 = 45116.0
[structures]
reservoirs = ["官厅"]
detention_basins = []
diversions = []
[[structures.initial_level]]
reservoir = "官厅"
level_m = 478.0
[grid.channels]
enabled = true
"#,
    );
    let out = d.path().join("out");
    let s = out.join("structures.csv");
    let inflow = hourly_volume(&column(&s, "官厅 inflow_m3s"));
    let release = column(&s, "官厅 release_m3s");
    assert!(
        inflow < 1e-6 * hourly_volume(&release),
        "no released water flows back into 官厅's pool: {inflow:.3e} m³"
    );
    let q = column(&out.join("hydrographs.csv"), "卢沟桥 discharge_m3s");
    let last = *q.last().unwrap();
    assert!(
        last > 0.4 * release.last().unwrap(),
        "the release arrives at 卢沟桥 within the day: {last:.0} m³/s against a release of {:.0}",
        release.last().unwrap()
    );
}
