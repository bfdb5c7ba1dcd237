//! Scenario definitions (serde) and their runners.

pub mod batch;
pub mod drainage;
pub mod flood;
pub mod quake;
pub mod structures;
