//! EZSP-only backend behaviour against the EZSP simulator over ASH on loopback TCP: every
//! protocol version, delivery failure, NCP reboot, ASH error frames, unknown callbacks,
//! explicit reset, hung NCP, PTY unplug. The scenarios shared with ZNP are in
//! `zigbee/backend_tests.rs`.

use std::time::Duration;

use tokio::sync::mpsc;

use super::ash::AshConfig;
use super::backend::{EzspBackend, EzspBackendConfig};
use super::link::LinkConfig;
use super::protocol::ProtocolConfig;
use super::sim::{EzspSim, EzspSimConfig};
use crate::zigbee::backend::{
    ApsFrame, BackendError, BackendEvent, HOST_ENDPOINT, NetworkSettings, PROFILE_HA, ZigbeeBackend,
};
use crate::zigbee::backend_tests::{next_event, radio_up, settings};
use crate::zigbee::sim::Scenario;
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::zcl::{ZclFrame, ZclHeader};
use crate::zigbee::znp::link::port_connector;

const PLUG: u64 = 0x00124B0000000001;
const SCENARIO: &str = r#"
[[device]]
preset = "plug"
ieee = "00124b0000000001"
nwk = 0x1001
"#;

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

// Radio-specific: EmberStatus 0x66 and the NCP's unicast counter (ZNP: MAC 0xe9, AF requests).
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

// Radio-specific: the EZSP response timeout and an ASH reset (ZNP: its SREQ timeouts).
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
