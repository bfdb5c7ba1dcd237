//! Levees on the routing grid: which cell faces a levee polyline walls off.
//!
//! A levee is given as a polyline along its river (the bundled lines are river
//! centrelines) and a bank. On the grid the river occupies a *corridor*: the cells the
//! line passes (made 4-connected, so that water can move along the corridor through
//! faces), plus, optionally, stream cells touching them (the D8 river path of the coarse
//! DEM, which may run a cell beside the mapped line). The levee stands on every face
//! between a corridor cell and a cell outside the corridor that lies on the named bank:
//! left or right of the line looking downstream (the sign of the cross product of the
//! local line direction with the offset of the outside cell's centre from its nearest
//! point on the line). Faces beyond either end of the line get no crest, so the levee
//! never closes the river. Faces between two corridor cells never carry a crest, so the
//! river, and its subgrid channel links, flow freely along the corridor.
//!
//! The crest of each face is the ground plus the levee's height; the caller picks the
//! ground (here: the higher of the two cells' beds, so the crest stands that high above
//! the floodplain it protects).
//!
//! This follows the way LISFLOOD-FP and other raster flood models represent sub-grid
//! linear features: as raised elevations on the faces between cells (Bates et al. 2010;
//! Wing et al. 2019, "Flood defences in a continental-scale flood model", WRR 55).

use crate::flood::routing::Face;

/// Side of a river looking downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bank {
    /// Left bank looking downstream.
    Left,
    /// Right bank looking downstream.
    Right,
}

impl Bank {
    /// `left` or `right`; `None` otherwise.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "left" => Some(Bank::Left),
            "right" => Some(Bank::Right),
            _ => None,
        }
    }
}

/// A face walled off by a levee.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeveeFace {
    /// The face.
    pub face: Face,
    /// The corridor (river) cell beside it, row-major index.
    pub river_cell: usize,
    /// The protected (land) cell beside it, row-major index.
    pub land_cell: usize,
    /// Distance along the line of the land cell's nearest point, in cells from the
    /// line's first point.
    pub chainage_cells: f64,
}

/// Nearest point of a polyline to `p`: (distance, chainage, offset side as the sign of
/// the cross product, whether the nearest point is an end reached from beyond it).
/// Points are (x = column, y = −row) so that "left" is the usual left.
fn nearest(line: &[(f64, f64)], p: (f64, f64)) -> (f64, f64, f64, bool) {
    let mut best = (f64::INFINITY, 0.0, 0.0, false);
    let mut along = 0.0;
    let last = line.len().saturating_sub(2);
    for (k, w) in line.windows(2).enumerate() {
        let (a, b) = (w[0], w[1]);
        let d = (b.0 - a.0, b.1 - a.1);
        let len2 = d.0 * d.0 + d.1 * d.1;
        let len = len2.sqrt();
        let t_raw = if len2 > 0.0 {
            ((p.0 - a.0) * d.0 + (p.1 - a.1) * d.1) / len2
        } else {
            0.0
        };
        let t = t_raw.clamp(0.0, 1.0);
        let q = (a.0 + t * d.0, a.1 + t * d.1);
        let dist = ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt();
        if dist < best.0 {
            let cross = d.0 * (p.1 - q.1) - d.1 * (p.0 - q.0);
            let beyond = (k == 0 && t_raw < 0.0) || (k == last && t_raw > 1.0);
            best = (dist, along + t * len, cross, beyond);
        }
        along += len;
    }
    best
}

/// Cells a polyline passes through, 4-connected, in order of passage, each once.
/// `line` holds fractional (row, column) grid coordinates (cell `(r, c)` covers
/// `[r, r+1) × [c, c+1)`); points off the grid are clipped.
pub fn line_cells(nrows: usize, ncols: usize, line: &[(f64, f64)]) -> Vec<usize> {
    let inside = |r: f64, c: f64| r >= 0.0 && c >= 0.0 && r < nrows as f64 && c < ncols as f64;
    let mut seq: Vec<(usize, usize)> = Vec::new();
    let push = |rc: (usize, usize), seq: &mut Vec<(usize, usize)>| {
        if let Some(&prev) = seq.last() {
            if prev == rc {
                return;
            }
            // A diagonal move: insert the side cell the line passes nearer to, so that
            // the corridor is connected through faces.
            if prev.0 != rc.0 && prev.1 != rc.1 {
                seq.push((prev.0, rc.1));
            }
        }
        seq.push(rc);
    };
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let n = ((len / 0.05).ceil() as usize).max(1);
        for k in 0..=n {
            let t = k as f64 / n as f64;
            let (r, c) = (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1));
            if inside(r, c) {
                push((r as usize, c as usize), &mut seq);
            }
        }
    }
    // The side cells inserted at diagonal moves: keep the one nearer to the line.
    let mut out: Vec<usize> = Vec::with_capacity(seq.len());
    let mut seen = std::collections::HashSet::new();
    let xy = |r: usize, c: usize| (c as f64 + 0.5, -(r as f64 + 0.5));
    let line_xy: Vec<(f64, f64)> = line.iter().map(|&(r, c)| (c, -r)).collect();
    let mut i = 0;
    while i < seq.len() {
        let mut rc = seq[i];
        if i >= 1 && i + 1 < seq.len() {
            let (p, n) = (seq[i - 1], seq[i + 1]);
            let diag = p.0 != n.0 && p.1 != n.1 && rc == (p.0, n.1);
            if diag {
                let alt = (n.0, p.1);
                let d1 = nearest(&line_xy, xy(rc.0, rc.1)).0;
                let d2 = nearest(&line_xy, xy(alt.0, alt.1)).0;
                if d2 < d1 {
                    rc = alt;
                }
            }
        }
        let idx = rc.0 * ncols + rc.1;
        if seen.insert(idx) {
            out.push(idx);
        }
        i += 1;
    }
    out
}

/// The river corridor of a levee: the cells of [`line_cells`], plus the cells of `extra`
/// (e.g. stream cells; row-major, true = include) that touch one of them (8 neighbours).
/// Returns one flag per cell.
pub fn river_corridor(
    nrows: usize,
    ncols: usize,
    line: &[(f64, f64)],
    extra: Option<&[bool]>,
) -> Vec<bool> {
    let mut corridor = vec![false; nrows * ncols];
    let cells = line_cells(nrows, ncols, line);
    for &i in &cells {
        corridor[i] = true;
    }
    if let Some(extra) = extra {
        for &i in &cells {
            let (r, c) = ((i / ncols) as isize, (i % ncols) as isize);
            for dr in -1..=1isize {
                for dc in -1..=1isize {
                    let (rr, cc) = (r + dr, c + dc);
                    if rr < 0 || cc < 0 || rr >= nrows as isize || cc >= ncols as isize {
                        continue;
                    }
                    let j = rr as usize * ncols + cc as usize;
                    if extra.get(j).copied().unwrap_or(false) {
                        corridor[j] = true;
                    }
                }
            }
        }
    }
    corridor
}

/// Faces between the `corridor` and the cells outside it on `bank` of `line` (fractional
/// (row, column) grid coordinates, in the downstream direction), ordered by chainage and
/// then by face. Faces whose outside cell lies beyond either end of the line are left out.
pub fn levee_faces(
    nrows: usize,
    ncols: usize,
    line: &[(f64, f64)],
    corridor: &[bool],
    bank: Bank,
) -> Vec<LeveeFace> {
    let line_xy: Vec<(f64, f64)> = line.iter().map(|&(r, c)| (c, -r)).collect();
    let mut out = Vec::new();
    if line_xy.len() < 2 || corridor.len() != nrows * ncols {
        return out;
    }
    for (i, _) in corridor.iter().enumerate().filter(|(_, &v)| v) {
        let (r, c) = (i / ncols, i % ncols);
        for (face, rr, cc) in Face::around(nrows, ncols, r, c) {
            let j = rr * ncols + cc;
            if corridor[j] {
                continue;
            }
            let p = (cc as f64 + 0.5, -(rr as f64 + 0.5));
            let (_, chainage, cross, beyond) = nearest(&line_xy, p);
            if beyond {
                continue;
            }
            let on_bank = match bank {
                Bank::Left => cross > 0.0,
                Bank::Right => cross < 0.0,
            };
            if on_bank {
                out.push(LeveeFace {
                    face,
                    river_cell: i,
                    land_cell: j,
                    chainage_cells: chainage,
                });
            }
        }
    }
    let key = |f: &Face| match *f {
        Face::X { row, col } => (0u8, row, col),
        Face::Y { row, col } => (1u8, row, col),
    };
    out.sort_by(|a, b| {
        a.chainage_cells
            .total_cmp(&b.chainage_cells)
            .then(key(&a.face).cmp(&key(&b.face)))
    });
    out
}

/// Makes the bed fall monotonically along `path` (cells in the downstream order, e.g. a
/// diked reach's corridor): a cell above the lowest bed upstream of it is lowered, and
/// each run of lowered cells is graded linearly from the cell before it to the next cell
/// that was not lowered (as in stream burning with a graded fill, Soille et al. 2003), so
/// that a river between dikes is not dammed by a bump of the coarse DEM. Never raises a
/// cell; NaN cells are skipped. Returns the number of cells lowered and the largest cut, m.
pub fn grade_monotone(bed: &mut [f32], path: &[usize]) -> (usize, f32) {
    let idx: Vec<usize> = path.iter().copied().filter(|&i| !bed[i].is_nan()).collect();
    let n = idx.len();
    if n < 2 {
        return (0, 0.0);
    }
    let z: Vec<f32> = idx.iter().map(|&i| bed[i]).collect();
    let mut lowered = vec![false; n];
    let mut m = z[0];
    for k in 1..n {
        if z[k] > m {
            lowered[k] = true;
        } else {
            m = z[k];
        }
    }
    let (mut count, mut cut) = (0usize, 0.0f32);
    let mut k = 1;
    while k < n {
        if !lowered[k] {
            k += 1;
            continue;
        }
        let a = k;
        while k < n && lowered[k] {
            k += 1;
        }
        // Cells a..k are lowered; a − 1 and k (if any) are not.
        let prev = bed[idx[a - 1]];
        let next = if k < n { z[k] } else { prev };
        let span = (k - a + 1) as f32;
        for (j, &i) in idx[a..k].iter().enumerate() {
            let target = prev + (next - prev) * (j + 1) as f32 / span;
            if target < bed[i] {
                cut = cut.max(bed[i] - target);
                bed[i] = target;
                count += 1;
            }
        }
    }
    (count, cut)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bump_in_a_reach_is_graded_away() {
        let mut bed = vec![10.0, 9.0, 12.0, 15.0, 6.0, 7.0, 5.0];
        let path: Vec<usize> = (0..7).collect();
        let (n, cut) = super::grade_monotone(&mut bed, &path);
        assert_eq!(n, 3);
        assert_eq!(bed, vec![10.0, 9.0, 8.0, 7.0, 6.0, 5.5, 5.0]);
        assert!(bed.windows(2).all(|w| w[1] <= w[0]), "{bed:?}");
        assert!((cut - 8.0).abs() < 1e-5, "{cut}");
    }

    use super::*;

    #[test]
    fn a_straight_line_walls_the_faces_on_its_bank() {
        // West to east along row 2 of a 5 × 6 grid: the corridor is row 2; the left
        // bank (north, looking east) is the north faces of row 2, the right bank the south.
        let line = [(2.5, 0.2), (2.5, 5.8)];
        let cor = river_corridor(5, 6, &line, None);
        let cells: Vec<usize> = (0..30).filter(|&i| cor[i]).collect();
        assert_eq!(cells, (12..18).collect::<Vec<_>>());
        let left = levee_faces(5, 6, &line, &cor, Bank::Left);
        let faces: Vec<Face> = left.iter().map(|f| f.face).collect();
        let want: Vec<Face> = (0..6).map(|c| Face::Y { row: 2, col: c }).collect();
        assert_eq!(faces, want);
        assert!(left.iter().all(|f| f.land_cell + 6 == f.river_cell));
        let right = levee_faces(5, 6, &line, &cor, Bank::Right);
        let faces: Vec<Face> = right.iter().map(|f| f.face).collect();
        let want: Vec<Face> = (0..6).map(|c| Face::Y { row: 3, col: c }).collect();
        assert_eq!(faces, want);
    }

    #[test]
    fn a_diagonal_line_gives_a_face_connected_corridor() {
        let line = [(0.5, 0.5), (4.5, 4.5)];
        let cells = line_cells(5, 5, &line);
        for w in cells.windows(2) {
            let (a, b) = ((w[0] / 5, w[0] % 5), (w[1] / 5, w[1] % 5));
            assert_eq!(a.0.abs_diff(b.0) + a.1.abs_diff(b.1), 1, "{a:?} → {b:?}");
        }
        // The ends are not closed: no face beyond the first or last point.
        let cor = river_corridor(5, 5, &line, None);
        for bank in [Bank::Left, Bank::Right] {
            for f in levee_faces(5, 5, &line, &cor, bank) {
                assert!(f.land_cell != 0 && f.land_cell != 24);
            }
        }
    }
}
