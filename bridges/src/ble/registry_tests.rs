//! Registry behaviour with a fake clock: pairing, values on change only, de-duplication,
//! availability, removal and a bounded advertiser table.

use super::*;
use crate::ble::bthome::FrameBuilder;
use crate::ble::bthome::frame::BTHOME_UUID16;

const A: BleAddress = BleAddress([0xA4, 0xC1, 0x38, 0x8D, 0x18, 0xB2]);

fn bthome(address: BleAddress, data: Vec<u8>) -> Advert {
    Advert {
        address,
        rssi: Some(-60),
        local_name: Some("ATC_8D18B2".into()),
        service_data: vec![(BTHOME_UUID16, data)],
    }
}

fn temp_hum(packet: u8, temp_centi: i16) -> Vec<u8> {
    FrameBuilder::new()
        .object(0x00, &[packet])
        .object(0x02, &temp_centi.to_le_bytes())
        .object(0x03, &[0xbf, 0x13])
        .build()
}

struct Harness {
    reg: BleRegistry,
    t0: Instant,
    now: Instant,
}

impl Harness {
    fn new(config: BleConfig) -> Self {
        let t0 = Instant::now();
        Self {
            reg: BleRegistry::new(config),
            t0,
            now: t0,
        }
    }

    fn advert(&mut self, a: &Advert) -> Vec<BridgeEvent> {
        let mut out = Vec::new();
        self.reg
            .handle_advert(a, self.now, SystemTime::UNIX_EPOCH, &mut out);
        out
    }

    fn advance(&mut self, d: Duration) -> Vec<BridgeEvent> {
        self.now += d;
        let mut out = Vec::new();
        self.reg.tick(self.now, &mut out);
        out
    }
}

fn values(events: &[BridgeEvent]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            BridgeEvent::Value {
                capability, value, ..
            } => Some((capability.to_string(), value.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn unknown_advertisers_are_tracked_but_not_mounted() {
    let mut h = Harness::new(BleConfig::default());
    assert!(h.advert(&bthome(A, temp_hum(1, 2506))).is_empty());
    assert!(h.reg.devices().is_empty());
    let adv = h.reg.advertiser(&A).unwrap();
    assert_eq!((adv.rssi, adv.adverts), (Some(-60), 1));
}

#[test]
fn permitted_sensor_joins_and_publishes_values_only_on_change() {
    let mut h = Harness::new(BleConfig::default());
    let ev = h.reg.permit_join(Duration::from_secs(60), h.now);
    assert_eq!(
        ev,
        BridgeEvent::PermitJoin {
            open: true,
            remaining_s: 60
        }
    );
    let out = h.advert(&bthome(A, temp_hum(1, 2506)));
    let BridgeEvent::DeviceJoined(d) = &out[0] else {
        panic!("expected a join first: {out:?}");
    };
    assert_eq!(d.id.to_string(), "ble:A4:C1:38:8D:18:B2");
    assert_eq!(d.protocol.as_str(), "X_USPHUB_BLE");
    assert_eq!(d.model, "ATC_8D18B2");
    let ids: Vec<_> = d.capabilities.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(ids, ["temperature", "humidity"]);
    assert_eq!(
        values(&out),
        [
            ("temperature".into(), "25.06".into()),
            ("humidity".into(), "50.55".into())
        ]
    );
    h.now += Duration::from_secs(10);
    assert!(values(&h.advert(&bthome(A, temp_hum(2, 2506)))).is_empty());
    h.now += Duration::from_secs(10);
    assert_eq!(
        values(&h.advert(&bthome(A, temp_hum(3, 2510)))),
        [("temperature".into(), "25.1".into())]
    );
}

#[test]
fn repeated_packet_ids_are_dropped_within_the_window() {
    let mut h = Harness::new(BleConfig::default());
    h.reg.permit_join(Duration::from_secs(60), h.now);
    h.advert(&bthome(A, temp_hum(7, 2506)));
    h.now += Duration::from_secs(1);
    // Same packet id, different payload: a duplicate (or a stale repeat), ignored.
    assert!(values(&h.advert(&bthome(A, temp_hum(7, 2000)))).is_empty());
    // An older packet id is ignored too.
    assert!(values(&h.advert(&bthome(A, temp_hum(6, 2000)))).is_empty());
    assert_eq!(h.reg.stats().duplicates, 2);
    // After the window the same id is a new packet (device restarted its counter).
    h.now += Duration::from_secs(5);
    assert_eq!(values(&h.advert(&bthome(A, temp_hum(7, 2000)))).len(), 1);
}

#[test]
fn configured_encrypted_device_joins_without_permit() {
    let key = BindKey([0x11; 16]);
    let mut h = Harness::new(BleConfig {
        devices: vec![BleDeviceConfig {
            address: A,
            bind_key: Some(key.clone()),
            gatt: false,
        }],
        ..BleConfig::default()
    });
    let data = FrameBuilder::new()
        .object(0x01, &[93])
        .build_encrypted(&key, A, 1);
    let out = h.advert(&bthome(A, data));
    assert!(matches!(out[0], BridgeEvent::DeviceJoined(_)));
    assert_eq!(values(&out), [("battery".into(), "93".into())]);
    let d = &h.reg.devices()[0];
    assert_eq!(d.power, PowerSource::Battery);
    assert_eq!(d.firmware, "BTHome v2 (encrypted)");
    // The same counter again is a replay.
    h.now += Duration::from_secs(1);
    let again = FrameBuilder::new()
        .object(0x01, &[50])
        .build_encrypted(&key, A, 1);
    assert!(values(&h.advert(&bthome(A, again))).is_empty());
    // A plaintext frame from a keyed device is rejected (downgrade).
    h.advert(&bthome(A, temp_hum(1, 100)));
    assert_eq!(h.reg.stats().rejected, 1);
}

#[test]
fn silent_devices_go_offline_and_come_back() {
    let mut h = Harness::new(BleConfig {
        availability_timeout: Duration::from_secs(600),
        ..BleConfig::default()
    });
    h.reg.permit_join(Duration::from_secs(60), h.now);
    h.advert(&bthome(A, temp_hum(1, 2506)));
    let closed = h.advance(Duration::from_secs(61));
    assert_eq!(
        closed,
        [BridgeEvent::PermitJoin {
            open: false,
            remaining_s: 0
        }]
    );
    assert!(h.advance(Duration::from_secs(500)).is_empty());
    let id = DeviceId::Ble(A);
    assert_eq!(
        h.advance(Duration::from_secs(100)),
        [BridgeEvent::Online { id, online: false }]
    );
    assert_eq!(h.reg.tracked_count(), 0);
    let out = h.advert(&bthome(A, temp_hum(9, 2506)));
    assert_eq!(out[0], BridgeEvent::Online { id, online: true });
    let _ = h.t0;
}

#[test]
fn trigger_based_devices_use_the_long_timeout() {
    let mut h = Harness::new(BleConfig {
        availability_timeout: Duration::from_secs(600),
        trigger_based_timeout: Duration::from_secs(3600),
        ..BleConfig::default()
    });
    h.reg.permit_join(Duration::from_secs(60), h.now);
    let button = FrameBuilder::new()
        .trigger_based()
        .object(0x00, &[1])
        .object(0x3a, &[0x01])
        .build();
    h.advert(&bthome(A, button));
    let id = DeviceId::Ble(A);
    let after_interval: Vec<_> = h
        .advance(Duration::from_secs(700))
        .into_iter()
        .filter(|e| matches!(e, BridgeEvent::Online { .. }))
        .collect();
    assert!(after_interval.is_empty(), "a silent button is not gone");
    assert_eq!(
        h.advance(Duration::from_secs(3000)),
        [BridgeEvent::Online { id, online: false }]
    );
}

#[test]
fn removed_device_stays_out_until_joining_is_permitted() {
    let mut h = Harness::new(BleConfig {
        devices: vec![BleDeviceConfig {
            address: A,
            bind_key: None,
            gatt: false,
        }],
        ..BleConfig::default()
    });
    h.advert(&bthome(A, temp_hum(1, 2506)));
    let id = DeviceId::Ble(A);
    assert_eq!(h.reg.remove(&id), Ok(BridgeEvent::DeviceLeft(id)));
    assert_eq!(h.reg.remove(&id), Err(BridgeError::UnknownDevice(id)));
    h.now += Duration::from_secs(5);
    assert!(h.advert(&bthome(A, temp_hum(2, 2506))).is_empty());
    h.reg.permit_join(Duration::from_secs(30), h.now);
    h.now += Duration::from_secs(5);
    assert!(matches!(
        h.advert(&bthome(A, temp_hum(3, 2506)))[0],
        BridgeEvent::DeviceJoined(_)
    ));
}

#[test]
fn buttons_become_events_and_new_objects_update_the_descriptor() {
    let mut h = Harness::new(BleConfig::default());
    h.reg.permit_join(Duration::from_secs(60), h.now);
    let press = FrameBuilder::new()
        .trigger_based()
        .object(0x00, &[1])
        .object(0x3a, &[0x00])
        .object(0x3a, &[0x02])
        .build();
    let out = h.advert(&bthome(A, press));
    let d = match &out[0] {
        BridgeEvent::DeviceJoined(d) => d,
        other => panic!("{other:?}"),
    };
    assert_eq!(d.events[0].name, "ButtonPress");
    let events: Vec<_> = out
        .iter()
        .filter_map(|e| match e {
            BridgeEvent::Event { name, args, .. } => Some((name.clone(), args.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(events.len(), 1, "the idle first button sends nothing");
    assert_eq!(events[0].1["Button"], "2");
    assert_eq!(events[0].1["Event"], "double_press");
    h.now += Duration::from_secs(1);
    let with_battery = FrameBuilder::new()
        .object(0x00, &[2])
        .object(0x01, &[80])
        .build();
    let out = h.advert(&bthome(A, with_battery));
    assert!(
        matches!(&out[0], BridgeEvent::DeviceUpdated(d) if d.capabilities.len() == 1),
        "{out:?}"
    );
}

#[test]
fn repeated_objects_get_numbered_capabilities() {
    let mut h = Harness::new(BleConfig::default());
    h.reg.permit_join(Duration::from_secs(60), h.now);
    let two_probes = FrameBuilder::new()
        .object(0x02, &100i16.to_le_bytes())
        .object(0x02, &200i16.to_le_bytes())
        .build();
    let out = h.advert(&bthome(A, two_probes));
    assert_eq!(
        values(&out),
        [
            ("temperature".into(), "1".into()),
            ("temperature_2".into(), "2".into())
        ]
    );
}

#[test]
fn advertiser_flood_is_bounded() {
    let mut h = Harness::new(BleConfig {
        max_tracked: 100,
        ..BleConfig::default()
    });
    for i in 0..5000u32 {
        let addr = BleAddress([0xC0, 0, 0, 0, 0, (i % 200) as u8]);
        h.advert(&bthome(addr, temp_hum(i as u8, 2000)));
    }
    assert_eq!(h.reg.tracked_count(), 100);
    assert!(h.reg.stats().untracked > 0);
    assert!(h.reg.devices().is_empty());
}

#[test]
fn gatt_updates_join_configured_devices_and_keep_them_online() {
    use crate::ble::gatt::{self, GattUpdate};
    let mut h = Harness::new(BleConfig {
        devices: vec![BleDeviceConfig {
            address: A,
            bind_key: None,
            gatt: true,
        }],
        availability_timeout: Duration::from_secs(600),
        ..BleConfig::default()
    });
    let mut update = GattUpdate::default();
    for (uuid, data) in [
        (0x2a29u16, &b"Acme"[..]),
        (0x2a24, b"EnvSensor"),
        (0x2a6e, &[0x6c, 0x08]),
    ] {
        update.add(gatt::decode(uuid, data).unwrap());
    }
    let mut out = Vec::new();
    h.reg
        .handle_gatt(A, update, h.now, SystemTime::UNIX_EPOCH, &mut out);
    let BridgeEvent::DeviceJoined(d) = &out[0] else {
        panic!("{out:?}");
    };
    assert_eq!(
        (d.manufacturer.as_str(), d.model.as_str()),
        ("Acme", "EnvSensor")
    );
    assert_eq!(values(&out), [("temperature".into(), "21.56".into())]);

    // A live link without new values: no events, and the device does not time out.
    for _ in 0..4 {
        h.now += Duration::from_secs(300);
        let mut out = Vec::new();
        h.reg.handle_gatt(
            A,
            GattUpdate::default(),
            h.now,
            SystemTime::UNIX_EPOCH,
            &mut out,
        );
        assert!(out.is_empty(), "{out:?}");
        assert!(h.advance(Duration::ZERO).is_empty());
    }

    // New firmware announced: the descriptor is sent again.
    let mut out = Vec::new();
    let update = GattUpdate {
        firmware: Some("2.0".into()),
        ..GattUpdate::default()
    };
    h.reg
        .handle_gatt(A, update, h.now, SystemTime::UNIX_EPOCH, &mut out);
    assert!(matches!(&out[..], [BridgeEvent::DeviceUpdated(d)] if d.firmware == "2.0"));

    // Unconfigured addresses are ignored.
    let other = BleAddress([1, 2, 3, 4, 5, 6]);
    let mut out = Vec::new();
    h.reg.handle_gatt(
        other,
        GattUpdate::default(),
        h.now,
        SystemTime::UNIX_EPOCH,
        &mut out,
    );
    assert!(out.is_empty() && h.reg.device(&DeviceId::Ble(other)).is_none());
}
