//! ZNP-only backend behaviour against the ZNP simulator over loopback TCP: boot-loader skip,
//! delivery failure, hung firmware. The scenarios shared with EZSP are in
//! `zigbee/backend_tests.rs`.

use std::time::Duration;

use tokio::sync::mpsc;

use super::backend::{ZnpBackend, ZnpBackendConfig};
use super::link::{LinkConfig, port_connector};
use super::sim::{ZnpSim, ZnpSimConfig};
use crate::zigbee::backend::{ApsFrame, BackendError, BackendEvent, PROFILE_HA, ZigbeeBackend};
use crate::zigbee::backend_tests::{next_event, radio_up, settings};
use crate::zigbee::sim::Scenario;
use crate::zigbee::zcl::{ZclFrame, ZclHeader};

const SCENARIO: &str = r#"
[[device]]
preset = "plug"
ieee = "00124b0000000001"
nwk = 0x1001
"#;

fn config() -> ZnpBackendConfig {
    ZnpBackendConfig {
        link: LinkConfig {
            sreq_timeout: Duration::from_secs(2),
            ping_timeout: Duration::from_millis(300),
            ping_attempts: 3,
            backoff_min: Duration::from_millis(20),
            backoff_max: Duration::from_millis(100),
            max_timeouts: 3,
        },
        startup_timeout: Duration::from_secs(10),
        network_timeout: Duration::from_secs(5),
        data_confirm_timeout: Duration::from_secs(2),
        data_attempts: 2,
        retry_delay: Duration::from_millis(10),
    }
}

async fn sim(scenario: &str, skip: bool) -> ZnpSim {
    let cfg = ZnpSimConfig {
        ieee: 0x00124B00_AABBCCDD,
        scenario: Scenario::parse(scenario).unwrap(),
        require_bootloader_skip: skip,
    };
    ZnpSim::start_tcp(cfg, 0).await.unwrap()
}

fn backend(sim: &ZnpSim) -> ZnpBackend {
    ZnpBackend::new(port_connector(sim.port_spec()), config())
}

#[tokio::test]
async fn bootloader_skip_bytes_wake_a_stick_in_its_boot_loader() {
    let sim = sim("", true).await;
    let (tx, _rx) = mpsc::channel(64);
    assert!(backend(&sim).start(settings(), tx).await.unwrap().formed);
}

// Radio-specific: MAC status 0xe9 and Z-Stack's AF request counter (EZSP: EmberStatus 0x66).
#[tokio::test]
async fn send_to_silent_device_is_retried_then_fails_with_data_confirm_status() {
    let sim = sim(
        SCENARIO
            .replace("nwk = 0x1001", "nwk = 0x1001\njoin = \"paired\"")
            .as_str(),
        false,
    )
    .await;
    let be = backend(&sim);
    let (tx, _rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    sim.set_responsive(0x00124B0000000001, false);
    let on = ZclFrame {
        header: ZclHeader::cluster(1, 0x01),
        payload: vec![],
    };
    let frame = ApsFrame {
        dst_nwk: 0x1001,
        dst_endpoint: 1,
        src_endpoint: 1,
        profile: PROFILE_HA,
        cluster: 6,
        payload: on.to_bytes(),
    };
    let before = sim.with_state(|s| s.af_requests);
    let e = be.send(frame).await.unwrap_err();
    assert!(
        matches!(&e, BackendError::Failed(m) if m.contains("0xe9")),
        "{e:?}"
    );
    // MAC no-ACK is transient: the request was tried `data_attempts` (2) times.
    assert_eq!(sim.with_state(|s| s.af_requests) - before, 2);
}

// Radio-specific: SREQ timeouts and the "stopped answering" reason (EZSP: ASH reset).
#[tokio::test]
async fn hung_firmware_is_detected_and_network_resumed_when_it_answers_again() {
    let sim = sim("", false).await;
    let mut cfg = config();
    cfg.link.sreq_timeout = Duration::from_millis(150);
    cfg.link.max_timeouts = 2;
    let be = ZnpBackend::new(port_connector(sim.port_spec()), cfg);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    sim.set_hung(true);
    for _ in 0..2 {
        assert!(matches!(
            be.permit_join(10).await,
            Err(BackendError::Timeout(_))
        ));
    }
    let down = next_event(&mut rx, |e| matches!(e, BackendEvent::RadioDown(_))).await;
    assert!(
        matches!(&down, BackendEvent::RadioDown(r) if r.contains("stopped answering")),
        "{down:?}"
    );
    sim.set_hung(false);
    let info = radio_up(&mut rx).await;
    assert!(!info.formed);
    be.permit_join(10).await.unwrap();
}
