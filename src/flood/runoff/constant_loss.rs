//! Initial and constant loss: the rain first fills an initial loss (interception,
//! depression storage, initial soil deficit), then infiltrates at a constant rate; the
//! rest runs off. The simplest loss model of event hydrology (HEC-HMS "Initial and
//! Constant"; Australian Rainfall and Runoff "IL/CL"), an alternative to the curve number
//! where observed losses are known.
//!
//! # Reference
//! - US Army Corps of Engineers (2000) *HEC-HMS Technical Reference Manual*, CPD-74B,
//!   chapter 5 "Initial and constant-rate loss model".
//! - Ball, J. et al. (eds.) (2019) *Australian Rainfall and Runoff*, Book 5, ch. 3.

/// Runoff and loss, mm, of one step with rain `rain_mm` over `step_h` hours, for a cell
/// whose unfilled initial loss is `initial_left_mm` (reduced in place) and whose
/// continuing loss rate is `rate_mm_per_h`. Runoff + loss = rain.
pub fn initial_constant_step(
    rain_mm: f64,
    step_h: f64,
    rate_mm_per_h: f64,
    initial_left_mm: &mut f64,
) -> (f64, f64) {
    let rain = rain_mm.max(0.0);
    let initial = rain.min(initial_left_mm.max(0.0));
    *initial_left_mm -= initial;
    let continuing = (rain - initial).min((rate_mm_per_h * step_h).max(0.0));
    let loss = initial + continuing;
    (rain - loss, loss)
}
