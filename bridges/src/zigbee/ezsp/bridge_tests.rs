//! The radio-neutral bridge on the EZSP backend, end to end: bridge actor, EZSP over ASH on
//! loopback TCP, the EZSP simulator with the same scripted devices the ZNP bridge tests use.
//! Pairing and interview, capability values with units, confirmed writes, reports, removal,
//! restart without pairing again, radio unplug and replug.

use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::backend::EzspBackend;
use super::backend_tests::test_config;
use super::sim::{EzspSim, EzspSimConfig};
use crate::api::{
    BinaryControlType, BridgeError, BridgeEvent, BridgeHandle, CapabilityId, CapabilityKind,
    Decimal, DeviceDescriptor, InterviewState, IoTLevelType, IoTUnitType, PowerSource, Value,
};
use crate::zigbee::bridge::{ZigbeeBridgeConfig, start};
use crate::zigbee::bridge_tests::{BULB, PLUG, SENSOR, cap, expect, id_of};
use crate::zigbee::sim::Scenario;
use crate::zigbee::zcl::ZclValue;
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::znp::link::port_connector;

const SCENARIO: &str = r#"
[[device]]
preset = "temperature_humidity"
ieee = "00124b0000000101"
manufacturer = "Acme"
model = "TH-1"
[[device]]
preset = "plug"
ieee = "00124b0000000102"
[[device]]
preset = "dimmable_bulb"
ieee = "00124b0000000103"
"#;

struct Rig {
    sim: EzspSim,
    handle: BridgeHandle,
    events: broadcast::Receiver<BridgeEvent>,
    task: JoinHandle<()>,
    dir: tempfile::TempDir,
}

async fn start_bridge(sim: &EzspSim, dir: &std::path::Path) -> (BridgeHandle, JoinHandle<()>) {
    let backend = EzspBackend::new(port_connector(sim.port_spec()), test_config());
    let mut config = ZigbeeBridgeConfig::new(dir);
    config.response_timeout = Duration::from_secs(2);
    start(backend, config).await.unwrap()
}

async fn rig() -> Rig {
    let cfg = EzspSimConfig {
        scenario: Scenario::parse(SCENARIO).unwrap(),
        ..EzspSimConfig::default()
    };
    let sim = EzspSim::start_tcp(cfg, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (handle, task) = start_bridge(&sim, dir.path()).await;
    let events = handle.subscribe();
    Rig {
        sim,
        handle,
        events,
        task,
        dir,
    }
}

async fn pair_all(r: &mut Rig) -> Vec<DeviceDescriptor> {
    r.handle.permit_join(Duration::from_secs(60)).await.unwrap();
    let mut done = Vec::new();
    while done.len() < 3 {
        let d = expect(&mut r.events, |e| match e {
            BridgeEvent::DeviceUpdated(d) if d.interview == InterviewState::Complete => {
                Some(d.clone())
            }
            _ => None,
        })
        .await;
        done.push(d);
    }
    done
}

async fn switch_plug(sim: &EzspSim, handle: &BridgeHandle, on: bool) {
    handle
        .write(
            id_of(PLUG),
            CapabilityId::new("ep1.switch"),
            Value::Bool(on),
        )
        .await
        .unwrap();
    assert_eq!(
        sim.attribute(PLUG, 1, id::ON_OFF, 0).map(|v| v.value),
        Some(ZclValue::Bool(on))
    );
}

#[tokio::test]
async fn joining_devices_are_interviewed_into_capabilities_with_units() {
    let mut r = rig().await;
    let devices = pair_all(&mut r).await;
    let sensor = devices.iter().find(|d| d.id == id_of(SENSOR)).unwrap();
    assert_eq!(
        (sensor.manufacturer.as_str(), sensor.model.as_str()),
        ("Acme", "TH-1")
    );
    assert_eq!(sensor.power, PowerSource::Battery);
    let t = cap(sensor, "ep1.temperature");
    assert_eq!(
        t.kind,
        CapabilityKind::LevelSensor {
            kind: IoTLevelType::Temperature,
            unit: IoTUnitType::DegC,
            low_level_threshold: None,
            high_level_threshold: None
        }
    );
    assert_eq!(t.value, Some(Value::Decimal(Decimal::new(2150, 2))));
    let plug = devices.iter().find(|d| d.id == id_of(PLUG)).unwrap();
    assert_eq!(
        cap(plug, "ep1.switch").kind,
        CapabilityKind::BinaryControl {
            kind: BinaryControlType::Switch
        }
    );
    assert_eq!(
        cap(plug, "ep1.voltage").value,
        Some(Value::Decimal(Decimal::new(2301, 1)))
    );
    let bulb = devices.iter().find(|d| d.id == id_of(BULB)).unwrap();
    assert!(cap(bulb, "ep1.brightness").writable);
}

#[tokio::test]
async fn report_write_and_removal_round_trip_through_the_ncp() {
    let mut r = rig().await;
    pair_all(&mut r).await;
    assert!(
        r.sim
            .report(SENSOR, 1, id::TEMPERATURE, 0, ZclValue::Signed(2210))
    );
    let (cap_id, value) = expect(&mut r.events, |e| match e {
        BridgeEvent::Value {
            id,
            capability,
            value,
            ..
        } if *id == id_of(SENSOR) => Some((capability.clone(), value.clone())),
        _ => None,
    })
    .await;
    assert_eq!(cap_id, CapabilityId::new("ep1.temperature"));
    assert_eq!(value, Value::Decimal(Decimal::new(221, 1)));

    switch_plug(&r.sim, &r.handle, true).await;
    r.sim.set_responsive(PLUG, false);
    let e = r
        .handle
        .write(
            id_of(PLUG),
            CapabilityId::new("ep1.switch"),
            Value::Bool(false),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, BridgeError::Refused(_) | BridgeError::Timeout),
        "{e:?}"
    );
    assert_eq!(
        r.sim.attribute(PLUG, 1, id::ON_OFF, 0).map(|v| v.value),
        Some(ZclValue::Bool(true))
    );

    r.handle.remove(id_of(SENSOR), false).await.unwrap();
    expect(&mut r.events, |e| {
        matches!(e, BridgeEvent::DeviceLeft(id) if *id == id_of(SENSOR)).then_some(())
    })
    .await;
    assert_eq!(r.handle.devices().await.unwrap().len(), 2);
    assert!(!r.sim.with_state(|s| {
        s.devices
            .iter()
            .any(|d| d.device.ieee == SENSOR && d.joined)
    }));
}

#[tokio::test]
async fn restart_resumes_network_and_devices_without_pairing_again() {
    let mut r = rig().await;
    pair_all(&mut r).await;
    let network = std::fs::read_to_string(r.dir.path().join("zigbee-network.toml")).unwrap();
    drop(r.handle);
    r.task.await.unwrap();
    r.sim.wait_idle().await;

    let (handle, _task) = start_bridge(&r.sim, r.dir.path()).await;
    let mut events = handle.subscribe();
    let devices = handle.devices().await.unwrap();
    assert_eq!(devices.len(), 3);
    assert!(
        devices
            .iter()
            .all(|d| d.interview == InterviewState::Complete)
    );
    assert_eq!(
        std::fs::read_to_string(r.dir.path().join("zigbee-network.toml")).unwrap(),
        network
    );
    assert!(
        r.sim
            .report(SENSOR, 1, id::HUMIDITY, 0, ZclValue::Unsigned(5000))
    );
    let value = expect(&mut events, |e| match e {
        BridgeEvent::Value { id, value, .. } if *id == id_of(SENSOR) => Some(value.clone()),
        _ => None,
    })
    .await;
    assert_eq!(value, Value::Decimal(Decimal::from_int(50)));
    switch_plug(&r.sim, &handle, true).await;
}

#[tokio::test]
async fn radio_unplug_and_ncp_reboot_mark_devices_offline_until_recovered() {
    let mut r = rig().await;
    pair_all(&mut r).await;
    r.sim.unplug();
    expect(&mut r.events, |e| {
        matches!(e, BridgeEvent::RadioState { online: false, .. }).then_some(())
    })
    .await;
    expect(&mut r.events, |e| {
        matches!(e, BridgeEvent::Online { online: false, .. }).then_some(())
    })
    .await;
    assert_eq!(
        r.handle.permit_join(Duration::from_secs(5)).await,
        Err(BridgeError::RadioOffline)
    );
    r.sim.replug();
    expect(&mut r.events, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    switch_plug(&r.sim, &r.handle, true).await;

    assert!(r.sim.reboot(0x02));
    expect(&mut r.events, |e| {
        matches!(e, BridgeEvent::RadioState { online: false, .. }).then_some(())
    })
    .await;
    expect(&mut r.events, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    switch_plug(&r.sim, &r.handle, false).await;
}

#[tokio::test]
async fn explicit_reset_lets_a_new_network_form_and_devices_pair_again() {
    let mut r = rig().await;
    pair_all(&mut r).await;
    let old_pan = r.sim.with_state(|s| s.network.map(|n| n.pan_id)).unwrap();
    drop(r.handle);
    r.task.await.unwrap();
    r.sim.wait_idle().await;

    let mut config = ZigbeeBridgeConfig::new(r.dir.path());
    config.network.pan_id = Some(old_pan ^ 0x0101);
    let backend = EzspBackend::new(port_connector(r.sim.port_spec()), test_config());
    crate::zigbee::bridge::reset_network(&backend, &config)
        .await
        .unwrap();
    assert!(!r.dir.path().join("zigbee-devices.toml").exists());
    let (handle, _task) = start(backend, config).await.unwrap();
    assert_eq!(
        r.sim.with_state(|s| s.network.map(|n| n.pan_id)),
        Some(old_pan ^ 0x0101)
    );
    assert!(handle.devices().await.unwrap().is_empty());
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(30)).await.unwrap();
    expect(&mut events, |e| {
        matches!(e, BridgeEvent::DeviceJoined(_)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn scripted_device_that_leaves_by_itself_is_removed() {
    let scenario =
        "[[device]]\npreset = \"plug\"\nieee = \"00124b0000000102\"\nleave_after_ms = 400\n";
    let cfg = EzspSimConfig {
        scenario: Scenario::parse(scenario).unwrap(),
        ..EzspSimConfig::default()
    };
    let sim = EzspSim::start_tcp(cfg, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = start_bridge(&sim, dir.path()).await;
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

#[tokio::test]
async fn bridge_starts_without_its_radio_and_comes_up_when_it_appears() {
    let scenario = "[[device]]\npreset = \"plug\"\nieee = \"00124b0000000102\"\n";
    let cfg = EzspSimConfig {
        scenario: Scenario::parse(scenario).unwrap(),
        ..EzspSimConfig::default()
    };
    let sim = EzspSim::start_tcp(cfg, 0).await.unwrap();
    sim.unplug();
    let mut be_cfg = test_config();
    be_cfg.startup_timeout = Duration::from_millis(200);
    let backend = EzspBackend::new(port_connector(sim.port_spec()), be_cfg);
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = start(backend, ZigbeeBridgeConfig::new(dir.path()))
        .await
        .unwrap();
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
    expect(&mut events, |e| {
        matches!(e, BridgeEvent::DeviceUpdated(d) if d.interview == InterviewState::Complete)
            .then_some(())
    })
    .await;
}
