//! The agent benchmark of docs/PERFORMANCE.md: a Controller drives a separate `usphub run`
//! process through a real mosquitto broker (loopback, `set_tcp_nodelay true`, QoS 1) and
//! prints msgs/s, p50/p99 latency, and the agent's RSS and CPU time.
//!
//! `cargo build --release -p usphub && cargo run --release -p usphub-tests --bin usp-bench`
//! (options: `--requests N`, `--devices N`).

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use prost::Message;
use usp_proto::builder;
use usp_proto::decode::{DecodeLimits, DecodedRecord, decode_record};
use usphub::mtp::controller_client::ControllerClient;
use usphub::mtp::mqtt::MqttConfig;
use usphub_tests::mosquitto::Mosquitto;

const AGENT: &str = "proto::bench-agent";
const CONTROLLER: &str = "proto::bench-controller";
const AGENT_TOPIC: &str = "usp/bench/agent";
const CONTROLLER_TOPIC: &str = "usp/bench/controller";

struct Agent {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Agent {
    fn start(bin: &str, port: u16, fixture: usize) -> Agent {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut cmd = Command::new(bin);
        cmd.args(["run", "--endpoint-id", AGENT, "--db"])
            .arg(dir.path().join("bench.redb"))
            .args(["--mqtt", &format!("mqtt://127.0.0.1:{port}")])
            .args(["--agent-topic", AGENT_TOPIC])
            .args(["--controller", &format!("{CONTROLLER}={CONTROLLER_TOPIC}")])
            .args(["--ws-listen", "127.0.0.1:0"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if fixture > 0 {
            cmd.args(["--bench-fixture-devices", &fixture.to_string()]);
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        Agent { child, _dir: dir }
    }

    /// (RSS kB, private kB, CPU seconds) from /proc.
    fn usage(&self) -> (u64, u64, f64) {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let rss = kb("VmRSS:");
        let private = kb("RssAnon:");
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the comm).
        let cpu = (ticks(11) + ticks(12)) as f64 / 100.0;
        (rss, private, cpu)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn controller(port: u16) -> ControllerClient {
    let cfg = MqttConfig::new("127.0.0.1", port, CONTROLLER, CONTROLLER_TOPIC);
    ControllerClient::connect_mqtt(cfg, AGENT_TOPIC, Duration::from_secs(10))
        .await
        .expect("controller connects to the broker")
}

/// Sends `n` Gets of `path` keeping `in_flight` outstanding; returns (msgs/s, p50, p99, params per answer).
async fn run(
    c: &mut ControllerClient,
    path: &str,
    n: usize,
    in_flight: usize,
) -> (f64, Duration, Duration, usize) {
    let mut sent_at: HashMap<String, Instant> = HashMap::new();
    let mut lat = Vec::with_capacity(n);
    let mut next = 0usize;
    let mut params = 0;
    let limits = DecodeLimits {
        max_record_size: 64 << 20,
    };
    let start = Instant::now();
    let send = |c: &mut ControllerClient, i: usize, sent_at: &mut HashMap<String, Instant>| {
        let id = format!("b{i}");
        let msg = builder::get(&id, &[path], 0);
        let rec = builder::no_session_record(AGENT, CONTROLLER, &msg);
        sent_at.insert(id, Instant::now());
        c.send(rec.encode_to_vec()).expect("send");
    };
    while next < in_flight.min(n) {
        send(c, next, &mut sent_at);
        next += 1;
    }
    while lat.len() < n {
        let inbound = c
            .recv(Duration::from_secs(30))
            .await
            .expect("agent answers");
        let Ok(DecodedRecord::Msg { msg, .. }) = decode_record(&inbound.bytes, &limits) else {
            continue;
        };
        let Some(t0) = sent_at.remove(builder::msg_id(&msg)) else {
            continue;
        };
        lat.push(t0.elapsed());
        if params == 0
            && let Some(usp_proto::usp::body::MsgBody::Response(r)) =
                msg.body.and_then(|b| b.msg_body)
            && let Some(usp_proto::usp::response::RespType::GetResp(g)) = r.resp_type
        {
            params = g
                .req_path_results
                .iter()
                .flat_map(|r| &r.resolved_path_results)
                .map(|r| r.result_params.len())
                .sum();
        }
        if next < n {
            send(c, next, &mut sent_at);
            next += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    (n as f64 / secs, pct(0.50), pct(0.99), params)
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let requests = arg("--requests", 2000);
    let devices = arg("--devices", 1000);
    let bin = std::env::var("USPHUB_BIN").unwrap_or_else(|_| "target/release/usphub".into());
    let broker = Mosquitto::start();
    let port = broker.port();

    let agent = Agent::start(&bin, port, 0);
    let mut c = controller(port).await;
    run(&mut c, "Device.LocalAgent.EndpointID", 200, 4).await; // warm-up, and wait for the agent
    let (idle_rss, idle_private, _) = agent.usage();
    println!(
        "usphub agent bench: {requests} requests per row, MQTT QoS 1 via mosquitto on loopback"
    );
    println!(
        "{:<44} {:>9} {:>10} {:>10} {:>8}",
        "scenario", "msgs/s", "p50", "p99", "params"
    );
    for (label, path, inflight) in [
        ("Get leaf, 1 in flight", "Device.LocalAgent.EndpointID", 1),
        ("Get leaf, 16 in flight", "Device.LocalAgent.EndpointID", 16),
        ("Get Device. (whole tree), 16 in flight", "Device.", 16),
    ] {
        let (rate, p50, p99, params) = run(&mut c, path, requests, inflight).await;
        println!(
            "{label:<44} {rate:>9.0} {:>10.2?} {:>10.2?} {params:>8}",
            p50, p99
        );
    }
    let (rss, private, cpu) = agent.usage();
    println!(
        "agent RSS idle {idle_rss} kB ({idle_private} kB private); after the runs {rss} kB ({private} kB private); CPU {cpu:.2} s"
    );
    c.close().await;
    drop(agent);

    let agent = Agent::start(&bin, port, devices);
    let mut c = controller(port).await;
    run(&mut c, "Device.LocalAgent.EndpointID", 50, 1).await;
    let n = (requests / 10).max(20);
    let (rate, p50, p99, params) = run(&mut c, "Device.ProxiedDevice.", n, 4).await;
    let (rss, private, cpu) = agent.usage();
    println!(
        "{:<44} {rate:>9.1} {:>10.2?} {:>10.2?} {params:>8}",
        format!("Get Device.ProxiedDevice. ({devices} devices), 4 in flight"),
        p50,
        p99
    );
    println!("agent with {devices} devices: RSS {rss} kB ({private} kB private); CPU {cpu:.2} s");
    c.close().await;
}
