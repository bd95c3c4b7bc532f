//! End to end through the bridge actor on either radio: ZNP (MT over loopback TCP) or EZSP
//! (ASH over loopback TCP), each against its simulator with the same scripted devices. Joins,
//! interviews, reports, writes, commands, removal, port loss, restart.

use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

use super::test_radio::{AnySim, Radio, both_radios};
use crate::api::{
    BinaryControlType, BridgeError, BridgeEvent, BridgeHandle, CapabilityId, CapabilityKind,
    Decimal, DeviceDescriptor, DeviceId, Eui64, InterviewState, IoTLevelType, IoTUnitType,
    PowerSource, Value,
};
use crate::zigbee::bridge::{ZigbeeBridgeConfig, start};
use crate::zigbee::sim::Scenario;
use crate::zigbee::zcl::ZclValue;
use crate::zigbee::zcl::clusters::id;
use crate::zigbee::znp::backend::{ZnpBackend, ZnpBackendConfig};
use crate::zigbee::znp::link::{LinkConfig, port_connector};
use crate::zigbee::znp::sim::{ZnpSim, ZnpSimConfig};

pub(super) const SENSOR: u64 = 0x00124B0000000101;
pub(super) const PLUG: u64 = 0x00124B0000000102;
pub(super) const BULB: u64 = 0x00124B0000000103;
/// The coordinator's own IEEE address in every simulator here.
pub(super) const COORDINATOR: u64 = 0x00124B00_00C0FFEE;

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

/// A simulator with the three scenario devices, a bridge on it and its event stream.
pub(super) struct Rig<S> {
    pub(super) sim: S,
    pub(super) handle: BridgeHandle,
    pub(super) events: broadcast::Receiver<BridgeEvent>,
    pub(super) task: JoinHandle<()>,
    pub(super) dir: tempfile::TempDir,
}

/// The ZNP backend with the tests' short timeouts.
pub(super) fn znp_test_config() -> ZnpBackendConfig {
    let link = LinkConfig {
        sreq_timeout: Duration::from_secs(2),
        ping_timeout: Duration::from_millis(300),
        ping_attempts: 3,
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        max_timeouts: 3,
    };
    ZnpBackendConfig {
        link,
        startup_timeout: Duration::from_secs(10),
        network_timeout: Duration::from_secs(5),
        data_confirm_timeout: Duration::from_secs(2),
        data_attempts: 2,
        retry_delay: Duration::from_millis(10),
    }
}

pub(super) async fn start_bridge_with(
    sim: &ZnpSim,
    dir: &std::path::Path,
    tweak: impl FnOnce(&mut ZigbeeBridgeConfig),
) -> (BridgeHandle, JoinHandle<()>) {
    let backend = ZnpBackend::new(port_connector(sim.port_spec()), znp_test_config());
    let mut config = ZigbeeBridgeConfig::new(dir);
    config.response_timeout = Duration::from_secs(2);
    tweak(&mut config);
    start(backend, config).await.unwrap()
}

/// The rig on the ZNP simulator, for tests that drive MT frames directly.
pub(super) async fn rig() -> Rig<ZnpSim> {
    let scenario = Scenario::parse(SCENARIO).unwrap();
    let cfg = ZnpSimConfig {
        ieee: COORDINATOR,
        scenario,
        require_bootloader_skip: false,
    };
    let sim = ZnpSim::start_tcp(cfg, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (handle, task) = start_bridge_with(&sim, dir.path(), |_| {}).await;
    let events = handle.subscribe();
    Rig {
        sim,
        handle,
        events,
        task,
        dir,
    }
}

/// The rig on either radio's simulator.
pub(super) async fn rig_on(radio: Radio) -> Rig<AnySim> {
    let sim = AnySim::start(radio, COORDINATOR, SCENARIO).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, task) = sim.bridge(dir.path()).await;
    let events = handle.subscribe();
    Rig {
        sim,
        handle,
        events,
        task,
        dir,
    }
}

pub(super) fn id_of(ieee: u64) -> DeviceId {
    DeviceId::Zigbee(Eui64(ieee))
}

pub(super) async fn expect<T>(
    rx: &mut broadcast::Receiver<BridgeEvent>,
    mut pick: impl FnMut(&BridgeEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    if let Some(t) = pick(&ev) {
                        return t;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event stream ended: {e}"),
            }
        }
    })
    .await
    .expect("expected event in time")
}

/// Opens joining and waits until every scenario device is interviewed.
pub(super) async fn pair_all<S>(r: &mut Rig<S>) -> Vec<DeviceDescriptor> {
    r.handle.permit_join(Duration::from_secs(60)).await.unwrap();
    let mut done = Vec::new();
    while done.len() < 3 {
        done.push(interviewed(&mut r.events).await);
    }
    done
}

/// Waits for the next device whose interview has completed.
pub(super) async fn interviewed(rx: &mut broadcast::Receiver<BridgeEvent>) -> DeviceDescriptor {
    expect(rx, |e| match e {
        BridgeEvent::DeviceUpdated(d) if d.interview == InterviewState::Complete => Some(d.clone()),
        _ => None,
    })
    .await
}

/// Switches the plug through the bridge; the simulated plug is switched once that returns.
pub(super) async fn switch_plug(sim: &AnySim, handle: &BridgeHandle, on: bool) {
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

pub(super) fn cap<'a>(d: &'a DeviceDescriptor, id: &str) -> &'a crate::api::Capability {
    d.capabilities
        .iter()
        .find(|c| c.id.as_str() == id)
        .unwrap_or_else(|| panic!("{id} missing in {d:?}"))
}

both_radios!(joining_devices_are_interviewed_into_tr181_capabilities_with_units);
async fn joining_devices_are_interviewed_into_tr181_capabilities_with_units(radio: Radio) {
    let mut r = rig_on(radio).await;
    let devices = pair_all(&mut r).await;
    let sensor = devices.iter().find(|d| d.id == id_of(SENSOR)).unwrap();
    assert_eq!(
        (
            sensor.manufacturer.as_str(),
            sensor.model.as_str(),
            sensor.firmware.as_str()
        ),
        ("Acme", "TH-1", "1.0.0-sim")
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
    assert_eq!(
        cap(sensor, "ep1.humidity").value,
        Some(Value::Decimal(Decimal::from_int(45)))
    );
    assert_eq!(
        cap(sensor, "ep1.battery").value,
        Some(Value::Decimal(Decimal::from_int(100)))
    );
    let plug = devices.iter().find(|d| d.id == id_of(PLUG)).unwrap();
    assert_eq!(
        cap(plug, "ep1.switch").kind,
        CapabilityKind::BinaryControl {
            kind: BinaryControlType::Switch
        }
    );
    assert!(cap(plug, "ep1.switch").writable);
    assert_eq!(
        cap(plug, "ep1.voltage").value,
        Some(Value::Decimal(Decimal::new(2301, 1)))
    );
    assert_eq!(
        cap(plug, "ep1.energy").value,
        Some(Value::Decimal(Decimal::new(123_456, 3)))
    );
    let bulb = devices.iter().find(|d| d.id == id_of(BULB)).unwrap();
    assert!(cap(bulb, "ep1.brightness").writable);
    assert_eq!(r.handle.devices().await.unwrap().len(), 3);
}

both_radios!(attribute_report_arrives_as_value_event);
async fn attribute_report_arrives_as_value_event(radio: Radio) {
    let mut r = rig_on(radio).await;
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
}

both_radios!(write_switches_the_simulated_plug_only_after_its_confirmation);
async fn write_switches_the_simulated_plug_only_after_its_confirmation(radio: Radio) {
    let mut r = rig_on(radio).await;
    pair_all(&mut r).await;
    switch_plug(&r.sim, &r.handle, true).await;
    let v = expect(&mut r.events, |e| match e {
        BridgeEvent::Value { id, value, .. } if *id == id_of(PLUG) => Some(value.clone()),
        _ => None,
    })
    .await;
    assert_eq!(v, Value::Bool(true));
    r.handle
        .invoke(
            id_of(PLUG),
            Some(CapabilityId::new("ep1.switch")),
            "Toggle",
            Default::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        r.sim.attribute(PLUG, 1, id::ON_OFF, 0).map(|v| v.value),
        Some(ZclValue::Bool(false))
    );

    r.sim.set_responsive(PLUG, false);
    let e = r
        .handle
        .write(
            id_of(PLUG),
            CapabilityId::new("ep1.switch"),
            Value::Bool(true),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, BridgeError::Refused(_) | BridgeError::Timeout),
        "{e:?}"
    );
    assert_eq!(
        r.sim.attribute(PLUG, 1, id::ON_OFF, 0).map(|v| v.value),
        Some(ZclValue::Bool(false))
    );
}

both_radios!(brightness_write_and_step_reach_the_bulb);
async fn brightness_write_and_step_reach_the_bulb(radio: Radio) {
    let mut r = rig_on(radio).await;
    pair_all(&mut r).await;
    let bri = CapabilityId::new("ep1.brightness");
    r.handle
        .write(
            id_of(BULB),
            bri.clone(),
            Value::Decimal(Decimal::from_int(50)),
        )
        .await
        .unwrap();
    assert_eq!(
        r.sim
            .attribute(BULB, 1, id::LEVEL_CONTROL, 0)
            .map(|v| v.value),
        Some(ZclValue::Unsigned(127))
    );
    r.handle
        .invoke(id_of(BULB), Some(bri.clone()), "StepUp", Default::default())
        .await
        .unwrap();
    assert_eq!(
        r.sim
            .attribute(BULB, 1, id::LEVEL_CONTROL, 0)
            .map(|v| v.value),
        Some(ZclValue::Unsigned(152))
    );
    let e = r
        .handle
        .write(id_of(BULB), bri, Value::Decimal(Decimal::from_int(150)))
        .await
        .unwrap_err();
    assert!(matches!(e, BridgeError::InvalidValue(_)), "{e:?}");
    let e = r
        .handle
        .write(
            id_of(SENSOR),
            CapabilityId::new("ep1.temperature"),
            Value::Decimal(Decimal::from_int(1)),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, BridgeError::Unsupported(_)), "{e:?}");
}

both_radios!(removed_device_leaves_and_is_forgotten);
async fn removed_device_leaves_and_is_forgotten(radio: Radio) {
    let mut r = rig_on(radio).await;
    pair_all(&mut r).await;
    r.handle.remove(id_of(SENSOR), false).await.unwrap();
    expect(&mut r.events, |e| {
        matches!(e, BridgeEvent::DeviceLeft(id) if *id == id_of(SENSOR)).then_some(())
    })
    .await;
    assert_eq!(r.handle.devices().await.unwrap().len(), 2);
    assert!(!r.sim.joined(SENSOR));
    assert_eq!(
        r.handle.remove(id_of(SENSOR), false).await,
        Err(BridgeError::UnknownDevice(id_of(SENSOR)))
    );
}

both_radios!(port_loss_marks_devices_offline_and_recovery_brings_them_back);
async fn port_loss_marks_devices_offline_and_recovery_brings_them_back(radio: Radio) {
    let mut r = rig_on(radio).await;
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
    expect(&mut r.events, |e| {
        matches!(e, BridgeEvent::Online { online: true, .. }).then_some(())
    })
    .await;
    switch_plug(&r.sim, &r.handle, true).await;
}

both_radios!(restart_resumes_network_and_devices_without_pairing_again);
async fn restart_resumes_network_and_devices_without_pairing_again(radio: Radio) {
    let mut r = rig_on(radio).await;
    pair_all(&mut r).await;
    let network = std::fs::read_to_string(r.dir.path().join("zigbee-network.toml")).unwrap();
    drop(r.handle);
    r.task.await.unwrap();
    r.sim.wait_idle().await;

    let (handle, _task) = r.sim.bridge(r.dir.path()).await;
    let mut events = handle.subscribe();
    let devices = handle.devices().await.unwrap();
    assert_eq!(devices.len(), 3);
    assert!(
        devices
            .iter()
            .all(|d| d.interview == InterviewState::Complete)
    );
    let sensor = devices.iter().find(|d| d.id == id_of(SENSOR)).unwrap();
    assert_eq!(
        cap(sensor, "ep1.temperature").value,
        Some(Value::Decimal(Decimal::new(2150, 2)))
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
