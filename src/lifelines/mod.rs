//! Lifelines: water supply, power, gas, road, rail and communications networks, their
//! damage under earthquake and flood, and which spatial groups they still serve.
//!
//! - [`network`]: nodes and links read from GeoJSON layers (`rasters/lifelines/*.geojson`).
//! - [`build`]: `haihe lifelines build`, the bundled layers made from the project's data.
//! - [`fragility`]: `models/fragility.toml`, Hazus lognormal curves, pipe repair rates,
//!   flood thresholds, restoration functions.
//! - [`damage`]: intensities at components, damage-state probabilities, sampled damage.
//! - [`connectivity`]: served nodes after damage, edge-disjoint paths (max-flow).
//! - [`zones`]: which spatial groups each node lies in.
//! - [`montecarlo`]: realisations in parallel, functionality Q(t) per group and lifeline.
//!
//! # Reference
//! FEMA, HAZUS-MH Technical Manual, Earthquake Model, chapters 7–8 (lifelines).

pub mod build;
pub mod connectivity;
pub mod damage;
pub mod fragility;
pub mod montecarlo;
pub mod network;
pub mod zones;

pub use connectivity::Topology;
pub use damage::{assess, sample_damage, ComponentHazard, Intensity, SampledDamage};
pub use fragility::{Fragility, DAMAGE_STATES};
pub use montecarlo::{run_monte_carlo, MonteCarloConfig, MonteCarloResult};
pub use network::{read_layers, read_network_dir, LifelineType, Link, Network, Node};
pub use zones::{read_group_members, GroupMembers};
