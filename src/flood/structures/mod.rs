//! Hydraulic structures of the flood-control system, as lumped models that exchange
//! water with the 2D grid through discharges (m³/s) at cells.
//!
//! The capital-area plan's layout, "上蓄、中疏、下排、适当地滞" and "分区防守、分流入海",
//! maps onto four pieces:
//!
//! - [`reservoir`]: reservoirs (上蓄), level-pool routing dS/dt = I − O with an
//!   operating rule (flood-limit level, safe release, maximum release, check level);
//! - [`detention`]: detention basins (蓄滞洪区, 分区防守), lumped storages behind a
//!   gate that opens on a trigger (gauge discharge, stage or a scheduled time);
//! - [`levee`]: levees as crest heights along a polyline, breach scenarios with
//!   linear crest lowering and widening, and the broad-crested weir law over a crest;
//!   [`levee_faces`] puts a levee's crest on the faces of the routing grid;
//! - [`diversion`]: channels to the sea (分流入海) that carry up to their capacity;
//! - [`operation`]: releases ordered by the authority (a rate, a schedule, a rule on a
//!   gauge) for pre-release (预泄) and peak staggering (错峰).
//!
//! Each model has a `step` (or a pure function) in SI units: seconds, metres, m³ and
//! m³/s. The grid solver calls them once per step: it hands over what reaches the
//! structure (the inflow to a reservoir, what a river cell can spare for a basin) and
//! takes back what leaves it. None of them does I/O; the loaders (`load_*`) read the
//! TOML files in `models/structures/`, where every value names its source or is marked
//! `estimate = true` with the `basis` of the estimate ([`provenance`]).

pub mod coupling;
pub mod detention;
pub mod diversion;
pub mod levee;
pub mod levee_faces;
pub mod operation;
pub mod provenance;
pub mod reservoir;

pub use coupling::{
    BasinSite, BreachFace, BreachSite, DiversionSite, ReadingPoint, ReservoirSite, Works,
};
pub use detention::{load_detention_basins, DetentionBasin, DetentionRecord, Quantity, Trigger};
pub use diversion::{load_diversions, route_to_sea, Diversion, DiversionRecord};
pub use levee::{
    breach_geometry, broad_crested_weir_m3s, load_levees, villemonte_factor, weir_exchange_m3s,
    Breach, BreachGeometry, BreachSpec, LeveeFile,
};
pub use operation::{DirectedRelease, Operation, Order, ScheduledRelease};
pub use provenance::{beijing_time_s, Location, Sourced, DOMAIN_LAT, DOMAIN_LON};
pub use reservoir::{
    load_reservoir_models, load_reservoirs, DamCrest, OperatingRule, ReleaseRule, Reservoir,
    ReservoirRecord, Scheme, StorageCurve,
};
