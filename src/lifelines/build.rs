//! `haihe lifelines build`: the bundled lifeline layers, made from the project's data
//! and written to `rasters/lifelines/*.geojson` (re-runnable; each file atomic).
//!
//! - `rail.geojson`: the national main railways (gmt-china `CN-Railways`, copied with
//!   provenance to `rasters/source/infrastructure/`), split into links at line ends
//!   (junctions) and at stations, a station being the GeoNames populated place with a
//!   population within [`STATION_SNAP_KM`] of a line vertex. Hubs (places of at least
//!   [`HUB_POPULATION`]) are the sources.
//! - `water_supply.geojson`: the South-to-North Water Diversion middle route from where
//!   it enters the domain (石家庄) to 团城湖, with the Tianjin trunk, from the named
//!   waypoints of the reference; `gas.geojson`: the Shaan–Jing lines (陕京四线 with its
//!   branches, the 陕京一线/二线 terminals); `power.geojson`: the 500 kV (and 1000 kV
//!   北京东) substations and the named new 500 kV lines. Each waypoint is located at a
//!   GeoNames place or a county seat (`rasters/model/counties.csv`), recorded per node
//!   in `located_by`; links are straight (`geometry = schematic`).
//! - `road.geojson`: a road-network **proxy** (`proxy = true` on every feature): the
//!   Gabriel graph of the GeoNames places with a population, links weighted by a
//!   gravity index P_i·P_j/d².
//!
//! No communications layer is built: the reference has no network data for it.
//!
//! # Reference
//! Gabriel, K. R. and Sokal, R. R. (1969), A new statistical approach to geographic
//! variation analysis, Systematic Zoology 18(3), 259–278 (the Gabriel graph).

use super::network::haversine_km;
use crate::grid::io::write_atomically;
use crate::grid::vector::{read_layer, Geometry};
use crate::{Error, Result};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// A populated place within this distance of a railway vertex becomes a station, km.
pub const STATION_SNAP_KM: f64 = 3.0;
/// Places of at least this population are hubs (road and rail sources).
pub const HUB_POPULATION: f64 = 1_000_000.0;

/// Paths of the build's inputs and outputs, relative to the project root.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Project root (holds `rasters/`).
    pub root: PathBuf,
    /// A railway GeoJSON to copy into `rasters/source/infrastructure/` first (the
    /// staged `shared/data/infrastructure/gmt_china/CN-Railways_bbox.geojson`); None
    /// builds from the copy already there.
    pub railways_from: Option<PathBuf>,
}

/// What the build wrote.
#[derive(Debug, Clone, Default)]
pub struct BuildReport {
    /// Files written.
    pub written: Vec<PathBuf>,
    /// One line per layer: nodes, links, length.
    pub log: Vec<String>,
}

/// A populated place of GeoNames.
#[derive(Debug, Clone)]
struct Place {
    name: String,
    geonameid: String,
    population: f64,
    lon: f64,
    lat: f64,
}

/// How a named waypoint is located.
enum Locate {
    /// A GeoNames place by id (the name is checked too).
    Place(&'static str, &'static str),
    /// The seat of a county of `counties.csv`, by name.
    Seat(&'static str),
}

/// A named waypoint of the reference.
struct Waypoint {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    component: &'static str,
    source: bool,
    at: Locate,
    note: &'static str,
}

/// A link between two waypoints.
struct Leg {
    id: &'static str,
    name: &'static str,
    from: &'static str,
    to: &'static str,
    component: &'static str,
    note: &'static str,
}

const REF: &str = "shared/reference/facts-seismic-ecology-lifelines.md";

/// Builds all bundled layers (see the module doc).
pub fn build(opts: &BuildOptions) -> Result<BuildReport> {
    let root = &opts.root;
    let src_dir = root.join("rasters/source/infrastructure");
    let rail_src = src_dir.join("CN-Railways_bbox.geojson");
    let mut report = BuildReport::default();
    if let Some(from) = &opts.railways_from {
        let bytes = std::fs::read(from).map_err(|e| Error::io(from, e))?;
        write_atomically(&rail_src, |p| {
            std::fs::write(p, &bytes).map_err(|e| Error::io(p, e))
        })?;
        report.written.push(rail_src.clone());
    }
    let places =
        read_places(&root.join("rasters/source/places/geonames_cities500_CN_bbox.geojson"))?;
    let seats = read_seats(&root.join("rasters/model/counties.csv"))?;
    let out_dir = root.join("rasters/lifelines");
    let layers: Vec<(&str, Value)> = vec![
        (
            "water_supply",
            waypoint_layer("water_supply", &WATER_NODES, &WATER_LINKS, &places, &seats)?,
        ),
        (
            "gas",
            waypoint_layer("gas", &GAS_NODES, &GAS_LINKS, &places, &seats)?,
        ),
        (
            "power",
            waypoint_layer("power", &POWER_NODES, &POWER_LINKS, &places, &seats)?,
        ),
        ("road", road_proxy(&places)),
        ("rail", rail_layer(&rail_src, &places)?),
    ];
    for (name, fc) in layers {
        let path = out_dir.join(format!("{name}.geojson"));
        let feats = fc["features"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or(&[]);
        let nodes = feats
            .iter()
            .filter(|f| f["geometry"]["type"] == "Point")
            .count();
        let km: f64 = feats
            .iter()
            .filter_map(|f| f["properties"]["length_km"].as_f64())
            .sum();
        report.log.push(format!(
            "{name}: {nodes} nodes, {} links, {km:.0} km",
            feats.len() - nodes
        ));
        let text = geojson_text(&fc)
            .map_err(|e| Error::Data(format!("{name}: cannot encode GeoJSON: {e}")))?;
        write_atomically(&path, |p| {
            std::fs::write(p, text.as_bytes()).map_err(|e| Error::io(p, e))
        })?;
        report.written.push(path);
    }
    Ok(report)
}

/// A FeatureCollection as text with one feature per line (small, diff-friendly).
fn geojson_text(fc: &Value) -> serde_json::Result<String> {
    let mut head = fc.clone();
    if let Some(obj) = head.as_object_mut() {
        obj.remove("features");
    }
    let head = serde_json::to_string(&head)?;
    let mut out = String::new();
    out.push_str(&head[..head.len() - 1]);
    out.push_str(",\n\"features\": [\n");
    let feats = fc["features"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or(&[]);
    for (i, f) in feats.iter().enumerate() {
        out.push_str(&serde_json::to_string(f)?);
        out.push_str(if i + 1 < feats.len() { ",\n" } else { "\n" });
    }
    out.push_str("]}\n");
    Ok(out)
}

fn read_places(path: &Path) -> Result<Vec<Place>> {
    let mut out = Vec::new();
    for f in read_layer(path, None)? {
        if let Geometry::Point((lon, lat)) = f.geometry {
            out.push(Place {
                name: f.fields.get("name").cloned().unwrap_or_default(),
                geonameid: f.fields.get("geonameid").cloned().unwrap_or_default(),
                population: f
                    .fields
                    .get("population")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0.0),
                lon,
                lat,
            });
        }
    }
    Ok(out)
}

fn read_seats(path: &Path) -> Result<HashMap<String, (f64, f64)>> {
    let bad = |m: String| Error::Invalid {
        path: path.to_path_buf(),
        field: "seat_lon/seat_lat".into(),
        message: m,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let h = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x == n)
            .ok_or_else(|| bad(format!("no `{n}` column; rebuild with `haihe prepare`")))
    };
    let (name_c, lon_c, lat_c) = (col("name")?, col("seat_lon")?, col("seat_lat")?);
    let mut out = HashMap::new();
    for rec in r.records() {
        let rec = crate::escape::unguard_record(&rec.map_err(|e| bad(e.to_string()))?);
        let num = |c: usize| rec.get(c).and_then(|s| s.parse::<f64>().ok());
        if let (Some(name), Some(lon), Some(lat)) = (rec.get(name_c), num(lon_c), num(lat_c)) {
            out.insert(name.to_string(), (lon, lat));
        }
    }
    Ok(out)
}

fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

fn point(id: &str, lon: f64, lat: f64, props: Map<String, Value>) -> Value {
    let mut p = props;
    p.insert("id".into(), json!(id));
    json!({"type": "Feature", "properties": p,
           "geometry": {"type": "Point", "coordinates": [round5(lon), round5(lat)]}})
}

fn line(id: &str, pts: &[(f64, f64)], props: Map<String, Value>) -> Value {
    let mut p = props;
    p.insert("id".into(), json!(id));
    p.insert(
        "length_km".into(),
        json!((super::network::polyline_km(pts) * 1000.0).round() / 1000.0),
    );
    let coords: Vec<[f64; 2]> = pts.iter().map(|&(x, y)| [round5(x), round5(y)]).collect();
    json!({"type": "Feature", "properties": p,
           "geometry": {"type": "LineString", "coordinates": coords}})
}

fn collection(name: &str, description: &str, features: Vec<Value>) -> Value {
    json!({"type": "FeatureCollection", "name": name, "description": description,
           "features": features})
}

fn props(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .filter(|(_, v)| !(v.is_null() || v.as_str() == Some("")))
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn locate(
    w: &Waypoint,
    places: &[Place],
    seats: &HashMap<String, (f64, f64)>,
) -> Result<(f64, f64, String)> {
    match w.at {
        Locate::Place(name, id) => places
            .iter()
            .find(|p| p.geonameid == id && p.name == name)
            .map(|p| {
                (
                    p.lon,
                    p.lat,
                    format!("GeoNames place '{name}' (geonameid {id})"),
                )
            })
            .ok_or_else(|| {
                Error::Data(format!(
                    "waypoint {}: GeoNames place '{name}' ({id}) not in rasters/source/places",
                    w.id
                ))
            }),
        Locate::Seat(county) => seats
            .get(county)
            .map(|&(lon, lat)| {
                (
                    lon,
                    lat,
                    format!(
                        "county seat of {county} (rasters/model/counties.csv seat_lon/seat_lat)"
                    ),
                )
            })
            .ok_or_else(|| {
                Error::Data(format!(
                    "waypoint {}: county '{county}' not in rasters/model/counties.csv",
                    w.id
                ))
            }),
    }
}

/// A layer from named waypoints and the legs between them (straight links).
fn waypoint_layer(
    lifeline: &str,
    nodes: &[Waypoint],
    legs: &[Leg],
    places: &[Place],
    seats: &HashMap<String, (f64, f64)>,
) -> Result<Value> {
    let mut feats = Vec::new();
    let mut at: HashMap<&str, (f64, f64)> = HashMap::new();
    for w in nodes {
        let (lon, lat, how) = locate(w, places, seats)?;
        at.insert(w.id, (lon, lat));
        feats.push(point(
            w.id,
            lon,
            lat,
            props(&[
                ("name", json!(w.name)),
                ("lifeline", json!(lifeline)),
                ("kind", json!(w.kind)),
                ("source", json!(w.source)),
                ("component", json!(w.component)),
                ("located_by", json!(how)),
                ("reference", json!(REF)),
                ("note", json!(w.note)),
                ("proxy", json!(false)),
            ]),
        ));
    }
    for l in legs {
        let (a, b) = (at[l.from], at[l.to]);
        feats.push(line(
            l.id,
            &[a, b],
            props(&[
                ("name", json!(l.name)),
                ("lifeline", json!(lifeline)),
                ("from", json!(l.from)),
                ("to", json!(l.to)),
                ("component", json!(l.component)),
                ("geometry", json!("schematic")),
                ("reference", json!(REF)),
                ("note", json!(l.note)),
                ("proxy", json!(false)),
            ]),
        ));
    }
    Ok(collection(
        lifeline,
        "Named waypoints of shared/reference located at GeoNames places or county seats (located_by per node); straight schematic links. Built by `haihe lifelines build`.",
        feats,
    ))
}

/// Local planar coordinates (km) around a reference latitude (equirectangular).
fn planar(lon: f64, lat: f64, lat0: f64) -> (f64, f64) {
    let k = std::f64::consts::PI / 180.0 * super::network::EARTH_RADIUS_KM;
    (lon * k * lat0.to_radians().cos(), lat * k)
}

/// The road proxy: Gabriel graph of the places with a population.
fn road_proxy(places: &[Place]) -> Value {
    let mut towns: Vec<&Place> = places.iter().filter(|p| p.population > 0.0).collect();
    towns.sort_by(|a, b| a.geonameid.cmp(&b.geonameid));
    towns.dedup_by(|a, b| a.geonameid == b.geonameid);
    let lat0 = 40.0;
    let xy: Vec<(f64, f64)> = towns.iter().map(|p| planar(p.lon, p.lat, lat0)).collect();
    let mut feats = Vec::new();
    for p in &towns {
        feats.push(point(
            &format!("road-{}", p.geonameid),
            p.lon,
            p.lat,
            props(&[
                ("name", json!(p.name)),
                ("lifeline", json!("road")),
                ("kind", json!("town")),
                ("source", json!(p.population >= HUB_POPULATION)),
                ("component", json!("junction")),
                ("population", json!(p.population)),
                (
                    "located_by",
                    json!(format!("GeoNames place (geonameid {})", p.geonameid)),
                ),
                ("proxy", json!(true)),
            ]),
        ));
    }
    let mut edges = Vec::new();
    for i in 0..towns.len() {
        for j in i + 1..towns.len() {
            let c = ((xy[i].0 + xy[j].0) / 2.0, (xy[i].1 + xy[j].1) / 2.0);
            let r2 = ((xy[i].0 - xy[j].0).powi(2) + (xy[i].1 - xy[j].1).powi(2)) / 4.0;
            let blocked = (0..towns.len()).any(|k| {
                k != i && k != j && (xy[k].0 - c.0).powi(2) + (xy[k].1 - c.1).powi(2) < r2
            });
            if !blocked {
                edges.push((i, j));
            }
        }
    }
    let gravity = |&(i, j): &(usize, usize)| {
        let d = haversine_km((towns[i].lon, towns[i].lat), (towns[j].lon, towns[j].lat));
        towns[i].population * towns[j].population / (d * d).max(1.0)
    };
    let gmax = edges.iter().map(gravity).fold(0.0f64, f64::max).max(1e-12);
    for e in &edges {
        let (a, b) = (towns[e.0], towns[e.1]);
        // Criticality: gravity index scaled to 0–1 on a log scale (6 decades).
        let crit = (1.0 + (gravity(e) / gmax).log10() / 6.0).clamp(0.0, 1.0);
        feats.push(line(
            &format!("road-{}-{}", a.geonameid, b.geonameid),
            &[(a.lon, a.lat), (b.lon, b.lat)],
            props(&[
                ("name", json!(format!("{} – {}", a.name, b.name))),
                ("lifeline", json!("road")),
                ("from", json!(format!("road-{}", a.geonameid))),
                ("to", json!(format!("road-{}", b.geonameid))),
                ("component", json!("road_major")),
                ("criticality", json!((crit * 1000.0).round() / 1000.0)),
                ("gravity_index", json!(gravity(e))),
                ("geometry", json!("schematic")),
                ("proxy", json!(true)),
            ]),
        ));
    }
    collection(
        "road",
        "PROXY road network: Gabriel graph of the GeoNames places with a population (not real roads); criticality from a gravity index P_i*P_j/d^2 on a log scale. Replace with a real road layer.",
        feats,
    )
}

/// The railway layer: lines split at junctions and stations.
fn rail_layer(src: &Path, places: &[Place]) -> Result<Value> {
    let feats_in = read_layer(src, Some("EPSG:4326"))?;
    let mut lines: Vec<Vec<(f64, f64)>> = Vec::new();
    for f in feats_in {
        if let Geometry::Lines(ls) = f.geometry {
            lines.extend(ls.into_iter().filter(|l| l.len() >= 2));
        }
    }
    let towns: Vec<&Place> = places.iter().filter(|p| p.population > 0.0).collect();
    let key = |p: (f64, f64)| ((p.0 * 1e4).round() as i64, (p.1 * 1e4).round() as i64);
    // Node registry: junction (by rounded coordinate) or station (by geonameid).
    let mut node_ids: BTreeMap<String, (f64, f64, Map<String, Value>)> = BTreeMap::new();
    let mut junction_of: HashMap<(i64, i64), String> = HashMap::new();
    let mut feats = Vec::new();
    let mut links = Vec::new();
    for (li, pts) in lines.iter().enumerate() {
        // Stations: for each town, the closest vertex of this line within the snap
        // distance (interior vertices only); one town per vertex (the most populous).
        let mut at_vertex: BTreeMap<usize, &Place> = BTreeMap::new();
        for t in &towns {
            let (k, d) = pts
                .iter()
                .enumerate()
                .map(|(k, &p)| (k, haversine_km(p, (t.lon, t.lat))))
                .fold((0, f64::MAX), |a, b| if b.1 < a.1 { b } else { a });
            if d <= STATION_SNAP_KM && k > 0 && k + 1 < pts.len() {
                let keep = at_vertex
                    .get(&k)
                    .is_none_or(|o| o.population < t.population);
                if keep {
                    at_vertex.insert(k, t);
                }
            }
        }
        let mut end_node = |p: (f64, f64)| -> String {
            let k = key(p);
            if let Some(id) = junction_of.get(&k) {
                return id.clone();
            }
            let id = format!("rail-j{:03}", junction_of.len() + 1);
            junction_of.insert(k, id.clone());
            let on_edge = (p.0 - 111.5).abs() < 1e-6
                || (p.0 - 119.0).abs() < 1e-6
                || (p.1 - 37.5).abs() < 1e-6
                || (p.1 - 42.5).abs() < 1e-6;
            let near = towns
                .iter()
                .map(|t| (haversine_km(p, (t.lon, t.lat)), t))
                .fold(None::<(f64, &&Place)>, |a, b| match a {
                    Some(a) if a.0 <= b.0 => Some(a),
                    _ => Some(b),
                });
            let name = match near {
                Some((d, t)) if d <= STATION_SNAP_KM * 3.0 => format!("junction near {}", t.name),
                _ if on_edge => "line leaves the data extent".to_string(),
                _ => "junction".to_string(),
            };
            node_ids.insert(
                id.clone(),
                (
                    p.0,
                    p.1,
                    props(&[
                        ("name", json!(name)),
                        ("kind", json!("junction")),
                        ("located_by", json!("end point of a CN-Railways line")),
                        (
                            "note",
                            json!(if on_edge {
                                "cut by the crop box of the source data"
                            } else {
                                ""
                            }),
                        ),
                    ]),
                ),
            );
            id
        };
        let start = end_node(pts[0]);
        let end = end_node(*pts.last().unwrap_or(&pts[0]));
        let mut cuts: Vec<(usize, String)> = vec![(0, start)];
        for (&k, t) in &at_vertex {
            let id = format!("rail-s{}", t.geonameid);
            node_ids.entry(id.clone()).or_insert_with(|| {
                (
                    t.lon,
                    t.lat,
                    props(&[
                        ("name", json!(t.name)),
                        ("kind", json!("station")),
                        ("population", json!(t.population)),
                        (
                            "located_by",
                            json!(format!(
                                "GeoNames place (geonameid {}) within {STATION_SNAP_KM} km of the line",
                                t.geonameid
                            )),
                        ),
                    ]),
                )
            });
            cuts.push((k, id));
        }
        cuts.push((pts.len() - 1, end));
        for (s, w) in cuts.windows(2).enumerate() {
            let (k0, ref a) = w[0];
            let (k1, ref b) = w[1];
            if a == b {
                continue;
            }
            let mut seg: Vec<(f64, f64)> = pts[k0..=k1].to_vec();
            // Stations sit at the place; join the line to it.
            if let Some((x, y, _)) = node_ids.get(a) {
                if a.starts_with("rail-s") {
                    seg.insert(0, (*x, *y));
                }
            }
            if let Some((x, y, _)) = node_ids.get(b) {
                if b.starts_with("rail-s") {
                    seg.push((*x, *y));
                }
            }
            links.push((
                format!("rail-l{:02}-{:02}", li + 1, s + 1),
                a.clone(),
                b.clone(),
                seg,
            ));
        }
    }
    // Sources: the node closest to each hub, within 10 km.
    let hubs: Vec<&&Place> = towns
        .iter()
        .filter(|t| t.population >= HUB_POPULATION)
        .collect();
    let mut sources = std::collections::HashSet::new();
    for h in hubs {
        if let Some((id, d)) = node_ids
            .iter()
            .map(|(id, (x, y, _))| (id, haversine_km((*x, *y), (h.lon, h.lat))))
            .fold(None::<(&String, f64)>, |a, b| match a {
                Some(a) if a.1 <= b.1 => Some(a),
                _ => Some(b),
            })
        {
            if d <= 10.0 {
                sources.insert(id.clone());
            }
        }
    }
    for (id, (x, y, mut p)) in node_ids {
        p.insert("lifeline".into(), json!("rail"));
        p.insert("component".into(), json!("junction"));
        p.insert("source".into(), json!(sources.contains(&id)));
        p.insert("proxy".into(), json!(false));
        feats.push(point(&id, x, y, p));
    }
    for (id, a, b, seg) in links {
        feats.push(line(
            &id,
            &seg,
            props(&[
                ("lifeline", json!("rail")),
                ("from", json!(a)),
                ("to", json!(b)),
                ("component", json!("rail_track")),
                (
                    "geometry",
                    json!("CN-Railways (gmt-china), undated national main lines"),
                ),
                ("proxy", json!(false)),
            ]),
        ));
    }
    Ok(collection(
        "rail",
        "National main railways (gmt-china/china-geospatial-data CN-Railways, see rasters/source/infrastructure/PROVENANCE.md) split at junctions and at stations (GeoNames places with a population within 3 km of a vertex). Sources: the node nearest each place of >= 1 million people.",
        feats,
    ))
}

// ---------------------------------------------------------------- named waypoints
// Every entry below is a waypoint named in shared/reference §5; `note` says what the
// reference does not give.

const WATER_NODES: [Waypoint; 8] = [
    Waypoint { id: "snwd-shijiazhuang", name: "南水北调中线 石家庄 (古运河南)", kind: "source", component: "junction", source: true,
        at: Locate::Place("Shijiazhuang", "1795270"),
        note: "where the middle route enters the model domain; its supply from 陶岔渠首 (head 350 m3/s) lies south of the domain" },
    Waypoint { id: "snwd-baoding", name: "南水北调中线 保定", kind: "junction", component: "junction", source: false,
        at: Locate::Place("Baoding", "1816971"), note: "" },
    Waypoint { id: "snwd-xushui", name: "南水北调中线 徐水 (天津干线分水口)", kind: "junction", component: "junction", source: false,
        at: Locate::Seat("徐水区"), note: "offtake of the Tianjin trunk" },
    Waypoint { id: "snwd-beijuma", name: "北拒马河暗渠节制闸 (京冀界)", kind: "structure", component: "water_structure", source: false,
        at: Locate::Place("Zhuozhou", "1783851"),
        note: "site on the Beijing-Hebei border not given; placed at the nearest named place, 涿州 (some km east of the canal)" },
    Waypoint { id: "snwd-huinanzhuang", name: "惠南庄泵站", kind: "pumping_station", component: "pumping_station", source: false,
        at: Locate::Place("Zhangfang", "1785277"),
        note: "reference: 房山, the only large pumping station (8 pumps); placed at 张坊, the town of 惠南庄 (town membership is ours, not the reference's)" },
    Waypoint { id: "snwd-daning", name: "大宁调压池", kind: "structure", component: "water_structure", source: false,
        at: Locate::Seat("房山区"), note: "site not given; placed at the seat of 房山区, the district of 大宁" },
    Waypoint { id: "snwd-tuanchenghu", name: "团城湖调节池 (颐和园)", kind: "terminal", component: "water_structure", source: false,
        at: Locate::Place("Haidian", "1809104"), note: "terminus of the middle route in Beijing; placed at 海淀" },
    Waypoint { id: "snwd-tianjin", name: "南水北调中线 天津干线 末端", kind: "terminal", component: "water_structure", source: false,
        at: Locate::Place("Tianjin", "1792947"),
        note: "terminus not named in the reference; placed at Tianjin city" },
];

const WATER_LINKS: [Leg; 7] = [
    Leg {
        id: "snwd-l1",
        name: "中线总干渠 石家庄–保定",
        from: "snwd-shijiazhuang",
        to: "snwd-baoding",
        component: "canal",
        note: "open canal along the west edge of the plain (west of the 京广 railway)",
    },
    Leg {
        id: "snwd-l2",
        name: "中线总干渠 保定–徐水",
        from: "snwd-baoding",
        to: "snwd-xushui",
        component: "canal",
        note: "open canal",
    },
    Leg {
        id: "snwd-l3",
        name: "中线总干渠 徐水–北拒马河",
        from: "snwd-xushui",
        to: "snwd-beijuma",
        component: "canal",
        note: "open canal",
    },
    Leg {
        id: "snwd-l4",
        name: "北京段 北拒马河–惠南庄",
        from: "snwd-beijuma",
        to: "snwd-huinanzhuang",
        component: "canal",
        note: "culvert (暗渠) after the 北拒马河 gate; no fragility in the reference, not assessed",
    },
    Leg {
        id: "snwd-l5",
        name: "北京段 惠南庄–大宁 (2 × 4 m PCCP)",
        from: "snwd-huinanzhuang",
        to: "snwd-daning",
        component: "pipe_brittle",
        note: "two 4-m-ID PCCP pipes (concrete: Hazus brittle); Beijing section design 50 m3/s",
    },
    Leg {
        id: "snwd-l6",
        name: "北京段 大宁–团城湖",
        from: "snwd-daning",
        to: "snwd-tuanchenghu",
        component: "pipe_brittle",
        note: "conduit type after 大宁 not in the reference; taken as the PCCP mains (ASSUMPTION)",
    },
    Leg {
        id: "snwd-l7",
        name: "天津干线 (155 km)",
        from: "snwd-xushui",
        to: "snwd-tianjin",
        component: "canal",
        note: "conduit type not in the reference; not assessed for shaking",
    },
];

const GAS_NODES: [Waypoint; 10] = [
    Waypoint { id: "gas-ulanqab", name: "陕京四线 乌兰察布压气站", kind: "compressor_station", component: "gas_facility", source: true,
        at: Locate::Place("Ulanqab", "8335361"),
        note: "first 陕京四线 compressor station inside the domain; supply from 靖边 via 红墩界, 鄂尔多斯, 托克托 (outside the domain)" },
    Waypoint { id: "gas-zhangjiakou", name: "陕京四线 张家口压气站", kind: "compressor_station", component: "gas_facility", source: false,
        at: Locate::Place("Zhangjiakou", "2033196"), note: "" },
    Waypoint { id: "gas-gaoliying", name: "陕京四线 高丽营 (顺义)", kind: "terminal", component: "gas_facility", source: false,
        at: Locate::Place("Gaoliying", "2037279"), note: "terminal of 陕京四线" },
    Waypoint { id: "gas-xishatun", name: "西沙屯", kind: "terminal", component: "gas_facility", source: false,
        at: Locate::Place("Changping", "2038154"), note: "end of the 高丽营–西沙屯 branch; placed at 昌平" },
    Waypoint { id: "gas-mafang", name: "马坊", kind: "junction", component: "junction", source: false,
        at: Locate::Place("Mafang", "8541246"), note: "" },
    Waypoint { id: "gas-xianghe", name: "香河", kind: "junction", component: "junction", source: false,
        at: Locate::Place("Xianghe", "1790576"), note: "" },
    Waypoint { id: "gas-baodi", name: "宝坻", kind: "terminal", component: "gas_facility", source: false,
        at: Locate::Seat("宝坻区"), note: "" },
    Waypoint { id: "gas-xiji", name: "西集", kind: "terminal", component: "gas_facility", source: false,
        at: Locate::Place("Xiji", "1789411"), note: "" },
    Waypoint { id: "gas-shijingshan", name: "陕京一线 末站 北京石景山", kind: "terminal", component: "gas_facility", source: true,
        at: Locate::Seat("石景山区"),
        note: "陕京一线 (1997, 1,098 km, 660 mm, 6.4 MPa, 33e8 m3/a); its route inside the domain is not in the reference, so the terminal stands as the supply point" },
    Waypoint { id: "gas-daxing", name: "陕京二线 末站 北京大兴", kind: "terminal", component: "gas_facility", source: true,
        at: Locate::Place("Daxing", "1807544"),
        note: "陕京二线 (2005, 935 km, 1,016 mm, 10 MPa, 120e8 m3/a); route inside the domain not in the reference, so the terminal stands as the supply point" },
];

const GAS_LINKS: [Leg; 7] = [
    Leg { id: "gas-sj4-1", name: "陕京四线 乌兰察布–张家口", from: "gas-ulanqab", to: "gas-zhangjiakou", component: "pipe_ductile",
        note: "capacity 250-300e8 m3/a; welded steel taken as Hazus ductile (ASSUMPTION: grade not in the reference)" },
    Leg { id: "gas-sj4-2", name: "陕京四线 张家口–高丽营", from: "gas-zhangjiakou", to: "gas-gaoliying", component: "pipe_ductile", note: "" },
    Leg { id: "gas-sj4-b1", name: "陕京四线 高丽营–西沙屯支线", from: "gas-gaoliying", to: "gas-xishatun", component: "pipe_ductile", note: "" },
    Leg { id: "gas-sj4-b2", name: "陕京四线 马坊–香河支线", from: "gas-mafang", to: "gas-xianghe", component: "pipe_ductile", note: "" },
    Leg { id: "gas-sj4-b3", name: "陕京四线 香河–宝坻支线", from: "gas-xianghe", to: "gas-baodi", component: "pipe_ductile", note: "" },
    Leg { id: "gas-sj4-b4", name: "陕京四线 香河–西集支线", from: "gas-xianghe", to: "gas-xiji", component: "pipe_ductile", note: "" },
    Leg { id: "gas-sj4-c", name: "高丽营–马坊 (inferred)", from: "gas-gaoliying", to: "gas-mafang", component: "pipe_ductile",
        note: "ASSUMPTION: the reference names the 马坊–香河–宝坻 branch but not how 马坊 joins the trunk; joined to 高丽营 here" },
];

const POWER_NODES: [Waypoint; 13] = [
    Waypoint { id: "pw-changping", name: "昌平 500 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Place("Changping", "2038154"),
        note: "existing; feeds the 西沙屯–上莊–六郎莊 220 kV north line. Its 500 kV feeders are not in the reference, so it stands as a supply point" },
    Waypoint { id: "pw-shunyi", name: "顺义 500 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Place("Shunyi", "2034754"),
        note: "existing; feeds the east 220 kV line (李遂–定福莊–西大望); 500 kV feeders not in the reference" },
    Waypoint { id: "pw-daxing", name: "大兴 500 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Place("Daxing", "1807544"),
        note: "existing; feeds the south 220 kV line (南苑–草橋–西便門); 500 kV feeders not in the reference" },
    Waypoint { id: "pw-beijingdong", name: "北京东 1000 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Place("Sanhe", "1796823"),
        note: "in 三河市新集镇, node of the 锡盟–山东 UHV AC line; placed at 三河" },
    Waypoint { id: "pw-tongbei", name: "通州北 (通北) 500 kV", kind: "substation", component: "EP.S.H.A", source: false,
        at: Locate::Place("Tongzhou", "1792520"), note: "new in the 2025 plan; fed by 北京东–通北" },
    Waypoint { id: "pw-chaoyang-cbd", name: "朝阳CBD 500 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Seat("朝阳区"), note: "new in the 2025 plan; feeders not in the reference, so it stands as a supply point" },
    Waypoint { id: "pw-lize", name: "丰台丽泽 500 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Place("Fengtai", "1811227"), note: "new in the 2025 plan; feeders not in the reference" },
    Waypoint { id: "pw-yizhuang", name: "亦庄 500 kV", kind: "substation", component: "EP.S.H.A", source: false,
        at: Locate::Seat("大兴区"), note: "new in the 2025 plan; fed by 廊坊北–亦庄 and 天津北–亦庄; placed at the seat of 大兴区" },
    Waypoint { id: "pw-huairou", name: "怀柔科学城 500 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Seat("怀柔区"), note: "new in the 2025 plan; feeders not in the reference" },
    Waypoint { id: "pw-fangshan", name: "房山 500 kV", kind: "substation", component: "EP.S.H.A", source: false,
        at: Locate::Place("Fangshan", "1811542"), note: "end of the new 西合营–房山 line" },
    Waypoint { id: "pw-langfangbei", name: "廊坊北 500 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Place("Langfang", "1804540"), note: "outside Beijing; feeds 亦庄 in the 2025 plan; placed at 廊坊" },
    Waypoint { id: "pw-tianjinbei", name: "天津北 500 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Place("Tianjin", "1792947"), note: "site not in the reference; placed at Tianjin city" },
    Waypoint { id: "pw-xiheying", name: "西合营 500 kV", kind: "substation", component: "EP.S.H.A", source: true,
        at: Locate::Seat("蔚县"), note: "西合营 is a town of 蔚县 (Zhangjiakou); placed at the county seat" },
];

const POWER_LINKS: [Leg; 4] = [
    Leg {
        id: "pw-l-beijingdong-tongbei",
        name: "北京东–通北 500 kV",
        from: "pw-beijingdong",
        to: "pw-tongbei",
        component: "transmission_line",
        note: "new line of the 2025 plan",
    },
    Leg {
        id: "pw-l-langfangbei-yizhuang",
        name: "廊坊北–亦庄 500 kV",
        from: "pw-langfangbei",
        to: "pw-yizhuang",
        component: "transmission_line",
        note: "new line of the 2025 plan",
    },
    Leg {
        id: "pw-l-tianjinbei-yizhuang",
        name: "天津北–亦庄 500 kV",
        from: "pw-tianjinbei",
        to: "pw-yizhuang",
        component: "transmission_line",
        note: "new line of the 2025 plan",
    },
    Leg {
        id: "pw-l-xiheying-fangshan",
        name: "西合营–房山 500 kV",
        from: "pw-xiheying",
        to: "pw-fangshan",
        component: "transmission_line",
        note: "new line of the 2025 plan",
    },
];
