//! The plausibility guard: checks every flood run makes on its own results, so that what
//! an experienced basin engineer would disprove at a glance (a reservoir above its crest,
//! a structure on the wrong river, a peak at the last time step, a velocity of 500 m/s,
//! the sea bed as the largest depth) is reported, never passed on silently.
//!
//! Each check gives [`Finding`]s with a severity, a place and a reason. The runner prints
//! them on the console, writes them into `run.json` (`warnings`), the batch manifest
//! carries them, and the report shows them on its first screen.

use serde::{Deserialize, Serialize};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; the result stands.
    Info,
    /// The result is usable with care; the reason says where it is weak.
    Warning,
    /// A part of the result is not credible (e.g. a dam overtopped, a peak not reached).
    Serious,
}

impl Severity {
    /// The word printed on the console and in the report.
    pub fn label(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Serious => "SERIOUS",
        }
    }
}

/// One finding of the guard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// Which check found it: a short stable key such as `reservoir-level`,
    /// `structure-area`, `peak-not-reached`, `velocity`, `mass-balance`, `rain-depth`,
    /// `depth-on-land`.
    pub check: String,
    /// Where: a structure or gauge name, or a cell with its county and lon/lat.
    pub place: String,
    /// Why, in a sentence a water-authority engineer reads: the figures and what they mean.
    pub reason: String,
}

impl Finding {
    /// A finding.
    pub fn new(
        severity: Severity,
        check: &str,
        place: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Finding {
            severity,
            check: check.to_string(),
            place: place.into(),
            reason: reason.into(),
        }
    }

    /// One console line: `SERIOUS [reservoir-level] 官厅: …`.
    pub fn line(&self) -> String {
        format!(
            "{} [{}] {}: {}",
            self.severity.label(),
            self.check,
            self.place,
            self.reason
        )
    }
}

/// Findings sorted for display: most severe first, then by check and place (stable, so
/// that the same run gives the same order whatever the thread count).
pub fn sorted(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check.cmp(&b.check))
            .then_with(|| a.place.cmp(&b.place))
    });
    findings
}

/// Reservoir levels against the check level (校核水位, warning) and the dam crest
/// (serious: the dam overtops, which the model passes as a weir over the crest but an
/// embankment dam may not survive).
pub fn reservoir_levels(sites: &[crate::flood::structures::ReservoirSite]) -> Vec<Finding> {
    use crate::flood::structures::ReleaseRule;
    let mut out = Vec::new();
    for r in sites {
        let (level, t_s) = r.max_level;
        let name = &r.model.name;
        if let Some(c) = r.model.crest {
            if r.overtopping.1 > 0.0 || level > c.level_m {
                out.push(Finding::new(
                    Severity::Serious,
                    "dam-overtopped",
                    name.as_str(),
                    format!(
                        "the pool reached {level:.2} m at {:.1} h, {:.2} m above the dam crest ({:.2} m); up to {:.0} m³/s passed over the {:.0} m crest for {:.1} h. The dam's survival is not modelled",
                        t_s / 3600.0,
                        level - c.level_m,
                        c.level_m,
                        r.overtopping.0,
                        c.length_m,
                        r.overtopping.1 / 3600.0
                    ),
                ));
                continue;
            }
        }
        if let ReleaseRule::Operating(rule) = r.model.rule {
            if level > rule.check_level_m {
                out.push(Finding::new(
                    Severity::Warning,
                    "reservoir-level",
                    name.as_str(),
                    format!(
                        "the pool reached {level:.2} m at {:.1} h, above its check level 校核水位 ({:.2} m): a flood beyond the dam's check flood",
                        t_s / 3600.0,
                        rule.check_level_m
                    ),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serious_findings_come_first() {
        let f = sorted(vec![
            Finding::new(Severity::Info, "b", "x", "r"),
            Finding::new(Severity::Serious, "z", "y", "r"),
            Finding::new(Severity::Warning, "a", "x", "r"),
        ]);
        let s: Vec<Severity> = f.iter().map(|f| f.severity).collect();
        assert_eq!(s, [Severity::Serious, Severity::Warning, Severity::Info]);
        assert!(f[0].line().starts_with("SERIOUS [z] y:"));
    }
}
