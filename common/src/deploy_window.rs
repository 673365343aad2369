//! Deploy windows of a protected environment (issue 20): when runs may start, as five-field cron
//! expressions (`minute hour day-of-month month day-of-week`) read in an IANA time zone, plus a
//! freeze (`frozen_until`). A minute is inside a window when its cron matches that minute on the
//! zone's wall clock, so a window follows the zone's daylight-saving changes.
//!
//! Cron fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, month names
//! (`JAN`..`DEC`) and day names (`SUN`..`SAT`, 0 and 7 both Sunday). As in Vixie cron, when both
//! day fields are restricted a day matches if either does.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// The longest a search for the next open minute looks ahead.
const SEARCH_DAYS: i64 = 366;
/// The longest cron expression or zone name accepted.
pub const MAX_TEXT_CHARS: usize = 100;

/// Why a window was refused, naming the part at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WindowError {
    #[error("cron {cron:?} must have five fields (minute hour day-of-month month day-of-week)")]
    FieldCount { cron: String },
    #[error("cron field {field} {value:?}: {problem}")]
    Field {
        field: &'static str,
        value: String,
        problem: String,
    },
    #[error("timezone {0:?} is not an IANA time zone name (e.g. Asia/Shanghai)")]
    Zone(String),
    #[error("{0} is longer than {MAX_TEXT_CHARS} characters")]
    TooLong(&'static str),
}

/// One field: which values match (bit `n` for value `n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FieldSet {
    bits: u64,
    /// Written as `*` (unrestricted), which matters for the two day fields.
    any: bool,
}

impl FieldSet {
    fn has(self, value: u32) -> bool {
        value < 64 && self.bits & (1 << value) != 0
    }
}

/// What one cron field may hold.
struct FieldRule {
    name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    /// The first name's value (`JAN` is 1, `SUN` is 0).
    names_from: u32,
}

const MINUTE: FieldRule = FieldRule {
    name: "minute",
    min: 0,
    max: 59,
    names: &[],
    names_from: 0,
};
const HOUR: FieldRule = FieldRule {
    name: "hour",
    min: 0,
    max: 23,
    names: &[],
    names_from: 0,
};
const DAY: FieldRule = FieldRule {
    name: "day-of-month",
    min: 1,
    max: 31,
    names: &[],
    names_from: 0,
};
const MONTH: FieldRule = FieldRule {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ],
    names_from: 1,
};
const WEEKDAY: FieldRule = FieldRule {
    name: "day-of-week",
    min: 0,
    max: 7,
    names: &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"],
    names_from: 0,
};

impl FieldRule {
    fn refuse(&self, value: &str, problem: impl Into<String>) -> WindowError {
        WindowError::Field {
            field: self.name,
            value: value.to_owned(),
            problem: problem.into(),
        }
    }

    fn value(&self, text: &str, whole: &str) -> Result<u32, WindowError> {
        let upper = text.to_ascii_uppercase();
        if let Some(index) = self.names.iter().position(|name| *name == upper) {
            return Ok(self.names_from + index as u32);
        }
        let value: u32 = text
            .parse()
            .map_err(|_| self.refuse(whole, format!("{text:?} is not a number or a name")))?;
        if value < self.min || value > self.max {
            return Err(self.refuse(
                whole,
                format!("{value} is outside {}-{}", self.min, self.max),
            ));
        }
        Ok(value)
    }

    fn parse(&self, text: &str) -> Result<FieldSet, WindowError> {
        let mut bits = 0_u64;
        for part in text.split(',') {
            let (range, step) = match part.split_once('/') {
                Some((range, step)) => {
                    let step: u32 =
                        step.parse().ok().filter(|step| *step > 0).ok_or_else(|| {
                            self.refuse(text, format!("step {step:?} is not a positive number"))
                        })?;
                    (range, step)
                }
                None => (part, 1),
            };
            let (low, high) = if range == "*" {
                (self.min, self.max)
            } else if let Some((low, high)) = range.split_once('-') {
                (self.value(low, text)?, self.value(high, text)?)
            } else {
                let value = self.value(range, text)?;
                // `5/10` means from 5 to the end in steps of 10.
                (value, if part.contains('/') { self.max } else { value })
            };
            if low > high {
                return Err(self.refuse(text, format!("range {low}-{high} runs backwards")));
            }
            let mut value = low;
            while value <= high {
                bits |= 1 << value;
                value += step;
            }
        }
        if self.name == WEEKDAY.name && bits & (1 << 7) != 0 {
            bits |= 1; // 7 is Sunday too
        }
        Ok(FieldSet {
            bits,
            any: text == "*",
        })
    }
}

/// A parsed five-field cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cron {
    minute: FieldSet,
    hour: FieldSet,
    day: FieldSet,
    month: FieldSet,
    weekday: FieldSet,
}

impl Cron {
    fn parse(text: &str) -> Result<Cron, WindowError> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(WindowError::FieldCount {
                cron: text.to_owned(),
            });
        };
        Ok(Cron {
            minute: MINUTE.parse(minute)?,
            hour: HOUR.parse(hour)?,
            day: DAY.parse(day)?,
            month: MONTH.parse(month)?,
            weekday: WEEKDAY.parse(weekday)?,
        })
    }

    fn day_matches(&self, day: u32, weekday: u32) -> bool {
        let (by_day, by_weekday) = (self.day.has(day), self.weekday.has(weekday));
        match (self.day.any, self.weekday.any) {
            (false, false) => by_day || by_weekday,
            (false, true) => by_day,
            (true, false) => by_weekday,
            (true, true) => true,
        }
    }
}

/// An IANA time zone name (`Asia/Shanghai`, `UTC`), checked.
pub fn parse_zone(timezone: &str) -> Result<Tz, WindowError> {
    if timezone.chars().count() > MAX_TEXT_CHARS {
        return Err(WindowError::TooLong("timezone"));
    }
    timezone
        .trim()
        .parse()
        .map_err(|_| WindowError::Zone(timezone.to_owned()))
}

/// One deploy window: a cron expression read in a time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct DeployWindow {
    cron: Cron,
    zone: Tz,
    pub cron_text: String,
    pub timezone: String,
}

impl DeployWindow {
    /// Checks `cron` and `timezone`, naming the part at fault.
    pub fn parse(cron: &str, timezone: &str) -> Result<DeployWindow, WindowError> {
        if cron.chars().count() > MAX_TEXT_CHARS {
            return Err(WindowError::TooLong("cron"));
        }
        if timezone.chars().count() > MAX_TEXT_CHARS {
            return Err(WindowError::TooLong("timezone"));
        }
        let zone = parse_zone(timezone)?;
        Ok(DeployWindow {
            cron: Cron::parse(cron.trim())?,
            zone,
            cron_text: cron.trim().to_owned(),
            timezone: timezone.trim().to_owned(),
        })
    }

    /// Whether the minute of `at` is inside the window.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let local = self.zone.from_utc_datetime(&at.naive_utc());
        self.cron.month.has(local.month())
            && self
                .cron
                .day_matches(local.day(), local.weekday().num_days_from_sunday())
            && self.cron.hour.has(local.hour())
            && self.cron.minute.has(local.minute())
    }

    /// The first minute at or after `after` inside the window (within a year), skipping whole
    /// days and hours that cannot match.
    pub fn next_opening(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after.with_second(0)?.with_nanosecond(0)?;
        let mut at = if start < after {
            start + Duration::minutes(1)
        } else {
            start
        };
        let limit = after + Duration::days(SEARCH_DAYS);
        while at <= limit {
            let local = self.zone.from_utc_datetime(&at.naive_utc());
            let day_ok = self.cron.month.has(local.month())
                && self
                    .cron
                    .day_matches(local.day(), local.weekday().num_days_from_sunday());
            if !day_ok {
                // To the next local midnight (at least a minute on).
                let left = (24 - i64::from(local.hour())) * 60 - i64::from(local.minute());
                at += Duration::minutes(left.max(1));
                continue;
            }
            if !self.cron.hour.has(local.hour()) {
                at += Duration::minutes((60 - i64::from(local.minute())).max(1));
                continue;
            }
            if self.cron.minute.has(local.minute()) {
                return Some(at);
            }
            at += Duration::minutes(1);
        }
        None
    }
}

/// The most windows one environment has.
pub const MAX_WINDOWS: usize = 20;

/// What an approval given outside every window (or during a freeze) does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutsideWindow {
    /// The run waits and starts when the next window opens.
    #[default]
    Wait,
    /// The approval is refused; the requester asks again later.
    Refuse,
}

impl OutsideWindow {
    /// The accepted names, as stored and sent.
    pub const NAMES: [&'static str; 2] = ["wait", "refuse"];

    /// The choice named `name` (`wait` or `refuse`).
    pub fn parse(name: &str) -> Option<OutsideWindow> {
        match name {
            "wait" => Some(OutsideWindow::Wait),
            "refuse" => Some(OutsideWindow::Refuse),
            _ => None,
        }
    }

    /// Its stored name.
    pub fn name(self) -> &'static str {
        match self {
            OutsideWindow::Wait => "wait",
            OutsideWindow::Refuse => "refuse",
        }
    }
}

/// Why a run may not start now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closed {
    /// Frozen until then.
    Frozen { until: DateTime<Utc> },
    /// Outside every window; the next one opens then (none within a year: `None`).
    OutsideWindows { next: Option<DateTime<Utc>> },
}

/// Whether a run may start at `at`: not frozen, and inside one of `windows` (no windows: any
/// time). When closed, says until when (a freeze that ends inside a window opens then).
pub fn check(
    windows: &[DeployWindow],
    frozen_until: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> Result<(), Closed> {
    if let Some(until) = frozen_until.filter(|until| *until > at) {
        return Err(Closed::Frozen { until });
    }
    if windows.is_empty() || windows.iter().any(|window| window.contains(at)) {
        return Ok(());
    }
    let next = windows
        .iter()
        .filter_map(|window| window.next_opening(at))
        .min();
    Err(Closed::OutsideWindows { next })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("time")
            .with_timezone(&Utc)
    }

    #[test]
    fn office_hours_in_shanghai() {
        let window = DeployWindow::parse("* 9-17 * * MON-FRI", "Asia/Shanghai").expect("window");
        // Friday 2026-12-04 10:30 in Shanghai is 02:30 UTC.
        assert!(window.contains(utc("2026-12-04T02:30:00Z")));
        // 18:00 Shanghai is closed; Saturday too.
        assert!(!window.contains(utc("2026-12-04T10:00:00Z")));
        assert!(!window.contains(utc("2026-12-05T02:30:00Z")));
        // From Friday evening the next opening is Monday 09:00 Shanghai (01:00 UTC).
        assert_eq!(
            window.next_opening(utc("2026-12-04T10:00:30Z")),
            Some(utc("2026-12-07T01:00:00Z"))
        );
    }

    #[test]
    fn steps_lists_names_and_sunday_as_seven() {
        let window = DeployWindow::parse("0,30 */6 * JAN,dec 7", "UTC").expect("window");
        assert!(window.contains(utc("2026-12-06T06:30:00Z"))); // a Sunday in December
        assert!(!window.contains(utc("2026-12-06T07:30:00Z")));
        assert!(!window.contains(utc("2026-12-06T06:15:00Z")));
        assert!(!window.contains(utc("2026-11-01T06:30:00Z"))); // a Sunday in November
    }

    #[test]
    fn both_day_fields_restricted_match_either() {
        let window = DeployWindow::parse("0 12 1 * MON", "UTC").expect("window");
        assert!(window.contains(utc("2026-12-01T12:00:00Z"))); // the 1st, a Tuesday
        assert!(window.contains(utc("2026-12-07T12:00:00Z"))); // a Monday
        assert!(!window.contains(utc("2026-12-08T12:00:00Z")));
    }

    #[test]
    fn windows_follow_daylight_saving() {
        // 09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer.
        let window = DeployWindow::parse("0 9 * * *", "America/New_York").expect("window");
        assert!(window.contains(utc("2026-12-04T14:00:00Z")));
        assert!(window.contains(utc("2026-07-01T13:00:00Z")));
        assert!(!window.contains(utc("2026-07-01T14:00:00Z")));
    }

    #[test]
    fn bad_windows_name_the_part_at_fault() {
        let cases = [
            ("* * * *", "UTC", "five fields"),
            ("61 * * * *", "UTC", "minute"),
            ("* 5-2 * * *", "UTC", "hour"),
            ("* * 0 * *", "UTC", "day-of-month"),
            ("* * * FOO *", "UTC", "month"),
            ("* * * * */0", "UTC", "day-of-week"),
            ("* * * * *", "Mars/Olympus", "timezone"),
        ];
        for (cron, zone, named) in cases {
            let refused = DeployWindow::parse(cron, zone).expect_err(cron).to_string();
            assert!(refused.contains(named), "{cron} {zone}: {refused}");
        }
        let long = "1,".repeat(60);
        assert!(DeployWindow::parse(&long, "UTC").is_err());
    }

    #[test]
    fn a_freeze_closes_until_it_ends_and_no_window_means_always() {
        let at = utc("2026-12-04T02:30:00Z");
        let until = utc("2026-12-10T00:00:00Z");
        assert_eq!(check(&[], Some(until), at), Err(Closed::Frozen { until }));
        assert_eq!(check(&[], Some(utc("2026-12-01T00:00:00Z")), at), Ok(()));
        assert_eq!(check(&[], None, at), Ok(()));
        let night = DeployWindow::parse("* 1-2 * * *", "UTC").expect("window");
        let morning = utc("2026-12-04T03:30:00Z");
        assert_eq!(
            check(std::slice::from_ref(&night), None, morning),
            Err(Closed::OutsideWindows {
                next: Some(utc("2026-12-05T01:00:00Z"))
            })
        );
        let never = DeployWindow::parse("0 0 31 2 *", "UTC").expect("February 31st");
        assert_eq!(
            check(&[never], None, at),
            Err(Closed::OutsideWindows { next: None })
        );
    }
}
