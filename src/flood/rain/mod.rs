//! Rain forcing: design storms from P-III statistics ([`pearson3`], [`design`]), the
//! Chicago design hyetograph ([`hyetograph`]), the TP-29 areal reduction factor
//! ([`areal_reduction`]), and the forcing of a flood run turned into rain per cell per
//! step on the model grid ([`forcing`]).
//!
//! # See also
//! [`crate::flood::runoff`], which turns this rain into runoff and infiltration.

pub mod areal_reduction;
pub mod design;
pub mod forcing;
pub mod hyetograph;
pub mod pearson3;

pub use areal_reduction::areal_reduction_factor;
pub use design::{
    exceedance_probability, load_design_rain, DepthDuration, DesignRainTable, DesignRegion,
    DurationStats,
};
pub use forcing::{design_hyetograph, rain_field, BasinHyetograph, RainField, RainForcing};
pub use hyetograph::{chicago_hyetograph, DEFAULT_PEAK_RATIO};
pub use pearson3::{frequency_factor, quantile};
