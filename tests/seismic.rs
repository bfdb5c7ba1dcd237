//! Seismic: the Yu et al. (2013) model against hand computation from its published
//! coefficients, the rotated ellipse, ε sampling, fault strike, the county PGA zoning,
//! `haihe quake` end to end on the 1679 scenario, and bad scenarios refused with no
//! output folder.

use haihe::seismic::gmpe::{self, Measure, Yu2013};
use haihe::seismic::{fault, zoning};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn model() -> Yu2013 {
    Yu2013::load(&root().join("models/seismic/gmpe_yu2013.toml")).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Hand computation, eastern-China coefficients (OpenQuake YuEtAl2013MsEastern):
/// ln Y = a + b·Ms + c·ln(sqrt(R² + 225) + d·exp(e·Ms)), Y in cm/s², g = 980.665 cm/s².
/// On the long axis (θ = 0) the ellipse's R_a is the epicentral distance and the model
/// gives the long-axis value; on the short axis (θ = 90°) R_b is, and the short-axis
/// value. Ms 6.0 uses the first sets (a = 4.5517, b = 1.5433, c = −2.315, d = 2.088,
/// e = 0.399; short 2.7048, 1.518, −2.004, 0.944, 0.447), Ms 7.0 the sets above 6.5
/// (a = 8.1259, b = 0.9936; short a = 6.3319, b = 0.9614; c, d, e as before).
/// E.g. Ms 6.0, R = 30 km, long axis: 4.5517 + 1.5433·6 − 2.315·ln(sqrt(900 + 225) +
/// 2.088·e^(2.394)) = 4.5517 + 9.2598 − 2.315·ln(33.541 + 22.837) = 4.475524;
/// e^4.475524 / 980.665 = 0.08957 g.
#[test]
fn pga_matches_hand_computation_on_both_axes() {
    let m = model();
    // (Ms, R km, long-axis ln Y, short-axis ln Y), ln of cm/s².
    let cases = [
        (6.0, 10.0, 5.219868, 4.878540),
        (6.0, 30.0, 4.475524, 4.082790),
        (6.0, 100.0, 2.652596, 2.305444),
        (7.0, 10.0, 5.928428, 5.689366),
        (7.0, 30.0, 5.325299, 5.026910),
        (7.0, 100.0, 3.721694, 3.423136),
    ];
    let g = 980.665f64.ln();
    for (ms, r, long, short) in cases {
        let a = m.ln_median(Measure::Pga, ms, r, 0.0);
        let b = m.ln_median(Measure::Pga, ms, r, std::f64::consts::FRAC_PI_2);
        assert!(
            (a - (long - g)).abs() < 1e-5,
            "Ms {ms} R {r} long axis: {a} vs {}",
            long - g
        );
        assert!(
            (b - (short - g)).abs() < 1e-5,
            "Ms {ms} R {r} short axis: {b} vs {}",
            short - g
        );
    }
    // The check SCIENCE.md asks for: Ms 6.5 at 20 km gives roughly 0.2 g.
    let at20 = m.ln_median(Measure::Pga, 6.5, 20.0, 0.0).exp();
    assert!((0.15..0.3).contains(&at20), "Ms 6.5 at 20 km: {at20} g");
    // Off the axes the value lies between the two axis values.
    let mid = m.ln_median(Measure::Pga, 6.0, 30.0, std::f64::consts::FRAC_PI_4);
    assert!(mid < 4.475524 - g && mid > 4.082790 - g);
}

#[test]
fn pgv_matches_hand_computation() {
    let m = model();
    // Long axis, R = 30 km: Ms 6.0 with (−0.8349, 1.8193, −2.103, 2.088, 0.399) gives
    // 4.95245 cm/s; Ms 7.0 with (3.3051, 1.1799, ...) gives 14.90956 cm/s.
    let a = m.ln_median(Measure::Pgv, 6.0, 30.0, 0.0).exp();
    let b = m.ln_median(Measure::Pgv, 7.0, 30.0, 0.0).exp();
    assert!((a - 4.95245).abs() < 1e-4, "{a}");
    assert!((b - 14.90956).abs() < 1e-4, "{b}");
}

#[test]
fn coefficient_sets_split_above_6p5() {
    let m = model();
    let (l, _) = m.axis_sets(Measure::Pga, 6.5);
    assert_eq!(l.a, 4.5517, "Ms 6.5 itself uses the first set");
    let (l, s) = m.axis_sets(Measure::Pga, 6.51);
    assert_eq!((l.a, s.a), (8.1259, 6.3319));
}

#[test]
fn ellipse_rotated_along_the_strike_by_hand() {
    // Semi-axes 30 km and 20 km, long axis along a strike of 45°; a site at azimuth 75°
    // is 30° off the long axis: r = 30·20 / sqrt(30²·sin²30° + 20²·cos²30°)
    // = 600 / sqrt(225 + 300) = 26.1861 km.
    let theta = gmpe::angle_from_strike(75.0, 45.0);
    assert!((theta - 30f64.to_radians()).abs() < 1e-12);
    let r = gmpe::ellipse_radius(30.0, 20.0, theta);
    assert!((r - 26.186147).abs() < 1e-5, "{r}");
    // On the axes the radius is the semi-axis; 180° on is the same axis.
    assert!(
        (gmpe::ellipse_radius(30.0, 20.0, gmpe::angle_from_strike(45.0, 45.0)) - 30.0).abs()
            < 1e-12
    );
    assert!(
        (gmpe::ellipse_radius(30.0, 20.0, gmpe::angle_from_strike(135.0, 45.0)) - 20.0).abs()
            < 1e-9
    );
    assert!(
        (gmpe::ellipse_radius(30.0, 20.0, gmpe::angle_from_strike(225.0, 45.0)) - 30.0).abs()
            < 1e-9
    );
    // The model's ellipse through a site passes through it.
    let m = model();
    let s = m.site_motion(Measure::Pga, 7.0, 40.0, theta);
    assert!((gmpe::ellipse_radius(s.ra_km, s.rb_km, theta) - 40.0).abs() < 1e-5);
    assert!(s.ra_km > 40.0 && s.rb_km < 40.0);
    // Distance and azimuth on the sphere: 1° of longitude on the equator, due east.
    let (d, az) = gmpe::distance_azimuth(0.0, 0.0, 1.0, 0.0);
    assert!((d - 111.195).abs() < 0.01 && (az - 90.0).abs() < 1e-9);
}

#[test]
fn epsilon_is_seeded_per_realisation_and_standard_normal() {
    let a: Vec<f64> = (0..20000).map(|i| gmpe::epsilon(7, i)).collect();
    let b: Vec<f64> = (0..20000).rev().map(|i| gmpe::epsilon(7, i)).collect();
    assert!(
        a.iter().zip(b.iter().rev()).all(|(x, y)| x == y),
        "order-independent"
    );
    assert_ne!(gmpe::epsilon(7, 0), gmpe::epsilon(8, 0));
    let n = a.len() as f64;
    let mean = a.iter().sum::<f64>() / n;
    let sd = (a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    assert!(mean.abs() < 0.03 && (sd - 1.0).abs() < 0.03, "{mean} {sd}");
    let mut s = a.clone();
    s.sort_by(f64::total_cmp);
    assert!((gmpe::percentile(&s, 84.0) - 0.994).abs() < 0.05);
}

#[test]
fn strike_of_the_xiadian_fault_near_the_1679_epicentre() {
    let layer = root().join("rasters/source/faults/faults_scenarios.geojson");
    let t = fault::read_fault(&layer, "夏垫断裂").unwrap().unwrap();
    assert_eq!(t.lines.len(), 3);
    let s = fault::strike_near(&t, 116.983, 40.0).unwrap();
    // The trace runs NE (断层走向 "NE" in the layer).
    assert!((20.0..60.0).contains(&s.strike_deg), "{s:?}");
    assert!(s.distance_km < 15.0, "{s:?}");
    assert!(fault::read_fault(&layer, "no such fault")
        .unwrap()
        .is_none());
    // 孙河-南口 runs NW–SE.
    let t = fault::read_fault(&layer, "孙河-南口断裂").unwrap().unwrap();
    let s = fault::strike_near(&t, 116.374, 40.078).unwrap();
    assert!((100.0..150.0).contains(&s.strike_deg), "{s:?}");
}

#[test]
fn every_county_gets_a_zone_value_and_a_basis() {
    let table_path = root().join("models/seismic/pga_zone.toml");
    let table = zoning::load_zone_table(&table_path).unwrap();
    let seats = zoning::read_county_seats(&root().join("rasters/model/counties.csv")).unwrap();
    let z = zoning::assign_zones(&seats, &table, &table_path).unwrap();
    assert_eq!(z.len(), seats.len());
    let allowed = [0.05, 0.10, 0.15, 0.20, 0.30, 0.40];
    for a in &z {
        assert!(allowed.iter().any(|v| (v - a.pga_g).abs() < 1e-9), "{a:?}");
        assert!(
            a.basis == "gb18306-2015" || a.basis == "2010-list" || a.basis.starts_with("nearest:"),
            "{a:?}"
        );
        if a.adcode / 10000 == 11 {
            assert_eq!(
                (a.pga_g, a.basis.as_str()),
                (0.20, "gb18306-2015"),
                "Beijing {a:?}"
            );
        }
    }
    let zunhua = z.iter().find(|a| a.adcode == 130281).unwrap();
    assert!(zunhua.basis.starts_with("nearest:"));
    assert!(
        (0.10..=0.15).contains(&zunhua.pga_g),
        "VII in 2015: {zunhua:?}"
    );
    assert!(z.iter().any(|a| a.basis == "2010-list"));

    // The committed grid and table built by `haihe prepare` agree.
    let csv = root().join("rasters/model/pga_zone_source.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count() - 1, seats.len(), "one row per county");
    let tif = haihe::grid::io::read_raster_as::<f32>(&root().join("rasters/model/pga_zone.tif"), 1)
        .unwrap();
    let counties =
        haihe::grid::io::read_raster_as::<i32>(&root().join("rasters/model/counties.tif"), 1)
            .unwrap();
    for (&c, &v) in counties.data.iter().zip(tif.data.iter()) {
        if c > 0 {
            assert!(v.is_finite() && v >= 0.05, "county {c} has {v}");
        }
    }
}

/// A copy of a shipped scenario with some lines replaced, written into `dir`.
fn scenario_copy(dir: &Path, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let text = std::fs::read_to_string(root().join("models/scenarios").join(name)).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, edit(text)).unwrap();
    p
}

fn band_at(path: &Path, band: usize, lon: f64, lat: f64) -> f32 {
    let g = haihe::grid::io::read_raster_as::<f32>(path, band).unwrap();
    let wgs = haihe::grid::io::epsg_wkt(4326).unwrap();
    let (x, y) = haihe::grid::warp::transform_points(&[(lon, lat)], &wgs, &g.crs_wkt).unwrap()[0];
    let (r, c) = g.cell_of(x, y).unwrap();
    g.data[[r, c]]
}

#[test]
fn quake_1679_is_strongest_near_its_epicentre_and_writes_exposure() {
    let dir = tmp("quake-1679");
    let sc = scenario_copy(&dir, "quake-1679-sanhe-pinggu.toml", |t| {
        t.replace("realisations = 1000", "realisations = 200")
    });
    let out = dir.join("out");
    let r = haihe::scenario::quake::run_quake(&sc, &root(), &out).unwrap();
    for f in ["pga.tif", "pgv.tif", "exposure.csv", "run.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    let pga = out.join("pga.tif");
    let epi = band_at(&pga, 1, 116.983, 40.0);
    let baoding = band_at(&pga, 1, 115.47, 38.87);
    assert!(
        epi > 0.4 && epi > 5.0 * baoding,
        "epicentre {epi} g, Baoding {baoding} g"
    );
    // The 84th percentile lies above the median, by about exp(σ).
    let p84 = band_at(&pga, 3, 116.983, 40.0);
    assert!(p84 / epi > 1.4 && p84 / epi < 2.0, "{p84} / {epi}");
    let ds = gdal::Dataset::open(&pga).unwrap();
    use gdal::Metadata;
    let names: Vec<String> = (1..=ds.raster_count())
        .map(|i| ds.rasterband(i).unwrap().description().unwrap())
        .collect();
    assert_eq!(names, ["median", "p50", "p84"]);
    assert!((20.0..60.0).contains(&r.source.strike_deg));
    // Exposure: every group, four statistics, persons conserved across classes.
    let text = std::fs::read_to_string(out.join("exposure.csv")).unwrap();
    let mut rows = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let total: f64 = f[4].parse().unwrap();
        let classes: f64 = f[5..12].iter().map(|v| v.parse::<f64>().unwrap()).sum();
        let none: f64 = f[12].parse().unwrap();
        assert!(
            (total - classes - none).abs() < 1.0 + 1e-6 * total,
            "{line}"
        );
        rows += 1;
    }
    let groups = haihe::exposure::GroupZones::load(&root().join("rasters/model")).unwrap();
    assert_eq!(rows, 4 * groups.zones.len());
    let chaoyang = text
        .lines()
        .find(|l| l.starts_with("median,county-110105,"))
        .unwrap();
    let f: Vec<&str> = chaoyang.split(',').collect();
    let over_015: f64 = f[8..12].iter().map(|v| v.parse::<f64>().unwrap()).sum();
    assert!(over_015 > 1e6, "朝阳 residents at ≥ 0.15 g: {chaoyang}");
}

/// Runs a broken copy of the 1679 scenario; the error must name the file and field
/// and no output folder may appear.
fn refused(tag: &str, edit: impl Fn(String) -> String, expect: &[&str]) {
    let dir = tmp(&format!("quake-bad-{tag}"));
    let sc = scenario_copy(&dir, "quake-1679-sanhe-pinggu.toml", edit);
    let out = dir.join("out");
    let e = haihe::scenario::quake::run_quake(&sc, &root(), &out)
        .expect_err("must be refused")
        .to_string();
    assert!(e.contains("quake-1679-sanhe-pinggu.toml"), "{e}");
    for x in expect {
        assert!(e.contains(x), "'{x}' missing from: {e}");
    }
    assert!(!out.exists(), "no output folder after a refused scenario");
}

#[test]
fn epicentre_outside_the_domain_is_refused() {
    refused(
        "outside",
        |t| t.replace("lon = 116.983", "lon = 121.5"),
        &["epicentre", "outside the model domain"],
    );
}

#[test]
fn unknown_fault_is_refused() {
    refused(
        "fault",
        |t| t.replace("fault = \"夏垫断裂\"", "fault = \"夏店断裂\""),
        &["fault", "夏店断裂", "夏垫断裂"],
    );
}

#[test]
fn magnitude_outside_the_model_is_refused() {
    refused(
        "ms",
        |t| t.replace("magnitude_ms = 8.0", "magnitude_ms = 9.1"),
        &["magnitude_ms", "9.1"],
    );
}

#[test]
fn fault_and_strike_together_or_unknown_keys_are_refused() {
    refused(
        "both",
        |t| {
            t.replace(
                "percentiles = [50, 84]",
                "percentiles = [50, 84]\nstrike_deg = 40",
            )
        },
        &["fault", "strike_deg"],
    );
    refused(
        "typo",
        |t| t.replace("percentiles = [50, 84]", "percentile = [50, 84]"),
        &["percentile"],
    );
}

#[test]
fn every_shipped_quake_scenario_loads() {
    let m = model();
    let mut n = 0;
    for e in std::fs::read_dir(root().join("models/scenarios")).unwrap() {
        let p = e.unwrap().path();
        if p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("quake-")
        {
            let s = haihe::scenario::quake::load_quake_scenario(&p, &m)
                .unwrap_or_else(|e| panic!("{e}"));
            let layer = root().join(&s.fault_layer);
            let f = s.fault.as_deref().unwrap();
            let t = fault::read_fault(&layer, f).unwrap().unwrap();
            let st = fault::strike_near(&t, s.epicentre.lon, s.epicentre.lat).unwrap();
            assert!(st.distance_km < 20.0, "{}: {st:?}", p.display());
            n += 1;
        }
    }
    assert_eq!(n, 3);
}

#[test]
fn population_by_class_by_hand_and_mean_shift_matches_brute_force() {
    use haihe::exposure::{population_by_class, population_by_class_mean_shift, GroupZones};
    use ndarray::array;
    let t = haihe::GeoTransform {
        x0: 0.0,
        dx: 1000.0,
        y0: 0.0,
        dy: -1000.0,
    };
    let wkt = haihe::grid::io::epsg_wkt(32650).unwrap();
    let pop = haihe::Grid::new(
        array![[10.0f32, 20.0, f32::NAN], [40.0, 80.0, 160.0]],
        t,
        wkt.clone(),
        None,
    );
    let haz = haihe::Grid::new(
        array![[0.01f32, 0.12, 0.5], [0.2, f32::NAN, 0.45]],
        t,
        wkt,
        None,
    );
    let zones = GroupZones::from_masks(
        pop.spec(),
        vec![
            (
                "all".into(),
                "all".into(),
                "test".into(),
                array![[true, true, true], [true, true, true]],
            ),
            (
                "right".into(),
                "right".into(),
                "test".into(),
                array![[false, false, true], [false, false, true]],
            ),
        ],
    );
    let th = [0.05f32, 0.10, 0.15, 0.20, 0.30, 0.40];
    let e = population_by_class(&zones, &pop, &haz, &th).unwrap();
    // all: 10 below 0.05, 20 in 0.10–0.15, 40 in 0.20–0.30, 160 at ≥ 0.40, 80 without
    // hazard, one cell without residents.
    assert_eq!(
        e[0].persons_by_class,
        vec![10.0, 0.0, 20.0, 0.0, 40.0, 0.0, 160.0]
    );
    assert_eq!(
        (
            e[0].persons_total,
            e[0].persons_no_hazard,
            e[0].population_missing_cells
        ),
        (310.0, 80.0, 1)
    );
    assert_eq!(
        e[1].persons_by_class,
        vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 160.0]
    );
    // Mean over shifted fields equals classifying each shifted field and averaging.
    let ln = haz.with_data(haz.data.mapv(f32::ln), None);
    let shifts = [-0.7, -0.1, 0.0, 0.3, 1.2];
    let m = population_by_class_mean_shift(&zones, &pop, &ln, &th, &shifts).unwrap();
    for g in 0..2 {
        let mut want = vec![0.0; th.len() + 1];
        for s in shifts {
            let h = haz.with_data(haz.data.mapv(|v| (v.ln() as f64 + s).exp() as f32), None);
            let one = population_by_class(&zones, &pop, &h, &th).unwrap();
            for (w, v) in want.iter_mut().zip(&one[g].persons_by_class) {
                *w += v / shifts.len() as f64;
            }
        }
        for (a, b) in m[g].persons_by_class.iter().zip(&want) {
            assert!(
                (a - b).abs() < 1e-9,
                "group {g}: {:?} vs {want:?}",
                m[g].persons_by_class
            );
        }
    }
}
