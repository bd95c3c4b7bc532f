//! Z-Wave figures for docs/PERFORMANCE.md (issue 7): Serial API codec rate, host latency from
//! a report frame arriving on the port to the bridge's `BridgeEvent`, and the bridge's own
//! memory per node with a full network of 231 simulated nodes.
//!
//! The simulator runs in this process on a loopback TCP port; a relay thread sits between
//! it and the bridge and notes the instant it writes each chunk into the bridge's socket,
//! so the latency starts when the bytes are on the bridge's port (the simulator's own
//! scheduling is not counted). Heap is counted by a wrapping global allocator: the
//! simulator's nodes are allocated before the bridge starts, so the growth after that is
//! the bridge's (plus the simulator's per-connection buffers). Nothing here asserts timings.
//!
//! Run: `cargo run --release -p usphub-bridges --example zwave_bench`

use std::sync::Mutex;
use std::time::{Duration, Instant};

use usphub_bridges::api::{BridgeEvent, BridgeHandle, InterviewState, Value};
use usphub_bridges::zwave::bench::{codec_frames_per_sec, full_network};
use usphub_bridges::zwave::bridge::{ZWaveConfig, spawn};
use usphub_bridges::zwave::cc::binary_switch;
use usphub_bridges::zwave::sim::{SimHandle, spawn_tcp};

#[path = "common/alloc.rs"]
mod alloc;

#[path = "common/relay.rs"]
mod relay;
use relay::relay;

const NODES: usize = 231;
const REPORTS: usize = 3000;

async fn all_complete(h: &BridgeHandle, count: usize) {
    loop {
        let list = h.devices().await.unwrap_or_default();
        if list.len() >= count && list.iter().all(|d| d.interview == InterviewState::Complete) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Host latencies of `n` switch reports: from the report's bytes entering the bridge's
/// socket to the `Value` event.
async fn latencies(
    sim: &SimHandle,
    h: &BridgeHandle,
    last: &Mutex<Instant>,
    n: usize,
) -> Vec<Duration> {
    let mut ev = h.subscribe();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let on = i % 2 == 0;
        sim.report(2, 0, binary_switch::report(on)).await;
        loop {
            match ev.recv().await {
                Ok(BridgeEvent::Value {
                    value: Value::Bool(v),
                    ..
                }) if v == on => break,
                Ok(_) => continue,
                Err(_) => return out,
            }
        }
        let seen = Instant::now();
        if let Ok(t) = last.lock() {
            out.push(seen.saturating_duration_since(*t));
        }
        // Pace the reports like a busy network, not a flood: the figure is latency.
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
    println!(
        "Serial API codec: {:.2} M frames/s",
        codec_frames_per_sec(2_000_000) / 1e6
    );

    let heap_start = alloc::live_bytes();
    let sim = match spawn_tcp(&full_network(), "127.0.0.1:0").await {
        Ok(s) => s,
        Err(e) => return eprintln!("simulator: {e}"),
    };
    // The simulator builds its nodes when it starts; let it settle before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let heap_sim = alloc::live_bytes();
    let (port, last) = match relay(sim.addr()) {
        Ok(r) => r,
        Err(e) => return eprintln!("relay: {e}"),
    };
    let t0 = Instant::now();
    let spec = match format!("tcp://127.0.0.1:{port}").parse() {
        Ok(s) => s,
        Err(e) => return eprintln!("port: {e}"),
    };
    let h = match spawn(ZWaveConfig::new(spec)) {
        Ok(h) => h,
        Err(e) => return eprintln!("bridge: {e}"),
    };
    all_complete(&h, NODES).await;
    let startup = t0.elapsed();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let heap_bridge = alloc::live_bytes();
    println!("start-up and interview of {NODES} nodes: {startup:.0?}");
    println!(
        "heap: simulator {} KiB ({} B/node); bridge {} KiB ({} B/node)",
        heap_sim.saturating_sub(heap_start) / 1024,
        heap_sim.saturating_sub(heap_start) / NODES,
        heap_bridge.saturating_sub(heap_sim) / 1024,
        heap_bridge.saturating_sub(heap_sim) / NODES,
    );

    let mut lat = latencies(&sim, &h, &last, REPORTS).await;
    if lat.is_empty() {
        return eprintln!("no reports measured");
    }
    lat.sort();
    println!(
        "report frame on the port -> BridgeEvent (n={}): p50 {:?}, p99 {:?}, max {:?}",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.99),
        lat[lat.len() - 1]
    );
}
