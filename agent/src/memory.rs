//! Keeping the daemon's resident memory close to what it uses. glibc's allocator, left to
//! itself, keeps what a large answer (a full-tree Get of hundreds of devices) freed: its
//! mmap threshold grows after the first big free, so later big buffers come from the heap,
//! and one arena per worker thread multiplies the idle footprint. The agent fixes the
//! thresholds and the arena count at start-up and returns freed memory after large answers.
//! On other C libraries these are no-ops.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(all(target_os = "linux", target_env = "gnu"))]
use std::time::Duration;

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

/// A trim is scheduled and has not run yet.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
static PENDING: AtomicBool = AtomicBool::new(false);

#[cfg(all(target_os = "linux", target_env = "gnu"))]
/// Delay between a large answer and the trim: a burst of large answers is followed by one
/// trim, after the last of them has been written and freed.
const SETTLE: Duration = Duration::from_millis(250);

/// Returns freed heap memory to the system shortly after, off the async workers; calls
/// while a trim is pending share it.
pub fn trim_soon() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        if PENDING.swap(true, Ordering::AcqRel) {
            return;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            PENDING.store(false, Ordering::Release);
            return;
        };
        rt.spawn(async {
            tokio::time::sleep(SETTLE).await;
            PENDING.store(false, Ordering::Release);
            let _ = tokio::task::spawn_blocking(|| {
                // SAFETY: malloc_trim only releases free memory; it is thread-safe.
                unsafe { libc::malloc_trim(0) };
            })
            .await;
        });
    }
}
