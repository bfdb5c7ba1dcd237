//! Levees as crests on the faces of the routing grid, and breaches that lower them:
//! a wall holds a lake below its crest exactly; flow over a crest follows the
//! broad-crested weir law; a straight levee line walls the expected faces; a breach
//! opens at its time and moves water, with the mass balance closed; 1 and 2 threads give
//! the same bits; scenario errors for an unknown levee name; a breach on a perched river
//! (subgrid channel bed above the land) sends river water onto the land, at the weir
//! discharge from the channel's stage, and conserves mass; a perched corridor's beds.

use std::path::{Path, PathBuf};

use haihe::flood::routing::{
    face_discharge_m3s, run_until, stage_m, storage_m3, Boundaries, Boundary, ChannelCells, Dir4,
    Domain, Face, Params, Sources, State,
};
use haihe::flood::simulate::{simulate_with_works, Exchange, NoRain, RunPlan};
use haihe::flood::structures::levee::{BreachSpec, BreachTrigger};
use haihe::flood::structures::levee_faces::{levee_faces, river_corridor, Bank};
use haihe::flood::structures::*;
use haihe::scenario::structures::{build_works_on, perch_beds, StructuresSection};
use haihe::Error;

fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a rayon pool can be built")
}

/// No crest on any face.
fn no_crests(nr: usize, nc: usize) -> (Vec<f32>, Vec<f32>) {
    (vec![f32::NAN; nr * (nc + 1)], vec![f32::NAN; (nr + 1) * nc])
}

#[test]
fn a_wall_holds_a_lake_below_its_crest_exactly() {
    // A closed 3 × 8 tank on an irregular bed, split by a wall of crest 5 m on the x faces
    // between columns 3 and 4. Water stands at 4.9 m on the west side, the east side is
    // dry: nothing may move.
    let (nr, nc) = (3, 8);
    let bed: Vec<f32> = (0..nr * nc)
        .map(|i| 1.0 + 0.3 * ((i * 7919) % 5) as f32)
        .collect();
    let (mut cx, cy) = no_crests(nr, nc);
    for r in 0..nr {
        cx[r * (nc + 1) + 4] = 5.0;
    }
    let domain = Domain::new(
        nr,
        nc,
        50.0,
        bed.clone(),
        vec![0.03; nr * nc],
        Boundaries::closed(),
    )
    .unwrap()
    .with_crests(cx, cy)
    .unwrap();
    assert!(domain.has_crests());
    assert_eq!(domain.crest_m(Face::X { row: 1, col: 4 }), Some(5.0));
    assert_eq!(domain.crest_m(Face::X { row: 1, col: 3 }), None);
    let mut state = State::dry(&domain);
    for r in 0..nr {
        for c in 0..4 {
            state.depth_m[r * nc + c] = 4.9 - bed[r * nc + c];
        }
    }
    let before = state.depth_m.clone();
    let params = Params {
        dt_max_s: 5.0,
        ..Params::default()
    };
    let rep = run_until(&domain, &mut state, 3600.0, |_| Sources::default(), &params).unwrap();
    assert!(rep.steps > 100);
    // East of the wall stays bone dry, every face at rest, the lake level unchanged.
    for r in 0..nr {
        for c in 4..nc {
            assert_eq!(state.depth_m[r * nc + c], 0.0, "cell ({r}, {c})");
        }
    }
    assert!(state.qx_m2s.iter().chain(&state.qy_m2s).all(|&q| q == 0.0));
    assert_eq!(state.depth_m, before);
}

#[test]
fn flow_over_a_crest_follows_the_broad_crested_weir_law() {
    // A 1 × 40 flume of 10 m cells: a reservoir held at 3.0 m by a fixed level on the
    // west edge, a wall of crest 2.0 m on the face between columns 19 and 20, and a bed
    // falling away behind it to a free outfall, so the tailwater stays below the crest
    // (free flow). At steady state the discharge over the crest per metre must be
    // (2/3)^{3/2} √g H^{3/2} with H the head of the upstream cell over the crest.
    let nc = 40;
    let bed: Vec<f32> = (0..nc)
        .map(|c| {
            if c < 20 {
                0.0
            } else {
                -1.0 - 0.05 * (c - 20) as f32
            }
        })
        .collect();
    let b = Boundaries {
        north: Boundary::Closed,
        south: Boundary::Closed,
        west: Boundary::FixedLevel { level_m: 3.0 },
        east: Boundary::FreeOutflow { slope: 0.01 },
    };
    let (mut cx, cy) = no_crests(1, nc);
    cx[20] = 2.0;
    let domain = Domain::new(1, nc, 10.0, bed, vec![0.02; nc], b)
        .unwrap()
        .with_crests(cx, cy)
        .unwrap();
    let mut state = State::at_level(&domain, 3.0);
    for c in 20..nc {
        state.depth_m[c] = 0.0;
    }
    let params = Params {
        dt_max_s: 1.0,
        ..Params::default()
    };
    run_until(
        &domain,
        &mut state,
        4.0 * 3600.0,
        |_| Sources::default(),
        &params,
    )
    .unwrap();
    let face = Face::X { row: 0, col: 20 };
    let q = face_discharge_m3s(&domain, &state, face).unwrap();
    let eta_up = (0.0 + state.depth_m[19]) as f64;
    let head = eta_up - 2.0;
    let weir = broad_crested_weir_m3s(10.0, head);
    let tail = -1.0 + state.depth_m[20] as f64;
    assert!(tail < 2.0, "tailwater {tail} m must stay below the crest");
    assert!(head > 0.5, "head {head} m");
    // Tolerance 0.5 %: f32 state and the weir coefficient rounded to f32.
    assert!(
        (q / weir - 1.0).abs() < 5e-3,
        "over the crest {q} m³/s, weir law {weir} m³/s at H = {head} m"
    );
}

#[test]
fn a_straight_levee_line_walls_the_faces_on_its_bank() {
    // A line running south along column 3 of an 8 × 7 grid, from row 1 to row 6:
    // looking downstream (south) the left bank is east, the right bank west.
    let line = [(1.2, 3.5), (6.8, 3.5)];
    let corridor = river_corridor(8, 7, &line, None);
    let cells: Vec<usize> = (0..56).filter(|&i| corridor[i]).collect();
    assert_eq!(cells, (1..7).map(|r| r * 7 + 3).collect::<Vec<_>>());
    let left: Vec<Face> = levee_faces(8, 7, &line, &corridor, Bank::Left)
        .iter()
        .map(|f| f.face)
        .collect();
    assert_eq!(
        left,
        (1..7)
            .map(|r| Face::X { row: r, col: 4 })
            .collect::<Vec<_>>()
    );
    let right: Vec<Face> = levee_faces(8, 7, &line, &corridor, Bank::Right)
        .iter()
        .map(|f| f.face)
        .collect();
    assert_eq!(
        right,
        (1..7)
            .map(|r| Face::X { row: r, col: 3 })
            .collect::<Vec<_>>()
    );
    // A stream cell touching the line joins the corridor; the wall moves out around it.
    let mut streams = vec![false; 56];
    streams[3 * 7 + 4] = true;
    let corridor = river_corridor(8, 7, &line, Some(&streams));
    let left: Vec<Face> = levee_faces(8, 7, &line, &corridor, Bank::Left)
        .iter()
        .map(|f| f.face)
        .collect();
    assert!(left.contains(&Face::X { row: 3, col: 5 }));
    assert!(!left.contains(&Face::X { row: 3, col: 4 }));
}

/// A 3 × 12 grid of 100 m cells: row 0 is a river held apart from the land (rows 1–2)
/// by a levee of crest 3 m on the y faces between rows 0 and 1; the river is full to
/// 2.5 m, the land dry. A breach starts at `start_s`: crest 3 → 0 m over 10 min, width
/// 20 → 150 m (one whole face and a 50 m weir at the end).
fn breach_case() -> (Domain, State, Works) {
    let (nr, nc) = (3, 12);
    let domain = Domain::new(
        nr,
        nc,
        100.0,
        vec![0.0; nr * nc],
        vec![0.03; nr * nc],
        Boundaries::closed(),
    )
    .unwrap();
    let (cx, mut cy) = no_crests(nr, nc);
    for c in 0..nc {
        cy[nc + c] = 3.0;
    }
    let domain = domain.with_crests(cx, cy).unwrap();
    let mut state = State::dry(&domain);
    for c in 0..nc {
        state.depth_m[c] = 2.5;
    }
    let spec = BreachSpec {
        crest_initial_m: 3.0,
        crest_final_m: 0.0,
        width_initial_m: 20.0,
        width_final_m: 150.0,
        development_s: 600.0,
    };
    let model = Breach::new(spec, BreachTrigger::At(1800.0));
    let faces = [6usize, 5, 7]
        .iter()
        .map(|&c| BreachFace {
            face: Face::Y { row: 1, col: c },
            river_cell: c,
            land_cell: nc + c,
            ground_m: 0.0,
        })
        .collect();
    let works = Works {
        breaches: vec![BreachSite::on_faces("B", model, faces).unwrap()],
        ..Works::default()
    };
    (domain, state, works)
}

fn run_breach(threads: usize) -> (State, Works, haihe::flood::simulate::Simulation) {
    run_case(breach_case(), 3.0, threads)
}

/// Runs a case without rain for `hours` (5 s steps at most, records every 5 min).
fn run_case(
    case: (Domain, State, Works),
    hours: f64,
    threads: usize,
) -> (State, Works, haihe::flood::simulate::Simulation) {
    let (domain, mut state, mut works) = case;
    let plan = RunPlan {
        duration_s: hours * 3600.0,
        output_interval_s: 300.0,
        recession: None,
    };
    let params = Params {
        dt_max_s: 5.0,
        ..Params::default()
    };
    let sim = pool(threads).install(|| {
        simulate_with_works(
            &domain,
            &mut state,
            &mut NoRain,
            &mut works,
            &[],
            plan,
            &params,
        )
        .unwrap()
    });
    (state, works, sim)
}

#[test]
fn a_breach_opens_at_its_time_moves_water_and_conserves_mass() {
    let (state, works, sim) = run_breach(1);
    let cols = works.columns();
    let flow = cols.iter().position(|c| c == "B breach_flow_m3s").unwrap();
    let vol = cols
        .iter()
        .position(|c| c == "B breach_volume_1e8_m3")
        .unwrap();
    // Held shut (intact crest 3 m above a 2.5 m river) until 30 min.
    for r in sim.records.iter().filter(|r| r.time_s <= 1800.0) {
        assert_eq!(r.works[flow], 0.0, "flow at {} s", r.time_s);
        assert_eq!(r.works[vol], 0.0);
    }
    let land: f64 = state.depth_m[12..].iter().map(|&h| h as f64).sum::<f64>() * 1e4;
    let peak = sim
        .records
        .iter()
        .map(|r| r.works[flow])
        .fold(0.0f64, f64::max);
    assert!(peak > 10.0, "breach peak {peak} m³/s");
    // Everything on the land came through the breach (faces and weir), and the levels
    // have met at the end (equal areas are not needed: a level surface).
    let moved = sim.records.last().unwrap().works[vol] * 1e8;
    assert!(
        (moved - land).abs() < 1e-3 * land,
        "{moved} m³ booked, {land} m³ on land"
    );
    let eta_river = state.depth_m[6] as f64;
    let eta_land = state.depth_m[18] as f64;
    assert!(
        (eta_river - eta_land).abs() < 0.05,
        "{eta_river} vs {eta_land}"
    );
    // The developed breach lowered one whole face (150 m ≥ Δx) in the run's own domain;
    // the caller's domain keeps its intact levee.
    let (domain, ..) = breach_case();
    assert_eq!(domain.crest_m(Face::Y { row: 1, col: 6 }), Some(3.0));
    // Mass balance of grid + works.
    let last = sim.records.last().unwrap();
    let total = 12.0 * 2.5 * 1e4;
    assert!(
        last.mass_error_m3.abs() < 1e-9 * total,
        "{}",
        last.mass_error_m3
    );
    assert!((storage_m3(&domain, &state) - total).abs() < 1e-6 * total);
}

#[test]
fn levees_and_a_breach_give_the_same_bits_on_1_and_2_threads() {
    let (s1, w1, sim1) = run_breach(1);
    let (s2, w2, sim2) = run_breach(2);
    assert_eq!(s1, s2);
    assert_eq!(w1.readings(), w2.readings());
    assert_eq!(sim1.records, sim2.records);
}

/// A perched river: a 3 × 12 grid of 100 m cells; row 0 is a river whose subgrid channel
/// (40 m wide, 2 m bank-full) has its bed at 3 m, 1 m above the land of rows 1–2 (bed
/// 2 m), and its bank (the cell's bed) at 5 m; a levee of crest 3 m above the bank (8 m)
/// stands between rows 0 and 1. The channel holds water to 4.5 m, below its bank, so no
/// floodplain face can carry it. A breach of the face at column 6 starts at 600 s: crest
/// falling from 8 m to the land's 2 m, width 20 → `width_m` over `development_s`.
fn perched_case(width_m: f64, development_s: f64, start_s: f64) -> (Domain, State, Works) {
    let (nr, nc) = (3, 12);
    let mut bed = vec![2.0f32; nr * nc];
    for z in bed.iter_mut().take(nc) {
        *z = 5.0;
    }
    let domain = Domain::new(
        nr,
        nc,
        100.0,
        bed,
        vec![0.03; nr * nc],
        Boundaries::closed(),
    )
    .unwrap();
    let n = nr * nc;
    let mut cc = ChannelCells {
        width_m: vec![f32::NAN; n],
        bank_depth_m: vec![0.0; n],
        manning_n: vec![0.0; n],
        downstream: vec![None; n],
    };
    for c in 0..nc {
        cc.width_m[c] = 40.0;
        cc.bank_depth_m[c] = 2.0;
        cc.manning_n[c] = 0.035;
        cc.downstream[c] = (c + 1 < nc).then_some(Dir4::East);
    }
    let domain = domain.with_channels(&cc).unwrap();
    let (cx, mut cy) = no_crests(nr, nc);
    for c in 0..nc {
        cy[nc + c] = 8.0;
    }
    let domain = domain.with_crests(cx, cy).unwrap();
    let mut state = State::dry(&domain);
    for c in 0..nc {
        state.depth_m[c] = -0.5; // η = 4.5 m: 1.5 m in the channel, 0.5 m below the bank
    }
    let spec = BreachSpec {
        crest_initial_m: 3.0,
        crest_final_m: 0.0,
        width_initial_m: width_m.min(20.0),
        width_final_m: width_m,
        development_s,
    };
    let model = Breach::new(spec, BreachTrigger::At(start_s));
    let faces = [6usize, 5, 7]
        .iter()
        .map(|&c| BreachFace {
            face: Face::Y { row: 1, col: c },
            river_cell: c,
            land_cell: nc + c,
            ground_m: 5.0,
        })
        .collect();
    let works = Works {
        breaches: vec![BreachSite::on_faces("P", model, faces).unwrap()],
        ..Works::default()
    };
    (domain, state, works)
}

fn run_perched(threads: usize) -> (State, Works, haihe::flood::simulate::Simulation) {
    run_case(perched_case(150.0, 600.0, 600.0), 2.0, threads)
}

#[test]
fn a_breach_on_a_perched_river_floods_the_land_and_conserves_mass() {
    let (domain, state0, _) = perched_case(150.0, 600.0, 600.0);
    let total = storage_m3(&domain, &state0);
    let (state, works, sim) = run_perched(1);
    let cols = works.columns();
    let flow = cols.iter().position(|c| c == "P breach_flow_m3s").unwrap();
    let vol = cols
        .iter()
        .position(|c| c == "P breach_volume_1e8_m3")
        .unwrap();
    for r in sim.records.iter().filter(|r| r.time_s <= 600.0) {
        assert_eq!(r.works[flow], 0.0, "flow at {} s", r.time_s);
    }
    // River → land (positive), and never the other way.
    let peak = sim
        .records
        .iter()
        .map(|r| r.works[flow])
        .fold(f64::NEG_INFINITY, f64::max);
    assert!(peak > 5.0, "breach peak {peak} m³/s");
    assert!(
        sim.records.iter().all(|r| r.works[flow] >= 0.0),
        "the breach must not drain the land into a perched river"
    );
    // Everything on the land came from the river through the breach.
    let land: f64 = state.depth_m[12..].iter().map(|&h| h as f64).sum::<f64>() * 1e4;
    let moved = sim.records.last().unwrap().works[vol] * 1e8;
    assert!(land > 1e3, "{land} m³ on the land");
    assert!(
        (moved - land).abs() < 1e-3 * land,
        "{moved} m³ booked, {land} m³ on the land"
    );
    // The river fell within its channel: the breach, eroded to the land below the
    // perched bed, drains the channel towards its bed (3 m).
    for c in 0..12 {
        let eta = stage_m(&domain, &state, c).unwrap();
        assert!(
            (3.0 - 1e-6..4.0).contains(&eta),
            "river stage {eta} m at column {c}"
        );
    }
    // Mass: grid + works, and the grid's own storage.
    let last = sim.records.last().unwrap();
    assert!(
        last.mass_error_m3.abs() < 1e-9 * total,
        "{}",
        last.mass_error_m3
    );
    assert!((storage_m3(&domain, &state) - total).abs() < 1e-6 * total);
}

#[test]
fn a_perched_breach_passes_the_broad_crested_weir_discharge_from_the_channel_stage() {
    // Fully developed at once (development 0 s): a 50 m breach down to the land's 2 m.
    // The channel at the breach holds 0.2 m of water (stage 3.2 m, H = 1.2 m above the
    // sill), the others are empty. One exchange of 1 s, short enough that neither the
    // donor limit nor the levelling limit binds.
    let (domain, mut state, mut works) = perched_case(50.0, 0.0, 0.0);
    for c in 0..12 {
        state.depth_m[c] = -2.0;
    }
    state.depth_m[6] = -1.8;
    let eta = stage_m(&domain, &state, 6).unwrap();
    assert!((eta - 3.2).abs() < 1e-6, "{eta}");
    state.time_s = 1.0;
    works.exchange(&domain, &mut state, 1.0).unwrap();
    let q = works.breaches[0].flow_m3s();
    // Hand computation: C = (2/3)^{3/2}·√9.80665 = 1.70460 m^{1/2}/s; H = 3.2 − 2.0 =
    // 1.2 m; Q = C·b·H^{3/2} = 1.70460 × 50 × 1.31453 = 112.04 m³/s (free flow: the land
    // is dry).
    assert!((q - 112.04).abs() < 0.01, "breach discharge {q} m³/s");
    // The face keeps its intact crest: the weir carries the breach, not the face.
    let mut d = domain.clone();
    works.update_domain(&mut d).unwrap();
    assert_eq!(d.crest_m(Face::Y { row: 1, col: 6 }), Some(8.0));
}

#[test]
fn a_perched_breach_gives_the_same_bits_on_1_and_2_threads() {
    let (s1, w1, sim1) = run_perched(1);
    let (s2, w2, sim2) = run_perched(2);
    assert_eq!(s1, s2);
    assert_eq!(w1.readings(), w2.readings());
    assert_eq!(sim1.records, sim2.records);
}

#[test]
fn a_perched_corridor_raises_its_channels_without_a_step_where_it_begins() {
    // One row of 6 cells falling 1 m per cell (10, 9, …, 5 m), channels 2 m deep draining
    // east, a tributary channel (1 m deep, narrower) in row 1 joining at column 3; the
    // corridor (perched by 0.5 m) is columns 1–4 of row 0 and the tributary's cell (1, 3)
    // is outside; a cell without a channel at (1, 2) is in the corridor.
    let (nr, nc) = (2, 6);
    let mut bed: Vec<f32> = (0..nc).map(|c| 10.0 - c as f32).collect();
    bed.extend([9.0f32, 9.0, 9.0, 6.5, 9.0, 9.0]);
    let n = nr * nc;
    let mut cc = ChannelCells {
        width_m: vec![f32::NAN; n],
        bank_depth_m: vec![0.0; n],
        manning_n: vec![0.0; n],
        downstream: vec![None; n],
    };
    for c in 0..nc {
        cc.width_m[c] = 100.0;
        cc.bank_depth_m[c] = 2.0;
        cc.manning_n[c] = 0.035;
        cc.downstream[c] = (c + 1 < nc).then_some(Dir4::East);
    }
    let trib = nc + 3;
    cc.width_m[trib] = 20.0;
    cc.bank_depth_m[trib] = 1.0;
    cc.manning_n[trib] = 0.035;
    cc.downstream[trib] = Some(Dir4::North);
    let mut perch = vec![f32::NAN; n];
    for p in perch.iter_mut().take(5).skip(1) {
        *p = 0.5;
    }
    perch[nc + 2] = 0.5;
    let mut z = bed.clone();
    let raised = perch_beds(nr, nc, &mut z, &perch, Some(&cc));
    // Channel beds (bed − 2 m) before: 8, 7, 6, 5, 4, 3. The channel feeding the corridor
    // (column 0, outside) has its bed at 8 m; in the corridor each channel bed becomes
    // min(z + 0.5, the channel bed of its widest feeder): min(9.5, 8) = 8, min(8.5, 8) =
    // 8, min(7.5, 8) = 7.5, min(6.5, 7.5) = 6.5 (the narrower tributary does not cap
    // column 3), and each bank stands 2 m above its channel bed.
    let chan: Vec<f32> = (0..nc).map(|c| z[c] - 2.0).collect();
    assert_eq!(chan, vec![8.0, 8.0, 8.0, 7.5, 6.5, 3.0]);
    // Never lowered; the tributary outside the corridor untouched; the corridor cell
    // without a channel raised to the lowest bank of the corridor channels beside it
    // (columns 1–3 of row 0: banks 10, 10, 9.5).
    assert!(z.iter().zip(&bed).all(|(a, b)| a >= b));
    assert_eq!(z[trib], 6.5);
    assert_eq!(z[nc + 2], 9.5);
    // Channel beds fall downstream through the reach.
    assert!(chan.windows(2).all(|w| w[1] <= w[0]), "{chan:?}");
    assert_eq!(
        raised.iter().map(|&(i, _)| i).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, nc + 2]
    );
    // Without channels: the bed itself is the river's, raised by p.
    let mut z = bed.clone();
    perch_beds(nr, nc, &mut z, &perch, None);
    assert_eq!(z[1], 9.5);
    assert_eq!(z[0], 10.0);
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn regional_domain() -> Domain {
    let dem = haihe::grid::io::read_raster(&root().join("rasters/model/dem_source.tif")).unwrap();
    let (nr, nc) = dem.data.dim();
    let bed: Vec<f32> = dem.data.iter().map(|&z| z as f32).collect();
    Domain::new(
        nr,
        nc,
        1000.0,
        bed,
        vec![0.035; nr * nc],
        Boundaries::closed(),
    )
    .unwrap()
}

fn build_on(text: &str, domain: &mut Domain) -> haihe::Result<(Works, Vec<String>)> {
    let r = root();
    let section: StructuresSection = toml::from_str(text).unwrap();
    build_works_on(
        &section,
        Path::new("scenario.toml"),
        &r,
        &r.join("rasters/model"),
        &[],
        Some("2000-07-01 00:00:00"),
        domain,
    )
}

#[test]
fn the_yongding_dikes_stand_on_the_grid_and_the_daxing_breach_lowers_them() {
    let mut domain = regional_domain();
    let text = "reservoirs = []\ndetention_basins = []\ndiversions = []\nbreaches = [{ name = \"永定河左堤 大兴 决口 (stage)\", after_h = 30.0 }]";
    let (works, notes) = build_on(text, &mut domain).unwrap();
    assert!(domain.has_crests());
    let faces_of = |name: &str| -> usize {
        let n = notes
            .iter()
            .find(|n| n.starts_with(&format!("levee {name}:")))
            .unwrap_or_else(|| panic!("no note for {name}: {notes:?}"));
        n.split(": ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    // About 62 km of river on 1 km cells: each bank gets tens of faces.
    for name in ["永定河左堤 卢沟桥–梁各庄", "永定河右堤 卢沟桥–梁各庄"] {
        let n = faces_of(name);
        assert!((40..300).contains(&n), "{name}: {n} faces");
    }
    let b = &works.breaches[0];
    assert!(!b.faces.is_empty());
    let f0 = b.faces[0];
    let crest = domain.crest_m(f0.face).unwrap() as f64;
    assert!(
        (crest - (f0.ground_m + 3.1)).abs() < 1e-3,
        "crest {crest}, ground {}",
        f0.ground_m
    );
    // Unknown names and `levees = false`.
    let mut d = regional_domain();
    let e = build_on("levees = [\"不存在的堤\"]", &mut d).unwrap_err();
    match e {
        Error::Invalid {
            path,
            field,
            message,
        } => {
            assert_eq!(field, "structures.levees");
            assert_eq!(path, Path::new("scenario.toml"));
            assert!(
                message.contains("不存在的堤") && message.contains("levees.toml"),
                "{message}"
            );
        }
        other => panic!("expected Error::Invalid, got {other}"),
    }
    let mut d = regional_domain();
    build_on("levees = false\nreservoirs = []", &mut d).unwrap();
    assert!(!d.has_crests());
}
