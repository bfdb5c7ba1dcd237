//! Subgrid channel geometry of the stream network from downstream hydraulic geometry.
//!
//! On the 1000 m model grid the rivers are narrower than a cell, so stream cells carry a
//! subgrid channel ([`crate::flood::routing::ChannelCells`], Neal, Schumann & Bates 2012).
//! Its width and bank-full depth follow power laws of the upstream area `A` (km²):
//!
//! ```text
//! w = a · A^b      (m)        d = c · A^f      (m)
//! ```
//!
//! the downstream hydraulic geometry of Leopold & Maddock (1953), `w ∝ Q^0.5`,
//! `d ∝ Q^0.4`, written through the upstream area as in large-scale subgrid models
//! (Neal et al. 2012; Andreadis, Schumann & Pavelsky 2013 give the discharge form
//! `w = 7.2 Q^0.50`, `d = 0.27 Q^0.39`). The coefficients live in `models/channels.toml`
//! with their basis.
//!
//! The channel follows the D8 directions of the conditioned drainage between stream cells.
//! A diagonal step is made face-connected through the lower of the two cells beside it
//! (ties: the one in the same row as the upstream cell), the same choice as
//! [`crate::terrain::carve_streams`] with `four_connected`, so the channel runs through
//! the carved side cell; that side cell gets the upstream cell's area. Each channel cell
//! drains across one face to its downstream neighbour; its length is one cell size (a
//! face step), so channels are not lengthened for sinuosity.
//!
//! # Reference
//! - Leopold, L.B., Maddock, T. (1953). The hydraulic geometry of stream channels and some
//!   physiographic implications. USGS Professional Paper 252.
//! - Neal, J., Schumann, G., Bates, P. (2012). A subgrid channel model for simulating
//!   river hydraulics and floodplain inundation over large and data sparse areas. Water
//!   Resour. Res. 48, W11506.
//! - Andreadis, K.M., Schumann, G.J.-P., Pavelsky, T. (2013). A simple global river
//!   bankfull width and depth database. Water Resour. Res. 49, 7164–7168.

use crate::flood::routing::{ChannelCells, Dir4};
use crate::terrain::flow_direction::downstream_cell;
use crate::{Error, Result};
use ndarray::ArrayView2;
use serde::Deserialize;

/// Hydraulic geometry of the subgrid channels (`models/channels.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HydraulicGeometry {
    /// Width coefficient `a` in `w = a A^b`, m per km^(2b).
    pub width_coeff: f64,
    /// Width exponent `b`.
    pub width_exp: f64,
    /// Depth coefficient `c` in `d = c A^f`, m per km^(2f).
    pub depth_coeff: f64,
    /// Depth exponent `f`.
    pub depth_exp: f64,
    /// Manning's n of the channels, s m^-1/3.
    pub manning_n: f64,
    /// Largest width as a fraction of the cell size (the rest is floodplain), (0, 1).
    pub max_width_fraction: f64,
    /// Fraction of the bank-full depth filled at the start, [0, 1].
    pub initial_fill: f64,
}

impl HydraulicGeometry {
    /// Checks the ranges; `what` names the file for the message.
    pub fn validate(&self, what: &std::path::Path) -> Result<()> {
        let bad = |field: &str, message: &str| {
            Err(Error::Invalid {
                path: what.to_path_buf(),
                field: field.into(),
                message: message.into(),
            })
        };
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !pos(self.width_coeff) || !pos(self.depth_coeff) {
            return bad("width_coeff/depth_coeff", "coefficients must be positive");
        }
        if !(self.width_exp.is_finite() && self.depth_exp.is_finite()) {
            return bad("width_exp/depth_exp", "exponents must be finite");
        }
        if !pos(self.manning_n) {
            return bad("manning_n", "must be positive");
        }
        if !(self.max_width_fraction > 0.0 && self.max_width_fraction < 1.0) {
            return bad("max_width_fraction", "must lie in (0, 1)");
        }
        if !(0.0..=1.0).contains(&self.initial_fill) {
            return bad("initial_fill", "must lie in [0, 1]");
        }
        Ok(())
    }
    /// Channel width for upstream area `area_km2`, m, capped at the largest fraction of `dx_m`.
    pub fn width_m(&self, area_km2: f64, dx_m: f64) -> f64 {
        (self.width_coeff * area_km2.max(0.0).powf(self.width_exp))
            .min(self.max_width_fraction * dx_m)
    }
    /// Bank-full depth for upstream area `area_km2`, m.
    pub fn depth_m(&self, area_km2: f64) -> f64 {
        self.depth_coeff * area_km2.max(0.0).powf(self.depth_exp)
    }
}

/// Reads `models/channels.toml` (or another file with the same keys).
pub fn load_hydraulic_geometry(path: &std::path::Path) -> Result<HydraulicGeometry> {
    let g: HydraulicGeometry = crate::error::read_toml(
        path,
        "the subgrid channel geometry, such as models/channels.toml",
    )?;
    g.validate(path)?;
    Ok(g)
}

fn dir4(from: (usize, usize), to: (usize, usize)) -> Dir4 {
    if to.0 < from.0 {
        Dir4::North
    } else if to.0 > from.0 {
        Dir4::South
    } else if to.1 > from.1 {
        Dir4::East
    } else {
        Dir4::West
    }
}

/// Step off the grid from an edge cell in ESRI D8 code `dir`, as a face direction (a
/// diagonal step off a corner leaves through the row's side), or `None`.
fn off_grid(dir: u8, r: usize, c: usize, nr: usize, nc: usize) -> Option<Dir4> {
    // ESRI codes: 1 E, 2 SE, 4 S, 8 SW, 16 W, 32 NW, 64 N, 128 NE.
    let (dr, dc): (isize, isize) = match dir {
        1 => (0, 1),
        2 => (1, 1),
        4 => (1, 0),
        8 => (1, -1),
        16 => (0, -1),
        32 => (-1, -1),
        64 => (-1, 0),
        128 => (-1, 1),
        _ => return None,
    };
    let (rr, cc) = (r as isize + dr, c as isize + dc);
    if cc < 0 {
        Some(Dir4::West)
    } else if cc >= nc as isize {
        Some(Dir4::East)
    } else if rr < 0 {
        Some(Dir4::North)
    } else if rr >= nr as isize {
        Some(Dir4::South)
    } else {
        None
    }
}

/// Channel cells of the stream network (`streams` = 1) with hydraulic geometry from the
/// upstream area `area_km2`, D8 directions `flow_dir` (ESRI codes) and the (carved) bed
/// `bed_m` (NaN = inactive) that picks the side cell of a diagonal step. Cell size
/// `dx_m`. Errors on mismatched shapes.
pub fn stream_channels(
    bed_m: ArrayView2<f32>,
    flow_dir: ArrayView2<u8>,
    streams: ArrayView2<u8>,
    area_km2: ArrayView2<f64>,
    dx_m: f64,
    geom: &HydraulicGeometry,
) -> Result<ChannelCells> {
    let (nr, nc) = bed_m.dim();
    if flow_dir.dim() != (nr, nc) || streams.dim() != (nr, nc) || area_km2.dim() != (nr, nc) {
        return Err(Error::Misaligned(format!(
            "stream channels: bed {:?}, directions {:?}, streams {:?}, area {:?}",
            bed_m.dim(),
            flow_dir.dim(),
            streams.dim(),
            area_km2.dim()
        )));
    }
    let n = nr * nc;
    let is_stream = |r: usize, c: usize| streams[[r, c]] == 1 && !bed_m[[r, c]].is_nan();
    let mut area = vec![f64::NAN; n];
    let mut down: Vec<Option<Dir4>> = vec![None; n];
    for r in 0..nr {
        for c in 0..nc {
            if is_stream(r, c) {
                area[r * nc + c] = area_km2[[r, c]];
            }
        }
    }
    for r in 0..nr {
        for c in 0..nc {
            if !is_stream(r, c) {
                continue;
            }
            let i = r * nc + c;
            let dir = flow_dir[[r, c]];
            match downstream_cell(dir, r, c, nr, nc) {
                None => down[i] = off_grid(dir, r, c, nr, nc),
                Some(d) if d.0 == r || d.1 == c => down[i] = Some(dir4((r, c), d)),
                Some(d) => {
                    // Diagonal: through the lower side cell (ties: same row).
                    let (a, b) = ((r, d.1), (d.0, c));
                    let (za, zb) = (bed_m[[a.0, a.1]], bed_m[[b.0, b.1]]);
                    let side = match (za.is_nan(), zb.is_nan()) {
                        (false, false) => Some(if zb < za { b } else { a }),
                        (false, true) => Some(a),
                        (true, false) => Some(b),
                        (true, true) => None,
                    };
                    let Some(sd) = side else { continue };
                    down[i] = Some(dir4((r, c), sd));
                    let j = sd.0 * nc + sd.1;
                    if is_stream(sd.0, sd.1) {
                        continue; // the side cell is a stream of its own: it keeps its path
                    }
                    area[j] = if area[j].is_nan() {
                        area_km2[[r, c]]
                    } else {
                        area[j].max(area_km2[[r, c]])
                    };
                    if down[j].is_none() {
                        down[j] = Some(dir4(sd, d));
                    }
                }
            }
        }
    }
    let mut cc = ChannelCells {
        width_m: vec![f32::NAN; n],
        bank_depth_m: vec![0.0; n],
        manning_n: vec![0.0; n],
        downstream: down,
    };
    for (i, &a) in area.iter().enumerate() {
        if a.is_nan() {
            cc.downstream[i] = None;
            continue;
        }
        cc.width_m[i] = geom.width_m(a, dx_m) as f32;
        cc.bank_depth_m[i] = geom.depth_m(a) as f32;
        cc.manning_n[i] = geom.manning_n as f32;
    }
    Ok(cc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn geom() -> HydraulicGeometry {
        HydraulicGeometry {
            width_coeff: 2.0,
            width_exp: 0.5,
            depth_coeff: 0.2,
            depth_exp: 0.3,
            manning_n: 0.035,
            max_width_fraction: 0.8,
            initial_fill: 0.0,
        }
    }

    #[test]
    fn power_laws_and_cap() {
        let g = geom();
        assert!((g.width_m(10_000.0, 1000.0) - 200.0).abs() < 1e-9);
        assert!((g.depth_m(1000.0) - 0.2 * 1000f64.powf(0.3)).abs() < 1e-12);
        assert_eq!(g.width_m(1.0e7, 1000.0), 800.0);
    }

    #[test]
    fn diagonal_step_goes_through_the_lower_side_cell() {
        // Stream (0,0) → SE (1,1) → E (1,2) → off the east edge.
        let mut bed = Array2::<f32>::from_elem((3, 3), 10.0);
        bed[[1, 0]] = 5.0; // the lower side cell of the diagonal step
        let mut fd = Array2::<u8>::zeros((3, 3));
        fd[[0, 0]] = 2;
        fd[[1, 1]] = 1;
        fd[[1, 2]] = 1;
        let mut st = Array2::<u8>::zeros((3, 3));
        st[[0, 0]] = 1;
        st[[1, 1]] = 1;
        st[[1, 2]] = 1;
        let area = Array2::<f64>::from_elem((3, 3), 400.0);
        let cc = stream_channels(
            bed.view(),
            fd.view(),
            st.view(),
            area.view(),
            1000.0,
            &geom(),
        )
        .unwrap();
        assert_eq!(cc.downstream[0], Some(Dir4::South));
        assert_eq!(cc.downstream[3], Some(Dir4::East));
        assert_eq!(cc.downstream[4], Some(Dir4::East));
        assert_eq!(cc.downstream[5], Some(Dir4::East));
        assert!((cc.width_m[3] - 40.0).abs() < 1e-4);
        assert!(cc.width_m[1].is_nan() && cc.width_m[2].is_nan());
    }
}
