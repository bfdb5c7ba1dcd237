//! The plausibility guard's land-only figures on a small grid run through the time loop
//! (`haihe::flood::simulate`): the sea bed, held at sea level, is never the largest depth.

use haihe::flood::plausibility::{self, Surface};
use haihe::flood::routing::{Boundaries, Domain, Params, State};
use haihe::flood::simulate::{self, Forcing, RunPlan};
use haihe::scenario::flood::cell_surfaces;

/// 50 mm/h of rain everywhere for the whole run.
struct Rain;

impl Forcing for Rain {
    fn rates(
        &mut self,
        _t_s: f64,
        rain_ms: &mut [f32],
        loss_ms: &mut [f32],
        points: &mut Vec<(usize, f64)>,
    ) -> haihe::Result<f64> {
        rain_ms.fill(0.05 / 3600.0);
        loss_ms.fill(0.0);
        points.clear();
        Ok(f64::INFINITY)
    }
}

#[test]
fn largest_land_depth_leaves_out_the_sea_bed() {
    // One row of 8 cells of 100 m: a beach sloping from 4 m down to 0.5 m, then two sea
    // cells whose bed lies at −25 m, held at sea level 0 m.
    let bed = vec![4.0, 3.5, 3.0, 2.5, 2.0, 1.0, -25.0, -25.0];
    let levels: Vec<f32> = bed
        .iter()
        .map(|&z| if z < 0.0 { 0.0 } else { f32::NAN })
        .collect();
    let domain = Domain::new(
        1,
        8,
        100.0,
        bed.clone(),
        vec![0.05; 8],
        Boundaries::closed(),
    )
    .unwrap()
    .with_fixed_levels(levels.clone())
    .unwrap();
    let mut state = State::dry(&domain);
    for (h, (&l, &z)) in state.depth_m.iter_mut().zip(levels.iter().zip(&bed)) {
        if !l.is_nan() {
            *h = l - z;
        }
    }
    let sim = simulate::simulate(
        &domain,
        &mut state,
        &mut Rain,
        &[],
        RunPlan {
            duration_s: 3600.0,
            output_interval_s: 1800.0,
            recession: None,
        },
        &Params::default(),
    )
    .unwrap();
    let anywhere = sim.max_depth_m.iter().fold(0.0f32, |m, &h| m.max(h));
    assert_eq!(anywhere, 25.0, "the sea cells hold 25 m of sea");
    let surface = cell_surfaces(&domain, None, &[]);
    assert_eq!(&surface[6..], &[Surface::Sea, Surface::Sea]);
    assert!(surface[..6].iter().all(|s| *s == Surface::Land));
    let (cell, depth) = plausibility::largest_on_land(&sim.max_depth_m, &surface).unwrap();
    // 50 mm of rain in the hour: the land holds centimetres, never the sea's 25 m.
    assert!(cell < 6, "largest land depth at cell {cell}");
    assert!(depth > 0.0 && depth < 0.2, "largest land depth {depth} m");
    // Land checks see no deep water and no fast flow.
    let site = |i: usize| plausibility::CellSite {
        row: 0,
        col: i,
        county: None,
        lon_lat: None,
        setting: plausibility::Setting::Plain,
        detail: String::new(),
    };
    assert!(plausibility::check_depth_on_land(
        &sim.max_depth_m,
        &surface,
        plausibility::DEPTH_ON_LAND_WARNING_M,
        &site
    )
    .is_empty());
    // A reservoir pool is left out the same way.
    let pooled = cell_surfaces(&domain, None, &[cell]);
    assert_eq!(pooled[cell], Surface::Pool);
    let (other, _) = plausibility::largest_on_land(&sim.max_depth_m, &pooled).unwrap();
    assert_ne!(other, cell);
}
