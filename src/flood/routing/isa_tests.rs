//! The kernels give the same bits at every instruction-set level (see [`super::isa`]).

use super::isa::Isa;
use super::{
    run_until, Boundaries, Boundary, ChannelCells, Dir4, Domain, Params, Rate, Sources, State,
};

/// A 20 × 300 grid (more than one 256-cell block per row, not a multiple of 8 lanes) with
/// every kernel path: inactive cells, a levee crest, a subgrid channel draining to a sea of
/// fixed level, free-outflow and closed edges, per-cell rain and loss, a point inflow.
fn busy_domain() -> Domain {
    let (nr, nc, dx) = (20usize, 300usize, 50.0);
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut noise = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
    };
    let mut bed = Vec::with_capacity(nr * nc);
    for r in 0..nr {
        for c in 0..nc {
            let z = 20.0 - 0.05 * c as f32 + 0.1 * (r as f32 - 10.0).abs() + 0.3 * noise();
            bed.push(if (r, c) == (3, 40) || (r, c) == (15, 201) {
                f32::NAN
            } else {
                z
            });
        }
    }
    let mut b = Boundaries::closed();
    b.north = Boundary::FreeOutflow { slope: 0.002 };
    let d = Domain::new(nr, nc, dx, bed, vec![0.035; nr * nc], b).unwrap();
    let levels: Vec<f32> = (0..nr * nc)
        .map(|i| if i % nc >= nc - 3 { 6.0 } else { f32::NAN })
        .collect();
    let mut crest_x = vec![f32::NEG_INFINITY; nr * (nc + 1)];
    for r in 0..8 {
        crest_x[r * (nc + 1) + 150] = 19.0;
    }
    let crest_y = vec![f32::NEG_INFINITY; (nr + 1) * nc];
    let n = nr * nc;
    let mut cc = ChannelCells {
        width_m: vec![f32::NAN; n],
        bank_depth_m: vec![0.0; n],
        manning_n: vec![0.0; n],
        downstream: vec![None; n],
    };
    for c in 5..nc - 3 {
        let i = 10 * nc + c;
        cc.width_m[i] = 12.0;
        cc.bank_depth_m[i] = 1.5;
        cc.manning_n[i] = 0.03;
        cc.downstream[i] = Some(Dir4::East);
    }
    d.with_fixed_levels(levels)
        .unwrap()
        .with_crests(crest_x, crest_y)
        .unwrap()
        .with_channels(&cc)
        .unwrap()
}

/// Bits of the state and the mass balance after 2 h at the forced level.
fn run_at(level: Isa, d: &Domain) -> (Vec<u32>, [u64; 4]) {
    Isa::force(level);
    let cells = d.nrows() * d.ncols();
    let rain: Vec<f32> = (0..cells)
        .map(|i| ((i % 11) as f32 + 1.0) * 2.0e-6)
        .collect();
    let loss: Vec<f32> = (0..cells).map(|i| ((i % 5) as f32) * 1.0e-6).collect();
    let points = [(4 * d.ncols() + 20, 15.0)];
    let mut s = State::dry(d);
    let rep = run_until(
        d,
        &mut s,
        7200.0,
        |t| Sources {
            rain_ms: if t < 3600.0 {
                Rate::PerCell(&rain)
            } else {
                Rate::Uniform(1.0e-6)
            },
            loss_ms: if t < 1800.0 {
                Rate::PerCell(&loss)
            } else {
                Rate::Uniform(5.0e-7)
            },
            points: &points,
            lines: &[],
        },
        &Params::default(),
    )
    .unwrap();
    let bits: Vec<u32> = [
        &s.depth_m,
        &s.depth_residual_m,
        &s.qx_m2s,
        &s.qy_m2s,
        &s.channel_q_m3s,
    ]
    .iter()
    .flat_map(|v| v.iter().map(|x| x.to_bits()))
    .collect();
    let v = rep.volumes;
    (
        bits,
        [
            v.rain_in_m3.to_bits(),
            v.loss_m3.to_bits(),
            v.boundary_in_m3.to_bits(),
            v.boundary_out_m3.to_bits(),
        ],
    )
}

#[test]
fn every_instruction_set_level_gives_the_same_bits() {
    let d = busy_domain();
    let best = run_at(Isa::best(), &d);
    for level in [Isa::Avx2, Isa::Base] {
        let other = run_at(level, &d);
        assert!(best.0 == other.0, "state differs at {level:?}");
        assert_eq!(best.1, other.1, "mass balance differs at {level:?}");
    }
    Isa::force(Isa::best());
    // The run did exercise the paths: water on the grid, in the channel and at the sea.
    assert!(best.1[3] != 0.0f64.to_bits(), "no boundary outflow");
}
