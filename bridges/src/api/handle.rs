//! The actor plumbing every bridge shares (tokio "actors with Tokio" pattern): a cheap
//! cloneable [`BridgeHandle`] sends [`BridgeRequest`]s over a bounded `mpsc` with a `oneshot`
//! for each reply; the bridge task owns the port and receives them through a [`BridgeInbox`];
//! events go out on a `broadcast` through an [`EventSender`].
//!
//! Concurrency rules: the request queue is bounded, so a caller waits (async) when the actor is
//! behind — back-pressure, not unbounded memory. The actor may keep a request's reply sender
//! while a radio transaction is in flight (a write is answered when the device confirms it);
//! it must not block its loop on one device. Every handle call also has an overall deadline
//! ([`BridgeHandle::with_request_timeout`]) so a stuck actor cannot hang a USP request: the
//! radio's own timeouts are shorter and produce the more precise error.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::capability::CapabilityId;
use super::device::{DeviceDescriptor, DeviceId};
use super::event::{BridgeEvent, RadioInfo};
use super::value::Value;
use super::vocab::ProxyProtocol;

/// Command arguments, input or output, by name.
pub type Args = BTreeMap<String, String>;

/// Why a bridge request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BridgeError {
    /// The device (or the radio) did not answer in time.
    #[error("timed out waiting for the device")]
    Timeout,
    /// The device or radio refused the request.
    #[error("refused: {0}")]
    Refused(String),
    /// No paired device with this id on this bridge.
    #[error("unknown device {0}")]
    UnknownDevice(DeviceId),
    /// The device has no such capability.
    #[error("unknown capability {0}")]
    UnknownCapability(CapabilityId),
    /// The value does not fit the capability.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// The radio is not usable now (unplugged, resetting, no adapter).
    #[error("radio offline")]
    RadioOffline,
    /// The bridge or device cannot do this at all.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The device is asleep and the request was not queued.
    #[error("device asleep")]
    Asleep,
    /// The bridge task has stopped.
    #[error("bridge stopped")]
    Stopped,
}

/// The reply half of one request.
pub type Reply<T> = oneshot::Sender<Result<T, BridgeError>>;

/// A request as the actor receives it.
#[derive(Debug)]
pub enum BridgeRequest {
    /// Open joining for `duration` (zero closes it).
    PermitJoin {
        /// How long.
        duration: Duration,
        /// Answered when the radio confirmed.
        reply: Reply<()>,
    },
    /// Remove (unpair) a device; `force` drops it even if it does not answer.
    Remove {
        /// The device.
        device: DeviceId,
        /// Drop from the registry even if the radio cannot reach it.
        force: bool,
        /// Answered when removed.
        reply: Reply<()>,
    },
    /// Set a capability's value.
    Write {
        /// The device.
        device: DeviceId,
        /// The capability.
        capability: CapabilityId,
        /// The new value.
        value: Value,
        /// Answered when the device confirmed.
        reply: Reply<()>,
    },
    /// Run a command (TR-181 `Toggle`/`StepUp`/`StepDown` or a vendor command).
    Invoke {
        /// The device.
        device: DeviceId,
        /// The capability it applies to; `None` for device-level commands.
        capability: Option<CapabilityId>,
        /// Command name without `()`.
        command: String,
        /// Input arguments.
        args: Args,
        /// Answered with output arguments.
        reply: Reply<Args>,
    },
    /// Re-read the device's values (and re-interview if `reinterview`).
    Refresh {
        /// The device.
        device: DeviceId,
        /// Also redo the interview.
        reinterview: bool,
        /// Answered when done.
        reply: Reply<()>,
    },
    /// List every paired device.
    Devices {
        /// Answered with the descriptors.
        reply: Reply<Vec<DeviceDescriptor>>,
    },
}

/// The radio's latest state, kept apart from the event stream so that a subscriber that
/// attached late (or lagged) can still read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RadioStatus {
    /// Whether the radio is usable (last `RadioState`).
    pub online: bool,
    /// Its last `RadioState` detail.
    pub detail: String,
    /// Whether joining is open (last `PermitJoin`).
    pub permit_join: bool,
    /// The radio's identity and network (last `RadioInfo`).
    pub info: Option<RadioInfo>,
}

/// The sending side of a bridge's event broadcast, kept by the actor.
#[derive(Debug, Clone)]
pub struct EventSender {
    events: broadcast::Sender<BridgeEvent>,
    status: Arc<watch::Sender<RadioStatus>>,
}

impl EventSender {
    /// Sends an event to every current subscriber; having none is not an error.
    pub fn emit(&self, event: BridgeEvent) {
        match &event {
            BridgeEvent::RadioState { online, detail } => self.status.send_modify(|s| {
                s.online = *online;
                s.detail.clone_from(detail);
            }),
            BridgeEvent::RadioInfo(info) => {
                self.status.send_modify(|s| s.info = Some(info.clone()));
            }
            BridgeEvent::PermitJoin { open, .. } => {
                self.status.send_modify(|s| s.permit_join = *open);
            }
            _ => {}
        }
        // Err only means "no subscriber right now", which is normal before the agent attaches.
        let _ = self.events.send(event);
    }

    /// A new subscription.
    pub fn subscribe(&self) -> broadcast::Receiver<BridgeEvent> {
        self.events.subscribe()
    }
}

/// What the actor task owns: the request queue and the event sender.
#[derive(Debug)]
pub struct BridgeInbox {
    /// Requests from all handles; `None` from `recv` means every handle is gone.
    pub requests: mpsc::Receiver<BridgeRequest>,
    /// Where the actor publishes events.
    pub events: EventSender,
}

/// Default overall deadline of one handle call.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// A cheap cloneable handle to one bridge actor.
#[derive(Debug, Clone)]
pub struct BridgeHandle {
    protocol: ProxyProtocol,
    requests: mpsc::Sender<BridgeRequest>,
    events: broadcast::Sender<BridgeEvent>,
    status: watch::Receiver<RadioStatus>,
    request_timeout: Duration,
}

/// Creates a handle and the actor's inbox: `queue` bounds pending requests, `event_capacity`
/// bounds how far a subscriber may lag before it sees `Lagged`.
pub fn bridge_channel(
    protocol: ProxyProtocol,
    queue: usize,
    event_capacity: usize,
) -> (BridgeHandle, BridgeInbox) {
    let (req_tx, req_rx) = mpsc::channel(queue.max(1));
    let (ev_tx, _) = broadcast::channel(event_capacity.max(1));
    let (status_tx, status_rx) = watch::channel(RadioStatus::default());
    let handle = BridgeHandle {
        protocol,
        requests: req_tx,
        events: ev_tx.clone(),
        status: status_rx,
        request_timeout: DEFAULT_REQUEST_TIMEOUT,
    };
    let inbox = BridgeInbox {
        requests: req_rx,
        events: EventSender {
            events: ev_tx,
            status: Arc::new(status_tx),
        },
    };
    (handle, inbox)
}

impl BridgeHandle {
    /// The same handle with another overall deadline per call.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The radio's `ProxyProtocol`.
    pub fn protocol(&self) -> &ProxyProtocol {
        &self.protocol
    }

    /// Subscribes to the bridge's events.
    pub fn subscribe(&self) -> broadcast::Receiver<BridgeEvent> {
        self.events.subscribe()
    }

    /// The radio's latest state (online, detail, joining open), whenever subscribed.
    pub fn status(&self) -> RadioStatus {
        self.status.borrow().clone()
    }

    /// A receiver that is notified whenever the radio's state changes.
    pub fn watch_status(&self) -> watch::Receiver<RadioStatus> {
        self.status.clone()
    }

    async fn call<T>(
        &self,
        make: impl FnOnce(Reply<T>) -> BridgeRequest,
    ) -> Result<T, BridgeError> {
        let (tx, rx) = oneshot::channel();
        let deadline = tokio::time::sleep(self.request_timeout);
        tokio::pin!(deadline);
        tokio::select! {
            sent = self.requests.send(make(tx)) => sent.map_err(|_| BridgeError::Stopped)?,
            () = &mut deadline => return Err(BridgeError::Timeout),
        }
        tokio::select! {
            // A dropped reply sender means the actor stopped (or dropped the request).
            r = rx => r.map_err(|_| BridgeError::Stopped)?,
            () = &mut deadline => Err(BridgeError::Timeout),
        }
    }

    /// Opens joining for `duration` (zero closes it).
    pub async fn permit_join(&self, duration: Duration) -> Result<(), BridgeError> {
        self.call(|reply| BridgeRequest::PermitJoin { duration, reply })
            .await
    }

    /// Removes a device; `force` drops it even when it cannot be reached.
    pub async fn remove(&self, device: DeviceId, force: bool) -> Result<(), BridgeError> {
        self.call(|reply| BridgeRequest::Remove {
            device,
            force,
            reply,
        })
        .await
    }

    /// Sets a capability's value; resolves when the device confirmed it.
    pub async fn write(
        &self,
        device: DeviceId,
        capability: CapabilityId,
        value: Value,
    ) -> Result<(), BridgeError> {
        self.call(|reply| BridgeRequest::Write {
            device,
            capability,
            value,
            reply,
        })
        .await
    }

    /// Runs a command on a device or one of its capabilities.
    pub async fn invoke(
        &self,
        device: DeviceId,
        capability: Option<CapabilityId>,
        command: impl Into<String>,
        args: Args,
    ) -> Result<Args, BridgeError> {
        let command = command.into();
        self.call(|reply| BridgeRequest::Invoke {
            device,
            capability,
            command,
            args,
            reply,
        })
        .await
    }

    /// Re-reads a device's values (and redoes its interview if `reinterview`).
    pub async fn refresh(&self, device: DeviceId, reinterview: bool) -> Result<(), BridgeError> {
        self.call(|reply| BridgeRequest::Refresh {
            device,
            reinterview,
            reply,
        })
        .await
    }

    /// Every paired device.
    pub async fn devices(&self) -> Result<Vec<DeviceDescriptor>, BridgeError> {
        self.call(|reply| BridgeRequest::Devices { reply }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::device::{BleAddress, Eui64};

    fn spawn_echo_actor(mut inbox: BridgeInbox) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while let Some(req) = inbox.requests.recv().await {
                match req {
                    BridgeRequest::PermitJoin { duration, reply } => {
                        inbox.events.emit(BridgeEvent::PermitJoin {
                            open: !duration.is_zero(),
                            remaining_s: duration.as_secs() as u32,
                        });
                        let _ = reply.send(Ok(()));
                    }
                    BridgeRequest::Write { device, reply, .. } => {
                        let _ = reply.send(Err(BridgeError::UnknownDevice(device)));
                    }
                    BridgeRequest::Invoke { args, reply, .. } => {
                        let _ = reply.send(Ok(args));
                    }
                    // Dropping the reply: the caller must see Stopped, not hang.
                    BridgeRequest::Refresh { .. } => {}
                    BridgeRequest::Remove { reply, .. } => {
                        let _ = reply.send(Err(BridgeError::RadioOffline));
                    }
                    BridgeRequest::Devices { reply } => {
                        let _ = reply.send(Ok(vec![DeviceDescriptor::new(DeviceId::Ble(
                            BleAddress([1, 2, 3, 4, 5, 6]),
                        ))]));
                    }
                }
            }
        })
    }

    #[tokio::test]
    async fn handle_requests_reach_the_actor_and_replies_come_back() {
        let (handle, inbox) = bridge_channel(ProxyProtocol::Ble, 4, 8);
        let mut events = handle.subscribe();
        let task = spawn_echo_actor(inbox);
        let h2 = handle.clone();
        h2.permit_join(Duration::from_secs(60)).await.unwrap();
        assert_eq!(
            events.recv().await.unwrap(),
            BridgeEvent::PermitJoin {
                open: true,
                remaining_s: 60
            }
        );
        assert!(handle.status().permit_join);
        let id = DeviceId::Zigbee(Eui64(1));
        assert_eq!(
            handle.write(id, "x".into(), Value::Bool(true)).await,
            Err(BridgeError::UnknownDevice(id))
        );
        let mut args = Args::new();
        args.insert("a".into(), "1".into());
        assert_eq!(
            handle.invoke(id, None, "Identify", args.clone()).await,
            Ok(args)
        );
        assert_eq!(handle.devices().await.unwrap().len(), 1);
        assert_eq!(
            handle.remove(id, true).await,
            Err(BridgeError::RadioOffline)
        );
        assert_eq!(handle.refresh(id, false).await, Err(BridgeError::Stopped));
        drop((handle, h2));
        task.await.unwrap();
    }

    #[tokio::test]
    async fn radio_status_survives_for_late_subscribers() {
        let (handle, inbox) = bridge_channel(ProxyProtocol::ZigBee, 1, 1);
        assert_eq!(handle.status(), RadioStatus::default());
        inbox.events.emit(BridgeEvent::RadioState {
            online: true,
            detail: "ZNP 2.7.1".into(),
        });
        // A subscriber attached now missed the event but still sees the state.
        let _late = handle.subscribe();
        assert!(handle.status().online);
        assert_eq!(handle.status().detail, "ZNP 2.7.1");
    }

    #[tokio::test]
    async fn stopped_actor_gives_stopped_error() {
        let (handle, inbox) = bridge_channel(ProxyProtocol::ZigBee, 1, 1);
        drop(inbox);
        assert_eq!(handle.devices().await, Err(BridgeError::Stopped));
    }

    #[tokio::test(start_paused = true)]
    async fn silent_actor_gives_timeout_after_the_deadline() {
        let (handle, mut inbox) = bridge_channel(ProxyProtocol::ZWave, 1, 1);
        let handle = handle.with_request_timeout(Duration::from_secs(5));
        let keep = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Some(req) = inbox.requests.recv().await {
                held.push(req);
            }
        });
        assert_eq!(
            handle.permit_join(Duration::from_secs(1)).await,
            Err(BridgeError::Timeout)
        );
        drop(handle);
        keep.await.unwrap();
    }
}
