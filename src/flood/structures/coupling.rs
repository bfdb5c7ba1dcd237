//! The structures on the grid: reservoirs, detention basins, levee breaches and
//! diversions exchanging water with grid cells between solver steps.
//!
//! The coupling is operator splitting, as lumped structures are coupled to 2D
//! flood models in LISFLOOD-FP and TELEMAC practice: the local-inertial step moves the
//! water on the grid over `dt`, then each structure takes and returns water at its cells
//! for the same interval, and every volume moved is booked, so that
//! grid + structures + water sent to the sea is conserved to round-off.
//!
//! - A reservoir (上蓄) owns its pool cells: all water reaching them (river inflow and rain
//!   on the lake) is taken into the level pool each step, and the release from
//!   [`Reservoir::step`] is put into the outlet cell below the dam.
//! - A detention basin (蓄滞洪区) sits beside its link cell on the river. Once a trigger
//!   has opened the gate, it takes what the river offers there (the cell's outflow, and
//!   never more than the cell holds), capped by the gate capacity and the room left;
//!   its drain returns water to the same cell.
//! - A breach on a levee that stands on the grid's faces ([`BreachSite::on_faces`])
//!   lowers the crest of the levee faces nearest to it: as many whole faces as the breach
//!   width holds cell widths (`⌊b/Δx⌋`) take the breach crest in the routing kernel,
//!   where the local-inertial flux, capped by the broad-crested weir discharge, carries
//!   the flow; the remainder of the width (all of it while `b < Δx`: a 200 m breach on
//!   1 km cells) passes the next face as a broad-crested weir of that width with
//!   Villemonte submergence between the river and land cells on either side of the face.
//!   This keeps the breach's conveyance proportional to its width instead of opening a
//!   whole 1 km face (the breach as a broad-crested weir of growing width and falling
//!   crest, as in Fread's BREACH model and the parametric breaches of HEC-RAS;
//!   LISFLOOD-FP treats weirs on faces by the weir law too). The breach crest falls from
//!   the levee's crest to `crest_final_m` above the *land* cell's bed (the dike eroded to
//!   the ground on the side it fails to), so on a perched river, whose bed stands above
//!   the land, the gap opens below the river's bank.
//! - Where a breached face's river cell carries a subgrid channel, the whole width on that
//!   face is a weir from the channel's water surface (which lies below the bank while the
//!   river is in its channel) to the land cell, and the face keeps its intact crest: the
//!   kernel's floodplain face would only pass water standing above the bank, and a
//!   perched river in its channel could not reach a breach at all.
//! - A breach without faces (a levee that is not on the grid, [`BreachSite::new`]) moves
//!   water between the river cell and the landside cell by the same weir law.
//! - Weir exchanges are limited so that the donor cell keeps at least half its water
//!   within one step, and so that one step never moves more than levels the two water
//!   surfaces (stability: no overshoot and sign flip as the levels meet).
//! - A diversion (分流入海) takes what the river offers at its intake, up to its capacity,
//!   and delivers it to the sea within the step.

use super::detention::{DetentionBasin, Quantity};
use super::diversion::Diversion;
use super::levee::{weir_exchange_m3s, Breach, BreachSpec};
use super::operation::Operation;
use super::reservoir::Reservoir;
use crate::flood::routing::{self, Domain, Face, State};
use crate::flood::simulate::Exchange;
use crate::{Error, Result};

/// A reservoir on the grid.
#[derive(Debug, Clone)]
pub struct ReservoirSite {
    /// The level-pool model.
    pub model: Reservoir,
    /// Cells of the pool, whose water is taken into the reservoir every step.
    pub pool_cells: Vec<usize>,
    /// Cell below the dam that receives the release.
    pub outlet_cell: usize,
    /// Highest level reached, m, and when (s of simulated time).
    pub max_level: (f64, f64),
    /// Largest flow over the dam's crest, m³/s, and how long the pool stood above the
    /// crest, s.
    pub overtopping: (f64, f64),
    /// Release ordered in place of the rule ([`super::operation`]); `None`: the rule.
    pub operation: Option<Operation>,
    inflow_m3s: f64,
    release_m3s: f64,
    overtopping_m3s: f64,
}

impl ReservoirSite {
    /// A reservoir with its pool and outlet cells.
    pub fn new(model: Reservoir, pool_cells: Vec<usize>, outlet_cell: usize) -> Self {
        let level = model.level_m();
        ReservoirSite {
            model,
            pool_cells,
            outlet_cell,
            max_level: (level, 0.0),
            overtopping: (0.0, 0.0),
            operation: None,
            inflow_m3s: 0.0,
            release_m3s: 0.0,
            overtopping_m3s: 0.0,
        }
    }
}

/// A detention basin on the grid.
#[derive(Debug, Clone)]
pub struct BasinSite {
    /// The lumped basin with its gate and triggers.
    pub model: DetentionBasin,
    /// River cell at the gate.
    pub link_cell: usize,
    inflow_m3s: f64,
    drain_m3s: f64,
}

impl BasinSite {
    /// A basin linked to the river at `link_cell`.
    pub fn new(model: DetentionBasin, link_cell: usize) -> Self {
        BasinSite {
            model,
            link_cell,
            inflow_m3s: 0.0,
            drain_m3s: 0.0,
        }
    }
}

/// A levee face a breach may lower, with the levee's intact crest on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreachFace {
    /// The face.
    pub face: Face,
    /// River (corridor) cell beside it.
    pub river_cell: usize,
    /// Land cell beside it.
    pub land_cell: usize,
    /// Ground the crests are measured from, m (the higher of the two cells' beds).
    pub ground_m: f64,
}

impl BreachFace {
    /// Crest of the breach on this face, m, once its crest has fallen the fraction `fall`
    /// (0 intact, 1 final) of the way: from the intact levee crest (`ground_m` +
    /// `crest_initial_m`) to the final crest above the *land* cell's bed (`crest_final_m`
    /// above the landside ground, the level a breach erodes to: the toe of the dike on
    /// the side it fails to, as in the parametric breaches of HEC-RAS). Where the river
    /// cell stands above the land (a perched river) the breach therefore opens below the
    /// river's bank, down to the land.
    fn breach_crest_m(&self, domain: &Domain, spec: BreachSpec, fall: f64) -> f64 {
        let intact = self.ground_m + spec.crest_initial_m;
        let land = domain
            .bed_at(self.land_cell)
            .map_or(self.ground_m, |z| z as f64);
        let last = (land + spec.crest_final_m).min(intact);
        intact + fall * (last - intact)
    }

    /// +1 when the face's positive direction (east/south) points from river to land.
    fn river_to_land_sign(&self) -> f64 {
        if self.land_cell > self.river_cell {
            1.0
        } else {
            -1.0
        }
    }
}

/// A levee breach on the grid.
#[derive(Debug, Clone)]
pub struct BreachSite {
    /// Name of the breach scenario.
    pub name: String,
    /// Trigger and geometry; crests above `ground_m`.
    pub model: Breach,
    /// River cell beside the breach.
    pub river_cell: usize,
    /// Landside cell that receives the water.
    pub land_cell: usize,
    /// Ground level the crests are measured from, m (the unconditioned DEM at the river cell).
    pub ground_m: f64,
    /// Levee faces the breach lowers, nearest to the breach point first (empty: the
    /// breach is a weir between `river_cell` and `land_cell` only).
    pub faces: Vec<BreachFace>,
    /// Crests (m) to set on faces before the next step.
    pending: Vec<(Face, f32)>,
    /// Faces lowered to the breach crest for the step being taken.
    lowered: usize,
    flow_m3s: f64,
    volume_m3: f64,
}

impl BreachSite {
    /// A breach of a levee that stands on the grid's faces: `faces` are the levee faces
    /// nearest to the breach point, nearest first (at least one). Crests are above each
    /// face's ground; the trigger's stage is read at the first face's river cell.
    pub fn on_faces(name: &str, model: Breach, faces: Vec<BreachFace>) -> Result<Self> {
        let Some(f0) = faces.first().copied() else {
            return Err(Error::Data(format!(
                "breach {name}: no levee face to breach"
            )));
        };
        Ok(BreachSite {
            name: name.to_string(),
            model,
            river_cell: f0.river_cell,
            land_cell: f0.land_cell,
            ground_m: f0.ground_m,
            faces,
            pending: Vec::new(),
            lowered: 0,
            flow_m3s: 0.0,
            volume_m3: 0.0,
        })
    }

    /// Breach discharge at the last step, m³/s, positive from river to land.
    pub fn flow_m3s(&self) -> f64 {
        self.flow_m3s
    }

    /// Volume moved from river to land so far, m³.
    pub fn volume_m3(&self) -> f64 {
        self.volume_m3
    }

    /// A breach between `river_cell` and `land_cell`, crests above `ground_m`.
    pub fn new(
        name: &str,
        model: Breach,
        river_cell: usize,
        land_cell: usize,
        ground_m: f64,
    ) -> Self {
        BreachSite {
            name: name.to_string(),
            model,
            river_cell,
            land_cell,
            ground_m,
            faces: Vec::new(),
            pending: Vec::new(),
            lowered: 0,
            flow_m3s: 0.0,
            volume_m3: 0.0,
        }
    }
}

/// Weir exchange over `crest_m` of width `width_m` between a river and a land cell over
/// `dt_s`, from their water surfaces (on a subgrid channel cell the channel's, which may
/// lie below the bank); returns the volume moved from river to land (signed), m³.
///
/// Limited so that the donor keeps half its water, and so that one step never moves
/// more than levels the two water surfaces (the volume `Δη / (1/A_r + 1/A_l)`, with each
/// cell's smallest free-surface area: its channel's `w·Δx`, or `Δx²`): an explicit weir
/// between two cells of finite area would otherwise overshoot the level and flip sign
/// from step to step as the levels meet, where the Villemonte factor is steepest.
fn weir_move(
    domain: &Domain,
    state: &mut State,
    river: usize,
    land: usize,
    crest_m: f64,
    width_m: f64,
    dt_s: f64,
) -> f64 {
    let eta_r = routing::stage_m(domain, state, river).unwrap_or(f64::NAN);
    let eta_l = routing::stage_m(domain, state, land).unwrap_or(f64::NAN);
    let mut q = if width_m > 0.0 && eta_r.is_finite() && eta_l.is_finite() {
        weir_exchange_m3s(crest_m, width_m, eta_r, eta_l)
    } else {
        0.0
    };
    let donor = if q >= 0.0 { river } else { land };
    let cap = 0.5 * routing::cell_volume_m3(domain, state, donor) / dt_s;
    q = q.clamp(-cap, cap);
    if q != 0.0 {
        let area = |c: usize| {
            routing::channel_width_m(domain, c)
                .map_or(domain.dx_m() * domain.dx_m(), |w| w * domain.dx_m())
        };
        let level = (eta_r - eta_l).abs() / (1.0 / area(river) + 1.0 / area(land)) / dt_s;
        q = q.clamp(-level, level);
    }
    let (from, to) = if q >= 0.0 {
        (river, land)
    } else {
        (land, river)
    };
    let v = -routing::exchange_volume_m3(domain, state, from, -q.abs() * dt_s);
    routing::exchange_volume_m3(domain, state, to, v);
    q.signum() * v
}

/// A diversion to the sea on the grid.
#[derive(Debug, Clone)]
pub struct DiversionSite {
    /// The channel and its capacity.
    pub model: Diversion,
    /// River cell at the intake.
    pub intake_cell: usize,
    flow_m3s: f64,
}

impl DiversionSite {
    /// A diversion taking water at `intake_cell`.
    pub fn new(model: Diversion, intake_cell: usize) -> Self {
        DiversionSite {
            model,
            intake_cell,
            flow_m3s: 0.0,
        }
    }
}

/// A named place whose discharge or stage a trigger reads.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingPoint {
    /// Name as the triggers use it (e.g. 卢沟桥).
    pub name: String,
    /// Cell.
    pub cell: usize,
}

/// All structures of a run, coupled to the grid ([`Exchange`]).
#[derive(Debug, Clone, Default)]
pub struct Works {
    /// Reservoirs.
    pub reservoirs: Vec<ReservoirSite>,
    /// Detention basins.
    pub basins: Vec<BasinSite>,
    /// Levee breaches.
    pub breaches: Vec<BreachSite>,
    /// Diversions to the sea.
    pub diversions: Vec<DiversionSite>,
    /// Gauges and stage points the triggers read.
    pub readings: Vec<ReadingPoint>,
    /// Calendar time of simulated t = 0, s since 1970-01-01T00:00Z (for scheduled
    /// triggers and breaches).
    pub epoch0_s: f64,
    /// Findings of the placement (areas accepted outside the tolerance), for the
    /// plausibility guard ([`crate::flood::plausibility`]).
    pub findings: Vec<crate::flood::plausibility::Finding>,
    /// Storm sewers of the built-up cells ([`crate::flood::drainage`]); `None`: off.
    pub drainage: Option<crate::flood::drainage::UrbanDrainage>,
}

impl Works {
    /// True when there is nothing to couple.
    pub fn is_empty(&self) -> bool {
        self.reservoirs.is_empty()
            && self.basins.is_empty()
            && self.breaches.is_empty()
            && self.diversions.is_empty()
            && self.drainage.is_none()
    }

    /// When each basin opened (simulated hours), by name; `None` for a basin that stayed shut.
    pub fn basin_openings_h(&self) -> Vec<(String, Option<f64>)> {
        self.basins
            .iter()
            .map(|b| {
                (
                    b.model.name.clone(),
                    b.model.opened_at_s().map(|t| (t - self.epoch0_s) / 3600.0),
                )
            })
            .collect()
    }

    /// When each breach started (simulated hours), by name.
    pub fn breach_starts_h(&self) -> Vec<(String, Option<f64>)> {
        self.breaches
            .iter()
            .map(|b| {
                (
                    b.name.clone(),
                    b.model.started_at_s().map(|t| (t - self.epoch0_s) / 3600.0),
                )
            })
            .collect()
    }
}

/// What the river can spare at a cell within a step, m³/s: its outflow, and never more
/// than the cell holds over the step.
fn offered_m3s(domain: &Domain, state: &State, cell: usize, dt_s: f64) -> f64 {
    let out = routing::cell_outflow_m3s(domain, state, cell).unwrap_or(0.0);
    let held = routing::cell_volume_m3(domain, state, cell) / dt_s;
    out.min(held).max(0.0)
}

impl Exchange for Works {
    fn exchange(&mut self, domain: &Domain, state: &mut State, dt_s: f64) -> Result<f64> {
        if dt_s <= 0.0 {
            return Ok(0.0);
        }
        let t_end = self.epoch0_s + state.time_s;
        let t_start = t_end - dt_s;
        // Trigger readings at the end of the grid step (the start of the works' step).
        let values: Vec<(String, f64, f64)> = self
            .readings
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    routing::cell_outflow_m3s(domain, state, p.cell).unwrap_or(f64::NAN),
                    routing::stage_m(domain, state, p.cell).unwrap_or(f64::NAN),
                )
            })
            .collect();
        let reading = |name: &str, q: Quantity| {
            values.iter().find(|v| v.0 == name).map(|v| match q {
                Quantity::Discharge => v.1,
                Quantity::Stage => v.2,
            })
        };
        // Storm sewers: built-up cells to their outfalls on the rivers.
        if let Some(d) = &mut self.drainage {
            d.drain(domain, state, dt_s);
        }
        // Reservoirs: take the pool's water, release below the dam.
        for r in &mut self.reservoirs {
            if let Some(op) = &mut r.operation {
                let cap = match r.model.rule {
                    super::reservoir::ReleaseRule::Operating(rule) => rule.max_release_m3s,
                    super::reservoir::ReleaseRule::Linear { .. } => f64::INFINITY,
                };
                r.model.directed = op
                    .directed(t_start, cap, &reading)
                    .map_err(|e| Error::Data(format!("reservoir {}: {e}", r.model.name)))?;
            }
            let mut taken = 0.0;
            for &c in &r.pool_cells {
                taken -= routing::exchange_volume_m3(domain, state, c, -f64::INFINITY);
            }
            let step = r.model.step(dt_s, taken / dt_s);
            let released =
                routing::exchange_volume_m3(domain, state, r.outlet_cell, step.outflow_m3s * dt_s);
            if (released - step.outflow_m3s * dt_s).abs() > 1e-6 * released.abs().max(1.0) {
                return Err(Error::Data(format!(
                    "reservoir {}: the outlet cell is not an active grid cell",
                    r.model.name
                )));
            }
            r.inflow_m3s = taken / dt_s;
            r.release_m3s = step.outflow_m3s;
            r.overtopping_m3s = r.model.overtopping_m3s(step.storage_m3);
            if step.level_m > r.max_level.0 {
                r.max_level = (step.level_m, state.time_s);
            }
            if r.overtopping_m3s > 0.0 {
                r.overtopping.0 = r.overtopping.0.max(r.overtopping_m3s);
                r.overtopping.1 += dt_s;
            }
        }
        // Detention basins.
        for b in &mut self.basins {
            let offered = offered_m3s(domain, state, b.link_cell, dt_s);
            let step = b.model.step(t_start, dt_s, &reading, offered)?;
            let take = step.inflow_m3s * dt_s;
            let moved = -routing::exchange_volume_m3(domain, state, b.link_cell, -take);
            if (moved - take).abs() > 1e-6 * take.max(1.0) {
                return Err(Error::Data(format!(
                    "detention basin {}: took {moved} m³ of the {take} m³ booked",
                    b.model.name
                )));
            }
            routing::exchange_volume_m3(domain, state, b.link_cell, step.drain_m3s * dt_s);
            b.inflow_m3s = step.inflow_m3s;
            b.drain_m3s = step.drain_m3s;
        }
        // Breaches: lowered levee faces (flow computed by the grid step just taken) and
        // weirs: over the part of the width narrower than a face, and over every face
        // whose river cell carries a subgrid channel.
        let dx = domain.dx_m();
        for b in &mut self.breaches {
            let eta_r = routing::stage_m(domain, state, b.river_cell).unwrap_or(f64::NAN);
            let geom = b.model.update(t_end, eta_r - b.ground_m);
            if b.faces.is_empty() {
                let v = weir_move(
                    domain,
                    state,
                    b.river_cell,
                    b.land_cell,
                    b.ground_m + geom.crest_m,
                    geom.width_m,
                    dt_s,
                );
                b.flow_m3s = v / dt_s;
                b.volume_m3 += v;
                continue;
            }
            // Flow of the step over faces lowered before it.
            let mut v_faces = 0.0;
            for f in &b.faces[..b.lowered] {
                if routing::channel_width_m(domain, f.river_cell).is_some() {
                    continue;
                }
                let q = routing::face_discharge_m3s(domain, state, f.face).unwrap_or(0.0);
                v_faces += f.river_to_land_sign() * q * dt_s;
            }
            let n_full = ((geom.width_m / dx).floor() as usize).min(b.faces.len());
            let spec = b.model.spec;
            // How far the crest has fallen, 0 (intact) to 1 (final).
            let fall = if spec.crest_initial_m > spec.crest_final_m {
                ((spec.crest_initial_m - geom.crest_m)
                    / (spec.crest_initial_m - spec.crest_final_m))
                    .clamp(0.0, 1.0)
            } else {
                1.0
            };
            let mut v_weir = 0.0;
            b.pending.clear();
            for (k, f) in b.faces.iter().enumerate() {
                let intact = f.ground_m + spec.crest_initial_m;
                let crest = f.breach_crest_m(domain, spec, fall);
                let width = if k < n_full {
                    dx
                } else if k == n_full {
                    geom.width_m - n_full as f64 * dx
                } else {
                    0.0
                };
                let channel = routing::channel_width_m(domain, f.river_cell).is_some();
                let lowered = k < n_full && !channel;
                if width > 0.0 && !lowered {
                    v_weir +=
                        weir_move(domain, state, f.river_cell, f.land_cell, crest, width, dt_s);
                }
                let face_crest = if lowered { crest } else { intact };
                b.pending.push((f.face, face_crest as f32));
            }
            b.lowered = n_full;
            b.flow_m3s = (v_faces + v_weir) / dt_s;
            b.volume_m3 += v_faces + v_weir;
        }
        // Diversions to the sea.
        let mut out = 0.0;
        for d in &mut self.diversions {
            let offered = offered_m3s(domain, state, d.intake_cell, dt_s);
            let step = d.model.step(dt_s, offered);
            let moved = -routing::exchange_volume_m3(
                domain,
                state,
                d.intake_cell,
                -step.diverted_m3s * dt_s,
            );
            d.flow_m3s = moved / dt_s;
            out += moved;
        }
        Ok(out)
    }

    fn storage_m3(&self) -> f64 {
        self.reservoirs
            .iter()
            .map(|r| r.model.storage_m3())
            .sum::<f64>()
            + self.basins.iter().map(|b| b.model.volume_m3()).sum::<f64>()
    }

    fn source_cells(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.reservoirs.iter().map(|r| r.outlet_cell).collect();
        v.extend(self.basins.iter().map(|b| b.link_cell));
        if let Some(d) = &self.drainage {
            v.extend(d.outfalls());
        }
        for b in &self.breaches {
            v.extend([b.river_cell, b.land_cell]);
            v.extend(b.faces.iter().flat_map(|f| [f.river_cell, f.land_cell]));
        }
        v.sort_unstable();
        v.dedup();
        v
    }

    fn settled(&self) -> bool {
        use super::reservoir::ReleaseRule;
        self.reservoirs.iter().all(|r| match r.model.rule {
            ReleaseRule::Operating(rule) => {
                r.model.level_m() <= rule.flood_limit_level_m + 1e-3
                    || r.release_m3s <= rule.safe_release_m3s + 1e-6
            }
            ReleaseRule::Linear { .. } => true,
        })
    }

    fn changes_domain(&self) -> bool {
        self.breaches.iter().any(|b| !b.faces.is_empty())
    }

    fn update_domain(&mut self, domain: &mut Domain) -> Result<()> {
        for b in &mut self.breaches {
            for (face, crest) in b.pending.drain(..) {
                if domain.crest_m(face) != Some(crest) {
                    domain.set_crest_m(face, crest)?;
                }
            }
        }
        Ok(())
    }

    fn columns(&self) -> Vec<String> {
        let mut c = Vec::new();
        for r in &self.reservoirs {
            let n = &r.model.name;
            c.push(format!("{n} inflow_m3s"));
            c.push(format!("{n} release_m3s"));
            c.push(format!("{n} storage_1e8_m3"));
            c.push(format!("{n} level_m"));
            c.push(format!("{n} overtopping_m3s"));
        }
        for b in &self.basins {
            let n = &b.model.name;
            c.push(format!("{n} inflow_m3s"));
            c.push(format!("{n} drain_m3s"));
            c.push(format!("{n} volume_1e8_m3"));
        }
        for b in &self.breaches {
            c.push(format!("{} breach_flow_m3s", b.name));
            c.push(format!("{} breach_volume_1e8_m3", b.name));
        }
        for d in &self.diversions {
            c.push(format!("{} diverted_m3s", d.model.name));
            c.push(format!("{} delivered_1e8_m3", d.model.name));
        }
        if self.drainage.is_some() {
            c.push("urban drainage drained_m3s".into());
            c.push("urban drainage drained_1e8_m3".into());
        }
        c
    }

    fn readings(&self) -> Vec<f64> {
        let mut v = Vec::new();
        for r in &self.reservoirs {
            v.push(r.inflow_m3s);
            v.push(r.release_m3s);
            v.push(r.model.storage_m3() / 1e8);
            v.push(r.model.level_m());
            v.push(r.overtopping_m3s);
        }
        for b in &self.basins {
            v.push(b.inflow_m3s);
            v.push(b.drain_m3s);
            v.push(b.model.volume_m3() / 1e8);
        }
        for b in &self.breaches {
            v.push(b.flow_m3s);
            v.push(b.volume_m3 / 1e8);
        }
        for d in &self.diversions {
            v.push(d.flow_m3s);
            v.push(d.model.delivered_m3() / 1e8);
        }
        if let Some(d) = &self.drainage {
            v.push(d.drained_m3s());
            v.push(d.drained_m3() / 1e8);
        }
        v
    }
}
