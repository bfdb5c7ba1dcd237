//! DEM conditioning for drainage on a grid coarser than the rivers.
//!
//! On the bundled 2-arc-minute DEM resampled to 1 km, narrow gorges such as the
//! 官厅山峡 vanish and a plain fill-and-D8 sends almost nothing through the 官厅 dam
//! (about 130 km² instead of 43,402 km²; see `shared/design/SCIENCE.md`). Four steps
//! make the drainage follow the real network:
//!
//! 1. **Stream burning**, AGREE-style (Hellweger 1997, "AGREE – DEM surface
//!    reconditioning system", University of Texas): cells on a mapped river line are
//!    lowered by `smooth_drop_m + sharp_drop_m`; cells within `buffer_cells` of a line
//!    are lowered by `smooth_drop_m · (1 − d / (buffer_cells + 1))`, a linear taper
//!    from the line to the unchanged terrain, where d is the chamfer distance in cells.
//! 2. **Walls** along basin outlines (the Hai basin, and chosen sub-basin boundaries):
//!    cells inside a polygon that touch (8-neighbourhood, so that no D8 step can
//!    jump the wall diagonally) a cell outside it are raised by `wall_height_m`, except
//!    where a burned river crosses. This keeps the closed basins of the Bashang plateau
//!    from spilling into the 永定河 once the gorges are cut open.
//! 3. **Lakes and reservoirs** are set flat at their pool level.
//! 4. **The sea** is set to sea level and declared a sink for Priority-Flood.
//!
//! The kernels here are pure functions over arrays; [`super::build`] wires them to data.

use crate::terrain::D8_OFFSETS;
use ndarray::{Array2, ArrayView2, Zip};

/// The in-grid 8-neighbours of cell (`r`, `c`) on an `nr` × `nc` grid, in D8 order.
fn neighbours8(r: usize, c: usize, nr: usize, nc: usize) -> impl Iterator<Item = (usize, usize)> {
    D8_OFFSETS.iter().filter_map(move |&(dr, dc)| {
        let (rr, cc) = (r as isize + dr, c as isize + dc);
        (rr >= 0 && cc >= 0 && (rr as usize) < nr && (cc as usize) < nc)
            .then_some((rr as usize, cc as usize))
    })
}

/// Chamfer distance (in cells, 3-4 weights divided by 3) from every cell to the nearest
/// `true` cell of `mask`, up to `max_cells`; cells farther away get `f64::INFINITY`.
/// Two raster passes (Borgefors 1986, CVGIP 34:344).
pub fn chamfer_distance_cells(mask: ArrayView2<bool>, max_cells: f64) -> Array2<f64> {
    let (nr, nc) = mask.dim();
    let big = f64::INFINITY;
    let mut d = Array2::from_shape_fn((nr, nc), |ix| if mask[ix] { 0.0 } else { big });
    let a = 1.0;
    let b = 4.0 / 3.0;
    for r in 0..nr {
        for c in 0..nc {
            let mut v = d[[r, c]];
            if c > 0 {
                v = v.min(d[[r, c - 1]] + a);
            }
            if r > 0 {
                v = v.min(d[[r - 1, c]] + a);
                if c > 0 {
                    v = v.min(d[[r - 1, c - 1]] + b);
                }
                if c + 1 < nc {
                    v = v.min(d[[r - 1, c + 1]] + b);
                }
            }
            d[[r, c]] = v;
        }
    }
    for r in (0..nr).rev() {
        for c in (0..nc).rev() {
            let mut v = d[[r, c]];
            if c + 1 < nc {
                v = v.min(d[[r, c + 1]] + a);
            }
            if r + 1 < nr {
                v = v.min(d[[r + 1, c]] + a);
                if c + 1 < nc {
                    v = v.min(d[[r + 1, c + 1]] + b);
                }
                if c > 0 {
                    v = v.min(d[[r + 1, c - 1]] + b);
                }
            }
            d[[r, c]] = v;
        }
    }
    d.mapv_inplace(|v| if v > max_cells { big } else { v });
    d
}

/// AGREE-style tapered stream burn (step 1 above). Returns the burned DEM; NaN stays NaN.
/// `rivers` marks cells a mapped river line passes through; `sharp_drop_m` holds the
/// extra drop of each river cell (layers may differ: a schematic line is burned less
/// deeply than a mapped one).
pub fn burn_streams(
    dem: ArrayView2<f64>,
    rivers: ArrayView2<bool>,
    smooth_drop_m: f64,
    sharp_drop_m: ArrayView2<f64>,
    buffer_cells: usize,
) -> Array2<f64> {
    let dist = chamfer_distance_cells(rivers, buffer_cells as f64);
    let span = buffer_cells as f64 + 1.0;
    let mut out = dem.to_owned();
    Zip::from(&mut out)
        .and(&dist)
        .and(rivers)
        .and(sharp_drop_m)
        .par_for_each(|z, &d, &on_line, &sharp| {
            if z.is_nan() {
                return;
            }
            if on_line {
                *z -= smooth_drop_m + sharp;
            } else if d.is_finite() {
                *z -= smooth_drop_m * (1.0 - d / span).max(0.0);
            }
        });
    out
}

/// Cells of `inside` that have at least one 8-neighbour outside it (grid edges do not
/// count). A wall on these cells cannot be crossed by a D8 step, diagonal or not.
pub fn inner_boundary(inside: ArrayView2<bool>) -> Array2<bool> {
    let (nr, nc) = inside.dim();
    Array2::from_shape_fn((nr, nc), |(r, c)| {
        inside[[r, c]] && neighbours8(r, c, nr, nc).any(|ix| !inside[ix])
    })
}

/// Raises `wall` cells by `height_m`, except where `breach` is true (a burned river
/// crosses the wall). Returns the number of wall cells raised.
pub fn raise_walls(
    dem: &mut Array2<f64>,
    wall: ArrayView2<bool>,
    breach: ArrayView2<bool>,
    height_m: f64,
) -> usize {
    let mut n = 0;
    Zip::from(dem).and(wall).and(breach).for_each(|z, &w, &b| {
        if w && !b && !z.is_nan() {
            *z += height_m;
            n += 1;
        }
    });
    n
}

/// Widens a river mask by one cell in the 8-neighbourhood, so that breaches in a wall
/// are wide enough for a D8 path that meets the wall diagonally.
pub fn dilate8(mask: ArrayView2<bool>) -> Array2<bool> {
    let (nr, nc) = mask.dim();
    Array2::from_shape_fn((nr, nc), |(r, c)| {
        mask[[r, c]] || neighbours8(r, c, nr, nc).any(|ix| mask[ix])
    })
}

/// Sea cells: cells outside every land polygon (`land` false), not NaN, no higher than
/// `max_elevation_m`, and 4-connected to the lowest such cell (the open sea), so that a
/// low inland cell outside the county layer is not taken for sea.
pub fn sea_mask(
    dem: ArrayView2<f64>,
    land: ArrayView2<bool>,
    max_elevation_m: f64,
) -> Array2<bool> {
    let (nr, nc) = dem.dim();
    let candidate = |r: usize, c: usize| {
        !land[[r, c]] && !dem[[r, c]].is_nan() && dem[[r, c]] <= max_elevation_m
    };
    // Seed: the lowest candidate cell (ties: first in row-major order).
    let mut seed: Option<(usize, usize)> = None;
    for r in 0..nr {
        for c in 0..nc {
            if candidate(r, c) && seed.is_none_or(|(sr, sc)| dem[[r, c]] < dem[[sr, sc]]) {
                seed = Some((r, c));
            }
        }
    }
    let mut sea = Array2::from_elem((nr, nc), false);
    let Some(seed) = seed else { return sea };
    let mut stack = vec![seed];
    sea[seed] = true;
    while let Some((r, c)) = stack.pop() {
        for (dr, dc) in [(0isize, 1isize), (1, 0), (0, -1), (-1, 0)] {
            let (rr, cc) = (r as isize + dr, c as isize + dc);
            if rr < 0 || cc < 0 || rr as usize >= nr || cc as usize >= nc {
                continue;
            }
            let (rr, cc) = (rr as usize, cc as usize);
            if !sea[[rr, cc]] && candidate(rr, cc) {
                sea[[rr, cc]] = true;
                stack.push((rr, cc));
            }
        }
    }
    sea
}

/// The extent of a reservoir grown from its dam cell (Section "Reservoir extents" of
/// SCIENCE.md): cells connected (8-neighbourhood) to the dam inside `allowed` (the dam's
/// catchment), taken lowest first, while their elevation is at or below `pool_level_m`,
/// until `max_cells` cells are taken. When the coarse DEM lies above the pool level
/// everywhere near the dam (as at 官厅, 614 m against a 476 m pool) and `min_cells` is
/// given, growth continues lowest-first regardless of level until `min_cells` are taken
/// (the documented-area fallback). Deterministic: ties go to the cell found first.
pub fn grow_reservoir(
    dem: ArrayView2<f64>,
    allowed: ArrayView2<bool>,
    dam: (usize, usize),
    pool_level_m: f64,
    min_cells: usize,
    max_cells: usize,
) -> Array2<bool> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let (nr, nc) = dem.dim();
    let mut taken = Array2::from_elem((nr, nc), false);
    let mut queued = Array2::from_elem((nr, nc), false);
    // Heap of (elevation bits as ordered key, sequence, r, c).
    let key = |z: f64| ordered_key(z);
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    heap.push(Reverse((key(dem[dam]), seq, dam.0, dam.1)));
    queued[dam] = true;
    let mut count = 0usize;
    while let Some(Reverse((_, _, r, c))) = heap.pop() {
        if count >= max_cells {
            break;
        }
        let z = dem[[r, c]];
        if z > pool_level_m && count >= min_cells {
            break;
        }
        taken[[r, c]] = true;
        count += 1;
        for (rr, cc) in neighbours8(r, c, nr, nc) {
            if !queued[[rr, cc]] && allowed[[rr, cc]] && !dem[[rr, cc]].is_nan() {
                queued[[rr, cc]] = true;
                seq += 1;
                heap.push(Reverse((key(dem[[rr, cc]]), seq, rr, cc)));
            }
        }
    }
    taken
}

/// A total order key for finite f64 values (monotone in the value).
fn ordered_key(z: f64) -> u64 {
    let b = z.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn burn_lowers_line_and_tapers_buffer() {
        let dem = Array2::from_elem((5, 5), 100.0);
        let mut rivers = Array2::from_elem((5, 5), false);
        for c in 0..5 {
            rivers[[2, c]] = true;
        }
        let sharp = rivers.mapv(|r| if r { 5.0 } else { 0.0 });
        let out = burn_streams(dem.view(), rivers.view(), 10.0, sharp.view(), 1);
        assert_eq!(out[[2, 0]], 85.0);
        // One cell away: taper 10 * (1 - 1/2) = 5 m.
        assert_eq!(out[[1, 3]], 95.0);
        assert_eq!(out[[3, 3]], 95.0);
        // Two cells away: outside the buffer.
        assert_eq!(out[[0, 3]], 100.0);
    }

    #[test]
    fn wall_blocks_diagonal_steps() {
        // A diamond-shaped inside region: its 8-boundary must separate the centre from
        // the outside in the D8 sense.
        let inside = array![
            [false, false, true, false, false],
            [false, true, true, true, false],
            [true, true, true, true, true],
            [false, true, true, true, false],
            [false, false, true, false, false],
        ];
        let b = inner_boundary(inside.view());
        // Only the centre is not on the boundary.
        let interior: Vec<_> = b
            .indexed_iter()
            .filter(|(ix, &v)| inside[*ix] && !v)
            .map(|(ix, _)| ix)
            .collect();
        assert_eq!(interior, vec![(2, 2)]);
    }

    #[test]
    fn sea_is_connected_low_water_outside_land() {
        let dem = array![[5.0, 3.0, 0.0], [1.0, 20.0, -2.0], [0.0, 30.0, -5.0]];
        let land = array![
            [true, false, false],
            [false, true, false],
            [false, true, false]
        ];
        let sea = sea_mask(dem.view(), land.view(), 4.0);
        // (1,0) and (2,0) are low and off-land but cut off from the open sea.
        assert_eq!(
            sea,
            array![
                [false, true, true],
                [false, false, true],
                [false, false, true]
            ]
        );
    }

    #[test]
    fn reservoir_grows_lowest_first_within_catchment() {
        let dem = array![[50.0, 40.0, 60.0], [45.0, 30.0, 70.0], [90.0, 35.0, 80.0]];
        let allowed = Array2::from_elem((3, 3), true);
        let res = grow_reservoir(dem.view(), allowed.view(), (2, 1), 47.0, 0, 100);
        // Dam at (2,1) = 35; below 47 and connected: 30, 40, 45.
        let n = res.iter().filter(|&&v| v).count();
        assert_eq!(n, 4);
        assert!(res[[1, 0]] && res[[0, 1]] && !res[[0, 0]]);
        // Fallback: pool below everything, documented area of 2 cells.
        let res = grow_reservoir(dem.view(), allowed.view(), (2, 1), 0.0, 2, 100);
        assert_eq!(res.iter().filter(|&&v| v).count(), 2);
        assert!(res[[2, 1]] && res[[1, 1]]);
    }
}
