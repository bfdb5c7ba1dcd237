//! Every GeoTIFF and netCDF write is checked (issue 14): under a per-file size limit
//! set on this process (`setrlimit(RLIMIT_FSIZE)`, SIGXFSZ ignored so that the write
//! fails with EFBIG), a file that cannot be written whole is an error naming it, and
//! nothing is left at its path. Its own test binary, since the limit holds for the
//! whole process: one test only.

use std::path::PathBuf;

#[test]
fn raster_and_netcdf_writes_past_a_file_size_limit_fail_naming_the_file() {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("write-checks");
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let (nr, nc) = (200usize, 200usize);
    let t = haihe::GeoTransform {
        x0: 400000.0,
        dx: 100.0,
        y0: 4400000.0,
        dy: -100.0,
    };
    let wkt = haihe::grid::io::epsg_wkt(32650).unwrap();
    let mut x: u64 = 7;
    let noise = ndarray::Array2::from_shape_fn((nr, nc), |_| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 40) as f32
    });
    let big = haihe::Grid::new(noise.clone(), t, wkt.clone(), None);
    let small = haihe::Grid::new(ndarray::Array2::from_elem((8, 8), 1.0f32), t, wkt, None);
    let series = haihe::grid::cf::CfSeries::from_grids(
        &[&big, &big],
        vec![0.0, 3600.0],
        "seconds since 2023-07-29 00:00:00",
        "depth",
        "m",
        "water depth",
    )
    .unwrap();

    // SAFETY: plain libc calls on this process; the limit is restored before the end.
    let old = unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let mut old = std::mem::zeroed::<libc::rlimit>();
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut old), 0);
        let lim = libc::rlimit {
            rlim_cur: 64 * 1024,
            rlim_max: old.rlim_max,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
        old
    };
    let tif = d.join("big.tif");
    let r_tif = haihe::grid::io::write_geotiff(&big, &tif);
    let nc_path = d.join("big.nc");
    let r_nc = haihe::grid::cf::write_cf(&series, &nc_path);
    let small_path = d.join("small.tif");
    let r_small = haihe::grid::io::write_geotiff(&small, &small_path);
    unsafe {
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &old), 0);
    }

    let e = r_tif.expect_err("a 160 kB GeoTIFF under a 64 kB limit");
    let m = e.to_string();
    assert!(
        m.contains("big.tif") && m.contains("file-size limit"),
        "{m}"
    );
    let e = r_nc.expect_err("a 320 kB netCDF under a 64 kB limit");
    let m = e.to_string();
    assert!(m.contains("big.nc"), "{m}");
    r_small.expect("a small GeoTIFF fits");
    // Nothing half-written is left, temporary files included; the small file reads back.
    let left: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["small.tif"]);
    let back = haihe::grid::read_raster_as::<f32>(&small_path, 1).unwrap();
    assert_eq!(back.data, small.data);
    // Without the limit both write and read back.
    haihe::grid::io::write_geotiff(&big, &tif).unwrap();
    haihe::grid::cf::write_cf(&series, &nc_path).unwrap();
    let back = haihe::grid::read_raster_as::<f32>(&tif, 1).unwrap();
    assert_eq!(back.data, noise);
}
