//! Reading and writing rasters through GDAL.
//!
//! [`read_raster`] opens band 1 of any raster GDAL can read (GeoTIFF, SRTM `.hgt`, ESRI
//! ASCII grid `.asc`, a netCDF variable given as `NETCDF:"file.nc":var`, …) and turns
//! the file's no-data cells into `NaN`; [`write_geotiff`] writes a tiled, DEFLATE
//! compressed GeoTIFF atomically (temporary file in the same folder, then rename).
//!
//! GDAL sizes are (columns, rows); ndarray shapes are (rows, columns). Every
//! [`SpatialRef`] used for coordinate transformations is set to the traditional GIS axis
//! order (`OAMS_TRADITIONAL_GIS_ORDER`), so longitude stays x and latitude stays y.
//!
//! # See Also
//! [`super::cf`] for CF-1.8 netCDF time series, [`mod@super::warp`] for reprojection.

use super::{GeoTransform, Grid};
use crate::{Error, Result};
use gdal::raster::{Buffer, GdalDataType, GdalType, RasterCreationOptions};
use gdal::spatial_ref::{AxisMappingStrategy, SpatialRef};
use gdal::{Dataset, DriverManager, Metadata};
use ndarray::Array2;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The formats to suggest when GDAL cannot open a raster.
const FORMATS_HINT: &str = "readable formats are GeoTIFF (.tif), SRTM tiles (.hgt), ESRI ASCII grids (.asc with .prj), \
netCDF variables given as NETCDF:\"file.nc\":variable, and any other raster format GDAL lists in `gdalinfo --formats`; \
check that the file is complete and not a vector file";

/// One lock for every use of libnetcdf/HDF5 in this crate: the netcdf crate and GDAL's
/// netCDF driver each hold their own lock, but the C libraries underneath are shared
/// and not thread-safe.
static NETCDF_LOCK: Mutex<()> = Mutex::new(());

/// Takes the crate-wide netCDF/HDF5 lock (poisoning is ignored: the lock guards no data)
/// and silences HDF5's diagnostic printing on this thread.
pub(crate) fn netcdf_lock() -> MutexGuard<'static, ()> {
    let guard = NETCDF_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    quiet_hdf5();
    guard
}

/// Turns off HDF5's automatic error-stack printing on the calling thread.
///
/// libnetcdf switches it off only on the thread that first initialises it; on other
/// threads a thread-safe HDF5 prints a screenful of `HDF5-DIAG` lines every time netCDF
/// probes for an optional attribute (e.g. `_QuantizeBitRoundNumberOfSignificantBits`).
/// Errors still reach us through netCDF's and GDAL's return codes. The symbol is looked
/// up at run time, so nothing breaks when HDF5 is absent or named differently.
#[cfg(target_os = "linux")]
fn quiet_hdf5() {
    use std::cell::Cell;
    use std::ffi::{c_char, c_int, c_void};
    type SetAuto = unsafe extern "C" fn(i64, *const c_void, *mut c_void) -> c_int;
    extern "C" {
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }
    thread_local!(static DONE: Cell<bool> = const { Cell::new(false) });
    static SET_AUTO: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    if DONE.with(|d| d.replace(true)) {
        return;
    }
    // SAFETY: dlsym with RTLD_DEFAULT (null) looks the symbol up in the loaded libraries;
    // H5Eset_auto2(H5E_DEFAULT = 0, NULL, NULL) has this C signature in HDF5 1.10+.
    let f = *SET_AUTO
        .get_or_init(|| unsafe { dlsym(std::ptr::null_mut(), c"H5Eset_auto2".as_ptr()) as usize });
    if f != 0 {
        unsafe {
            let set_auto: SetAuto = std::mem::transmute::<usize, SetAuto>(f);
            set_auto(0, std::ptr::null(), std::ptr::null_mut());
        }
    }
}

/// Elsewhere HDF5 keeps its default diagnostics.
#[cfg(not(target_os = "linux"))]
fn quiet_hdf5() {}

/// The netCDF lock when `path` names a netCDF or HDF file or subdataset, else None.
pub(crate) fn netcdf_lock_for(path: &Path) -> Option<MutexGuard<'static, ()>> {
    let s = path.to_string_lossy();
    let upper = s.to_ascii_uppercase();
    let ext = Path::new(&*physical_file(path))
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let is_nc = upper.starts_with("NETCDF:")
        || upper.starts_with("HDF5:")
        || matches!(ext.as_str(), "nc" | "nc4" | "cdf" | "h5" | "hdf5" | "he5");
    is_nc.then(netcdf_lock)
}

/// The file on disk behind a GDAL name: `NETCDF:"a.nc":var` → `a.nc`; a plain path is
/// returned unchanged; `/vsi…` names are returned unchanged.
pub(crate) fn physical_file(path: &Path) -> PathBuf {
    let s = path.to_string_lossy();
    for prefix in ["NETCDF:", "HDF5:", "HDF4_SDS:", "GPKG:"] {
        if s.len() > prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
            let rest = &s[prefix.len()..];
            if let Some(stripped) = rest.strip_prefix('"') {
                if let Some(end) = stripped.find('"') {
                    return PathBuf::from(&stripped[..end]);
                }
            }
            // NETCDF:file.nc:var: everything up to the last colon.
            if let Some(end) = rest.rfind(':') {
                return PathBuf::from(&rest[..end]);
            }
            return PathBuf::from(rest);
        }
    }
    path.to_path_buf()
}

/// Fails with [`Error::MissingFile`] when the file behind `path` does not exist.
pub(crate) fn check_exists(path: &Path, what: &str) -> Result<()> {
    let file = physical_file(path);
    if file.to_string_lossy().starts_with("/vsi") || file.exists() {
        return Ok(());
    }
    Err(Error::MissingFile {
        path: file,
        fix: format!(
            "Expected {what}; check the path (relative paths start from the working directory) \
             or see rasters/SOURCES.md for the bundled data"
        ),
    })
}

/// Opens a raster dataset, mapping failures to [`Error::MissingFile`] or
/// [`Error::Gdal`] with the formats that work.
pub(crate) fn open_raster(path: &Path) -> Result<Dataset> {
    check_exists(path, "a raster file")?;
    let ds = Dataset::open(path).map_err(|e| Error::Gdal {
        path: path.to_path_buf(),
        message: format!("GDAL cannot open it as a raster ({e}); {FORMATS_HINT}"),
    })?;
    check_driver_matches_extension(&ds, path)?;
    if ds.raster_count() == 0 {
        return Err(Error::Gdal {
            path: path.to_path_buf(),
            message: format!(
                "the file holds no raster band (a vector file, or a netCDF file whose variables must be \
                 named as NETCDF:\"file.nc\":variable); {FORMATS_HINT}"
            ),
        });
    }
    Ok(ds)
}

/// Refuses a file named `.tif`/`.tiff` that GDAL opened with another driver (a PNG or
/// JPEG renamed), naming the format GDAL found: such a file carries no georeference, and
/// "no CRS" would hide what is wrong.
fn check_driver_matches_extension(ds: &Dataset, path: &Path) -> Result<()> {
    let ext = Path::new(&*physical_file(path))
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(ext.as_str(), "tif" | "tiff") {
        return Ok(());
    }
    let driver = ds.driver();
    let short = driver.short_name();
    if matches!(short.as_str(), "GTiff" | "COG") {
        return Ok(());
    }
    Err(Error::Gdal {
        path: path.to_path_buf(),
        message: format!(
            "is a {} file (GDAL driver {short}: {}), not a GeoTIFF, although it is named .{ext}; give the real GeoTIFF, or convert it with a georeference, e.g. `gdal_translate -of GTiff -a_srs EPSG:32650 -a_ullr <ulx> <uly> <lrx> <lry> {} out.tif`",
            short,
            driver.long_name(),
            path.display()
        ),
    })
}

/// The size of a raster from its header, (rows, columns), without reading a cell.
pub fn raster_size(path: &Path) -> Result<(usize, usize)> {
    let _guard = netcdf_lock_for(path);
    let ds = open_raster(path)?;
    let (cols, rows) = ds.raster_size();
    Ok((rows, cols))
}

/// Refuses a raster whose header declares more cells than the memory available can hold
/// as `T` ([`crate::bounds::check_raster_memory`]), before anything is allocated.
fn check_declared_size<T>(ds: &Dataset, path: &Path) -> Result<()> {
    let (cols, rows) = ds.raster_size();
    crate::bounds::check_raster_memory(path, (rows, cols), std::mem::size_of::<T>())
}

/// Refuses a grid a flood runs on whose CRS is not projected in metres: a geographic CRS
/// (degrees) would be read as metres (cells of 0.001 m), and slopes, velocities and
/// volumes would be wrong by orders of magnitude. `used_as` says where the grid comes
/// from (e.g. "`grid.dem` of scenario.toml").
pub fn check_model_grid_crs(wkt: &str, path: &Path, used_as: &str) -> Result<()> {
    let fix = "the flood model needs a projected CRS in metres; reproject the raster, e.g. \
               `gdalwarp -t_srs EPSG:32650 -tr 1000 1000 -r bilinear in.tif out.tif` \
               (UTM zone 50N, the model grids' CRS)";
    if wkt.trim().is_empty() {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "crs".into(),
            message: format!("{used_as} has no CRS; {fix}"),
        });
    }
    let srs = spatial_ref(wkt)?;
    let name = srs.name().unwrap_or_else(|| short(wkt));
    let code = epsg_code(wkt)
        .map(|c| format!(" (EPSG:{c})"))
        .unwrap_or_default();
    if !srs.is_projected() {
        let kind = if srs.is_geographic() {
            "a geographic CRS in degrees"
        } else {
            "not a projected CRS"
        };
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "crs".into(),
            message: format!("{used_as} is in {name}{code}, {kind}; {fix}"),
        });
    }
    let metres = srs.linear_units();
    if (metres - 1.0).abs() > 1e-9 {
        let unit = srs.linear_units_name().unwrap_or_else(|| "?".into());
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "crs".into(),
            message: format!(
                "{used_as} is in {name}{code}, whose unit is the {unit} ({metres} m), not the metre; {fix}"
            ),
        });
    }
    Ok(())
}

/// Checks the elevations of a DEM a flood runs on: refuses one without a valid cell (all
/// no-data or NaN), and cells holding ±inf or a value outside
/// [`crate::bounds::ELEVATION_M`] (a unit or no-data slip), with their count and the
/// first cell. Returns the number of no-data cells, which the routing keeps out of the
/// domain (no water, closed faces; [`crate::flood::routing::Domain::new`]).
pub fn check_dem_values(dem: &Grid<f64>, path: &Path, used_as: &str) -> Result<usize> {
    let (lo, hi) = crate::bounds::ELEVATION_M;
    let (mut nodata, mut bad, mut first) = (0usize, 0usize, None);
    for ((r, c), &z) in dem.data.indexed_iter() {
        if z.is_nan() {
            nodata += 1;
        } else if !(z.is_finite() && (lo..=hi).contains(&z)) {
            bad += 1;
            first.get_or_insert((r, c, z));
        }
    }
    if let Some((r, c, z)) = first {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "elevation".into(),
            message: format!(
                "{used_as}: {bad} cells hold values that are not elevations in metres ({lo} to {hi} m), the first {z} at row {r}, col {c}; set them to the no-data value (e.g. `gdal_calc.py --calc \"where(abs(A)<1e4, A, nan)\" --NoDataValue=nan`) or fix the unit"
            ),
        });
    }
    if nodata == dem.data.len() {
        return Err(Error::Invalid {
            path: path.to_path_buf(),
            field: "elevation".into(),
            message: format!(
                "{used_as}: all {nodata} cells are no-data (NaN or the file's no-data value {}): there is no ground to flood; check the file, its no-data value (gdalinfo -stats) and that it covers the area",
                dem.nodata.map_or("none".into(), |v| v.to_string())
            ),
        });
    }
    Ok(nodata)
}

/// The georeference of an open dataset: transform and CRS WKT; refuses rasters without
/// a CRS ([`Error::NoCrs`]) and rotated transforms.
pub(crate) fn georeference(ds: &Dataset, path: &Path) -> Result<(GeoTransform, String)> {
    let wkt = ds.projection();
    if wkt.trim().is_empty() {
        return Err(Error::NoCrs {
            path: path.to_path_buf(),
        });
    }
    let gt = ds.geo_transform().map_err(|e| Error::Gdal {
        path: path.to_path_buf(),
        message: format!(
            "the raster has no geotransform ({e}); georeference it, e.g. `gdal_translate -a_ullr` or gdalwarp"
        ),
    })?;
    let transform = GeoTransform::from_gdal(gt).map_err(|e| Error::Gdal {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    Ok((transform, wkt))
}

/// Checks a 1-based band index against the dataset.
fn check_band(ds: &Dataset, path: &Path, band: usize) -> Result<()> {
    let n = ds.raster_count();
    if band == 0 || band > n {
        return Err(Error::Gdal {
            path: path.to_path_buf(),
            message: format!("band {band} requested but the raster has bands 1..={n}"),
        });
    }
    Ok(())
}

/// True when `v` is the band's no-data value `nd`; Float32 bands compare in f32, since
/// the no-data value is stored as text and may not round-trip to the f64 of the cell.
pub(crate) fn is_nodata(v: f64, nd: f64, band_type: GdalDataType) -> bool {
    if nd.is_nan() {
        return v.is_nan();
    }
    v == nd || (band_type == GdalDataType::Float32 && (v as f32) == (nd as f32))
}

/// Reads band 1 of any GDAL raster as f64; no-data cells become `NaN` and
/// `grid.nodata` keeps the file's no-data value.
pub fn read_raster(path: &Path) -> Result<Grid<f64>> {
    read_raster_band(path, 1)
}

/// Reads one band (1-based) of any GDAL raster as f64; no-data cells become `NaN` and
/// `grid.nodata` keeps the file's no-data value.
pub fn read_raster_band(path: &Path, band: usize) -> Result<Grid<f64>> {
    let _guard = netcdf_lock_for(path);
    let ds = open_raster(path)?;
    check_band(&ds, path, band)?;
    let (transform, wkt) = georeference(&ds, path)?;
    check_declared_size::<f64>(&ds, path)?;
    let b = ds.rasterband(band).map_err(|e| Error::gdal(path, e))?;
    let nodata = b.no_data_value();
    let band_type = b.band_type();
    let mut data = b
        .read_band_as::<f64>()
        .and_then(|buf| buf.to_array())
        .map_err(|e| Error::gdal(path, format!("cannot read band {band}: {e}")))?;
    if let Some(nd) = nodata {
        data.mapv_inplace(|v| {
            if is_nodata(v, nd, band_type) {
                f64::NAN
            } else {
                v
            }
        });
    }
    Ok(Grid::new(data, transform, wkt, nodata))
}

/// Reads one band (1-based) with its raw values, without no-data conversion (for
/// integer grids such as county codes); `grid.nodata` is the file's no-data value.
pub fn read_raster_as<T: GdalType + Copy>(path: &Path, band: usize) -> Result<Grid<T>> {
    let _guard = netcdf_lock_for(path);
    let ds = open_raster(path)?;
    check_band(&ds, path, band)?;
    let (transform, wkt) = georeference(&ds, path)?;
    check_declared_size::<T>(&ds, path)?;
    let b = ds.rasterband(band).map_err(|e| Error::gdal(path, e))?;
    let nodata = b.no_data_value();
    let data = b
        .read_band_as::<T>()
        .and_then(|buf| buf.to_array())
        .map_err(|e| Error::gdal(path, format!("cannot read band {band}: {e}")))?;
    Ok(Grid::new(data, transform, wkt, nodata))
}

/// True for GDAL's floating-point cell types.
fn is_float(t: GdalDataType) -> bool {
    matches!(t, GdalDataType::Float32 | GdalDataType::Float64)
}

/// The cell values of a float grid as f64 (`None` for integer types).
fn float_values<T: GdalType + Copy>(data: &Array2<T>) -> Option<Vec<f64>> {
    let dt = T::datatype();
    let v: Vec<T> = data.iter().copied().collect();
    // SAFETY: GDAL maps Float64 to an 8-byte IEEE double and Float32 to a 4-byte float;
    // the gdal crate itself hands these bytes to GDALRasterIO as such. The size checks
    // keep a foreign GdalType impl with a mismatching size out.
    match dt {
        GdalDataType::Float64 if std::mem::size_of::<T>() == 8 => {
            let s = unsafe { std::slice::from_raw_parts(v.as_ptr() as *const f64, v.len()) };
            Some(s.to_vec())
        }
        GdalDataType::Float32 if std::mem::size_of::<T>() == 4 => {
            let s = unsafe { std::slice::from_raw_parts(v.as_ptr() as *const f32, v.len()) };
            Some(s.iter().map(|&x| x as f64).collect())
        }
        _ => None,
    }
}

/// GeoTIFF creation options: 256×256 tiles, DEFLATE, predictor 2 (ints) or 3 (floats).
fn gtiff_options(float: bool) -> Result<RasterCreationOptions> {
    let mut o = RasterCreationOptions::new();
    let pred = if float { "3" } else { "2" };
    for (k, v) in [
        ("TILED", "YES"),
        ("BLOCKXSIZE", "256"),
        ("BLOCKYSIZE", "256"),
        ("COMPRESS", "DEFLATE"),
        ("PREDICTOR", pred),
        ("BIGTIFF", "IF_SAFER"),
    ] {
        o.set_name_value(k, v)
            .map_err(|e| Error::Data(format!("GeoTIFF option {k}: {e}")))?;
    }
    Ok(o)
}

/// A temporary name beside `path` (same folder, so the final rename is atomic).
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let unique = format!(
        ".{name}.tmp-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    )
    .replace(['(', ')'], "");
    path.with_file_name(unique)
}

/// Creates the parent folders of `path`.
pub(crate) fn create_parent(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
    }
    Ok(())
}

/// Runs `write` on a temporary path beside `path`, then renames it into place; on any
/// error the temporary file is removed and `path` is left untouched.
pub fn write_atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    create_parent(path)?;
    let tmp = temp_path(path);
    // The file is fsynced before the rename and its folder after, so a crash leaves
    // either the old file or the whole new one.
    let result = write(&tmp)
        .and_then(|()| crate::outdir::sync_tree(&tmp))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)))
        .and_then(|()| match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => crate::outdir::sync_dir(d),
            _ => crate::outdir::sync_dir(Path::new(".")),
        });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Writes a grid as a GeoTIFF: 256×256 tiles, DEFLATE compression (predictor 2 for
/// integers, 3 for floats), CRS and no-data set. Float `NaN` cells are written as the
/// no-data value (`NaN` when `grid.nodata` is None or NaN). Atomic, creates parent folders.
pub fn write_geotiff<T: GdalType + Copy>(grid: &Grid<T>, path: &Path) -> Result<()> {
    write_geotiff_bands(&[("", grid)], path)
}

/// Writes aligned grids as the bands of one GeoTIFF, each band described by its name;
/// the first grid's no-data value applies to all bands. Atomic, creates parent folders.
pub fn write_geotiff_bands<T: GdalType + Copy>(
    bands: &[(&str, &Grid<T>)],
    path: &Path,
) -> Result<()> {
    let Some((_, first)) = bands.first() else {
        return Err(Error::Data(format!(
            "{}: no bands given to write",
            path.display()
        )));
    };
    for (name, g) in &bands[1..] {
        first.check_aligned(g, &format!("band `{name}` of {}", path.display()))?;
    }
    let float = is_float(T::datatype());
    let nodata = if float {
        Some(first.nodata.unwrap_or(f64::NAN))
    } else {
        first.nodata
    };
    let (rows, cols) = first.data.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::Data(format!(
            "{}: cannot write an empty grid",
            path.display()
        )));
    }
    write_atomically(path, |tmp| {
        // GDAL reports a failed write of a cached block (a full disk, a file-size limit)
        // only through its error state, often not before the file is closed.
        cpl_error_reset();
        let driver = DriverManager::get_driver_by_name("GTiff").map_err(|e| Error::gdal(tmp, e))?;
        let opts = gtiff_options(float)?;
        let mut ds = driver
            .create_with_band_type_with_options::<T, _>(tmp, cols, rows, bands.len(), &opts)
            .map_err(|e| Error::gdal(tmp, format!("cannot create GeoTIFF: {e}")))?;
        ds.set_geo_transform(&first.transform.to_gdal())
            .map_err(|e| Error::gdal(tmp, e))?;
        if !first.crs_wkt.trim().is_empty() {
            ds.set_projection(&first.crs_wkt)
                .map_err(|e| Error::gdal(tmp, format!("invalid CRS: {e}")))?;
        }
        for (i, (name, g)) in bands.iter().enumerate() {
            let mut band = ds.rasterband(i + 1).map_err(|e| Error::gdal(tmp, e))?;
            band.set_no_data_value(nodata)
                .map_err(|e| Error::gdal(tmp, e))?;
            if !name.is_empty() {
                band.set_description(name)
                    .map_err(|e| Error::gdal(tmp, e))?;
            }
            let res = match float_values(&g.data) {
                Some(mut v) => {
                    if let Some(nd) = nodata.filter(|nd| !nd.is_nan()) {
                        v.iter_mut().filter(|x| x.is_nan()).for_each(|x| *x = nd);
                    }
                    band.write((0, 0), (cols, rows), &mut Buffer::new((cols, rows), v))
                }
                None => {
                    let v: Vec<T> = g.data.iter().copied().collect();
                    band.write((0, 0), (cols, rows), &mut Buffer::new((cols, rows), v))
                }
            };
            res.map_err(|e| Error::gdal(path, format!("cannot write band {}: {e}", i + 1)))?;
        }
        ds.flush_cache()
            .map_err(|e| Error::gdal(path, format!("cannot write the file: {e}")))?;
        ds.close()
            .map_err(|e| Error::gdal(path, format!("cannot finish the file: {e}")))?;
        cpl_error_check(path, "writing it failed")?;
        verify_geotiff::<T>(tmp, path, (cols, rows), bands.len())
    })
}

/// Clears GDAL's error state on this thread.
fn cpl_error_reset() {
    // SAFETY: CPLErrorReset takes no arguments and touches only thread-local state.
    unsafe { gdal_sys::CPLErrorReset() }
}

/// Fails, naming `path` (where it is installed), when GDAL's error state on this thread holds a failure
/// (`CE_Failure` or `CE_Fatal`) since the last [`cpl_error_reset`].
fn cpl_error_check(path: &Path, what: &str) -> Result<()> {
    // SAFETY: both calls read thread-local state; the message pointer is valid until the
    // next CPL error call on this thread and is copied at once.
    let (kind, msg) = unsafe {
        let kind = gdal_sys::CPLGetLastErrorType();
        let p = gdal_sys::CPLGetLastErrorMsg();
        let msg = if p.is_null() {
            String::new()
        } else {
            std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
        };
        (kind, msg)
    };
    if kind == gdal_sys::CPLErr::CE_Failure || kind == gdal_sys::CPLErr::CE_Fatal {
        cpl_error_reset();
        return Err(Error::gdal(
            crate::outdir::installed_path(path),
            format!("{what} ({msg}); nothing was kept. Check the free space and any file-size limit (ulimit -f)"),
        ));
    }
    Ok(())
}

/// Reopens a GeoTIFF just written to `tmp` (to be renamed to `path`) and reads every
/// band back: the size and band count must be those written and every block must
/// decode, so a file cut short by a failed write is never kept.
fn verify_geotiff<T: GdalType + Copy>(
    tmp: &Path,
    path: &Path,
    (cols, rows): (usize, usize),
    nbands: usize,
) -> Result<()> {
    let bad = |m: String| {
        Error::gdal(
            crate::outdir::installed_path(path),
            format!("the file written does not read back ({m}); nothing was kept. Check the free space and any file-size limit (ulimit -f)"),
        )
    };
    cpl_error_reset();
    let ds = Dataset::open(tmp).map_err(|e| bad(e.to_string()))?;
    if ds.raster_size() != (cols, rows) || ds.raster_count() != nbands {
        return Err(bad(format!(
            "{} x {} cells and {} bands where {cols} x {rows} and {nbands} were written",
            ds.raster_size().0,
            ds.raster_size().1,
            ds.raster_count()
        )));
    }
    for b in 1..=nbands {
        let band = ds.rasterband(b).map_err(|e| bad(e.to_string()))?;
        band.read_band_as::<T>()
            .map_err(|e| bad(format!("band {b}: {e}")))?;
    }
    drop(ds);
    cpl_error_check(path, "the file written does not read back")
}

/// A [`SpatialRef`] from WKT (or any definition GDAL accepts) in traditional GIS axis
/// order (x = easting or longitude).
pub fn spatial_ref(wkt: &str) -> Result<SpatialRef> {
    let mut srs = SpatialRef::from_definition(wkt)
        .map_err(|e| Error::Data(format!("invalid CRS definition ({e}): {}", short(wkt))))?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// The first 80 characters of a long string, for messages.
pub(crate) fn short(s: &str) -> String {
    let t: String = s.chars().take(80).collect();
    if t.len() < s.len() {
        format!("{t}…")
    } else {
        t
    }
}

/// True when two WKT strings describe the same CRS (GDAL's `OSRIsSame`); two empty
/// strings are the same, one empty string is not.
pub fn same_crs(a_wkt: &str, b_wkt: &str) -> bool {
    match (a_wkt.trim().is_empty(), b_wkt.trim().is_empty()) {
        (true, true) => true,
        (false, false) => {
            if a_wkt == b_wkt {
                return true;
            }
            match (spatial_ref(a_wkt), spatial_ref(b_wkt)) {
                (Ok(a), Ok(b)) => a == b,
                _ => false,
            }
        }
        _ => false,
    }
}

/// The WKT of an EPSG code (e.g. 32650 for the model grids).
pub fn epsg_wkt(epsg: u32) -> Result<String> {
    SpatialRef::from_epsg(epsg)
        .and_then(|s| s.to_wkt())
        .map_err(|e| Error::Data(format!("EPSG:{epsg} is not a CRS GDAL/PROJ knows ({e})")))
}

/// The EPSG code of a CRS, when GDAL can identify one.
pub fn epsg_code(wkt: &str) -> Option<u32> {
    let mut srs = SpatialRef::from_definition(wkt).ok()?;
    if srs.auth_name().as_deref() != Some("EPSG") {
        srs.auto_identify_epsg().ok()?;
    }
    if srs.auth_name().as_deref() == Some("EPSG") {
        srs.auth_code().ok().and_then(|c| u32::try_from(c).ok())
    } else {
        None
    }
}
