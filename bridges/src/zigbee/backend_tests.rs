//! `ZigbeeBackend` scenarios that hold for every radio, run against the ZNP and the EZSP
//! simulator alike (below the bridge): formation and resume, a mismatching stored network,
//! a swapped stick, ZDP and ZCL round trips, scripted reports, port loss, a PTY port.
//! What only one firmware does (its error codes, its timeouts) stays in
//! `znp/backend_tests.rs` and `ezsp/backend_tests.rs`.

use std::time::Duration;

use tokio::sync::mpsc;

use super::backend::{
    ApsFrame, ApsIncoming, BackendError, BackendEvent, HOST_ENDPOINT, NetworkInfo, NetworkSettings,
    PROFILE_HA, PROFILE_ZDP, ZigbeeBackend,
};
use super::test_radio::{AnySim, Radio, both_radios};
use super::zcl::clusters::id;
use super::zcl::{GeneralCommand, ZclFrame, ZclHeader};
use super::zdo::{Zdp, cluster};

const COORDINATOR: u64 = 0x00124B00_AABBCCDD;
const PLUG: u64 = 0x00124B0000000001;
const SCENARIO: &str = r#"
[[device]]
preset = "plug"
ieee = "00124b0000000001"
nwk = 0x1001
"#;

pub(super) fn settings() -> NetworkSettings {
    NetworkSettings {
        pan_id: 0x1A62,
        extended_pan_id: 0xDDDD_0000_1111_2222,
        channel: 15,
        network_key: [7; 16],
    }
}

pub(super) async fn next_event(
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
pub(super) async fn radio_up(rx: &mut mpsc::Receiver<BackendEvent>) -> NetworkInfo {
    match next_event(rx, |e| matches!(e, BackendEvent::RadioUp(_))).await {
        BackendEvent::RadioUp(info) => info,
        _ => unreachable!("next_event picked a RadioUp"),
    }
}

/// The next message from the network matching `pred`.
async fn next_message(
    rx: &mut mpsc::Receiver<BackendEvent>,
    pred: impl Fn(&ApsIncoming) -> bool,
) -> ApsIncoming {
    match next_event(rx, |e| matches!(e, BackendEvent::Message(m) if pred(m))).await {
        BackendEvent::Message(m) => m,
        _ => unreachable!("next_event picked a Message"),
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

async fn factory_new_radio_forms_network_then_next_start_resumes_it(radio: Radio) {
    let sim = AnySim::start(radio, COORDINATOR, "").await;
    let (tx, rx) = mpsc::channel(64);
    let info = sim.backend().start(settings(), tx).await.unwrap();
    assert!(info.formed);
    assert_eq!(
        (info.pan_id, info.channel, info.ieee),
        (0x1A62, 15, COORDINATOR)
    );
    let firmware = match radio {
        Radio::Znp => "Z-Stack",
        Radio::Ezsp => "EZSP v13",
    };
    assert!(info.firmware.contains(firmware), "{}", info.firmware);
    assert_eq!(sim.network_key(), Some([7; 16]));
    // The ZNP simulator keeps its endpoint table to itself.
    if let AnySim::Ezsp(s) = &sim {
        assert!(s.with_state(|s| s.endpoints.contains(&HOST_ENDPOINT)));
    }
    // The bridge going away releases the port.
    drop(rx);
    sim.wait_idle().await;

    let (tx, _rx) = mpsc::channel(64);
    let again = sim.backend().start(settings(), tx).await.unwrap();
    assert!(!again.formed);
    assert_eq!(again.extended_pan_id, 0xDDDD_0000_1111_2222);
}
both_radios!(factory_new_radio_forms_network_then_next_start_resumes_it);

async fn stored_network_that_differs_from_settings_is_not_overwritten(radio: Radio) {
    let sim = AnySim::start(radio, COORDINATOR, "").await;
    let (tx, _rx) = mpsc::channel(64);
    sim.backend().start(settings(), tx).await.unwrap();
    let other_pan = NetworkSettings {
        pan_id: 0x2222,
        ..settings()
    };
    let other_key = NetworkSettings {
        network_key: [8; 16],
        ..settings()
    };
    for (other, named) in [(other_pan, "PAN id"), (other_key, "network key")] {
        let (tx, _rx) = mpsc::channel(64);
        let e = sim.backend().start(other, tx).await.unwrap_err();
        assert!(
            matches!(&e, BackendError::NetworkMismatch(m) if m.contains(named)),
            "{e:?}"
        );
    }
    assert_eq!(sim.pan_id(), Some(0x1A62));
    assert_eq!(sim.network_key(), Some([7; 16]));
}
both_radios!(stored_network_that_differs_from_settings_is_not_overwritten);

async fn swapped_factory_new_stick_gets_the_same_network_back(radio: Radio) {
    let sim = AnySim::start(radio, COORDINATOR, "").await;
    let be = sim.backend();
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    sim.unplug();
    next_event(&mut rx, |e| matches!(e, BackendEvent::RadioDown(_))).await;
    sim.forget_network();
    sim.replug();
    let info = radio_up(&mut rx).await;
    assert!(info.formed);
    assert_eq!(
        (info.pan_id, info.extended_pan_id, info.channel),
        (0x1A62, 0xDDDD_0000_1111_2222, 15)
    );
    assert_eq!(sim.network_key(), Some([7; 16]));
}
both_radios!(swapped_factory_new_stick_gets_the_same_network_back);

async fn joined_device_answers_zdp_with_our_tsn_and_zcl_on_command(radio: Radio) {
    let sim = AnySim::start(radio, COORDINATOR, SCENARIO).await;
    let be = sim.backend();
    let (tx, mut rx) = mpsc::channel(64);
    be.start(settings(), tx).await.unwrap();
    be.permit_join(60).await.unwrap();
    next_event(&mut rx, |e| *e == BackendEvent::PermitJoin { seconds: 60 }).await;
    // Routers are opened too, by the ZDP broadcast. Only EZSP hosts send it as an APS
    // frame; Z-Stack sends it itself on ZDO_MGMT_PERMIT_JOIN_REQ, out of the data log.
    if matches!(radio, Radio::Ezsp) {
        let opened = sim.host_sent(|f| {
            f.dst_nwk == 0xFFFC
                && f.profile == PROFILE_ZDP
                && matches!(
                    Zdp::parse(f.cluster, &f.payload),
                    Ok((_, Zdp::MgmtPermitJoinReq { duration: 60, .. }))
                )
        });
        tokio::time::timeout(Duration::from_secs(5), opened)
            .await
            .expect("permit join broadcast to routers");
    }
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
    let m = next_message(&mut rx, |m| {
        m.cluster == cluster::ACTIVE_EP_REQ | cluster::RESPONSE
    })
    .await;
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
    let m = next_message(&mut rx, |m| m.cluster == id::ON_OFF).await;
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
both_radios!(joined_device_answers_zdp_with_our_tsn_and_zcl_on_command);

async fn scripted_reports_of_a_paired_device_arrive_after_resume(radio: Radio) {
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
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    let s = settings();
    sim.form_network(s.pan_id, s.extended_pan_id, s.channel, s.network_key);
    let be = sim.backend();
    let (tx, mut rx) = mpsc::channel(64);
    let info = be.start(settings(), tx).await.unwrap();
    assert!(!info.formed);
    for _ in 0..2 {
        let m = next_message(&mut rx, |m| m.cluster == id::HUMIDITY).await;
        assert_eq!(m.src_nwk, 0x2009);
        let f = ZclFrame::parse(&m.payload).unwrap();
        assert!(matches!(
            GeneralCommand::parse(f.header.command, &f.payload).unwrap(),
            GeneralCommand::ReportAttributes(_)
        ));
    }
}
both_radios!(scripted_reports_of_a_paired_device_arrive_after_resume);

async fn port_loss_reports_radio_down_then_resumes_network_on_reconnect(radio: Radio) {
    let sim = AnySim::start(radio, COORDINATOR, "").await;
    let be = sim.backend();
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
both_radios!(port_loss_reports_radio_down_then_resumes_network_on_reconnect);

async fn network_forms_over_a_pty_opened_like_a_usb_stick(radio: Radio) {
    let sim = AnySim::start_pty(radio, COORDINATOR, SCENARIO).await;
    assert!(sim.url().starts_with("/dev/"), "{}", sim.url());
    let be = sim.backend();
    let (tx, mut rx) = mpsc::channel(64);
    assert!(be.start(settings(), tx).await.unwrap().formed);
    be.permit_join(30).await.unwrap();
    let joined = next_event(&mut rx, |e| matches!(e, BackendEvent::DeviceJoined { .. })).await;
    assert_eq!(
        joined,
        BackendEvent::DeviceJoined {
            nwk: 0x1001,
            ieee: PLUG
        }
    );
    be.send(on_command(6)).await.unwrap();
}
both_radios!(network_forms_over_a_pty_opened_like_a_usb_stick);
