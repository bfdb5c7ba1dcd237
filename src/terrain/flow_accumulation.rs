//! D8 flow accumulation: for each cell, its own weight plus the weights of every cell
//! upstream of it (the number of upstream cells when unweighted, the upstream area in
//! km² with [`upstream_area_km2`], or the upstream runoff with a runoff weight).
//!
//! Cells are visited in topological order, every cell after all the cells that drain
//! into it (Kahn's algorithm). The indegree of each cell, the number of neighbours that
//! point at it, is counted in parallel; a row-major scan then starts at each source
//! (indegree 0) and walks downstream, passing its total on and decrementing the
//! receiver's indegree, continuing as long as the receiver has no unvisited inflow left.
//! No queue is needed and each cell is visited once: O(n). The additions happen in the
//! same order whatever the thread count, so the floating-point result is deterministic.
//!
//! Inputs: ESRI D8 codes ([`super::flow_direction`]), 255 = no data; an optional weight
//! per cell (1 when `None`). Output: NaN on no-data cells. Cells pointing off the grid or
//! into no-data are outlets. A NaN weight makes every cell downstream of it NaN.
//!
//! Directions computed from a DEM by D8 cannot form cycles (each step goes strictly
//! downhill), but hand-made or edited grids can: a cycle is reported as an error naming
//! one of its cells.
//!
//! # Reference
//! O'Callaghan, J. F., Mark, D. M. (1984). The extraction of drainage networks from
//! digital elevation data. Computer Vision, Graphics, and Image Processing 28:323–344.
//! Kahn, A. B. (1962). Topological sorting of large networks. Communications of the ACM
//! 5(11):558–562. Barnes, R. (2017). Parallel non-divergent flow accumulation for
//! trillion cell digital elevation models on desktops or clusters. Environmental
//! Modelling & Software 92:202–212 (the indegree formulation).
//!
//! # See Also
//! [`super::streams`], [`super::basins`].

use super::flow_direction::{downstream_indices, D8_NODATA, D8_OFFSETS, NONE};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// D8 flow accumulation (O'Callaghan & Mark 1984) in topological order (Kahn 1962):
/// each cell's weight (1 when `weight` is `None`) plus all upstream weights; NaN on
/// no-data cells (code 255). Fails on invalid codes, a weight grid of another shape, or
/// a cycle in the directions.
pub fn flow_accumulation(
    dir: ArrayView2<u8>,
    weight: Option<ArrayView2<f64>>,
) -> Result<Array2<f64>> {
    let (nr, nc) = dir.dim();
    if let Some(w) = &weight {
        if w.dim() != dir.dim() {
            return Err(Error::Misaligned(format!(
                "flow accumulation: directions are {:?} but weights are {:?}",
                dir.dim(),
                w.dim()
            )));
        }
    }
    let down = downstream_indices(dir)?;
    let dir = dir.as_standard_layout();
    let d = dir.as_slice().expect("standard layout is contiguous");
    let mut acc = vec![1.0f64; nr * nc];
    match &weight {
        Some(w) => {
            let w = w.as_standard_layout();
            let w = w.as_slice().expect("standard layout is contiguous");
            acc.par_iter_mut()
                .zip(d.par_iter().zip(w.par_iter()))
                .for_each(|(a, (&d, &w))| *a = if d == D8_NODATA { f64::NAN } else { w });
        }
        None => acc.par_iter_mut().zip(d.par_iter()).for_each(|(a, &d)| {
            if d == D8_NODATA {
                *a = f64::NAN
            }
        }),
    }
    topological_walk(
        nr,
        nc,
        &down,
        |i| d[i] != D8_NODATA,
        |from, to| {
            if let Some(to) = to {
                acc[to] += acc[from];
            }
        },
    )?;
    Ok(Array2::from_shape_vec((nr, nc), acc).expect("shape matches the direction grid"))
}

/// Upstream drainage area in km² of every cell, itself included: D8 flow accumulation
/// weighted by `cell_area_m2` / 10⁶. NaN on no-data cells.
pub fn upstream_area_km2(dir: ArrayView2<u8>, cell_area_m2: f64) -> Result<Array2<f64>> {
    let mut acc = flow_accumulation(dir, None)?;
    let k = cell_area_m2 / 1.0e6;
    acc.par_mapv_inplace(|v| v * k);
    Ok(acc)
}

/// Marker of visited (or invalid) cells in the indegree array.
const DONE: u8 = u8::MAX;

/// Number of cells pointing into each cell under `down`, counted in parallel (each cell
/// pulls from its 8 neighbours, so no atomics are needed); [`DONE`] for invalid cells.
fn indegrees(
    nr: usize,
    nc: usize,
    down: &[u32],
    valid: &(impl Fn(usize) -> bool + Sync),
) -> Vec<u8> {
    let mut indeg = vec![0u8; nr * nc];
    if nr == 0 || nc == 0 {
        return indeg;
    }
    indeg.par_chunks_mut(nc).enumerate().for_each(|(r, row)| {
        let interior_row = r > 0 && r + 1 < nr;
        for (c, slot) in row.iter_mut().enumerate() {
            let i = r * nc + c;
            if !valid(i) {
                *slot = DONE;
                continue;
            }
            let mut n = 0u8;
            if interior_row && c > 0 && c + 1 < nc {
                for &(dr, dc) in &D8_OFFSETS {
                    let j = ((r as isize + dr) as usize) * nc + (c as isize + dc) as usize;
                    n += (down[j] == i as u32) as u8;
                }
            } else {
                for &(dr, dc) in &D8_OFFSETS {
                    let rr = r as isize + dr;
                    let cc = c as isize + dc;
                    if rr < 0 || cc < 0 || rr >= nr as isize || cc >= nc as isize {
                        continue;
                    }
                    n += (down[rr as usize * nc + cc as usize] == i as u32) as u8;
                }
            }
            *slot = n;
        }
    });
    indeg
}

/// Visits every valid cell once in topological order of `down` (upstream before
/// downstream), calling `visit(cell, downstream)` when all cells draining into `cell`
/// have been visited. Deterministic: sources are started in row-major order. Fails with
/// the position of a cell on a cycle if some valid cells can never be reached.
pub(crate) fn topological_walk(
    nr: usize,
    nc: usize,
    down: &[u32],
    valid: impl Fn(usize) -> bool + Sync,
    mut visit: impl FnMut(usize, Option<usize>),
) -> Result<()> {
    let mut indeg = indegrees(nr, nc, down, &valid);
    for i in 0..nr * nc {
        if indeg[i] != 0 {
            continue;
        }
        let mut cur = i;
        loop {
            indeg[cur] = DONE;
            let d = down[cur];
            if d == NONE {
                visit(cur, None);
                break;
            }
            let d = d as usize;
            visit(cur, Some(d));
            indeg[d] -= 1;
            if indeg[d] != 0 {
                break;
            }
            cur = d;
        }
    }
    if let Some(i) = indeg.iter().position(|&x| x != DONE) {
        // Cells left over are on a cycle or downstream of one; walk to the cycle.
        let mut seen = std::collections::HashSet::new();
        let mut cur = i;
        while seen.insert(cur) && down[cur] != NONE {
            cur = down[cur] as usize;
        }
        return Err(Error::Data(format!(
            "flow directions contain a cycle through row {}, col {}: directions from a \
             depression-filled DEM cannot; check hand-edited or burned directions",
            cur / nc,
            cur % nc
        )));
    }
    Ok(())
}
