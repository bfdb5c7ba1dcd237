//! Gauges on a coarse grid: a station is moved to the cell within a search radius whose
//! upstream area best matches its published catchment area (smallest |ln(A/A_pub)|,
//! Lindsay, Rothwell & Davies 2008, "Upstream area accuracy and gauge location",
//! Hydrol. Process. 22), the usual practice when the river is narrower than a cell.
//! Where no area is published it is the sum of reach areas from the reference (e.g.
//! 卢沟桥 = 官厅 catchment + 官厅山峡 interval + 三家店–卢沟桥 interval).

use crate::terrain::snap_to_stream;
use crate::{Error, Result};
use ndarray::ArrayView2;

/// A gauge moved onto the model's drainage.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Snapped {
    /// Row of the chosen cell.
    pub row: usize,
    /// Column of the chosen cell.
    pub col: usize,
    /// Upstream area of the chosen cell, km².
    pub area_km2: f64,
    /// Upstream area of the cell holding the station's position, km².
    pub at_point_km2: f64,
    /// Distance moved, km (between cell centres).
    pub moved_km: f64,
    /// The area matched, km² (published or derived); none: largest area in reach.
    pub target_km2: Option<f64>,
    /// 100 (snapped − target) / target, %.
    pub area_error_pct: Option<f64>,
}

/// Snaps a gauge at cell (`row`, `col`) within `radius_km` on a grid of `cell_km` cells
/// to the cell whose upstream area `acc_km2` best matches `target_km2` (or the largest
/// area in reach without a target).
pub fn snap_gauge(
    acc_km2: ArrayView2<f64>,
    row: usize,
    col: usize,
    cell_km: f64,
    radius_km: f64,
    target_km2: Option<f64>,
) -> Result<Snapped> {
    if !(cell_km > 0.0 && radius_km >= 0.0) {
        return Err(Error::Data(format!(
            "snap_gauge: cell {cell_km} km must be positive and radius {radius_km} km ≥ 0"
        )));
    }
    let radius = (radius_km / cell_km).round() as usize;
    let (r, c) = snap_to_stream(acc_km2, row, col, radius, target_km2)?;
    let area = acc_km2[(r, c)];
    let dr = r as f64 - row as f64;
    let dc = c as f64 - col as f64;
    Ok(Snapped {
        row: r,
        col: c,
        area_km2: area,
        at_point_km2: acc_km2[(row, col)],
        moved_km: (dr * dr + dc * dc).sqrt() * cell_km,
        target_km2,
        area_error_pct: target_km2.map(|t| 100.0 * (area - t) / t),
    })
}
