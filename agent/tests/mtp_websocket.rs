//! The WebSocket MTP over loopback: handshake rules, EndpointID exchange, Records both ways,
//! the agent's client reconnecting to a restarted Controller.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use usp_proto::decode::{DecodeLimits, DecodedRecord, decode_record};
use usp_proto::usp_record::record::RecordType;
use usphub::mtp::controller_client::ControllerClient;
use usphub::mtp::retry::RetryPolicy;
use usphub::mtp::tls::{ServerTlsConfig, TlsConfig};
use usphub::mtp::websocket::client::{self, WsClientConfig};
use usphub::mtp::websocket::server::{self, WsServerConfig};
use usphub::mtp::{Address, Inbound, LinkState, MtpHandle, MtpId, MtpRouter, MtpStatus, Route};

const AGENT: &str = "os::agent-ws";
const CTRL: &str = "self::ctrl-ws";
const T: Duration = Duration::from_secs(10);

fn get_record(msg_id: &str, from: &str, to: &str) -> Vec<u8> {
    let msg = usp_proto::builder::get(msg_id, &["Device.LocalAgent."], 0);
    usp_proto::builder::encode_record(&usp_proto::builder::no_session_record(to, from, &msg))
}

fn msg_id_of(bytes: &[u8]) -> String {
    match decode_record(bytes, &DecodeLimits::default()).expect("valid record") {
        DecodedRecord::Msg { msg, .. } => usp_proto::builder::msg_id(&msg).to_string(),
        DecodedRecord::Control(r) => panic!("expected a Msg record, got {r:?}"),
    }
}

async fn agent_server() -> (MtpHandle, mpsc::Receiver<Inbound>, SocketAddr) {
    let (tx, rx) = mpsc::channel(64);
    let cfg = WsServerConfig::new("127.0.0.1:0".parse().unwrap(), AGENT);
    let h = server::spawn(MtpId(1), cfg, tx)
        .await
        .expect("server starts");
    let addr = h.status.borrow().local_addr.expect("bound address");
    (h, rx, addr)
}

async fn recv(rx: &mut mpsc::Receiver<Inbound>) -> Inbound {
    tokio::time::timeout(T, rx.recv())
        .await
        .expect("record in time")
        .expect("channel open")
}

#[tokio::test]
async fn handshake_without_v1_usp_subprotocol_is_refused_with_400() {
    let (_h, _rx, addr) = agent_server().await;
    let req = format!("ws://{addr}/usp?eid={CTRL}")
        .into_client_request()
        .unwrap();
    match tokio_tungstenite::connect_async(req).await {
        Err(WsError::Http(resp)) => assert_eq!(resp.status(), StatusCode::BAD_REQUEST),
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
    let mut req = format!("ws://{addr}/usp").into_client_request().unwrap();
    req.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static("v2.json"),
    );
    assert!(matches!(
        tokio_tungstenite::connect_async(req).await,
        Err(WsError::Http(r)) if r.status() == StatusCode::BAD_REQUEST
    ));
}

#[tokio::test]
async fn configured_path_is_enforced_with_404() {
    let (tx, _rx) = mpsc::channel(4);
    let mut cfg = WsServerConfig::new("127.0.0.1:0".parse().unwrap(), AGENT);
    cfg.path = Some("/usp".into());
    let h = server::spawn(MtpId(1), cfg, tx).await.expect("server");
    let addr = h.status.borrow().local_addr.expect("bound");
    let mut req = format!("ws://{addr}/other?eid={CTRL}")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static("v1.usp"),
    );
    assert!(matches!(
        tokio_tungstenite::connect_async(req).await,
        Err(WsError::Http(r)) if r.status() == StatusCode::NOT_FOUND
    ));
    let ok = ControllerClient::connect_websocket(&format!("ws://{addr}/usp"), CTRL, T).await;
    ok.expect("the configured path is served").close().await;
}

#[tokio::test]
async fn server_echoes_extension_with_its_eid_and_routes_by_extension_eid() {
    let (h, mut rx, addr) = agent_server().await;
    let mut req = format!("ws://{addr}/usp").into_client_request().unwrap();
    req.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static("v1.usp"),
    );
    req.headers_mut().insert(
        header::SEC_WEBSOCKET_EXTENSIONS,
        HeaderValue::from_str(&format!("bbf-usp-protocol; eid=\"{CTRL}\"")).unwrap(),
    );
    let (mut ws, resp) = tokio_tungstenite::connect_async(req)
        .await
        .expect("handshake");
    assert_eq!(resp.headers()[header::SEC_WEBSOCKET_PROTOCOL], "v1.usp");
    let ext = resp.headers()[header::SEC_WEBSOCKET_EXTENSIONS]
        .to_str()
        .unwrap();
    assert_eq!(
        usphub::mtp::websocket::eid_from_extensions(ext).as_deref(),
        Some(AGENT)
    );

    // R-MTP.6: the Controller named itself, so the agent greets it first.
    match tokio::time::timeout(T, ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()
    {
        Message::Binary(b) => expect_websocket_connect(&b),
        other => panic!("expected the WebSocketConnect record, got {other:?}"),
    }
    ws.send(Message::Binary(get_record("req-1", CTRL, AGENT).into()))
        .await
        .unwrap();
    let inb = recv(&mut rx).await;
    assert_eq!(msg_id_of(&inb.bytes), "req-1");
    assert!(matches!(inb.reply_to.to, Address::WebSocketConn(_)));

    // A notification addressed by EndpointID reaches the session that named itself so.
    let mut router = MtpRouter::new();
    router.insert(h.sender.clone());
    let route = Route {
        mtp: MtpId(1),
        to: Address::WebSocketEndpoint(CTRL.into()),
    };
    router
        .send(&route, get_record("notify-1", AGENT, CTRL))
        .unwrap();
    router
        .send(&inb.reply_to, get_record("resp-1", AGENT, CTRL))
        .unwrap();
    for want in ["notify-1", "resp-1"] {
        let frame = tokio::time::timeout(T, ws.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match frame {
            Message::Binary(b) => assert_eq!(msg_id_of(&b), want),
            other => panic!("expected a binary frame, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn controller_client_and_server_exchange_records_with_eid_from_query() {
    let (h, mut rx, addr) = agent_server().await;
    let mut ctl = ControllerClient::connect_websocket(&format!("ws://{addr}/usp"), CTRL, T)
        .await
        .expect("controller connects");
    expect_websocket_connect(&ctl.recv(T).await.expect("connect record").bytes);
    for i in 0..20 {
        ctl.send(get_record(&format!("q{i}"), CTRL, AGENT)).unwrap();
    }
    for i in 0..20 {
        let inb = recv(&mut rx).await;
        assert_eq!(msg_id_of(&inb.bytes), format!("q{i}"));
        h.sender
            .send(
                inb.reply_to.to.clone(),
                get_record(&format!("a{i}"), AGENT, CTRL),
            )
            .unwrap();
    }
    for i in 0..20 {
        let got = ctl.recv(T).await.expect("answer");
        assert_eq!(msg_id_of(&got.bytes), format!("a{i}"));
    }
    // The EndpointID came from the query (ControllerClient sends both; the server prefers it).
    h.sender
        .send(
            Address::WebSocketEndpoint(CTRL.into()),
            get_record("n", AGENT, CTRL),
        )
        .unwrap();
    assert_eq!(msg_id_of(&ctl.recv(T).await.unwrap().bytes), "n");

    // R-MTP.7: an agent that shuts down says so before closing.
    h.shutdown().await;
    expect_disconnect(&ctl.recv(T).await.expect("disconnect record").bytes);
    ctl.close().await;
}

async fn frame_closes_the_session_with_1003(frame: Message) {
    let (_h, mut rx, addr) = agent_server().await;
    let mut req = format!("ws://{addr}/?eid={CTRL}")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static("v1.usp"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("handshake");
    ws.send(frame).await.unwrap();
    loop {
        match tokio::time::timeout(T, ws.next())
            .await
            .expect("close in time")
        {
            Some(Ok(Message::Close(Some(f)))) => {
                assert_eq!(f.code, CloseCode::Unsupported);
                break;
            }
            // Pings, and the agent's WebSocketConnect record.
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Binary(_))) => continue,
            other => panic!("expected a Close frame, got {other:?}"),
        }
    }
    assert!(rx.try_recv().is_err(), "nothing reaches the handlers");
}

#[tokio::test]
async fn text_frame_closes_the_session_with_1003() {
    frame_closes_the_session_with_1003(Message::text("not a record")).await;
}

#[tokio::test]
async fn binary_frame_that_is_not_a_record_closes_the_session_with_1003() {
    // 0xFF starts a field with wire type 7, which protobuf does not have.
    frame_closes_the_session_with_1003(Message::Binary(vec![0xff, 0xff, 0xff].into())).await;
}

fn expect_disconnect(bytes: &[u8]) {
    match decode_record(bytes, &DecodeLimits::default()).expect("valid record") {
        DecodedRecord::Control(r) => {
            assert!(matches!(r.record_type, Some(RecordType::Disconnect(_))));
            assert_eq!((r.from_id.as_str(), r.to_id.as_str()), (AGENT, CTRL));
        }
        other => panic!("expected a DisconnectRecord, got {other:?}"),
    }
}

fn expect_websocket_connect(bytes: &[u8]) {
    match decode_record(bytes, &DecodeLimits::default()).expect("valid record") {
        DecodedRecord::Control(r) => {
            assert!(matches!(
                r.record_type,
                Some(RecordType::WebsocketConnect(_))
            ));
            assert_eq!(r.from_id, AGENT);
            assert_eq!(r.to_id, CTRL);
        }
        other => panic!("expected WebSocketConnect, got {other:?}"),
    }
}

#[tokio::test]
async fn agent_client_sends_websocket_connect_and_reconnects_after_controller_restart() {
    let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let mut ctl = ControllerClient::listen_websocket(listen, CTRL, AGENT)
        .await
        .expect("controller listens");
    let addr = ctl.status().local_addr.expect("bound");

    let (tx, mut agent_rx) = mpsc::channel(64);
    let mut cfg = WsClientConfig::new(format!("ws://{addr}/usp"), AGENT);
    cfg.retry = RetryPolicy {
        min_wait: Duration::from_millis(50),
        multiplier_permille: 2000,
        max_wait: Some(Duration::from_millis(400)),
    };
    let mut agent = client::spawn(MtpId(7), cfg, tx);
    agent
        .wait_for(LinkState::Up, T)
        .await
        .expect("agent connects");

    // The server named its EndpointID in the extension: that is the connect Record's to_id.
    expect_websocket_connect(&ctl.recv(T).await.unwrap().bytes);
    ctl.send(get_record("c1", CTRL, AGENT)).unwrap();
    let inb = recv(&mut agent_rx).await;
    assert_eq!(msg_id_of(&inb.bytes), "c1");
    agent
        .sender
        .send(inb.reply_to.to, get_record("r1", AGENT, CTRL))
        .unwrap();
    assert_eq!(msg_id_of(&ctl.recv(T).await.unwrap().bytes), "r1");

    ctl.close().await;
    agent
        .status
        .wait_for(|s: &MtpStatus| s.state != LinkState::Up)
        .await
        .unwrap();
    // Queued while the Controller is away, delivered on the next session.
    agent
        .sender
        .send(
            Address::WebSocketEndpoint(CTRL.into()),
            get_record("late", AGENT, CTRL),
        )
        .unwrap();

    let mut ctl = ControllerClient::listen_websocket(addr, CTRL, AGENT)
        .await
        .expect("controller listens again on the same port");
    expect_websocket_connect(&ctl.recv(T).await.unwrap().bytes);
    assert_eq!(msg_id_of(&ctl.recv(T).await.unwrap().bytes), "late");
    agent.shutdown().await;
    expect_disconnect(&ctl.recv(T).await.expect("farewell").bytes);
    ctl.close().await;
}

#[tokio::test]
async fn records_flow_over_wss_and_an_untrusted_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let certs = usphub_tests::mosquitto::test_certificates(dir.path());
    let (tx, mut agent_rx) = mpsc::channel(16);
    let mut scfg = WsServerConfig::new("127.0.0.1:0".parse().unwrap(), AGENT);
    scfg.tls = Some(ServerTlsConfig {
        cert_pem: certs.server_cert_pem.clone(),
        key_pem: certs.server_key_pem.clone(),
        client_ca_pem: None,
    });
    let agent = server::spawn(MtpId(1), scfg, tx).await.expect("TLS server");
    let addr = agent.status.borrow().local_addr.expect("bound");

    let (ctl_tx, mut ctl_rx) = mpsc::channel(16);
    let mut ccfg = WsClientConfig::new(format!("wss://{addr}/usp"), CTRL);
    ccfg.send_connect_record = false;
    ccfg.tls = Some(TlsConfig {
        ca_pem: Some(certs.ca_pem.clone()),
        ..TlsConfig::default()
    });
    let mut ctl = client::spawn(MtpId(2), ccfg.clone(), ctl_tx);
    ctl.wait_for(LinkState::Up, T).await.expect("wss session");
    ctl.sender
        .send(
            Address::WebSocketConn(usphub::mtp::ConnId(0)),
            get_record("s1", CTRL, AGENT),
        )
        .unwrap();
    let inb = recv(&mut agent_rx).await;
    assert_eq!(msg_id_of(&inb.bytes), "s1");
    expect_websocket_connect(&recv(&mut ctl_rx).await.bytes);
    agent
        .sender
        .send(inb.reply_to.to, get_record("s2", AGENT, CTRL))
        .unwrap();
    assert_eq!(msg_id_of(&recv(&mut ctl_rx).await.bytes), "s2");
    ctl.shutdown().await;

    // Without the test CA (system roots only) the TLS handshake must fail.
    ccfg.tls = None;
    let err = client::connect(&ccfg)
        .await
        .err()
        .expect("untrusted server refused");
    assert!(err.contains("TLS") || err.contains("CA"), "{err}");
    // Plain ws:// to a TLS port is no WebSocket either.
    ccfg.url = format!("ws://{addr}/usp");
    assert!(client::connect(&ccfg).await.is_err());
    agent.shutdown().await;
}

#[tokio::test]
async fn peer_that_never_answers_pings_is_disconnected() {
    let (tx, _rx) = mpsc::channel(4);
    let mut cfg = WsServerConfig::new("127.0.0.1:0".parse().unwrap(), AGENT);
    cfg.keep_alive = Duration::from_millis(100);
    let h = server::spawn(MtpId(1), cfg, tx).await.expect("server");
    let addr = h.status.borrow().local_addr.expect("bound");
    let mut req = format!("ws://{addr}/?eid={CTRL}")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static("v1.usp"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("handshake");
    // Not reading means not answering pings: the time passing is what is under test.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut pings = 0;
    loop {
        match tokio::time::timeout(T, ws.next())
            .await
            .expect("ends in time")
        {
            Some(Ok(Message::Ping(_))) => pings += 1,
            Some(Ok(Message::Binary(b))) => expect_websocket_connect(&b),
            Some(Ok(Message::Close(Some(f)))) => {
                assert_eq!(f.code, CloseCode::Away);
                break;
            }
            Some(Ok(Message::Close(None))) | None | Some(Err(_)) => break,
            Some(Ok(other)) => panic!("unexpected {other:?}"),
        }
    }
    assert!(pings >= 1, "the server pinged before giving up");
}

#[tokio::test]
async fn server_that_validates_clients_refuses_one_without_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let certs = usphub_tests::mosquitto::test_certificates(dir.path());
    let (tx, mut agent_rx) = mpsc::channel(16);
    let mut scfg = WsServerConfig::new("127.0.0.1:0".parse().unwrap(), AGENT);
    scfg.tls = Some(ServerTlsConfig {
        cert_pem: certs.server_cert_pem.clone(),
        key_pem: certs.server_key_pem.clone(),
        client_ca_pem: Some(certs.ca_pem.clone()),
    });
    let agent = server::spawn(MtpId(1), scfg, tx).await.expect("TLS server");
    let addr = agent.status.borrow().local_addr.expect("bound");

    let mut ccfg = WsClientConfig::new(format!("wss://{addr}/usp"), CTRL);
    ccfg.send_connect_record = false;
    ccfg.tls = Some(TlsConfig {
        ca_pem: Some(certs.ca_pem.clone()),
        ..TlsConfig::default()
    });
    assert!(
        client::connect(&ccfg).await.is_err(),
        "no client certificate"
    );

    ccfg.tls = Some(TlsConfig {
        ca_pem: Some(certs.ca_pem.clone()),
        client_cert_pem: Some(certs.client_cert_pem.clone()),
        client_key_pem: Some(certs.client_key_pem.clone()),
    });
    let (ctl_tx, _ctl_rx) = mpsc::channel(16);
    let mut ctl = client::spawn(MtpId(2), ccfg, ctl_tx);
    ctl.wait_for(LinkState::Up, T)
        .await
        .expect("session with a client certificate");
    ctl.sender
        .send(
            Address::WebSocketConn(usphub::mtp::ConnId(0)),
            get_record("mtls", CTRL, AGENT),
        )
        .unwrap();
    assert_eq!(msg_id_of(&recv(&mut agent_rx).await.bytes), "mtls");
    ctl.shutdown().await;
    agent.shutdown().await;
}
