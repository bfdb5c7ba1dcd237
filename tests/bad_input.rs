//! Inputs of the right type that mean nothing, refused with a message that names the
//! file, the field and the fix, with no panic and nothing written: grids in degrees or
//! without ground, values beyond the physical bounds of `haihe::bounds`, impossible
//! dates, runs that cannot fit in memory, rasters that are not what their name says,
//! swapped coordinates.
//!
//! Small grids only; the regional model grids are read (not run) by one case.

use haihe::grid::io::{epsg_wkt, read_raster, write_geotiff};
use haihe::{GeoTransform, Grid};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("bad_input")
        .join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A 10 × 20 valley of 100 m cells in EPSG:32650 falling to the east, with `edit`
/// applied to the elevations.
fn valley(path: &Path, wkt: &str, t: GeoTransform, edit: impl Fn(&mut ndarray::Array2<f32>)) {
    let (nr, nc) = (10usize, 20usize);
    let mut a = ndarray::Array2::from_shape_fn((nr, nc), |(r, c)| {
        (50.0 - 0.1 * c as f64 + (r as f64 - 4.5).abs() * 0.5) as f32
    });
    edit(&mut a);
    write_geotiff(&Grid::new(a, t, wkt.to_string(), None), path).unwrap();
}

fn utm() -> (String, GeoTransform) {
    (
        epsg_wkt(32650).unwrap(),
        GeoTransform {
            x0: 400000.0,
            dx: 100.0,
            y0: 4400000.0,
            dy: -100.0,
        },
    )
}

/// A scenario on `dem` with a gauge at the outlet; `extra` is appended.
fn scenario_on(dir: &Path, dem: &Path, head: &str, extra: &str) -> PathBuf {
    let text = format!(
        r#"name = "bad input"
{head}

[grid]
dem = "{}"
manning_n = 0.04

[rain]
kind = "uniform"
step_s = 1800.0
depth_mm = [10.0, 20.0, 0.0]

[[gauge]]
name = "outlet"
x = 401850.0
y = 4399550.0
crs = "grid"
{extra}
"#,
        dem.display()
    );
    let p = dir.join("scenario.toml");
    std::fs::write(&p, text).unwrap();
    p
}

const RUN: &str = "duration_h = 1.0\noutput_interval_h = 0.5";

/// A scenario on the UTM valley; `edit` changes the elevations.
fn valley_scenario(
    dir: &Path,
    head: &str,
    extra: &str,
    edit: impl Fn(&mut ndarray::Array2<f32>),
) -> PathBuf {
    let dem = dir.join("valley.tif");
    let (wkt, t) = utm();
    valley(&dem, &wkt, t, edit);
    scenario_on(dir, &dem, head, extra)
}

fn flood(scenario: &Path, out: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_haihe"))
        .current_dir(root())
        .env("RAYON_NUM_THREADS", "1")
        .arg("flood")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// Runs `haihe flood` and expects a refusal: non-zero exit, no panic, every needle in
/// the message, nothing written.
fn refused(scenario: &Path, needles: &[&str]) -> String {
    let out = scenario.parent().unwrap().join("out");
    let o = flood(scenario, &out);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success(), "expected a refusal: {err}");
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "the message should say {n:?}: {err}");
    }
    let left: Vec<_> = std::fs::read_dir(&out)
        .map(|r| r.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "files left behind: {left:?}");
    err
}

/// Loads a scenario and returns the error message.
fn load_error(scenario: &Path) -> String {
    haihe::scenario::flood::load_flood_scenario(scenario)
        .map(|_| ())
        .expect_err("expected the scenario to be refused")
        .to_string()
}

fn assert_says(msg: &str, needles: &[&str]) {
    for n in needles {
        assert!(msg.contains(n), "the message should say {n:?}: {msg}");
    }
}

// ---- grids ------------------------------------------------------------------------

#[test]
fn a_dem_in_degrees_is_refused_with_its_crs_and_the_reprojection() {
    let d = tmp("dem-degrees");
    let dem = d.join("dem_lonlat.tif");
    let t = GeoTransform {
        x0: 116.0,
        dx: 0.001,
        y0: 40.0,
        dy: -0.001,
    };
    valley(&dem, &epsg_wkt(4326).unwrap(), t, |_| {});
    let s = scenario_on(&d, &dem, RUN, "");
    refused(
        &s,
        &[
            "dem_lonlat.tif",
            "crs",
            "EPSG:4326",
            "degrees",
            "projected CRS in metres",
            "gdalwarp -t_srs EPSG:32650",
        ],
    );
}

#[test]
fn a_dem_without_crs_is_refused_with_a_projected_crs_to_assign() {
    let d = tmp("dem-no-crs");
    let dem = d.join("dem_nocrs.tif");
    let (_, t) = utm();
    valley(&dem, "", t, |_| {});
    let s = scenario_on(&d, &dem, RUN, "");
    refused(
        &s,
        &[
            "dem_nocrs.tif",
            "no CRS",
            "EPSG:32650",
            "projected CRS in metres",
        ],
    );
}

#[test]
fn an_all_nodata_dem_is_refused() {
    let d = tmp("dem-all-nan");
    let s = valley_scenario(&d, RUN, "", |a| a.fill(f32::NAN));
    refused(
        &s,
        &["valley.tif", "elevation", "all 200 cells are no-data"],
    );
}

#[test]
fn an_infinite_elevation_is_refused_with_its_count_and_first_cell() {
    let d = tmp("dem-inf");
    let s = valley_scenario(&d, RUN, "", |a| {
        a[[3, 7]] = f32::INFINITY;
        a[[5, 2]] = f32::NEG_INFINITY;
    });
    refused(
        &s,
        &[
            "valley.tif",
            "elevation",
            "2 cells",
            "row 3, col 7",
            "no-data",
        ],
    );
}

#[test]
fn nodata_cells_inside_a_dem_stay_outside_the_domain_and_the_run_says_so() {
    let d = tmp("dem-some-nan");
    let s = valley_scenario(&d, RUN, "", |a| {
        a[[0, 0]] = f32::NAN;
        a[[9, 19]] = f32::NAN;
    });
    let out = d.join("out");
    let o = flood(&s, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = std::fs::read_to_string(out.join("run.json")).unwrap();
    assert!(
        run.contains("dem: 2 no-data cells") && run.contains("outside the domain"),
        "run.json should note the no-data cells: {run}"
    );
}

#[test]
fn a_png_named_tif_names_the_format_gdal_found() {
    let d = tmp("png-as-tif");
    let p = d.join("picture.tif");
    {
        let f = std::fs::File::create(&p).unwrap();
        let mut enc = png::Encoder::new(std::io::BufWriter::new(f), 4, 4);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        enc.write_header()
            .unwrap()
            .write_image_data(&[7u8; 16])
            .unwrap();
    }
    let msg = read_raster(&p).unwrap_err().to_string();
    assert_says(&msg, &["picture.tif", "is a PNG file", "not a GeoTIFF"]);
    assert!(!msg.contains("no CRS"), "{msg}");
}

/// A GeoTIFF whose header declares 200,000 × 200,000 cells (tiled and sparse, so the
/// file itself is small).
fn huge_geotiff(path: &Path) {
    use gdal::raster::RasterCreationOptions;
    let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let mut o = RasterCreationOptions::new();
    for (k, v) in [
        ("TILED", "YES"),
        ("BLOCKXSIZE", "4096"),
        ("BLOCKYSIZE", "4096"),
        ("SPARSE_OK", "TRUE"),
        ("COMPRESS", "DEFLATE"),
        ("BIGTIFF", "YES"),
    ] {
        o.set_name_value(k, v).unwrap();
    }
    let mut ds = driver
        .create_with_band_type_with_options::<u8, _>(path, 200_000, 200_000, 1, &o)
        .unwrap();
    ds.set_geo_transform(&[400000.0, 1.0, 0.0, 4400000.0, 0.0, -1.0])
        .unwrap();
    ds.set_projection(&epsg_wkt(32650).unwrap()).unwrap();
    ds.close().unwrap();
}

#[test]
fn a_raster_declaring_200000_by_200000_cells_is_refused_before_reading() {
    let d = tmp("huge-header");
    let p = d.join("huge.tif");
    huge_geotiff(&p);
    let msg = read_raster(&p).unwrap_err().to_string();
    assert_says(
        &msg,
        &["huge.tif", "200000 x 200000", "available", "gdalwarp"],
    );
    // A flood on it is refused by the memory estimate, before the DEM is read.
    let s = scenario_on(&d, &p, RUN, "");
    refused(
        &s,
        &["scenario.toml", "huge.tif", "available", "coarser grid"],
    );
}

#[test]
fn a_run_whose_snapshots_outgrow_memory_is_refused_with_the_setting_to_change() {
    let d = tmp("snapshots-memory");
    let p = d.join("big.tif");
    let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let mut o = gdal::raster::RasterCreationOptions::new();
    for (k, v) in [
        ("TILED", "YES"),
        ("SPARSE_OK", "TRUE"),
        ("COMPRESS", "DEFLATE"),
    ] {
        o.set_name_value(k, v).unwrap();
    }
    let mut ds = driver
        .create_with_band_type_with_options::<f32, _>(&p, 2000, 2000, 1, &o)
        .unwrap();
    ds.set_geo_transform(&[400000.0, 100.0, 0.0, 4400000.0, 0.0, -100.0])
        .unwrap();
    ds.set_projection(&epsg_wkt(32650).unwrap()).unwrap();
    ds.close().unwrap();
    // A year with a snapshot every minute: 525,602 snapshots of 4 million cells.
    let s = scenario_on(
        &d,
        &p,
        "duration_h = 8760.0\noutput_interval_h = 0.0166666666666667",
        "",
    );
    refused(
        &s,
        &[
            "scenario.toml",
            "output_interval_h",
            "2000 x 2000",
            "available",
            "TB",
        ],
    );
}

// ---- physical bounds ----------------------------------------------------------------

#[test]
fn durations_beyond_a_year_or_not_finite_are_refused() {
    let d = tmp("duration");
    for (v, shown) in [
        ("inf", "inf h"),
        ("1e12", "1000000000000 h"),
        ("-3.0", "-3 h"),
    ] {
        let s = valley_scenario(
            &d,
            &format!("duration_h = {v}\noutput_interval_h = 0.5"),
            "",
            |_| {},
        );
        let msg = load_error(&s);
        assert_says(&msg, &["scenario.toml", "duration_h", shown, "8760 h"]);
    }
    let s = valley_scenario(&d, RUN, "[recession]\nmax_duration_h = 1e9\n", |_| {});
    assert_says(&load_error(&s), &["recession.max_duration_h", "8760 h"]);
}

#[test]
fn output_intervals_below_a_minute_or_beyond_the_run_are_refused() {
    let d = tmp("interval");
    let s = valley_scenario(&d, "duration_h = 1.0\noutput_interval_h = 1e-9", "", |_| {});
    let msg = refused(&s, &["scenario.toml", "output_interval_h", "60 s"]);
    assert!(
        msg.contains("1e-9 h") || msg.contains("0.000000001 h"),
        "{msg}"
    );
    let s = valley_scenario(&d, "duration_h = 1.0\noutput_interval_h = 2.0", "", |_| {});
    assert_says(
        &load_error(&s),
        &["output_interval_h", "at most duration_h (1 h)"],
    );
}

/// A copy of a shipped regional scenario with `from` replaced by `to`.
fn shipped_with(name: &str, dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("models/scenarios").join(name)).unwrap();
    assert!(text.contains(from), "{name} should hold {from:?}");
    let p = dir.join(name);
    std::fs::write(&p, text.replacen(from, to, 1)).unwrap();
    p
}

#[test]
fn a_return_period_beyond_the_bounds_is_refused() {
    let d = tmp("return-period");
    let s = shipped_with(
        "yongding_10yr_24h.toml",
        &d,
        "return_period_yr = 10.0",
        "return_period_yr = 1e6",
    );
    assert_says(
        &load_error(&s),
        &[
            "yongding_10yr_24h.toml",
            "rain.return_period_yr",
            "1000000 yr",
            "100000",
        ],
    );
}

#[test]
fn snap_radii_beyond_twelve_cells_are_refused() {
    let d = tmp("snap-radius");
    let s = valley_scenario(&d, RUN, "snap_radius_cells = 100000000", |_| {});
    assert_says(
        &load_error(&s),
        &[
            "gauge[0] (outlet).snap_radius_cells",
            "100000000 cells",
            "at most 12",
        ],
    );
    let s = valley_scenario(&d, RUN, "[structures]\nsnap_radius_cells = 13", |_| {});
    assert_says(
        &load_error(&s),
        &["structures.snap_radius_cells", "13 cells", "at most 12"],
    );
}

#[test]
fn rain_on_a_system_that_basins_tif_lacks_is_refused() {
    let d = tmp("rain-on-basins");
    let s = shipped_with(
        "yongding_10yr_24h.toml",
        &d,
        "rain_on_basins = [2]",
        "rain_on_basins = [9]",
    );
    refused(
        &s,
        &[
            "yongding_10yr_24h.toml",
            "grid.rain_on_basins",
            "[9]",
            "basins.tif",
            "1, 2, 3, 4",
        ],
    );
}

#[test]
fn an_event_no_structure_file_lists_is_refused_with_the_known_events() {
    let d = tmp("event");
    let s = valley_scenario(&d, RUN, "[structures]\nevent = \"1999-13\"", |_| {});
    refused(
        &s,
        &[
            "scenario.toml",
            "structures.event",
            "1999-13",
            "2023-07",
            "detention_basins.toml",
        ],
    );
}

// ---- dates --------------------------------------------------------------------------

#[test]
fn thirty_february_is_refused_as_start_time_and_gate_time() {
    let d = tmp("dates");
    let s = valley_scenario(
        &d,
        &format!("{RUN}\nstart_time = \"2023-02-30 00:00:00\""),
        "",
        |_| {},
    );
    assert_says(
        &load_error(&s),
        &["scenario.toml", "start_time", "February 2023 has 28 days"],
    );
    let s = valley_scenario(
        &d,
        RUN,
        "[structures]\n[[structures.open]]\nbasin = \"小清河\"\ntime = \"2023-02-30T10:00\"",
        |_| {},
    );
    assert_says(
        &load_error(&s),
        &["structures.open[0].time", "February 2023 has 28 days"],
    );
    assert_eq!(
        haihe::flood::structures::beijing_time_s("2023-02-30T10:00"),
        None
    );
}

#[test]
fn an_impossible_storm_date_names_the_month_length() {
    let d = tmp("storm-date");
    let text = std::fs::read_to_string(root().join("models/storms/2023-07-doksuri.toml")).unwrap();
    let from = "start = \"2023-07-29 20:00\"";
    assert!(text.contains(from));
    let p = d.join("storm.toml");
    std::fs::write(&p, text.replacen(from, "start = \"2023-06-31 20:00\"", 1)).unwrap();
    let msg = match haihe::validation::storm::load_storm(&p) {
        Ok(_) => panic!("expected 31 June to be refused"),
        Err(e) => e.to_string(),
    };
    assert_says(
        &msg,
        &["storm.toml", "window.start", "June 2023 has 30 days"],
    );
}

// ---- coordinates --------------------------------------------------------------------

#[test]
fn swapped_lon_lat_of_a_gauge_names_the_file_and_field() {
    let d = tmp("swapped-gauge");
    let s = valley_scenario(&d, RUN, "", |_| {});
    let text = std::fs::read_to_string(&s).unwrap().replace(
        "x = 401850.0\ny = 4399550.0\ncrs = \"grid\"",
        "x = 39.74\ny = 116.02",
    );
    std::fs::write(&s, text).unwrap();
    let msg = refused(
        &s,
        &[
            "scenario.toml",
            "gauge[0] (outlet).x, .y",
            "swapped",
            "longitude",
        ],
    );
    assert!(!msg.contains("cannot transform 1 points"), "{msg}");
}

#[test]
fn swapped_lon_lat_of_a_structure_names_the_file_and_field() {
    let d = tmp("swapped-structure");
    let text = std::fs::read_to_string(root().join("models/structures/reservoirs.toml")).unwrap();
    let from = "location = { lon = 115.608, lat = 40.225";
    assert!(text.contains(from));
    let p = d.join("reservoirs.toml");
    std::fs::write(
        &p,
        text.replacen(from, "location = { lon = 40.225, lat = 115.608", 1),
    )
    .unwrap();
    let msg = match haihe::flood::structures::load_reservoirs(&p) {
        Ok(_) => panic!("expected the swapped location to be refused"),
        Err(e) => e.to_string(),
    };
    assert_says(&msg, &["reservoirs.toml", "location", "swapped"]);
}

// ---- user polygon layers --------------------------------------------------------------

/// A ring of lon/lat pairs.
type Ring = [(f64, f64)];

/// The closed ring of a lon/lat box.
fn rect(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> Vec<(f64, f64)> {
    vec![
        (lon0, lat0),
        (lon1, lat0),
        (lon1, lat1),
        (lon0, lat1),
        (lon0, lat0),
    ]
}

/// A GeoJSON polygon layer with fields `id` and `name`; each feature's outer ring as
/// lon/lat pairs.
fn geojson(path: &Path, features: &[(&str, &str, &Ring)]) {
    let feats: Vec<String> = features
        .iter()
        .map(|(id, name, ring)| {
            let coords: Vec<String> = ring.iter().map(|(x, y)| format!("[{x}, {y}]")).collect();
            format!(
                r#"{{"type": "Feature", "properties": {{"id": "{id}", "name": "{name}"}}, "geometry": {{"type": "Polygon", "coordinates": [[{}]]}}}}"#,
                coords.join(", ")
            )
        })
        .collect();
    std::fs::write(
        path,
        format!(
            r#"{{"type": "FeatureCollection", "features": [{}]}}"#,
            feats.join(",\n")
        ),
    )
    .unwrap();
}

/// A group file with one user layer.
fn user_groups(dir: &Path, layer: &str) -> PathBuf {
    let p = dir.join("groups.toml");
    std::fs::write(
        &p,
        format!("[[user_layer]]\npath = \"{layer}\"\nid_field = \"id\"\nname_field = \"name\"\n"),
    )
    .unwrap();
    p
}

/// A box in 北京, inside the model domain.
fn beijing() -> Vec<(f64, f64)> {
    rect(116.30, 39.80, 116.50, 40.00)
}

#[test]
fn a_self_intersecting_user_polygon_is_refused_with_its_feature() {
    let d = tmp("bow-tie");
    // A bow-tie: the outline crosses itself in the middle.
    let bow: [(f64, f64); 5] = [
        (116.30, 39.80),
        (116.50, 40.00),
        (116.50, 39.80),
        (116.30, 40.00),
        (116.30, 39.80),
    ];
    geojson(
        &d.join("zones.geojson"),
        &[("ok", "好", &beijing()), ("bowtie", "蝶形", &bow)],
    );
    let g = user_groups(&d, "zones.geojson");
    let msg = haihe::resilience::inputs::load_model(
        Path::new("rasters/model"),
        Path::new("models/structures"),
        Some(&g),
    )
    .map(|_| ())
    .unwrap_err()
    .to_string();
    assert_says(
        &msg,
        &[
            "zones.geojson",
            "geometry",
            "feature 1 (id = 'bowtie')",
            "crosses or touches itself",
            "ogr2ogr -makevalid",
        ],
    );
}

#[test]
fn polygon_checks_accept_simple_rings_and_holes() {
    use haihe::grid::vector::polygon_problem;
    let square = vec![(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0), (0.0, 0.0)];
    let hole = vec![(1.0, 1.0), (1.0, 2.0), (2.0, 2.0), (2.0, 1.0), (1.0, 1.0)];
    assert_eq!(polygon_problem(&[square.clone(), hole]), None);
    // Repeated points are not a crossing.
    let doubled = vec![(0.0, 0.0), (4.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)];
    assert_eq!(polygon_problem(&[doubled]), None);
    let crossing_hole = vec![(3.0, 1.0), (6.0, 1.0), (6.0, 2.0), (3.0, 2.0), (3.0, 1.0)];
    assert!(polygon_problem(&[square.clone(), crossing_hole])
        .unwrap()
        .contains("rings 0 and 1 cross"));
    // A figure of eight touching itself at a vertex.
    let eight = vec![
        (0.0, 0.0),
        (2.0, 2.0),
        (4.0, 0.0),
        (4.0, 4.0),
        (2.0, 2.0),
        (0.0, 4.0),
    ];
    assert!(polygon_problem(&[eight]).unwrap().contains("itself"));
    assert!(polygon_problem(&[vec![(0.0, 0.0), (1.0, 1.0), (0.0, 0.0)]])
        .unwrap()
        .contains("fewer than 3"));
}

/// A scored flood run on the model grid: exposure tables for two counties, max depth
/// 1 m on the first 20 rows.
fn flood_run(dir: &Path) {
    let pop = haihe::grid::read_raster_as::<f32>(&root().join("rasters/model/population.tif"), 1)
        .unwrap();
    let mut d = pop.data.mapv(|_| 0.0f32);
    for r in 0..20.min(d.nrows()) {
        d.row_mut(r).fill(1.0);
    }
    write_geotiff(
        &pop.with_data(d, Some(f64::NAN)),
        &dir.join("max_depth.tif"),
    )
    .unwrap();
    let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    w(
        "exposure_population.csv",
        "group_id,name,kind,population,pop_depth_gt_0p15m,pop_depth_gt_0p5m,pop_depth_gt_1p5m,pop_pga_ge_0p05g,pop_pga_ge_0p10g,pop_pga_ge_0p15g,pop_pga_ge_0p20g,pop_pga_ge_0p30g,pop_pga_ge_0p40g\ncounty-110101,东城区,county,708829,1000,1000,0,,,,,,\n",
    );
    w(
        "exposure_lifelines.csv",
        "group_id,lifeline,components,length_km,exposed,expected_damaged,service_kept_share,paths_intact,paths_after_p50,days_to_90pct,resilience_loss_pct_days,not_assessed\ncounty-110101,water_supply,4,20,2,1.5,0.6,1,0,12,900,0\n",
    );
    w(
        "exposure_redline.csv",
        "group_id,redline_km2,redline_flooded_km2,redline_shaken_km2,wetland_storage_m3\ncounty-110101,0,0,,0\n",
    );
    w("run.json", "{\"scenario\": \"t\"}");
}

#[test]
fn a_user_group_outside_the_domain_is_not_assessed_rather_than_perfect() {
    let d = tmp("outside-group");
    // 上海, far outside the model domain.
    let shanghai = rect(121.40, 31.15, 121.55, 31.30);
    geojson(
        &d.join("zones.geojson"),
        &[("inside", "城内", &beijing()), ("away", "上海", &shanghai)],
    );
    let g = user_groups(&d, "zones.geojson");
    let run = d.join("run");
    std::fs::create_dir_all(&run).unwrap();
    flood_run(&run);
    let out = d.join("scores");
    let opts = haihe::resilience::ScoreOptions {
        runs: vec![run],
        groups: Some(g),
        model_dir: root().join("rasters/model"),
        structures_dir: root().join("models/structures"),
        model_file: root().join("models/resilience.toml"),
        seed: 1,
        samples: 20,
        out: out.clone(),
    };
    let r = haihe::resilience::run_score(&opts).unwrap();
    let s = &r.scenarios[0];
    let away = s.groups.iter().find(|g| g.id == "away").unwrap();
    assert!(away.not_assessed.is_some());
    assert!(away.monte_carlo.score_p50.is_nan() && away.population.is_nan());
    let inside = s.groups.iter().find(|g| g.id == "inside").unwrap();
    assert!(inside.not_assessed.is_none() && inside.monte_carlo.score_p50.is_finite());
    // Ranks run over the assessed groups only.
    let assessed = s.groups.iter().filter(|g| g.not_assessed.is_none()).count() as f64;
    assert!(s
        .groups
        .iter()
        .filter(|g| g.not_assessed.is_none())
        .all(|g| g.monte_carlo.rank_p50 <= assessed));
    // scores.csv: same columns, "not assessed", no score, no population.
    let mut rdr = csv::Reader::from_path(out.join("scores.csv")).unwrap();
    let head = rdr.headers().unwrap().clone();
    assert_eq!(
        head.iter().collect::<Vec<_>>(),
        haihe::resilience::output::scores_header()
    );
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let row = rdr
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[0] == "away")
        .unwrap();
    assert_eq!(row.len(), head.len());
    assert_eq!(&row[col("score_p50")], "not assessed");
    assert_eq!(&row[col("population")], "");
    assert_eq!(&row[col("score_p05")], "");
    assert_eq!(&row[col("robustness_nominal")], "");
    assert!(row[col("missing")].starts_with("not assessed: no cell"));
    let json = std::fs::read_to_string(out.join("scores.json")).unwrap();
    assert!(json.contains("\"not_assessed\": \"no cell"), "{json}");
}
