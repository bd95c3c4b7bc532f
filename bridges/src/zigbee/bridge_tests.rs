//! End to end through the bridge actor: ZNP backend, MT over loopback TCP, ZNP simulator
//! with scripted devices. Joins, interviews, reports, writes, commands, removal, port loss.

use std::time::Duration;

use tokio::sync::broadcast;
use tokio::task::JoinHandle;

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

const SENSOR: u64 = 0x00124B0000000101;
const PLUG: u64 = 0x00124B0000000102;
const BULB: u64 = 0x00124B0000000103;

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
    sim: ZnpSim,
    handle: BridgeHandle,
    events: broadcast::Receiver<BridgeEvent>,
    task: JoinHandle<()>,
    dir: tempfile::TempDir,
}

pub(super) async fn start_bridge_with(
    sim: &ZnpSim,
    dir: &std::path::Path,
    tweak: impl FnOnce(&mut ZigbeeBridgeConfig),
) -> (BridgeHandle, JoinHandle<()>) {
    let link = LinkConfig {
        sreq_timeout: Duration::from_secs(2),
        ping_timeout: Duration::from_millis(300),
        ping_attempts: 3,
        backoff_min: Duration::from_millis(20),
        backoff_max: Duration::from_millis(100),
        max_timeouts: 3,
    };
    let be_cfg = ZnpBackendConfig {
        link,
        startup_timeout: Duration::from_secs(10),
        network_timeout: Duration::from_secs(5),
        data_confirm_timeout: Duration::from_secs(2),
        data_attempts: 2,
        retry_delay: Duration::from_millis(10),
    };
    let port = sim.port_spec();
    let backend = ZnpBackend::new(port_connector(port), be_cfg);
    let mut config = ZigbeeBridgeConfig::new(dir);
    config.response_timeout = Duration::from_secs(2);
    tweak(&mut config);
    start(backend, config).await.unwrap()
}

async fn start_bridge(sim: &ZnpSim, dir: &std::path::Path) -> (BridgeHandle, JoinHandle<()>) {
    start_bridge_with(sim, dir, |_| {}).await
}

async fn rig() -> Rig {
    let scenario = Scenario::parse(SCENARIO).unwrap();
    let cfg = ZnpSimConfig {
        ieee: 0x00124B00_00C0FFEE,
        scenario,
        require_bootloader_skip: false,
    };
    let sim = ZnpSim::start_tcp(cfg, 0).await.unwrap();
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

pub(super) fn cap<'a>(d: &'a DeviceDescriptor, id: &str) -> &'a crate::api::Capability {
    d.capabilities
        .iter()
        .find(|c| c.id.as_str() == id)
        .unwrap_or_else(|| panic!("{id} missing in {d:?}"))
}

#[tokio::test]
async fn joining_devices_are_interviewed_into_tr181_capabilities() {
    let mut r = rig().await;
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
    assert_eq!(r.handle.devices().await.unwrap().len(), 3);
}

#[tokio::test]
async fn attribute_report_arrives_as_value_event() {
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
}

#[tokio::test]
async fn write_switches_the_simulated_plug_only_after_its_confirmation() {
    let mut r = rig().await;
    pair_all(&mut r).await;
    r.handle
        .write(
            id_of(PLUG),
            CapabilityId::new("ep1.switch"),
            Value::Bool(true),
        )
        .await
        .unwrap();
    assert_eq!(
        r.sim.attribute(PLUG, 1, id::ON_OFF, 0).map(|v| v.value),
        Some(ZclValue::Bool(true))
    );
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

#[tokio::test]
async fn brightness_write_and_step_reach_the_bulb() {
    let mut r = rig().await;
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

#[tokio::test]
async fn removed_device_leaves_and_is_forgotten() {
    let mut r = rig().await;
    pair_all(&mut r).await;
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
    assert_eq!(
        r.handle.remove(id_of(SENSOR), false).await,
        Err(BridgeError::UnknownDevice(id_of(SENSOR)))
    );
}

#[tokio::test]
async fn port_loss_marks_devices_offline_and_recovery_brings_them_back() {
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
    expect(&mut r.events, |e| {
        matches!(e, BridgeEvent::Online { online: true, .. }).then_some(())
    })
    .await;
    r.handle
        .write(
            id_of(PLUG),
            CapabilityId::new("ep1.switch"),
            Value::Bool(true),
        )
        .await
        .unwrap();
    assert_eq!(
        r.sim.attribute(PLUG, 1, id::ON_OFF, 0).map(|v| v.value),
        Some(ZclValue::Bool(true))
    );
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
    handle
        .write(
            id_of(PLUG),
            CapabilityId::new("ep1.switch"),
            Value::Bool(true),
        )
        .await
        .unwrap();
}

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

#[tokio::test]
async fn device_silent_during_interview_is_interviewed_again_when_it_talks() {
    let scenario = Scenario::parse(
        "[[device]]\npreset = \"temperature_humidity\"\nieee = \"00124b0000000101\"\n",
    )
    .unwrap();
    let cfg = ZnpSimConfig {
        ieee: 0x00124B00_00C0FFEE,
        scenario,
        require_bootloader_skip: false,
    };
    let sim = ZnpSim::start_tcp(cfg, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = start_bridge_with(&sim, dir.path(), |c| {
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

#[tokio::test]
async fn silent_device_goes_offline_and_comes_back_when_heard() {
    let scenario = Scenario::parse(
        "[[device]]\npreset = \"temperature_humidity\"\nieee = \"00124b0000000101\"\n",
    )
    .unwrap();
    let cfg = ZnpSimConfig {
        ieee: 0x00124B00_00C0FFEE,
        scenario,
        require_bootloader_skip: false,
    };
    let sim = ZnpSim::start_tcp(cfg, 0).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = start_bridge_with(&sim, dir.path(), |c| {
        c.battery_timeout = Duration::from_millis(300);
        c.availability_check = Duration::from_millis(50);
    })
    .await;
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(60)).await.unwrap();
    expect(&mut events, |e| {
        matches!(e, BridgeEvent::DeviceUpdated(d) if d.interview == InterviewState::Complete)
            .then_some(())
    })
    .await;
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

#[tokio::test]
async fn explicit_reset_lets_a_new_network_form_and_devices_pair_again() {
    let mut r = rig().await;
    pair_all(&mut r).await;
    let old_pan = r.sim.with_state(|s| s.network().0);
    drop(r.handle);
    r.task.await.unwrap();
    r.sim.wait_idle().await;

    let mut config = ZigbeeBridgeConfig::new(r.dir.path());
    config.network.pan_id = Some(old_pan ^ 0x0101);
    let be_cfg = ZnpBackendConfig::default();
    let backend = ZnpBackend::new(port_connector(r.sim.port_spec()), be_cfg);
    crate::zigbee::bridge::reset_network(&backend, &config)
        .await
        .unwrap();
    assert!(!r.dir.path().join("zigbee-devices.toml").exists());
    let (handle, _task) = start(backend, config).await.unwrap();
    assert_eq!(r.sim.with_state(|s| s.network().0), old_pan ^ 0x0101);
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
