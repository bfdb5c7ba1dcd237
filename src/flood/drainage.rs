//! Urban drainage: the storm sewers of built-up cells, which take the water standing on
//! a cell up to the capacity of their pipe network and deliver it to the receiving river.
//!
//! # Method
//! A 1 km cell of the plain has nowhere to send rain that falls on it faster than the
//! shallow overland flow can carry it, so without drains a built-up cell ponds where a
//! city does not. The pipe network is represented by a capacity per built-up cell, as
//! coarse surface-water maps do (the Environment Agency's national surface-water flood
//! maps of England took a uniform sewer capacity off the rain of urban areas); here the
//! capacity follows the design standard of the network instead of one figure:
//!
//! - the design discharge per unit area of the network, Q/A = ψ·q(P, t), from the
//!   storm-intensity formula (暴雨强度公式, GB 50014) q = A₁(1 + C lg P)/(t + b)ⁿ
//!   (L/(s·ha)) at the network's design return period P and the concentration time t,
//!   times the runoff coefficient ψ (the rational method of GB 50014, Q = ψ q F);
//!   1 L/(s·ha) is 0.36 mm/h;
//! - each step a drained cell gives up to capacity × cell area × Δt of the water on it
//!   (never more than it holds) to its receiving cell: the first stream cell down its
//!   D8 flow path, where the outfall is. The transfer is immediate (pipe travel times of
//!   well under an hour are below the model's hourly resolution).
//! - An outfall below the river's water surface cannot discharge (flap gates shut, no
//!   pumping modelled): a cell drains only while its water surface stands above the
//!   receiving cell's, and, where the receiving cell carries a subgrid channel, only
//!   while the river is within its banks. Outfalls sit in the channel's banks; once the
//!   river is over them they are submerged, and the city's water stays in its streets
//!   instead of being pushed over the banks of a river already in flood.
//!
//! The water stays in the model: what the drains move is booked as a transfer between
//! cells (it changes no total of the mass balance), and its running volume is reported
//! beside the structures.

use crate::flood::routing::{self, Domain, State};

/// One drained cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrainedCell {
    /// The built-up cell (row-major index).
    pub cell: usize,
    /// Its receiving stream cell.
    pub outfall: usize,
    /// Capacity of its pipes, as a depth rate over the cell, m/s.
    pub capacity_ms: f64,
}

/// The storm sewers of a run; see the module documentation.
#[derive(Debug, Clone, Default)]
pub struct UrbanDrainage {
    /// Drained cells, sorted by cell (the order of the transfers, for determinism).
    pub cells: Vec<DrainedCell>,
    drained_m3s: f64,
    drained_m3: f64,
}

/// Design discharge per unit area of a storm-sewer network, mm/h: ψ·q(P, t) with
/// q = a(1 + c lg P)/(t + b)ⁿ in L/(s·ha) (GB 50014's form of the storm-intensity
/// formula) and 1 L/(s·ha) = 0.36 mm/h.
///
/// ```
/// // Beijing's classic formula (A = 2001, C = 0.811, b = 8, n = 0.711) at P = 3 years,
/// // t = 30 min: q ≈ 209 L/(s·ha), 75 mm/h of rain; with ψ = 0.65, 49 mm/h of runoff.
/// let mmh = haihe::flood::drainage::sewer_capacity_mm_h(2001.0, 0.811, 8.0, 0.711, 3.0, 30.0, 0.65);
/// assert!((mmh - 48.9).abs() < 0.5, "{mmh}");
/// ```
pub fn sewer_capacity_mm_h(
    a: f64,
    c: f64,
    b: f64,
    n: f64,
    return_period_yr: f64,
    duration_min: f64,
    runoff_coefficient: f64,
) -> f64 {
    let q = a * (1.0 + c * return_period_yr.log10()) / (duration_min + b).powf(n);
    runoff_coefficient * q * 0.36
}

impl UrbanDrainage {
    /// Drainage of `cells` (sorted here by cell).
    pub fn new(mut cells: Vec<DrainedCell>) -> Self {
        cells.sort_by_key(|c| c.cell);
        UrbanDrainage {
            cells,
            drained_m3s: 0.0,
            drained_m3: 0.0,
        }
    }

    /// Moves the water of one step of `dt_s` seconds from the drained cells to their
    /// outfalls; returns the volume moved, m³.
    pub fn drain(&mut self, domain: &Domain, state: &mut State, dt_s: f64) -> f64 {
        let area = domain.dx_m() * domain.dx_m();
        let mut moved = 0.0;
        for d in &self.cells {
            let held = routing::cell_volume_m3(domain, state, d.cell);
            if held <= 0.0 {
                continue;
            }
            let (Some(z_cell), Some(z_out)) = (
                routing::stage_m(domain, state, d.cell),
                routing::stage_m(domain, state, d.outfall),
            ) else {
                continue;
            };
            if z_cell <= z_out {
                continue;
            }
            if routing::channel_width_m(domain, d.outfall).is_some()
                && domain
                    .bed_at(d.outfall)
                    .is_some_and(|bank| z_out >= bank as f64)
            {
                continue;
            }
            let want = (d.capacity_ms * area * dt_s).min(held);
            let took = -routing::exchange_volume_m3(domain, state, d.cell, -want);
            if took > 0.0 {
                let put = routing::exchange_volume_m3(domain, state, d.outfall, took);
                // An inactive outfall cannot be built ([`UrbanDrainage::new`]'s callers
                // pick stream cells of the grid); put back what it refused.
                if put < took {
                    routing::exchange_volume_m3(domain, state, d.cell, took - put);
                }
                moved += put;
            }
        }
        self.drained_m3s = moved / dt_s.max(f64::MIN_POSITIVE);
        self.drained_m3 += moved;
        moved
    }

    /// Mean drained discharge of the last step, m³/s.
    pub fn drained_m3s(&self) -> f64 {
        self.drained_m3s
    }

    /// Volume drained so far, m³.
    pub fn drained_m3(&self) -> f64 {
        self.drained_m3
    }

    /// The outfall cells (where the drains put water).
    pub fn outfalls(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.cells.iter().map(|d| d.outfall).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}
