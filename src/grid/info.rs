//! A `gdalinfo`-like summary of a raster, for `haihe info`: driver, size, CRS with its
//! EPSG code, extent, cell size with units, no-data value, and per-band statistics
//! computed exactly over every cell (not GDAL's approximate statistics).

use super::io::{self, georeference, is_nodata, netcdf_lock_for, open_raster};
use crate::Result;
use gdal::spatial_ref::SpatialRef;
use gdal::Metadata;
use std::fmt::Write;
use std::path::Path;

/// Exact statistics of a band's valid cells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandStats {
    /// Smallest valid value (NaN when there is none).
    pub min: f64,
    /// Largest valid value.
    pub max: f64,
    /// Mean of the valid values.
    pub mean: f64,
    /// Population standard deviation of the valid values.
    pub std: f64,
    /// Number of valid cells.
    pub valid: usize,
    /// Number of no-data (or NaN) cells.
    pub nodata: usize,
}

/// Statistics of `values`, leaving out `NaN` and cells equal to `nodata`.
pub fn band_stats(values: impl IntoIterator<Item = f64>, nodata: Option<f64>) -> BandStats {
    let (mut n, mut bad) = (0usize, 0usize);
    let (mut min, mut max, mut mean, mut m2) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0);
    for v in values {
        if v.is_nan() || nodata.is_some_and(|nd| v == nd) {
            bad += 1;
            continue;
        }
        // Welford's running mean and variance.
        n += 1;
        let d = v - mean;
        mean += d / n as f64;
        m2 += d * (v - mean);
        min = min.min(v);
        max = max.max(v);
    }
    if n == 0 {
        return BandStats {
            min: f64::NAN,
            max: f64::NAN,
            mean: f64::NAN,
            std: f64::NAN,
            valid: 0,
            nodata: bad,
        };
    }
    BandStats {
        min,
        max,
        mean,
        std: (m2 / n as f64).sqrt(),
        valid: n,
        nodata: bad,
    }
}

/// A human-readable summary of a raster (any GDAL raster, e.g. a GeoTIFF or
/// `NETCDF:"file.nc":var`): driver, size, CRS and EPSG code, extent, cell size, no-data
/// and per-band min, max, mean, standard deviation, valid and no-data cell counts.
pub fn describe(path: &Path) -> Result<String> {
    let _guard = netcdf_lock_for(path);
    let ds = open_raster(path)?;
    let mut s = String::new();
    let driver = ds.driver();
    let (cols, rows) = ds.raster_size();
    let bands = ds.raster_count();
    // Writing to a String cannot fail.
    let _ = writeln!(s, "File:      {}", path.display());
    let _ = writeln!(
        s,
        "Driver:    {} ({})",
        driver.short_name(),
        driver.long_name()
    );
    let _ = writeln!(
        s,
        "Size:      {cols} x {rows} cells (cols x rows), {bands} band{}",
        if bands == 1 { "" } else { "s" }
    );
    let wkt = ds.projection();
    let mut units = String::from("CRS units");
    if wkt.trim().is_empty() {
        let _ = writeln!(s, "CRS:       none (assign one with gdal_edit.py -a_srs)");
    } else {
        let srs = SpatialRef::from_wkt(&wkt).ok();
        let name = srs
            .as_ref()
            .and_then(|r| r.name())
            .unwrap_or_else(|| "unnamed".into());
        let code = io::epsg_code(&wkt)
            .map(|c| format!("EPSG:{c}"))
            .unwrap_or_else(|| "no EPSG code".into());
        let _ = writeln!(s, "CRS:       {name} ({code})");
        if let Some(r) = &srs {
            units = if r.is_geographic() {
                "degrees".into()
            } else {
                match r.linear_units_name().as_deref() {
                    Some("metre") | Some("meter") | None => "m".into(),
                    Some(u) => u.to_string(),
                }
            };
        }
    }
    match georeference(&ds, path).map(|(t, _)| t).or_else(|_| {
        ds.geo_transform()
            .map_err(|e| crate::Error::gdal(path, e))
            .and_then(super::GeoTransform::from_gdal)
    }) {
        Ok(t) => {
            let x1 = t.x0 + cols as f64 * t.dx;
            let y1 = t.y0 + rows as f64 * t.dy;
            let _ = writeln!(
                s,
                "Extent:    x {} .. {}, y {} .. {} ({units})",
                t.x0.min(x1),
                t.x0.max(x1),
                t.y0.min(y1),
                t.y0.max(y1)
            );
            let _ = writeln!(s, "Cell size: {} x {} {units}", t.dx.abs(), t.dy.abs());
        }
        Err(_) => {
            let _ = writeln!(s, "Extent:    unknown (no geotransform)");
        }
    }
    for i in 1..=bands {
        let band = ds.rasterband(i).map_err(|e| crate::Error::gdal(path, e))?;
        let nd = band.no_data_value();
        let bt = band.band_type();
        let desc = band.description().unwrap_or_default();
        let values = band
            .read_band_as::<f64>()
            .map_err(|e| crate::Error::gdal(path, format!("cannot read band {i}: {e}")))?;
        let st = band_stats(
            values.data().iter().map(|&v| match nd {
                Some(n) if is_nodata(v, n, bt) => f64::NAN,
                _ => v,
            }),
            None,
        );
        let _ = writeln!(
            s,
            "Band {i}{}: type {}, no-data {}",
            if desc.is_empty() {
                String::new()
            } else {
                format!(" \"{desc}\"")
            },
            bt.name(),
            nd.map(|v| v.to_string()).unwrap_or_else(|| "none".into())
        );
        let _ = writeln!(
            s,
            "  min {} max {} mean {} std {}; valid cells {}, no-data cells {}",
            fmt_num(st.min),
            fmt_num(st.max),
            fmt_num(st.mean),
            fmt_num(st.std),
            st.valid,
            st.nodata
        );
    }
    Ok(s)
}

/// A number with up to 6 significant decimals, plainly.
fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        return "n/a".into();
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}
