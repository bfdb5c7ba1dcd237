//! Ground motion: the basic PGA of the zoning map (GB 18306-2015) per county, and
//! scenario earthquakes through the Yu et al. (2013) ground-motion model with
//! elliptical attenuation along the causative fault.
//!
//! - [`zoning`]: `rasters/model/pga_zone.tif` and `pga_zone_source.csv`, built by
//!   `haihe prepare` from `models/seismic/pga_zone.toml`.
//! - [`gmpe`]: the model (medians, σ, ε for Monte Carlo), coefficients from
//!   `models/seismic/gmpe_yu2013.toml`.
//! - [`fault`]: fault traces (`rasters/source/faults/`) and the strike near an epicentre.
//! - [`ln_median_field`]: the kernel that evaluates the model on every cell.
//!
//! The scenario runner is [`crate::scenario::quake`] (`haihe quake`). This module owns
//! ground motion only; what it does to people and assets is in [`crate::exposure`].

pub mod fault;
pub mod gmpe;
pub mod zoning;

pub use gmpe::{epsilon, Measure, Yu2013};

use ndarray::Array2;
use rayon::prelude::*;

/// A point source: epicentre, magnitude and the strike of the ellipse's long axis.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Source {
    /// Surface-wave magnitude Ms.
    pub ms: f64,
    /// Epicentre longitude, degrees E.
    pub lon: f64,
    /// Epicentre latitude, degrees N.
    pub lat: f64,
    /// Strike of the long axis, degrees clockwise from north.
    pub strike_deg: f64,
}

/// Median ln of a measure (ln g for PGA, ln cm/s for PGV) at every cell, given the
/// cells' centres in longitude/latitude (row-major, `rows × cols`): great-circle
/// epicentral distance and azimuth, θ = azimuth − strike, then [`Yu2013::ln_median`].
/// Parallel over rows; each cell depends on its own inputs only.
pub fn ln_median_field(
    model: &Yu2013,
    measure: Measure,
    src: &Source,
    lonlat: &[(f64, f64)],
    rows: usize,
    cols: usize,
) -> Array2<f64> {
    let mut out = Array2::<f64>::zeros((rows, cols));
    out.axis_iter_mut(ndarray::Axis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(r, mut row)| {
            for (c, v) in row.iter_mut().enumerate() {
                let Some(&(lon, lat)) = lonlat.get(r * cols + c) else {
                    *v = f64::NAN;
                    continue;
                };
                let (d, az) = gmpe::distance_azimuth(src.lon, src.lat, lon, lat);
                let theta = gmpe::angle_from_strike(az, src.strike_deg);
                *v = model.ln_median(measure, src.ms, d, theta);
            }
        });
    out
}
