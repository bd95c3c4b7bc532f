//! Mapping table behaviour: classes, Types, units and conversions.

use super::*;
use crate::api::CapabilityClass;

fn lvl(q: Quantity, s: &str) -> Reading {
    Reading::Level {
        quantity: q,
        value: s.parse().unwrap(),
    }
}

fn cap(m: Mapped) -> Capability {
    match m {
        Mapped::Capability(c) => c,
        other => panic!("not a capability: {other:?}"),
    }
}

#[test]
fn temperature_maps_to_level_sensor_in_degc() {
    let c = cap(map(&lvl(Q::Temperature, "21.5")));
    assert_eq!(c.id.as_str(), "temperature");
    assert_eq!(c.class(), CapabilityClass::LevelSensor);
    assert_eq!(c.kind.type_str(), "Temperature");
    assert_eq!(c.kind.unit(), Some(U::DegC));
    assert_eq!(c.value.unwrap().to_string(), "21.5");
}

#[test]
fn units_are_converted_to_tr181_units() {
    let c = cap(map(&lvl(Q::Pressure, "1008.83")));
    assert_eq!(c.kind.unit(), Some(U::Pascal));
    assert_eq!(c.value.unwrap().to_string(), "100883");
    let c = cap(map(&lvl(Q::MassLb, "74.86")));
    assert_eq!(c.value.unwrap().to_string(), "33.956");
    let c = cap(map(&lvl(Q::VolumeFlow, "3.6")));
    assert_eq!(c.value.unwrap().to_string(), "1");
}

#[test]
fn battery_has_a_low_level_threshold() {
    let c = cap(map(&lvl(Q::Battery, "93")));
    assert!(matches!(
        c.kind,
        CapabilityKind::LevelSensor {
            low_level_threshold: Some(_),
            ..
        }
    ));
}

#[test]
fn binary_sensors_use_tr181_types_and_unfit_ones_are_ignored() {
    let c = cap(map(&Reading::Binary {
        kind: BinaryKind::Moisture,
        value: true,
    }));
    assert_eq!(c.kind.type_str(), "WaterDetected");
    assert_eq!(c.value, Some(Value::Bool(true)));
    assert_eq!(
        map(&Reading::Binary {
            kind: BinaryKind::Tamper,
            value: true
        }),
        Mapped::Ignored
    );
    assert_eq!(map(&lvl(Q::Acceleration, "1")), Mapped::Ignored);
}

#[test]
fn buttons_and_dimmers_become_events() {
    let Mapped::Event(name, args) = map(&Reading::Button(ButtonEvent::DoublePress)) else {
        panic!("expected an event");
    };
    assert_eq!(name, EVENT_BUTTON);
    assert_eq!(args["Event"], "double_press");
    assert_eq!(map(&Reading::Button(ButtonEvent::None)), Mapped::Ignored);
    let Mapped::Event(name, args) = map(&Reading::Dimmer {
        event: DimmerEvent::RotateRight,
        steps: 4,
    }) else {
        panic!("expected an event");
    };
    assert_eq!(name, EVENT_DIMMER);
    assert_eq!(args["Steps"], "4");
}

#[test]
fn every_level_row_has_a_unique_quantity() {
    for (i, a) in LEVELS.iter().enumerate() {
        assert!(
            LEVELS[i + 1..].iter().all(|b| b.quantity != a.quantity),
            "{:?}",
            a.quantity
        );
    }
}
