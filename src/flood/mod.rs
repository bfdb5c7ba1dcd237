//! Water on the grid: rain forcing ([`rain`]), runoff and infiltration ([`runoff`]),
//! 2D local-inertial routing ([`routing`]), hydraulic structures ([`structures`]) and
//! the storm sewers of built-up cells ([`drainage`]).

pub mod channels;
pub mod drainage;
pub mod hazard;
pub mod outputs;
pub mod plausibility;
pub mod rain;
pub mod routing;
pub mod runoff;
pub mod simulate;
pub mod structures;
