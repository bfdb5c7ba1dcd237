//! The composite: normalised indicators weighted within their dimension, dimensions
//! weighted into a 0–100 score, missing indicators' weights shared out, drivers named,
//! and the Monte Carlo over weights, bounds, thresholds, ground-motion ε, lifeline
//! spreads and ensemble members.
//!
//! # Weighting and missing indicators
//! Two levels, as in the composite-indicator handbook of the OECD and JRC (Nardo et
//! al. 2008, *Handbook on Constructing Composite Indicators*, §6): a dimension's
//! sub-score is the weighted mean of its indicators that have a value, so a missing
//! indicator's weight is shared among the others **of the same dimension** in
//! proportion to their weights; a dimension with no indicator left is dropped and its
//! weight shared among the other dimensions in proportion to theirs. The effective
//! weight of an indicator is therefore W_d/ΣW_avail × w_i/Σw_avail(d); they sum to 1.
//!
//! # Monte Carlo
//! Sample s draws its uniforms from SplitMix64 seeded by (seed, s) in a fixed order, so
//! results do not depend on the number of threads. Weights are drawn uniformly within
//! their ranges and renormalised per level to sum to 1.

use super::config::ResilienceModel;
use super::indicators::{
    normalise, raw_indicators, Dimension, Draw, GroupData, IndicatorId, N_INDICATORS,
};
use crate::lifelines::damage::SplitMix64;
use rayon::prelude::*;
use statrs::distribution::{ContinuousCDF, Normal};

/// Number of dimensions.
pub const N_DIMENSIONS: usize = 5;

/// Weights of one evaluation: per dimension (sum 1) and per indicator inside its
/// dimension (sum 1 per dimension).
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// Indexed by [`Dimension::index`].
    pub dimension: [f64; N_DIMENSIONS],
    /// Indexed by [`IndicatorId::index`].
    pub indicator: [f64; N_INDICATORS],
}

/// Everything one evaluation of the scores uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Hazard-side draw.
    pub draw: Draw,
    /// Weights.
    pub weights: Weights,
    /// Raw values that normalise to 0.
    pub worst: [f64; N_INDICATORS],
    /// Raw values that normalise to 1.
    pub best: [f64; N_INDICATORS],
    /// Ensemble member used (0 without an ensemble).
    pub member: usize,
}

/// A group's composite under one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Composite {
    /// Composite, 0–100.
    pub score: f64,
    /// Sub-score per dimension, 0–100 (None: no indicator of it has a value).
    pub sub_scores: [Option<f64>; N_DIMENSIONS],
    /// Effective weight of each indicator after redistribution (0 when missing).
    pub effective_weights: [f64; N_INDICATORS],
}

/// The composite of normalised values (None = missing) under `w`, following the
/// module's redistribution rule. None when no indicator has a value.
pub fn composite(norm: &[Option<f64>; N_INDICATORS], w: &Weights) -> Option<Composite> {
    let mut sub = [None; N_DIMENSIONS];
    let mut within = [0.0; N_INDICATORS];
    for d in Dimension::ALL {
        let ids = IndicatorId::ALL.iter().filter(|i| i.dimension() == d);
        let (mut s, mut ws) = (0.0, 0.0);
        for i in ids.clone() {
            if let Some(x) = norm[i.index()] {
                s += w.indicator[i.index()] * x;
                ws += w.indicator[i.index()];
            }
        }
        if ws > 0.0 {
            sub[d.index()] = Some(s / ws);
            for i in ids {
                if norm[i.index()].is_some() {
                    within[i.index()] = w.indicator[i.index()] / ws;
                }
            }
        }
    }
    let wd: f64 = Dimension::ALL
        .iter()
        .filter(|d| sub[d.index()].is_some())
        .map(|d| w.dimension[d.index()])
        .sum();
    if wd <= 0.0 {
        return None;
    }
    let mut score = 0.0;
    let mut eff = [0.0; N_INDICATORS];
    for d in Dimension::ALL {
        if let Some(s) = sub[d.index()] {
            score += w.dimension[d.index()] / wd * s;
        }
    }
    for i in IndicatorId::ALL {
        if norm[i.index()].is_some() && sub[i.dimension().index()].is_some() {
            eff[i.index()] = w.dimension[i.dimension().index()] / wd * within[i.index()];
        }
    }
    Some(Composite {
        score: 100.0 * score,
        sub_scores: sub.map(|s| s.map(|v| 100.0 * v)),
        effective_weights: eff,
    })
}

/// The indicators that pull a score down most: effective weight × (1 − normalised
/// value) × 100 (score points lost), largest first, ties by indicator order, at most
/// `k`, only those that lose more than 0.05 points.
pub fn drivers(
    norm: &[Option<f64>; N_INDICATORS],
    c: &Composite,
    k: usize,
) -> Vec<(IndicatorId, f64)> {
    let mut v: Vec<(IndicatorId, f64)> = IndicatorId::ALL
        .iter()
        .filter_map(|i| {
            norm[i.index()].map(|x| (*i, 100.0 * c.effective_weights[i.index()] * (1.0 - x)))
        })
        .filter(|(_, p)| *p > 0.05)
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.index().cmp(&b.0.index())));
    v.truncate(k);
    v
}

/// Normalised values of raw indicators under `p`'s bounds.
pub fn normalised(raw: &[Option<f64>; N_INDICATORS], p: &Params) -> [Option<f64>; N_INDICATORS] {
    let mut out = [None; N_INDICATORS];
    for i in 0..N_INDICATORS {
        out[i] = raw[i].map(|r| normalise(r, p.worst[i], p.best[i]));
    }
    out
}

/// The nominal parameters: every value at its nominal, member 0.
pub fn nominal_params(m: &ResilienceModel, sigma_ln_pga: f64) -> Params {
    let mut w = Weights {
        dimension: [0.0; N_DIMENSIONS],
        indicator: [0.0; N_INDICATORS],
    };
    for (i, d) in m.dimensions.iter().enumerate() {
        w.dimension[i] = d.weight.value;
    }
    let mut worst = [0.0; N_INDICATORS];
    let mut best = [0.0; N_INDICATORS];
    for (i, s) in m.indicators.iter().enumerate() {
        w.indicator[i] = s.weight.value;
        worst[i] = s.worst.value;
        best[i] = s.best.value;
    }
    Params {
        draw: Draw {
            flood_depth_m: m.thresholds.flood_depth_m.value,
            pga_g: m.thresholds.pga_damaging_g.value,
            pga_epsilon: 0.0,
            sigma_ln_pga,
            u_fragility: 0.5,
        },
        weights: w,
        worst,
        best,
        member: 0,
    }
}

fn renormalise(v: &mut [f64], idx: &[usize], fallback: &[f64]) {
    let s: f64 = idx.iter().map(|&i| v[i]).sum();
    for &i in idx {
        v[i] = if s > 0.0 { v[i] / s } else { fallback[i] };
    }
}

/// The parameters of Monte Carlo sample `s` under `seed`: uniforms from SplitMix64
/// seeded by (seed, s), drawn in a fixed order (member, depth threshold, PGA threshold,
/// ε, lifeline quantile, then per dimension its weight, per indicator its weight,
/// worst and best). ε is the standard normal quantile of its uniform (statrs).
pub fn sample_params(
    m: &ResilienceModel,
    sigma_ln_pga: f64,
    n_members: usize,
    seed: u64,
    s: u64,
) -> Params {
    let mut rng = SplitMix64::for_realisation(seed, s);
    let nominal = nominal_params(m, sigma_ln_pga);
    let mut p = nominal.clone();
    let u = rng.uniform();
    p.member = ((u * n_members.max(1) as f64) as usize).min(n_members.max(1) - 1);
    p.draw.flood_depth_m = m.thresholds.flood_depth_m.at(rng.uniform());
    p.draw.pga_g = m.thresholds.pga_damaging_g.at(rng.uniform());
    let std = Normal::standard();
    p.draw.pga_epsilon = std.inverse_cdf(rng.uniform());
    p.draw.u_fragility = rng.uniform();
    for (i, d) in m.dimensions.iter().enumerate() {
        p.weights.dimension[i] = d.weight.at(rng.uniform());
    }
    for (i, spec) in m.indicators.iter().enumerate() {
        p.weights.indicator[i] = spec.weight.at(rng.uniform());
        p.worst[i] = spec.worst.at(rng.uniform());
        p.best[i] = spec.best.at(rng.uniform());
    }
    let all: Vec<usize> = (0..N_DIMENSIONS).collect();
    renormalise(&mut p.weights.dimension, &all, &nominal.weights.dimension);
    for d in Dimension::ALL {
        let idx: Vec<usize> = IndicatorId::ALL
            .iter()
            .filter(|i| i.dimension() == d)
            .map(|i| i.index())
            .collect();
        renormalise(&mut p.weights.indicator, &idx, &nominal.weights.indicator);
    }
    p
}

/// Quantile `q` ∈ [0, 1] of sorted values, linear between order statistics (Hyndman
/// and Fan 1996, type 7). NaN for an empty slice.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// One group's Monte Carlo summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupMonteCarlo {
    /// Samples in which the group had a score.
    pub samples: usize,
    /// Score percentiles 5, 50, 95 (0–100).
    pub score_p05: f64,
    /// Median score.
    pub score_p50: f64,
    /// 95th percentile.
    pub score_p95: f64,
    /// Rank (1 = most resilient) percentiles 5, 50, 95.
    pub rank_p05: f64,
    /// Median rank.
    pub rank_p50: f64,
    /// 95th percentile of the rank.
    pub rank_p95: f64,
    /// Median sub-score per dimension (NaN where never available).
    pub sub_p50: [f64; N_DIMENSIONS],
}

/// Scores every group under `p` (member `p.member` of `members`).
pub fn evaluate(members: &[Vec<GroupData>], p: &Params) -> Vec<Option<Composite>> {
    let groups = &members[p.member.min(members.len().saturating_sub(1))];
    groups
        .iter()
        .map(|g| {
            let raw = raw_indicators(g, &p.draw);
            composite(&normalised(&raw, p), &p.weights)
        })
        .collect()
}

/// Ranks (1 = highest score; ties by group order) of the groups that have a score.
pub fn ranks(scores: &[Option<f64>]) -> Vec<Option<usize>> {
    let mut order: Vec<usize> = (0..scores.len()).filter(|&i| scores[i].is_some()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (scores[a].unwrap_or(0.0), scores[b].unwrap_or(0.0));
        y.total_cmp(&x).then(a.cmp(&b))
    });
    let mut r = vec![None; scores.len()];
    for (k, &i) in order.iter().enumerate() {
        r[i] = Some(k + 1);
    }
    r
}

/// The Monte Carlo over `samples` draws (rayon over samples; each sample's stream is
/// fixed by (seed, sample), so the result is the same on any number of threads).
/// `members[m][g]` is group g under ensemble member m (one member without ensemble).
pub fn monte_carlo(
    model: &ResilienceModel,
    members: &[Vec<GroupData>],
    sigma_ln_pga: f64,
    seed: u64,
    samples: usize,
) -> Vec<GroupMonteCarlo> {
    let n_groups = members.first().map_or(0, Vec::len);
    type Slim = Option<(f64, [Option<f64>; N_DIMENSIONS])>;
    let per_sample: Vec<Vec<Slim>> = (0..samples as u64)
        .into_par_iter()
        .map(|s| {
            let p = sample_params(model, sigma_ln_pga, members.len(), seed, s);
            evaluate(members, &p)
                .into_iter()
                .map(|c| c.map(|c| (c.score, c.sub_scores)))
                .collect()
        })
        .collect();
    let sample_ranks: Vec<Vec<Option<usize>>> = per_sample
        .par_iter()
        .map(|c| ranks(&c.iter().map(|x| x.map(|c| c.0)).collect::<Vec<_>>()))
        .collect();
    (0..n_groups)
        .into_par_iter()
        .map(|g| {
            let mut sc: Vec<f64> = per_sample
                .iter()
                .filter_map(|c| c[g].map(|c| c.0))
                .collect();
            sc.sort_by(f64::total_cmp);
            let mut rk: Vec<f64> = sample_ranks
                .iter()
                .filter_map(|r| r[g].map(|x| x as f64))
                .collect();
            rk.sort_by(f64::total_cmp);
            let mut sub_p50 = [f64::NAN; N_DIMENSIONS];
            for (d, slot) in sub_p50.iter_mut().enumerate() {
                let mut v: Vec<f64> = per_sample
                    .iter()
                    .filter_map(|c| c[g].and_then(|c| c.1[d]))
                    .collect();
                v.sort_by(f64::total_cmp);
                *slot = quantile_sorted(&v, 0.5);
            }
            GroupMonteCarlo {
                samples: sc.len(),
                score_p05: quantile_sorted(&sc, 0.05),
                score_p50: quantile_sorted(&sc, 0.5),
                score_p95: quantile_sorted(&sc, 0.95),
                rank_p05: quantile_sorted(&rk, 0.05).round(),
                rank_p50: quantile_sorted(&rk, 0.5).round(),
                rank_p95: quantile_sorted(&rk, 0.95).round(),
                sub_p50,
            }
        })
        .collect()
}
