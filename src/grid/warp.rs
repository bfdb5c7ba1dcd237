//! Crop, resample and reproject through GDAL.
