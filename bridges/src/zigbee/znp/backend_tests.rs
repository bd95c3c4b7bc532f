//! ZNP backend against the ZNP simulator over loopback TCP: formation, resume, mismatch,
//! joins, ZDP and ZCL round trips, port loss and recovery.

use std::time::Duration;

use tokio::sync::mpsc;

use super::backend::{HOST_ENDPOINT, ZnpBackend, ZnpBackendConfig};
use super::link::{LinkConfig, port_connector};
use super::sim::{ZnpSim, ZnpSimConfig};
use crate::zigbee::backend::{
    ApsFrame, BackendError, BackendEvent, NetworkInfo, NetworkSettings, PROFILE_HA, PROFILE_ZDP,
    ZigbeeBackend,
};
use crate::zigbee::sim::Scenario;
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::zcl::{GeneralCommand, ZclFrame, ZclHeader};
use crate::zigbee::zdo::{Zdp, cluster};
use crate::zigbee::znp::commands::sys::nv;

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

async fn next_event(
    rx: &mut mpsc::Receiver<BackendEvent>,
    pred: impl Fn(&BackendEvent) -> bool,
) -> BackendEvent {
    tokio::time::timeout(Duration::from_secs(5), async {
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

#[tokio::test]
async fn factory_new_radio_forms_network_then_next_start_resumes_it() {
    let sim = sim("", false).await;
    let (tx, _rx) = mpsc::channel(64);
    let info = backend(&sim).start(settings(), tx).await.unwrap();
    assert!(info.formed);
    assert_eq!(
        (info.pan_id, info.channel, info.ieee),
        (0x1A62, 15, 0x00124B00_AABBCCDD)
    );
    assert_eq!(
        sim.with_state(|s| s.nv.get(nv::PRECFGKEY).map(<[u8]>::to_vec)),
        Some(vec![7; 16])
    );

    let (tx, _rx) = mpsc::channel(64);
    let again = backend(&sim).start(settings(), tx).await.unwrap();
    assert!(!again.formed);
    assert_eq!(again.extended_pan_id, 0xDDDD_0000_1111_2222);
}

#[tokio::test]
async fn stored_network_that_differs_from_settings_is_not_overwritten() {
    let sim = sim("", false).await;
    let (tx, _rx) = mpsc::channel(64);
    backend(&sim).start(settings(), tx).await.unwrap();
    let other = NetworkSettings {
        pan_id: 0x2222,
        ..settings()
    };
    let (tx, _rx) = mpsc::channel(64);
    let e = backend(&sim).start(other, tx).await.unwrap_err();
    assert!(
        matches!(&e, BackendError::NetworkMismatch(m) if m.contains("PAN id")),
        "{e:?}"
    );
    assert_eq!(sim.with_state(|s| s.network().0), 0x1A62);
}

#[tokio::test]
async fn bootloader_skip_bytes_wake_a_stick_in_its_boot_loader() {
    let sim = sim("", true).await;
    let (tx, _rx) = mpsc::channel(64);
    assert!(backend(&sim).start(settings(), tx).await.unwrap().formed);
}

#[tokio::test]
async fn joined_device_answers_zdp_with_our_tsn_and_zcl_on_command() {
    let sim = sim(SCENARIO, false).await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    be.permit_join(60).await.unwrap();
    let joined = next_event(&mut rx, |e| matches!(e, BackendEvent::DeviceJoined { .. })).await;
    assert_eq!(
        joined,
        BackendEvent::DeviceJoined {
            nwk: 0x1001,
            ieee: 0x00124B0000000001
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
    let ev = next_event(
        &mut rx,
        |e| matches!(e, BackendEvent::Message(m) if m.profile == PROFILE_ZDP),
    )
    .await;
    let BackendEvent::Message(m) = ev else {
        unreachable!()
    };
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

    let on = ZclFrame {
        header: ZclHeader::cluster(9, 0x01),
        payload: vec![],
    };
    let frame = ApsFrame {
        dst_nwk: 0x1001,
        dst_endpoint: 1,
        src_endpoint: HOST_ENDPOINT,
        profile: PROFILE_HA,
        cluster: id::ON_OFF,
        payload: on.to_bytes(),
    };
    be.send(frame).await.unwrap();
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

#[tokio::test]
async fn port_loss_reports_radio_down_then_resumes_network_on_reconnect() {
    let sim = sim("", false).await;
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
async fn scripted_reports_of_a_paired_device_arrive_after_start() {
    let scenario = r#"
[[device]]
preset = "temperature_humidity"
ieee = "00124b0000000009"
nwk = 0x2009
join = "paired"
[[device.report]]
after_ms = 10
every_ms = 20
endpoint = 1
cluster = 0x0405
attribute = 0
value = 5500
"#;
    let sim = sim(scenario, false).await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    for _ in 0..2 {
        let ev = next_event(
            &mut rx,
            |e| matches!(e, BackendEvent::Message(m) if m.cluster == id::HUMIDITY),
        )
        .await;
        let BackendEvent::Message(m) = ev else {
            unreachable!()
        };
        assert_eq!(m.src_nwk, 0x2009);
        let f = ZclFrame::parse(&m.payload).unwrap();
        assert_eq!(f.header.command, 0x0A);
    }
}

#[tokio::test]
async fn network_forms_over_a_pty_opened_like_a_usb_stick() {
    let cfg = ZnpSimConfig {
        ieee: 0x00124B00_AABBCCDD,
        scenario: Scenario::parse(SCENARIO).unwrap(),
        require_bootloader_skip: true,
    };
    let sim = ZnpSim::start_pty(cfg).await.unwrap();
    assert!(sim.url().starts_with("/dev/"), "{}", sim.url());
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    assert!(be.start(settings(), tx).await.unwrap().formed);
    be.permit_join(30).await.unwrap();
    let joined = next_event(&mut rx, |e| matches!(e, BackendEvent::DeviceJoined { .. })).await;
    assert_eq!(
        joined,
        BackendEvent::DeviceJoined {
            nwk: 0x1001,
            ieee: 0x00124B0000000001
        }
    );
}

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

#[tokio::test]
async fn swapped_factory_new_stick_gets_the_same_network_back() {
    let sim = sim("", false).await;
    let be = backend(&sim);
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    sim.unplug();
    next_event(&mut rx, |e| matches!(e, BackendEvent::RadioDown(_))).await;
    // A new stick: factory NV, no network.
    sim.with_state(|s| s.nv = super::sim::nv::NvStore::factory(0x00124B00_AABBCCDD));
    sim.replug();
    let info = radio_up(&mut rx).await;
    assert!(info.formed);
    assert_eq!(
        (info.pan_id, info.extended_pan_id, info.channel),
        (0x1A62, 0xDDDD_0000_1111_2222, 15)
    );
    assert_eq!(sim.with_state(|s| s.network().3), [7; 16]);
}
