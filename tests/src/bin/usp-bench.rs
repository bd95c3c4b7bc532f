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
    let mut c = ControllerClient::connect_mqtt(cfg, AGENT_TOPIC, Duration::from_secs(10))
        .await
        .expect("controller connects to the broker");
    // The agent process may not have subscribed yet (a publish to a topic nobody has
    // subscribed to is dropped by the broker): ask until it answers.
    let limits = DecodeLimits::default();
    for attempt in 0..120 {
        let id = format!("ready{attempt}");
        let msg = builder::get_supported_protocol(&id, "1.4");
        c.send(builder::no_session_record(AGENT, CONTROLLER, &msg).encode_to_vec())
            .expect("send");
        if let Ok(inbound) = c.recv(Duration::from_millis(250)).await
            && let Ok(DecodedRecord::Msg { .. }) = decode_record(&inbound.bytes, &limits)
        {
            // Drain late answers to earlier attempts.
            while c.recv(Duration::from_millis(100)).await.is_ok() {}
            return c;
        }
    }
    panic!("the agent never answered");
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

/// Waits until the agent has mounted its `devices` fixture devices.
async fn wait_for_devices(c: &mut ControllerClient, devices: usize) {
    let limits = DecodeLimits::default();
    for i in 0..600 {
        let id = format!("count{i}");
        let msg = builder::get(&id, &["Device.ProxiedDeviceNumberOfEntries"], 0);
        c.send(builder::no_session_record(AGENT, CONTROLLER, &msg).encode_to_vec())
            .expect("send");
        let Ok(inbound) = c.recv(Duration::from_secs(5)).await else {
            continue;
        };
        let Ok(DecodedRecord::Msg { msg, .. }) = decode_record(&inbound.bytes, &limits) else {
            continue;
        };
        let mounted = match msg.body.and_then(|b| b.msg_body) {
            Some(usp_proto::usp::body::MsgBody::Response(r)) => match r.resp_type {
                Some(usp_proto::usp::response::RespType::GetResp(g)) => g
                    .req_path_results
                    .first()
                    .and_then(|r| r.resolved_path_results.first())
                    .and_then(|r| r.result_params.values().next())
                    .and_then(|v| v.parse::<usize>().ok())
                    .unwrap_or(0),
                _ => 0,
            },
            _ => 0,
        };
        if mounted >= devices {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the agent did not mount {devices} fixture devices");
}

fn row(label: &str, r: (f64, Duration, Duration, usize)) {
    println!(
        "{label:<48} {:>9.0} {:>10.2?} {:>10.2?} {:>8}",
        r.0, r.1, r.2, r.3
    );
}

#[tokio::main]
async fn main() {
    let requests = arg("--requests", 2000);
    let devices = arg("--devices", 1000);
    let bin = std::env::var("USPHUB_BIN").unwrap_or_else(|_| "target/release/usphub".into());
    let broker = Mosquitto::start();
    let port = broker.port();
    println!(
        "usphub agent bench: {requests} requests per row, MQTT QoS 1 via mosquitto (tcp_nodelay) on loopback"
    );
    println!(
        "{:<48} {:>9} {:>10} {:>10} {:>8}",
        "scenario", "msgs/s", "p50", "p99", "params"
    );

    let agent = Agent::start(&bin, port, 0);
    let mut c = controller(port).await;
    let (idle_rss, idle_private, _) = agent.usage();
    row(
        "Get leaf, 1 in flight",
        run(&mut c, "Device.LocalAgent.EndpointID", requests, 1).await,
    );
    row(
        "Get leaf, 16 in flight",
        run(&mut c, "Device.LocalAgent.EndpointID", requests, 16).await,
    );
    let (rss, private, cpu) = agent.usage();
    c.close().await;
    drop(agent);

    // A whole tree comparable to the reference agent's 154-parameter Device.: the agent's
    // own objects plus one proxied device with 8 capabilities.
    let agent = Agent::start(&bin, port, 1);
    let mut c = controller(port).await;
    wait_for_devices(&mut c, 1).await;
    row(
        "Get Device. (whole tree), 16 in flight",
        run(&mut c, "Device.", requests, 16).await,
    );
    c.close().await;
    drop(agent);
    println!(
        "agent RSS idle {idle_rss} kB ({idle_private} kB private); after the leaf runs {rss} kB ({private} kB private), CPU {cpu:.2} s"
    );

    let agent = Agent::start(&bin, port, devices);
    let mut c = controller(port).await;
    wait_for_devices(&mut c, devices).await;
    let (rss0, private0, cpu0) = agent.usage();
    let n = (requests / 20).max(20);
    row(
        &format!("Get Device.ProxiedDevice. ({devices} devices), 1 in flight"),
        run(&mut c, "Device.ProxiedDevice.", n, 1).await,
    );
    let (rss, private, cpu) = agent.usage();
    println!(
        "agent with {devices} devices: RSS {rss0} kB ({private0} kB private) once mounted; {rss} kB ({private} kB private) after the Gets; CPU {:.2} s for {n} Gets",
        cpu - cpu0
    );
    c.close().await;
}
