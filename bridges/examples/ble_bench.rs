//! BLE bridge figures for docs/PERFORMANCE.md: decode rate of the BTHome and MiBeacon
//! decoders, host CPU time per advertisement through the registry (decode, de-duplicate,
//! map, compare, emit), and memory with 200 tracked sensors.
//!
//! Run: `cargo run --release -p usphub-bridges --example ble_bench`

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use usphub_bridges::api::BleAddress;
use usphub_bridges::ble::bthome::frame::{BTHOME_UUID16, Frame};
use usphub_bridges::ble::bthome::{BthomeRepr, FrameBuilder};
use usphub_bridges::ble::crypto::BindKey;
use usphub_bridges::ble::decode::Advert;
use usphub_bridges::ble::mibeacon::{self, MiBeaconRepr};
use usphub_bridges::ble::registry::{BleConfig, BleRegistry};

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn rate(name: &str, n: u64, f: impl Fn(u64)) {
    let t = Instant::now();
    for i in 0..n {
        f(i);
    }
    let el = t.elapsed();
    println!(
        "{name:<44} {:>10.0} /s   {:>7.0} ns each",
        n as f64 / el.as_secs_f64(),
        el.as_nanos() as f64 / n as f64
    );
}

fn main() {
    let addr = BleAddress([0xA4, 0xC1, 0x38, 0x8D, 0x18, 0xB2]);
    let plain = FrameBuilder::new()
        .object(0x00, &[7])
        .object(0x01, &[93])
        .object(0x02, &[0xca, 0x09])
        .object(0x03, &[0xbf, 0x13])
        .build();
    let key = BindKey([0x23; 16]);
    let enc = FrameBuilder::new()
        .object(0x02, &[0xca, 0x09])
        .object(0x03, &[0xbf, 0x13])
        .build_encrypted(&key, addr, 1);
    let mi = mibeacon::build_frame(
        0x055b,
        1,
        addr,
        &[(0x100d, &[0xe3, 0x00, 0xd4, 0x01])],
        Some((&key, [1, 0, 0])),
    );

    const N: u64 = 1_000_000;
    rate("BTHome plain, 4 objects: view + repr", N, |_| {
        let f = Frame::new_checked(black_box(&plain[..])).unwrap();
        black_box(BthomeRepr::parse(&f, addr, None).unwrap());
    });
    rate("BTHome encrypted, 2 objects (AES-CCM)", N, |_| {
        let f = Frame::new_checked(black_box(&enc[..])).unwrap();
        black_box(BthomeRepr::parse(&f, addr, Some(&key)).unwrap());
    });
    rate("MiBeacon v5 encrypted, temp+humidity", N, |_| {
        let f = mibeacon::Frame::new_checked(black_box(&mi[..])).unwrap();
        black_box(MiBeaconRepr::parse(&f, addr, Some(&key)).unwrap());
    });

    // Registry: 200 paired sensors, adverts round-robin; every 4th advert changes a value.
    let before = rss_kib();
    let mut reg = BleRegistry::new(BleConfig::default());
    let t0 = Instant::now();
    reg.permit_join(Duration::from_secs(3600), t0);
    let adverts: Vec<Advert> = (0..200u32)
        .map(|i| Advert {
            address: BleAddress([0xC0, 0, 0, 0, (i >> 8) as u8, i as u8]),
            rssi: Some(-60),
            local_name: Some(format!("sensor-{i}")),
            service_data: vec![(BTHOME_UUID16, plain.clone())],
        })
        .collect();
    let mut out = Vec::new();
    for a in &adverts {
        reg.handle_advert(a, t0, SystemTime::now(), &mut out);
    }
    out.clear();
    let after = rss_kib();
    println!(
        "registry with 200 paired sensors: {} devices, RSS {} KiB -> {} KiB",
        reg.devices().len(),
        before.unwrap_or(0),
        after.unwrap_or(0)
    );

    let n = 2_000_000u64;
    let mut varied: Vec<Advert> = adverts.clone();
    let t = Instant::now();
    for i in 0..n {
        let idx = (i % 200) as usize;
        let a = &mut varied[idx];
        // New packet id each round; a new temperature every 4th round.
        let round = (i / 200) as u8;
        let temp = 2500i16 + ((i / 800) % 50) as i16;
        a.service_data[0].1 = FrameBuilder::new()
            .object(0x00, &[round])
            .object(0x02, &temp.to_le_bytes())
            .build();
        let now = t0 + Duration::from_millis(i / 100);
        reg.handle_advert(a, now, SystemTime::UNIX_EPOCH, &mut out);
        out.clear();
    }
    let el = t.elapsed();
    println!(
        "registry: advert -> events (incl. building the frame) {:>7.0} ns each, {:.0} /s",
        el.as_nanos() as f64 / n as f64,
        n as f64 / el.as_secs_f64()
    );
    let s = reg.stats();
    println!(
        "  adverts {} duplicates {} rejected {} untracked {}",
        s.adverts, s.duplicates, s.rejected, s.untracked
    );
}
