//! The hot-plug half of auto-start, without the bridges: turns [`DongleChange`]s into
//! "start a bridge for this stick" / "stop that bridge" actions by the policy, remembers what
//! was started, and keeps started ports from being probed. The agent owns the bridges and
//! only has to carry out the actions.
//!
//! A stick is known by its [`Identified::stable_key`] (by-id link, else USB ids + serial +
//! interface, else the device path): when it is re-plugged, even into another socket, the
//! `Start` carries the same key, so the agent resumes the same bridge state (device registry,
//! instance numbers) instead of creating a new one.

use std::collections::BTreeMap;

use usphub_bridges::api::SerialPortSpec;

use crate::hotplug::{DongleChange, DongleTracker, HotplugSource};
use crate::identify::Identified;
use crate::policy::{AutoStartConfig, Decision, decide};
use crate::sysfs::SysRoots;
use crate::usbid::Firmware;

/// What the agent should do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Start (or resume) the bridge for this stick.
    Start {
        /// Stable identity of the stick: the agent's key for the bridge's state.
        key: String,
        /// Which backend.
        firmware: Firmware,
        /// The port to open.
        port: SerialPortSpec,
        /// Everything known about it.
        stick: Identified,
    },
    /// Stop the bridge started for this stick (it was unplugged); keep its state.
    Stop {
        /// The key given at `Start`.
        key: String,
        /// What was unplugged.
        stick: Identified,
    },
    /// A stick appeared that the policy leaves alone (listed by `usphub dongles`).
    Ignored {
        /// What appeared.
        stick: Identified,
        /// Why it is not started.
        reason: &'static str,
    },
}

/// Auto-start state: the tracker, the policy's configuration and the running set.
#[derive(Debug)]
pub struct AutoStart {
    tracker: DongleTracker,
    config: AutoStartConfig,
    /// Device path → key of the stick a bridge was started for.
    running: BTreeMap<String, String>,
}

impl AutoStart {
    /// Auto-start over `tracker` with `config`.
    pub fn new(tracker: DongleTracker, config: AutoStartConfig) -> Self {
        Self {
            tracker,
            config,
            running: BTreeMap::new(),
        }
    }

    /// The sticks present now, identified.
    pub fn tracker(&self) -> &DongleTracker {
        &self.tracker
    }

    /// Marks a port some other part of the agent has open (a radio its configuration names):
    /// it is never probed. Its appearance still yields an action; the agent recognises it.
    pub fn mark_busy(&mut self, path: impl Into<std::path::PathBuf>) {
        self.tracker.mark_busy(path);
    }

    /// Identifies the sticks present at start-up and returns an action for each.
    pub async fn scan(&mut self, roots: &SysRoots) -> std::io::Result<Vec<Action>> {
        let changes = self.tracker.scan(roots).await?;
        Ok(changes.into_iter().filter_map(|c| self.act(c)).collect())
    }

    /// Waits for the next hot-plug change that needs an action; `None` when `source` ends.
    pub async fn next_action(&mut self, source: &mut dyn HotplugSource) -> Option<Action> {
        loop {
            let change = self.tracker.next_change(source).await?;
            if let Some(action) = self.act(change) {
                return Some(action);
            }
        }
    }

    /// The action for one change; `None` for the removal of a stick nothing was started for.
    pub fn act(&mut self, change: DongleChange) -> Option<Action> {
        match change {
            DongleChange::Appeared(stick) => match decide(&self.config, &stick) {
                Decision::Start { firmware, port } => {
                    let key = stick.stable_key();
                    self.tracker.mark_busy(stick.path.clone());
                    if let Some(by_id) = &stick.by_id {
                        self.tracker.mark_busy(by_id.clone());
                    }
                    self.running.insert(stick.path.clone(), key.clone());
                    Some(Action::Start {
                        key,
                        firmware,
                        port,
                        stick,
                    })
                }
                Decision::Ignore(reason) => Some(Action::Ignored { stick, reason }),
            },
            DongleChange::Gone(stick) => {
                let key = self.running.remove(&stick.path)?;
                self.tracker.mark_free(std::path::Path::new(&stick.path));
                if let Some(by_id) = &stick.by_id {
                    self.tracker.mark_free(by_id);
                }
                Some(Action::Stop { key, stick })
            }
        }
    }
}
