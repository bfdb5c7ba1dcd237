//! Vector layers through GDAL/OGR (GeoJSON mainly, any OGR format), and their
//! rasterisation onto grids.
//!
//! [`read_layer`] reads the first layer of a vector file into plain [`Feature`]s (fields
//! as text, coordinates as (x, y) pairs in traditional GIS order: x = longitude for
//! geographic CRSs), reprojected when asked. [`rasterize_polygons`] burns polygons by the
//! cell-centre rule with an even–odd scanline; [`rasterize_lines`] burns every cell a
//! line passes through (GDAL's `ALL_TOUCHED`) with an Amanatides–Woo grid traversal. Both
//! are pure Rust, deterministic, and let later features overwrite earlier ones (as GDAL's
//! rasterizer does).
//!
//! # Reference
//! Amanatides, J. and Woo, A. (1987), A fast voxel traversal algorithm for ray tracing,
//! Eurographics '87, 3–10.

use super::io::{self, spatial_ref};
use super::warp::GridSpec;
use super::Grid;
use crate::{Error, Result};
use gdal::spatial_ref::CoordTransform;
use gdal::vector::{geometry_type_flatten, FieldValue, LayerAccess};
use gdal::Dataset;
use gdal_sys::OGRwkbGeometryType as Wkb;
use ndarray::Array2;
use std::collections::BTreeMap;
use std::path::Path;

/// A point, (x, y) in CRS units (longitude, latitude in degrees for geographic CRSs).
pub type Point = (f64, f64);

/// A feature's shape, with multi-geometries flattened into one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// One point.
    Point(Point),
    /// Several points (an OGR MultiPoint).
    Points(Vec<Point>),
    /// One or more polylines (LineString, MultiLineString).
    Lines(Vec<Vec<Point>>),
    /// One or more polygons, each a list of rings; the first ring is the outer boundary,
    /// the others are holes (Polygon, MultiPolygon).
    Polygons(Vec<Vec<Vec<Point>>>),
}

impl Geometry {
    /// Every coordinate, mutably (for reprojection).
    fn coords_mut(&mut self) -> Vec<&mut Point> {
        match self {
            Geometry::Point(p) => vec![p],
            Geometry::Points(v) => v.iter_mut().collect(),
            Geometry::Lines(ls) => ls.iter_mut().flatten().collect(),
            Geometry::Polygons(ps) => ps.iter_mut().flatten().flatten().collect(),
        }
    }

    /// Planar area in CRS units squared (m² in a projected CRS): polygons with holes
    /// subtracted; 0 for points and lines.
    pub fn area(&self) -> f64 {
        match self {
            Geometry::Polygons(ps) => ps.iter().map(|rings| polygon_area(rings)).sum(),
            _ => 0.0,
        }
    }

    /// (xmin, ymin, xmax, ymax) of all coordinates; None when there are none.
    pub fn bbox(&self) -> Option<(f64, f64, f64, f64)> {
        let mut g = self.clone();
        let pts = g.coords_mut();
        if pts.is_empty() {
            return None;
        }
        Some(
            pts.iter()
                .fold((f64::MAX, f64::MAX, f64::MIN, f64::MIN), |b, p| {
                    (b.0.min(p.0), b.1.min(p.1), b.2.max(p.0), b.3.max(p.1))
                }),
        )
    }
}

/// A vector feature: attribute fields as text (numbers formatted plainly) and a geometry.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// Field name → value as text; null fields are empty strings.
    pub fields: BTreeMap<String, String>,
    /// The feature's shape.
    pub geometry: Geometry,
}

/// A field value as plain text.
fn field_text(v: Option<FieldValue>) -> String {
    fn join<T: ToString>(v: &[T]) -> String {
        v.iter().map(T::to_string).collect::<Vec<_>>().join(",")
    }
    match v {
        None => String::new(),
        Some(FieldValue::IntegerValue(x)) => x.to_string(),
        Some(FieldValue::Integer64Value(x)) => x.to_string(),
        Some(FieldValue::RealValue(x)) => x.to_string(),
        Some(FieldValue::StringValue(s)) => s,
        Some(FieldValue::IntegerListValue(v)) => join(&v),
        Some(FieldValue::Integer64ListValue(v)) => join(&v),
        Some(FieldValue::RealListValue(v)) => join(&v),
        Some(FieldValue::StringListValue(v)) => v.join(","),
        Some(FieldValue::DateValue(d)) => d.to_string(),
        Some(FieldValue::DateTimeValue(d)) => d.to_string(),
    }
}

/// The (x, y) points of a simple curve (LineString or LinearRing).
fn points_of(g: &gdal::vector::Geometry) -> Vec<Point> {
    let mut pts = Vec::new();
    g.get_points(&mut pts);
    pts.into_iter().map(|(x, y, _)| (x, y)).collect()
}

/// The rings of a simple polygon.
fn rings_of(g: &gdal::vector::Geometry) -> Vec<Vec<Point>> {
    (0..g.geometry_count())
        .map(|i| points_of(&g.get_geometry(i)))
        .collect()
}

/// Points, lines and polygons found in an OGR geometry (recursing into collections).
#[derive(Default)]
struct Parts {
    points: Vec<Point>,
    lines: Vec<Vec<Point>>,
    polygons: Vec<Vec<Vec<Point>>>,
}

/// Collects the parts of an OGR geometry; curved geometries are linearised by GDAL.
fn collect_parts(g: &gdal::vector::Geometry, parts: &mut Parts) -> std::result::Result<(), String> {
    match geometry_type_flatten(g.geometry_type()) {
        Wkb::wkbPoint => parts.points.extend(points_of(g)),
        Wkb::wkbLineString | Wkb::wkbLinearRing => parts.lines.push(points_of(g)),
        Wkb::wkbPolygon => parts.polygons.push(rings_of(g)),
        Wkb::wkbMultiPoint
        | Wkb::wkbMultiLineString
        | Wkb::wkbMultiPolygon
        | Wkb::wkbGeometryCollection => {
            for i in 0..g.geometry_count() {
                collect_parts(&g.get_geometry(i), parts)?;
            }
        }
        other => {
            // Curves and surfaces: ask GDAL for the linear approximation.
            let unsupported = || {
                format!(
                    "unsupported geometry type {}",
                    gdal::vector::geometry_type_to_name(other)
                )
            };
            let lin = linear_geometry(g).ok_or_else(unsupported)?;
            if geometry_type_flatten(lin.geometry_type()) == other {
                return Err(unsupported());
            }
            collect_parts(&lin, parts)?;
        }
    }
    Ok(())
}

/// The linear approximation of a curved geometry (GDAL's `OGR_G_GetLinearGeometry`).
fn linear_geometry(g: &gdal::vector::Geometry) -> Option<gdal::vector::Geometry> {
    // SAFETY: the handle of `g` is valid for the call; OGR_G_GetLinearGeometry returns a
    // new geometry that we own, export to WKB and destroy exactly once.
    unsafe {
        let h = gdal_sys::OGR_G_GetLinearGeometry(g.c_geometry(), 0.0, std::ptr::null_mut());
        if h.is_null() {
            return None;
        }
        let size = gdal_sys::OGR_G_WkbSize(h).max(0) as usize;
        let mut buf = vec![0u8; size];
        let err =
            gdal_sys::OGR_G_ExportToWkb(h, gdal_sys::OGRwkbByteOrder::wkbNDR, buf.as_mut_ptr());
        gdal_sys::OGR_G_DestroyGeometry(h);
        if err != gdal_sys::OGRErr::OGRERR_NONE {
            return None;
        }
        gdal::vector::Geometry::from_wkb(&buf).ok()
    }
}

/// Reads the first layer of a vector file (GeoJSON, Shapefile, GeoPackage, … any OGR
/// format). With `to_crs_wkt` (WKT or e.g. `"EPSG:32650"`) coordinates are reprojected
/// from the layer's CRS; axis order is traditional GIS order (GeoJSON lon/lat stay x/y).
/// Multi-geometries become one [`Geometry`] value; features without geometry are skipped.
pub fn read_layer(path: &Path, to_crs_wkt: Option<&str>) -> Result<Vec<Feature>> {
    io::check_exists(path, "a vector file (e.g. GeoJSON)")?;
    let ds = Dataset::open(path).map_err(|e| Error::Gdal {
        path: path.to_path_buf(),
        message: format!(
            "GDAL cannot open it as a vector file ({e}); use GeoJSON, Shapefile, GeoPackage or another OGR format"
        ),
    })?;
    if ds.layer_count() == 0 {
        return Err(Error::Gdal {
            path: path.to_path_buf(),
            message: "the file holds no vector layer (a raster?); give a GeoJSON, Shapefile or GeoPackage".into(),
        });
    }
    let mut layer = ds.layer(0).map_err(|e| Error::gdal(path, e))?;
    let transform = match to_crs_wkt {
        None => None,
        Some(to) => {
            let from = layer.spatial_ref().ok_or_else(|| Error::Gdal {
                path: path.to_path_buf(),
                message: "the layer has no CRS, so it cannot be reprojected; add a .prj or use GeoJSON (EPSG:4326)".into(),
            })?;
            let from_wkt = from.to_wkt().map_err(|e| Error::gdal(path, e))?;
            if io::same_crs(&from_wkt, to) {
                None
            } else {
                let ct = CoordTransform::new(&spatial_ref(&from_wkt)?, &spatial_ref(to)?).map_err(
                    |e| Error::gdal(path, format!("cannot build the transformation: {e}")),
                )?;
                Some(ct)
            }
        }
    };
    let mut out = Vec::new();
    for (i, f) in layer.features().enumerate() {
        let Some(g) = f.geometry() else { continue };
        let mut parts = Parts::default();
        collect_parts(g, &mut parts).map_err(|m| Error::gdal(path, format!("feature {i}: {m}")))?;
        let geometry = if !parts.polygons.is_empty() {
            Geometry::Polygons(parts.polygons)
        } else if !parts.lines.is_empty() {
            Geometry::Lines(parts.lines)
        } else if parts.points.len() == 1 {
            Geometry::Point(parts.points[0])
        } else if !parts.points.is_empty() {
            Geometry::Points(parts.points)
        } else {
            continue; // empty geometry
        };
        let fields = f.fields().map(|(k, v)| (k, field_text(v))).collect();
        out.push(Feature { fields, geometry });
    }
    if let Some(ct) = transform {
        for (i, feat) in out.iter_mut().enumerate() {
            let mut pts = feat.geometry.coords_mut();
            let mut xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
            let mut ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
            ct.transform_coords(&mut xs, &mut ys, &mut [])
                .map_err(|e| Error::gdal(path, format!("feature {i}: cannot reproject: {e}")))?;
            for (p, (x, y)) in pts.iter_mut().zip(xs.into_iter().zip(ys)) {
                **p = (x, y);
            }
        }
    }
    Ok(out)
}

/// Signed shoelace area of a ring (positive counter-clockwise), CRS units squared.
fn ring_area_signed(ring: &[Point]) -> f64 {
    if ring.len() < 3 {
        return 0.0;
    }
    let n = ring.len();
    let mut a = 0.0;
    for i in 0..n {
        let (x1, y1) = ring[i];
        let (x2, y2) = ring[(i + 1) % n];
        a += x1 * y2 - x2 * y1;
    }
    a / 2.0
}

/// Planar area of one polygon (first ring outer, the rest holes) by the shoelace
/// formula, in CRS units squared (m² in a projected CRS).
pub fn polygon_area(rings: &[Vec<Point>]) -> f64 {
    let mut it = rings.iter();
    let outer = it.next().map(|r| ring_area_signed(r).abs()).unwrap_or(0.0);
    outer - it.map(|r| ring_area_signed(r).abs()).sum::<f64>()
}

/// True when `p` lies inside one polygon (rings: outer then holes), by the even–odd
/// crossing rule (points exactly on an edge may fall either way).
pub fn point_in_polygon(rings: &[Vec<Point>], p: Point) -> bool {
    let mut inside = false;
    for ring in rings {
        let n = ring.len();
        for i in 0..n {
            let (x1, y1) = ring[i];
            let (x2, y2) = ring[(i + 1) % n];
            if (y1 <= p.1) != (y2 <= p.1) {
                let x = x1 + (p.1 - y1) / (y2 - y1) * (x2 - x1);
                if p.0 < x {
                    inside = !inside;
                }
            }
        }
    }
    inside
}

/// True when `p` lies inside any of the polygons.
pub fn point_in_polygons(polygons: &[Vec<Vec<Point>>], p: Point) -> bool {
    polygons.iter().any(|rings| point_in_polygon(rings, p))
}

/// Twice the signed area of the triangle (a, b, c): > 0 when c lies left of a→b.
fn orient(a: Point, b: Point, c: Point) -> f64 {
    (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0)
}

/// True when `p`, collinear with a–b, lies within the segment's bounding box.
fn on_segment(a: Point, b: Point, p: Point) -> bool {
    p.0 >= a.0.min(b.0) && p.0 <= a.0.max(b.0) && p.1 >= a.1.min(b.1) && p.1 <= a.1.max(b.1)
}

/// How segments p1–p2 and q1–q2 meet: `Some(true)` where they cross properly (each
/// passes through the other's interior), `Some(false)` where they only touch or overlap
/// (an end on the other segment), `None` where they do not meet.
fn segments_meet(p1: Point, p2: Point, q1: Point, q2: Point) -> Option<bool> {
    let d1 = orient(q1, q2, p1);
    let d2 = orient(q1, q2, p2);
    let d3 = orient(p1, p2, q1);
    let d4 = orient(p1, p2, q2);
    let opposite = |a: f64, b: f64| (a > 0.0 && b < 0.0) || (a < 0.0 && b > 0.0);
    if opposite(d1, d2) && opposite(d3, d4) {
        return Some(true);
    }
    let touch = (d1 == 0.0 && on_segment(q1, q2, p1))
        || (d2 == 0.0 && on_segment(q1, q2, p2))
        || (d3 == 0.0 && on_segment(p1, p2, q1))
        || (d4 == 0.0 && on_segment(p1, p2, q2));
    touch.then_some(false)
}

/// What makes one polygon (rings: outer, then holes) invalid as a simple-features
/// polygon, or None: a ring with fewer than three distinct points, a ring that crosses
/// or touches itself (a bow-tie, a figure of eight), or two rings that cross. Vertices
/// are counted from 0 as they stand in the file (repeated points included). Segment
/// pairs are found by a sweep along x (Shamos & Hoey 1976), so large rings stay fast.
pub fn polygon_problem(rings: &[Vec<Point>]) -> Option<String> {
    // (ring, segment on the ring, its first vertex in the file, a, b) per segment,
    // repeated points dropped.
    let mut segs: Vec<(usize, usize, usize, Point, Point)> = Vec::new();
    for (k, ring) in rings.iter().enumerate() {
        let mut pts: Vec<(usize, Point)> = Vec::new();
        for (i, &p) in ring.iter().enumerate() {
            if pts.last().is_none_or(|&(_, q)| q != p) {
                pts.push((i, p));
            }
        }
        if pts.len() > 1 && pts[0].1 == pts[pts.len() - 1].1 {
            pts.pop();
        }
        if pts.len() < 3 {
            return Some(format!("ring {k} has fewer than 3 distinct points"));
        }
        let n = pts.len();
        for i in 0..n {
            segs.push((k, i, pts[i].0, pts[i].1, pts[(i + 1) % n].1));
        }
    }
    // Segment count per ring, to tell neighbours on a ring.
    let mut ring_len = vec![0usize; rings.len()];
    for s in &segs {
        ring_len[s.0] += 1;
    }
    let mut order: Vec<usize> = (0..segs.len()).collect();
    let min_x = |s: &(usize, usize, usize, Point, Point)| s.3 .0.min(s.4 .0);
    let max_x = |s: &(usize, usize, usize, Point, Point)| s.3 .0.max(s.4 .0);
    order.sort_by(|&a, &b| min_x(&segs[a]).total_cmp(&min_x(&segs[b])));
    for (oi, &a) in order.iter().enumerate() {
        let sa = segs[a];
        for &b in &order[oi + 1..] {
            let sb = segs[b];
            if min_x(&sb) > max_x(&sa) {
                break;
            }
            if sa.3 .1.max(sa.4 .1) < sb.3 .1.min(sb.4 .1)
                || sb.3 .1.max(sb.4 .1) < sa.3 .1.min(sa.4 .1)
            {
                continue;
            }
            let Some(proper) = segments_meet(sa.3, sa.4, sb.3, sb.4) else {
                continue;
            };
            if sa.0 == sb.0 {
                let n = ring_len[sa.0];
                let (i, j) = (sa.1.min(sb.1), sa.1.max(sb.1));
                if j == i + 1 || (i == 0 && j == n - 1) {
                    continue; // neighbours share a vertex
                }
                let (va, vb) = (sa.2, sb.2);
                return Some(format!(
                    "ring {} crosses or touches itself: the edge from vertex {} meets the edge from vertex {} near ({}, {})",
                    sa.0,
                    va.min(vb),
                    va.max(vb),
                    sa.3 .0,
                    sa.3 .1
                ));
            }
            if proper {
                return Some(format!(
                    "rings {} and {} cross near ({}, {})",
                    sa.0.min(sb.0),
                    sa.0.max(sb.0),
                    sa.3 .0,
                    sa.3 .1
                ));
            }
        }
    }
    None
}

/// Refuses a user polygon layer holding an invalid polygon ([`polygon_problem`]),
/// naming the file, the feature (its index and `id_field` value) and the fix.
pub fn check_simple_polygons(features: &[Feature], path: &Path, id_field: &str) -> Result<()> {
    for (i, f) in features.iter().enumerate() {
        let Geometry::Polygons(ps) = &f.geometry else {
            continue;
        };
        for (part, rings) in ps.iter().enumerate() {
            if let Some(problem) = polygon_problem(rings) {
                let id = f.fields.get(id_field).map(String::as_str).unwrap_or("");
                let which = if ps.len() > 1 {
                    format!(", part {part} of its multipolygon")
                } else {
                    String::new()
                };
                return Err(Error::Invalid {
                    path: path.to_path_buf(),
                    field: "geometry".into(),
                    message: format!(
                        "feature {i} ({id_field} = '{id}'{which}) is not a valid polygon: {problem}; fix the outline (e.g. `ogr2ogr -makevalid fixed.geojson {}`, or QGIS 'Fix geometries') and check that it still encloses the area meant",
                        path.display()
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Checks the inputs of the rasterisers.
fn check_rasterize(features: &[Feature], values: &[f64], target: &GridSpec) -> Result<()> {
    if features.len() != values.len() {
        return Err(Error::Data(format!(
            "rasterize: {} features but {} values; give one value per feature",
            features.len(),
            values.len()
        )));
    }
    if target.transform.dx.is_nan() || target.transform.dx <= 0.0 || target.transform.dy == 0.0 {
        return Err(Error::Data(format!(
            "rasterize: target transform {:?} must have dx > 0 and dy ≠ 0",
            target.transform
        )));
    }
    Ok(())
}

/// Rasterises polygons: a cell gets the value of the polygon that contains its centre
/// (even–odd rule, holes excluded), `NaN` elsewhere; where polygons overlap the later
/// feature wins. Non-polygon features are ignored. Coordinates must be in the target's CRS.
pub fn rasterize_polygons(
    features: &[Feature],
    values: &[f64],
    target: &GridSpec,
) -> Result<Grid<f64>> {
    check_rasterize(features, values, target)?;
    let t = target.transform;
    let mut out = Array2::from_elem((target.rows, target.cols), f64::NAN);
    let mut xs: Vec<f64> = Vec::new();
    for (feat, &value) in features.iter().zip(values) {
        let Geometry::Polygons(polys) = &feat.geometry else {
            continue;
        };
        for rings in polys {
            let Some((_, ymin, _, ymax)) = Geometry::Polygons(vec![rings.clone()]).bbox() else {
                continue;
            };
            // Rows whose centre y lies within [ymin, ymax].
            let (ra, rb) = ((ymin - t.y0) / t.dy - 0.5, (ymax - t.y0) / t.dy - 0.5);
            let r0 = ra.min(rb).ceil().max(0.0);
            let r1 = ra.max(rb).floor().min(target.rows as f64 - 1.0);
            if r1 < r0 {
                continue;
            }
            for r in r0 as usize..=r1 as usize {
                let yc = t.y0 + (r as f64 + 0.5) * t.dy;
                xs.clear();
                for ring in rings {
                    let n = ring.len();
                    for i in 0..n {
                        let (x1, y1) = ring[i];
                        let (x2, y2) = ring[(i + 1) % n];
                        if (y1 <= yc) != (y2 <= yc) {
                            xs.push(x1 + (yc - y1) / (y2 - y1) * (x2 - x1));
                        }
                    }
                }
                xs.sort_by(f64::total_cmp);
                for pair in xs.chunks_exact(2) {
                    // Columns whose centre x lies in [pair[0], pair[1]).
                    let c0 = ((pair[0] - t.x0) / t.dx - 0.5).ceil().max(0.0);
                    let c1 = ((pair[1] - t.x0) / t.dx - 0.5)
                        .ceil()
                        .min(target.cols as f64);
                    if c1 > c0 {
                        out.slice_mut(ndarray::s![r, c0 as usize..c1 as usize])
                            .fill(value);
                    }
                }
            }
        }
    }
    Ok(Grid::new(out, t, target.crs_wkt.clone(), None))
}

/// Visits every cell (row, col) a segment passes through, in fractional (col, row)
/// index space (Amanatides & Woo 1987); cells outside `rows` × `cols` are skipped.
fn touched_cells(
    a: Point,
    b: Point,
    rows: usize,
    cols: usize,
    mut visit: impl FnMut(usize, usize),
) {
    let (mut cx, mut cy) = (a.0.floor() as i64, a.1.floor() as i64);
    let (ex, ey) = (b.0.floor() as i64, b.1.floor() as i64);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (sx, sy) = (if dx > 0.0 { 1 } else { -1 }, if dy > 0.0 { 1 } else { -1 });
    let t_delta = |d: f64| {
        if d != 0.0 {
            1.0 / d.abs()
        } else {
            f64::INFINITY
        }
    };
    let t_first = |p: f64, c: i64, d: f64| {
        if d > 0.0 {
            (c as f64 + 1.0 - p) / d
        } else if d < 0.0 {
            (p - c as f64) / -d
        } else {
            f64::INFINITY
        }
    };
    let (tdx, tdy) = (t_delta(dx), t_delta(dy));
    let (mut tmx, mut tmy) = (t_first(a.0, cx, dx), t_first(a.1, cy, dy));
    let mut emit = |cx: i64, cy: i64| {
        if cx >= 0 && cy >= 0 && (cx as usize) < cols && (cy as usize) < rows {
            visit(cy as usize, cx as usize);
        }
    };
    emit(cx, cy);
    let steps = (ex - cx).abs() + (ey - cy).abs();
    for _ in 0..steps {
        if tmx < tmy {
            cx += sx;
            tmx += tdx;
        } else {
            cy += sy;
            tmy += tdy;
        }
        emit(cx, cy);
    }
}

/// Rasterises lines: every cell a line passes through gets the feature's value (GDAL's
/// `ALL_TOUCHED`), `NaN` elsewhere; later features win. Polygon rings are burnt as
/// lines, points burn the cell they fall in. Coordinates must be in the target's CRS.
pub fn rasterize_lines(
    features: &[Feature],
    values: &[f64],
    target: &GridSpec,
) -> Result<Grid<f64>> {
    check_rasterize(features, values, target)?;
    let t = target.transform;
    let (rows, cols) = (target.rows, target.cols);
    let mut out = Array2::from_elem((rows, cols), f64::NAN);
    let to_index = |p: &Point| ((p.0 - t.x0) / t.dx, (p.1 - t.y0) / t.dy);
    let burn_path = |pts: &[Point], value: f64, out: &mut Array2<f64>| {
        if pts.len() == 1 {
            let a = to_index(&pts[0]);
            touched_cells(a, a, rows, cols, |r, c| out[[r, c]] = value);
        }
        for w in pts.windows(2) {
            touched_cells(to_index(&w[0]), to_index(&w[1]), rows, cols, |r, c| {
                out[[r, c]] = value
            });
        }
    };
    for (feat, &value) in features.iter().zip(values) {
        match &feat.geometry {
            Geometry::Point(p) => burn_path(&[*p], value, &mut out),
            Geometry::Points(ps) => ps.iter().for_each(|p| burn_path(&[*p], value, &mut out)),
            Geometry::Lines(ls) => ls.iter().for_each(|l| burn_path(l, value, &mut out)),
            Geometry::Polygons(ps) => ps.iter().flatten().for_each(|ring| {
                let mut closed = ring.clone();
                if let (Some(&f), Some(&l)) = (ring.first(), ring.last()) {
                    if f != l {
                        closed.push(f);
                    }
                }
                burn_path(&closed, value, &mut out)
            }),
        }
    }
    Ok(Grid::new(out, t, target.crs_wkt.clone(), None))
}
