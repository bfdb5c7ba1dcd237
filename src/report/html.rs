//! `report.html`: the batch report as one self-contained page for people who would
//! rather look than read. Every figure is embedded as a base64 `data:` URI (RFC 2397;
//! base64 of RFC 4648 §4), the style and the two small scripts are inline, and nothing
//! is fetched from the network, so the page opens from a USB stick or an e-mail.
//!
//! Sections: summary (scenarios, earthquake outcomes, the groups with the largest
//! expected annual exposure, gaps), score maps, a table of groups sortable by any
//! column (per scored scenario: score p05/p50/p95, rank, the five sub-scores and the
//! drivers, from `scores/<id>/scores.csv`), flood depth maps, PGA maps, hydrographs,
//! storage curves, risk curves, and the method and data limits.
//!
//! On `load`, a script counts the images that decoded (`complete && naturalWidth > 0`)
//! and writes `data-images-loaded` and `data-images-failed` on `<body>`, so a headless
//! browser can check the page (`scripts/screenshot-report.sh`).

use super::figures::{FigureSet, Section};
use super::{BatchRisk, HEADLINE_METRIC};
use crate::scenario::batch::{read_manifest, BatchRecord, ScenarioKind};
use crate::{Error, Result};
use std::fmt::Write;
use std::path::Path;

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Base64 of bytes (RFC 4648 §4, with `=` padding).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for ch in bytes.chunks(3) {
        let b = [ch[0], *ch.get(1).unwrap_or(&0), *ch.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for k in 0..4 {
            if k <= ch.len() {
                s.push(B64[((n >> (18 - 6 * k)) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

/// Bytes of base64 text (RFC 4648 §4); `None` on a character outside the alphabet or
/// a length that is not a multiple of 4.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let t = text.as_bytes();
    if t.len() % 4 != 0 {
        return None;
    }
    let val = |c: u8| B64.iter().position(|&x| x == c).map(|v| v as u32);
    let mut out = Vec::with_capacity(t.len() / 4 * 3);
    for q in t.chunks(4) {
        let pad = q.iter().rev().take_while(|&&c| c == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for (k, &c) in q.iter().enumerate() {
            let v = if k >= 4 - pad { 0 } else { val(c)? };
            n |= v << (18 - 6 * k);
        }
        let b = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&b[..3 - pad]);
    }
    Some(out)
}

/// Text escaped for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

use super::markdown::num;

const STYLE: &str = r#"
body{font-family:"Noto Sans CJK SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC",system-ui,sans-serif;margin:0;color:#222;background:#fafafa;line-height:1.45}
header{background:#1f3b57;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:26px}
header p{margin:2px 0;opacity:.9}
nav{padding:8px 28px;background:#e8eef4;position:sticky;top:0;z-index:2;font-size:14px}
nav a{margin-right:14px;color:#1f3b57;text-decoration:none}
section{padding:8px 28px 20px;border-bottom:1px solid #ddd}
h2{color:#1f3b57;margin:18px 0 10px}
.figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:14px}
figure.zoom{grid-column:1/-1}
figure.zoom img{max-width:min(100%,1100px)}
figure{margin:0;background:#fff;border:1px solid #ddd;padding:8px}
figure img{max-width:100%;height:auto;display:block;cursor:zoom-in}
figure.zoom img{cursor:zoom-out}
figcaption{font-size:13px;color:#444;margin-top:6px}
table{border-collapse:collapse;font-size:13px;background:#fff}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
td.t,th.t{text-align:left}
th{background:#eef2f6}
.scroll th{position:sticky;top:0;z-index:1}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[data-dir=asc]::after{content:" \25B2"}
table.sortable th[data-dir=desc]::after{content:" \25BC"}
.scroll{max-height:640px;overflow:auto;border:1px solid #ccc;display:inline-block;max-width:100%}
.note{color:#8a4b00;font-size:13px}
.small{font-size:13px;color:#555}
"#;

const SCRIPT: &str = r#"
(function(){
function key(c){var v=c.getAttribute('data-v');return v===null?c.textContent.trim():v;}
document.querySelectorAll('table.sortable').forEach(function(t){
 var ths=t.tHead.rows[0].cells;
 Array.prototype.forEach.call(ths,function(th,i){
  th.addEventListener('click',function(){
   var dir=th.getAttribute('data-dir')==='asc'?'desc':'asc';
   Array.prototype.forEach.call(ths,function(h){h.removeAttribute('data-dir');});
   th.setAttribute('data-dir',dir);
   var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);
   rows.sort(function(a,c){
    var x=key(a.cells[i]),y=key(c.cells[i]),nx=parseFloat(x),ny=parseFloat(y),r;
    if(!isNaN(nx)&&!isNaN(ny))r=nx-ny;else if(isNaN(nx)&&!isNaN(ny))return 1;else if(!isNaN(nx)&&isNaN(ny))return -1;else r=x.localeCompare(y);
    return dir==='asc'?r:-r;});
   rows.forEach(function(r){b.appendChild(r);});
  });
 });
});
document.querySelectorAll('figure img').forEach(function(im){
 im.addEventListener('click',function(){im.parentNode.classList.toggle('zoom');});
});
var sel=document.getElementById('score-run');
if(sel){sel.addEventListener('change',function(){
 document.querySelectorAll('.score-table').forEach(function(d){d.hidden=d.getAttribute('data-run')!==sel.value;});
});}
})();
window.addEventListener('load',function(){
 var ok=0,bad=0;
 Array.prototype.forEach.call(document.images,function(im){if(im.complete&&im.naturalWidth>0)ok++;else bad++;});
 document.body.setAttribute('data-images-loaded',String(ok));
 document.body.setAttribute('data-images-failed',String(bad));
});
"#;

/// Columns of the group table, from `scores.csv`: (column, heading, text column).
const SCORE_COLUMNS: [(&str, &str, bool); 14] = [
    ("id", "id", true),
    ("name", "name", true),
    ("kind", "kind", true),
    ("population", "population", false),
    ("score_p05", "score p05", false),
    ("score_p50", "score p50", false),
    ("score_p95", "score p95", false),
    ("rank_p50", "rank p50", false),
    ("robustness_p50", "robustness", false),
    ("redundancy_p50", "redundancy", false),
    ("resourcefulness_p50", "resource&shy;fulness", false),
    ("rapidity_p50", "rapidity", false),
    ("ecology_p50", "ecology", false),
    ("drivers", "drivers (score points lost)", true),
];

/// The group table of one scored scenario, or why it is missing.
fn score_table(path: &Path) -> Result<String> {
    let bad = |m: String| Error::Invalid {
        path: path.to_path_buf(),
        field: "scores.csv".into(),
        message: m,
    };
    let mut r = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let h = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let cols: Vec<(usize, &str, bool)> = SCORE_COLUMNS
        .iter()
        .filter_map(|(c, head, text)| Some((h.iter().position(|x| x == *c)?, *head, *text)))
        .collect();
    let mut s = String::from("<table class=\"sortable\"><thead><tr>");
    for (_, head, text) in &cols {
        let _ = write!(
            s,
            "<th{}>{head}</th>",
            if *text { " class=\"t\"" } else { "" }
        );
    }
    s.push_str("</tr></thead><tbody>\n");
    for rec in r.records() {
        let rec = crate::escape::unguard_record(&rec.map_err(|e| bad(e.to_string()))?);
        s.push_str("<tr>");
        for (c, _, text) in &cols {
            let v = rec.get(*c).unwrap_or("");
            if *text {
                let _ = write!(s, "<td class=\"t\">{}</td>", esc(v));
            } else {
                let _ = write!(s, "<td>{}</td>", esc(v));
            }
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>");
    Ok(s)
}

fn run_json(out: &Path, id: &str) -> Option<serde_json::Value> {
    let p = out.join("runs").join(id).join("run.json");
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

/// A run's headline in words: a flood's largest gauge peak, an earthquake's magnitude
/// and largest median PGA.
fn outcome(
    kind: ScenarioKind,
    run: Option<&serde_json::Value>,
    f: &dyn Fn(&str) -> String,
) -> String {
    match kind {
        ScenarioKind::Flood => run
            .and_then(|r| r.get("gauge_peaks"))
            .and_then(|g| g.as_array())
            .and_then(|a| {
                a.iter()
                    .filter_map(|g| {
                        Some((
                            g.get(0)?.as_str()?,
                            g.get(1)?.as_f64()?,
                            g.get(2)?.as_f64()?,
                            g.get(3).and_then(|r| r.as_bool()).unwrap_or(true),
                        ))
                    })
                    .max_by(|a, b| a.1.total_cmp(&b.1))
            })
            .map(|(n, q, t, reached)| {
                if reached {
                    format!("largest peak {} m³/s at {n}, {t:.0} h", num(q))
                } else {
                    format!(
                        "largest discharge {} m³/s at {n}, still rising: peak not reached by t_end",
                        num(q)
                    )
                }
            })
            .unwrap_or_default(),
        ScenarioKind::Quake => {
            let ms = run
                .and_then(|r| r.pointer("/source/ms"))
                .and_then(|v| v.as_f64())
                .map(|m| format!("Ms {m:.1}, "))
                .unwrap_or_default();
            let pga = f("max_median_pga_g");
            if pga.is_empty() {
                ms
            } else {
                format!("{ms}largest median PGA {pga} g")
            }
        }
        ScenarioKind::Combined => "flood and earthquake on the same networks".into(),
    }
}

fn figure_html(out: &Path, f: &super::figures::Figure) -> Result<String> {
    let p = out.join(&f.file);
    let bytes = std::fs::read(&p).map_err(|e| Error::io(&p, e))?;
    let mut s = format!(
        "<figure><img src=\"data:image/png;base64,{}\" width=\"{}\" height=\"{}\" alt=\"{}\"><figcaption>{}",
        base64_encode(&bytes),
        f.width,
        f.height,
        esc(&f.title),
        esc(&f.title)
    );
    if !f.keys.is_empty() {
        s.push_str("<br>");
        let keys: Vec<String> = f
            .keys
            .iter()
            .map(|(k, n)| format!("<b>{}</b> {}", esc(k), esc(n)))
            .collect();
        s.push_str(&keys.join("; "));
    }
    s.push_str("</figcaption></figure>\n");
    Ok(s)
}

/// Method and data limits of the report, one paragraph each.
pub const METHOD: [&str; 9] = [
    "Grid: every map is on the model grid of 1000 m cells in WGS 84 / UTM zone 50N (EPSG:32650); a cell is the smallest thing the model can tell apart.",
    "Terrain: a 2 arc-minute DEM (about 2.8 × 3.7 km) resampled to 1000 m and conditioned so that water drains along the mapped rivers; embankments, channels and urban drainage narrower than a cell are not resolved. Rivers are main stems only (about 1:4M); county outlines are heavily simplified.",
    "Floods: local-inertial shallow-water routing (Bates et al. 2010) of design storms over each river system, with reservoirs, detention basins and breaches as lumped structures. The design rainfall statistics are placeholders until the authority's storm atlas replaces them; each system is rained on alone.",
    "Earthquakes: the Yu et al. (2013) ground-motion model without site terms; the PGA maps show the median over the realisations. Scenario earthquakes carry no annual rate unless the batch gives one.",
    "Population: 2020 census county totals spread over each county by assumptions; counties at the edge of the domain without a census row have no residents.",
    "Exposure: a cell's residents count as exposed when its maximum depth passes the threshold (0.15, 0.5, 1.5 m); the sea and the open water of the land cover (lakes, reservoirs, wide rivers) count as dry, narrower rivers and ponds are included: an upper estimate of persons in flooded places, not of persons harmed.",
    "Risk: each design event is a point of its system's exceedance curve at p = 1/T; the expected annual exposure (EAE, persons/yr) is the area under it by the trapezoid rule, zero for events more frequent than the most frequent modelled, and the rarest event's value held down to p = 0 (or nothing beyond it, the 'no rare tail' figure); systems add (Hazus average annualised loss; CLIMADA expected annual impact).",
    "Scores: 0 to 100 per group over five dimensions (robustness, redundancy, resourcefulness, rapidity, ecology; equal weights), with weights, thresholds and normalisation bounds drawn in a Monte Carlo: p05, p50 and p95 are its percentiles, drivers the indicators that cost the most points.",
    "Not available to this model: a DEM finer than 2′, an observed land-cover map, levee crests, road, power, gas and pipeline layers with coordinates (the road network is a proxy), gridded rainfall of historical storms.",
];

/// The whole page. Reads the scores' CSV files under `out` and the figures' PNGs
/// under `figures_base` (`out`, or the report's staging folder).
pub fn page(
    out: &Path,
    figures_base: &Path,
    record: &BatchRecord,
    risk: &BatchRisk,
    figs: &FigureSet,
    rankings: &[super::ranking::Ranking],
) -> Result<String> {
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>Batch report: {}</title><style>{STYLE}</style></head>\n<body>\n",
        esc(&record.name)
    );
    let _ = writeln!(
        s,
        "<header><h1>Batch report: {}</h1><p>{}</p><p class=\"small\" style=\"color:#dde\">Batch file {} (FNV-1a {}); {} scenarios; Monte Carlo {} samples, seed {}.</p></header>",
        esc(&record.name),
        esc(&record.description),
        esc(&record.batch_file),
        esc(&record.batch_hash),
        record.scenarios.len(),
        record.monte_carlo.samples,
        record.monte_carlo.seed
    );
    s.push_str("<nav><a href=\"#summary\">Summary</a>");
    let has = |sec: Section| {
        figs.figures.iter().any(|f| f.section == sec) || figs.notes.iter().any(|n| n.0 == sec)
    };
    for sec in Section::ALL {
        if has(sec) {
            let _ = write!(s, "<a href=\"#{}\">{}</a>", sec.slug(), sec.title());
            if sec == Section::Scores {
                s.push_str("<a href=\"#groups\">Groups table</a>");
            }
        }
    }
    s.push_str("<a href=\"#method\">Method and data</a></nav>\n");

    // Plausibility warnings first: what an engineer would disprove at a glance.
    if record
        .scenarios
        .iter()
        .any(|e| e.kind == ScenarioKind::Flood)
    {
        let found = super::plausibility_warnings(out, record);
        s.push_str("<section id=\"plausibility\"><h2>Plausibility warnings</h2>\n");
        if found.is_empty() {
            s.push_str(
                "<p>The plausibility guard found nothing to warn of in the flood runs.</p>\n",
            );
        } else {
            s.push_str("<ul>\n");
            for (id, f) in &found {
                let _ = writeln!(
                    s,
                    "<li><b>{}</b> [{}] {}, {}: {}</li>",
                    esc(f.severity.label()),
                    esc(&f.check),
                    esc(id),
                    esc(&f.place),
                    esc(&f.reason)
                );
            }
            s.push_str("</ul>\n");
        }
        s.push_str("</section>\n");
    }

    // Summary.
    s.push_str("<section id=\"summary\"><h2>Summary</h2>\n<table><thead><tr><th class=\"t\">scenario</th><th class=\"t\">kind</th><th>return period (yr)</th><th class=\"t\">system</th><th class=\"t\">run</th><th class=\"t\">outcome</th></tr></thead><tbody>\n");
    for e in &record.scenarios {
        let done = read_manifest(&out.join("runs").join(&e.id)).is_some();
        let r = run_json(out, &e.id);
        let f = |k: &str| {
            r.as_ref()
                .and_then(|r| r.get(k))
                .and_then(|v| v.as_f64())
                .map(num)
                .unwrap_or_default()
        };
        let _ = writeln!(
            s,
            "<tr><td class=\"t\">{}</td><td class=\"t\">{}</td><td>{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td></tr>",
            esc(&e.id),
            e.kind.as_str(),
            e.return_period_yr.map(|t| format!("{t}")).unwrap_or_default(),
            esc(e.system.as_deref().unwrap_or("")),
            if done { "done" } else { "missing" },
            esc(&outcome(e.kind, r.as_ref(), &f)),
        );
    }
    s.push_str("</tbody></table>\n");
    let mut totals: Vec<&super::GroupRisk> = risk
        .groups
        .iter()
        .filter(|g| g.system == "total" && g.metric == HEADLINE_METRIC)
        .collect();
    totals.sort_by(|a, b| b.eae.total_cmp(&a.eae).then(a.group_id.cmp(&b.group_id)));
    if !totals.is_empty() {
        s.push_str("<h3>Largest expected annual flood exposure</h3><p class=\"small\">Persons per year on cells deeper than 0.5 m, summed over the river systems; the full table is in <code>risk.csv</code>.</p><table><thead><tr><th class=\"t\">group</th><th class=\"t\">name</th><th class=\"t\">kind</th><th>EAE (persons/yr)</th><th>EAE, no rare tail</th></tr></thead><tbody>\n");
        for g in totals.iter().take(12) {
            let _ = writeln!(
                s,
                "<tr><td class=\"t\">{}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td>{}</td><td>{}</td></tr>",
                esc(&g.group_id),
                esc(&g.name),
                esc(&g.kind),
                num(g.eae),
                num(g.eae_no_tail)
            );
        }
        s.push_str("</tbody></table>\n");
    }
    if !risk.quakes.is_empty() {
        s.push_str("<h3>Earthquakes</h3><table><thead><tr><th class=\"t\">scenario</th><th>Ms</th><th>largest median PGA (g)</th><th>persons ≥ 0.10 g</th><th>persons ≥ 0.20 g</th><th>annual rate (1/yr)</th></tr></thead><tbody>\n");
        for q in &risk.quakes {
            let o = |v: Option<f64>, d: usize| {
                v.map(|x| format!("{x:.d$}")).unwrap_or_else(|| "–".into())
            };
            let _ = writeln!(
                s,
                "<tr><td class=\"t\">{}</td><td>{}</td><td>{}</td><td>{:.0}</td><td>{:.0}</td><td>{}</td></tr>",
                esc(&q.id),
                o(q.magnitude_ms, 1),
                o(q.max_median_pga_g, 3),
                q.persons_ge_0p10g,
                q.persons_ge_0p20g,
                q.annual_rate.map(|r| format!("{r:.2e}")).unwrap_or_else(|| "–".into())
            );
        }
        s.push_str("</tbody></table>\n");
    }
    for r in rankings {
        let _ = writeln!(
            s,
            "<h3>Top and bottom groups: {}</h3><p class=\"small\">{} groups ranked; {} counties left out (no census count, or mostly off the grid or outside the river systems). Full table: <code>ranking.md</code>.</p><table><thead><tr><th class=\"t\"></th><th class=\"t\">group</th><th class=\"t\">kind</th><th>residents</th><th>score p50</th><th>p05–p95</th><th class=\"t\">drivers (points lost)</th><th class=\"t\">run</th></tr></thead><tbody>",
            esc(&r.title),
            r.ranked,
            r.excluded
        );
        let rows = r
            .top
            .iter()
            .enumerate()
            .map(|(k, g)| (format!("top {}", k + 1), g))
            .chain(
                r.bottom
                    .iter()
                    .enumerate()
                    .map(|(k, g)| (format!("bottom {}", k + 1), g)),
            );
        for (label, g) in rows {
            let _ = writeln!(
                s,
                "<tr><td class=\"t\">{label}</td><td class=\"t\">{}</td><td class=\"t\">{}</td><td>{:.0}</td><td>{:.1}</td><td>{:.1}–{:.1}</td><td class=\"t\">{}</td><td class=\"t\">{}</td></tr>",
                esc(&g.name),
                esc(&g.kind),
                g.population,
                g.score_p50,
                g.score_p05,
                g.score_p95,
                esc(&g.drivers),
                esc(&g.run)
            );
        }
        s.push_str("</tbody></table>\n");
    }
    if !risk.gaps.is_empty() {
        s.push_str("<h3>Gaps</h3><ul>");
        for g in &risk.gaps {
            let _ = write!(s, "<li>{}</li>", esc(g));
        }
        s.push_str("</ul>\n");
    }
    s.push_str("</section>\n");

    // Figure sections, the group table after the score maps.
    for sec in Section::ALL {
        if !has(sec) {
            continue;
        }
        let _ = writeln!(s, "<section id=\"{}\"><h2>{}</h2>", sec.slug(), sec.title());
        let intro = match sec {
            Section::Scores => "Median (p50) resilience score of each county per scenario, 0 (least resilient) to 100; the named groups are in the table below.",
            Section::Depth => "Largest water depth reached in each cell over the run, in classes; the 0.5 m class bound is the exposure threshold of the risk tables.",
            Section::Pga => "Median peak ground acceleration over the realisations, in the classes of the GB 18306-2015 zone values.",
            Section::Hydrographs => "Discharge at the named gauges of each flood.",
            Section::Storage => "Reservoirs: change of stored water since the start of the run; detention basins: stored volume. Structures whose storage does not move are left out.",
            Section::Risk => "Exposure (persons on cells deeper than 0.5 m) against return period for the groups with the largest expected annual exposure in each river system; one point per design event.",
        };
        let _ = writeln!(s, "<p class=\"small\">{intro}</p>");
        s.push_str("<div class=\"figs\">\n");
        for f in figs.figures.iter().filter(|f| f.section == sec) {
            s.push_str(&figure_html(figures_base, f)?);
        }
        s.push_str("</div>\n");
        for (_, n) in figs.notes.iter().filter(|n| n.0 == sec) {
            let _ = writeln!(s, "<p class=\"note\">Not drawn: {}</p>", esc(n));
        }
        s.push_str("</section>\n");
        if sec == Section::Scores {
            s.push_str(&groups_section(out, record)?);
        }
    }
    if !has(Section::Scores) {
        s.push_str(&groups_section(out, record)?);
    }

    s.push_str("<section id=\"method\"><h2>Method and data</h2><ul>\n");
    for m in METHOD {
        let _ = writeln!(s, "<li>{}</li>", esc(m));
    }
    for m in &risk.method {
        let _ = writeln!(s, "<li>{}</li>", esc(m));
    }
    s.push_str("</ul><p class=\"small\">Sources of every dataset: <code>rasters/SOURCES.md</code>; the figures' text uses DejaVu Sans (Bitstream Vera licence).</p></section>\n");
    let _ = write!(s, "<script>{SCRIPT}</script>\n</body></html>\n");
    Ok(s)
}

fn groups_section(out: &Path, record: &BatchRecord) -> Result<String> {
    let mut s = String::from("<section id=\"groups\"><h2>Groups and their scores</h2>\n");
    let scored: Vec<(&str, std::path::PathBuf)> = record
        .scenarios
        .iter()
        .filter_map(|e| {
            let d = super::figures::scores_dir(out, &e.id)?;
            d.join("scores.csv")
                .exists()
                .then_some((e.id.as_str(), d.join("scores.csv")))
        })
        .collect();
    if scored.is_empty() {
        s.push_str("<p class=\"note\">No scenario of this batch was scored (scores are computed for runs with exposure tables).</p></section>\n");
        return Ok(s);
    }
    s.push_str("<p class=\"small\">Click a heading to sort. Score p05–p95: the Monte Carlo range; rank 1 = most resilient; sub-scores are medians; drivers are the indicators that cost the most points. Scenario: <select id=\"score-run\">");
    for (id, _) in &scored {
        let _ = write!(s, "<option value=\"{0}\">{0}</option>", esc(id));
    }
    s.push_str("</select></p>\n");
    for (k, (id, p)) in scored.iter().enumerate() {
        let table = match score_table(p) {
            Ok(t) => t,
            Err(e) => format!("<p class=\"note\">{}</p>", esc(&e.to_string())),
        };
        let _ = writeln!(
            s,
            "<div class=\"score-table scroll\" data-run=\"{}\"{}>{table}</div>",
            esc(id),
            if k == 0 { "" } else { " hidden" }
        );
    }
    s.push_str("</section>\n");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors_and_round_trip() {
        // RFC 4648 §10 test vectors.
        for (plain, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes()), enc);
            assert_eq!(base64_decode(enc).unwrap(), plain.as_bytes());
        }
        let bytes: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        assert_eq!(base64_decode(&base64_encode(&bytes)).unwrap(), bytes);
        assert!(base64_decode("Zm9").is_none());
        assert!(base64_decode("Zm9*").is_none());
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(esc("北三河"), "北三河");
    }
}
