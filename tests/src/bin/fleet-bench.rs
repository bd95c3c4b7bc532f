//! Issue 9's figures for docs/PERFORMANCE.md: a separate `usphub run` process proxies a
//! simulated fleet (by default 200 Zigbee + 100 Z-Wave + 50 BLE devices, all already paired)
//! and a Controller measures, through a real mosquitto broker on loopback:
//!
//! - start-up to all devices mounted (first start with interviews from scratch, then a
//!   second start on the same database with cached interviews), polling GetInstances of
//!   `Device.ProxiedDevice.` every 15 ms;
//! - the agent's RSS once everything is mounted, and after full-tree Gets;
//! - latency from a simulated radio report to the ValueChange Notify decoded by the
//!   Controller (Zigbee temperature via the ZNP simulator, Z-Wave temperature via the Z-Wave
//!   simulator);
//! - the time and size of a Get of the whole `Device.ProxiedDevice.` tree.
//!
//! The ZNP and Z-Wave simulators run in this process on loopback TCP ports and the agent
//! drives them through its real bridges; the BLE sensors are the agent's hidden
//! `--bench-ble-sim N` (the real BLE bridge decoding simulated adverts).
//!
//! ```text
//! cargo build --release -p usphub
//! cargo run --release -p usphub-tests --bin fleet-bench -- --zigbee 200 --zwave 100 --ble 50
//! ```

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use rusp_lib::usp as r;
use rusp_lib::usp::mod_Body::OneOfmsg_body;
use rusp_lib::usp::mod_Notify::OneOfnotification;
use rusp_lib::usp::mod_Request::OneOfreq_type;
use rusp_lib::usp::mod_Response::OneOfresp_type;
use rusp_lib::usp_builder::{GetBuilder, GetInstancesBuilder, MsgBuilder, RecordBuilder};
use rusp_lib::usp_decoder::{try_decode_msg, try_decode_record};
use rusp_lib::usp_record::mod_Record::OneOfrecord_type;
use tokio::process::{Child, Command};
use usphub::mtp::controller_client::ControllerClient;
use usphub::mtp::mqtt::MqttConfig;
use usphub::mtp::{Address, Inbound, Route};
use usphub_bridges::zigbee::sim::Scenario as ZigbeeScenario;
use usphub_bridges::zigbee::zcl::ZclValue;
use usphub_bridges::zigbee::znp::sim::{ZnpSim, ZnpSimConfig};
use usphub_bridges::zwave::sim::SimHandle as ZWaveSim;
use usphub_bridges::zwave::sim::node::NodeKind;
use usphub_bridges::zwave::sim::scenario::{NodeSpec, Scenario as ZWaveScenario};
use usphub_tests::mosquitto::Mosquitto;

const AGENT: &str = "proto::fleet-agent";
const CONTROLLER: &str = "proto::fleet-controller";
const AGENT_TOPIC: &str = "usp/fleet/agent";
const CONTROLLER_TOPIC: &str = "usp/fleet/controller";
/// Base of the simulated Zigbee devices' IEEE addresses.
const IEEE_BASE: u64 = 0x00124b00_01000000;
/// The model string of the Zigbee temperature sensor whose reports are timed.
const ZIGBEE_PROBE_MODEL: &str = "BENCH-TH-0000";
/// ZCL Temperature Measurement cluster and its MeasuredValue attribute.
const TEMPERATURE_CLUSTER: u16 = 0x0402;
/// The simulated Z-Wave network's home id.
const ZWAVE_HOME_ID: u32 = 0xF1EE_7001;
/// Z-Wave Multilevel Sensor type "air temperature".
const ZWAVE_AIR_TEMPERATURE: u8 = 0x01;
/// Interval of the start-up poll.
const POLL: Duration = Duration::from_millis(15);

/// Command-line options.
struct Opts {
    zigbee: usize,
    zwave: usize,
    ble: usize,
    reports: usize,
    gets: usize,
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A household-like mix of Zigbee presets (and model names), repeated: sensors and bulbs
/// dominate. Index 0 is the temperature sensor whose reports are timed.
const ZIGBEE_MIX: &[(&str, &str)] = &[
    ("temperature_humidity", "TH"),
    ("dimmable_bulb", "BULB"),
    ("contact_sensor", "DOOR"),
    ("plug", "PLUG"),
    ("motion_sensor", "PIR"),
    ("temperature_humidity", "TH"),
    ("dimmable_bulb", "BULB"),
    ("contact_sensor", "DOOR"),
    ("remote", "REMOTE"),
    ("double_switch", "SW2"),
    ("temperature_humidity", "TH"),
    ("dimmable_bulb", "BULB"),
    ("motion_sensor", "PIR"),
    ("plug", "PLUG"),
    ("window_covering", "COVER"),
    ("thermostat", "THERMOSTAT"),
    ("contact_sensor", "DOOR"),
    ("dimmable_bulb", "BULB"),
    ("door_lock", "LOCK"),
    ("temperature_humidity", "TH"),
];

/// `n` paired Zigbee devices. Each speaks once shortly after the network is up (a paired
/// device the agent does not know yet is adopted when it first talks) and then every
/// 5 minutes, which keeps the timed reports free of background traffic.
fn zigbee_scenario(n: usize) -> ZigbeeScenario {
    let mut toml = String::new();
    for i in 0..n {
        let (preset, short) = ZIGBEE_MIX[i % ZIGBEE_MIX.len()];
        toml.push_str(&format!(
            "[[device]]\npreset = {preset:?}\nieee = \"{:016x}\"\nmanufacturer = \"usphub-bench\"\n\
             model = \"BENCH-{short}-{i:04}\"\njoin = \"paired\"\n\
             [[device.report]]\nafter_ms = {}\nevery_ms = 300000\nendpoint = 1\ncluster = 0x0000\n\
             attribute = 0x0000\nvalue = 8\n\n",
            IEEE_BASE + i as u64,
            200 + 2 * i,
        ));
    }
    ZigbeeScenario::parse(&toml).expect("the generated Zigbee scenario parses")
}

/// `n` included Z-Wave nodes (ids 2..): plugs, dimmers, multisensors, double switches,
/// thermostats, buttons and door locks.
fn zwave_scenario(n: usize) -> ZWaveScenario {
    const MIX: &[NodeKind] = &[
        NodeKind::BinarySwitch,
        NodeKind::Dimmer,
        NodeKind::Multisensor,
        NodeKind::BinarySwitch,
        NodeKind::Dimmer,
        NodeKind::Thermostat,
        NodeKind::DoubleSwitch,
        NodeKind::Multisensor,
        NodeKind::Button,
        NodeKind::DoorLock,
    ];
    assert!(n <= 231, "Z-Wave node ids end at 232");
    ZWaveScenario {
        home_id: ZWAVE_HOME_ID,
        live: false,
        network_key: None,
        nodes: (0..n)
            .map(|i| NodeSpec {
                id: (i + 2) as u8,
                kind: MIX[i % MIX.len()],
                included: true,
            })
            .collect(),
    }
}

/// The agent binary: `USPHUB_BIN`, else `usphub` next to this executable.
fn agent_binary() -> PathBuf {
    if let Ok(p) = std::env::var("USPHUB_BIN") {
        return p.into();
    }
    let me = std::env::current_exe().expect("own executable path");
    me.with_file_name("usphub")
}

/// How the agent is started: its binary, state directory, broker and radios.
struct Fleet {
    bin: PathBuf,
    dir: tempfile::TempDir,
    mqtt_port: u16,
    zigbee_url: String,
    zwave_url: String,
    ble: usize,
}

impl Fleet {
    /// Starts `usphub run` on the fleet's state; the child is killed when dropped.
    fn spawn(&self) -> Child {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["run", "--endpoint-id", AGENT, "--db"])
            .arg(self.dir.path().join("usphub.redb"))
            .args(["--mqtt", &format!("mqtt://127.0.0.1:{}", self.mqtt_port)])
            .args(["--agent-topic", AGENT_TOPIC])
            .args(["--controller", &format!("{CONTROLLER}={CONTROLLER_TOPIC}")])
            .args(["--zigbee", &self.zigbee_url, "--zwave", &self.zwave_url])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        if self.ble > 0 {
            cmd.args(["--bench-ble-sim", &self.ble.to_string()]);
        }
        cmd.spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", self.bin.display()))
    }
}

/// Stops the agent with SIGTERM (so it closes its database cleanly), SIGKILL after 10 s.
async fn stop_agent(mut child: Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_ok()
        {
            return;
        }
    }
    let _ = child.kill().await;
}

/// (RSS kB, anonymous RSS kB) of a process, from /proc.
fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (kb("VmRSS:"), kb("RssAnon:"))
}

/// User + system CPU seconds a process has used, from /proc (clock ticks of 10 ms).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of /proc/PID/stat (11 and 12 after the comm).
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// A Controller over MQTT: rusp-lib encodes and decodes, the project's client carries.
struct Ctl {
    client: ControllerClient,
    next: u64,
    /// The last Record received (replayed through the broker for the broker-only figure).
    last: Option<Inbound>,
}

impl Ctl {
    async fn connect(port: u16) -> Ctl {
        let cfg = MqttConfig::new("127.0.0.1", port, CONTROLLER, CONTROLLER_TOPIC);
        let client = ControllerClient::connect_mqtt(cfg, AGENT_TOPIC, Duration::from_secs(10))
            .await
            .expect("controller connects to the broker");
        Ctl {
            client,
            next: 1,
            last: None,
        }
    }

    /// Sends a request body; returns its msg_id.
    fn send(&mut self, body: r::Body) -> String {
        let id = format!("fleet-{}", self.next);
        self.next += 1;
        let msg = MsgBuilder::new()
            .with_msg_id(id.clone())
            .with_body(body)
            .build()
            .expect("rusp-lib builds the msg");
        let record = RecordBuilder::new()
            .with_version("1.4".into())
            .with_to_id(AGENT.into())
            .with_from_id(CONTROLLER.into())
            .with_no_session_context_payload(&msg)
            .build()
            .expect("rusp-lib builds the record")
            .to_vec()
            .expect("rusp-lib encodes the record");
        self.client.send(record).expect("transport accepts");
        id
    }

    /// The next Msg and the size of the Record that carried it, or None after `timeout`.
    async fn recv(&mut self, timeout: Duration) -> Option<(usize, r::Msg)> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let inbound = self.client.recv(left).await.ok()?;
            let rec = try_decode_record(&inbound.bytes).expect("rusp-lib decodes the record");
            if let OneOfrecord_type::no_session_context(nsc) = &rec.record_type {
                let msg = try_decode_msg(&nsc.payload).expect("rusp-lib decodes the msg");
                let size = inbound.bytes.len();
                self.last = Some(inbound);
                return Some((size, msg));
            }
        }
    }

    /// Sends a request and waits for its answer (dropping anything else).
    async fn request(&mut self, body: r::Body) -> (usize, r::Msg) {
        let id = self.send(body);
        loop {
            let (size, msg) = self
                .recv(Duration::from_secs(30))
                .await
                .expect("the agent answers");
            if msg.msg_id() == id {
                return (size, msg);
            }
        }
    }

    /// Get of `path` as `full path -> value` (and the answer's size in bytes).
    async fn get(&mut self, path: &str) -> (usize, BTreeMap<String, String>) {
        let body = GetBuilder::new()
            .with_max_depth(0)
            .with_params(vec![path.into()])
            .build()
            .expect("rusp-lib builds the Get");
        let (size, msg) = self.request(body).await;
        let Some(OneOfresp_type::get_resp(g)) = response(&msg) else {
            panic!("not a GetResp: {msg:?}")
        };
        let map = g
            .req_path_results
            .iter()
            .flat_map(|p| &p.resolved_path_results)
            .flat_map(|r| {
                r.result_params
                    .iter()
                    .map(move |(k, v)| (format!("{}{k}", r.resolved_path), v.clone()))
            })
            .collect();
        (size, map)
    }

    /// Adds an enabled ValueChange subscription on `path`.
    async fn subscribe_value(&mut self, id: &str, path: &str) {
        let body = rusp_lib::usp_builder::AddBuilder::new()
            .with_allow_partial(false)
            .with_create_objs(vec![
                rusp_lib::usp_builder::CreateObjectBuilder::new(
                    "Device.LocalAgent.Subscription.".into(),
                )
                .with_param_settings(vec![
                    ("ID".into(), id.into(), true),
                    ("NotifType".into(), "ValueChange".into(), true),
                    ("ReferenceList".into(), path.into(), true),
                    ("Enable".into(), "true".into(), true),
                ]),
            ])
            .build()
            .expect("rusp-lib builds the Add");
        let (_, msg) = self.request(body).await;
        assert!(
            matches!(response(&msg), Some(OneOfresp_type::add_resp(_))),
            "subscription refused: {msg:?}"
        );
    }
}

fn response(msg: &r::Msg) -> Option<&OneOfresp_type> {
    match &msg.body.as_ref()?.msg_body {
        OneOfmsg_body::response(r) => Some(&r.resp_type),
        _ => None,
    }
}

/// Number of `Device.ProxiedDevice.{i}.` rows a GetInstances answer lists.
fn instances(msg: &r::Msg) -> Option<usize> {
    match response(msg)? {
        OneOfresp_type::get_instances_resp(g) => {
            Some(g.req_path_results.iter().map(|p| p.curr_insts.len()).sum())
        }
        _ => None,
    }
}

/// Polls GetInstances of `Device.ProxiedDevice.` every [`POLL`] until `total` rows exist;
/// the time is measured from `spawned`. Early polls go unanswered while the agent starts.
async fn wait_mounted(c: &mut Ctl, total: usize, spawned: Instant, limit: Duration) -> Duration {
    let mut last = 0;
    while spawned.elapsed() < limit {
        let tick = tokio::time::Instant::now() + POLL;
        let body = GetInstancesBuilder::new()
            .with_first_level_only(true)
            .with_obj_paths(vec!["Device.ProxiedDevice.".into()])
            .build()
            .expect("rusp-lib builds the GetInstances");
        c.send(body);
        // Any GetInstances answer counts, including a late one to an earlier poll.
        while let Some((_, msg)) = c.recv(tick - tokio::time::Instant::now()).await {
            if let Some(n) = instances(&msg) {
                last = last.max(n);
                if n >= total {
                    return spawned.elapsed();
                }
            }
        }
        tokio::time::sleep_until(tick).await;
    }
    panic!("only {last} of {total} devices mounted after {limit:?}");
}

/// Polls `Device.ProxiedDevice.*.X_USPHUB_InterviewState` every [`POLL`] until `total` rows
/// read `Complete`; returns the time since `spawned`, or the states seen at `limit`.
async fn wait_interviewed(
    c: &mut Ctl,
    total: usize,
    spawned: Instant,
    limit: Duration,
) -> Result<Duration, BTreeMap<String, usize>> {
    let mut states = BTreeMap::new();
    while spawned.elapsed() < limit {
        let (_, m) = c
            .get("Device.ProxiedDevice.*.X_USPHUB_InterviewState")
            .await;
        states.clear();
        for v in m.values() {
            *states.entry(v.clone()).or_insert(0) += 1;
        }
        if states.get("Complete").copied().unwrap_or(0) >= total {
            return Ok(spawned.elapsed());
        }
        tokio::time::sleep(POLL).await;
    }
    Err(states)
}

fn print_interviewed(label: &str, r: Result<Duration, BTreeMap<String, usize>>) {
    match r {
        Ok(t) => println!("{label:<62} {t:>9.1?}"),
        Err(states) => println!("{label:<62} not reached; interview states then: {states:?}"),
    }
}

/// The row (`Device.ProxiedDevice.N.`) whose `param` is `value`, with its capability whose
/// Type is `ty` (`...IoTCapability.M.<Class>.Value`); polls until it is mounted.
async fn probe_path(c: &mut Ctl, param: &str, value: &str, ty: &str) -> String {
    for _ in 0..600 {
        let (_, m) = c.get(&format!("Device.ProxiedDevice.*.{param}")).await;
        if let Some((k, _)) = m.iter().find(|(_, v)| v.as_str() == value) {
            let row = k.trim_end_matches(param).to_string();
            let (_, caps) = c.get(&row).await;
            if let Some((k, _)) = caps
                .iter()
                .find(|(k, v)| k.ends_with(".Type") && v.as_str() == ty)
            {
                return format!("{}Value", k.trim_end_matches("Type"));
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {ty} capability on the device whose {param} is {value}");
}

/// Waits for the ValueChange of `path`; None after `timeout`.
async fn value_change(c: &mut Ctl, path: &str, timeout: Duration) -> Option<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let (_, msg) = c
            .recv(deadline.saturating_duration_since(Instant::now()))
            .await?;
        if let Some(r::Body {
            msg_body:
                OneOfmsg_body::request(r::Request {
                    req_type: OneOfreq_type::notify(n),
                }),
        }) = msg.body
            && let OneOfnotification::value_change(vc) = n.notification
            && vc.param_path == path
        {
            return Some(vc.param_value);
        }
    }
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn print_latency(label: &str, mut lat: Vec<Duration>, missed: usize) {
    lat.sort();
    println!(
        "{label:<44} p50 {:>9.3?}  p99 {:>9.3?}  max {:>9.3?}  ({} reports, {missed} without a Notify within 1 s)",
        pct(&lat, 0.5),
        pct(&lat, 0.99),
        lat.last().copied().unwrap_or_default(),
        lat.len()
    );
}

fn print_cpu(pid: u32, before: f64, reports: usize) {
    let used = cpu_seconds(pid) - before;
    println!(
        "    agent CPU {used:.2} s for {reports} reports ({:.0} µs each, background work included)",
        used * 1e6 / reports.max(1) as f64
    );
}

/// Times `n` reports made by `report(i)` to the ValueChange of `path`, paced 4 ms apart.
async fn report_latency<F, Fut>(
    c: &mut Ctl,
    path: &str,
    n: usize,
    mut report: F,
) -> (Vec<Duration>, usize)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut lat = Vec::with_capacity(n);
    let mut missed = 0;
    for i in 0..n {
        let t0 = Instant::now();
        report(i).await;
        match value_change(c, path, Duration::from_secs(1)).await {
            Some(_) => lat.push(t0.elapsed()),
            None => missed += 1,
        }
        tokio::time::sleep(Duration::from_millis(4)).await;
    }
    (lat, missed)
}

/// The floor under the report figures: the last Notify received is published again by the
/// Controller to its own topic, `n` times, and timed through mosquitto and rusp-lib's decode
/// (the same hop and decode as the report figures, without the simulator and the agent).
async fn broker_only(c: &mut Ctl, path: &str, n: usize) -> (Vec<Duration>, usize) {
    let last = c.last.clone().expect("a Notify was received");
    let route = Route {
        mtp: last.reply_to.mtp,
        to: Address::MqttTopic(CONTROLLER_TOPIC.into()),
    };
    let mut lat = Vec::with_capacity(n);
    let mut missed = 0;
    for _ in 0..n {
        let t0 = Instant::now();
        c.client
            .send_to(&route, last.bytes.clone())
            .expect("transport accepts");
        match value_change(c, path, Duration::from_secs(1)).await {
            Some(_) => lat.push(t0.elapsed()),
            None => missed += 1,
        }
        tokio::time::sleep(Duration::from_millis(4)).await;
    }
    (lat, missed)
}

/// A value for report `i` that always differs from the previous one.
fn report_value(i: usize) -> i64 {
    1234 + (i % 400) as i64
}

#[tokio::main]
async fn main() {
    let o = Opts {
        zigbee: arg("--zigbee", 200),
        zwave: arg("--zwave", 100),
        ble: arg("--ble", 50),
        reports: arg("--reports", 500),
        gets: arg("--gets", 50),
    };
    let total = o.zigbee + o.zwave + o.ble;
    let bin = agent_binary();
    assert!(
        bin.exists(),
        "{} not found: build it first (cargo build --release -p usphub) or set USPHUB_BIN",
        bin.display()
    );
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "fleet bench: {} Zigbee + {} Z-Wave + {} BLE = {total} simulated devices; {cores} cores; agent {}",
        o.zigbee,
        o.zwave,
        o.ble,
        bin.display()
    );

    let broker = Mosquitto::start();
    let zigbee = ZnpSim::start_tcp(
        ZnpSimConfig {
            ieee: 0x00124b00_00f1e000,
            scenario: zigbee_scenario(o.zigbee),
            require_bootloader_skip: false,
        },
        0,
    )
    .await
    .expect("ZNP simulator starts");
    let zwave = usphub_bridges::zwave::sim::spawn_tcp(&zwave_scenario(o.zwave), "127.0.0.1:0")
        .await
        .expect("Z-Wave simulator starts");
    let fleet = Fleet {
        bin,
        dir: tempfile::tempdir().expect("temp dir"),
        mqtt_port: broker.port(),
        zigbee_url: zigbee.url(),
        zwave_url: zwave.url(),
        ble: o.ble,
    };
    let mut c = Ctl::connect(broker.port()).await;

    first_start(&mut c, &fleet, &o, &zwave).await;
    let child = second_start(&mut c, &fleet, total).await;
    let pid = child.id().expect("agent pid");
    latencies(&mut c, &o, &zigbee, &zwave, pid).await;
    full_tree_gets(&mut c, o.gets, pid).await;

    c.client.close().await;
    stop_agent(child).await;
    drop(broker);
}

/// First start on an empty database: every device is discovered and interviewed. Stops
/// the agent once the interviews are done and persisted.
async fn first_start(c: &mut Ctl, fleet: &Fleet, o: &Opts, zwave: &ZWaveSim) {
    let total = o.zigbee + o.zwave + o.ble;
    let spawned = Instant::now();
    let child = fleet.spawn();
    let first = wait_mounted(c, total, spawned, Duration::from_secs(300)).await;
    let (rss_kb, anon_kb) = rss(child.id().expect("agent pid"));
    println!(
        "start-up to {total} devices mounted, first start (interviews):  {first:>9.1?}   RSS then {:.1} MB ({:.1} MB anonymous)",
        rss_kb as f64 / 1024.0,
        anon_kb as f64 / 1024.0
    );
    // Sleeping nodes are interviewed when they wake up: wake each once, as a battery
    // device does at its wake-up interval.
    for n in zwave_scenario(o.zwave).nodes {
        if n.kind == NodeKind::Multisensor {
            zwave.wake_up(n.id).await;
        }
    }
    print_interviewed(
        "  ... every interview Complete (sleeping nodes woken at mount)",
        wait_interviewed(c, total, spawned, Duration::from_secs(120)).await,
    );
    if o.zigbee > 0 {
        probe_path(c, "X_USPHUB_Model", ZIGBEE_PROBE_MODEL, "Temperature").await;
    }
    // The bridges persist their registries in the background: give them time.
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop_agent(child).await;
}

/// Second start on the same database (interviews from the cache); returns the running agent.
async fn second_start(c: &mut Ctl, fleet: &Fleet, total: usize) -> Child {
    let spawned = Instant::now();
    let child = fleet.spawn();
    let second = wait_mounted(c, total, spawned, Duration::from_secs(120)).await;
    let pid = child.id().expect("agent pid");
    let (rss_mounted, anon_mounted) = rss(pid);
    println!(
        "start-up to {total} devices mounted, second start (cached):     {second:>9.1?}   (target < 2 s)"
    );
    print_interviewed(
        "  ... every interview Complete",
        wait_interviewed(c, total, spawned, Duration::from_secs(60)).await,
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_settled, anon_settled) = rss(pid);
    println!(
        "agent RSS once mounted: {:.1} MB ({:.1} MB anonymous); 2 s later {:.1} MB ({:.1} MB anonymous)   (target < 30 MB)",
        rss_mounted as f64 / 1024.0,
        anon_mounted as f64 / 1024.0,
        rss_settled as f64 / 1024.0,
        anon_settled as f64 / 1024.0
    );
    child
}

/// Report → ValueChange latency on one Zigbee and one Z-Wave temperature sensor.
async fn latencies(c: &mut Ctl, o: &Opts, zigbee: &ZnpSim, zwave: &ZWaveSim, pid: u32) {
    println!(
        "report -> ValueChange Notify received and decoded by a Controller over MQTT (mosquitto on loopback, QoS 1); \
         includes the broker hop and the Controller's decode, so an upper bound of report -> Notify leaving the MTP:"
    );
    let mut probe = None;
    if o.zigbee > 0 {
        let path = probe_path(c, "X_USPHUB_Model", ZIGBEE_PROBE_MODEL, "Temperature").await;
        c.subscribe_value("fleet-zigbee", &path).await;
        let cpu = cpu_seconds(pid);
        let (lat, missed) = report_latency(c, &path, o.reports, |i| {
            let sent = zigbee.report(
                IEEE_BASE,
                1,
                TEMPERATURE_CLUSTER,
                0x0000,
                ZclValue::Signed(report_value(i)),
            );
            assert!(sent, "the ZNP simulator has a host connection");
            std::future::ready(())
        })
        .await;
        print_latency("  Zigbee temperature (ZNP simulator)", lat, missed);
        print_cpu(pid, cpu, o.reports);
        probe = Some(path);
    }
    // The third node of the mix (id 4) is a multisensor with an air temperature sensor.
    if o.zwave >= 3 {
        let node = 4u8;
        let address = format!("zwave:{ZWAVE_HOME_ID:08x}:{node}");
        let path = probe_path(c, "X_USPHUB_Address", &address, "Temperature").await;
        c.subscribe_value("fleet-zwave", &path).await;
        let cpu = cpu_seconds(pid);
        let (lat, missed) = report_latency(c, &path, o.reports, |i| {
            zwave.set_sensor(node, ZWAVE_AIR_TEMPERATURE, report_value(i) as i32)
        })
        .await;
        print_latency("  Z-Wave temperature (Z-Wave simulator)", lat, missed);
        print_cpu(pid, cpu, o.reports);
        probe = Some(path);
    }
    if let Some(path) = probe {
        let (lat, missed) = broker_only(c, &path, o.reports).await;
        print_latency("  control: the broker hop + decode alone", lat, missed);
    }
}

/// Gets of the whole `Device.ProxiedDevice.` tree, one at a time.
async fn full_tree_gets(c: &mut Ctl, n: usize, pid: u32) {
    let mut lat = Vec::with_capacity(n);
    let (mut size, mut params) = (0, 0);
    for _ in 0..n {
        let t0 = Instant::now();
        let (s, m) = c.get("Device.ProxiedDevice.").await;
        lat.push(t0.elapsed());
        (size, params) = (s, m.len());
    }
    lat.sort();
    println!(
        "Get Device.ProxiedDevice. (full tree, 1 in flight, MQTT): p50 {:.2?}  p99 {:.2?}  ({n} Gets; answer {size} bytes, {params} parameters)",
        pct(&lat, 0.5),
        pct(&lat, 0.99)
    );
    let (rss, anon) = rss(pid);
    println!(
        "agent RSS after the Gets: {:.1} MB ({:.1} MB anonymous)",
        rss as f64 / 1024.0,
        anon as f64 / 1024.0
    );
}
