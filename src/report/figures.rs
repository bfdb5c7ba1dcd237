//! The report's figures as PNG: maps of a grid (scores, maximum flood depth, PGA) and
//! line charts (hydrographs, storage curves, exceedance curves).
//!
//! Maps follow the conventions of thematic cartography (Slocum et al. 2009, *Thematic
//! Cartography and Geovisualization*, 3rd ed., ch. 13 and 15): a legend with the
//! variable and its units, a scale bar of a round length, a north arrow, and colour
//! schemes matched to the data: a perceptually uniform sequential ramp for scores
//! (viridis; van der Walt and Smith 2015, matplotlib), and ColorBrewer sequential classes
//! for depth (Blues) and shaking (YlOrRd) (Harrower and Brewer 2003, *The
//! Cartographic Journal* 40(1), 27–37). Cells without data are drawn grey; values
//! below a scale's first class (dry cells) are left in the background colour.
//!
//! Text is drawn with the bundled DejaVu Sans (`assets/fonts/`, compiled in), so no
//! system font library is needed; it holds Latin glyphs only, so figure text is kept
//! ASCII ([`ascii_or`]) and non-ASCII names appear as numbered keys that the HTML and
//! Markdown reports spell out.
//!
//! The rendering functions ([`render_map`], [`render_charts`]) are kernels returning an
//! RGB buffer; [`write_png`] encodes and writes it atomically.

use crate::grid::io::write_atomically;
use crate::{Error, Grid, Result};
use ndarray::Array2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::sync::Once;

/// The font family name the figures register the bundled font under.
const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static REGISTER: Once = Once::new();

fn register_font() {
    REGISTER.call_once(|| {
        // The bytes are a valid TrueType font compiled in; a failure leaves text
        // undrawn, and drawing then reports the missing font as an error.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// An sRGB colour.
pub type Rgb = [u8; 3];

/// Colour of cells without data (NaN).
pub const NODATA: Rgb = [200, 200, 200];
/// Background of maps and charts.
pub const BACKGROUND: Rgb = [255, 255, 255];
/// Colour of land cells below a scale's first class (dry).
pub const LAND: Rgb = [246, 244, 238];
/// Colour of county outlines.
pub const OUTLINE: Rgb = [90, 90, 90];
/// Colour of sea cells (the model's sea mask), so that the sea is not read as flood.
pub const SEA: Rgb = [222, 228, 233];

/// viridis at t = 0, 1/9, …, 1 (matplotlib's `_viridis_data` sampled at 10 points).
const VIRIDIS: [Rgb; 10] = [
    [0x44, 0x01, 0x54],
    [0x48, 0x28, 0x78],
    [0x3e, 0x49, 0x89],
    [0x31, 0x68, 0x8e],
    [0x26, 0x82, 0x8e],
    [0x1f, 0x9e, 0x89],
    [0x35, 0xb7, 0x79],
    [0x6e, 0xce, 0x58],
    [0xb5, 0xde, 0x2b],
    [0xfd, 0xe7, 0x25],
];
/// ColorBrewer Blues (9 classes), light to dark.
const BLUES: [Rgb; 9] = [
    [0xf7, 0xfb, 0xff],
    [0xde, 0xeb, 0xf7],
    [0xc6, 0xdb, 0xef],
    [0x9e, 0xca, 0xe1],
    [0x6b, 0xae, 0xd6],
    [0x42, 0x92, 0xc6],
    [0x21, 0x71, 0xb5],
    [0x08, 0x51, 0x9c],
    [0x08, 0x30, 0x6b],
];
/// ColorBrewer YlOrRd (9 classes), light to dark.
const YLORRD: [Rgb; 9] = [
    [0xff, 0xff, 0xcc],
    [0xff, 0xed, 0xa0],
    [0xfe, 0xd9, 0x76],
    [0xfe, 0xb2, 0x4c],
    [0xfd, 0x8d, 0x3c],
    [0xfc, 0x4e, 0x2a],
    [0xe3, 0x1a, 0x1c],
    [0xbd, 0x00, 0x26],
    [0x80, 0x00, 0x26],
];
/// Tableau 10, the line colours of charts.
const LINES: [Rgb; 10] = [
    [0x1f, 0x77, 0xb4],
    [0xff, 0x7f, 0x0e],
    [0x2c, 0xa0, 0x2c],
    [0xd6, 0x27, 0x28],
    [0x94, 0x67, 0xbd],
    [0x8c, 0x56, 0x4b],
    [0xe3, 0x77, 0xc2],
    [0x7f, 0x7f, 0x7f],
    [0xbc, 0xbd, 0x22],
    [0x17, 0xbe, 0xcf],
];

/// A sequential colour ramp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ramp {
    /// viridis (dark violet to yellow), perceptually uniform.
    Viridis,
    /// ColorBrewer Blues (white to dark blue).
    Blues,
    /// ColorBrewer YlOrRd (pale yellow to dark red).
    YellowRed,
}

/// The colour of a ramp at t ∈ [0, 1] (clamped; NaN gives the start), interpolated
/// linearly in sRGB between the ramp's anchors.
pub fn ramp_colour(ramp: Ramp, t: f64) -> Rgb {
    let anchors: &[Rgb] = match ramp {
        Ramp::Viridis => &VIRIDIS,
        Ramp::Blues => &BLUES,
        Ramp::YellowRed => &YLORRD,
    };
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (anchors.len() - 1) as f64;
    let i = (x.floor() as usize).min(anchors.len() - 2);
    let f = x - i as f64;
    let (a, b) = (anchors[i], anchors[i + 1]);
    let mix = |k: usize| (a[k] as f64 + f * (b[k] as f64 - a[k] as f64)).round() as u8;
    [mix(0), mix(1), mix(2)]
}

/// `n` colours sampled evenly from a ramp, from `t0` to 1 (classed legends).
pub fn ramp_classes(ramp: Ramp, n: usize, t0: f64) -> Vec<Rgb> {
    (0..n)
        .map(|k| {
            let t = if n > 1 {
                t0 + (1.0 - t0) * k as f64 / (n - 1) as f64
            } else {
                1.0
            };
            ramp_colour(ramp, t)
        })
        .collect()
}

/// How a map turns values into colours.
#[derive(Debug, Clone, PartialEq)]
pub enum ColourScale {
    /// A continuous ramp from `lo` (t = 0) to `hi` (t = 1), values clamped.
    Continuous {
        /// Value at the start of the ramp.
        lo: f64,
        /// Value at the end of the ramp.
        hi: f64,
        /// The ramp.
        ramp: Ramp,
    },
    /// Classes [bounds\[i\], bounds\[i+1\]) with `colours[i]`; the last class is open
    /// above. Values below `bounds[0]` are drawn in the background colour (`LAND`).
    Classes {
        /// Lower bounds of the classes, ascending.
        bounds: Vec<f64>,
        /// One colour per class.
        colours: Vec<Rgb>,
    },
}

impl ColourScale {
    /// Colour of a finite value; `None` below the first class.
    pub fn colour(&self, v: f64) -> Option<Rgb> {
        match self {
            ColourScale::Continuous { lo, hi, ramp } => {
                let span = hi - lo;
                let t = if span > 0.0 { (v - lo) / span } else { 1.0 };
                Some(ramp_colour(*ramp, t))
            }
            ColourScale::Classes { bounds, colours } => {
                let k = bounds.iter().rposition(|b| v >= *b)?;
                colours.get(k).copied()
            }
        }
    }
}

/// Maximum-depth classes of the depth maps, m: 0.05 (wet), 0.15, 0.5 (the report's
/// headline exposure threshold), 1, 2 and 5 m.
pub const DEPTH_CLASSES_M: [f64; 6] = [0.05, 0.15, 0.5, 1.0, 2.0, 5.0];
/// PGA classes of the shaking maps, g: the GB 18306-2015 zone values as class bounds.
pub const PGA_CLASSES_G: [f64; 7] = [0.0, 0.05, 0.10, 0.15, 0.20, 0.30, 0.40];

/// The depth maps' scale: [`DEPTH_CLASSES_M`] in Blues (skipping the near-white end).
pub fn depth_scale() -> ColourScale {
    ColourScale::Classes {
        bounds: DEPTH_CLASSES_M.to_vec(),
        colours: ramp_classes(Ramp::Blues, DEPTH_CLASSES_M.len(), 0.3),
    }
}

/// The PGA maps' scale: [`PGA_CLASSES_G`] in YlOrRd.
pub fn pga_scale() -> ColourScale {
    ColourScale::Classes {
        bounds: PGA_CLASSES_G.to_vec(),
        colours: ramp_classes(Ramp::YellowRed, PGA_CLASSES_G.len(), 0.0),
    }
}

/// The score maps' scale: viridis from 0 (least resilient) to 100.
pub fn score_scale() -> ColourScale {
    ColourScale::Continuous {
        lo: 0.0,
        hi: 100.0,
        ramp: Ramp::Viridis,
    }
}

/// A round scale-bar length (1, 2 or 5 × 10ᵏ km) no longer than a quarter of the map
/// width `map_width_km`.
pub fn nice_scale_km(map_width_km: f64) -> f64 {
    let target = map_width_km / 4.0;
    if !(target.is_finite() && target > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(target.log10().floor());
    [5.0, 2.0, 1.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&v| v <= target * (1.0 + 1e-9))
        .unwrap_or(p)
}

/// Length in pixels of `length_km` on a map of cells `cell_size_m` wide drawn at
/// `px_per_cell` pixels per cell.
pub fn scale_bar_px(length_km: f64, cell_size_m: f64, px_per_cell: f64) -> f64 {
    length_km * 1000.0 / cell_size_m * px_per_cell
}

/// Figure text: `s` when it is printable ASCII, else `fallback` (the bundled font
/// holds Latin glyphs only).
pub fn ascii_or(s: &str, fallback: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        s.to_string()
    } else {
        fallback.to_string()
    }
}

/// What a map shows.
#[derive(Debug, Clone)]
pub struct MapSpec<'a> {
    /// Title (ASCII).
    pub title: String,
    /// A line under the title (ASCII).
    pub subtitle: String,
    /// Heading of the colour bar with units, e.g. `max depth (m)`.
    pub units: String,
    /// The colour scale.
    pub scale: ColourScale,
    /// Zone ids on the same grid (e.g. counties.tif) whose boundaries are drawn; 0 =
    /// none.
    pub outlines: Option<&'a Array2<i32>>,
    /// Sea cells (non-zero) on the same grid, drawn in [`SEA`] whatever their value.
    pub sea: Option<&'a Array2<u8>>,
}

/// An RGB image in memory: `rgb` holds width × height × 3 bytes, row by row.
#[derive(Debug, Clone)]
pub struct Image {
    /// Width, px.
    pub width: u32,
    /// Height, px.
    pub height: u32,
    /// Pixels, RGB, rows top to bottom.
    pub rgb: Vec<u8>,
}

impl Image {
    /// The colour at (x, y).
    pub fn pixel(&self, x: u32, y: u32) -> Rgb {
        let i = 3 * (y as usize * self.width as usize + x as usize);
        [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
    }
}

/// Where a map's grid lies in its image: top-left pixel and pixels per cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapLayout {
    /// Left edge of the map, px.
    pub x0: u32,
    /// Top edge of the map, px.
    pub y0: u32,
    /// Pixels per cell.
    pub px_per_cell: f64,
    /// Map width, px.
    pub width: u32,
    /// Map height, px.
    pub height: u32,
    /// Scale-bar length, km (0 if none: a geographic grid).
    pub scale_km: f64,
}

const MAP_BOX: (f64, f64) = (760.0, 620.0);
const MAP_X0: u32 = 20;
const MAP_Y0: u32 = 62;
const LEGEND_W: u32 = 170;
const MAP_BOTTOM: u32 = 64;

/// The layout of a `rows` × `cols` grid of `cell_size_m` cells: fitted into a
/// 760 × 620 px box, at most 24 px per cell.
pub fn map_layout(rows: usize, cols: usize, cell_size_m: f64, geographic: bool) -> MapLayout {
    let s = (MAP_BOX.0 / cols.max(1) as f64)
        .min(MAP_BOX.1 / rows.max(1) as f64)
        .min(24.0);
    let w_km = cols as f64 * cell_size_m / 1000.0;
    MapLayout {
        x0: MAP_X0,
        y0: MAP_Y0,
        px_per_cell: s,
        width: ((cols as f64 * s).round() as u32).max(1),
        height: ((rows as f64 * s).round() as u32).max(1),
        scale_km: if geographic { 0.0 } else { nice_scale_km(w_km) },
    }
}

fn draw_err(e: impl std::fmt::Display) -> Error {
    Error::Data(format!("drawing a figure: {e}"))
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(&BLACK)
}

/// Renders a map of `values` (NaN = no data): the grid, county outlines, a colour bar
/// with units, a scale bar in km (from the geotransform's cell size), a north arrow
/// (grid north: the grids are north-up) and the title. Kernel, no I/O.
pub fn render_map(values: &Grid<f64>, spec: &MapSpec) -> Result<(Image, MapLayout)> {
    register_font();
    let (rows, cols) = values.data.dim();
    if rows == 0 || cols == 0 {
        return Err(Error::Data("an empty grid cannot be mapped".into()));
    }
    let wkt = values.crs_wkt.trim_start();
    let geographic = wkt.starts_with("GEOGCS") || wkt.starts_with("GEOGCRS");
    let lay = map_layout(rows, cols, values.transform.dx.abs(), geographic);
    let width = lay.x0 + lay.width + 20 + LEGEND_W;
    let height = (lay.y0 + lay.height + MAP_BOTTOM).max(lay.y0 + 420);
    let mut buf = vec![255u8; (width * height * 3) as usize];
    let outlines = spec.outlines.filter(|o| o.dim() == (rows, cols));
    let sea = spec.sea.filter(|o| o.dim() == (rows, cols));
    // The grid, nearest cell per pixel.
    let cell = |p: u32, n: usize| {
        ((p as f64 + 0.5) / lay.px_per_cell)
            .floor()
            .min((n - 1) as f64) as usize
    };
    let col_of: Vec<usize> = (0..lay.width).map(|p| cell(p, cols)).collect();
    let row_of: Vec<usize> = (0..lay.height).map(|p| cell(p, rows)).collect();
    for (py, &r) in row_of.iter().enumerate() {
        for (px, &c) in col_of.iter().enumerate() {
            let v = values.data[(r, c)];
            let mut colour = if sea.is_some_and(|m| m[(r, c)] != 0) {
                SEA
            } else if v.is_nan() {
                NODATA
            } else {
                spec.scale.colour(v).unwrap_or(LAND)
            };
            if let Some(o) = outlines {
                let id = o[(r, c)];
                let right = col_of.get(px + 1).map(|&c2| o[(r, c2)]);
                let below = row_of.get(py + 1).map(|&r2| o[(r2, c)]);
                if right.is_some_and(|x| x != id) || below.is_some_and(|x| x != id) {
                    colour = OUTLINE;
                }
            }
            let i = 3 * ((lay.y0 as usize + py) * width as usize + lay.x0 as usize + px);
            buf[i..i + 3].copy_from_slice(&colour);
        }
    }
    {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        decorate_map(&root, values, spec, &lay).map_err(draw_err)?;
        root.present().map_err(draw_err)?;
    }
    Ok((
        Image {
            width,
            height,
            rgb: buf,
        },
        lay,
    ))
}

fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a >= 1e6 {
        return format!("{}M", tick_label(v / 1e6));
    }
    if a >= 1e4 {
        return format!("{}k", tick_label(v / 1e3));
    }
    if v == v.round() {
        format!("{v:.0}")
    } else if v.abs() >= 0.1 {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').to_string()
    } else {
        format!("{v:.3}").trim_end_matches('0').to_string()
    }
}

type DrawResult<T> = std::result::Result<
    T,
    DrawingAreaErrorKind<<BitMapBackend<'static> as DrawingBackend>::ErrorType>,
>;

fn decorate_map(
    root: &DrawingArea<BitMapBackend, Shift>,
    values: &Grid<f64>,
    spec: &MapSpec,
    lay: &MapLayout,
) -> DrawResult<()> {
    let (x0, y0) = (lay.x0 as i32, lay.y0 as i32);
    let (x1, y1) = (x0 + lay.width as i32, y0 + lay.height as i32);
    root.draw(&Text::new(spec.title.clone(), (x0, 10), font(22.0)))?;
    root.draw(&Text::new(
        spec.subtitle.clone(),
        (x0, 38),
        font(14.0).color(&RGBColor(80, 80, 80)),
    ))?;
    root.draw(&Rectangle::new(
        [(x0 - 1, y0 - 1), (x1, y1)],
        BLACK.stroke_width(1),
    ))?;

    // Colour bar.
    let lx = x1 + 24;
    let bar_top = y0 + 30;
    let bar_h = (lay.height as i32 - 150).clamp(120, 300);
    let bar_w = 22;
    root.draw(&Text::new(spec.units.clone(), (lx, y0 + 4), font(15.0)))?;
    let label = |v: f64, y: i32| {
        Text::new(
            tick_label(v),
            (lx + bar_w + 8, y),
            font(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
        )
    };
    match &spec.scale {
        ColourScale::Continuous { lo, hi, ramp } => {
            for k in 0..bar_h {
                let t = 1.0 - k as f64 / (bar_h - 1).max(1) as f64;
                let c = rgb(ramp_colour(*ramp, t));
                root.draw(&Rectangle::new(
                    [(lx, bar_top + k), (lx + bar_w, bar_top + k + 1)],
                    c.filled(),
                ))?;
            }
            for j in 0..=4 {
                let v = lo + (hi - lo) * j as f64 / 4.0;
                let y = bar_top + bar_h - 1 - ((bar_h - 1) as f64 * j as f64 / 4.0).round() as i32;
                root.draw(&PathElement::new(
                    vec![(lx + bar_w, y), (lx + bar_w + 5, y)],
                    BLACK,
                ))?;
                root.draw(&label(v, y))?;
            }
        }
        ColourScale::Classes { bounds, colours } => {
            let n = colours.len().max(1) as i32;
            let box_h = (bar_h / n).max(12);
            for (k, c) in colours.iter().enumerate() {
                // Highest class on top.
                let top = bar_top + (n - 1 - k as i32) * box_h;
                root.draw(&Rectangle::new(
                    [(lx, top), (lx + bar_w, top + box_h)],
                    rgb(*c).filled(),
                ))?;
                let text = match bounds.get(k + 1) {
                    Some(hi) => format!("{} - {}", tick_label(bounds[k]), tick_label(*hi)),
                    None => format!(">= {}", tick_label(bounds[k])),
                };
                root.draw(&Text::new(
                    text,
                    (lx + bar_w + 8, top + box_h / 2),
                    font(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
            }
            root.draw(&Rectangle::new(
                [(lx, bar_top), (lx + bar_w, bar_top + n * box_h)],
                BLACK.stroke_width(1),
            ))?;
        }
    }
    // No-data swatch under the bar.
    let sw_y = bar_top + bar_h + 18;
    root.draw(&Rectangle::new(
        [(lx, sw_y), (lx + bar_w, sw_y + 14)],
        rgb(NODATA).filled(),
    ))?;
    root.draw(&Text::new(
        "no data",
        (lx + bar_w + 8, sw_y + 7),
        font(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
    ))?;
    let mut swatches: Vec<(Rgb, &str)> = Vec::new();
    if let ColourScale::Classes { bounds, .. } = &spec.scale {
        if bounds.first().is_some_and(|b| *b > 0.0) {
            swatches.push((LAND, "below first class"));
        }
    }
    if spec.sea.is_some() {
        swatches.push((SEA, "sea"));
    }
    for (k, (c, text)) in swatches.into_iter().enumerate() {
        let y = sw_y + 22 * (k as i32 + 1);
        root.draw(&Rectangle::new(
            [(lx, y), (lx + bar_w, y + 14)],
            rgb(c).filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(lx, y), (lx + bar_w, y + 14)],
            RGBColor(160, 160, 160).stroke_width(1),
        ))?;
        root.draw(&Text::new(
            text,
            (lx + bar_w + 8, y + 7),
            font(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }

    // North arrow (grid north), at the legend's foot.
    let ax = lx + 22;
    let ay = (y1 - 70).max(sw_y + 90);
    root.draw(&Polygon::new(
        vec![(ax, ay), (ax - 11, ay + 34), (ax, ay + 26)],
        BLACK.filled(),
    ))?;
    root.draw(&Polygon::new(
        vec![(ax, ay), (ax + 11, ay + 34), (ax, ay + 26)],
        WHITE.filled(),
    ))?;
    root.draw(&PathElement::new(
        vec![
            (ax, ay),
            (ax + 11, ay + 34),
            (ax, ay + 26),
            (ax - 11, ay + 34),
            (ax, ay),
        ],
        BLACK,
    ))?;
    root.draw(&Text::new(
        "N",
        (ax, ay - 4),
        font(16.0).pos(Pos::new(HPos::Center, VPos::Bottom)),
    ))?;

    // Scale bar under the map: two halves, black and white.
    if lay.scale_km > 0.0 {
        let len =
            scale_bar_px(lay.scale_km, values.transform.dx.abs(), lay.px_per_cell).round() as i32;
        let (sx, sy) = (x0, y1 + 16);
        let half = len / 2;
        root.draw(&Rectangle::new(
            [(sx, sy), (sx + half, sy + 7)],
            BLACK.filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(sx + half, sy), (sx + len, sy + 7)],
            WHITE.filled(),
        ))?;
        root.draw(&Rectangle::new(
            [(sx, sy), (sx + len, sy + 7)],
            BLACK.stroke_width(1),
        ))?;
        for (x, v) in [
            (sx, 0.0),
            (sx + half, lay.scale_km / 2.0),
            (sx + len, lay.scale_km),
        ] {
            root.draw(&Text::new(
                tick_label(v),
                (x, sy + 10),
                font(13.0).pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        root.draw(&Text::new("km", (sx + len + 14, sy + 10), font(13.0)))?;
        root.draw(&Text::new(
            format!("{:.0} m cells; grid north up", values.transform.dx.abs()),
            (x1, sy + 10),
            font(12.0)
                .color(&RGBColor(90, 90, 90))
                .pos(Pos::new(HPos::Right, VPos::Top)),
        ))?;
    }
    Ok(())
}

/// One line of a chart.
#[derive(Debug, Clone)]
pub struct Series {
    /// Legend label (ASCII).
    pub label: String,
    /// (x, y) points in x order.
    pub points: Vec<(f64, f64)>,
}

/// One panel of a chart.
#[derive(Debug, Clone)]
pub struct Panel {
    /// Caption (ASCII).
    pub title: String,
    /// x axis label with units.
    pub x_label: String,
    /// y axis label with units.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Marks every point (few points per line).
    pub markers: bool,
    /// The lines.
    pub series: Vec<Series>,
}

/// Panel size of charts, px.
pub const PANEL_SIZE: (u32, u32) = (900, 400);

fn range_of(it: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    it.filter(|v| v.is_finite()).fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((a, b)) => Some((a.min(v), b.max(v))),
    })
}

/// Width of the legend column of charts, px.
const CHART_LEGEND_W: u32 = 190;

fn draw_legend(area: &DrawingArea<BitMapBackend, Shift>, p: &Panel) -> DrawResult<()> {
    for (i, s) in p.series.iter().enumerate() {
        let y = 50 + 22 * i as i32;
        let col = rgb(LINES[i % LINES.len()]);
        area.draw(&PathElement::new(
            vec![(6, y), (30, y)],
            col.stroke_width(3),
        ))?;
        area.draw(&Text::new(
            s.label.clone(),
            (38, y),
            font(13.0).pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
}

/// Renders panels stacked vertically, each [`PANEL_SIZE`]. Kernel, no I/O.
pub fn render_charts(panels: &[Panel]) -> Result<Image> {
    register_font();
    if panels.is_empty() {
        return Err(Error::Data("a chart needs at least one panel".into()));
    }
    let (w, h) = (PANEL_SIZE.0, PANEL_SIZE.1 * panels.len() as u32);
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        let areas = root.split_evenly((panels.len(), 1));
        for (a, p) in areas.iter().zip(panels) {
            let (plot, legend) = a.split_horizontally(PANEL_SIZE.0 - CHART_LEGEND_W);
            draw_panel(&plot, p).map_err(draw_err)?;
            draw_legend(&legend, p).map_err(draw_err)?;
        }
        root.present().map_err(draw_err)?;
    }
    Ok(Image {
        width: w,
        height: h,
        rgb: buf,
    })
}

fn draw_panel(area: &DrawingArea<BitMapBackend, Shift>, p: &Panel) -> DrawResult<()> {
    let xs = range_of(p.series.iter().flat_map(|s| s.points.iter().map(|q| q.0)));
    let ys = range_of(p.series.iter().flat_map(|s| s.points.iter().map(|q| q.1)));
    let (Some((xa, xb)), Some((ya, yb))) = (xs, ys) else {
        area.draw(&Text::new(p.title.clone(), (60, 20), font(18.0)))?;
        area.draw(&Text::new("no data", (60, 60), font(14.0)))?;
        return Ok(());
    };
    let ylo = ya.min(0.0);
    let yhi = if yb > ylo {
        yb + 0.06 * (yb - ylo)
    } else {
        ylo + 1.0
    };
    let mut b = ChartBuilder::on(area);
    b.caption(p.title.clone(), (FONT, 18.0))
        .margin(12)
        .margin_right(16)
        .x_label_area_size(44)
        .y_label_area_size(64);
    let style = |i: usize| rgb(LINES[i % LINES.len()]);
    if p.log_x {
        let lo = 10f64.powf(xa.max(1e-9).log10().floor());
        let hi = 10f64.powf(xb.max(1e-9).log10().ceil()).max(lo * 10.0);
        let mut c = b.build_cartesian_2d((lo..hi).log_scale(), ylo..yhi)?;
        c.configure_mesh()
            .x_desc(p.x_label.clone())
            .y_desc(p.y_label.clone())
            .label_style(font(13.0))
            .axis_desc_style(font(14.0))
            .x_label_formatter(&|v| tick_label(*v))
            .y_label_formatter(&|v| tick_label(*v))
            .bold_line_style(RGBColor(205, 205, 205))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;
        for (i, s) in p.series.iter().enumerate() {
            let col = style(i);
            c.draw_series(LineSeries::new(
                s.points.iter().copied(),
                col.stroke_width(2),
            ))?;
            if p.markers {
                c.draw_series(s.points.iter().map(|&q| Circle::new(q, 4, col.filled())))?;
            }
        }
    } else {
        let xhi = if xb > xa { xb } else { xa + 1.0 };
        let mut c = b.build_cartesian_2d(xa..xhi, ylo..yhi)?;
        c.configure_mesh()
            .x_desc(p.x_label.clone())
            .y_desc(p.y_label.clone())
            .label_style(font(13.0))
            .axis_desc_style(font(14.0))
            .x_label_formatter(&|v| tick_label(*v))
            .y_label_formatter(&|v| tick_label(*v))
            .bold_line_style(RGBColor(205, 205, 205))
            .light_line_style(RGBColor(240, 240, 240))
            .draw()?;
        for (i, s) in p.series.iter().enumerate() {
            let col = style(i);
            c.draw_series(LineSeries::new(
                s.points.iter().copied(),
                col.stroke_width(2),
            ))?;
            if p.markers {
                c.draw_series(s.points.iter().map(|&q| Circle::new(q, 4, col.filled())))?;
            }
        }
    }
    Ok(())
}

/// PNG bytes of an image (8-bit RGB).
pub fn encode_png(img: &Image) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, img.width, img.height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Best);
        let mut w = enc
            .write_header()
            .map_err(|e| Error::Data(format!("PNG: {e}")))?;
        w.write_image_data(&img.rgb)
            .map_err(|e| Error::Data(format!("PNG: {e}")))?;
    }
    Ok(out)
}

/// Writes an image as PNG, atomically.
pub fn write_png(img: &Image, path: &Path) -> Result<()> {
    let bytes = encode_png(img)?;
    write_atomically(path, |tmp| {
        std::fs::write(tmp, &bytes).map_err(|e| Error::io(tmp, e))
    })
}

/// A numeric CSV table: the header and one column of values per header entry (cells
/// that do not parse are NaN).
pub fn read_numeric_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<f64>>)> {
    let bad = |m: String| Error::Invalid {
        path: path.to_path_buf(),
        field: "csv".into(),
        message: m,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let head: Vec<String> = r
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(|s| crate::escape::csv_unguard(s.trim()).into_owned())
        .collect();
    let mut cols = vec![Vec::new(); head.len()];
    for rec in r.records() {
        let rec = crate::escape::unguard_record(&rec.map_err(|e| bad(e.to_string()))?);
        for (k, col) in cols.iter_mut().enumerate() {
            col.push(
                rec.get(k)
                    .and_then(|v| v.trim().parse::<f64>().ok())
                    .unwrap_or(f64::NAN),
            );
        }
    }
    Ok((head, cols))
}

/// The (name, series of (x, value)) of every column named `<name><suffix>`, against
/// the first column (time).
pub fn columns_with_suffix(
    head: &[String],
    cols: &[Vec<f64>],
    suffix: &str,
) -> Vec<(String, Vec<(f64, f64)>)> {
    let Some(t) = cols.first() else {
        return Vec::new();
    };
    head.iter()
        .zip(cols)
        .skip(1)
        .filter_map(|(h, c)| {
            let name = h.strip_suffix(suffix)?.trim().to_string();
            let pts = t
                .iter()
                .zip(c)
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .map(|(a, b)| (*a, *b))
                .collect();
            Some((name, pts))
        })
        .collect()
}

// ---------------------------------------------------------------------------------
// The figures of a batch output.
// ---------------------------------------------------------------------------------

/// The part of the report a figure belongs to, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Section {
    /// Median resilience score per group.
    Scores,
    /// Maximum flood depth.
    Depth,
    /// Peak ground acceleration.
    Pga,
    /// Discharge at the named gauges.
    Hydrographs,
    /// Reservoir and detention-basin storage.
    Storage,
    /// Exceedance curves of the flood exposure.
    Risk,
}

impl Section {
    /// Every section, in report order.
    pub const ALL: [Section; 6] = [
        Section::Scores,
        Section::Depth,
        Section::Pga,
        Section::Hydrographs,
        Section::Storage,
        Section::Risk,
    ];
    /// Heading of the section.
    pub fn title(self) -> &'static str {
        match self {
            Section::Scores => "Resilience scores",
            Section::Depth => "Maximum flood depth",
            Section::Pga => "Peak ground acceleration",
            Section::Hydrographs => "Hydrographs at the named gauges",
            Section::Storage => "Reservoir and detention-basin storage",
            Section::Risk => "Risk curves",
        }
    }
    /// Anchor id of the section (HTML) and file prefix of its figures.
    pub fn slug(self) -> &'static str {
        match self {
            Section::Scores => "scores",
            Section::Depth => "depth",
            Section::Pga => "pga",
            Section::Hydrographs => "hydrographs",
            Section::Storage => "storage",
            Section::Risk => "risk",
        }
    }
}

/// One written figure.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Figure {
    /// Its section.
    pub section: Section,
    /// Path relative to the batch output, `figures/<name>.png`.
    pub file: String,
    /// Title for the reports (may hold any script).
    pub title: String,
    /// The figure's ASCII keys and what they stand for (names in other scripts).
    pub keys: Vec<(String, String)>,
    /// Width, px.
    pub width: u32,
    /// Height, px.
    pub height: u32,
}

/// The figures of a batch, and a note for each figure that could not be drawn.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FigureSet {
    /// Written figures, in report order.
    pub figures: Vec<Figure>,
    /// (section, why a figure is missing).
    pub notes: Vec<(Section, String)>,
}

/// A file-name-safe stem: the id if it is made of ASCII letters, digits, `-` and `_`,
/// else `<prefix><index>`.
pub fn file_stem(id: &str, prefix: &str, index: usize) -> String {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        id.to_string()
    } else {
        format!("{prefix}{}", index + 1)
    }
}

/// The folder of a run's scores: `scores/<id>/` (several scored runs), or `scores/`
/// itself when only one run was scored and its `scores.json` names the run folder.
pub fn scores_dir(out: &Path, id: &str) -> Option<std::path::PathBuf> {
    let sub = out.join("scores").join(id);
    if sub.join("scores.csv").exists() || sub.join("scores.tif").exists() {
        return Some(sub);
    }
    let top = out.join("scores");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(top.join("scores.json")).ok()?).ok()?;
    let run = json.pointer("/scenario/run_dir")?.as_str()?;
    (Path::new(run).file_name()? == id).then_some(top)
}

enum Job {
    Score(String, usize),
    Depth(String, usize, Option<f64>),
    Pga(String, usize),
    Hydro(String, usize),
    Storage(String, usize),
    Risk(String, usize),
}

/// Zone ids of the model grid, for outlines.
struct Outlines {
    ids: Array2<i32>,
    transform: crate::GeoTransform,
    sea: Option<Array2<u8>>,
    /// Open water of the land cover (class 4 of `land_cover.tif`): 1, else 0.
    water: Option<Array2<u8>>,
}

fn outlines_for<'a>(o: Option<&'a Outlines>, g: &Grid<f64>) -> Option<&'a Array2<i32>> {
    o.filter(|o| o.ids.dim() == g.data.dim() && o.transform.approx_eq(&g.transform))
        .map(|o| &o.ids)
}

fn sea_for<'a>(o: Option<&'a Outlines>, g: &Grid<f64>) -> Option<&'a Array2<u8>> {
    o.filter(|o| o.ids.dim() == g.data.dim() && o.transform.approx_eq(&g.transform))
        .and_then(|o| o.sea.as_ref())
}

/// The county-score grid of a scored run: band 1 (`counties`) of `scores.tif`, or the
/// `score_p50` of `scores.csv` painted on `counties.tif` (group id `county-<code>`).
fn score_grid(dir: &Path, counties: Option<&Outlines>, model_dir: &Path) -> Result<Grid<f64>> {
    let tif = dir.join("scores.tif");
    if tif.exists() {
        return crate::grid::io::read_raster_band(&tif, 1);
    }
    let csv_path = dir.join("scores.csv");
    let counties_path = model_dir.join("counties.tif");
    if !(csv_path.exists() && counties.is_some()) {
        return Err(Error::Data(format!(
            "no scores.tif, and no scores.csv with {}",
            counties_path.display()
        )));
    }
    let (head, cols) = read_numeric_csv(&csv_path)?;
    let mut r = csv::Reader::from_path(&csv_path).map_err(|e| Error::Data(e.to_string()))?;
    let ids: Vec<String> = r
        .records()
        .filter_map(|x| x.ok())
        .map(|x| crate::escape::csv_unguard(x.get(0).unwrap_or("")).into_owned())
        .collect();
    let k = head
        .iter()
        .position(|h| h == "score_p50")
        .ok_or_else(|| Error::Data(format!("{}: no score_p50 column", csv_path.display())))?;
    let by: std::collections::HashMap<i32, f64> = ids
        .iter()
        .zip(&cols[k])
        .filter_map(|(id, v)| Some((id.strip_prefix("county-")?.parse::<i32>().ok()?, *v)))
        .collect();
    let c = crate::grid::io::read_raster_as::<i32>(&counties_path, 1)?;
    let data = c.data.mapv(|id| by.get(&id).copied().unwrap_or(f64::NAN));
    Ok(c.with_data(data, None))
}

fn map_figure(
    values: &Grid<f64>,
    spec: &MapSpec,
    out: &Path,
    file: String,
    section: Section,
    title: String,
) -> Result<Figure> {
    let (img, _) = render_map(values, spec)?;
    write_png(&img, &out.join(&file))?;
    Ok(Figure {
        section,
        file,
        title,
        keys: Vec::new(),
        width: img.width,
        height: img.height,
    })
}

fn chart_figure(
    panels: &[Panel],
    out: &Path,
    file: String,
    section: Section,
    title: String,
    keys: Vec<(String, String)>,
) -> Result<Figure> {
    let img = render_charts(panels)?;
    write_png(&img, &out.join(&file))?;
    Ok(Figure {
        section,
        file,
        title,
        keys,
        width: img.width,
        height: img.height,
    })
}

/// ASCII legend labels for names: the name when ASCII, else `<prefix><n>`; with the
/// (label, name) keys of the renamed ones.
fn labels(names: &[String], prefix: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut keys = Vec::new();
    let l = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let k = format!("{prefix}{}", i + 1);
            let l = ascii_or(n, &k);
            if l == k {
                keys.push((k, n.clone()));
            }
            l
        })
        .collect();
    (l, keys)
}

/// The headline exposure metric in words.
const HEADLINE_WORDS: &str = "persons on cells deeper than 0.5 m";

fn run_job(
    job: &Job,
    out: &Path,
    dest: &Path,
    risk: &super::BatchRisk,
    counties: Option<&Outlines>,
    model_dir: &Path,
) -> std::result::Result<Figure, (Section, String)> {
    let runs = out.join("runs");
    let (section, id) = match job {
        Job::Score(id, _) => (Section::Scores, id),
        Job::Depth(id, ..) => (Section::Depth, id),
        Job::Pga(id, _) => (Section::Pga, id),
        Job::Hydro(id, _) => (Section::Hydrographs, id),
        Job::Storage(id, _) => (Section::Storage, id),
        Job::Risk(id, _) => (Section::Risk, id),
    };
    let fail = |e: Error| (section, format!("{id}: {e}"));
    match job {
        Job::Score(id, i) => {
            let dir = scores_dir(out, id).unwrap_or_else(|| out.join("scores").join(id));
            let g = score_grid(&dir, counties, model_dir).map_err(fail)?;
            let t = ascii_or(id, &format!("scenario {}", i + 1));
            let spec = MapSpec {
                title: format!("Resilience score, {t}"),
                subtitle: "median (p50) of the Monte Carlo score per county; 0 = least resilient"
                    .into(),
                units: "score (0-100)".into(),
                scale: score_scale(),
                outlines: outlines_for(counties, &g),
                sea: sea_for(counties, &g),
            };
            let file = format!("figures/score-{}.png", file_stem(id, "s", *i));
            map_figure(
                &g,
                &spec,
                dest,
                file,
                section,
                format!("Median resilience score: {id}"),
            )
            .map_err(fail)
        }
        Job::Depth(id, i, t_yr) => {
            let p = runs.join(id).join("max_depth.tif");
            if !p.exists() {
                return Err((section, format!("{id}: no max_depth.tif")));
            }
            let g = crate::grid::io::read_raster_band(&p, 1).map_err(fail)?;
            let t = ascii_or(id, &format!("scenario {}", i + 1));
            // The largest depth on land (the sea and open water are not flood).
            let sea = sea_for(counties, &g);
            let water = counties
                .filter(|o| o.ids.dim() == g.data.dim() && o.transform.approx_eq(&g.transform))
                .and_then(|o| o.water.as_ref());
            let max = g
                .data
                .indexed_iter()
                .filter(|(ix, v)| {
                    v.is_finite()
                        && sea.is_none_or(|m| m[*ix] == 0)
                        && water.is_none_or(|m| m[*ix] == 0)
                })
                .fold(0.0, |a: f64, (_, v)| a.max(*v));
            let spec = MapSpec {
                title: format!("Maximum flood depth, {t}"),
                subtitle: format!(
                    "{}largest depth on land {max:.1} m; cells below 0.05 m left blank",
                    t_yr.map(|t| format!("return period {t} yr; "))
                        .unwrap_or_default()
                ),
                units: "max depth (m)".into(),
                scale: depth_scale(),
                outlines: outlines_for(counties, &g),
                sea: sea_for(counties, &g),
            };
            let file = format!("figures/depth-{}.png", file_stem(id, "s", *i));
            map_figure(
                &g,
                &spec,
                dest,
                file,
                section,
                format!("Maximum depth: {id}"),
            )
            .map_err(fail)
        }
        Job::Pga(id, i) => {
            let p = runs.join(id).join("pga.tif");
            if !p.exists() {
                return Err((section, format!("{id}: no pga.tif")));
            }
            let g = crate::grid::io::read_raster_band(&p, 1).map_err(fail)?;
            let t = ascii_or(id, &format!("scenario {}", i + 1));
            let max = g
                .data
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max);
            let spec = MapSpec {
                title: format!("Peak ground acceleration, {t}"),
                subtitle: format!("median PGA over the realisations; largest {max:.2} g"),
                units: "median PGA (g)".into(),
                scale: pga_scale(),
                outlines: outlines_for(counties, &g),
                sea: None,
            };
            let file = format!("figures/pga-{}.png", file_stem(id, "s", *i));
            map_figure(&g, &spec, dest, file, section, format!("Median PGA: {id}")).map_err(fail)
        }
        Job::Hydro(id, i) => {
            let p = runs.join(id).join("hydrographs.csv");
            if !p.exists() {
                return Err((section, format!("{id}: no hydrographs.csv")));
            }
            let (head, cols) = read_numeric_csv(&p).map_err(fail)?;
            let q = columns_with_suffix(&head, &cols, " discharge_m3s");
            if q.is_empty() {
                return Err((section, format!("{id}: no gauges in hydrographs.csv")));
            }
            let names: Vec<String> = q.iter().map(|x| x.0.clone()).collect();
            let (ls, keys) = labels(&names, "G");
            let t = ascii_or(id, &format!("scenario {}", i + 1));
            let panel = Panel {
                title: format!("Discharge at the gauges, {t}"),
                x_label: "time (h)".into(),
                y_label: "discharge (m3/s)".into(),
                log_x: false,
                markers: false,
                series: q
                    .into_iter()
                    .zip(ls)
                    .map(|((_, points), label)| Series { label, points })
                    .collect(),
            };
            let file = format!("figures/hydro-{}.png", file_stem(id, "s", *i));
            chart_figure(
                &[panel],
                dest,
                file,
                section,
                format!("Hydrographs: {id}"),
                keys,
            )
            .map_err(fail)
        }
        Job::Storage(id, i) => {
            let p = runs.join(id).join("structures.csv");
            if !p.exists() {
                return Err((section, format!("{id}: no structures.csv")));
            }
            let (head, cols) = read_numeric_csv(&p).map_err(fail)?;
            // Reservoirs: change of storage since the start; basins: stored volume.
            // Lines that never move (less than 10⁴ m³) are left out.
            let moved = |pts: &[(f64, f64)]| {
                range_of(pts.iter().map(|q| q.1)).is_some_and(|(a, b)| b - a > 1e-4)
            };
            let res: Vec<(String, Vec<(f64, f64)>)> =
                columns_with_suffix(&head, &cols, " storage_1e8_m3")
                    .into_iter()
                    .filter(|(n, pts)| !n.is_empty() && moved(pts))
                    .map(|(n, pts)| {
                        let s0 = pts.first().map_or(0.0, |q| q.1);
                        (n, pts.iter().map(|q| (q.0, q.1 - s0)).collect())
                    })
                    .collect();
            let bas: Vec<(String, Vec<(f64, f64)>)> =
                columns_with_suffix(&head, &cols, " volume_1e8_m3")
                    .into_iter()
                    .filter(|(_, pts)| moved(pts))
                    .collect();
            if res.is_empty() && bas.is_empty() {
                return Err((
                    section,
                    format!("{id}: no reservoir or detention basin stored water in this run"),
                ));
            }
            let (rl, mut keys) = labels(&res.iter().map(|x| x.0.clone()).collect::<Vec<_>>(), "R");
            let (bl, bk) = labels(&bas.iter().map(|x| x.0.clone()).collect::<Vec<_>>(), "B");
            keys.extend(bk);
            let t = ascii_or(id, &format!("scenario {}", i + 1));
            let mk =
                |title: String, y: &str, v: Vec<(String, Vec<(f64, f64)>)>, l: Vec<String>| Panel {
                    title,
                    x_label: "time (h)".into(),
                    y_label: y.into(),
                    log_x: false,
                    markers: false,
                    series: v
                        .into_iter()
                        .zip(l)
                        .map(|((_, points), label)| Series { label, points })
                        .collect(),
                };
            let mut panels = Vec::new();
            if !res.is_empty() {
                panels.push(mk(
                    format!("Reservoirs: storage change since the start, {t}"),
                    "storage change (1e8 m3)",
                    res,
                    rl,
                ));
            }
            if !bas.is_empty() {
                panels.push(mk(
                    format!("Detention basins: stored volume, {t}"),
                    "volume (1e8 m3)",
                    bas,
                    bl,
                ));
            }
            let file = format!("figures/storage-{}.png", file_stem(id, "s", *i));
            chart_figure(&panels, dest, file, section, format!("Storage: {id}"), keys).map_err(fail)
        }
        Job::Risk(sys, i) => {
            let mut rows: Vec<&super::GroupRisk> = risk
                .groups
                .iter()
                .filter(|g| {
                    g.system == *sys
                        && g.metric == super::HEADLINE_METRIC
                        && g.by_return_period.iter().any(|p| p.1 > 0.0)
                })
                .collect();
            if rows.is_empty() {
                return Err((
                    section,
                    format!("{sys}: no group has {HEADLINE_WORDS} in any event"),
                ));
            }
            rows.sort_by(|a, b| b.eae.total_cmp(&a.eae).then(a.group_id.cmp(&b.group_id)));
            rows.truncate(8);
            let names: Vec<String> = rows.iter().map(|g| g.group_id.clone()).collect();
            let (ls, _) = labels(&names, "g");
            // Every plotted group spelt out (its name and kind).
            let keys: Vec<(String, String)> = rows
                .iter()
                .zip(&ls)
                .map(|(g, l)| (l.clone(), format!("{} ({})", g.name, g.kind)))
                .collect();
            let fallback = risk
                .systems
                .get(sys)
                .and_then(|ev| common_prefix(ev.iter().map(|e| e.id.as_str())))
                .unwrap_or_else(|| format!("system {}", i + 1));
            let t = ascii_or(sys, &fallback);
            let panel = Panel {
                title: format!("Exceedance curves, {t}: {HEADLINE_WORDS} (8 largest EAE)"),
                x_label: "return period (yr)".into(),
                y_label: "persons".into(),
                log_x: true,
                markers: true,
                series: rows
                    .iter()
                    .zip(ls)
                    .map(|(g, label)| Series {
                        label,
                        points: g.by_return_period.clone(),
                    })
                    .collect(),
            };
            let file = format!("figures/risk-{}.png", file_stem(sys, "system", *i));
            chart_figure(
                &[panel],
                dest,
                file,
                section,
                format!("Exceedance curves: {sys}"),
                keys,
            )
            .map_err(fail)
        }
    }
}

/// The longest common prefix of ASCII ids, without a trailing `-` or `_`, if at
/// least two characters long.
fn common_prefix<'a>(mut ids: impl Iterator<Item = &'a str>) -> Option<String> {
    let first = ids.next()?.to_string();
    let mut n = first.len();
    for id in ids {
        n = first
            .bytes()
            .zip(id.bytes())
            .take(n)
            .take_while(|(a, b)| a == b)
            .count();
    }
    let p = first.get(..n)?.trim_end_matches(['-', '_']).to_string();
    (p.len() >= 2 && p.is_ascii()).then_some(p)
}

/// Draws every figure of the batch output `out` into `<dest>/figures/` (in parallel;
/// `dest` is `out` or the report's staging folder) and removes PNGs there from earlier
/// reports that are no longer drawn: per scored run
/// the county score map (`scores/<id>/scores.tif`), per flood the maximum-depth map,
/// hydrographs and storage curves, per earthquake the median-PGA map, per river system
/// the exceedance curves of the groups with the largest expected annual exposure.
/// County outlines come from `<model_dir>/counties.tif` and the sea from `sea.tif`
/// where a map shares their grid. A
/// figure whose inputs are missing or unreadable becomes a note, never an error.
pub fn batch_figures(
    out: &Path,
    dest: &Path,
    record: &crate::scenario::batch::BatchRecord,
    risk: &super::BatchRisk,
    model_dir: &Path,
) -> FigureSet {
    use crate::scenario::batch::ScenarioKind;
    use rayon::prelude::*;
    let counties = crate::grid::io::read_raster_as::<i32>(&model_dir.join("counties.tif"), 1)
        .ok()
        .map(|g| Outlines {
            sea: crate::grid::io::read_raster_as::<u8>(&model_dir.join("sea.tif"), 1)
                .ok()
                .filter(|s| s.data.dim() == g.data.dim())
                .map(|s| s.data),
            water: crate::grid::io::read_raster_as::<u8>(&model_dir.join("land_cover.tif"), 1)
                .ok()
                .filter(|s| s.data.dim() == g.data.dim())
                .map(|s| s.data.mapv(|c| u8::from(c == 4))),
            ids: g.data,
            transform: g.transform,
        });
    let mut jobs = Vec::new();
    for (i, e) in record.scenarios.iter().enumerate() {
        if scores_dir(out, &e.id).is_some() {
            jobs.push(Job::Score(e.id.clone(), i));
        }
    }
    for (i, e) in record.scenarios.iter().enumerate() {
        if e.kind == ScenarioKind::Flood {
            jobs.push(Job::Depth(e.id.clone(), i, e.return_period_yr));
        }
    }
    for (i, e) in record.scenarios.iter().enumerate() {
        if e.kind == ScenarioKind::Quake {
            jobs.push(Job::Pga(e.id.clone(), i));
        }
    }
    for (i, e) in record.scenarios.iter().enumerate() {
        if e.kind == ScenarioKind::Flood {
            jobs.push(Job::Hydro(e.id.clone(), i));
        }
    }
    for (i, e) in record.scenarios.iter().enumerate() {
        if e.kind == ScenarioKind::Flood {
            jobs.push(Job::Storage(e.id.clone(), i));
        }
    }
    for (i, sys) in risk.systems.keys().enumerate() {
        jobs.push(Job::Risk(sys.clone(), i));
    }
    let mut set = FigureSet::default();
    let dir = dest.join("figures");
    if let Err(e) = std::fs::create_dir_all(&dir) {
        set.notes.push((
            Section::Scores,
            format!("{}: cannot be created: {e}", dir.display()),
        ));
        return set;
    }
    let results: Vec<_> = jobs
        .par_iter()
        .map(|j| run_job(j, out, dest, risk, counties.as_ref(), model_dir))
        .collect();
    // Notes name files relative to the output folder, so that merged shards and one
    // unsharded batch give the same report text.
    let out_text = out.display().to_string();
    for r in results {
        match r {
            Ok(f) => set.figures.push(f),
            Err((sec, n)) => set.notes.push((sec, n.replace(&out_text, "."))),
        }
    }
    // Stale figures of an earlier report.
    let keep: std::collections::BTreeSet<String> =
        set.figures.iter().map(|f| f.file.clone()).collect();
    if let Ok(rd) = std::fs::read_dir(&dir) {
        for e in rd.flatten() {
            let name = format!("figures/{}", e.file_name().to_string_lossy());
            if name.ends_with(".png") && !keep.contains(&name) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    set
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::GeoTransform;

    #[test]
    fn ramp_endpoints_and_clamping() {
        assert_eq!(ramp_colour(Ramp::Viridis, 0.0), [0x44, 0x01, 0x54]);
        assert_eq!(ramp_colour(Ramp::Viridis, 1.0), [0xfd, 0xe7, 0x25]);
        assert_eq!(ramp_colour(Ramp::Viridis, 2.0), [0xfd, 0xe7, 0x25]);
        assert_eq!(ramp_colour(Ramp::Viridis, -1.0), [0x44, 0x01, 0x54]);
        assert_eq!(ramp_colour(Ramp::Blues, 1.0), [0x08, 0x30, 0x6b]);
        assert_eq!(ramp_colour(Ramp::YellowRed, 0.0), [0xff, 0xff, 0xcc]);
        // Halfway between the first two viridis anchors (t = 1/18).
        assert_eq!(ramp_colour(Ramp::Viridis, 1.0 / 18.0), [0x46, 0x15, 0x66]);
    }

    #[test]
    fn classes_pick_the_right_bin() {
        let s = depth_scale();
        assert_eq!(s.colour(0.01), None);
        let c = |v| s.colour(v).unwrap();
        assert_eq!(c(0.05), c(0.1));
        assert_ne!(c(0.15), c(0.1));
        assert_eq!(c(7.0), c(5.0));
        assert_eq!(c(7.0), ramp_colour(Ramp::Blues, 1.0));
        let p = pga_scale();
        assert_eq!(p.colour(0.0).unwrap(), ramp_colour(Ramp::YellowRed, 0.0));
        assert_eq!(p.colour(0.45).unwrap(), ramp_colour(Ramp::YellowRed, 1.0));
    }

    #[test]
    fn scale_bar_from_the_geotransform() {
        // 581 cells of 1000 m: a quarter is 145 km → 100 km.
        assert_eq!(nice_scale_km(581.0), 100.0);
        assert_eq!(nice_scale_km(4.0), 1.0);
        assert_eq!(nice_scale_km(9.0), 2.0);
        assert_eq!(nice_scale_km(30.0), 5.0);
        // 100 km of 1000 m cells at 1.3 px per cell = 130 px; of 100 m cells, 1300 px.
        assert!((scale_bar_px(100.0, 1000.0, 1.3) - 130.0).abs() < 1e-9);
        assert!((scale_bar_px(1.0, 100.0, 2.0) - 20.0).abs() < 1e-9);
        let lay = map_layout(468, 581, 1000.0, false);
        assert!((lay.px_per_cell - 760.0 / 581.0).abs() < 1e-12);
        assert_eq!(lay.scale_km, 100.0);
        assert_eq!(lay.width, 760);
    }

    fn grid(a: Array2<f64>, dx: f64) -> Grid<f64> {
        let t = GeoTransform {
            x0: 400000.0,
            dx,
            y0: 4400000.0,
            dy: -dx,
        };
        Grid::new(a, t, "PROJCS[\"UTM 50N\"]", None)
    }

    #[test]
    fn map_pixels_follow_the_cells() {
        // 4 × 5 cells: NaN in the top-left, 100 in the bottom-right, 50 elsewhere.
        let mut a = Array2::from_elem((4, 5), 50.0);
        a[(0, 0)] = f64::NAN;
        a[(3, 4)] = 100.0;
        let g = grid(a, 1000.0);
        let spec = MapSpec {
            title: "t".into(),
            subtitle: "s".into(),
            units: "score".into(),
            scale: score_scale(),
            outlines: None,
            sea: None,
        };
        let (img, lay) = render_map(&g, &spec).unwrap();
        assert_eq!(lay.px_per_cell, 24.0);
        let at = |r: f64, c: f64| {
            img.pixel(
                lay.x0 + (c * lay.px_per_cell) as u32,
                lay.y0 + (r * lay.px_per_cell) as u32,
            )
        };
        assert_eq!(at(0.5, 0.5), NODATA);
        assert_eq!(at(3.5, 4.5), ramp_colour(Ramp::Viridis, 1.0));
        assert_eq!(at(1.5, 2.5), ramp_colour(Ramp::Viridis, 0.5));
        // Outlines: two zones split between columns 1 and 2.
        let mut z = Array2::from_elem((4, 5), 1);
        z.slice_mut(ndarray::s![.., 2..]).fill(2);
        let spec = MapSpec {
            outlines: Some(&z),
            ..spec
        };
        let (img, lay) = render_map(&g, &spec).unwrap();
        let edge = lay.x0 + 2 * 24 - 1;
        assert_eq!(img.pixel(edge, lay.y0 + 30), OUTLINE);
        assert_eq!(
            img.pixel(edge - 3, lay.y0 + 30),
            ramp_colour(Ramp::Viridis, 0.5)
        );
        // PNG round trip keeps the size.
        let png = encode_png(&img).unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(png));
        let reader = dec.read_info().unwrap();
        assert_eq!(
            (reader.info().width, reader.info().height),
            (img.width, img.height)
        );
    }

    #[test]
    fn charts_render_and_columns_split() {
        let head: Vec<String> = ["time_h", "A discharge_m3s", "A stage_m", "B discharge_m3s"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let cols = vec![
            vec![0.0, 1.0, 2.0],
            vec![0.0, 5.0, 2.0],
            vec![1.0, 1.0, 1.0],
            vec![0.0, f64::NAN, 1.0],
        ];
        let q = columns_with_suffix(&head, &cols, " discharge_m3s");
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].0, "A");
        assert_eq!(q[1].1, vec![(0.0, 0.0), (2.0, 1.0)]);
        let panel = Panel {
            title: "x".into(),
            x_label: "time (h)".into(),
            y_label: "Q (m3/s)".into(),
            log_x: false,
            markers: false,
            series: q
                .into_iter()
                .map(|(label, points)| Series { label, points })
                .collect(),
        };
        let img = render_charts(&[
            panel.clone(),
            Panel {
                log_x: true,
                series: vec![Series {
                    label: "r".into(),
                    points: vec![(10.0, 1.0), (100.0, 3.0)],
                }],
                ..panel
            },
        ])
        .unwrap();
        assert_eq!((img.width, img.height), (900, 800));
        assert!(img.rgb.chunks(3).any(|p| p == LINES[0]));
    }

    #[test]
    fn ascii_labels() {
        assert_eq!(ascii_or("beisanhe-10yr", "x"), "beisanhe-10yr");
        assert_eq!(ascii_or("北三河", "system 1"), "system 1");
        assert_eq!(ascii_or("", "k"), "k");
    }
}
