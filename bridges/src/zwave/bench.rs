//! Figures for docs/PERFORMANCE.md (issue 7): Serial API codec throughput, latency from a
//! node report on the port to the `BridgeEvent`, and memory per node with a full network.
//! Run with `cargo test --release -p usphub-bridges --lib zwave::bench -- --ignored
//! --nocapture`; nothing here asserts timings.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio_util::codec::Decoder;

use crate::api::{BridgeEvent, BridgeHandle, InterviewState, Value};
use crate::zwave::bridge::{ZWaveConfig, spawn};
use crate::zwave::cc::binary_switch;
use crate::zwave::serial::codec::{SerialCodec, Unit};
use crate::zwave::serial::frame::request;
use crate::zwave::serial::functions::{ApplicationCommand, FunctionId};
use crate::zwave::sim::scenario::Scenario;
use crate::zwave::sim::{SimHandle, spawn_tcp};

/// Encodes and decodes `n` ApplicationCommandHandler frames; returns frames per second.
pub fn codec_frames_per_sec(n: usize) -> f64 {
    let payload = ApplicationCommand::encode(5, &[0x31, 0x05, 0x01, 0x22, 0x00, 0xD7]);
    let start = Instant::now();
    let mut buf = BytesMut::with_capacity(64 * 1024);
    let mut codec = SerialCodec::new();
    let mut decoded = 0usize;
    for _ in 0..n / 1000 {
        for _ in 0..1000 {
            if let Ok(f) = request(FunctionId::ApplicationCommandHandler, &payload) {
                buf.extend_from_slice(f.as_bytes());
            }
        }
        while let Ok(Some(Unit::Frame(f))) = codec.decode(&mut buf) {
            decoded += usize::from(f.payload().len() > 3);
        }
    }
    decoded as f64 / start.elapsed().as_secs_f64()
}

/// Resident set size of this process in bytes (Linux `/proc/self/statm`).
pub fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

async fn all_complete(h: &BridgeHandle, count: usize) {
    loop {
        let list = h.devices().await.unwrap_or_default();
        if list.len() >= count && list.iter().all(|d| d.interview == InterviewState::Complete) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Latencies of `n` switch reports from the simulator to the bridge's `Value` event.
pub async fn report_latencies(sim: &SimHandle, h: &BridgeHandle, n: usize) -> Vec<Duration> {
    let mut ev = h.subscribe();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let on = i % 2 == 0;
        let t0 = Instant::now();
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
        out.push(t0.elapsed());
    }
    out
}

/// A scenario with binary switches on every node id 2-232.
pub fn full_network() -> Scenario {
    let mut text = String::new();
    for id in 2..=232 {
        text.push_str(&format!("[[node]]\nid = {id}\nkind = \"binary_switch\"\n"));
    }
    Scenario::from_toml(&text).unwrap_or_else(|_| Scenario::demo())
}

/// Runs the network benchmark: start-up and interview of 231 nodes, memory per node, and
/// report latency percentiles.
pub async fn run() -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "codec: {:.0} frames/s\n",
        codec_frames_per_sec(1_000_000)
    ));
    let Ok(sim) = spawn_tcp(&full_network(), "127.0.0.1:0").await else {
        return out + "simulator failed to start\n";
    };
    let before = rss_bytes().unwrap_or(0);
    let t0 = Instant::now();
    let Ok(port) = sim.url().parse() else {
        return out;
    };
    let Ok(h) = spawn(ZWaveConfig::new(port)) else {
        return out;
    };
    all_complete(&h, 231).await;
    let startup = t0.elapsed();
    let after = rss_bytes().unwrap_or(0);
    out.push_str(&format!(
        "start-up + interview of 231 nodes: {startup:.2?}\nRSS growth (bridge + simulator side): {} KiB total, {} bytes/node\n",
        after.saturating_sub(before) / 1024,
        after.saturating_sub(before) / 231
    ));
    let devices = h.devices().await.unwrap_or_default();
    let json: usize = devices
        .iter()
        .filter_map(|d| serde_json::to_vec(d).ok())
        .map(|v| v.len())
        .sum();
    out.push_str(&format!(
        "descriptor size (JSON, per node): {} bytes\n",
        json / devices.len().max(1)
    ));
    let mut lat = report_latencies(&sim, &h, 2000).await;
    lat.sort();
    if !lat.is_empty() {
        let p = |q: f64| lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)];
        out.push_str(&format!(
            "report -> BridgeEvent over loopback TCP (n={}): p50 {:?}, p99 {:?}, max {:?}\n",
            lat.len(),
            p(0.50),
            p(0.99),
            lat[lat.len() - 1]
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "benchmark: prints figures, run explicitly with --ignored --nocapture"]
    async fn bench_figures() {
        println!("{}", super::run().await);
    }
}
