//! Keeping the daemon's resident memory close to what it uses. glibc's allocator, left to
//! itself, keeps what a large answer (a full-tree Get of hundreds of devices) freed: its
//! mmap threshold grows after the first big free, so later big buffers come from the heap,
//! and one arena per worker thread multiplies the idle footprint. The agent fixes the
//! thresholds and the arena count at start-up and returns freed memory after large answers.
//! On other C libraries these are no-ops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Answers at least this large are followed by a trim.
pub const LARGE_ANSWER: usize = 256 * 1024;

/// Sets the allocator's thresholds; call once, before other threads start.
pub fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator parameters; called before the runtime starts
    // its threads. A refused value (return 0) leaves glibc's default, which is harmless.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 * 1024);
    }
}

/// Seconds since the epoch of the last trim (at most one per second).
static LAST_TRIM: AtomicU64 = AtomicU64::new(0);

/// Returns freed heap memory to the system, off the async workers, at most once a second.
pub fn trim_soon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let last = LAST_TRIM.load(Ordering::Relaxed);
        if now == last
            || LAST_TRIM
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn_blocking(|| {
                // SAFETY: malloc_trim only releases free memory; it is thread-safe.
                unsafe { libc::malloc_trim(0) };
            });
        }
    }
}
