//! Gauges on the routing grid: discharge through faces and cross-sections, stage at a
//! cell, water stored.

use super::{Domain, State};

/// One cell face. `X { row, col }` is the west face of cell `(row, col)` (`col` may equal
/// `ncols` for the east edge), positive eastwards; `Y { row, col }` is the north face of
/// cell `(row, col)` (`row` may equal `nrows`), positive southwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Face {
    /// x face (between columns `col − 1` and `col`).
    X {
        /// Row of the face.
        row: usize,
        /// Column of the cell east of the face.
        col: usize,
    },
    /// y face (between rows `row − 1` and `row`).
    Y {
        /// Row of the cell south of the face.
        row: usize,
        /// Column of the face.
        col: usize,
    },
}

/// Discharge through one face, m³/s (q × Δx), in the face's positive direction; `None` if
/// the face is outside the grid.
pub fn face_discharge_m3s(domain: &Domain, state: &State, face: Face) -> Option<f64> {
    let (nr, nc) = (domain.nrows(), domain.ncols());
    let q = match face {
        Face::X { row, col } if row < nr && col <= nc => state.qx_m2s[row * (nc + 1) + col],
        Face::Y { row, col } if row <= nr && col < nc => state.qy_m2s[row * nc + col],
        _ => return None,
    };
    Some(q as f64 * domain.dx_m())
}

/// Discharge through a gauge cross-section made of faces, m³/s: the sum of
/// [`face_discharge_m3s`] in list order; `None` if any face is outside the grid. Give the
/// faces with a consistent orientation (all X or all Y for a straight section).
pub fn line_discharge_m3s(domain: &Domain, state: &State, faces: &[Face]) -> Option<f64> {
    faces
        .iter()
        .try_fold(0.0, |s, &f| Some(s + face_discharge_m3s(domain, state, f)?))
}

/// Water-surface elevation (stage) at a cell, m; `None` for an inactive or missing cell.
pub fn stage_m(domain: &Domain, state: &State, cell: usize) -> Option<f64> {
    if cell >= domain.nrows() * domain.ncols() {
        return None;
    }
    domain
        .bed_at(cell)
        .map(|z| z as f64 + state.depth_m[cell] as f64)
}

/// Water stored on the grid, m³: depth plus its rounding residual, summed in f64 in row order.
pub fn storage_m3(domain: &Domain, state: &State) -> f64 {
    let a = domain.dx_m() * domain.dx_m();
    let nc = domain.ncols();
    state
        .depth_m
        .chunks(nc)
        .zip(state.depth_residual_m.chunks(nc))
        .map(|(h, e)| {
            h.iter()
                .zip(e)
                .map(|(&h, &e)| h as f64 + e as f64)
                .sum::<f64>()
        })
        .sum::<f64>()
        * a
}

/// Outflow from a cell, m³/s: the sum of the discharges leaving it through its four
/// faces (inflows not netted off), as a river gauge at that cell would read it.
pub fn cell_outflow_m3s(domain: &Domain, state: &State, cell: usize) -> f64 {
    let nc = domain.ncols();
    let (r, c) = (cell / nc, cell % nc);
    let west = state.qx_m2s[r * (nc + 1) + c] as f64;
    let east = state.qx_m2s[r * (nc + 1) + c + 1] as f64;
    let north = state.qy_m2s[r * nc + c] as f64;
    let south = state.qy_m2s[(r + 1) * nc + c] as f64;
    ((-west).max(0.0) + east.max(0.0) + (-north).max(0.0) + south.max(0.0)) * domain.dx_m()
}

/// Water held in one cell, m³ (depth plus its rounding residual, times the cell area).
pub fn cell_volume_m3(domain: &Domain, state: &State, cell: usize) -> f64 {
    (state.depth_m[cell] as f64 + state.depth_residual_m[cell] as f64)
        * domain.dx_m()
        * domain.dx_m()
}

/// Adds `volume_m3` to a cell (negative removes), for exchanges with lumped structures
/// between solver steps. A removal is limited to the water present; an inactive cell takes
/// nothing. Returns the volume actually moved (same sign as asked), m³. The new depth is
/// split into its f32 value and rounding residual, so the volume is kept to f64 accuracy.
pub fn exchange_volume_m3(domain: &Domain, state: &mut State, cell: usize, volume_m3: f64) -> f64 {
    if !domain.is_active(cell) || volume_m3 == 0.0 {
        return 0.0;
    }
    let area = domain.dx_m() * domain.dx_m();
    let held = state.depth_m[cell] as f64 + state.depth_residual_m[cell] as f64;
    let moved = (volume_m3 / area).max(-held);
    let h = held + moved;
    let h32 = h as f32;
    state.depth_m[cell] = h32;
    state.depth_residual_m[cell] = (h - h32 as f64) as f32;
    moved * area
}
