//! Crash points for tests of durability (debug builds only): with `TAD_TEST_CRASH_AT=<point>`
//! in its environment, the process aborts when it reaches that point, as a `kill -9` there
//! would end it, so a test can hit a window of a few milliseconds every time. Release builds
//! compile every point to nothing.

/// After every host of a step recorded its success, before the step's end is written.
pub(crate) const STEP_HOSTS_SUCCEEDED: &str = "step-hosts-succeeded";
/// After a run's work ended, before its ending is written.
pub(crate) const BEFORE_RUN_END: &str = "before-run-end";
/// A host task of a resumed step is connected to its host, before what its earlier attempts
/// left there is reaped.
pub(crate) const BEFORE_REAP: &str = "before-reap";
/// The reap found that an earlier attempt completed the step on its host, before that outcome is
/// recorded.
pub(crate) const AFTER_REAP: &str = "after-reap";

/// Aborts the process when `TAD_TEST_CRASH_AT` names `point` (debug builds only).
pub(crate) fn reached(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("TAD_TEST_CRASH_AT").is_ok_and(|wanted| wanted == point) {
        eprintln!("tad: crash point {point} reached (TAD_TEST_CRASH_AT): aborting");
        std::process::abort();
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}
