//! How many refused writes of callers without valid credentials the audit trail records per
//! client address (issue 20): at most `TAD_AUDIT_ANONYMOUS_REFUSALS_PER_MINUTE` (60) a minute
//! each, so that a flood of
//! unauthenticated requests cannot grow the trail without bound. The refusals past the limit are
//! counted, logged when the suppression starts, and recorded as one `audit.refusals_suppressed`
//! event when that address is next refused after its minute. Callers with credentials are always
//! recorded (they are accountable, and their requests pass authentication first).

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// The action of the event that records how many were not.
pub const SUPPRESSED_ACTION: &str = "audit.refusals_suppressed";
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses tracked at once; past it, the windows that ended are dropped first.
const MAX_ADDRESSES: usize = 10_000;

/// What to record of one refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Record,
    /// Record it, and also that `suppressed` refusals of this address were not.
    RecordAfterSuppressed(u64),
    /// Past the limit: count it only (`first`: the first one past it this minute).
    Suppress {
        first: bool,
    },
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    recorded: u32,
    suppressed: u64,
}

/// The windows of the addresses refused lately (one per gateway).
#[derive(Debug)]
pub struct RefusalLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, Window>>,
}

impl RefusalLimiter {
    /// At most `per_minute` recorded refusals per address and minute.
    pub fn new(per_minute: u32) -> RefusalLimiter {
        RefusalLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Whether a refusal of `address` at `now` is recorded.
    pub fn admit(&self, address: IpAddr, now: Instant) -> Admission {
        let Ok(mut windows) = self.windows.lock() else {
            return Admission::Record;
        };
        if !windows.contains_key(&address) && windows.len() >= MAX_ADDRESSES {
            windows.retain(|_, window| now.duration_since(window.started) < WINDOW);
            if windows.len() >= MAX_ADDRESSES {
                return Admission::Suppress { first: false };
            }
        }
        let window = windows.entry(address).or_insert(Window {
            started: now,
            recorded: 0,
            suppressed: 0,
        });
        if now.duration_since(window.started) >= WINDOW {
            let suppressed = window.suppressed;
            *window = Window {
                started: now,
                recorded: 1,
                suppressed: 0,
            };
            return if suppressed > 0 {
                Admission::RecordAfterSuppressed(suppressed)
            } else {
                Admission::Record
            };
        }
        if window.recorded < self.per_minute {
            window.recorded += 1;
            return Admission::Record;
        }
        window.suppressed += 1;
        Admission::Suppress {
            first: window.suppressed == 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_recorded_up_to_the_limit_then_counted_then_summed_up() {
        const PER_MINUTE: u32 = 60;
        let limiter = RefusalLimiter::new(PER_MINUTE);
        let start = Instant::now();
        let flooder: IpAddr = "203.0.113.9".parse().expect("address");
        let other: IpAddr = "198.51.100.1".parse().expect("address");
        for _ in 0..PER_MINUTE {
            assert_eq!(limiter.admit(flooder, start), Admission::Record);
        }
        assert_eq!(
            limiter.admit(flooder, start),
            Admission::Suppress { first: true }
        );
        assert_eq!(
            limiter.admit(flooder, start + Duration::from_secs(59)),
            Admission::Suppress { first: false }
        );
        // Another address is not held back by the first.
        assert_eq!(limiter.admit(other, start), Admission::Record);
        // The next minute: recorded again, with the count of those that were not.
        assert_eq!(
            limiter.admit(flooder, start + WINDOW),
            Admission::RecordAfterSuppressed(2)
        );
        assert_eq!(limiter.admit(flooder, start + WINDOW), Admission::Record);
    }
}
