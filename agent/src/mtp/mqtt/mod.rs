//! The MQTT 5 MTP (TR-369 "MQTT Binding"), on rumqttc's MQTT 5 packet codec.
//!
//! What the binding asks and where it is done (the private `session` module holds the
//! protocol side):
//! - CONNECT carries the user property `usp-endpoint-id` (R-MQTT.13) and asks for Response
//!   Information (R-MQTT.12); the socket has TCP_NODELAY; `mqtts` runs on rustls + ring.
//! - After CONNACK one SUBSCRIBE carries the configured topic and filters, every `subscribe-topic` user
//!   property of the CONNACK and the Response Information topic (R-MQTT.15). Nothing is
//!   published before the SUBACK, nor at all if no filter was accepted (R-MQTT.17).
//! - The "reply to" topic is the CONNACK's Response Information when present (R-MQTT.21),
//!   otherwise the configured topic; every PUBLISH carries it as Response Topic and has
//!   Content Type `usp.msg` (R-MQTT.22/23/27).
//! - Once subscribed, an MQTTConnect Record goes to every configured Controller.
//! - Incoming PUBLISHes answer to their Response Topic (R-MQTT.26); without one the
//!   [`Address::MqttNoReplyTopic`] tells the handler to use the Controller's configured topic.
//! - A lost broker puts the MTP in retry (R-MQTT.33) with the
//!   [`RetryPolicy`](crate::mtp::retry::RetryPolicy) back-off; DISCONNECT on shutdown
//!   (R-MQTT.35). The broker's Receive Maximum, Maximum Packet Size, maximum QoS and
//!   Server Keep Alive are honoured.
//!
//! # Delivery across broker restarts
//! The actor keeps every Record until the broker acknowledges it (PUBACK at QoS 1, written at
//! QoS 0). On a lost connection all unacknowledged Records go back to the head of the queue,
//! in their original order, and are published again once the next session is subscribed.
//! Sessions start clean: a broker restart without persistence forgets sessions anyway.
//!
//! # Records that cannot be sent
//! A Record for a topic that no PUBLISH may name (wildcards, NUL), one larger than the
//! broker's Maximum Packet Size, and one that was in flight in [`MAX_ATTEMPTS`] lost sessions
//! are dropped with a warning: left in the queue they would end every session.

mod config;
mod session;

pub use config::{MqttConfig, MqttPeer, MqttQos, MqttSettings};

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, mpsc, oneshot, watch};
use tracing::{info, warn};

use self::session::{End, Session, SessionError};
use super::{Address, Inbound, LinkState, MtpHandle, MtpId, MtpSender, MtpStatus, Outbound};

/// The Content Type of a PUBLISH carrying a USP Record (R-MQTT.27).
pub const USP_CONTENT_TYPE: &str = "usp.msg";
/// The registered MIME type, also accepted on receipt (R-MQTT.27a).
pub const USP_MIME_TYPE: &str = "application/vnd.bbf.usp.msg";
/// The CONNECT user property naming the Endpoint (R-MQTT.13).
pub const ENDPOINT_ID_PROPERTY: &str = "usp-endpoint-id";
/// The CONNACK user property naming topics to subscribe to (R-MQTT.15).
pub const SUBSCRIBE_TOPIC_PROPERTY: &str = "subscribe-topic";

/// A Record whose session died this many times while it was in flight is dropped: it is
/// more likely the cause (a broker refusing it) than a victim.
pub const MAX_ATTEMPTS: u8 = 8;

/// Time allowed for TCP, TLS, CONNECT/CONNACK and SUBSCRIBE/SUBACK.
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// True for a topic a PUBLISH may name (MQTT 5 §4.7: no wildcards, no NUL, at most 65535
/// bytes, not empty).
pub fn valid_topic_name(t: &str) -> bool {
    !t.is_empty() && t.len() <= usize::from(u16::MAX) && !t.contains(['+', '#', '\0'])
}

/// Changes a running MQTT MTP's settings (`Device.MQTT.Client.{i}.` writes).
#[derive(Debug, Clone)]
pub struct MqttControl {
    tx: Arc<watch::Sender<MqttSettings>>,
}

impl MqttControl {
    /// Applies `settings`: the current session ends (queued Records are kept) and the next
    /// one uses them. Equal settings change nothing.
    pub fn apply(&self, settings: MqttSettings) {
        self.tx.send_if_modified(|cur| {
            let changed = *cur != settings;
            *cur = settings;
            changed
        });
    }

    /// The settings in force.
    pub fn settings(&self) -> MqttSettings {
        self.tx.borrow().clone()
    }
}

/// Starts an MQTT MTP; Records it receives go to `inbound`.
pub fn spawn(id: MtpId, cfg: MqttConfig, inbound: mpsc::Sender<Inbound>) -> MtpHandle {
    spawn_configurable(id, cfg, inbound).0
}

/// Starts an MQTT MTP whose settings can be changed while it runs.
pub fn spawn_configurable(
    id: MtpId,
    cfg: MqttConfig,
    inbound: mpsc::Sender<Inbound>,
) -> (MtpHandle, MqttControl) {
    let (settings_tx, settings_rx) = watch::channel(cfg.settings());
    let control = MqttControl {
        tx: Arc::new(settings_tx),
    };
    let (sender, outbound) = MtpSender::channel(id, cfg.queue_capacity);
    let (status_tx, status_rx) = watch::channel(MtpStatus::new(
        LinkState::Connecting,
        format!("connecting to {}:{}", cfg.broker_host, cfg.broker_port),
    ));
    let (shutdown_tx, shutdown_rx) = oneshot::channel();
    let tls = match cfg.tls.as_ref().map(super::tls::client_config).transpose() {
        Ok(tls) => tls,
        Err(e) => {
            // A configuration that cannot work: report it and wait to be stopped.
            warn!(mtp = %id, error = %e, "MQTT client not started");
            status_tx.send_replace(MtpStatus::new(LinkState::Error, e.to_string()));
            let task = tokio::spawn(async move {
                let _ = shutdown_rx.await;
                drop(outbound);
                status_tx.send_replace(MtpStatus::new(LinkState::Down, "stopped"));
            });
            return (
                MtpHandle::new(sender, status_rx, shutdown_tx, task),
                control,
            );
        }
    };
    let actor = Actor {
        id,
        cfg,
        tls,
        inbound,
        status: status_tx,
        queue: VecDeque::new(),
        seq: 0,
    };
    let task = tokio::spawn(actor.run(outbound, shutdown_rx, settings_rx));
    (
        MtpHandle::new(sender, status_rx, shutdown_tx, task),
        control,
    )
}

/// A Record owned by the actor until the broker has it.
struct Pending {
    seq: u64,
    topic: String,
    bytes: Bytes,
    /// The sender's queue slot; `None` for the MQTTConnect Records the actor makes itself.
    permit: Option<OwnedSemaphorePermit>,
    /// Sessions lost while this Record was in flight.
    attempts: u8,
}

/// Owns the queue across sessions; one [`Session`] at a time carries it.
struct Actor {
    id: MtpId,
    cfg: MqttConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    inbound: mpsc::Sender<Inbound>,
    status: watch::Sender<MtpStatus>,
    /// Records waiting for a session (oldest first).
    queue: VecDeque<Pending>,
    seq: u64,
}

impl Actor {
    async fn run(
        mut self,
        mut outbound: mpsc::UnboundedReceiver<Outbound>,
        mut shutdown: oneshot::Receiver<()>,
        mut settings: watch::Receiver<MqttSettings>,
    ) {
        let mut retries: u32 = 0;
        loop {
            let current = settings.borrow_and_update().clone();
            self.cfg.apply(&current);
            if !current.enable {
                self.status
                    .send_replace(MtpStatus::new(LinkState::Disabled, "disabled"));
                tokio::select! {
                    r = settings.changed() => if r.is_err() { std::future::pending::<()>().await },
                    _ = &mut shutdown => break,
                }
                continue;
            }
            // Records sent meanwhile wait in `outbound`, within the senders' bound.
            let opened = tokio::select! {
                r = tokio::time::timeout(OPEN_TIMEOUT, Session::open(&self)) => {
                    r.unwrap_or_else(|_| Err(SessionError::Lost("connecting timed out".into())))
                }
                _ = &mut shutdown => break,
            };
            let err = match opened {
                Ok(mut session) => {
                    retries = 0;
                    self.greet(&session.reply_topic);
                    let mut st = MtpStatus::new(LinkState::Up, "subscribed");
                    st.response_topic = Some(session.reply_topic.clone());
                    self.status.send_replace(st);
                    match session
                        .run(&mut self, &mut outbound, &mut shutdown, &mut settings)
                        .await
                    {
                        End::Stopped => break,
                        End::Reconfigured => {
                            info!(mtp = %self.id, "MQTT settings changed; reconnecting");
                            retries = 0;
                            self.status.send_replace(MtpStatus::new(
                                LinkState::Connecting,
                                "reconfigured",
                            ));
                            continue;
                        }
                        End::Lost(e) => e,
                    }
                }
                Err(e) => e,
            };
            retries = retries.saturating_add(1);
            let wait = self.cfg.retry.wait(retries);
            warn!(mtp = %self.id, error = %err, queued = self.queue.len(), retry_in = ?wait, "MQTT session down");
            let state = match err {
                SessionError::Refused(_) => LinkState::Error,
                SessionError::Lost(_) => LinkState::Down,
            };
            self.status.send_replace(MtpStatus::new(
                state,
                format!("{err}; retry {retries} in {wait:?}"),
            ));
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                // New settings are worth trying at once.
                Ok(()) = settings.changed() => retries = 0,
                _ = &mut shutdown => break,
            }
            self.status
                .send_replace(MtpStatus::new(LinkState::Connecting, "reconnecting"));
        }
        self.status
            .send_replace(MtpStatus::new(LinkState::Down, "stopped"));
    }

    /// Puts the MQTTConnect Records at the head of the queue, ahead of anything re-queued.
    fn greet(&mut self, reply_topic: &str) {
        for c in self.cfg.controllers.iter().rev() {
            let rec = usp_proto::builder::mqtt_connect_record(
                &c.endpoint_id,
                &self.cfg.endpoint_id,
                reply_topic,
            );
            self.queue.push_front(Pending {
                seq: 0,
                topic: c.topic.clone(),
                bytes: usp_proto::builder::encode_record(&rec).into(),
                permit: None,
                attempts: 0,
            });
        }
    }

    fn enqueue(&mut self, out: Outbound) {
        let topic = match out.to {
            Address::MqttTopic(t) if valid_topic_name(&t) => t,
            other => {
                warn!(mtp = %self.id, to = ?other, "not a topic a PUBLISH may name; record dropped");
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
