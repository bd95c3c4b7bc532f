//! Command class table tests: byte vectors from SDS13781 examples and round trips with the
//! simulator-side encoders.

use super::*;
use crate::api::{BinaryControlType, BinarySensorType, CapabilityKind, IoTLevelType, IoTUnitType};

fn one_reading(cmd: &[u8]) -> (CapDef, Value) {
    match decode(cmd).unwrap().as_slice() {
        [Decoded::Reading { def, value }] => (def.clone(), value.clone()),
        other => panic!("expected one reading from {cmd:02x?}, got {other:?}"),
    }
}

fn level(kind: &CapabilityKind) -> (IoTLevelType, IoTUnitType) {
    match kind {
        CapabilityKind::LevelSensor { kind, unit, .. }
        | CapabilityKind::LevelControl { kind, unit, .. } => (*kind, *unit),
        other => panic!("not a level capability: {other:?}"),
    }
}

fn dec(s: &str) -> Value {
    Value::Decimal(s.parse().unwrap())
}

#[test]
fn every_table_entry_is_unique_and_found_by_id() {
    for (i, s) in ALL.iter().enumerate() {
        assert_eq!(spec(s.id).map(|x| x.id), Some(s.id));
        assert!(
            ALL[i + 1..].iter().all(|o| o.id != s.id),
            "{} twice",
            s.name
        );
    }
    assert!(spec(CcId::Unknown(0xF1)).is_none());
    assert_eq!(decode(&[0xF1, 0x01, 0x02]).unwrap(), Vec::new());
}

#[test]
fn capability_ids_round_trip() {
    let id = capability_id(2, CcId::BinarySwitch, "switch");
    assert_eq!(id, "ep2/0x25/switch");
    assert_eq!(
        parse_capability_id(&id),
        Some((2, CcId::BinarySwitch, "switch"))
    );
    assert_eq!(parse_capability_id("ep/0x25/x"), None);
    assert_eq!(parse_capability_id("ep1/25/x"), None);
}

#[test]
fn binary_switch_report_and_set_map_to_binary_control() {
    let (def, v) = one_reading(&binary_switch::report(true));
    assert_eq!(
        def.kind,
        CapabilityKind::BinaryControl {
            kind: BinaryControlType::Switch
        }
    );
    assert_eq!(v, Value::Bool(true));
    assert_eq!(
        one_reading(&[0x25, 0x03, 0x00, 0x00, 0x00]).1,
        Value::Bool(false)
    );
    assert_eq!(
        (CC_SET(CcId::BinarySwitch))("switch", &Value::Bool(true), 1).unwrap(),
        vec![0x25, 0x01, 0xFF]
    );
    assert!((CC_SET(CcId::BinarySwitch))("switch", &dec("3"), 1).is_err());
}

#[allow(non_snake_case)]
fn CC_SET(id: CcId) -> fn(&str, &Value, u8) -> Result<Vec<u8>, CcError> {
    spec(id).unwrap().set
}

#[test]
fn multilevel_switch_is_percent_level_0_to_99() {
    let (def, v) = one_reading(&multilevel_switch::report(42));
    assert_eq!(
        level(&def.kind),
        (IoTLevelType::Brightness, IoTUnitType::Percent)
    );
    assert_eq!(v, dec("42"));
    assert_eq!(one_reading(&multilevel_switch::report(0xFF)).1, dec("99"));
    assert!(decode(&multilevel_switch::report(0xFE)).unwrap().is_empty());
    assert_eq!(
        (CC_SET(CcId::MultilevelSwitch))("level", &dec("55.4"), 2).unwrap(),
        vec![0x26, 0x01, 55, 0xFF]
    );
    assert!((CC_SET(CcId::MultilevelSwitch))("level", &dec("100"), 1).is_err());
}

#[test]
fn multilevel_sensor_temperature_in_fahrenheit_is_reported_in_degc() {
    // Air temperature, precision 1, scale 1 (°F), size 2: 71.6 °F.
    let (def, v) = one_reading(&[0x31, 0x05, 0x01, 0x2A, 0x02, 0xCC]);
    assert_eq!(
        level(&def.kind),
        (IoTLevelType::Temperature, IoTUnitType::DegC)
    );
    assert_eq!(v, dec("22"));
    let (_, v) = one_reading(&multilevel_sensor::report(0x01, 0, 2, 2150));
    assert_eq!(v, dec("21.5"));
}

#[test]
fn multilevel_sensor_units_follow_the_table() {
    let cases: &[(u8, u8, IoTLevelType, IoTUnitType, &str)] = &[
        (0x03, 1, IoTLevelType::Luminance, IoTUnitType::Lux, "300"),
        (0x04, 0, IoTLevelType::Power, IoTUnitType::Watt, "300"),
        (0x05, 0, IoTLevelType::Humidity, IoTUnitType::Percent, "300"),
        (
            0x08,
            0,
            IoTLevelType::Pressure,
            IoTUnitType::Pascal,
            "300000",
        ),
        (
            0x11,
            0,
            IoTLevelType::Concentration,
            IoTUnitType::PartsPerMillion,
            "300",
        ),
        (
            0x1B,
            0,
            IoTLevelType::Radiation,
            IoTUnitType::UvIndex,
            "300",
        ),
    ];
    for (t, scale, lt, unit, expect) in cases {
        let (def, v) = one_reading(&multilevel_sensor::report(*t, *scale, 0, 300));
        assert_eq!(level(&def.kind), (*lt, *unit), "type {t:#x}");
        assert_eq!(v, dec(expect), "type {t:#x}");
    }
}

#[test]
fn unknown_sensor_type_or_scale_and_bad_size_survive() {
    assert!(
        decode(&multilevel_sensor::report(0x7F, 0, 0, 1))
            .unwrap()
            .is_empty()
    );
    assert!(
        decode(&multilevel_sensor::report(0x05, 3, 0, 1))
            .unwrap()
            .is_empty()
    );
    assert!(decode(&[0x31, 0x05, 0x01, 0x03, 0x00, 0x00, 0x00]).is_err());
    assert!(decode(&[0x31, 0x05, 0x01]).is_err());
}

#[test]
fn multilevel_sensor_supported_report_lists_types() {
    let r = multilevel_sensor::supported_report(&[0x01, 0x05, 0x03]);
    let d = decode(&r).unwrap();
    let fact = NodeFact::Supported {
        cc: CcId::MultilevelSensor,
        ids: vec![1, 3, 5],
    };
    assert_eq!(d, vec![Decoded::Fact(fact.clone())]);
    let gets = (multilevel_sensor::CC.follow_up)(&fact, 5);
    assert_eq!(gets[1], vec![0x31, 0x04, 0x03, 0x00]);
}

#[test]
fn meter_report_maps_energy_power_voltage_current() {
    let cases = [
        (0u8, IoTLevelType::Energy, IoTUnitType::KilowattHour),
        (2, IoTLevelType::Power, IoTUnitType::Watt),
        (4, IoTLevelType::Meter, IoTUnitType::Volt),
        (5, IoTLevelType::Meter, IoTUnitType::Ampere),
    ];
    for (scale, lt, unit) in cases {
        let (def, v) = one_reading(&meter::report(1, scale, 2, 12345));
        assert_eq!(level(&def.kind), (lt, unit), "scale {scale}");
        assert_eq!(v, dec("123.45"));
    }
    let d = decode(&meter::supported_report(1, &[0, 2])).unwrap();
    assert_eq!(
        d,
        vec![Decoded::Fact(NodeFact::Supported {
            cc: CcId::Meter,
            ids: vec![0, 2]
        })]
    );
}

#[test]
fn binary_sensor_types_map_to_tr181_types() {
    let (def, v) = one_reading(&binary_sensor::report(0x0C, true));
    assert_eq!(
        def.kind,
        CapabilityKind::BinarySensor {
            kind: BinarySensorType::MotionDetected
        }
    );
    assert_eq!(v, Value::Bool(true));
    let (def, _) = one_reading(&binary_sensor::report(0x06, false));
    assert_eq!(
        def.kind,
        CapabilityKind::BinarySensor {
            kind: BinarySensorType::WaterDetected
        }
    );
    // v1: no type byte.
    assert_eq!(one_reading(&[0x30, 0x03, 0xFF]).0.property, "general");
    // Supported report: bit 0 reserved, bits 2 and 12 = smoke and motion.
    let d = decode(&[0x30, 0x04, 0b0000_0100, 0b0001_0000]).unwrap();
    assert_eq!(
        d,
        vec![Decoded::Fact(NodeFact::Supported {
            cc: CcId::BinarySensor,
            ids: vec![2, 12]
        })]
    );
}

#[test]
fn notification_sets_and_clears_binary_sensors_and_other_events_pass_through() {
    let (def, v) = one_reading(&notification::report(0x07, 0x08, None));
    assert_eq!(
        def.kind,
        CapabilityKind::BinarySensor {
            kind: BinarySensorType::MotionDetected
        }
    );
    assert_eq!(v, Value::Bool(true));
    assert_eq!(
        one_reading(&notification::report(0x07, 0x00, Some(0x08))).1,
        Value::Bool(false)
    );
    assert_eq!(
        one_reading(&notification::report(0x06, 0x16, None)).1,
        Value::Bool(true)
    );
    assert_eq!(
        one_reading(&notification::report(0x06, 0x17, None)).1,
        Value::Bool(false)
    );
    let (def, _) = one_reading(&notification::report(0x05, 0x02, None));
    assert_eq!(
        def.kind,
        CapabilityKind::BinarySensor {
            kind: BinarySensorType::WaterDetected
        }
    );
    // Tamper (home security event 3) has no TR-181 sensor type: an event.
    match decode(&notification::report(0x07, 0x03, None))
        .unwrap()
        .as_slice()
    {
        [Decoded::Event { name, args }] => {
            assert_eq!(*name, "Notification");
            assert_eq!(args["Event"], "3");
        }
        other => panic!("{other:?}"),
    }
    // Idle of the tamper event clears nothing and emits nothing.
    assert!(
        decode(&notification::report(0x07, 0x00, Some(0x03)))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn battery_is_percent_level_sensor_and_low_warning_reads_zero() {
    let (def, v) = one_reading(&battery::report(87));
    assert_eq!(
        level(&def.kind),
        (IoTLevelType::Battery, IoTUnitType::Percent)
    );
    assert_eq!(v, dec("87"));
    assert_eq!(one_reading(&battery::report(0xFF)).1, dec("0"));
    assert!(decode(&battery::report(101)).is_err());
}

#[test]
fn basic_report_maps_to_level() {
    assert_eq!(one_reading(&basic::report(0xFF)).1, dec("99"));
    assert_eq!(one_reading(&basic::report(0)).1, dec("0"));
    match decode(&[0x20, 0x01, 0xFF]).unwrap().as_slice() {
        [Decoded::Event { name, args }] => {
            assert_eq!((*name, args["Value"].as_str()), ("BasicSet", "255"))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn central_scene_notification_is_an_event_with_scene_and_action() {
    match decode(&central_scene::notification(7, 3, 2))
        .unwrap()
        .as_slice()
    {
        [Decoded::Event { name, args }] => {
            assert_eq!(*name, "CentralScene");
            assert_eq!(args["Scene"], "2");
            assert_eq!(args["Action"], "KeyPressed2x");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn interview_facts_decode() {
    assert_eq!(
        decode(&manufacturer_specific::report(0x0086, 0x0003, 0x0060)).unwrap(),
        vec![Decoded::Fact(NodeFact::Manufacturer {
            manufacturer_id: 0x86,
            product_type: 3,
            product_id: 0x60
        })]
    );
    assert_eq!(
        decode(&version::report((7, 13), (1, 4))).unwrap(),
        vec![Decoded::Fact(NodeFact::Firmware {
            version: "1.4".into()
        })]
    );
    assert_eq!(
        decode(&version::cc_report(0x25, 2)).unwrap(),
        vec![Decoded::Fact(NodeFact::CcVersion {
            cc: CcId::BinarySwitch,
            version: 2
        })]
    );
    assert_eq!(
        decode(&wake_up::interval_report(3600, 1)).unwrap(),
        vec![Decoded::Fact(NodeFact::WakeUpInterval {
            seconds: 3600,
            target: 1
        })]
    );
    assert_eq!(
        decode(&wake_up::notification()).unwrap(),
        vec![Decoded::Fact(NodeFact::WakeUpNotification)]
    );
    assert_eq!(
        decode(&association::report(1, 5, &[1])).unwrap(),
        vec![Decoded::Fact(NodeFact::Association {
            group: 1,
            nodes: vec![1]
        })]
    );
    assert_eq!(
        decode(&configuration::report(3, -300)).unwrap(),
        vec![Decoded::Fact(NodeFact::Configuration {
            param: 3,
            value: -300
        })]
    );
    assert_eq!(
        configuration::parse_set(&configuration::set(3, 70000)),
        Some((3, 70000))
    );
    assert_eq!(
        decode(&multi_channel::capability_report(
            2,
            0x10,
            0x01,
            &[0x25, 0x32]
        ))
        .unwrap(),
        vec![Decoded::Fact(NodeFact::EndPointCapability {
            ep: 2,
            classes: (0x10, 0x01),
            command_classes: vec![CcId::BinarySwitch, CcId::Meter]
        })]
    );
}

#[test]
fn multi_channel_encapsulation_round_trips() {
    let inner = binary_switch::report(true);
    let wrapped = multi_channel::wrap(2, 0, &inner);
    assert_eq!(multi_channel::unwrap(&wrapped), Some((2, &inner[..])));
    assert_eq!(
        multi_channel::unwrap_to(&multi_channel::wrap(0, 3, &inner)),
        Some((3, &inner[..]))
    );
    assert_eq!(multi_channel::unwrap(&[0x60, 0x0D, 0x01]), None);
}

#[test]
fn truncated_frames_of_every_cc_are_errors_or_empty_never_panics() {
    for s in ALL {
        let id = u8::from(s.id);
        for cmd in 0..=0x20u8 {
            for len in 0..6 {
                let mut frame = vec![id, cmd];
                frame.extend(std::iter::repeat_n(0xFFu8, len));
                let _ = decode(&frame);
            }
        }
        let _ = decode(&[id]);
    }
}

#[test]
fn thermostat_mode_setpoint_and_state_follow_the_tr369_thermostat_example() {
    let (def, v) = one_reading(&thermostat_mode::report(1));
    assert!(
        matches!(&def.kind, CapabilityKind::EnumControl { valid_values, .. } if valid_values.contains(&"Heat".to_owned()))
    );
    assert_eq!(v, Value::String("Heat".into()));
    assert_eq!(
        (CC_SET(CcId::ThermostatMode))("mode", &Value::String("Cool".into()), 1).unwrap(),
        vec![0x40, 0x01, 0x02]
    );
    assert!((CC_SET(CcId::ThermostatMode))("mode", &Value::String("Toast".into()), 1).is_err());
    let (def, v) = one_reading(&thermostat_setpoint::report(1, 215));
    assert_eq!(
        level(&def.kind),
        (IoTLevelType::Temperature, IoTUnitType::DegC)
    );
    assert_eq!(v, dec("21.5"));
    let set = (CC_SET(CcId::ThermostatSetpoint))("heating", &dec("22.5"), 3).unwrap();
    assert_eq!(set, vec![0x43, 0x01, 0x01, 0x22, 0x00, 0xE1]);
    assert_eq!(thermostat_setpoint::parse_set(&set), Some((1, 225)));
    // 70 °F heating setpoint: precision 0, scale 1, size 1.
    assert_eq!(one_reading(&[0x43, 0x03, 0x01, 0x09, 70]).1, dec("21.11"));
    let (def, v) = one_reading(&thermostat_operating_state::report(1));
    assert!(matches!(def.kind, CapabilityKind::EnumSensor { .. }));
    assert_eq!(v, Value::String("Heating".into()));
}

#[test]
fn door_lock_reports_bolt_and_door() {
    let d = decode(&door_lock::report(true, false)).unwrap();
    assert_eq!(d.len(), 2);
    match &d[0] {
        Decoded::Reading { def, value } => {
            assert_eq!(
                def.kind,
                CapabilityKind::BinaryControl {
                    kind: BinaryControlType::Locked
                }
            );
            assert_eq!(value, &Value::Bool(true));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        &d[1],
        Decoded::Reading {
            value: Value::Bool(false),
            ..
        }
    ));
    assert_eq!(
        (CC_SET(CcId::DoorLock))("locked", &Value::Bool(false), 1).unwrap(),
        vec![0x62, 0x01, 0x00]
    );
}

#[test]
fn color_components_are_intensity_levels() {
    let (def, v) = one_reading(&color_switch::report(2, 200));
    assert_eq!(def.property, "red");
    assert_eq!(
        level(&def.kind),
        (IoTLevelType::Intensity, IoTUnitType::Dimensionless)
    );
    assert_eq!(v, dec("200"));
    let d = decode(&color_switch::supported_report(&[2, 3, 4])).unwrap();
    assert_eq!(
        d,
        vec![Decoded::Fact(NodeFact::Supported {
            cc: CcId::ColorSwitch,
            ids: vec![2, 3, 4]
        })]
    );
    assert_eq!(
        (CC_SET(CcId::ColorSwitch))("blue", &dec("16"), 1).unwrap(),
        vec![0x33, 0x05, 0x01, 0x04, 16]
    );
}

#[test]
fn supervision_wraps_and_reports_session_status() {
    let inner = binary_switch::report(true);
    let w = supervision::wrap(0x45, &inner);
    assert_eq!(supervision::unwrap_get(&w), Some((0x05, &inner[..])));
    assert_eq!(
        supervision::parse_report(&supervision::report(5, supervision::Status::Success)),
        Ok((5, supervision::Status::Success))
    );
    assert!(supervision::parse_report(&[0x6C, 0x02, 0x01]).is_err());
    assert_eq!(
        supervision::unwrap_get(&[0x6C, 0x01, 0x01, 0x09, 0x25]),
        None
    );
}

#[test]
fn random_frames_never_panic_any_decoder() {
    use crate::zwave::serial::functions::{
        ApplicationCommand, ApplicationUpdate, FunctionId, InitData, NodeStatusCallback,
        VersionInfo,
    };
    let mut seed = 0x9E37_79B9u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    let keys = security0::Keys::new(&[7; 16]);
    for _ in 0..20_000 {
        let len = (next() % 40) as usize;
        let mut frame: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Some(first) = frame.first_mut() {
            // Bias towards known CCs so the command decoders are exercised.
            *first = ALL[(next() as usize) % ALL.len()].id.into();
        }
        let _ = decode(&frame);
        let _ = security0::decapsulate(&keys, 2, 1, &[1; 8], &frame);
        let _ = multi_channel::unwrap(&frame);
        let _ = supervision::unwrap_get(&frame);
        let bytes = bytes::Bytes::from(frame.clone());
        let _ = ApplicationCommand::parse(FunctionId::ApplicationCommandHandler, &bytes);
        let _ = ApplicationCommand::parse(FunctionId::BridgeApplicationCommandHandler, &bytes);
        let _ = ApplicationUpdate::parse(&frame);
        let _ = NodeStatusCallback::parse(FunctionId::AddNodeToNetwork, &frame);
        let _ = InitData::parse(&frame);
        let _ = VersionInfo::parse(&frame);
    }
}
