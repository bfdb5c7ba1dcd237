//! Writes the synthetic rasters of the benchmark scenarios in `models/scenarios/benchmarks/`:
//!
//! - `ea_test4_dem.tif`: the UK Environment Agency 2D benchmark test 4 floodplain (Néelz &
//!   Pender 2013): 1000 m (west–east) × 2000 m (south–north), horizontal at 0 m, 5 m cells
//!   (200 × 400).
//! - `dam_break_dem.tif` and `dam_break_depth.tif`: Ritter's (1892) dam break on a flat,
//!   dry bed: a 2000 m strip of 1 m cells (one row), 1 m of still water west of x = 1000 m.
//!
//! All in EPSG:32650 (UTM 50N, the model's CRS) with round origins; the scenario files give
//! their inflows and gauges in these coordinates (`crs = "grid"`). Deterministic: run
//! `cargo run --example benchmark_dems` to rewrite the files bit for bit.

use haihe::grid::io::{epsg_wkt, write_geotiff};
use haihe::{GeoTransform, Grid};
use std::path::Path;

/// West edge of every benchmark grid, m (EPSG:32650).
const X0: f64 = 500_000.0;
/// South edge of every benchmark grid, m (EPSG:32650).
const Y0: f64 = 4_400_000.0;

fn write(path: &Path, nr: usize, nc: usize, dx: f64, f: impl Fn(usize, usize) -> f32) {
    let v: Vec<f32> = (0..nr * nc).map(|i| f(i / nc, i % nc)).collect();
    let a = ndarray::Array2::from_shape_vec((nr, nc), v).expect("shape matches");
    let t = GeoTransform {
        x0: X0,
        dx,
        y0: Y0 + nr as f64 * dx,
        dy: -dx,
    };
    let wkt = epsg_wkt(32650).expect("EPSG:32650 is known to GDAL");
    write_geotiff(&Grid::new(a, t, wkt, None), path).expect("the raster can be written");
    println!("wrote {} ({nr} × {nc} cells of {dx} m)", path.display());
}

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/scenarios/benchmarks");
    // EA test 4: flat plain at datum.
    write(&dir.join("ea_test4_dem.tif"), 400, 200, 5.0, |_, _| 0.0);
    // Ritter: flat bed; 1 m of water on the cells whose centre lies west of the dam.
    write(&dir.join("dam_break_dem.tif"), 1, 2000, 1.0, |_, _| 0.0);
    write(&dir.join("dam_break_depth.tif"), 1, 2000, 1.0, |_, c| {
        if (c as f64 + 0.5) < 1000.0 {
            1.0
        } else {
            0.0
        }
    });
}
