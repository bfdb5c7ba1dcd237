//! Crop, resample and reproject grids through GDAL's warper.
//!
//! [`warp`] and [`warp_files`] resample a source onto a target [`GridSpec`] (shape,
//! transform and CRS) with GDAL's warp kernel (`GDALChunkAndWarpImage`, the engine of
//! `gdalwarp`), choosing nearest neighbour, bilinear, average or mode resampling. `NaN`
//! (or the file's no-data value) marks source cells without data: they are left out of
//! the resampling, never spread; target cells the source does not cover are `NaN`.
//!
//! [`GridSpec::covering_lonlat`] builds the model grid over a longitude/latitude box;
//! [`crop`] and [`crop_to_extent`] cut windows; [`transform_points`] reprojects
//! coordinates (x = longitude, y = latitude for geographic CRSs); [`coverage`] tells how
//! much of a target a source covers, so that callers can refuse a DEM that misses the
//! domain.
//!
//! # Reference
//! GDAL warp API, <https://gdal.org/tutorials/warp_tut.html>.

use super::io::{self, netcdf_lock_for, open_raster, spatial_ref};
use super::{GeoTransform, Grid};
use crate::{Error, Result};
use gdal::raster::{Buffer, GdalDataType};
use gdal::spatial_ref::CoordTransform;
use gdal::{Dataset, DriverManager};
use ndarray::{s, Array2};
use std::ffi::{c_int, CString};
use std::path::PathBuf;

/// The shape, transform and CRS of a grid, without its values: the target of a warp,
/// the template of a new grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridSpec {
    /// Where the grid sits.
    pub transform: GeoTransform,
    /// Number of rows (north–south).
    pub rows: usize,
    /// Number of columns (west–east).
    pub cols: usize,
    /// Coordinate reference system as WKT.
    pub crs_wkt: String,
}

impl GridSpec {
    /// The spec of an existing grid.
    pub fn of<T>(grid: &Grid<T>) -> Self {
        GridSpec {
            transform: grid.transform,
            rows: grid.rows(),
            cols: grid.cols(),
            crs_wkt: grid.crs_wkt.clone(),
        }
    }

    /// A grid on this spec with every cell set to `value`.
    pub fn filled<T: Clone>(&self, value: T, nodata: Option<f64>) -> Grid<T> {
        Grid::new(
            Array2::from_elem((self.rows, self.cols), value),
            self.transform,
            self.crs_wkt.clone(),
            nodata,
        )
    }

    /// (xmin, ymin, xmax, ymax) of the grid's outer edges, in CRS units.
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        let t = &self.transform;
        let x1 = t.x0 + self.cols as f64 * t.dx;
        let y1 = t.y0 + self.rows as f64 * t.dy;
        (t.x0.min(x1), t.y0.min(y1), t.x0.max(x1), t.y0.max(y1))
    }

    /// Cell width in CRS units (m for the model grids).
    pub fn cell_size(&self) -> f64 {
        self.transform.dx.abs()
    }

    /// True when `other` has the same shape, transform (to a millionth of a cell) and CRS.
    pub fn is_aligned(&self, other: &GridSpec) -> bool {
        self.rows == other.rows
            && self.cols == other.cols
            && self.transform.approx_eq(&other.transform)
            && io::same_crs(&self.crs_wkt, &other.crs_wkt)
    }

    /// The projected grid (EPSG code `epsg`, square cells of `cell_m` metres) that covers
    /// the longitude/latitude box (WGS 84 degrees): the box edges, densified to 100
    /// points each, are transformed to the CRS and their bounding box is snapped outward
    /// to whole multiples of `cell_m`.
    pub fn covering_lonlat(
        lon_min: f64,
        lat_min: f64,
        lon_max: f64,
        lat_max: f64,
        epsg: u32,
        cell_m: f64,
    ) -> Result<GridSpec> {
        if !(lon_min < lon_max && lat_min < lat_max) {
            return Err(Error::Data(format!(
                "empty longitude/latitude box {lon_min}..{lon_max} E, {lat_min}..{lat_max} N: give min < max"
            )));
        }
        if !(cell_m > 0.0 && cell_m.is_finite()) {
            return Err(Error::Data(format!(
                "cell size {cell_m} m must be positive"
            )));
        }
        const N: usize = 100;
        let mut pts = Vec::with_capacity(4 * N);
        for i in 0..N {
            let f = i as f64 / N as f64;
            let lon = lon_min + f * (lon_max - lon_min);
            let lat = lat_min + f * (lat_max - lat_min);
            pts.push((lon, lat_min));
            pts.push((lon_max, lat));
            pts.push((lon_max - f * (lon_max - lon_min), lat_max));
            pts.push((lon_min, lat_max - f * (lat_max - lat_min)));
        }
        let to = io::epsg_wkt(epsg)?;
        let from = io::epsg_wkt(4326)?;
        let xy = transform_points(&pts, &from, &to)?;
        let (mut xmin, mut ymin, mut xmax, mut ymax) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in xy {
            xmin = xmin.min(x);
            ymin = ymin.min(y);
            xmax = xmax.max(x);
            ymax = ymax.max(y);
        }
        let x0 = (xmin / cell_m).floor() * cell_m;
        let x1 = (xmax / cell_m).ceil() * cell_m;
        let y0 = (ymin / cell_m).floor() * cell_m;
        let y1 = (ymax / cell_m).ceil() * cell_m;
        Ok(GridSpec {
            transform: GeoTransform {
                x0,
                dx: cell_m,
                y0: y1,
                dy: -cell_m,
            },
            rows: ((y1 - y0) / cell_m).round() as usize,
            cols: ((x1 - x0) / cell_m).round() as usize,
            crs_wkt: to,
        })
    }
}

/// How to compute a target cell from the source cells under it (GDAL resampling).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Resample {
    /// The source cell under the target cell's centre (categories, codes).
    Nearest,
    /// Bilinear interpolation of the four nearest source cells (smooth fields, upsampling).
    Bilinear,
    /// Area-weighted mean of the valid source cells under the target cell (downsampling
    /// continuous fields such as elevation).
    Average,
    /// The most frequent source value under the target cell (downsampling categories).
    Mode,
}

impl Resample {
    fn to_gdal(self) -> gdal_sys::GDALResampleAlg::Type {
        use gdal_sys::GDALResampleAlg::*;
        match self {
            Resample::Nearest => GRA_NearestNeighbour,
            Resample::Bilinear => GRA_Bilinear,
            Resample::Average => GRA_Average,
            Resample::Mode => GRA_Mode,
        }
    }
}

/// A GDAL error for in-memory work (no file involved).
fn mem_err(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Data(format!("GDAL {what}: {e}"))
}

/// An in-memory Float64 dataset on `spec`, filled with `data` or with `NaN`, no-data NaN.
fn mem_dataset(spec: &GridSpec, data: Option<&Array2<f64>>) -> Result<Dataset> {
    if spec.crs_wkt.trim().is_empty() {
        return Err(Error::Data(
            "grid has no CRS: assign one (e.g. io::epsg_wkt(32650)) before warping".into(),
        ));
    }
    if spec.rows == 0 || spec.cols == 0 {
        return Err(Error::Data("cannot warp an empty grid".into()));
    }
    let driver = DriverManager::get_driver_by_name("MEM").map_err(|e| mem_err("MEM driver", e))?;
    let mut ds = driver
        .create_with_band_type::<f64, _>("", spec.cols, spec.rows, 1)
        .map_err(|e| mem_err("create in-memory raster", e))?;
    ds.set_geo_transform(&spec.transform.to_gdal())
        .map_err(|e| mem_err("set transform", e))?;
    ds.set_projection(&spec.crs_wkt)
        .map_err(|e| mem_err(&format!("set CRS {}", io::short(&spec.crs_wkt)), e))?;
    {
        let mut band = ds.rasterband(1).map_err(|e| mem_err("band", e))?;
        band.set_no_data_value(Some(f64::NAN))
            .map_err(|e| mem_err("set no-data", e))?;
        match data {
            Some(a) => {
                let v: Vec<f64> = a.iter().copied().collect();
                band.write(
                    (0, 0),
                    (spec.cols, spec.rows),
                    &mut Buffer::new((spec.cols, spec.rows), v),
                )
                .map_err(|e| mem_err("write", e))?;
            }
            None => band.fill(f64::NAN, None).map_err(|e| mem_err("fill", e))?,
        }
    }
    Ok(ds)
}

/// Reads band 1 of an in-memory dataset.
fn mem_read(ds: &Dataset) -> Result<Array2<f64>> {
    ds.rasterband(1)
        .and_then(|b| b.read_band_as::<f64>())
        .and_then(|b| b.to_array())
        .map_err(|e| mem_err("read", e))
}

/// Owns the C objects of one warp and frees them on every path.
struct WarpResources {
    options: *mut gdal_sys::GDALWarpOptions,
    transformer: *mut std::ffi::c_void,
    operation: gdal_sys::GDALWarpOperationH,
}

impl Drop for WarpResources {
    fn drop(&mut self) {
        // SAFETY: each pointer is either null or was created by the matching GDAL call
        // and is freed exactly once here.
        unsafe {
            if !self.operation.is_null() {
                gdal_sys::GDALDestroyWarpOperation(self.operation);
            }
            if !self.transformer.is_null() {
                gdal_sys::GDALDestroyTransformer(self.transformer);
            }
            if !self.options.is_null() {
                gdal_sys::GDALDestroyWarpOptions(self.options);
            }
        }
    }
}

/// Warps band `src_band` of `src` into band 1 of `dst` (already filled with NaN). Source
/// cells equal to `src_nodata` (or NaN) are skipped; target cells without source stay NaN.
fn warp_into(
    src: &Dataset,
    src_band: usize,
    src_nodata: Option<f64>,
    dst: &Dataset,
    method: Resample,
) -> Result<()> {
    let (cols, rows) = dst.raster_size();
    let init = CString::new("INIT_DEST").map_err(|e| mem_err("option", e))?;
    let nodata = CString::new("NO_DATA").map_err(|e| mem_err("option", e))?;
    let mut res = WarpResources {
        options: std::ptr::null_mut(),
        transformer: std::ptr::null_mut(),
        operation: std::ptr::null_mut(),
    };
    // SAFETY: plain GDAL C API use following gdalwarp's own sequence; the datasets
    // outlive the warp operation, and `res` frees everything it created.
    unsafe {
        res.options = gdal_sys::GDALCreateWarpOptions();
        let o = res.options;
        (*o).hSrcDS = src.c_dataset();
        (*o).hDstDS = dst.c_dataset();
        (*o).eResampleAlg = method.to_gdal();
        (*o).eWorkingDataType = gdal_sys::GDALDataType::GDT_Float64;
        gdal_sys::GDALWarpInitDefaultBandMapping(o, 1);
        *(*o).panSrcBands = src_band as c_int;
        *(*o).panDstBands = 1;
        gdal_sys::GDALWarpInitSrcNoDataReal(o, src_nodata.unwrap_or(f64::NAN));
        gdal_sys::GDALWarpInitDstNoDataReal(o, f64::NAN);
        (*o).papszWarpOptions =
            gdal_sys::CSLSetNameValue((*o).papszWarpOptions, init.as_ptr(), nodata.as_ptr());
        let gen = gdal_sys::GDALCreateGenImgProjTransformer2(
            src.c_dataset(),
            dst.c_dataset(),
            std::ptr::null_mut(),
        );
        if gen.is_null() {
            return Err(mem_err("transformer", last_gdal_message()));
        }
        // gdalwarp's default: approximate the transformation to 1/8 of a target cell.
        res.transformer = gdal_sys::GDALCreateApproxTransformer(
            Some(gdal_sys::GDALGenImgProjTransform),
            gen,
            0.125,
        );
        if res.transformer.is_null() {
            gdal_sys::GDALDestroyTransformer(gen);
            return Err(mem_err("approximate transformer", last_gdal_message()));
        }
        gdal_sys::GDALApproxTransformerOwnsSubtransformer(res.transformer, 1);
        (*o).pfnTransformer = Some(gdal_sys::GDALApproxTransform);
        (*o).pTransformerArg = res.transformer;
        res.operation = gdal_sys::GDALCreateWarpOperation(o);
        if res.operation.is_null() {
            return Err(mem_err("warp setup", last_gdal_message()));
        }
        let err =
            gdal_sys::GDALChunkAndWarpImage(res.operation, 0, 0, cols as c_int, rows as c_int);
        if err != gdal_sys::CPLErr::CE_None {
            return Err(mem_err("warp", last_gdal_message()));
        }
    }
    Ok(())
}

/// GDAL's last error message.
fn last_gdal_message() -> String {
    // SAFETY: CPLGetLastErrorMsg returns a valid, NUL-terminated thread-local string.
    unsafe {
        let p = gdal_sys::CPLGetLastErrorMsg();
        if p.is_null() {
            String::new()
        } else {
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// Resamples and reprojects `src` onto `target` with GDAL's warper. `NaN` cells of the
/// source are no-data and are not spread; target cells the source does not cover are
/// `NaN`. The result keeps the source's `nodata` value.
pub fn warp(src: &Grid<f64>, target: &GridSpec, method: Resample) -> Result<Grid<f64>> {
    let src_ds = mem_dataset(&GridSpec::of(src), Some(&src.data))?;
    let dst_ds = mem_dataset(target, None)?;
    warp_into(&src_ds, 1, Some(f64::NAN), &dst_ds, method)?;
    let data = mem_read(&dst_ds)?;
    Ok(Grid::new(
        data,
        target.transform,
        target.crs_wkt.clone(),
        src.nodata,
    ))
}

/// Mosaics band 1 of several raster files (e.g. SRTM `.hgt` tiles) onto `target`: each
/// file is warped on its own, and where files overlap the first file with a valid value
/// wins. Cells no file covers are `NaN`; the result has no `nodata` value.
pub fn warp_files(paths: &[PathBuf], target: &GridSpec, method: Resample) -> Result<Grid<f64>> {
    if paths.is_empty() {
        return Err(Error::Data("warp_files: no raster files given".into()));
    }
    let mut out = Array2::from_elem((target.rows, target.cols), f64::NAN);
    let dst_ds = mem_dataset(target, None)?;
    for path in paths {
        let _guard = netcdf_lock_for(path);
        let ds = open_raster(path)?;
        io::georeference(&ds, path)?;
        let band = ds.rasterband(1).map_err(|e| Error::gdal(path, e))?;
        let nodata = band.no_data_value().or(matches!(
            band.band_type(),
            GdalDataType::Float32 | GdalDataType::Float64
        )
        .then_some(f64::NAN));
        dst_ds
            .rasterband(1)
            .and_then(|mut b| b.fill(f64::NAN, None))
            .map_err(|e| mem_err("fill", e))?;
        warp_into(&ds, 1, nodata, &dst_ds, method).map_err(|e| Error::gdal(path, e))?;
        let tile = mem_read(&dst_ds)?;
        ndarray::Zip::from(&mut out).and(&tile).for_each(|o, &t| {
            if o.is_nan() && !t.is_nan() {
                *o = t;
            }
        });
    }
    Ok(Grid::new(
        out,
        target.transform,
        target.crs_wkt.clone(),
        None,
    ))
}

/// The window of `rows` × `cols` cells starting at (`row0`, `col0`), with the transform
/// shifted to the window's corner.
pub fn crop<T: Clone>(
    grid: &Grid<T>,
    row0: usize,
    col0: usize,
    rows: usize,
    cols: usize,
) -> Result<Grid<T>> {
    if rows == 0 || cols == 0 || row0 + rows > grid.rows() || col0 + cols > grid.cols() {
        return Err(Error::Data(format!(
            "crop window rows {row0}..{} cols {col0}..{} is empty or outside the {} x {} grid",
            row0 + rows,
            col0 + cols,
            grid.rows(),
            grid.cols()
        )));
    }
    let t = grid.transform;
    let data = grid
        .data
        .slice(s![row0..row0 + rows, col0..col0 + cols])
        .to_owned();
    let transform = GeoTransform {
        x0: t.x0 + col0 as f64 * t.dx,
        y0: t.y0 + row0 as f64 * t.dy,
        ..t
    };
    Ok(Grid::new(
        data,
        transform,
        grid.crs_wkt.clone(),
        grid.nodata,
    ))
}

/// The smallest window of whole cells that covers the map extent (xmin, ymin, xmax,
/// ymax) in the grid's CRS, clipped to the grid; fails when they do not overlap.
pub fn crop_to_extent<T: Clone>(
    grid: &Grid<T>,
    xmin: f64,
    ymin: f64,
    xmax: f64,
    ymax: f64,
) -> Result<Grid<T>> {
    let t = grid.transform;
    // Fractional column/row indices of the extent's edges; a millionth of a cell of
    // slack keeps edges that fall on cell boundaries from taking an extra cell.
    let eps = 1e-6;
    let (ca, cb) = ((xmin - t.x0) / t.dx, (xmax - t.x0) / t.dx);
    let (ra, rb) = ((ymax - t.y0) / t.dy, (ymin - t.y0) / t.dy);
    let c0 = (ca.min(cb) + eps).floor().max(0.0);
    let c1 = (ca.max(cb) - eps).ceil().min(grid.cols() as f64);
    let r0 = (ra.min(rb) + eps).floor().max(0.0);
    let r1 = (ra.max(rb) - eps).ceil().min(grid.rows() as f64);
    if !(c1 > c0 && r1 > r0) {
        return Err(Error::Data(format!(
            "extent ({xmin}, {ymin}, {xmax}, {ymax}) does not overlap the grid extent {:?}",
            grid.extent()
        )));
    }
    crop(
        grid,
        r0 as usize,
        c0 as usize,
        (r1 - r0) as usize,
        (c1 - c0) as usize,
    )
}

/// Reprojects points from one CRS to another (WKT or any definition GDAL accepts), in
/// traditional GIS order: x = longitude, y = latitude for geographic CRSs.
pub fn transform_points(
    points: &[(f64, f64)],
    from_wkt: &str,
    to_wkt: &str,
) -> Result<Vec<(f64, f64)>> {
    if points.is_empty() {
        return Ok(Vec::new());
    }
    let from = spatial_ref(from_wkt)?;
    let to = spatial_ref(to_wkt)?;
    let ct =
        CoordTransform::new(&from, &to).map_err(|e| mem_err("coordinate transformation", e))?;
    let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    ct.transform_coords(&mut xs, &mut ys, &mut [])
        .map_err(|e| Error::Data(format!("cannot transform {} points: {e}", points.len())))?;
    Ok(xs.into_iter().zip(ys).collect())
}

/// Fraction (0–1) of the valid cells of a grid (cells that are not `NaN`).
pub fn valid_fraction(grid: &Grid<f64>) -> f64 {
    let n = grid.data.len();
    if n == 0 {
        return 0.0;
    }
    grid.data.iter().filter(|v| !v.is_nan()).count() as f64 / n as f64
}

/// Fraction (0–1) of the cells of `target` whose centre falls on a valid (non-`NaN`)
/// cell of `src`, after reprojection: 1 when the source covers the whole target.
pub fn coverage(src: &Grid<f64>, target: &GridSpec) -> Result<f64> {
    let mask = src.with_data(
        src.data.mapv(|v| if v.is_nan() { f64::NAN } else { 1.0 }),
        None,
    );
    Ok(valid_fraction(&warp(&mask, target, Resample::Nearest)?))
}
