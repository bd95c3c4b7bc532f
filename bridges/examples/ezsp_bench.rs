//! Zigbee EZSP figures for docs/PERFORMANCE.md (issue 6): host latency from an
//! incoming-message frame arriving on the port to the bridge's `BridgeEvent`, and the
//! pairing timings of the ZNP bench for this backend (the ASH codec rate is `ash_bench`).
//!
//! The EZSP simulator runs in this process on a loopback TCP port; a relay thread between it
//! and the bridge notes the instant it writes each chunk into the bridge's socket, so the
//! latency starts when the ASH DATA frame is on the bridge's port. Nothing here asserts
//! timings.
//!
//! Run: `cargo run --release -p usphub-bridges --example ezsp_bench`

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use usphub_bridges::api::{BridgeEvent, DeviceId, Eui64};
use usphub_bridges::zigbee::bridge::{ZigbeeBridgeConfig, start};
use usphub_bridges::zigbee::ezsp::backend::{EzspBackend, EzspBackendConfig};
use usphub_bridges::zigbee::ezsp::sim::{EzspSim, EzspSimConfig};
use usphub_bridges::zigbee::zcl::ZclValue;
use usphub_bridges::zigbee::znp::link::port_connector;

#[path = "common/relay.rs"]
mod relay;

#[path = "common/zigbee.rs"]
mod zigbee;

const DEVICES: usize = 50;
const REPORTS: usize = 3000;

/// Host latencies: from the report's ASH DATA frame entering the bridge's socket to the
/// `Value` event for it.
async fn latencies(
    sim: &EzspSim,
    events: &mut broadcast::Receiver<BridgeEvent>,
    last: &Mutex<Instant>,
    ieee: u64,
) -> Vec<Duration> {
    let id = DeviceId::Zigbee(Eui64(ieee));
    let mut out = Vec::with_capacity(REPORTS);
    for i in 0..REPORTS {
        let value = 2000 + (i % 500) as i64;
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
        let seen = Instant::now();
        if let Ok(t) = last.lock() {
            out.push(seen.saturating_duration_since(*t));
        }
        // Paced like a busy network rather than a flood: the figure is latency.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    out
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    sorted[((sorted.len() as f64 * q) as usize).min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("machine: {cores} cores");
    let scenario = zigbee::scenario("000d6f00", DEVICES);
    let first = scenario.devices.first().map(|d| d.device.ieee).unwrap_or(0);
    let config = EzspSimConfig {
        scenario,
        ..EzspSimConfig::default()
    };
    let sim = match EzspSim::start_tcp(config, 0).await {
        Ok(s) => s,
        Err(e) => return eprintln!("simulator: {e}"),
    };
    let sim_addr = match sim.url().trim_start_matches("tcp://").parse() {
        Ok(a) => a,
        Err(e) => return eprintln!("simulator address: {e}"),
    };
    let (port, last) = match relay::relay(sim_addr) {
        Ok(r) => r,
        Err(e) => return eprintln!("relay: {e}"),
    };
    let Ok(dir) = tempfile::tempdir() else {
        return eprintln!("no temp dir");
    };
    let spec = match format!("tcp://127.0.0.1:{port}").parse() {
        Ok(s) => s,
        Err(e) => return eprintln!("port: {e}"),
    };
    let t0 = Instant::now();
    let backend = EzspBackend::new(port_connector(spec), EzspBackendConfig::default());
    let (handle, _task) = match start(backend, ZigbeeBridgeConfig::new(dir.path())).await {
        Ok(h) => h,
        Err(e) => return eprintln!("bridge: {e}"),
    };
    println!(
        "start-up (ASH reset, version, configuration, network formed): {:.1?}",
        t0.elapsed()
    );
    let mut events = handle.subscribe();
    let took = zigbee::pair_all(&handle, &mut events, DEVICES).await;
    println!("pairing + interview of {DEVICES} simulated devices: {took:.2?}");

    let mut lat = latencies(&sim, &mut events, &last, first).await;
    if lat.is_empty() {
        return eprintln!("no reports measured");
    }
    lat.sort();
    println!(
        "incoming-message frame on the port -> BridgeEvent (n={}): p50 {:?}, p99 {:?}, max {:?}",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat[lat.len() - 1]
    );
}
