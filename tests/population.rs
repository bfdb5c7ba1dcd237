//! Tests of the county table, the dasymetric population grid and the land-cover rules.

use haihe::prepare::counties::{
    load_zone_merges, merge_zones, read_census, write_counties_csv, CensusRow, CountyRecord,
    ZoneMerge,
};
use haihe::prepare::land_cover::{
    classify_land_cover, load_land_cover_params, local_relief, LandCover, LandCoverParams,
};
use haihe::prepare::population::{
    population_weights, spread_population, PlacePoint, PopulationWeightParams,
};
use ndarray::{array, Array2};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared data folder: `../shared` beside the repository, else /work/shared.
fn shared() -> Option<PathBuf> {
    [repo().join("../shared"), PathBuf::from("/work/shared")]
        .into_iter()
        .find(|p| {
            p.join("reference/census2020/census2020_counties.csv")
                .exists()
        })
}

fn row(adcode: u32, city: &str, county: &str, population: f64) -> CensusRow {
    CensusRow {
        adcode,
        province: "河北省".into(),
        city: city.into(),
        county: county.into(),
        population,
        source_title: "test".into(),
        source_address: "test".into(),
        note: String::new(),
    }
}

fn merge(zone: u32, zone_name: &str, host: u32, host_name: &str) -> ZoneMerge {
    ZoneMerge {
        zone_adcode: zone,
        zone_name: zone_name.into(),
        host_adcode: host,
        host_name: host_name.into(),
        basis: "test".into(),
    }
}

fn sample_rows() -> Vec<CensusRow> {
    vec![
        row(130684, "保定市", "高碑店市", 532_731.0),
        row(130672, "保定市", "保定白沟新城", 153_132.0),
        row(131003, "廊坊市", "广阳区", 538_798.0),
        row(131002, "廊坊市", "安次区", 479_826.0),
        row(131071, "廊坊市", "廊坊经济技术开发区", 128_967.0),
    ]
}

#[test]
fn merge_zones_keeps_total_and_adds_each_zone_to_its_host() {
    let rows = sample_rows();
    let merges = vec![
        merge(130672, "保定白沟新城", 130684, "高碑店市"),
        merge(131071, "廊坊经济技术开发区", 131003, "广阳区"),
    ];
    let out = merge_zones(&rows, &merges, Path::new("zones.toml")).unwrap();
    assert_eq!(out.len(), 3, "zones must not appear as counties");
    let total_in: f64 = rows.iter().map(|r| r.population).sum();
    let total_out: f64 = out.values().map(|c| c.population).sum();
    assert_eq!(total_in, total_out);
    assert_eq!(total_out, 1_833_454.0);
    let gbd = &out[&130684];
    assert_eq!(gbd.population, 532_731.0 + 153_132.0);
    assert_eq!(gbd.zone_population_added, 153_132.0);
    assert_eq!(gbd.zones, vec!["保定白沟新城".to_string()]);
    assert_eq!(out[&131003].population, 538_798.0 + 128_967.0);
    assert_eq!(out[&131002].population, 479_826.0);
    assert_eq!(out[&131002].zone_population_added, 0.0);
    assert!(out[&131002].zones.is_empty());
}

#[test]
fn merge_zones_refuses_a_zone_without_entry() {
    let rows = sample_rows();
    let merges = vec![merge(130672, "保定白沟新城", 130684, "高碑店市")];
    let err = merge_zones(&rows, &merges, Path::new("models/census_zones.toml"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("廊坊经济技术开发区"), "{err}");
    assert!(err.contains("131071"), "{err}");
    assert!(err.contains("models/census_zones.toml"), "{err}");
}

#[test]
fn merge_zones_refuses_bad_hosts_and_names() {
    let rows = sample_rows();
    let file = Path::new("z.toml");
    // Host missing from the table.
    let bad_host = vec![
        merge(130672, "保定白沟新城", 130699, "某县"),
        merge(131071, "廊坊经济技术开发区", 131003, "广阳区"),
    ];
    let err = merge_zones(&rows, &bad_host, file).unwrap_err().to_string();
    assert!(err.contains("130699") && err.contains("z.toml"), "{err}");
    // Host name that does not match its code.
    let bad_name = vec![
        merge(130672, "保定白沟新城", 130684, "涿州市"),
        merge(131071, "廊坊经济技术开发区", 131003, "广阳区"),
    ];
    let err = merge_zones(&rows, &bad_name, file).unwrap_err().to_string();
    assert!(err.contains("涿州市") && err.contains("高碑店市"), "{err}");
    // A host that is itself a zone.
    let zone_host = vec![
        merge(130672, "保定白沟新城", 131071, "廊坊经济技术开发区"),
        merge(131071, "廊坊经济技术开发区", 131003, "广阳区"),
    ];
    assert!(merge_zones(&rows, &zone_host, file).is_err());
    // Two entries for one zone.
    let twice = vec![
        merge(130672, "保定白沟新城", 130684, "高碑店市"),
        merge(130672, "保定白沟新城", 130684, "高碑店市"),
        merge(131071, "廊坊经济技术开发区", 131003, "广阳区"),
    ];
    assert!(merge_zones(&rows, &twice, file).is_err());
}

#[test]
fn read_census_names_file_row_and_column_of_a_bad_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("census.csv");
    std::fs::write(
        &path,
        "province,city,county,adcode,population_2020,source_title,source_address,note\n\
         北京市,北京市,东城区,110101,708829,t,a,\n\
         北京市,北京市,西城区,110102,12x4,t,a,\n",
    )
    .unwrap();
    let err = read_census(&path).unwrap_err().to_string();
    assert!(err.contains("census.csv"), "{err}");
    assert!(err.contains("row 3"), "{err}");
    assert!(err.contains("population_2020"), "{err}");
    assert!(err.contains("12x4"), "{err}");
}

#[test]
fn zone_file_refuses_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zones.toml");
    std::fs::write(
        &path,
        "[[zone]]\nzone_adcode = 1\nzone_name = \"a\"\nhost_adcode = 2\nhost_name = \"b\"\nbasis = \"c\"\nhots = 3\n",
    )
    .unwrap();
    let err = load_zone_merges(&path).unwrap_err().to_string();
    assert!(err.contains("hots"), "{err}");
}

#[test]
fn real_census_merges_and_keeps_beijing_and_tianjin_totals() {
    let Some(shared) = shared() else {
        eprintln!("SKIPPED: shared/reference/census2020 not found beside the repository or at /work/shared");
        return;
    };
    let rows = read_census(&shared.join("reference/census2020/census2020_counties.csv")).unwrap();
    assert_eq!(rows.len(), 205);
    let zones_path = repo().join("models/census_zones.toml");
    let merges = load_zone_merges(&zones_path).unwrap();
    let zone_rows = rows.iter().filter(|r| r.is_zone()).count();
    assert_eq!(merges.len(), zone_rows, "one merge entry per zone row");
    let merged = merge_zones(&rows, &merges, &zones_path).unwrap();
    assert_eq!(merged.len(), 205 - zone_rows);
    let total_in: f64 = rows.iter().map(|r| r.population).sum();
    let total_out: f64 = merged.values().map(|c| c.population).sum();
    assert_eq!(total_in, total_out);
    let province = |p: &str| -> f64 {
        merged
            .values()
            .filter(|c| c.province == p)
            .map(|c| c.population)
            .sum()
    };
    let beijing: Vec<_> = merged.values().filter(|c| c.province == "北京市").collect();
    assert_eq!(beijing.len(), 16);
    assert_eq!(province("北京市"), 21_893_095.0);
    assert_eq!(province("天津市"), 13_866_009.0);
    // Each prefecture keeps its total: zones are merged within their own city.
    let mut city_in: BTreeMap<&str, f64> = BTreeMap::new();
    for r in &rows {
        *city_in.entry(r.city.as_str()).or_default() += r.population;
    }
    for (city, total) in city_in {
        let out: f64 = merged
            .values()
            .filter(|c| c.city == city)
            .map(|c| c.population)
            .sum();
        assert_eq!(out, total, "{city}");
    }
    // 保定 as the census README states (incl. 定州 and the 雄安 counties).
    assert_eq!(
        merged
            .values()
            .filter(|c| c.city == "保定市")
            .map(|c| c.population)
            .sum::<f64>(),
        11_544_036.0
    );
    assert_eq!(merged[&130684].population, 532_731.0 + 153_132.0);
}

#[test]
fn counties_csv_is_written_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("counties.csv");
    let records = vec![
        CountyRecord {
            adcode: 130684,
            name: "高碑店市".into(),
            province: "河北省".into(),
            city: "保定市".into(),
            area_km2: 618.0,
            polygon_area_km2: 621.5,
            population_2020: Some(685_863.0),
            population_basis: "census 2020 + 保定白沟新城".into(),
            seat_lon: 116.054,
            seat_lat: 39.243,
        },
        CountyRecord {
            adcode: 150902,
            name: "集宁区".into(),
            province: "内蒙古自治区".into(),
            city: "乌兰察布市".into(),
            area_km2: 3.0,
            polygon_area_km2: 400.0,
            population_2020: None,
            population_basis: "no census row".into(),
            seat_lon: 113.1,
            seat_lat: 41.0,
        },
    ];
    write_counties_csv(&path, &records).unwrap();
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        vec![
            "adcode",
            "name",
            "province",
            "city",
            "area_km2",
            "polygon_area_km2",
            "population_2020",
            "population_basis",
            "seat_lon",
            "seat_lat"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][1], "高碑店市");
    assert_eq!(rows[0][6].parse::<f64>().unwrap(), 685_863.0);
    assert_eq!(&rows[1][6], "");
    // Only the CSV is left in the folder (the temporary file was renamed).
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

/// 6 × 6 grid: county 1 (9 cells, weighted), 2 (9 cells, all weights zero),
/// 3 (12 cells, weights 1..12), 4 (2 cells, no total), 0 outside (4 cells).
fn six_by_six() -> (Array2<i32>, Array2<f64>, BTreeMap<u32, f64>) {
    let codes = array![
        [1, 1, 1, 2, 2, 2],
        [1, 1, 1, 2, 2, 2],
        [1, 1, 1, 2, 2, 2],
        [3, 3, 3, 3, 0, 0],
        [3, 3, 3, 3, 0, 0],
        [3, 3, 3, 3, 4, 4],
    ];
    let mut weights = Array2::<f64>::zeros((6, 6));
    // County 1: weights 1, 2, 3, 4 in four cells, 0 in the other five.
    weights[[0, 0]] = 1.0;
    weights[[0, 1]] = 2.0;
    weights[[0, 2]] = 3.0;
    weights[[1, 0]] = 4.0;
    // County 3: weights 1..12 in row-major order.
    let mut k = 1.0;
    for r in 3..6 {
        for c in 0..4 {
            weights[[r, c]] = k;
            k += 1.0;
        }
    }
    // Outside cells and county 4 carry weights that must be ignored or unused.
    weights[[3, 4]] = 7.0;
    weights[[5, 5]] = 3.0;
    let totals = BTreeMap::from([(1, 1000.0), (2, 900.0), (3, 12_345.678), (99, 500.0)]);
    (codes, weights, totals)
}

#[test]
fn spread_population_keeps_each_county_total() {
    let (codes, weights, totals) = six_by_six();
    let out = spread_population(codes.view(), &totals, weights.view()).unwrap();
    for (&code, &total) in totals.iter().filter(|(&c, _)| c != 99) {
        let sum: f64 = out
            .population
            .iter()
            .zip(codes.iter())
            .filter(|(_, &c)| c == code as i32)
            .map(|(p, _)| p)
            .sum();
        assert!(
            ((sum - total) / total).abs() < 1e-12,
            "county {code}: {sum} vs {total}"
        );
    }
}

#[test]
fn spread_population_follows_the_weights() {
    let (codes, weights, totals) = six_by_six();
    let p = spread_population(codes.view(), &totals, weights.view())
        .unwrap()
        .population;
    // County 1: weights 1, 2, 3, 4 of a sum of 10 → 100, 200, 300, 400 persons.
    assert!((p[[0, 0]] - 100.0).abs() < 1e-9);
    assert!((p[[0, 1]] - 200.0).abs() < 1e-9);
    assert!((p[[0, 2]] - 300.0).abs() < 1e-9);
    assert!((p[[1, 0]] - 400.0).abs() < 1e-9);
    assert_eq!(p[[2, 2]], 0.0);
    // County 3: weight k of a sum of 78 → 12,345.678 k / 78; k = 6 → 949.6675384615…
    assert!((p[[4, 1]] - 949.667_538_461_538_5).abs() < 1e-9);
    assert!((p[[5, 3]] - 12.0 * 949.667_538_461_538_5 / 6.0).abs() < 1e-9);
    // Outside every county: 0 whatever the weight.
    assert_eq!(p[[3, 4]], 0.0);
    assert_eq!(p[[4, 5]], 0.0);
}

#[test]
fn spread_population_is_uniform_where_weights_are_zero() {
    let (codes, weights, totals) = six_by_six();
    let p = spread_population(codes.view(), &totals, weights.view())
        .unwrap()
        .population;
    for r in 0..3 {
        for c in 3..6 {
            assert!(
                (p[[r, c]] - 100.0).abs() < 1e-9,
                "({r},{c}) = {}",
                p[[r, c]]
            );
        }
    }
}

#[test]
fn spread_population_reports_missing_and_absent_counties() {
    let (codes, weights, totals) = six_by_six();
    let out = spread_population(codes.view(), &totals, weights.view()).unwrap();
    assert_eq!(out.missing_totals, vec![4]);
    assert!(out.population[[5, 4]].is_nan());
    assert!(out.population[[5, 5]].is_nan());
    assert_eq!(out.absent_from_grid, vec![99]);
}

#[test]
fn spread_population_refuses_bad_input() {
    let (codes, mut weights, totals) = six_by_six();
    let small = Array2::<f64>::zeros((5, 6));
    assert!(spread_population(codes.view(), &totals, small.view()).is_err());
    weights[[0, 0]] = -1.0;
    assert!(spread_population(codes.view(), &totals, weights.view()).is_err());
    weights[[0, 0]] = f64::NAN;
    assert!(spread_population(codes.view(), &totals, weights.view()).is_err());
}

#[test]
fn population_weights_terrain_places_and_seats() {
    let n = 40;
    let codes = Array2::<i32>::from_shape_fn((n, n), |(r, _)| if r < 20 { 1 } else { 2 });
    // West half mountain (600 m), east half plain (20 m), relief 0.
    let dem = Array2::<f64>::from_shape_fn((n, n), |(_, c)| if c < 20 { 600.0 } else { 20.0 });
    let relief = Array2::<f64>::zeros((n, n));
    let base = PopulationWeightParams {
        seat_population: 0.0,
        ..PopulationWeightParams::default()
    };
    // Background only: plain cells carry ρ_rural × 1 km², mountain cells × factor.
    let w = population_weights(
        codes.view(),
        dem.view(),
        relief.view(),
        &[],
        &[],
        1000.0,
        &base,
    );
    assert!((w[[5, 30]] - 150.0).abs() < 1e-12);
    assert!((w[[5, 5]] - 150.0 * 0.2).abs() < 1e-12);

    // One place of 40,000 persons in the middle of the plain of county 2: kernel
    // σ = 1.5 km × 2 = 3 km; cut at 3σ, the grid holds 1 − e^(−4.5) of its mass.
    let only_places = PopulationWeightParams {
        rural_density_per_km2: 0.0,
        seat_population: 0.0,
        ..PopulationWeightParams::default()
    };
    let place = PlacePoint {
        row: 30.0,
        col: 30.0,
        population: Some(40_000.0),
    };
    let w = population_weights(
        codes.view(),
        dem.view(),
        relief.view(),
        &[place],
        &[],
        1000.0,
        &only_places,
    );
    let expected = 40_000.0 * (1.0 - (-4.5f64).exp());
    assert!(
        ((w.sum() - expected) / expected).abs() < 0.01,
        "{} vs {expected}",
        w.sum()
    );
    // Peak at the four cells around the point, symmetric about it.
    assert!((w[[29, 29]] - w[[30, 30]]).abs() < 1e-9);
    assert!(w[[29, 29]] > w[[28, 28]]);
    assert_eq!(w[[5, 5]], 0.0);

    // A seat kernel stays inside its own county.
    let only_seat = PopulationWeightParams {
        rural_density_per_km2: 0.0,
        ..PopulationWeightParams::default()
    };
    let w = population_weights(
        codes.view(),
        dem.view(),
        relief.view(),
        &[],
        &[(2, 20.5, 30.5)],
        1000.0,
        &only_seat,
    );
    assert_eq!(
        w[[19, 30]],
        0.0,
        "county 1 must get nothing from county 2's seat"
    );
    assert!(w[[20, 30]] > w[[25, 30]] && w[[25, 30]] > 0.0);
}

#[test]
fn population_weights_do_not_depend_on_thread_count() {
    let n = 60;
    let codes = Array2::<i32>::from_shape_fn((n, n), |(r, c)| 1 + ((r / 20) * 3 + c / 20) as i32);
    let dem = Array2::<f64>::from_shape_fn((n, n), |(r, c)| ((r * 7 + c * 13) % 400) as f64);
    let relief = local_relief(dem.view(), 1);
    let places: Vec<PlacePoint> = (0..50)
        .map(|i| PlacePoint {
            row: (i * 37 % 600) as f64 / 10.0,
            col: (i * 53 % 600) as f64 / 10.0,
            population: if i % 3 == 0 {
                None
            } else {
                Some(1000.0 * i as f64)
            },
        })
        .collect();
    let seats: Vec<(u32, f64, f64)> = (1..=9)
        .map(|k| {
            (
                k,
                ((k - 1) / 3) as f64 * 20.0 + 10.0,
                ((k - 1) % 3) as f64 * 20.0 + 10.0,
            )
        })
        .collect();
    let params = PopulationWeightParams::default();
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                population_weights(
                    codes.view(),
                    dem.view(),
                    relief.view(),
                    &places,
                    &seats,
                    1000.0,
                    &params,
                )
            })
    };
    let a = run(1);
    let b = run(4);
    assert!(a
        .iter()
        .zip(b.iter())
        .all(|(x, y)| x.to_bits() == y.to_bits()));
}

#[test]
fn classify_land_cover_hand_grid() {
    let nan = f64::NAN;
    let dem = array![[nan, 10.0, nan, 800.0], [300.0, 50.0, 50.0, 50.0]];
    let relief = array![[0.0, 0.0, 0.0, 20.0], [20.0, 150.0, 20.0, nan]];
    let water = array![[true, false, false, false], [false, false, false, false]];
    let wetland = array![[false, true, false, false], [false, false, false, false]];
    let density = array![[0.0, 5000.0, 0.0, 2000.0], [10.0, 10.0, 1499.0, nan]];
    let params = LandCoverParams::default();
    let lc = classify_land_cover(
        dem.view(),
        relief.view(),
        water.view(),
        wetland.view(),
        density.view(),
        &params,
    );
    let expected = array![
        [
            LandCover::Water,
            LandCover::Wetland,
            LandCover::NoData,
            LandCover::Urban
        ],
        [
            LandCover::Mountain,
            LandCover::Mountain,
            LandCover::Cropland,
            LandCover::Cropland
        ]
    ]
    .mapv(|c| c as u8);
    assert_eq!(lc, expected);
    assert_eq!(expected[[0, 0]], 4);
    assert_eq!(expected[[1, 2]], 2);
    assert_eq!(LandCover::from_code(3), Some(LandCover::Urban));
    assert_eq!(LandCover::from_code(6), None);
    assert_eq!(LandCover::Mountain.name(), "mountain forest/grass");
}

#[test]
fn local_relief_hand_grid() {
    let nan = f64::NAN;
    let dem = array![[1.0, 5.0, 2.0], [4.0, nan, 9.0], [0.0, 3.0, 7.0]];
    let relief = local_relief(dem.view(), 1);
    assert_eq!(relief[[0, 0]], 4.0); // 1, 5, 4
    assert_eq!(relief[[0, 2]], 7.0); // 5, 2, 9
    assert_eq!(relief[[2, 0]], 4.0); // 4, 0, 3
    assert_eq!(relief[[2, 2]], 6.0); // 9, 3, 7
    assert_eq!(relief[[0, 1]], 8.0); // 1, 5, 2, 4, 9
    assert!(relief[[1, 1]].is_nan());
    let flat = local_relief(dem.view(), 0);
    assert_eq!(flat[[0, 0]], 0.0);
}

#[test]
fn land_cover_file_matches_defaults_and_refuses_unknown_keys() {
    let params = load_land_cover_params(&repo().join("models/land_cover.toml")).unwrap();
    assert_eq!(params, LandCoverParams::default());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lc.toml");
    let text = std::fs::read_to_string(repo().join("models/land_cover.toml"))
        .unwrap()
        .replace("value = 1500.0", "value = 1500.0\nunits = \"x\"");
    std::fs::write(&path, text).unwrap();
    let err = load_land_cover_params(&path).unwrap_err().to_string();
    assert!(err.contains("units"), "{err}");
    // A threshold without source or assumption is refused.
    let text = std::fs::read_to_string(repo().join("models/land_cover.toml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("assumption = \"A 3 x 3 window"))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&path, text).unwrap();
    let err = load_land_cover_params(&path).unwrap_err().to_string();
    assert!(err.contains("relief_window_radius_cells"), "{err}");
}
