//! Acceptance of the ZNP simulator by the unmodified `zigpy-znp` host library (PyPI), over
//! a loopback TCP port and over a PTY: its network backup and restore tools, and its
//! `ControllerApplication` forming a network, letting a device join and reading it.
//!
//! Needs the venv `scripts/setup` creates (`target/interop-venv`, zigpy-znp 1.1.1); a missing
//! venv or a simulator zigpy-znp rejects fails the test. Every Python process is bounded by
//! a timeout and killed when its handle drops.

#[path = "support/interop_python.rs"]
mod interop_python;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value as Json;
use tokio::process::Command;
use usphub_bridges::zigbee::backend::{BackendEvent, NetworkSettings, ZigbeeBackend};
use usphub_bridges::zigbee::sim::Scenario;
use usphub_bridges::zigbee::znp::backend::{ZnpBackend, ZnpBackendConfig};
use usphub_bridges::zigbee::znp::link::port_connector;
use usphub_bridges::zigbee::znp::sim::{ZnpSim, ZnpSimConfig};

const COORDINATOR: u64 = 0x0012_4B00_1CDD_7A01;
const PAN: u16 = 0x1A62;
const EXT_PAN: u64 = 0xDDDD_0000_1111_2222;
const CHANNEL: u8 = 20;
const KEY: [u8; 16] = [
    0x01, 0x03, 0x05, 0x07, 0x09, 0x0B, 0x0D, 0x0F, 0x00, 0x02, 0x04, 0x06, 0x08, 0x0A, 0x0C, 0x0D,
];
const PLUG: u64 = 0x0012_4B00_0000_0102;
const SENSOR: u64 = 0x0012_4B00_0000_0101;
/// Longest a zigpy-znp tool may run (connect, probe, read every NV table).
const TOOL_TIMEOUT: Duration = Duration::from_secs(120);

const SCENARIO: &str = r#"
[[device]]
preset = "temperature_humidity"
ieee = "00124b0000000101"
nwk = 0x3101
[[device]]
preset = "plug"
ieee = "00124b0000000102"
nwk = 0x3102
"#;

fn config(ieee: u64) -> ZnpSimConfig {
    ZnpSimConfig {
        ieee,
        scenario: Scenario::parse(SCENARIO).unwrap(),
        require_bootloader_skip: false,
    }
}

/// A simulator whose network is formed and which both scenario devices have joined.
fn form_and_join(sim: &ZnpSim) {
    sim.with_state(|s| {
        s.form_network(PAN, EXT_PAN, CHANNEL, KEY);
        for i in 0..s.devices.len() {
            s.join(i);
        }
    });
}

/// Runs the venv's python with `args` to completion within [`TOOL_TIMEOUT`]; panics with
/// its output when it fails. Returns its standard output.
async fn run_python(args: &[&str]) -> String {
    let mut cmd = Command::new(interop_python::interop_python());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().expect("start the interop venv's python");
    let out = tokio::time::timeout(TOOL_TIMEOUT, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("python {args:?} did not finish within {TOOL_TIMEOUT:?}"))
        .expect("wait for python");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "python {args:?} rejected the simulator ({}):\n{stderr}",
        out.status
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `python -m module args...` (a zigpy-znp tool).
async fn run_tool(module: &str, args: &[&str]) -> String {
    let mut all = vec!["-m", module];
    all.extend_from_slice(args);
    run_python(&all).await
}

/// The host-side address of the simulator as zigpy-znp spells it.
fn zigpy_path(sim: &ZnpSim) -> String {
    let url = sim.url();
    match url.strip_prefix("tcp://") {
        Some(addr) => format!("socket://{addr}"),
        None => url,
    }
}

async fn backup(sim: &ZnpSim, dir: &Path, name: &str) -> Json {
    let file = dir.join(name);
    let path = zigpy_path(sim);
    let file_arg = file.to_str().unwrap();
    run_tool("zigpy_znp.tools.network_backup", &[&path, "-o", file_arg]).await;
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a backup describes the network [`form_and_join`] made, with both devices.
fn assert_backup_is_the_simulators_network(b: &Json) {
    assert_eq!(b["metadata"]["format"], "zigpy/open-coordinator-backup");
    assert_eq!(b["coordinator_ieee"], format!("{COORDINATOR:016x}"));
    assert_eq!(b["pan_id"], format!("{PAN:04x}"));
    assert_eq!(b["extended_pan_id"], format!("{EXT_PAN:016x}"));
    assert_eq!(b["channel"], u64::from(CHANNEL));
    assert_eq!(b["channel_mask"], serde_json::json!([CHANNEL]));
    assert_eq!(b["network_key"]["key"], hex(&KEY));
    assert_eq!(b["security_level"], 5);
    let devices = b["devices"].as_array().unwrap();
    let ieees: Vec<&str> = devices
        .iter()
        .map(|d| d["ieee_address"].as_str().unwrap())
        .collect();
    assert_eq!(
        ieees,
        [format!("{SENSOR:016x}"), format!("{PLUG:016x}")],
        "{devices:?}"
    );
    // The sensor is a sleepy end device (a child), the plug a router.
    assert_eq!(devices[0]["nwk_address"], "3101");
    assert_eq!(devices[0]["is_child"], true);
    assert_eq!(devices[1]["is_child"], false);
    assert!(devices[1]["link_key"]["key"].is_string(), "{devices:?}");
    let version = &b["metadata"]["internal"]["zstack"]["version"];
    assert_eq!(version, 3.3, "zigpy-znp must identify Z-Stack 3.30");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_backup_over_tcp_reads_the_simulators_network() {
    let sim = ZnpSim::start_tcp(config(COORDINATOR), 0).await.unwrap();
    form_and_join(&sim);
    let dir = tempfile::tempdir().unwrap();
    let b = backup(&sim, dir.path(), "backup.json").await;
    assert_backup_is_the_simulators_network(&b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_backup_over_a_pty_reads_the_simulators_network() {
    let sim = ZnpSim::start_pty(config(COORDINATOR)).await.unwrap();
    form_and_join(&sim);
    let dir = tempfile::tempdir().unwrap();
    let b = backup(&sim, dir.path(), "backup.json").await;
    assert_backup_is_the_simulators_network(&b);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_restored_onto_a_new_stick_backs_up_the_same_network() {
    let old = ZnpSim::start_tcp(config(COORDINATOR), 0).await.unwrap();
    form_and_join(&old);
    let dir = tempfile::tempdir().unwrap();
    let first = backup(&old, dir.path(), "first.json").await;
    drop(old);

    // A factory-new stick with another IEEE address takes the network over.
    let new = ZnpSim::start_tcp(config(0x0012_4B00_0000_BEEF), 0)
        .await
        .unwrap();
    let first_file = dir.path().join("first.json");
    // serialx also takes tcp:// URLs.
    let path = new.url();
    assert!(path.starts_with("tcp://127.0.0.1:"), "{path}");
    run_tool(
        "zigpy_znp.tools.network_restore",
        &[&path, "-i", first_file.to_str().unwrap()],
    )
    .await;
    // The simulated firmware runs the restored network, not the temporary one zigpy-znp
    // formed on the way, and has adopted the old coordinator's address.
    let (pan, ext, channel, key) = new.with_state(|s| s.network());
    assert_eq!((pan, ext, channel, key), (PAN, EXT_PAN, CHANNEL, KEY));
    assert_eq!(new.with_state(|s| s.ieee), COORDINATOR);

    let second = backup(&new, dir.path(), "second.json").await;
    assert_backup_is_the_simulators_network(&second);
    for field in ["devices", "stack_specific", "nwk_update_id"] {
        assert_eq!(
            first[field], second[field],
            "{field} changed in the round trip"
        );
    }
    let counter = |b: &Json| b["network_key"]["frame_counter"].as_u64().unwrap();
    // network_restore moves the frame counter on by its default increment.
    assert_eq!(counter(&second), counter(&first) + 2500);

    // usphub's own ZNP backend resumes the restored network instead of forming one.
    let backend = ZnpBackend::new(port_connector(new.port_spec()), ZnpBackendConfig::default());
    let (tx, _rx) = tokio::sync::mpsc::channel(64);
    let settings = NetworkSettings {
        pan_id: PAN,
        extended_pan_id: EXT_PAN,
        channel: CHANNEL,
        network_key: KEY,
    };
    let info = backend.start(settings, tx).await.unwrap();
    assert!(!info.formed, "{info:?}");
    assert_eq!((info.ieee, info.pan_id), (COORDINATOR, PAN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn network_formed_by_usphub_backs_up_through_zigpy_znp() {
    let sim = ZnpSim::start_tcp(config(COORDINATOR), 0).await.unwrap();
    let backend = ZnpBackend::new(port_connector(sim.port_spec()), ZnpBackendConfig::default());
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let settings = NetworkSettings {
        pan_id: PAN,
        extended_pan_id: EXT_PAN,
        channel: CHANNEL,
        network_key: KEY,
    };
    let info = backend.start(settings, tx).await.unwrap();
    assert!(info.formed);
    // Both scenario devices join while usphub permits joining.
    backend.permit_join(30).await.unwrap();
    let mut joined = std::collections::HashSet::new();
    while joined.len() < 2 {
        let event = tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("devices join in time")
            .expect("backend events");
        if let BackendEvent::DeviceJoined { ieee, .. } = event {
            joined.insert(ieee);
        }
    }
    // usphub lets go of the port once its backend and event receiver are dropped (as when
    // the bridge stops); zigpy-znp takes over.
    drop(backend);
    drop(rx);
    tokio::time::timeout(Duration::from_secs(10), sim.wait_idle())
        .await
        .expect("usphub's ZNP backend still holds the port");

    let dir = tempfile::tempdir().unwrap();
    let b = backup(&sim, dir.path(), "backup.json").await;
    assert_backup_is_the_simulators_network(&b);
}

/// zigpy's application as zigpy-znp's README starts it (auto_form): it forms a network
/// (on the channel given, or, given `scan`, on the one zigpy picks from an energy scan of a
/// temporary network), permits joining, waits for the plug to join and for zigpy's
/// interview to have read its endpoints and model, reads its Basic and On/Off attributes and
/// switches it on. Prints one JSON object.
const APP_SCRIPT: &str = r#"
import asyncio, json, logging, os, sys
from zigpy_znp.zigbee.application import ControllerApplication

PATH, PLUG, CHANNEL = sys.argv[1], sys.argv[2], sys.argv[3]
if os.environ.get("USPHUB_ZIGPY_DEBUG"):
    logging.basicConfig(level=logging.DEBUG)

class Listener:
    def __init__(self, fut):
        self.fut = fut
    def device_joined(self, device):
        if str(device.ieee).replace(":", "") == PLUG and not self.fut.done():
            self.fut.set_result(device)

async def interviewed(dev):
    # zigpy's interview: Node, Active Endpoints and Simple Descriptors over ZDO, then the
    # Basic cluster's manufacturer and model.
    while dev.model is None or 1 not in dev.endpoints:
        await asyncio.sleep(0.05)

async def main():
    config = {"device": {"path": PATH}}
    if CHANNEL != "scan":
        config["network"] = {"channel": int(CHANNEL)}
    app = await ControllerApplication.new(config, auto_form=True)
    try:
        fut = asyncio.get_running_loop().create_future()
        app.add_listener(Listener(fut))
        await app.permit(60)
        dev = await asyncio.wait_for(fut, 30)
        await asyncio.wait_for(interviewed(dev), 30)
        ep = dev.endpoints[1]
        basic, _ = await ep.basic.read_attributes(["manufacturer", "model"])
        on_off, _ = await ep.on_off.read_attributes(["on_off"])
        await ep.on_off.on()
        net = app.state.network_info
        print(json.dumps({
            "pan_id": int(net.pan_id),
            "channel": int(net.channel),
            "coordinator": str(app.state.node_info.ieee).replace(":", ""),
            "nwk": int(dev.nwk),
            "manufacturer": basic["manufacturer"],
            "model": basic["model"],
            "on_off": bool(on_off["on_off"]),
        }))
    finally:
        await app.shutdown()

asyncio.run(main())
"#;

/// Runs [`APP_SCRIPT`] against `sim` (which has only the plug) and checks what zigpy saw;
/// `channel` is the network's channel, `None` to let zigpy scan (the simulator's quietest
/// channel is 20).
async fn application_reads_the_plug(sim: &ZnpSim, channel: Option<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("app.py");
    std::fs::write(&script, APP_SCRIPT).unwrap();
    let path = zigpy_path(sim);
    let plug = format!("{PLUG:016x}");
    let arg = channel.map_or("scan".to_owned(), |c| c.to_string());
    let out = run_python(&[script.to_str().unwrap(), &path, &plug, &arg]).await;
    let r: Json = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));

    let (pan, _, sim_channel, _) = sim.with_state(|s| s.network());
    assert_eq!(r["pan_id"], u64::from(pan), "{r}");
    let expected = channel.unwrap_or(20);
    assert_eq!(
        (r["channel"].as_u64(), sim_channel),
        (Some(expected.into()), expected),
        "{r}"
    );
    assert_eq!(r["coordinator"], format!("{COORDINATOR:016x}"));
    assert_eq!(r["nwk"], 0x3102);
    assert_eq!(r["manufacturer"], "usphub");
    assert_eq!(r["model"], "SIM-PLUG");
    assert_eq!(r["on_off"], false);
    // zigpy's On command reached the simulated plug.
    let on = sim.attribute(PLUG, 1, 0x0006, 0x0000).map(|v| v.value);
    assert_eq!(on, Some(usphub_bridges::zigbee::zcl::ZclValue::Bool(true)));
}

fn plug_only() -> ZnpSimConfig {
    let scenario = Scenario::parse(
        r#"
        [[device]]
        preset = "plug"
        ieee = "00124b0000000102"
        nwk = 0x3102
        "#,
    )
    .unwrap();
    ZnpSimConfig {
        ieee: COORDINATOR,
        scenario,
        require_bootloader_skip: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zigpy_application_forms_a_network_and_reads_a_joined_plug_over_tcp() {
    let sim = ZnpSim::start_tcp(plug_only(), 0).await.unwrap();
    application_reads_the_plug(&sim, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zigpy_application_forms_a_network_and_reads_a_joined_plug_over_a_pty() {
    let sim = ZnpSim::start_pty(plug_only()).await.unwrap();
    application_reads_the_plug(&sim, Some(15)).await;
}
