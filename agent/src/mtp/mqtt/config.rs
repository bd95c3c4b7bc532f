//! Configuration of the MQTT MTP (`Device.MQTT.Client.{i}.` and the agent's MTP entry) and
//! its translation into rumqttc options.

use std::time::Duration;

use rumqttc::v5::MqttOptions;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::ConnectProperties;
use rumqttc::{NetworkOptions, TlsConfiguration, Transport};

use super::{ENDPOINT_ID_PROPERTY, HANDOFF_WINDOW};
use crate::mtp::MtpError;
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
    /// KeepAliveTime (rumqttc needs at least 5 s; smaller values are raised to 5 s).
    pub keep_alive: Duration,
    /// This Endpoint's EndpointID, sent in CONNECT and used as the MQTTConnect `from_id`.
    pub endpoint_id: String,
    /// The topic this Endpoint listens on (ResponseTopicConfigured); may be empty when the
    /// broker provides one.
    pub topic: String,
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

impl MqttConfig {
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

    pub(super) fn options(&self) -> Result<MqttOptions, MtpError> {
        let mut o = MqttOptions::new(&self.client_id, &self.broker_host, self.broker_port);
        o.set_keep_alive(self.keep_alive.max(Duration::from_secs(5)));
        o.set_clean_start(true);
        o.set_request_channel_capacity(HANDOFF_WINDOW + 8);
        if let Some(user) = &self.username {
            o.set_credentials(user.clone(), self.password.clone().unwrap_or_default());
        }
        o.set_connect_properties(ConnectProperties {
            max_packet_size: Some(self.max_packet_size),
            request_response_info: Some(1),
            user_properties: vec![(ENDPOINT_ID_PROPERTY.into(), self.endpoint_id.clone())],
            ..ConnectProperties::new()
        });
        let mut net = NetworkOptions::new();
        net.set_tcp_nodelay(true);
        net.set_connection_timeout(10);
        o.set_network_options(net);
        if let Some(tls) = &self.tls {
            let rustls = crate::mtp::tls::client_config(tls)?;
            o.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(rustls)));
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_carries_endpoint_id_and_asks_for_response_information() {
        let cfg = MqttConfig::new("127.0.0.1", 1883, "os::012345-hub", "usp/agent/hub");
        let o = cfg.options().expect("plain TCP options");
        let props = o.connect_properties().expect("connect properties");
        assert!(props.user_properties.contains(&(
            ENDPOINT_ID_PROPERTY.to_string(),
            "os::012345-hub".to_string()
        )));
        assert_eq!(props.request_response_info, Some(1));
        assert_eq!(props.max_packet_size, Some(cfg.max_packet_size));
        assert!(o.clean_start());
        assert_eq!(o.client_id(), "os::012345-hub");
    }

    #[test]
    fn keep_alive_below_rumqttc_minimum_is_raised_not_a_panic() {
        let mut cfg = MqttConfig::new("127.0.0.1", 1883, "e", "t");
        cfg.keep_alive = Duration::ZERO;
        assert_eq!(
            cfg.options().expect("options").keep_alive(),
            Duration::from_secs(5)
        );
    }
}
