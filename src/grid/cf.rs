//! CF-1.8 netCDF time series of grids (rain fields, flood depths over time), written so
//! that xarray/rioxarray, QGIS and GDAL open them with the right georeference.
//!
//! Layout written by [`write_cf`]:
//! - dimensions `time`, `y`, `x` (projected CRS) or `time`, `lat`, `lon` (geographic);
//!   a 2-D variable without `time` when the series has no times;
//! - coordinate variables at cell centres, `x`/`y` with `standard_name`
//!   `projection_x_coordinate`/`projection_y_coordinate` in metres, or `lon`/`lat` in
//!   `degrees_east`/`degrees_north`; `y` increases northward (bottom-up storage, as GDAL
//!   itself writes netCDF), rows are flipped back on reading;
//! - `time` with `units` (e.g. `seconds since 2023-07-29 00:00:00`), `calendar =
//!   "standard"`, `standard_name = "time"`;
//! - a `crs` grid-mapping variable with `crs_wkt` and `spatial_ref` (read by GDAL and
//!   rioxarray), `GeoTransform` (GDAL's six numbers, exact round trip), and the CF
//!   `grid_mapping_name` with its parameters for transverse Mercator (UTM) and
//!   latitude–longitude CRSs;
//! - the data variable, `float` (time, y, x), `_FillValue = NaN`, `grid_mapping =
//!   "crs"`, `units`, `long_name`; DEFLATE level 4 with shuffle, one chunk per time step;
//! - global `Conventions = "CF-1.8"`, `title`, `history`, `source`.
//!
//! # Reference
//! CF Metadata Conventions 1.8, <https://cfconventions.org/Data/cf-conventions/cf-conventions-1.8/cf-conventions.html>,
//! sections 4 (coordinate types) and 5.6 (grid mappings).

use super::io::{self, netcdf_lock, spatial_ref, write_atomically};
use super::warp::GridSpec;
use super::{GeoTransform, Grid};
use crate::{Error, Result};
use ndarray::{s, Array2, Array3};
use netcdf::AttributeValue;
use std::path::Path;

/// A time series of grids on one [`GridSpec`], with CF metadata.
#[derive(Debug, Clone)]
pub struct CfSeries {
    /// Shape, transform and CRS of every layer.
    pub spec: GridSpec,
    /// Time of each layer in `time_units`; empty for a single layer without a time axis.
    pub times: Vec<f64>,
    /// CF time units, e.g. `"seconds since 2023-07-29 00:00:00"`.
    pub time_units: String,
    /// Variable name, e.g. `"rain_mm"`.
    pub name: String,
    /// Units of the values (UDUNITS), e.g. `"mm"` or `"m"`.
    pub units: String,
    /// Human-readable description, also used as the file's title.
    pub long_name: String,
    /// Values (time, row, col), row 0 at the north edge; `NaN` = missing.
    pub data: Array3<f32>,
}

impl CfSeries {
    /// Number of layers (time steps; 1 for a series without times).
    pub fn len(&self) -> usize {
        self.data.len_of(ndarray::Axis(0))
    }

    /// True when the series has no layer.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Layer `t` as a grid (nodata None, missing cells `NaN`); panics when `t` ≥ len.
    pub fn layer(&self, t: usize) -> Grid<f32> {
        Grid::new(
            self.data.slice(s![t, .., ..]).to_owned(),
            self.spec.transform,
            self.spec.crs_wkt.clone(),
            None,
        )
    }

    /// A series from grids aligned with the first one; `times` empty for a single layer
    /// without a time axis.
    pub fn from_grids(
        grids: &[&Grid<f32>],
        times: Vec<f64>,
        time_units: &str,
        name: &str,
        units: &str,
        long_name: &str,
    ) -> Result<CfSeries> {
        let Some(first) = grids.first() else {
            return Err(Error::Data(format!("CF series `{name}`: no grids given")));
        };
        let mut data = Array3::from_elem((grids.len(), first.rows(), first.cols()), f32::NAN);
        for (i, g) in grids.iter().enumerate() {
            first.check_aligned(g, &format!("layer {i} of CF series `{name}`"))?;
            data.slice_mut(s![i, .., ..]).assign(&g.data);
        }
        Ok(CfSeries {
            spec: GridSpec::of(first),
            times,
            time_units: time_units.to_string(),
            name: name.to_string(),
            units: units.to_string(),
            long_name: long_name.to_string(),
            data,
        })
    }
}

/// A netCDF error on `path` with context.
fn nc_err(path: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::NetCdf {
        path: path.to_path_buf(),
        message: format!("{what}: {e}"),
    }
}

/// CF grid-mapping attributes for the CRS (besides `crs_wkt`/`spatial_ref`).
fn grid_mapping_attrs(wkt: &str) -> Result<Vec<(&'static str, AttributeValue)>> {
    let srs = spatial_ref(wkt)?;
    let mut attrs: Vec<(&'static str, AttributeValue)> = Vec::new();
    if let (Ok(a), Ok(b)) = (srs.semi_major(), srs.semi_minor()) {
        attrs.push(("semi_major_axis", a.into()));
        if a > b {
            attrs.push(("inverse_flattening", (a / (a - b)).into()));
        } else {
            attrs.push(("semi_minor_axis", b.into()));
        }
        attrs.push(("longitude_of_prime_meridian", 0.0f64.into()));
    }
    if srs.is_geographic() {
        attrs.push(("grid_mapping_name", "latitude_longitude".into()));
    } else if srs.is_projected() {
        let proj = srs
            .get_attr_value("PROJECTION", 0)
            .ok()
            .flatten()
            .unwrap_or_default();
        if proj.eq_ignore_ascii_case("Transverse_Mercator") {
            let p = |name: &str, default: f64| {
                srs.get_proj_param(name).ok().flatten().unwrap_or(default)
            };
            attrs.push(("grid_mapping_name", "transverse_mercator".into()));
            attrs.push((
                "longitude_of_central_meridian",
                p("central_meridian", 0.0).into(),
            ));
            attrs.push((
                "latitude_of_projection_origin",
                p("latitude_of_origin", 0.0).into(),
            ));
            attrs.push((
                "scale_factor_at_central_meridian",
                p("scale_factor", 1.0).into(),
            ));
            attrs.push(("false_easting", p("false_easting", 0.0).into()));
            attrs.push(("false_northing", p("false_northing", 0.0).into()));
        }
    }
    if let Some(code) = io::epsg_code(wkt) {
        attrs.push(("epsg_code", format!("EPSG:{code}").into()));
    }
    Ok(attrs)
}

/// Writes a series as a CF-1.8 netCDF-4 file (layout in the module docs), atomically.
pub fn write_cf(series: &CfSeries, path: &Path) -> Result<()> {
    let spec = &series.spec;
    let (nt, rows, cols) = series.data.dim();
    let layers = if series.times.is_empty() {
        1
    } else {
        series.times.len()
    };
    if (nt, rows, cols) != (layers, spec.rows, spec.cols) {
        return Err(Error::Data(format!(
            "{}: CF series `{}` has data of shape {:?} but {} times and a {} x {} grid",
            path.display(),
            series.name,
            series.data.dim(),
            series.times.len(),
            spec.rows,
            spec.cols
        )));
    }
    if !series.times.is_empty() && !series.time_units.contains(" since ") {
        return Err(Error::Data(format!(
            "{}: time units `{}` are not CF units; use e.g. \"seconds since 2023-07-29 00:00:00\"",
            path.display(),
            series.time_units
        )));
    }
    if rows == 0 || cols == 0 {
        return Err(Error::Data(format!(
            "{}: cannot write an empty grid",
            path.display()
        )));
    }
    let srs = spatial_ref(&spec.crs_wkt)?;
    let geographic = srs.is_geographic();
    let gm_attrs = grid_mapping_attrs(&spec.crs_wkt)?;
    let (xname, yname) = if geographic {
        ("lon", "lat")
    } else {
        ("x", "y")
    };
    let t = spec.transform;
    let xs: Vec<f64> = (0..cols).map(|c| t.x0 + (c as f64 + 0.5) * t.dx).collect();
    // Bottom-up: y[0] is the southernmost row (grid row rows-1 for north-up grids).
    let north_up = t.dy < 0.0;
    let ys: Vec<f64> = (0..rows)
        .map(|i| {
            let r = if north_up { rows - 1 - i } else { i };
            t.y0 + (r as f64 + 0.5) * t.dy
        })
        .collect();
    let mut values = Vec::with_capacity(nt * rows * cols);
    for k in 0..nt {
        for i in 0..rows {
            let r = if north_up { rows - 1 - i } else { i };
            values.extend(series.data.slice(s![k, r, ..]).iter().copied());
        }
    }
    let gt = t.to_gdal().map(|v| v.to_string()).join(" ");

    let _guard = netcdf_lock();
    write_atomically(path, |tmp| {
        // Errors name the file where it would be installed, not its temporary name.
        let shown = crate::outdir::installed_path(path);
        let e = |what: &str, err: netcdf::Error| nc_err(&shown, what, err);
        let mut f = netcdf::create(tmp).map_err(|err| e("cannot create netCDF file", err))?;
        f.add_attribute("Conventions", "CF-1.8")
            .map_err(|err| e("attribute", err))?;
        f.add_attribute("title", series.long_name.as_str())
            .map_err(|err| e("attribute", err))?;
        f.add_attribute(
            "history",
            format!("written by haihe-resilience {}", env!("CARGO_PKG_VERSION")),
        )
        .map_err(|err| e("attribute", err))?;
        f.add_attribute(
            "source",
            "haihe-resilience flood, earthquake and lifeline risk model",
        )
        .map_err(|err| e("attribute", err))?;
        let with_time = !series.times.is_empty();
        if with_time {
            f.add_dimension("time", nt)
                .map_err(|err| e("dimension time", err))?;
        }
        f.add_dimension(yname, rows)
            .map_err(|err| e("dimension y", err))?;
        f.add_dimension(xname, cols)
            .map_err(|err| e("dimension x", err))?;

        if with_time {
            let mut v = f
                .add_variable::<f64>("time", &["time"])
                .map_err(|err| e("variable time", err))?;
            for (k, val) in [
                ("standard_name", "time"),
                ("long_name", "time"),
                ("units", series.time_units.as_str()),
                ("calendar", "standard"),
                ("axis", "T"),
            ] {
                v.put_attribute(k, val)
                    .map_err(|err| e("time attribute", err))?;
            }
            v.put_values(&series.times, ..)
                .map_err(|err| e("time values", err))?;
        }
        let (xstd, ystd, xunits, yunits, xlong, ylong) = if geographic {
            (
                "longitude",
                "latitude",
                "degrees_east",
                "degrees_north",
                "longitude",
                "latitude",
            )
        } else {
            (
                "projection_x_coordinate",
                "projection_y_coordinate",
                "m",
                "m",
                "x coordinate of projection (cell centre)",
                "y coordinate of projection (cell centre)",
            )
        };
        for (name, std, units, long, axis, vals) in [
            (xname, xstd, xunits, xlong, "X", &xs),
            (yname, ystd, yunits, ylong, "Y", &ys),
        ] {
            let mut v = f
                .add_variable::<f64>(name, &[name])
                .map_err(|err| e("coordinate variable", err))?;
            for (k, val) in [
                ("standard_name", std),
                ("long_name", long),
                ("units", units),
                ("axis", axis),
            ] {
                v.put_attribute(k, val)
                    .map_err(|err| e("coordinate attribute", err))?;
            }
            v.put_values(vals, ..)
                .map_err(|err| e("coordinate values", err))?;
        }
        {
            let mut v = f
                .add_variable::<i32>("crs", &[])
                .map_err(|err| e("variable crs", err))?;
            v.put_attribute("crs_wkt", spec.crs_wkt.as_str())
                .map_err(|err| e("crs attribute", err))?;
            v.put_attribute("spatial_ref", spec.crs_wkt.as_str())
                .map_err(|err| e("crs attribute", err))?;
            v.put_attribute("GeoTransform", gt.as_str())
                .map_err(|err| e("crs attribute", err))?;
            for (k, val) in &gm_attrs {
                v.put_attribute(k, val.clone())
                    .map_err(|err| e("crs attribute", err))?;
            }
            v.put_value(0i32, ()).map_err(|err| e("crs value", err))?;
        }
        {
            let dims: Vec<&str> = if with_time {
                vec!["time", yname, xname]
            } else {
                vec![yname, xname]
            };
            let mut v = f
                .add_variable::<f32>(&series.name, &dims)
                .map_err(|err| e(&format!("variable `{}`", series.name), err))?;
            let chunk: Vec<usize> = if with_time {
                vec![1, rows, cols]
            } else {
                vec![rows, cols]
            };
            v.set_chunking(&chunk).map_err(|err| e("chunking", err))?;
            v.set_compression(4, true)
                .map_err(|err| e("compression", err))?;
            v.set_fill_value(f32::NAN)
                .map_err(|err| e("_FillValue", err))?;
            for (k, val) in [
                ("long_name", series.long_name.as_str()),
                ("units", series.units.as_str()),
                ("grid_mapping", "crs"),
            ] {
                v.put_attribute(k, val)
                    .map_err(|err| e("data attribute", err))?;
            }
            v.put_values(&values, ..)
                .map_err(|err| e("data values", err))?;
        }
        f.close().map_err(|err| e("cannot finish the file", err))?;
        verify_cf(tmp, path, series, (xname, yname))
    })
}

/// Reopens a netCDF file just written to `tmp` (to be renamed to `path`): its dimensions
/// must be those written and the last layer of the data variable must read back, so a
/// file cut short by a failed write (a full disk, a file-size limit) is never kept.
/// Called with the netCDF lock held.
fn verify_cf(
    tmp: &Path,
    path: &Path,
    series: &CfSeries,
    (xname, yname): (&str, &str),
) -> Result<()> {
    let bad = |m: String| {
        Error::NetCdf {
        path: crate::outdir::installed_path(path),
        message: format!(
            "the file written does not read back ({m}); nothing was kept. Check the free space and any file-size limit (ulimit -f)"
        ),
    }
    };
    let f = netcdf::open(tmp).map_err(|e| bad(e.to_string()))?;
    let (nt, rows, cols) = series.data.dim();
    let mut want = vec![(yname, rows), (xname, cols)];
    if !series.times.is_empty() {
        want.push(("time", nt));
    }
    for (name, n) in want {
        let got = f.dimension(name).map(|d| d.len());
        if got != Some(n) {
            return Err(bad(format!(
                "dimension `{name}` is {got:?}, {n} was written"
            )));
        }
    }
    let v = f
        .variable(&series.name)
        .ok_or_else(|| bad(format!("no variable `{}`", series.name)))?;
    let last = if series.times.is_empty() {
        v.get_values::<f32, _>(..)
    } else {
        v.get_values::<f32, _>((nt - 1, .., ..))
    };
    let last = last.map_err(|e| bad(format!("variable `{}`: {e}", series.name)))?;
    if last.len() != rows * cols {
        return Err(bad(format!(
            "{} values in the last layer, {} were written",
            last.len(),
            rows * cols
        )));
    }
    Ok(())
}

/// An attribute of a variable as text, if present and textual.
fn attr_str(var: &netcdf::Variable, name: &str) -> Option<String> {
    match var.attribute_value(name)?.ok()? {
        AttributeValue::Str(s) => Some(s),
        AttributeValue::Strs(v) => Some(v.join("")),
        _ => None,
    }
}

/// An attribute of a variable as a number, if present and numeric.
fn attr_f64(var: &netcdf::Variable, name: &str) -> Option<f64> {
    let v = var.attribute_value(name)?.ok()?;
    f64::try_from(v).ok()
}

/// Cell edges of a regular axis of centres: (first edge, signed step).
fn axis_step(path: &Path, name: &str, c: &[f64]) -> Result<(f64, f64)> {
    if c.len() < 2 {
        return Err(nc_err(
            path,
            &format!("coordinate `{name}`"),
            "fewer than 2 values and no GeoTransform attribute on the grid mapping: cannot tell the cell size",
        ));
    }
    let step = (c[c.len() - 1] - c[0]) / (c.len() - 1) as f64;
    let irregular = c
        .windows(2)
        .any(|w| ((w[1] - w[0]) - step).abs() > 1e-3 * step.abs());
    if step == 0.0 || irregular {
        return Err(nc_err(
            path,
            &format!("coordinate `{name}`"),
            "the values are not evenly spaced; regrid to a regular grid (cdo remapbil or gdalwarp)",
        ));
    }
    Ok((c[0] - step / 2.0, step))
}

/// Reads variable `var` of a CF netCDF file as a series (inverse of [`write_cf`]); also
/// reads 2-D variables without a time axis (times empty, one layer). `_FillValue` and
/// `missing_value` cells become `NaN`; `scale_factor`/`add_offset` are applied.
pub fn read_cf(path: &Path, var: &str) -> Result<CfSeries> {
    io::check_exists(path, "a netCDF file")?;
    let _guard = netcdf_lock();
    let f = netcdf::open(path).map_err(|e| nc_err(path, "cannot open as netCDF", e))?;
    let Some(v) = f.variable(var) else {
        let names: Vec<String> = f.variables().map(|v| v.name()).collect();
        return Err(Error::NetCdf {
            path: path.to_path_buf(),
            message: format!("no variable `{var}`; the file has: {}", names.join(", ")),
        });
    };
    let dims: Vec<(String, usize)> = v.dimensions().iter().map(|d| (d.name(), d.len())).collect();
    let (tdim, ydim, xdim) = match dims.as_slice() {
        [t, y, x] => (Some(t.clone()), y.clone(), x.clone()),
        [y, x] => (None, y.clone(), x.clone()),
        _ => {
            return Err(nc_err(
                path,
                &format!("variable `{var}`"),
                format!(
                    "has dimensions {:?}; expected (time, y, x) or (y, x)",
                    dims.iter().map(|d| &d.0).collect::<Vec<_>>()
                ),
            ))
        }
    };
    let coord = |name: &str| -> Result<Vec<f64>> {
        let c = f.variable(name).ok_or_else(|| {
            nc_err(
                path,
                &format!("variable `{var}`"),
                format!("dimension `{name}` has no coordinate variable"),
            )
        })?;
        c.get_values::<f64, _>(..)
            .map_err(|e| nc_err(path, &format!("coordinate `{name}`"), e))
    };
    let (times, time_units) = match &tdim {
        Some((tname, _)) => {
            let tv = f.variable(tname).ok_or_else(|| {
                nc_err(
                    path,
                    &format!("variable `{var}`"),
                    format!("its first dimension `{tname}` has no time coordinate variable; add one with CF time units"),
                )
            })?;
            let units = attr_str(&tv, "units")
                .filter(|u| u.contains(" since "))
                .ok_or_else(|| {
                    nc_err(
                        path,
                        &format!("time coordinate `{tname}`"),
                        "missing or non-CF `units` attribute; expected e.g. \"seconds since 2023-07-29 00:00:00\"",
                    )
                })?;
            (coord(tname)?, units)
        }
        None => (Vec::new(), String::new()),
    };
    let xs = coord(&xdim.0)?;
    let ys = coord(&ydim.0)?;
    let (rows, cols) = (ydim.1, xdim.1);

    // CRS from the grid mapping variable.
    let gm =
        attr_str(&v, "grid_mapping").and_then(|name| f.variable(name.split_whitespace().next()?));
    let wkt = gm
        .as_ref()
        .and_then(|g| attr_str(g, "crs_wkt").or_else(|| attr_str(g, "spatial_ref")))
        .filter(|w| !w.trim().is_empty());
    let crs_wkt = match wkt {
        Some(w) => w,
        None if matches!(xdim.0.as_str(), "lon" | "longitude") => io::epsg_wkt(4326)?,
        None => {
            return Err(Error::NoCrs {
                path: path.to_path_buf(),
            })
        }
    };

    // Transform: the exact GeoTransform attribute when it agrees with the coordinates.
    let (ex0, sx) = axis_step(path, &xdim.0, &xs).or_else(|e| {
        if xs.len() == 1 {
            Ok((f64::NAN, f64::NAN))
        } else {
            Err(e)
        }
    })?;
    let (ey0, sy) = axis_step(path, &ydim.0, &ys).or_else(|e| {
        if ys.len() == 1 {
            Ok((f64::NAN, f64::NAN))
        } else {
            Err(e)
        }
    })?;
    let y_up = ys.len() >= 2 && ys[ys.len() - 1] > ys[0];
    let from_gt = gm
        .as_ref()
        .and_then(|g| attr_str(g, "GeoTransform"))
        .and_then(|s| {
            let n: Vec<f64> = s
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            <[f64; 6]>::try_from(n).ok()
        })
        .and_then(|gt| GeoTransform::from_gdal(gt).ok());
    let from_coords = (sx.is_finite() && sy.is_finite()).then(|| {
        let dy = -sy.abs();
        let top = if y_up {
            ys[ys.len() - 1] + sy / 2.0
        } else {
            ey0
        };
        GeoTransform {
            x0: ex0,
            dx: sx,
            y0: top,
            dy,
        }
    });
    let transform =
        match (from_gt, from_coords) {
            (Some(g), Some(c)) if g.approx_eq(&c) => g,
            (Some(g), None) => g,
            (_, Some(c)) => c,
            (None, None) => return Err(nc_err(
                path,
                &format!("variable `{var}`"),
                "cannot tell the cell size: a single row or column and no GeoTransform attribute",
            )),
        };

    let mut raw = v
        .get_values::<f64, _>(..)
        .map_err(|e| nc_err(path, &format!("variable `{var}`"), e))?;
    let fill = attr_f64(&v, "_FillValue");
    let missing = attr_f64(&v, "missing_value");
    let scale = attr_f64(&v, "scale_factor").unwrap_or(1.0);
    let offset = attr_f64(&v, "add_offset").unwrap_or(0.0);
    for x in raw.iter_mut() {
        let is_missing = [fill, missing]
            .iter()
            .flatten()
            .any(|&m| *x == m || (m.is_nan() && x.is_nan()) || (*x as f32) == (m as f32));
        *x = if is_missing {
            f64::NAN
        } else {
            *x * scale + offset
        };
    }
    let nt = raw.len() / (rows * cols).max(1);
    let mut data = Array3::from_shape_vec(
        (nt, rows, cols),
        raw.into_iter().map(|x| x as f32).collect(),
    )
    .map_err(|e| nc_err(path, &format!("variable `{var}`"), e))?;
    if y_up {
        data.invert_axis(ndarray::Axis(1));
        data = data.as_standard_layout().into_owned();
    }
    Ok(CfSeries {
        spec: GridSpec {
            transform,
            rows,
            cols,
            crs_wkt,
        },
        times,
        time_units,
        name: var.to_string(),
        units: attr_str(&v, "units").unwrap_or_default(),
        long_name: attr_str(&v, "long_name").unwrap_or_default(),
        data,
    })
}

/// Layer `t` of a series as an f64 grid with `NaN` for missing cells.
pub fn layer_f64(series: &CfSeries, t: usize) -> Grid<f64> {
    let a: Array2<f64> = series.data.slice(s![t, .., ..]).mapv(f64::from);
    Grid::new(a, series.spec.transform, series.spec.crs_wkt.clone(), None)
}
