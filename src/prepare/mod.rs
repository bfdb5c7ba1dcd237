//! The model-grid build (`haihe prepare`).

pub mod counties;
pub mod land_cover;
pub mod population;
