//! Diversions to the sea (分流入海): engineered channels such as 永定新河, 潮白新河
//! and 独流减河 that carry flood water from the plain to the Bohai.
//!
//! A diversion is a link from an intake cell to an outlet at the sea with a capacity:
//! it takes what the coupling offers at the intake up to that capacity and delivers it
//! to the sea boundary within the step (travel time and the channel's own storage are
//! neglected, which is fine for volumes and for the water left on the plain, not for
//! arrival times at the coast). What it cannot take stays on the grid.

use std::path::Path;

use serde::Deserialize;

use super::provenance::{invalid, read, Location, Sourced, Sources};
use crate::Result;

/// Splits `offered_m3s` (m³/s) into (diverted, remaining) for a channel of
/// `capacity_m3s`: diverted = min(offered, capacity), remaining = offered − diverted.
pub fn route_to_sea(offered_m3s: f64, capacity_m3s: f64) -> (f64, f64) {
    let offered = offered_m3s.max(0.0);
    let diverted = offered.min(capacity_m3s.max(0.0));
    (diverted, offered - diverted)
}

/// A diversion channel with its running total.
#[derive(Debug, Clone)]
pub struct Diversion {
    /// Name, e.g. 独流减河.
    pub name: String,
    /// Capacity (m³/s).
    pub capacity_m3s: f64,
    delivered_m3: f64,
}

/// What one diversion step returns.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DiversionStep {
    /// Carried to the sea (m³/s).
    pub diverted_m3s: f64,
    /// Left at the intake (m³/s).
    pub remaining_m3s: f64,
}

impl Diversion {
    /// A diversion that has carried nothing yet.
    pub fn new(name: &str, capacity_m3s: f64) -> Self {
        Diversion {
            name: name.to_string(),
            capacity_m3s,
            delivered_m3: 0.0,
        }
    }

    /// Routes `offered_m3s` for `dt_s` seconds.
    pub fn step(&mut self, dt_s: f64, offered_m3s: f64) -> DiversionStep {
        let (diverted_m3s, remaining_m3s) = route_to_sea(offered_m3s, self.capacity_m3s);
        self.delivered_m3 += diverted_m3s * dt_s.max(0.0);
        DiversionStep {
            diverted_m3s,
            remaining_m3s,
        }
    }

    /// Volume delivered to the sea so far (m³).
    pub fn delivered_m3(&self) -> f64 {
        self.delivered_m3
    }
}

/// One channel as written in `diversions.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiversionRecord {
    /// Name.
    pub name: String,
    /// River system it serves.
    pub system: String,
    /// What it takes water from (river, works).
    pub from: String,
    /// Intake (head works).
    pub intake: Location,
    /// Upstream area of the river at the intake, which the intake's cell must match
    /// within 25 %.
    pub intake_area: super::provenance::AreaSnap,
    /// Outlet at the sea.
    pub outlet: Location,
    /// Capacity (m³/s).
    pub capacity_m3s: Sourced<f64>,
    /// Free remarks.
    #[serde(default)]
    pub notes: Option<String>,
}

impl DiversionRecord {
    /// The model channel.
    pub fn model(&self) -> Diversion {
        Diversion::new(&self.name, self.capacity_m3s.value)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DiversionFile {
    sources: Sources,
    diversion: Vec<DiversionRecord>,
}

/// Reads and checks `diversions.toml` (provenance, capacities > 0, points in the domain).
pub fn load_diversions(path: &Path) -> Result<Vec<DiversionRecord>> {
    let file: DiversionFile = read(path)?;
    for d in &file.diversion {
        let f = |field: &str| format!("diversion[{}].{field}", d.name);
        d.intake.check(path, &f("intake"), &file.sources)?;
        d.intake_area
            .check(path, &f("intake_area"), &file.sources)?;
        d.outlet.check(path, &f("outlet"), &file.sources)?;
        d.capacity_m3s
            .check_positive(path, &f("capacity_m3s"), &file.sources)?;
    }
    if file.diversion.is_empty() {
        return Err(invalid(path, "diversion", "the file lists no diversion"));
    }
    Ok(file.diversion)
}
