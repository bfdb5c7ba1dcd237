//! Levees (堤防), breaches and the weir law for water crossing a crest.
//!
//! # Levees
//! No surveyed crest elevations exist here, so a levee is a polyline (lon/lat) with a
//! crest height above the local ground, estimated from the reach's design discharge and
//! the freeboard of the levee standard; the coupling adds the height to the DEM along
//! the cell faces the polyline crosses, on the side named by `bank`.
//!
//! # Breaches
//! A breach opens at a time or when the stage at its location passes a level. Its crest
//! then falls linearly from the intact crest to the final crest, and its width grows
//! linearly from the initial to the final width, over the development time
//! ([`breach_geometry`]) — the parametric breach of HEC-RAS and of Froehlich (2008),
//! without the erosion law.
//!
//! # Flow over a crest
//! Broad-crested weir, free flow: Q = C·b·H^{3/2} with C = (2/3)^{3/2}·√g ≈ 1.705 m^{1/2}/s
//! (critical depth 2H/3 on the crest; e.g. Chow 1959, *Open-Channel Hydraulics*, §14).
//! Submerged flow: Villemonte (1947), Q_s = Q_free·(1 − (H_d/H_u)^{3/2})^{0.385}, with
//! heads above the crest on the upstream and downstream sides.

use std::path::Path;

use serde::Deserialize;

use super::provenance::{
    beijing_time_s, check_provenance, invalid, read, Location, Sourced, Sources,
};
use crate::Result;

/// Standard gravity (m/s²).
const G: f64 = 9.80665;

/// Free broad-crested weir discharge (m³/s) over width `width_m` (m) under head
/// `head_m` (m above the crest); zero for non-positive head or width.
pub fn broad_crested_weir_m3s(width_m: f64, head_m: f64) -> f64 {
    if head_m <= 0.0 || width_m <= 0.0 {
        return 0.0;
    }
    let c = (2.0_f64 / 3.0).powf(1.5) * G.sqrt();
    c * width_m * head_m.powf(1.5)
}

/// Villemonte (1947) submergence factor (1 − (H_d/H_u)^{1.5})^{0.385} for upstream head
/// `head_up_m` and downstream head `head_down_m` above the crest (1 when free).
pub fn villemonte_factor(head_up_m: f64, head_down_m: f64) -> f64 {
    if head_up_m <= 0.0 {
        return 0.0;
    }
    if head_down_m <= 0.0 {
        return 1.0;
    }
    let ratio = (head_down_m / head_up_m).min(1.0);
    (1.0 - ratio.powf(1.5)).max(0.0).powf(0.385)
}

/// Signed discharge (m³/s) over a crest at `crest_m` of width `width_m`, from the side
/// with water level `eta_a_m` to the side with `eta_b_m` (positive a → b), with the
/// Villemonte correction when the lower side is above the crest.
pub fn weir_exchange_m3s(crest_m: f64, width_m: f64, eta_a_m: f64, eta_b_m: f64) -> f64 {
    let (up, down, sign) = if eta_a_m >= eta_b_m {
        (eta_a_m, eta_b_m, 1.0)
    } else {
        (eta_b_m, eta_a_m, -1.0)
    };
    let hu = up - crest_m;
    let hd = down - crest_m;
    sign * broad_crested_weir_m3s(width_m, hu) * villemonte_factor(hu, hd)
}

/// Geometry of a developing breach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreachSpec {
    /// Crest of the intact levee (m, above local ground, or absolute: the same datum
    /// as `crest_final_m`).
    pub crest_initial_m: f64,
    /// Crest of the fully developed breach (m).
    pub crest_final_m: f64,
    /// Width at the start of the breach (m).
    pub width_initial_m: f64,
    /// Final width (m).
    pub width_final_m: f64,
    /// Time from the start of the breach to its final form (s).
    pub development_s: f64,
}

/// Crest (m) and width (m) of a breach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreachGeometry {
    /// Breach crest (m).
    pub crest_m: f64,
    /// Breach width (m).
    pub width_m: f64,
}

/// Breach crest and width `t_s` seconds after the breach started: linear from the
/// initial to the final form over `development_s`; before the start (t < 0) the levee
/// is intact (width 0).
pub fn breach_geometry(spec: &BreachSpec, t_s: f64) -> BreachGeometry {
    if t_s < 0.0 {
        return BreachGeometry {
            crest_m: spec.crest_initial_m,
            width_m: 0.0,
        };
    }
    let f = if spec.development_s > 0.0 {
        (t_s / spec.development_s).min(1.0)
    } else {
        1.0
    };
    BreachGeometry {
        crest_m: spec.crest_initial_m + f * (spec.crest_final_m - spec.crest_initial_m),
        width_m: spec.width_initial_m + f * (spec.width_final_m - spec.width_initial_m),
    }
}

/// What starts a breach.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BreachTrigger {
    /// At a time, seconds since 1970-01-01T00:00Z.
    At(f64),
    /// When the stage at the breach passes this level (m, datum of the crest).
    StageAbove(f64),
}

/// A breach that starts on its trigger and then develops by [`breach_geometry`].
#[derive(Debug, Clone)]
pub struct Breach {
    /// Geometry.
    pub spec: BreachSpec,
    /// Trigger.
    pub trigger: BreachTrigger,
    started_at_s: Option<f64>,
}

impl Breach {
    /// An intact breach site.
    pub fn new(spec: BreachSpec, trigger: BreachTrigger) -> Self {
        Breach {
            spec,
            trigger,
            started_at_s: None,
        }
    }

    /// When the breach started, if it has.
    pub fn started_at_s(&self) -> Option<f64> {
        self.started_at_s
    }

    /// Geometry at time `time_s` given the stage `stage_m` at the site now; latches the
    /// start time the first time the trigger is met.
    pub fn update(&mut self, time_s: f64, stage_m: f64) -> BreachGeometry {
        if self.started_at_s.is_none() {
            let go = match self.trigger {
                BreachTrigger::At(t) => time_s >= t,
                BreachTrigger::StageAbove(z) => stage_m > z,
            };
            if go {
                self.started_at_s = Some(match self.trigger {
                    BreachTrigger::At(t) => t,
                    BreachTrigger::StageAbove(_) => time_s,
                });
            }
        }
        match self.started_at_s {
            Some(t0) => breach_geometry(&self.spec, time_s - t0),
            None => breach_geometry(&self.spec, -1.0),
        }
    }
}

/// A polyline of lon/lat points with its provenance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolylineRecord {
    /// Points as [lon, lat], degrees.
    pub points: Vec<[f64; 2]>,
    /// Key into `[sources]`.
    #[serde(default)]
    pub source: Option<String>,
    /// True where the line is traced approximately.
    #[serde(default)]
    pub approximate: bool,
    /// How the line was traced.
    #[serde(default)]
    pub basis: Option<String>,
}

/// One levee reach as written in `levees.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeveeRecord {
    /// Name, e.g. "永定河 左堤 卢沟桥–梁各庄".
    pub name: String,
    /// River.
    pub river: String,
    /// `left` or `right`, looking downstream.
    pub bank: String,
    /// The line the levee follows (here the river's centreline; the coupling places the
    /// crest on the faces of the cells on `bank`'s side).
    pub line: PolylineRecord,
    /// Crest height above the local ground (m).
    pub crest_above_ground_m: Sourced<f64>,
    /// Design discharge of the reach (m³/s), where known.
    #[serde(default)]
    pub design_discharge_m3s: Option<Sourced<f64>>,
    /// For a perched river (悬河, 地上河) between its dikes: the height (m, ≥ 0) of the
    /// river's bed above the ground of the plain along the reach. The scenario raises the
    /// river corridor so that the bed (the subgrid channel's bed, or the cell's bed without
    /// channels) stands this high above the corridor's graded ground, and the land between
    /// the dikes (the channel's bank) its bank-full depth higher
    /// (`scenario::structures::perch_levee_corridors`). Absent: the corridor keeps the DEM.
    #[serde(default)]
    pub perched_bed_above_ground_m: Option<Sourced<f64>>,
    /// Free remarks.
    #[serde(default)]
    pub notes: Option<String>,
}

/// A breach scenario as written in `levees.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreachRecord {
    /// Scenario name.
    pub name: String,
    /// Name of the levee it breaches.
    pub levee: String,
    /// Breach location.
    pub location: Location,
    /// Beijing time `YYYY-MM-DDTHH:MM` at which it starts (or give `trigger_stage_above_ground_m`).
    #[serde(default)]
    pub time: Option<String>,
    /// Starts when the water stands this high above the local ground at the site (m).
    #[serde(default)]
    pub trigger_stage_above_ground_m: Option<f64>,
    /// Final width (m).
    pub width_final_m: Sourced<f64>,
    /// Initial width (m).
    pub width_initial_m: Sourced<f64>,
    /// Final crest above local ground (m), 0 for a breach down to the ground.
    pub crest_final_above_ground_m: Sourced<f64>,
    /// Development time (h).
    pub development_h: Sourced<f64>,
    /// Provenance of the trigger (key into `[sources]`).
    #[serde(default)]
    pub source: Option<String>,
    /// True where the scenario is hypothetical.
    #[serde(default)]
    pub estimate: bool,
    /// Why this scenario.
    #[serde(default)]
    pub basis: Option<String>,
}

/// The contents of `levees.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeveeFile {
    /// Citations by key.
    pub sources: Sources,
    /// Levee reaches.
    pub levee: Vec<LeveeRecord>,
    /// Breach scenarios.
    #[serde(default)]
    pub breach: Vec<BreachRecord>,
}

impl LeveeFile {
    /// A breach scenario as a model, with crests above local ground.
    pub fn breach_model(&self, name: &str) -> Option<Breach> {
        let b = self.breach.iter().find(|b| b.name == name)?;
        let levee = self.levee.iter().find(|l| l.name == b.levee)?;
        let spec = BreachSpec {
            crest_initial_m: levee.crest_above_ground_m.value,
            crest_final_m: b.crest_final_above_ground_m.value,
            width_initial_m: b.width_initial_m.value,
            width_final_m: b.width_final_m.value,
            development_s: b.development_h.value * 3600.0,
        };
        let trigger = match (&b.time, b.trigger_stage_above_ground_m) {
            (Some(t), _) => BreachTrigger::At(beijing_time_s(t)?),
            (None, Some(z)) => BreachTrigger::StageAbove(z),
            (None, None) => return None,
        };
        Some(Breach::new(spec, trigger))
    }
}

/// Reads and checks `levees.toml`: provenance, points in the domain, banks, breach
/// triggers and geometry (final crest below the intact crest, final width ≥ initial).
pub fn load_levees(path: &Path) -> Result<LeveeFile> {
    let file: LeveeFile = read(path)?;
    let s = &file.sources;
    for l in &file.levee {
        let f = |field: &str| format!("levee[{}].{field}", l.name);
        if !matches!(l.bank.as_str(), "left" | "right") {
            return Err(invalid(path, &f("bank"), "must be `left` or `right`"));
        }
        check_provenance(
            path,
            &f("line"),
            s,
            l.line.source.as_deref(),
            l.line.approximate,
            l.line.basis.as_deref(),
            "approximate",
        )?;
        if l.line.points.len() < 2 {
            return Err(invalid(
                path,
                &f("line.points"),
                "needs at least two points",
            ));
        }
        for (i, p) in l.line.points.iter().enumerate() {
            let loc = Location {
                lon: p[0],
                lat: p[1],
                source: l.line.source.clone(),
                approximate: l.line.approximate,
                basis: l.line.basis.clone(),
                outside_domain: false,
            };
            loc.check(path, &f(&format!("line.points[{i}]")), s)?;
        }
        l.crest_above_ground_m
            .check_positive(path, &f("crest_above_ground_m"), s)?;
        if let Some(q) = &l.design_discharge_m3s {
            q.check_positive(path, &f("design_discharge_m3s"), s)?;
        }
        if let Some(p) = &l.perched_bed_above_ground_m {
            p.check(path, &f("perched_bed_above_ground_m"), s)?;
            if !(p.value.is_finite() && p.value >= 0.0) {
                return Err(invalid(
                    path,
                    &f("perched_bed_above_ground_m"),
                    &format!("must be a height ≥ 0 m, found {}", p.value),
                ));
            }
        }
    }
    for b in &file.breach {
        let f = |field: &str| format!("breach[{}].{field}", b.name);
        let Some(levee) = file.levee.iter().find(|l| l.name == b.levee) else {
            return Err(invalid(
                path,
                &f("levee"),
                &format!("no levee named `{}`", b.levee),
            ));
        };
        b.location.check(path, &f("location"), s)?;
        check_provenance(
            path,
            &f("trigger"),
            s,
            b.source.as_deref(),
            b.estimate,
            b.basis.as_deref(),
            "estimate",
        )?;
        match (&b.time, b.trigger_stage_above_ground_m) {
            (Some(t), None) => {
                if beijing_time_s(t).is_none() {
                    return Err(invalid(
                        path,
                        &f("time"),
                        "not a Beijing time YYYY-MM-DDTHH:MM",
                    ));
                }
            }
            (None, Some(z)) if z.is_finite() => {}
            _ => {
                return Err(invalid(
                    path,
                    &f("time"),
                    "give exactly one of `time` or `trigger_stage_above_ground_m`",
                ))
            }
        }
        b.width_final_m
            .check_positive(path, &f("width_final_m"), s)?;
        b.width_initial_m.check(path, &f("width_initial_m"), s)?;
        b.crest_final_above_ground_m
            .check(path, &f("crest_final_above_ground_m"), s)?;
        b.development_h.check(path, &f("development_h"), s)?;
        if b.crest_final_above_ground_m.value >= levee.crest_above_ground_m.value
            || b.crest_final_above_ground_m.value < 0.0
        {
            return Err(invalid(
                path,
                &f("crest_final_above_ground_m"),
                "must lie in [0, the levee's crest height)",
            ));
        }
        if b.width_initial_m.value < 0.0 || b.width_initial_m.value > b.width_final_m.value {
            return Err(invalid(
                path,
                &f("width_initial_m"),
                "must lie in [0, width_final_m]",
            ));
        }
        if b.development_h.value < 0.0 {
            return Err(invalid(path, &f("development_h"), "must be ≥ 0"));
        }
    }
    Ok(file)
}
