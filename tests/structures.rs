//! Tests of the hydraulic structures: level-pool routing against the analytic linear
//! reservoir, the operating rule, detention-basin gates, breaches and the weir law, and
//! the real `models/structures/*.toml` files.

use std::path::{Path, PathBuf};

use haihe::flood::structures::detention::Quantity;
use haihe::flood::structures::levee::BreachTrigger;
use haihe::flood::structures::*;
use haihe::Error;

const HOUR: f64 = 3600.0;

fn models(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models/structures")
        .join(file)
}

/// A curve of vertical walls: 1e8 m³ per metre from level 0.
fn prism() -> StorageCurve {
    StorageCurve::new(vec![0.0, 100.0], vec![0.0, 1e10]).unwrap()
}

/// Triangular inflow: 0 at t = 0, `peak` at 12 h, back to 0 at 36 h (m³/s).
fn triangle(t_s: f64, peak: f64) -> f64 {
    let h = t_s / HOUR;
    if h <= 0.0 || h >= 36.0 {
        0.0
    } else if h <= 12.0 {
        peak * h / 12.0
    } else {
        peak * (36.0 - h) / 24.0
    }
}

/// Exact mean of the triangle over [t0, t0 + dt] (the trapezoid is exact on each linear piece
/// when the break points 12 h and 36 h fall on step boundaries, as they do here).
fn mean_inflow(t0: f64, dt: f64, peak: f64) -> f64 {
    0.5 * (triangle(t0, peak) + triangle(t0 + dt, peak))
}

/// Analytic outflow of a linear reservoir O = S/K (dO/dt = (I − O)/K, O(0) = 0) for the
/// triangular inflow: on each linear piece I = a + b(t − t₀),
/// O(t) = I(t) − bK + (O(t₀) − I(t₀) + bK)·e^{−(t − t₀)/K}.
fn analytic_linear(t_s: f64, k_s: f64, peak: f64) -> f64 {
    let breaks = [0.0, 12.0 * HOUR, 36.0 * HOUR, f64::INFINITY];
    let slopes = [peak / (12.0 * HOUR), -peak / (24.0 * HOUR), 0.0];
    let mut o = 0.0;
    for k in 0..3 {
        let t0 = breaks[k];
        if t_s <= t0 {
            break;
        }
        let t1 = t_s.min(breaks[k + 1]);
        let b = slopes[k];
        let i0 = triangle(t0, peak);
        let i1 = triangle(t1, peak);
        o = i1 - b * k_s + (o - i0 + b * k_s) * (-(t1 - t0) / k_s).exp();
    }
    o
}

#[test]
fn linear_reservoir_matches_analytic_solution_and_conserves_mass() {
    let k_s = 6.0 * HOUR;
    let peak = 1000.0;
    let dt = 0.5 * HOUR;
    let mut r = Reservoir::with_storage("linear", prism(), ReleaseRule::Linear { k_s }, 0.0);
    let (mut vin, mut vout) = (0.0, 0.0);
    let (mut peak_o, mut t_peak) = (0.0_f64, 0.0);
    let mut max_err = 0.0_f64;
    let n = (120.0 * HOUR / dt) as usize;
    for i in 0..n {
        let t0 = i as f64 * dt;
        let inflow = mean_inflow(t0, dt, peak);
        let s = r.step(dt, inflow);
        vin += inflow * dt;
        vout += s.outflow_m3s * dt;
        let exact = analytic_linear(t0 + dt, k_s, peak);
        max_err = max_err.max((s.outflow_end_m3s - exact).abs());
        if s.outflow_end_m3s > peak_o {
            peak_o = s.outflow_end_m3s;
            t_peak = t0 + dt;
        }
    }
    // Analytic peak and its time, sampled every minute.
    let (mut peak_a, mut t_a) = (0.0_f64, 0.0);
    for m in 0..(72 * 60) {
        let t = m as f64 * 60.0;
        let o = analytic_linear(t, k_s, peak);
        if o > peak_a {
            peak_a = o;
            t_a = t;
        }
    }
    // The linear reservoir attenuates (peak well below 1000) and delays the peak.
    assert!(
        peak_a < 0.8 * peak && t_a > 12.0 * HOUR,
        "{peak_a} at {t_a}"
    );
    // Modified Puls at Δt = K/12: peak within 0.5 %, lag within one step, whole
    // hydrograph within 0.5 % of the peak.
    assert!(
        (peak_o - peak_a).abs() < 0.005 * peak_a,
        "{peak_o} vs {peak_a}"
    );
    assert!((t_peak - t_a).abs() <= dt, "peak at {t_peak} s vs {t_a} s");
    assert!(max_err < 0.005 * peak_a, "max error {max_err}");
    // Mass: Σ I Δt − Σ O Δt = ΔS to round-off.
    let ds = r.storage_m3();
    assert!(
        (vin - vout - ds).abs() < 1e-9 * vin,
        "in {vin}, out {vout}, ΔS {ds}"
    );
}

#[test]
fn backward_euler_is_stable_and_conservative_for_long_steps() {
    let k_s = 2.0 * HOUR;
    for dt in [0.25 * HOUR, 6.0 * HOUR, 24.0 * HOUR] {
        let mut r = Reservoir::with_storage("linear", prism(), ReleaseRule::Linear { k_s }, 0.0);
        r.scheme = Scheme::BackwardEuler;
        let (mut vin, mut vout) = (0.0, 0.0);
        let n = (96.0 * HOUR / dt) as usize;
        for i in 0..n {
            let inflow = mean_inflow(i as f64 * dt, dt, 1000.0);
            let s = r.step(dt, inflow);
            assert!(
                s.outflow_m3s >= 0.0 && s.outflow_m3s <= 1000.0,
                "dt {dt}: {s:?}"
            );
            vin += inflow * dt;
            vout += s.outflow_m3s * dt;
        }
        assert!((vin - vout - r.storage_m3()).abs() < 1e-9 * vin, "dt {dt}");
    }
}

fn rule_reservoir(scheme: Scheme, initial_level_m: f64) -> Reservoir {
    // A valley: storage rises faster than linearly.
    let levels = vec![100.0, 110.0, 120.0, 130.0, 140.0, 150.0];
    let storages = vec![0.0, 0.5e8, 2.0e8, 5.0e8, 9.0e8, 14.0e8];
    let rule = OperatingRule {
        flood_limit_level_m: 130.0,
        check_level_m: 145.0,
        safe_release_m3s: 500.0,
        max_release_m3s: 3000.0,
    };
    let mut r = Reservoir::new(
        "rule",
        StorageCurve::new(levels, storages).unwrap(),
        ReleaseRule::Operating(rule),
        initial_level_m,
    );
    r.scheme = scheme;
    r
}

#[test]
fn below_flood_limit_the_release_never_exceeds_the_safe_release() {
    // Backward Euler passes the step-mean inflow exactly; Modified Puls lags it by half
    // a step (ΔS = Δt(Īₖ − Īₖ₋₁)/2), a wobble bounded by Δt·I_peak/(2·area) = 0.024 m
    // here, that telescopes back to zero.
    for (scheme, hold_tol_m) in [(Scheme::ModifiedPuls, 0.03), (Scheme::BackwardEuler, 1e-6)] {
        // A small flood below the safe release: passed through, level held.
        let mut r = rule_reservoir(scheme, 125.0);
        let dt = HOUR;
        for i in 0..72 {
            let s = r.step(dt, mean_inflow(i as f64 * dt, dt, 400.0));
            assert!(s.outflow_m3s <= 500.0 + 1e-9, "{scheme:?} {s:?}");
            assert!((s.level_m - 125.0).abs() < hold_tol_m, "{scheme:?} {s:?}");
        }
        assert!(
            (r.level_m() - 125.0).abs() < 1e-6,
            "{scheme:?}: {}",
            r.level_m()
        );
        // A larger flood: whenever the level is below the flood-limit level, the release
        // stays at or under the safe release.
        let mut r = rule_reservoir(scheme, 128.0);
        let mut rose_above = false;
        for i in 0..200 {
            let s = r.step(dt, mean_inflow(i as f64 * dt, dt, 2500.0));
            if s.level_m < 130.0 - 1e-6 {
                assert!(
                    s.outflow_end_m3s <= 500.0 + 1e-6,
                    "{scheme:?} step {i}: {s:?}"
                );
            }
            rose_above |= s.level_m > 130.1;
        }
        assert!(
            rose_above,
            "the test flood should pass the flood-limit level"
        );
        // After the flood it draws back down to the flood-limit level, not below.
        assert!(
            (r.level_m() - 130.0).abs() < 0.05,
            "{scheme:?}: {}",
            r.level_m()
        );
    }
}

#[test]
fn level_stays_below_check_level_for_a_design_inflow_within_spillway_capacity() {
    // A long flood with a peak of 2950 m³/s < Q_max = 3000 m³/s.
    for (scheme, tol) in [(Scheme::BackwardEuler, 1e-9), (Scheme::ModifiedPuls, 0.01)] {
        let mut r = rule_reservoir(scheme, 130.0);
        let dt = 2.0 * HOUR;
        let mut max_level = 0.0_f64;
        for i in 0..200 {
            let t = i as f64 * dt;
            // 3 days rising, 5 days falling.
            let h = t / HOUR;
            let q = if h < 72.0 {
                2950.0 * h / 72.0
            } else {
                (2950.0 * (192.0 - h) / 120.0).max(0.0)
            };
            let s = r.step(dt, q);
            max_level = max_level.max(s.level_m);
        }
        assert!(
            max_level > 135.0,
            "{scheme:?}: the flood should be stored: {max_level}"
        );
        assert!(max_level <= 145.0 + tol, "{scheme:?}: {max_level}");
    }
}

#[test]
fn storage_curve_inverts_and_extrapolates() {
    let c = StorageCurve::new(vec![126.0, 147.0, 157.5], vec![4.37e8, 23.38e8, 40.08e8]).unwrap();
    for z in [124.0, 126.0, 140.0, 150.0, 160.0] {
        let s = c.storage_m3(z);
        assert!((c.level_m(s) - z).abs() < 1e-9, "{z}");
    }
    // Above the top the last segment continues: (40.08 − 23.38)/10.5 per metre.
    let slope = (40.08e8 - 23.38e8) / 10.5;
    assert!((c.storage_m3(158.5) - (40.08e8 + slope)).abs() < 1.0);
    assert!(StorageCurve::new(vec![1.0, 2.0, 2.0], vec![0.0, 1.0, 2.0]).is_err());
    assert!(StorageCurve::new(vec![1.0, 2.0, 3.0], vec![0.0, 2.0, 1.0]).is_err());
}

fn gauge_reading(q: f64) -> impl Fn(&str, Quantity) -> Option<f64> {
    move |name: &str, what: Quantity| (name == "卢沟桥" && what == Quantity::Discharge).then_some(q)
}

#[test]
fn detention_basin_opens_at_the_trigger_step_and_stops_at_capacity() {
    let gate = 300.0;
    let capacity = gate * 5.5 * HOUR;
    let mut b = DetentionBasin::new(
        "test",
        capacity,
        gate,
        vec![Trigger::GaugeAbove {
            gauge: "卢沟桥".into(),
            threshold_m3s: 1000.0,
        }],
    );
    let readings = [
        500.0, 800.0, 999.0, 1000.0, 1001.0, 1500.0, 900.0, 2000.0, 2000.0, 2000.0, 2000.0, 2000.0,
    ];
    let mut opened_at = None;
    let mut total = 0.0;
    for (i, &q) in readings.iter().enumerate() {
        let t0 = i as f64 * HOUR;
        let s = b.step(t0, HOUR, &gauge_reading(q), 5000.0).unwrap();
        if i < 4 {
            assert_eq!(s.inflow_m3s, 0.0, "step {i}: opened before the trigger");
            assert!(!s.opened_now);
        }
        if s.opened_now {
            assert!(opened_at.is_none());
            opened_at = Some(i);
        }
        assert!(s.inflow_m3s <= gate + 1e-12, "step {i}: {s:?}");
        assert!(s.volume_m3 <= capacity, "step {i}: {s:?}");
        total += s.inflow_m3s * HOUR;
    }
    // 1000 is not above 1000: the gate opens at the step reading 1001.
    assert_eq!(opened_at, Some(4));
    assert_eq!(b.opened_at_s(), Some(4.0 * HOUR));
    // Full after 5.5 h at the gate capacity, exactly, and nothing more afterwards.
    assert_eq!(b.volume_m3(), capacity);
    assert!((total - capacity).abs() < 1e-6 * capacity);
    let s = b
        .step(20.0 * HOUR, HOUR, &gauge_reading(3000.0), 5000.0)
        .unwrap();
    assert_eq!(s.inflow_m3s, 0.0);
    assert_eq!(s.volume_m3, capacity);
}

#[test]
fn detention_inflow_is_what_is_offered_when_less_than_the_gate() {
    let mut b = DetentionBasin::new("t", 1e9, 300.0, vec![Trigger::At { time_s: 0.0 }]);
    let none = |_: &str, _: Quantity| None;
    let s = b.step(0.0, HOUR, &none, 120.0).unwrap();
    assert!((s.inflow_m3s - 120.0).abs() < 1e-12);
    let s = b.step(HOUR, HOUR, &none, -50.0).unwrap();
    assert_eq!(s.inflow_m3s, 0.0);
}

#[test]
fn scheduled_opening_counts_only_the_part_of_the_step_after_it() {
    let t_open = beijing_time_s("2023-07-31T23:30").unwrap();
    let t_start = beijing_time_s("2023-07-31T21:00").unwrap();
    let mut b = DetentionBasin::new(
        "兰沟洼",
        3.23e8,
        1000.0,
        vec![Trigger::At { time_s: t_open }],
    );
    let none = |_: &str, _: Quantity| None;
    let mut inflows = vec![];
    for i in 0..4 {
        let s = b
            .step(t_start + i as f64 * HOUR, HOUR, &none, 5000.0)
            .unwrap();
        inflows.push(s.inflow_m3s);
        assert_eq!(s.opened_now, i == 2, "step {i}");
    }
    // 21–22 and 22–23 closed; 23–24 open for 30 min; 00–01 open.
    assert_eq!(inflows[0], 0.0);
    assert_eq!(inflows[1], 0.0);
    assert!((inflows[2] - 500.0).abs() < 1e-9, "{inflows:?}");
    assert!((inflows[3] - 1000.0).abs() < 1e-9);
    assert_eq!(b.opened_at_s(), Some(t_open));
    assert!((b.volume_m3() - 1000.0 * 1.5 * HOUR).abs() < 1e-6);
}

#[test]
fn stage_trigger_and_missing_readings() {
    let mut b = DetentionBasin::new(
        "s",
        1e8,
        100.0,
        vec![Trigger::StageAbove {
            point: "东马营".into(),
            level_m: 16.6,
        }],
    );
    let low = |n: &str, q: Quantity| (n == "东马营" && q == Quantity::Stage).then_some(16.6);
    let high = |n: &str, q: Quantity| (n == "东马营" && q == Quantity::Stage).then_some(16.61);
    assert!(!b.step(0.0, 60.0, &low, 50.0).unwrap().opened_now);
    assert!(b.step(60.0, 60.0, &high, 50.0).unwrap().opened_now);
    // A trigger the coupling cannot read is an error, not a silent "closed".
    let mut g = DetentionBasin::new(
        "g",
        1e8,
        100.0,
        vec![Trigger::GaugeAbove {
            gauge: "卢沟桥".into(),
            threshold_m3s: 1.0,
        }],
    );
    let none = |_: &str, _: Quantity| None;
    assert!(g.step(0.0, 60.0, &none, 50.0).is_err());
}

#[test]
fn detention_drain_returns_water_after_the_delay() {
    let mut b = DetentionBasin::new("d", 1e12, 100.0, vec![Trigger::At { time_s: 0.0 }]);
    b.drain = Some(haihe::flood::structures::detention::Drain {
        rate_m3s: 40.0,
        after_open_s: 2.0 * HOUR,
    });
    let none = |_: &str, _: Quantity| None;
    let a = b.step(0.0, HOUR, &none, 100.0).unwrap();
    let c = b.step(HOUR, HOUR, &none, 100.0).unwrap();
    let d = b.step(2.0 * HOUR, HOUR, &none, 100.0).unwrap();
    assert_eq!(
        (a.inflow_m3s, c.inflow_m3s, d.inflow_m3s),
        (100.0, 100.0, 0.0)
    );
    assert_eq!(d.drain_m3s, 40.0);
    assert!((d.volume_m3 - (200.0 - 40.0) * HOUR).abs() < 1e-6);
}

#[test]
fn breach_crest_and_width_develop_linearly() {
    let spec = BreachSpec {
        crest_initial_m: 3.1,
        crest_final_m: 0.0,
        width_initial_m: 10.0,
        width_final_m: 200.0,
        development_s: 2.0 * HOUR,
    };
    let g = |t: f64| breach_geometry(&spec, t);
    assert_eq!(
        g(-1.0),
        BreachGeometry {
            crest_m: 3.1,
            width_m: 0.0
        }
    );
    assert_eq!(
        g(0.0),
        BreachGeometry {
            crest_m: 3.1,
            width_m: 10.0
        }
    );
    let half = g(HOUR);
    assert!((half.crest_m - 1.55).abs() < 1e-12 && (half.width_m - 105.0).abs() < 1e-12);
    let q = g(0.5 * HOUR);
    assert!((q.crest_m - 2.325).abs() < 1e-12 && (q.width_m - 57.5).abs() < 1e-12);
    assert_eq!(
        g(2.0 * HOUR),
        BreachGeometry {
            crest_m: 0.0,
            width_m: 200.0
        }
    );
    assert_eq!(
        g(9.0 * HOUR),
        BreachGeometry {
            crest_m: 0.0,
            width_m: 200.0
        }
    );

    // Stage trigger: intact until the stage passes 2.6 m, then develops from that time.
    let mut b = Breach::new(spec, BreachTrigger::StageAbove(2.6));
    assert_eq!(b.update(0.0, 2.5).width_m, 0.0);
    assert_eq!(b.update(100.0, 2.7).width_m, 10.0);
    assert_eq!(b.started_at_s(), Some(100.0));
    let later = b.update(100.0 + HOUR, 1.0); // stage falls: the breach keeps developing
    assert!((later.width_m - 105.0).abs() < 1e-12);
}

#[test]
fn weir_discharge_matches_hand_values() {
    // C = (2/3)^{3/2}·√9.80665 = 0.5443311 × 3.1315571 = 1.7046045 m^{1/2}/s.
    let close = |a: f64, b: f64| (a - b).abs() < 1e-4 * b.abs().max(1.0);
    assert!(close(broad_crested_weir_m3s(10.0, 1.0), 17.046045));
    assert!(close(broad_crested_weir_m3s(10.0, 2.0), 48.213487)); // × 2^{1.5} = 2.8284271
    assert!(close(broad_crested_weir_m3s(50.0, 0.5), 30.134102)); // 85.23 × 0.3535534
    assert_eq!(broad_crested_weir_m3s(10.0, -0.1), 0.0);
    // Villemonte: H_d/H_u = 0.5 → (1 − 0.3535534)^{0.385} = 0.845369.
    assert!(close(villemonte_factor(1.0, 0.5), 0.845369));
    assert_eq!(villemonte_factor(1.0, 0.0), 1.0);
    assert_eq!(villemonte_factor(1.0, 1.0), 0.0);
    // Exchange over a crest at 10 m: 11 m against 10.5 m, and the reverse.
    let q = weir_exchange_m3s(10.0, 10.0, 11.0, 10.5);
    assert!(close(q, 17.046045 * 0.845369), "{q}");
    assert!(close(-weir_exchange_m3s(10.0, 10.0, 10.5, 11.0), q));
    assert_eq!(weir_exchange_m3s(10.0, 10.0, 9.0, 9.5), 0.0);
}

#[test]
fn diversion_routes_up_to_capacity() {
    assert_eq!(route_to_sea(500.0, 800.0), (500.0, 0.0));
    assert_eq!(route_to_sea(1000.0, 800.0), (800.0, 200.0));
    assert_eq!(route_to_sea(-5.0, 800.0), (0.0, 0.0));
    let mut d = Diversion::new("海河干流", 800.0);
    d.step(HOUR, 1000.0);
    d.step(HOUR, 300.0);
    assert_eq!(d.delivered_m3(), (800.0 + 300.0) * HOUR);
}

fn check_sourced(s: &Sourced<f64>, what: &str) {
    let ok =
        s.source.is_some() || (s.estimate && s.basis.as_deref().is_some_and(|b| !b.is_empty()));
    assert!(ok, "{what}: neither a source nor an estimate with a basis");
}

fn check_location(l: &Location, what: &str) {
    assert!(
        l.source.is_some() || (l.approximate && l.basis.is_some()),
        "{what}: location without provenance"
    );
    assert!(
        l.in_domain() != l.outside_domain,
        "{what}: ({}, {}) in domain = {}, marked outside = {}",
        l.lon,
        l.lat,
        l.in_domain(),
        l.outside_domain
    );
}

#[test]
fn real_reservoir_file_loads_with_provenance_and_routes_a_flood() {
    let recs = load_reservoirs(&models("reservoirs.toml")).unwrap();
    let names: Vec<&str> = recs.iter().map(|r| r.name.as_str()).collect();
    for want in [
        "官厅",
        "密云",
        "怀柔",
        "海子",
        "于桥",
        "册田",
        "王快",
        "西大洋",
        "安格庄",
        "十三陵",
        "白河堡",
        "云州",
        "斋堂",
        "龙门",
        "口头",
        "横山岭",
    ] {
        assert!(names.contains(&want), "{want} missing");
    }
    for r in &recs {
        check_location(&r.location, &r.name);
        for (v, w) in [
            (&r.catchment_km2, "catchment"),
            (&r.total_storage_1e8_m3, "total storage"),
            (&r.flood_limit_level_m, "flood-limit level"),
            (&r.check_level_m, "check level"),
            (&r.safe_release_m3s, "safe release"),
            (&r.max_release_m3s, "max release"),
        ] {
            check_sourced(v, &format!("{} {w}", r.name));
        }
        // The total storage sits at the check level (总库容), within 10 %, where the
        // curve is a shaped estimate or extended from published points.
        let curve = r.curve().unwrap();
        let s_check = curve.storage_m3(r.check_level_m.value);
        let s_tot = r.total_storage_1e8_m3.value * 1e8;
        assert!(
            (s_check / s_tot - 1.0).abs() < 0.10,
            "{}: {s_check} vs {s_tot}",
            r.name
        );
        // A flood peaking at the maximum release, routed for 10 days in 1 h steps,
        // stays finite, conserves mass and does not pass the check level.
        let mut m = r.model().unwrap();
        m.scheme = Scheme::BackwardEuler;
        let s0 = m.storage_m3();
        let (mut vin, mut vout) = (0.0, 0.0);
        let qmax = r.max_release_m3s.value;
        for i in 0..240 {
            let q = mean_inflow(i as f64 * HOUR, HOUR, qmax);
            let s = m.step(HOUR, q);
            vin += q * HOUR;
            vout += s.outflow_m3s * HOUR;
            assert!(
                s.level_m.is_finite() && s.level_m <= r.check_level_m.value + 1e-6,
                "{}: {s:?}",
                r.name
            );
        }
        assert!(
            (vin - vout - (m.storage_m3() - s0)).abs() < 1e-9 * vin,
            "{}",
            r.name
        );
    }
    // Models build in one call too.
    assert_eq!(
        load_reservoir_models(&models("reservoirs.toml"))
            .unwrap()
            .len(),
        recs.len()
    );
}

#[test]
fn real_detention_file_loads_with_provenance() {
    let recs = load_detention_basins(&models("detention_basins.toml")).unwrap();
    for want in [
        "小清河分洪区",
        "兰沟洼",
        "东淀",
        "永定河泛区",
        "文安洼",
        "贾口洼",
    ] {
        assert!(recs.iter().any(|b| b.name == want), "{want} missing");
    }
    for b in &recs {
        check_location(&b.location, &b.name);
        check_location(&b.link, &format!("{} link", b.name));
        check_sourced(&b.capacity_1e8_m3, &b.name);
        check_sourced(&b.gate_capacity_m3s, &b.name);
        if let Some(a) = &b.area_km2 {
            check_sourced(a, &b.name);
        }
        for t in &b.trigger {
            assert!(
                t.source.is_some() || (t.estimate && t.basis.is_some()),
                "{}",
                b.name
            );
        }
        b.model().unwrap();
    }
    // Published values survive the load: 兰沟洼 3.23×10⁸ m³ on 228 km², opened
    // 2023-07-31 23:30; 小清河 diverts above 6200 m³/s at 卢沟桥.
    let lgw = recs
        .iter()
        .find(|b| b.name == "兰沟洼")
        .unwrap()
        .model()
        .unwrap();
    assert_eq!(lgw.capacity_m3, 3.23e8);
    assert_eq!(
        lgw.triggers,
        vec![Trigger::At {
            time_s: beijing_time_s("2023-07-31T23:30").unwrap()
        }]
    );
    let xqh = recs
        .iter()
        .find(|b| b.name == "小清河分洪区")
        .unwrap()
        .model()
        .unwrap();
    assert_eq!(
        xqh.triggers,
        vec![Trigger::GaugeAbove {
            gauge: "卢沟桥".into(),
            threshold_m3s: 6200.0
        }]
    );
    // 宁晋泊 is kept for the 2023 record but marked outside the domain.
    let njb = recs.iter().find(|b| b.name == "宁晋泊").unwrap();
    assert!(njb.location.outside_domain && !njb.location.in_domain());
}

#[test]
fn real_levee_and_diversion_files_load_with_provenance() {
    let lf = load_levees(&models("levees.toml")).unwrap();
    assert!(lf
        .levee
        .iter()
        .any(|l| l.river == "永定河" && l.bank == "left"));
    for l in &lf.levee {
        check_sourced(&l.crest_above_ground_m, &l.name);
        for p in &l.line.points {
            assert!(
                (DOMAIN_LON.0..=DOMAIN_LON.1).contains(&p[0])
                    && (DOMAIN_LAT.0..=DOMAIN_LAT.1).contains(&p[1]),
                "{}: {p:?}",
                l.name
            );
        }
    }
    assert!(!lf.breach.is_empty());
    for b in &lf.breach {
        check_location(&b.location, &b.name);
        for v in [
            &b.width_final_m,
            &b.width_initial_m,
            &b.crest_final_above_ground_m,
            &b.development_h,
        ] {
            check_sourced(v, &b.name);
        }
        let mut m = lf.breach_model(&b.name).expect("breach model");
        // Once started, the breach reaches its final width after the development time.
        let start = match m.trigger {
            BreachTrigger::At(t) => t,
            BreachTrigger::StageAbove(_) => 0.0,
        };
        m.update(start, 10.0);
        let g = m.update(start + b.development_h.value * HOUR, 10.0);
        assert_eq!(g.width_m, b.width_final_m.value);
    }
    let divs = load_diversions(&models("diversions.toml")).unwrap();
    for want in ["永定新河", "潮白新河", "独流减河"] {
        assert!(divs.iter().any(|d| d.name == want), "{want} missing");
    }
    for d in &divs {
        check_sourced(&d.capacity_m3s, &d.name);
        check_location(&d.intake, &d.name);
        check_location(&d.outlet, &d.name);
        assert!(d.model().capacity_m3s > 0.0);
    }
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const RES_OK: &str = r#"
[sources]
a = "a source"

[[reservoir]]
name = "X"
name_en = "X"
river = "r"
system = "s"
location = { lon = 116.0, lat = 40.0, source = "a" }
levels_datum = "absolute"
catchment_km2 = { value = 100.0, source = "a" }
total_storage_1e8_m3 = { value = 1.0, source = "a" }
flood_limit_level_m = { value = 110.0, source = "a" }
check_level_m = { value = 120.0, source = "a" }
safe_release_m3s = { value = 100.0, source = "a" }
max_release_m3s = { value = 1000.0, source = "a" }
crest_level_m = { value = 122.0, source = "a" }
crest_length_m = { value = 300.0, source = "a" }
storage_curve = { points = [
  { level_m = 100.0, storage_1e8_m3 = 0.1, source = "a" },
  { level_m = 120.0, storage_1e8_m3 = 1.0, source = "a" },
] }
"#;

fn invalid_field(e: Error) -> String {
    match e {
        Error::Invalid { field, .. } => field,
        other => panic!("expected Error::Invalid, got {other}"),
    }
}

#[test]
fn broken_reservoir_files_give_errors_naming_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    assert!(load_reservoirs(&write(&dir, "ok.toml", RES_OK)).is_ok());

    let p = write(
        &dir,
        "curve.toml",
        &RES_OK.replace("storage_1e8_m3 = 1.0", "storage_1e8_m3 = 0.05"),
    );
    let e = load_reservoirs(&p).unwrap_err();
    assert!(e.to_string().contains("curve.toml"), "{e}");
    assert_eq!(invalid_field(e), "reservoir[X].storage_curve");

    let p = write(
        &dir,
        "fll.toml",
        &RES_OK.replace("value = 110.0", "value = 125.0"),
    );
    assert_eq!(
        invalid_field(load_reservoirs(&p).unwrap_err()),
        "reservoir[X].flood_limit_level_m"
    );

    let p = write(
        &dir,
        "prov.toml",
        &RES_OK.replace(
            r#"safe_release_m3s = { value = 100.0, source = "a" }"#,
            "safe_release_m3s = { value = 100.0, estimate = true }",
        ),
    );
    assert_eq!(
        invalid_field(load_reservoirs(&p).unwrap_err()),
        "reservoir[X].safe_release_m3s"
    );

    let p = write(
        &dir,
        "key.toml",
        &RES_OK.replace(
            r#"catchment_km2 = { value = 100.0, source = "a" }"#,
            r#"catchment_km2 = { value = 100.0, source = "b" }"#,
        ),
    );
    assert_eq!(
        invalid_field(load_reservoirs(&p).unwrap_err()),
        "reservoir[X].catchment_km2"
    );

    let p = write(
        &dir,
        "out.toml",
        &RES_OK.replace("lon = 116.0", "lon = 120.0"),
    );
    assert_eq!(
        invalid_field(load_reservoirs(&p).unwrap_err()),
        "reservoir[X].location"
    );

    let p = write(
        &dir,
        "unknown.toml",
        &RES_OK.replace("river = \"r\"", "river = \"r\"\nrivr = \"typo\""),
    );
    match load_reservoirs(&p).unwrap_err() {
        Error::Toml { message, .. } => assert!(message.contains("rivr"), "{message}"),
        other => panic!("{other}"),
    }
}

#[test]
fn broken_detention_file_gives_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ok = r#"
[sources]
a = "a source"

[[basin]]
name = "B"
system = "s"
river = "r"
location = { lon = 116.0, lat = 39.0, approximate = true, basis = "by hand" }
link = { lon = 116.0, lat = 39.0, source = "a" }
link_name = "G"
link_area = { area_km2 = { value = 500.0, source = "a" } }
capacity_1e8_m3 = { value = 1.0, source = "a" }
gate_capacity_m3s = { value = 100.0, estimate = true, basis = "guess" }

[[basin.trigger]]
kind = "scheduled"
time = "2023-07-31T23:30"
source = "a"
"#;
    assert!(load_detention_basins(&write(&dir, "ok.toml", ok)).is_ok());
    let p = write(&dir, "t.toml", &ok.replace("2023-07-31T23:30", "31 July"));
    assert_eq!(
        invalid_field(load_detention_basins(&p).unwrap_err()),
        "basin[B].trigger[0]"
    );
    let p = write(
        &dir,
        "g.toml",
        &ok.replace("kind = \"scheduled\"", "kind = \"gauge_discharge\""),
    );
    assert_eq!(
        invalid_field(load_detention_basins(&p).unwrap_err()),
        "basin[B].trigger[0]"
    );
    let p = write(
        &dir,
        "b.toml",
        &ok.replace("basis = \"by hand\"", "basis = \"\""),
    );
    assert_eq!(
        invalid_field(load_detention_basins(&p).unwrap_err()),
        "basin[B].location"
    );
}
