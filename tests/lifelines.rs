//! Lifelines: fragility against Hazus table values by hand, max-flow redundancy and
//! connectivity on hand-built networks, Monte Carlo independent of the thread count,
//! the bundled layers, and bad input.

use haihe::grid::{GeoTransform, Grid};
use haihe::lifelines::fragility::{lognormal_exceedance, std_normal_cdf};
use haihe::lifelines::{
    assess, read_group_members, read_layers, read_network_dir, run_monte_carlo, Fragility,
    GroupMembers, Intensity, LifelineType, MonteCarloConfig, Network, Topology,
};
use haihe::Error;
use ndarray::Array2;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fragility() -> Fragility {
    Fragility::read(&root().join("models/fragility.toml")).expect("fragility table")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// A GeoJSON point node.
fn node(id: &str, lifeline: &str, kind: &str, lon: f64, lat: f64, source: bool) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"id":"{id}","lifeline":"{lifeline}","kind":"{kind}","source":{source}}},"geometry":{{"type":"Point","coordinates":[{lon},{lat}]}}}}"#
    )
}

/// A GeoJSON straight link.
fn link(id: &str, lifeline: &str, from: &str, to: &str, a: (f64, f64), b: (f64, f64)) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"id":"{id}","lifeline":"{lifeline}","from":"{from}","to":"{to}","component":"transmission_line"}},"geometry":{{"type":"LineString","coordinates":[[{},{}],[{},{}]]}}}}"#,
        a.0, a.1, b.0, b.1
    )
}

fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

/// A small power network read through the real loader: nodes at given positions,
/// links by (id, from, to).
fn hand_network(nodes: &[(&str, bool)], links: &[(&str, &str, &str)]) -> Network {
    let dir = tempfile::tempdir().unwrap();
    let pos = |i: usize| (116.0 + 0.1 * i as f64, 39.0 + 0.05 * (i % 3) as f64);
    let mut feats: Vec<String> = nodes
        .iter()
        .enumerate()
        .map(|(i, (id, src))| {
            let (x, y) = pos(i);
            node(id, "power", "substation", x, y, *src)
        })
        .collect();
    let at = |id: &str| pos(nodes.iter().position(|n| n.0 == id).unwrap());
    for (id, a, b) in links {
        feats.push(link(id, "power", a, b, at(a), at(b)));
    }
    let p = write(dir.path(), "net.geojson", &collection(&feats));
    read_layers(&[p]).expect("hand network")
}

fn all_ok(net: &Network) -> Vec<bool> {
    vec![true; net.components()]
}

// ------------------------------------------------------------------ fragility

#[test]
fn lognormal_curves_match_hazus_table_values_by_hand() {
    let f = fragility();
    let s = &f.classes[f.index("EP.S.H.A").unwrap()];
    // Hazus EP.S.H.A: θ = 0.11/0.15/0.20/0.47 g, β = 0.50/0.45/0.35/0.40.
    // By hand at PGA 0.3 g: Φ(ln(0.3/0.11)/0.50) = Φ(2.0066) = 0.97760;
    // Φ(ln 2/0.45) = 0.93826; Φ(ln 1.5/0.35) = 0.87666; Φ(ln(0.3/0.47)/0.40) = 0.13085.
    let p = s.exceedance_pga(0.3);
    let expect = [0.977604, 0.938260, 0.876664, 0.130851];
    for k in 0..4 {
        assert!(
            (p[k] - expect[k]).abs() < 1e-5,
            "state {k}: {} vs {}",
            p[k],
            expect[k]
        );
    }
    // At the median, one half exactly.
    assert!((s.exceedance_pga(0.15)[1] - 0.5).abs() < 1e-12);
    assert!((std_normal_cdf(1.0) - 0.841344746).abs() < 1e-8);
    assert_eq!(lognormal_exceedance(0.0, 0.1, 0.5), 0.0);
    // EP.C.A curves cross (β 0.55 then 0.15): at 1.0 g the raw P(≥ moderate) 0.95214 is
    // below P(≥ extensive) 0.98574; the table is made monotone.
    let c = &f.classes[f.index("EP.C.A").unwrap()];
    let p = c.exceedance_pga(1.0);
    assert!((p[2] - 0.985739).abs() < 1e-5);
    assert!(p[1] >= p[2] && p[0] >= p[1] && p[2] >= p[3]);
    // Tunnels give two states only.
    let t = &f.classes[f.index("HTU1").unwrap()];
    assert!(t.exceedance_pga(2.0)[2] == 0.0 && t.exceedance_pga(2.0)[1] > 0.8);
}

#[test]
fn pipe_repair_rates_match_the_hazus_formula() {
    let f = fragility();
    let brittle = &f.classes[f.index("pipe_brittle").unwrap()];
    let ductile = &f.classes[f.index("pipe_ductile").unwrap()];
    // RR = 0.0001 · 50^2.25 = 0.66479 repairs/km; ductile 0.3 × = 0.19944.
    assert!((brittle.repair_rate_per_km(50.0) - 0.664787).abs() < 1e-5);
    assert!((ductile.repair_rate_per_km(50.0) - 0.199436).abs() < 1e-5);
    assert_eq!(brittle.repair_rate_per_km(0.0), 0.0);
}

#[test]
fn a_fragility_row_with_beta_not_positive_is_refused_by_name() {
    let text = std::fs::read_to_string(root().join("models/fragility.toml")).unwrap();
    let bad = text.replacen(
        "beta = [0.50, 0.45, 0.35, 0.40]",
        "beta = [0.50, 0.0, 0.35, 0.40]",
        1,
    );
    assert_ne!(bad, text);
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "fragility.toml", &bad);
    match Fragility::read(&p) {
        Err(Error::Invalid {
            path,
            field,
            message,
        }) => {
            assert_eq!(path, p);
            assert!(
                field.contains("EP.S.H.A") && field.contains("beta"),
                "{field}"
            );
            assert!(message.contains("moderate"), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
    // A misspelt key is an error too.
    let p = write(dir.path(), "f2.toml", &text.replacen("theta_g", "theta", 1));
    assert!(matches!(Fragility::read(&p), Err(Error::Toml { .. })));
}

// -------------------------------------------------------- connectivity, max-flow

#[test]
fn max_flow_counts_two_then_one_edge_disjoint_paths() {
    // S–A–G and S–B–G: two edge-disjoint paths into the group {G}.
    let net = hand_network(
        &[("S", true), ("A", false), ("B", false), ("G", false)],
        &[
            ("sa", "S", "A"),
            ("ag", "A", "G"),
            ("sb", "S", "B"),
            ("bg", "B", "G"),
        ],
    );
    let topo = Topology::new(&net);
    let g = vec![net.node_index("G").unwrap()];
    let mut ok = all_ok(&net);
    assert_eq!(
        topo.edge_disjoint_paths(&net, LifelineType::Power, &g, &ok),
        2
    );
    // Cut S–B: one path left.
    ok[net.nodes.len() + net.link_index("sb").unwrap()] = false;
    assert_eq!(
        topo.edge_disjoint_paths(&net, LifelineType::Power, &g, &ok),
        1
    );
    // Another lifeline has no nodes in the group.
    assert_eq!(
        topo.edge_disjoint_paths(&net, LifelineType::Gas, &g, &ok),
        0
    );

    // Two routes that share the first link S–X: only one edge-disjoint path.
    let net = hand_network(
        &[
            ("S", true),
            ("X", false),
            ("A", false),
            ("B", false),
            ("G", false),
        ],
        &[
            ("sx", "S", "X"),
            ("xa", "X", "A"),
            ("xb", "X", "B"),
            ("ag", "A", "G"),
            ("bg", "B", "G"),
        ],
    );
    let topo = Topology::new(&net);
    let g = vec![net.node_index("G").unwrap()];
    assert_eq!(
        topo.edge_disjoint_paths(&net, LifelineType::Power, &g, &all_ok(&net)),
        1
    );
    // A group holding a source counts it, plus the paths from the others.
    let g2 = vec![net.node_index("G").unwrap(), net.node_index("S").unwrap()];
    assert_eq!(
        topo.edge_disjoint_paths(&net, LifelineType::Power, &g2, &all_ok(&net)),
        1
    );
}

#[test]
fn connectivity_after_removing_known_links_and_nodes() {
    // S–A–B–C, and a second source T–C.
    let net = hand_network(
        &[
            ("S", true),
            ("A", false),
            ("B", false),
            ("C", false),
            ("T", true),
        ],
        &[
            ("sa", "S", "A"),
            ("ab", "A", "B"),
            ("bc", "B", "C"),
            ("tc", "T", "C"),
        ],
    );
    let topo = Topology::new(&net);
    let (mut served, mut q) = (Vec::new(), VecDeque::new());
    let id = |n: &str| net.node_index(n).unwrap();
    let lk = |n: &str| net.nodes.len() + net.link_index(n).unwrap();
    let mut ok = all_ok(&net);
    topo.served(&net, &ok, &mut served, &mut q);
    assert!(served.iter().all(|&s| s));
    // Remove A–B and T–C: B and C are cut off, S and A still served.
    ok[lk("ab")] = false;
    ok[lk("tc")] = false;
    topo.served(&net, &ok, &mut served, &mut q);
    assert_eq!(served, vec![true, true, false, false, true]);
    // Restore T–C: C and, through B–C, B are served from T.
    ok[lk("tc")] = true;
    topo.served(&net, &ok, &mut served, &mut q);
    assert!(served[id("B")] && served[id("C")]);
    // A failed source serves nobody; a failed node is not served.
    ok[id("T")] = false;
    ok[id("A")] = false;
    topo.served(&net, &ok, &mut served, &mut q);
    assert_eq!(served, vec![true, false, false, false, false]);
}

// ----------------------------------------------------------- bundled network, MC

/// A uniform field over the model domain in EPSG:32650.
fn uniform_grid(value: f32) -> Grid<f32> {
    let wkt = haihe::grid::epsg_wkt(32650).unwrap();
    let t = GeoTransform {
        x0: -100_000.0,
        dx: 5000.0,
        y0: 4_800_000.0,
        dy: -5000.0,
    };
    Grid::new(Array2::from_elem((140, 180), value), t, wkt, None)
}

#[test]
fn bundled_layers_load_and_every_class_is_in_the_table() {
    let net = read_network_dir(&root().join("rasters/lifelines")).expect("bundled layers");
    let f = fragility();
    let count = |t: LifelineType| net.nodes.iter().filter(|n| n.lifeline == t).count();
    for t in [
        LifelineType::WaterSupply,
        LifelineType::Power,
        LifelineType::Gas,
        LifelineType::Road,
        LifelineType::Rail,
    ] {
        assert!(count(t) > 0, "no {} nodes", t.as_str());
        assert!(
            net.nodes.iter().any(|n| n.lifeline == t && n.source),
            "no {} source",
            t.as_str()
        );
    }
    assert_eq!(count(LifelineType::Communications), 0);
    // The road layer is a proxy everywhere.
    assert!(net
        .nodes
        .iter()
        .filter(|n| n.lifeline == LifelineType::Road)
        .all(|n| n.proxy));
    assert!(net
        .links
        .iter()
        .filter(|l| l.lifeline == LifelineType::Road)
        .all(|l| l.proxy));
    // Every node is located by a recorded method.
    assert!(net
        .nodes
        .iter()
        .all(|n| n.extra.get("located_by").is_some_and(|s| !s.is_empty())));
    let h = assess(&net, &f, &Intensity::default()).expect("assess without grids");
    assert!(h.iter().all(|c| c.p_exceed == [0.0; 4] && !c.flooded));
    // 团城湖 lies in 海淀区 and in the central-city group.
    let groups = read_group_members(&net, &root().join("rasters/model")).expect("groups");
    let tch = net.node_index("snwd-tuanchenghu").unwrap();
    let gi = |id: &str| groups.ids.iter().position(|g| g == id).unwrap();
    assert!(groups.members[gi("county-110108")].contains(&tch));
    assert!(groups.members[gi("beijing-central-city")].contains(&tch));
}

#[test]
fn monte_carlo_is_identical_on_one_and_two_threads_and_matches_probabilities() {
    let net = read_network_dir(&root().join("rasters/lifelines")).unwrap();
    let f = fragility();
    let (pga, pgv) = (uniform_grid(0.3), uniform_grid(60.0));
    let intensity = Intensity {
        pga_g: Some(&pga),
        pgv_cms: Some(&pgv),
        flood_depth_m: None,
    };
    let hazards = assess(&net, &f, &intensity).unwrap();
    let groups = GroupMembers {
        ids: vec!["all".into()],
        names: vec!["all".into()],
        members: vec![(0..net.nodes.len()).collect()],
    };
    let cfg = MonteCarloConfig {
        realisations: 400,
        seed: 2024,
        times_days: vec![0.0, 3.0, 30.0, 730.0],
        keep_states: true,
    };
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run_monte_carlo(&net, &f, &hazards, &groups, &cfg))
    };
    let one = run(1);
    let two = run(2);
    assert_eq!(one, two);
    // A substation at 0.3 g: the sampled share at ≥ extensive is near 0.87666 (Hazus
    // EP.S.H.A by hand), within four binomial standard errors.
    let sub = net.node_index("pw-changping").unwrap();
    let c = one.state_counts[sub];
    let share = (c[3] + c[4]) as f64 / cfg.realisations as f64;
    let se = (0.87666f64 * (1.0 - 0.87666) / cfg.realisations as f64).sqrt();
    assert!((share - 0.87666).abs() < 4.0 * se, "{share}");
    // Functionality grows back with time and is whole after two years.
    let q = one.functionality(0, LifelineType::Power).unwrap();
    assert!(
        q[0] < 0.5 && q.windows(2).all(|w| w[1] >= w[0]) && q[3] == 1.0,
        "{q:?}"
    );
    // Roads and rail are not assessed for shaking: fully served throughout.
    assert_eq!(
        one.functionality(0, LifelineType::Road).unwrap(),
        vec![1.0; 4]
    );
    // A different seed gives different draws.
    let other = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
        .install(|| {
            run_monte_carlo(
                &net,
                &f,
                &hazards,
                &groups,
                &MonteCarloConfig {
                    seed: 7,
                    ..cfg.clone()
                },
            )
        });
    assert_ne!(other.states, one.states);
}

#[test]
fn flood_depth_over_a_threshold_cuts_roads_but_not_below_it() {
    let net = read_network_dir(&root().join("rasters/lifelines")).unwrap();
    let f = fragility();
    for (depth, cut) in [(0.69f32, false), (0.71, true)] {
        let d = uniform_grid(depth);
        let h = assess(
            &net,
            &f,
            &Intensity {
                flood_depth_m: Some(&d),
                ..Default::default()
            },
        )
        .unwrap();
        let road = net.nodes.len()
            + net
                .links
                .iter()
                .position(|l| l.lifeline == LifelineType::Road)
                .unwrap();
        assert_eq!(h[road].flooded, cut, "depth {depth}");
        // Rail (ASSUMPTION 0.3 m) is cut at both depths; buried pipes never.
        let rail = net.nodes.len()
            + net
                .links
                .iter()
                .position(|l| l.lifeline == LifelineType::Rail)
                .unwrap();
        assert!(h[rail].flooded);
        let pipe = net.nodes.len() + net.link_index("snwd-l5").unwrap();
        assert!(!h[pipe].flooded);
    }
}

// ------------------------------------------------------------------ bad input

fn expect_invalid(files: &[PathBuf], field: &str, needle: &str) {
    match read_layers(files) {
        Err(Error::Invalid {
            path,
            field: f,
            message,
        }) => {
            assert!(files.contains(&path), "path {path:?}");
            assert_eq!(f, field, "{message}");
            assert!(message.contains(needle), "{message}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn bad_layers_are_refused_naming_file_and_feature() {
    let dir = tempfile::tempdir().unwrap();
    let a = node("a", "power", "substation", 116.0, 39.0, true);
    let b = node("b", "power", "substation", 116.1, 39.0, false);
    // Unknown lifeline type.
    let p = write(
        dir.path(),
        "t.geojson",
        &collection(&[
            a.clone(),
            node("c", "telepathy", "junction", 116.2, 39.0, false),
        ]),
    );
    expect_invalid(&[p], "lifeline", "id 'c'");
    // A link whose end node does not exist.
    let p = write(
        dir.path(),
        "l.geojson",
        &collection(&[
            a.clone(),
            b.clone(),
            link("ab", "power", "a", "zz", (116.0, 39.0), (116.1, 39.0)),
        ]),
    );
    expect_invalid(&[p], "to", "'zz' does not exist");
    // Duplicate id, across two files.
    let p1 = write(
        dir.path(),
        "d1.geojson",
        &collection(std::slice::from_ref(&a)),
    );
    let p2 = write(
        dir.path(),
        "d2.geojson",
        &collection(std::slice::from_ref(&a)),
    );
    expect_invalid(&[p1, p2], "id", "duplicate id 'a'");
    // A link across lifelines.
    let g = node("g", "gas", "junction", 116.2, 39.0, false);
    let p = write(
        dir.path(),
        "x.geojson",
        &collection(&[
            a.clone(),
            g,
            link("ag", "power", "a", "g", (116.0, 39.0), (116.2, 39.0)),
        ]),
    );
    expect_invalid(&[p], "to", "which is gas");
    // A class missing from the fragility table is named at assessment.
    let mut net = hand_network(&[("S", true)], &[]);
    net.nodes[0].component = "no-such-class".into();
    match assess(&net, &fragility(), &Intensity::default()) {
        Err(Error::Invalid { field, message, .. }) => {
            assert_eq!(field, "component");
            assert!(message.contains("no-such-class") && message.contains("'S'"));
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}

/// Prints the intact-network redundancy of the named groups (for the README):
/// `cargo test --test lifelines -- --ignored --nocapture redundancy_of_named_groups`.
#[test]
#[ignore]
fn redundancy_of_named_groups() {
    let net = read_network_dir(&root().join("rasters/lifelines")).unwrap();
    let groups = read_group_members(&net, &root().join("rasters/model")).unwrap();
    let topo = Topology::new(&net);
    let ok = all_ok(&net);
    println!("group | water | power | gas | road | rail");
    for (g, id) in groups.ids.iter().enumerate() {
        if id.starts_with("county-") {
            continue;
        }
        let r: Vec<String> = [
            LifelineType::WaterSupply,
            LifelineType::Power,
            LifelineType::Gas,
            LifelineType::Road,
            LifelineType::Rail,
        ]
        .iter()
        .map(|&t| {
            let n = groups.members[g]
                .iter()
                .filter(|&&v| net.nodes[v].lifeline == t)
                .count();
            if n == 0 {
                "–".to_string()
            } else {
                topo.edge_disjoint_paths(&net, t, &groups.members[g], &ok)
                    .to_string()
            }
        })
        .collect();
        println!("{id} | {}", r.join(" | "));
    }
}
