//! The MQTT MTP against a real mosquitto: the MQTTConnect greeting, PUBLISH properties,
//! request/response routing by Response Topic, and no loss across a broker restart.

use std::collections::BTreeSet;
use std::time::Duration;

use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Packet, PublishProperties, SubscribeReasonCode};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use tokio::sync::mpsc;
use usp_proto::decode::{DecodeLimits, DecodedRecord, decode_record};
use usp_proto::usp_record::record::RecordType;
use usphub::mtp::controller_client::ControllerClient;
use usphub::mtp::mqtt::{self, MqttConfig, MqttPeer};
use usphub::mtp::retry::RetryPolicy;
use usphub::mtp::tls::TlsConfig;
use usphub::mtp::{Address, Inbound, LinkState, MtpHandle, MtpId, MtpStatus};
use usphub_tests::mosquitto::Mosquitto;

const AGENT: &str = "os::agent-mqtt";
const AGENT_TOPIC: &str = "usp/agent/os::agent-mqtt";
const CTRL: &str = "self::ctrl-mqtt";
const CTRL_TOPIC: &str = "usp/controller/ctrl";
const T: Duration = Duration::from_secs(15);

fn record(msg_id: &str, from: &str, to: &str) -> Vec<u8> {
    let msg = usp_proto::builder::get(msg_id, &["Device.LocalAgent."], 0);
    usp_proto::builder::encode_record(&usp_proto::builder::no_session_record(to, from, &msg))
}

fn msg_id_of(bytes: &[u8]) -> String {
    match decode_record(bytes, &DecodeLimits::default()).expect("valid record") {
        DecodedRecord::Msg { msg, .. } => usp_proto::builder::msg_id(&msg).to_string(),
        DecodedRecord::Control(r) => panic!("expected a Msg record, got {r:?}"),
    }
}

fn expect_mqtt_connect(bytes: &[u8], subscribed: &str) {
    match decode_record(bytes, &DecodeLimits::default()).expect("valid record") {
        DecodedRecord::Control(r) => {
            assert_eq!(r.from_id, AGENT);
            assert_eq!(r.to_id, CTRL);
            match r.record_type {
                Some(RecordType::MqttConnect(c)) => assert_eq!(c.subscribed_topic, subscribed),
                other => panic!("expected MQTTConnect, got {other:?}"),
            }
        }
        other => panic!("expected a connect record, got {other:?}"),
    }
}

fn agent_config(broker: &Mosquitto) -> MqttConfig {
    let mut cfg = MqttConfig::new(broker.host(), broker.port(), AGENT, AGENT_TOPIC);
    cfg.controllers = vec![MqttPeer {
        endpoint_id: CTRL.into(),
        topic: CTRL_TOPIC.into(),
    }];
    cfg
}

async fn controller(broker: &Mosquitto) -> ControllerClient {
    let cfg = MqttConfig::new(broker.host(), broker.port(), CTRL, CTRL_TOPIC);
    ControllerClient::connect_mqtt(cfg, AGENT_TOPIC, T)
        .await
        .expect("controller connects")
}

async fn start_agent(cfg: MqttConfig) -> (MtpHandle, mpsc::Receiver<Inbound>) {
    let (tx, rx) = mpsc::channel(256);
    let mut h = mqtt::spawn(MtpId(1), cfg, tx);
    h.wait_for(LinkState::Up, T)
        .await
        .expect("agent subscribed");
    (h, rx)
}

async fn recv(rx: &mut mpsc::Receiver<Inbound>) -> Inbound {
    tokio::time::timeout(T, rx.recv())
        .await
        .expect("record in time")
        .expect("channel open")
}

#[tokio::test]
async fn agent_greets_controller_and_answers_on_the_response_topic() {
    let broker = Mosquitto::start();
    let mut ctl = controller(&broker).await;
    let (agent, mut agent_rx) = start_agent(agent_config(&broker)).await;
    assert_eq!(
        agent.status.borrow().response_topic.as_deref(),
        Some(AGENT_TOPIC)
    );

    let hello = ctl.recv(T).await.expect("MQTTConnect");
    expect_mqtt_connect(&hello.bytes, AGENT_TOPIC);
    assert_eq!(hello.reply_to.to, Address::MqttTopic(AGENT_TOPIC.into()));

    ctl.send(record("get-1", CTRL, AGENT)).unwrap();
    let req = recv(&mut agent_rx).await;
    assert_eq!(msg_id_of(&req.bytes), "get-1");
    assert_eq!(req.reply_to.to, Address::MqttTopic(CTRL_TOPIC.into()));
    agent
        .sender
        .send(req.reply_to.to.clone(), record("get-1", AGENT, CTRL))
        .unwrap();
    let resp = ctl.recv(T).await.expect("response");
    assert_eq!(msg_id_of(&resp.bytes), "get-1");
    agent.shutdown().await;
    assert_eq!(agent_rx.recv().await.map(|m| m.bytes), None);
}

/// A plain rumqttc client that subscribes to `topic` and forwards every PUBLISH.
async fn raw_subscriber(
    broker: &Mosquitto,
    id: &str,
    topic: &str,
) -> (
    AsyncClient,
    mpsc::UnboundedReceiver<rumqttc::v5::mqttbytes::v5::Publish>,
) {
    let opts = MqttOptions::new(id, broker.host(), broker.port());
    let (client, mut el) = AsyncClient::new(opts, 16);
    client.subscribe(topic, QoS::AtLeastOnce).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let (sub_tx, sub_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut sub_tx = Some(sub_tx);
        while let Ok(ev) = el.poll().await {
            match ev {
                Event::Incoming(Packet::SubAck(_)) => {
                    if let Some(s) = sub_tx.take() {
                        let _ = s.send(());
                    }
                }
                Event::Incoming(Packet::Publish(p)) => {
                    let _ = tx.send(p);
                }
                _ => {}
            }
        }
    });
    tokio::time::timeout(T, sub_rx).await.unwrap().unwrap();
    (client, rx)
}

#[tokio::test]
async fn publishes_carry_content_type_and_response_topic_and_no_reply_topic_is_reported() {
    let broker = Mosquitto::start();
    let (raw, mut seen) = raw_subscriber(&broker, "raw-observer", CTRL_TOPIC).await;
    let (agent, mut agent_rx) = start_agent(agent_config(&broker)).await;

    let p = tokio::time::timeout(T, seen.recv()).await.unwrap().unwrap();
    let props = p.properties.expect("PUBLISH properties");
    assert_eq!(props.content_type.as_deref(), Some("usp.msg"));
    assert_eq!(props.response_topic.as_deref(), Some(AGENT_TOPIC));
    expect_mqtt_connect(&p.payload, AGENT_TOPIC);

    // A PUBLISH without Response Topic: the handler must use the Controller's topic.
    raw.publish(
        AGENT_TOPIC,
        QoS::AtLeastOnce,
        false,
        record("bare", CTRL, AGENT),
    )
    .await
    .unwrap();
    let req = recv(&mut agent_rx).await;
    assert_eq!(msg_id_of(&req.bytes), "bare");
    assert_eq!(req.reply_to.to, Address::MqttNoReplyTopic);
    assert!(agent.sender.send(req.reply_to.to, vec![1]).is_err());

    // A PUBLISH of another content type is not a USP Record and is dropped.
    let other = PublishProperties {
        content_type: Some("text/plain".into()),
        response_topic: Some(CTRL_TOPIC.into()),
        ..Default::default()
    };
    raw.publish_with_properties(
        AGENT_TOPIC,
        QoS::AtLeastOnce,
        false,
        b"hello".to_vec(),
        other,
    )
    .await
    .unwrap();
    let usp = PublishProperties {
        content_type: Some("application/vnd.bbf.usp.msg".into()),
        response_topic: Some(CTRL_TOPIC.into()),
        ..Default::default()
    };
    raw.publish_with_properties(
        AGENT_TOPIC,
        QoS::AtLeastOnce,
        false,
        record("mime", CTRL, AGENT),
        usp,
    )
    .await
    .unwrap();
    let next = recv(&mut agent_rx).await;
    assert_eq!(msg_id_of(&next.bytes), "mime");
    agent.shutdown().await;
}

#[tokio::test]
async fn records_queued_while_the_broker_is_down_are_delivered_after_restart() {
    let mut broker = Mosquitto::start();
    let mut ctl = controller(&broker).await;
    let mut cfg = agent_config(&broker);
    // The agent comes back after the Controller (which retries within 0.2-2 s), so nothing
    // it publishes finds the broker without a subscriber.
    cfg.retry = RetryPolicy {
        min_wait: Duration::from_secs(3),
        multiplier_permille: 1000,
        max_wait: None,
    };
    let (mut agent, _agent_rx) = start_agent(cfg).await;
    expect_mqtt_connect(&ctl.recv(T).await.unwrap().bytes, AGENT_TOPIC);

    broker.stop();
    agent
        .status
        .wait_for(|s: &MtpStatus| s.state == LinkState::Down)
        .await
        .unwrap();
    let to = Address::MqttTopic(CTRL_TOPIC.into());
    for i in 0..50 {
        agent
            .sender
            .send(to.clone(), record(&format!("n{i}"), AGENT, CTRL))
            .unwrap();
    }
    broker.restart();
    agent.wait_for(LinkState::Up, T).await.expect("agent back");

    // MQTTConnect again, then every queued Record, in order, none lost.
    expect_mqtt_connect(&ctl.recv(T).await.unwrap().bytes, AGENT_TOPIC);
    let mut got = Vec::new();
    while got.len() < 50 {
        got.push(msg_id_of(&ctl.recv(T).await.expect("queued record").bytes));
    }
    let want: Vec<String> = (0..50).map(|i| format!("n{i}")).collect();
    assert_eq!(got, want);
    assert_eq!(got.iter().collect::<BTreeSet<_>>().len(), 50);
    agent.shutdown().await;
    ctl.close().await;
}

#[tokio::test]
async fn agent_without_any_topic_reports_error() {
    let broker = Mosquitto::start();
    let (tx, _rx) = mpsc::channel(4);
    let cfg = MqttConfig::new(broker.host(), broker.port(), AGENT, "");
    let mut agent = mqtt::spawn(MtpId(2), cfg, tx);
    let st = agent
        .wait_for(LinkState::Error, T)
        .await
        .expect("error state");
    assert_eq!(st.mqtt_client_status(), "Error_Misconfigured");
    agent.shutdown().await;
}

#[tokio::test]
async fn unreachable_broker_reports_down_and_send_still_queues() {
    let mut broker = Mosquitto::start();
    let port = broker.port();
    broker.stop();
    let (tx, _rx) = mpsc::channel(4);
    let mut cfg = MqttConfig::new("127.0.0.1", port, AGENT, AGENT_TOPIC);
    cfg.queue_capacity = 2;
    let mut agent = mqtt::spawn(MtpId(3), cfg, tx);
    let st = agent.wait_for(LinkState::Down, T).await.expect("down");
    assert_eq!(st.mqtt_client_status(), "Error_BrokerUnreachable");
    assert_eq!(st.local_agent_mtp_status(), "Down");
    let to = Address::MqttTopic(CTRL_TOPIC.into());
    agent.sender.send(to.clone(), vec![1]).unwrap();
    agent.sender.send(to.clone(), vec![2]).unwrap();
    assert!(matches!(
        agent.sender.send(to, vec![3]),
        Err(usphub::mtp::MtpError::QueueFull(_))
    ));
    agent.shutdown().await;
}

#[tokio::test]
async fn unacknowledged_publishes_are_sent_again_after_the_broker_dies() {
    let mut broker = Mosquitto::start();
    let mut ctl = controller(&broker).await;
    let mut cfg = agent_config(&broker);
    cfg.retry = RetryPolicy {
        min_wait: Duration::from_secs(3),
        multiplier_permille: 1000,
        max_wait: None,
    };
    let (mut agent, _agent_rx) = start_agent(cfg).await;
    expect_mqtt_connect(&ctl.recv(T).await.unwrap().bytes, AGENT_TOPIC);

    // A frozen broker reads nothing and acknowledges nothing: these publishes are written
    // to the socket (or still queued) but never PUBACKed when the broker is killed.
    broker.pause();
    let to = Address::MqttTopic(CTRL_TOPIC.into());
    for i in 0..30 {
        agent
            .sender
            .send(to.clone(), record(&format!("u{i}"), AGENT, CTRL))
            .unwrap();
    }
    // Gives the actor time to hand the Records to the socket; whether it has or not, every
    // Record must arrive below, so this wait cannot make the test pass wrongly.
    tokio::time::sleep(Duration::from_millis(300)).await;
    broker.stop();
    agent
        .status
        .wait_for(|s: &MtpStatus| s.state == LinkState::Down)
        .await
        .unwrap();
    broker.restart();
    agent.wait_for(LinkState::Up, T).await.expect("agent back");

    expect_mqtt_connect(&ctl.recv(T).await.unwrap().bytes, AGENT_TOPIC);
    let mut got = Vec::new();
    while got.len() < 30 {
        got.push(msg_id_of(&ctl.recv(T).await.expect("re-sent record").bytes));
    }
    let want: Vec<String> = (0..30).map(|i| format!("u{i}")).collect();
    assert_eq!(got, want);
    agent.shutdown().await;
    ctl.close().await;
}

#[tokio::test]
async fn agent_connects_over_tls_and_refuses_an_untrusted_broker() {
    let broker = Mosquitto::start_with_tls();
    let tls_port = broker.tls_port().expect("TLS listener");
    let mut ctl = controller(&broker).await;

    let mut cfg = agent_config(&broker);
    cfg.broker_port = tls_port;
    cfg.tls = Some(TlsConfig {
        ca_pem: Some(broker.ca_pem()),
        ..TlsConfig::default()
    });
    let (agent, _rx) = start_agent(cfg).await;
    expect_mqtt_connect(&ctl.recv(T).await.unwrap().bytes, AGENT_TOPIC);
    agent.shutdown().await;

    // The system's roots do not include the test CA: the handshake must fail.
    let (tx, _rx) = mpsc::channel(4);
    let mut cfg = agent_config(&broker);
    cfg.broker_port = tls_port;
    cfg.tls = Some(TlsConfig::default());
    let mut untrusting = mqtt::spawn(MtpId(4), cfg, tx);
    let st = tokio::time::timeout(
        T,
        untrusting
            .status
            .wait_for(|s: &MtpStatus| matches!(s.state, LinkState::Down | LinkState::Error)),
    )
    .await
    .expect("gives up in time")
    .expect("status")
    .clone();
    assert_ne!(st.state, LinkState::Up, "{st:?}");
    untrusting.shutdown().await;
    ctl.close().await;
}

#[tokio::test]
async fn record_larger_than_the_broker_accepts_is_dropped_and_the_session_survives() {
    let broker = Mosquitto::start_with_config("max_packet_size 4000");
    let mut ctl = controller(&broker).await;
    let (agent, _rx) = start_agent(agent_config(&broker)).await;
    expect_mqtt_connect(&ctl.recv(T).await.unwrap().bytes, AGENT_TOPIC);

    let to = Address::MqttTopic(CTRL_TOPIC.into());
    let mut big = record("big", AGENT, CTRL);
    big.resize(10_000, 0);
    agent.sender.send(to.clone(), big).unwrap();
    agent.sender.send(to, record("small", AGENT, CTRL)).unwrap();
    assert_eq!(msg_id_of(&ctl.recv(T).await.unwrap().bytes), "small");
    assert_eq!(agent.status.borrow().state, LinkState::Up);
    agent.shutdown().await;
    ctl.close().await;
}

#[tokio::test]
async fn publish_to_a_wildcard_topic_is_refused_without_harm() {
    let broker = Mosquitto::start();
    let mut ctl = controller(&broker).await;
    let (agent, _rx) = start_agent(agent_config(&broker)).await;
    expect_mqtt_connect(&ctl.recv(T).await.unwrap().bytes, AGENT_TOPIC);
    agent
        .sender
        .send(Address::MqttTopic("usp/#".into()), record("w", AGENT, CTRL))
        .unwrap();
    agent
        .sender
        .send(
            Address::MqttTopic(CTRL_TOPIC.into()),
            record("ok", AGENT, CTRL),
        )
        .unwrap();
    assert_eq!(msg_id_of(&ctl.recv(T).await.unwrap().bytes), "ok");
    agent.shutdown().await;
    ctl.close().await;
}

#[tokio::test]
async fn frozen_broker_is_detected_by_keep_alive_and_the_agent_comes_back() {
    let mut broker = Mosquitto::start();
    let mut cfg = agent_config(&broker);
    cfg.keep_alive = Duration::from_secs(1);
    cfg.retry = RetryPolicy {
        min_wait: Duration::from_millis(100),
        multiplier_permille: 1000,
        max_wait: None,
    };
    let (mut agent, _rx) = start_agent(cfg).await;
    // The TCP connection stays open; only the missing PINGRESP can tell the broker is gone.
    broker.pause();
    let st = tokio::time::timeout(
        T,
        agent
            .status
            .wait_for(|s: &MtpStatus| s.state == LinkState::Down),
    )
    .await
    .expect("keep-alive notices within its time")
    .expect("status")
    .clone();
    assert!(st.detail.contains("PINGRESP"), "{st:?}");
    broker.restart();
    agent
        .wait_for(LinkState::Up, T)
        .await
        .expect("back after restart");
    agent.shutdown().await;
}

#[tokio::test]
async fn agent_shutting_down_sends_a_disconnect_record_to_its_controllers() {
    let broker = Mosquitto::start();
    let mut ctl = controller(&broker).await;
    let (agent, _rx) = start_agent(agent_config(&broker)).await;
    expect_mqtt_connect(&ctl.recv(T).await.unwrap().bytes, AGENT_TOPIC);
    agent.shutdown().await;
    let bye = ctl.recv(T).await.expect("DisconnectRecord");
    match decode_record(&bye.bytes, &DecodeLimits::default()).expect("valid record") {
        DecodedRecord::Control(r) => {
            assert!(matches!(r.record_type, Some(RecordType::Disconnect(_))));
            assert_eq!((r.from_id.as_str(), r.to_id.as_str()), (AGENT, CTRL));
        }
        other => panic!("expected a DisconnectRecord, got {other:?}"),
    }
    ctl.close().await;
}

#[tokio::test]
async fn configured_topic_filters_are_subscribed_too() {
    let broker = Mosquitto::start();
    let (raw, _seen) = raw_subscriber(&broker, "raw-publisher", "unused/topic").await;
    let mut cfg = agent_config(&broker);
    cfg.subscriptions = vec!["usp/extra/#".into()];
    let (agent, mut agent_rx) = start_agent(cfg).await;
    let props = PublishProperties {
        content_type: Some("usp.msg".into()),
        response_topic: Some(CTRL_TOPIC.into()),
        ..Default::default()
    };
    raw.publish_with_properties(
        "usp/extra/x",
        QoS::AtLeastOnce,
        false,
        record("extra", CTRL, AGENT),
        props,
    )
    .await
    .unwrap();
    let inb = recv(&mut agent_rx).await;
    assert_eq!(msg_id_of(&inb.bytes), "extra");
    assert_eq!(inb.reply_to.to, Address::MqttTopic(CTRL_TOPIC.into()));
    agent.shutdown().await;
}

#[tokio::test]
async fn records_flow_at_qos_0() {
    let broker = Mosquitto::start();
    let mut ccfg = MqttConfig::new(broker.host(), broker.port(), CTRL, CTRL_TOPIC);
    ccfg.qos = usphub::mtp::mqtt::MqttQos::AtMostOnce;
    let mut ctl = ControllerClient::connect_mqtt(ccfg, AGENT_TOPIC, T)
        .await
        .expect("controller connects");
    let mut cfg = agent_config(&broker);
    cfg.qos = usphub::mtp::mqtt::MqttQos::AtMostOnce;
    let (agent, mut agent_rx) = start_agent(cfg).await;
    expect_mqtt_connect(&ctl.recv(T).await.unwrap().bytes, AGENT_TOPIC);
    for i in 0..10 {
        ctl.send(record(&format!("z{i}"), CTRL, AGENT)).unwrap();
    }
    for i in 0..10 {
        let req = recv(&mut agent_rx).await;
        assert_eq!(msg_id_of(&req.bytes), format!("z{i}"));
        agent
            .sender
            .send(req.reply_to.to, record(&format!("r{i}"), AGENT, CTRL))
            .unwrap();
    }
    for i in 0..10 {
        assert_eq!(
            msg_id_of(&ctl.recv(T).await.unwrap().bytes),
            format!("r{i}")
        );
    }
    // At QoS 0 a Record is done once written: every queue slot is free again.
    assert_eq!(agent.sender.free_slots(), 1024);
    agent.shutdown().await;
    ctl.close().await;
}

/// Reads one MQTT 5 packet with rumqttc's codec (the scripted broker below).
async fn read_packet(
    sock: &mut tokio::net::TcpStream,
    buf: &mut bytes::BytesMut,
) -> rumqttc::v5::mqttbytes::v5::Packet {
    use tokio::io::AsyncReadExt;
    loop {
        match Packet::read(buf, Some(1 << 20)) {
            Ok(p) => return p,
            Err(rumqttc::v5::mqttbytes::Error::InsufficientBytes(_)) => {}
            Err(e) => panic!("bad packet from the agent: {e:?}"),
        }
        let n = tokio::time::timeout(T, sock.read_buf(buf))
            .await
            .expect("agent writes in time")
            .expect("read");
        assert!(n > 0, "agent closed the connection");
    }
}

async fn write_packet(sock: &mut tokio::net::TcpStream, p: Packet) {
    use tokio::io::AsyncWriteExt;
    let mut out = bytes::BytesMut::new();
    p.write(&mut out, None).expect("encode");
    sock.write_all(&out).await.expect("write");
}

/// A broker scripted with rumqttc's codec, because mosquitto sends neither
/// `subscribe-topic` nor Response Information: checks the agent's CONNECT on the wire and
/// that it follows what the CONNACK gives (R-MQTT.12/13/15/21).
#[tokio::test]
async fn agent_follows_connack_subscribe_topic_and_response_information() {
    use rumqttc::v5::mqttbytes::v5::{ConnAck, ConnAckProperties, ConnectReturnCode, SubAck};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, _rx) = mpsc::channel(4);
    let mut cfg = MqttConfig::new("127.0.0.1", port, AGENT, AGENT_TOPIC);
    cfg.controllers = vec![MqttPeer {
        endpoint_id: CTRL.into(),
        topic: CTRL_TOPIC.into(),
    }];
    let mut agent = mqtt::spawn(MtpId(9), cfg, tx);
    let (mut sock, _) = tokio::time::timeout(T, listener.accept())
        .await
        .unwrap()
        .unwrap();
    let mut buf = bytes::BytesMut::new();

    let Packet::Connect(connect, _, _) = read_packet(&mut sock, &mut buf).await else {
        panic!("CONNECT expected first");
    };
    let props = connect.properties.expect("CONNECT properties");
    assert!(
        props
            .user_properties
            .contains(&("usp-endpoint-id".into(), AGENT.into()))
    );
    assert_eq!(props.request_response_info, Some(1));
    let given = "usp/broker/given/#";
    let reply = "usp/reply/given";
    let ack_props = ConnAckProperties {
        session_expiry_interval: None,
        receive_max: None,
        max_qos: None,
        retain_available: None,
        max_packet_size: None,
        assigned_client_identifier: None,
        topic_alias_max: None,
        reason_string: None,
        user_properties: vec![("subscribe-topic".into(), given.into())],
        wildcard_subscription_available: None,
        subscription_identifiers_available: None,
        shared_subscription_available: None,
        server_keep_alive: None,
        response_information: Some(reply.into()),
        server_reference: None,
        authentication_method: None,
        authentication_data: None,
    };
    let connack = ConnAck {
        session_present: false,
        code: ConnectReturnCode::Success,
        properties: Some(ack_props),
    };
    write_packet(&mut sock, Packet::ConnAck(connack)).await;

    let Packet::Subscribe(sub) = read_packet(&mut sock, &mut buf).await else {
        panic!("SUBSCRIBE expected after CONNACK");
    };
    let filters: Vec<&str> = sub.filters.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(filters, [AGENT_TOPIC, given, reply]);
    // Nothing may be published before the SUBACK.
    let early = tokio::time::timeout(Duration::from_millis(200), read_packet(&mut sock, &mut buf));
    assert!(early.await.is_err(), "the agent published before SUBACK");
    let suback = SubAck {
        pkid: sub.pkid,
        return_codes: vec![SubscribeReasonCode::Success(QoS::AtLeastOnce); 3],
        properties: None,
    };
    write_packet(&mut sock, Packet::SubAck(suback)).await;

    let Packet::Publish(p) = read_packet(&mut sock, &mut buf).await else {
        panic!("the MQTTConnect PUBLISH expected");
    };
    assert_eq!(&p.topic[..], CTRL_TOPIC.as_bytes());
    let props = p.properties.expect("PUBLISH properties");
    assert_eq!(props.response_topic.as_deref(), Some(reply));
    expect_mqtt_connect(&p.payload, reply);
    let st = agent.wait_for(LinkState::Up, T).await.unwrap();
    assert_eq!(st.response_topic.as_deref(), Some(reply));
    agent.shutdown().await;
}

/// Accepts one agent connection and completes CONNECT/CONNACK and SUBSCRIBE/SUBACK.
async fn scripted_session(
    listener: &tokio::net::TcpListener,
) -> (tokio::net::TcpStream, bytes::BytesMut) {
    use rumqttc::v5::mqttbytes::v5::{ConnAck, ConnectReturnCode, SubAck};
    let (mut sock, _) = tokio::time::timeout(T, listener.accept())
        .await
        .expect("agent connects")
        .unwrap();
    let mut buf = bytes::BytesMut::new();
    assert!(matches!(
        read_packet(&mut sock, &mut buf).await,
        Packet::Connect(..)
    ));
    let connack = ConnAck {
        session_present: false,
        code: ConnectReturnCode::Success,
        properties: None,
    };
    write_packet(&mut sock, Packet::ConnAck(connack)).await;
    let Packet::Subscribe(sub) = read_packet(&mut sock, &mut buf).await else {
        panic!("SUBSCRIBE expected");
    };
    let suback = SubAck {
        pkid: sub.pkid,
        return_codes: vec![SubscribeReasonCode::Success(QoS::AtLeastOnce)],
        properties: None,
    };
    write_packet(&mut sock, Packet::SubAck(suback)).await;
    (sock, buf)
}

#[tokio::test]
async fn garbage_from_the_broker_ends_the_session_and_the_agent_reconnects() {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, _rx) = mpsc::channel(4);
    let mut cfg = MqttConfig::new("127.0.0.1", port, AGENT, AGENT_TOPIC);
    cfg.retry = RetryPolicy {
        min_wait: Duration::from_millis(50),
        multiplier_permille: 1000,
        max_wait: None,
    };
    let mut agent = mqtt::spawn(MtpId(10), cfg, tx);
    let garbage: [&[u8]; 3] = [
        // Reserved packet type 0.
        &[0x00, 0x00],
        // A PUBLISH claiming a remaining length far beyond the agent's maximum.
        &[0x30, 0xff, 0xff, 0xff, 0x7f],
        // A PUBLISH whose topic length runs past the packet.
        &[0x32, 0x04, 0x00, 0x10, b'a', b'b'],
    ];
    for g in garbage {
        let (mut sock, _buf) = scripted_session(&listener).await;
        agent.wait_for(LinkState::Up, T).await.expect("subscribed");
        sock.write_all(g).await.unwrap();
        let st = tokio::time::timeout(
            T,
            agent
                .status
                .wait_for(|s: &MtpStatus| s.state == LinkState::Down),
        )
        .await
        .expect("session ends")
        .expect("status")
        .clone();
        assert!(st.detail.contains("malformed"), "{g:?}: {st:?}");
    }
    // Still alive: a well-behaved broker gets a working session.
    let (_sock, _buf) = scripted_session(&listener).await;
    agent.wait_for(LinkState::Up, T).await.expect("back up");
    agent.shutdown().await;
}
