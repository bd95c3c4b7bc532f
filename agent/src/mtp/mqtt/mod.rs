//! The MQTT 5 MTP (TR-369 "MQTT Binding"), on rumqttc's v5 client.
//!
//! What the binding asks and where it is done:
//! - CONNECT carries the user property `usp-endpoint-id` (R-MQTT.13) and asks for Response
//!   Information (R-MQTT.12); the socket has TCP_NODELAY.
//! - After CONNACK one SUBSCRIBE carries the configured topic, every `subscribe-topic` user
//!   property of the CONNACK and the Response Information topic (R-MQTT.15). Nothing is
//!   published before the SUBACK, nor at all if no filter was accepted (R-MQTT.17).
//! - The "reply to" topic is the CONNACK's Response Information when present (R-MQTT.21),
//!   otherwise the configured topic; every PUBLISH carries it as Response Topic and has
//!   Content Type `usp.msg` (R-MQTT.22/23/27).
//! - Once subscribed, an MQTTConnect Record goes to every configured Controller.
//! - Incoming PUBLISHes answer to their Response Topic (R-MQTT.26); without one the
//!   [`Address::MqttNoReplyTopic`] tells the handler to use the Controller's configured topic.
//! - A lost broker puts the MTP in retry (R-MQTT.33) with the [`RetryPolicy`](crate::mtp::retry::RetryPolicy) back-off.
//!
//! # Delivery across broker restarts
//! The actor keeps every Record until the broker acknowledges it (PUBACK at QoS 1, written at
//! QoS 0). On a lost connection all unacknowledged Records go back to the head of the queue,
//! in their original order, and are published again once the new session is subscribed. The
//! session always starts clean, so rumqttc's own replay (which a broker restart without
//! persistence would discard anyway) never duplicates ours.
//!
//! rumqttc reports `Outgoing::Publish(pkid)` in the order publishes leave its request queue,
//! which is the order this actor handed them over: that is how a packet id is matched to a
//! Record. Its event loop runs in a companion task that, after an error, waits for this actor
//! before reconnecting, so no Record can slip into a session before it is subscribed.

mod config;

pub use config::{MqttConfig, MqttPeer, MqttQos};

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use bytes::Bytes;
use rumqttc::Outgoing;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{ConnAck, Filter, Packet, PublishProperties, SubscribeReasonCode};
use rumqttc::v5::{AsyncClient, ConnectionError, Event, EventLoop};
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot, watch};
use tracing::{debug, info, warn};

use super::{Address, Inbound, LinkState, MtpHandle, MtpId, MtpSender, MtpStatus, Route};

/// The Content Type of a PUBLISH carrying a USP Record (R-MQTT.27).
pub const USP_CONTENT_TYPE: &str = "usp.msg";
/// The registered MIME type, also accepted on receipt (R-MQTT.27a).
pub const USP_MIME_TYPE: &str = "application/vnd.bbf.usp.msg";
/// The CONNECT user property naming the Endpoint (R-MQTT.13).
pub const ENDPOINT_ID_PROPERTY: &str = "usp-endpoint-id";
/// The CONNACK user property naming topics to subscribe to (R-MQTT.15).
pub const SUBSCRIBE_TOPIC_PROPERTY: &str = "subscribe-topic";

/// Records handed to rumqttc and not yet reported as written; bounds its request channel.
const HANDOFF_WINDOW: usize = 64;

/// A Record whose session died this many times while it was in flight is dropped: it is
/// more likely the cause (a broker refusing it) than a victim.
const MAX_ATTEMPTS: u8 = 8;

/// Room for the PUBLISH header and properties beyond topic, reply topic and payload.
const PUBLISH_OVERHEAD: usize = 64;

/// True for a topic a PUBLISH may name (MQTT 5 §4.7: no wildcards, no NUL, at most 65535
/// bytes, not empty).
pub fn valid_topic_name(t: &str) -> bool {
    !t.is_empty() && t.len() <= usize::from(u16::MAX) && !t.contains(['+', '#', '\0'])
}

/// Starts an MQTT MTP; Records it receives go to `inbound`.
pub fn spawn(id: MtpId, cfg: MqttConfig, inbound: mpsc::Sender<Inbound>) -> MtpHandle {
    let (sender, outbound) = MtpSender::channel(id, cfg.queue_capacity);
    let (status_tx, status_rx) = watch::channel(MtpStatus::new(
        LinkState::Connecting,
        format!("connecting to {}:{}", cfg.broker_host, cfg.broker_port),
    ));
    let (shutdown_tx, shutdown_rx) = oneshot::channel();
    let options = match cfg.options() {
        Ok(o) => o,
        Err(e) => {
            // A configuration that cannot work: report it and wait to be stopped.
            warn!(mtp = %id, error = %e, "MQTT client not started");
            status_tx.send_replace(MtpStatus::new(LinkState::Error, e.to_string()));
            let task = tokio::spawn(async move {
                let _ = shutdown_rx.await;
                drop(outbound);
                status_tx.send_replace(MtpStatus::new(LinkState::Down, "stopped"));
            });
            return MtpHandle::new(sender, status_rx, shutdown_tx, task);
        }
    };
    let (client, eventloop) = AsyncClient::new(options, HANDOFF_WINDOW + 8);
    let (ev_tx, ev_rx) = mpsc::channel(1024);
    let (go_tx, go_rx) = mpsc::channel(1);
    let poller = tokio::spawn(poll_loop(eventloop, ev_tx, go_rx));
    let actor = Actor {
        id,
        reply_topic: cfg.topic.clone(),
        cfg,
        client,
        events: ev_rx,
        go: go_tx,
        inbound,
        status: status_tx,
        queue: VecDeque::new(),
        handed: VecDeque::new(),
        collided: None,
        inflight: HashMap::new(),
        phase: Phase::Connecting,
        session_qos: QoS::AtLeastOnce,
        broker_max_packet: None,
        retries: 0,
        seq: 0,
        stalled: None,
    };
    let task = tokio::spawn(async move {
        actor.run(outbound, shutdown_rx).await;
        poller.abort();
    });
    MtpHandle::new(sender, status_rx, shutdown_tx, task)
}

/// Drives rumqttc's event loop; after an error it waits for the actor's go-ahead.
async fn poll_loop(
    mut eventloop: EventLoop,
    events: mpsc::Sender<Result<Event, ConnectionError>>,
    mut go: mpsc::Receiver<()>,
) {
    loop {
        match eventloop.poll().await {
            Ok(ev) => {
                if events.send(Ok(ev)).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                if events.send(Err(e)).await.is_err() || go.recv().await.is_none() {
                    return;
                }
                // Drops whatever reached rumqttc's queue after the failure; the actor has
                // already taken those Records back.
                eventloop.clean();
            }
        }
    }
}

/// A Record owned by the actor until the broker has it.
struct Pending {
    seq: u64,
    topic: String,
    bytes: Bytes,
    /// The sender's queue slot; `None` for the MQTTConnect Records the actor makes itself.
    permit: Option<OwnedSemaphorePermit>,
    /// Sessions lost while this Record was handed over.
    attempts: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Subscribing,
    Up,
    Waiting(tokio::time::Instant),
}

struct Actor {
    id: MtpId,
    cfg: MqttConfig,
    reply_topic: String,
    client: AsyncClient,
    events: mpsc::Receiver<Result<Event, ConnectionError>>,
    go: mpsc::Sender<()>,
    inbound: mpsc::Sender<Inbound>,
    status: watch::Sender<MtpStatus>,
    /// Waiting to be handed to rumqttc.
    queue: VecDeque<Pending>,
    /// Handed to rumqttc, packet id not yet known.
    handed: VecDeque<Pending>,
    /// Handed, but its packet id collided with an unacknowledged one.
    collided: Option<(u16, Pending)>,
    /// Written with this packet id, awaiting PUBACK.
    inflight: HashMap<u16, Pending>,
    phase: Phase,
    /// QoS of this session's publishes (the configured one unless the broker allows less).
    session_qos: QoS,
    /// The broker's Maximum Packet Size from CONNACK.
    broker_max_packet: Option<u32>,
    retries: u32,
    seq: u64,
    /// An inbound Record waiting for room in the shared inbound channel.
    stalled: Option<Inbound>,
}

impl Actor {
    async fn run(
        mut self,
        mut outbound: mpsc::UnboundedReceiver<super::Outbound>,
        mut shutdown: oneshot::Receiver<()>,
    ) {
        // A separate handle, so a reserved permit does not borrow the actor.
        let inbound = self.inbound.clone();
        loop {
            let retry_at = match self.phase {
                Phase::Waiting(at) => Some(at),
                _ => None,
            };
            tokio::select! {
                permit = inbound.reserve(), if self.stalled.is_some() => {
                    match (permit, self.stalled.take()) {
                        (Ok(p), Some(msg)) => p.send(msg),
                        _ => debug!(mtp = %self.id, "inbound channel closed; record dropped"),
                    }
                }
                ev = self.events.recv(), if self.stalled.is_none() => match ev {
                    Some(Ok(ev)) => self.on_event(ev),
                    Some(Err(e)) => self.on_error(e),
                    None => return,
                },
                out = outbound.recv() => match out {
                    Some(out) => self.enqueue(out),
                    None => break,
                },
                _ = sleep_until_opt(retry_at) => {
                    self.phase = Phase::Connecting;
                    self.set_status(LinkState::Connecting, "reconnecting");
                    if self.go.send(()).await.is_err() {
                        return;
                    }
                }
                _ = &mut shutdown => break,
            }
            self.hand_over();
        }
        self.disconnect().await;
    }

    fn enqueue(&mut self, out: super::Outbound) {
        let topic = match out.to {
            Address::MqttTopic(t) if valid_topic_name(&t) => t,
            other => {
                warn!(mtp = %self.id, to = ?other, "not an MQTT address; record dropped");
                return;
            }
        };
        self.seq += 1;
        self.queue.push_back(Pending {
            seq: self.seq,
            topic,
            bytes: out.bytes,
            permit: Some(out.permit),
            attempts: 0,
        });
    }

    /// Gives queued Records to rumqttc while subscribed and within the hand-off window.
    fn hand_over(&mut self) {
        if self.phase != Phase::Up {
            return;
        }
        while self.handed.len() < HANDOFF_WINDOW {
            let Some(p) = self.queue.pop_front() else {
                return;
            };
            let size = p.bytes.len() + p.topic.len() + self.reply_topic.len() + PUBLISH_OVERHEAD;
            if let Some(max) = self.broker_max_packet
                && size > max as usize
            {
                // rumqttc would fail the whole connection on it, again after every reconnect.
                warn!(mtp = %self.id, size, max, topic = %p.topic, "record larger than the broker accepts; dropped");
                continue;
            }
            let props = PublishProperties {
                response_topic: Some(self.reply_topic.clone()),
                content_type: Some(USP_CONTENT_TYPE.into()),
                ..Default::default()
            };
            let res = self.client.try_publish_with_properties(
                p.topic.clone(),
                self.session_qos,
                false,
                p.bytes.clone(),
                props,
            );
            match res {
                Ok(()) => self.handed.push_back(p),
                Err(e) => {
                    // The window keeps rumqttc's channel from filling; if it did anyway,
                    // try again on the next event.
                    debug!(mtp = %self.id, error = %e, "rumqttc queue busy");
                    self.queue.push_front(p);
                    return;
                }
            }
        }
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Incoming(Packet::ConnAck(ack)) => self.on_connack(ack),
            Event::Incoming(Packet::SubAck(ack)) if self.phase == Phase::Subscribing => {
                let ok = ack
                    .return_codes
                    .iter()
                    .any(|c| matches!(c, SubscribeReasonCode::Success(_)));
                if ok {
                    self.on_subscribed();
                } else {
                    // R-MQTT.17: no subscription, no publishing; stay disconnected until retry.
                    warn!(mtp = %self.id, codes = ?ack.return_codes, "broker refused every subscription");
                    self.set_status(LinkState::Error, "broker refused the subscriptions");
                    let _ = self.client.try_disconnect();
                }
            }
            Event::Incoming(Packet::Publish(p)) => self.on_publish(p),
            // Removing (dropping) the Pending releases the sender's slot.
            Event::Incoming(Packet::PubAck(ack)) if self.inflight.remove(&ack.pkid).is_none() => {
                debug!(mtp = %self.id, pkid = ack.pkid, "PUBACK for no known record");
            }
            Event::Outgoing(Outgoing::Publish(pkid)) => {
                let p = match self.collided.take() {
                    Some((id, p)) if id == pkid => Some(p),
                    other => {
                        self.collided = other;
                        self.handed.pop_front()
                    }
                };
                if let Some(p) = p
                    && self.session_qos != QoS::AtMostOnce
                {
                    self.inflight.insert(pkid, p);
                }
            }
            Event::Outgoing(Outgoing::AwaitAck(pkid)) => {
                if let Some(p) = self.handed.pop_front() {
                    self.collided = Some((pkid, p));
                }
            }
            _ => {}
        }
    }

    fn on_connack(&mut self, ack: ConnAck) {
        let (user_properties, response_information, max_qos) = match ack.properties {
            Some(p) => {
                self.broker_max_packet = p.max_packet_size;
                (p.user_properties, p.response_information, p.max_qos)
            }
            None => {
                self.broker_max_packet = None;
                (Vec::new(), None, None)
            }
        };
        // A broker that only supports QoS 0 would disconnect on a QoS 1 PUBLISH.
        self.session_qos = match max_qos {
            Some(0) => QoS::AtMostOnce,
            _ => self.cfg.rumqttc_qos(),
        };
        let mut filters: Vec<String> = Vec::new();
        let mut add = |t: &str| {
            if !t.is_empty() && !filters.iter().any(|f| f == t) {
                filters.push(t.to_string());
            }
        };
        add(&self.cfg.topic);
        for (k, v) in &user_properties {
            if k == SUBSCRIBE_TOPIC_PROPERTY {
                add(v);
            }
        }
        self.reply_topic = match &response_information {
            Some(t) if !t.is_empty() => t.clone(),
            _ => self.cfg.topic.clone(),
        };
        add(&self.reply_topic.clone());
        if self.reply_topic.is_empty() || filters.is_empty() {
            // R-MQTT.16: nothing to listen on; the MTP cannot work.
            warn!(mtp = %self.id, "no topic configured and none given by the broker");
            self.set_status(LinkState::Error, "no topic to subscribe to");
            let _ = self.client.try_disconnect();
            return;
        }
        let qos = self.cfg.rumqttc_qos();
        let subs = filters.iter().map(|f| Filter::new(f.clone(), qos));
        if let Err(e) = self.client.try_subscribe_many(subs) {
            warn!(mtp = %self.id, error = %e, "could not queue SUBSCRIBE");
            return;
        }
        info!(mtp = %self.id, ?filters, reply_topic = %self.reply_topic, "connected; subscribing");
        self.phase = Phase::Subscribing;
    }

    fn on_subscribed(&mut self) {
        self.phase = Phase::Up;
        self.retries = 0;
        // The MQTTConnect Records go first, ahead of anything re-queued.
        for c in self.cfg.controllers.iter().rev() {
            let rec = usp_proto::builder::mqtt_connect_record(
                &c.endpoint_id,
                &self.cfg.endpoint_id,
                &self.reply_topic,
            );
            self.queue.push_front(Pending {
                seq: 0,
                topic: c.topic.clone(),
                bytes: usp_proto::builder::encode_record(&rec).into(),
                permit: None,
                attempts: 0,
            });
        }
        info!(mtp = %self.id, queued = self.queue.len(), "subscribed");
        let mut st = MtpStatus::new(LinkState::Up, "subscribed");
        st.response_topic = Some(self.reply_topic.clone());
        self.status.send_replace(st);
    }

    fn on_publish(&mut self, p: rumqttc::v5::mqttbytes::v5::Publish) {
        let props = p.properties.unwrap_or_default();
        if let Some(ct) = &props.content_type
            && ct != USP_CONTENT_TYPE
            && ct != USP_MIME_TYPE
        {
            debug!(mtp = %self.id, content_type = %ct, "not a USP record; dropped");
            return;
        }
        let to = match props.response_topic {
            Some(t) if !t.is_empty() => Address::MqttTopic(t),
            _ => Address::MqttNoReplyTopic,
        };
        let msg = Inbound {
            bytes: p.payload,
            reply_to: Route { mtp: self.id, to },
        };
        match self.inbound.try_send(msg) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(msg)) => self.stalled = Some(msg),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                debug!(mtp = %self.id, "inbound channel closed; record dropped");
            }
        }
    }

    fn on_error(&mut self, e: ConnectionError) {
        let requeued = self.take_back();
        self.retries = self.retries.saturating_add(1);
        let wait = self.cfg.retry.wait(self.retries);
        let refused = matches!(e, ConnectionError::ConnectionRefused(_));
        warn!(mtp = %self.id, error = %e, requeued, retry_in = ?wait, "MQTT connection lost");
        let state = if refused || self.status.borrow().state == LinkState::Error {
            LinkState::Error
        } else {
            LinkState::Down
        };
        self.set_status(state, format!("{e}; retry in {wait:?}"));
        self.phase = Phase::Waiting(tokio::time::Instant::now() + wait);
    }

    /// Moves every unacknowledged Record back to the head of the queue, oldest first.
    /// MQTTConnect Records are dropped: the next session sends fresh ones.
    fn take_back(&mut self) -> usize {
        let mut back: Vec<Pending> = self.inflight.drain().map(|(_, p)| p).collect();
        back.extend(self.handed.drain(..));
        back.extend(self.collided.take().map(|(_, p)| p));
        back.retain_mut(|p| {
            p.attempts = p.attempts.saturating_add(1);
            if p.attempts > MAX_ATTEMPTS {
                warn!(mtp = %self.id, topic = %p.topic, "record lost with {MAX_ATTEMPTS} sessions; dropped");
            }
            p.permit.is_some() && p.attempts <= MAX_ATTEMPTS
        });
        back.sort_by_key(|p| p.seq);
        let n = back.len();
        for p in back.into_iter().rev() {
            self.queue.push_front(p);
        }
        n
    }

    fn set_status(&self, state: LinkState, detail: impl Into<String>) {
        self.status.send_replace(MtpStatus::new(state, detail));
    }

    /// R-MQTT.35: a DISCONNECT when shutting down, if a session is open.
    async fn disconnect(&mut self) {
        if matches!(self.phase, Phase::Up | Phase::Subscribing)
            && self.client.try_disconnect().is_ok()
        {
            let wait = async {
                while let Some(ev) = self.events.recv().await {
                    if matches!(ev, Ok(Event::Outgoing(Outgoing::Disconnect)) | Err(_)) {
                        return;
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), wait).await;
        }
        self.set_status(LinkState::Down, "stopped");
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_topics_with_wildcards_or_nul_are_refused() {
        assert!(valid_topic_name("usp/controller/c1"));
        assert!(!valid_topic_name(""));
        assert!(!valid_topic_name("usp/+/x"));
        assert!(!valid_topic_name("usp/#"));
        assert!(!valid_topic_name("a\0b"));
        assert!(!valid_topic_name(&"x".repeat(70_000)));
    }
}
