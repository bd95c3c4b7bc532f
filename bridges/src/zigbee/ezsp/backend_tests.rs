//! EZSP backend against the EZSP simulator over ASH on loopback TCP: formation, resume,
//! mismatch, joins, ZDP and ZCL round trips, delivery failure, port loss, NCP reboot,
//! explicit reset, several protocol versions.

use std::time::Duration;

use tokio::sync::mpsc;

use super::ash::AshConfig;
use super::backend::{EzspBackend, EzspBackendConfig};
use super::link::LinkConfig;
use super::protocol::ProtocolConfig;
use super::sim::{EzspSim, EzspSimConfig};
use crate::zigbee::backend::{
    ApsFrame, BackendError, BackendEvent, HOST_ENDPOINT, NetworkInfo, NetworkSettings, PROFILE_HA,
    PROFILE_ZDP, ZigbeeBackend,
};
use crate::zigbee::sim::Scenario;
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::zcl::{GeneralCommand, ZclFrame, ZclHeader};
use crate::zigbee::zdo::{Zdp, cluster};
use crate::zigbee::znp::link::port_connector;

const PLUG: u64 = 0x00124B0000000001;
const SCENARIO: &str = r#"
[[device]]
preset = "plug"
ieee = "00124b0000000001"
nwk = 0x1001
"#;

fn settings() -> NetworkSettings {
    NetworkSettings {
        pan_id: 0x1A62,
        extended_pan_id: 0xDDDD_0000_1111_2222,
        channel: 15,
        network_key: [7; 16],
    }
}

/// Timing for loopback tests.
pub(crate) fn test_config() -> EzspBackendConfig {
    EzspBackendConfig {
        link: LinkConfig {
            ash: AshConfig {
                reset_timeout: Duration::from_millis(500),
                reset_attempts: 3,
                ack_timeout_initial: Duration::from_millis(400),
                ack_timeout_min: Duration::from_millis(100),
                ack_timeout_max: Duration::from_millis(800),
                max_retries: 3,
                ..AshConfig::default()
            },
            protocol: ProtocolConfig {
                response_timeout: Duration::from_secs(2),
                max_timeouts: 3,
            },
            backoff_min: Duration::from_millis(20),
            backoff_max: Duration::from_millis(100),
        },
        startup_timeout: Duration::from_secs(10),
        network_timeout: Duration::from_secs(5),
        sent_timeout: Duration::from_secs(2),
        data_attempts: 2,
        retry_delay: Duration::from_millis(10),
        tx_power: 8,
    }
}

async fn sim_v(scenario: &str, version: u8) -> EzspSim {
    let cfg = EzspSimConfig {
        ieee: 0x000D_6F00_AABB_CCDD,
        scenario: Scenario::parse(scenario).unwrap(),
        protocol_version: version,
        ..EzspSimConfig::default()
    };
    EzspSim::start_tcp(cfg, 0).await.unwrap()
}

async fn sim(scenario: &str) -> EzspSim {
    sim_v(scenario, 13).await
}

fn backend(sim: &EzspSim) -> EzspBackend {
    EzspBackend::new(port_connector(sim.port_spec()), test_config())
}

async fn next_event(
    rx: &mut mpsc::Receiver<BackendEvent>,
    pred: impl Fn(&BackendEvent) -> bool,
) -> BackendEvent {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let ev = rx.recv().await.expect("backend events closed");
            if pred(&ev) {
                return ev;
            }
        }
    })
    .await
    .expect("event in time")
}

/// Waits for the radio to come back and returns the network it came back with.
async fn radio_up(rx: &mut mpsc::Receiver<BackendEvent>) -> NetworkInfo {
    match next_event(rx, |e| matches!(e, BackendEvent::RadioUp(_))).await {
        BackendEvent::RadioUp(info) => info,
        _ => unreachable!("next_event picked a RadioUp"),
    }
}

fn on_command(tsn: u8) -> ApsFrame {
    ApsFrame {
        dst_nwk: 0x1001,
        dst_endpoint: 1,
        src_endpoint: HOST_ENDPOINT,
        profile: PROFILE_HA,
        cluster: id::ON_OFF,
        payload: ZclFrame {
            header: ZclHeader::cluster(tsn, 0x01),
            payload: vec![],
        }
        .to_bytes(),
    }
}

#[tokio::test]
async fn factory_new_ncp_forms_network_then_next_start_resumes_it() {
    let sim = sim("").await;
    let (tx, rx) = mpsc::channel(64);
    let info = backend(&sim).start(settings(), tx).await.unwrap();
    assert!(info.formed);
    assert_eq!(
        (info.pan_id, info.channel, info.ieee),
        (0x1A62, 15, 0x000D_6F00_AABB_CCDD)
    );
    assert!(info.firmware.contains("EZSP v13"), "{}", info.firmware);
    assert_eq!(
        sim.with_state(|s| s.network.map(|n| n.network_key)),
        Some([7; 16])
    );
    assert!(sim.with_state(|s| s.endpoints.contains(&HOST_ENDPOINT)));
    // The bridge going away releases the port.
    drop(rx);
    sim.wait_idle().await;

    let (tx, _rx) = mpsc::channel(64);
    let again = backend(&sim).start(settings(), tx).await.unwrap();
    assert!(!again.formed);
    assert_eq!(again.extended_pan_id, 0xDDDD_0000_1111_2222);
}

#[tokio::test]
async fn stored_network_that_differs_from_settings_is_not_overwritten() {
    let sim = sim("").await;
    let (tx, _rx) = mpsc::channel(64);
    backend(&sim).start(settings(), tx).await.unwrap();
    for other in [
        NetworkSettings {
            pan_id: 0x2222,
            ..settings()
        },
        NetworkSettings {
            network_key: [8; 16],
            ..settings()
        },
    ] {
        let (tx, _rx) = mpsc::channel(64);
        let e = backend(&sim).start(other, tx).await.unwrap_err();
        assert!(matches!(&e, BackendError::NetworkMismatch(_)), "{e:?}");
    }
    assert_eq!(
        sim.with_state(|s| s.network.map(|n| n.pan_id)),
        Some(0x1A62)
    );
}

#[tokio::test]
async fn joined_device_answers_zdp_with_our_tsn_and_zcl_on_command() {
    let sim = sim(SCENARIO).await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    be.permit_join(60).await.unwrap();
    next_event(&mut rx, |e| *e == BackendEvent::PermitJoin { seconds: 60 }).await;
    // Routers are opened too, by the ZDP broadcast.
    let opened = sim.with_state(|s| {
        s.data_log.iter().any(|f| {
            f.dst_nwk == 0xFFFC
                && f.profile == PROFILE_ZDP
                && matches!(
                    Zdp::parse(f.cluster, &f.payload),
                    Ok((_, Zdp::MgmtPermitJoinReq { duration: 60, .. }))
                )
        })
    });
    assert!(opened);
    let joined = next_event(&mut rx, |e| matches!(e, BackendEvent::DeviceJoined { .. })).await;
    assert_eq!(
        joined,
        BackendEvent::DeviceJoined {
            nwk: 0x1001,
            ieee: PLUG
        }
    );
    let zdp = ApsFrame {
        dst_nwk: 0x1001,
        dst_endpoint: 0,
        src_endpoint: 0,
        profile: PROFILE_ZDP,
        cluster: cluster::ACTIVE_EP_REQ,
        payload: Zdp::ActiveEpReq { nwk: 0x1001 }.encode(0x42),
    };
    be.send(zdp).await.unwrap();
    let ev = next_event(&mut rx, |e| {
        matches!(e, BackendEvent::Message(m) if m.cluster == cluster::ACTIVE_EP_REQ | cluster::RESPONSE)
    })
    .await;
    let BackendEvent::Message(m) = ev else {
        unreachable!()
    };
    assert_eq!(
        (m.profile, m.src_endpoint, m.dst_endpoint),
        (PROFILE_ZDP, 0, 0)
    );
    assert_eq!(
        Zdp::parse(m.cluster, &m.payload).unwrap(),
        (
            0x42,
            Zdp::ActiveEpRsp {
                status: 0,
                nwk: 0x1001,
                endpoints: vec![1]
            }
        )
    );
    be.send(on_command(9)).await.unwrap();
    let ev = next_event(
        &mut rx,
        |e| matches!(e, BackendEvent::Message(m) if m.cluster == id::ON_OFF),
    )
    .await;
    let BackendEvent::Message(m) = ev else {
        unreachable!()
    };
    let f = ZclFrame::parse(&m.payload).unwrap();
    assert_eq!(f.header.tsn, 9);
    assert_eq!(
        GeneralCommand::parse(f.header.command, &f.payload).unwrap(),
        GeneralCommand::DefaultRsp {
            command: 1,
            status: 0
        }
    );
}

#[tokio::test]
async fn every_supported_protocol_version_forms_resumes_and_carries_aps_frames() {
    for version in [8, 12, 13, 14, 16, 17] {
        let sim = sim_v(SCENARIO, version).await;
        let be = backend(&sim);
        let (tx, mut rx) = mpsc::channel(64);
        let info = be.start(settings(), tx).await.unwrap();
        assert!(info.formed, "v{version}");
        assert_eq!(be.link().version(), version);
        be.permit_join(30).await.unwrap();
        next_event(&mut rx, |e| matches!(e, BackendEvent::DeviceJoined { .. })).await;
        be.send(on_command(3)).await.unwrap();
        next_event(
            &mut rx,
            |e| matches!(e, BackendEvent::Message(m) if m.cluster == id::ON_OFF && m.lqi > 0),
        )
        .await;
        drop(be);
        drop(rx);
        sim.wait_idle().await;
        let (tx, _rx) = mpsc::channel(64);
        let again = backend(&sim).start(settings(), tx).await.unwrap();
        assert!(!again.formed, "v{version}");
    }
}

#[tokio::test]
async fn send_to_silent_device_is_retried_then_fails_with_delivery_status() {
    let sim = sim(SCENARIO).await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    be.permit_join(30).await.unwrap();
    next_event(&mut rx, |e| matches!(e, BackendEvent::DeviceJoined { .. })).await;
    sim.set_responsive(PLUG, false);
    let before = sim.with_state(|s| s.unicasts);
    let e = be.send(on_command(1)).await.unwrap_err();
    assert!(
        matches!(&e, BackendError::Failed(m) if m.contains("0x66")),
        "{e:?}"
    );
    assert_eq!(sim.with_state(|s| s.unicasts) - before, 2);
}

#[tokio::test]
async fn port_loss_reports_radio_down_then_resumes_network_on_reconnect() {
    let sim = sim("").await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    sim.unplug();
    next_event(&mut rx, |e| matches!(e, BackendEvent::RadioDown(_))).await;
    assert_eq!(be.permit_join(10).await, Err(BackendError::Offline));
    sim.replug();
    let info = radio_up(&mut rx).await;
    assert!(!info.formed);
    assert_eq!(info.pan_id, 0x1A62);
    be.permit_join(10).await.unwrap();
}

#[tokio::test]
async fn ncp_reboot_mid_session_is_recovered_with_the_same_network() {
    let sim = sim(SCENARIO).await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    be.permit_join(30).await.unwrap();
    next_event(&mut rx, |e| matches!(e, BackendEvent::DeviceJoined { .. })).await;
    assert!(sim.reboot(0x02));
    next_event(&mut rx, |e| matches!(e, BackendEvent::RadioDown(_))).await;
    let info = radio_up(&mut rx).await;
    assert!(!info.formed);
    assert!(sim.with_state(|s| s.network_up));
    // The device stayed in the network: no pairing again.
    be.send(on_command(4)).await.unwrap();
}

#[tokio::test]
async fn unknown_callbacks_and_broken_frames_from_the_ncp_are_survived() {
    let sim = sim(SCENARIO).await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    // An async callback with an unknown id, a truncated incomingMessageHandler and a frame
    // too short for an EZSP header.
    assert!(sim.inject_frame(vec![0x00, 0x90, 0x01, 0x77, 0x07, 1, 2]));
    assert!(sim.inject_frame(vec![0x00, 0x90, 0x01, 0x45, 0x00, 0x00, 0x04]));
    assert!(sim.inject_frame(vec![0x00, 0x90, 0x01]));
    be.permit_join(30).await.unwrap();
    next_event(&mut rx, |e| matches!(e, BackendEvent::DeviceJoined { .. })).await;
    be.send(on_command(5)).await.unwrap();
}

#[tokio::test]
async fn explicit_reset_leaves_the_network_and_the_next_start_forms_one() {
    let sim = sim("").await;
    let (tx, rx) = mpsc::channel(64);
    backend(&sim).start(settings(), tx).await.unwrap();
    drop(rx);
    sim.wait_idle().await;
    backend(&sim).reset_network().await.unwrap();
    assert_eq!(sim.with_state(|s| s.network), None);
    sim.wait_idle().await;
    let other = NetworkSettings {
        pan_id: 0x3333,
        ..settings()
    };
    let (tx, _rx) = mpsc::channel(64);
    let info = backend(&sim).start(other, tx).await.unwrap();
    assert!(info.formed);
    assert_eq!(info.pan_id, 0x3333);
}

#[tokio::test]
async fn network_forms_over_a_pty_opened_like_a_usb_stick() {
    let cfg = EzspSimConfig {
        scenario: Scenario::parse(SCENARIO).unwrap(),
        ..EzspSimConfig::default()
    };
    let sim = EzspSim::start_pty(cfg).await.unwrap();
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    let info = be.start(settings(), tx).await.unwrap();
    assert!(info.formed);
    be.permit_join(30).await.unwrap();
    next_event(&mut rx, |e| matches!(e, BackendEvent::DeviceJoined { .. })).await;
    be.send(on_command(6)).await.unwrap();
}

#[tokio::test]
async fn hung_ncp_is_reset_and_the_network_resumed_when_it_answers_again() {
    let sim = sim("").await;
    let mut config = test_config();
    config.link.protocol.response_timeout = Duration::from_millis(300);
    let be = EzspBackend::new(port_connector(sim.port_spec()), config);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    sim.set_hung(true);
    for _ in 0..3 {
        assert!(matches!(
            be.permit_join(10).await,
            Err(BackendError::Timeout(_) | BackendError::Offline)
        ));
    }
    next_event(&mut rx, |e| matches!(e, BackendEvent::RadioDown(_))).await;
    sim.set_hung(false);
    let info = radio_up(&mut rx).await;
    assert!(!info.formed);
    be.permit_join(10).await.unwrap();
}

#[tokio::test]
async fn ash_error_frame_from_the_ncp_is_recovered_with_the_same_network() {
    let sim = sim("").await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    // ERROR with EXCEEDED_MAXIMUM_ACK_TIMEOUT_COUNT (0x51): the NCP is FAILED until reset.
    assert!(sim.fault(super::ash::NcpFault::SendError(0x51)));
    next_event(&mut rx, |e| matches!(e, BackendEvent::RadioDown(_))).await;
    let info = radio_up(&mut rx).await;
    assert!(!info.formed && info.pan_id == 0x1A62);
    be.permit_join(10).await.unwrap();
}

#[tokio::test]
async fn swapped_factory_new_stick_gets_the_same_network_back() {
    let sim = sim("").await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    sim.unplug();
    next_event(&mut rx, |e| matches!(e, BackendEvent::RadioDown(_))).await;
    // A new stick: no network in its tokens.
    sim.with_state(|s| s.network = None);
    sim.replug();
    let info = radio_up(&mut rx).await;
    assert!(info.formed);
    assert_eq!(
        (info.pan_id, info.extended_pan_id, info.channel),
        (0x1A62, 0xDDDD_0000_1111_2222, 15)
    );
    assert_eq!(
        sim.with_state(|s| s.network.map(|n| n.network_key)),
        Some([7; 16])
    );
}

#[tokio::test]
async fn scripted_reports_of_a_paired_device_arrive_after_start() {
    let scenario = r#"
[[device]]
preset = "temperature_humidity"
ieee = "00124b0000000101"
nwk = 0x2001
join = "paired"
[[device.report]]
after_ms = 50
endpoint = 1
cluster = 0x0402
attribute = 0
value = 1234
"#;
    let sim = sim(scenario).await;
    sim.with_state(|s| {
        s.form_network(0x1A62, 0xDDDD_0000_1111_2222, 15, [7; 16]);
    });
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    let info = be.start(settings(), tx).await.unwrap();
    assert!(!info.formed);
    let ev = next_event(
        &mut rx,
        |e| matches!(e, BackendEvent::Message(m) if m.src_nwk == 0x2001 && m.cluster == 0x0402),
    )
    .await;
    let BackendEvent::Message(m) = ev else {
        unreachable!()
    };
    let f = ZclFrame::parse(&m.payload).unwrap();
    assert!(matches!(
        GeneralCommand::parse(f.header.command, &f.payload).unwrap(),
        GeneralCommand::ReportAttributes(_)
    ));
}

#[tokio::test]
async fn reset_of_an_ncp_without_a_network_is_a_no_op() {
    let sim = sim("").await;
    backend(&sim).reset_network().await.unwrap();
    assert_eq!(sim.with_state(|s| s.network), None);
}

#[tokio::test]
async fn pty_unplug_and_replug_resumes_the_network() {
    let sim = EzspSim::start_pty(EzspSimConfig::default()).await.unwrap();
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    sim.unplug();
    // The PTY stays open but silent: the host notices when its commands go unanswered.
    assert!(be.permit_join(10).await.is_err());
    next_event(&mut rx, |e| matches!(e, BackendEvent::RadioDown(_))).await;
    sim.replug();
    let info = radio_up(&mut rx).await;
    assert!(!info.formed);
    be.permit_join(10).await.unwrap();
}
