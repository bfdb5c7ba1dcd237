//! Terrain analysis kernels: depression filling, D8 flow directions, flow accumulation,
//! streams, basins and height above the nearest drainage.
//!
//! Pure kernels over ndarray arrays, one algorithm per file, named as in WhiteboxTools.
//! They take views, cell sizes in metres and parameters, and do no I/O. Conventions:
//! rows run southwards and columns eastwards; NaN elevations are no data; flow
//! directions use the ESRI D8 codes (1 = E, 2 = SE, 4 = S, …, 128 = NE; 0 = outlet,
//! 255 = no data). The usual chain is
//! [`priority_flood_epsilon`] → [`d8_flow_directions`] → [`upstream_area_km2`] →
//! [`extract_streams`] → [`label_basins`] / [`height_above_nearest_drainage`].
//! Every result is deterministic, whatever the number of rayon threads.

pub mod basins;
pub mod carve;
pub mod fill;
pub mod flow_accumulation;
pub mod flow_direction;
pub mod hand;
pub mod streams;

pub mod profile;
pub use basins::{label_basins, snap_to_stream, upstream_mask};
pub use carve::carve_streams;
pub use fill::{depression_volume_m3, priority_flood_epsilon, priority_flood_fill};
pub use flow_accumulation::{flow_accumulation, upstream_area_km2};
pub use flow_direction::{d8_flow_directions, downstream, downstream_cell, D8_CODES, D8_OFFSETS};
pub use hand::height_above_nearest_drainage;
pub use streams::{extract_streams, strahler_order};
