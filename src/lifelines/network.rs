//! Lifeline networks: nodes and links by lifeline type, read from GeoJSON layers.
//!
//! A layer is a GeoJSON FeatureCollection (any OGR vector format works): every Point is
//! a node, every LineString a link. Properties (README "Lifelines" lists them all):
//!
//! ```text
//! nodes: id, lifeline, kind, [name, source, component, capacity, capacity_unit,
//!        criticality, located_by, proxy, status, note]
//! links: id, lifeline, from, to, [name, component, capacity, capacity_unit,
//!        criticality, proxy, status, note]
//! ```
//!
//! `lifeline` is one of `water_supply`, `power`, `gas`, `road`, `rail`,
//! `communications`. A link's `length_km` is its geodesic length along the geometry
//! (haversine on the WGS 84 mean radius). Links may join nodes of another file, so a
//! user can replace any one layer. Every error names the file and the feature.

use crate::grid::vector::{read_layer, Feature, Geometry};
use crate::{Error, Result};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Mean Earth radius, km (IUGG, used for haversine lengths).
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The lifeline systems the model knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LifelineType {
    /// Bulk water supply (aqueducts, canals, pipes, pumping stations).
    WaterSupply,
    /// Electric power (substations, transmission lines).
    Power,
    /// Natural gas (pipelines, compressor and gate stations).
    Gas,
    /// Roads.
    Road,
    /// Railways.
    Rail,
    /// Telecommunications.
    Communications,
}

impl LifelineType {
    /// All types, in a fixed order (the index used in result tables).
    pub const ALL: [LifelineType; 6] = [
        LifelineType::WaterSupply,
        LifelineType::Power,
        LifelineType::Gas,
        LifelineType::Road,
        LifelineType::Rail,
        LifelineType::Communications,
    ];
    /// The name used in files.
    pub fn as_str(&self) -> &'static str {
        match self {
            LifelineType::WaterSupply => "water_supply",
            LifelineType::Power => "power",
            LifelineType::Gas => "gas",
            LifelineType::Road => "road",
            LifelineType::Rail => "rail",
            LifelineType::Communications => "communications",
        }
    }
    /// Parses the name used in files.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s.trim())
    }
    /// Position in [`LifelineType::ALL`].
    pub fn index(&self) -> usize {
        *self as usize
    }
}

/// Node kinds a layer may use.
pub const NODE_KINDS: [&str; 11] = [
    "source",
    "substation",
    "plant",
    "pumping_station",
    "compressor_station",
    "treatment_plant",
    "structure",
    "terminal",
    "junction",
    "station",
    "town",
];

/// A network node: a facility or a junction.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Unique id across all layers.
    pub id: String,
    /// Human-readable name (may be empty).
    pub name: String,
    /// Lifeline system.
    pub lifeline: LifelineType,
    /// One of [`NODE_KINDS`].
    pub kind: String,
    /// True when the node supplies the network (a source of water, power, gas, or a
    /// transport hub); defaults to `kind == "source"`.
    pub source: bool,
    /// Fragility class (a `class` of `models/fragility.toml`).
    pub component: String,
    /// Longitude, degrees east (WGS 84).
    pub lon: f64,
    /// Latitude, degrees north (WGS 84).
    pub lat: f64,
    /// Capacity in `capacity_unit`, when known.
    pub capacity: Option<f64>,
    /// Unit of `capacity` (e.g. `m3/s`, `kV`, `1e8 m3/a`).
    pub capacity_unit: String,
    /// Relative importance, 0–1 (1 when not given).
    pub criticality: f64,
    /// True for features drawn as a proxy rather than from a real layer.
    pub proxy: bool,
    /// Other properties as text (located_by, status, note …).
    pub extra: BTreeMap<String, String>,
    /// The layer file the node came from.
    pub layer: PathBuf,
}

/// A network link (pipe, canal, line, road, track) between two nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// Unique id across all layers.
    pub id: String,
    /// Human-readable name (may be empty).
    pub name: String,
    /// Lifeline system.
    pub lifeline: LifelineType,
    /// Index of the start node in [`Network::nodes`].
    pub from: usize,
    /// Index of the end node in [`Network::nodes`].
    pub to: usize,
    /// Fragility class (a `class` of `models/fragility.toml`).
    pub component: String,
    /// The course of the link, (lon, lat) in degrees.
    pub path: Vec<(f64, f64)>,
    /// Geodesic length along `path`, km.
    pub length_km: f64,
    /// Capacity in `capacity_unit`, when known.
    pub capacity: Option<f64>,
    /// Unit of `capacity`.
    pub capacity_unit: String,
    /// Relative importance, 0–1 (1 when not given).
    pub criticality: f64,
    /// True for links drawn as a proxy.
    pub proxy: bool,
    /// Other properties as text.
    pub extra: BTreeMap<String, String>,
    /// The layer file the link came from.
    pub layer: PathBuf,
}

/// All lifeline networks: nodes and links of every type, indexed by position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Network {
    /// Nodes, in file order (files sorted by name).
    pub nodes: Vec<Node>,
    /// Links, in file order.
    pub links: Vec<Link>,
}

impl Network {
    /// Index of the node with `id`.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }
    /// Index of the link with `id`.
    pub fn link_index(&self, id: &str) -> Option<usize> {
        self.links.iter().position(|l| l.id == id)
    }
    /// Number of components (nodes plus links); component `i < nodes.len()` is a node,
    /// otherwise link `i - nodes.len()`.
    pub fn components(&self) -> usize {
        self.nodes.len() + self.links.len()
    }
}

/// Great-circle distance between two (lon, lat) points in degrees, km (haversine).
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Length of a polyline of (lon, lat) points, km.
pub fn polyline_km(path: &[(f64, f64)]) -> f64 {
    path.windows(2).map(|w| haversine_km(w[0], w[1])).sum()
}

/// Default fragility class of a node of `kind` when the layer gives none.
fn default_node_component(kind: &str) -> &'static str {
    match kind {
        "substation" => "EP.S.H.A",
        "pumping_station" => "pumping_station",
        "compressor_station" | "terminal" => "gas_facility",
        "structure" => "water_structure",
        _ => "junction",
    }
}

/// Default fragility class of a link of `lifeline` when the layer gives none.
fn default_link_component(lifeline: LifelineType) -> &'static str {
    match lifeline {
        LifelineType::WaterSupply => "pipe_brittle",
        LifelineType::Power => "transmission_line",
        LifelineType::Gas => "pipe_ductile",
        LifelineType::Road => "road_major",
        LifelineType::Rail => "rail_track",
        LifelineType::Communications => "comm_line",
    }
}

/// Keys read into typed fields (everything else goes to `extra`).
const TYPED_KEYS: [&str; 12] = [
    "id",
    "name",
    "lifeline",
    "kind",
    "source",
    "component",
    "capacity",
    "capacity_unit",
    "criticality",
    "proxy",
    "from",
    "to",
];

/// A feature's label for error messages: its id, or its position.
fn label(f: &Feature, i: usize) -> String {
    match f
        .fields
        .get("id")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        Some(id) => format!("feature {i} (id '{id}')"),
        None => format!("feature {i}"),
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" => Some(false),
        "1" | "true" | "yes" => Some(true),
        _ => None,
    }
}

/// Reads all `*.geojson` files of a folder, sorted by name (see [`read_layers`]).
pub fn read_network_dir(dir: &Path) -> Result<Network> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::MissingFile {
                path: dir.to_path_buf(),
                fix: "run `haihe lifelines build` to write the bundled layers, or put your own GeoJSON layers there".into(),
            }
        } else {
            Error::io(dir, e)
        }
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("geojson"))
        })
        .collect();
    files.sort();
    read_layers(&files)
}

/// Reads lifeline layers (GeoJSON or any OGR vector file, lon/lat WGS 84) into one
/// [`Network`]. Nodes of all files are read first, so links may join nodes of other
/// files. Errors ([`Error::Invalid`], naming the file and feature): an unknown
/// lifeline type or node kind, a duplicate id, a link whose end node does not exist,
/// a geometry that is neither a point nor a line, a bad number.
pub fn read_layers(files: &[PathBuf]) -> Result<Network> {
    let mut layers = Vec::with_capacity(files.len());
    for f in files {
        layers.push((f.clone(), read_layer(f, Some("EPSG:4326"))?));
    }
    network_from_features(&layers)
}

/// Builds a [`Network`] from already-read features, one list per layer file (the path
/// is used in error messages only). See [`read_layers`] for the rules.
pub fn network_from_features(layers: &[(PathBuf, Vec<Feature>)]) -> Result<Network> {
    let mut net = Network::default();
    let mut ids: HashMap<String, (PathBuf, usize)> = HashMap::new();
    let mut check_id = |path: &Path, i: usize, f: &Feature| -> Result<String> {
        let id = f.fields.get("id").map(|s| s.trim()).unwrap_or("");
        if id.is_empty() {
            return Err(invalid(
                path,
                "id",
                format!("feature {i}: no `id` property"),
            ));
        }
        if let Some((p, j)) = ids.get(id) {
            return Err(invalid(
                path,
                "id",
                format!(
                    "feature {i}: duplicate id '{id}' (already used by feature {j} of {})",
                    p.display()
                ),
            ));
        }
        ids.insert(id.to_string(), (path.to_path_buf(), i));
        Ok(id.to_string())
    };
    // Pass 1: nodes; pass 2: links.
    for (path, feats) in layers {
        for (i, f) in feats.iter().enumerate() {
            let (lon, lat) = match &f.geometry {
                Geometry::Point(p) => *p,
                Geometry::Points(v) if v.len() == 1 => v[0],
                Geometry::Lines(_) => continue,
                _ => {
                    return Err(invalid(
                        path,
                        "geometry",
                        format!(
                            "{}: a lifeline feature must be a Point (node) or a LineString (link)",
                            label(f, i)
                        ),
                    ))
                }
            };
            let id = check_id(path, i, f)?;
            let lifeline = lifeline_of(path, f, i)?;
            let kind = text(f, "kind");
            if !NODE_KINDS.contains(&kind.as_str()) {
                return Err(invalid(
                    path,
                    "kind",
                    format!(
                        "{}: unknown node kind '{kind}'; use one of {}",
                        label(f, i),
                        NODE_KINDS.join(", ")
                    ),
                ));
            }
            let source = match f.fields.get("source") {
                Some(s) => bool_field(path, f, i, "source", s)?,
                None => kind == "source",
            };
            let component = non_empty(text(f, "component"))
                .unwrap_or_else(|| default_node_component(&kind).to_string());
            net.nodes.push(Node {
                id,
                name: text(f, "name"),
                lifeline,
                source: source || kind == "source",
                kind,
                component,
                lon,
                lat,
                capacity: number(path, f, i, "capacity")?,
                capacity_unit: text(f, "capacity_unit"),
                criticality: criticality(path, f, i)?,
                proxy: f
                    .fields
                    .get("proxy")
                    .map(|s| bool_field(path, f, i, "proxy", s))
                    .transpose()?
                    .unwrap_or(false),
                extra: extra(f),
                layer: path.clone(),
            });
        }
    }
    let index: HashMap<String, usize> = net
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.clone(), i))
        .collect();
    for (path, feats) in layers {
        for (i, f) in feats.iter().enumerate() {
            let Geometry::Lines(lines) = &f.geometry else {
                continue;
            };
            if lines.len() != 1 || lines[0].len() < 2 {
                return Err(invalid(
                    path,
                    "geometry",
                    format!(
                        "{}: a link must be one LineString of at least two points (split multi-lines into links)",
                        label(f, i)
                    ),
                ));
            }
            let id = check_id(path, i, f)?;
            let lifeline = lifeline_of(path, f, i)?;
            let end = |key: &str| -> Result<usize> {
                let nid = text(f, key);
                index.get(&nid).copied().ok_or_else(|| {
                    invalid(
                        path,
                        key,
                        format!(
                            "{}: end node '{nid}' does not exist in any layer",
                            label(f, i)
                        ),
                    )
                })
            };
            let (from, to) = (end("from")?, end("to")?);
            if from == to {
                return Err(invalid(
                    path,
                    "to",
                    format!("{}: a link must join two different nodes", label(f, i)),
                ));
            }
            for (key, v) in [("from", from), ("to", to)] {
                if net.nodes[v].lifeline != lifeline {
                    return Err(invalid(
                        path,
                        key,
                        format!(
                            "{}: a {} link cannot end at node '{}', which is {}",
                            label(f, i),
                            lifeline.as_str(),
                            net.nodes[v].id,
                            net.nodes[v].lifeline.as_str()
                        ),
                    ));
                }
            }
            let component = non_empty(text(f, "component"))
                .unwrap_or_else(|| default_link_component(lifeline).to_string());
            let path_pts = lines[0].clone();
            net.links.push(Link {
                id,
                name: text(f, "name"),
                lifeline,
                from,
                to,
                component,
                length_km: polyline_km(&path_pts),
                path: path_pts,
                capacity: number(path, f, i, "capacity")?,
                capacity_unit: text(f, "capacity_unit"),
                criticality: criticality(path, f, i)?,
                proxy: f
                    .fields
                    .get("proxy")
                    .map(|s| bool_field(path, f, i, "proxy", s))
                    .transpose()?
                    .unwrap_or(false),
                extra: extra(f),
                layer: path.clone(),
            });
        }
    }
    Ok(net)
}

fn invalid(path: &Path, field: &str, message: String) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    }
}

fn text(f: &Feature, key: &str) -> String {
    f.fields
        .get(key)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn extra(f: &Feature) -> BTreeMap<String, String> {
    f.fields
        .iter()
        .filter(|(k, v)| !TYPED_KEYS.contains(&k.as_str()) && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn lifeline_of(path: &Path, f: &Feature, i: usize) -> Result<LifelineType> {
    let t = text(f, "lifeline");
    LifelineType::parse(&t).ok_or_else(|| {
        invalid(
            path,
            "lifeline",
            format!(
                "{}: unknown lifeline type '{t}'; use one of {}",
                label(f, i),
                LifelineType::ALL.map(|t| t.as_str()).join(", ")
            ),
        )
    })
}

fn bool_field(path: &Path, f: &Feature, i: usize, key: &str, s: &str) -> Result<bool> {
    parse_bool(s).ok_or_else(|| {
        invalid(
            path,
            key,
            format!("{}: '{s}' is not true or false", label(f, i)),
        )
    })
}

fn number(path: &Path, f: &Feature, i: usize, key: &str) -> Result<Option<f64>> {
    let s = text(f, key);
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
        _ => Err(invalid(
            path,
            key,
            format!("{}: '{s}' is not a non-negative number", label(f, i)),
        )),
    }
}

fn criticality(path: &Path, f: &Feature, i: usize) -> Result<f64> {
    match number(path, f, i, "criticality")? {
        None => Ok(1.0),
        Some(c) if c <= 1.0 => Ok(c),
        Some(c) => Err(invalid(
            path,
            "criticality",
            format!("{}: criticality {c} is outside 0–1", label(f, i)),
        )),
    }
}
