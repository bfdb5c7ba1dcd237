//! Operating the works: reservoir releases ordered by the flood-control authority
//! (调度指令) instead of the flood-season rule of [`super::reservoir::OperatingRule`].
//!
//! A water authority does not leave its reservoirs on their rule alone. Before a forecast
//! storm it draws a pool down below the flood-limit level (预泄, pre-release); during
//! the flood it holds a reservoir's release back while the river below is at its peak
//! and lets it go once the peak has passed (错峰, peak staggering). An [`Operation`]
//! expresses such an order in one of three forms:
//!
//! - [`Order::Rate`]: a constant release, m³/s;
//! - [`Order::Schedule`]: releases from given times on, each holding until the next
//!   (a step function, as dispatch orders are issued); before the first time, and from
//!   an entry without a rate, the flood-season rule applies;
//! - [`Order::OnGauge`]: a rule on a gauge: release `release_m3s` (or what the rule
//!   gives) while the discharge at a named gauge is below a threshold, and
//!   `otherwise_m3s` while it is at or above it. The decision is taken at the gauge
//!   reading of the start of a step and kept for `decide_every_s` (operators issue orders
//!   at intervals; this also keeps a release whose own wave reaches the gauge from
//!   switching every step).
//!
//! Two limits come before any order, as in every dam's operating regulation
//! (水库调度规程: the dam's safety comes first): above `safety_level_m` (by default the
//! check level 校核水位) the rule's release takes over whenever it is larger, and at or
//! below `floor_level_m` (the dead level 死水位, or the bottom of the storage curve)
//! nothing is released. An ordered release is also capped by the reservoir's maximum
//! release, the capacity of its outlets and spillways. Both limits make the release a
//! non-decreasing function of the storage, so the storage equation keeps its unique,
//! mass-conserving solution ([`super::reservoir::Reservoir::step`]).

use super::detention::Quantity;

/// One entry of a release schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduledRelease {
    /// From this time on, s since 1970-01-01T00:00Z (the works' clock).
    pub from_s: f64,
    /// Release, m³/s; `None`: the flood-season rule.
    pub rate_m3s: Option<f64>,
}

/// What a reservoir is ordered to release.
#[derive(Debug, Clone, PartialEq)]
pub enum Order {
    /// A constant release, m³/s.
    Rate(f64),
    /// Releases from given times on, sorted by time (strictly increasing).
    Schedule(Vec<ScheduledRelease>),
    /// A rule on a gauge's discharge.
    OnGauge {
        /// Gauge name, as in the scenario's `[[gauge]]`.
        gauge: String,
        /// Threshold discharge at the gauge, m³/s.
        below_m3s: f64,
        /// Release while the gauge is below the threshold, m³/s; `None`: the rule's.
        release_m3s: Option<f64>,
        /// Release while the gauge is at or above the threshold, m³/s.
        otherwise_m3s: f64,
        /// How long a decision holds, s.
        decide_every_s: f64,
    },
}

/// An order with the reservoir's safety limits; see the module documentation.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The order.
    pub order: Order,
    /// Above this level the rule's release applies when it is larger, m.
    pub safety_level_m: f64,
    /// At or below this level nothing is released, m.
    pub floor_level_m: f64,
    /// The last decision of an [`Order::OnGauge`]: when it was taken (s) and the release.
    decision: Option<(f64, Option<f64>)>,
}

/// The release in force for one step: what [`super::reservoir::Reservoir`] applies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DirectedRelease {
    /// Ordered release, m³/s (already capped at the maximum release).
    pub rate_m3s: f64,
    /// Above this level the rule's release applies when it is larger, m.
    pub safety_level_m: f64,
    /// At or below this level nothing is released, m.
    pub floor_level_m: f64,
}

impl Operation {
    /// An operation with its limits.
    pub fn new(order: Order, safety_level_m: f64, floor_level_m: f64) -> Self {
        Operation {
            order,
            safety_level_m,
            floor_level_m,
            decision: None,
        }
    }

    /// The gauge the order reads, if any.
    pub fn gauge(&self) -> Option<&str> {
        match &self.order {
            Order::OnGauge { gauge, .. } => Some(gauge),
            _ => None,
        }
    }

    /// The release ordered for the step starting at `t_s` (works' clock), capped at
    /// `max_release_m3s`; `None` where the flood-season rule applies. `reading` gives
    /// the discharge at a gauge by name; a gauge without a reading is an error.
    pub fn directed(
        &mut self,
        t_s: f64,
        max_release_m3s: f64,
        reading: &dyn Fn(&str, Quantity) -> Option<f64>,
    ) -> crate::Result<Option<DirectedRelease>> {
        let rate = match &self.order {
            Order::Rate(q) => Some(*q),
            Order::Schedule(entries) => {
                let k = entries.partition_point(|e| e.from_s <= t_s);
                if k == 0 {
                    None
                } else {
                    entries[k - 1].rate_m3s
                }
            }
            Order::OnGauge {
                gauge,
                below_m3s,
                release_m3s,
                otherwise_m3s,
                decide_every_s,
            } => match self.decision {
                Some((at, rate)) if t_s < at + decide_every_s => rate,
                _ => {
                    let q = reading(gauge, Quantity::Discharge)
                        .filter(|q| q.is_finite())
                        .ok_or_else(|| {
                            crate::Error::Data(format!(
                                "release order on gauge `{gauge}`: the gauge has no reading"
                            ))
                        })?;
                    let rate = if q < *below_m3s {
                        *release_m3s
                    } else {
                        Some(*otherwise_m3s)
                    };
                    self.decision = Some((t_s, rate));
                    rate
                }
            },
        };
        Ok(rate.map(|q| DirectedRelease {
            rate_m3s: q.clamp(0.0, max_release_m3s),
            safety_level_m: self.safety_level_m,
            floor_level_m: self.floor_level_m,
        }))
    }
}

impl DirectedRelease {
    /// Release (m³/s) at level `level_m`, given what the rule would release there.
    pub fn release_m3s(&self, level_m: f64, rule_m3s: f64) -> f64 {
        if level_m > self.safety_level_m {
            rule_m3s.max(self.rate_m3s)
        } else if level_m <= self.floor_level_m {
            0.0
        } else {
            self.rate_m3s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none(_: &str, _: Quantity) -> Option<f64> {
        None
    }

    #[test]
    fn a_schedule_holds_each_rate_until_the_next_and_starts_on_the_rule() {
        let mut op = Operation::new(
            Order::Schedule(vec![
                ScheduledRelease {
                    from_s: 100.0,
                    rate_m3s: Some(50.0),
                },
                ScheduledRelease {
                    from_s: 200.0,
                    rate_m3s: None,
                },
            ]),
            10.0,
            0.0,
        );
        let at = |op: &mut Operation, t| op.directed(t, 1000.0, &none).unwrap();
        assert_eq!(at(&mut op, 0.0), None);
        assert_eq!(at(&mut op, 100.0).unwrap().rate_m3s, 50.0);
        assert_eq!(at(&mut op, 199.0).unwrap().rate_m3s, 50.0);
        assert_eq!(at(&mut op, 200.0), None);
    }

    #[test]
    fn a_gauge_rule_holds_its_decision_and_the_cap_and_limits_apply() {
        let mut op = Operation::new(
            Order::OnGauge {
                gauge: "G".into(),
                below_m3s: 100.0,
                release_m3s: Some(5000.0),
                otherwise_m3s: 0.0,
                decide_every_s: 3600.0,
            },
            10.0,
            2.0,
        );
        let high = |_: &str, _: Quantity| Some(150.0);
        let low = |_: &str, _: Quantity| Some(50.0);
        let d = op.directed(0.0, 800.0, &high).unwrap().unwrap();
        assert_eq!(d.rate_m3s, 0.0);
        // The decision holds for an hour, whatever the gauge says meanwhile.
        assert_eq!(
            op.directed(1800.0, 800.0, &low).unwrap().unwrap().rate_m3s,
            0.0
        );
        let d = op.directed(3600.0, 800.0, &low).unwrap().unwrap();
        assert_eq!(d.rate_m3s, 800.0, "capped at the maximum release");
        assert_eq!(d.release_m3s(5.0, 300.0), 800.0);
        assert_eq!(d.release_m3s(11.0, 900.0), 900.0, "dam safety first");
        assert_eq!(d.release_m3s(2.0, 300.0), 0.0, "nothing below the floor");
        assert!(op.directed(7200.0, 800.0, &none).is_err());
    }
}
