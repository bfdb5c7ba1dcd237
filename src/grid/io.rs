//! Reading and writing rasters through GDAL.
// Helper A fills this in.
use super::Grid;
use crate::Result;
use std::path::Path;

/// Reads band 1 of any GDAL raster as f64.
pub fn read_raster(path: &Path) -> Result<Grid<f64>> {
    read_raster_band(path, 1)
}
/// Reads one band (1-based) of any GDAL raster as f64.
pub fn read_raster_band(_path: &Path, _band: usize) -> Result<Grid<f64>> {
    unimplemented!()
}
/// Writes a compressed, tiled GeoTIFF atomically.
pub fn write_geotiff<T>(_grid: &Grid<T>, _path: &Path) -> Result<()> {
    unimplemented!()
}
/// True when two WKT strings describe the same CRS.
pub fn same_crs(a: &str, b: &str) -> bool {
    a == b
}
