//! gdalinfo-like summary.
pub fn describe() {}
