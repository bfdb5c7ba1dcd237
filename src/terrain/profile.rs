//! River long profiles that fall downstream: the bed of every river cell set to the
//! isotonic (monotone non-increasing) least-squares fit of the DEM along its D8 path.
//!
//! A coarse DEM crosses its rivers with ridges and pits (a 2′ cell averages the valley
//! with its banks). Carving every ridge to the lowest cell upstream (breaching, Soille
//! 2004) digs trenches tens of metres deep behind one noisy low cell; filling every pit
//! to its spill point (Priority-Flood, Barnes et al. 2014) makes lakes of hundreds of
//! km² that a river crawls across, so that a reservoir's release never reaches the gauge
//! below. Between the two, the monotone profile closest to the DEM in the least-squares
//! sense cuts the ridge and raises the pit by the same amount of misfit: it is the
//! isotonic regression of the DEM along the path, computed exactly in linear time by the
//! pool-adjacent-violators algorithm (Ayer et al. 1955; Barlow et al. 1972). This is
//! the L2 form of the quantile carving of river profiles (τ = 0.5 is its L1 form) of
//! Schwanghart & Scherler (2017, Earth Surf. Dynam. 5, 821–839, TopoToolbox `quantcarve`).
//!
//! The network is split into chains: each chain runs from a source down to where it
//! joins a larger river (the upstream branch with the largest upstream area continues
//! the chain; the others start their own). Chains are fitted from the outlets upwards,
//! and a tributary never falls below the river it joins at the junction.

use super::flow_direction::downstream_cell;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};

/// Isotonic (non-increasing) least-squares fit of `z` (pool-adjacent-violators):
/// returns the values `y` with `y[i] >= y[i + 1]` that minimise Σ (y − z)².
///
/// ```
/// use haihe::terrain::profile::isotonic_non_increasing;
/// // A pit of 2 m between cells at 10 and 8 m, then a 4 m ridge.
/// let y = isotonic_non_increasing(&[10.0, 6.0, 12.0, 5.0]);
/// assert_eq!(y, vec![10.0, 9.0, 9.0, 5.0]);
/// ```
pub fn isotonic_non_increasing(z: &[f64]) -> Vec<f64> {
    // Blocks of pooled values: (sum, count).
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(z.len());
    for &v in z {
        blocks.push((v, 1));
        while blocks.len() >= 2 {
            let (s1, n1) = blocks[blocks.len() - 1];
            let (s0, n0) = blocks[blocks.len() - 2];
            // Violation: the later (downstream) block stands higher than the earlier.
            if s1 / n1 as f64 > s0 / n0 as f64 {
                blocks.pop();
                let last = blocks.len() - 1;
                blocks[last] = (s0 + s1, n0 + n1);
            } else {
                break;
            }
        }
    }
    let mut out = Vec::with_capacity(z.len());
    for (s, n) in blocks {
        out.extend(std::iter::repeat_n(s / n as f64, n));
    }
    out
}

/// The river beds of `river` cells (true) conditioned to fall downstream along the D8
/// directions `dir` (ESRI codes) by [`isotonic_non_increasing`] of `dem` per chain, as the
/// module doc describes; `acc` (upstream area, any unit) picks the main branch at a
/// confluence. Cells that are not river cells, or whose DEM is not finite, keep their
/// DEM value. Errors on grids of different shapes.
pub fn monotone_river_profiles(
    dem: ArrayView2<f64>,
    dir: ArrayView2<u8>,
    acc: ArrayView2<f64>,
    river: ArrayView2<bool>,
) -> Result<Array2<f64>> {
    let (nr, nc) = dem.dim();
    if dir.dim() != (nr, nc) || acc.dim() != (nr, nc) || river.dim() != (nr, nc) {
        return Err(Error::Misaligned(format!(
            "river profiles: DEM {nr} x {nc}, directions {:?}, areas {:?} and rivers {:?} differ",
            dir.dim(),
            acc.dim(),
            river.dim()
        )));
    }
    let n = nr * nc;
    let is_river = |i: usize| river[[i / nc, i % nc]] && dem[[i / nc, i % nc]].is_finite();
    // Downstream river cell of each river cell (None: the chain ends in a non-river cell,
    // the sea or off the grid).
    let down: Vec<Option<usize>> = (0..n)
        .map(|i| {
            if !is_river(i) {
                return None;
            }
            let (r, c) = (i / nc, i % nc);
            downstream_cell(dir[[r, c]], r, c, nr, nc)
                .map(|(rr, cc)| rr * nc + cc)
                .filter(|&j| is_river(j))
        })
        .collect();
    // Upstream river neighbours, the main one (largest area) first; ties by index.
    let mut ups: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, d) in down.iter().enumerate() {
        if let Some(j) = d {
            ups[*j].push(i);
        }
    }
    for u in ups.iter_mut().filter(|u| u.len() > 1) {
        u.sort_by(|&a, &b| {
            let (aa, ab) = (acc[[a / nc, a % nc]], acc[[b / nc, b % nc]]);
            ab.partial_cmp(&aa)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(a.cmp(&b))
        });
    }
    let mut out = dem.to_owned();
    // Chains to fit: (first cell, i.e. the most downstream cell of the chain; floor).
    let mut queue: std::collections::VecDeque<(usize, f64)> = (0..n)
        .filter(|&i| is_river(i) && down[i].is_none())
        .map(|i| (i, f64::NEG_INFINITY))
        .collect();
    let mut chain: Vec<usize> = Vec::new();
    let mut z: Vec<f64> = Vec::new();
    while let Some((start, floor)) = queue.pop_front() {
        chain.clear();
        let mut i = start;
        loop {
            chain.push(i);
            match ups[i].first() {
                Some(&u) => i = u,
                None => break,
            }
        }
        // Fit from source (upstream) to mouth (downstream).
        chain.reverse();
        z.clear();
        z.extend(chain.iter().map(|&i| dem[[i / nc, i % nc]]));
        let fit = isotonic_non_increasing(&z);
        for (&i, &y) in chain.iter().zip(&fit) {
            let v = y.max(floor);
            out[[i / nc, i % nc]] = v;
            // Side branches joining here start their own chains, above this cell.
            for &u in ups[i].iter().skip(1) {
                queue.push_back((u, v));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn pava_is_monotone_and_keeps_the_mean() {
        let z = [5.0, 7.0, 3.0, 4.0, 9.0, 1.0, 0.5];
        let y = isotonic_non_increasing(&z);
        assert!(y.windows(2).all(|w| w[0] >= w[1]), "{y:?}");
        let (sz, sy): (f64, f64) = (z.iter().sum(), y.iter().sum());
        assert!((sz - sy).abs() < 1e-12, "PAVA keeps the sum: {sz} vs {sy}");
        // A monotone profile is left alone.
        let m = [9.0, 8.0, 8.0, 2.0];
        assert_eq!(isotonic_non_increasing(&m), m.to_vec());
    }

    #[test]
    fn a_ridge_across_a_river_is_cut_and_the_pit_above_it_raised() {
        // One row flowing east (code 1); the last cell drains off the grid.
        let dem = array![[40.0, 30.0, 14.0, 14.0, 36.0, 16.0, 10.0]];
        let dir = array![[1u8, 1, 1, 1, 1, 1, 1]];
        let acc = array![[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]];
        let river = array![[true; 7]];
        let z = monotone_river_profiles(dem.view(), dir.view(), acc.view(), river.view()).unwrap();
        let row: Vec<f64> = z.row(0).to_vec();
        assert!(row.windows(2).all(|w| w[0] >= w[1]), "{row:?}");
        // The pit and the ridge pool to their mean (14 + 14 + 36) / 3.
        assert!((row[2] - 64.0 / 3.0).abs() < 1e-9, "{row:?}");
        assert_eq!(row[6], 10.0);
    }

    #[test]
    fn a_tributary_never_falls_below_the_river_it_joins() {
        // Main river along row 1 flowing east; a tributary from (0,1) into (1,2) whose
        // DEM dips below the main river's fitted bed there.
        let dem = array![[50.0, 5.0, 50.0, 50.0], [30.0, 25.0, 20.0, 15.0]];
        // (0,1) drains SE (2) into (1,2); row 1 drains east.
        let dir = array![[0u8, 2, 0, 0], [1, 1, 1, 1]];
        let acc = array![[1.0, 1.0, 1.0, 1.0], [10.0, 11.0, 13.0, 14.0]];
        let river = array![[false, true, false, false], [true, true, true, true]];
        let z = monotone_river_profiles(dem.view(), dir.view(), acc.view(), river.view()).unwrap();
        assert_eq!(z[[1, 2]], 20.0);
        assert!(
            z[[0, 1]] >= z[[1, 2]],
            "tributary {} below the junction {}",
            z[[0, 1]],
            z[[1, 2]]
        );
        // Non-river cells keep the DEM.
        assert_eq!(z[[0, 0]], 50.0);
    }
}
