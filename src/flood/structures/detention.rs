//! Detention basins (蓄滞洪区, "分区防守"): lumped storages behind a gate.
//!
//! # Method
//! A basin holds a volume V ≤ capacity. Its gate opens at the first step whose trigger
//! is passed: the discharge at a named gauge above a threshold, the stage at a named
//! point above a level (both read at the start of the step, so a basin never opens
//! before the step in which the coupling reports the exceedance), or a scheduled time
//! (as the 2023 decisions were taken: 兰沟洼 opened 2023-07-31 23:30); a scheduled
//! opening inside a step counts only the part of the step after it. Once open, the
//! inflow is
//!
//! ```text
//! Q_in = min(offered, gate capacity, (capacity − V)/Δt_open)
//! ```
//!
//! where `offered` is what the coupling says the river can spare (e.g. the discharge
//! above the trigger threshold at the link cell). The last step fills the basin to its
//! capacity exactly, and the gate then stays shut. An optional drain releases water
//! back at a fixed rate from a set time after opening (the gate is shut while it
//! drains). This is the lumped treatment of HEC-RAS storage areas and of the basin
//! models in the 海河 flood-control plans; the basin's own inundation pattern is left to
//! the grid, if the lead couples it that way.

use std::path::Path;

use serde::Deserialize;

use super::provenance::{
    beijing_time_s, check_provenance, invalid, read, Location, Sourced, Sources,
};
use crate::{Error, Result};

/// What a trigger reads at a named place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Discharge (m³/s).
    Discharge,
    /// Stage, water level (m).
    Stage,
}

/// When a gate opens.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// Discharge at `gauge` strictly above `threshold_m3s`.
    GaugeAbove {
        /// Gauge name, e.g. 卢沟桥.
        gauge: String,
        /// Threshold (m³/s).
        threshold_m3s: f64,
    },
    /// Stage at `point` strictly above `level_m`.
    StageAbove {
        /// Point name, e.g. 东马营.
        point: String,
        /// Level (m).
        level_m: f64,
    },
    /// At a fixed time, seconds since 1970-01-01T00:00Z ([`beijing_time_s`]).
    At {
        /// Opening time (s).
        time_s: f64,
    },
}

/// Draining back to the river after use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drain {
    /// Release rate while draining (m³/s).
    pub rate_m3s: f64,
    /// Delay from opening to the start of draining (s).
    pub after_open_s: f64,
}

/// What one basin step returns (mean rates over the step).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetentionStep {
    /// Water taken from the river (m³/s, mean over the step).
    pub inflow_m3s: f64,
    /// Water returned to the river (m³/s, mean over the step).
    pub drain_m3s: f64,
    /// Volume held at the end of the step (m³).
    pub volume_m3: f64,
    /// True in the step in which the gate opened.
    pub opened_now: bool,
}

/// A detention basin with its gate; stepped by [`DetentionBasin::step`].
#[derive(Debug, Clone)]
pub struct DetentionBasin {
    /// Name, e.g. 兰沟洼.
    pub name: String,
    /// Storage capacity (m³).
    pub capacity_m3: f64,
    /// Gate (inlet) capacity (m³/s).
    pub gate_capacity_m3s: f64,
    /// Any one of these opens the gate.
    pub triggers: Vec<Trigger>,
    /// Optional drain rule.
    pub drain: Option<Drain>,
    volume_m3: f64,
    opened_at_s: Option<f64>,
    full: bool,
}

impl DetentionBasin {
    /// An empty, closed basin.
    pub fn new(
        name: &str,
        capacity_m3: f64,
        gate_capacity_m3s: f64,
        triggers: Vec<Trigger>,
    ) -> Self {
        DetentionBasin {
            name: name.to_string(),
            capacity_m3,
            gate_capacity_m3s,
            triggers,
            drain: None,
            volume_m3: 0.0,
            opened_at_s: None,
            full: false,
        }
    }

    /// Volume held (m³).
    pub fn volume_m3(&self) -> f64 {
        self.volume_m3
    }

    /// When the gate opened (s since the epoch), if it has.
    pub fn opened_at_s(&self) -> Option<f64> {
        self.opened_at_s
    }

    /// Opens the gate at `time_s` by decision (a scenario override), if not yet open.
    pub fn force_open(&mut self, time_s: f64) {
        self.opened_at_s.get_or_insert(time_s);
    }

    /// The time within [t0, t1] at which a trigger opens the gate, if any; readings are
    /// taken at t0. A reading the coupling cannot provide is an error.
    fn trigger_time(
        &self,
        t0: f64,
        t1: f64,
        reading: &dyn Fn(&str, Quantity) -> Option<f64>,
    ) -> Result<Option<f64>> {
        let mut first: Option<f64> = None;
        for trig in &self.triggers {
            let t = match trig {
                Trigger::GaugeAbove {
                    gauge,
                    threshold_m3s,
                } => {
                    let q = reading(gauge, Quantity::Discharge).ok_or_else(|| {
                        Error::Data(format!(
                            "detention basin {}: no discharge reading for gauge `{gauge}`",
                            self.name
                        ))
                    })?;
                    (q > *threshold_m3s).then_some(t0)
                }
                Trigger::StageAbove { point, level_m } => {
                    let z = reading(point, Quantity::Stage).ok_or_else(|| {
                        Error::Data(format!(
                            "detention basin {}: no stage reading for point `{point}`",
                            self.name
                        ))
                    })?;
                    (z > *level_m).then_some(t0)
                }
                Trigger::At { time_s } => (*time_s < t1).then_some(time_s.max(t0)),
            };
            if let Some(t) = t {
                first = Some(first.map_or(t, |f: f64| f.min(t)));
            }
        }
        Ok(first)
    }

    /// Advances from `t_start_s` by `dt_s` (s); `reading(name, quantity)` gives the
    /// trigger values at the start of the step, `offered_m3s` what the river can spare.
    pub fn step(
        &mut self,
        t_start_s: f64,
        dt_s: f64,
        reading: &dyn Fn(&str, Quantity) -> Option<f64>,
        offered_m3s: f64,
    ) -> Result<DetentionStep> {
        let t_end = t_start_s + dt_s;
        let mut opened_now = false;
        if self.opened_at_s.is_none() && dt_s > 0.0 {
            if let Some(t) = self.trigger_time(t_start_s, t_end, reading)? {
                self.opened_at_s = Some(t);
                opened_now = true;
            }
        }
        let mut inflow_vol = 0.0;
        let mut drain_vol = 0.0;
        if let Some(t_open) = self.opened_at_s {
            let drain_start = self.drain.map(|d| t_open + d.after_open_s);
            let draining = drain_start.is_some_and(|ts| t_start_s >= ts);
            if draining {
                if let Some(d) = self.drain {
                    drain_vol = (d.rate_m3s * dt_s).min(self.volume_m3);
                    self.volume_m3 -= drain_vol;
                }
            } else if !self.full {
                let open_s = (t_end - t_open.max(t_start_s)).clamp(0.0, dt_s);
                let q = offered_m3s.max(0.0).min(self.gate_capacity_m3s);
                let room = self.capacity_m3 - self.volume_m3;
                inflow_vol = q * open_s;
                if inflow_vol >= room {
                    inflow_vol = room.max(0.0);
                    self.volume_m3 = self.capacity_m3;
                    self.full = true;
                } else {
                    self.volume_m3 += inflow_vol;
                }
            }
        }
        let per_s = if dt_s > 0.0 { 1.0 / dt_s } else { 0.0 };
        Ok(DetentionStep {
            inflow_m3s: inflow_vol * per_s,
            drain_m3s: drain_vol * per_s,
            volume_m3: self.volume_m3,
            opened_now,
        })
    }
}

/// The kind of a trigger in `detention_basins.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// Discharge at a gauge above a threshold.
    GaugeDischarge,
    /// Stage at a point above a level.
    Stage,
    /// A scheduled (historical) opening time.
    Scheduled,
}

/// A trigger as written in the file, with its provenance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerRecord {
    /// Which kind.
    pub kind: TriggerKind,
    /// Gauge name (gauge_discharge).
    #[serde(default)]
    pub gauge: Option<String>,
    /// Threshold (m³/s) (gauge_discharge).
    #[serde(default)]
    pub threshold_m3s: Option<f64>,
    /// Point name (stage).
    #[serde(default)]
    pub point: Option<String>,
    /// Level (m) (stage).
    #[serde(default)]
    pub level_m: Option<f64>,
    /// Beijing time `YYYY-MM-DDTHH:MM` (scheduled).
    #[serde(default)]
    pub time: Option<String>,
    /// The event a scheduled time belongs to, e.g. "2023-07".
    #[serde(default)]
    pub event: Option<String>,
    /// Key into `[sources]`.
    #[serde(default)]
    pub source: Option<String>,
    /// True where the rule is estimated.
    #[serde(default)]
    pub estimate: bool,
    /// Basis of an estimate.
    #[serde(default)]
    pub basis: Option<String>,
}

impl TriggerRecord {
    /// The model trigger, or a message naming the missing field.
    pub fn trigger(&self) -> std::result::Result<Trigger, String> {
        match self.kind {
            TriggerKind::GaugeDischarge => match (&self.gauge, self.threshold_m3s) {
                (Some(g), Some(q)) if q.is_finite() => Ok(Trigger::GaugeAbove {
                    gauge: g.clone(),
                    threshold_m3s: q,
                }),
                _ => Err("gauge_discharge needs `gauge` and `threshold_m3s`".into()),
            },
            TriggerKind::Stage => match (&self.point, self.level_m) {
                (Some(p), Some(z)) if z.is_finite() => Ok(Trigger::StageAbove {
                    point: p.clone(),
                    level_m: z,
                }),
                _ => Err("stage needs `point` and `level_m`".into()),
            },
            TriggerKind::Scheduled => {
                let t = self.time.as_deref().ok_or("scheduled needs `time`")?;
                beijing_time_s(t)
                    .map(|time_s| Trigger::At { time_s })
                    .ok_or_else(|| format!("time `{t}` is not a Beijing time YYYY-MM-DDTHH:MM"))
            }
        }
    }
}

/// A drain rule as written in the file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrainRecord {
    /// Release rate while draining (m³/s).
    pub rate_m3s: Sourced<f64>,
    /// Delay from opening to draining (h).
    pub after_open_h: Sourced<f64>,
}

/// One basin as written in `detention_basins.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DetentionRecord {
    /// Name, e.g. 兰沟洼.
    pub name: String,
    /// River system.
    pub system: String,
    /// The river the gate takes water from.
    pub river: String,
    /// The basin (approximate centre, or a named anchor).
    pub location: Location,
    /// Where the gate takes water: a point on the river (often the trigger gauge).
    pub link: Location,
    /// Name of the link point (gauge or works), for the coupling.
    pub link_name: String,
    /// Upstream area of the river at the gate, which the gate's cell must match within
    /// 25 % (required for a basin inside the domain).
    #[serde(default)]
    pub link_area: Option<super::provenance::AreaSnap>,
    /// Area (km²), where known.
    #[serde(default)]
    pub area_km2: Option<Sourced<f64>>,
    /// Storage capacity, 10⁸ m³.
    pub capacity_1e8_m3: Sourced<f64>,
    /// Gate capacity (m³/s).
    pub gate_capacity_m3s: Sourced<f64>,
    /// Triggers (any one opens the gate); empty: opened only by a scenario decision.
    #[serde(default)]
    pub trigger: Vec<TriggerRecord>,
    /// Optional drain rule.
    #[serde(default)]
    pub drain: Option<DrainRecord>,
    /// Events in which the basin was used (for the yes/no validation).
    #[serde(default)]
    pub used_in: Vec<String>,
    /// Free remarks.
    #[serde(default)]
    pub notes: Option<String>,
}

impl DetentionRecord {
    /// The model basin, empty and closed.
    pub fn model(&self) -> std::result::Result<DetentionBasin, String> {
        let triggers = self
            .trigger
            .iter()
            .map(TriggerRecord::trigger)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let mut b = DetentionBasin::new(
            &self.name,
            self.capacity_1e8_m3.value * 1e8,
            self.gate_capacity_m3s.value,
            triggers,
        );
        b.drain = self.drain.as_ref().map(|d| Drain {
            rate_m3s: d.rate_m3s.value,
            after_open_s: d.after_open_h.value * 3600.0,
        });
        Ok(b)
    }

    fn check(&self, path: &Path, sources: &Sources) -> Result<()> {
        let f = |field: &str| format!("basin[{}].{field}", self.name);
        self.location.check(path, &f("location"), sources)?;
        self.link.check(path, &f("link"), sources)?;
        match (&self.link_area, self.link.outside_domain) {
            (Some(a), _) => a.check(path, &f("link_area"), sources)?,
            (None, false) => {
                return Err(invalid(
                    path,
                    &f("link_area"),
                    "missing: give the river's upstream area at the gate, e.g. `link_area = { area_km2 = { value = 45116.0, source = \"…\" } }` (or `estimate = true` with a `basis`)",
                ))
            }
            (None, true) => {}
        }
        if let Some(a) = &self.area_km2 {
            a.check_positive(path, &f("area_km2"), sources)?;
        }
        self.capacity_1e8_m3
            .check_positive(path, &f("capacity_1e8_m3"), sources)?;
        self.gate_capacity_m3s
            .check_positive(path, &f("gate_capacity_m3s"), sources)?;
        for (i, t) in self.trigger.iter().enumerate() {
            let field = f(&format!("trigger[{i}]"));
            check_provenance(
                path,
                &field,
                sources,
                t.source.as_deref(),
                t.estimate,
                t.basis.as_deref(),
                "estimate",
            )?;
            t.trigger().map_err(|m| invalid(path, &field, &m))?;
        }
        if let Some(d) = &self.drain {
            d.rate_m3s
                .check_positive(path, &f("drain.rate_m3s"), sources)?;
            d.after_open_h
                .check(path, &f("drain.after_open_h"), sources)?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DetentionFile {
    sources: Sources,
    basin: Vec<DetentionRecord>,
}

/// Reads and checks `detention_basins.toml` (provenance of every value, trigger fields,
/// locations in the domain or marked outside).
pub fn load_detention_basins(path: &Path) -> Result<Vec<DetentionRecord>> {
    let file: DetentionFile = read(path)?;
    let mut seen = std::collections::BTreeSet::new();
    for b in &file.basin {
        if !seen.insert(b.name.clone()) {
            return Err(invalid(path, &format!("basin[{}]", b.name), "listed twice"));
        }
        b.check(path, &file.sources)?;
    }
    Ok(file.basin)
}
