//! Monte Carlo of lifeline damage, service and restoration per spatial group.
//!
//! Each realisation samples the damage of every component ([`sample_damage`]), then, at
//! each of the requested times after the event, marks the components back in service
//! (Hazus restoration functions) and finds which nodes still reach a source
//! ([`Topology::served`]). Functionality Q(t) of a group for a lifeline is the expected
//! fraction of the group's nodes of that lifeline that are served at t; the reach
//! probability is the fraction of realisations in which at least one is. Realisations
//! run in parallel (rayon); all tallies are integer counts, so the result is identical
//! on any number of threads.
//!
//! # Reference
//! FEMA, HAZUS-MH Technical Manual, Earthquake Model, chapter 8 (restoration curves
//! and system functionality); Bruneau, M. et al. (2003), A framework to quantitatively
//! assess and enhance the seismic resilience of communities, Earthquake Spectra 19(4),
//! 733–752 (functionality Q(t)).

use super::connectivity::Topology;
use super::damage::{sample_damage, ComponentHazard, SampledDamage};
use super::fragility::Fragility;
use super::network::{LifelineType, Network};
use super::zones::GroupMembers;
use rayon::prelude::*;
use std::collections::VecDeque;

/// Monte Carlo settings.
#[derive(Debug, Clone, PartialEq)]
pub struct MonteCarloConfig {
    /// Number of damage realisations.
    pub realisations: usize,
    /// Seed of the random streams.
    pub seed: u64,
    /// Times after the event at which service is evaluated, days (0 = at the event).
    pub times_days: Vec<f64>,
    /// Keep every sampled damage state (realisations × components bytes).
    pub keep_states: bool,
}

/// Monte Carlo tallies.
#[derive(Debug, Clone, PartialEq)]
pub struct MonteCarloResult {
    /// Number of realisations.
    pub realisations: usize,
    /// Evaluation times, days.
    pub times_days: Vec<f64>,
    /// Per component (nodes then links): how many realisations ended in each damage
    /// state (none … complete).
    pub state_counts: Vec<[u32; 5]>,
    /// Per component: realisations in which it was out of service at the event.
    pub out_counts: Vec<u32>,
    /// Per group × lifeline: number of the group's nodes of that lifeline.
    pub group_nodes: Vec<[u32; 6]>,
    /// Served node count summed over realisations, index
    /// `(group * 6 + lifeline) * times + time`.
    pub served_sum: Vec<u64>,
    /// Realisations with at least one served node, same index.
    pub reached_count: Vec<u32>,
    /// The sampled states, realisation-major (only with `keep_states`).
    pub states: Option<Vec<Vec<u8>>>,
}

impl MonteCarloResult {
    fn index(&self, group: usize, lifeline: LifelineType, time: usize) -> usize {
        (group * 6 + lifeline.index()) * self.times_days.len() + time
    }
    /// Functionality Q(t) of a group for a lifeline at each time (expected fraction of
    /// its nodes served, 0–1); None when the group has no node of that lifeline.
    pub fn functionality(&self, group: usize, lifeline: LifelineType) -> Option<Vec<f64>> {
        let n = self.group_nodes[group][lifeline.index()];
        (n > 0).then(|| {
            (0..self.times_days.len())
                .map(|t| {
                    self.served_sum[self.index(group, lifeline, t)] as f64
                        / (n as f64 * self.realisations as f64)
                })
                .collect()
        })
    }
    /// Probability that a group still reaches a source of a lifeline at each time; None
    /// when the group has no node of that lifeline.
    pub fn reach_probability(&self, group: usize, lifeline: LifelineType) -> Option<Vec<f64>> {
        let n = self.group_nodes[group][lifeline.index()];
        (n > 0).then(|| {
            (0..self.times_days.len())
                .map(|t| {
                    self.reached_count[self.index(group, lifeline, t)] as f64
                        / self.realisations as f64
                })
                .collect()
        })
    }
}

/// Integer tallies of a batch of realisations (associative, so rayon's reduction order
/// cannot change the result).
struct Tally {
    state_counts: Vec<[u32; 5]>,
    out_counts: Vec<u32>,
    served_sum: Vec<u64>,
    reached_count: Vec<u32>,
}

impl Tally {
    fn new(components: usize, cells: usize) -> Self {
        Tally {
            state_counts: vec![[0; 5]; components],
            out_counts: vec![0; components],
            served_sum: vec![0; cells],
            reached_count: vec![0; cells],
        }
    }
    fn merge(mut self, other: Tally) -> Tally {
        for (a, b) in self.state_counts.iter_mut().zip(&other.state_counts) {
            for k in 0..5 {
                a[k] += b[k];
            }
        }
        for (a, b) in self.out_counts.iter_mut().zip(&other.out_counts) {
            *a += b;
        }
        for (a, b) in self.served_sum.iter_mut().zip(&other.served_sum) {
            *a += b;
        }
        for (a, b) in self.reached_count.iter_mut().zip(&other.reached_count) {
            *a += b;
        }
        self
    }
}

/// Scratch buffers of one worker.
struct Scratch {
    damage: Vec<SampledDamage>,
    ok: Vec<bool>,
    served: Vec<bool>,
    queue: VecDeque<usize>,
    group_served: Vec<u32>,
}

/// Runs the Monte Carlo: `hazards` from [`super::damage::assess`] on the same network
/// and fragility table, groups from [`super::zones::read_group_members`] (or built by
/// hand). Uses the current rayon pool; results do not depend on its size.
pub fn run_monte_carlo(
    net: &Network,
    fragility: &Fragility,
    hazards: &[ComponentHazard],
    groups: &GroupMembers,
    config: &MonteCarloConfig,
) -> MonteCarloResult {
    let topo = Topology::new(net);
    let n_comp = net.components();
    let n_groups = groups.ids.len();
    let n_times = config.times_days.len();
    let cells = n_groups * 6 * n_times;
    let node_groups = groups.node_groups(net.nodes.len());
    let mut group_nodes = vec![[0u32; 6]; n_groups];
    for (g, m) in groups.members.iter().enumerate() {
        for &v in m {
            group_nodes[g][net.nodes[v].lifeline.index()] += 1;
        }
    }
    let new_scratch = || Scratch {
        damage: Vec::with_capacity(n_comp),
        ok: vec![true; n_comp],
        served: Vec::with_capacity(net.nodes.len()),
        queue: VecDeque::new(),
        group_served: vec![0; n_groups * 6],
    };
    let one = |r: usize, s: &mut Scratch, tally: &mut Tally| {
        sample_damage(hazards, fragility, config.seed, r as u64, &mut s.damage);
        for (c, d) in s.damage.iter().enumerate() {
            tally.state_counts[c][d.state as usize] += 1;
            tally.out_counts[c] += d.out as u32;
        }
        for (ti, &t) in config.times_days.iter().enumerate() {
            for (o, d) in s.ok.iter_mut().zip(&s.damage) {
                *o = d.functional_at(t);
            }
            topo.served(net, &s.ok, &mut s.served, &mut s.queue);
            s.group_served.iter_mut().for_each(|x| *x = 0);
            for (v, &is_served) in s.served.iter().enumerate() {
                if is_served {
                    let l = net.nodes[v].lifeline.index();
                    for &g in &node_groups[v] {
                        s.group_served[g as usize * 6 + l] += 1;
                    }
                }
            }
            for (gl, &count) in s.group_served.iter().enumerate() {
                let idx = gl * n_times + ti;
                tally.served_sum[idx] += count as u64;
                tally.reached_count[idx] += (count > 0) as u32;
            }
        }
    };
    let tally = (0..config.realisations)
        .into_par_iter()
        .fold(
            || (Tally::new(n_comp, cells), new_scratch()),
            |(mut tally, mut s), r| {
                one(r, &mut s, &mut tally);
                (tally, s)
            },
        )
        .map(|(t, _)| t)
        .reduce(|| Tally::new(n_comp, cells), Tally::merge);
    let states = config.keep_states.then(|| {
        (0..config.realisations)
            .into_par_iter()
            .map_init(
                || Vec::with_capacity(n_comp),
                |buf, r| {
                    sample_damage(hazards, fragility, config.seed, r as u64, buf);
                    buf.iter().map(|d| d.state).collect::<Vec<u8>>()
                },
            )
            .collect()
    });
    MonteCarloResult {
        realisations: config.realisations,
        times_days: config.times_days.clone(),
        state_counts: tally.state_counts,
        out_counts: tally.out_counts,
        group_nodes,
        served_sum: tally.served_sum,
        reached_count: tally.reached_count,
        states,
    }
}
