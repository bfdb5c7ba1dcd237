//! CF-1.8 netCDF time series.
