//! Reservoirs (上蓄): level-pool routing with a flood-season operating rule.
//!
//! # Method
//! The storage equation dS/dt = I − O(S) is integrated per step with the inflow I taken
//! as the step mean the grid hands over:
//!
//! - [`Scheme::ModifiedPuls`] (the storage-indication method; Chow, Maidment & Mays
//!   1988, *Applied Hydrology*, §8.2): S₂ + Δt·O₂/2 = S₁ + Δt·Ī − Δt·O₁/2, second order;
//! - [`Scheme::BackwardEuler`]: S₂ + Δt·O₂ = S₁ + Δt·Ī, first order, monotone for any Δt.
//!
//! O(S) is non-decreasing in S, so the left side is strictly increasing and the
//! end-of-step storage S₂ is found by bisection, whatever the step: neither scheme has a
//! stability limit. O₂ is then taken from the balance itself, so that
//! Σ I Δt − Σ Ō Δt = ΔS holds to round-off, and so that a jump in the rule (at the
//! flood-limit level) is met the way an operator meets it: the level is held and the
//! release is whatever holds it. [`Reservoir::new`] picks Modified Puls for a linear
//! reservoir and backward Euler for an operating rule: the rule's release depends on
//! the inflow (pass it through below the flood-limit level), which Modified Puls lags by
//! half a step, and the guarantees below hold exactly only under backward Euler. For
//! steps much longer than the time constant S/O, Modified Puls can also overshoot (its
//! amplification tends to −1), where backward Euler does not.
//!
//! # Operating rule
//! [`OperatingRule`]: at or below the flood-limit level (汛限水位) release the inflow up
//! to the safe (downstream) discharge, so the level holds while I ≤ Q_safe and rises
//! otherwise; above it the release rises from Q_safe at the flood-limit level to the
//! maximum release Q_max at the check level (校核洪水位) as
//! Q = Q_safe + (Q_max − Q_safe)·r^{3/2}, r = (z − z_fl)/(z_check − z_fl), the shape of a
//! free weir over the range, and keeps rising the same way above the check level
//! (surcharge). With Ī ≤ Q_max the level can therefore never pass the check level under
//! backward Euler. Above the dam's crest ([`DamCrest`]) water also passes over the dam.
//! A release ordered by the authority ([`super::operation`]) replaces the rule's while
//! it is in force, within the dam's safety limits.
//!
//! # Storage curve
//! [`StorageCurve`]: piecewise linear between (level, storage) points. Below the lowest
//! point the first segment is extended (storage clamped at 0); above the highest, the
//! last segment (vertical walls at the top surface area).

use std::path::Path;

use serde::Deserialize;

use super::provenance::{check_provenance, invalid, read, Location, Sourced, Sources};
use crate::Result;

/// Level–storage relation of a reservoir, piecewise linear between points.
#[derive(Debug, Clone)]
pub struct StorageCurve {
    level_m: Vec<f64>,
    storage_m3: Vec<f64>,
}

impl StorageCurve {
    /// Builds a curve from strictly increasing levels (m) and storages (m³), at least two
    /// points; the error says which point breaks the rule.
    pub fn new(level_m: Vec<f64>, storage_m3: Vec<f64>) -> std::result::Result<Self, String> {
        if level_m.len() != storage_m3.len() || level_m.len() < 2 {
            return Err(format!(
                "needs at least two points with as many levels as storages ({} levels, {} storages)",
                level_m.len(),
                storage_m3.len()
            ));
        }
        for i in 0..level_m.len() {
            if !level_m[i].is_finite() || !storage_m3[i].is_finite() || storage_m3[i] < 0.0 {
                return Err(format!(
                    "point {i}: level and storage must be finite, storage ≥ 0"
                ));
            }
            if i > 0 && !(level_m[i] > level_m[i - 1] && storage_m3[i] > storage_m3[i - 1]) {
                return Err(format!(
                    "point {i} ({} m, {} m³) does not rise above point {} ({} m, {} m³): \
                     levels and storages must both increase strictly",
                    level_m[i],
                    storage_m3[i],
                    i - 1,
                    level_m[i - 1],
                    storage_m3[i - 1]
                ));
            }
        }
        Ok(StorageCurve {
            level_m,
            storage_m3,
        })
    }

    fn segment(&self, x: f64, xs: &[f64]) -> usize {
        // Index i of the segment [i, i+1] used for x (end segments extend outwards).
        let n = xs.len();
        match xs.iter().position(|&v| v > x) {
            None => n - 2,
            Some(0) => 0,
            Some(j) => (j - 1).min(n - 2),
        }
    }

    /// Storage (m³) at level `level_m` (m).
    pub fn storage_m3(&self, level_m: f64) -> f64 {
        let i = self.segment(level_m, &self.level_m);
        let (z0, z1) = (self.level_m[i], self.level_m[i + 1]);
        let (s0, s1) = (self.storage_m3[i], self.storage_m3[i + 1]);
        (s0 + (s1 - s0) * (level_m - z0) / (z1 - z0)).max(0.0)
    }

    /// Level (m) at storage `storage_m3` (m³), the inverse of [`Self::storage_m3`].
    pub fn level_m(&self, storage_m3: f64) -> f64 {
        let i = self.segment(storage_m3, &self.storage_m3);
        let (z0, z1) = (self.level_m[i], self.level_m[i + 1]);
        let (s0, s1) = (self.storage_m3[i], self.storage_m3[i + 1]);
        z0 + (z1 - z0) * (storage_m3 - s0) / (s1 - s0)
    }

    /// The curve's points as (level m, storage m³).
    pub fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.level_m
            .iter()
            .copied()
            .zip(self.storage_m3.iter().copied())
    }
}

/// Flood-season operating rule; see the module documentation.
#[derive(Debug, Clone, Copy)]
pub struct OperatingRule {
    /// Flood-limit level 汛限水位 (m).
    pub flood_limit_level_m: f64,
    /// Check flood level 校核洪水位 (m), where the release reaches `max_release_m3s`.
    pub check_level_m: f64,
    /// Safe release for the downstream channel (m³/s).
    pub safe_release_m3s: f64,
    /// Maximum release at the check level, spillways and outlets together (m³/s).
    pub max_release_m3s: f64,
}

impl OperatingRule {
    /// Release (m³/s) at level `level_m` with step-mean inflow `inflow_m3s`.
    pub fn release_m3s(&self, level_m: f64, inflow_m3s: f64) -> f64 {
        if level_m <= self.flood_limit_level_m {
            inflow_m3s.clamp(0.0, self.safe_release_m3s)
        } else {
            let r = (level_m - self.flood_limit_level_m)
                / (self.check_level_m - self.flood_limit_level_m);
            self.safe_release_m3s + (self.max_release_m3s - self.safe_release_m3s) * r.powf(1.5)
        }
    }
}

/// How a reservoir releases water.
#[derive(Debug, Clone, Copy)]
pub enum ReleaseRule {
    /// Linear reservoir O = S/K with K in seconds (for tests against the analytic
    /// solution; Nash 1957).
    Linear {
        /// Storage constant K (s).
        k_s: f64,
    },
    /// The flood-season operating rule.
    Operating(OperatingRule),
}

/// Time-stepping scheme of the storage equation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Modified Puls (trapezoidal in outflow), second order.
    ModifiedPuls,
    /// Backward Euler in outflow, first order, monotone for any step.
    BackwardEuler,
}

/// What one reservoir step returns.
#[derive(Debug, Clone, Copy)]
pub struct ReservoirStep {
    /// Mean release over the step (m³/s): what the grid receives below the dam.
    pub outflow_m3s: f64,
    /// Release at the end of the step (m³/s).
    pub outflow_end_m3s: f64,
    /// Storage at the end of the step (m³).
    pub storage_m3: f64,
    /// Level at the end of the step (m).
    pub level_m: f64,
}

/// A dam's crest: above it, water passes over the dam as a free broad-crested weir over
/// the crest's length ([`super::levee::broad_crested_weir_m3s`]; Chow 1959 §14), on top
/// of the release of the rule. Overtopping an embankment dam is a failure hazard: the run
/// reports it as a serious finding.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DamCrest {
    /// Crest level, m, in the datum of the reservoir's levels.
    pub level_m: f64,
    /// Crest length, m.
    pub length_m: f64,
}

/// A reservoir as a level pool; stepped by [`Reservoir::step`].
#[derive(Debug, Clone)]
pub struct Reservoir {
    /// Name, as in the reference (e.g. 密云).
    pub name: String,
    /// Level–storage curve.
    pub curve: StorageCurve,
    /// Release rule.
    pub rule: ReleaseRule,
    /// Time-stepping scheme.
    pub scheme: Scheme,
    /// The dam's crest; `None`: no overtopping modelled (tests of the rule alone).
    pub crest: Option<DamCrest>,
    /// A release ordered for the coming step in place of the rule
    /// ([`super::operation`]); `None`: the rule.
    pub directed: Option<super::operation::DirectedRelease>,
    storage_m3: f64,
    outflow_end_m3s: f64,
}

impl Reservoir {
    /// A reservoir at `initial_level_m`, releasing per `rule`; the scheme is Modified Puls
    /// for [`ReleaseRule::Linear`] and backward Euler for [`ReleaseRule::Operating`].
    pub fn new(name: &str, curve: StorageCurve, rule: ReleaseRule, initial_level_m: f64) -> Self {
        let storage_m3 = curve.storage_m3(initial_level_m);
        Self::with_storage(name, curve, rule, storage_m3)
    }

    /// A reservoir holding `storage_m3` at the start (scheme as in [`Self::new`]).
    pub fn with_storage(
        name: &str,
        curve: StorageCurve,
        rule: ReleaseRule,
        storage_m3: f64,
    ) -> Self {
        let mut r = Reservoir {
            name: name.to_string(),
            curve,
            rule,
            scheme: match rule {
                ReleaseRule::Linear { .. } => Scheme::ModifiedPuls,
                ReleaseRule::Operating(_) => Scheme::BackwardEuler,
            },
            crest: None,
            directed: None,
            storage_m3: storage_m3.max(0.0),
            outflow_end_m3s: 0.0,
        };
        r.outflow_end_m3s = r.release_m3s(r.storage_m3, 0.0);
        r
    }

    /// The reservoir with a dam crest over which water above it overtops.
    pub fn with_crest(mut self, crest: DamCrest) -> Self {
        self.crest = Some(crest);
        self.outflow_end_m3s = self.release_m3s(self.storage_m3, 0.0);
        self
    }

    /// Flow over the dam's crest (m³/s) at storage `storage_m3`: zero below the crest.
    pub fn overtopping_m3s(&self, storage_m3: f64) -> f64 {
        match self.crest {
            Some(c) => super::levee::broad_crested_weir_m3s(
                c.length_m,
                self.curve.level_m(storage_m3) - c.level_m,
            ),
            None => 0.0,
        }
    }

    /// Storage now (m³).
    pub fn storage_m3(&self) -> f64 {
        self.storage_m3
    }

    /// Level now (m).
    pub fn level_m(&self) -> f64 {
        self.curve.level_m(self.storage_m3)
    }

    /// Release (m³/s) at storage `storage_m3` with step-mean inflow `inflow_m3s`: the
    /// rule's release, or the directed release where one is in force
    /// ([`Self::directed`]), plus the flow over the crest ([`Self::overtopping_m3s`]).
    pub fn release_m3s(&self, storage_m3: f64, inflow_m3s: f64) -> f64 {
        let level = self.curve.level_m(storage_m3);
        let rule = match self.rule {
            ReleaseRule::Linear { k_s } => storage_m3 / k_s,
            ReleaseRule::Operating(rule) => rule.release_m3s(level, inflow_m3s),
        };
        let gates = match self.directed {
            Some(d) => d.release_m3s(level, rule),
            None => rule,
        };
        gates + self.overtopping_m3s(storage_m3)
    }

    /// Advances by `dt_s` seconds with mean inflow `inflow_m3s` over the step; returns
    /// the mean release and the end-of-step state. Mass balance: the storage change is
    /// exactly `dt_s·(inflow − outflow_m3s)` up to round-off.
    pub fn step(&mut self, dt_s: f64, inflow_m3s: f64) -> ReservoirStep {
        let inflow = inflow_m3s.max(0.0);
        let s1 = self.storage_m3;
        // S₂ + c·O₂ = rhs
        let (c, rhs) = match self.scheme {
            Scheme::ModifiedPuls => (
                0.5 * dt_s,
                s1 + dt_s * inflow - 0.5 * dt_s * self.outflow_end_m3s,
            ),
            Scheme::BackwardEuler => (dt_s, s1 + dt_s * inflow),
        };
        let (s2, o_mean, o_end) = if dt_s <= 0.0 {
            (s1, self.outflow_end_m3s, self.outflow_end_m3s)
        } else if rhs <= c * self.release_m3s(0.0, inflow) {
            // The pool empties within the step: release all there is.
            let o = (s1 / dt_s + inflow).max(0.0);
            (0.0, o, o)
        } else {
            let g = |s: f64| s + c * self.release_m3s(s, inflow) - rhs;
            let (mut lo, mut hi) = (0.0_f64, rhs.max(0.0));
            while g(hi) < 0.0 {
                hi = 2.0 * hi + 1.0; // only reached if O(S) < 0, kept for safety
            }
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid <= lo || mid >= hi {
                    break;
                }
                if g(mid) < 0.0 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            let s2 = 0.5 * (lo + hi);
            let o_end = ((rhs - s2) / c).max(0.0);
            let o_mean = match self.scheme {
                Scheme::ModifiedPuls => 0.5 * (self.outflow_end_m3s + o_end),
                Scheme::BackwardEuler => o_end,
            };
            // Storage from the balance, so that mass closes to round-off.
            (s1 + dt_s * (inflow - o_mean), o_mean, o_end)
        };
        self.storage_m3 = s2.max(0.0);
        self.outflow_end_m3s = o_end;
        ReservoirStep {
            outflow_m3s: o_mean,
            outflow_end_m3s: o_end,
            storage_m3: self.storage_m3,
            level_m: self.level_m(),
        }
    }
}

/// One point of a storage curve in `reservoirs.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurvePoint {
    /// Level (m).
    pub level_m: f64,
    /// Storage below that level, 10⁸ m³ (亿 m³, the unit of the sources).
    pub storage_1e8_m3: f64,
    /// Key into `[sources]`.
    #[serde(default)]
    pub source: Option<String>,
    /// True where the point is estimated.
    #[serde(default)]
    pub estimate: bool,
    /// How an estimated point was made.
    #[serde(default)]
    pub basis: Option<String>,
}

/// A storage curve shaped as a power law S = S_top·((z − z_bed)/(z_top − z_bed))^m,
/// for reservoirs whose level–storage table is not published.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerCurve {
    /// Level of zero storage, the riverbed at the dam (m).
    pub bed_level_m: f64,
    /// Level at which the storage is `top_storage_1e8_m3` (m).
    pub top_level_m: f64,
    /// Storage at `top_level_m`, 10⁸ m³.
    pub top_storage_1e8_m3: f64,
    /// Exponent m (2.4 fits the four published 密云 points with z_bed ≈ 105 m).
    pub exponent: f64,
    /// Must be true: a shaped curve is an estimate.
    pub estimate: bool,
    /// How the anchor values were chosen.
    pub basis: String,
}

/// The storage curve as written in the file: `points` or `power`, exactly one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurveRecord {
    /// Published (level, storage) points.
    #[serde(default)]
    pub points: Option<Vec<CurvePoint>>,
    /// A shaped curve (estimate).
    #[serde(default)]
    pub power: Option<PowerCurve>,
}

/// One reservoir as written in `reservoirs.toml`, with the provenance of each value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReservoirRecord {
    /// Name as in the reference (Chinese).
    pub name: String,
    /// Romanised name.
    pub name_en: String,
    /// River the dam closes.
    pub river: String,
    /// River system: 北三河, 永定河 or 大清河.
    pub system: String,
    /// Dam point (GRanD where available).
    pub location: Location,
    /// Where the lumped reservoir joins the model grid when that differs from the dam
    /// point (a reservoir with two dams on two arms joins at their confluence below).
    #[serde(default)]
    pub grid_outlet: Option<Location>,
    /// `absolute` (m above the national datum the source uses) or `relative_to_bed`
    /// (m above the riverbed at the dam, where no level is published).
    pub levels_datum: String,
    /// Controlled catchment area (km²): the upstream area the dam cell must match
    /// within 25 % ([`super::provenance::AREA_TOLERANCE`]).
    pub catchment_km2: Sourced<f64>,
    /// Search radius for the dam cell, cells (default: the scenario's
    /// `snap_radius_cells`); GRanD points are good to ±0.05°, about 5 cells.
    #[serde(default)]
    pub snap_radius_cells: Option<usize>,
    /// Accept a snapped catchment further than 25 % from `catchment_km2`, with a reason
    /// (a warning in every output).
    #[serde(default)]
    pub accept_area_error: Option<super::provenance::AcceptAreaError>,
    /// Total storage 总库容 (storage below the check level), 10⁸ m³.
    pub total_storage_1e8_m3: Sourced<f64>,
    /// Dead level 死水位 (m), where published.
    #[serde(default)]
    pub dead_level_m: Option<Sourced<f64>>,
    /// Flood-limit level 汛限水位 (m).
    pub flood_limit_level_m: Sourced<f64>,
    /// Check flood level 校核洪水位 (m).
    pub check_level_m: Sourced<f64>,
    /// Safe release for the downstream channel (m³/s).
    pub safe_release_m3s: Sourced<f64>,
    /// Maximum release at the check level (m³/s).
    pub max_release_m3s: Sourced<f64>,
    /// Dam crest level 坝顶高程 (m, same datum as the other levels); must stand above
    /// the check level.
    pub crest_level_m: Sourced<f64>,
    /// Dam crest length 坝顶长度 (m): the width of the weir when the dam overtops.
    pub crest_length_m: Sourced<f64>,
    /// Level–storage curve.
    pub storage_curve: CurveRecord,
    /// Free remarks.
    #[serde(default)]
    pub notes: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReservoirFile {
    sources: Sources,
    reservoir: Vec<ReservoirRecord>,
}

impl ReservoirRecord {
    /// The storage curve in m and m³ (points as given, or 25 points of the power law).
    pub fn curve(&self) -> std::result::Result<StorageCurve, String> {
        match (&self.storage_curve.points, &self.storage_curve.power) {
            (Some(p), None) => StorageCurve::new(
                p.iter().map(|q| q.level_m).collect(),
                p.iter().map(|q| q.storage_1e8_m3 * 1e8).collect(),
            ),
            (None, Some(pw)) => {
                let n = 24;
                let (z0, z1) = (pw.bed_level_m, pw.top_level_m);
                if !(z1 > z0 && pw.exponent > 0.0 && pw.top_storage_1e8_m3 > 0.0) {
                    return Err("power: needs top_level_m > bed_level_m, exponent > 0 and \
                                top_storage_1e8_m3 > 0"
                        .to_string());
                }
                let levels: Vec<f64> = (0..=n)
                    .map(|i| z0 + (z1 - z0) * i as f64 / n as f64)
                    .collect();
                let storages = levels
                    .iter()
                    .map(|z| pw.top_storage_1e8_m3 * 1e8 * ((z - z0) / (z1 - z0)).powf(pw.exponent))
                    .collect();
                StorageCurve::new(levels, storages)
            }
            _ => Err("give exactly one of `points` or `power`".to_string()),
        }
    }

    /// The operating rule from the record's levels and releases.
    pub fn rule(&self) -> OperatingRule {
        OperatingRule {
            flood_limit_level_m: self.flood_limit_level_m.value,
            check_level_m: self.check_level_m.value,
            safe_release_m3s: self.safe_release_m3s.value,
            max_release_m3s: self.max_release_m3s.value,
        }
    }

    /// A model reservoir at the flood-limit level, the usual state at the start of a
    /// flood-season run.
    pub fn model(&self) -> std::result::Result<Reservoir, String> {
        Ok(Reservoir::new(
            &self.name,
            self.curve()?,
            ReleaseRule::Operating(self.rule()),
            self.flood_limit_level_m.value,
        )
        .with_crest(self.crest()))
    }

    /// The dam's crest.
    pub fn crest(&self) -> DamCrest {
        DamCrest {
            level_m: self.crest_level_m.value,
            length_m: self.crest_length_m.value,
        }
    }

    fn check(&self, path: &Path, sources: &Sources) -> Result<()> {
        let f = |field: &str| format!("reservoir[{}].{field}", self.name);
        self.location.check(path, &f("location"), sources)?;
        if let Some(o) = &self.grid_outlet {
            o.check(path, &f("grid_outlet"), sources)?;
        }
        if !matches!(self.levels_datum.as_str(), "absolute" | "relative_to_bed") {
            return Err(invalid(
                path,
                &f("levels_datum"),
                "must be `absolute` or `relative_to_bed`",
            ));
        }
        self.catchment_km2
            .check_positive(path, &f("catchment_km2"), sources)?;
        super::provenance::check_snap_settings(
            path,
            &format!("reservoir[{}]", self.name),
            self.snap_radius_cells,
            self.accept_area_error.as_ref(),
        )?;
        self.total_storage_1e8_m3
            .check_positive(path, &f("total_storage_1e8_m3"), sources)?;
        if let Some(d) = &self.dead_level_m {
            d.check(path, &f("dead_level_m"), sources)?;
        }
        self.flood_limit_level_m
            .check(path, &f("flood_limit_level_m"), sources)?;
        self.check_level_m
            .check(path, &f("check_level_m"), sources)?;
        self.safe_release_m3s
            .check_positive(path, &f("safe_release_m3s"), sources)?;
        self.max_release_m3s
            .check_positive(path, &f("max_release_m3s"), sources)?;
        self.crest_level_m
            .check(path, &f("crest_level_m"), sources)?;
        self.crest_length_m
            .check_positive(path, &f("crest_length_m"), sources)?;
        if self.crest_level_m.value <= self.check_level_m.value || self.crest_level_m.value.is_nan()
        {
            return Err(invalid(
                path,
                &f("crest_level_m"),
                &format!(
                    "the dam crest {} m must stand above the check level {} m (校核水位 lies below 坝顶); correct one of them",
                    self.crest_level_m.value, self.check_level_m.value
                ),
            ));
        }
        if self.flood_limit_level_m.value >= self.check_level_m.value {
            return Err(invalid(
                path,
                &f("flood_limit_level_m"),
                &format!(
                    "flood-limit level {} m must lie below the check level {} m",
                    self.flood_limit_level_m.value, self.check_level_m.value
                ),
            ));
        }
        if self.safe_release_m3s.value > self.max_release_m3s.value {
            return Err(invalid(
                path,
                &f("safe_release_m3s"),
                &format!(
                    "safe release {} m³/s exceeds the maximum release {} m³/s",
                    self.safe_release_m3s.value, self.max_release_m3s.value
                ),
            ));
        }
        match (&self.storage_curve.points, &self.storage_curve.power) {
            (Some(points), None) => {
                for (i, p) in points.iter().enumerate() {
                    check_provenance(
                        path,
                        &f(&format!("storage_curve.points[{i}]")),
                        sources,
                        p.source.as_deref(),
                        p.estimate,
                        p.basis.as_deref(),
                        "estimate",
                    )?;
                }
            }
            (None, Some(pw)) if !pw.estimate || pw.basis.trim().is_empty() => {
                return Err(invalid(
                    path,
                    &f("storage_curve.power"),
                    "a shaped curve must say `estimate = true` and give a `basis`",
                ));
            }
            _ => {}
        }
        let curve = self
            .curve()
            .map_err(|m| invalid(path, &f("storage_curve"), &m))?;
        let lowest = curve.points().next().map_or(f64::NAN, |p| p.0);
        if self.flood_limit_level_m.value < lowest {
            return Err(invalid(
                path,
                &f("flood_limit_level_m"),
                &format!(
                    "flood-limit level {} m lies below the storage curve's lowest level {lowest} m",
                    self.flood_limit_level_m.value
                ),
            ));
        }
        Ok(())
    }
}

/// Reads and checks `reservoirs.toml`: every value has a source or an estimate with a
/// basis, curves rise strictly, the flood-limit level lies below the check level, the
/// safe release does not exceed the maximum release, and dams lie in the domain.
pub fn load_reservoirs(path: &Path) -> Result<Vec<ReservoirRecord>> {
    let file: ReservoirFile = read(path)?;
    let mut seen = std::collections::BTreeSet::new();
    for r in &file.reservoir {
        if !seen.insert(r.name.clone()) {
            return Err(invalid(
                path,
                &format!("reservoir[{}]", r.name),
                "listed twice",
            ));
        }
        r.check(path, &file.sources)?;
    }
    Ok(file.reservoir)
}

/// [`load_reservoirs`], then each record as a model at its flood-limit level.
pub fn load_reservoir_models(path: &Path) -> Result<Vec<Reservoir>> {
    load_reservoirs(path)?
        .iter()
        .map(|r| {
            r.model()
                .map_err(|m| invalid(path, &format!("reservoir[{}].storage_curve", r.name), &m))
        })
        .collect()
}
