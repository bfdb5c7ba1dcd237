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

impl Face {
    /// The faces of cell (`row`, `col`) on an `nrows` × `ncols` grid that have a cell on
    /// their other side, each with that neighbour's (row, column): west, east, north,
    /// south; faces on the grid's edge are left out.
    ///
    /// ```
    /// use haihe::flood::routing::Face;
    /// // The north-west corner of a 3 × 4 grid has an east and a south neighbour.
    /// let f: Vec<_> = Face::around(3, 4, 0, 0).collect();
    /// assert_eq!(f, [(Face::X { row: 0, col: 1 }, 0, 1), (Face::Y { row: 1, col: 0 }, 1, 0)]);
    /// ```
    pub fn around(
        nrows: usize,
        ncols: usize,
        row: usize,
        col: usize,
    ) -> impl Iterator<Item = (Face, usize, usize)> {
        let (r, c) = (row, col);
        [
            (c > 0).then(|| (Face::X { row: r, col: c }, r, c - 1)),
            (c + 1 < ncols).then(|| (Face::X { row: r, col: c + 1 }, r, c + 1)),
            (r > 0).then(|| (Face::Y { row: r, col: c }, r - 1, c)),
            (r + 1 < nrows).then(|| (Face::Y { row: r + 1, col: c }, r + 1, c)),
        ]
        .into_iter()
        .flatten()
    }
}

/// Discharge through one face, m³/s (q × Δx, or with a subgrid channel on the face
/// q × (Δx − w) + Q_channel), in the face's positive direction; `None` if the face is
/// outside the grid.
pub fn face_discharge_m3s(domain: &Domain, state: &State, face: Face) -> Option<f64> {
    let (nr, nc) = (domain.nrows(), domain.ncols());
    let (x, f) = match face {
        Face::X { row, col } if row < nr && col <= nc => (true, row * (nc + 1) + col),
        Face::Y { row, col } if row <= nr && col < nc => (false, row * nc + col),
        _ => return None,
    };
    Some(super::subgrid::face_discharge(domain, state, x, f))
}

/// Outflow of a cell through its four faces, floodplain and subgrid channel together,
/// m³/s (the discharge a gauge at the cell reads); `None` for a cell outside the grid.
pub fn cell_outflow_m3s(domain: &Domain, state: &State, cell: usize) -> Option<f64> {
    (cell < domain.nrows() * domain.ncols())
        .then(|| super::subgrid::cell_outflow(domain, state, cell))
}

/// Discharge through a gauge cross-section made of faces, m³/s: the sum of
/// [`face_discharge_m3s`] in list order; `None` if any face is outside the grid. Give the
/// faces with a consistent orientation (all X or all Y for a straight section).
pub fn line_discharge_m3s(domain: &Domain, state: &State, faces: &[Face]) -> Option<f64> {
    faces
        .iter()
        .try_fold(0.0, |s, &f| Some(s + face_discharge_m3s(domain, state, f)?))
}

/// Water-surface elevation (stage) at a cell, m (on a channel cell the water surface in
/// the channel, which may lie below the bank); `None` for an inactive or missing cell.
pub fn stage_m(domain: &Domain, state: &State, cell: usize) -> Option<f64> {
    if cell >= domain.nrows() * domain.ncols() {
        return None;
    }
    domain
        .bed_at(cell)
        .map(|z| z as f64 + state.depth_m[cell] as f64)
}

/// Width of a cell's subgrid channel, m; `None` where the cell has no channel (its
/// length along the cell is Δx).
pub fn channel_width_m(domain: &Domain, cell: usize) -> Option<f64> {
    let ch = domain.channels.as_deref()?;
    let k = *ch.index.get(cell)?;
    (k != super::subgrid::NONE).then(|| ch.width_m[k as usize] as f64)
}

/// Water stored on the grid, m³: depth plus its rounding residual, summed in f64 in row
/// order; on a subgrid channel cell the channel volume `V(η)` plus its residual.
pub fn storage_m3(domain: &Domain, state: &State) -> f64 {
    let a = domain.dx_m() * domain.dx_m();
    let nc = domain.ncols();
    match domain.channels.as_deref() {
        None => {
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
        Some(ch) => {
            let mut total = 0.0f64;
            for (i, (&h, &e)) in state
                .depth_m
                .iter()
                .zip(&state.depth_residual_m)
                .enumerate()
            {
                let k = ch.index[i];
                total += if k == super::subgrid::NONE {
                    (h as f64 + e as f64) * a
                } else {
                    ch.volume_m3(k as usize, h, a) + e as f64 * a
                };
            }
            total
        }
    }
}

/// Water held in one cell, m³: depth plus its rounding residual times the cell area; on a
/// subgrid channel cell the channel volume `V(η)` plus the residual.
pub fn cell_volume_m3(domain: &Domain, state: &State, cell: usize) -> f64 {
    let a = domain.dx_m() * domain.dx_m();
    let (h, e) = (state.depth_m[cell], state.depth_residual_m[cell] as f64);
    match domain.channels.as_deref() {
        Some(ch) if ch.index[cell] != super::subgrid::NONE => {
            ch.volume_m3(ch.index[cell] as usize, h, a) + e * a
        }
        _ => (h as f64 + e) * a,
    }
}

/// Adds `volume_m3` to a cell (negative removes), for exchanges with lumped structures
/// between solver steps. A removal is limited to the water present; an inactive cell takes
/// nothing. Returns the volume actually moved (same sign as asked), m³. What the f32 depth
/// cannot hold goes into the cell's rounding residual, so the volume is kept to f64
/// accuracy; on a subgrid channel cell the volume fills the channel first, then the cell.
pub fn exchange_volume_m3(domain: &Domain, state: &mut State, cell: usize, volume_m3: f64) -> f64 {
    if !domain.is_active(cell) || volume_m3 == 0.0 {
        return 0.0;
    }
    let area = domain.dx_m() * domain.dx_m();
    let held_m3 = cell_volume_m3(domain, state, cell);
    let dv = volume_m3.max(-held_m3);
    match domain.channels.as_deref() {
        Some(ch) if ch.index[cell] != super::subgrid::NONE => {
            let k = ch.index[cell] as usize;
            // Move the whole change through the channel geometry, residual included.
            let v_target = (held_m3 + dv).max(0.0);
            let h = ch.depth_for_volume(k, v_target, area);
            state.depth_m[cell] = h;
            let rest = v_target - ch.volume_m3(k, h, area);
            state.depth_residual_m[cell] = (rest / area) as f32;
            cell_volume_m3(domain, state, cell) - held_m3
        }
        _ => {
            let held = held_m3 / area;
            let h = held + dv / area;
            let h32 = h as f32;
            state.depth_m[cell] = h32;
            state.depth_residual_m[cell] = (h - h32 as f64) as f32;
            dv
        }
    }
}
