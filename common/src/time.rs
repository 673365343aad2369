//! Times: stored as UTC, rendered as `YYYY-MM-DD HH:MM:SS` in the configured zone (`TAD_TIMEZONE`).

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The legacy rendering of every time in answers.
pub const LEGACY_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// A stored UTC time in the legacy format (for messages and webhook payloads, which say UTC).
pub fn format_time(time: NaiveDateTime) -> String {
    legacy_format(&time)
}

/// `time` in [`LEGACY_FORMAT`], written field by field (answers render a time per row; chrono's
/// `format` parses the format string each time). Years outside 0–9999 go through chrono, whose
/// rendering of them (`+10000`, `-0001`) this keeps.
fn legacy_format(time: &impl LegacyTime) -> String {
    let year = time.year();
    if !(0..=9999).contains(&year) {
        return time.legacy_by_chrono();
    }
    format!(
        "{year:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    )
}

/// Times rendered in [`LEGACY_FORMAT`]: their fields, or chrono's rendering.
trait LegacyTime: chrono::Datelike + chrono::Timelike {
    fn legacy_by_chrono(&self) -> String;
}

impl LegacyTime for NaiveDateTime {
    fn legacy_by_chrono(&self) -> String {
        self.format(LEGACY_FORMAT).to_string()
    }
}

impl LegacyTime for DateTime<Tz> {
    fn legacy_by_chrono(&self) -> String {
        self.format(LEGACY_FORMAT).to_string()
    }
}

/// The current UTC time at second precision, as stored in the databases.
pub fn now_utc() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now.with_nanosecond_zeroed()
}

trait ZeroNanos {
    fn with_nanosecond_zeroed(self) -> Self;
}

impl ZeroNanos for NaiveDateTime {
    fn with_nanosecond_zeroed(self) -> Self {
        use chrono::Timelike;
        self.with_nanosecond(0).unwrap_or(self)
    }
}

/// Milliseconds since the Unix epoch of a stored UTC time (the form times take on the wire).
pub fn to_unix_ms(time: NaiveDateTime) -> i64 {
    time.and_utc().timestamp_millis()
}

/// The stored UTC time of milliseconds since the Unix epoch; `None` when out of range.
pub fn from_unix_ms(ms: i64) -> Option<NaiveDateTime> {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|time| time.naive_utc())
}

/// Renders times in one zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRenderer {
    zone: Tz,
}

impl TimeRenderer {
    /// A renderer for an IANA zone name such as `Asia/Shanghai`.
    pub fn new(zone_name: &str) -> Result<Self, String> {
        zone_name
            .parse::<Tz>()
            .map(|zone| TimeRenderer { zone })
            .map_err(|_| {
                format!(
                    "unknown time zone {zone_name:?} (expected an IANA name such as Asia/Shanghai)"
                )
            })
    }

    /// `YYYY-MM-DD HH:MM:SS` in the zone of a UTC time given as Unix milliseconds; empty when 0.
    pub fn render_unix_ms(&self, ms: i64) -> String {
        if ms == 0 {
            return String::new();
        }
        match from_unix_ms(ms) {
            Some(time) => self.render(time),
            None => String::new(),
        }
    }

    /// `YYYY-MM-DD HH:MM:SS` in the zone of a stored UTC time.
    pub fn render(&self, time: NaiveDateTime) -> String {
        legacy_format(&self.zone.from_utc_datetime(&time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legacy_format_is_chrono_s_for_every_year() {
        let renderer = TimeRenderer::new("Asia/Shanghai").expect("known zone");
        for (year, month, day, hour, minute, second) in [
            (2017, 8, 2, 2, 9, 41),
            (1, 1, 1, 0, 0, 0),
            (999, 12, 31, 23, 59, 59),
            (9999, 12, 31, 15, 59, 59),
            (9999, 12, 31, 16, 0, 0),
            (10000, 1, 1, 0, 0, 0),
            (-1, 6, 1, 12, 0, 0),
        ] {
            let time = chrono::NaiveDate::from_ymd_opt(year, month, day)
                .and_then(|date| date.and_hms_opt(hour, minute, second))
                .expect("valid time");
            assert_eq!(format_time(time), time.format(LEGACY_FORMAT).to_string());
            let zoned = Tz::Asia__Shanghai.from_utc_datetime(&time);
            assert_eq!(
                renderer.render(time),
                zoned.format(LEGACY_FORMAT).to_string()
            );
        }
    }

    #[test]
    fn renders_in_the_configured_zone() {
        let renderer = TimeRenderer::new("Asia/Shanghai").expect("known zone");
        let utc = chrono::NaiveDate::from_ymd_opt(2017, 8, 2)
            .and_then(|date| date.and_hms_opt(2, 9, 41))
            .expect("valid time");
        assert_eq!(renderer.render(utc), "2017-08-02 10:09:41");
        assert_eq!(
            renderer.render_unix_ms(to_unix_ms(utc)),
            "2017-08-02 10:09:41"
        );
        let utc_renderer = TimeRenderer::new("UTC").expect("known zone");
        assert_eq!(utc_renderer.render(utc), "2017-08-02 02:09:41");
    }

    #[test]
    fn unknown_zone_is_refused_with_its_name() {
        let error = TimeRenderer::new("Mars/Olympus").expect_err("unknown zone");
        assert!(error.contains("Mars/Olympus"));
    }

    #[test]
    fn unix_ms_round_trips() {
        let now = now_utc();
        assert_eq!(from_unix_ms(to_unix_ms(now)), Some(now));
    }
}
