//! Lifeline exposure and damage per spatial group and lifeline type.
//!
//! A component belongs to a group when it lies in one of the group's cells: a node by
//! its location, a link by any of its sample points (every 0.5 km,
//! [`crate::lifelines::damage::link_samples`]); the link's `length_km` in the group is
//! the length of its pieces whose middle lies in the group. For each (group, lifeline):
//!
//! - **exposed**: components flooded past their functional depth threshold, or with
//!   P(DS ≥ moderate) ≥ 0.5 under the shaking (pipes: P(≥ 1 break) ≥ 0.5);
//! - **expected_damaged**: Σ over components of the probability of being out of service
//!   at the event: 1 when flooded, else P(DS ≥ the class's `nonfunctional_from` state)
//!   (Hazus fragility; pipes P(≥ 1 break), or P(≥ 1 repair) where leaks stop service);
//! - **not_assessed**: components for which one of the run's hazards has no model in
//!   `models/fragility.toml` (e.g. bridges on Sa(1 s), canals under flood) or no value
//!   on them (outside the grids; a pipe without a PGV grid);
//! - **service_kept_share**: the Monte Carlo mean, right after the event, of the share
//!   of the group's nodes of that lifeline that still reach a source, counted among the
//!   nodes that reach one on the undamaged network;
//! - **paths_intact / paths_after_p50**: edge-disjoint paths from the sources into the
//!   group (max-flow, [`Topology::edge_disjoint_paths`]) on the undamaged network, and
//!   the lower median over the realisations right after the event;
//! - **days_to_90pct, resilience_loss_pct_days**: from the mean functionality Q(t)
//!   (the same share, with Hazus restoration) on a time grid: the first t with
//!   Q ≥ 90 %, and ∫₀^T (100 − Q(t)) dt by the trapezoid rule ([`recovery_metrics`]).
//!
//! The realisations are those of [`run_monte_carlo`] (SplitMix64 streams seeded by
//! (seed, realisation)), so the path counts and the functionality see the same damage;
//! all results are identical on any number of threads.
//!
//! # Reference
//! FEMA, HAZUS-MH Technical Manual, Earthquake Model, chapter 8 (fragility, restoration).
//! Bruneau, M. et al. (2003), A framework to quantitatively assess and enhance the
//! seismic resilience of communities, Earthquake Spectra 19(4), 733–752 (resilience
//! loss as the area above Q(t)).

use super::GroupZones;
use crate::grid::warp::{transform_points, GridSpec};
use crate::lifelines::damage::{link_samples, sample_damage, ComponentHazard};
use crate::lifelines::fragility::{Flood, Fragility, Shaking};
use crate::lifelines::{
    run_monte_carlo, GroupMembers, LifelineType, MonteCarloConfig, Network, Topology,
};
use crate::Result;
use rayon::prelude::*;
use std::collections::VecDeque;

/// Share of service a group must regain for [`LifelineRow::days_to_90pct`].
pub const RECOVERY_TARGET: f64 = 0.9;

/// P(DS ≥ moderate) at or above which a component counts as exposed to shaking.
pub const EXPOSED_P_MODERATE: f64 = 0.5;

/// Which hazards a run holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct HazardsPresent {
    /// A PGA grid (earthquake).
    pub pga: bool,
    /// A PGV grid (buried pipes).
    pub pgv: bool,
    /// A flood depth grid.
    pub flood: bool,
}

/// Monte Carlo settings of the lifeline products.
#[derive(Debug, Clone, PartialEq)]
pub struct LifelineSettings {
    /// Seed of the damage streams.
    pub seed: u64,
    /// Number of damage realisations.
    pub realisations: usize,
    /// Times after the event for Q(t), days, ascending from 0.
    pub times_days: Vec<f64>,
}

/// One row of `exposure_lifelines.csv`. Options are None (an empty cell) where the
/// group has no component, or no node, of that lifeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LifelineRow {
    /// Group id.
    pub group_id: String,
    /// Lifeline type.
    pub lifeline: LifelineType,
    /// Nodes and links of the lifeline in the group.
    pub components: usize,
    /// Length of the lifeline's links inside the group, km.
    pub length_km: f64,
    /// Components flooded or with P(DS ≥ moderate) ≥ 0.5.
    pub exposed: Option<usize>,
    /// Σ P(out of service at the event) over the components.
    pub expected_damaged: Option<f64>,
    /// Mean share (0–1) of the group's served nodes still served after the event.
    pub service_kept_share: Option<f64>,
    /// Edge-disjoint paths from the sources into the group, undamaged network.
    pub paths_intact: Option<u32>,
    /// Lower median of the same after damage, over the realisations.
    pub paths_after_p50: Option<u32>,
    /// First time with mean Q(t) ≥ 90 %, days (None also when not reached by T).
    pub days_to_90pct: Option<f64>,
    /// ∫₀^T (100 − Q(t)) dt, % · days.
    pub resilience_loss_pct_days: Option<f64>,
    /// Components not assessed for at least one of the run's hazards.
    pub not_assessed: Option<usize>,
}

/// Whole-network totals of one lifeline.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LifelineTotal {
    /// Lifeline type.
    pub lifeline: LifelineType,
    /// Nodes and links.
    pub components: usize,
    /// Length of all links, km.
    pub length_km: f64,
    /// Exposed components.
    pub exposed: usize,
    /// Σ P(out of service at the event).
    pub expected_damaged: f64,
    /// Components not assessed.
    pub not_assessed: usize,
}

/// Rows, totals and diagnostics of [`lifeline_exposure`].
#[derive(Debug, Clone, PartialEq)]
pub struct LifelineOutcome {
    /// One row per group × [`LifelineType::ALL`], groups in zone order.
    pub rows: Vec<LifelineRow>,
    /// One total per lifeline type present in the network.
    pub totals: Vec<LifelineTotal>,
    /// Nodes that reach no source even on the undamaged network (left out of the
    /// service shares).
    pub unserved_intact_nodes: usize,
    /// (group, lifeline) rows whose Q(t) did not reach 90 % by the horizon.
    pub not_recovered: usize,
}

/// Where each component (nodes, then links) lies on a grid: (row-major cell index,
/// km of the component represented there; 0 for nodes). Points outside the grid are
/// left out.
pub fn component_cells(net: &Network, spec: &GridSpec) -> Result<Vec<Vec<(usize, f64)>>> {
    let mut pts: Vec<(f64, f64)> = net.nodes.iter().map(|n| (n.lon, n.lat)).collect();
    let mut lens = vec![0.0; pts.len()];
    let mut owner: Vec<usize> = (0..pts.len()).collect();
    for (k, l) in net.links.iter().enumerate() {
        for (p, w) in link_samples(&l.path) {
            pts.push(p);
            lens.push(w);
            owner.push(net.nodes.len() + k);
        }
    }
    let xy = transform_points(&pts, "EPSG:4326", &spec.crs_wkt)?;
    let mut out = vec![Vec::new(); net.components()];
    let t = &spec.transform;
    for (((x, y), w), c) in xy.into_iter().zip(lens).zip(owner) {
        let (r, col) = t.fractional_index(x, y);
        if r >= 0.0 && col >= 0.0 && r < spec.rows as f64 && col < spec.cols as f64 {
            out[c].push((r as usize * spec.cols + col as usize, w));
        }
    }
    Ok(out)
}

/// The lifeline of component `c` (nodes first, then links).
fn lifeline_of(net: &Network, c: usize) -> LifelineType {
    if c < net.nodes.len() {
        net.nodes[c].lifeline
    } else {
        net.links[c - net.nodes.len()].lifeline
    }
}

/// True when every hazard of the run has a model for the component's class and a value
/// on the component (see the module notes).
pub fn is_assessed(h: &ComponentHazard, fragility: &Fragility, present: HazardsPresent) -> bool {
    let class = &fragility.classes[h.class];
    let quake_ok = !present.pga
        || match &class.shaking {
            Shaking::Lognormal { .. } => h.pga_g.is_some(),
            Shaking::RepairRate { .. } => present.pgv && h.pgv_cms.is_some(),
            Shaking::NotAssessed { .. } => false,
        };
    let flood_ok = !present.flood
        || match &class.flood {
            Flood::Threshold { .. } => h.depth_m.is_some(),
            Flood::NotAssessed { .. } => false,
        };
    quake_ok && flood_ok
}

/// Probability that the component is out of service at the event: 1 when flooded, else
/// P(DS ≥ its non-functional state) (Hazus; for pipes the Poisson break or repair
/// probability).
pub fn p_out(h: &ComponentHazard) -> f64 {
    if h.flooded {
        1.0
    } else {
        let k = (h.nonfunctional_from.clamp(1, 4) - 1) as usize;
        h.p_exceed[k]
    }
}

/// True when the component is flooded or P(DS ≥ moderate) ≥ [`EXPOSED_P_MODERATE`].
pub fn is_exposed(h: &ComponentHazard) -> bool {
    h.flooded || h.p_exceed[1] >= EXPOSED_P_MODERATE
}

/// Days to regain [`RECOVERY_TARGET`] (first time with q ≥ 0.9; None if never) and the
/// resilience loss ∫ (100 − 100·q) dt over the time grid by the trapezoid rule, % · days
/// (Bruneau et al. 2003). `q` is the functionality (0–1) at each of `times_days`.
pub fn recovery_metrics(times_days: &[f64], q: &[f64]) -> (Option<f64>, f64) {
    let days = times_days
        .iter()
        .zip(q)
        .find(|(_, &v)| v >= RECOVERY_TARGET - 1e-12)
        .map(|(&t, _)| t);
    let loss = times_days
        .windows(2)
        .zip(q.windows(2))
        .map(|(t, v)| (t[1] - t[0]) * (200.0 - 100.0 * (v[0] + v[1])) / 2.0)
        .fold(0.0, |a, b| a + b);
    (days, loss)
}

/// Lower median of integer samples (the ⌈n/2⌉-th smallest); 0 for none.
fn lower_median(mut v: Vec<u32>) -> u32 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    v[(v.len() - 1) / 2]
}

/// Lifeline rows for every group and lifeline type: `hazards` from
/// [`crate::lifelines::assess`] on `net`, `places` from [`component_cells`] on the
/// zones' grid. Parallel over groups and realisations; deterministic.
pub fn lifeline_exposure(
    net: &Network,
    fragility: &Fragility,
    hazards: &[ComponentHazard],
    present: HazardsPresent,
    places: &[Vec<(usize, f64)>],
    zones: &GroupZones,
    settings: &LifelineSettings,
) -> LifelineOutcome {
    let n_nodes = net.nodes.len();
    let n_comp = net.components();
    // Components of each group with their length inside it.
    let in_group: Vec<Vec<(usize, f64)>> = zones
        .zones
        .par_iter()
        .map(|z| {
            let mut v = Vec::new();
            for (c, pl) in places.iter().enumerate() {
                let mut hit = false;
                let mut km = 0.0;
                for &(cell, w) in pl {
                    if z.cells.binary_search(&cell).is_ok() {
                        hit = true;
                        km += w;
                    }
                }
                if hit {
                    v.push((c, if c < n_nodes { 0.0 } else { km }));
                }
            }
            v
        })
        .collect();
    let group_nodes: Vec<Vec<usize>> = in_group
        .iter()
        .map(|v| v.iter().map(|&(c, _)| c).filter(|&c| c < n_nodes).collect())
        .collect();

    // Nodes served on the undamaged network.
    let topo = Topology::new(net);
    let all_ok = vec![true; n_comp];
    let mut served = Vec::new();
    topo.served(net, &all_ok, &mut served, &mut VecDeque::new());
    let unserved_intact_nodes = served.iter().filter(|s| !**s).count();

    // Functionality Q(t) per group and lifeline, over the served nodes.
    let members = GroupMembers {
        ids: zones.zones.iter().map(|z| z.id.clone()).collect(),
        names: zones.zones.iter().map(|z| z.name.clone()).collect(),
        members: group_nodes
            .iter()
            .map(|m| m.iter().copied().filter(|&v| served[v]).collect())
            .collect(),
    };
    let mc = run_monte_carlo(
        net,
        fragility,
        hazards,
        &members,
        &MonteCarloConfig {
            realisations: settings.realisations,
            seed: settings.seed,
            times_days: settings.times_days.clone(),
            keep_states: false,
        },
    );

    // Edge-disjoint paths per (group, lifeline) with nodes, intact and per realisation.
    let pairs: Vec<(usize, LifelineType)> = group_nodes
        .iter()
        .enumerate()
        .flat_map(|(g, m)| {
            LifelineType::ALL
                .into_iter()
                .filter(|l| m.iter().any(|&v| net.nodes[v].lifeline == *l))
                .map(move |l| (g, l))
        })
        .collect();
    let intact: Vec<u32> = pairs
        .par_iter()
        .map(|&(g, l)| topo.edge_disjoint_paths(net, l, &group_nodes[g], &all_ok))
        .collect();
    let after: Vec<Vec<u32>> = (0..settings.realisations)
        .into_par_iter()
        .map_init(Vec::new, |buf, r| {
            sample_damage(hazards, fragility, settings.seed, r as u64, buf);
            let ok: Vec<bool> = buf.iter().map(|d| d.functional_at(0.0)).collect();
            let mut hit = [false; 6];
            for (c, &o) in ok.iter().enumerate() {
                if !o {
                    hit[lifeline_of(net, c).index()] = true;
                }
            }
            pairs
                .iter()
                .zip(&intact)
                .map(|(&(g, l), &i)| {
                    if hit[l.index()] {
                        topo.edge_disjoint_paths(net, l, &group_nodes[g], &ok)
                    } else {
                        i
                    }
                })
                .collect()
        })
        .collect();
    let p50: Vec<u32> = (0..pairs.len())
        .map(|k| lower_median(after.iter().map(|r| r[k]).collect()))
        .collect();

    // Rows.
    let mut rows = Vec::with_capacity(zones.zones.len() * 6);
    let mut not_recovered = 0;
    for (g, z) in zones.zones.iter().enumerate() {
        for l in LifelineType::ALL {
            let comps: Vec<(usize, f64)> = in_group[g]
                .iter()
                .copied()
                .filter(|&(c, _)| lifeline_of(net, c) == l)
                .collect();
            let mut row = LifelineRow {
                group_id: z.id.clone(),
                lifeline: l,
                components: comps.len(),
                length_km: comps.iter().fold(0.0, |a, c| a + c.1),
                exposed: None,
                expected_damaged: None,
                service_kept_share: None,
                paths_intact: None,
                paths_after_p50: None,
                days_to_90pct: None,
                resilience_loss_pct_days: None,
                not_assessed: None,
            };
            if !comps.is_empty() {
                row.exposed = Some(comps.iter().filter(|c| is_exposed(&hazards[c.0])).count());
                row.expected_damaged =
                    Some(comps.iter().fold(0.0, |a, c| a + p_out(&hazards[c.0])));
                row.not_assessed = Some(
                    comps
                        .iter()
                        .filter(|c| !is_assessed(&hazards[c.0], fragility, present))
                        .count(),
                );
            }
            if let Some(k) = pairs.iter().position(|&p| p == (g, l)) {
                row.paths_intact = Some(intact[k]);
                row.paths_after_p50 = Some(p50[k]);
            }
            if let Some(q) = mc.functionality(g, l) {
                row.service_kept_share = q.first().copied();
                let (days, loss) = recovery_metrics(&settings.times_days, &q);
                if days.is_none() {
                    not_recovered += 1;
                }
                row.days_to_90pct = days;
                row.resilience_loss_pct_days = Some(loss);
            }
            rows.push(row);
        }
    }

    // Whole-network totals.
    let totals = LifelineType::ALL
        .into_iter()
        .filter_map(|l| {
            let comps: Vec<usize> = (0..n_comp).filter(|&c| lifeline_of(net, c) == l).collect();
            (!comps.is_empty()).then(|| LifelineTotal {
                lifeline: l,
                components: comps.len(),
                length_km: net
                    .links
                    .iter()
                    .filter(|k| k.lifeline == l)
                    .map(|k| k.length_km)
                    .fold(0.0, |a, b| a + b),
                exposed: comps.iter().filter(|&&c| is_exposed(&hazards[c])).count(),
                expected_damaged: comps
                    .iter()
                    .map(|&c| p_out(&hazards[c]))
                    .fold(0.0, |a, b| a + b),
                not_assessed: comps
                    .iter()
                    .filter(|&&c| !is_assessed(&hazards[c], fragility, present))
                    .count(),
            })
        })
        .collect();
    LifelineOutcome {
        rows,
        totals,
        unserved_intact_nodes,
        not_recovered,
    }
}
