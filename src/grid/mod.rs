//! Georeferenced raster grids: an ndarray with a GDAL geotransform, a CRS and a no-data
//! value, plus alignment checks. I/O lives in [`io`] (GDAL rasters), [`cf`] (CF-1.8
//! netCDF), [`mod@warp`] (crop, resample, reproject through GDAL's warper), [`vector`]
//! (OGR layers and rasterisation) and [`info`] (a gdalinfo-like summary).

pub mod cf;
pub mod info;
pub mod io;
pub mod vector;
pub mod warp;

use crate::{Error, Result};
use ndarray::Array2;

pub use cf::{read_cf, write_cf, CfSeries};
pub use info::describe;
pub use io::{
    epsg_wkt, read_raster, read_raster_as, read_raster_band, same_crs, write_geotiff,
    write_geotiff_bands,
};
pub use vector::{read_layer, Feature, Geometry};
pub use warp::{warp, warp_files, GridSpec, Resample};

/// The EPSG code of the model grids: WGS 84 / UTM zone 50N.
pub const MODEL_EPSG: u32 = 32650;

/// A north-up affine geotransform in GDAL order: the map coordinate of the upper-left
/// corner of the upper-left cell is (`x0`, `y0`); a cell is `dx` wide and `dy` high
/// (`dy` negative for north-up grids). Rotation terms must be zero.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GeoTransform {
    /// X (easting or longitude) of the grid's left edge.
    pub x0: f64,
    /// Cell width in CRS units (m or degrees), positive.
    pub dx: f64,
    /// Y (northing or latitude) of the grid's top edge.
    pub y0: f64,
    /// Cell height in CRS units, negative for north-up grids.
    pub dy: f64,
}

impl GeoTransform {
    /// From GDAL's six coefficients; fails on rotated grids.
    pub fn from_gdal(gt: [f64; 6]) -> Result<Self> {
        if gt[2] != 0.0 || gt[4] != 0.0 {
            return Err(Error::Data(format!(
                "rotated geotransform {gt:?} is not supported: warp the raster to a north-up grid first (gdalwarp)"
            )));
        }
        Ok(GeoTransform {
            x0: gt[0],
            dx: gt[1],
            y0: gt[3],
            dy: gt[5],
        })
    }
    /// GDAL's six coefficients.
    pub fn to_gdal(&self) -> [f64; 6] {
        [self.x0, self.dx, 0.0, self.y0, 0.0, self.dy]
    }
    /// Map coordinate of the centre of cell (`row`, `col`).
    pub fn cell_center(&self, row: usize, col: usize) -> (f64, f64) {
        (
            self.x0 + (col as f64 + 0.5) * self.dx,
            self.y0 + (row as f64 + 0.5) * self.dy,
        )
    }
    /// Fractional (row, col) of a map coordinate; integer parts index the cell.
    pub fn fractional_index(&self, x: f64, y: f64) -> (f64, f64) {
        ((y - self.y0) / self.dy, (x - self.x0) / self.dx)
    }
    /// True when two transforms agree to within a millionth of a cell.
    pub fn approx_eq(&self, other: &GeoTransform) -> bool {
        let tol = 1e-6 * self.dx.abs().max(self.dy.abs());
        (self.x0 - other.x0).abs() <= tol
            && (self.y0 - other.y0).abs() <= tol
            && (self.dx - other.dx).abs() <= tol
            && (self.dy - other.dy).abs() <= tol
    }
}

/// A georeferenced raster: `data[[row, col]]`, row 0 at the north edge.
#[derive(Debug, Clone)]
pub struct Grid<T> {
    /// Cell values, shape (rows, cols).
    pub data: Array2<T>,
    /// Where the grid sits.
    pub transform: GeoTransform,
    /// Coordinate reference system as WKT (empty when unknown).
    pub crs_wkt: String,
    /// The value that marks a cell without data, if any.
    pub nodata: Option<f64>,
}

impl<T> Grid<T> {
    /// A grid from its parts.
    pub fn new(
        data: Array2<T>,
        transform: GeoTransform,
        crs_wkt: impl Into<String>,
        nodata: Option<f64>,
    ) -> Self {
        Grid {
            data,
            transform,
            crs_wkt: crs_wkt.into(),
            nodata,
        }
    }
    /// Number of rows (north–south).
    pub fn rows(&self) -> usize {
        self.data.nrows()
    }
    /// Number of columns (west–east).
    pub fn cols(&self) -> usize {
        self.data.ncols()
    }
    /// Cell width in CRS units (m for the model grids).
    pub fn cell_size(&self) -> f64 {
        self.transform.dx.abs()
    }
    /// Cell area in CRS units squared (m² for the model grids).
    pub fn cell_area(&self) -> f64 {
        (self.transform.dx * self.transform.dy).abs()
    }
    /// (xmin, ymin, xmax, ymax) of the grid's outer edges.
    pub fn extent(&self) -> (f64, f64, f64, f64) {
        let t = &self.transform;
        let x1 = t.x0 + self.cols() as f64 * t.dx;
        let y1 = t.y0 + self.rows() as f64 * t.dy;
        (t.x0.min(x1), t.y0.min(y1), t.x0.max(x1), t.y0.max(y1))
    }
    /// The cell holding map coordinate (x, y), or None outside the grid.
    pub fn cell_of(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let (r, c) = self.transform.fractional_index(x, y);
        if r < 0.0 || c < 0.0 || r >= self.rows() as f64 || c >= self.cols() as f64 {
            None
        } else {
            Some((r as usize, c as usize))
        }
    }
    /// A new grid on the same georeference with other data (same shape required).
    pub fn with_data<U>(&self, data: Array2<U>, nodata: Option<f64>) -> Grid<U> {
        assert_eq!(data.dim(), self.data.dim(), "with_data: shape must match");
        Grid {
            data,
            transform: self.transform,
            crs_wkt: self.crs_wkt.clone(),
            nodata,
        }
    }
    /// The grid's shape, transform and CRS without its values.
    pub fn spec(&self) -> GridSpec {
        GridSpec::of(self)
    }
    /// Checks that `other` has the same shape, transform and CRS, so that the two can be
    /// combined cell by cell. `what` names the two grids in the error.
    pub fn check_aligned<U>(&self, other: &Grid<U>, what: &str) -> Result<()> {
        if self.data.dim() != other.data.dim() {
            return Err(Error::Misaligned(format!(
                "{what}: shapes differ ({} x {} against {} x {} rows x cols); resample one onto the other with `haihe prepare` or gdalwarp -te/-tr",
                self.rows(),
                self.cols(),
                other.rows(),
                other.cols()
            )));
        }
        if !self.transform.approx_eq(&other.transform) {
            return Err(Error::Misaligned(format!(
                "{what}: geotransforms differ ({:?} against {:?}); warp one onto the other's grid (gdalwarp -te -tr)",
                self.transform, other.transform
            )));
        }
        if !io::same_crs(&self.crs_wkt, &other.crs_wkt) {
            return Err(Error::Misaligned(format!(
                "{what}: coordinate reference systems differ; reproject one to the other's CRS (gdalwarp -t_srs)"
            )));
        }
        Ok(())
    }
}
