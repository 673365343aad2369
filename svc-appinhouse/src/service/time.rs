//! Build times: `time` is accepted as `2006-01-02T15:04:05-0700`, with a `+07:00` offset or `Z`
//! (else 1006), stored as UTC plus the offset it was given with.

use chrono::{DateTime, FixedOffset, NaiveDateTime};

use super::{AppinhouseError, AppinhouseResult};

/// A build time: the UTC instant and the offset (minutes east of UTC) it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildTime {
    pub utc: NaiveDateTime,
    pub offset_minutes: i32,
}

/// Parses the `time` field of `desc`.
pub fn parse_build_time(text: &str) -> AppinhouseResult<BuildTime> {
    let trimmed = text.trim();
    let parsed: Option<DateTime<FixedOffset>> = DateTime::parse_from_rfc3339(trimmed)
        .ok()
        .or_else(|| DateTime::parse_from_str(trimmed, "%Y-%m-%dT%H:%M:%S%z").ok());
    let time = parsed.ok_or_else(|| AppinhouseError::TimeFormat(common::limits::excerpt(text)))?;
    Ok(BuildTime {
        utc: time.naive_utc(),
        offset_minutes: time.offset().local_minus_utc() / 60,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("test time")
    }

    #[test]
    fn the_three_accepted_forms() {
        for (text, in_utc, offset_minutes) in [
            ("2016-05-10T02:11:50+0800", "2016-05-09 18:11:50", 480),
            ("2006-01-02T15:04:05-0700", "2006-01-02 22:04:05", -420),
            ("2016-05-10T02:11:50+07:00", "2016-05-09 19:11:50", 420),
            ("2016-05-10T02:11:50Z", "2016-05-10 02:11:50", 0),
        ] {
            let expected = BuildTime {
                utc: utc(in_utc),
                offset_minutes,
            };
            assert_eq!(parse_build_time(text).expect(text), expected, "{text}");
        }
    }

    #[test]
    fn anything_else_is_a_time_format_error() {
        for text in [
            "",
            "2016-05-10 02:11:50",
            "2016-05-10T02:11:50",
            "yesterday",
            "2016-13-10T02:11:50Z",
        ] {
            assert!(
                matches!(parse_build_time(text), Err(AppinhouseError::TimeFormat(_))),
                "{text:?}"
            );
        }
    }
}
