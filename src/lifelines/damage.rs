//! Damage of lifeline components from hazard grids: damage-state probabilities per
//! component, and sampled damage for Monte Carlo.
//!
//! Intensities are sampled from grids (PGA in g, PGV in cm/s, flood depth in m; each
//! optional) at every node and along every link, every 0.5 km of its course. A node or
//! PGA-rated link takes the largest PGA on it; a buried pipe sums Hazus repair rates
//! over its length (expected repairs = Σ RR(PGV_i)·Δl_i), and the numbers of breaks and
//! leaks are Poisson; a component is flooded (out of service) where the largest depth
//! on it reaches its functional threshold. Sampling draws, for each realisation, one
//! damage state and one restoration time per component from a SplitMix64 stream seeded
//! by (seed, realisation), so results do not depend on the number of threads.
//!
//! # Reference
//! FEMA, HAZUS-MH Technical Manual, Earthquake Model, chapter 8 (utility systems:
//! fragility, pipeline repair rates, Poisson breaks and leaks, restoration).
//! Steele, G. L., Lea, D. and Flood, C. H. (2014), Fast splittable pseudorandom number
//! generators, OOPSLA '14 (SplitMix64).

use super::fragility::{Flood, Fragility, Shaking};
use super::network::{haversine_km, Network};
use crate::grid::warp::transform_points;
use crate::grid::Grid;
use crate::{Error, Result};

/// Spacing of the sample points along a link, km.
pub const LINK_SAMPLE_KM: f64 = 0.5;

/// Hazard grids for one event; any may be absent (PGV is optional).
#[derive(Debug, Clone, Copy, Default)]
pub struct Intensity<'a> {
    /// Peak ground acceleration, g.
    pub pga_g: Option<&'a Grid<f32>>,
    /// Peak ground velocity, cm/s.
    pub pgv_cms: Option<&'a Grid<f32>>,
    /// Maximum flood depth, m.
    pub flood_depth_m: Option<&'a Grid<f32>>,
}

/// What the hazard does to one component (node or link), before sampling.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentHazard {
    /// Index of the component's class in the fragility table.
    pub class: usize,
    /// Largest PGA on the component, g (None: no grid or outside it).
    pub pga_g: Option<f64>,
    /// Largest PGV on the component, cm/s.
    pub pgv_cms: Option<f64>,
    /// Largest flood depth on the component, m.
    pub depth_m: Option<f64>,
    /// P(DS ≥ slight, moderate, extensive, complete) from shaking (lognormal classes;
    /// for pipes: P(≥ 1 leak or break) at slight and P(≥ 1 break) at complete).
    pub p_exceed: [f64; 4],
    /// Expected pipe repairs (breaks + leaks) from shaking; 0 for other classes.
    pub expected_repairs: f64,
    /// Fraction of repairs that are breaks (pipes).
    pub break_fraction: f64,
    /// True when the flood depth reaches the class's functional threshold.
    pub flooded: bool,
    /// Days out of service after the flood, when flooded.
    pub flood_outage_days: f64,
    /// Damage state (1–4) from which the component is out of service.
    pub nonfunctional_from: u8,
}

impl ComponentHazard {
    /// Probabilities of damage states none, slight, moderate, extensive, complete.
    pub fn state_probabilities(&self) -> [f64; 5] {
        let p = &self.p_exceed;
        [1.0 - p[0], p[0] - p[1], p[1] - p[2], p[2] - p[3], p[3]]
    }
}

/// The sample points of a link: (lon, lat) at the middle of pieces at most
/// [`LINK_SAMPLE_KM`] long, with each piece's length in km.
pub fn link_samples(path: &[(f64, f64)]) -> Vec<((f64, f64), f64)> {
    let mut out = Vec::new();
    for w in path.windows(2) {
        let len = haversine_km(w[0], w[1]);
        let n = ((len / LINK_SAMPLE_KM).ceil() as usize).max(1);
        for k in 0..n {
            let f = (k as f64 + 0.5) / n as f64;
            let p = (
                w[0].0 + f * (w[1].0 - w[0].0),
                w[0].1 + f * (w[1].1 - w[0].1),
            );
            out.push((p, len / n as f64));
        }
    }
    out
}

/// Values of a grid at (lon, lat) points: None outside the grid, at no-data or NaN.
fn sample_grid(grid: &Grid<f32>, lonlat: &[(f64, f64)]) -> Result<Vec<Option<f64>>> {
    if grid.crs_wkt.trim().is_empty() {
        return Err(Error::Data(
            "a hazard grid has no CRS; lifeline sampling needs georeferenced grids".into(),
        ));
    }
    let xy = transform_points(lonlat, "EPSG:4326", &grid.crs_wkt)?;
    Ok(xy
        .into_iter()
        .map(|(x, y)| {
            let (r, c) = grid.cell_of(x, y)?;
            let v = grid.data[[r, c]] as f64;
            let nodata = grid.nodata.is_some_and(|nd| v == nd);
            (v.is_finite() && !nodata).then_some(v)
        })
        .collect())
}

fn max_opt(vals: &[Option<f64>]) -> Option<f64> {
    vals.iter().flatten().copied().reduce(f64::max)
}

/// Assesses every component of a network (nodes first, then links) under one event:
/// intensities sampled from the grids, shaking exceedance probabilities or expected
/// pipe repairs, and the flood state. Errors: a component class missing from the
/// fragility table ([`Error::Invalid`] naming the layer and feature), a grid without CRS.
pub fn assess(
    net: &Network,
    fragility: &Fragility,
    intensity: &Intensity,
) -> Result<Vec<ComponentHazard>> {
    // Sample points: one per node, then each link's pieces.
    let mut pts: Vec<(f64, f64)> = net.nodes.iter().map(|n| (n.lon, n.lat)).collect();
    let mut link_ranges = Vec::with_capacity(net.links.len());
    let mut weights = Vec::new();
    for l in &net.links {
        let s = link_samples(&l.path);
        let start = pts.len();
        for (p, w) in s {
            pts.push(p);
            weights.push(w);
        }
        link_ranges.push(start..pts.len());
    }
    let none = vec![None; pts.len()];
    let sample = |g: Option<&Grid<f32>>| -> Result<Vec<Option<f64>>> {
        match g {
            Some(g) => sample_grid(g, &pts),
            None => Ok(none.clone()),
        }
    };
    let pga = sample(intensity.pga_g)?;
    let pgv = sample(intensity.pgv_cms)?;
    let depth = sample(intensity.flood_depth_m)?;
    let n_nodes = net.nodes.len();
    let mut out = Vec::with_capacity(net.components());
    for c in 0..net.components() {
        let (class_name, layer, id, range) = if c < n_nodes {
            let n = &net.nodes[c];
            (&n.component, &n.layer, &n.id, c..c + 1)
        } else {
            let l = &net.links[c - n_nodes];
            (
                &l.component,
                &l.layer,
                &l.id,
                link_ranges[c - n_nodes].clone(),
            )
        };
        let class = fragility.index(class_name).ok_or_else(|| Error::Invalid {
            path: layer.clone(),
            field: "component".into(),
            message: format!(
                "feature '{id}': component class '{class_name}' is not in {}",
                fragility.path.display()
            ),
        })?;
        let cc = &fragility.classes[class];
        let pga_c = max_opt(&pga[range.clone()]);
        let pgv_c = max_opt(&pgv[range.clone()]);
        let depth_c = max_opt(&depth[range.clone()]);
        let mut h = ComponentHazard {
            class,
            pga_g: pga_c,
            pgv_cms: pgv_c,
            depth_m: depth_c,
            p_exceed: [0.0; 4],
            expected_repairs: 0.0,
            break_fraction: 0.0,
            flooded: false,
            flood_outage_days: 0.0,
            nonfunctional_from: cc.nonfunctional_index(),
        };
        match &cc.shaking {
            Shaking::Lognormal { .. } => {
                h.p_exceed = cc.exceedance_pga(pga_c.unwrap_or(0.0));
            }
            Shaking::RepairRate { break_fraction, .. } if c >= n_nodes => {
                h.expected_repairs = range
                    .clone()
                    .map(|i| cc.repair_rate_per_km(pgv[i].unwrap_or(0.0)) * weights[i - n_nodes])
                    .sum();
                h.break_fraction = *break_fraction;
                h.p_exceed[0] = 1.0 - (-h.expected_repairs).exp();
                h.p_exceed[3] = 1.0 - (-h.expected_repairs * break_fraction).exp();
                h.p_exceed[1] = h.p_exceed[3];
                h.p_exceed[2] = h.p_exceed[3];
            }
            _ => {}
        }
        if let Flood::Threshold {
            threshold_m,
            outage_days,
            ..
        } = &cc.flood
        {
            if depth_c.is_some_and(|d| d >= *threshold_m) {
                h.flooded = true;
                h.flood_outage_days = *outage_days;
            }
        }
        out.push(h);
    }
    Ok(out)
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fast generator whose stream is fixed
/// by its seed, so each realisation's draws are reproducible on any thread.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator of realisation `r` under `seed`.
    pub fn for_realisation(seed: u64, r: u64) -> Self {
        SplitMix64(mix64(mix64(seed) ^ r.wrapping_mul(0xD1B5_4A32_D192_ED03)))
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }
    /// Uniform in the open interval (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }
}

/// The SplitMix64 finaliser.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One sampled component: its damage state (0–4), whether the event puts it out of
/// service, and from when it works again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampledDamage {
    /// Damage state, 0 = none … 4 = complete (pipes: 1 = leaks only, 4 = a break).
    pub state: u8,
    /// True when the damage state or the flood puts the component out of service.
    pub out: bool,
    /// Days after the event after which the component works again (when `out`).
    pub back_in_service_days: f32,
}

impl SampledDamage {
    /// True when the component works `t_days` after the event (t = 0: at the event).
    pub fn functional_at(&self, t_days: f64) -> bool {
        !self.out || t_days > self.back_in_service_days as f64
    }
}

/// Draws the damage of every component for realisation `r` (four uniforms per
/// component, always, so the stream of each component is fixed): the damage state by
/// inverse transform of the exceedance probabilities (pipes: Poisson breaks, then
/// leaks), the restoration time from the class's normal restoration function
/// (truncated at 0, Box–Muller), and the flood outage.
pub fn sample_damage(
    hazards: &[ComponentHazard],
    fragility: &Fragility,
    seed: u64,
    r: u64,
    out: &mut Vec<SampledDamage>,
) {
    out.clear();
    let mut rng = SplitMix64::for_realisation(seed, r);
    for h in hazards {
        let (u1, u2, u3, u4) = (rng.uniform(), rng.uniform(), rng.uniform(), rng.uniform());
        let state = if h.expected_repairs > 0.0 {
            let p_break = h.p_exceed[3];
            let p_leak = 1.0 - (-h.expected_repairs * (1.0 - h.break_fraction)).exp();
            if u1 < p_break {
                4
            } else if u2 < p_leak {
                1
            } else {
                0
            }
        } else {
            h.p_exceed.iter().filter(|&&p| u1 < p).count() as u8
        };
        let mut back = 0.0f64;
        let damaged_out = state >= h.nonfunctional_from;
        if damaged_out {
            let rest = &fragility.classes[h.class].restoration;
            let k = state as usize - 1;
            let z = (-2.0 * u3.ln()).sqrt() * (std::f64::consts::TAU * u4).cos();
            back = (rest.mean_days[k] + rest.sd_days[k] * z).max(0.0);
        }
        if h.flooded {
            back = back.max(h.flood_outage_days);
        }
        out.push(SampledDamage {
            state,
            out: damaged_out || h.flooded,
            back_in_service_days: back as f32,
        });
    }
}
