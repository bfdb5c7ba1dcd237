//! Tests of the resilience scores: hand-computed normalisation and weighting, the
//! missing-weight rule, redundancy, Monte Carlo convergence and determinism, bad input,
//! and one end-to-end `score` on the model grid.

use haihe::lifelines::LifelineType;
use haihe::resilience::indicators::{normalise, N_INDICATORS};
use haihe::resilience::score::{self, nominal_params, Params};
use haihe::resilience::{
    composite, monte_carlo, raw_indicators, ExceedanceCurve, GroupData, IndicatorId, LifelineData,
    Quantity, ResilienceModel, Weights,
};
use haihe::Error;
use std::path::{Path, PathBuf};

fn model() -> ResilienceModel {
    ResilienceModel::read(Path::new("models/resilience.toml")).expect("models/resilience.toml")
}

fn ll(kind: LifelineType, paths: f64) -> LifelineData {
    LifelineData {
        lifeline: kind,
        components: 10.0,
        expected_damaged: Some(Quantity::fixed(2.0)),
        service_kept_share: Some(Quantity::fixed(0.8)),
        paths_after: Some(Quantity::fixed(paths)),
        days_to_90pct: Some(Quantity::fixed(6.0)),
        resilience_loss_pct_days: Some(Quantity::fixed(300.0)),
    }
}

fn group(pop: f64, flooded_05: f64, water_paths: f64) -> GroupData {
    GroupData {
        population: pop,
        area_km2: 100.0,
        flood: Some(ExceedanceCurve {
            thresholds: vec![0.15, 0.5, 1.5],
            persons: vec![flooded_05 * 2.0, flooded_05, flooded_05 / 2.0],
        }),
        quake: None,
        lifelines: vec![
            ll(LifelineType::WaterSupply, water_paths),
            ll(LifelineType::Power, 2.0),
        ],
        refuge_m2: Some(1.0 * pop),
        storage_m3: Some(5e6),
        flood_water_m3: Some(1e7),
        redline_km2: Some(13.0),
        wetland_storage_m3: Some(5e6),
    }
}

/// Simple one-level weights: dimension weights and indicator weights as given.
fn weights(dim: [f64; 5], ind: &[(IndicatorId, f64)]) -> Weights {
    let mut w = Weights {
        dimension: dim,
        indicator: [0.0; N_INDICATORS],
    };
    for (i, v) in ind {
        w.indicator[i.index()] = *v;
    }
    w
}

#[test]
fn normalisation_and_weighting_by_hand_three_groups() {
    // Normalisation: linear, clamped, either direction.
    assert!((normalise(0.75, 0.0, 1.0) - 0.75).abs() < 1e-12);
    assert!((normalise(15.0, 30.0, 0.0) - 0.5).abs() < 1e-12);
    assert_eq!(normalise(45.0, 30.0, 0.0), 0.0);
    assert_eq!(normalise(3.0, 0.0, 2.0), 1.0);
    // Three groups, three indicators in two dimensions: robustness (pop_safe_flood
    // w 0.6, lifeline_service_kept w 0.4; W = 0.5) and rapidity (days_to_90pct w 1;
    // W = 0.5). Other dimensions have no value and are dropped.
    use IndicatorId::*;
    let w = weights(
        [0.5, 0.0, 0.0, 0.5, 0.0],
        &[
            (PopSafeFlood, 0.6),
            (LifelineServiceKept, 0.4),
            (DaysTo90pct, 1.0),
        ],
    );
    // raw (share safe, service kept, days) → normalised with days worst 30, best 0.
    let raws = [(0.9, 0.5, 15.0), (0.5, 1.0, 0.0), (1.0, 0.0, 30.0)];
    // By hand: A: rob = 0.6·0.9 + 0.4·0.5 = 0.74, rap = 0.5 → 100·(0.37 + 0.25) = 62.
    //          B: rob = 0.3 + 0.4 = 0.70, rap = 1 → 85.  C: rob = 0.6, rap = 0 → 30.
    let expect = [62.0, 85.0, 30.0];
    let mut scores = Vec::new();
    for ((s, k, d), e) in raws.iter().zip(expect) {
        let mut n = [None; N_INDICATORS];
        n[PopSafeFlood.index()] = Some(normalise(*s, 0.0, 1.0));
        n[LifelineServiceKept.index()] = Some(normalise(*k, 0.0, 1.0));
        n[DaysTo90pct.index()] = Some(normalise(*d, 30.0, 0.0));
        let c = composite(&n, &w).expect("score");
        assert!((c.score - e).abs() < 1e-9, "score {} against {e}", c.score);
        let sum: f64 = c.effective_weights.iter().sum();
        assert!((sum - 1.0).abs() < 1e-12);
        scores.push(Some(c.score));
    }
    assert_eq!(score::ranks(&scores), vec![Some(2), Some(1), Some(3)]);
}

#[test]
fn missing_indicator_shares_its_weight_within_its_dimension() {
    use IndicatorId::*;
    let w = weights(
        [0.5, 0.0, 0.0, 0.25, 0.25],
        &[
            (PopSafeFlood, 0.5),
            (LifelineServiceKept, 0.25),
            (LifelineIntact, 0.25),
            (DaysTo90pct, 1.0),
            (RedlineShare, 1.0),
        ],
    );
    let mut n = [None; N_INDICATORS];
    n[PopSafeFlood.index()] = Some(1.0);
    n[LifelineServiceKept.index()] = None; // missing
    n[LifelineIntact.index()] = Some(0.4);
    n[DaysTo90pct.index()] = Some(0.2);
    n[RedlineShare.index()] = None; // the whole ecology dimension is missing
    let c = composite(&n, &w).expect("score");
    // Robustness: the missing 0.25 goes to the other two in proportion 0.5 : 0.25,
    // so weights 2/3 and 1/3: sub = 2/3 + 0.4/3 = 0.8. Ecology is dropped: robustness
    // 0.5/0.75 = 2/3, rapidity 1/3. Score = 100·(2/3·0.8 + 1/3·0.2) = 60.
    assert!((c.score - 60.0).abs() < 1e-9, "{}", c.score);
    let e = c.effective_weights;
    assert!((e[PopSafeFlood.index()] - 4.0 / 9.0).abs() < 1e-12);
    assert!((e[LifelineIntact.index()] - 2.0 / 9.0).abs() < 1e-12);
    assert!((e[DaysTo90pct.index()] - 1.0 / 3.0).abs() < 1e-12);
    assert_eq!(e[LifelineServiceKept.index()], 0.0);
    assert_eq!(c.sub_scores[4], None);
    // Drivers: points lost = effective weight × (1 − x): intact 2/9·0.6·100 = 13.3,
    // days 1/3·0.8·100 = 26.7, pop 0.
    let d = haihe::resilience::drivers(&n, &c, 3);
    assert_eq!(d[0].0, DaysTo90pct);
    assert_eq!(d[1].0, LifelineIntact);
    assert_eq!(d.len(), 2);
}

#[test]
fn losing_the_only_water_path_scores_lower_on_redundancy() {
    let m = model();
    let p = nominal_params(&m, 0.0);
    let cut = group(1e5, 1e4, 0.0);
    let two = group(1e5, 1e4, 2.0);
    let sc = |g: &GroupData| {
        let raw = raw_indicators(g, &p.draw);
        composite(&score::normalised(&raw, &p), &p.weights).expect("score")
    };
    let (a, b) = (sc(&cut), sc(&two));
    let red = haihe::resilience::Dimension::Redundancy.index();
    // Water 0 of 2 paths, power 2 of 2: sub = 100·0.2/(0.2+0.2) · 1 = 50 against 100.
    assert!((a.sub_scores[red].unwrap() - 50.0).abs() < 1e-9);
    assert!((b.sub_scores[red].unwrap() - 100.0).abs() < 1e-9);
    assert!(a.score < b.score);
}

fn three_groups() -> Vec<Vec<GroupData>> {
    vec![vec![
        group(1e5, 1e4, 1.0),
        group(2e5, 8e4, 2.0),
        group(5e4, 0.0, 0.0),
    ]]
}

#[test]
fn monte_carlo_p50_converges_between_seeds() {
    let m = model();
    let a = monte_carlo(&m, &three_groups(), 0.0, 1, 2000);
    let b = monte_carlo(&m, &three_groups(), 0.0, 2, 2000);
    // Stated tolerance: 1 score point between two seeds at N = 2000 (the spread p05–p95
    // is about 10–20 points, so the sampling error of the median is well below 1).
    for (x, y) in a.iter().zip(&b) {
        assert!(
            (x.score_p50 - y.score_p50).abs() < 1.0,
            "{} vs {}",
            x.score_p50,
            y.score_p50
        );
        assert!(x.score_p05 <= x.score_p50 && x.score_p50 <= x.score_p95);
        assert!(
            x.score_p95 - x.score_p05 > 1.0,
            "the Monte Carlo should vary the score"
        );
    }
}

#[test]
fn deterministic_on_one_and_two_threads() {
    let m = model();
    let run = |n| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .expect("pool")
            .install(|| monte_carlo(&m, &three_groups(), 0.5, 7, 500))
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn ensemble_members_are_sampled() {
    let m = model();
    // Two members that differ only in flooding: the spread must cover both.
    let mut wet = three_groups();
    wet[0][0].flood = Some(ExceedanceCurve {
        thresholds: vec![0.15, 0.5, 1.5],
        persons: vec![1e5, 1e5, 1e5],
    });
    let members = vec![three_groups()[0].clone(), wet[0].clone()];
    let mc = monte_carlo(&m, &members, 0.0, 3, 1000);
    let dry = monte_carlo(&m, &three_groups(), 0.0, 3, 1000);
    assert!(mc[0].score_p05 < dry[0].score_p05 - 1.0);
}

#[test]
fn weights_not_summing_to_one_name_the_file() {
    let text = std::fs::read_to_string("models/resilience.toml").expect("read");
    let bad = text.replacen(
        "[dimension.ecology]\nweight = { value = 0.2,",
        "[dimension.ecology]\nweight = { value = 0.3,",
        1,
    );
    assert_ne!(bad, text);
    let p = PathBuf::from("my-weights.toml");
    let e = ResilienceModel::from_toml(&bad, &p).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Invalid { .. }), "{msg}");
    assert!(
        msg.contains("my-weights.toml") && msg.contains("sum to 1"),
        "{msg}"
    );
    // An indicator level that does not sum to 1 is refused too.
    let bad2 = text.replacen(
        "weight = { value = 0.1, range = [0.05, 0.15]",
        "weight = { value = 0.3, range = [0.05, 0.35]",
        1,
    );
    let msg2 = ResilienceModel::from_toml(&bad2, &p)
        .unwrap_err()
        .to_string();
    assert!(
        msg2.contains("redundancy") && msg2.contains("sum to 1"),
        "{msg2}"
    );
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

const POP_HEADER: &str = "group_id,name,kind,population,pop_depth_gt_0p15m,pop_depth_gt_0p5m,pop_depth_gt_1p5m,pop_pga_ge_0p05g,pop_pga_ge_0p10g,pop_pga_ge_0p15g,pop_pga_ge_0p20g,pop_pga_ge_0p30g,pop_pga_ge_0p40g\n";
const LIFE_HEADER: &str = "group_id,lifeline,components,length_km,exposed,expected_damaged,service_kept_share,paths_intact,paths_after_p50,days_to_90pct,resilience_loss_pct_days,not_assessed\n";

/// A flood run on the model grid: max_depth.tif (1 m on the first 20 rows), the
/// exposure tables for two counties, and run.json.
fn flood_run(dir: &Path, name: &str, flooded: f64) {
    let pop =
        haihe::grid::read_raster_as::<f32>(Path::new("rasters/model/population.tif"), 1).unwrap();
    let mut d = pop.data.mapv(|_| 0.0f32);
    for r in 0..20.min(d.nrows()) {
        d.row_mut(r).fill(1.0);
    }
    haihe::grid::write_geotiff(
        &pop.with_data(d, Some(f64::NAN)),
        &dir.join("max_depth.tif"),
    )
    .unwrap();
    write(
        &dir.join("exposure_population.csv"),
        &format!(
            "{POP_HEADER}county-110101,东城区,county,708829,{f},{f},0,,,,,,\ncounty-110112,通州区,county,1840000,0,0,0,,,,,,\n",
            f = flooded
        ),
    );
    write(
        &dir.join("exposure_lifelines.csv"),
        &format!("{LIFE_HEADER}county-110101,water_supply,4,20,2,1.5,0.6,1,0,12,900,0\ncounty-110112,water_supply,6,30,1,0.5,0.9,2,2,3,100,1\ncounty-110112,gas,0,0,0,,,,,,,no component\ncounty-110112,road,3,9,0,0,,,,,,3\n"),
    );
    write(
        &dir.join("exposure_redline.csv"),
        "group_id,redline_km2,redline_flooded_km2,redline_shaken_km2,wetland_storage_m3\ncounty-110101,0,0,,0\ncounty-110112,50,3,,1e7\n",
    );
    write(
        &dir.join("run.json"),
        &format!("{{\"scenario\": \"{name}\"}}"),
    );
}

#[test]
fn run_dir_missing_a_file_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    flood_run(&run, "t", 1000.0);
    std::fs::remove_file(run.join("exposure_lifelines.csv")).unwrap();
    let opts = haihe::resilience::ScoreOptions {
        runs: vec![run.clone()],
        groups: None,
        model_dir: "rasters/model".into(),
        structures_dir: "models/structures".into(),
        model_file: "models/resilience.toml".into(),
        seed: 1,
        samples: 10,
        out: tmp.path().join("out"),
    };
    let e = haihe::resilience::run_score(&opts).unwrap_err();
    assert!(matches!(e, Error::MissingFile { .. }), "{e}");
    assert!(e.to_string().contains("exposure_lifelines.csv"), "{e}");
    assert!(!tmp.path().join("out/scores.csv").exists());
}

#[test]
fn unknown_county_in_groups_file_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let g = tmp.path().join("g.toml");
    write(
        &g,
        "[[group]]\nid = \"mine\"\nname = \"我的\"\nname_en = \"mine\"\nkind = \"core\"\ncounties = [ { adcode = 110101, name = \"东城区\" }, { adcode = 999999, name = \"无此县\" } ]\n",
    );
    let e = haihe::resilience::inputs::load_model(
        Path::new("rasters/model"),
        Path::new("models/structures"),
        Some(&g),
    )
    .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Invalid { .. }), "{msg}");
    assert!(msg.contains("无此县") && msg.contains("g.toml"), "{msg}");
}

#[test]
fn end_to_end_two_scenarios_with_user_groups_and_an_ensemble() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("flood-a");
    flood_run(&a, "flood-a", 300000.0);
    let ens = tmp.path().join("ens");
    flood_run(&ens.join("member-000"), "ens", 100000.0);
    flood_run(&ens.join("member-001"), "ens", 600000.0);
    let g = tmp.path().join("g.toml");
    write(
        &g,
        "[[group]]\nid = \"east\"\nname = \"东\"\nname_en = \"east\"\nkind = \"core\"\ncounties = [ { adcode = 110101, name = \"东城区\" }, { adcode = 110112, name = \"通州区\" } ]\n\n[[group]]\nid = \"tz\"\nname = \"通\"\nname_en = \"tz\"\nkind = \"core\"\ncounties = [ { adcode = 110112, name = \"通州区\" } ]\n",
    );
    let out = tmp.path().join("out");
    let opts = haihe::resilience::ScoreOptions {
        runs: vec![a.clone(), ens.clone()],
        groups: Some(g),
        model_dir: "rasters/model".into(),
        structures_dir: "models/structures".into(),
        model_file: "models/resilience.toml".into(),
        seed: 5,
        samples: 200,
        out: out.clone(),
    };
    let r = haihe::resilience::run_score(&opts).unwrap();
    assert_eq!(r.scenarios.len(), 2);
    assert_eq!(r.scenarios[1].members, 2);
    // The two user groups share 通州区: reported, not refused.
    assert!(r
        .overlaps
        .iter()
        .any(|(x, y, n)| x == "east" && y == "tz" && *n > 0));
    for f in [
        "flood-a/scores.csv",
        "flood-a/scores.json",
        "flood-a/scores.tif",
        "ens/scores.csv",
        "summary.csv",
        "summary.json",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    let s = &r.scenarios[0];
    let dc = s.groups.iter().find(|g| g.id == "county-110101").unwrap();
    let tz = s.groups.iter().find(|g| g.id == "county-110112").unwrap();
    // 东城: 300,000 of 708,829 flooded, no water path; 通州: none flooded, two paths.
    assert!(
        (dc.raw[IndicatorId::PopSafeFlood.index()].unwrap() - (1.0 - 300000.0 / 708829.0)).abs()
            < 1e-9
    );
    assert_eq!(dc.raw[IndicatorId::PathsWaterSupply.index()], Some(0.0));
    assert!(dc.monte_carlo.score_p50 < tz.monte_carlo.score_p50);
    assert!(dc.missing.iter().any(|(id, _)| id == "pop_safe_quake"));
    assert!(!dc.drivers.is_empty());
    // User group 'tz' has the lifelines of 通州 but no path count (not derivable).
    let user = s.groups.iter().find(|g| g.id == "tz").unwrap();
    assert!(user.raw[IndicatorId::LifelineServiceKept.index()].is_some());
    assert!(user
        .missing
        .iter()
        .any(|(id, _)| id == "paths_water_supply"));
    // The tif has a counties band and one band per other group.
    let ds = gdal::Dataset::open(out.join("flood-a/scores.tif")).unwrap();
    assert!(ds.raster_count() >= 3);
    // Ensemble: the spread covers both members.
    let e = r.scenarios[1]
        .groups
        .iter()
        .find(|g| g.id == "county-110101")
        .unwrap();
    assert!(e.monte_carlo.score_p95 > e.monte_carlo.score_p05);
    let header = std::fs::read_to_string(out.join("flood-a/scores.csv")).unwrap();
    assert!(header.starts_with("id,name,kind,population,score_p05,score_p50,score_p95"));
    let _ = Params::clone; // keep the import used
}

/// `not_assessed` is a count (as `haihe exposure` writes it): a row with some
/// components assessed is kept, one with none assessed is left out.
#[test]
fn lifelines_csv_keeps_rows_with_assessed_components() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("exposure_lifelines.csv");
    write(
        &p,
        &format!("{LIFE_HEADER}county-1,road,6,11.9,1,1.0,1.0,6,4,0.00,0.00,1\ncounty-1,power,1,0,1,0.67,0.32,1,0,11.5,530.25,0\ncounty-1,rail,1,5.5,0,0,,,,,,1\ncounty-2,gas,0,0,,,,,,,,\n"),
    );
    let m = haihe::resilience::inputs::read_lifelines_csv(&p).unwrap();
    let c1 = &m["county-1"];
    assert_eq!(
        c1.len(),
        2,
        "road (5 of 6 assessed) and power kept, rail (0 of 1) left out"
    );
    assert_eq!(c1[0].paths_after.map(|q| q.p50), Some(4.0));
    assert_eq!(c1[1].days_to_90pct.map(|q| q.p50), Some(11.5));
    assert!(!m.contains_key("county-2"));
}
