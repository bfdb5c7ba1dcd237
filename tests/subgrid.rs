//! Tests of the subgrid channels (Neal, Schumann & Bates 2012) in the local-inertial
//! routing: lake at rest, Manning normal depth of a rectangular channel, overbank flow
//! only once the channel is full, mass conservation, and thread-count determinism.

use haihe::flood::routing::{
    cell_outflow_m3s, cell_volume_m3, face_discharge_m3s, run_until, stage_m, step, storage_m3,
    Boundaries, Boundary, ChannelCells, Dir4, Domain, Face, Params, Rate, Scratch, Sources, State,
};

/// SplitMix64, for reproducible random beds.
use haihe::flood::routing::cases::SplitMix64 as Rng;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool can be built")
}

fn dir(a: (usize, usize), b: (usize, usize)) -> Dir4 {
    match (b.0 as isize - a.0 as isize, b.1 as isize - a.1 as isize) {
        (0, 1) => Dir4::East,
        (0, -1) => Dir4::West,
        (1, 0) => Dir4::South,
        (-1, 0) => Dir4::North,
        _ => panic!("cells {a:?} and {b:?} are not face neighbours"),
    }
}

/// A channel along `path` (face-connected cells, upstream first), draining from the last
/// cell towards `last`; width, bank depth and n per cell from `geom(k)`.
fn channel_path(
    nr: usize,
    nc: usize,
    path: &[(usize, usize)],
    last: Option<Dir4>,
    geom: &dyn Fn(usize) -> (f32, f32, f32),
) -> ChannelCells {
    let n = nr * nc;
    let mut cc = ChannelCells {
        width_m: vec![f32::NAN; n],
        bank_depth_m: vec![0.0; n],
        manning_n: vec![0.0; n],
        downstream: vec![None; n],
    };
    for (k, &(r, c)) in path.iter().enumerate() {
        let i = r * nc + c;
        let (w, d, m) = geom(k);
        cc.width_m[i] = w;
        cc.bank_depth_m[i] = d;
        cc.manning_n[i] = m;
        cc.downstream[i] = match path.get(k + 1) {
            Some(&b) => Some(dir((r, c), b)),
            None => last,
        };
    }
    cc
}

fn max_abs(a: &[f32]) -> f32 {
    a.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

/// An L-shaped channel: along row `r0` eastwards, then down column `c1` southwards.
fn l_path(r0: usize, c0: usize, c1: usize, r1: usize) -> Vec<(usize, usize)> {
    let mut p: Vec<(usize, usize)> = (c0..=c1).map(|c| (r0, c)).collect();
    p.extend((r0 + 1..=r1).map(|r| (r, c1)));
    p
}

#[test]
fn lake_at_rest_with_channels_on_irregular_bed() {
    let (nr, nc, dx) = (30, 40, 100.0);
    let mut rng = Rng(11);
    let bed: Vec<f32> = (0..nr * nc)
        .map(|_| (rng.next_f64() * 1.5) as f32)
        .collect();
    let path = l_path(5, 2, 30, 25);
    let mut g = Rng(5);
    let geoms: Vec<(f32, f32, f32)> = (0..path.len())
        .map(|_| {
            (
                (10.0 + 40.0 * g.next_f64()) as f32,
                (2.0 + 2.0 * g.next_f64()) as f32,
                0.035,
            )
        })
        .collect();
    let cc = channel_path(nr, nc, &path, Some(Dir4::South), &|k| geoms[k]);
    let d = Domain::new(nr, nc, dx, bed, vec![0.03; nr * nc], Boundaries::closed())
        .unwrap()
        .with_channels(&cc)
        .unwrap();
    assert_eq!(d.channel_cells(), path.len());
    // The last cell drains south onto a floodplain cell: a closed end, not a link.
    assert_eq!(d.channel_links(), path.len() - 1);
    assert_eq!(d.channel_closed_ends(), 1);
    let mut s = State::at_level(&d, 1.0);
    let below_bank = path
        .iter()
        .filter(|&&(r, c)| s.depth_m[r * nc + c] < 0.0)
        .count();
    assert!(
        below_bank > 10,
        "some channels must hold water below their bank"
    );
    let h0 = s.depth_m.clone();
    let v0 = storage_m3(&d, &s);
    let p = Params::default();
    let mut scratch = Scratch::new(&d, &s);
    for _ in 0..2000 {
        step(&d, &mut s, &Sources::default(), &p, &mut scratch, 1e9).unwrap();
    }
    let qmax = max_abs(&s.qx_m2s).max(max_abs(&s.qy_m2s));
    let qc = max_abs(&s.channel_q_m3s);
    let dh = s
        .depth_m
        .iter()
        .zip(&h0)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    println!(
        "lake at rest with channels: max |q| {qmax:e} m²/s, max |Q| {qc:e} m³/s, max |Δη| {dh:e} m"
    );
    assert!(qmax < 1e-6, "max |q| = {qmax}");
    // f32 rounding of η (±3e-8 m on a 1 m surface) leaves |Q| ≈ g A Δt Δη / Δx ≈ 1e-5
    // m³/s in sections of 20–200 m²: a velocity below 1e-6 m/s, and it does not grow.
    assert!(qc < 1e-4, "max |Q| = {qc}");
    assert!(dh < 1e-6, "max |Δη| = {dh}");
    assert!((storage_m3(&d, &s) - v0).abs() < 1e-9 * v0);
}

/// Depth of Manning's normal flow in a rectangular channel: Q = (1/n) w h R^{2/3} S^{1/2},
/// R = w h / (w + 2h), by bisection.
fn normal_depth(q: f64, w: f64, n: f64, s: f64) -> f64 {
    let f = |h: f64| {
        let r = w * h / (w + 2.0 * h);
        w * h * r.powf(2.0 / 3.0) * s.sqrt() / n - q
    };
    let (mut lo, mut hi) = (1e-6, 100.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    0.5 * (lo + hi)
}

#[test]
fn straight_channel_reaches_manning_normal_depth() {
    let (nr, nc, dx) = (3, 150, 100.0);
    let (slope, w, n_c, q_in, bank) = (0.001, 20.0f32, 0.03f32, 20.0, 5.0f32);
    let mut bed = Vec::with_capacity(nr * nc);
    for _ in 0..nr {
        for c in 0..nc {
            bed.push((50.0 - slope * (c as f64 + 0.5) * dx) as f32);
        }
    }
    let path: Vec<(usize, usize)> = (0..nc).map(|c| (1, c)).collect();
    let cc = channel_path(nr, nc, &path, Some(Dir4::East), &|_| (w, bank, n_c));
    let mut b = Boundaries::closed();
    b.east = Boundary::FreeOutflow { slope };
    let d = Domain::new(nr, nc, dx, bed, vec![0.05; nr * nc], b)
        .unwrap()
        .with_channels(&cc)
        .unwrap();
    let mut s = State::dry(&d);
    let p = Params {
        dt_max_s: 30.0,
        ..Params::default()
    };
    let points = [(nc, q_in)];
    let rep = run_until(
        &d,
        &mut s,
        10.0 * 3600.0,
        |_| Sources {
            points: &points,
            ..Sources::default()
        },
        &p,
    )
    .unwrap();
    let hn = normal_depth(q_in, w as f64, n_c as f64, slope);
    let mut worst = 0.0f64;
    for c in nc / 3..2 * nc / 3 {
        let i = nc + c;
        let hc = stage_m(&d, &s, i).unwrap() - d.channel_bed_at(i).unwrap() as f64;
        worst = worst.max((hc - hn).abs() / hn);
        let q = face_discharge_m3s(&d, &s, Face::X { row: 1, col: c }).unwrap();
        assert!(
            (q - q_in).abs() < 0.01 * q_in,
            "discharge {q} m³/s at column {c}, inflow {q_in}"
        );
    }
    println!(
        "normal depth {hn:.4} m, largest relative error in the middle third {worst:.2e}; {} steps, mass error {:.2e}",
        rep.steps, rep.relative_error
    );
    // Tolerance 1 %: the middle third lies far from both ends' transitions.
    assert!(worst < 0.01, "relative depth error {worst}");
    // The water stayed in the channel: no floodplain cell got wet.
    assert!(s.depth_m.iter().all(|&h| h <= 0.0));
    assert!(
        rep.relative_error < 1e-6,
        "mass error {}",
        rep.relative_error
    );
    // A gauge at a channel cell reads the channel discharge.
    let g = cell_outflow_m3s(&d, &s, nc + nc / 2).unwrap();
    assert!((g - q_in).abs() < 0.01 * q_in, "gauge {g}");
}

#[test]
fn overbank_flow_starts_only_when_channel_is_full() {
    let (nr, nc, dx) = (5, 5, 100.0);
    let (w, bank) = (10.0f32, 2.0f32);
    let bed = vec![10.0f32; nr * nc];
    let cc = channel_path(nr, nc, &[(2, 2)], None, &|_| (w, bank, 0.035));
    let d = Domain::new(nr, nc, dx, bed, vec![0.05; nr * nc], Boundaries::closed())
        .unwrap()
        .with_channels(&cc)
        .unwrap();
    let centre = 2 * nc + 2;
    let mut s = State::dry(&d);
    assert_eq!(s.depth_m[centre], -bank);
    let full = w as f64 * dx * bank as f64; // 2000 m³
    let p = Params {
        dt_max_s: 1.0,
        ..Params::default()
    };
    let q = 1.0; // m³/s
    let points = [(centre, q)];
    let mut scratch = Scratch::new(&d, &s);
    let src = Sources {
        points: &points,
        ..Sources::default()
    };
    // 99 % of the channel volume: nothing leaves the channel.
    let t_99 = 0.99 * full / q;
    let mut booked = 0.0;
    while s.time_s < t_99 - 1e-9 {
        booked += step(&d, &mut s, &src, &p, &mut scratch, t_99)
            .unwrap()
            .volumes
            .inflow_m3;
    }
    // The booked inflow is what the f32 surface could take (rounding of each addition).
    assert!(
        (booked - 0.99 * full).abs() < 1e-3 * full,
        "booked {booked}"
    );
    assert!((storage_m3(&d, &s) - booked).abs() < 1e-9 * full);
    let h = s.depth_m[centre] as f64;
    let expect = -(bank as f64) + 0.99 * full / (w as f64 * dx);
    assert!(
        (h - expect).abs() < 2e-3,
        "depth above bank {h}, expected {expect}"
    );
    let others_dry = |s: &State| {
        s.depth_m
            .iter()
            .enumerate()
            .all(|(i, &h)| i == centre || h == 0.0)
    };
    assert!(
        others_dry(&s),
        "floodplain got water before the channel was full"
    );
    // Now 1.5 × the channel volume: the surplus spreads over the floodplain.
    let t_150 = 1.5 * full / q;
    while s.time_s < t_150 - 1e-9 {
        booked += step(&d, &mut s, &src, &p, &mut scratch, t_150)
            .unwrap()
            .volumes
            .inflow_m3;
    }
    for _ in 0..20000 {
        step(&d, &mut s, &Sources::default(), &p, &mut scratch, 1e12).unwrap();
    }
    assert!(!others_dry(&s), "the surplus must reach the floodplain");
    let v = storage_m3(&d, &s);
    assert!(
        (v - booked).abs() < 1e-9 * full,
        "storage {v}, booked {booked}"
    );
    assert!((v - 1.5 * full).abs() < 1e-3 * full, "storage {v}");
    // The channel holds its full volume; the floodplain holds the rest (above bank).
    let fp: f64 = s
        .depth_m
        .iter()
        .enumerate()
        .filter(|&(i, _)| i != centre)
        .map(|(_, &h)| h as f64 * dx * dx)
        .sum::<f64>();
    let chan_above = s.depth_m[centre] as f64 * dx * dx;
    assert!(
        (fp + chan_above - (booked - full)).abs() < 1e-4 * full,
        "above bank: floodplain {fp} + channel cell {chan_above}, expected {}",
        0.5 * full
    );
}

/// A tilted plain with an L-shaped channel network and a tributary, rain and an inflow.
fn busy_domain(boundaries: Boundaries, sea: bool) -> (Domain, Vec<(usize, f64)>) {
    let (nr, nc, dx) = (40, 50, 200.0);
    let mut rng = Rng(99);
    let bed: Vec<f32> = (0..nr * nc)
        .map(|i| {
            let (r, c) = (i / nc, i % nc);
            (20.0 - 0.01 * c as f64 - 0.02 * r as f64 + rng.next_f64() * 0.8) as f32
        })
        .collect();
    let main = l_path(8, 0, 35, nr - 1);
    let trib: Vec<(usize, usize)> = (20..=35).rev().map(|c| (25, c)).collect::<Vec<_>>();
    let mut cc = channel_path(nr, nc, &main, Some(Dir4::South), &|k| {
        (10.0 + k as f32, 1.5, 0.03)
    });
    let t = channel_path(nr, nc, &trib, None, &|_| (8.0, 1.0, 0.035));
    for (k, &(r, c)) in trib.iter().enumerate() {
        let i = r * nc + c;
        if k + 1 < trib.len() {
            cc.width_m[i] = t.width_m[i];
            cc.bank_depth_m[i] = t.bank_depth_m[i];
            cc.manning_n[i] = t.manning_n[i];
            cc.downstream[i] = t.downstream[i];
        }
    }
    let mut d = Domain::new(nr, nc, dx, bed, vec![0.04; nr * nc], boundaries).unwrap();
    if sea {
        // The last three rows are sea at 5 m.
        let levels: Vec<f32> = (0..nr * nc)
            .map(|i| if i / nc >= nr - 3 { 5.0 } else { f32::NAN })
            .collect();
        d = d.with_fixed_levels(levels).unwrap();
    }
    let d = d.with_channels(&cc).unwrap();
    (d, vec![(8 * nc, 30.0)])
}

fn busy_run(d: &Domain, points: &[(usize, f64)], hours: f64) -> (State, f64) {
    let mut s = State::dry(d);
    let rain: Vec<f32> = (0..d.nrows() * d.ncols())
        .map(|i| ((i % 7) as f32 + 1.0) * 1.0e-6)
        .collect();
    let loss = vec![2.0e-7f32; d.nrows() * d.ncols()];
    let p = Params {
        dt_max_s: 30.0,
        ..Params::default()
    };
    let rep = run_until(
        d,
        &mut s,
        hours * 3600.0,
        |t| Sources {
            rain_ms: if t < 6.0 * 3600.0 {
                Rate::PerCell(&rain)
            } else {
                Rate::Uniform(0.0)
            },
            loss_ms: Rate::PerCell(&loss),
            points,
            lines: &[],
        },
        &p,
    )
    .unwrap();
    println!(
        "{} steps, storage {:.4e} m³, in {:.4e} m³, mass error {:.3e}",
        rep.steps,
        rep.storage_end_m3,
        rep.volumes.input_m3(),
        rep.relative_error
    );
    (s, rep.relative_error)
}

#[test]
fn closed_domain_with_channels_conserves_mass_over_24_h() {
    let (d, points) = busy_domain(Boundaries::closed(), false);
    let (s, rel) = busy_run(&d, &points, 24.0);
    assert!(rel < 1e-6, "relative mass error {rel}");
    // Water went over bank somewhere and channels carried flow.
    assert!(s.depth_m.iter().any(|&h| h > 0.05));
}

#[test]
fn open_edges_and_sea_outlet_close_the_mass_balance() {
    let mut b = Boundaries::uniform(Boundary::FreeOutflow { slope: 0.001 });
    b.north = Boundary::Closed;
    let (d, points) = busy_domain(b, true);
    let (_, rel) = busy_run(&d, &points, 12.0);
    assert!(rel < 1e-6, "relative mass error {rel}");
}

fn bits(s: &State) -> Vec<Vec<u32>> {
    [
        &s.depth_m,
        &s.depth_residual_m,
        &s.qx_m2s,
        &s.qy_m2s,
        &s.channel_q_m3s,
    ]
    .iter()
    .map(|v| v.iter().map(|x| x.to_bits()).collect())
    .collect()
}

#[test]
fn one_and_two_threads_give_identical_bits_with_channels() {
    let (d, points) = busy_domain(Boundaries::closed(), true);
    let a = pool(1).install(|| busy_run(&d, &points, 3.0).0);
    let b = pool(2).install(|| busy_run(&d, &points, 3.0).0);
    assert!(a.channel_q_m3s.iter().any(|&q| q.abs() > 1.0));
    assert!(bits(&a) == bits(&b), "1 and 2 threads differ");
}

#[test]
fn bad_channel_geometry_is_an_error() {
    let (nr, nc) = (3, 3);
    let d = Domain::new(
        nr,
        nc,
        10.0,
        vec![1.0; 9],
        vec![0.03; 9],
        Boundaries::closed(),
    )
    .unwrap();
    let wide = channel_path(nr, nc, &[(1, 1)], None, &|_| (10.0, 1.0, 0.03));
    assert!(d.clone().with_channels(&wide).is_err(), "width ≥ Δx");
    let shallow = channel_path(nr, nc, &[(1, 1)], None, &|_| (2.0, 0.0, 0.03));
    assert!(d.clone().with_channels(&shallow).is_err(), "depth 0");
    let mut short = channel_path(nr, nc, &[(1, 1)], None, &|_| (2.0, 1.0, 0.03));
    short.width_m.pop();
    assert!(d.clone().with_channels(&short).is_err(), "wrong length");
    let ok = channel_path(nr, nc, &[(1, 1)], None, &|_| (2.0, 1.0, 0.03));
    let dc = d.with_channels(&ok).unwrap();
    assert!(dc.with_fixed_levels(vec![f32::NAN; 9]).is_err());
}

#[test]
fn scenario_channel_section_rejects_unknown_keys_and_reads_the_geometry_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.toml");
    let base = "name = \"x\"\nduration_h = 1.0\n[grid.channels]\nenabled = true\n";
    std::fs::write(&p, format!("{base}widht = 3.0\n")).unwrap();
    let e = haihe::scenario::flood::load_flood_scenario(&p).unwrap_err();
    assert!(e.to_string().contains("widht"), "{e}");
    std::fs::write(&p, base).unwrap();
    let s = haihe::scenario::flood::load_flood_scenario(&p).unwrap();
    assert!(s.grid.channels.is_some_and(|c| c.enabled));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let g = haihe::flood::channels::load_hydraulic_geometry(&root.join("models/channels.toml"))
        .unwrap();
    // 2.0 · 10,151^0.5 ≈ 201 m at the 拒马河 above 白沟村 (reference bed width 200–1000 m).
    assert!((g.width_m(10_151.0, 1000.0) - 201.5).abs() < 0.5);
}

/// A channel crossing a dike line (a crest on every face of one column line) is a
/// flap-gated culvert: the tributary drains into the river while the river is lower, and
/// the river cannot back up into the tributary when it stands higher.
#[test]
fn a_channel_through_a_dike_is_flap_gated() {
    let (nr, nc, dx) = (3usize, 6usize, 100.0);
    // Tributary in row 1 draining east across the dike (x faces of column line 3) into
    // the river cells east of it.
    let path: Vec<(usize, usize)> = (0..nc).map(|c| (1, c)).collect();
    let cc = channel_path(nr, nc, &path, None, &|_| (20.0, 2.0, 0.03));
    let mut crest_x = vec![f32::NEG_INFINITY; nr * (nc + 1)];
    for r in 0..nr {
        crest_x[r * (nc + 1) + 3] = 20.0;
    }
    let crest_y = vec![f32::NEG_INFINITY; (nr + 1) * nc];
    let d = Domain::new(
        nr,
        nc,
        dx,
        vec![10.0; nr * nc],
        vec![0.04; nr * nc],
        Boundaries::closed(),
    )
    .unwrap()
    .with_crests(crest_x, crest_y)
    .unwrap()
    .with_channels(&cc)
    .unwrap();
    let west_volume = |s: &State| -> f64 {
        (0..nr)
            .flat_map(|r| (0..3).map(move |c| r * nc + c))
            .map(|i| cell_volume_m3(&d, s, i))
            .sum()
    };
    // Levels: `west` on the tributary side, `east` on the river side (surface, m).
    let run = |west: f32, east: f32| -> (f64, f64) {
        let mut s = State::at_level(&d, east);
        for r in 0..nr {
            for c in 0..3 {
                let i = r * nc + c;
                let channel = r == 1;
                s.depth_m[i] = if channel {
                    (west - 10.0).max(-2.0)
                } else {
                    (west - 10.0).max(0.0)
                };
            }
        }
        let before = west_volume(&s);
        let rep = run_until(
            &d,
            &mut s,
            3600.0,
            |_| Sources::default(),
            &Params::default(),
        )
        .unwrap();
        assert!(
            rep.relative_error.abs() < 1e-9,
            "mass error {}",
            rep.relative_error
        );
        (before, west_volume(&s))
    };
    // River higher (11 m, over its banks) than the tributary (8.5 m, in its channel): shut.
    let (before, after) = run(8.5, 11.0);
    assert!(
        (after - before).abs() <= 1e-9 * before.max(1.0),
        "the river backed up through the dike: {before} -> {after} m³"
    );
    // Tributary higher (9.5 m) than the river (8.5 m): it drains through the culvert.
    let (before, after) = run(9.5, 8.5);
    assert!(
        after < before - 1000.0,
        "the tributary did not drain: {before} -> {after} m³"
    );
}
