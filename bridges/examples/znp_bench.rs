//! Zigbee (ZNP) figures for docs/PERFORMANCE.md (issue 5): MT codec decode rate, host
//! latency from an attribute report arriving on the port to the bridge's `BridgeEvent`, and
//! memory per paired device with 200 simulated devices.
//!
//! Everything runs in this process: the ZNP simulator on a loopback TCP port, the ZNP
//! backend and the Zigbee bridge actor. Nothing here asserts timings.
//!
//! Run: `cargo run --release -p usphub-bridges --example znp_bench`

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio::sync::broadcast;
use tokio_util::codec::Decoder;
use usphub_bridges::api::{BridgeEvent, DeviceId, Eui64};
use usphub_bridges::zigbee::bridge::{ZigbeeBridgeConfig, start};
use usphub_bridges::zigbee::zcl::ZclValue;
use usphub_bridges::zigbee::znp::backend::{ZnpBackend, ZnpBackendConfig};
use usphub_bridges::zigbee::znp::commands::{MtMessage, ShortBytes, af};
use usphub_bridges::zigbee::znp::frame::MtCodec;
use usphub_bridges::zigbee::znp::link::port_connector;
use usphub_bridges::zigbee::znp::sim::{ZnpSim, ZnpSimConfig};

#[path = "common/alloc.rs"]
mod alloc;

#[path = "common/zigbee.rs"]
mod zigbee;

const DEVICES: usize = 200;
const REPORTS: usize = 5000;

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// An AF_INCOMING_MSG carrying a ZCL Report Attributes of MeasuredValue (0x0402/0x0000).
fn report_frame(value: i16) -> Vec<u8> {
    let v = value.to_le_bytes();
    af::IncomingMsg {
        cluster_id: 0x0402,
        src_addr: 0x1001,
        src_endpoint: 1,
        dst_endpoint: 1,
        lqi: 180,
        data: ShortBytes(vec![0x18, 0x01, 0x0A, 0x00, 0x00, 0x29, v[0], v[1]]),
        mac_src_addr: 0x1001,
        ..Default::default()
    }
    .to_frame()
    .to_bytes()
    .unwrap_or_default()
}

/// MT frames decoded per second: 1000 frames per batch through the codec, each then
/// decoded into the typed AF_INCOMING_MSG.
fn codec_rate(n: usize) -> (f64, f64) {
    let frame = report_frame(2150);
    let mut batch = Vec::with_capacity(frame.len() * 1000);
    for _ in 0..1000 {
        batch.extend_from_slice(&frame);
    }
    let mut codec = MtCodec::new();
    let mut buf = BytesMut::with_capacity(batch.len());
    let (mut framed, mut typed) = (0usize, 0usize);
    let t = Instant::now();
    for _ in 0..n / 1000 {
        buf.extend_from_slice(&batch);
        while let Ok(Some(f)) = codec.decode(&mut buf) {
            framed += 1;
            typed += usize::from(black_box(af::IncomingMsg::from_frame(&f)).is_ok());
        }
    }
    let el = t.elapsed().as_secs_f64();
    // Framing alone, for comparison.
    let t = Instant::now();
    for _ in 0..n / 1000 {
        buf.extend_from_slice(&batch);
        while let Ok(Some(f)) = codec.decode(&mut buf) {
            black_box(f);
        }
    }
    let raw = t.elapsed().as_secs_f64();
    assert_eq!(framed, typed);
    (framed as f64 / el, (n / 1000 * 1000) as f64 / raw)
}

/// Report -> BridgeEvent latencies: the simulated sensor reports a new temperature (the
/// simulator writes the AF_INCOMING_MSG to the TCP port), timed until the bridge emits the
/// `Value` event for it.
async fn latencies(
    sim: &ZnpSim,
    events: &mut broadcast::Receiver<BridgeEvent>,
    ieee: u64,
) -> Vec<Duration> {
    let id = DeviceId::Zigbee(Eui64(ieee));
    let mut out = Vec::with_capacity(REPORTS);
    for i in 0..REPORTS {
        let value = 2000 + (i % 500) as i64;
        let t0 = Instant::now();
        if !sim.report(ieee, 1, 0x0402, 0x0000, ZclValue::Signed(value)) {
            break;
        }
        loop {
            match events.recv().await {
                Ok(BridgeEvent::Value { id: got, .. }) if got == id => break,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return out,
            }
        }
        out.push(t0.elapsed());
    }
    out
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let (typed, raw) = codec_rate(2_000_000);
    println!(
        "MT codec, AF_INCOMING_MSG with a ZCL report ({} bytes):",
        report_frame(0).len()
    );
    println!("  framing + FCS check             {raw:>12.0} frames/s");
    println!("  framing + typed AF decode       {typed:>12.0} frames/s");

    let scenario = zigbee::scenario("00124b00", DEVICES);
    let first = scenario.devices.first().map(|d| d.device.ieee).unwrap_or(0);
    let config = ZnpSimConfig {
        ieee: 0x0012_4B00_00C0_FFEE,
        scenario,
        require_bootloader_skip: false,
    };
    let Ok(sim) = ZnpSim::start_tcp(config, 0).await else {
        println!("simulator failed to start");
        return;
    };
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let backend = ZnpBackend::new(port_connector(sim.port_spec()), ZnpBackendConfig::default());
    let Ok((handle, _task)) = start(backend, ZigbeeBridgeConfig::new(dir.path())).await else {
        println!("bridge failed to start");
        return;
    };
    let mut events = handle.subscribe();
    // Settle, then measure around pairing only (simulator devices already exist).
    tokio::task::yield_now().await;
    let (heap0, rss0) = (alloc::live_bytes(), rss_bytes().unwrap_or(0));
    let took = zigbee::pair_all(&handle, &mut events, DEVICES).await;
    let (heap1, rss1) = (alloc::live_bytes(), rss_bytes().unwrap_or(0));
    let paired = handle.devices().await.map(|d| d.len()).unwrap_or(0);
    // The simulator lets one device join every 30 ms, which bounds the pairing time.
    println!("pairing + interview of {DEVICES} simulated devices: {took:.2?} ({paired} known)");
    println!(
        "  (heap: bridge, backend, registry and simulator growth plus the bridge's last 1024 events; RSS: whole process)"
    );
    println!(
        "  live heap growth  {:>8} KiB total, {:>6} bytes per device",
        heap1.saturating_sub(heap0) / 1024,
        heap1.saturating_sub(heap0) / DEVICES
    );
    println!(
        "  RSS growth        {:>8} KiB total, {:>6} bytes per device",
        rss1.saturating_sub(rss0) / 1024,
        rss1.saturating_sub(rss0) / DEVICES as u64
    );

    let mut lat = latencies(&sim, &mut events, first).await;
    // The bridge's event channel keeps its last 1024 events; after pairing those are device
    // descriptors, after the reports small Value events, so this reading is closer to the
    // per-device state alone.
    let heap2 = alloc::live_bytes();
    println!(
        "  live heap growth after {REPORTS} reports have cycled the event buffer: {:>6} bytes per device",
        heap2.saturating_sub(heap0) / DEVICES
    );
    lat.sort();
    if !lat.is_empty() {
        let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
        println!(
            "report on the port -> BridgeEvent::Value, loopback TCP (n={}): p50 {:?}, p99 {:?}, max {:?}",
            lat.len(),
            p(0.50),
            p(0.99),
            lat[lat.len() - 1]
        );
    }
}
