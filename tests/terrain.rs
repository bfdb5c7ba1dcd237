//! Tests of the terrain kernels against hand-computed grids, a brute-force reference
//! fill (Planchon & Darboux 2002) and invariants on seeded random grids.

use haihe::terrain::*;
use ndarray::{array, Array2, ArrayView2};

const NAN: f64 = f64::NAN;

/// Tiny deterministic xorshift64* generator (no `rand` dependency).
struct XorShift(u64);

impl XorShift {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A random DEM with integer elevations (so ties and flats are common), a share of NaN
/// cells and a share of declared sink cells.
fn random_dem(
    seed: u64,
    nr: usize,
    nc: usize,
    nan_share: f64,
    sink_share: f64,
) -> (Array2<f64>, Array2<bool>) {
    let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut dem = Array2::zeros((nr, nc));
    let mut sinks = Array2::from_elem((nr, nc), false);
    for r in 0..nr {
        for c in 0..nc {
            let u = rng.uniform();
            dem[(r, c)] = if u < nan_share {
                NAN
            } else {
                (rng.uniform() * 12.0).floor() + 0.1 * r as f64
            };
            sinks[(r, c)] = rng.uniform() < sink_share;
        }
    }
    (dem, sinks)
}

fn in_grid(dim: (usize, usize), r: isize, c: isize) -> bool {
    r >= 0 && c >= 0 && (r as usize) < dim.0 && (c as usize) < dim.1
}

/// Seeds of Priority-Flood: valid cells on the edge, next to NaN, or declared sinks.
fn is_seed(dem: ArrayView2<f64>, sinks: Option<ArrayView2<bool>>, r: usize, c: usize) -> bool {
    let dim = dem.dim();
    if r == 0 || c == 0 || r + 1 == dim.0 || c + 1 == dim.1 {
        return true;
    }
    if sinks.is_some_and(|s| s[(r, c)]) {
        return true;
    }
    D8_OFFSETS
        .iter()
        .any(|&(dr, dc)| dem[((r as isize + dr) as usize, (c as isize + dc) as usize)].is_nan())
}

/// Reference depression fill by the iterative method of Planchon & Darboux (2002) with
/// ε = 0, same seeds as Priority-Flood. Slow (repeated sweeps) but obviously correct.
fn reference_fill(dem: ArrayView2<f64>, sinks: Option<ArrayView2<bool>>) -> Array2<f64> {
    let (nr, nc) = dem.dim();
    let mut w = Array2::from_elem((nr, nc), f64::INFINITY);
    for r in 0..nr {
        for c in 0..nc {
            if dem[(r, c)].is_nan() {
                w[(r, c)] = NAN;
            } else if is_seed(dem, sinks, r, c) {
                w[(r, c)] = dem[(r, c)];
            }
        }
    }
    loop {
        let mut changed = false;
        for r in 0..nr {
            for c in 0..nc {
                let z = dem[(r, c)];
                if z.is_nan() || w[(r, c)] == z {
                    continue;
                }
                for &(dr, dc) in &D8_OFFSETS {
                    let (rr, cc) = (r as isize + dr, c as isize + dc);
                    if !in_grid((nr, nc), rr, cc) {
                        continue;
                    }
                    let wn = w[(rr as usize, cc as usize)];
                    if wn.is_nan() {
                        continue;
                    }
                    if z >= wn {
                        w[(r, c)] = z;
                        changed = true;
                        break;
                    } else if w[(r, c)] > wn {
                        w[(r, c)] = wn;
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            return w;
        }
    }
}

fn assert_same_nan(a: &Array2<f64>, b: &Array2<f64>) {
    assert_eq!(a.dim(), b.dim());
    for ((idx, x), y) in a.indexed_iter().zip(b.iter()) {
        assert!((x.is_nan() && y.is_nan()) || x == y, "{idx:?}: {x} vs {y}");
    }
}

// ---------------------------------------------------------------- Priority-Flood

fn single_pit() -> Array2<f64> {
    array![
        [9.0, 9.0, 9.0, 9.0, 9.0],
        [9.0, 5.0, 5.0, 5.0, 9.0],
        [9.0, 5.0, 1.0, 5.0, 9.0],
        [9.0, 5.0, 5.0, 5.0, 9.0],
        [9.0, 9.0, 7.0, 9.0, 9.0],
    ]
}

fn nested_pits() -> Array2<f64> {
    array![
        [10.0, 10.0, 10.0, 8.0, 10.0, 10.0, 10.0],
        [10.0, 5.0, 5.0, 5.0, 5.0, 5.0, 10.0],
        [10.0, 5.0, 6.0, 6.0, 6.0, 5.0, 10.0],
        [10.0, 5.0, 6.0, 2.0, 6.0, 5.0, 10.0],
        [10.0, 5.0, 6.0, 6.0, 6.0, 5.0, 10.0],
        [10.0, 5.0, 5.0, 5.0, 5.0, 5.0, 10.0],
        [10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0],
    ]
}

#[test]
fn single_pit_is_filled_to_its_spill_level() {
    let dem = single_pit();
    let filled = priority_flood_fill(dem.view(), None).unwrap();
    let mut expected = dem.clone();
    for r in 1..4 {
        for c in 1..4 {
            expected[(r, c)] = 7.0;
        }
    }
    assert_eq!(filled, expected);
    // 8 cells raised by 2 m and one by 6 m, on 30 m cells.
    let v = depression_volume_m3(dem.view(), filled.view(), 900.0).unwrap();
    assert_eq!(v, 22.0 * 900.0);
}

#[test]
fn nested_depressions_fill_to_the_outer_spill_level() {
    let dem = nested_pits();
    let filled = priority_flood_fill(dem.view(), None).unwrap();
    for r in 1..6 {
        for c in 1..6 {
            assert_eq!(filled[(r, c)], 8.0, "({r}, {c})");
        }
    }
    // 16 cells at 5 m (+3), 8 at 6 m (+2), the inner pit at 2 m (+6).
    let v = depression_volume_m3(dem.view(), filled.view(), 1.0).unwrap();
    assert_eq!(v, 16.0 * 3.0 + 8.0 * 2.0 + 6.0);
}

#[test]
fn declared_sinks_keep_their_depressions() {
    // The pit cell itself is a sink: nothing drains anywhere but into it.
    let dem = single_pit();
    let mut sinks = Array2::from_elem(dem.dim(), false);
    sinks[(2, 2)] = true;
    let filled = priority_flood_fill(dem.view(), Some(sinks.view())).unwrap();
    assert_eq!(filled, dem);
    let eps = priority_flood_epsilon(dem.view(), Some(sinks.view())).unwrap();
    assert_eq!(eps, dem);

    // A sink at the bottom of the inner pit: the outer ring now spills over the 6 m
    // ridge into the sink, so it fills only to 6 m.
    let dem = nested_pits();
    let mut sinks = Array2::from_elem(dem.dim(), false);
    sinks[(3, 3)] = true;
    let filled = priority_flood_fill(dem.view(), Some(sinks.view())).unwrap();
    let mut expected = dem.clone();
    for r in 1..6 {
        for c in 1..6 {
            if dem[(r, c)] == 5.0 {
                expected[(r, c)] = 6.0;
            }
        }
    }
    assert_eq!(filled, expected);
    let v = depression_volume_m3(dem.view(), filled.view(), 1.0).unwrap();
    assert_eq!(v, 16.0);
}

#[test]
fn sink_mask_of_wrong_shape_is_an_error() {
    let dem = single_pit();
    let sinks = Array2::from_elem((2, 2), false);
    assert!(priority_flood_epsilon(dem.view(), Some(sinks.view())).is_err());
}

/// Follows D8 from every valid cell; panics on a cycle or an uphill step, and returns
/// the terminal cell of each path.
fn trace_all(z: &Array2<f64>, dir: &Array2<u8>) -> Array2<(usize, usize)> {
    let dim = dir.dim();
    let n = dim.0 * dim.1;
    let mut end = Array2::from_elem(dim, (usize::MAX, usize::MAX));
    for ((r, c), &d) in dir.indexed_iter() {
        if d == 255 {
            continue;
        }
        let (mut cr, mut cc) = (r, c);
        for step in 0.. {
            assert!(step <= n, "cycle from ({r}, {c})");
            match downstream(dir[(cr, cc)], cr, cc) {
                None => break,
                Some((nr, nc)) => {
                    assert!(in_grid(dim, nr, nc), "({cr}, {cc}) points off the grid");
                    let (nr, nc) = (nr as usize, nc as usize);
                    assert!(dir[(nr, nc)] != 255, "({cr}, {cc}) points into no-data");
                    assert!(
                        z[(nr, nc)] < z[(cr, cc)],
                        "({cr}, {cc}) drains to a cell that is not lower"
                    );
                    (cr, cc) = (nr, nc);
                }
            }
        }
        end[(r, c)] = (cr, cc);
    }
    end
}

#[test]
fn epsilon_fill_drains_a_flat() {
    // A level plateau at 10 m walled at 20 m, with a single notch at 5 m.
    let mut dem = Array2::from_elem((7, 7), 20.0);
    for r in 1..6 {
        for c in 1..6 {
            dem[(r, c)] = 10.0;
        }
    }
    dem[(6, 3)] = 5.0;
    let filled = priority_flood_epsilon(dem.view(), None).unwrap();
    let dir = d8_flow_directions(filled.view(), 30.0);
    let end = trace_all(&filled, &dir);
    for r in 1..6 {
        for c in 1..6 {
            // Cells next to the notch keep 10 m; the rest rise by a few ulps.
            let next_to_notch = r == 5 && (2..=4).contains(&c);
            assert_eq!(filled[(r, c)] == 10.0, next_to_notch, "({r}, {c})");
            assert!(filled[(r, c)] >= 10.0 && filled[(r, c)] < 10.0 + 1e-9);
            assert_ne!(dir[(r, c)], 0, "({r}, {c}) has no lower neighbour");
            assert_eq!(end[(r, c)], (6, 3), "({r}, {c}) does not reach the notch");
        }
    }
    // The flat fill leaves it level and D8 then finds no way out of the plateau.
    let flat = priority_flood_fill(dem.view(), None).unwrap();
    assert_eq!(flat, dem);
    assert_eq!(d8_flow_directions(flat.view(), 30.0)[(3, 3)], 0);
}

#[test]
fn epsilon_fill_drains_a_fully_flat_grid_to_its_edges() {
    let dem = Array2::from_elem((9, 8), 3.0);
    let filled = priority_flood_epsilon(dem.view(), None).unwrap();
    let dir = d8_flow_directions(filled.view(), 1.0);
    trace_all(&filled, &dir);
    for ((r, c), &d) in dir.indexed_iter() {
        let edge = r == 0 || c == 0 || r == 8 || c == 7;
        assert_eq!(d == 0, edge, "({r}, {c}) code {d}");
    }
}

#[test]
fn nodata_cells_stay_nodata_and_their_neighbours_are_outlets() {
    let mut dem = nested_pits();
    dem[(3, 3)] = NAN; // the inner pit becomes a hole in the data
    let filled = priority_flood_fill(dem.view(), None).unwrap();
    assert!(filled[(3, 3)].is_nan());
    // The 6 m ring borders no-data, so it keeps its level; the 5 m ring spills over it.
    assert_eq!(filled[(2, 2)], 6.0);
    assert_eq!(filled[(1, 1)], 6.0);
    let dir = d8_flow_directions(filled.view(), 1.0);
    assert_eq!(dir[(3, 3)], 255);
}

#[test]
fn fills_match_the_reference_on_random_grids() {
    for seed in 1..=12u64 {
        let (nr, nc) = (17 + seed as usize, 23 + 2 * seed as usize);
        let (dem, sinks) = random_dem(seed, nr, nc, 0.04, 0.01);
        let sinks = if seed % 2 == 0 {
            Some(sinks.view())
        } else {
            None
        };
        let flat = priority_flood_fill(dem.view(), sinks).unwrap();
        let reference = reference_fill(dem.view(), sinks);
        assert_same_nan(&flat, &reference);

        let eps = priority_flood_epsilon(dem.view(), sinks).unwrap();
        for ((idx, &z), (&f, &e)) in dem.indexed_iter().zip(flat.iter().zip(eps.iter())) {
            if z.is_nan() {
                assert!(f.is_nan() && e.is_nan(), "{idx:?}");
                continue;
            }
            assert!(f >= z && e >= f, "{idx:?}: dem {z} flat {f} eps {e}");
            assert!(e - f < 1e-9, "{idx:?}: ε increments too large");
            if is_seed(dem.view(), sinks, idx.0, idx.1) {
                assert_eq!(e, z, "{idx:?}: a seed was raised");
            }
        }
        // Every path from the ε-filled DEM descends strictly, has no cycle and ends at
        // a seed.
        let dir = d8_flow_directions(eps.view(), 30.0);
        let end = trace_all(&eps, &dir);
        for ((r, c), &d) in dir.indexed_iter() {
            if d == 0 {
                assert!(is_seed(dem.view(), sinks, r, c), "({r}, {c}) is a pit");
            }
            if d != 255 {
                let (er, ec) = end[(r, c)];
                assert!(is_seed(dem.view(), sinks, er, ec));
            }
        }
        // Volume of the flat fill equals the sum of raises.
        let v = depression_volume_m3(dem.view(), flat.view(), 2.0).unwrap();
        let raised: f64 = dem
            .iter()
            .zip(reference.iter())
            .filter(|(z, _)| !z.is_nan())
            .map(|(z, w)| w - z)
            .sum();
        assert!((v - 2.0 * raised).abs() < 1e-9 * v.max(1.0));
    }
}

#[test]
fn degenerate_shapes_do_not_panic() {
    for (nr, nc) in [(0, 0), (0, 5), (1, 1), (1, 6), (2, 2)] {
        let dem = Array2::from_elem((nr, nc), 1.0);
        let f = priority_flood_epsilon(dem.view(), None).unwrap();
        assert_eq!(f, dem, "every cell is an edge seed");
        let d = d8_flow_directions(dem.view(), 1.0);
        assert!(d.iter().all(|&x| x == 0));
        let a = flow_accumulation(d.view(), None).unwrap();
        assert!(a.iter().all(|&x| x == 1.0));
    }
}

// ---------------------------------------------------------------- D8 and accumulation

/// 4 × 4 hand grid. Ties: (2,2) drops 1 m both E and S (E wins); (3,3) drops 2 m both W
/// and N (W wins). (3,1) is no-data; (2,3), (3,0) and (3,2) have no lower neighbour.
fn hand_dem() -> Array2<f64> {
    array![
        [5.0, 6.0, 7.0, 8.0],
        [4.0, 5.0, 6.0, 7.0],
        [3.0, 4.0, 4.0, 3.0],
        [2.0, NAN, 3.0, 5.0],
    ]
}

fn hand_dir() -> Array2<u8> {
    array![[4, 8, 8, 8], [4, 8, 2, 4], [4, 8, 1, 0], [0, 255, 0, 16],]
}

#[test]
fn d8_matches_hand_directions() {
    assert_eq!(d8_flow_directions(hand_dem().view(), 10.0), hand_dir());
    // Cell size does not change directions.
    assert_eq!(d8_flow_directions(hand_dem().view(), 1000.0), hand_dir());
}

#[test]
fn d8_divides_diagonal_drops_by_sqrt2() {
    // Centre at 10: E drops 1.0, SE drops 1.4 (slope 0.99 < 1.0), so E wins; with SE
    // dropping 1.42 (slope 1.004) SE wins.
    let mut dem = Array2::from_elem((3, 3), 20.0);
    dem[(1, 1)] = 10.0;
    dem[(1, 2)] = 9.0;
    dem[(2, 2)] = 8.6;
    assert_eq!(d8_flow_directions(dem.view(), 30.0)[(1, 1)], 1);
    dem[(2, 2)] = 8.58;
    assert_eq!(d8_flow_directions(dem.view(), 30.0)[(1, 1)], 2);
}

#[test]
fn accumulation_matches_hand_counts() {
    let acc = flow_accumulation(hand_dir().view(), None).unwrap();
    let expected = array![
        [1.0, 1.0, 1.0, 1.0],
        [3.0, 2.0, 2.0, 1.0],
        [6.0, 1.0, 1.0, 5.0],
        [8.0, NAN, 2.0, 1.0],
    ];
    assert_same_nan(&acc, &expected);
    let km2 = upstream_area_km2(hand_dir().view(), 1.0e6).unwrap();
    assert_same_nan(&km2, &expected);
    let km2 = upstream_area_km2(hand_dir().view(), 900.0).unwrap();
    assert!((km2[(3, 0)] - 8.0 * 900.0e-6).abs() < 1e-15);
}

#[test]
fn weighted_accumulation_matches_hand_sums() {
    // Weight = column + 1.
    let w = Array2::from_shape_fn((4, 4), |(_, c)| c as f64 + 1.0);
    let acc = flow_accumulation(hand_dir().view(), Some(w.view())).unwrap();
    let expected = array![
        [1.0, 2.0, 3.0, 4.0],
        [4.0, 5.0, 7.0, 4.0],
        [10.0, 2.0, 3.0, 18.0],
        [13.0, NAN, 7.0, 4.0],
    ];
    assert_same_nan(&acc, &expected);
    // Conservation: the outlets carry the whole weight of the valid cells.
    assert_eq!(acc[(3, 0)] + acc[(2, 3)] + acc[(3, 2)], 38.0);
}

#[test]
fn accumulation_rejects_cycles_and_bad_codes() {
    let cycle = array![[1u8, 4], [64, 16]];
    let e = flow_accumulation(cycle.view(), None).unwrap_err();
    assert!(e.to_string().contains("cycle"), "{e}");
    let bad = array![[1u8, 3], [0, 0]];
    let e = flow_accumulation(bad.view(), None).unwrap_err();
    assert!(e.to_string().contains("not an ESRI D8 code"), "{e}");
    let w = Array2::<f64>::ones((3, 3));
    assert!(flow_accumulation(hand_dir().view(), Some(w.view())).is_err());
}

#[test]
fn accumulation_is_conservative_on_random_grids() {
    for seed in 20..26u64 {
        let (dem, _) = random_dem(seed, 61, 47, 0.03, 0.0);
        let filled = priority_flood_epsilon(dem.view(), None).unwrap();
        let dir = d8_flow_directions(filled.view(), 30.0);
        let acc = flow_accumulation(dir.view(), None).unwrap();
        let dim = dir.dim();
        let mut outflow = 0.0;
        let mut valid = 0.0;
        for ((r, c), &d) in dir.indexed_iter() {
            if d == 255 {
                assert!(acc[(r, c)].is_nan());
                continue;
            }
            valid += 1.0;
            // Own cell plus everything flowing in from the neighbours.
            let mut inflow = 1.0;
            for (k, &(dr, dc)) in D8_OFFSETS.iter().enumerate() {
                let (rr, cc) = (r as isize + dr, c as isize + dc);
                if in_grid(dim, rr, cc) && dir[(rr as usize, cc as usize)] == D8_CODES[(k + 4) % 8]
                {
                    inflow += acc[(rr as usize, cc as usize)];
                }
            }
            assert_eq!(acc[(r, c)], inflow, "({r}, {c})");
            match downstream(d, r, c) {
                Some((rr, cc))
                    if in_grid(dim, rr, cc) && dir[(rr as usize, cc as usize)] != 255 => {}
                _ => outflow += acc[(r, c)],
            }
        }
        assert_eq!(outflow, valid);
    }
}

#[test]
fn d8_and_accumulation_do_not_depend_on_thread_count() {
    let (dem, sinks) = random_dem(7, 301, 257, 0.02, 0.001);
    let filled = priority_flood_epsilon(dem.view(), Some(sinks.view())).unwrap();
    let w = Array2::from_shape_fn(dem.dim(), |(r, c)| ((r * 31 + c * 17) % 13) as f64 * 0.1);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let dir = d8_flow_directions(filled.view(), 30.0);
            let acc = flow_accumulation(dir.view(), Some(w.view())).unwrap();
            let km2 = upstream_area_km2(dir.view(), 900.0).unwrap();
            (dir, acc, km2)
        })
    };
    let (d1, a1, k1) = run(1);
    let (d2, a2, k2) = run(2);
    assert_eq!(d1, d2);
    let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&a1), bits(&a2));
    assert_eq!(bits(&k1), bits(&k2));
}

// ---------------------------------------------------------------- streams, basins, HAND

#[test]
fn streams_use_a_strict_threshold() {
    let acc = array![[0.5, 1.0, 1.5, NAN]];
    assert_eq!(extract_streams(acc.view(), 1.0), array![[0u8, 0, 1, 0]]);
}

#[test]
fn strahler_order_on_the_hand_grid() {
    let streams = hand_dir().mapv(|d| (d != 255) as u8);
    let order = strahler_order(hand_dir().view(), streams.view()).unwrap();
    let expected = array![[1u8, 1, 1, 1], [2, 1, 1, 1], [2, 1, 1, 2], [2, 0, 1, 1]];
    assert_eq!(order, expected);
    // Without (0,1), (1,0) has a single order-1 tributary and stays order 1, but
    // (2,0) still joins two order-1 reaches.
    let mut streams = streams;
    streams[(0, 1)] = 0;
    let order = strahler_order(hand_dir().view(), streams.view()).unwrap();
    assert_eq!(order[(0, 1)], 0);
    assert_eq!(order[(1, 0)], 1);
    assert_eq!(order[(2, 0)], 2);
}

#[test]
fn basins_split_at_nested_gauges() {
    let dir = hand_dir();
    let labels = label_basins(dir.view(), &[(3, 0, 1), (2, 3, 2), (1, 0, 3)]).unwrap();
    let expected = array![[3, 3, 1, 2], [3, 1, 2, 2], [1, 1, 2, 2], [1, 0, 0, 0]];
    assert_eq!(labels, expected);
    // Without the gauge, basin 1 is whole.
    let labels = label_basins(dir.view(), &[(3, 0, 1), (2, 3, 2)]).unwrap();
    assert_eq!(labels.iter().filter(|&&l| l == 1).count(), 8);
    assert!(label_basins(dir.view(), &[(4, 0, 1)]).is_err());
    assert!(label_basins(dir.view(), &[(0, 0, 0)]).is_err());
}

#[test]
fn upstream_masks_agree_with_accumulation() {
    let (dem, _) = random_dem(42, 40, 35, 0.03, 0.0);
    let filled = priority_flood_epsilon(dem.view(), None).unwrap();
    let dir = d8_flow_directions(filled.view(), 30.0);
    let acc = flow_accumulation(dir.view(), None).unwrap();
    for r in (0..40).step_by(3) {
        for c in (0..35).step_by(2) {
            if dir[(r, c)] == 255 {
                continue;
            }
            let m = upstream_mask(dir.view(), r, c).unwrap();
            assert_eq!(m.iter().filter(|&&b| b).count() as f64, acc[(r, c)]);
        }
    }
    let m = upstream_mask(hand_dir().view(), 2, 0).unwrap();
    let expected = array![
        [true, true, true, false],
        [true, true, false, false],
        [true, false, false, false],
        [false, false, false, false],
    ];
    assert_eq!(m, expected);
}

#[test]
fn hand_on_the_hand_grid() {
    let mut streams = Array2::<u8>::zeros((4, 4));
    for (r, c) in [(2, 0), (3, 0), (2, 3)] {
        streams[(r, c)] = 1;
    }
    let h = height_above_nearest_drainage(hand_dem().view(), hand_dir().view(), streams.view())
        .unwrap();
    let expected = array![
        [2.0, 3.0, 4.0, 5.0],
        [1.0, 2.0, 3.0, 4.0],
        [0.0, 2.0, 1.0, 0.0],
        [0.0, NAN, NAN, NAN],
    ];
    assert_same_nan(&h, &expected);
    assert!(height_above_nearest_drainage(
        hand_dem().view(),
        hand_dir().view(),
        Array2::<u8>::zeros((2, 2)).view()
    )
    .is_err());
}

#[test]
fn snapping_picks_the_best_matching_area() {
    let acc = flow_accumulation(hand_dir().view(), None).unwrap();
    // Radius 1 holds only the cardinal neighbours: (1,0) with 3 km² is closest to 6.
    assert_eq!(
        snap_to_stream(acc.view(), 1, 1, 1, Some(6.0)).unwrap(),
        (1, 0)
    );
    // Radius 2 reaches (2,0), an exact match.
    assert_eq!(
        snap_to_stream(acc.view(), 1, 1, 2, Some(6.0)).unwrap(),
        (2, 0)
    );
    // No target: the largest area within reach.
    assert_eq!(snap_to_stream(acc.view(), 1, 1, 2, None).unwrap(), (2, 0));
    assert_eq!(snap_to_stream(acc.view(), 2, 1, 1, None).unwrap(), (2, 0));
    // Tie between (0,0) and (0,1): row-major first.
    assert_eq!(
        snap_to_stream(acc.view(), 0, 0, 1, Some(1.0)).unwrap(),
        (0, 0)
    );
    assert_eq!(
        snap_to_stream(acc.view(), 0, 1, 1, Some(1.0)).unwrap(),
        (0, 0)
    );
    assert!(snap_to_stream(acc.view(), 9, 0, 1, None).is_err());
    assert!(snap_to_stream(acc.view(), 0, 0, 1, Some(0.0)).is_err());
}
