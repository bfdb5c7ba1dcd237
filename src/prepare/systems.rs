//! Labelling the three river systems from the drainage of the conditioned DEM.
//!
//! The sub-basin polygons of the Hai basin are generalised at about 1:4M, so they are
//! not copied into `basins.tif`. A river keeps its identity across polygon lines: the
//! 永定河 crosses the plain between 卢沟桥 and 屈家店 through polygons drawn for its
//! neighbours. So:
//!
//! 1. every cell's upstream area is split by the polygon system it comes from (one
//!    weighted flow accumulation per system);
//! 2. a *trunk* cell (upstream area at least `trunk_km2`) belongs to the system that
//!    supplies most of its upstream area;
//! 3. any other cell belongs to the trunk its water reaches first; if its water
//!    reaches the shared lower plain (海河下游), the sea or the grid edge before any
//!    trunk, it keeps its own polygon's system.
//!
//! Cells inside the 海河下游 polygon are the lower plain (4); cells outside the Hai
//! basin, or drained by another system (子牙河, 滦河 …), are 0. Where the DEM and the
//! polygons disagree near a divide, drainage decides.

use crate::terrain;
use crate::Result;
use ndarray::{Array2, ArrayView2};

/// Label of the shared lower plain (海河下游) in `basins.tif`.
pub const LOWER_PLAIN: u8 = 4;
/// Label of cells inside the Hai basin but in another system (子牙河, 滦河 …), before
/// they are mapped to 0.
pub const OTHER_HAI: u8 = 5;

/// Labels cells by river system from D8 directions (ESRI codes, 0 outlet, 255 no-data)
/// and `polygon_system`: per cell, 0 outside the Hai basin, 1 北三河, 2 永定河,
/// 3 大清河, 4 海河下游, 5 another Hai sub-basin. `cell_km2` is the cell area and
/// `trunk_km2` the upstream area from which a river keeps its own identity. Returns
/// 0–4 as in `basins.tif`.
pub fn label_river_systems(
    dir: ArrayView2<u8>,
    polygon_system: ArrayView2<u8>,
    cell_km2: f64,
    trunk_km2: f64,
) -> Result<Array2<u8>> {
    const UNSET: u8 = u8::MAX;
    let (nr, nc) = dir.dim();
    // Upstream area from each of systems 1, 2, 3 and "other" (5).
    let mut from = Vec::new();
    for s in [1u8, 2, 3, OTHER_HAI] {
        let w = polygon_system.mapv(|p| if p == s { cell_km2 } else { 0.0 });
        from.push(terrain::flow_accumulation(dir, Some(w.view()))?);
    }
    let dominant = |r: usize, c: usize| -> Option<u8> {
        let total: f64 = from.iter().map(|a| a[[r, c]]).sum();
        if total.is_nan() || total < trunk_km2 {
            return None;
        }
        let mut best = (0u8, f64::NEG_INFINITY);
        for (k, s) in [1u8, 2, 3, 0].into_iter().enumerate() {
            let v = from[k][[r, c]];
            if v > best.1 {
                best = (s, v);
            }
        }
        Some(best.0)
    };
    let own = |p: u8| if (1..=3).contains(&p) { p } else { 0 };
    let mut label = Array2::from_elem((nr, nc), UNSET);
    let mut path: Vec<(usize, usize)> = Vec::new();
    for r0 in 0..nr {
        for c0 in 0..nc {
            if label[[r0, c0]] != UNSET {
                continue;
            }
            path.clear();
            let (mut r, mut c) = (r0, c0);
            let value = loop {
                if label[[r, c]] != UNSET {
                    break label[[r, c]];
                }
                let p = polygon_system[[r, c]];
                path.push((r, c));
                if p == 0 {
                    break 0;
                }
                if p == LOWER_PLAIN {
                    break LOWER_PLAIN;
                }
                if let Some(s) = dominant(r, c) {
                    break s;
                }
                let next = terrain::downstream_cell(dir[[r, c]], r, c, nr, nc);
                match next {
                    Some((rr, cc))
                        if polygon_system[[rr, cc]] != LOWER_PLAIN
                            && polygon_system[[rr, cc]] != 0
                            && path.len() <= nr * nc =>
                    {
                        r = rr;
                        c = cc;
                    }
                    // Reached the plain, the sea, the edge or an outlet: own polygon.
                    _ => break own(p),
                }
            };
            // Every cell walked belongs where its water went, except trunk cells and
            // plain cells, which were terminal and are first on the path only.
            for &(pr, pc) in &path {
                label[[pr, pc]] = value;
            }
        }
    }
    Ok(label)
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
        // No trunk (threshold above every area): water takes the system where it
        // reaches the plain.
        let l = label_river_systems(dir.view(), poly.view(), 1.0, 100.0).unwrap();
        assert_eq!(l, array![[2u8, 2, 2, 4], [1, 1, 1, 4]]);
    }

    #[test]
    fn other_systems_and_outside_are_zero() {
        let dir = Array2::from_elem((1, 3), 1u8);
        let poly = array![[0u8, 5, 4]];
        let l = label_river_systems(dir.view(), poly.view(), 1.0, 100.0).unwrap();
        assert_eq!(l, array![[0u8, 0, 4]]);
    }

    #[test]
    fn a_trunk_keeps_its_identity_across_polygons() {
        // Row 0: a long 永定河 trunk (2) crossing a 北三河 polygon (1) to the plain.
        // Row 1: a 北三河 hillslope cell draining north-east into the trunk.
        let mut dir = Array2::from_elem((2, 6), 1u8);
        dir[[1, 3]] = 128; // NE into (0, 4)
        let poly = array![[2u8, 2, 2, 1, 1, 4], [2, 2, 1, 1, 1, 4]];
        // Trunk from 5 km²: only (0,4) is a trunk, with 5 km² from 永定河 polygons
        // ((0,0..3) and (1,0..2)) against 4 km² from 北三河 ones.
        let l = label_river_systems(dir.view(), poly.view(), 1.0, 5.0).unwrap();
        assert_eq!(l.row(0).to_vec(), vec![2, 2, 2, 2, 2, 4]);
        // (1,3) drains into the 永定河 trunk at (0,4); (1,4) reaches the plain directly.
        assert_eq!(l[[1, 3]], 2);
        assert_eq!(l[[1, 4]], 1);
    }
}
