//! Message Transfer Protocols (TR-369 "Message Transfer Protocols"): how USP Records reach
//! the agent and leave it.
//!
//! Every MTP is an actor: a task that owns its sockets, fed through an [`MtpSender`] and
//! reporting its link state on a `watch` of [`MtpStatus`]. What the handlers see is only:
//!
//! - one shared `mpsc::Receiver<Inbound>`: each [`Inbound`] is a Record's bytes plus the
//!   [`Route`] to answer on (the MQTT Response Topic, or the WebSocket connection it came on);
//! - an [`MtpRouter`]: `send(&route, bytes)` to answer on a Route or to reach a Controller
//!   (MQTT topic, or the WebSocket connection of an EndpointID) for notifications.
//!
//! Adding UDS or STOMP is adding an actor that consumes [`Outbound`] and produces
//! [`Inbound`]; the handlers do not change.
//!
//! The MTPs: [`mqtt`] (MQTT 5 client), [`websocket`] (server and client), both with TLS on
//! rustls + ring ([`tls`]), reconnecting with [`retry`]'s TR-369 back-off; the agent's
//! connect and Disconnect Records (R-MTP.6/7) are sent by the MTPs themselves.
//! [`controller_client`] runs the same code as a Controller (for `usphub ctl` and tests).
//! Records are not decoded here, except that a WebSocket frame that is no protobuf Record
//! closes its session (R-WS.16).
//!
//! # Queues and what happens when they are full
//! - Outbound: each MTP admits at most `queue_capacity` Records that it has not finished with
//!   (MQTT: not yet acknowledged by the broker's PUBACK; WebSocket: not yet written to the
//!   socket). A send beyond that fails at once with [`MtpError::QueueFull`]: nothing ever
//!   blocks the caller, and the USP layer (NotifRetry) decides what to retry.
//! - Inbound: the shared channel is bounded by whoever creates it. When it is full the MTP
//!   stops reading its sockets (TCP back-pressure towards the broker or Controller) but keeps
//!   accepting outbound Records, so a handler waiting to send never deadlocks an MTP.

pub mod controller_client;
pub mod mqtt;
pub mod retry;
pub mod tls;
pub mod websocket;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinHandle;

/// A byte stream an MTP runs on: plain TCP or TLS over TCP.
pub trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Io for T {}

/// The DisconnectRecord an agent sends before ending a session with a Controller (R-MTP.7).
pub fn disconnect_record(to_id: &str, from_id: &str, reason: &str) -> Bytes {
    use usp_proto::usp_record::{DisconnectRecord, Record, record::RecordType};
    let rec = Record {
        version: usp_proto::USP_VERSION.to_string(),
        to_id: to_id.to_string(),
        from_id: from_id.to_string(),
        payload_security: 0,
        mac_signature: Vec::new(),
        sender_cert: Vec::new(),
        record_type: Some(RecordType::Disconnect(DisconnectRecord {
            reason: reason.to_string(),
            reason_code: 0,
        })),
    };
    usp_proto::builder::encode_record(&rec).into()
}

/// Identifies one running MTP (e.g. the instance number of `Device.LocalAgent.MTP.{i}.`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MtpId(pub u32);

impl fmt::Display for MtpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "mtp{}", self.0)
    }
}

/// Identifies one WebSocket connection of a WebSocket MTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Where a Record goes, inside one MTP.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// An MQTT topic: a PUBLISH's Response Topic, or a Controller's configured topic.
    MqttTopic(String),
    /// A PUBLISH arrived without a Response Topic: answer on the topic configured for the
    /// sending Controller (its EndpointID is the Record's `from_id`). Not sendable as is.
    MqttNoReplyTopic,
    /// The WebSocket connection a Record came on.
    WebSocketConn(ConnId),
    /// Whatever WebSocket connection currently carries this EndpointID (notifications).
    WebSocketEndpoint(String),
}

/// Which MTP to use and where to send within it: a reply path or a Controller's address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Route {
    /// The MTP.
    pub mtp: MtpId,
    /// The address inside that MTP.
    pub to: Address,
}

/// A Record received by an MTP, with the way back to its sender.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The encoded Record, not yet decoded.
    pub bytes: Bytes,
    /// Where an answer goes.
    pub reply_to: Route,
}

/// A Record handed to an MTP actor, holding its slot in the MTP's bounded queue.
#[derive(Debug)]
pub struct Outbound {
    /// The address inside the MTP.
    pub to: Address,
    /// The encoded Record.
    pub bytes: Bytes,
    /// Released when the MTP is done with the Record (acknowledged, written or dropped).
    pub permit: OwnedSemaphorePermit,
}

/// Why an MTP refused a Record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MtpError {
    /// The MTP already holds `queue_capacity` unfinished Records.
    #[error("{0}: outbound queue full")]
    QueueFull(MtpId),
    /// The MTP has stopped.
    #[error("{0}: stopped")]
    Closed(MtpId),
    /// No MTP with this id is registered in the router.
    #[error("{0}: no such MTP")]
    UnknownMtp(MtpId),
    /// The address cannot be sent to (e.g. [`Address::MqttNoReplyTopic`]).
    #[error("{0}: cannot send to {1:?}")]
    BadAddress(MtpId, Address),
    /// Connecting or configuring failed.
    #[error("{0}")]
    Connect(String),
    /// Waiting for a Record or a state timed out.
    #[error("timed out: {0}")]
    Timeout(&'static str),
}

/// The sending side of one MTP actor; cheap to clone.
#[derive(Debug, Clone)]
pub struct MtpSender {
    id: MtpId,
    tx: mpsc::UnboundedSender<Outbound>,
    slots: Arc<Semaphore>,
}

impl MtpSender {
    /// A sender and the actor's receiving end, admitting `capacity` unfinished Records.
    pub fn channel(id: MtpId, capacity: usize) -> (MtpSender, mpsc::UnboundedReceiver<Outbound>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let slots = Arc::new(Semaphore::new(capacity.max(1)));
        (MtpSender { id, tx, slots }, rx)
    }

    /// The MTP this sender feeds.
    pub fn id(&self) -> MtpId {
        self.id
    }

    /// Queues a Record for `to`; never waits (see the module docs for the bound).
    pub fn send(&self, to: Address, bytes: impl Into<Bytes>) -> Result<(), MtpError> {
        if to == Address::MqttNoReplyTopic {
            return Err(MtpError::BadAddress(self.id, to));
        }
        let permit = Arc::clone(&self.slots)
            .try_acquire_owned()
            .map_err(|e| match e {
                tokio::sync::TryAcquireError::Closed => MtpError::Closed(self.id),
                tokio::sync::TryAcquireError::NoPermits => MtpError::QueueFull(self.id),
            })?;
        let out = Outbound {
            to,
            bytes: bytes.into(),
            permit,
        };
        self.tx.send(out).map_err(|_| MtpError::Closed(self.id))
    }

    /// How many more Records the MTP admits right now.
    pub fn free_slots(&self) -> usize {
        self.slots.available_permits()
    }
}

/// All running MTPs by id: what handlers and the notification engine send through.
#[derive(Debug, Clone, Default)]
pub struct MtpRouter {
    senders: HashMap<MtpId, MtpSender>,
}

impl MtpRouter {
    /// An empty router.
    pub fn new() -> MtpRouter {
        MtpRouter::default()
    }

    /// Registers (or replaces) an MTP.
    pub fn insert(&mut self, sender: MtpSender) {
        self.senders.insert(sender.id(), sender);
    }

    /// Removes an MTP.
    pub fn remove(&mut self, id: MtpId) -> Option<MtpSender> {
        self.senders.remove(&id)
    }

    /// The sender of one MTP.
    pub fn get(&self, id: MtpId) -> Option<&MtpSender> {
        self.senders.get(&id)
    }

    /// Sends a Record on a Route (an [`Inbound::reply_to`] or a Controller's address).
    pub fn send(&self, route: &Route, bytes: impl Into<Bytes>) -> Result<(), MtpError> {
        self.senders
            .get(&route.mtp)
            .ok_or(MtpError::UnknownMtp(route.mtp))?
            .send(route.to.clone(), bytes)
    }
}

/// The link state of an MTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Connecting, subscribing or waiting to retry.
    Connecting,
    /// Able to carry Records (MQTT: subscribed; WebSocket server: listening; client: open).
    Up,
    /// Lost the link; retrying.
    Down,
    /// Stopped on an error that retrying will not fix (configuration, refused credentials).
    Error,
    /// Turned off by configuration (`Device.MQTT.Client.{i}.Enable` false).
    Disabled,
}

/// What an MTP reports about itself, for `Device.LocalAgent.MTP.{i}.Status` and
/// `Device.MQTT.Client.{i}.Status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtpStatus {
    /// The link state.
    pub state: LinkState,
    /// A human-readable detail (last error, address listened on, ...).
    pub detail: String,
    /// MQTT: the "reply to" topic in use (ResponseTopicDiscovered when the broker gave one).
    pub response_topic: Option<String>,
    /// WebSocket server: the address actually bound (useful with port 0).
    pub local_addr: Option<std::net::SocketAddr>,
}

impl MtpStatus {
    /// A status with only a state and a detail.
    pub fn new(state: LinkState, detail: impl Into<String>) -> MtpStatus {
        MtpStatus {
            state,
            detail: detail.into(),
            response_topic: None,
            local_addr: None,
        }
    }

    /// The `Device.LocalAgent.MTP.{i}.Status` enumeration value.
    pub fn local_agent_mtp_status(&self) -> &'static str {
        match self.state {
            LinkState::Up => "Up",
            LinkState::Connecting | LinkState::Down | LinkState::Disabled => "Down",
            LinkState::Error => "Error",
        }
    }

    /// The `Device.MQTT.Client.{i}.Status` enumeration value.
    pub fn mqtt_client_status(&self) -> &'static str {
        match self.state {
            LinkState::Connecting => "Connecting",
            LinkState::Up => "Connected",
            LinkState::Down => "Error_BrokerUnreachable",
            LinkState::Error => "Error_Misconfigured",
            LinkState::Disabled => "Disabled",
        }
    }
}

/// A running MTP: its sender, its status and its task.
#[derive(Debug)]
pub struct MtpHandle {
    /// Feeds the actor.
    pub sender: MtpSender,
    /// The actor's link state.
    pub status: watch::Receiver<MtpStatus>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl MtpHandle {
    fn new(
        sender: MtpSender,
        status: watch::Receiver<MtpStatus>,
        shutdown: tokio::sync::oneshot::Sender<()>,
        task: JoinHandle<()>,
    ) -> MtpHandle {
        MtpHandle {
            sender,
            status,
            shutdown: Some(shutdown),
            task,
        }
    }

    /// The MTP's id.
    pub fn id(&self) -> MtpId {
        self.sender.id()
    }

    /// Waits until the MTP reports `state` (or until `timeout`).
    pub async fn wait_for(
        &mut self,
        state: LinkState,
        timeout: std::time::Duration,
    ) -> Result<MtpStatus, MtpError> {
        wait_for_state(&mut self.status, state, timeout).await
    }

    /// Stops the actor (closing its connections politely) and waits for it to end.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for MtpHandle {
    fn drop(&mut self) {
        // The actor must not outlive its handle: it owns sockets and a listening port.
        if self.shutdown.is_some() {
            self.task.abort();
        }
    }
}

/// Waits on a status watch until it reports `state`.
pub async fn wait_for_state(
    status: &mut watch::Receiver<MtpStatus>,
    state: LinkState,
    timeout: std::time::Duration,
) -> Result<MtpStatus, MtpError> {
    let fut = status.wait_for(|s| s.state == state);
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(s)) => Ok(s.clone()),
        Ok(Err(_)) => Err(MtpError::Connect("MTP stopped".into())),
        Err(_) => Err(MtpError::Timeout("MTP state")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn send_beyond_capacity_fails_at_once_and_slot_returns_when_done() {
        let (tx, mut rx) = MtpSender::channel(MtpId(1), 2);
        tx.send(Address::MqttTopic("a".into()), vec![1]).unwrap();
        tx.send(Address::MqttTopic("a".into()), vec![2]).unwrap();
        assert_eq!(
            tx.send(Address::MqttTopic("a".into()), vec![3]),
            Err(MtpError::QueueFull(MtpId(1)))
        );
        let first = rx.recv().await.unwrap();
        drop(first);
        assert_eq!(tx.free_slots(), 1);
        tx.send(Address::MqttTopic("a".into()), vec![4]).unwrap();
    }

    #[tokio::test]
    async fn router_refuses_unknown_mtp_and_unsendable_address() {
        let (tx, _rx) = MtpSender::channel(MtpId(3), 4);
        let mut router = MtpRouter::new();
        router.insert(tx);
        let unknown = Route {
            mtp: MtpId(9),
            to: Address::MqttTopic("t".into()),
        };
        assert_eq!(
            router.send(&unknown, vec![1]),
            Err(MtpError::UnknownMtp(MtpId(9)))
        );
        let no_reply = Route {
            mtp: MtpId(3),
            to: Address::MqttNoReplyTopic,
        };
        assert!(matches!(
            router.send(&no_reply, vec![1]),
            Err(MtpError::BadAddress(..))
        ));
    }

    #[tokio::test]
    async fn send_to_stopped_actor_is_closed() {
        let (tx, rx) = MtpSender::channel(MtpId(2), 4);
        drop(rx);
        assert_eq!(
            tx.send(Address::WebSocketConn(ConnId(1)), vec![1]),
            Err(MtpError::Closed(MtpId(2)))
        );
    }
}
