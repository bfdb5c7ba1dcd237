//! D8 flow directions: each cell drains to the one of its eight neighbours with the
//! steepest downward slope.
//!
//! The slope to a neighbour is its elevation drop divided by the distance between cell
//! centres: one cell for the four cardinal neighbours, √2 cells for the diagonals. The
//! direction is stored in the ESRI / WhiteboxTools code:
//!
//! ```text
//!  32  64  128        NW  N  NE
//!  16   ·    1         W  ·  E
//!   8   4    2        SW  S  SE
//! ```
//!
//! Rows run southwards (row 0 is the north edge), columns eastwards. Special codes:
//! `0` = the cell has no lower valid neighbour (an outlet: a grid-edge cell or a cell next
//! to no-data whose lower neighbours are all off the grid or no-data, a declared sink,
//! or an unfilled pit); `255` = no-data (NaN elevation). Cells never point off the grid
//! or into a no-data cell: water reaching an edge cell with no lower neighbour leaves
//! the domain there.
//!
//! Ties between equal slopes go to the first direction in the fixed order E, SE, S, SW,
//! W, NW, N, NE, so the result is deterministic. Rows are computed in parallel with
//! rayon; each cell depends only on the input, so the output does not depend on the
//! thread count.
//!
//! Caveat: on an unconditioned DEM, pits and flats get code 0. Run
//! [`super::fill::priority_flood_epsilon`] first so that only the seeds of the fill
//! (edge, no-data border, declared sinks) remain outlets.
//!
//! # Reference
//! O'Callaghan, J. F., Mark, D. M. (1984). The extraction of drainage networks from
//! digital elevation data. Computer Vision, Graphics, and Image Processing 28:323–344.
//! doi:10.1016/S0734-189X(84)80011-0
//!
//! # See Also
//! [`mod@super::flow_accumulation`], [`super::basins`], [`super::hand`].

use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// Row and column offsets of the eight D8 neighbours, in tie-break order E, SE, S, SW,
/// W, NW, N, NE (row offset positive southwards).
pub const D8_OFFSETS: [(isize, isize); 8] = [
    (0, 1),
    (1, 1),
    (1, 0),
    (1, -1),
    (0, -1),
    (-1, -1),
    (-1, 0),
    (-1, 1),
];

/// ESRI direction codes matching [`D8_OFFSETS`]: 1 = E, 2 = SE, 4 = S, 8 = SW, 16 = W,
/// 32 = NW, 64 = N, 128 = NE.
pub const D8_CODES: [u8; 8] = [1, 2, 4, 8, 16, 32, 64, 128];

/// Code of a cell with no lower neighbour (an outlet or an unfilled pit).
pub const D8_OUTLET: u8 = 0;

/// Code of a no-data cell.
pub const D8_NODATA: u8 = 255;

/// Index 0–7 into [`D8_OFFSETS`] of an ESRI code, or `None` for 0, 255 and invalid codes.
#[inline]
pub fn direction_index(dir: u8) -> Option<usize> {
    if dir.is_power_of_two() {
        Some(dir.trailing_zeros() as usize)
    } else {
        None
    }
}

/// The cell (row, col) that cell (`r`, `c`) drains to under ESRI code `dir`, possibly off
/// the grid (negative or past the end: the caller checks bounds); `None` for outlets
/// (0), no-data (255) and invalid codes.
#[inline]
pub fn downstream(dir: u8, r: usize, c: usize) -> Option<(isize, isize)> {
    direction_index(dir).map(|k| {
        let (dr, dc) = D8_OFFSETS[k];
        (r as isize + dr, c as isize + dc)
    })
}

/// The downstream cell of (`r`, `c`) on an `nr` × `nc` grid, or None for an outlet, a
/// no-data code or a step off the grid.
pub fn downstream_cell(
    dir: u8,
    r: usize,
    c: usize,
    nr: usize,
    nc: usize,
) -> Option<(usize, usize)> {
    downstream(dir, r, c)
        .filter(|&(rr, cc)| rr >= 0 && cc >= 0 && (rr as usize) < nr && (cc as usize) < nc)
        .map(|(rr, cc)| (rr as usize, cc as usize))
}

/// D8 steepest-descent flow directions (O'Callaghan & Mark 1984) in ESRI codes, from a
/// DEM in metres (NaN = no data) with square cells of `cell_size_m` metres. 0 marks
/// cells with no lower valid neighbour, 255 no-data. Directions do not depend on the
/// cell size (any positive value gives the same result); a non-positive or non-finite
/// size is treated as 1.
pub fn d8_flow_directions(dem: ArrayView2<f64>, cell_size_m: f64) -> Array2<u8> {
    let (nr, nc) = dem.dim();
    // The cell size is a common factor of every slope and cannot change the steepest
    // direction, so slopes are taken per cell length (drop × 1 or drop / √2). Dividing by
    // the size in metres instead would underflow the ε steps of a Priority-Flood+ε fill
    // near 0 m (sea-level flats climb in subnormal steps of about 5e-324 m) to zero and
    // leave such cells without a direction.
    let _ = cell_size_m;
    let inv_dist: [f64; 8] = D8_OFFSETS.map(|(dr, dc)| {
        if dr != 0 && dc != 0 {
            std::f64::consts::FRAC_1_SQRT_2
        } else {
            1.0
        }
    });
    let dem = dem.as_standard_layout();
    let z = dem.as_slice().expect("standard layout is contiguous");
    let mut out = Array2::<u8>::zeros((nr, nc));
    if nr == 0 || nc == 0 {
        return out;
    }
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(r, mut row)| {
            let row = row.as_slice_mut().expect("fresh array rows are contiguous");
            let interior_row = r > 0 && r + 1 < nr;
            for (c, out) in row.iter_mut().enumerate() {
                let i = r * nc + c;
                let zi = z[i];
                if zi.is_nan() {
                    *out = D8_NODATA;
                    continue;
                }
                let mut best = 0.0;
                let mut code = D8_OUTLET;
                if interior_row && c > 0 && c + 1 < nc {
                    for k in 0..8 {
                        let (dr, dc) = D8_OFFSETS[k];
                        let j = ((r as isize + dr) as usize) * nc + (c as isize + dc) as usize;
                        // NaN neighbours give NaN slopes, which never compare greater.
                        let s = (zi - z[j]) * inv_dist[k];
                        if s > best {
                            best = s;
                            code = D8_CODES[k];
                        }
                    }
                } else {
                    for k in 0..8 {
                        let (dr, dc) = D8_OFFSETS[k];
                        let rr = r as isize + dr;
                        let cc = c as isize + dc;
                        if rr < 0 || cc < 0 || rr >= nr as isize || cc >= nc as isize {
                            continue;
                        }
                        let s = (zi - z[rr as usize * nc + cc as usize]) * inv_dist[k];
                        if s > best {
                            best = s;
                            code = D8_CODES[k];
                        }
                    }
                }
                *out = code;
            }
        });
    out
}

/// Sentinel of [`downstream_indices`] for "drains nowhere on the grid".
pub(crate) const NONE: u32 = u32::MAX;

/// Row-major index of each cell's downstream cell, or [`NONE`] for outlets, no-data
/// cells and cells pointing off the grid or into no-data. Fails on codes that are not
/// 0, 255 or a power of two, and on grids of 2³² − 1 cells or more.
pub(crate) fn downstream_indices(dir: ArrayView2<u8>) -> Result<Vec<u32>> {
    let (nr, nc) = dir.dim();
    let n = nr * nc;
    if n >= NONE as usize {
        return Err(Error::Data(format!(
            "flow-direction grid of {nr} × {nc} cells is too large (limit 2^32 - 1 cells)"
        )));
    }
    let dir = dir.as_standard_layout();
    let d = dir.as_slice().expect("standard layout is contiguous");
    let mut down = vec![NONE; n];
    if n == 0 {
        return Ok(down);
    }
    let bad: Option<(usize, u8)> = down
        .par_chunks_mut(nc)
        .enumerate()
        .map(|(r, row)| {
            let mut bad = None;
            for (c, slot) in row.iter_mut().enumerate() {
                let code = d[r * nc + c];
                if code == D8_OUTLET || code == D8_NODATA {
                    continue;
                }
                let Some(k) = direction_index(code) else {
                    bad.get_or_insert((r * nc + c, code));
                    continue;
                };
                let (dr, dc) = D8_OFFSETS[k];
                let rr = r as isize + dr;
                let cc = c as isize + dc;
                if rr < 0 || cc < 0 || rr >= nr as isize || cc >= nc as isize {
                    continue;
                }
                let j = rr as usize * nc + cc as usize;
                if d[j] != D8_NODATA {
                    *slot = j as u32;
                }
            }
            bad
        })
        .reduce(|| None, |a, b| a.or(b));
    if let Some((i, code)) = bad {
        return Err(Error::Data(format!(
            "flow direction {code} at row {}, col {} is not an ESRI D8 code \
             (1, 2, 4, …, 128; 0 outlet; 255 no data)",
            i / nc,
            i % nc
        )));
    }
    Ok(down)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downstream_follows_codes() {
        assert_eq!(downstream(1, 5, 5), Some((5, 6)));
        assert_eq!(downstream(2, 5, 5), Some((6, 6)));
        assert_eq!(downstream(8, 5, 5), Some((6, 4)));
        assert_eq!(downstream(32, 0, 0), Some((-1, -1)));
        assert_eq!(downstream(128, 5, 5), Some((4, 6)));
        assert_eq!(downstream(0, 5, 5), None);
        assert_eq!(downstream(255, 5, 5), None);
        assert_eq!(downstream(3, 5, 5), None);
    }

    #[test]
    fn sea_level_flat_drains_after_epsilon_fill() {
        // A trench below sea level next to a sea cell: Priority-Flood+ε fills it to 0 m
        // in subnormal steps. Every filled cell must still get a direction.
        let mut dem = ndarray::Array2::from_elem((5, 7), 50.0);
        for c in 1..6 {
            dem[[2, c]] = -500.0;
        }
        dem[[2, 6]] = 0.0;
        let mut sea = ndarray::Array2::from_elem((5, 7), false);
        sea[[2, 6]] = true;
        let filled = crate::terrain::priority_flood_epsilon(dem.view(), Some(sea.view())).unwrap();
        let dir = d8_flow_directions(filled.view(), 1000.0);
        for c in 1..6 {
            assert!(filled[[2, c]] > 0.0 && filled[[2, c]] < 1e-300);
            assert_eq!(dir[[2, c]], 1, "cell (2, {c}) must flow east to the sea");
        }
    }
}
