//! End-to-end tests of `haihe prepare` on the bundled data: the committed grids are
//! reproduced, the catchment areas match the published ones, and bad input gets one
//! clear message with nothing written.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn haihe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_haihe"));
    c.current_dir(root());
    c
}

/// One full build into a temporary folder, shared by the tests that read it.
fn built() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("prepare-default");
        let _ = std::fs::remove_dir_all(&dir);
        let out = haihe()
            .args(["prepare", "--out"])
            .arg(&dir)
            .output()
            .expect("run haihe");
        assert!(
            out.status.success(),
            "haihe prepare failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
}

fn read_f64(path: &Path) -> haihe::Grid<f64> {
    haihe::grid::io::read_raster(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn rebuild_matches_committed_grids() {
    let dir = built();
    let committed = root().join("rasters/model");
    for name in [
        "dem_source.tif",
        "dem.tif",
        "filled.tif",
        "flow_dir.tif",
        "flow_acc.tif",
        "streams.tif",
        "hand.tif",
        "basins.tif",
        "sea.tif",
        "counties.tif",
        "population.tif",
        "land_cover.tif",
        "groups.tif",
    ] {
        let a = read_f64(&dir.join(name));
        let b = read_f64(&committed.join(name));
        a.check_aligned(&b, name).unwrap();
        let mut differ = 0usize;
        for (x, y) in a.data.iter().zip(b.data.iter()) {
            let same = (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-9 * x.abs().max(1.0);
            if !same {
                differ += 1;
            }
        }
        assert_eq!(differ, 0, "{name}: {differ} cells differ from the committed grid; rerun `haihe prepare` and commit");
    }
}

#[test]
fn catchment_areas_within_15_percent_of_published() {
    // The checks of the issue: 官厅, 密云 (at the 潮河/白河 confluence), 册田 and 张坊.
    let dir = built();
    let text = std::fs::read_to_string(dir.join("catchments.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let col = |n: &str| headers.iter().position(|h| h == n).unwrap();
    let mut seen = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        if &rec[col("checked")] != "true" {
            continue;
        }
        let name = rec[col("name")].to_string();
        let err: f64 = rec[col("error_pct")].parse().unwrap();
        let snap: f64 = rec[col("snap_distance_km")].parse().unwrap();
        assert!(
            err.abs() <= 15.0,
            "{name}: catchment error {err:.1}% exceeds 15%"
        );
        assert!(
            snap <= 4.5,
            "{name}: snapped {snap} km away, more than 3 cells"
        );
        seen += 1;
    }
    assert_eq!(seen, 4, "the four catchment checks of the issue");
}

#[test]
fn flow_directions_drain_every_land_cell() {
    let dir = built();
    let d = haihe::grid::io::read_raster_as::<u8>(&dir.join("flow_dir.tif"), 1).unwrap();
    let acc = read_f64(&dir.join("flow_acc.tif"));
    // Accumulation is at least one cell everywhere there is data, and the largest value
    // cannot exceed the grid's area.
    let cell_km2 = acc.cell_area() / 1e6;
    let total = (acc.rows() * acc.cols()) as f64 * cell_km2;
    let max = acc.data.iter().cloned().fold(0.0, f64::max);
    assert!(max <= total + 1e-6);
    for (a, &k) in acc.data.iter().zip(d.data.iter()) {
        if k != 255 {
            assert!(*a >= cell_km2 - 1e-9);
        }
    }
}

fn expect_failure(args: &[&str], out_dir: &Path, needles: &[&str]) {
    let out = haihe().args(args).output().expect("run haihe");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "expected failure for {args:?}");
    assert!(!stderr.contains("panicked"), "panic for {args:?}: {stderr}");
    for n in needles {
        assert!(
            stderr.contains(n),
            "message for {args:?} should mention {n:?}: {stderr}"
        );
    }
    // Nothing half-written: the output folder holds no grid.
    if out_dir.exists() {
        let left: Vec<_> = std::fs::read_dir(out_dir)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        assert!(
            left.is_empty(),
            "files left in {}: {left:?}",
            out_dir.display()
        );
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn missing_dem_file_is_named() {
    let d = tmp("bad-missing");
    let out = d.join("model");
    expect_failure(
        &[
            "prepare",
            "--dem",
            "no/such/dem.tif",
            "--out",
            out.to_str().unwrap(),
        ],
        &out,
        &["no/such/dem.tif"],
    );
}

#[test]
fn unknown_dem_format_is_refused() {
    let d = tmp("bad-format");
    let f = d.join("dem.xyz");
    std::fs::write(&f, "this is not a raster\n").unwrap();
    let out = d.join("model");
    expect_failure(
        &[
            "prepare",
            "--dem",
            f.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &out,
        &["dem.xyz"],
    );
}

fn write_small_dem(path: &Path, crs: bool, value: f32, lon0: f64, lat0: f64) {
    use gdal::DriverManager;
    let drv = DriverManager::get_driver_by_name("GTiff").unwrap();
    let mut ds = drv
        .create_with_band_type::<f32, _>(path, 60, 60, 1)
        .unwrap();
    ds.set_geo_transform(&[lon0, 0.1, 0.0, lat0, 0.0, -0.1])
        .unwrap();
    if crs {
        ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(4326).unwrap())
            .unwrap();
    }
    let mut band = ds.rasterband(1).unwrap();
    band.set_no_data_value(Some(-9999.0)).unwrap();
    let mut buf = gdal::raster::Buffer::new((60, 60), vec![value; 3600]);
    band.write((0, 0), (60, 60), &mut buf).unwrap();
}

#[test]
fn dem_without_crs_is_refused() {
    let d = tmp("bad-nocrs");
    let f = d.join("nocrs.tif");
    write_small_dem(&f, false, 100.0, 111.0, 43.0);
    let out = d.join("model");
    expect_failure(
        &[
            "prepare",
            "--dem",
            f.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &out,
        &["nocrs.tif", "CRS"],
    );
}

#[test]
fn dem_full_of_nodata_is_refused() {
    let d = tmp("bad-nodata");
    let f = d.join("nodata.tif");
    write_small_dem(&f, true, -9999.0, 111.0, 43.0);
    let out = d.join("model");
    expect_failure(
        &[
            "prepare",
            "--dem",
            f.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &out,
        &["nodata.tif", "without data"],
    );
}

#[test]
fn dem_not_covering_domain_is_refused() {
    let d = tmp("bad-cover");
    let f = d.join("small.tif");
    // 6° x 6° of valid data, but placed west of the domain.
    write_small_dem(&f, true, 100.0, 100.0, 43.0);
    let out = d.join("model");
    expect_failure(
        &[
            "prepare",
            "--dem",
            f.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &out,
        &["small.tif", "cover"],
    );
}

/// Reads a CSV written by `haihe prepare` into header-indexed rows.
fn read_csv(path: &Path) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut rdr =
        csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = rdr.headers().unwrap().clone();
    let rows = rdr.records().map(|r| r.unwrap()).collect();
    (h, rows)
}

#[test]
fn county_rasterisation_conserves_area_within_one_cell_along_edges() {
    let dir = built();
    let codes = haihe::grid::io::read_raster_as::<i32>(&dir.join("counties.tif"), 1).unwrap();
    let (nr, nc) = codes.data.dim();
    // Edge cells of each county: cells with a 4-neighbour of another code.
    let mut edge = std::collections::BTreeMap::<i32, usize>::new();
    let mut touches_grid_edge = std::collections::BTreeSet::<i32>::new();
    for r in 0..nr {
        for c in 0..nc {
            let v = codes.data[[r, c]];
            if v <= 0 {
                continue;
            }
            if r == 0 || c == 0 || r + 1 == nr || c + 1 == nc {
                touches_grid_edge.insert(v);
            }
            let other = [(0isize, 1isize), (1, 0), (0, -1), (-1, 0)]
                .iter()
                .any(|&(dr, dc)| {
                    let (rr, cc) = (r as isize + dr, c as isize + dc);
                    rr < 0
                        || cc < 0
                        || rr as usize >= nr
                        || cc as usize >= nc
                        || codes.data[[rr as usize, cc as usize]] != v
                });
            if other {
                *edge.entry(v).or_insert(0) += 1;
            }
        }
    }
    let (h, rows) = read_csv(&dir.join("counties.csv"));
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let mut checked = 0;
    for row in &rows {
        let code: i32 = row[col("adcode")].parse().unwrap();
        if touches_grid_edge.contains(&code) {
            continue; // cut by the domain edge: only part of it is on the grid
        }
        let cells: f64 = row[col("area_km2")].parse().unwrap();
        let poly: f64 = row[col("polygon_area_km2")].parse().unwrap();
        let tol = edge[&code] as f64 + 1.0;
        assert!(
            (cells - poly).abs() <= tol,
            "{} ({code}): {cells} km² of cells against {poly:.1} km² of polygon, tolerance {tol}",
            &row[col("name")]
        );
        checked += 1;
    }
    assert!(
        checked > 150,
        "only {checked} counties lie wholly inside the grid"
    );
}

#[test]
fn groups_conserve_population_and_area_of_their_counties() {
    let dir = built();
    let (ch, counties) = read_csv(&dir.join("counties.csv"));
    let cc = |n: &str| ch.iter().position(|x| x == n).unwrap();
    let mut county = std::collections::BTreeMap::new();
    for r in &counties {
        let pop: f64 = r[cc("population_2020")].parse().unwrap_or(f64::NAN);
        let area: f64 = r[cc("area_km2")].parse().unwrap();
        county.insert(r[cc("adcode")].to_string(), (pop, area));
    }
    let (gh, groups) = read_csv(&dir.join("groups.csv"));
    let gc = |n: &str| gh.iter().position(|x| x == n).unwrap();
    let mut named = 0;
    for g in &groups {
        let names = &g[gc("county_names")];
        if names.contains('≥') || names.contains('<') {
            continue; // an elevation rule takes part of a county
        }
        let (mut pop, mut area) = (0.0, 0.0);
        for code in g[gc("counties")].split(';') {
            let (p, a) = county.get(code).unwrap_or_else(|| {
                panic!(
                    "group {} names county {code} not in counties.csv",
                    &g[gc("id")]
                )
            });
            pop += p;
            area += a;
        }
        let gp: f64 = g[gc("population")].parse().unwrap();
        let ga: f64 = g[gc("area_km2")].parse().unwrap();
        assert!(
            (ga - area).abs() < 1e-6,
            "group {}: area {ga} against {area}",
            &g[gc("id")]
        );
        let missing: usize = g[gc("population_missing_cells")].parse().unwrap();
        if missing > 0 {
            // A county without a census row: no total to conserve.
            assert!(
                pop.is_nan(),
                "group {}: missing cells but a census total",
                &g[gc("id")]
            );
        } else {
            assert!(
                (gp - pop).abs() <= 1e-6 * pop.max(1.0),
                "group {}: population {gp} against census {pop}",
                &g[gc("id")]
            );
        }
        if g[gc("kind")].to_string() != "county" {
            named += 1;
        }
    }
    assert!(named >= 10, "named groups checked: {named}");
    // 北京中心城区: the six districts. 2020 census total, summed by hand
    // from the census table: 708,829 + 1,106,214 + 3,452,460 + 2,019,764 + 3,133,469 + 567,851.
    let core = groups
        .iter()
        .find(|g| &g[gc("id")] == "beijing-central-city")
        .unwrap();
    let p: f64 = core[gc("population")].parse().unwrap();
    assert_eq!(
        p.round(),
        (708829.0f64 + 1106214.0 + 3452460.0 + 2019764.0 + 3133469.0 + 567851.0)
    );
}

#[test]
fn coarser_resolution_builds() {
    let d = tmp("res2000");
    let out = haihe()
        .args(["prepare", "--resolution", "2000", "--out"])
        .arg(&d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = read_f64(&d.join("flow_acc.tif"));
    let b = read_f64(&built().join("flow_acc.tif"));
    assert_eq!(a.cell_size(), 2000.0);
    assert!((a.rows() as i64 - (b.rows() as i64 + 1) / 2).abs() <= 1);
}

#[test]
fn broken_configuration_names_file_and_line() {
    let d = tmp("bad-config");
    let cfg = d.join("prepare.toml");
    let text = std::fs::read_to_string(root().join("models/prepare.toml"))
        .unwrap()
        .replace("cell_m = 1000.0", "cell_m = 1000.0\ncel_size = 5");
    std::fs::write(&cfg, text).unwrap();
    let out = d.join("model");
    expect_failure(
        &[
            "prepare",
            "--config",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &out,
        &["prepare.toml", "cel_size", "line"],
    );
}

#[test]
fn user_polygon_layer_becomes_groups() {
    // A config whose group list adds a user layer: two squares around 北京 and 天津.
    let d = tmp("user-groups");
    let layer = d.join("zones.geojson");
    std::fs::write(
        &layer,
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"zid":"bj","zname":"Beijing box"},"geometry":{"type":"Polygon","coordinates":[[[116.2,39.8],[116.6,39.8],[116.6,40.1],[116.2,40.1],[116.2,39.8]]]}},
{"type":"Feature","properties":{"zid":"tj","zname":"Tianjin box"},"geometry":{"type":"Polygon","coordinates":[[[117.0,39.0],[117.4,39.0],[117.4,39.2],[117.0,39.2],[117.0,39.0]]]}}]}"#,
    )
    .unwrap();
    let groups = d.join("user.toml");
    std::fs::write(
        &groups,
        format!(
            "[[user_layer]]\npath = \"{}\"\nid_field = \"zid\"\nname_field = \"zname\"\n",
            layer.display()
        ),
    )
    .unwrap();
    // The configuration's paths are relative to the project root: make them absolute so
    // that the copy can live in the test's own folder.
    let r = root();
    let text = std::fs::read_to_string(r.join("models/prepare.toml"))
        .unwrap()
        .replace("\"rasters/", &format!("\"{}/rasters/", r.display()))
        .replace("\"models/", &format!("\"{}/models/", r.display()))
        .replace(
            &format!("\"{}/models/groups/capital_plan.toml\"]", r.display()),
            &format!(
                "\"{}/models/groups/capital_plan.toml\", \"{}\"]",
                r.display(),
                groups.display()
            ),
        );
    let cfg_dir = d.join("project").join("models");
    std::fs::create_dir_all(&cfg_dir).unwrap();
    let cfg = cfg_dir.join("prepare.toml");
    std::fs::write(&cfg, text).unwrap();
    let out_dir = d.join("model");
    let out = haihe()
        .args(["prepare", "--config"])
        .arg(&cfg)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (h, rows) = read_csv(&out_dir.join("groups.csv"));
    let col = |n: &str| h.iter().position(|x| x == n).unwrap();
    let bj = rows
        .iter()
        .find(|r| &r[col("id")] == "bj")
        .expect("user group bj");
    let cells: f64 = bj[col("cells")].parse().unwrap();
    // 0.4° × 0.3° at 40° N ≈ 34 km × 33 km ≈ 1130 km².
    assert!(
        (cells - 1130.0).abs() < 80.0,
        "Beijing box has {cells} cells"
    );
    let pop: f64 = bj[col("population")].parse().unwrap();
    assert!(pop > 5.0e6, "central Beijing box holds {pop} people");
    assert!(rows.iter().any(|r| &r[col("id")] == "tj"));
}
