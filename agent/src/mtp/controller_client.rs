//! The Controller side of the MTPs, for `usphub ctl`, the tests and the bench: connect to an
//! agent over WebSocket or MQTT, send it Records, receive the Records addressed to us.
//!
//! It is the agent's own MTP code run with a Controller's configuration (no MQTTConnect or
//! WebSocketConnect Records, the Controller's EndpointID and topic), so what the tools
//! exercise is what the agent runs. Encoding and decoding Records is the caller's business.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::mqtt::{self, MqttConfig};
use super::retry::RetryPolicy;
use super::websocket::client::{self, WsClientConfig};
use super::websocket::server::{self, WsServerConfig};
use super::{Address, Inbound, LinkState, MtpError, MtpHandle, MtpId, MtpStatus, Route};

/// The MTP id a controller client uses for its single MTP.
const CLIENT_MTP: MtpId = MtpId(0);

/// How many received Records may wait for [`ControllerClient::recv`].
const INBOUND_CAPACITY: usize = 1024;

/// A Controller connected to one agent through one MTP.
#[derive(Debug)]
pub struct ControllerClient {
    endpoint_id: String,
    mtp: MtpHandle,
    inbound: mpsc::Receiver<Inbound>,
    agent: Address,
}

/// The largest Record a Controller client accepts: a full-tree Get of a big hub answers
/// with megabytes, and the Controller asked for it.
pub const CONTROLLER_MAX_RECORD: usize = 64 * 1024 * 1024;

impl ControllerClient {
    /// Connects to an agent's WebSocket server at `url` (`ws://host:port/path`).
    pub async fn connect_websocket(
        url: &str,
        controller_eid: &str,
        timeout: Duration,
    ) -> Result<ControllerClient, MtpError> {
        let mut cfg = WsClientConfig::new(url, controller_eid);
        cfg.send_connect_record = false;
        cfg.connect_timeout = timeout;
        cfg.max_record_size = CONTROLLER_MAX_RECORD;
        // A tool retries quickly; the TR-369 back-off is the agent's obligation.
        cfg.retry = RetryPolicy {
            min_wait: Duration::from_millis(200),
            multiplier_permille: 2000,
            max_wait: Some(Duration::from_secs(2)),
        };
        let (tx, rx) = mpsc::channel(INBOUND_CAPACITY);
        let mtp = client::spawn(CLIENT_MTP, cfg, tx);
        Self::ready(
            controller_eid,
            mtp,
            rx,
            Address::WebSocketConn(super::ConnId(0)),
            timeout,
        )
        .await
    }

    /// Listens for an agent's WebSocket client (the agent connects to us); `agent_eid` is the
    /// EndpointID the agent will present.
    pub async fn listen_websocket(
        listen: SocketAddr,
        controller_eid: &str,
        agent_eid: &str,
    ) -> Result<ControllerClient, MtpError> {
        let mut cfg = WsServerConfig::new(listen, controller_eid);
        cfg.send_connect_record = false;
        let (tx, rx) = mpsc::channel(INBOUND_CAPACITY);
        let mtp = server::spawn(CLIENT_MTP, cfg, tx).await?;
        Ok(ControllerClient {
            endpoint_id: controller_eid.to_string(),
            mtp,
            inbound: rx,
            agent: Address::WebSocketEndpoint(agent_eid.to_string()),
        })
    }

    /// Connects to a broker as a Controller listening on `cfg.topic`, talking to the agent
    /// that listens on `agent_topic`.
    pub async fn connect_mqtt(
        mut cfg: MqttConfig,
        agent_topic: &str,
        timeout: Duration,
    ) -> Result<ControllerClient, MtpError> {
        cfg.controllers.clear();
        cfg.retry = RetryPolicy {
            min_wait: Duration::from_millis(200),
            multiplier_permille: 2000,
            max_wait: Some(Duration::from_secs(2)),
        };
        let eid = cfg.endpoint_id.clone();
        let (tx, rx) = mpsc::channel(INBOUND_CAPACITY);
        let mtp = mqtt::spawn(CLIENT_MTP, cfg, tx);
        Self::ready(
            &eid,
            mtp,
            rx,
            Address::MqttTopic(agent_topic.to_string()),
            timeout,
        )
        .await
    }

    async fn ready(
        eid: &str,
        mut mtp: MtpHandle,
        inbound: mpsc::Receiver<Inbound>,
        agent: Address,
        timeout: Duration,
    ) -> Result<ControllerClient, MtpError> {
        if let Err(e) = mtp.wait_for(LinkState::Up, timeout).await {
            let detail = mtp.status.borrow().detail.clone();
            mtp.shutdown().await;
            return Err(match e {
                MtpError::Timeout(_) => MtpError::Connect(detail),
                other => other,
            });
        }
        Ok(ControllerClient {
            endpoint_id: eid.to_string(),
            mtp,
            inbound,
            agent,
        })
    }

    /// This Controller's EndpointID.
    pub fn endpoint_id(&self) -> &str {
        &self.endpoint_id
    }

    /// The MTP's current status (e.g. the reply topic in use).
    pub fn status(&self) -> MtpStatus {
        self.mtp.status.borrow().clone()
    }

    /// Sends an encoded Record to the agent.
    pub fn send(&self, record: impl Into<Bytes>) -> Result<(), MtpError> {
        self.mtp.sender.send(self.agent.clone(), record)
    }

    /// Sends an encoded Record on a Route (e.g. the `reply_to` of a received Notify).
    pub fn send_to(&self, route: &Route, record: impl Into<Bytes>) -> Result<(), MtpError> {
        self.mtp.sender.send(route.to.clone(), record)
    }

    /// The next Record addressed to us, or [`MtpError::Timeout`].
    pub async fn recv(&mut self, timeout: Duration) -> Result<Inbound, MtpError> {
        match tokio::time::timeout(timeout, self.inbound.recv()).await {
            Ok(Some(m)) => Ok(m),
            Ok(None) => Err(MtpError::Closed(CLIENT_MTP)),
            Err(_) => Err(MtpError::Timeout("no record received")),
        }
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        self.mtp.shutdown().await;
    }
}
