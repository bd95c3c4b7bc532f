//! Waiting for the signals that end the daemon: SIGINT (Ctrl-C) and SIGTERM (systemd's
//! stop), so both shut the agent down cleanly and persist what is pending.

use tokio::signal::unix::{SignalKind, signal};
use tracing::{error, info};

/// Resolves on the first SIGINT or SIGTERM. When no handler can be installed it logs why and
/// resolves at once: a daemon that cannot be stopped cleanly should not start serving.
pub async fn terminated() {
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            error!(error = %e, "cannot install a SIGTERM handler");
            return;
        }
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => match r {
            Ok(()) => info!("SIGINT received"),
            Err(e) => error!(error = %e, "cannot wait for SIGINT"),
        },
        _ = term.recv() => info!("SIGTERM received"),
    }
}
