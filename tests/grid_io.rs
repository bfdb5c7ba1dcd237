//! Tests of the georeferenced grid I/O layer: GeoTIFF, CF netCDF (also as GDAL reads
//! it), ASCII grids, warping, cropping, vector layers, rasterisation and `describe`.

use haihe::grid::cf::{read_cf, write_cf, CfSeries};
use haihe::grid::info::describe;
use haihe::grid::io::{
    epsg_wkt, read_raster, read_raster_as, read_raster_band, same_crs, write_geotiff,
    write_geotiff_bands,
};
use haihe::grid::vector::{
    point_in_polygons, polygon_area, rasterize_lines, rasterize_polygons, read_layer, Feature,
    Geometry,
};
use haihe::grid::warp::{
    coverage, crop, crop_to_extent, transform_points, valid_fraction, warp, warp_files, GridSpec,
    Resample,
};
use haihe::{Error, GeoTransform, Grid};
use ndarray::{Array2, Array3};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const DEM_2MIN: &str =
    "/work/shared/data/dem/topo_china_2arcmin/topo_china_2arcmin_haihe_north.tif";

fn utm() -> String {
    epsg_wkt(32650).unwrap()
}

/// A UTM 50N grid with 1000 m cells whose upper-left corner is (400 000, 4 500 000).
fn utm_grid<T>(data: Array2<T>, nodata: Option<f64>) -> Grid<T> {
    let t = GeoTransform {
        x0: 400_000.0,
        dx: 1000.0,
        y0: 4_500_000.0,
        dy: -1000.0,
    };
    Grid::new(data, t, utm(), nodata)
}

/// Values 10*row + col + 0.25, with NaN at (1, 2).
fn sample(rows: usize, cols: usize) -> Array2<f64> {
    let mut a = Array2::from_shape_fn((rows, cols), |(r, c)| 10.0 * r as f64 + c as f64 + 0.25);
    a[[1, 2]] = f64::NAN;
    a
}

/// Equal, with NaN equal to NaN.
fn same_values(a: &Array2<f64>, b: &Array2<f64>) -> bool {
    a.dim() == b.dim()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || x == y)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn geotiff_round_trip_keeps_values_nan_crs_transform() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/grid.tif");
    let g = utm_grid(sample(5, 7), None);
    write_geotiff(&g, &path).unwrap();
    assert_eq!(
        files_in(path.parent().unwrap()),
        vec!["grid.tif"],
        "no temp left"
    );
    let r = read_raster(&path).unwrap();
    assert!(same_values(&g.data, &r.data));
    assert_eq!(r.transform, g.transform);
    assert!(same_crs(&r.crs_wkt, &g.crs_wkt));
    assert!(
        r.nodata.is_some_and(f64::is_nan),
        "NaN no-data: {:?}",
        r.nodata
    );

    // Tiled 256 x 256, DEFLATE compressed.
    let ds = gdal::Dataset::open(&path).unwrap();
    let band = ds.rasterband(1).unwrap();
    assert_eq!(band.block_size(), (256, 256));
    use gdal::Metadata;
    assert_eq!(
        ds.metadata_item("COMPRESSION", "IMAGE_STRUCTURE")
            .as_deref(),
        Some("DEFLATE")
    );
}

#[test]
fn geotiff_f32_with_nodata_value_maps_nan() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f32.tif");
    let a = sample(3, 4).mapv(|v| v as f32);
    let g = utm_grid(a.clone(), Some(-9999.0));
    write_geotiff(&g, &path).unwrap();
    let raw = read_raster_as::<f32>(&path, 1).unwrap();
    assert_eq!(raw.data[[1, 2]], -9999.0);
    assert_eq!(raw.nodata, Some(-9999.0));
    let r = read_raster(&path).unwrap();
    assert!(r.data[[1, 2]].is_nan());
    assert_eq!(r.data[[2, 3]], 23.25);
    assert_eq!(r.nodata, Some(-9999.0));
}

#[test]
fn integer_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codes.tif");
    let a = Array2::from_shape_fn((6, 300), |(r, c)| (r * 1000 + c) as i32 - 7);
    let g = utm_grid(a.clone(), Some(0.0));
    write_geotiff(&g, &path).unwrap();
    let r = read_raster_as::<i32>(&path, 1).unwrap();
    assert_eq!(r.data, a);
    assert_eq!(r.nodata, Some(0.0));
    assert_eq!(r.transform, g.transform);
    let ds = gdal::Dataset::open(&path).unwrap();
    assert_eq!(
        ds.rasterband(1).unwrap().band_type(),
        gdal::raster::GdalDataType::Int32
    );

    let path8 = dir.path().join("u8.tif");
    let b = Array2::from_shape_fn((3, 3), |(r, c)| (r * 3 + c) as u8);
    write_geotiff(&utm_grid(b.clone(), None), &path8).unwrap();
    assert_eq!(read_raster_as::<u8>(&path8, 1).unwrap().data, b);
}

#[test]
fn multiband_geotiff_names_bands_and_checks_alignment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("multi.tif");
    let a = utm_grid(sample(4, 4), None);
    let b = a.with_data(a.data.mapv(|v| v * 2.0), None);
    write_geotiff_bands(&[("depth_m", &a), ("velocity_ms", &b)], &path).unwrap();
    let r2 = read_raster_band(&path, 2).unwrap();
    assert!(same_values(&r2.data, &b.data));
    let ds = gdal::Dataset::open(&path).unwrap();
    use gdal::Metadata;
    assert_eq!(
        ds.rasterband(2).unwrap().description().unwrap(),
        "velocity_ms"
    );
    assert!(read_raster_band(&path, 3).is_err());

    let small = utm_grid(sample(3, 4), None);
    let err = write_geotiff_bands(&[("a", &a), ("b", &small)], &dir.path().join("bad.tif"));
    assert!(matches!(err, Err(Error::Misaligned(_))));
    assert_eq!(
        files_in(dir.path()),
        vec!["multi.tif"],
        "failed write leaves nothing"
    );
}

fn series(rows: usize, cols: usize, crs_wkt: String, t: GeoTransform) -> CfSeries {
    let data = Array3::from_shape_fn((3, rows, cols), |(k, r, c)| {
        if (k, r, c) == (1, 0, 1) {
            f32::NAN
        } else {
            100.0 * k as f32 + 10.0 * r as f32 + c as f32 + 0.5
        }
    });
    CfSeries {
        spec: GridSpec {
            transform: t,
            rows,
            cols,
            crs_wkt,
        },
        times: vec![0.0, 3600.0, 7200.0],
        time_units: "seconds since 2023-07-29 00:00:00".into(),
        name: "rain_mm".into(),
        units: "mm".into(),
        long_name: "hourly rain".into(),
        data,
    }
}

fn utm_transform() -> GeoTransform {
    GeoTransform {
        x0: 412_000.0,
        dx: 1000.0,
        y0: 4_420_000.0,
        dy: -1000.0,
    }
}

fn same_f32(a: &Array3<f32>, b: &Array3<f32>) -> bool {
    a.dim() == b.dim()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || x == y)
}

#[test]
fn netcdf_round_trip_keeps_values_crs_transform_times() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/rain.nc");
    let s = series(4, 5, utm(), utm_transform());
    write_cf(&s, &path).unwrap();
    assert_eq!(files_in(path.parent().unwrap()), vec!["rain.nc"]);
    let r = read_cf(&path, "rain_mm").unwrap();
    assert!(same_f32(&r.data, &s.data));
    assert_eq!(r.spec.transform, s.spec.transform);
    assert_eq!((r.spec.rows, r.spec.cols), (4, 5));
    assert!(same_crs(&r.spec.crs_wkt, &s.spec.crs_wkt));
    assert_eq!(r.times, s.times);
    assert_eq!(r.time_units, s.time_units);
    assert_eq!(
        (r.units.as_str(), r.long_name.as_str()),
        ("mm", "hourly rain")
    );

    // CF metadata that xarray/QGIS rely on.
    let f = netcdf::open(&path).unwrap();
    let text = |v: &str, a: &str| match f.variable(v).unwrap().attribute_value(a).unwrap().unwrap()
    {
        netcdf::AttributeValue::Str(s) => s,
        other => panic!("{v}:{a} is {other:?}"),
    };
    assert_eq!(text("crs", "grid_mapping_name"), "transverse_mercator");
    assert_eq!(text("rain_mm", "grid_mapping"), "crs");
    assert_eq!(text("time", "calendar"), "standard");
    assert_eq!(text("x", "standard_name"), "projection_x_coordinate");
    let cm: f64 = f
        .variable("crs")
        .unwrap()
        .attribute_value("longitude_of_central_meridian")
        .unwrap()
        .unwrap()
        .try_into()
        .unwrap();
    assert_eq!(cm, 117.0);
    match f.attribute("Conventions").unwrap().value().unwrap() {
        netcdf::AttributeValue::Str(s) => assert_eq!(s, "CF-1.8"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn gdal_reads_our_netcdf_with_the_same_georeference() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rain.nc");
    let s = series(4, 5, utm(), utm_transform());
    write_cf(&s, &path).unwrap();
    let sub = PathBuf::from(format!("NETCDF:\"{}\":rain_mm", path.display()));
    for band in 1..=3 {
        let g = read_raster_band(&sub, band).unwrap();
        assert!(
            g.transform.approx_eq(&s.spec.transform),
            "GDAL sees {:?}, written {:?}",
            g.transform,
            s.spec.transform
        );
        assert!(
            same_crs(&g.crs_wkt, &s.spec.crs_wkt),
            "GDAL CRS {}",
            g.crs_wkt
        );
        let layer = s.layer(band - 1).data.mapv(f64::from);
        assert!(
            same_values(&g.data, &layer),
            "band {band}: {:?} vs {:?}",
            g.data,
            layer
        );
    }
    let text = describe(&sub).unwrap();
    assert!(text.contains("EPSG:32650"), "{text}");
}

#[test]
fn geographic_netcdf_round_trip_and_gdal_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("geo.nc");
    let t = GeoTransform {
        x0: 115.0,
        dx: 0.25,
        y0: 41.0,
        dy: -0.25,
    };
    let s = series(3, 4, epsg_wkt(4326).unwrap(), t);
    write_cf(&s, &path).unwrap();
    let r = read_cf(&path, "rain_mm").unwrap();
    assert_eq!(r.spec.transform, t);
    assert!(same_f32(&r.data, &s.data));
    let f = netcdf::open(&path).unwrap();
    assert!(f.variable("lat").is_some() && f.variable("lon").is_some());
    drop(f);
    let g = read_raster(&PathBuf::from(format!(
        "NETCDF:\"{}\":rain_mm",
        path.display()
    )))
    .unwrap();
    assert!(g.transform.approx_eq(&t), "{:?}", g.transform);
    assert!(same_values(&g.data, &s.layer(0).data.mapv(f64::from)));
}

#[test]
fn netcdf_without_time_and_error_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("static.nc");
    let mut s = series(2, 3, utm(), utm_transform());
    s.times.clear();
    s.data = s.data.slice(ndarray::s![0..1, .., ..]).to_owned();
    write_cf(&s, &path).unwrap();
    let r = read_cf(&path, "rain_mm").unwrap();
    assert!(r.times.is_empty());
    assert!(same_f32(&r.data, &s.data));

    match read_cf(&path, "depth_m") {
        Err(Error::NetCdf { message, .. }) => {
            assert!(
                message.contains("depth_m") && message.contains("rain_mm"),
                "{message}"
            )
        }
        other => panic!("{other:?}"),
    }
    match read_cf(&dir.path().join("nope.nc"), "x") {
        Err(Error::MissingFile { path, .. }) => assert!(path.ends_with("nope.nc")),
        other => panic!("{other:?}"),
    }

    // A time axis without units is refused.
    let bad = dir.path().join("bad.nc");
    {
        let mut f = netcdf::create(&bad).unwrap();
        f.add_dimension("time", 1).unwrap();
        f.add_dimension("y", 2).unwrap();
        f.add_dimension("x", 2).unwrap();
        f.add_variable::<f64>("time", &["time"]).unwrap();
        for (n, v) in [("y", [1.5, 0.5]), ("x", [0.5, 1.5])] {
            f.add_variable::<f64>(n, &[n])
                .unwrap()
                .put_values(&v, ..)
                .unwrap();
        }
        f.add_variable::<f32>("v", &["time", "y", "x"]).unwrap();
    }
    match read_cf(&bad, "v") {
        Err(Error::NetCdf { message, .. }) => assert!(message.contains("units"), "{message}"),
        other => panic!("{other:?}"),
    }
    // Wrong shape refused before writing anything.
    s.times = vec![1.0, 2.0];
    assert!(write_cf(&s, &dir.path().join("wrong.nc")).is_err());
    assert!(!dir.path().join("wrong.nc").exists());
}

#[test]
fn ascii_grid_read_and_missing_crs_refused() {
    let dir = tempfile::tempdir().unwrap();
    let asc = dir.path().join("dem.asc");
    std::fs::write(
        &asc,
        "ncols 3\nnrows 2\nxllcorner 500000\nyllcorner 4400000\ncellsize 1000\nNODATA_value -9999\n\
         1 2 3\n4 -9999 6\n",
    )
    .unwrap();
    // Without a .prj there is no CRS.
    match read_raster(&asc) {
        Err(Error::NoCrs { path }) => assert_eq!(path, asc),
        other => panic!("expected NoCrs, got {other:?}"),
    }
    std::fs::write(dir.path().join("dem.prj"), utm()).unwrap();
    let g = read_raster(&asc).unwrap();
    assert_eq!(
        g.transform,
        GeoTransform {
            x0: 500_000.0,
            dx: 1000.0,
            y0: 4_402_000.0,
            dy: -1000.0
        }
    );
    assert_eq!(g.data[[0, 2]], 3.0);
    assert!(g.data[[1, 1]].is_nan());
    assert_eq!(g.nodata, Some(-9999.0));
    assert!(same_crs(&g.crs_wkt, &utm()));
}

#[test]
fn missing_and_unreadable_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no_such_dem.tif");
    let err = read_raster(&missing).unwrap_err();
    assert!(matches!(err, Error::MissingFile { .. }));
    assert!(err.to_string().contains("no_such_dem.tif"), "{err}");
    let nc = PathBuf::from(format!(
        "NETCDF:\"{}\":v",
        dir.path().join("gone.nc").display()
    ));
    assert!(matches!(read_raster(&nc), Err(Error::MissingFile { .. })));

    let junk = dir.path().join("junk.tif");
    std::fs::write(&junk, "this is not a raster").unwrap();
    let err = read_raster(&junk).unwrap_err();
    assert!(matches!(err, Error::Gdal { .. }));
    let msg = err.to_string();
    assert!(msg.contains("junk.tif") && msg.contains("GeoTIFF"), "{msg}");
}

#[test]
fn check_aligned_refuses_shape_transform_crs() {
    let a = utm_grid(Array2::<f64>::zeros((3, 3)), None);
    assert!(a.check_aligned(&a.clone(), "same").is_ok());
    let b = utm_grid(Array2::<f64>::zeros((3, 4)), None);
    assert!(matches!(
        a.check_aligned(&b, "shape"),
        Err(Error::Misaligned(_))
    ));
    let mut c = a.clone();
    c.transform.x0 += 500.0;
    assert!(matches!(
        a.check_aligned(&c, "shift"),
        Err(Error::Misaligned(_))
    ));
    let mut d = a.clone();
    d.crs_wkt = epsg_wkt(32651).unwrap();
    assert!(matches!(
        a.check_aligned(&d, "crs"),
        Err(Error::Misaligned(_))
    ));
    assert!(same_crs("", ""));
    assert!(!same_crs("", &utm()));
    assert!(same_crs(&utm(), "EPSG:32650"));
}

#[test]
fn warp_average_and_nearest_are_exact() {
    // 4 x 6 source, 1000 m; 2 x 2 blocks with distinct integer values and a spread
    // inside each block so that the average is a real mean.
    let src = utm_grid(
        Array2::from_shape_fn((4, 6), |(r, c)| {
            (10 * (r / 2) + (c / 2)) as f64 + [0.0, 1.0, 2.0, 5.0][(r % 2) * 2 + (c % 2)]
        }),
        None,
    );
    let mut coarse = GridSpec::of(&src);
    coarse.transform.dx = 2000.0;
    coarse.transform.dy = -2000.0;
    coarse.rows = 2;
    coarse.cols = 3;
    let avg = warp(&src, &coarse, Resample::Average).unwrap();
    for r in 0..2 {
        for c in 0..3 {
            assert_eq!(avg.data[[r, c]], (10 * r + c) as f64 + 2.0, "({r},{c})");
        }
    }
    // A NaN cell is left out of the mean, not spread.
    let mut holed = src.clone();
    holed.data[[0, 0]] = f64::NAN;
    let avg = warp(&holed, &coarse, Resample::Average).unwrap();
    assert_eq!(avg.data[[0, 0]], 8.0 / 3.0);
    assert_eq!(avg.data[[0, 1]], 3.0);

    // Nearest onto 500 m cells repeats each source cell 2 x 2; the NaN stays one cell.
    let mut fine = GridSpec::of(&src);
    fine.transform.dx = 500.0;
    fine.transform.dy = -500.0;
    fine.rows = 8;
    fine.cols = 12;
    let near = warp(&holed, &fine, Resample::Nearest).unwrap();
    for r in 0..8 {
        for c in 0..12 {
            let v = holed.data[[r / 2, c / 2]];
            let w = near.data[[r, c]];
            assert!((v.is_nan() && w.is_nan()) || v == w, "({r},{c}) {v} {w}");
        }
    }
    // Target cells outside the source are NaN; coverage tells how much is covered.
    let mut wider = GridSpec::of(&src);
    wider.transform.x0 -= 2000.0;
    wider.cols = 8;
    let w = warp(&src, &wider, Resample::Nearest).unwrap();
    assert!(w.data.column(0).iter().all(|v| v.is_nan()));
    assert_eq!(w.data[[1, 2]], src.data[[1, 0]]);
    assert_eq!(coverage(&src, &wider).unwrap(), 0.75);
    assert_eq!(valid_fraction(&w), 0.75);
}

#[test]
fn warp_geographic_to_utm_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let geo = Grid::new(
        Array2::from_elem((80, 100), 5.0),
        GeoTransform {
            x0: 113.5,
            dx: 0.05,
            y0: 42.5,
            dy: -0.05,
        },
        epsg_wkt(4326).unwrap(),
        None,
    );
    let target = GridSpec::covering_lonlat(115.0, 39.5, 117.0, 41.0, 32650, 2000.0).unwrap();
    let w = warp(&geo, &target, Resample::Bilinear).unwrap();
    let bad: Vec<_> = w
        .data
        .indexed_iter()
        .filter(|(_, v)| (**v - 5.0).abs() > 1e-9)
        .take(10)
        .collect();
    assert!(
        bad.is_empty(),
        "all covered and constant: {bad:?} of {:?}",
        w.data.dim()
    );
    // As files through warp_files: a west tile (5, west of 116 E) listed before a tile
    // covering everything (7); the first valid value wins where they overlap.
    let p1 = dir.path().join("west.tif");
    let p2 = dir.path().join("all.tif");
    write_geotiff(&crop(&geo, 0, 0, 80, 50).unwrap(), &p1).unwrap();
    write_geotiff(&geo.with_data(Array2::from_elem((80, 100), 7.0), None), &p2).unwrap();
    let m = warp_files(&[p1.clone(), p2], &target, Resample::Average).unwrap();
    let geo_wkt = epsg_wkt(4326).unwrap();
    let (mut fives, mut sevens) = (0, 0);
    for ((r, c), &v) in m.data.indexed_iter() {
        let centre = m.transform.cell_center(r, c);
        let lon = transform_points(&[centre], &m.crs_wkt, &geo_wkt).unwrap()[0].0;
        if lon < 115.98 {
            assert!((v - 5.0).abs() < 1e-9, "({r},{c}) lon {lon}: {v}");
            fives += 1;
        } else if lon > 116.02 {
            assert!((v - 7.0).abs() < 1e-9, "({r},{c}) lon {lon}: {v}");
            sevens += 1;
        }
    }
    assert!(fives > 1000 && sevens > 1000, "{fives} {sevens}");
    assert!(matches!(
        warp_files(&[dir.path().join("none.hgt")], &target, Resample::Nearest),
        Err(Error::MissingFile { .. })
    ));
}

#[test]
fn covering_lonlat_snaps_outward() {
    let s = GridSpec::covering_lonlat(115.0, 39.0, 117.0, 41.0, 32650, 1000.0).unwrap();
    let t = s.transform;
    assert_eq!(t.x0 % 1000.0, 0.0);
    assert_eq!(t.y0 % 1000.0, 0.0);
    assert_eq!((t.dx, t.dy), (1000.0, -1000.0));
    let corners = [
        (115.0, 39.0),
        (117.0, 39.0),
        (115.0, 41.0),
        (117.0, 41.0),
        (116.0, 41.0),
    ];
    let xy = transform_points(&corners, &epsg_wkt(4326).unwrap(), &s.crs_wkt).unwrap();
    let (xmin, ymin, xmax, ymax) = s.extent();
    for (x, y) in xy {
        assert!(
            x >= xmin && x <= xmax && y >= ymin && y <= ymax,
            "({x},{y})"
        );
    }
    // Tight: less than one cell of slack beyond the transformed box on each side.
    assert!(ymax - 4_540_000.0 < 1000.0 + 5000.0);
    assert!(
        (150..=260).contains(&s.cols) && (215..=235).contains(&s.rows),
        "{} x {}",
        s.rows,
        s.cols
    );
    assert!(GridSpec::covering_lonlat(117.0, 39.0, 115.0, 41.0, 32650, 1000.0).is_err());
}

#[test]
fn transform_points_matches_known_utm() {
    let geo = epsg_wkt(4326).unwrap();
    let p = transform_points(&[(117.0, 40.0)], &geo, &utm()).unwrap();
    assert!((p[0].0 - 500_000.0).abs() < 1e-6);
    assert!((p[0].1 - 4_427_757.218_738).abs() < 1e-3, "{:?}", p);
    let back = transform_points(&p, &utm(), &geo).unwrap();
    assert!((back[0].0 - 117.0).abs() < 1e-9 && (back[0].1 - 40.0).abs() < 1e-9);
}

#[test]
fn crop_shifts_transform() {
    let g = utm_grid(sample(5, 7), None);
    let c = crop(&g, 1, 2, 3, 4).unwrap();
    assert_eq!(c.transform.x0, 402_000.0);
    assert_eq!(c.transform.y0, 4_499_000.0);
    assert_eq!(c.data[[2, 3]], g.data[[3, 5]]);
    assert!(crop(&g, 4, 0, 2, 1).is_err());
    let e = crop_to_extent(&g, 402_000.0, 4_496_000.0, 405_500.0, 4_499_000.0).unwrap();
    assert_eq!((e.rows(), e.cols()), (3, 4));
    assert_eq!(e.transform, c.transform);
    assert!(crop_to_extent(&g, 0.0, 0.0, 10.0, 10.0).is_err());
}

fn square(x0: f64, y0: f64, side: f64) -> Vec<(f64, f64)> {
    vec![
        (x0, y0),
        (x0 + side, y0),
        (x0 + side, y0 + side),
        (x0, y0 + side),
        (x0, y0),
    ]
}

fn feature(geometry: Geometry) -> Feature {
    Feature {
        fields: BTreeMap::new(),
        geometry,
    }
}

#[test]
fn rasterize_polygons_by_cell_centre() {
    let spec = GridSpec::of(&utm_grid(Array2::<f64>::zeros((10, 10)), None));
    // 3 km square from (401 000, 4 491 000) to (404 000, 4 494 000), hole of one cell.
    let outer = square(401_000.0, 4_491_000.0, 3000.0);
    let hole = square(402_000.0, 4_492_000.0, 1000.0);
    let poly = feature(Geometry::Polygons(vec![vec![outer.clone(), hole.clone()]]));
    assert_eq!(polygon_area(&[outer.clone(), hole]), 8.0e6);
    let g = rasterize_polygons(&[poly], &[3.0], &spec).unwrap();
    assert_eq!(g.data.iter().filter(|v| **v == 3.0).count(), 8);
    assert!(g.data[[7, 2]].is_nan(), "hole cell"); // centre (402 500, 4 492 500)
    assert_eq!(g.data[[6, 1]], 3.0);
    // A slightly smaller square (edges inside the cells) takes only the cells whose
    // centres it contains: 2 x 2 = 4 cells; a later overlapping feature wins.
    let small = feature(Geometry::Polygons(vec![vec![square(
        401_400.0,
        4_491_400.0,
        1700.0,
    )]]));
    let big = feature(Geometry::Polygons(vec![vec![outer]]));
    let g = rasterize_polygons(&[big, small], &[1.0, 2.0], &spec).unwrap();
    assert_eq!(g.data.iter().filter(|v| **v == 2.0).count(), 4);
    assert_eq!(g.data.iter().filter(|v| **v == 1.0).count(), 5);
    assert!(point_in_polygons(
        &[vec![square(0.0, 0.0, 1.0)]],
        (0.5, 0.5)
    ));
}

#[test]
fn rasterize_lines_all_touched() {
    let spec = GridSpec::of(&utm_grid(Array2::<f64>::zeros((4, 4)), None));
    // In cell units from the corner: (0.5, 0.5) → (2.5, 1.5) (col, row): touches
    // (0,0), (0,1), (1,1), (1,2).
    let a = (400_500.0, 4_499_500.0);
    let b = (402_500.0, 4_498_500.0);
    let g = rasterize_lines(&[feature(Geometry::Lines(vec![vec![a, b]]))], &[1.0], &spec).unwrap();
    let hit: Vec<(usize, usize)> = g
        .data
        .indexed_iter()
        .filter(|(_, v)| **v == 1.0)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hit, vec![(0, 0), (0, 1), (1, 1), (1, 2)]);
    // A line leaving the grid is clipped; count along a full row.
    let l = vec![(399_000.0, 4_497_500.0), (405_000.0, 4_497_500.0)];
    let g = rasterize_lines(&[feature(Geometry::Lines(vec![l]))], &[2.0], &spec).unwrap();
    assert_eq!(g.data.iter().filter(|v| **v == 2.0).count(), 4);
    assert!(g.data.row(2).iter().all(|v| *v == 2.0));
}

#[test]
fn read_layer_geojson_and_reproject() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.geojson");
    std::fs::write(
        &path,
        r#"{"type":"FeatureCollection","features":[
 {"type":"Feature","properties":{"name":"通州","code":110112,"area":2.5},
  "geometry":{"type":"Polygon","coordinates":[[[116.5,39.8],[116.8,39.8],[116.8,40.0],[116.5,40.0],[116.5,39.8]]]}},
 {"type":"Feature","properties":{"name":"river","code":null,"area":1e-3},
  "geometry":{"type":"MultiLineString","coordinates":[[[116.0,40.0],[116.2,40.1]],[[116.3,40.2],[116.4,40.3]]]}},
 {"type":"Feature","properties":{"name":"gauge","code":7,"area":0},
  "geometry":{"type":"Point","coordinates":[117.0,40.0]}}]}"#,
    )
    .unwrap();
    let f = read_layer(&path, None).unwrap();
    assert_eq!(f.len(), 3);
    assert_eq!(f[0].fields["name"], "通州");
    assert_eq!(f[0].fields["code"], "110112");
    assert_eq!(f[0].fields["area"], "2.5");
    assert_eq!(f[1].fields["code"], "");
    match &f[0].geometry {
        Geometry::Polygons(p) => assert_eq!(p[0][0][1], (116.8, 39.8)),
        g => panic!("{g:?}"),
    }
    match &f[1].geometry {
        Geometry::Lines(l) => assert_eq!(l.len(), 2),
        g => panic!("{g:?}"),
    }
    assert_eq!(f[2].geometry, Geometry::Point((117.0, 40.0)));

    let p = read_layer(&path, Some(&utm())).unwrap();
    let expect = transform_points(
        &[(116.8, 39.8), (117.0, 40.0)],
        &epsg_wkt(4326).unwrap(),
        &utm(),
    )
    .unwrap();
    match &p[0].geometry {
        Geometry::Polygons(poly) => {
            let q = poly[0][0][1];
            assert!(
                (q.0 - expect[0].0).abs() < 1e-6 && (q.1 - expect[0].1).abs() < 1e-6,
                "{q:?}"
            );
        }
        g => panic!("{g:?}"),
    }
    match p[2].geometry {
        Geometry::Point(q) => {
            assert!((q.0 - 500_000.0).abs() < 1e-6 && (q.1 - expect[1].1).abs() < 1e-6)
        }
        ref g => panic!("{g:?}"),
    }
    // About 25.6 km x 22.2 km.
    let area_km2 = p[0].geometry.area() / 1e6;
    assert!((500.0..620.0).contains(&area_km2), "{area_km2}");

    assert!(matches!(
        read_layer(&dir.path().join("none.geojson"), None),
        Err(Error::MissingFile { .. })
    ));
    let txt = dir.path().join("x.geojson");
    std::fs::write(&txt, "no json here").unwrap();
    assert!(matches!(read_layer(&txt, None), Err(Error::Gdal { .. })));
}

#[test]
fn describe_reports_epsg_and_statistics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.tif");
    let mut a = Array2::from_shape_fn((2, 3), |(r, c)| (r * 3 + c + 1) as f64);
    a[[1, 2]] = f64::NAN; // values 1..5 valid
    write_geotiff(&utm_grid(a, Some(-9999.0)), &path).unwrap();
    let text = describe(&path).unwrap();
    for want in [
        "EPSG:32650",
        "3 x 2 cells",
        "Cell size: 1000 x 1000 m",
        "min 1 max 5 mean 3 std 1.414214",
        "valid cells 5, no-data cells 1",
        "no-data -9999",
    ] {
        assert!(text.contains(want), "missing `{want}` in\n{text}");
    }
}

#[test]
fn real_dem_warps_to_model_grid() {
    let path = Path::new(DEM_2MIN);
    if !path.exists() {
        eprintln!("skipped: {DEM_2MIN} not present");
        return;
    }
    let dem = read_raster(path).unwrap();
    assert!(
        (dem.cell_size() - 2.0 / 60.0).abs() < 1e-6,
        "{}",
        dem.cell_size()
    );
    let target = GridSpec::covering_lonlat(115.0, 39.0, 117.0, 41.0, 32650, 1000.0).unwrap();
    assert_eq!(coverage(&dem, &target).unwrap(), 1.0);
    let w = warp(&dem, &target, Resample::Average).unwrap();
    assert!(w.data.iter().all(|v| !v.is_nan()), "NaN inside the domain");
    let (min, max) = w
        .data
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    // Bohai coast near sea level to the Taihang/Yan mountains (highest ~2300 m).
    assert!(min > -50.0 && min < 50.0, "min {min}");
    assert!(max > 1000.0 && max < 2900.0, "max {max}");
    let mean = w.data.mean().unwrap();
    assert!((50.0..1500.0).contains(&mean), "mean {mean}");
}

/// Writes a synthetic SRTM3 tile (1201 x 1201 big-endian i16, georeferenced by its name):
/// elevation `base` + column index, with a void (-32768) at row 10, col 20.
fn write_hgt(path: &Path, base: i16) {
    let n = 1201;
    let mut bytes = Vec::with_capacity(n * n * 2);
    for r in 0..n {
        for c in 0..n {
            let v: i16 = if (r, c) == (10, 20) {
                -32768
            } else {
                base + (c as i16) % 100
            };
            bytes.extend_from_slice(&v.to_be_bytes());
        }
    }
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn srtm_hgt_tiles_read_and_mosaic() {
    let dir = tempfile::tempdir().unwrap();
    let west = dir.path().join("N39E116.hgt");
    let east = dir.path().join("N39E117.hgt");
    write_hgt(&west, 100);
    write_hgt(&east, 300);
    let g = read_raster(&west).unwrap();
    assert_eq!((g.rows(), g.cols()), (1201, 1201));
    let half = 0.5 / 1200.0;
    assert!(
        (g.transform.x0 - (116.0 - half)).abs() < 1e-9,
        "{:?}",
        g.transform
    );
    assert!((g.transform.y0 - (40.0 + half)).abs() < 1e-9);
    assert!(g.data[[10, 20]].is_nan());
    assert_eq!(g.nodata, Some(-32768.0));
    assert_eq!(g.data[[0, 150]], 150.0);
    assert!(same_crs(&g.crs_wkt, &epsg_wkt(4326).unwrap()));

    // Mosaic both tiles onto a 1 km UTM grid straddling 117 E.
    let target = GridSpec::covering_lonlat(116.8, 39.3, 117.2, 39.7, 32650, 1000.0).unwrap();
    let m = warp_files(&[west, east], &target, Resample::Average).unwrap();
    assert_eq!(valid_fraction(&m), 1.0);
    let geo = epsg_wkt(4326).unwrap();
    for ((r, c), &v) in m.data.indexed_iter() {
        let lon =
            transform_points(&[m.transform.cell_center(r, c)], &m.crs_wkt, &geo).unwrap()[0].0;
        if lon < 116.99 {
            assert!((100.0..200.0).contains(&v), "west ({r},{c}) {v}");
        } else if lon > 117.01 {
            assert!((300.0..400.0).contains(&v), "east ({r},{c}) {v}");
        }
    }
}

#[test]
fn rotated_raster_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rot.tif");
    {
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut ds = driver
            .create_with_band_type::<f32, _>(&path, 4, 4, 1)
            .unwrap();
        ds.set_geo_transform(&[400_000.0, 1000.0, 10.0, 4_500_000.0, 10.0, -1000.0])
            .unwrap();
        ds.set_projection(&utm()).unwrap();
    }
    let err = read_raster(&path).unwrap_err();
    assert!(err.to_string().contains("rotated"), "{err}");
}
