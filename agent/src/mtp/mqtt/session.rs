//! One MQTT 5 session: the socket, its read and write buffers, and the QoS 1 publishes in
//! flight. Packets are encoded and decoded with rumqttc's MQTT 5 codec.
//!
//! Everything the session writes in one turn of its loop (PUBACKs for what it read, new
//! PUBLISHes, a PINGREQ) leaves in a single write: under load that is one TCP segment for
//! many packets instead of one each.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use rumqttc::v5::mqttbytes::v5::{
    ConnAck, ConnectReturnCode, Disconnect, DisconnectReasonCode, Filter, Packet, PingReq, PubAck,
    Publish, PublishProperties, Subscribe, SubscribeReasonCode,
};
use rumqttc::v5::mqttbytes::{Error as CodecError, QoS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, info, warn};

use super::{
    Actor, MAX_ATTEMPTS, Pending, SUBSCRIBE_TOPIC_PROPERTY, USP_CONTENT_TYPE, USP_MIME_TYPE,
};
use crate::mtp::{Address, Inbound, Io, Outbound, Route};

/// Why a session could not start or ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum SessionError {
    /// The network or the broker went away; retrying may help.
    Lost(String),
    /// The broker refused us or our configuration cannot work; retrying is unlikely to help.
    Refused(String),
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Lost(s) | SessionError::Refused(s) => f.write_str(s),
        }
    }
}

fn lost(e: impl std::fmt::Display) -> SessionError {
    SessionError::Lost(e.to_string())
}

/// How a running session ended.
pub(super) enum End {
    /// Asked to stop (shutdown, or every sender dropped).
    Stopped,
    /// Lost; the in-flight Records were given back to the actor's queue.
    Lost(SessionError),
    /// New settings: the session was closed and its in-flight Records given back.
    Reconfigured,
}

pub(super) struct Session {
    io: Box<dyn Io>,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// Largest packet we accept (our CONNECT's Maximum Packet Size).
    max_in: u32,
    /// The broker's Maximum Packet Size.
    max_out: Option<u32>,
    /// The broker's Receive Maximum: QoS 1 publishes in flight at most.
    receive_max: u16,
    qos: QoS,
    keep_alive: Duration,
    pub(super) reply_topic: String,
    inflight: HashMap<u16, Pending>,
    next_pkid: u16,
    await_pingresp: bool,
    /// Publishes that arrived before the SUBACK.
    early: Vec<Publish>,
}

impl Session {
    /// TCP (TCP_NODELAY), TLS if configured, CONNECT/CONNACK, then SUBSCRIBE/SUBACK.
    pub(super) async fn open(actor: &Actor) -> Result<Session, SessionError> {
        let cfg = &actor.cfg;
        let host = cfg.broker_host.as_str();
        let tcp = TcpStream::connect((host, cfg.broker_port))
            .await
            .map_err(|e| lost(format!("cannot connect to {host}:{}: {e}", cfg.broker_port)))?;
        tcp.set_nodelay(true).map_err(lost)?;
        let io: Box<dyn Io> = match &actor.tls {
            Some(tls) => {
                let name = rustls::pki_types::ServerName::try_from(host.to_string())
                    .map_err(|e| SessionError::Refused(format!("TLS server name {host:?}: {e}")))?;
                let stream = tokio_rustls::TlsConnector::from(tls.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| lost(format!("TLS with {host}: {e}")))?;
                Box::new(stream)
            }
            None => Box::new(tcp),
        };
        let mut s = Session {
            io,
            rbuf: BytesMut::with_capacity(16 * 1024),
            wbuf: BytesMut::with_capacity(16 * 1024),
            max_in: cfg.max_packet_size,
            max_out: None,
            receive_max: u16::MAX,
            qos: cfg.rumqttc_qos(),
            keep_alive: cfg.keep_alive,
            reply_topic: cfg.topic.clone(),
            inflight: HashMap::new(),
            next_pkid: 0,
            await_pingresp: false,
            early: Vec::new(),
        };
        s.put(&cfg.connect_packet())?;
        s.flush().await?;
        let ack = match s.read_packet().await? {
            Packet::ConnAck(ack) => ack,
            other => return Err(lost(format!("expected CONNACK, got {other:?}"))),
        };
        let filters = s.on_connack(actor, ack)?;
        s.subscribe(actor, filters).await?;
        Ok(s)
    }

    /// Applies the CONNACK (R-MQTT.12/15/21) and returns the topic filters to subscribe to.
    fn on_connack(&mut self, actor: &Actor, ack: ConnAck) -> Result<Vec<String>, SessionError> {
        if ack.code != ConnectReturnCode::Success {
            return Err(SessionError::Refused(format!(
                "broker refused the connection: {:?}",
                ack.code
            )));
        }
        let mut filters: Vec<String> = Vec::new();
        let mut add = |t: &str| {
            if !t.is_empty() && !filters.iter().any(|f| f == t) {
                filters.push(t.to_string());
            }
        };
        add(&actor.cfg.topic);
        for f in &actor.cfg.subscriptions {
            add(f);
        }
        if let Some(p) = ack.properties {
            for (k, v) in &p.user_properties {
                if k == SUBSCRIBE_TOPIC_PROPERTY {
                    add(v);
                }
            }
            if let Some(t) = p.response_information.filter(|t| !t.is_empty()) {
                self.reply_topic = t;
            }
            self.max_out = p.max_packet_size;
            self.receive_max = p.receive_max.unwrap_or(u16::MAX).max(1);
            // A broker that only supports QoS 0 would disconnect on a QoS 1 PUBLISH.
            if p.max_qos == Some(0) {
                self.qos = QoS::AtMostOnce;
            }
            if let Some(k) = p.server_keep_alive {
                self.keep_alive = Duration::from_secs(k.into());
            }
        }
        add(&self.reply_topic.clone());
        if self.reply_topic.is_empty() || filters.is_empty() {
            // R-MQTT.16: nothing to listen on; the MTP cannot work.
            return Err(SessionError::Refused(
                "no topic configured and none given by the broker".into(),
            ));
        }
        Ok(filters)
    }

    /// SUBSCRIBE and wait for the SUBACK; at least one filter must be granted (R-MQTT.17).
    async fn subscribe(&mut self, actor: &Actor, filters: Vec<String>) -> Result<(), SessionError> {
        let qos = actor.cfg.rumqttc_qos();
        let sub = Subscribe {
            pkid: 1,
            filters: filters
                .iter()
                .map(|f| Filter::new(f.clone(), qos))
                .collect(),
            properties: None,
        };
        self.put(&Packet::Subscribe(sub))?;
        self.flush().await?;
        loop {
            match self.read_packet().await? {
                Packet::SubAck(ack) if ack.pkid == 1 => {
                    let ok = ack
                        .return_codes
                        .iter()
                        .any(|c| matches!(c, SubscribeReasonCode::Success(_)));
                    if !ok {
                        self.disconnect().await;
                        return Err(SessionError::Refused(format!(
                            "broker refused every subscription: {:?}",
                            ack.return_codes
                        )));
                    }
                    info!(mtp = %actor.id, ?filters, reply_topic = %self.reply_topic, "subscribed");
                    return Ok(());
                }
                Packet::Publish(p) => {
                    if p.qos == QoS::AtLeastOnce {
                        self.put(&Packet::PubAck(PubAck::new(p.pkid, None)))?;
                    }
                    self.early.push(p);
                }
                Packet::Disconnect(d) => return Err(lost(format!("broker disconnected: {d:?}"))),
                other => debug!(mtp = %actor.id, packet = ?other, "ignored before SUBACK"),
            }
        }
    }

    /// Carries Records until the session ends.
    pub(super) async fn run(
        &mut self,
        actor: &mut Actor,
        outbound: &mut mpsc::UnboundedReceiver<Outbound>,
        shutdown: &mut oneshot::Receiver<()>,
        settings: &mut tokio::sync::watch::Receiver<super::MqttSettings>,
    ) -> End {
        let inbound = actor.inbound.clone();
        let mut stalled: Option<Inbound> = None;
        for p in std::mem::take(&mut self.early) {
            self.deliver(actor, p, &mut stalled);
        }
        let pinging = !self.keep_alive.is_zero();
        let period = self.keep_alive.max(Duration::from_secs(1));
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            if let Err(e) = self.fill(actor) {
                return self.end(actor, e);
            }
            if let Err(e) = self.flush().await {
                return self.end(actor, e);
            }
            tokio::select! {
                permit = inbound.reserve(), if stalled.is_some() => {
                    match (permit, stalled.take()) {
                        (Ok(p), Some(m)) => p.send(m),
                        _ => return End::Stopped,
                    }
                    if let Err(e) = self.process(actor, &mut stalled) {
                        return self.end(actor, e);
                    }
                }
                n = self.io.read_buf(&mut self.rbuf), if stalled.is_none() => {
                    let res = match n {
                        Ok(0) => Err(lost("broker closed the connection")),
                        Ok(_) => self.process(actor, &mut stalled),
                        Err(e) => Err(lost(e)),
                    };
                    if let Err(e) = res {
                        return self.end(actor, e);
                    }
                }
                out = outbound.recv() => match out {
                    Some(o) => {
                        actor.enqueue(o);
                        while let Ok(o) = outbound.try_recv() {
                            actor.enqueue(o);
                        }
                    }
                    None => {
                        self.disconnect().await;
                        return End::Stopped;
                    }
                },
                _ = ping.tick(), if pinging => {
                    if self.await_pingresp {
                        return self.end(actor, lost("no PINGRESP within the keep-alive time"));
                    }
                    self.await_pingresp = true;
                    // PINGREQ is two fixed bytes; writing into a BytesMut cannot fail.
                    let _ = PingReq::write(&mut self.wbuf);
                }
                _ = &mut *shutdown => {
                    self.farewell(actor);
                    self.disconnect().await;
                    return End::Stopped;
                }
                Ok(()) = settings.changed() => {
                    // In-flight Records go back to the queue for the next session.
                    self.disconnect().await;
                    let _ = self.end(actor, lost("settings changed"));
                    return End::Reconfigured;
                }
            }
        }
    }

    /// Gives every in-flight Record back to the actor (oldest first) and reports the loss.
    fn end(&mut self, actor: &mut Actor, e: SessionError) -> End {
        let mut back: Vec<Pending> = self.inflight.drain().map(|(_, p)| p).collect();
        back.retain_mut(|p| {
            p.attempts = p.attempts.saturating_add(1);
            if p.attempts > MAX_ATTEMPTS {
                warn!(mtp = %actor.id, topic = %p.topic, "record lost with {MAX_ATTEMPTS} sessions; dropped");
            }
            // MQTTConnect Records (no permit) are not re-sent: the next session greets anew.
            p.permit.is_some() && p.attempts <= MAX_ATTEMPTS
        });
        back.sort_by_key(|p| p.seq);
        for p in back.into_iter().rev() {
            actor.queue.push_front(p);
        }
        End::Lost(e)
    }

    /// Decodes every complete packet in the read buffer (stops early when inbound stalls).
    fn process(
        &mut self,
        actor: &mut Actor,
        stalled: &mut Option<Inbound>,
    ) -> Result<(), SessionError> {
        while stalled.is_none() {
            let packet = match Packet::read(&mut self.rbuf, Some(self.max_in)) {
                Ok(p) => p,
                Err(CodecError::InsufficientBytes(_)) => return Ok(()),
                Err(e) => return Err(lost(format!("malformed packet from broker: {e:?}"))),
            };
            match packet {
                Packet::Publish(p) => {
                    match p.qos {
                        QoS::AtMostOnce => {}
                        QoS::AtLeastOnce => self.put(&Packet::PubAck(PubAck::new(p.pkid, None)))?,
                        // We subscribe at QoS 1 at most, so the broker may not send QoS 2.
                        QoS::ExactlyOnce => {
                            return Err(lost("QoS 2 PUBLISH on a QoS 1 subscription"));
                        }
                    }
                    self.deliver(actor, p, stalled);
                }
                // Removing (dropping) the Pending releases the sender's queue slot.
                Packet::PubAck(ack) => {
                    if self.inflight.remove(&ack.pkid).is_none() {
                        debug!(mtp = %actor.id, pkid = ack.pkid, "PUBACK for no known record");
                    }
                }
                Packet::PingResp(_) => self.await_pingresp = false,
                Packet::Disconnect(d) => return Err(lost(format!("broker disconnected: {d:?}"))),
                Packet::SubAck(_) | Packet::UnsubAck(_) => {}
                other => return Err(lost(format!("unexpected packet from broker: {other:?}"))),
            }
        }
        Ok(())
    }

    /// Hands an incoming PUBLISH to the handlers, with its reply route (R-MQTT.26/27a).
    fn deliver(&self, actor: &Actor, p: Publish, stalled: &mut Option<Inbound>) {
        let props = p.properties.unwrap_or_default();
        if let Some(ct) = &props.content_type
            && ct != USP_CONTENT_TYPE
            && ct != USP_MIME_TYPE
        {
            debug!(mtp = %actor.id, content_type = %ct, "not a USP record; dropped");
            return;
        }
        let to = match props.response_topic {
            Some(t) if !t.is_empty() => Address::MqttTopic(t),
            _ => Address::MqttNoReplyTopic,
        };
        let msg = Inbound {
            bytes: p.payload,
            reply_to: Route { mtp: actor.id, to },
        };
        match actor.inbound.try_send(msg) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(m)) => *stalled = Some(m),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                debug!(mtp = %actor.id, "inbound channel closed; record dropped");
            }
        }
    }

    /// Encodes queued Records as PUBLISHes while the broker's Receive Maximum allows.
    fn fill(&mut self, actor: &mut Actor) -> Result<(), SessionError> {
        while self.qos == QoS::AtMostOnce || self.inflight.len() < usize::from(self.receive_max) {
            let Some(p) = actor.queue.pop_front() else {
                return Ok(());
            };
            let pkid = match self.qos {
                QoS::AtMostOnce => 0,
                _ => self.free_pkid(),
            };
            let publish = Publish {
                dup: false,
                qos: self.qos,
                retain: false,
                topic: Bytes::copy_from_slice(p.topic.as_bytes()),
                pkid,
                payload: p.bytes.clone(),
                properties: Some(self.publish_properties()),
            };
            let mark = self.wbuf.len();
            match Packet::Publish(publish).write(&mut self.wbuf, self.max_out) {
                Ok(_) if pkid != 0 => {
                    self.inflight.insert(pkid, p);
                }
                Ok(_) => {}
                Err(e) => {
                    // Too large for the broker: sending it would end the session, again after
                    // every reconnect.
                    self.wbuf.truncate(mark);
                    warn!(mtp = %actor.id, topic = %p.topic, size = p.bytes.len(), error = ?e, "record the broker cannot take; dropped");
                }
            }
        }
        Ok(())
    }

    fn free_pkid(&mut self) -> u16 {
        // At most receive_max (< 65535) ids are in use, so a free one exists.
        loop {
            self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
            if !self.inflight.contains_key(&self.next_pkid) {
                return self.next_pkid;
            }
        }
    }

    fn put(&mut self, packet: &Packet) -> Result<(), SessionError> {
        packet
            .write(&mut self.wbuf, self.max_out)
            .map(|_| ())
            .map_err(|e| SessionError::Refused(format!("cannot encode {packet:?}: {e:?}")))
    }

    async fn flush(&mut self) -> Result<(), SessionError> {
        if self.wbuf.is_empty() {
            return Ok(());
        }
        self.io.write_all(&self.wbuf).await.map_err(lost)?;
        self.wbuf.clear();
        self.io.flush().await.map_err(lost)
    }

    async fn read_packet(&mut self) -> Result<Packet, SessionError> {
        loop {
            match Packet::read(&mut self.rbuf, Some(self.max_in)) {
                Ok(p) => return Ok(p),
                Err(CodecError::InsufficientBytes(_)) => {}
                Err(e) => return Err(lost(format!("malformed packet from broker: {e:?}"))),
            }
            match self.io.read_buf(&mut self.rbuf).await {
                Ok(0) => return Err(lost("broker closed the connection")),
                Ok(_) => {}
                Err(e) => return Err(lost(e)),
            }
        }
    }

    /// R-MTP.7: a DisconnectRecord to every configured Controller, written just before the
    /// DISCONNECT (not waiting for PUBACKs: the session is ending).
    fn farewell(&mut self, actor: &Actor) {
        for c in &actor.cfg.controllers {
            let bytes = crate::mtp::disconnect_record(
                &c.endpoint_id,
                &actor.cfg.endpoint_id,
                "agent shutting down",
            );
            let publish = Publish {
                dup: false,
                qos: QoS::AtMostOnce,
                retain: false,
                topic: Bytes::copy_from_slice(c.topic.as_bytes()),
                pkid: 0,
                payload: bytes,
                properties: Some(self.publish_properties()),
            };
            if let Err(e) = self.put(&Packet::Publish(publish)) {
                debug!(mtp = %actor.id, error = %e, "DisconnectRecord not sent");
            }
        }
    }

    fn publish_properties(&self) -> PublishProperties {
        PublishProperties {
            response_topic: Some(self.reply_topic.clone()),
            content_type: Some(USP_CONTENT_TYPE.into()),
            ..Default::default()
        }
    }

    /// R-MQTT.35: a DISCONNECT when shutting down, best effort and bounded in time.
    pub(super) async fn disconnect(&mut self) {
        let d = Packet::Disconnect(Disconnect::new(DisconnectReasonCode::NormalDisconnection));
        if self.put(&d).is_ok() {
            let bye = async {
                let _ = self.flush().await;
                let _ = self.io.shutdown().await;
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), bye).await;
        }
    }
}
