//! Height Above the Nearest Drainage (HAND): how far each cell stands above the stream
//! cell its water first reaches.
//!
//! Following the D8 path downstream from a cell until the first stream cell, HAND is the
//! cell's elevation minus that stream cell's elevation. Stream cells get 0. HAND
//! normalises terrain to the local drainage: cells with small HAND flood first, which
//! makes it a quick flood-susceptibility index and a check on the 2D model's extents.
//!
//! Each cell's drainage elevation is found once: a walk downstream stops at the first
//! cell already resolved and writes the answer to every cell on the walk, so the whole
//! grid costs O(n).
//!
//! Inputs: the DEM in metres (use the same DEM the directions were computed from, or
//! the raw DEM to see the depth of depressions: HAND is then negative in filled pits),
//! ESRI D8 codes, and a stream mask (1 = stream) such as
//! [`super::streams::extract_streams`]. Output: metres; NaN on no-data cells and where
//! the path leaves the grid or ends at an outlet without meeting a stream.
//!
//! # Reference
//! Rennó, C. D., Nobre, A. D., Cuartas, L. A., et al. (2008). HAND, a new terrain
//! descriptor using SRTM-DEM: Mapping terra-firme rainforest environments in Amazonia.
//! Remote Sensing of Environment 112:3469–3481. Nobre, A. D., Cuartas, L. A., Hodnett,
//! M., et al. (2011). Height Above the Nearest Drainage – a hydrologically relevant new
//! terrain model. Journal of Hydrology 404:13–29.
//!
//! # See Also
//! [`super::streams`], [`super::flow_direction`].

use super::flow_direction::{downstream_indices, NONE};
use crate::{Error, Result};
use ndarray::{Array2, ArrayView2};

/// Height above the nearest drainage in metres (Rennó et al. 2008; Nobre et al. 2011):
/// `dem` minus the elevation of the first stream cell (`streams` ≠ 0) on the D8 path
/// `dir`; 0 on streams; NaN on no-data and where the path meets no stream. Fails on
/// shape mismatch or invalid direction codes. Cycles give NaN on their cells.
pub fn height_above_nearest_drainage(
    dem: ArrayView2<f64>,
    dir: ArrayView2<u8>,
    streams: ArrayView2<u8>,
) -> Result<Array2<f64>> {
    let (nr, nc) = dem.dim();
    if dir.dim() != dem.dim() || streams.dim() != dem.dim() {
        return Err(Error::Misaligned(format!(
            "HAND: DEM is {:?}, directions {:?}, streams {:?}",
            dem.dim(),
            dir.dim(),
            streams.dim()
        )));
    }
    let down = downstream_indices(dir)?;
    let z: Vec<f64> = dem.iter().copied().collect();
    let is_stream: Vec<bool> = streams.iter().map(|&s| s != 0).collect();
    const UNKNOWN: u8 = 0;
    const ON_PATH: u8 = 1;
    const KNOWN: u8 = 2;
    let mut state = vec![UNKNOWN; nr * nc];
    let mut drain_z = vec![f64::NAN; nr * nc];
    let mut path: Vec<usize> = Vec::new();
    for i in 0..nr * nc {
        if state[i] == KNOWN {
            continue;
        }
        path.clear();
        let mut cur = i;
        let value = loop {
            match state[cur] {
                KNOWN => break drain_z[cur],
                ON_PATH => break f64::NAN, // a cycle: no drainage reached
                _ => {}
            }
            if z[cur].is_nan() {
                state[cur] = KNOWN;
                break f64::NAN;
            }
            if is_stream[cur] {
                state[cur] = KNOWN;
                drain_z[cur] = z[cur];
                break z[cur];
            }
            state[cur] = ON_PATH;
            path.push(cur);
            if down[cur] == NONE {
                break f64::NAN;
            }
            cur = down[cur] as usize;
        };
        for &p in &path {
            drain_z[p] = value;
            state[p] = KNOWN;
        }
    }
    let hand: Vec<f64> = z.iter().zip(&drain_z).map(|(&zi, &d)| zi - d).collect();
    Ok(Array2::from_shape_vec((nr, nc), hand).expect("shape matches the DEM"))
}
