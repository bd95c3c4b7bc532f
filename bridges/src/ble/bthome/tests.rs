//! Byte vectors from the BTHome v2 documentation (bthome.io "Format" and "Encryption"
//! examples) and from frames the reference receivers decode.

use super::*;
use crate::ble::reading::{BinaryKind, Quantity};

const ADDR: BleAddress = BleAddress([0xA4, 0xC1, 0x38, 0x8D, 0x18, 0xB2]);

fn parse(bytes: &[u8]) -> BthomeRepr {
    let f = Frame::new_checked(bytes).unwrap();
    BthomeRepr::parse(&f, ADDR, None).unwrap()
}

fn level(q: Quantity, s: &str) -> Reading {
    Reading::Level {
        quantity: q,
        value: s.parse().unwrap(),
    }
}

#[test]
fn temperature_and_humidity_example_decodes() {
    let r = parse(&[0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13]);
    assert_eq!(
        r.readings,
        vec![
            level(Quantity::Temperature, "25.06"),
            level(Quantity::Humidity, "50.55")
        ]
    );
    assert!(!r.encrypted && !r.trigger_based && r.stopped.is_none());
}

#[test]
fn battery_temperature_humidity_example_decodes() {
    let r = parse(&[0x40, 0x01, 0x5d, 0x02, 0x5d, 0x09, 0x03, 0xb7, 0x18]);
    assert_eq!(
        r.readings,
        vec![
            level(Quantity::Battery, "93"),
            level(Quantity::Temperature, "23.97"),
            level(Quantity::Humidity, "63.27")
        ]
    );
}

#[test]
fn multi_byte_sensor_examples_decode_with_their_factors() {
    let cases: &[(&[u8], Quantity, &str)] = &[
        (&[0x04, 0x13, 0x8a, 0x01], Quantity::Pressure, "1008.83"),
        (&[0x05, 0x13, 0x8a, 0x14], Quantity::Illuminance, "13460.67"),
        (&[0x06, 0x5e, 0x1f], Quantity::MassKg, "80.3"),
        (&[0x07, 0x3e, 0x1d], Quantity::MassLb, "74.86"),
        (&[0x08, 0xca, 0x06], Quantity::DewPoint, "17.38"),
        (&[0x09, 0x60], Quantity::Count, "96"),
        (&[0x0a, 0x13, 0x8a, 0x14], Quantity::Energy, "1346.067"),
        (&[0x0b, 0x02, 0x1b, 0x00], Quantity::Power, "69.14"),
        (&[0x0c, 0x02, 0x0c], Quantity::Voltage, "3.074"),
        (&[0x0d, 0x12, 0x0c], Quantity::Pm25, "3090"),
        (&[0x0e, 0x02, 0x1c], Quantity::Pm10, "7170"),
        (&[0x12, 0xe2, 0x04], Quantity::Co2, "1250"),
        (&[0x13, 0x33, 0x01], Quantity::Tvoc, "307"),
        (&[0x14, 0x02, 0x0c], Quantity::Moisture, "30.74"),
        (&[0x45, 0x11, 0x01], Quantity::Temperature, "27.3"),
        (&[0x58, 0x10], Quantity::Temperature, "5.6"),
        (&[0x02, 0xf6, 0xff], Quantity::Temperature, "-0.1"),
        (&[0x5c, 0xff, 0xff, 0xff, 0xff], Quantity::Power, "-0.01"),
    ];
    for (objects, q, v) in cases {
        let mut bytes = vec![0x40];
        bytes.extend_from_slice(objects);
        assert_eq!(parse(&bytes).readings, vec![level(*q, v)], "{objects:02x?}");
    }
}

#[test]
fn binary_and_event_objects_decode() {
    let r = parse(&[
        0x40, 0x00, 0x09, 0x21, 0x01, 0x2d, 0x00, 0x3a, 0x01, 0x3a, 0x04, 0x3c, 0x01, 0x03,
    ]);
    assert_eq!(r.packet_id(), Some(9));
    assert_eq!(
        r.readings[1..],
        [
            Reading::Binary {
                kind: BinaryKind::Motion,
                value: true
            },
            Reading::Binary {
                kind: BinaryKind::Window,
                value: false
            },
            Reading::Button(ButtonEvent::Press),
            Reading::Button(ButtonEvent::LongPress),
            Reading::Dimmer {
                event: DimmerEvent::RotateLeft,
                steps: 3
            },
        ]
    );
}

#[test]
fn text_raw_and_device_information_decode() {
    let r = parse(&[
        0x40, 0x53, 0x03, b'a', b'b', b'c', 0x54, 0x02, 0xde, 0xad, 0xf0, 0x01, 0x00, 0xf1, 0x00,
        0x01, 0x02, 0x04,
    ]);
    assert_eq!(
        r.readings,
        vec![
            Reading::Text("abc".into()),
            Reading::Raw(vec![0xde, 0xad]),
            Reading::DeviceTypeId(1),
            Reading::Firmware("4.2.1.0".into()),
        ]
    );
}

#[test]
fn unknown_object_id_ends_the_walk_and_keeps_earlier_readings() {
    let r = parse(&[0x40, 0x02, 0xca, 0x09, 0x30, 0x01, 0x03, 0xbf, 0x13]);
    assert_eq!(r.readings, vec![level(Quantity::Temperature, "25.06")]);
    assert_eq!(
        r.stopped,
        Some(ObjectError::UnknownId {
            id: 0x30,
            offset: 3
        })
    );
}

#[test]
fn truncated_objects_are_reported_not_read_past() {
    let r = parse(&[0x40, 0x01, 0x64, 0x02, 0xca]);
    assert_eq!(r.readings, vec![level(Quantity::Battery, "100")]);
    assert_eq!(
        r.stopped,
        Some(ObjectError::Truncated {
            id: 0x02,
            offset: 2
        })
    );
    let r = parse(&[0x40, 0x53, 0x09, b'a']);
    assert!(matches!(r.stopped, Some(ObjectError::Truncated { .. })));
    let r = parse(&[0x40, 0x53]);
    assert!(matches!(r.stopped, Some(ObjectError::Truncated { .. })));
    let r = parse(&[0x40, 0x53, 0x01, 0xff]);
    assert_eq!(r.stopped, Some(ObjectError::InvalidText { id: 0x53 }));
}

const KEY_HEX: &str = "231d39c1d7cc1ab1aee224cd096db932";
const ENC_ADDR: BleAddress = BleAddress([0x54, 0x48, 0xE6, 0x8F, 0x80, 0xA5]);
// bthome.io encryption example: objects 02CA09 03BF13, counter bytes 00112233, MAC
// 54:48:E6:8F:80:A5 (OpenSSL's AES-CCM gives the same ciphertext and MIC).
const ENCRYPTED: [u8; 15] = [
    0x41, 0xa4, 0x72, 0x66, 0xc9, 0x5f, 0x73, 0x00, 0x11, 0x22, 0x33, 0x78, 0x23, 0x72, 0x14,
];

#[test]
fn encrypted_example_decrypts_with_the_bind_key() {
    let key: BindKey = KEY_HEX.parse().unwrap();
    let f = Frame::new_checked(&ENCRYPTED[..]).unwrap();
    let r = BthomeRepr::parse(&f, ENC_ADDR, Some(&key)).unwrap();
    assert!(r.encrypted);
    assert_eq!(r.counter, Some(0x3322_1100));
    assert_eq!(
        r.readings,
        vec![
            level(Quantity::Temperature, "25.06"),
            level(Quantity::Humidity, "50.55")
        ]
    );
}

#[test]
fn builder_reproduces_the_encrypted_example_byte_for_byte() {
    let key: BindKey = KEY_HEX.parse().unwrap();
    let b = FrameBuilder::new()
        .object(0x02, &[0xca, 0x09])
        .object(0x03, &[0xbf, 0x13]);
    assert_eq!(b.build_encrypted(&key, ENC_ADDR, 0x3322_1100), ENCRYPTED);
    assert_eq!(b.build(), [0x40, 0x02, 0xca, 0x09, 0x03, 0xbf, 0x13]);
}

#[test]
fn encryption_errors_are_distinguished() {
    let key: BindKey = KEY_HEX.parse().unwrap();
    let f = Frame::new_checked(&ENCRYPTED[..]).unwrap();
    assert_eq!(
        BthomeRepr::parse(&f, ENC_ADDR, None),
        Err(BthomeError::NoKey)
    );
    let wrong = BindKey([0; 16]);
    assert!(matches!(
        BthomeRepr::parse(&f, ENC_ADDR, Some(&wrong)),
        Err(BthomeError::Decrypt(_))
    ));
    // The address is part of the nonce: another device's frame does not authenticate.
    assert!(matches!(
        BthomeRepr::parse(&f, ADDR, Some(&key)),
        Err(BthomeError::Decrypt(_))
    ));
    let plain = Frame::new_checked(&[0x40u8, 0x01, 0x64][..]).unwrap();
    assert_eq!(
        BthomeRepr::parse(&plain, ENC_ADDR, Some(&key)),
        Err(BthomeError::Downgrade)
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    // A cheap deterministic fuzz: every short byte string with a v2 header.
    let key = BindKey([7; 16]);
    let mut seed = 0x1234_5678u32;
    for len in 0..40usize {
        for _ in 0..200 {
            let mut v = Vec::with_capacity(len + 1);
            v.push(if len % 2 == 0 { 0x40 } else { 0x43 });
            for _ in 0..len {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                v.push((seed >> 16) as u8);
            }
            if let Ok(f) = Frame::new_checked(&v[..]) {
                let _ = BthomeRepr::parse(&f, ADDR, None);
                let _ = BthomeRepr::parse(&f, ADDR, Some(&key));
            }
        }
    }
}
