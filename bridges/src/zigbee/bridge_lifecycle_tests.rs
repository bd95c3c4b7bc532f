//! Lifecycle and robustness end to end: bad input on the wire, interviews cut short,
//! availability, refresh, a coordinator resetting by itself, explicit reset, leave/rejoin and
//! Default Responses.

use std::time::Duration;

use super::bridge_tests::{
    BULB, COORDINATOR, SENSOR, cap, expect, id_of, interviewed, pair_all, rig, rig_on, switch_plug,
};
use super::test_radio::{AnySim, Radio, both_radios};
use crate::api::{BridgeError, BridgeEvent, CapabilityId, Decimal, InterviewState, Value};
use crate::zigbee::bridge::ZigbeeBridgeConfig;
use crate::zigbee::zcl::ZclValue;
use crate::zigbee::zcl::clusters::id;

fn incoming(src_addr: u16, cluster_id: u16, data: Vec<u8>) -> crate::zigbee::znp::frame::MtFrame {
    use crate::zigbee::znp::commands::{MtMessage, ShortBytes, af::IncomingMsg};
    IncomingMsg {
        cluster_id,
        src_addr,
        src_endpoint: 1,
        dst_endpoint: 1,
        lqi: 100,
        data: ShortBytes(data),
        mac_src_addr: src_addr,
        ..Default::default()
    }
    .to_frame()
}

#[tokio::test]
async fn garbage_broken_frames_and_malformed_zcl_are_survived() {
    let mut r = rig().await;
    let devices = pair_all(&mut r).await;
    let sensor_nwk = r
        .sim
        .with_state(|s| {
            s.devices
                .iter()
                .find(|d| d.device.ieee == SENSOR)
                .map(|d| d.device.nwk)
        })
        .unwrap();
    assert!(r.sim.inject_raw(&[0x00, 0x13, 0xFE, 0xFB, 0x55, 0xEF]));
    let mut bad_fcs = incoming(
        sensor_nwk,
        id::TEMPERATURE,
        vec![0x18, 1, 0x0A, 0, 0, 0x29, 0x00, 0x01],
    )
    .to_bytes()
    .unwrap();
    *bad_fcs.last_mut().unwrap() ^= 0xFF;
    assert!(r.sim.inject_raw(&bad_fcs));
    // Truncated ZCL, an unknown data type, an unknown cluster, an unknown sender.
    assert!(
        r.sim
            .inject_frame(incoming(sensor_nwk, id::TEMPERATURE, vec![0x18]))
    );
    assert!(r.sim.inject_frame(incoming(
        sensor_nwk,
        id::TEMPERATURE,
        vec![0x18, 2, 0x0A, 0, 0, 0x4C, 1, 2]
    )));
    assert!(r.sim.inject_frame(incoming(
        sensor_nwk,
        0xFC00,
        vec![0x18, 3, 0x0A, 0, 0, 0x20, 1]
    )));
    assert!(r.sim.inject_frame(incoming(
        0x7777,
        id::TEMPERATURE,
        vec![0x18, 4, 0x0A, 0, 0, 0x29, 0, 1]
    )));
    assert!(
        r.sim
            .report(SENSOR, 1, id::TEMPERATURE, 0, ZclValue::Signed(2300))
    );
    let value = expect(&mut r.events, |e| match e {
        BridgeEvent::Value {
            id,
            capability,
            value,
            ..
        } if *id == id_of(SENSOR) => Some((capability.clone(), value.clone())),
        _ => None,
    })
    .await;
    assert_eq!(
        value,
        (
            CapabilityId::new("ep1.temperature"),
            Value::Decimal(Decimal::from_int(23))
        )
    );
    assert_eq!(r.handle.devices().await.unwrap().len(), devices.len());
}

both_radios!(device_silent_during_interview_is_interviewed_again_when_it_talks);
async fn device_silent_during_interview_is_interviewed_again_when_it_talks(radio: Radio) {
    let scenario = "[[device]]\npreset = \"temperature_humidity\"\nieee = \"00124b0000000101\"\n";
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim
        .bridge_with(dir.path(), |c| {
            c.response_timeout = Duration::from_millis(300);
            c.interview_retry = Duration::ZERO;
        })
        .await;
    let mut events = handle.subscribe();
    sim.set_responsive(SENSOR, false);
    handle.permit_join(Duration::from_secs(60)).await.unwrap();
    let first = expect(&mut events, |e| match e {
        BridgeEvent::DeviceUpdated(d) => Some(d.interview),
        _ => None,
    })
    .await;
    assert_eq!(first, InterviewState::Failed);

    sim.set_responsive(SENSOR, true);
    assert!(sim.report(SENSOR, 1, id::TEMPERATURE, 0, ZclValue::Signed(1900)));
    let second = expect(&mut events, |e| match e {
        BridgeEvent::DeviceUpdated(d) => Some(d.clone()),
        _ => None,
    })
    .await;
    assert_eq!(second.interview, InterviewState::Complete);
    assert_eq!(
        cap(&second, "ep1.temperature").value,
        Some(Value::Decimal(Decimal::from_int(19)))
    );
}

#[tokio::test]
async fn refresh_reads_values_the_device_did_not_report_and_identify_is_accepted() {
    let mut r = rig().await;
    pair_all(&mut r).await;
    r.sim.with_state(|s| {
        let d = s
            .devices
            .iter_mut()
            .find(|d| d.device.ieee == SENSOR)
            .unwrap();
        let ep = &mut d.device.endpoints[0];
        let v = crate::zigbee::zcl::TypedValue::new(0x21, ZclValue::Unsigned(6100));
        ep.attributes.insert((id::HUMIDITY, 0), v);
    });
    r.handle.refresh(id_of(SENSOR), false).await.unwrap();
    let v = expect(&mut r.events, |e| match e {
        BridgeEvent::Value {
            id,
            capability,
            value,
            ..
        } if *id == id_of(SENSOR) => Some((capability.clone(), value.clone())),
        _ => None,
    })
    .await;
    assert_eq!(
        v,
        (
            CapabilityId::new("ep1.humidity"),
            Value::Decimal(Decimal::from_int(61))
        )
    );
    let mut args = crate::api::Args::new();
    args.insert("Seconds".into(), "3".into());
    r.handle
        .invoke(id_of(BULB), None, "Identify", args)
        .await
        .unwrap();
    let e = r
        .handle
        .invoke(id_of(BULB), None, "SelfDestruct", Default::default())
        .await
        .unwrap_err();
    assert!(matches!(e, BridgeError::Unsupported(_)), "{e:?}");
}

both_radios!(silent_device_goes_offline_and_comes_back_when_heard);
async fn silent_device_goes_offline_and_comes_back_when_heard(radio: Radio) {
    let scenario = "[[device]]\npreset = \"temperature_humidity\"\nieee = \"00124b0000000101\"\n";
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim
        .bridge_with(dir.path(), |c| {
            c.battery_timeout = Duration::from_millis(300);
            c.availability_check = Duration::from_millis(50);
        })
        .await;
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(60)).await.unwrap();
    interviewed(&mut events).await;
    let offline = expect(&mut events, |e| match e {
        BridgeEvent::Online { id, online } => Some((*id, *online)),
        _ => None,
    })
    .await;
    assert_eq!(offline, (id_of(SENSOR), false));
    assert!(sim.report(SENSOR, 1, id::TEMPERATURE, 0, ZclValue::Signed(2000)));
    let online = expect(&mut events, |e| match e {
        BridgeEvent::Online { id, online } => Some((*id, *online)),
        _ => None,
    })
    .await;
    assert_eq!(online, (id_of(SENSOR), true));
}

both_radios!(coordinator_that_resets_by_itself_is_started_again_and_keeps_its_devices);
async fn coordinator_that_resets_by_itself_is_started_again_and_keeps_its_devices(radio: Radio) {
    let scenario = "[[device]]\npreset = \"plug\"\nieee = \"00124b0000000102\"\n";
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim.bridge(dir.path()).await;
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(60)).await.unwrap();
    interviewed(&mut events).await;

    // A watchdog or brown-out reset under the bridge, the port staying open: the radio is
    // offline, then its network is started again (endpoints registered anew) and the paired
    // plug obeys without pairing again.
    assert!(sim.reboot());
    expect(&mut events, |e| {
        matches!(e, BridgeEvent::RadioState { online: false, .. }).then_some(())
    })
    .await;
    expect(&mut events, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    switch_plug(&sim, &handle, true).await;
    switch_plug(&sim, &handle, false).await;
}

both_radios!(explicit_reset_lets_a_new_network_form_and_devices_pair_again);
async fn explicit_reset_lets_a_new_network_form_and_devices_pair_again(radio: Radio) {
    let mut r = rig_on(radio).await;
    pair_all(&mut r).await;
    let old_pan = r.sim.pan_id().unwrap();
    drop(r.handle);
    r.task.await.unwrap();
    r.sim.wait_idle().await;

    let mut config = ZigbeeBridgeConfig::new(r.dir.path());
    config.network.pan_id = Some(old_pan ^ 0x0101);
    let (handle, _task) = r
        .sim
        .reset_network_then_bridge(config, || {
            assert!(!r.dir.path().join("zigbee-devices.toml").exists());
        })
        .await;
    assert_eq!(r.sim.pan_id(), Some(old_pan ^ 0x0101));
    assert!(handle.devices().await.unwrap().is_empty());
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(30)).await.unwrap();
    expect(&mut events, |e| {
        matches!(e, BridgeEvent::DeviceJoined(_)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn leave_to_rejoin_keeps_the_device_and_a_plain_leave_removes_it() {
    use crate::zigbee::znp::commands::{MtMessage, zdo::LeaveInd};
    let mut r = rig().await;
    pair_all(&mut r).await;
    let nwk = |ieee| {
        r.sim
            .with_state(|s| {
                s.devices
                    .iter()
                    .find(|d| d.device.ieee == ieee)
                    .map(|d| d.device.nwk)
            })
            .unwrap()
    };
    let (sensor_nwk, bulb_nwk) = (nwk(SENSOR), nwk(BULB));
    let rejoining = LeaveInd {
        nwk_addr: sensor_nwk,
        ieee: SENSOR,
        request: 0,
        remove: 0,
        rejoin: 1,
    };
    assert!(r.sim.inject_frame(rejoining.to_frame()));
    let leaving = LeaveInd {
        nwk_addr: bulb_nwk,
        ieee: BULB,
        request: 0,
        remove: 0,
        rejoin: 0,
    };
    assert!(r.sim.inject_frame(leaving.to_frame()));
    let left = expect(&mut r.events, |e| match e {
        BridgeEvent::DeviceLeft(id) => Some(*id),
        _ => None,
    })
    .await;
    assert_eq!(left, id_of(BULB));
    let ids: Vec<_> = r
        .handle
        .devices()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert!(ids.contains(&id_of(SENSOR)) && !ids.contains(&id_of(BULB)));
}

#[tokio::test]
async fn report_asking_for_a_default_response_gets_one() {
    let mut r = rig().await;
    pair_all(&mut r).await;
    let nwk = r
        .sim
        .with_state(|s| {
            s.devices
                .iter()
                .find(|d| d.device.ieee == SENSOR)
                .map(|d| d.device.nwk)
        })
        .unwrap();
    // Server-to-client Report Attributes, default response NOT disabled, TSN 0x77.
    assert!(r.sim.inject_frame(incoming(
        nwk,
        id::TEMPERATURE,
        vec![0x08, 0x77, 0x0A, 0, 0, 0x29, 0x60, 0x09]
    )));
    let acked = r.sim.wait_until(|s| {
        s.data_log.iter().any(|f| {
            f.dst_nwk == nwk
                && f.cluster == id::TEMPERATURE
                && crate::zigbee::zcl::ZclFrame::parse(&f.payload).is_ok_and(|z| {
                    z.header.tsn == 0x77 && z.header.command == 0x0B && z.payload == [0x0A, 0x00]
                })
        })
    });
    tokio::time::timeout(Duration::from_secs(10), acked)
        .await
        .expect("default response sent");
}

both_radios!(unknown_device_that_talks_is_identified_and_adopted);
async fn unknown_device_that_talks_is_identified_and_adopted(radio: Radio) {
    // The device is in the radio's network but the host has no registry (lost file).
    let scenario = "[[device]]\npreset = \"temperature_humidity\"\nieee = \"00124b0000000101\"\njoin = \"paired\"\n";
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim.bridge(dir.path()).await;
    let mut events = handle.subscribe();
    assert!(handle.devices().await.unwrap().is_empty());
    assert!(sim.report(SENSOR, 1, id::TEMPERATURE, 0, ZclValue::Signed(2000)));
    let joined = expect(&mut events, |e| match e {
        BridgeEvent::DeviceJoined(d) => Some(d.id),
        _ => None,
    })
    .await;
    assert_eq!(joined, id_of(SENSOR));
    let done = expect(&mut events, |e| match e {
        BridgeEvent::DeviceUpdated(d) => Some(d.interview),
        _ => None,
    })
    .await;
    assert_eq!(done, InterviewState::Complete);
}

both_radios!(scripted_device_that_leaves_by_itself_is_removed);
async fn scripted_device_that_leaves_by_itself_is_removed(radio: Radio) {
    let scenario =
        "[[device]]\npreset = \"plug\"\nieee = \"00124b0000000102\"\nleave_after_ms = 400\n";
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim.bridge(dir.path()).await;
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(30)).await.unwrap();
    let joined = expect(&mut events, |e| match e {
        BridgeEvent::DeviceJoined(d) => Some(d.id),
        _ => None,
    })
    .await;
    let left = expect(&mut events, |e| match e {
        BridgeEvent::DeviceLeft(id) => Some(*id),
        _ => None,
    })
    .await;
    assert_eq!(joined, left);
    assert!(handle.devices().await.unwrap().is_empty());
}

both_radios!(silent_mains_device_is_pinged_and_stays_online);
async fn silent_mains_device_is_pinged_and_stays_online(radio: Radio) {
    let scenario = "[[device]]\npreset = \"plug\"\nieee = \"00124b0000000102\"\n";
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim
        .bridge_with(dir.path(), |c| {
            c.mains_timeout = Duration::from_millis(600);
            c.availability_check = Duration::from_millis(50);
        })
        .await;
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(30)).await.unwrap();
    interviewed(&mut events).await;
    // The ping: Read Attributes of Basic ZCLVersion (0x0000), which the interview never reads.
    let pinged = sim.host_sent(|f| {
        f.cluster == id::BASIC
            && crate::zigbee::zcl::ZclFrame::parse(&f.payload)
                .is_ok_and(|z| z.header.command == 0x00 && z.payload == [0, 0])
    });
    tokio::time::timeout(Duration::from_secs(10), pinged)
        .await
        .expect("silent mains device pinged");
    // The plug answered the ping, so it was seen again and never went offline.
    while let Ok(e) = events.try_recv() {
        assert!(
            !matches!(e, BridgeEvent::Online { online: false, .. }),
            "{e:?}"
        );
    }
    assert_eq!(handle.devices().await.unwrap().len(), 1);
}

both_radios!(bridge_starts_without_its_radio_and_comes_up_when_it_appears);
async fn bridge_starts_without_its_radio_and_comes_up_when_it_appears(radio: Radio) {
    let scenario = "[[device]]\npreset = \"plug\"\nieee = \"00124b0000000102\"\n";
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    sim.unplug();
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim
        .bridge_with_startup_timeout(dir.path(), Duration::from_millis(200))
        .await;
    let mut events = handle.subscribe();
    assert_eq!(
        handle.permit_join(Duration::from_secs(10)).await,
        Err(BridgeError::RadioOffline)
    );
    sim.replug();
    expect(&mut events, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    handle.permit_join(Duration::from_secs(30)).await.unwrap();
    interviewed(&mut events).await;
}
