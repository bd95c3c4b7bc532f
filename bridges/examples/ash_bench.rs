//! ASH figures for docs/PERFORMANCE.md: codec encode and decode rates for typical EZSP
//! payloads (20-40 bytes), and host→NCP latency over an in-memory duplex pipe (the host's
//! `send` until the NCP's ACK, and a full echo: host DATA, NCP ACK, NCP DATA back, host ACK).
//!
//! Run: `cargo run --release -p usphub-bridges --example ash_bench`

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use tokio_util::codec::Decoder;
use usphub_bridges::zigbee::ezsp::ash::{
    AshCodec, AshConfig, AshEvent, AshFrame, AshHost, AshNcpConfig, AshNcpEvent, encode, serve_ncp,
};

fn payload(len: usize, seed: u32) -> Vec<u8> {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s as u8
        })
        .collect()
}

fn data_frame(len: usize, i: u32) -> AshFrame {
    AshFrame::Data {
        frm_num: (i % 8) as u8,
        ack_num: ((i + 3) % 8) as u8,
        re_tx: false,
        payload: payload(len, i).into(),
    }
}

fn bench_encode(len: usize) -> f64 {
    let frames: Vec<AshFrame> = (0..64).map(|i| data_frame(len, i)).collect();
    let mut out = BytesMut::with_capacity(4096);
    let n = 2_000_000usize;
    let start = Instant::now();
    for i in 0..n {
        out.clear();
        encode(&frames[i % frames.len()], &mut out);
        black_box(&out);
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn bench_decode(len: usize) -> f64 {
    let mut wire = BytesMut::new();
    let per_buffer = 10_000u32;
    for i in 0..per_buffer {
        encode(&data_frame(len, i), &mut wire);
    }
    let rounds = 200;
    let mut decoded = 0usize;
    let start = Instant::now();
    for _ in 0..rounds {
        let mut codec = AshCodec::new();
        let mut buf = wire.clone();
        while let Ok(Some(item)) = codec.decode(&mut buf) {
            if item.is_ok() {
                decoded += 1;
            }
            black_box(&item);
        }
    }
    let rate = decoded as f64 / start.elapsed().as_secs_f64();
    assert_eq!(decoded, (per_buffer * rounds) as usize);
    rate
}

fn percentiles(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    v.sort();
    let at = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    (at(0.50), at(0.99), at(1.0))
}

async fn bench_latency(len: usize, n: usize) -> (Vec<Duration>, Vec<Duration>) {
    let (host_io, ncp_io) = tokio::io::duplex(4096);
    let (ncp, mut ncp_events) = serve_ncp(ncp_io, AshNcpConfig::default());
    let (host, mut events) = AshHost::start(host_io, AshConfig::default())
        .await
        .expect("simulated NCP answers RST");
    tokio::spawn(async move {
        while let Some(event) = ncp_events.recv().await {
            if let AshNcpEvent::Frame(frame) = event {
                ncp.send(frame.to_vec());
            }
        }
    });
    let mut acked = Vec::with_capacity(n);
    let mut echoed = Vec::with_capacity(n);
    for i in 0..n + 500 {
        let p = payload(len, i as u32);
        let start = Instant::now();
        host.send(p.clone()).await.expect("send acknowledged");
        let t_ack = start.elapsed();
        match events.recv().await {
            Some(AshEvent::Frame(f)) if f[..] == p[..] => {}
            other => panic!("unexpected {other:?}"),
        }
        let t_echo = start.elapsed();
        if i >= 500 {
            acked.push(t_ack);
            echoed.push(t_echo);
        }
    }
    host.close();
    (acked, echoed)
}

fn main() {
    println!("ASH codec (DATA frames, randomised + stuffed + CRC), single thread:");
    for len in [20, 32, 40] {
        println!(
            "  {len:>2}-byte EZSP payload: encode {:>10.0} frames/s, decode {:>10.0} frames/s",
            bench_encode(len),
            bench_decode(len)
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let n = 20_000;
    let (acked, echoed) = rt.block_on(bench_latency(32, n));
    let (a50, a99, amax) = percentiles(acked);
    let (e50, e99, emax) = percentiles(echoed);
    println!("ASH host <-> simulated NCP over tokio::io::duplex, 32-byte frames, {n} samples:");
    println!("  send() until NCP ACK:         p50 {a50:>9.1?}  p99 {a99:>9.1?}  max {amax:>9.1?}");
    println!("  echo (DATA, ACK, DATA back):  p50 {e50:>9.1?}  p99 {e99:>9.1?}  max {emax:>9.1?}");
}
