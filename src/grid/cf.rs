//! CF-1.8 netCDF time series.
pub struct CfSeries;
pub fn read_cf() {}
pub fn write_cf() {}
