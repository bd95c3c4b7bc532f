//! Configuration of the MQTT MTP (`Device.MQTT.Client.{i}.` and the agent's MTP entry) and
//! the CONNECT packet made from it.

use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Connect, ConnectProperties, Login, Packet};

use super::ENDPOINT_ID_PROPERTY;
use crate::mtp::retry::RetryPolicy;
use crate::mtp::tls::TlsConfig;

/// The QoS used for subscriptions and publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MqttQos {
    /// QoS 0: a Record is done once written to the socket.
    AtMostOnce,
    /// QoS 1: a Record is done once the broker's PUBACK arrives (the default).
    AtLeastOnce,
}

/// A Controller that gets the MQTTConnect Record, and whose topic notifications go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttPeer {
    /// The Controller's EndpointID.
    pub endpoint_id: String,
    /// `Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.Topic`.
    pub topic: String,
}

/// Configuration of one MQTT client (`Device.MQTT.Client.{i}.` and the agent's MTP entry).
#[derive(Debug, Clone)]
pub struct MqttConfig {
    /// BrokerAddress.
    pub broker_host: String,
    /// BrokerPort.
    pub broker_port: u16,
    /// ClientID (defaults to the EndpointID).
    pub client_id: String,
    /// Username, if the broker wants one.
    pub username: Option<String>,
    /// Password, with the username.
    pub password: Option<String>,
    /// KeepAliveTime (0 disables keep-alive pings).
    pub keep_alive: Duration,
    /// This Endpoint's EndpointID, sent in CONNECT and used as the MQTTConnect `from_id`.
    pub endpoint_id: String,
    /// The topic this Endpoint listens on (ResponseTopicConfigured); may be empty when the
    /// broker provides one.
    pub topic: String,
    /// Further topic filters to subscribe to (`Device.MQTT.Client.{i}.Subscription.{i}.Topic`).
    pub subscriptions: Vec<String>,
    /// QoS of subscriptions and publishes.
    pub qos: MqttQos,
    /// Controllers to greet with an MQTTConnect Record once subscribed.
    pub controllers: Vec<MqttPeer>,
    /// Reconnection back-off (ConnectRetryTime, ConnectRetryIntervalMultiplier, ...MaxInterval).
    pub retry: RetryPolicy,
    /// Records accepted but not yet acknowledged, at most.
    pub queue_capacity: usize,
    /// Largest packet accepted from the broker, in bytes.
    pub max_packet_size: u32,
    /// TLS (`mqtts`), or `None` for plain TCP.
    pub tls: Option<TlsConfig>,
}

/// The part of an MQTT client a Controller may change at run time
/// (`Device.MQTT.Client.{i}.`): applying it ends the current session and connects anew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MqttSettings {
    /// Enable: false disconnects and stays disconnected (Status `Disabled`).
    pub enable: bool,
    /// BrokerAddress.
    pub broker_host: String,
    /// BrokerPort.
    pub broker_port: u16,
    /// ClientID.
    pub client_id: String,
    /// Username (empty: none).
    pub username: String,
    /// KeepAliveTime in seconds (0: no pings).
    pub keep_alive_s: u32,
}

impl MqttConfig {
    /// The run-time settings of this configuration.
    pub fn settings(&self) -> MqttSettings {
        MqttSettings {
            enable: true,
            broker_host: self.broker_host.clone(),
            broker_port: self.broker_port,
            client_id: self.client_id.clone(),
            username: self.username.clone().unwrap_or_default(),
            keep_alive_s: u32::try_from(self.keep_alive.as_secs()).unwrap_or(u32::MAX),
        }
    }

    /// Takes `s` over (the password stays: it is not part of the settings).
    pub fn apply(&mut self, s: &MqttSettings) {
        self.broker_host.clone_from(&s.broker_host);
        self.broker_port = s.broker_port;
        self.client_id.clone_from(&s.client_id);
        self.username = (!s.username.is_empty()).then(|| s.username.clone());
        self.keep_alive = Duration::from_secs(u64::from(s.keep_alive_s));
    }

    /// A configuration with defaults for everything but the broker, EndpointID and topic.
    pub fn new(
        broker_host: impl Into<String>,
        broker_port: u16,
        endpoint_id: impl Into<String>,
        topic: impl Into<String>,
    ) -> MqttConfig {
        let endpoint_id = endpoint_id.into();
        MqttConfig {
            broker_host: broker_host.into(),
            broker_port,
            client_id: endpoint_id.clone(),
            username: None,
            password: None,
            keep_alive: Duration::from_secs(60),
            endpoint_id,
            topic: topic.into(),
            subscriptions: Vec::new(),
            qos: MqttQos::AtLeastOnce,
            controllers: Vec::new(),
            retry: RetryPolicy {
                min_wait: Duration::from_secs(5),
                multiplier_permille: 2000,
                max_wait: Some(Duration::from_secs(30720)),
            },
            queue_capacity: 1024,
            max_packet_size: 4 * 1024 * 1024,
            tls: None,
        }
    }

    pub(super) fn rumqttc_qos(&self) -> QoS {
        match self.qos {
            MqttQos::AtMostOnce => QoS::AtMostOnce,
            MqttQos::AtLeastOnce => QoS::AtLeastOnce,
        }
    }

    /// The CONNECT packet: clean start, keep-alive, credentials, `usp-endpoint-id`
    /// (R-MQTT.13), Request Response Information (R-MQTT.12) and our Maximum Packet Size.
    pub(super) fn connect_packet(&self) -> Packet {
        let connect = Connect {
            keep_alive: u16::try_from(self.keep_alive.as_secs()).unwrap_or(u16::MAX),
            client_id: self.client_id.clone(),
            clean_start: true,
            properties: Some(ConnectProperties {
                max_packet_size: Some(self.max_packet_size),
                request_response_info: Some(1),
                user_properties: vec![(ENDPOINT_ID_PROPERTY.into(), self.endpoint_id.clone())],
                ..ConnectProperties::new()
            }),
        };
        let login = self
            .username
            .as_ref()
            .map(|u| Login::new(u.clone(), self.password.clone().unwrap_or_default()));
        Packet::Connect(connect, None, login)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_of(cfg: &MqttConfig) -> (Connect, Option<Login>) {
        match cfg.connect_packet() {
            Packet::Connect(c, _, login) => (c, login),
            other => panic!("not a CONNECT: {other:?}"),
        }
    }

    #[test]
    fn connect_carries_endpoint_id_and_asks_for_response_information() {
        let cfg = MqttConfig::new("127.0.0.1", 1883, "os::012345-hub", "usp/agent/hub");
        let (c, login) = connect_of(&cfg);
        let props = c.properties.expect("connect properties");
        assert!(props.user_properties.contains(&(
            ENDPOINT_ID_PROPERTY.to_string(),
            "os::012345-hub".to_string()
        )));
        assert_eq!(props.request_response_info, Some(1));
        assert_eq!(props.max_packet_size, Some(cfg.max_packet_size));
        assert!(c.clean_start);
        assert_eq!(c.client_id, "os::012345-hub");
        assert_eq!(c.keep_alive, 60);
        assert!(login.is_none());
    }

    #[test]
    fn credentials_and_keep_alive_go_into_connect() {
        let mut cfg = MqttConfig::new("127.0.0.1", 1883, "e", "t");
        cfg.username = Some("hub".into());
        cfg.password = Some("secret".into());
        cfg.keep_alive = Duration::from_secs(1_000_000);
        let (c, login) = connect_of(&cfg);
        assert_eq!(login, Some(Login::new("hub", "secret")));
        assert_eq!(c.keep_alive, u16::MAX);
        cfg.keep_alive = Duration::ZERO;
        assert_eq!(connect_of(&cfg).0.keep_alive, 0);
    }
}
