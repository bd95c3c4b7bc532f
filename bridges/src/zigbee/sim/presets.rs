//! Virtual device kinds for scenarios: endpoints, clusters and initial attribute values of
//! common devices (a smart plug with metering, a temperature/humidity sensor, a dimmable
//! bulb, an IAS contact sensor, a motion sensor).

use std::collections::BTreeMap;

use super::device::{VirtualDevice, VirtualEndpoint};
use crate::zigbee::backend::PROFILE_HA;
use crate::zigbee::zcl::clusters::{basic, id};
use crate::zigbee::zcl::types::ty;
use crate::zigbee::zcl::{TypedValue, ZclValue};
use crate::zigbee::zdo::{NodeDescriptor, SimpleDescriptor};

/// The preset names a scenario may use.
pub const PRESETS: &[&str] = &[
    "double_switch",
    "remote",
    "door_lock",
    "window_covering",
    "thermostat",
    "colour_bulb",
    "plug",
    "temperature_humidity",
    "dimmable_bulb",
    "contact_sensor",
    "motion_sensor",
];

type Attrs = BTreeMap<(u16, u16), TypedValue>;

fn u(t: u8, v: u64) -> TypedValue {
    TypedValue::new(t, ZclValue::Unsigned(v))
}

fn i(t: u8, v: i64) -> TypedValue {
    TypedValue::new(t, ZclValue::Signed(v))
}

fn s(v: &str) -> TypedValue {
    TypedValue::new(ty::CHAR_STRING, ZclValue::String(v.to_owned()))
}

fn basic_attrs(a: &mut Attrs, manufacturer: &str, model: &str, mains: bool) {
    a.insert((id::BASIC, basic::ZCL_VERSION), u(ty::UINT8, 8));
    a.insert((id::BASIC, basic::MANUFACTURER_NAME), s(manufacturer));
    a.insert((id::BASIC, basic::MODEL_IDENTIFIER), s(model));
    a.insert((id::BASIC, basic::DATE_CODE), s("20260101"));
    a.insert(
        (id::BASIC, basic::POWER_SOURCE),
        u(ty::ENUM8, if mains { 0x01 } else { 0x03 }),
    );
    a.insert((id::BASIC, basic::SW_BUILD_ID), s("1.0.0-sim"));
}

fn battery_attrs(a: &mut Attrs) {
    a.insert((id::POWER_CONFIG, 0x0020), u(ty::UINT8, 30));
    a.insert((id::POWER_CONFIG, 0x0021), u(ty::UINT8, 200));
}

/// Builds a device of preset `kind`; `None` for an unknown kind.
pub fn build(
    kind: &str,
    ieee: u64,
    nwk: u16,
    manufacturer: &str,
    model: &str,
) -> Option<VirtualDevice> {
    let mut a = Attrs::new();
    let (device_id, mut clusters, mains): (u16, Vec<u16>, bool) = match kind {
        "plug" => {
            a.insert(
                (id::ON_OFF, 0),
                TypedValue::new(ty::BOOL, ZclValue::Bool(false)),
            );
            a.insert((id::METERING, 0x0000), u(ty::UINT48, 123_456));
            a.insert((id::METERING, 0x0301), u(ty::UINT24, 1));
            a.insert((id::METERING, 0x0302), u(ty::UINT24, 1000));
            a.insert((id::METERING, 0x0400), i(ty::INT24, 0));
            a.insert((id::ELECTRICAL_MEASUREMENT, 0x0505), u(ty::UINT16, 2301));
            a.insert((id::ELECTRICAL_MEASUREMENT, 0x0508), u(ty::UINT16, 0));
            a.insert((id::ELECTRICAL_MEASUREMENT, 0x050B), i(ty::INT16, 0));
            for (attr, v) in [
                (0x0600, 1),
                (0x0601, 10),
                (0x0602, 1),
                (0x0603, 1000),
                (0x0604, 1),
                (0x0605, 1),
            ] {
                a.insert((id::ELECTRICAL_MEASUREMENT, attr), u(ty::UINT16, v));
            }
            (
                0x0051,
                vec![
                    id::IDENTIFY,
                    id::ON_OFF,
                    id::METERING,
                    id::ELECTRICAL_MEASUREMENT,
                ],
                true,
            )
        }
        "temperature_humidity" => {
            a.insert((id::TEMPERATURE, 0), i(ty::INT16, 2150));
            a.insert((id::HUMIDITY, 0), u(ty::UINT16, 4500));
            battery_attrs(&mut a);
            (
                0x0302,
                vec![
                    id::POWER_CONFIG,
                    id::IDENTIFY,
                    id::TEMPERATURE,
                    id::HUMIDITY,
                ],
                false,
            )
        }
        "dimmable_bulb" => {
            a.insert(
                (id::ON_OFF, 0),
                TypedValue::new(ty::BOOL, ZclValue::Bool(false)),
            );
            a.insert((id::LEVEL_CONTROL, 0), u(ty::UINT8, 254));
            (
                0x0101,
                vec![id::IDENTIFY, id::ON_OFF, id::LEVEL_CONTROL],
                true,
            )
        }
        "colour_bulb" => {
            a.insert(
                (id::ON_OFF, 0),
                TypedValue::new(ty::BOOL, ZclValue::Bool(false)),
            );
            a.insert((id::LEVEL_CONTROL, 0), u(ty::UINT8, 254));
            a.insert((id::COLOR_CONTROL, 0x0000), u(ty::UINT8, 0));
            a.insert((id::COLOR_CONTROL, 0x0001), u(ty::UINT8, 0));
            a.insert((id::COLOR_CONTROL, 0x0003), u(ty::UINT16, 0x616B));
            a.insert((id::COLOR_CONTROL, 0x0004), u(ty::UINT16, 0x607D));
            // 370 mireds = 2703 K, warm white; ColorMode 2 = colour temperature.
            a.insert((id::COLOR_CONTROL, 0x0007), u(ty::UINT16, 370));
            a.insert((id::COLOR_CONTROL, 0x0008), u(ty::ENUM8, 2));
            (
                0x010D,
                vec![
                    id::IDENTIFY,
                    id::ON_OFF,
                    id::LEVEL_CONTROL,
                    id::COLOR_CONTROL,
                ],
                true,
            )
        }
        "contact_sensor" => {
            a.insert((id::IAS_ZONE, 0x0000), u(ty::ENUM8, 0));
            a.insert((id::IAS_ZONE, 0x0001), u(ty::ENUM16, 0x0015));
            a.insert((id::IAS_ZONE, 0x0002), u(ty::BITMAP16, 0));
            a.insert((id::IAS_ZONE, 0x0010), u(ty::IEEE, 0));
            battery_attrs(&mut a);
            (
                0x0402,
                vec![id::POWER_CONFIG, id::IDENTIFY, id::IAS_ZONE],
                false,
            )
        }
        "motion_sensor" => {
            a.insert((id::OCCUPANCY, 0), u(ty::BITMAP8, 0));
            a.insert((id::ILLUMINANCE, 0), u(ty::UINT16, 20_001));
            battery_attrs(&mut a);
            (
                0x0107,
                vec![
                    id::POWER_CONFIG,
                    id::IDENTIFY,
                    id::OCCUPANCY,
                    id::ILLUMINANCE,
                ],
                false,
            )
        }
        "double_switch" => {
            a.insert(
                (id::ON_OFF, 0),
                TypedValue::new(ty::BOOL, ZclValue::Bool(false)),
            );
            (0x0100, vec![id::IDENTIFY, id::ON_OFF], true)
        }
        "remote" => {
            battery_attrs(&mut a);
            (0x0820, vec![id::POWER_CONFIG, id::IDENTIFY], false)
        }
        "door_lock" => {
            a.insert((id::DOOR_LOCK, 0), u(ty::ENUM8, 2));
            battery_attrs(&mut a);
            (
                0x000A,
                vec![id::POWER_CONFIG, id::IDENTIFY, id::DOOR_LOCK],
                false,
            )
        }
        "window_covering" => {
            a.insert((id::WINDOW_COVERING, 0x0008), u(ty::UINT8, 0));
            (0x0202, vec![id::IDENTIFY, id::WINDOW_COVERING], true)
        }
        "thermostat" => {
            a.insert((id::THERMOSTAT, 0x0000), i(ty::INT16, 1950));
            a.insert((id::THERMOSTAT, 0x0012), i(ty::INT16, 2000));
            battery_attrs(&mut a);
            (
                0x0301,
                vec![id::POWER_CONFIG, id::IDENTIFY, id::THERMOSTAT],
                false,
            )
        }
        _ => return None,
    };
    basic_attrs(&mut a, manufacturer, model, mains);
    clusters.insert(0, id::BASIC);
    let descriptor = SimpleDescriptor {
        endpoint: 1,
        profile: PROFILE_HA,
        device_id,
        device_version: 1,
        in_clusters: clusters,
        out_clusters: if kind == "remote" {
            vec![0x0019, id::ON_OFF, id::LEVEL_CONTROL]
        } else {
            vec![0x0019]
        },
    };
    let node = if mains {
        // Router; MAC capabilities: FFD, mains, receiver on when idle, allocate address.
        NodeDescriptor {
            logical_type: 1,
            mac_capabilities: 0x8E,
            manufacturer_code: 0x1234,
        }
    } else {
        NodeDescriptor {
            logical_type: 2,
            mac_capabilities: 0x80,
            manufacturer_code: 0x1234,
        }
    };
    let mut endpoints = vec![VirtualEndpoint {
        descriptor,
        attributes: a,
    }];
    if kind == "double_switch" {
        // A second relay on endpoint 2: On/Off only (Basic lives on endpoint 1).
        let mut second = endpoints[0].clone();
        second.descriptor.endpoint = 2;
        second.descriptor.in_clusters.retain(|c| *c != id::BASIC);
        second.attributes.retain(|(c, _), _| *c != id::BASIC);
        endpoints.push(second);
    }
    Some(VirtualDevice::new(ieee, nwk, node, endpoints))
}
