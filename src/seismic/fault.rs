//! Fault traces and the strike of a causative fault near an epicentre.
//!
//! The strike orients the long axis of the attenuation ellipse ([`super::gmpe`]). It is
//! taken from the trace itself: the length-weighted axial mean of the azimuths of the
//! trace's segments within [`STRIKE_RADIUS_KM`] of the epicentre (doubled angles, so
//! that 10° and 190° agree), or of the nearest segment when none lies that close. A
//! strike is an axis, so the result lies in [0°, 180°).
//!
//! # Reference
//! Mardia, K. V. and Jupp, P. E. (2000), Directional Statistics, Wiley, §9.3 (axial
//! data: the mean of doubled angles).

use super::gmpe::distance_azimuth;
use crate::grid::vector::{read_layer, Geometry};
use crate::{Error, Result};
use std::path::Path;

/// Segments closer than this to the epicentre set the strike, km.
pub const STRIKE_RADIUS_KM: f64 = 25.0;

/// The attribute that names a fault in the bundled layer (邓起东 active-fault map).
pub const NAME_FIELD: &str = "断层名称";

/// A fault: its name and its polylines in longitude/latitude (degrees).
#[derive(Debug, Clone, PartialEq)]
pub struct FaultTrace {
    /// Name (value of [`NAME_FIELD`]).
    pub name: String,
    /// Polylines, (lon, lat) vertices.
    pub lines: Vec<Vec<(f64, f64)>>,
}

/// The strike found for an epicentre and how far the trace lies from it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Strike {
    /// Strike, degrees clockwise from north, in [0, 180).
    pub strike_deg: f64,
    /// Distance from the epicentre to the nearest point of the trace, km.
    pub distance_km: f64,
    /// Total length of the segments that set the strike, km.
    pub length_used_km: f64,
}

/// Reads the traces of the fault named `name` from a line layer (WGS 84) with a
/// [`NAME_FIELD`] attribute; all features of that name are joined. An empty result
/// means the layer has no such fault.
pub fn read_fault(path: &Path, name: &str) -> Result<Option<FaultTrace>> {
    let wgs84 = crate::grid::io::epsg_wkt(4326)?;
    let feats = read_layer(path, Some(&wgs84))?;
    let mut lines = Vec::new();
    for f in &feats {
        if f.fields.get(NAME_FIELD).map(|s| s.trim()) != Some(name) {
            continue;
        }
        match &f.geometry {
            Geometry::Lines(ls) => lines.extend(ls.iter().cloned()),
            _ => {
                return Err(Error::Invalid {
                    path: path.to_path_buf(),
                    field: NAME_FIELD.into(),
                    message: format!("feature '{name}' is not a line"),
                })
            }
        }
    }
    Ok((!lines.is_empty()).then(|| FaultTrace {
        name: name.to_string(),
        lines,
    }))
}

/// The names of all faults in a layer (for messages).
pub fn fault_names(path: &Path) -> Result<Vec<String>> {
    let mut v: Vec<String> = read_layer(path, None)?
        .iter()
        .filter_map(|f| f.fields.get(NAME_FIELD).cloned())
        .filter(|s| !s.trim().is_empty())
        .collect();
    v.sort();
    v.dedup();
    Ok(v)
}

/// Distance (km) from a point to a segment, on a local equirectangular plane about the
/// point (good to well under 1% over tens of km).
fn point_segment_km(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    const KM_PER_DEG: f64 = 111.195;
    let k = p.1.to_radians().cos();
    let to = |q: (f64, f64)| ((q.0 - p.0) * k * KM_PER_DEG, (q.1 - p.1) * KM_PER_DEG);
    let (ax, ay) = to(a);
    let (bx, by) = to(b);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    (ax + t * dx).hypot(ay + t * dy)
}

/// The strike of `trace` near the epicentre (lon, lat): see the module doc.
pub fn strike_near(trace: &FaultTrace, lon: f64, lat: f64) -> Option<Strike> {
    let mut nearest: Option<(f64, f64, f64)> = None; // (distance, azimuth, length)
    let (mut sx, mut sy, mut used) = (0.0, 0.0, 0.0);
    for line in &trace.lines {
        for w in line.windows(2) {
            let (len, az) = distance_azimuth(w[0].0, w[0].1, w[1].0, w[1].1);
            if len <= 0.0 {
                continue;
            }
            let d = point_segment_km((lon, lat), w[0], w[1]);
            if nearest.is_none_or(|n| d < n.0) {
                nearest = Some((d, az, len));
            }
            if d <= STRIKE_RADIUS_KM {
                let t = (2.0 * az).to_radians();
                sx += len * t.cos();
                sy += len * t.sin();
                used += len;
            }
        }
    }
    let (dist, az_near, len_near) = nearest?;
    let (strike, used) = if used > 0.0 && sx.hypot(sy) > 1e-9 {
        (sy.atan2(sx).to_degrees() / 2.0, used)
    } else {
        (az_near, len_near)
    };
    Some(Strike {
        strike_deg: strike.rem_euclid(180.0),
        distance_km: dist,
        length_used_km: used,
    })
}
