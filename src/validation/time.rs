//! Calendar times of the storm catalogue: `"YYYY-MM-DD hh:mm"` (or a date alone,
//! `"YYYY-MM-DD"`) in Beijing time (UTC+8), turned into hours on one continuous axis.
//!
//! Dates are checked and counted through [`crate::bounds::civil_time`] (the `chrono`
//! calendar).
//!
//! # Reference
//! Civil date from days: H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"
//! (`civil_from_days`), <https://howardhinnant.github.io/date_algorithms.html>.

/// A parsed calendar time: hours since 1970-01-01 00:00 (same zone as the text), and
/// whether only the date was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalTime {
    /// Hours since 1970-01-01 00:00 of the catalogue's zone (Beijing time).
    pub hours: f64,
    /// True when the text gave a date without a time of day.
    pub date_only: bool,
}

/// Parses `"YYYY-MM-DD hh:mm"`, `"YYYY-MM-DD hh:mm:ss"` or `"YYYY-MM-DD"`; `24:00` is
/// accepted as the end of the day. Returns a message on a malformed or impossible date
/// (through the calendar of [`crate::bounds::civil_time`]).
pub fn parse_time(text: &str) -> std::result::Result<CalTime, String> {
    let t = crate::bounds::civil_time(text, true)?;
    Ok(CalTime {
        hours: t.seconds as f64 / 3600.0,
        date_only: t.date_only,
    })
}

/// Year, month and day of a count of days since 1970-01-01 (proleptic Gregorian;
/// Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Formats hours since 1970-01-01 00:00 back as `"YYYY-MM-DD hh:mm:ss"` (rounded to the
/// second), the form of CF time units.
pub fn format_time(hours: f64) -> String {
    let secs = (hours * 3600.0).round() as i64;
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_differences() {
        let a = parse_time("2023-07-29 20:00").unwrap();
        let b = parse_time("2023-08-02 07:00").unwrap();
        assert_eq!(b.hours - a.hours, 83.0); // the "83 h" of the Beijing press conference
        assert_eq!(format_time(a.hours), "2023-07-29 20:00:00");
        assert!(parse_time("2023-07-31").unwrap().date_only);
        assert_eq!(parse_time("1970-01-01 00:00").unwrap().hours, 0.0);
        assert!(parse_time("2023-02-30 00:00").is_err());
        assert!(parse_time("2023-07-31 25:00").is_err());
        assert_eq!(
            parse_time("2023-07-31 24:00").unwrap().hours,
            parse_time("2023-08-01 00:00").unwrap().hours
        );
    }
}
