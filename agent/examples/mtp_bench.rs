//! Round-trip throughput of the MTP layer alone: a Controller (`ControllerClient`) sends
//! Records, the agent side echoes each one back on its `reply_to` route, with W Records in
//! flight. Over MQTT (through a real loopback mosquitto, QoS 1) and over WebSocket.
//! No USP processing: this is the ceiling the MTPs put on the agent.
//!
//! `cargo run --release -p usphub --example mtp_bench -- [COUNT] [INFLIGHT]`

use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use usphub::mtp::controller_client::ControllerClient;
use usphub::mtp::mqtt::{self, MqttConfig};
use usphub::mtp::websocket::server::{self, WsServerConfig};
use usphub::mtp::{Inbound, LinkState, MtpHandle, MtpId};
use usphub_tests::mosquitto::Mosquitto;

const T: Duration = Duration::from_secs(30);

fn record(i: usize) -> Vec<u8> {
    let msg = usp_proto::builder::get(format!("m{i}"), &["Device.LocalAgent.EndpointID"], 0);
    usp_proto::builder::encode_record(&usp_proto::builder::no_session_record(
        "os::agent",
        "self::ctl",
        &msg,
    ))
}

/// Echoes every inbound Record back where it came from.
fn echo(agent: &MtpHandle, mut rx: mpsc::Receiver<Inbound>) {
    let sender = agent.sender.clone();
    tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            if let Err(e) = sender.send(m.reply_to.to, m.bytes) {
                eprintln!("echo: {e}");
            }
        }
    });
}

async fn drive(ctl: &mut ControllerClient, count: usize, inflight: usize) -> (f64, Vec<Duration>) {
    let start = Instant::now();
    let mut sent_at = Vec::with_capacity(count);
    let mut lat = Vec::with_capacity(count);
    let mut next = 0;
    while next < inflight.min(count) {
        sent_at.push(Instant::now());
        ctl.send(record(next)).expect("send");
        next += 1;
    }
    let mut done = 0;
    while done < count {
        let m = ctl.recv(T).await.expect("echo");
        let i = match usp_proto::decode::decode_record(&m.bytes, &Default::default()) {
            Ok(usp_proto::DecodedRecord::Msg { msg, .. }) => usp_proto::builder::msg_id(&msg)[1..]
                .parse::<usize>()
                .expect("msg id"),
            // The agent's WebSocketConnect greeting.
            Ok(usp_proto::DecodedRecord::Control(_)) => continue,
            Err(e) => panic!("undecodable echo: {e}"),
        };
        done += 1;
        lat.push(sent_at[i].elapsed());
        if next < count {
            sent_at.push(Instant::now());
            ctl.send(record(next)).expect("send");
            next += 1;
        }
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    lat.sort();
    (rate, lat)
}

fn report(name: &str, inflight: usize, rate: f64, lat: &[Duration]) {
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "{name:<10} inflight={inflight:<3} {rate:>9.0} msgs/s  p50={:>7.3} ms  p99={:>7.3} ms",
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let count = args.first().copied().unwrap_or(20_000);
    let inflights = match args.get(1) {
        Some(&w) => vec![w],
        None => vec![1, 16],
    };

    let broker = Mosquitto::start();
    let (tx, rx) = mpsc::channel(1024);
    let cfg = MqttConfig::new(broker.host(), broker.port(), "os::agent", "usp/agent");
    let mut agent = mqtt::spawn(MtpId(1), cfg, tx);
    agent.wait_for(LinkState::Up, T).await.expect("agent up");
    echo(&agent, rx);
    let ccfg = MqttConfig::new(broker.host(), broker.port(), "self::ctl", "usp/ctl");
    let mut ctl = ControllerClient::connect_mqtt(ccfg, "usp/agent", T)
        .await
        .expect("controller");
    for &w in &inflights {
        let (rate, lat) = drive(&mut ctl, count, w).await;
        report("mqtt", w, rate, &lat);
    }
    ctl.close().await;
    agent.shutdown().await;

    let (tx, rx) = mpsc::channel(1024);
    let scfg = WsServerConfig::new("127.0.0.1:0".parse().expect("addr"), "os::agent");
    let agent = server::spawn(MtpId(2), scfg, tx).await.expect("ws server");
    let addr = agent.status.borrow().local_addr.expect("addr");
    echo(&agent, rx);
    let mut ctl = ControllerClient::connect_websocket(&format!("ws://{addr}/"), "self::ctl", T)
        .await
        .expect("ws controller");
    for &w in &inflights {
        let (rate, lat) = drive(&mut ctl, count, w).await;
        report("websocket", w, rate, &lat);
    }
    ctl.close().await;
    agent.shutdown().await;
}
