//! Stream carving: make every stream's bed fall (or stay level) downstream.
//!
//! On a DEM coarser than its valleys, a river's own cells can read higher than the
//! cells upstream of them (the 官厅山峡 gorge on the 2′ grid reads several hundred metres
//! above the reservoir behind it). A flood model run on such a bed ponds the river
//! behind a ridge that is not there. Carving lowers each stream cell to at most the
//! elevation of every stream cell draining into it, following the D8 directions of the
//! conditioned drainage, so that the stream network is monotone without raising any
//! cell (the "carve" alternative to filling; Soille, Vogt & Colombo 2003, WRR 39:1366;
//! Lindsay 2016, Hydrol. Process. 30:846 on breaching against filling). Cells off the
//! streams keep their elevation, so real depressions still store water.
//!
//! # Reference
//! Soille, P., Vogt, J., Colombo, R. (2003). Carving and adaptive drainage enforcement
//! of grid digital elevation models. Water Resour. Res. 39(12), 1366.

use super::flow_direction::downstream_cell;
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};

/// Lowers stream cells (`streams` = 1) so that elevations never rise downstream along
/// the D8 directions `dir` (ESRI codes); returns the carved DEM (m) and leaves NaN and
/// non-stream cells unchanged. Stream cells are visited in topological order (Kahn), so
/// each is lowered to the minimum of itself and all its upstream stream cells.
///
/// A lowered run would otherwise lie dead level from the cell that set it down to the
/// next lower cell, and a 2D model would see a chain of lakes instead of a river (on the
/// 2′ grid the 官厅山峡 gorge became 12 km of level bed). The run is therefore graded:
/// its cells fall linearly with distance (cell steps, √2 on diagonals) from the run's
/// start to the first lower cell downstream, the usual "graded breach" of carving
/// (Soille et al. 2003, §3; Lindsay 2016). A run that reaches the grid's edge or an
/// outlet without a lower cell stays level. No cell is raised.
///
/// With `four_connected`, a diagonal step also lowers the lower of the two cells beside
/// it to the mean of the step's two graded elevations, so that a model exchanging water
/// only across cell faces (the 2D routing) sees a continuous channel rather than a chain
/// of pits that touch at their corners. Fails on mismatched shapes or a cycle in the
/// directions.
pub fn carve_streams(
    dem: ArrayView2<f64>,
    dir: ArrayView2<u8>,
    streams: ArrayView2<u8>,
    four_connected: bool,
) -> Result<Array2<f64>> {
    let (nr, nc) = dem.dim();
    if dir.dim() != dem.dim() || streams.dim() != dem.dim() {
        return Err(Error::Misaligned(format!(
            "carve_streams: DEM {:?}, directions {:?}, streams {:?}",
            dem.dim(),
            dir.dim(),
            streams.dim()
        )));
    }
    let is_stream = |r: usize, c: usize| streams[[r, c]] == 1 && !dem[[r, c]].is_nan();
    let down_of = |r: usize, c: usize| -> Option<(usize, usize)> {
        downstream_cell(dir[[r, c]], r, c, nr, nc).filter(|&(rr, cc)| is_stream(rr, cc))
    };
    let step_len = |a: (usize, usize), b: (usize, usize)| {
        if a.0 != b.0 && a.1 != b.1 {
            std::f64::consts::SQRT_2
        } else {
            1.0
        }
    };
    let mut indegree = Array2::<u8>::zeros((nr, nc));
    let mut n_stream = 0usize;
    for r in 0..nr {
        for c in 0..nc {
            if is_stream(r, c) {
                n_stream += 1;
                if let Some(d) = down_of(r, c) {
                    indegree[d] += 1;
                }
            }
        }
    }
    // 1. Monotone carve, recording the topological order (upstream first).
    let mut mono = dem.to_owned();
    let mut order: Vec<(usize, usize)> = Vec::with_capacity(n_stream);
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for r in (0..nr).rev() {
        for c in (0..nc).rev() {
            if is_stream(r, c) && indegree[[r, c]] == 0 {
                stack.push((r, c));
            }
        }
    }
    while let Some((r, c)) = stack.pop() {
        order.push((r, c));
        if let Some(d) = down_of(r, c) {
            let z = mono[[r, c]];
            if mono[d] > z {
                mono[d] = z;
            }
            indegree[d] -= 1;
            if indegree[d] == 0 {
                stack.push(d);
            }
        }
    }
    if order.len() != n_stream {
        return Err(Error::Data(format!(
            "carve_streams: {} stream cells lie on a cycle of the flow directions",
            n_stream - order.len()
        )));
    }
    // 2. Distance from the start of each level run (upstream pass): a cell level with
    //    an upstream cell continues the longest such run.
    let mut from_start = Array2::<f64>::from_elem((nr, nc), 0.0);
    let mut continued = Array2::<bool>::from_elem((nr, nc), false);
    for &(r, c) in &order {
        if let Some(d) = down_of(r, c) {
            if mono[d] == mono[[r, c]] {
                let j = from_start[[r, c]] + step_len((r, c), d);
                if !continued[d] || j > from_start[d] {
                    from_start[d] = j;
                    continued[d] = true;
                }
            }
        }
    }
    // 3. Distance to the first lower cell downstream (downstream pass) and its level.
    let mut to_lower = Array2::<f64>::from_elem((nr, nc), f64::INFINITY);
    let mut low = Array2::<f64>::from_elem((nr, nc), f64::NAN);
    for &(r, c) in order.iter().rev() {
        if let Some(d) = down_of(r, c) {
            let l = step_len((r, c), d);
            if mono[d] < mono[[r, c]] {
                to_lower[[r, c]] = l;
                low[[r, c]] = mono[d];
            } else {
                to_lower[[r, c]] = to_lower[d] + l;
                low[[r, c]] = low[d];
            }
        }
    }
    // 4. Grade each run linearly between its start and the lower cell.
    let mut out = mono.clone();
    for &(r, c) in &order {
        let (j, k) = (from_start[[r, c]], to_lower[[r, c]]);
        if j > 0.0 && k.is_finite() {
            let z = mono[[r, c]];
            out[[r, c]] = z - (z - low[[r, c]]) * j / (j + k);
        }
    }
    // 5. Side cells of diagonal steps.
    if four_connected {
        for &(r, c) in &order {
            let Some(d) = down_of(r, c) else { continue };
            if d.0 == r || d.1 == c {
                continue;
            }
            // The two cells beside a diagonal step; carve the lower one (ties: the one
            // in the same row). A NaN side cell is never chosen.
            let (a, b) = ((r, d.1), (d.0, c));
            let side = match (out[a].is_nan(), out[b].is_nan()) {
                (false, false) => Some(if out[b] < out[a] { b } else { a }),
                (false, true) => Some(a),
                (true, false) => Some(b),
                (true, true) => None,
            };
            if let Some(sd) = side {
                let z = 0.5 * (out[[r, c]] + out[d]);
                if out[sd] > z {
                    out[sd] = z;
                }
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
    fn a_ridge_across_a_stream_is_carved_to_the_upstream_level() {
        // A stream flowing east through a ridge at column 2; a tributary joins from the
        // north at column 3. Off-stream cells keep their elevation.
        let dem = array![
            [90.0, 90.0, 90.0, 50.0, 90.0],
            [60.0, 55.0, 300.0, 52.0, 40.0]
        ];
        let dir = array![[4u8, 4, 4, 4, 4], [1, 1, 1, 1, 0]];
        let streams = array![[0u8, 0, 0, 1, 0], [1, 1, 1, 1, 1]];
        let carved = carve_streams(dem.view(), dir.view(), streams.view(), false).unwrap();
        // The ridge cell is lowered below 55 m and graded halfway to the cell below it;
        // the junction cell, lowered to the tributary's 50 m, is graded halfway to 40 m.
        assert_eq!(carved.row(1).to_vec(), vec![60.0, 55.0, 52.5, 45.0, 40.0]);
        assert_eq!(carved.row(0).to_vec(), dem.row(0).to_vec());
    }

    #[test]
    fn a_diagonal_step_gets_a_side_cell_for_face_connected_flow() {
        // A stream stepping SE from (0,0) to (1,1) through high ground.
        let dem = array![[10.0, 80.0], [90.0, 50.0]];
        let dir = array![[2u8, 0], [0, 0]];
        let streams = array![[1u8, 0], [0, 1]];
        let d8 = carve_streams(dem.view(), dir.view(), streams.view(), false).unwrap();
        assert_eq!(d8, array![[10.0, 80.0], [90.0, 10.0]]);
        let faces = carve_streams(dem.view(), dir.view(), streams.view(), true).unwrap();
        // The lower side cell, (0,1) at 80 m, is carved to 10 m.
        assert_eq!(faces, array![[10.0, 10.0], [90.0, 10.0]]);
    }

    #[test]
    fn a_long_lowered_run_falls_linearly_to_the_next_lower_cell() {
        // 100 m at the head, a 4-cell ridge, then 60 m: the ridge cells fall by 8 m a cell.
        let dem = array![[100.0, 200.0, 300.0, 250.0, 400.0, 60.0, 50.0]];
        let dir = array![[1u8, 1, 1, 1, 1, 1, 0]];
        let streams = array![[1u8, 1, 1, 1, 1, 1, 1]];
        let carved = carve_streams(dem.view(), dir.view(), streams.view(), false).unwrap();
        let want = [100.0, 92.0, 84.0, 76.0, 68.0, 60.0, 50.0];
        for (a, b) in carved.row(0).iter().zip(want) {
            assert!((a - b).abs() < 1e-9, "{:?}", carved.row(0));
        }
    }

    #[test]
    fn a_level_run_at_the_outlet_stays_level_and_nothing_is_raised() {
        let dem = array![[30.0, 40.0, 35.0]];
        let dir = array![[1u8, 1, 0]];
        let streams = array![[1u8, 1, 1]];
        let carved = carve_streams(dem.view(), dir.view(), streams.view(), false).unwrap();
        assert_eq!(carved.row(0).to_vec(), vec![30.0, 30.0, 30.0]);
        for (a, b) in carved.iter().zip(dem.iter()) {
            assert!(a <= b);
        }
    }
}
