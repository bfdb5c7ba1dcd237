//! Stream networks from flow accumulation, and their Strahler order.
//!
//! A cell is a stream cell where its upstream drainage area exceeds a threshold (the
//! constant-threshold channel initiation of O'Callaghan & Mark 1984). The threshold sets
//! the drainage density: a few km² on a 30 m DEM, tens to hundreds of km² on the 1 km
//! model grid. Strahler order then ranks the network: heads are order 1, and where two
//! or more tributaries of the highest upstream order k meet, the order becomes k + 1;
//! otherwise it keeps the highest upstream order.
//!
//! Inputs: upstream area in km² ([`super::flow_accumulation::upstream_area_km2`]); D8
//! codes ([`super::flow_direction`]). NaN areas are not streams.
//!
//! Caveat: with a constant threshold, streams start at the same area in wet mountains
//! and dry plains; burned river lines give the real network where it matters.
//!
//! # Reference
//! Strahler, A. N. (1957). Quantitative analysis of watershed geomorphology. Transactions
//! of the American Geophysical Union 38(6):913–920. O'Callaghan, J. F., Mark, D. M.
//! (1984). The extraction of drainage networks from digital elevation data. Computer
//! Vision, Graphics, and Image Processing 28:323–344.
//!
//! # See Also
//! [`super::hand`], [`super::basins`].

use super::flow_accumulation::topological_walk;
use super::flow_direction::{downstream_indices, D8_NODATA, NONE};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2, Zip};

/// Stream cells (1) where the upstream area exceeds `threshold_km2` (strictly greater),
/// 0 elsewhere and on NaN cells (O'Callaghan & Mark 1984 constant threshold).
pub fn extract_streams(acc_km2: ArrayView2<f64>, threshold_km2: f64) -> Array2<u8> {
    let mut out = Array2::<u8>::zeros(acc_km2.dim());
    Zip::from(&mut out)
        .and(&acc_km2)
        .par_for_each(|o, &a| *o = (a > threshold_km2) as u8);
    out
}

/// Strahler (1957) stream order of every stream cell (`streams` = 1) along the D8
/// directions `dir`; 0 off the network. Only stream-to-stream links count as
/// tributaries. Fails on shape mismatch, invalid codes, or cycles.
pub fn strahler_order(dir: ArrayView2<u8>, streams: ArrayView2<u8>) -> Result<Array2<u8>> {
    let (nr, nc) = dir.dim();
    if streams.dim() != dir.dim() {
        return Err(Error::Misaligned(format!(
            "Strahler order: directions are {:?} but streams are {:?}",
            dir.dim(),
            streams.dim()
        )));
    }
    let is_stream: Vec<bool> = dir
        .iter()
        .zip(streams.iter())
        .map(|(&d, &s)| s != 0 && d != D8_NODATA)
        .collect();
    let mut down = downstream_indices(dir)?;
    for (i, d) in down.iter_mut().enumerate() {
        if !is_stream[i] || (*d != NONE && !is_stream[*d as usize]) {
            *d = NONE;
        }
    }
    // Highest upstream order seen so far and how many tributaries carry it.
    let mut max_up = vec![0u8; nr * nc];
    let mut n_max = vec![0u8; nr * nc];
    let mut order = vec![0u8; nr * nc];
    topological_walk(
        nr,
        nc,
        &down,
        |i| is_stream[i],
        |from, to| {
            let o = match (max_up[from], n_max[from]) {
                (0, _) => 1,
                (m, k) if k >= 2 => m.saturating_add(1),
                (m, _) => m,
            };
            order[from] = o;
            if let Some(to) = to {
                match o.cmp(&max_up[to]) {
                    std::cmp::Ordering::Greater => {
                        max_up[to] = o;
                        n_max[to] = 1;
                    }
                    std::cmp::Ordering::Equal => n_max[to] += 1,
                    std::cmp::Ordering::Less => {}
                }
            }
        },
    )?;
    Ok(Array2::from_shape_vec((nr, nc), order).expect("shape matches the direction grid"))
}
