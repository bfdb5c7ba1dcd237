//! Flood hazard rating to people: `HR = d (v + 0.5) + DF` (Defra/Environment Agency R&D
//! Technical Report FD2320/TR2, the method of FD2321).
//!
//! The rating combines the depth `d` (m), the speed `v` (m/s) and a debris factor `DF`
//! that grows with depth and with the land cover that feeds debris (trees, cars, urban
//! material). Four classes follow, the hazard to people caught in the water:
//!
//! | HR | class | FD2320 wording |
//! |---|---|---|
//! | < 0.75 | low | caution |
//! | 0.75 – 1.25 | moderate | danger for some (children, the elderly, the infirm) |
//! | 1.25 – 2.0 | significant | danger for most (the general public) |
//! | > 2.0 | extreme | danger for all (including the emergency services) |
//!
//! Debris factor (FD2320/TR2, its table of debris factors; the 2008 supplementary note
//! keeps it):
//!
//! | depth | pasture, arable | woodland | urban |
//! |---|---|---|---|
//! | 0 – 0.25 m | 0 | 0 | 0 |
//! | 0.25 – 0.75 m | 0 | 0.5 | 1 |
//! | > 0.75 m, or v > 2 m/s | 0.5 | 1 | 1 |
//!
//! # Maxima, not snapshots
//! A run tracks `max_t d(t) (v(t) + 0.5)` per cell at every solver step
//! ([`crate::flood::simulate::Simulation::max_depth_velocity_m2s`]), so the depth–speed
//! part is the largest instantaneous value, not the product of the depth and speed maxima
//! (which need not coincide and would overstate it). The debris factor is taken at the
//! depth and speed maxima: it never falls as depth or speed grows, so this bounds the
//! instantaneous factor from above by at most one step of the table.
//!
//! # Land cover
//! The model's classes map onto FD2320's three: mountain forest/grass → woodland, plain
//! cropland → pasture/arable, urban → urban. Water, wetland, sea and unknown cover take
//! pasture/arable (ASSUMPTION: no debris source named), and the runner leaves cells that
//! are not land (sea, open water, reservoir pools) out of the grid it writes.
//!
//! # Reference
//! - HR Wallingford, Flood Hazard Research Centre, Risk & Policy Analysts (2005). *Flood
//!   Risk Assessment Guidance for New Development, Phase 2*. Defra/Environment Agency R&D
//!   Technical Report FD2320/TR2 (the hazard rating and the debris factor table).
//! - HR Wallingford et al. (2006). *Flood Risks to People, Phase 2*. Defra/Environment
//!   Agency R&D Technical Reports FD2321/TR1 (methodology) and FD2321/TR2 (guidance).
//! - Environment Agency / Defra (2008). *Supplementary Note on Flood Hazard Ratings and
//!   Thresholds for Development Planning and Control Purpose*.
//!
//! # See also
//! [`crate::flood::plausibility`] for the checks every run makes on its velocities.

use serde::Serialize;

/// Class bounds of the hazard rating (FD2320): low below the first, extreme above the last.
pub const HAZARD_CLASS_BOUNDS: [f32; 3] = [0.75, 1.25, 2.0];

/// Depth bounds of the debris factor table, m.
pub const DEBRIS_DEPTH_BOUNDS_M: [f32; 2] = [0.25, 0.75];

/// Speed above which the debris factor takes its top row, m/s.
pub const DEBRIS_SPEED_MS: f32 = 2.0;

/// The land-cover columns of FD2320's debris factor table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DebrisCover {
    /// Pasture or arable land.
    PastureArable,
    /// Woodland.
    Woodland,
    /// Urban.
    Urban,
}

impl DebrisCover {
    /// The column for a class of the model's land cover (`models/land_cover.toml`):
    /// 1 mountain forest/grass → woodland, 3 urban → urban, anything else →
    /// pasture/arable.
    pub fn of_land_cover(code: u8) -> Self {
        match code {
            1 => DebrisCover::Woodland,
            3 => DebrisCover::Urban,
            _ => DebrisCover::PastureArable,
        }
    }
}

/// FD2320's debris factor for a depth (m), a speed (m/s) and a land cover.
pub fn debris_factor(depth_m: f32, speed_ms: f32, cover: DebrisCover) -> f32 {
    let row = if depth_m > DEBRIS_DEPTH_BOUNDS_M[1] || speed_ms > DEBRIS_SPEED_MS {
        2
    } else if depth_m > DEBRIS_DEPTH_BOUNDS_M[0] {
        1
    } else {
        0
    };
    let table = match cover {
        DebrisCover::PastureArable => [0.0, 0.0, 0.5],
        DebrisCover::Woodland => [0.0, 0.5, 1.0],
        DebrisCover::Urban => [0.0, 1.0, 1.0],
    };
    table[row]
}

/// Hazard rating `HR = d (v + 0.5) + DF` for a depth (m) and speed (m/s), FD2320.
pub fn hazard_rating(depth_m: f32, speed_ms: f32, cover: DebrisCover) -> f32 {
    if depth_m <= 0.0 {
        return 0.0;
    }
    depth_m * (speed_ms + 0.5) + debris_factor(depth_m, speed_ms, cover)
}

/// The FD2320 class of a hazard rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HazardClass {
    /// HR < 0.75: caution.
    Low,
    /// 0.75 ≤ HR < 1.25: danger for some.
    Moderate,
    /// 1.25 ≤ HR < 2.0: danger for most.
    Significant,
    /// HR ≥ 2.0: danger for all.
    Extreme,
}

impl HazardClass {
    /// The class of `hr` (bounds [`HAZARD_CLASS_BOUNDS`]); NaN counts as low.
    pub fn of(hr: f32) -> Self {
        let [a, b, c] = HAZARD_CLASS_BOUNDS;
        if hr >= c {
            HazardClass::Extreme
        } else if hr >= b {
            HazardClass::Significant
        } else if hr >= a {
            HazardClass::Moderate
        } else {
            HazardClass::Low
        }
    }
    /// The class's name.
    pub fn label(self) -> &'static str {
        match self {
            HazardClass::Low => "low",
            HazardClass::Moderate => "moderate",
            HazardClass::Significant => "significant",
            HazardClass::Extreme => "extreme",
        }
    }
}

/// The hazard rating grid of a run: `max_t d(v + 0.5)` per cell (`depth_velocity_m2s`)
/// plus the debris factor at the cell's depth and speed maxima; NaN where `include` is
/// false (cells that are not land). All slices have one value per cell.
pub fn hazard_rating_grid(
    depth_velocity_m2s: &[f32],
    max_depth_m: &[f32],
    max_speed_ms: &[f32],
    cover: &dyn Fn(usize) -> DebrisCover,
    include: &dyn Fn(usize) -> bool,
) -> Vec<f32> {
    (0..depth_velocity_m2s.len())
        .map(|i| {
            if !include(i) {
                return f32::NAN;
            }
            let d = max_depth_m[i];
            if d <= 0.0 {
                return 0.0;
            }
            depth_velocity_m2s[i].max(0.0) + debris_factor(d, max_speed_ms[i], cover(i))
        })
        .collect()
}

/// Cells per class of a hazard rating grid (NaN cells left out), in class order.
pub fn class_counts(hr: &[f32]) -> [usize; 4] {
    let mut n = [0usize; 4];
    for &v in hr.iter().filter(|v| !v.is_nan()) {
        n[HazardClass::of(v) as usize] += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_matches_a_hand_computation() {
        // 0.6 m at 1.5 m/s on urban land: 0.6 × (1.5 + 0.5) + 1.0 = 2.2 → extreme.
        let hr = hazard_rating(0.6, 1.5, DebrisCover::Urban);
        assert!((hr - 2.2).abs() < 1e-6, "{hr}");
        assert_eq!(HazardClass::of(hr), HazardClass::Extreme);
        // 0.3 m at 0.5 m/s on cropland: 0.3 × 1.0 + 0 = 0.3 → low.
        let hr = hazard_rating(0.3, 0.5, DebrisCover::PastureArable);
        assert!((hr - 0.3).abs() < 1e-6, "{hr}");
        assert_eq!(HazardClass::of(hr), HazardClass::Low);
        // 0.5 m at 1.0 m/s in woodland: 0.5 × 1.5 + 0.5 = 1.25 → significant (bound).
        let hr = hazard_rating(0.5, 1.0, DebrisCover::Woodland);
        assert!((hr - 1.25).abs() < 1e-6, "{hr}");
        assert_eq!(HazardClass::of(hr), HazardClass::Significant);
        // 0.2 m at 2.5 m/s on arable: the speed puts DF in the top row: 0.2 × 3 + 0.5.
        let hr = hazard_rating(0.2, 2.5, DebrisCover::PastureArable);
        assert!((hr - 1.1).abs() < 1e-6, "{hr}");
        assert_eq!(HazardClass::of(hr), HazardClass::Moderate);
        assert_eq!(hazard_rating(0.0, 3.0, DebrisCover::Urban), 0.0);
    }

    #[test]
    fn grid_uses_the_instantaneous_product_and_leaves_out_non_land() {
        // Cell 0: max d(v+0.5) 0.9 with maxima d 1.0, v 0.4 (product of maxima 0.9 too);
        // cell 1: the maxima came at different times: 0.4 × (3 + 0.5) = 1.4 would
        // overstate; the tracked 0.8 stands, DF by v > 2 on cropland 0.5 → 1.3.
        let hr = hazard_rating_grid(
            &[0.9, 0.8, 5.0],
            &[1.0, 0.4, 20.0],
            &[0.4, 3.0, 0.1],
            &|_| DebrisCover::PastureArable,
            &|i| i < 2,
        );
        assert!((hr[0] - 1.4).abs() < 1e-6, "{hr:?}");
        assert!((hr[1] - 1.3).abs() < 1e-6, "{hr:?}");
        assert!(hr[2].is_nan());
        assert_eq!(class_counts(&hr), [0, 0, 2, 0]);
    }
}
