//! `report.html` and the figures of a batch: a batch output made by hand on a 30 × 40
//! grid of 1000 m cells (two floods of one system, one earthquake, scores of one run,
//! hydrographs and storage curves, one flood without structures.csv), with its own
//! model folder (counties.tif, sea.tif) for the outlines. Checks that the page is
//! self-contained (no network references, every image a data URI that decodes to the
//! PNG written under figures/ with the size the layout gives), that missing inputs
//! become notes, that report.md links the figures, and, where Debian's chromium is
//! installed, that headless Chromium loads every image (scripts/screenshot-report.sh).

use haihe::scenario::batch::BatchRecord;
use haihe::{GeoTransform, Grid};
use ndarray::Array2;
use std::path::{Path, PathBuf};

const ROWS: usize = 30;
const COLS: usize = 40;

fn tmp(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("report-html-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn grid<T: Copy>(a: Array2<T>, nodata: Option<f64>) -> Grid<T> {
    let t = GeoTransform {
        x0: 400000.0,
        dx: 1000.0,
        y0: 4400000.0,
        dy: -1000.0,
    };
    Grid::new(a, t, haihe::grid::io::epsg_wkt(32650).unwrap(), nodata)
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn manifest(dir: &Path, id: &str, kind: &str) {
    write(
        &dir.join("manifest.json"),
        &format!(
            r#"{{"id":"{id}","kind":"{kind}","scenario_file":null,"scenario_hash":"0","code_version":"t","finished_utc":"t","wall_seconds":0.0,"files":[]}}"#
        ),
    );
}

/// The hand-made batch output and model folder; returns (record, out, root).
fn fixture(d: &Path) -> (BatchRecord, PathBuf, PathBuf) {
    let root = d.join("root");
    let model = root.join("rasters/model");
    std::fs::create_dir_all(&model).unwrap();
    // Two counties split at column 20; the last 5 columns are sea.
    let counties =
        Array2::from_shape_fn((ROWS, COLS), |(_, c)| if c < 20 { 110101 } else { 110102 });
    haihe::grid::io::write_geotiff(&grid(counties, Some(0.0)), &model.join("counties.tif"))
        .unwrap();
    let sea = Array2::from_shape_fn((ROWS, COLS), |(_, c)| u8::from(c >= 35));
    haihe::grid::io::write_geotiff(&grid(sea, None), &model.join("sea.tif")).unwrap();

    let out = d.join("out");
    let record: BatchRecord = serde_json::from_value(serde_json::json!({
        "name": "hand-made", "batch_file": "x.toml", "batch_hash": "0",
        "description": "两场洪水和一次地震 (two floods and an earthquake)",
        "monte_carlo": {"samples": 1, "seed": 1}, "ensemble": null,
        "scenarios": [
            {"id": "flood-a", "kind": "flood", "file": "a.toml", "return_period_yr": 10.0, "system": "北三河"},
            {"id": "flood-b", "kind": "flood", "file": "b.toml", "return_period_yr": 100.0, "system": "北三河"},
            {"id": "quake-x", "kind": "quake", "file": "q.toml"}
        ]
    }))
    .unwrap();
    for (id, scale, persons) in [("flood-a", 1.0f32, 100.0), ("flood-b", 3.0, 1000.0)] {
        let run = out.join("runs").join(id);
        manifest(&run, id, "flood");
        let depth = Array2::from_shape_fn((ROWS, COLS), |(r, c)| {
            if r == 0 && c == 0 {
                f32::NAN
            } else {
                scale * (c as f32 / COLS as f32) * (1.0 + r as f32 / 10.0)
            }
        });
        haihe::grid::io::write_geotiff(&grid(depth, Some(f64::NAN)), &run.join("max_depth.tif"))
            .unwrap();
        write(
            &run.join("exposure_population.csv"),
            &format!("group_id,name,kind,population,pop_depth_gt_0p15m,pop_depth_gt_0p5m,pop_depth_gt_1p5m\ncounty-110101,东城区,county,5000,{},{persons},0\ncounty-110102,西城区,county,4000,10,5,0\n", persons * 2.0),
        );
        write(
            &run.join("hydrographs.csv"),
            &format!("time_h,密云水库 discharge_m3s,密云水库 stage_m,outlet discharge_m3s,outlet stage_m\n0,0,40,0,10\n1,{},41,5,10.5\n2,{},42,8,11\n3,20,41,4,10.2\n", 50.0 * scale, 80.0 * scale),
        );
        write(&run.join("run.json"), r#"{"max_depth_m": 3.0}"#);
    }
    // Storage of flood-a only: one reservoir that fills, one that does not move, one basin.
    write(
        &out.join("runs/flood-a/structures.csv"),
        "time_h,works_storage_1e8_m3,密云 inflow_m3s,密云 release_m3s,密云 storage_1e8_m3,密云 level_m,怀柔 storage_1e8_m3,宋庄蓄滞洪区 inflow_m3s,宋庄蓄滞洪区 drain_m3s,宋庄蓄滞洪区 volume_1e8_m3\n0,1,0,0,20.0,140,0.5,0,0,0\n1,1,5,0,20.5,141,0.5,3,0,0.1\n2,1,9,1,21.5,142,0.5,2,0,0.3\n",
    );
    let q = out.join("runs/quake-x");
    manifest(&q, "quake-x", "quake");
    let pga = Array2::from_shape_fn((ROWS, COLS), |(r, c)| {
        0.5 * (-((r as f32 - 15.0).powi(2) + (c as f32 - 10.0).powi(2)) / 80.0).exp()
    });
    let pga = grid(pga, Some(f64::NAN));
    haihe::grid::io::write_geotiff_bands(&[("median", &pga), ("p50", &pga)], &q.join("pga.tif"))
        .unwrap();
    let cols = haihe::exposure::class_columns(&haihe::exposure::PGA_CLASSES_G, "g");
    write(
        &q.join("exposure.csv"),
        &format!(
            "statistic,group_id,name,kind,persons_total,{}\nmedian,county-110101,东城区,county,5000,{}\n",
            cols.join(","),
            (0..cols.len()).map(|k| if k == 4 { "5000" } else { "0" }).collect::<Vec<_>>().join(",")
        ),
    );
    write(
        &q.join("run.json"),
        r#"{"max_median_pga_g": 0.5, "source": {"ms": 7.0}}"#,
    );
    // Scores of quake-x: scores.csv only (the map is painted on counties.tif).
    let header = haihe::resilience::output::scores_header().join(",");
    let n = header.split(',').count();
    let row = |id: &str, name: &str, p50: &str| {
        let mut v = vec![String::new(); n];
        let h: Vec<&str> = header.split(',').collect();
        let set = |v: &mut Vec<String>, k: &str, x: &str| {
            let i = h.iter().position(|c| *c == k).unwrap();
            v[i] = x.to_string();
        };
        set(&mut v, "id", id);
        set(&mut v, "name", name);
        set(&mut v, "kind", "county");
        set(&mut v, "population", "5000");
        set(&mut v, "score_p05", "10.00");
        set(&mut v, "score_p50", p50);
        set(&mut v, "score_p95", "90.00");
        set(&mut v, "drivers", "pop_safe_quake (-20.0); \"quoted\" <b>");
        v.join(",")
    };
    write(
        &out.join("scores/quake-x/scores.csv"),
        &format!(
            "{header}\n{}\n{}\n",
            row("county-110101", "东城区", "25.00"),
            row("county-110102", "西城区", "75.00")
        ),
    );
    // A figure of an earlier report, to be removed.
    write(&out.join("figures/stale.png"), "old");
    (record, out, root)
}

/// The `<img …>` tags of a page.
fn img_tags(html: &str) -> Vec<&str> {
    html.match_indices("<img ")
        .map(|(i, _)| &html[i..i + html[i..].find('>').unwrap()])
        .collect()
}

fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
    let k = format!("{name}=\"");
    let i = tag
        .find(&k)
        .unwrap_or_else(|| panic!("no {name} in {}", &tag[..80.min(tag.len())]))
        + k.len();
    &tag[i..i + tag[i..].find('"').unwrap()]
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    (reader.info().width, reader.info().height)
}

#[test]
fn the_html_report_is_self_contained_and_its_images_load() {
    let d = tmp("main");
    let (record, out, root) = fixture(&d);
    let written = haihe::report::write_batch_report(&out, &record, &root).unwrap();
    assert!(written.iter().any(|p| p.ends_with("report.html")));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();

    // Nothing from the network.
    for bad in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "url(http",
        "@import",
    ] {
        assert!(!html.contains(bad), "{bad} in the page");
    }
    assert!(!html.contains("<link") && !html.contains("<script src"));

    // Every image is an embedded PNG equal to the file under figures/, with the size
    // of its layout. The map: 40 × 30 cells at min(760/40, 620/30, 24) = 19 px per
    // cell = 760 × 570 px, plus 20 + 20 + 170 px across and 62 + 64 px down.
    let tags = img_tags(&html);
    // score (1), depth (2), PGA (1), hydrographs (2), storage (1), risk (1).
    assert_eq!(tags.len(), 8, "{tags:?}");
    let mut sizes = Vec::new();
    for t in &tags {
        let src = attr(t, "src");
        let b64 = src
            .strip_prefix("data:image/png;base64,")
            .unwrap_or_else(|| panic!("not a data URI: {}", &src[..40.min(src.len())]));
        let bytes = haihe::report::html::base64_decode(b64).expect("valid base64");
        let (w, h) = png_size(&bytes);
        assert_eq!(attr(t, "width"), w.to_string());
        assert_eq!(attr(t, "height"), h.to_string());
        sizes.push((attr(t, "alt").to_string(), (w, h)));
    }
    let size_of = |alt: &str| {
        sizes
            .iter()
            .find(|s| s.0 == alt)
            .unwrap_or_else(|| panic!("{alt}: {sizes:?}"))
            .1
    };
    assert_eq!(size_of("Median resilience score: quake-x"), (970, 696));
    assert_eq!(size_of("Maximum depth: flood-a"), (970, 696));
    assert_eq!(size_of("Median PGA: quake-x"), (970, 696));
    assert_eq!(size_of("Hydrographs: flood-b"), (900, 400));
    // Two panels: the reservoir that fills (怀柔 never moves and is left out) and the basin.
    assert_eq!(size_of("Storage: flood-a"), (900, 800));
    assert_eq!(size_of("Exceedance curves: 北三河"), (900, 400));

    // The PNGs on disk, linked from report.md; the stale one is gone.
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    let mut pngs: Vec<String> = std::fs::read_dir(out.join("figures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    pngs.sort();
    assert_eq!(
        pngs,
        [
            "depth-flood-a.png",
            "depth-flood-b.png",
            "hydro-flood-a.png",
            "hydro-flood-b.png",
            "pga-quake-x.png",
            "risk-system1.png",
            "score-quake-x.png",
            "storage-flood-a.png"
        ]
    );
    for p in &pngs {
        assert!(
            md.contains(&format!("](figures/{p})")),
            "{p} not linked:\n{md}"
        );
        let bytes = std::fs::read(out.join("figures").join(p)).unwrap();
        let b64 = haihe::report::html::base64_encode(&bytes);
        assert!(html.contains(&b64), "{p} is not the embedded image");
    }
    // Non-ASCII names are keys in the captions; the missing structures.csv is a note.
    assert!(html.contains("<b>G1</b> 密云水库"), "gauge key missing");
    assert!(md.contains("G1 = 密云水库"));
    assert!(html.contains("Not drawn: flood-b: no structures.csv"));
    assert!(md.contains("not drawn: flood-b: no structures.csv"));

    // Map pixels: the score map paints 25 on the west county and 75 on the east one
    // (viridis), the sea in its own colour, and outlines between them.
    let score = std::fs::read(out.join("figures/score-quake-x.png")).unwrap();
    let mut r = png::Decoder::new(std::io::Cursor::new(score))
        .read_info()
        .unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    r.next_frame(&mut buf).unwrap();
    let px = |x: u32, y: u32| {
        let i = 3 * (y as usize * 970 + x as usize);
        [buf[i], buf[i + 1], buf[i + 2]]
    };
    use haihe::report::figures::{ramp_colour, Ramp, OUTLINE, SEA};
    let (x0, y0, s) = (20, 62, 19);
    assert_eq!(
        px(x0 + 5 * s, y0 + 10 * s),
        ramp_colour(Ramp::Viridis, 0.25)
    );
    assert_eq!(
        px(x0 + 25 * s, y0 + 10 * s),
        ramp_colour(Ramp::Viridis, 0.75)
    );
    assert_eq!(px(x0 + 38 * s, y0 + 10 * s), SEA);
    assert_eq!(px(x0 + 20 * s - 1, y0 + 10 * s), OUTLINE);

    // The group table: sortable, escaped, one row per group.
    assert!(html.contains("<table class=\"sortable\">"));
    assert!(html.contains("&quot;quoted&quot; &lt;b&gt;"));
    assert!(html.contains("<td class=\"t\">西城区</td>"));
    assert!(html.contains("data-images-loaded"));

    // Headless Chromium: every image loads without network.
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        let msg = "chromium not installed: the browser check is skipped (scripts/install-deps.sh installs it)";
        if std::env::var("HAIHE_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!("HAIHE_REQUIRE_CHROMIUM=1 but {msg}");
        }
        eprintln!("{msg}");
        return;
    }
    let shot = d.join("shot.png");
    let o = std::process::Command::new("bash")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/screenshot-report.sh"))
        .arg(out.join("report.html"))
        .arg(&shot)
        .args(["1200", "1600"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(o.status.success(), "{text}");
    assert!(text.contains("images loaded: 8, failed: 0"), "{text}");
    assert_eq!(png_size(&std::fs::read(&shot).unwrap()), (1200, 1600));
}

#[test]
fn the_screenshot_script_fails_on_a_broken_image() {
    if !Path::new("/usr/bin/chromium").exists() {
        if std::env::var("HAIHE_REQUIRE_CHROMIUM").as_deref() == Ok("1") {
            panic!("HAIHE_REQUIRE_CHROMIUM=1 but chromium is not installed");
        }
        eprintln!("chromium not installed: skipped");
        return;
    }
    let d = tmp("broken");
    let page = d.join("broken.html");
    // The page's own check script, with one image that cannot decode.
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><img src=\"data:image/png;base64,AAAA\"><script>window.addEventListener('load',function(){var ok=0,bad=0;Array.prototype.forEach.call(document.images,function(im){if(im.complete&&im.naturalWidth>0)ok++;else bad++;});document.body.setAttribute('data-images-loaded',String(ok));document.body.setAttribute('data-images-failed',String(bad));});</script></body></html>",
    )
    .unwrap();
    let o = std::process::Command::new("bash")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/screenshot-report.sh"))
        .arg(&page)
        .arg(d.join("shot.png"))
        .args(["400", "300"])
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{text}");
    assert!(text.contains("failed: 1"), "{text}");
}

#[test]
fn scores_of_a_single_scored_run_sit_in_scores_itself() {
    // `haihe score` with one run directory writes scores.csv/json/tif into scores/.
    let d = tmp("single");
    let (record, out, root) = fixture(&d);
    let sub = out.join("scores/quake-x");
    std::fs::rename(sub.join("scores.csv"), out.join("scores/scores.csv")).unwrap();
    std::fs::remove_dir(&sub).unwrap();
    write(
        &out.join("scores/scores.json"),
        r#"{"scenario": {"scenario": "x", "run_dir": "out/runs/quake-x"}}"#,
    );
    haihe::report::write_batch_report(&out, &record, &root).unwrap();
    assert!(out.join("figures/score-quake-x.png").exists());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<option value=\"quake-x\">quake-x</option>"));
    assert!(html.contains("<td class=\"t\">西城区</td>"));
}
