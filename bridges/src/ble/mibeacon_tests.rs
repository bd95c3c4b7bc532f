//! MiBeacon frames captured from real sensors as published with the reference decoders'
//! test suites (service data after the 0xFE95 UUID), with their bind keys.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn addr(s: &str) -> BleAddress {
    s.parse().unwrap()
}

fn lvl(q: Quantity, s: &str) -> Reading {
    Reading::Level {
        quantity: q,
        value: s.parse().unwrap(),
    }
}

#[test]
fn lywsd03mmc_v3_plain_temperature_and_humidity() {
    let data = hex("50305b05034c94b438c1a40d10041001ea01");
    let f = Frame::new_checked(&data[..]).unwrap();
    assert_eq!(f.version(), 3);
    assert_eq!(f.product_id(), 0x055b);
    assert_eq!(product_name(f.product_id()), Some("LYWSD03MMC"));
    assert_eq!(f.mac(), Some(addr("A4:C1:38:B4:94:4C")));
    let r = MiBeaconRepr::parse(&f, addr("A4:C1:38:B4:94:4C"), None).unwrap();
    assert_eq!(r.frame_counter, 3);
    assert_eq!(
        r.readings,
        vec![
            lvl(Quantity::Temperature, "27.2"),
            lvl(Quantity::Humidity, "49")
        ]
    );
}

#[test]
fn hhccjcy01_v2_with_capability_byte() {
    let data = hex("7120980012f34f6b8d7cc40d041002c400");
    let f = Frame::new_checked(&data[..]).unwrap();
    let r = MiBeaconRepr::parse(&f, addr("C4:7C:8D:6B:4F:F3"), None).unwrap();
    assert_eq!((r.version, r.product_id, r.frame_counter), (2, 0x0098, 18));
    assert_eq!(r.readings, vec![lvl(Quantity::Temperature, "19.6")]);
}

#[test]
fn lywsd03mmc_v5_encrypted_humidity() {
    let data = hex("58585b0550f4830238c1a495ef58763c26000097e2abb5");
    let key: BindKey = "e9ea895fac7cca6d30532432a516f3a8".parse().unwrap();
    let f = Frame::new_checked(&data[..]).unwrap();
    assert!(f.is_encrypted());
    let r = MiBeaconRepr::parse(&f, addr("A4:C1:38:02:83:F4"), Some(&key)).unwrap();
    assert_eq!((r.version, r.frame_counter), (5, 80));
    assert_eq!(r.readings, vec![lvl(Quantity::Humidity, "46.7")]);
    assert!(r.skipped.is_empty() && !r.truncated);
}

#[test]
fn jtyjgd03mi_v5_encrypted_smoke_alarm() {
    let data = hex("5859970966bc9ce344ef5401081205000000715ebe90");
    let key: BindKey = "5b51a7c91cde6707c9ef18dfda143a58".parse().unwrap();
    let f = Frame::new_checked(&data[..]).unwrap();
    let r = MiBeaconRepr::parse(&f, addr("54:EF:44:E3:9C:BC"), Some(&key)).unwrap();
    assert_eq!(product_name(r.product_id), Some("JTYJGD03MI"));
    assert_eq!(
        r.readings,
        vec![Reading::Binary {
            kind: BinaryKind::Smoke,
            value: true
        }]
    );
}

#[test]
fn encrypted_frame_without_mac_uses_the_advertiser_address() {
    let data = hex("48590312a41b776e7c96add7000000f2bf545b");
    let key: BindKey = "b2cf9a553d53571b5657defd582d676e".parse().unwrap();
    let f = Frame::new_checked(&data[..]).unwrap();
    assert_eq!(f.mac(), None);
    let r = MiBeaconRepr::parse(&f, addr("2C:11:65:25:70:04"), Some(&key)).unwrap();
    assert_eq!(product_name(r.product_id), Some("XMWSDJ04MMC"));
    // A MIoT-spec humidity object (0x4C08, float32).
    assert_eq!(r.readings, vec![lvl(Quantity::Humidity, "45")]);
    assert!(r.skipped.is_empty());
}

#[test]
fn wrong_bind_key_is_an_authentication_error() {
    let data = hex("58598d0a170fc4e044ef547cc27a5c03a1000000790df258");
    let key: BindKey = "FFD8CE9C08AE7533A79BDAF0BB755E96".parse().unwrap();
    let f = Frame::new_checked(&data[..]).unwrap();
    assert!(matches!(
        MiBeaconRepr::parse(&f, addr("54:EF:44:E0:C4:0F"), Some(&key)),
        Err(MiBeaconError::Decrypt(_))
    ));
    assert_eq!(
        MiBeaconRepr::parse(&f, addr("54:EF:44:E0:C4:0F"), None),
        Err(MiBeaconError::NoKey)
    );
}

#[test]
fn builder_round_trips_plain_and_encrypted_frames() {
    let a = addr("A4:C1:38:00:11:22");
    let key = BindKey([0x42; 16]);
    let objs: &[(u16, &[u8])] = &[(0x100d, &[0xe3, 0x00, 0xd4, 0x01]), (0x100a, &[87])];
    for enc in [None, Some((&key, [1u8, 0, 0]))] {
        let data = build_frame(0x055b, 9, a, objs, enc);
        let f = Frame::new_checked(&data[..]).unwrap();
        let r = MiBeaconRepr::parse(&f, a, Some(&key)).unwrap();
        assert_eq!(r.encrypted, enc.is_some());
        assert_eq!(
            r.readings,
            vec![
                lvl(Quantity::Temperature, "22.7"),
                lvl(Quantity::Humidity, "46.8"),
                lvl(Quantity::Battery, "87")
            ]
        );
    }
}

#[test]
fn door_states_and_bad_lengths() {
    let a = addr("A4:C1:38:00:11:22");
    let data = build_frame(
        0x098b,
        1,
        a,
        &[
            (0x1019, &[0]),
            (0x1019, &[1]),
            (0x1019, &[3]),
            (0x1004, &[1]),
        ],
        None,
    );
    let f = Frame::new_checked(&data[..]).unwrap();
    let r = MiBeaconRepr::parse(&f, a, None).unwrap();
    let opening = |v| Reading::Binary {
        kind: BinaryKind::Opening,
        value: v,
    };
    assert_eq!(r.readings, vec![opening(true), opening(false)]);
    assert_eq!(
        r.skipped,
        vec![
            SkippedObject { id: 0x1019, len: 1 },
            SkippedObject { id: 0x1004, len: 1 }
        ]
    );
}

#[test]
fn miot_spec_objects_decode() {
    let a = addr("A4:C1:38:00:11:22");
    let t = 21.37f32.to_le_bytes();
    let nan = f32::NAN.to_le_bytes();
    let data = build_frame(
        0x2aeb,
        1,
        a,
        &[
            (0x4c01, &t),
            (0x4c02, &[55]),
            (0x4c03, &[90]),
            (0x4818, &[0x78, 0x00]),
            (0x4a12, &[2]),
            (0x4c01, &nan),
        ],
        None,
    );
    let f = Frame::new_checked(&data[..]).unwrap();
    let r = MiBeaconRepr::parse(&f, a, None).unwrap();
    assert_eq!(
        r.readings,
        vec![
            lvl(Quantity::Temperature, "21.37"),
            lvl(Quantity::Humidity, "55"),
            lvl(Quantity::Battery, "90"),
            Reading::Binary {
                kind: BinaryKind::Motion,
                value: false
            },
            Reading::Binary {
                kind: BinaryKind::Opening,
                value: false
            },
        ]
    );
    assert_eq!(r.skipped, vec![SkippedObject { id: 0x4c01, len: 4 }]);
}

#[test]
fn malformed_frames_are_rejected_or_flagged() {
    assert_eq!(
        Frame::new_checked(&[0x50u8, 0x30, 0x5b][..]).unwrap_err(),
        MiBeaconError::Truncated
    );
    // MAC flag without the MAC bytes.
    assert_eq!(
        Frame::new_checked(&hex("50305b0503a4")[..]).unwrap_err(),
        MiBeaconError::Truncated
    );
    // Mesh frames and legacy encryption are refused.
    assert!(matches!(
        Frame::new_checked(&hex("d0305b050300")[..]),
        Err(MiBeaconError::Unsupported { .. })
    ));
    assert!(matches!(
        Frame::new_checked(&hex("58305b0503aabbccddeeff01020304050607")[..]),
        Err(MiBeaconError::Unsupported { version: 3, .. })
    ));
    // An object longer than the frame sets `truncated`.
    let data = hex("40305b0503041002c4");
    let f = Frame::new_checked(&data[..]).unwrap();
    let r = MiBeaconRepr::parse(&f, addr("A4:C1:38:00:11:22"), None).unwrap();
    assert!(r.truncated && r.readings.is_empty());
}

#[test]
fn arbitrary_bytes_never_panic() {
    let key = BindKey([9; 16]);
    let a = addr("A4:C1:38:00:11:22");
    let mut seed = 0x9e37_79b9u32;
    for len in 0..40usize {
        for _ in 0..200 {
            let mut v = vec![0x58, 0x58];
            for _ in 0..len {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                v.push((seed >> 24) as u8);
            }
            if let Ok(f) = Frame::new_checked(&v[..]) {
                let _ = MiBeaconRepr::parse(&f, a, Some(&key));
                let _ = MiBeaconRepr::parse(&f, a, None);
            }
        }
    }
}
