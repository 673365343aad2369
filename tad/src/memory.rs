//! Keeps the process's resident memory close to what it uses, on glibc: bounded allocator arenas
//! and large blocks returned at once (set at startup), and freed memory handed back to the system
//! when a run ends.
//!
//! Without this, glibc keeps what bursts freed: each password hash (argon2, 19 MiB) and each
//! package sync raise its mmap threshold, so later large blocks come from arenas that never
//! shrink, and every thread of the blocking pool may get an arena of its own. A 200-host step
//! measured 160–173 MiB peak that way against 93 MiB with these settings (bench/README.md).
//! Setting `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES` leaves the allocator as the environment says.

/// glibc's parameters for this process (see mallopt(3)).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const SETTINGS: [(libc::c_int, libc::c_int); 3] = [
    // Two arenas: the async runtime's threads and the blocking pool share them instead of one
    // arena per thread (up to 8 per core), each holding its own freed memory.
    (libc::M_ARENA_MAX, 2),
    // Blocks from 128 KiB up are mapped on their own and unmapped when freed; a fixed value also
    // stops glibc from raising the threshold after each large free (up to 32 MiB).
    (libc::M_MMAP_THRESHOLD, 128 * 1024),
    // Free memory above 1 MiB at the top of the heap goes back to the system.
    (libc::M_TRIM_THRESHOLD, 1024 * 1024),
];

/// Sets the allocator's parameters. Call first thing in `main`, before any thread starts.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let chosen_by_environment = ["MALLOC_ARENA_MAX", "GLIBC_TUNABLES"]
            .iter()
            .any(|name| std::env::var_os(name).is_some());
        if chosen_by_environment {
            return;
        }
        for (parameter, value) in SETTINGS {
            // SAFETY: mallopt only changes allocator parameters; it is called before any other
            // thread exists, with parameters and values glibc documents.
            #[allow(unsafe_code)]
            unsafe {
                libc::mallopt(parameter, value);
            }
        }
    }
}

/// Hands the free memory of every arena back to the system (pages in the middle of the heap
/// too). Takes a few milliseconds; call it when the process has just become idle.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages to the system; it takes the arenas' locks
    // itself and may be called from any thread at any time.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}
