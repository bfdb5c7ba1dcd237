//! Drainage basins: the cells draining to given outlets (gauges, dams, river mouths),
//! the upstream area of one cell, and snapping a gauge to the modelled stream.
//!
//! [`label_basins`] traces upstream from every outlet at once (a breadth-first search
//! against the D8 directions), without crossing another outlet. Each cell therefore gets
//! the label of the first outlet met on its way downstream: a gauge inside the basin of
//! a river mouth splits that basin into the part above the gauge and the rest. O(n).
//!
//! Gauge coordinates rarely fall on the modelled channel, whose position depends on the
//! DEM resolution. [`snap_to_stream`] moves a gauge to the cell within a search radius
//! whose upstream area best matches the published catchment area (smallest
//! |ln(A_cell / A_published)|), or to the largest upstream area when none is published.
//!
//! Inputs: ESRI D8 codes ([`super::flow_direction`]); upstream areas in km²
//! ([`super::flow_accumulation::upstream_area_km2`]).
//!
//! Caveat: check every snapped gauge: a wide radius can jump to a neighbouring river
//! whose area happens to match better.
//!
//! # Reference
//! Jenson, S. K., Domingue, J. O. (1988). Extracting topographic structure from digital
//! elevation data for geographic information system analysis. Photogrammetric
//! Engineering and Remote Sensing 54(11):1593–1600 (watershed delineation from D8).
//! Lindsay, J. B., Rothwell, J. J., Davies, H. (2008). Mapping outlet points used for
//! watershed delineation onto DEM-derived stream networks. Water Resources Research
//! 44:W08442 (snapping to the stream by a target area).
//!
//! # See Also
//! [`mod@super::flow_accumulation`], [`super::streams`].

use super::flow_direction::{D8_CODES, D8_OFFSETS};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};
use std::collections::VecDeque;

/// ESRI code that a neighbour at offset index `k` (of [`D8_OFFSETS`]) must carry to
/// drain into the centre cell: the opposite direction.
#[inline]
fn inflow_code(k: usize) -> u8 {
    D8_CODES[(k + 4) % 8]
}

fn check_cell(what: &str, dim: (usize, usize), r: usize, c: usize) -> Result<()> {
    if r >= dim.0 || c >= dim.1 {
        return Err(Error::Data(format!(
            "{what}: cell (row {r}, col {c}) is outside the {} × {} grid",
            dim.0, dim.1
        )));
    }
    Ok(())
}

/// Breadth-first search upstream from the seeds already labelled in `label`, never
/// entering cells marked in `stop`. Labels every reached cell with its seed's label.
fn trace_upstream<T: Copy + PartialEq>(
    dir: &ArrayView2<u8>,
    label: &mut Array2<T>,
    empty: T,
    mut queue: VecDeque<(usize, usize)>,
) {
    let (nr, nc) = dir.dim();
    while let Some((r, c)) = queue.pop_front() {
        let l = label[(r, c)];
        for (k, &(dr, dc)) in D8_OFFSETS.iter().enumerate() {
            let rr = r as isize + dr;
            let cc = c as isize + dc;
            if rr < 0 || cc < 0 || rr >= nr as isize || cc >= nc as isize {
                continue;
            }
            let (rr, cc) = (rr as usize, cc as usize);
            if dir[(rr, cc)] == inflow_code(k) && label[(rr, cc)] == empty {
                label[(rr, cc)] = l;
                queue.push_back((rr, cc));
            }
        }
    }
}

/// Basin label of every cell (Jenson & Domingue 1988): the label of the first outlet
/// reached going downstream along the D8 path `dir`, itself included; 0 where the path
/// reaches no outlet. `outlets` are (row, col, label) with non-zero labels; nested
/// outlets split basins (the nearest downstream outlet wins); of two outlets on the same
/// cell, the first listed wins. O(n). Fails on an outlet outside the grid or label 0.
pub fn label_basins(dir: ArrayView2<u8>, outlets: &[(usize, usize, i32)]) -> Result<Array2<i32>> {
    let mut label = Array2::<i32>::zeros(dir.dim());
    let mut queue = VecDeque::with_capacity(outlets.len());
    for &(r, c, id) in outlets {
        check_cell("label_basins", dir.dim(), r, c)?;
        if id == 0 {
            return Err(Error::Data(format!(
                "label_basins: outlet at row {r}, col {c} has label 0, which means \"no basin\"; use a non-zero label"
            )));
        }
        if label[(r, c)] == 0 {
            label[(r, c)] = id;
            queue.push_back((r, c));
        }
    }
    // Outlets carry their labels already, so the search never enters another outlet's
    // basin: each cell is labelled by the nearest outlet downstream.
    trace_upstream(&dir, &mut label, 0, queue);
    Ok(label)
}

/// Mask of the cells whose D8 path passes through cell (`r`, `c`), the cell itself
/// included: its catchment (Jenson & Domingue 1988). Fails if the cell is off the grid.
pub fn upstream_mask(dir: ArrayView2<u8>, r: usize, c: usize) -> Result<Array2<bool>> {
    check_cell("upstream_mask", dir.dim(), r, c)?;
    let mut mask = Array2::<bool>::from_elem(dir.dim(), false);
    mask[(r, c)] = true;
    trace_upstream(&dir, &mut mask, false, VecDeque::from([(r, c)]));
    Ok(mask)
}

/// Snaps a gauge at (`r`, `c`) to the cell within `radius_cells` (Euclidean distance in
/// cells) whose upstream area `acc_km2` best matches `target_area_km2` (smallest
/// |ln(A / target)|, Lindsay et al. 2008), or has the largest area when no target is
/// given. Ties go to the first cell in row-major order. Cells with NaN or non-positive
/// area are skipped. Fails if the gauge is off the grid, the target is not positive, or
/// no candidate has a positive area.
pub fn snap_to_stream(
    acc_km2: ArrayView2<f64>,
    r: usize,
    c: usize,
    radius_cells: usize,
    target_area_km2: Option<f64>,
) -> Result<(usize, usize)> {
    let (nr, nc) = acc_km2.dim();
    check_cell("snap_to_stream", (nr, nc), r, c)?;
    if let Some(t) = target_area_km2 {
        if !(t > 0.0 && t.is_finite()) {
            return Err(Error::Data(format!(
                "snap_to_stream: target area {t} km² must be positive and finite"
            )));
        }
    }
    let rad = radius_cells as isize;
    let mut best: Option<((usize, usize), f64)> = None;
    for rr in r.saturating_sub(radius_cells)..=(r + radius_cells).min(nr - 1) {
        for cc in c.saturating_sub(radius_cells)..=(c + radius_cells).min(nc - 1) {
            let (dr, dc) = (rr as isize - r as isize, cc as isize - c as isize);
            if dr * dr + dc * dc > rad * rad {
                continue;
            }
            let a = acc_km2[(rr, cc)];
            if a.is_nan() || a <= 0.0 {
                continue;
            }
            // Lower cost is better.
            let cost = match target_area_km2 {
                Some(t) => (a / t).ln().abs(),
                None => -a,
            };
            if best.is_none_or(|(_, b)| cost < b) {
                best = Some(((rr, cc), cost));
            }
        }
    }
    best.map(|(cell, _)| cell).ok_or_else(|| {
        Error::Data(format!(
            "snap_to_stream: no cell with a positive upstream area within {radius_cells} cells of row {r}, col {c}"
        ))
    })
}
