//! Exposure products: population classes and red-line areas by hand, lifeline rows on a
//! hand-built network against the fragility formula and max-flow by hand, a real quake
//! run producing all four files, a combined flood + quake case, determinism across
//! thread counts, and bad input.

use haihe::exposure::lifeline::{
    component_cells, lifeline_exposure, recovery_metrics, HazardsPresent, LifelineSettings,
};
use haihe::exposure::population::{population_cumulative, redline_exposure};
use haihe::exposure::{assess_run, ExposureOptions, GroupZones, EXPOSURE_FILES};
use haihe::grid::io::{epsg_wkt, write_geotiff};
use haihe::grid::warp::{transform_points, GridSpec};
use haihe::lifelines::fragility::std_normal_cdf;
use haihe::lifelines::{assess, Fragility, Intensity, LifelineType, Link, Network, Node};
use haihe::{Error, GeoTransform, Grid};
use ndarray::{array, Array2};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("exposure-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn utm() -> String {
    epsg_wkt(32650).unwrap()
}

/// A 2 × 3 grid of 1 km cells.
fn small<T>(data: Array2<T>) -> Grid<T> {
    Grid::new(
        data,
        GeoTransform {
            x0: 400_000.0,
            dx: 1000.0,
            y0: 4_430_000.0,
            dy: -1000.0,
        },
        utm(),
        None,
    )
}

/// Three overlapping groups on the 2 × 3 grid: the top row, the left column pair, all.
fn three_groups(spec: GridSpec) -> GroupZones {
    let m = |cells: &[usize]| {
        let mut a = Array2::from_elem((2, 3), false);
        for &i in cells {
            a[[i / 3, i % 3]] = true;
        }
        a
    };
    GroupZones::from_masks(
        spec,
        vec![
            ("g-top".into(), "top".into(), "core".into(), m(&[0, 1, 2])),
            ("g-left".into(), "left".into(), "core".into(), m(&[0, 3])),
            (
                "g-all".into(),
                "all".into(),
                "circle".into(),
                m(&[0, 1, 2, 3, 4, 5]),
            ),
        ],
    )
}

#[test]
fn population_classes_by_hand() {
    let pop = small(array![[100.0f32, 200.0, 300.0], [400.0, f32::NAN, 600.0]]);
    let depth = small(array![[0.15f32, 0.6, 2.0], [f32::NAN, 1.5, 0.16]]);
    let pga = small(array![[0.05f32, 0.12, 0.20], [0.45, 0.30, 0.0999]]);
    let zones = three_groups(pop.spec());
    let rows = population_cumulative(&zones, &pop, Some(&depth), Some(&pga)).unwrap();
    assert_eq!(rows.len(), 3);
    // top: cells 100 (d 0.15, a 0.05), 200 (0.6, 0.12), 300 (2.0, 0.20).
    let top = &rows[0];
    assert_eq!(top.population, 600.0);
    // > 0.15 is strict: 0.15 m does not count.
    assert_eq!(top.depth_gt.as_ref().unwrap(), &vec![500.0, 500.0, 300.0]);
    assert_eq!(
        top.pga_ge.as_ref().unwrap(),
        &vec![600.0, 500.0, 300.0, 300.0, 0.0, 0.0]
    );
    // left: 100 and 400 (depth NaN counts as dry; PGA 0.45).
    let left = &rows[1];
    assert_eq!(left.population, 500.0);
    assert_eq!(left.depth_gt.as_ref().unwrap(), &vec![0.0, 0.0, 0.0]);
    assert_eq!(
        left.pga_ge.as_ref().unwrap(),
        &vec![500.0, 400.0, 400.0, 400.0, 400.0, 400.0]
    );
    // all: NaN residents count as 0; 600 at 0.16 m and 0.0999 g (≥ 0.05 g).
    let all = &rows[2];
    assert_eq!(all.population, 1600.0);
    assert_eq!(all.depth_gt.as_ref().unwrap(), &vec![1100.0, 500.0, 300.0]);
    assert_eq!(
        all.pga_ge.as_ref().unwrap(),
        &vec![1600.0, 900.0, 700.0, 700.0, 400.0, 400.0]
    );
    // Without hazards the columns are absent, not zero.
    let none = population_cumulative(&zones, &pop, None, None).unwrap();
    assert!(none
        .iter()
        .all(|r| r.depth_gt.is_none() && r.pga_ge.is_none()));

    // Red line: classes > 0 on cells 0, 2, 4; 1 km² each.
    let red = small(array![[1u8, 0, 3], [0, 2, 0]]);
    let storage = BTreeMap::from([("g-all".to_string(), 5.0e6)]);
    let r = redline_exposure(&zones, &red, Some(&depth), Some(&pga), &storage).unwrap();
    assert_eq!(r[0].redline_km2, 2.0);
    assert_eq!(r[0].redline_flooded_km2, Some(1.0)); // cell 2 at 2.0 m; cell 0 at 0.15 m
    assert_eq!(r[0].redline_shaken_km2, Some(1.0)); // cell 2 at 0.20 g
    assert_eq!(r[0].wetland_storage_m3, None);
    assert_eq!(r[2].redline_km2, 3.0);
    assert_eq!(r[2].redline_flooded_km2, Some(2.0)); // cells 2 and 4 (1.5 m > 0.5)
    assert_eq!(r[2].redline_shaken_km2, Some(2.0)); // cells 2 and 4 (0.30 g)
    assert_eq!(r[2].wetland_storage_m3, Some(5.0e6));
    // A hazard on another grid is refused.
    let other = Grid::new(
        Array2::from_elem((2, 3), 1.0f32),
        GeoTransform {
            x0: 401_000.0,
            dx: 1000.0,
            y0: 4_430_000.0,
            dy: -1000.0,
        },
        utm(),
        None,
    );
    assert!(population_cumulative(&zones, &pop, Some(&other), None).is_err());
}

const FRAGILITY: &str = r#"
[[component]]
class = "sub"
description = "test substation"
nonfunctional_from = "extensive"
[component.shaking]
model = "lognormal"
theta_g = [0.15, 0.25, 0.35, 0.70]
beta = [0.60, 0.60, 0.50, 0.50]
source = "test"
[component.flood]
model = "threshold"
threshold_m = 0.5
outage_days = 7.0
source = "test"
[component.restoration]
mean_days = [1.0, 3.0, 7.0, 30.0]
sd_days = [0.5, 1.5, 3.5, 15.0]
source = "test"

[[component]]
class = "line"
description = "test line"
nonfunctional_from = "complete"
[component.shaking]
model = "not_assessed"
needs = "a line fragility"
reason = "test"
[component.flood]
model = "not_assessed"
reason = "test"
[component.restoration]
mean_days = [1.0, 3.0, 7.0, 30.0]
sd_days = [0.5, 1.5, 3.5, 15.0]
source = "test"
"#;

fn node(id: &str, lon: f64, source: bool) -> Node {
    Node {
        id: id.into(),
        name: id.into(),
        lifeline: LifelineType::Power,
        kind: if source { "source" } else { "substation" }.into(),
        source,
        component: "sub".into(),
        lon,
        lat: 40.0,
        capacity: None,
        capacity_unit: String::new(),
        criticality: 1.0,
        proxy: false,
        extra: Default::default(),
        layer: PathBuf::from("test.geojson"),
    }
}

fn link(id: &str, net: &Network, from: usize, to: usize) -> Link {
    let path = vec![
        (net.nodes[from].lon, net.nodes[from].lat),
        (net.nodes[to].lon, net.nodes[to].lat),
    ];
    Link {
        id: id.into(),
        name: id.into(),
        lifeline: LifelineType::Power,
        from,
        to,
        component: "line".into(),
        length_km: haihe::lifelines::network::polyline_km(&path),
        path,
        capacity: None,
        capacity_unit: String::new(),
        criticality: 1.0,
        proxy: false,
        extra: Default::default(),
        layer: PathBuf::from("test.geojson"),
    }
}

/// Source S and substations A, B on 40° N, 0.1° apart; links S–A, A–B, S–B.
fn triangle() -> Network {
    let mut net = Network::default();
    net.nodes = vec![
        node("S", 116.0, true),
        node("A", 116.1, false),
        node("B", 116.2, false),
    ];
    net.links = vec![
        link("SA", &net, 0, 1),
        link("AB", &net, 1, 2),
        link("SB", &net, 0, 2),
    ];
    net
}

/// A 1 km grid around the triangle, and the cell of each node.
fn triangle_grid(net: &Network) -> (GridSpec, Vec<usize>) {
    let pts: Vec<(f64, f64)> = net.nodes.iter().map(|n| (n.lon, n.lat)).collect();
    let xy = transform_points(&pts, "EPSG:4326", &utm()).unwrap();
    let x0 = (xy[0].0 / 1000.0).floor() * 1000.0 - 5000.0;
    let y0 = (xy[0].1 / 1000.0).floor() * 1000.0 + 6000.0;
    let spec = GridSpec {
        transform: GeoTransform {
            x0,
            dx: 1000.0,
            y0,
            dy: -1000.0,
        },
        rows: 12,
        cols: 30,
        crs_wkt: utm(),
    };
    let cells = xy
        .iter()
        .map(|&(x, y)| {
            let (r, c) = spec.transform.fractional_index(x, y);
            r as usize * spec.cols + c as usize
        })
        .collect();
    (spec, cells)
}

struct Case {
    net: Network,
    fragility: Fragility,
    spec: GridSpec,
    cells: Vec<usize>,
    zones: GroupZones,
}

fn case(dir: &Path) -> Case {
    let f = dir.join("fragility.toml");
    std::fs::write(&f, FRAGILITY).unwrap();
    let fragility = Fragility::read(&f).unwrap();
    let net = triangle();
    let (spec, cells) = triangle_grid(&net);
    let mask = |keep: &dyn Fn(usize) -> bool| {
        Array2::from_shape_fn((spec.rows, spec.cols), |(r, c)| keep(r * spec.cols + c))
    };
    let b = cells[2];
    let zones = GroupZones::from_masks(
        spec.clone(),
        vec![
            ("g-b".into(), "B".into(), "core".into(), mask(&|i| i == b)),
            (
                "g-all".into(),
                "all".into(),
                "circle".into(),
                mask(&|_| true),
            ),
            (
                "g-none".into(),
                "none".into(),
                "core".into(),
                mask(&|_| false),
            ),
        ],
    );
    Case {
        net,
        fragility,
        spec,
        cells,
        zones,
    }
}

fn settings(realisations: usize) -> LifelineSettings {
    LifelineSettings {
        seed: 7,
        realisations,
        times_days: (0..=120).map(|i| i as f64 * 0.5).collect(),
    }
}

#[test]
fn lifeline_rows_on_a_hand_built_network() {
    let dir = tmp("triangle");
    let c = case(&dir);
    // Uniform 0.3 g; 1 m of water on B's cell only.
    let pga = c.spec.filled(0.3f32, None);
    let mut depth = c.spec.filled(0.0f32, None);
    let b = c.cells[2];
    depth.data[[b / c.spec.cols, b % c.spec.cols]] = 1.0;
    let hz = assess(
        &c.net,
        &c.fragility,
        &Intensity {
            pga_g: Some(&pga),
            pgv_cms: None,
            flood_depth_m: Some(&depth),
        },
    )
    .unwrap();
    let present = HazardsPresent {
        pga: true,
        pgv: false,
        flood: true,
    };
    let places = component_cells(&c.net, &c.spec).unwrap();
    let out = lifeline_exposure(
        &c.net,
        &c.fragility,
        &hz,
        present,
        &places,
        &c.zones,
        &settings(400),
    );
    assert_eq!(out.rows.len(), 3 * 6);
    let row = |g: &str, l: LifelineType| {
        out.rows
            .iter()
            .find(|r| r.group_id == g && r.lifeline == l)
            .unwrap()
            .clone()
    };
    // Hand: P(DS ≥ moderate) = Φ(ln(0.3/0.25)/0.6) = 0.618 ≥ 0.5, so S and A are exposed;
    // B is flooded. P(out) = P(DS ≥ extensive) = Φ(ln(0.3/0.35)/0.5) for S and A, 1 for B.
    let p_ext = std_normal_cdf((0.3f32 as f64 / 0.35).ln() / 0.5); // the grid holds f32
    assert!((p_ext - 0.37893).abs() < 1e-5, "{p_ext}");
    let all = row("g-all", LifelineType::Power);
    assert_eq!(all.components, 6);
    let len: f64 = c.net.links.iter().map(|l| l.length_km).sum();
    assert!(
        (all.length_km - len).abs() < 1e-9,
        "{} {len}",
        all.length_km
    );
    assert_eq!(all.exposed, Some(3));
    assert!((all.expected_damaged.unwrap() - (2.0 * p_ext + 1.0)).abs() < 1e-9);
    assert_eq!(all.not_assessed, Some(3)); // the three links
                                           // The source lies inside the group: one local source, no outside source.
    assert_eq!(all.paths_intact, Some(1));
    // Group B: the node B plus the ends of A–B and S–B in its cell.
    let gb = row("g-b", LifelineType::Power);
    assert_eq!(gb.components, 3, "{gb:?}");
    assert_eq!(gb.exposed, Some(1));
    assert_eq!(gb.expected_damaged, Some(1.0));
    assert_eq!(gb.not_assessed, Some(2));
    // Two edge-disjoint paths S–B and S–A–B; after the flood B is out: none.
    assert_eq!(gb.paths_intact, Some(2));
    assert_eq!(gb.paths_after_p50, Some(0));
    assert_eq!(gb.service_kept_share, Some(0.0));
    // B is out for the 7-day flood outage at least: Q = 0 up to 7 d.
    let days = gb.days_to_90pct.unwrap();
    assert!(days > 7.0, "{days}");
    assert!(gb.resilience_loss_pct_days.unwrap() >= 700.0 - 1e-9);
    // Other lifelines and the empty group: counts of 0, every other cell empty.
    for r in out
        .rows
        .iter()
        .filter(|r| r.group_id == "g-none" || r.lifeline != LifelineType::Power)
    {
        assert_eq!(r.components, 0);
        assert_eq!(r.length_km, 0.0);
        assert!(r.exposed.is_none() && r.expected_damaged.is_none());
        assert!(r.service_kept_share.is_none() && r.paths_intact.is_none());
        assert!(r.days_to_90pct.is_none() && r.not_assessed.is_none());
    }
    // Whole-network totals equal the all-covering group.
    let t = &out.totals[0];
    assert_eq!((t.components, t.exposed, t.not_assessed), (6, 3, 3));
    assert_eq!(out.totals.len(), 1);

    // Without damage: full service, paths unchanged, no loss.
    let calm = c.spec.filled(0.0f32, None);
    let hz0 = assess(
        &c.net,
        &c.fragility,
        &Intensity {
            pga_g: Some(&calm),
            ..Default::default()
        },
    )
    .unwrap();
    let out0 = lifeline_exposure(
        &c.net,
        &c.fragility,
        &hz0,
        HazardsPresent {
            pga: true,
            ..Default::default()
        },
        &places,
        &c.zones,
        &settings(50),
    );
    let gb0 = out0
        .rows
        .iter()
        .find(|r| r.group_id == "g-b" && r.lifeline == LifelineType::Power)
        .unwrap();
    assert_eq!(gb0.service_kept_share, Some(1.0));
    assert_eq!(gb0.paths_after_p50, Some(2));
    assert_eq!(gb0.days_to_90pct, Some(0.0));
    assert_eq!(gb0.resilience_loss_pct_days, Some(0.0));
    assert_eq!(gb0.expected_damaged, Some(0.0));
}

#[test]
fn recovery_metrics_by_hand() {
    // Q: 0 at 0 and 1 d, 0.5 at 2 d, 1 at 3 d: loss = 100 + 75 + 25 = 200 %·d.
    let (d, loss) = recovery_metrics(&[0.0, 1.0, 2.0, 3.0], &[0.0, 0.0, 0.5, 1.0]);
    assert_eq!(d, Some(3.0));
    assert!((loss - 200.0).abs() < 1e-12);
    let (d, _) = recovery_metrics(&[0.0, 1.0], &[0.2, 0.8]);
    assert_eq!(d, None);
}

#[test]
fn identical_on_one_and_two_threads() {
    let dir = tmp("threads");
    let c = case(&dir);
    let pga = c.spec.filled(0.35f32, None);
    let hz = assess(
        &c.net,
        &c.fragility,
        &Intensity {
            pga_g: Some(&pga),
            ..Default::default()
        },
    )
    .unwrap();
    let places = component_cells(&c.net, &c.spec).unwrap();
    let present = HazardsPresent {
        pga: true,
        ..Default::default()
    };
    let pop = Grid::new(
        Array2::from_shape_fn((c.spec.rows, c.spec.cols), |(r, k)| {
            (r * 7 + k) as f32 * 1.1
        }),
        c.spec.transform,
        utm(),
        None,
    );
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                (
                    lifeline_exposure(
                        &c.net,
                        &c.fragility,
                        &hz,
                        present,
                        &places,
                        &c.zones,
                        &settings(300),
                    ),
                    population_cumulative(&c.zones, &pop, None, Some(&pga)).unwrap(),
                )
            })
    };
    let (a, pa) = run(1);
    let (b, pb) = run(2);
    assert_eq!(a, b);
    assert_eq!(pa, pb);
    // Damage at 0.35 g does happen, so the comparison is not trivial.
    let gb = a
        .rows
        .iter()
        .find(|r| r.group_id == "g-b" && r.lifeline == LifelineType::Power)
        .unwrap();
    let s = gb.service_kept_share.unwrap();
    assert!(s > 0.0 && s < 1.0, "{s}");
}

fn csv_rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (h, rows)
}

fn num(s: &str) -> f64 {
    s.parse()
        .unwrap_or_else(|_| panic!("'{s}' is not a number"))
}

#[test]
fn quake_run_writes_every_product_for_every_group() {
    let dir = tmp("quake");
    let out = dir.join("quake");
    let sc = root().join("models/scenarios/quake-1679-sanhe-pinggu.toml");
    let r = haihe::scenario::quake::run_quake(&sc, &root(), &out).unwrap();
    for f in EXPOSURE_FILES {
        assert!(out.join(f).is_file(), "{f}");
        assert!(r.files.iter().any(|x| x == f), "{f} listed");
    }
    let groups = GroupZones::load(&root().join("rasters/model")).unwrap();
    let n = groups.zones.len();
    assert!(n > 200);

    let (h, pop) = csv_rows(&out.join("exposure_population.csv"));
    assert_eq!(h, haihe::exposure::run::population_columns());
    assert_eq!(pop.len(), n);
    for (row, z) in pop.iter().zip(&groups.zones) {
        assert_eq!(row[0], z.id);
        assert!(row[4..7].iter().all(|c| c.is_empty()), "no flood: {row:?}");
        let v: Vec<f64> = row[7..13].iter().map(|c| num(c)).collect();
        assert!(v.windows(2).all(|w| w[0] >= w[1]), "cumulative: {row:?}");
        assert!(num(&row[3]) + 1e-6 >= v[0]);
    }
    let (h, ll) = csv_rows(&out.join("exposure_lifelines.csv"));
    assert_eq!(h, haihe::exposure::run::LIFELINE_COLUMNS);
    assert_eq!(ll.len(), n * 6);
    let (h, red) = csv_rows(&out.join("exposure_redline.csv"));
    assert_eq!(h, haihe::exposure::run::REDLINE_COLUMNS);
    assert_eq!(red.len(), n);
    assert!(red.iter().all(|r| r[2].is_empty() && !r[3].is_empty()));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("exposure.json")).unwrap()).unwrap();
    assert_eq!(json["groups"].as_u64(), Some(n as u64));
    assert_eq!(json["options"]["seed"].as_u64(), Some(1679));

    // Numbers to quote: the five groups with most residents at ≥ 0.20 g, and the
    // central city's power and water service.
    let mut by: Vec<(f64, String, String)> = pop
        .iter()
        .map(|r| (num(&r[10]), r[0].clone(), r[1].clone()))
        .collect();
    by.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (p, id, name) in by.iter().take(5) {
        println!("≥ 0.20 g: {id} {name}: {p:.0} residents");
    }
    for r in ll
        .iter()
        .filter(|r| r[0] == "beijing-central-city" && (r[1] == "power" || r[1] == "water_supply"))
    {
        println!("central city {}: {}", r[1], r.join(","));
        assert!(
            !r[6].is_empty(),
            "the central city has {} nodes: {r:?}",
            r[1]
        );
        let s = num(&r[6]);
        assert!((0.0..=1.0).contains(&s));
    }
    // 1679 repeat: Sanhe lies on the fault, Baoding's seat far away.
    let sanhe = by.iter().find(|x| x.1 == "county-131082").unwrap().0;
    assert!(sanhe > 0.0);

    // Combined: a flood run on the model grid (2 m over the central city) plus the quake.
    let flood = dir.join("flood");
    std::fs::create_dir_all(&flood).unwrap();
    let model =
        haihe::grid::io::read_raster_as::<f32>(&root().join("rasters/model/population.tif"), 1)
            .unwrap();
    let central = groups
        .zones
        .iter()
        .find(|z| z.id == "beijing-central-city")
        .unwrap();
    let mut d = model.spec().filled(0.0f32, None);
    for &i in &central.cells {
        d.data[[i / model.cols(), i % model.cols()]] = 2.0;
    }
    write_geotiff(&d, &flood.join("max_depth.tif")).unwrap();
    let s = assess_run(
        &flood,
        &root(),
        &ExposureOptions {
            combine_with: Some(out.clone()),
            realisations: 50,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(s.hazards.flood && s.hazards.pga && s.hazards.pgv);
    let c = s
        .population
        .iter()
        .find(|r| r.group_id == "beijing-central-city")
        .unwrap();
    let dg = c.depth_gt.as_ref().unwrap();
    assert!((dg[2] - c.population).abs() < 1e-6 * c.population, "{dg:?}");
    assert!(c.pga_ge.is_some());
    let q = by.iter().find(|x| x.1 == "beijing-central-city").unwrap().0;
    assert!((c.pga_ge.as_ref().unwrap()[3] - q).abs() <= 0.05 + 1e-9 * q);
    // Flooded power nodes of the central city are out: service no better than the quake's.
    let quake_power = ll
        .iter()
        .find(|r| r[0] == "beijing-central-city" && r[1] == "power")
        .map(|r| num(&r[6]))
        .unwrap();
    let both = s
        .lifelines
        .iter()
        .find(|r| r.group_id == "beijing-central-city" && r.lifeline == LifelineType::Power)
        .unwrap();
    assert!(both.service_kept_share.unwrap() <= quake_power + 1e-12);
    assert_eq!(both.service_kept_share, Some(0.0), "every node under 2 m");
    for f in EXPOSURE_FILES {
        assert!(flood.join(f).is_file(), "{f}");
    }
}

fn assert_refused(e: Error, path_part: &str, words: &[&str]) {
    let msg = e.to_string();
    assert!(matches!(e, Error::Invalid { .. }), "{msg}");
    assert!(msg.contains(path_part), "'{path_part}' missing from: {msg}");
    for w in words {
        assert!(msg.contains(w), "'{w}' missing from: {msg}");
    }
}

fn nothing_written(dir: &Path) {
    for f in EXPOSURE_FILES {
        assert!(!dir.join(f).exists(), "{f} written after a refusal");
    }
}

#[test]
fn bad_input_is_refused_and_nothing_is_written() {
    let dir = tmp("bad");
    // Neither hazard.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = assess_run(&empty, &root(), &ExposureOptions::default()).unwrap_err();
    assert_refused(e, "empty", &["max_depth.tif", "pga.tif", "haihe quake"]);
    nothing_written(&empty);

    // A hazard grid that is not on the model grid.
    let off = dir.join("off");
    std::fs::create_dir_all(&off).unwrap();
    write_geotiff(
        &small(Array2::from_elem((2, 3), 0.3f32)),
        &off.join("pga.tif"),
    )
    .unwrap();
    let e = assess_run(&off, &root(), &ExposureOptions::default()).unwrap_err();
    assert_refused(e, "pga.tif", &["gdalwarp", "model grid"]);
    nothing_written(&off);

    // An unknown combined folder.
    let flood = dir.join("flood");
    std::fs::create_dir_all(&flood).unwrap();
    let model =
        haihe::grid::io::read_raster_as::<f32>(&root().join("rasters/model/population.tif"), 1)
            .unwrap();
    write_geotiff(
        &model.spec().filled(0.0f32, None),
        &flood.join("max_depth.tif"),
    )
    .unwrap();
    let e = assess_run(
        &flood,
        &root(),
        &ExposureOptions {
            combine_with: Some(dir.join("no-such-run")),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_refused(e, "no-such-run", &["combine_with", "haihe flood"]);
    nothing_written(&flood);

    // Two floods cannot be combined; nor can a run with itself.
    let flood2 = dir.join("flood2");
    std::fs::create_dir_all(&flood2).unwrap();
    std::fs::copy(flood.join("max_depth.tif"), flood2.join("max_depth.tif")).unwrap();
    for other in [flood2, flood.clone()] {
        let e = assess_run(
            &flood,
            &root(),
            &ExposureOptions {
                combine_with: Some(other),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_refused(e, "flood", &["combine_with"]);
    }
    nothing_written(&flood);

    // Bad options.
    let e = assess_run(
        &flood,
        &root(),
        &ExposureOptions {
            realisations: 0,
            ..Default::default()
        },
    )
    .unwrap_err();
    assert_refused(e, "flood", &["realisations"]);
    nothing_written(&flood);
}
