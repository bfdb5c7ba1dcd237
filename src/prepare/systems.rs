//! Labelling the three river systems from the drainage of the conditioned DEM.
//!
//! The sub-basin polygons of the Hai basin are generalised at about 1:4M, so they are
//! not copied into `basins.tif`. Instead each cell follows its D8 path downstream; the
//! cell's system is the system of the sub-basin polygon its water was in when it
//! reached the shared lower plain (海河下游), the sea, or the edge of the grid. Cells
//! inside the 海河下游 polygon are the lower plain; cells outside the Hai basin, or
//! whose water reaches the plain from another system (子牙河, 滦河 …), are 0. Drainage
//! therefore decides where the polygons and the DEM disagree.

use ndarray::{Array2, ArrayView2};

/// Label of the shared lower plain (海河下游) in `basins.tif`.
pub const LOWER_PLAIN: u8 = 4;

/// Labels cells by river system from D8 directions (ESRI codes, 0 outlet, 255 no-data)
/// and `polygon_system`: per cell, 0 outside the Hai basin, 1 北三河, 2 永定河,
/// 3 大清河, 4 海河下游, 5 another Hai sub-basin. Returns 0–4 as in `basins.tif`.
pub fn label_river_systems(dir: ArrayView2<u8>, polygon_system: ArrayView2<u8>) -> Array2<u8> {
    const UNSET: u8 = u8::MAX;
    let (nr, nc) = dir.dim();
    let own = |p: u8| if (1..=3).contains(&p) { p } else { 0 };
    let mut label = Array2::from_elem((nr, nc), UNSET);
    let mut path: Vec<(usize, usize)> = Vec::new();
    for r0 in 0..nr {
        for c0 in 0..nc {
            if label[[r0, c0]] != UNSET {
                continue;
            }
            // Walk down until a known label or a terminal rule applies.
            path.clear();
            let (mut r, mut c) = (r0, c0);
            let terminal: u8 = loop {
                let p = polygon_system[[r, c]];
                if p == 0 {
                    break 0;
                }
                if p == LOWER_PLAIN {
                    break LOWER_PLAIN;
                }
                let next = crate::terrain::downstream(dir[[r, c]], r, c)
                    .filter(|&(rr, cc)| rr >= 0 && cc >= 0 && (rr as usize) < nr && (cc as usize) < nc)
                    .map(|(rr, cc)| (rr as usize, cc as usize));
                match next {
                    None => break own(p),
                    Some((rr, cc)) => {
                        let pd = polygon_system[[rr, cc]];
                        if pd == LOWER_PLAIN || pd == 0 {
                            break own(p);
                        }
                        path.push((r, c));
                        if label[[rr, cc]] != UNSET {
                            // Cells on the path inherit the downstream label.
                            break label[[rr, cc]];
                        }
                        if path.len() > nr * nc {
                            // A cycle: directions from a filled DEM have none.
                            break 0;
                        }
                        r = rr;
                        c = cc;
                    }
                }
            };
            // The cell where the walk stopped gets the terminal value unless it is
            // already known; the path above it inherits it.
            if label[[r, c]] == UNSET {
                label[[r, c]] = terminal;
            }
            let v = label[[r, c]];
            for &(pr, pc) in &path {
                label[[pr, pc]] = v;
            }
        }
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn water_takes_the_system_where_it_reaches_the_plain() {
        // All flow east (code 1) to the last column, which is lower plain.
        let dir = Array2::from_elem((2, 4), 1u8);
        // Row 0: 大清河 cell drains through 永定河 cells into the plain -> 永定河.
        // Row 1: 子牙河 (5) then 北三河 -> 北三河 for the 北三河 cell, 0 for the 子牙河 cell
        //         only if it drains directly into the plain; here it drains into 北三河.
        let poly = array![[3u8, 2, 2, 4], [5, 5, 1, 4]];
        let l = label_river_systems(dir.view(), poly.view());
        assert_eq!(l, array![[2u8, 2, 2, 4], [1, 1, 1, 4]]);
    }

    #[test]
    fn other_systems_and_outside_are_zero() {
        let dir = Array2::from_elem((1, 3), 1u8);
        let poly = array![[0u8, 5, 4]];
        let l = label_river_systems(dir.view(), poly.view());
        assert_eq!(l, array![[0u8, 0, 4]]);
    }
}
