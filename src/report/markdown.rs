//! `report.md`: the batch, each run's key numbers, the risk table and the method and
//! data limits, as Markdown. Deterministic (no clock), so merged shards and one
//! unsharded batch give the same text.

use super::{BatchRisk, GroupRisk, HEADLINE_METRIC};
use crate::scenario::batch::{read_manifest, BatchRecord, ScenarioKind};
use std::fmt::Write;
use std::path::Path;

/// Counties shown in the risk table besides the named groups (largest total first).
pub const TOP_COUNTIES: usize = 15;

/// Text from users' files (names, descriptions, places) made inert in Markdown: no raw
/// HTML, no Markdown markup, no line breaks ([`crate::escape::md_text`]).
fn cell(s: &str) -> String {
    crate::escape::md_text(s)
}

/// A number with the digits a table needs: none from 100, one from 1, three below.
pub(crate) fn num(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

fn run_json(out: &Path, id: &str) -> Option<serde_json::Value> {
    let p = out.join("runs").join(id).join("run.json");
    serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
}

/// The whole report as Markdown.
pub fn report(out: &Path, record: &BatchRecord, risk: &BatchRisk) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Batch report: {}\n", cell(&record.name));
    if !record.description.is_empty() {
        let _ = writeln!(s, "{}\n", cell(&record.description));
    }
    let _ = writeln!(
        s,
        "Batch file {} (FNV-1a {}); {} scenarios; Monte Carlo {} samples (seed {}){}.\n",
        crate::escape::md_code(&record.batch_file),
        record.batch_hash,
        record.scenarios.len(),
        record.monte_carlo.samples,
        record.monte_carlo.seed,
        record
            .ensemble
            .map(|e| format!(
                "; flood ensemble of {} members (seed {}) requested",
                e.members, e.seed
            ))
            .unwrap_or_default()
    );

    if record
        .scenarios
        .iter()
        .any(|e| e.kind == ScenarioKind::Flood)
    {
        let _ = writeln!(s, "## Plausibility warnings\n");
        let found = super::plausibility_warnings(out, record);
        if found.is_empty() {
            let _ = writeln!(
                s,
                "The plausibility guard found nothing to warn of in the flood runs.\n"
            );
        }
        for (id, f) in &found {
            let _ = writeln!(
                s,
                "- **{}** `{}` {}, {}: {}",
                f.severity.label(),
                f.check,
                cell(id),
                cell(&f.place),
                cell(&f.reason)
            );
        }
        if !found.is_empty() {
            s.push('\n');
        }
    }

    let _ = writeln!(s, "## Scenarios\n");
    let _ = writeln!(
        s,
        "| id | kind | file or parts | return period (yr) | system | run |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for e in &record.scenarios {
        let what = match e.kind {
            ScenarioKind::Combined => cell(&format!(
                "{} + {}",
                e.flood.as_deref().unwrap_or("?"),
                e.quake.as_deref().unwrap_or("?")
            )),
            _ => e
                .file
                .as_ref()
                .map(|f| crate::escape::md_code(&f.display().to_string()))
                .unwrap_or_default(),
        };
        let status = if read_manifest(&out.join("runs").join(&e.id)).is_some() {
            "done"
        } else {
            "missing"
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            cell(&e.id),
            e.kind.as_str(),
            what,
            e.return_period_yr
                .map(|t| format!("{t}"))
                .unwrap_or_default(),
            cell(e.system.as_deref().unwrap_or("")),
            status
        );
    }

    let floods: Vec<_> = record
        .scenarios
        .iter()
        .filter(|e| e.kind == ScenarioKind::Flood)
        .collect();
    if !floods.is_empty() {
        let _ = writeln!(s, "\n## Floods\n");
        let _ = writeln!(s, "| id | largest depth on land (m) | mass-balance error | peak discharge at gauges | detention basins | breaches |");
        let _ = writeln!(s, "|---|---|---|---|---|---|");
        for e in floods {
            let Some(r) = run_json(out, &e.id) else {
                let _ = writeln!(s, "| {} | – | – | no run | | |", cell(&e.id));
                continue;
            };
            let f = |k: &str| r.get(k).and_then(|v| v.as_f64());
            let list = |k: &str, fmt: &dyn Fn(&serde_json::Value) -> Option<String>| -> String {
                r.get(k)
                    .and_then(|v| v.as_array())
                    .map(|a| a.iter().filter_map(fmt).collect::<Vec<_>>().join("; "))
                    .unwrap_or_default()
            };
            let peaks = list("gauge_peaks", &super::gauge_peak_words);
            let opened = |k: &str, verb: &str| {
                list(k, &|g| {
                    let name = g.get(0)?.as_str()?;
                    Some(match g.get(1).and_then(|t| t.as_f64()) {
                        Some(t) => format!("{name} {verb} at {t:.1} h"),
                        None => format!("{name} stayed shut"),
                    })
                })
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                cell(&e.id),
                f("max_depth_m").map(num).unwrap_or_default(),
                f("relative_mass_error")
                    .map(|v| format!("{v:.1e}"))
                    .unwrap_or_default(),
                cell(&peaks),
                cell(&opened("basin_openings_h", "opened")),
                cell(&opened("breach_starts_h", "breached").replace("stayed shut", "held")),
            );
        }
    }

    if !risk.quakes.is_empty() {
        let _ = writeln!(s, "\n## Earthquakes\n");
        let _ = writeln!(s, "Residents of the counties at the median PGA (GB 18306-2015 zone values as class bounds).\n");
        let _ = writeln!(s, "| id | Ms | largest median PGA (g) | largest median PGV (cm/s) | persons ≥ 0.10 g | persons ≥ 0.20 g | annual rate (1/yr) | expected persons ≥ 0.20 g per yr |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
        for q in &risk.quakes {
            let o =
                |v: Option<f64>, f: &dyn Fn(f64) -> String| v.map(f).unwrap_or_else(|| "–".into());
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {:.0} | {:.0} | {} | {} |",
                cell(&q.id),
                o(q.magnitude_ms, &|v| format!("{v:.1}")),
                o(q.max_median_pga_g, &|v| format!("{v:.3}")),
                o(q.max_median_pgv_cms, &|v| format!("{v:.1}")),
                q.persons_ge_0p10g,
                q.persons_ge_0p20g,
                o(q.annual_rate, &|v| format!("{v:.2e}")),
                o(q.expected_annual_persons_ge_0p20g, &|v| num(v)),
            );
        }
        if risk.quakes.iter().all(|q| q.annual_rate.is_none()) {
            let _ = writeln!(
                s,
                "\nNo annual rates were given: the earthquakes are scenario outcomes, not risk."
            );
        }
    }

    let combined: Vec<_> = record
        .scenarios
        .iter()
        .filter(|e| e.kind == ScenarioKind::Combined)
        .collect();
    if !combined.is_empty() {
        let _ = writeln!(s, "\n## Combined cases\n");
        for e in combined {
            let _ = writeln!(
                s,
                "- {}: flood {} with earthquake {} on the same networks",
                cell(&e.id),
                cell(e.flood.as_deref().unwrap_or("?")),
                cell(e.quake.as_deref().unwrap_or("?"))
            );
        }
    }

    let _ = writeln!(s, "\n## Flood risk: expected annual exposure\n");
    for (sys, ev) in &risk.systems {
        let _ = writeln!(
            s,
            "- {}: {}",
            cell(sys),
            cell(
                &ev.iter()
                    .map(|e| format!("{} ({} yr)", e.id, e.return_period_yr))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        );
    }
    let totals: Vec<&GroupRisk> = risk
        .groups
        .iter()
        .filter(|g| g.system == "total" && g.metric == HEADLINE_METRIC)
        .collect();
    if totals.is_empty() {
        let _ = writeln!(s, "\nNo flood risk could be computed (see the gaps below).");
    } else {
        let systems: Vec<&String> = risk.systems.keys().collect();
        let _ = writeln!(
            s,
            "\nPersons per year on cells deeper than 0.5 m (`{HEADLINE_METRIC}`): the named groups, then the {TOP_COUNTIES} counties with the largest total. Every group, metric and return period is in `risk.csv`; the curves are in `risk.json`.\n"
        );
        let mut head = String::from("| group | kind |");
        let mut rule = String::from("|---|---|");
        for sys in &systems {
            let _ = write!(head, " {} |", cell(sys));
            rule.push_str("---|");
        }
        head.push_str(" total | total, no rare tail |");
        rule.push_str("---|---|");
        let _ = writeln!(s, "{head}\n{rule}");
        let mut named: Vec<&&GroupRisk> = totals.iter().filter(|g| g.kind != "county").collect();
        named.sort_by(|a, b| b.eae.total_cmp(&a.eae).then(a.group_id.cmp(&b.group_id)));
        let mut counties: Vec<&&GroupRisk> = totals.iter().filter(|g| g.kind == "county").collect();
        counties.sort_by(|a, b| b.eae.total_cmp(&a.eae).then(a.group_id.cmp(&b.group_id)));
        counties.truncate(TOP_COUNTIES);
        for g in named.into_iter().chain(counties) {
            let mut line = format!("| {} | {} |", cell(&g.name), cell(&g.kind));
            for sys in &systems {
                let v = risk
                    .groups
                    .iter()
                    .find(|r| {
                        r.group_id == g.group_id && r.metric == HEADLINE_METRIC && r.system == **sys
                    })
                    .map(|r| num(r.eae))
                    .unwrap_or_else(|| "–".into());
                let _ = write!(line, " {v} |");
            }
            let _ = write!(line, " {} | {} |", num(g.eae), num(g.eae_no_tail));
            let _ = writeln!(s, "{line}");
        }
    }
    if !risk.exposure_sources.is_empty() {
        let mut by: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
        for (id, src) in &risk.exposure_sources {
            by.entry(src.as_str()).or_default().push(id);
        }
        let _ = writeln!(
            s,
            "\nExposure sources: {}.",
            cell(
                &by.iter()
                    .map(|(k, v)| format!("{k} ({})", v.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        );
    }
    if !risk.gaps.is_empty() {
        let _ = writeln!(s, "\n### Gaps\n");
        for g in &risk.gaps {
            let _ = writeln!(s, "- {}", cell(g));
        }
    }

    let _ = writeln!(s, "\n## Method and limits\n");
    for line in [
        "Risk: the exposure of each design event is a point of its system's exceedance curve at p = 1/T; the expected annual exposure is the area under it by the trapezoid rule, zero for events more frequent than the most frequent one modelled, and the rarest event's value held down to p = 0 (`total`) or nothing beyond it (`no rare tail`); the two bracket the unknown tail. Systems add. (Hazus average annualised loss; CLIMADA expected annual impact.)",
        "Exposure is counted on 1000 m cells: a cell's residents count as exposed when the cell's maximum depth passes the threshold, including cells whose depth is the river itself; exposure is therefore an upper estimate of persons in flooded places, not of persons harmed.",
        "Design storms use placeholder rainfall statistics (models/design_rain.toml) until the authority's storm atlas replaces them; each system is rained on alone, so the risk of one storm over two systems at once is not represented.",
        "The terrain is a 2′ DEM resampled to 1000 m: embankments, channels and urban drainage narrower than a cell are not resolved; reservoirs, detention basins and breaches are modelled as lumped structures.",
        "Earthquakes: the Yu et al. (2013) model without site terms; the PGA maps are medians and percentiles of one ε per realisation, and scenario earthquakes carry no annual rate unless the batch gives one.",
    ] {
        let _ = writeln!(s, "- {line}");
    }
    s
}

/// The figures as Markdown image links (`figures/*.png`), by section, with each
/// figure's keys spelt out and a line per figure that could not be drawn.
pub fn figure_links(figs: &super::figures::FigureSet) -> String {
    use super::figures::Section;
    let mut s = String::from("\n## Figures\n\nThe same figures, embedded, are in `report.html`.\n");
    for sec in Section::ALL {
        let mine: Vec<_> = figs.figures.iter().filter(|f| f.section == sec).collect();
        let notes: Vec<_> = figs.notes.iter().filter(|n| n.0 == sec).collect();
        if mine.is_empty() && notes.is_empty() {
            continue;
        }
        let _ = writeln!(s, "\n### {}\n", sec.title());
        for f in mine {
            let _ = writeln!(s, "![{}]({})\n", cell(&f.title), f.file);
            if !f.keys.is_empty() {
                let keys: Vec<String> = f.keys.iter().map(|(k, n)| format!("{k} = {n}")).collect();
                let _ = writeln!(s, "Keys: {}\n", cell(&keys.join("; ")));
            }
        }
        for (_, n) in notes {
            let _ = writeln!(s, "- not drawn: {}", cell(n));
        }
    }
    s
}
