//! Link actor tests against a scripted dongle on an in-memory duplex stream.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, DuplexStream};
use tokio::sync::{Mutex, mpsc};
use tokio_util::codec::Framed;

use super::commands::sys::{Ping, PingRsp, Version, VersionRsp};
use super::commands::zdo::StateChangeInd;
use super::commands::{MtMessage, Rest};
use super::frame::MtCodec;
use super::link::{
    BOOTLOADER_SKIP_BYTE, Connector, LinkConfig, LinkState, ZnpError, spawn_link, wait_for,
};
use super::transaction::TransactionError;
use crate::api::AsyncPort;

fn fast_config() -> LinkConfig {
    LinkConfig {
        sreq_timeout: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        ping_attempts: 3,
        backoff_min: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
        max_timeouts: 3,
    }
}

/// A connector handing out the host ends of duplex pairs the test creates.
fn duplex_connector() -> (Connector, mpsc::UnboundedSender<DuplexStream>) {
    let (tx, rx) = mpsc::unbounded_channel::<DuplexStream>();
    let rx = Arc::new(Mutex::new(rx));
    let connector: Connector = Arc::new(move || {
        let rx = rx.clone();
        Box::pin(async move {
            match rx.lock().await.recv().await {
                Some(s) => Ok(Box::new(s) as Box<dyn AsyncPort>),
                None => Err("no more ports".to_string()),
            }
        })
    });
    (connector, tx)
}

async fn wait_state(
    rx: &mut tokio::sync::watch::Receiver<LinkState>,
    f: impl Fn(&LinkState) -> bool,
) {
    tokio::time::timeout(Duration::from_secs(5), rx.wait_for(|s| f(s)))
        .await
        .unwrap()
        .unwrap();
}

/// Answers pings and version requests like a Z-Stack 3.x stick.
async fn answer_forever(mut dongle: Framed<DuplexStream, MtCodec>) {
    while let Some(Ok(f)) = dongle.next().await {
        let reply = if f.header == Ping::HEADER {
            PingRsp {
                capabilities: 0x0659,
            }
            .to_frame()
        } else if f.header == Version::HEADER {
            VersionRsp {
                transport_rev: 2,
                product: 1,
                major_rel: 2,
                minor_rel: 7,
                maint_rel: 1,
                code_revision: Some(20_210_708),
                bootloader: Rest::default(),
            }
            .to_frame()
        } else {
            continue;
        };
        if dongle.send(reply).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn link_skips_bootloader_when_first_ping_is_unanswered() {
    let (connector, ports) = duplex_connector();
    let (host, mut dongle) = tokio::io::duplex(4096);
    ports.send(host).unwrap();
    let znp = spawn_link(connector, fast_config());
    // The "boot loader" ignores everything until it sees the skip byte.
    let mut seen_skip = 0;
    let mut buf = [0u8; 512];
    while seen_skip < 256 {
        let n = dongle.read(&mut buf).await.unwrap();
        seen_skip += buf[..n]
            .iter()
            .filter(|&&b| b == BOOTLOADER_SKIP_BYTE)
            .count();
    }
    tokio::spawn(answer_forever(Framed::new(dongle, MtCodec::new())));
    let mut state = znp.state();
    wait_state(&mut state, |s| matches!(s, LinkState::Up { generation: 1 })).await;
    let v = znp.request(&Version {}).await.unwrap();
    assert_eq!(
        (v.major_rel, v.minor_rel, v.code_revision),
        (2, 7, Some(20_210_708))
    );
}

#[tokio::test]
async fn callbacks_reach_subscribers_and_unanswered_request_times_out() {
    let (connector, ports) = duplex_connector();
    let (host, dongle) = tokio::io::duplex(4096);
    ports.send(host).unwrap();
    let znp = spawn_link(connector, fast_config());
    let mut dongle = Framed::new(dongle, MtCodec::new());
    let ping = dongle.next().await.unwrap().unwrap();
    assert_eq!(ping.header, Ping::HEADER);
    dongle
        .send(PingRsp { capabilities: 1 }.to_frame())
        .await
        .unwrap();
    let mut state = znp.state();
    wait_state(&mut state, |s| matches!(s, LinkState::Up { .. })).await;

    let mut cbs = znp.callbacks();
    dongle
        .send(StateChangeInd { state: 9 }.to_frame())
        .await
        .unwrap();
    let ind: StateChangeInd = wait_for(&mut cbs, Duration::from_secs(2), "state", |_| true)
        .await
        .unwrap();
    assert_eq!(ind.state, 9);

    let err = znp.request(&Version {}).await.unwrap_err();
    assert!(
        matches!(err, ZnpError::Transaction(TransactionError::Timeout(_))),
        "{err:?}"
    );
}

#[tokio::test]
async fn port_loss_goes_down_then_reconnects_with_new_generation() {
    let (connector, ports) = duplex_connector();
    let (host, dongle) = tokio::io::duplex(4096);
    ports.send(host).unwrap();
    let znp = spawn_link(connector, fast_config());
    let task = tokio::spawn(answer_forever(Framed::new(dongle, MtCodec::new())));
    let mut state = znp.state();
    wait_state(&mut state, |s| matches!(s, LinkState::Up { generation: 1 })).await;

    task.abort();
    wait_state(&mut state, |s| matches!(s, LinkState::Down { .. })).await;
    assert!(znp.request(&Version {}).await.is_err());

    let (host2, dongle2) = tokio::io::duplex(4096);
    tokio::spawn(answer_forever(Framed::new(dongle2, MtCodec::new())));
    ports.send(host2).unwrap();
    wait_state(&mut state, |s| matches!(s, LinkState::Up { generation: 2 })).await;
    assert!(znp.request(&Version {}).await.is_ok());
}
