//! The indicators of one group under one hazard run, raw and normalised. Kernels only:
//! plain numbers in, numbers out, no I/O.
//!
//! Every indicator is oriented so that its normalised value 1 is resilient. Its raw
//! value is in the unit given by the indicator table; `None` means the group has no
//! data for it (the reason is given by [`missing_reason`]).
//!
//! # Reference
//! Bruneau, M. et al. (2003) A framework to quantitatively assess and enhance the
//! seismic resilience of communities. Earthquake Spectra 19(4), 733–752: robustness,
//! redundancy, resourcefulness, rapidity, and the resilience loss ∫(100 − Q(t)) dt.

use crate::lifelines::LifelineType;

/// The five dimensions of the composite: Bruneau et al.'s 4R and an ecological buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dimension {
    /// Function kept at the shock.
    Robustness,
    /// Substitutable supply paths.
    Redundancy,
    /// Means to respond: refuge land, storage.
    Resourcefulness,
    /// Speed of recovery.
    Rapidity,
    /// Ecological buffer: red-line land, wetland storage.
    Ecology,
}

impl Dimension {
    /// All dimensions, in report order.
    pub const ALL: [Dimension; 5] = [
        Dimension::Robustness,
        Dimension::Redundancy,
        Dimension::Resourcefulness,
        Dimension::Rapidity,
        Dimension::Ecology,
    ];
    /// Name in files.
    pub fn as_str(&self) -> &'static str {
        match self {
            Dimension::Robustness => "robustness",
            Dimension::Redundancy => "redundancy",
            Dimension::Resourcefulness => "resourcefulness",
            Dimension::Rapidity => "rapidity",
            Dimension::Ecology => "ecology",
        }
    }
    /// Position in [`Dimension::ALL`].
    pub fn index(&self) -> usize {
        Dimension::ALL.iter().position(|d| d == self).unwrap_or(0)
    }
}

/// Number of indicators.
pub const N_INDICATORS: usize = 16;

/// The indicators. Units and bases are documented in `models/resilience.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IndicatorId {
    /// Share of residents not exposed to flood depth above the threshold (0–1).
    PopSafeFlood,
    /// Share of residents not exposed to PGA at or above the damaging class (0–1).
    PopSafeQuake,
    /// Mean share of each assessed lifeline's service kept just after the event (0–1).
    LifelineServiceKept,
    /// 1 − expected damaged components / components, over all lifelines (0–1).
    LifelineIntact,
    /// Edge-disjoint water-supply paths into the group after damage (median).
    PathsWaterSupply,
    /// Edge-disjoint power paths after damage.
    PathsPower,
    /// Edge-disjoint gas paths after damage.
    PathsGas,
    /// Edge-disjoint road paths after damage.
    PathsRoad,
    /// Edge-disjoint rail paths after damage.
    PathsRail,
    /// Edge-disjoint communications paths after damage.
    PathsCommunications,
    /// Open, low-hazard land per resident, m²/person.
    RefugeM2PerPerson,
    /// Reservoir + detention + wetland storage in the group / flood water it receives.
    StorageRatio,
    /// Mean over assessed lifelines of the days to 90 % function.
    DaysTo90pct,
    /// Mean over assessed lifelines of ∫(100 − Q) dt, %·days.
    ResilienceLossPctDays,
    /// Share of the group's area inside ecological red lines (0–1).
    RedlineShare,
    /// Wetland storage per unit area of the group, mm of water.
    WetlandStorageMm,
}

impl IndicatorId {
    /// All indicators, in report order.
    pub const ALL: [IndicatorId; N_INDICATORS] = [
        IndicatorId::PopSafeFlood,
        IndicatorId::PopSafeQuake,
        IndicatorId::LifelineServiceKept,
        IndicatorId::LifelineIntact,
        IndicatorId::PathsWaterSupply,
        IndicatorId::PathsPower,
        IndicatorId::PathsGas,
        IndicatorId::PathsRoad,
        IndicatorId::PathsRail,
        IndicatorId::PathsCommunications,
        IndicatorId::RefugeM2PerPerson,
        IndicatorId::StorageRatio,
        IndicatorId::DaysTo90pct,
        IndicatorId::ResilienceLossPctDays,
        IndicatorId::RedlineShare,
        IndicatorId::WetlandStorageMm,
    ];
    /// Name in files and columns.
    pub fn as_str(&self) -> &'static str {
        match self {
            IndicatorId::PopSafeFlood => "pop_safe_flood",
            IndicatorId::PopSafeQuake => "pop_safe_quake",
            IndicatorId::LifelineServiceKept => "lifeline_service_kept",
            IndicatorId::LifelineIntact => "lifeline_intact",
            IndicatorId::PathsWaterSupply => "paths_water_supply",
            IndicatorId::PathsPower => "paths_power",
            IndicatorId::PathsGas => "paths_gas",
            IndicatorId::PathsRoad => "paths_road",
            IndicatorId::PathsRail => "paths_rail",
            IndicatorId::PathsCommunications => "paths_communications",
            IndicatorId::RefugeM2PerPerson => "refuge_m2_per_person",
            IndicatorId::StorageRatio => "storage_ratio",
            IndicatorId::DaysTo90pct => "days_to_90pct",
            IndicatorId::ResilienceLossPctDays => "resilience_loss_pct_days",
            IndicatorId::RedlineShare => "redline_share",
            IndicatorId::WetlandStorageMm => "wetland_storage_mm",
        }
    }
    /// Position in [`IndicatorId::ALL`].
    pub fn index(&self) -> usize {
        IndicatorId::ALL.iter().position(|d| d == self).unwrap_or(0)
    }
    /// The dimension it belongs to.
    pub fn dimension(&self) -> Dimension {
        use IndicatorId::*;
        match self {
            PopSafeFlood | PopSafeQuake | LifelineServiceKept | LifelineIntact => {
                Dimension::Robustness
            }
            PathsWaterSupply | PathsPower | PathsGas | PathsRoad | PathsRail
            | PathsCommunications => Dimension::Redundancy,
            RefugeM2PerPerson | StorageRatio => Dimension::Resourcefulness,
            DaysTo90pct | ResilienceLossPctDays => Dimension::Rapidity,
            RedlineShare | WetlandStorageMm => Dimension::Ecology,
        }
    }
    /// The lifeline of a path indicator.
    pub fn lifeline(&self) -> Option<LifelineType> {
        use IndicatorId::*;
        Some(match self {
            PathsWaterSupply => LifelineType::WaterSupply,
            PathsPower => LifelineType::Power,
            PathsGas => LifelineType::Gas,
            PathsRoad => LifelineType::Road,
            PathsRail => LifelineType::Rail,
            PathsCommunications => LifelineType::Communications,
            _ => return None,
        })
    }
    /// Parses a name written by [`IndicatorId::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        IndicatorId::ALL.into_iter().find(|i| i.as_str() == s)
    }
}

/// A quantity given as a median with, where the files give them, its 5th and 95th
/// percentiles (from the lifeline Monte Carlo of fragility and restoration).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quantity {
    /// Median (or the single value given).
    pub p50: f64,
    /// 5th percentile, if given.
    pub p05: Option<f64>,
    /// 95th percentile, if given.
    pub p95: Option<f64>,
}

impl Quantity {
    /// A value without spread.
    pub fn fixed(v: f64) -> Self {
        Quantity {
            p50: v,
            p05: None,
            p95: None,
        }
    }
    /// The value at quantile `u` ∈ (0, 1): linear between (0.05, p05), (0.5, p50) and
    /// (0.95, p95), constant beyond 0.05 and 0.95; the median where no spread is given.
    pub fn at(&self, u: f64) -> f64 {
        match (self.p05, self.p95) {
            (Some(lo), Some(hi)) => {
                let u = u.clamp(0.05, 0.95);
                if u <= 0.5 {
                    lo + (self.p50 - lo) * (u - 0.05) / 0.45
                } else {
                    self.p50 + (hi - self.p50) * (u - 0.5) / 0.45
                }
            }
            _ => self.p50,
        }
    }
}

/// One lifeline's results for a group (a row of `exposure_lifelines.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct LifelineData {
    /// Which lifeline.
    pub lifeline: LifelineType,
    /// Components of that lifeline in the group.
    pub components: f64,
    /// Expected number of damaged components.
    pub expected_damaged: Option<Quantity>,
    /// Share of service kept just after the event, 0–1.
    pub service_kept_share: Option<Quantity>,
    /// Edge-disjoint paths into the group after damage.
    pub paths_after: Option<Quantity>,
    /// Days to 90 % function.
    pub days_to_90pct: Option<Quantity>,
    /// Resilience loss ∫(100 − Q) dt, %·days.
    pub resilience_loss_pct_days: Option<Quantity>,
}

/// Residents above hazard thresholds: `persons[k]` lie above `thresholds[k]`
/// (ascending). Between two thresholds the count is interpolated linearly in ln t;
/// beyond the ends it is held at the end values.
#[derive(Debug, Clone, PartialEq)]
pub struct ExceedanceCurve {
    /// Thresholds, ascending, > 0 (m or g).
    pub thresholds: Vec<f64>,
    /// Residents above each threshold, persons.
    pub persons: Vec<f64>,
}

impl ExceedanceCurve {
    /// Residents above threshold `t` (see the type's doc).
    pub fn at(&self, t: f64) -> f64 {
        let (th, p) = (&self.thresholds, &self.persons);
        if th.is_empty() {
            return 0.0;
        }
        if t <= th[0] {
            return p[0];
        }
        let last = th.len() - 1;
        if t >= th[last] {
            return p[last];
        }
        let k = th.partition_point(|&x| x <= t) - 1;
        let f = (t.ln() - th[k].ln()) / (th[k + 1].ln() - th[k].ln());
        p[k] + f * (p[k + 1] - p[k])
    }
}

/// Everything the indicators of one group need from one hazard run (one member).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupData {
    /// Residents, persons.
    pub population: f64,
    /// Area, km².
    pub area_km2: f64,
    /// Residents above flood-depth thresholds (flood runs).
    pub flood: Option<ExceedanceCurve>,
    /// Residents at or above PGA thresholds (earthquake runs).
    pub quake: Option<ExceedanceCurve>,
    /// The assessed lifelines present in the group.
    pub lifelines: Vec<LifelineData>,
    /// Refuge land: open land-cover classes below the refuge depth and the damaging
    /// PGA, m².
    pub refuge_m2: Option<f64>,
    /// Reservoir, detention and wetland storage located in the group, m³.
    pub storage_m3: Option<f64>,
    /// Flood water the group receives, Σ max_depth × cell area, m³ (flood runs).
    pub flood_water_m3: Option<f64>,
    /// Red-line area, km².
    pub redline_km2: Option<f64>,
    /// Wetland storage, m³.
    pub wetland_storage_m3: Option<f64>,
}

/// One Monte Carlo draw of what is varied without rerunning the hazard.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Draw {
    /// Flood-depth threshold, m.
    pub flood_depth_m: f64,
    /// Damaging PGA threshold, g.
    pub pga_g: f64,
    /// Ground-motion ε (standard normal), applied to the whole field.
    pub pga_epsilon: f64,
    /// σ of ln PGA of the ground-motion model (0 when unknown).
    pub sigma_ln_pga: f64,
    /// Quantile of the lifeline results (fragility and restoration), shared by all
    /// groups and lifelines: fragility is a systematic uncertainty.
    pub u_fragility: f64,
}

/// Largest storage ratio reported; a group that receives no flood water gets it.
pub const STORAGE_RATIO_CAP: f64 = 1000.0;

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| s / n as f64)
}

/// Raw indicator values of a group under a draw, in [`IndicatorId::ALL`] order.
///
/// The population shares follow the exposure files; the PGA threshold is shifted by
/// the ground-motion ε: P(PGA·e^{σε} ≥ t) = P(PGA ≥ t·e^{−σε}). Lifeline quantities are
/// read at quantile `u_fragility` of their spread ([`Quantity::at`]).
pub fn raw_indicators(g: &GroupData, d: &Draw) -> [Option<f64>; N_INDICATORS] {
    let mut out = [None; N_INDICATORS];
    let pop_ok = g.population > 0.0;
    if pop_ok {
        if let Some(c) = &g.flood {
            out[0] = Some((1.0 - c.at(d.flood_depth_m) / g.population).clamp(0.0, 1.0));
        }
        if let Some(c) = &g.quake {
            let t = d.pga_g * (-d.sigma_ln_pga * d.pga_epsilon).exp();
            out[1] = Some((1.0 - c.at(t) / g.population).clamp(0.0, 1.0));
        }
    }
    let u = d.u_fragility;
    let ll = &g.lifelines;
    out[2] = mean(
        ll.iter()
            .filter_map(|l| l.service_kept_share.map(|q| q.at(1.0 - u).clamp(0.0, 1.0))),
    );
    let (dam, comp) = ll
        .iter()
        .fold((0.0, 0.0), |(a, b), l| match l.expected_damaged {
            Some(q) if l.components > 0.0 => {
                (a + q.at(u).clamp(0.0, l.components), b + l.components)
            }
            _ => (a, b),
        });
    if comp > 0.0 {
        out[3] = Some(1.0 - dam / comp);
    }
    for id in IndicatorId::ALL {
        if let Some(kind) = id.lifeline() {
            out[id.index()] = ll
                .iter()
                .find(|l| l.lifeline == kind)
                .and_then(|l| l.paths_after)
                .map(|q| q.at(1.0 - u).max(0.0));
        }
    }
    if pop_ok {
        out[10] = g.refuge_m2.map(|a| a / g.population);
    }
    if let (Some(s), Some(w)) = (g.storage_m3, g.flood_water_m3) {
        out[11] = Some(if w > 0.0 {
            (s / w).min(STORAGE_RATIO_CAP)
        } else {
            STORAGE_RATIO_CAP
        });
    }
    // Higher u = worse lifeline outcome: more damage, fewer paths, slower recovery.
    out[12] = mean(
        ll.iter()
            .filter_map(|l| l.days_to_90pct.map(|q| q.at(u).max(0.0))),
    );
    out[13] = mean(
        ll.iter()
            .filter_map(|l| l.resilience_loss_pct_days.map(|q| q.at(u).max(0.0))),
    );
    if g.area_km2 > 0.0 {
        out[14] = g.redline_km2.map(|r| (r / g.area_km2).clamp(0.0, 1.0));
        out[15] = g
            .wetland_storage_m3
            .map(|s| s / (g.area_km2 * 1e6) * 1000.0);
    }
    out
}

/// Why an indicator has no value for a group, in words.
pub fn missing_reason(g: &GroupData, id: IndicatorId) -> &'static str {
    use IndicatorId::*;
    match id {
        PopSafeFlood if g.flood.is_none() => "no flood hazard in this run",
        PopSafeQuake if g.quake.is_none() => "no earthquake hazard in this run",
        PopSafeFlood | PopSafeQuake | RefugeM2PerPerson if g.population <= 0.0 => "no residents",
        StorageRatio if g.flood_water_m3.is_none() => "no flood hazard in this run",
        RedlineShare | WetlandStorageMm if g.area_km2 <= 0.0 => "the group has no cells",
        PathsWaterSupply | PathsPower | PathsGas | PathsRoad | PathsRail | PathsCommunications => {
            "no path count for this lifeline (no component in the group, or not assessed)"
        }
        LifelineServiceKept | LifelineIntact | DaysTo90pct | ResilienceLossPctDays => {
            "no assessed lifeline component in the group"
        }
        _ => "no data in the run's files",
    }
}

/// Linear normalisation to 0–1, clamped: 0 at `worst`, 1 at `best` (either order).
pub fn normalise(raw: f64, worst: f64, best: f64) -> f64 {
    if best == worst {
        return if raw >= best { 1.0 } else { 0.0 };
    }
    ((raw - worst) / (best - worst)).clamp(0.0, 1.0)
}
