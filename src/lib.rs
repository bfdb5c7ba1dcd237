//! haihe-resilience: flood, earthquake and lifeline risk for the 北三河, 永定河 and
//! 大清河 river systems, scored per resilient spatial group (韧性空间组团).
//!
//! Data flows one way: [`grid`] (georeferenced rasters and their I/O) feeds
//! [`terrain`] (DEM conditioning and drainage), which with [`groups`] (counties and the
//! plan's named clusters) is built into the model grids by [`prepare`].

pub mod bounds;
pub mod ecology;
pub mod error;
pub mod escape;
pub mod exposure;
pub mod flood;
pub mod grid;
pub mod groups;
pub mod lifelines;
pub mod outdir;
pub mod prepare;
pub mod report;
pub mod resilience;
pub mod scenario;
pub mod seismic;
pub mod staging;
pub mod terrain;
pub mod validation;

pub use error::{Error, Result};
pub use grid::{GeoTransform, Grid};
