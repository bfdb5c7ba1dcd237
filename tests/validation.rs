//! Validation against historical storms (issue 7): rain reconstruction, metrics, gauge
//! snapping, the shipped storm catalogue and bad storm files.

use haihe::grid::cf::{write_cf, CfSeries};
use haihe::grid::{epsg_wkt, GeoTransform, GridSpec};
use haihe::validation::gauges::snap_gauge;
use haihe::validation::metrics::{kge, nse, peak_error_pct, peak_time_error_h, volume_error_pct};
use haihe::validation::reconstruct::{
    extend_at_last_rate, fit_areas, idw_field, reconstruct, spread, squared_distance_cells,
    AreaConstraint, IdwParams, PatternCurve, PointTotal, ZoneAnchor, ZonedPattern,
};
use haihe::validation::{check_storm, load_storm, ValidateInputs};
use ndarray::Array2;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tf() -> GeoTransform {
    GeoTransform {
        x0: 500_000.0,
        dx: 1000.0,
        y0: 4_400_000.0,
        dy: -1000.0,
    }
}

fn mean(f: &Array2<f64>, m: &Array2<bool>) -> f64 {
    let (s, n) = f
        .iter()
        .zip(m.iter())
        .filter(|(_, &m)| m)
        .fold((0.0, 0), |(s, n), (v, _)| (s + v, n + 1));
    s / n as f64
}

#[test]
fn reconstruction_honours_areal_means_and_station_totals() {
    let (rows, cols) = (30, 40);
    let pts = vec![
        PointTotal {
            name: "A".into(),
            row: 5,
            col: 5,
            total_mm: 400.0,
        },
        PointTotal {
            name: "B".into(),
            row: 20,
            col: 10,
            total_mm: 250.0,
        },
        PointTotal {
            name: "C".into(),
            row: 12,
            col: 30,
            total_mm: 120.0,
        },
    ];
    // West half (holds A and B), a nested block around A, and a basin in the east.
    let west = Array2::from_shape_fn((rows, cols), |(_, c)| c < 20);
    let block = Array2::from_shape_fn((rows, cols), |(r, c)| r < 10 && c < 10);
    let east = Array2::from_shape_fn((rows, cols), |(r, c)| c >= 25 && r >= 5);
    let areas = vec![
        AreaConstraint {
            name: "west".into(),
            mask: west.clone(),
            mean_mm: 220.0,
        },
        AreaConstraint {
            name: "block".into(),
            mask: block.clone(),
            mean_mm: 300.0,
        },
        AreaConstraint {
            name: "east".into(),
            mask: east.clone(),
            mean_mm: 90.0,
        },
    ];
    let p = IdwParams {
        power: 2.0,
        background_mm: 50.0,
        background_range_m: 20_000.0,
        influence_m: None,
    };
    let rec = reconstruct(rows, cols, &tf(), &pts, &areas, &p).unwrap();
    for (a, want) in [(&west, 220.0), (&block, 300.0), (&east, 90.0)] {
        let got = mean(&rec.total_mm, a);
        assert!(
            (got - want).abs() / want < 0.01,
            "areal mean {got} vs {want}"
        );
    }
    for pt in &pts {
        let got = rec.total_mm[(pt.row, pt.col)];
        assert!(
            (got - pt.total_mm).abs() < 1e-9,
            "{}: {got} vs {}",
            pt.name,
            pt.total_mm
        );
    }
    assert!(rec.stations.iter().all(|s| s.kept));
    assert!(rec.total_mm.iter().all(|&v| v >= 0.0));
}

#[test]
fn idw_is_exact_at_stations_and_tends_to_the_background() {
    let pts = vec![PointTotal {
        name: "A".into(),
        row: 0,
        col: 0,
        total_mm: 300.0,
    }];
    let p = IdwParams {
        power: 2.0,
        background_mm: 100.0,
        background_range_m: 1000.0,
        influence_m: None,
    };
    let f = idw_field(1, 3, &tf(), &pts, &p).unwrap();
    assert_eq!(f[(0, 0)], 300.0);
    // One cell (1 km) away the station and the background weigh the same: (300+100)/2.
    assert!((f[(0, 1)] - 200.0).abs() < 1e-9);
    // Two cells away: weights 1/4 and 1 → (300/4 + 100)/(1/4 + 1) = 140.
    assert!((f[(0, 2)] - 140.0).abs() < 1e-9);
}

#[test]
fn an_inconsistent_station_is_released_and_the_mean_still_holds() {
    // A 1 x 4 area of mean 10 mm cannot hold a station of 100 mm: the station goes.
    let pts = vec![PointTotal {
        name: "hot".into(),
        row: 0,
        col: 0,
        total_mm: 100.0,
    }];
    let field = Array2::from_shape_vec((1, 4), vec![100.0, 50.0, 50.0, 50.0]).unwrap();
    let mask = Array2::from_elem((1, 4), true);
    let rec = fit_areas(
        field,
        &pts,
        &[AreaConstraint {
            name: "a".into(),
            mask: mask.clone(),
            mean_mm: 10.0,
        }],
        1e-9,
        100,
    )
    .unwrap();
    assert!(!rec.stations[0].kept);
    assert!((mean(&rec.total_mm, &mask) - 10.0).abs() < 1e-9);
}

#[test]
fn patterns_and_the_cf_rain_series_keep_the_storm_total() {
    // Triangular: before the peak F = (t-s)²/((p-s)D); at the peak F = (p-s)/D.
    let tri = PatternCurve::Triangular {
        start_h: 0.0,
        peak_h: 6.0,
        end_h: 10.0,
    };
    assert!((tri.fraction_before(6.0) - 0.6).abs() < 1e-12);
    assert!((tri.fraction_before(3.0) - 9.0 / 60.0).abs() < 1e-12);
    // Mass curve over a window shorter than the curve.
    let mass = PatternCurve::Mass {
        times_h: vec![0.0, 10.0, 20.0],
        cumulative_mm: vec![0.0, 150.0, 200.0],
        start_h: 0.0,
        end_h: 20.0,
        peak_h: None,
    };
    assert!((mass.fraction_before(10.0) - 0.75).abs() < 1e-12);
    assert!((mass.fraction_between(10.0, 15.0) - 0.125).abs() < 1e-12);
    let fr = mass.step_fractions(0.0, 5.0, 4);
    assert!((fr.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // Written as CF-netCDF and read back by the flood engine's gridded rain.
    let total = Array2::from_shape_fn((4, 5), |(r, c)| 10.0 * (r + c) as f64);
    let data = spread(&total, &fr);
    let spec = GridSpec {
        transform: tf(),
        rows: 4,
        cols: 5,
        crs_wkt: epsg_wkt(32650).unwrap(),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rain.nc");
    let series = CfSeries {
        spec: spec.clone(),
        times: (0..4).map(|k| k as f64 * 18_000.0).collect(),
        time_units: "seconds since 2023-07-29 20:00:00".into(),
        name: "rain_mm".into(),
        units: "mm".into(),
        long_name: "test".into(),
        data,
    };
    write_cf(&series, &path).unwrap();
    let forcing = haihe::flood::rain::RainForcing::Gridded {
        path: path.clone(),
        variable: "rain_mm".into(),
        resample: haihe::grid::Resample::Average,
    };
    let field = haihe::flood::rain::rain_field(&forcing, &spec, None).unwrap();
    assert_eq!(field.step_s, 18_000.0);
    let back = field.total_mm();
    for (a, b) in back.iter().zip(total.iter()) {
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }
}

#[test]
fn metrics_match_hand_computations() {
    let o = [1.0, 2.0, 3.0, 4.0];
    let s = [1.5, 2.5, 2.5, 3.5];
    // Σ(s−o)² = 1, Σ(o−ō)² = 5 → NSE = 0.8.
    assert!((nse(&o, &s).unwrap() - 0.8).abs() < 1e-12);
    // r = 0.75/√(1.25·0.5), α = √(0.5/1.25), β = 1.
    let r: f64 = 0.75 / (1.25f64 * 0.5).sqrt();
    let alpha: f64 = (0.5f64 / 1.25).sqrt();
    let want = 1.0 - ((r - 1.0).powi(2) + (alpha - 1.0).powi(2)).sqrt();
    assert!((kge(&o, &s).unwrap() - want).abs() < 1e-12);
    assert!((kge(&o, &s).unwrap() - 0.628_890).abs() < 1e-6);
    // A perfect simulation.
    assert_eq!(nse(&o, &o), Some(1.0));
    assert!((kge(&o, &o).unwrap() - 1.0).abs() < 1e-12);
    // Peaks: 4650 against 6200 is −25%; a peak 3 h late is +3 h.
    assert!((peak_error_pct(6200.0, 4650.0) + 25.0).abs() < 1e-12);
    assert_eq!(peak_time_error_h(10.0, 13.0), 3.0);
    // Σs = 10 = Σo → 0%; doubled simulation → +100%.
    assert!(volume_error_pct(&o, &s).unwrap().abs() < 1e-12);
    let s2: Vec<f64> = o.iter().map(|v| 2.0 * v).collect();
    assert!((volume_error_pct(&o, &s2).unwrap() - 100.0).abs() < 1e-12);
    assert_eq!(nse(&[1.0, 1.0], &[1.0, 2.0]), None);
}

#[test]
fn snapping_picks_the_cell_with_the_right_area() {
    // A synthetic basin of 1 km² cells: columns 0–4 drain east into column 5, columns
    // 6–9 west into it, and column 5 runs south: its area at row r is 10 (r + 1) km².
    let (nr, nc) = (12, 10);
    let dir = Array2::from_shape_fn((nr, nc), |(r, c)| {
        if c < 5 {
            1u8
        } else if c > 5 {
            16
        } else if r + 1 == nr {
            0
        } else {
            4
        }
    });
    let acc = haihe::terrain::upstream_area_km2(dir.view(), 1e6).unwrap();
    assert!((acc[(6, 5)] - 70.0).abs() < 1e-9);
    // A station placed in the side slope at (6, 3) with a published 70 km².
    let s = snap_gauge(acc.view(), 6, 3, 1.0, 3.0, Some(70.0)).unwrap();
    assert_eq!((s.row, s.col), (6, 5));
    assert!((s.area_km2 - 70.0).abs() < 1e-9);
    assert!((s.moved_km - 2.0).abs() < 1e-12);
    assert_eq!(s.area_error_pct, Some(0.0));
    // 45 km² lies between rows 3 (40) and 4 (50): on the log scale 50 is nearer
    // (ln(50/45) = 0.105 < ln(45/40) = 0.118), although 40 and 50 are equally far apart.
    let s = snap_gauge(acc.view(), 3, 5, 1.0, 2.0, Some(45.0)).unwrap();
    assert_eq!((s.row, s.col), (4, 5));
}

#[test]
fn every_shipped_storm_loads_and_resolves_on_the_model_grid() {
    let dir = root().join("models/storms");
    let inputs = ValidateInputs::standard(&root());
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            let s = load_storm(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            assert!(s.end_h > s.start_h);
            let (fits, obs) = check_storm(&p, &inputs).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                fits > 0 && obs > 0,
                "{}: {fits} fits, {obs} observations",
                p.display()
            );
            n += 1;
        }
    }
    assert_eq!(n, 3);
}

const STORM: &str = r#"
id = "test"
name = "test storm"
[sources]
s = "a source"
[window]
start = "2023-07-29 20:00"
end = "2023-08-02 07:00"
[pattern]
kind = "uniform"
[rain]
background = { mm = 100.0, range_km = 50.0, basis = "test" }
[[rain.station]]
name = "Zhangfang station"
total_mm = 300.0
place = "Zhangfang"
source = "s"
[[observation]]
station = "张坊"
river = "拒马河"
place = "Zhangfang"
catchment_km2 = 4820.0
catchment_source = "s"
peak_m3s = 6200.0
peak_time = "2023-07-31 22:00"
source = "s"
[[gauge]]
station = "卢沟桥"
river = "永定河"
place = "Lugouqiao"
snap_radius_km = 8.0
"#;

fn write_storm(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("storm.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn the_test_storm_itself_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_storm(dir.path(), STORM);
    check_storm(&p, &ValidateInputs::standard(&root())).unwrap();
}

#[test]
fn an_observation_outside_the_domain_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = STORM.replace(
        "place = \"Zhangfang\"\ncatchment_km2",
        "lon = 100.0\nlat = 30.0\ncatchment_km2",
    );
    let p = write_storm(dir.path(), &text);
    let e = check_storm(&p, &ValidateInputs::standard(&root()))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("observation[0] (张坊)") && e.contains("outside the model domain"),
        "{e}"
    );
}

#[test]
fn a_window_ending_before_it_starts_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = STORM.replace("end = \"2023-08-02 07:00\"", "end = \"2023-07-28 07:00\"");
    let p = write_storm(dir.path(), &text);
    let e = load_storm(&p).unwrap_err().to_string();
    assert!(e.contains("`window`") && e.contains("ends"), "{e}");
    // A station's own window too.
    let text = STORM.replace(
        "total_mm = 300.0",
        "total_mm = 300.0\nstart = \"2023-08-01 00:00\"\nend = \"2023-07-31 00:00\"",
    );
    let p = write_storm(dir.path(), &text);
    let e = load_storm(&p).unwrap_err().to_string();
    assert!(e.contains("rain.station[0] (Zhangfang station)"), "{e}");
}

#[test]
fn a_station_without_coordinates_or_known_place_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = ValidateInputs::standard(&root());
    let text = STORM.replace(
        "total_mm = 300.0\nplace = \"Zhangfang\"\n",
        "total_mm = 300.0\n",
    );
    let p = write_storm(dir.path(), &text);
    let e = check_storm(&p, &inputs).unwrap_err().to_string();
    assert!(
        e.contains("rain.station[0] (Zhangfang station)") && e.contains("no coordinates"),
        "{e}"
    );
    let text = STORM.replace(
        "place = \"Zhangfang\"\nsource",
        "place = \"Atlantis\"\nsource",
    );
    let p = write_storm(dir.path(), &text);
    let e = check_storm(&p, &inputs).unwrap_err().to_string();
    assert!(
        e.contains("rain.station[0] (Zhangfang station)") && e.contains("Atlantis"),
        "{e}"
    );
}

#[test]
fn a_radius_of_influence_ends_the_station_at_the_background() {
    // One station of 300 mm, background 100 mm at 1 km, influence 3 km (Franke & Nielson
    // 1980): w(d) = ((L − d)/(L d))², w_b = 1/R² = 1e-6.
    let pts = vec![PointTotal {
        name: "A".into(),
        row: 0,
        col: 0,
        total_mm: 300.0,
    }];
    let p = IdwParams {
        power: 2.0,
        background_mm: 100.0,
        background_range_m: 1000.0,
        influence_m: Some(3000.0),
    };
    let f = idw_field(1, 6, &tf(), &pts, &p).unwrap();
    assert_eq!(f[(0, 0)], 300.0);
    // d = 1 km: w = (2000/3e6)² = 4/9 · 1e-6 → (300·4/9 + 100)/(4/9 + 1) = 153.846…
    let w: f64 = 4.0 / 9.0;
    assert!((f[(0, 1)] - (300.0 * w + 100.0) / (w + 1.0)).abs() < 1e-9);
    // d = 2 km: w = (1000/6e6)² = 1/36 · 1e-6.
    let w: f64 = 1.0 / 36.0;
    assert!((f[(0, 2)] - (300.0 * w + 100.0) / (w + 1.0)).abs() < 1e-9);
    // At and beyond 3 km the field is the background exactly.
    for c in 3..6 {
        assert_eq!(f[(0, c)], 100.0);
    }
    // Without the radius, 5 km away the station still adds rain: (300/25 + 100)/(1/25 + 1).
    let classic = IdwParams {
        influence_m: None,
        ..p
    };
    let g = idw_field(1, 6, &tf(), &pts, &classic).unwrap();
    assert!((g[(0, 5)] - (12.0 + 100.0) / 1.04).abs() < 1e-9);
}

#[test]
fn the_distance_transform_matches_brute_force() {
    let (nr, nc) = (9, 13);
    let mask = Array2::from_shape_fn((nr, nc), |(r, c)| {
        (r == 2 && c == 3) || (r == 7 && c == 11) || (r == 5 && (6..8).contains(&c))
    });
    let d = squared_distance_cells(&mask);
    for r in 0..nr {
        for c in 0..nc {
            let mut best = f64::INFINITY;
            for ((rr, cc), &m) in mask.indexed_iter() {
                if m {
                    let v = ((r as f64 - rr as f64).powi(2)) + ((c as f64 - cc as f64).powi(2));
                    best = best.min(v);
                }
            }
            assert_eq!(d[(r, c)], best, "cell ({r}, {c})");
        }
    }
    assert!(squared_distance_cells(&Array2::from_elem((2, 2), false))
        .iter()
        .all(|v| v.is_infinite()));
}

#[test]
fn zoned_patterns_keep_every_cells_total_and_follow_their_zone() {
    // A 1 x 10 strip of 1 km cells over a 10 h window. Zone A: cells 0–1, all rain in
    // the first 5 h. Zone B: a site at the centre of cell 9, all rain in the last 5 h.
    let (rows, cols) = (1, 10);
    let early = PatternCurve::Mass {
        times_h: vec![0.0, 5.0, 10.0],
        cumulative_mm: vec![0.0, 100.0, 100.0],
        start_h: 0.0,
        end_h: 10.0,
        peak_h: None,
    };
    let late = PatternCurve::Mass {
        times_h: vec![0.0, 5.0, 10.0],
        cumulative_mm: vec![0.0, 0.0, 50.0],
        start_h: 0.0,
        end_h: 10.0,
        peak_h: None,
    };
    let area = Array2::from_shape_fn((rows, cols), |(_, c)| c < 2);
    let (x9, y9) = tf().cell_center(0, 9);
    let zp = ZonedPattern::new(
        rows,
        cols,
        &tf(),
        vec![
            (early, ZoneAnchor::Area(area.clone())),
            (late, ZoneAnchor::Point { x: x9, y: y9 }),
        ],
        2.0,
    )
    .unwrap();
    // Inside the area and at the site: their own curves.
    assert_eq!(zp.fraction_between_at(0, 0, 0.0, 5.0), 1.0);
    assert_eq!(zp.fraction_between_at(0, 1, 0.0, 5.0), 1.0);
    assert_eq!(zp.fraction_between_at(0, 9, 0.0, 5.0), 0.0);
    // Cell 5: 4 km from the area (cell 1), 4 km from the site → half and half.
    assert!((zp.fraction_between_at(0, 5, 0.0, 5.0) - 0.5).abs() < 1e-12);
    // Cell 3: 2 km and 6 km → weights 1/4 and 1/36: early share 9/10.
    assert!((zp.fraction_between_at(0, 3, 0.0, 5.0) - 0.9).abs() < 1e-12);
    // Spread over 10 steps of 1 h: every cell keeps its total.
    let total = Array2::from_shape_fn((rows, cols), |(_, c)| 100.0 + 10.0 * c as f64);
    let data = zp.spread(&total, 0.0, 1.0, 10);
    for c in 0..cols {
        let sum: f64 = (0..10).map(|k| data[(k, 0, c)] as f64).sum();
        assert!((sum - total[(0, c)]).abs() < 1e-3, "cell {c}: {sum}");
    }
    // Zone A's cells get nothing after 5 h; the site's cell nothing before.
    assert_eq!(data[(7, 0, 0)], 0.0);
    assert_eq!(data[(2, 0, 9)], 0.0);
    // The areal fraction is the mean of the cells' fractions.
    let all = Array2::from_elem((rows, cols), true);
    let mean_f: f64 = (0..cols)
        .map(|c| zp.fraction_between_at(0, c, 0.0, 5.0))
        .sum::<f64>()
        / cols as f64;
    assert!((zp.area_fraction_between(&all, 0.0, 5.0) - mean_f).abs() < 1e-12);
}

#[test]
fn a_pattern_zone_with_both_an_area_and_a_place_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = STORM.replace(
        "[rain]\n",
        "[[pattern_zone]]\nname = \"zone X\"\narea = { county = \"房山区\" }\nplace = \"Zhangfang\"\n\n[rain]\n",
    );
    let p = write_storm(dir.path(), &text);
    let e = load_storm(&p).unwrap_err().to_string();
    assert!(e.contains("pattern_zone[0] (zone X)"), "{e}");
}

#[test]
fn a_rule_based_trigger_gauge_missing_from_the_storm_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = STORM.replace(
        "[[gauge]]\nstation = \"卢沟桥\"",
        "[[gauge]]\nstation = \"三家店\"",
    );
    let p = write_storm(dir.path(), &text);
    let e = check_storm(&p, &ValidateInputs::standard(&root()))
        .unwrap_err()
        .to_string();
    assert!(e.contains("卢沟桥") && e.contains("[[gauge]]"), "{e}");
}

#[test]
fn a_mass_curve_shaped_around_its_peak_keeps_every_reported_point() {
    // Points 0 → 60 mm at 6 h → 80 mm at 10 h, peak at 4 h (inside the first interval).
    let shaped = PatternCurve::Mass {
        times_h: vec![0.0, 6.0, 10.0],
        cumulative_mm: vec![0.0, 60.0, 80.0],
        start_h: 0.0,
        end_h: 10.0,
        peak_h: Some(4.0),
    };
    // Reported points are met exactly: 60 of 80 mm by 6 h.
    assert!((shaped.fraction_before(6.0) - 0.75).abs() < 1e-12);
    assert!((shaped.fraction_before(10.0) - 1.0).abs() < 1e-12);
    // First interval: triangle 0–6 h with apex at 4 h, F = (t²/(4·6)) before the apex.
    assert!((shaped.fraction_before(2.0) - 0.75 * 4.0 / 24.0).abs() < 1e-12);
    assert!((shaped.fraction_before(4.0) - 0.75 * 4.0 / 6.0).abs() < 1e-12);
    // Second interval, after the peak: falling from its start (apex clamped to 6 h),
    // F = 1 − (10 − t)²/16 of its 20 mm.
    let f8 = 0.75 + 0.25 * (1.0 - 4.0 / 16.0);
    assert!((shaped.fraction_before(8.0) - f8).abs() < 1e-12);
    // Hourly steps: unimodal around the peak hour and summing to 1.
    let fr = shaped.step_fractions(0.0, 1.0, 10);
    assert!((fr.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    let top = (0..10).max_by(|&a, &b| fr[a].total_cmp(&fr[b])).unwrap();
    assert!(top == 3 || top == 4, "largest step {top}: {fr:?}");
    assert!(fr[0] < fr[2] && fr[9] < fr[7], "{fr:?}");
    // Without a peak the same points give the linear curve.
    let linear = PatternCurve::Mass {
        times_h: vec![0.0, 6.0, 10.0],
        cumulative_mm: vec![0.0, 60.0, 80.0],
        start_h: 0.0,
        end_h: 10.0,
        peak_h: None,
    };
    assert!((linear.fraction_before(2.0) - 0.25).abs() < 1e-12);
}

#[test]
fn a_curve_ending_before_the_window_goes_on_at_its_last_rate() {
    // Bulletins at 0, 10 and 20 h (0, 100, 110 mm), window to 36 h: 1 mm/h for 16 h.
    let (mut t, mut c) = (vec![0.0, 10.0, 20.0], vec![0.0, 100.0, 110.0]);
    extend_at_last_rate(&mut t, &mut c, 36.0);
    assert_eq!(t, vec![0.0, 10.0, 20.0, 36.0]);
    assert!((c[3] - 126.0).abs() < 1e-12);
    // A curve already reaching the window end is unchanged.
    let (mut t2, mut c2) = (vec![0.0, 36.0], vec![0.0, 50.0]);
    extend_at_last_rate(&mut t2, &mut c2, 36.0);
    assert_eq!((t2, c2), (vec![0.0, 36.0], vec![0.0, 50.0]));
}

#[test]
fn a_pattern_peak_without_its_basis_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = STORM.replace(
        "[rain]\n",
        "[[pattern_zone]]\nname = \"zone P\"\narea = { county = \"房山区\" }\npoints = [\n  { time = \"2023-07-29 20:00\", cumulative_mm = 0.0 },\n  { time = \"2023-07-31 10:00\", cumulative_mm = 100.0 },\n]\npeak = \"2023-07-31 09:30\"\n\n[rain]\n",
    );
    let p = write_storm(dir.path(), &text);
    let e = load_storm(&p).unwrap_err().to_string();
    assert!(e.contains("pattern_zone[0] (zone P).peak_basis"), "{e}");
    // With a basis but a tail without one: the tail is named.
    let text2 = text.replace(
        "peak = \"2023-07-31 09:30\"\n",
        "peak = \"2023-07-31 09:30\"\npeak_basis = \"test\"\ntail = \"last_rate\"\n",
    );
    let p2 = write_storm(dir.path(), &text2);
    let e2 = load_storm(&p2).unwrap_err().to_string();
    assert!(e2.contains("pattern_zone[0] (zone P).tail_basis"), "{e2}");
}

#[test]
fn beihedian_snaps_to_the_main_stem_from_the_town_not_a_tributary_from_the_county_point() {
    // 北河店 (南拒马河, 2012) has no published catchment area, so the largest upstream
    // area within 10 km stands for the main stem. From the county row of counties.csv
    // (115.751 E, 39.211 N, 6.6 km SW of the town) the model's 南拒马河 lies beyond 10 km
    // and the gauge landed on a tributary of a few hundred km²; from the town of 定兴
    // (GeoNames 'Dingxing' 1812741, 115.79055 E, 39.26423 N) it reaches the main stem,
    // which drains the 易县/涞源/涞水 mountains (over 2000 km² on the model's D8).
    let acc = haihe::grid::read_raster(&root().join("rasters/model/flow_acc.tif")).unwrap();
    let wgs = epsg_wkt(4326).unwrap();
    let pts = haihe::grid::warp::transform_points(
        &[(115.751, 39.211), (115.79055, 39.26423)],
        &wgs,
        &acc.crs_wkt,
    )
    .unwrap();
    let cell_km = acc.transform.dx.abs() / 1000.0;
    let snap = |(x, y): (f64, f64)| {
        let (r, c) = acc.cell_of(x, y).unwrap();
        snap_gauge(acc.data.view(), r, c, cell_km, 10.0, None).unwrap()
    };
    let county_point = snap(pts[0]);
    let town = snap(pts[1]);
    assert!(county_point.area_km2 < 1000.0, "{county_point:?}");
    assert!(town.area_km2 > 2000.0, "{town:?}");
    // The shipped storm file places the gauge at the town.
    let text =
        std::fs::read_to_string(root().join("models/storms/2012-07-21-beijing.toml")).unwrap();
    assert!(text.contains("place = \"Dingxing#1812741\""));
}
