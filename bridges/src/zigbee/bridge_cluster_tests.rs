//! Cluster coverage end to end: IAS Zone, Occupancy, Door Lock, Window Covering, Thermostat,
//! multi-endpoint and colour devices from the simulator, through interview, reports and
//! writes — each test on both coordinator backends (ZNP and EZSP simulators).

use std::time::Duration;

use super::bridge_tests::{cap, expect, id_of};
use super::test_radio::{AnySim, Radio, both_radios};
use crate::api::{
    BinaryControlType, BinarySensorType, BridgeEvent, CapabilityId, CapabilityKind, Decimal,
    DeviceDescriptor, InterviewState, Value,
};
use crate::zigbee::zcl::ZclValue;
use crate::zigbee::zcl::clusters::id;

const COORDINATOR: u64 = 0x00124B00_00C0FFEE;
const CONTACT: u64 = 0x00124B0000000201;
const MOTION: u64 = 0x00124B0000000202;
const LOCK: u64 = 0x00124B0000000203;
const COVER: u64 = 0x00124B0000000204;
const THERMOSTAT: u64 = 0x00124B0000000205;
const REMOTE: u64 = 0x00124B0000000206;

const SCENARIO: &str = r#"
[[device]]
preset = "contact_sensor"
ieee = "00124b0000000201"
[[device]]
preset = "motion_sensor"
ieee = "00124b0000000202"
[[device]]
preset = "door_lock"
ieee = "00124b0000000203"
[[device]]
preset = "window_covering"
ieee = "00124b0000000204"
[[device]]
preset = "thermostat"
ieee = "00124b0000000205"
[[device]]
preset = "remote"
ieee = "00124b0000000206"
"#;

both_radios!(sensor_and_actuator_clusters_map_report_and_accept_writes);
async fn sensor_and_actuator_clusters_map_report_and_accept_writes(radio: Radio) {
    let sim = AnySim::start(radio, COORDINATOR, SCENARIO).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim.bridge(dir.path()).await;
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(60)).await.unwrap();
    let mut devices: Vec<DeviceDescriptor> = Vec::new();
    while devices.len() < 6 {
        devices.push(
            expect(&mut events, |e| match e {
                BridgeEvent::DeviceUpdated(d) if d.interview == InterviewState::Complete => {
                    Some(d.clone())
                }
                _ => None,
            })
            .await,
        );
    }
    let dev = |ieee| devices.iter().find(|d| d.id == id_of(ieee)).unwrap();
    assert_eq!(
        cap(dev(CONTACT), "ep1.zone").kind,
        CapabilityKind::BinarySensor {
            kind: BinarySensorType::DoorOpen
        }
    );
    assert_eq!(
        cap(dev(MOTION), "ep1.occupancy").kind,
        CapabilityKind::BinarySensor {
            kind: BinarySensorType::MotionDetected
        }
    );
    assert_eq!(
        cap(dev(MOTION), "ep1.illuminance").value,
        Some(Value::Decimal(Decimal::from_int(100)))
    );
    assert_eq!(
        cap(dev(LOCK), "ep1.lock").kind,
        CapabilityKind::BinaryControl {
            kind: BinaryControlType::Locked
        }
    );
    assert_eq!(cap(dev(LOCK), "ep1.lock").value, Some(Value::Bool(false)));
    assert_eq!(
        cap(dev(THERMOSTAT), "ep1.local_temperature").value,
        Some(Value::Decimal(Decimal::new(195, 1)))
    );
    // The interview told the IAS zone where to send alarms.
    assert_eq!(
        sim.attribute(CONTACT, 1, id::IAS_ZONE, 0x0010)
            .map(|v| v.value),
        Some(ZclValue::Unsigned(COORDINATOR))
    );
    // The zone asked to enrol and the bridge answered: ZoneState is "enrolled".
    let enrolled = sim.attribute_becomes(CONTACT, 1, id::IAS_ZONE, 0, ZclValue::Unsigned(1));
    tokio::time::timeout(Duration::from_secs(10), enrolled)
        .await
        .expect("zone enrolled");

    assert!(sim.report(CONTACT, 1, id::IAS_ZONE, 0x0002, ZclValue::Unsigned(0x0001)));
    let v = expect(&mut events, |e| match e {
        BridgeEvent::Value {
            id,
            capability,
            value,
            ..
        } if *id == id_of(CONTACT) => Some((capability.clone(), value.clone())),
        _ => None,
    })
    .await;
    assert_eq!(v, (CapabilityId::new("ep1.zone"), Value::Bool(true)));
    assert!(sim.report(MOTION, 1, id::OCCUPANCY, 0, ZclValue::Unsigned(1)));
    let v = expect(&mut events, |e| match e {
        BridgeEvent::Value { id, value, .. } if *id == id_of(MOTION) => Some(value.clone()),
        _ => None,
    })
    .await;
    assert_eq!(v, Value::Bool(true));

    handle
        .write(
            id_of(LOCK),
            CapabilityId::new("ep1.lock"),
            Value::Bool(true),
        )
        .await
        .unwrap();
    assert_eq!(
        sim.attribute(LOCK, 1, id::DOOR_LOCK, 0).map(|v| v.value),
        Some(ZclValue::Unsigned(1))
    );
    handle
        .write(
            id_of(COVER),
            CapabilityId::new("ep1.lift"),
            Value::Decimal(Decimal::from_int(40)),
        )
        .await
        .unwrap();
    assert_eq!(
        sim.attribute(COVER, 1, id::WINDOW_COVERING, 8)
            .map(|v| v.value),
        Some(ZclValue::Unsigned(40))
    );
    let setpoint = CapabilityId::new("ep1.heating_setpoint");
    handle
        .write(
            id_of(THERMOSTAT),
            setpoint.clone(),
            Value::Decimal(Decimal::new(215, 1)),
        )
        .await
        .unwrap();
    assert_eq!(
        sim.attribute(THERMOSTAT, 1, id::THERMOSTAT, 0x12)
            .map(|v| v.value),
        Some(ZclValue::Signed(2150))
    );
    assert_eq!(
        dev(REMOTE)
            .events
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>(),
        ["Command"]
    );
    assert!(sim.press(REMOTE, 1, id::ON_OFF, 0x02, vec![]));
    let (name, args) = expect(&mut events, |e| match e {
        BridgeEvent::Event { id, name, args, .. } if *id == id_of(REMOTE) => {
            Some((name.clone(), args.clone()))
        }
        _ => None,
    })
    .await;
    assert_eq!(name, "Command");
    assert_eq!(
        (
            args["Cluster"].as_str(),
            args["Command"].as_str(),
            args["Endpoint"].as_str()
        ),
        ("On/Off", "Toggle", "1")
    );
    let out_of_range = handle
        .write(
            id_of(THERMOSTAT),
            setpoint,
            Value::Decimal(Decimal::from_int(35)),
        )
        .await;
    assert!(out_of_range.is_err());
    let d = handle.devices().await.unwrap();
    let thermostat = d.iter().find(|d| d.id == id_of(THERMOSTAT)).unwrap();
    assert_eq!(
        cap(thermostat, "ep1.heating_setpoint").value,
        Some(Value::Decimal(Decimal::new(215, 1)))
    );
}

both_radios!(two_endpoint_switch_becomes_two_nodes_each_switchable);
async fn two_endpoint_switch_becomes_two_nodes_each_switchable(radio: Radio) {
    let scenario = "[[device]]\npreset = \"double_switch\"\nieee = \"00124b0000000301\"\n";
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim.bridge(dir.path()).await;
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(60)).await.unwrap();
    let d = expect(&mut events, |e| match e {
        BridgeEvent::DeviceUpdated(d) if d.interview == InterviewState::Complete => Some(d.clone()),
        _ => None,
    })
    .await;
    assert!(d.capabilities.is_empty());
    let nodes: Vec<(&str, Vec<&str>)> = d
        .nodes
        .iter()
        .map(|n| {
            (
                n.key.as_str(),
                n.capabilities.iter().map(|c| c.id.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        nodes,
        [("ep1", vec!["ep1.switch"]), ("ep2", vec!["ep2.switch"])]
    );
    let ieee = 0x00124B0000000301;
    handle
        .write(
            id_of(ieee),
            CapabilityId::new("ep2.switch"),
            Value::Bool(true),
        )
        .await
        .unwrap();
    assert_eq!(
        sim.attribute(ieee, 2, id::ON_OFF, 0).map(|v| v.value),
        Some(ZclValue::Bool(true))
    );
    assert_eq!(
        sim.attribute(ieee, 1, id::ON_OFF, 0).map(|v| v.value),
        Some(ZclValue::Bool(false))
    );
}

both_radios!(colour_temperature_is_set_in_kelvin_and_reaches_the_bulb_in_mireds);
async fn colour_temperature_is_set_in_kelvin_and_reaches_the_bulb_in_mireds(radio: Radio) {
    const BULB: u64 = 0x00124B0000000301;
    let scenario = "[[device]]\npreset = \"colour_bulb\"\nieee = \"00124b0000000301\"\n";
    let sim = AnySim::start(radio, COORDINATOR, scenario).await;
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim.bridge(dir.path()).await;
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(60)).await.unwrap();
    let d = expect(&mut events, |e| match e {
        BridgeEvent::DeviceUpdated(d) if d.interview == InterviewState::Complete => Some(d.clone()),
        _ => None,
    })
    .await;
    let (_, ct) = d
        .all_capabilities()
        .find(|(_, c)| c.id.as_str().ends_with("colour_temperature"))
        .expect("a colour temperature capability");
    assert!(
        matches!(ct.kind, CapabilityKind::LevelControl { .. }),
        "{:?}",
        ct.kind
    );
    let id = ct.id.clone();
    let bulb = id_of(BULB);
    handle
        .write(bulb, id.clone(), Value::Decimal(Decimal::from_int(2700)))
        .await
        .unwrap();
    // 10^6 / 2700 K = 370 mireds.
    assert_eq!(
        sim.attribute(BULB, 1, id::COLOR_CONTROL, 0x0007)
            .map(|v| v.value),
        Some(ZclValue::Unsigned(370))
    );
    let e = handle
        .write(bulb, id, Value::Decimal(Decimal::from_int(20_000)))
        .await
        .unwrap_err();
    assert!(
        matches!(e, crate::api::BridgeError::InvalidValue(_)),
        "{e:?}"
    );

    // Hue and saturation, with the project's vendor Types (TR-181 has none for them).
    let hue = cap(&d, "ep1.hue");
    assert_eq!(hue.kind.type_str(), "X_USPHUB_Hue");
    assert_eq!(hue.kind.unit(), Some(crate::api::IoTUnitType::Degree));
    handle
        .write(bulb, hue.id.clone(), Value::Decimal(Decimal::from_int(120)))
        .await
        .unwrap();
    // 120 degrees of 360 is 85 of 254.
    assert_eq!(
        sim.attribute(BULB, 1, id::COLOR_CONTROL, 0x0000)
            .map(|v| v.value),
        Some(ZclValue::Unsigned(85))
    );
    let sat = cap(&d, "ep1.saturation");
    assert_eq!(sat.kind.type_str(), "X_USPHUB_Saturation");
    handle
        .write(bulb, sat.id.clone(), Value::Decimal(Decimal::from_int(50)))
        .await
        .unwrap();
    assert_eq!(
        sim.attribute(BULB, 1, id::COLOR_CONTROL, 0x0001)
            .map(|v| v.value),
        Some(ZclValue::Unsigned(127))
    );
}
