//! Risk over scenarios: exceedance curves and expected annual exposure or damage.
//!
//! A set of design events of one river system, each with its return period T (years)
//! and its consequence D (persons exposed, or damage), gives the exceedance curve
//! D(p) at the annual exceedance probabilities p = 1/T. The expected annual value is
//! the area under that curve, ∫₀¹ D(p) dp, which this module evaluates with the
//! trapezoid rule between the modelled events plus two tails:
//!
//! - **frequent tail** (p above the most frequent event, 1/T_min < p ≤ 1): zero. Events
//!   more frequent than the most frequent design event are taken to cause no exposure
//!   (they stay within the channels and the protection standard): the usual truncation
//!   of risk studies, which biases the expectation low when the most frequent event
//!   already floods people.
//! - **rare tail** (0 ≤ p below the rarest event, 1/T_max): [`RareTail::Constant`]
//!   holds the rarest event's value down to p = 0 (adds D(T_max)/T_max), or
//!   [`RareTail::Zero`] adds nothing. The two bracket the unknown tail when D grows
//!   with T: constant is a lower bound of any curve that keeps growing, zero a lower
//!   bound of all. Reports give both (`eae` and `eae_no_tail`).
//!
//! Hazus annualises flood losses from the losses of a handful of return periods (10 to
//! 500 years) by integrating over exceedance probability between them (FEMA, Hazus
//! Flood Technical Manual, average annualized loss); CLIMADA reports the
//! expected annual impact `aai_agg` as Σ fᵢ·Dᵢ over events of frequency fᵢ, and its
//! exceedance-frequency curve (Aznar-Siguan and Bresch 2019, Geosci. Model Dev. 12,
//! 3085–3097). How much the tail choice moves the result is discussed by Olsen et al.
//! (2015, Water 7, 255–270). For earthquake scenarios with an annual rate λᵢ, the
//! expected annual value is the event-based sum Σ λᵢ·Dᵢ ([`event_expectation`]), as
//! CLIMADA's `aai_agg`.
//!
//! Expected annual values add over independent sources (the three river systems): the
//! expectation of a sum is the sum of the expectations.

use crate::{Error, Result};

/// What the curve does beyond the rarest modelled event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RareTail {
    /// The rarest event's value holds down to p = 0.
    Constant,
    /// Nothing beyond the rarest event.
    Zero,
}

/// The exceedance curve of (return period in years, value) points: (annual exceedance
/// probability p = 1/T, value), sorted by p ascending (rarest first). Return periods
/// must be finite, above 1 year and distinct; values finite.
pub fn exceedance_curve(points: &[(f64, f64)]) -> Result<Vec<(f64, f64)>> {
    if points.is_empty() {
        return Err(Error::Data(
            "an exceedance curve needs at least one event".into(),
        ));
    }
    for &(t, v) in points {
        if !(t.is_finite() && t > 1.0) {
            return Err(Error::Data(format!(
                "return period {t} yr: must exceed 1 year"
            )));
        }
        if !v.is_finite() {
            return Err(Error::Data(format!("value {v} at {t} yr: must be finite")));
        }
    }
    let mut c: Vec<(f64, f64)> = points.iter().map(|&(t, v)| (1.0 / t, v)).collect();
    c.sort_by(|a, b| a.0.total_cmp(&b.0));
    if c.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(Error::Data("two events share a return period".into()));
    }
    Ok(c)
}

/// Expected annual value ∫₀¹ D(p) dp of (return period in years, value) points by the
/// trapezoid rule over p = 1/T, zero above the most frequent event and `tail` below
/// the rarest (see the module documentation). Units: the values' per year.
pub fn expected_annual(points: &[(f64, f64)], tail: RareTail) -> Result<f64> {
    let c = exceedance_curve(points)?;
    let mut sum = match tail {
        RareTail::Constant => c[0].0 * c[0].1,
        RareTail::Zero => 0.0,
    };
    for w in c.windows(2) {
        sum += (w[1].0 - w[0].0) * 0.5 * (w[0].1 + w[1].1);
    }
    Ok(sum)
}

/// Event-based expected annual value Σ λᵢ·Dᵢ of (annual rate, value) pairs (CLIMADA's
/// `aai_agg`). Rates must be finite and non-negative.
pub fn event_expectation(events: &[(f64, f64)]) -> Result<f64> {
    let mut sum = 0.0;
    for &(rate, v) in events {
        if !(rate.is_finite() && rate >= 0.0 && v.is_finite()) {
            return Err(Error::Data(format!(
                "event rate {rate}/yr, value {v}: must be finite and the rate non-negative"
            )));
        }
        sum += rate * v;
    }
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand computation: T = 10, 50, 100, 500 yr with 0, 100, 200, 400 persons.
    /// p = 0.1, 0.02, 0.01, 0.002. Trapezoids: 0.08·50 = 4, 0.01·150 = 1.5,
    /// 0.008·300 = 2.4 → 7.9; constant rare tail adds 0.002·400 = 0.8 → 8.7.
    #[test]
    fn trapezoid_on_a_hand_made_curve() {
        let pts = [(100.0, 200.0), (10.0, 0.0), (500.0, 400.0), (50.0, 100.0)];
        let zero = expected_annual(&pts, RareTail::Zero).unwrap();
        let cons = expected_annual(&pts, RareTail::Constant).unwrap();
        assert!((zero - 7.9).abs() < 1e-12, "{zero}");
        assert!((cons - 8.7).abs() < 1e-12, "{cons}");
    }

    #[test]
    fn single_event_and_bad_input() {
        // One 100-year event of 50: only the rare tail contributes, 0.01·50.
        assert!(
            (expected_annual(&[(100.0, 50.0)], RareTail::Constant).unwrap() - 0.5).abs() < 1e-12
        );
        assert_eq!(
            expected_annual(&[(100.0, 50.0)], RareTail::Zero).unwrap(),
            0.0
        );
        assert!(expected_annual(&[], RareTail::Zero).is_err());
        assert!(expected_annual(&[(1.0, 5.0)], RareTail::Zero).is_err());
        assert!(expected_annual(&[(10.0, 5.0), (10.0, 6.0)], RareTail::Zero).is_err());
    }

    #[test]
    fn event_sum() {
        let v = event_expectation(&[(0.001, 1000.0), (0.0002, 5000.0)]).unwrap();
        assert!((v - 2.0).abs() < 1e-12);
        assert!(event_expectation(&[(-1.0, 1.0)]).is_err());
    }
}
