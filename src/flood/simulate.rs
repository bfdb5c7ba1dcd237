//! The time loop of a flood run: forcing, routing steps, gauges, maxima and snapshots.
//!
//! [`simulate`] advances the local-inertial solver ([`super::routing`]) from the
//! initial state to the end time. Rain and losses come from a [`Forcing`], which hands
//! out per-cell rates that hold over an interval (a rain time step), so that the solver's
//! adaptive steps never straddle a change of forcing. At every step the maxima (depth,
//! speed, the hazard product `d (v + 0.5)`), the arrival time (first depth above 0.1 m)
//! and the time above 0.5 m are updated per cell; at every output time the depth grid,
//! the gauge discharges and stages, and the running mass balance are recorded.
//!
//! # Velocity
//! The speed is computed from the face discharges the solver carries, as LISFLOOD-FP
//! reports its face velocities (Bates et al. 2010): on each face `u = q / h_flow` with the
//! face's flow depth `h_flow = max(η_i, η_j) − max(z_i, z_j, crest)` from the water
//! levels at the start of the step, the depth the momentum equation divided by when it
//! computed `q` (de Almeida et al. 2012, eq. 11), and 0 where `h_flow` ≤ [`VELOCITY_DEPTH_M`]; a cell's speed is
//! `√(ū_x² + ū_y²)` with `ū_x`, `ū_y` the means of its two x and two y faces, kept only
//! where the cell's depth exceeds [`VELOCITY_DEPTH_M`]. Dividing a face discharge by the
//! depth of the cell it enters (`|q| / d`) instead gave hundreds of m/s where a river
//! spilled into a cell a few centimetres deep.

use super::routing::{self, Domain, Params, Scratch, Sources, State, Volumes};
use crate::flood::routing::isa::{multiversion, Isa};
use crate::{Error, Result};
use rayon::prelude::*;

/// Depth above which a cell counts as reached by the flood, m (arrival time).
pub const ARRIVAL_DEPTH_M: f32 = 0.1;
/// Depth for the duration map, m.
pub const DURATION_DEPTH_M: f32 = 0.5;
/// Depth below which no velocity is reported, m, on a face (its flow depth) and on a cell:
/// a speed computed over a film of water is noise, not flow (the 0.05 m threshold is the
/// same order as the wet/dry depths of LISFLOOD-FP practice, 0.001–0.01 m, raised so that
/// the division by a depth stays well conditioned).
pub const VELOCITY_DEPTH_M: f32 = 0.05;

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
    /// Whether the works have settled after the flood, for runs to recession
    /// ([`Recession`]); true for works with no state to settle.
    fn settled(&self) -> bool {
        true
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
    /// Simulated duration, s: with `recession`, the shortest run.
    pub duration_s: f64,
    /// Interval between recorded outputs (depth snapshots, hydrographs), s.
    pub output_interval_s: f64,
    /// Run on after `duration_s` until the flood has passed ([`Recession`]); `None`: stop
    /// at `duration_s`.
    pub recession: Option<Recession>,
}

/// When a run that goes on to recession stops: at the first output time after the
/// shortest duration, once the rain and inflows have ended, at which every gauge has peaked and fallen to `share` of its peak
/// or less (a gauge that never carried 1 m³/s counts as passed) and every structure is
/// settled ([`Exchange::settled`]: a reservoir back at or below its flood-limit level,
/// or releasing no more than its safe release), or at `max_duration_s`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recession {
    /// Share of the peak a gauge must fall to, in (0, 1).
    pub share: f64,
    /// Longest run, s.
    pub max_duration_s: f64,
}

/// Whether every gauge of `records` has peaked and fallen to `share` of its peak or
/// less at the last record (see [`Recession`]).
pub fn gauges_receded(records: &[Record], share: f64) -> bool {
    let Some(last) = records.last() else {
        return false;
    };
    (0..last.gauges.len()).all(|i| {
        let peak = records
            .iter()
            .map(|r| r.gauges[i].0)
            .fold(f64::NEG_INFINITY, f64::max);
        let now = last.gauges[i].0;
        peak < 1.0 || now <= share * peak
    })
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
    /// Largest depth-averaged speed per cell, m/s, from the face discharges over the face
    /// flow depths (see the module's doc), where the depth exceeds [`VELOCITY_DEPTH_M`].
    pub max_speed_ms: Vec<f32>,
    /// Largest `d (v + 0.5)` per cell over the run, m²/s: the depth–velocity part of the
    /// flood hazard rating of Defra/EA FD2320 ([`crate::flood::hazard`]), taken at each
    /// step with that step's depth and speed.
    pub max_depth_velocity_m2s: Vec<f32>,
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
    if let Some(rc) = plan.recession {
        let share_ok = rc.share > 0.0 && rc.share < 1.0;
        let longest_ok = rc.max_duration_s >= plan.duration_s;
        if !(share_ok && longest_ok) {
            return Err(Error::Data(format!(
                "run plan: recession share {} must lie in (0, 1) and the longest run {} s must not be shorter than the run {} s",
                rc.share, rc.max_duration_s, plan.duration_s
            )));
        }
    }
    for g in gauges {
        if g.cell >= n {
            return Err(Error::Data(format!(
                "gauge {} lies outside the grid",
                g.name
            )));
        }
    }
    // A breach lowers levee crests as it develops: the run then steps on its own copy.
    let mut own_domain: Option<Domain> = works.changes_domain().then(|| domain.clone());
    let mut scratch = Scratch::new(domain, state);
    let mut rain = vec![0.0f32; n];
    let mut loss = vec![0.0f32; n];
    let mut points: Vec<(usize, f64)> = Vec::new();
    let mut forcing_until = state.time_s;
    let t0 = state.time_s;
    let t_min = t0 + plan.duration_s;
    let t_end = t0 + plan.recession.map_or(plan.duration_s, |r| r.max_duration_s);
    let storage0 = routing::storage_m3(domain, state) + works.storage_m3();
    let mut volumes = Volumes::default();
    let mut works_out_m3 = 0.0f64;
    let works_cells = works.source_cells();
    let mut sim = Simulation {
        // Depth above the floodplain: channel cells below bank hold negative depths.
        max_depth_m: state.depth_m.iter().map(|h| h.max(0.0)).collect(),
        max_speed_ms: vec![0.0; n],
        max_depth_velocity_m2s: vec![0.0; n],
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
    // Faces without a crest, for the velocities' flow depths on domains without levees.
    let no_crest = vec![f32::NEG_INFINITY; nc + 1];
    // Depths at the start of each step: the face flow depths of its momentum update.
    let mut step_start_depth_m = state.depth_m.clone();
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
        step_start_depth_m.copy_from_slice(&state.depth_m);
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
        let dom = own_domain.as_ref().unwrap_or(domain);
        track_maxima(
            dom,
            state,
            &step_start_depth_m,
            &mut sim,
            rep.dt_s,
            &no_crest,
        );
        if state.time_s >= next_output - 1e-9 {
            sim.snapshots
                .push(state.depth_m.iter().map(|h| h.max(0.0)).collect());
            sim.records
                .push(record(state, volumes, works, works_out_m3));
            next_output += plan.output_interval_s;
            if let Some(rc) = plan.recession {
                // After the rain and the inflows (the forcing in force is all zero).
                let forcing_over =
                    rain.iter().all(|&r| r == 0.0) && points.iter().all(|&(_, q)| q == 0.0);
                if state.time_s >= t_min - 1e-9
                    && forcing_over
                    && gauges_receded(&sim.records, rc.share)
                    && works.settled()
                {
                    break;
                }
            }
        }
    }
    sim.loop_seconds = start.elapsed().as_secs_f64();
    Ok(sim)
}

/// Updates the per-cell maxima, arrival times and durations after a step of `dt_s`;
/// `start_depth_m` holds the depths at the start of the step (the face flow depths of
/// the velocities), `no_crest` `ncols + 1` values of −∞ (faces without a crest).
fn track_maxima<'b>(
    domain: &'b Domain,
    state: &'b State,
    start_depth_m: &'b [f32],
    sim: &mut Simulation,
    dt_s: f64,
    no_crest: &'b [f32],
) {
    let (nr, nc) = (domain.nrows(), domain.ncols());
    let t_h = (state.time_s / 3600.0) as f32;
    let dt_h = (dt_s / 3600.0) as f32;
    let qx = &state.qx_m2s;
    let qy = &state.qy_m2s;
    let h = &state.depth_m;
    let h0 = start_depth_m;
    let z = domain.kernel_bed();
    let crests = domain.crests();
    let isa = Isa::current();
    sim.max_depth_m
        .par_chunks_mut(nc)
        .zip(sim.max_speed_ms.par_chunks_mut(nc))
        .zip(sim.max_depth_velocity_m2s.par_chunks_mut(nc))
        .zip(sim.arrival_h.par_chunks_mut(nc))
        .zip(sim.duration_over_0p5m_h.par_chunks_mut(nc))
        .with_min_len(4)
        .enumerate()
        .for_each_init(
            || vec![0.0f32; nc + 1],
            |ux, (r, ((((hmax, vmax), hv), arr), dur))| {
                // Rows north and south; an edge row is its own neighbour, so that the edge
                // face's flow depth is the cell's own depth (as the kernel's edge faces use).
                let rn = r.saturating_sub(1);
                let rs = (r + 1).min(nr - 1);
                let row = |a: &'b [f32], k: usize| -> &'b [f32] { &a[k * nc..(k + 1) * nc] };
                let q = [
                    &qx[r * (nc + 1)..(r + 1) * (nc + 1)],
                    &qy[r * nc..(r + 1) * nc],
                    &qy[(r + 1) * nc..(r + 2) * nc],
                ];
                // Crests on edge faces are ignored by the kernel: −∞ there.
                let c = match crests {
                    Some(c) => [
                        &c.x_m[r * (nc + 1)..(r + 1) * (nc + 1)],
                        if r == 0 {
                            &no_crest[..nc]
                        } else {
                            &c.y_m[r * nc..(r + 1) * nc]
                        },
                        if r + 1 == nr {
                            &no_crest[..nc]
                        } else {
                            &c.y_m[(r + 1) * nc..(r + 2) * nc]
                        },
                    ],
                    None => [no_crest, &no_crest[..nc], &no_crest[..nc]],
                };
                maxima_row_isa(
                    isa,
                    [hmax, vmax, hv, arr, dur],
                    ux,
                    row(h, r),
                    [row(h0, rn), row(h0, r), row(h0, rs)],
                    [row(z, rn), row(z, r), row(z, rs)],
                    q,
                    c,
                    t_h,
                    dt_h,
                );
            },
        );
}

/// Speed over a face, m/s: `q / h_flow` with `h_flow = max(η_a, η_b) − max(z_a, z_b, crest)`
/// (the flow depth of de Almeida et al. 2012, eq. 11), 0 where `h_flow` ≤
/// [`VELOCITY_DEPTH_M`]. A select, no branch.
#[inline(always)]
fn face_speed(q: f32, eta_a: f32, eta_b: f32, z_a: f32, z_b: f32, crest: f32) -> f32 {
    let hf = eta_a.max(eta_b) - z_a.max(z_b).max(crest);
    let u = q / hf.max(VELOCITY_DEPTH_M);
    if hf > VELOCITY_DEPTH_M {
        u
    } else {
        0.0
    }
}

multiversion! {
    /// [`track_maxima`] for one row: `out` = (max depth, max speed, max `d (v + 0.5)`,
    /// arrival time, duration over 0.5 m); `ux` a buffer for the row's `ncols + 1` x-face
    /// speeds; `h` the row's depths; `h0` and `z` the depths at the start of the step and
    /// the beds of the rows (north, this, south); `q` = (x faces, one more than cells;
    /// north faces; south faces); `crest` the same faces' crests (−∞: none). The x faces
    /// are done first in their own loop, so that every load is contiguous; every branch is
    /// a select, so both loops vectorise. The speed is kept only where the depth passes
    /// [`VELOCITY_DEPTH_M`].
    fn maxima_row[](
        out: [&mut [f32]; 5],
        ux: &mut [f32],
        h: &[f32],
        h0: [&[f32]; 3],
        z: [&[f32]; 3],
        q: [&[f32]; 3],
        crest: [&[f32]; 3],
        t_h: f32,
        dt_h: f32,
    ) -> () as [] {
        let [hmax, vmax, hv, arr, dur] = out;
        let n = h.len();
        let (hmax, vmax, hv) = (&mut hmax[..n], &mut vmax[..n], &mut hv[..n]);
        let (arr, dur) = (&mut arr[..n], &mut dur[..n]);
        let (hn, hc, hs) = (&h0[0][..n], &h0[1][..n], &h0[2][..n]);
        let (zn, zc, zs) = (&z[0][..n], &z[1][..n], &z[2][..n]);
        let (qx, qn, qs) = (&q[0][..n + 1], &q[1][..n], &q[2][..n]);
        let (cx, cn, cs) = (&crest[0][..n + 1], &crest[1][..n], &crest[2][..n]);
        let ux = &mut ux[..n + 1];
        if n == 0 {
            return;
        }
        // Interior x faces 1..n, between cells k − 1 and k.
        {
            let (za, zb, ha, hb) = (&zc[..n - 1], &zc[1..], &hc[..n - 1], &hc[1..]);
            let (qf, cf) = (&qx[1..n], &cx[1..n]);
            let uf = &mut ux[1..n];
            for k in 0..n - 1 {
                uf[k] = face_speed(qf[k], za[k] + ha[k], zb[k] + hb[k], za[k], zb[k], cf[k]);
            }
        }
        // Edge faces: the edge cell's own depth, crests ignored.
        let (e0, e1) = (zc[0] + hc[0], zc[n - 1] + hc[n - 1]);
        let inf = f32::NEG_INFINITY;
        ux[0] = face_speed(qx[0], e0, e0, zc[0], zc[0], inf);
        ux[n] = face_speed(qx[n], e1, e1, zc[n - 1], zc[n - 1], inf);
        for c in 0..n {
            let d = h[c];
            hmax[c] = if d > hmax[c] { d } else { hmax[c] };
            arr[c] = if d > ARRIVAL_DEPTH_M && arr[c].is_nan() {
                t_h
            } else {
                arr[c]
            };
            dur[c] += if d > DURATION_DEPTH_M { dt_h } else { 0.0 };
            let eta = zc[c] + hc[c];
            let un = face_speed(qn[c], zn[c] + hn[c], eta, zn[c], zc[c], cn[c]);
            let us = face_speed(qs[c], eta, zs[c] + hs[c], zc[c], zs[c], cs[c]);
            let vx = 0.5 * (ux[c] + ux[c + 1]);
            let vy = 0.5 * (un + us);
            let v = (vx * vx + vy * vy).sqrt();
            let v = if d > VELOCITY_DEPTH_M { v } else { 0.0 };
            vmax[c] = if v > vmax[c] { v } else { vmax[c] };
            let p = d * (v + 0.5);
            hv[c] = if p > hv[c] { p } else { hv[c] };
        }
    }
    /// [`maxima_row`] at the instruction-set level `isa`.
    dispatch maxima_row_isa;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flood::routing::Boundaries;

    /// A river cell 10 m up (1 m of water) spills 2 m²/s into a cell 6 cm deep: the speed
    /// is the face's `q / h_flow` = 2 / 1 m/s averaged over the cell's two x faces, not
    /// `|q| / d` = 1 / 0.06 ≈ 17 m/s over the shallow cell's own depth.
    #[test]
    fn a_shallow_cell_under_a_large_face_flux_gets_the_face_velocity() {
        let domain = Domain::new(
            1,
            3,
            100.0,
            vec![10.0, 0.0, 0.0],
            vec![0.05; 3],
            Boundaries::closed(),
        )
        .unwrap();
        let mut state = State::dry(&domain);
        state.depth_m = vec![1.0, 0.06, 0.0];
        state.qx_m2s = vec![0.0, 2.0, 0.0, 0.0];
        let mut sim = Simulation {
            max_depth_m: vec![0.0; 3],
            max_speed_ms: vec![0.0; 3],
            max_depth_velocity_m2s: vec![0.0; 3],
            arrival_h: vec![f32::NAN; 3],
            duration_over_0p5m_h: vec![0.0; 3],
            snapshots: Vec::new(),
            records: Vec::new(),
            steps: 0,
            cell_updates: 0,
            loop_seconds: 0.0,
        };
        track_maxima(
            &domain,
            &state,
            &state.depth_m,
            &mut sim,
            1.0,
            &[f32::NEG_INFINITY; 4],
        );
        let old = 0.5 * 2.0 / 0.06;
        assert!(old > 10.0);
        assert!(
            (sim.max_speed_ms[1] - 1.0).abs() < 1e-6,
            "{:?}",
            sim.max_speed_ms
        );
        // The river cell: the same face, half of it in its x mean.
        assert!(
            (sim.max_speed_ms[0] - 1.0).abs() < 1e-6,
            "{:?}",
            sim.max_speed_ms
        );
        // The dry cell gets no speed; d (v + 0.5) on the shallow cell is 0.06 × 1.5.
        assert_eq!(sim.max_speed_ms[2], 0.0);
        assert!((sim.max_depth_velocity_m2s[1] - 0.09).abs() < 1e-6);
        // Below the velocity depth (5 cm) a cell reports no speed at all.
        state.depth_m[1] = 0.04;
        let mut shallow = sim.clone();
        shallow.max_speed_ms = vec![0.0; 3];
        track_maxima(
            &domain,
            &state,
            &state.depth_m,
            &mut shallow,
            1.0,
            &[f32::NEG_INFINITY; 4],
        );
        assert_eq!(shallow.max_speed_ms[1], 0.0);
    }
}
