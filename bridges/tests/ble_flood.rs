//! An advertiser flood through btleplug and the BlueZ stand-in: 500 adverts/s from 200
//! unknown addresses for 10 s. The bridge stays responsive, mounts none of them, its memory
//! stays bounded, and a sensor permitted afterwards still joins. Prints the host CPU time
//! per advert (this process: btleplug's D-Bus work + decode + registry) for
//! docs/PERFORMANCE.md.

mod ble_common;

use std::time::Duration;

use ble_common::{BTHOME, Bus, StandIn, next};
use usphub_bridges::api::BridgeEvent;
use usphub_bridges::ble::{self, BleSettings};

/// (user + system CPU seconds, RSS KiB) of this process, from /proc.
fn cpu_and_rss() -> (f64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let cpu = (ticks(11) + ticks(12)) / 100.0;
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (cpu, rss)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn advertiser_flood_is_absorbed_with_bounded_memory() {
    let bus = Bus::start().await;
    let mut standin = StandIn::start(bus).await;
    let settings = BleSettings {
        max_tracked: Some(100),
        ..BleSettings::default()
    };
    let (handle, task) = ble::start(&settings);
    let mut events = handle.subscribe();
    // Scanning has started once the stand-in saw StartDiscovery (the scanner subscribes to
    // events before it starts discovery).
    standin.expect_line("DISCOVERING").await;

    let (cpu0, rss0) = cpu_and_rss();
    standin
        .send(r#"{"advert":"C0:FF:EE:00:00:01","rssi":-50,"service_data":{}}"#.to_owned())
        .await;
    standin
        .send(r#"{"flood":{"addresses":200,"rate":500,"seconds":10}}"#.to_owned())
        .await;
    // While flooding, requests are still served.
    for _ in 0..5 {
        let devices = tokio::time::timeout(Duration::from_secs(5), handle.devices())
            .await
            .expect("bridge unresponsive during the flood")
            .unwrap();
        assert!(
            devices.is_empty(),
            "unknown advertisers must not be mounted"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    standin.expect_line("FLOODED").await;
    let (cpu1, rss1) = cpu_and_rss();
    println!(
        "flood: 5000 adverts, host CPU {:.0} µs/advert (btleplug + bridge), RSS {} KiB -> {} KiB",
        (cpu1 - cpu0) * 1e6 / 5000.0,
        rss0,
        rss1
    );
    // Bounded: 200 advertisers tracked at most 100; the process must not grow by megabytes.
    assert!(
        rss1 < rss0 + 16 * 1024,
        "RSS grew from {rss0} to {rss1} KiB"
    );

    // Afterwards a permitted sensor still joins.
    handle.permit_join(Duration::from_secs(30)).await.unwrap();
    standin
        .advert("A4:C1:38:8D:18:B2", "ATC_8D18B2", BTHOME, "4002ca0903bf13")
        .await;
    standin
        .advert("A4:C1:38:8D:18:B2", "ATC_8D18B2", BTHOME, "4002cb0903bf13")
        .await;
    next(&mut events, "join after flood", |e| {
        matches!(e, BridgeEvent::DeviceJoined(_))
    })
    .await;
    drop(handle);
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .unwrap()
        .unwrap();
}
