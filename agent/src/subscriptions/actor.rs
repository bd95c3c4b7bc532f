//! The notifier task: owns the compiled Subscription table, the notifications awaiting
//! a NotifyResp and every timer; drives the [`Retry`] machines with tokio timers.
//!
//! Bounds: at most [`MAX_PENDING`] notifications await a NotifyResp; beyond that the
//! oldest is abandoned with a warning (a Controller that never answers must not grow the
//! agent's memory without limit).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::{Instant, sleep_until};
use usp_datamodel::{Change, DataModel, DateTime, Value};
use usp_proto::usp::{Msg, notify};

use super::boot::{self, BootInfo};
use super::message::{self, NotifType};
use super::periodic::Schedule;
use super::retry::{Action, Backoff, Input, Retry, State};
use super::table::{self, Snapshot, Subscription};
use super::{Command, ControllerLink};

/// Most notifications awaiting a NotifyResp at once.
pub const MAX_PENDING: usize = 1024;

/// A notification sent with `send_resp=true`, awaiting its NotifyResp.
struct Pending {
    /// Sending order, to abandon the oldest first.
    seq: u64,
    controller: String,
    subscription_path: String,
    subscription_id: String,
    msg: Msg,
    retry: Retry,
}

/// A subscription's TimeToLive deadline, kept while CreationDate and TimeToLive stay.
struct Expiry {
    creation: DateTime,
    ttl: u32,
    at: Instant,
}

/// Where one notification goes (owned, so sending can borrow the actor mutably).
struct Target {
    subscription_path: String,
    subscription_id: String,
    controller: String,
    retry: bool,
    expiration: u32,
    backoff: Backoff,
}

impl Target {
    fn new(s: &Subscription, c: &table::Controller) -> Target {
        Target {
            subscription_path: s.path.clone(),
            subscription_id: s.id.clone(),
            controller: c.endpoint_id.clone(),
            retry: s.notif_retry,
            expiration: s.notif_expiration,
            backoff: c.backoff,
        }
    }
}

pub(super) struct Actor {
    dm: DataModel,
    endpoint_id: String,
    link: Arc<dyn ControllerLink>,
    changes: broadcast::Receiver<Arc<Change>>,
    snapshot: Snapshot,
    dirty: bool,
    origin: Instant,
    msg_prefix: String,
    seq: u64,
    pending: BTreeMap<String, Pending>,
    expiries: HashMap<String, Expiry>,
    periodic: HashMap<String, Schedule>,
    /// The Boot! this actor published on the data model is still to come back on the
    /// change stream; it was already sent directly (with per-Controller ParameterMaps).
    boot_echo: bool,
    /// Who may be notified of what (the `n` permissions), in step with the change stream.
    access: crate::access::AccessCache,
}

impl Actor {
    /// Start-up: removes non-persistent subscriptions, loads the tables and sends Boot!.
    pub(super) async fn start(
        dm: DataModel,
        endpoint_id: String,
        link: Arc<dyn ControllerLink>,
        boot: &BootInfo,
    ) -> Actor {
        let prepared = prepare(&dm).await;
        let changes = dm.changes();
        let mut actor = Actor {
            dm,
            msg_prefix: format!("notify-{:08x}", rand::rng().random::<u32>()),
            endpoint_id,
            link,
            changes,
            snapshot: prepared,
            dirty: true,
            origin: Instant::now(),
            seq: 0,
            pending: BTreeMap::new(),
            expiries: HashMap::new(),
            periodic: HashMap::new(),
            boot_echo: false,
            access: crate::access::AccessCache::default(),
        };
        actor.reload().await;
        actor.send_boot(boot).await;
        actor
    }

    /// The event loop; ends on `stop` (or its sender being dropped) or when the data
    /// model is gone.
    pub(super) async fn run(
        mut self,
        mut commands: mpsc::Receiver<Command>,
        mut stop: oneshot::Receiver<()>,
    ) {
        tracing::debug!(agent = %self.endpoint_id, "notifier running");
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                biased;
                _ = &mut stop => break,
                Some(cmd) = commands.recv() => self.command(cmd),
                // Before the change stream, so a flood of changes cannot starve retries.
                () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                    self.timers().await;
                }
                received = self.changes.recv() => match received {
                    Ok(change) => self.change(change).await,
                    Err(RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "notifier fell behind the change stream; \
                            notifications for the missed changes are lost, resynchronising");
                        self.dirty = true;
                        self.reload().await;
                    }
                    Err(RecvError::Closed) => break,
                },
            }
        }
        tracing::debug!(agent = %self.endpoint_id, pending = self.pending.len(), "notifier stopped");
    }

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    fn next_deadline(&self) -> Option<Instant> {
        let retries = self
            .pending
            .values()
            .filter_map(|p| p.retry.deadline())
            .map(|d| self.origin + d);
        let ttl = self.expiries.values().map(|e| e.at);
        let periodic = self.periodic.values().map(|p| p.next);
        retries.chain(ttl).chain(periodic).min()
    }

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::NotifyResp {
                from,
                msg_id,
                subscription_id,
            } => {
                let matches = self
                    .pending
                    .get(&msg_id)
                    .is_some_and(|p| p.controller == from && p.subscription_id == subscription_id);
                if matches {
                    if let Some(mut p) = self.pending.remove(&msg_id) {
                        p.retry.step(Input::Response);
                    }
                    tracing::debug!(msg_id = %msg_id, controller = %from, "NotifyResp received");
                } else {
                    tracing::debug!(msg_id = %msg_id, controller = %from, subscription_id = %subscription_id,
                        "NotifyResp matches no pending notification");
                }
            }
        }
    }

    async fn change(&mut self, change: Arc<Change>) {
        let change: &Change = &change;
        if crate::access::change_affects_access(change) {
            self.access.invalidate();
        }
        let config = table::affects_snapshot(change);
        if config {
            self.dirty = true;
        }
        if self.boot_echo
            && let Change::Event {
                obj_path,
                event_name,
                ..
            } = change
            && obj_path == "Device."
            && event_name == "Boot!"
        {
            self.boot_echo = false;
            return;
        }
        // The changes of one Add/Set arrive together: re-read the tables once they are
        // in, or before anything else is matched.
        if self.dirty && (!config || self.changes.is_empty()) {
            self.reload().await;
        }
        let targets: Vec<Target> = self
            .snapshot
            .matching(&self.dm, change)
            .into_iter()
            .map(|(s, c)| Target::new(s, c))
            .filter(|t| self.may_notify(&t.controller, change))
            .collect();
        if targets.is_empty() {
            return;
        }
        let notification = message::notification(change);
        for t in &targets {
            self.deliver(t, notification.clone());
        }
    }

    /// Whether the Controller's role grants Notify on what changed: the parameter for
    /// ValueChange, the table for ObjectCreation, the instance for ObjectDeletion, the event
    /// or command for Event and OperationComplete.
    fn may_notify(&self, controller: &str, change: &Change) -> bool {
        use crate::access::{On, Perm};
        let access = self.access.get(&self.dm, controller);
        if access.grants_all() {
            return true;
        }
        let (on, path) = match change {
            Change::ValueChange { .. } => (On::Param, change.subject()),
            Change::ObjectCreation { path, .. } => (On::Obj, table_of(path)),
            Change::ObjectDeletion { .. } => (On::Instance, change.subject()),
            Change::Event { .. } | Change::OperationComplete { .. } => {
                (On::CommandEvent, change.subject())
            }
        };
        let ok = access.allows(&self.dm, on, Perm::Notify, &path);
        if !ok {
            tracing::debug!(%controller, %path, "no notify permission; notification withheld");
        }
        ok
    }

    /// Sends one Notify; keeps it for retries when the subscription asks for them.
    fn deliver(&mut self, t: &Target, notification: notify::Notification) {
        self.seq += 1;
        let msg_id = format!("{}-{}", self.msg_prefix, self.seq);
        let msg = message::notify_msg(&msg_id, &t.subscription_id, t.retry, notification);
        let kept = t.retry.then(|| msg.clone());
        match self.link.send(&t.controller, msg) {
            Ok(()) => tracing::debug!(msg_id = %msg_id, controller = %t.controller,
                subscription = %t.subscription_path, "Notify sent"),
            Err(e) => tracing::warn!(msg_id = %msg_id, controller = %t.controller, error = %e,
                retry = t.retry, "Notify not delivered"),
        }
        let Some(msg) = kept else { return };
        if self.pending.len() >= MAX_PENDING
            && let Some(oldest) = self
                .pending
                .iter()
                .min_by_key(|(_, p)| p.seq)
                .map(|(k, _)| k.clone())
        {
            tracing::warn!(msg_id = %oldest, "too many notifications awaiting NotifyResp; abandoning the oldest");
            self.pending.remove(&oldest);
        }
        let retry = Retry::new(t.backoff, t.expiration, self.now(), rand::rng().random());
        self.pending.insert(
            msg_id,
            Pending {
                seq: self.seq,
                controller: t.controller.clone(),
                subscription_path: t.subscription_path.clone(),
                subscription_id: t.subscription_id.clone(),
                msg,
                retry,
            },
        );
    }

    async fn timers(&mut self) {
        self.retry_timers();
        self.ttl_timers().await;
        self.periodic_timers();
    }

    fn retry_timers(&mut self) {
        let now = self.now();
        let due: Vec<String> = self
            .pending
            .iter()
            .filter(|(_, p)| p.retry.deadline().is_some_and(|d| d <= now))
            .map(|(k, _)| k.clone())
            .collect();
        for msg_id in due {
            let Some(p) = self.pending.get_mut(&msg_id) else {
                continue;
            };
            match p.retry.step(Input::Timeout {
                now,
                r: rand::rng().random(),
            }) {
                Action::Resend => {
                    tracing::debug!(msg_id = %msg_id, controller = %p.controller,
                        attempt = p.retry.retransmissions(), "retransmitting Notify");
                    if let Err(e) = self.link.send(&p.controller, p.msg.clone()) {
                        tracing::warn!(msg_id = %msg_id, controller = %p.controller, error = %e,
                            "Notify retransmission not delivered");
                    }
                }
                Action::Wait => {}
                Action::Finished => {
                    if p.retry.state() == State::Expired {
                        tracing::info!(msg_id = %msg_id, controller = %p.controller,
                            "no NotifyResp before NotifExpiration; giving up");
                    }
                    self.pending.remove(&msg_id);
                }
            }
        }
    }

    async fn ttl_timers(&mut self) {
        let now = Instant::now();
        let due: Vec<String> = self
            .expiries
            .iter()
            .filter(|(_, e)| e.at <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for path in due {
            self.expiries.remove(&path);
            tracing::info!(subscription = %path, "TimeToLive reached; deleting the subscription");
            if let Err(e) = self.dm.delete_instance(&path).await {
                tracing::warn!(subscription = %path, error = %e, "cannot delete expired subscription");
            }
        }
    }

    fn periodic_timers(&mut self) {
        let now = Instant::now();
        let mut due = Vec::new();
        for (path, schedule) in &mut self.periodic {
            if schedule.next <= now {
                schedule.advance(now);
                due.push(path.clone());
            }
        }
        for controller_path in due {
            let targets: Vec<Target> = self
                .snapshot
                .subscriptions
                .iter()
                .filter(|s| {
                    s.enabled
                        && s.notif_type == Some(NotifType::Event)
                        && s.recipient == controller_path
                })
                .filter(|s| {
                    s.refs
                        .iter()
                        .any(|r| self.dm.matches(r, "Device.Periodic!"))
                })
                .filter_map(|s| self.snapshot.recipient(s).map(|c| Target::new(s, c)))
                .collect();
            let event = notify::Notification::Event(notify::Event {
                obj_path: "Device.".into(),
                event_name: "Periodic!".into(),
                params: BTreeMap::new(),
            });
            for t in &targets {
                self.deliver(t, event.clone());
            }
        }
    }

    /// Sends Boot! to each subscribed Controller with its own ParameterMap, then
    /// publishes it on the data model for in-process listeners.
    async fn send_boot(&mut self, info: &BootInfo) {
        let targets: Vec<(Target, Vec<String>)> = self
            .snapshot
            .subscriptions
            .iter()
            .filter(|s| s.enabled && s.notif_type == Some(NotifType::Event))
            .filter(|s| s.refs.iter().any(|r| self.dm.matches(r, "Device.Boot!")))
            .filter_map(|s| {
                let c = self.snapshot.recipient(s)?;
                Some((Target::new(s, c), c.boot_parameters.clone()))
            })
            .collect();
        for (t, names) in &targets {
            let map = boot::parameter_map(&self.dm, names).await;
            let event = notify::Notification::Event(notify::Event {
                obj_path: "Device.".into(),
                event_name: "Boot!".into(),
                params: info.args(map),
            });
            self.deliver(t, event);
        }
        match self
            .dm
            .emit_event("Device.", "Boot!", info.args("{}".into()))
        {
            Ok(()) => self.boot_echo = true,
            Err(e) => tracing::debug!(error = %e, "Boot! not published on the data model"),
        }
    }

    /// Re-reads the tables; fills in unknown CreationDates; refreshes the TimeToLive and
    /// Periodic! timers; drops retries of subscriptions that are gone.
    async fn reload(&mut self) {
        self.dirty = false;
        let mut snap = Snapshot::load(&self.dm, &self.snapshot).await;
        // TR-181 Recipient is a reference with "delete" semantics: a subscription goes
        // with the Controller row it points to.
        let orphans = snap.orphans();
        snap.subscriptions.retain(|s| !orphans.contains(&s.path));
        for path in &orphans {
            tracing::info!(subscription = %path, "recipient Controller deleted; deleting the subscription");
            if let Err(e) = self.dm.delete_instance(path).await {
                tracing::warn!(subscription = %path, error = %e, "cannot delete orphaned subscription");
            }
        }
        for s in &mut snap.subscriptions {
            if s.creation_date.is_none() {
                s.creation_date = set_creation_date(&self.dm, &s.path).await;
            }
        }
        self.refresh_expiries(&snap);
        self.refresh_periodic(&snap);
        self.pending.retain(|_, p| {
            snap.subscriptions
                .iter()
                .any(|s| s.path == p.subscription_path && s.id == p.subscription_id)
        });
        tracing::debug!(
            subscriptions = snap.subscriptions.len(),
            controllers = snap.controllers.len(),
            "subscription table loaded"
        );
        self.snapshot = snap;
    }

    fn refresh_expiries(&mut self, snap: &Snapshot) {
        let mut next = HashMap::new();
        for s in &snap.subscriptions {
            let (Some(creation), ttl) = (s.creation_date, s.time_to_live) else {
                continue;
            };
            if ttl == 0 {
                continue;
            }
            let keep = self
                .expiries
                .remove(&s.path)
                .filter(|e| e.creation == creation && e.ttl == ttl);
            let expiry = keep.unwrap_or_else(|| {
                let end = creation.unix_secs().saturating_add(i64::from(ttl));
                let left =
                    u64::try_from(end.saturating_sub(DateTime::now().unix_secs())).unwrap_or(0);
                Expiry {
                    creation,
                    ttl,
                    at: Instant::now() + Duration::from_secs(left),
                }
            });
            next.insert(s.path.clone(), expiry);
        }
        self.expiries = next;
    }

    fn refresh_periodic(&mut self, snap: &Snapshot) {
        let mut next = HashMap::new();
        for c in snap
            .controllers
            .iter()
            .filter(|c| c.enabled && c.periodic_interval > 0)
        {
            let keep = self
                .periodic
                .remove(&c.path)
                .filter(|p| p.same_settings(c.periodic_interval, c.periodic_time));
            let timer = keep.unwrap_or_else(|| {
                Schedule::new(
                    c.periodic_interval,
                    c.periodic_time,
                    Instant::now(),
                    DateTime::now(),
                )
            });
            next.insert(c.path.clone(), timer);
        }
        self.periodic = next;
    }
}

/// Start-up clean-up, before the change stream is read (so none of it is notified):
/// deletes every Persistent=false subscription (they must not outlive the agent run
/// that created them) and dates the rows whose CreationDate is unknown.
/// Returns the tables as read before the clean-up.
async fn prepare(dm: &DataModel) -> Snapshot {
    let snap = Snapshot::load(dm, &Snapshot::default()).await;
    for s in &snap.subscriptions {
        if !s.persistent {
            tracing::info!(subscription = %s.path, "removing non-persistent subscription at start-up");
            if let Err(e) = dm.delete_instance(&s.path).await {
                tracing::warn!(subscription = %s.path, error = %e, "cannot remove non-persistent subscription");
            }
        } else if s.creation_date.is_none() {
            set_creation_date(dm, &s.path).await;
        }
    }
    snap
}

/// Sets a row's CreationDate to now; returns it on success.
async fn set_creation_date(dm: &DataModel, row: &str) -> Option<DateTime> {
    let now = DateTime::now();
    match dm
        .set_value(&format!("{row}CreationDate"), Value::DateTime(now))
        .await
    {
        Ok(_) => Some(now),
        Err(e) => {
            tracing::warn!(subscription = %row, error = %e, "cannot set CreationDate");
            None
        }
    }
}

/// `Device.X.3.` → `Device.X.` (the table an instance belongs to).
fn table_of(instance: &str) -> String {
    let trimmed = instance.trim_end_matches('.');
    match trimmed.rsplit_once('.') {
        Some((table, _)) => format!("{table}."),
        None => instance.to_string(),
    }
}
