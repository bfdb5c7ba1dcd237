//! The ecological red-line proxy: calibration on Beijing, Tianjin as an independent
//! check, the official-layer drop-in, the exposure kernel, and configuration errors.

use haihe::ecology::{
    self, build_redline, calibrate, redline_exposed, EcologyConfig, EcologyInputs, NamedGroup,
    Zones,
};
use haihe::grid::warp::GridSpec;
use haihe::{Error, GeoTransform, Grid};
use ndarray::Array2;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn province_km2(classes: &Array2<u8>, counties: &Array2<i32>, province: i32, cell_km2: f64) -> f64 {
    classes
        .iter()
        .zip(counties.iter())
        .filter(|(&c, &co)| c > 0 && co / 10000 == province)
        .count() as f64
        * cell_km2
}

#[test]
fn beijing_proxy_within_two_percent_and_tianjin_reported() {
    let root = root();
    let cfg_path = root.join(ecology::CONFIG_PATH);
    let cfg = EcologyConfig::load(&cfg_path).unwrap();
    let inputs = EcologyInputs::from_model_dir(&root.join("rasters/model")).unwrap();
    let red = build_redline(&inputs, &cfg, &cfg_path, &root).unwrap();
    let cell_km2 = red.classes.cell_area() / 1e6;
    let bj = province_km2(&red.classes.data, &inputs.counties, 11, cell_km2);
    let tj = province_km2(&red.classes.data, &inputs.counties, 12, cell_km2);
    let he = province_km2(&red.classes.data, &inputs.counties, 13, cell_km2);
    println!("red-line proxy: Beijing {bj:.0} km² (official 4290), Tianjin {tj:.0} km² (official 1195 on land), Hebei in domain {he:.0} km²");
    let err = (bj - 4290.0) / 4290.0 * 100.0;
    assert!(
        err.abs() <= 2.0,
        "Beijing proxy {bj} km² is {err:.2} % off 4,290 km²"
    );
    assert!(tj.is_finite() && tj > 0.0);

    // The committed elevation threshold is what the calibration search returns.
    let cal = calibrate(&inputs, &cfg, &cfg_path).unwrap();
    println!("calibration: {cal:?}");
    assert_eq!(cal.value, cfg.mountain.min_elevation_m.value);
    assert!((cal.area_km2 - bj).abs() < 1e-9);
    assert!(cal.error_pct.abs() <= cfg.calibration.tolerance_pct);
}

fn tiny_spec() -> GridSpec {
    GridSpec {
        transform: GeoTransform {
            x0: 500_000.0,
            dx: 1000.0,
            y0: 4_400_000.0,
            dy: -1000.0,
        },
        rows: 6,
        cols: 8,
        crs_wkt: haihe::grid::epsg_wkt(32650).unwrap(),
    }
}

fn tiny_inputs() -> EcologyInputs {
    let spec = tiny_spec();
    let shape = (spec.rows, spec.cols);
    EcologyInputs {
        spec,
        dem_m: Array2::from_elem(shape, 10.0),
        land_cover: Array2::from_elem(shape, 2),
        counties: Array2::from_elem(shape, 110101),
        streams: Array2::zeros(shape),
        flow_acc_km2: Array2::from_elem(shape, 1.0),
        sea: Array2::from_elem(shape, false),
    }
}

const MINIMAL_RULES: &str = r#"
[[official]]
province = 11
name = "test"
area_km2 = { value = 10.0, source = "test" }
[calibration]
province = 11
search_min_m = 0.0
search_max_m = 100.0
step_m = 1.0
tolerance_pct = 2.0
[water_source]
buffer_km = { value = 0.0, assumption = "test" }
[wetland]
buffer_km = { value = 0.0, assumption = "test" }
all_land_cover_wetland = true
[mountain]
min_elevation_m = { value = 500.0, calibrated = "test" }
min_slope_deg = { value = 2.0, assumption = "test" }
[river]
min_upstream_km2 = { value = 3000.0, assumption = "test" }
[storage]
default_depth_m = { value = 1.0, assumption = "test" }
"#;

#[test]
fn official_layer_replaces_proxy_with_hand_computed_area() {
    let dir = tempfile::tempdir().unwrap();
    // A 3 km × 2 km rectangle whose edges fall between cell centres: cells with centres
    // x ∈ {501.5, 502.5, 503.5} km and y ∈ {4398.5, 4397.5} km → 6 cells = 6 km².
    let gj = r#"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::32650"}},
      "features":[{"type":"Feature","properties":{"name":"zone A"},"geometry":{"type":"Polygon",
      "coordinates":[[[501000,4399000],[504000,4399000],[504000,4397000],[501000,4397000],[501000,4399000]]]}}]}"#;
    let layer = dir.path().join("official.geojson");
    std::fs::write(&layer, gj).unwrap();
    let cfg_path = dir.path().join("ecology.toml");
    let text = format!(
        "{MINIMAL_RULES}\n[official_layer]\npath = \"{}\"\nsource = \"synthetic\"\n",
        layer.display()
    );
    std::fs::write(&cfg_path, text).unwrap();
    let cfg = EcologyConfig::load(&cfg_path).unwrap();
    let red = build_redline(&tiny_inputs(), &cfg, &cfg_path, dir.path()).unwrap();
    let cells: Vec<(usize, usize)> = red
        .classes
        .data
        .indexed_iter()
        .filter(|(_, &v)| v > 0)
        .map(|(ix, &v)| {
            assert_eq!(v, 9);
            ix
        })
        .collect();
    assert_eq!(cells, vec![(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)]);
    assert!(red.min_elevation_m.is_none());
    let km2 = cells.len() as f64 * red.classes.cell_area() / 1e6;
    assert_eq!(km2, 6.0);

    // The same file without the layer runs the proxy: flat 10 m land, nothing qualifies.
    std::fs::write(&cfg_path, MINIMAL_RULES).unwrap();
    let cfg = EcologyConfig::load(&cfg_path).unwrap();
    let red = build_redline(&tiny_inputs(), &cfg, &cfg_path, dir.path()).unwrap();
    assert!(red.classes.data.iter().all(|&v| v == 0));
}

#[test]
fn redline_exposed_by_hand() {
    let spec = tiny_spec();
    let wkt = spec.crs_wkt.clone();
    let (rows, cols) = (spec.rows, spec.cols);
    // Red line in the left half (cols 0–3); hazard 0.5 m in rows 0–2, 0.1 m below,
    // NaN in cell (0, 0).
    let red = Array2::from_shape_fn((rows, cols), |(_, c)| u8::from(c < 4) * 3);
    let mut hz = Array2::from_shape_fn((rows, cols), |(r, _)| if r < 3 { 0.5f32 } else { 0.1 });
    hz[[0, 0]] = f32::NAN;
    let red = Grid::new(red, spec.transform, wkt.clone(), None);
    let hz = Grid::new(hz, spec.transform, wkt, None);
    // Two counties split by rows (0–2: 110101 Beijing, 3–5: 120101 Tianjin), and a group
    // of column 0.
    let counties =
        Array2::from_shape_fn((rows, cols), |(r, _)| if r < 3 { 110101 } else { 120101 });
    let zones = Zones {
        counties_grid: counties,
        counties: vec![
            ecology::County {
                adcode: 110101,
                name: "A".into(),
                province: "北京市".into(),
            },
            ecology::County {
                adcode: 120101,
                name: "B".into(),
                province: "天津市".into(),
            },
        ],
        groups: vec![NamedGroup {
            id: "col0".into(),
            name: "column 0".into(),
            mask: Array2::from_shape_fn((rows, cols), |(_, c)| c == 0),
        }],
    };
    let out = redline_exposed(&red, &hz, 0.3, &zones).unwrap();
    let km2 = |id: &str| out.iter().find(|z| z.id == id).unwrap().area_km2;
    // Beijing: 3 rows × 4 red-line columns, minus the NaN cell = 11 km².
    assert_eq!(km2("province-11"), 11.0);
    assert_eq!(km2("county-110101"), 11.0);
    // Tianjin: hazard 0.1 < 0.3 everywhere.
    assert_eq!(km2("province-12"), 0.0);
    // Column 0: rows 1 and 2 only.
    assert_eq!(km2("col0"), 2.0);
    // With threshold 0.1 all red-line cells but the NaN one: 6 × 4 − 1.
    let all: f64 = redline_exposed(&red, &hz, 0.1, &zones)
        .unwrap()
        .iter()
        .filter(|z| z.kind == ecology::ZoneKind::Province)
        .map(|z| z.area_km2)
        .sum();
    assert_eq!(all, 23.0);
    // Misaligned hazard is an error, not a panic.
    let small = Grid::new(
        Array2::<f32>::zeros((2, 2)),
        spec.transform,
        spec.crs_wkt.clone(),
        None,
    );
    assert!(matches!(
        redline_exposed(&red, &small, 0.3, &zones),
        Err(Error::Misaligned(_))
    ));
}

fn load_err(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ecology.toml");
    std::fs::write(&p, text).unwrap();
    EcologyConfig::load(Path::new(&p)).unwrap_err().to_string()
}

#[test]
fn broken_config_gives_clear_errors() {
    // A misspelt key.
    let e = load_err(&MINIMAL_RULES.replace(
        "buffer_km = { value = 0.0, assumption = \"test\" }\n[wetland]",
        "bufer_km = { value = 0.0, assumption = \"test\" }\n[wetland]",
    ));
    assert!(e.contains("bufer_km"), "{e}");
    // A parameter without a basis.
    let e = load_err(&MINIMAL_RULES.replace(
        "min_slope_deg = { value = 2.0, assumption = \"test\" }",
        "min_slope_deg = { value = 2.0 }",
    ));
    assert!(
        e.contains("mountain.min_slope_deg") && e.contains("no basis"),
        "{e}"
    );
    // A negative buffer.
    let e = load_err(&MINIMAL_RULES.replace(
        "[wetland]\nbuffer_km = { value = 0.0",
        "[wetland]\nbuffer_km = { value = -1.0",
    ));
    assert!(e.contains("wetland.buffer_km"), "{e}");
    // A disc without its area.
    let e = load_err(&format!(
        "{MINIMAL_RULES}\n[[wetland.site]]\nname = \"X\"\nlon = 117.0\nlat = 39.0\nextent = \"disc\"\nsource = \"t\"\n"
    ));
    assert!(
        e.contains("wetland.site 'X'") && e.contains("area_km2"),
        "{e}"
    );
    // An unknown extent kind.
    let e = load_err(&format!(
        "{MINIMAL_RULES}\n[[wetland.site]]\nname = \"X\"\nlon = 117.0\nlat = 39.0\nextent = \"blob\"\nsource = \"t\"\n"
    ));
    assert!(e.contains("blob"), "{e}");
    // A calibration province without an official area.
    let e = load_err(&MINIMAL_RULES.replace(
        "[calibration]\nprovince = 11",
        "[calibration]\nprovince = 13",
    ));
    assert!(e.contains("calibration.province"), "{e}");
    // A missing file.
    let e = EcologyConfig::load(Path::new("/nonexistent/ecology.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not found"), "{e}");
}

#[test]
fn water_body_site_missing_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("ecology.toml");
    // The tiny grid's centre is near 117 E 39.7 N; no water there.
    std::fs::write(
        &cfg_path,
        format!("{MINIMAL_RULES}\n[[water_source.site]]\nname = \"R\"\nlon = 117.03\nlat = 39.72\nextent = \"water_body\"\nsource = \"t\"\n"),
    )
    .unwrap();
    let cfg = EcologyConfig::load(&cfg_path).unwrap();
    let e = build_redline(&tiny_inputs(), &cfg, &cfg_path, dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("water_source.site 'R'"), "{e}");
}
