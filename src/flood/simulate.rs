//! The time loop of a flood run: forcing, routing steps, gauges, maxima and snapshots.
//!
//! [`simulate`] advances the local-inertial solver ([`super::routing`]) from the
//! initial state to the end time. Rain and losses come from a [`Forcing`], which hands
//! out per-cell rates that hold over an interval (a rain time step), so that the solver's
//! adaptive steps never straddle a change of forcing. At every step the maxima (depth,
//! speed), the arrival time (first depth above 0.1 m) and the time above 0.5 m are
//! updated per cell; at every output time the depth grid, the gauge discharges and
//! stages, and the running mass balance are recorded.

use super::routing::{self, Domain, Params, Scratch, Sources, State, Volumes};
use crate::flood::routing::isa::{multiversion, Isa};
use crate::{Error, Result};
use rayon::prelude::*;

/// Depth above which a cell counts as reached by the flood, m (arrival time).
pub const ARRIVAL_DEPTH_M: f32 = 0.1;
/// Depth for the duration map, m.
pub const DURATION_DEPTH_M: f32 = 0.5;

/// Rain, loss rates and point inflows on the grid, piecewise constant in time.
pub trait Forcing {
    /// Fills `rain_ms` and `loss_ms` (m/s per cell) and `points` (cell, m³/s) with what
    /// holds from `t_s` on, and returns the time (s) until which it holds (after `t_s`;
    /// `f64::INFINITY` when nothing changes again).
    fn rates(
        &mut self,
        t_s: f64,
        rain_ms: &mut [f32],
        loss_ms: &mut [f32],
        points: &mut Vec<(usize, f64)>,
    ) -> Result<f64>;
}

/// Lumped works (reservoirs, detention basins, breaches, diversions) that exchange water
/// with grid cells between solver steps (operator splitting: the grid step first, then
/// the works take and return water at their cells for the same interval).
pub trait Exchange {
    /// Moves water between the grid and the works after a solver step of `dt_s` that
    /// ended at `state.time_s`. Returns the volume sent out of the model by the works
    /// during the step (e.g. a diversion to the sea), m³.
    fn exchange(&mut self, domain: &Domain, state: &mut State, dt_s: f64) -> Result<f64>;
    /// Water held by the works now, m³.
    fn storage_m3(&self) -> f64;
    /// Cells the works may put water into (the solver's wet window must include them).
    fn source_cells(&self) -> Vec<usize>;
    /// Names of the quantities reported at every output time (`structures.csv`).
    fn columns(&self) -> Vec<String>;
    /// Values of those quantities now, in column order.
    fn readings(&self) -> Vec<f64>;
    /// Whether the works change the domain during a run (a breach lowering levee crests);
    /// the run then works on its own copy of the domain.
    fn changes_domain(&self) -> bool {
        false
    }
    /// Applies the works' changes to the domain after [`Exchange::exchange`] (e.g. the
    /// crests of a developing breach), for the next step.
    fn update_domain(&mut self, _domain: &mut Domain) -> Result<()> {
        Ok(())
    }
}

/// No works: the grid alone.
pub struct NoWorks;

impl Exchange for NoWorks {
    fn exchange(&mut self, _: &Domain, _: &mut State, _: f64) -> Result<f64> {
        Ok(0.0)
    }
    fn storage_m3(&self) -> f64 {
        0.0
    }
    fn source_cells(&self) -> Vec<usize> {
        Vec::new()
    }
    fn columns(&self) -> Vec<String> {
        Vec::new()
    }
    fn readings(&self) -> Vec<f64> {
        Vec::new()
    }
}

/// A forcing that never rains.
pub struct NoRain;

impl Forcing for NoRain {
    fn rates(
        &mut self,
        _t_s: f64,
        rain_ms: &mut [f32],
        loss_ms: &mut [f32],
        points: &mut Vec<(usize, f64)>,
    ) -> Result<f64> {
        rain_ms.fill(0.0);
        loss_ms.fill(0.0);
        points.clear();
        Ok(f64::INFINITY)
    }
}

/// A gauge: a named cell whose discharge (sum of the outflow through its four faces,
/// m³/s) and stage (m) are recorded at every output time.
#[derive(Debug, Clone, PartialEq)]
pub struct Gauge {
    /// Name shown in `hydrographs.csv`.
    pub name: String,
    /// Row-major cell index.
    pub cell: usize,
}

/// Times of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunPlan {
    /// Simulated duration, s.
    pub duration_s: f64,
    /// Interval between recorded outputs (depth snapshots, hydrographs), s.
    pub output_interval_s: f64,
}

/// One output time: gauge readings and the mass balance so far.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Simulated time, s.
    pub time_s: f64,
    /// Discharge (m³/s) and stage (m) per gauge, in gauge order.
    pub gauges: Vec<(f64, f64)>,
    /// Volumes since the start, m³.
    pub volumes: Volumes,
    /// Water on the grid, m³.
    pub storage_m3: f64,
    /// Water held by the works (reservoirs, detention basins), m³.
    pub works_storage_m3: f64,
    /// Water the works sent out of the model since the start (diversions to the sea), m³.
    pub works_out_m3: f64,
    /// The works' readings ([`Exchange::readings`]).
    pub works: Vec<f64>,
    /// Change of all water held (grid and works) plus what the works sent out, minus the
    /// grid's net input, m³ (0 for perfect conservation).
    pub mass_error_m3: f64,
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// Largest depth per cell, m.
    pub max_depth_m: Vec<f32>,
    /// Largest depth-averaged speed per cell, m/s.
    pub max_speed_ms: Vec<f32>,
    /// First time the depth exceeded [`ARRIVAL_DEPTH_M`], h (NaN: never).
    pub arrival_h: Vec<f32>,
    /// Time spent above [`DURATION_DEPTH_M`], h.
    pub duration_over_0p5m_h: Vec<f32>,
    /// Depth snapshots at the output times, m.
    pub snapshots: Vec<Vec<f32>>,
    /// Output records (the first at t = 0).
    pub records: Vec<Record>,
    /// Solver steps taken.
    pub steps: usize,
    /// Cell updates (cells in the updated window, summed over steps).
    pub cell_updates: u64,
    /// Wall time of the time loop, s.
    pub loop_seconds: f64,
}

fn gauge_reading(domain: &Domain, state: &State, cell: usize) -> (f64, f64) {
    // Outflow through the four faces, floodplain and subgrid channel together.
    let out = routing::cell_outflow_m3s(domain, state, cell).unwrap_or(f64::NAN);
    let stage = routing::stage_m(domain, state, cell).unwrap_or(f64::NAN);
    (out, stage)
}

/// Runs the solver from `state` for `plan.duration_s`, with `forcing` for rain, losses
/// and point inflows, and no structures.
pub fn simulate(
    domain: &Domain,
    state: &mut State,
    forcing: &mut dyn Forcing,
    gauges: &[Gauge],
    plan: RunPlan,
    params: &Params,
) -> Result<Simulation> {
    simulate_with_works(domain, state, forcing, &mut NoWorks, gauges, plan, params)
}

/// Runs the solver as [`simulate`] does, with `works` exchanging water with the grid
/// after every step.
pub fn simulate_with_works(
    domain: &Domain,
    state: &mut State,
    forcing: &mut dyn Forcing,
    works: &mut dyn Exchange,
    gauges: &[Gauge],
    plan: RunPlan,
    params: &Params,
) -> Result<Simulation> {
    let (nr, nc) = (domain.nrows(), domain.ncols());
    let n = nr * nc;
    if !(plan.duration_s > 0.0 && plan.output_interval_s > 0.0) {
        return Err(Error::Data(format!(
            "run plan: duration {} s and output interval {} s must be positive",
            plan.duration_s, plan.output_interval_s
        )));
    }
    for g in gauges {
        if g.cell >= n {
            return Err(Error::Data(format!(
                "gauge {} lies outside the grid",
                g.name
            )));
        }
    }
    let dx = domain.dx_m();
    // A breach lowers levee crests as it develops: the run then steps on its own copy.
    let mut own_domain: Option<Domain> = works.changes_domain().then(|| domain.clone());
    let mut scratch = Scratch::new(domain, state);
    let mut rain = vec![0.0f32; n];
    let mut loss = vec![0.0f32; n];
    let mut points: Vec<(usize, f64)> = Vec::new();
    let mut forcing_until = state.time_s;
    let t0 = state.time_s;
    let t_end = t0 + plan.duration_s;
    let storage0 = routing::storage_m3(domain, state) + works.storage_m3();
    let mut volumes = Volumes::default();
    let mut works_out_m3 = 0.0f64;
    let works_cells = works.source_cells();
    let mut sim = Simulation {
        // Depth above the floodplain: channel cells below bank hold negative depths.
        max_depth_m: state.depth_m.iter().map(|h| h.max(0.0)).collect(),
        max_speed_ms: vec![0.0; n],
        arrival_h: vec![f32::NAN; n],
        duration_over_0p5m_h: vec![0.0; n],
        snapshots: vec![state.depth_m.iter().map(|h| h.max(0.0)).collect()],
        records: Vec::new(),
        steps: 0,
        cell_updates: 0,
        loop_seconds: 0.0,
    };
    let record = |state: &State, volumes: Volumes, works: &dyn Exchange, out_m3: f64| {
        let storage = routing::storage_m3(domain, state);
        let held = works.storage_m3();
        Record {
            time_s: state.time_s,
            gauges: gauges
                .iter()
                .map(|g| gauge_reading(domain, state, g.cell))
                .collect(),
            volumes,
            storage_m3: storage,
            works_storage_m3: held,
            works_out_m3: out_m3,
            works: works.readings(),
            mass_error_m3: (storage + held - storage0) + out_m3 - volumes.net_m3(),
        }
    };
    sim.records
        .push(record(state, volumes, works, works_out_m3));
    let mut next_output = t0 + plan.output_interval_s;
    let start = std::time::Instant::now();
    while state.time_s < t_end - 1e-9 {
        if state.time_s >= forcing_until - 1e-9 {
            forcing_until = forcing.rates(state.time_s, &mut rain, &mut loss, &mut points)?;
            if forcing_until <= state.time_s {
                return Err(Error::Data(format!(
                    "forcing at t = {} s gave no positive interval",
                    state.time_s
                )));
            }
        }
        let t_limit = t_end.min(next_output).min(forcing_until);
        let sources = Sources {
            rain_ms: routing::Rate::PerCell(&rain),
            loss_ms: routing::Rate::PerCell(&loss),
            points: &points,
            lines: &[],
        };
        let dom = own_domain.as_ref().unwrap_or(domain);
        let rep = routing::step(dom, state, &sources, params, &mut scratch, t_limit)?;
        volumes.add(&rep.volumes);
        works_out_m3 += works.exchange(dom, state, rep.dt_s)?;
        if let Some(d) = own_domain.as_mut() {
            works.update_domain(d)?;
        }
        for &c in &works_cells {
            scratch.note_cell(domain, state, c);
        }
        sim.steps += 1;
        sim.cell_updates += rep.window_cells as u64;
        track_maxima(domain, state, &mut sim, rep.dt_s, dx);
        if state.time_s >= next_output - 1e-9 {
            sim.snapshots
                .push(state.depth_m.iter().map(|h| h.max(0.0)).collect());
            sim.records
                .push(record(state, volumes, works, works_out_m3));
            next_output += plan.output_interval_s;
        }
    }
    sim.loop_seconds = start.elapsed().as_secs_f64();
    Ok(sim)
}

/// Updates the per-cell maxima, arrival times and durations after a step of `dt_s`.
fn track_maxima(domain: &Domain, state: &State, sim: &mut Simulation, dt_s: f64, _dx: f64) {
    let nc = domain.ncols();
    let t_h = (state.time_s / 3600.0) as f32;
    let dt_h = (dt_s / 3600.0) as f32;
    let qx = &state.qx_m2s;
    let qy = &state.qy_m2s;
    let isa = Isa::current();
    sim.max_depth_m
        .par_chunks_mut(nc)
        .zip(sim.max_speed_ms.par_chunks_mut(nc))
        .zip(sim.arrival_h.par_chunks_mut(nc))
        .zip(sim.duration_over_0p5m_h.par_chunks_mut(nc))
        .zip(state.depth_m.par_chunks(nc))
        .with_min_len(4)
        .enumerate()
        .for_each(|(r, ((((hmax, vmax), arr), dur), h))| {
            let q = [
                &qx[r * (nc + 1)..(r + 1) * (nc + 1)],
                &qy[r * nc..(r + 1) * nc],
                &qy[(r + 1) * nc..(r + 2) * nc],
            ];
            maxima_row_isa(isa, [hmax, vmax, arr, dur], h, q, t_h, dt_h);
        });
}

multiversion! {
    /// [`track_maxima`] for one row: `out` = (max depth, max speed, arrival time, duration
    /// over 0.5 m), `h` the depths, `q` = (x faces, one more than cells; north faces; south
    /// faces). Every branch is a select, so the loop vectorises; the speed is computed on every
    /// cell and kept only where the depth passes 1 cm.
    fn maxima_row[](
        out: [&mut [f32]; 4],
        h: &[f32],
        q: [&[f32]; 3],
        t_h: f32,
        dt_h: f32,
    ) -> () as [] {
        let [hmax, vmax, arr, dur] = out;
        let n = h.len();
        let (hmax, vmax) = (&mut hmax[..n], &mut vmax[..n]);
        let (arr, dur) = (&mut arr[..n], &mut dur[..n]);
        let (qx, qn, qs) = (&q[0][..n + 1], &q[1][..n], &q[2][..n]);
        for c in 0..n {
            let d = h[c];
            hmax[c] = if d > hmax[c] { d } else { hmax[c] };
            arr[c] = if d > ARRIVAL_DEPTH_M && arr[c].is_nan() {
                t_h
            } else {
                arr[c]
            };
            dur[c] += if d > DURATION_DEPTH_M { dt_h } else { 0.0 };
            let ux = 0.5 * (qx[c] + qx[c + 1]);
            let uy = 0.5 * (qn[c] + qs[c]);
            let v = (ux * ux + uy * uy).sqrt() / d;
            vmax[c] = if d > 0.01 && v > vmax[c] { v } else { vmax[c] };
        }
    }
    /// [`maxima_row`] at the instruction-set level `isa`.
    dispatch maxima_row_isa;
}
