//! Water on the grid: rain forcing ([`rain`]), runoff and infiltration ([`runoff`]),
//! 2D local-inertial routing ([`routing`]) and hydraulic structures ([`structures`]).

pub mod channels;
pub mod hazard;
pub mod outputs;
pub mod plausibility;
pub mod rain;
pub mod routing;
pub mod runoff;
pub mod simulate;
pub mod structures;
