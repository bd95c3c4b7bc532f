//! The `usphub` binary as a user runs it: `usphub sim znp|zwave` on a TCP port and a PTY,
//! `usphub run --zigbee … --zwave …` driving them, `usphub run --ble` on a BlueZ stand-in,
//! `usphub demo`, and a clean exit on SIGTERM (systemd's stop). A rusp-lib Controller checks
//! what the agent mounted.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};
use usphub_tests::controller::RuspController;

#[path = "../../bridges/tests/ble_common/mod.rs"]
mod ble_common;

const WAIT: Duration = Duration::from_secs(60);

/// A child `usphub` process, killed if the test ends before it exits.
struct Proc {
    child: Child,
    out: Lines<BufReader<ChildStdout>>,
}

impl Proc {
    fn spawn(args: &[&str], tmp: &Path) -> Proc {
        Self::spawn_env(args, tmp, &[])
    }

    fn spawn_env(args: &[&str], tmp: &Path, env: &[(&str, &str)]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_usphub"))
            .args(args)
            .envs(env.iter().copied())
            // `usphub demo` keeps its state under the temp directory.
            .env("TMPDIR", tmp)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("usphub starts");
        let out = BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        Proc { child, out }
    }

    /// The rest of the first stdout line that starts with `prefix`.
    async fn line_after(&mut self, prefix: &str) -> String {
        let find = async {
            while let Some(line) = self.out.next_line().await.expect("stdout readable") {
                if let Some(rest) = line.strip_prefix(prefix) {
                    return rest.to_string();
                }
            }
            panic!("usphub exited before printing {prefix:?}");
        };
        tokio::time::timeout(WAIT, find)
            .await
            .unwrap_or_else(|_| panic!("no {prefix:?} line within {WAIT:?}"))
    }

    /// Sends SIGTERM and waits for the exit.
    async fn terminate(mut self) -> ExitStatus {
        let pid = self.child.id().expect("still running").to_string();
        let kill = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(kill.success());
        tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("exits after SIGTERM")
            .expect("exit status")
    }
}

/// `ws://127.0.0.1:N/usp` from the agent's "WebSocket: ws://… (subprotocol v1.usp)" line.
async fn ws_url(agent: &mut Proc) -> String {
    let rest = agent.line_after("WebSocket: ").await;
    rest.split_whitespace()
        .next()
        .expect("URL on the WebSocket line")
        .to_string()
}

/// Waits until online proxied devices of every protocol in `want` are mounted.
async fn wait_for_protocols(c: &mut RuspController, want: &[&str]) {
    let want: BTreeSet<&str> = want.iter().copied().collect();
    for _ in 0..600 {
        let protocols = c.get_map("Device.ProxiedDevice.*.ProxyProtocol").await;
        let online = c.get_map("Device.ProxiedDevice.*.Online").await;
        let seen: BTreeSet<&str> = protocols
            .iter()
            .filter(|(k, _)| {
                let row = k.trim_end_matches("ProxyProtocol");
                online.get(&format!("{row}Online")).map(String::as_str) == Some("true")
            })
            .map(|(_, v)| v.as_str())
            .collect();
        if want.is_subset(&seen) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never saw online devices of {want:?}");
}

#[tokio::test]
async fn run_drives_the_sim_commands_over_tcp_and_pty_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut znp = Proc::spawn(&["sim", "znp", "--listen", "127.0.0.1:0"], tmp.path());
    let znp_url = znp.line_after("Simulated ZNP coordinator on ").await;
    assert!(znp_url.starts_with("tcp://127.0.0.1:"), "{znp_url}");

    let pty = tmp.path().join("zwave-stick");
    let pty_arg = pty.to_str().unwrap();
    let mut zwave = Proc::spawn(&["sim", "zwave", "--pty", pty_arg], tmp.path());
    zwave.line_after("Simulated Z-Wave controller on ").await;
    assert!(
        std::fs::symlink_metadata(&pty)
            .unwrap()
            .file_type()
            .is_symlink()
    );

    let db = tmp.path().join("state/usphub.redb");
    let mut agent = Proc::spawn(
        &[
            "run",
            "--endpoint-id",
            "self::cli-agent",
            "--db",
            db.to_str().unwrap(),
            "--ws-listen",
            "127.0.0.1:0",
            "--controller",
            "self::cli-controller",
            "--zigbee",
            &znp_url,
            "--zigbee-backend",
            "znp",
            "--zwave",
            pty_arg,
        ],
        tmp.path(),
    );
    let url = ws_url(&mut agent).await;
    let mut c = RuspController::websocket(&url, "self::cli-controller", "self::cli-agent").await;
    wait_for_protocols(&mut c, &["ZigBee", "Z-Wave"]).await;
    c.close().await;

    // No S0 key was configured: one was generated, kept private, for the next start.
    let key = tmp.path().join("state/zwave-s0.key");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);

    assert!(
        agent.terminate().await.success(),
        "agent exits 0 on SIGTERM"
    );
    assert!(zwave.terminate().await.success());
    assert!(
        std::fs::symlink_metadata(&pty).is_err(),
        "the PTY link is removed on exit"
    );
    assert!(znp.terminate().await.success());
}

#[tokio::test]
async fn demo_serves_all_three_simulated_radios() {
    let tmp = tempfile::tempdir().unwrap();
    let mut demo = Proc::spawn(&["demo", "--ws-listen", "127.0.0.1:0"], tmp.path());
    let url = ws_url(&mut demo).await;
    let mut c = RuspController::websocket(&url, "self::usphub-ctl", "self::usphub-demo").await;
    wait_for_protocols(&mut c, &["ZigBee", "Z-Wave", "X_USPHUB_BLE"]).await;
    c.close().await;
    assert!(demo.terminate().await.success());
}

#[tokio::test]
async fn run_refuses_an_unknown_zigbee_backend() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_usphub"))
        .args([
            "run",
            "--zigbee",
            "tcp://127.0.0.1:9",
            "--zigbee-backend",
            "deconz",
        ])
        .env("TMPDIR", tmp.path())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown Zigbee backend \"deconz\""), "{err}");
}

#[tokio::test]
async fn run_identifies_an_ezsp_coordinator_on_a_pty_by_probing() {
    let tmp = tempfile::tempdir().unwrap();
    let pty = tmp.path().join("zigbee-stick");
    let pty_arg = pty.to_str().unwrap();
    let mut ezsp = Proc::spawn(&["sim", "ezsp", "--pty", pty_arg], tmp.path());
    ezsp.line_after("Simulated EZSP coordinator on ").await;

    let db = tmp.path().join("state/usphub.redb");
    let mut agent = Proc::spawn(
        &[
            "run",
            "--endpoint-id",
            "self::cli-agent",
            "--db",
            db.to_str().unwrap(),
            "--ws-listen",
            "127.0.0.1:0",
            "--controller",
            "self::cli-controller",
            "--zigbee",
            pty_arg,
            "--zigbee-backend",
            "auto",
            // The scenario's contact sensor joins once joining is permitted.
            "--permit-join",
            "60",
        ],
        tmp.path(),
    );
    let url = ws_url(&mut agent).await;
    let mut c = RuspController::websocket(&url, "self::cli-controller", "self::cli-agent").await;
    wait_for_protocols(&mut c, &["ZigBee"]).await;
    let fw = c.get_map("Device.X_USPHUB_Bridge.1.Firmware").await;
    assert!(
        fw.values().next().is_some_and(|v| !v.is_empty()),
        "the coordinator's firmware is shown: {fw:?}"
    );
    c.close().await;
    assert!(agent.terminate().await.success());
    assert!(ezsp.terminate().await.success());
}

#[tokio::test]
async fn ctl_prints_a_full_tree_answer_of_several_hundred_kilobytes_and_fails_with_the_usp_error() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("state/usphub.redb");
    let mut agent = Proc::spawn(
        &[
            "run",
            "--endpoint-id",
            "self::cli-agent",
            "--db",
            db.to_str().unwrap(),
            "--ws-listen",
            "127.0.0.1:0",
            "--controller",
            "self::usphub-ctl",
            "--bench-fixture-devices",
            "300",
        ],
        tmp.path(),
    );
    let url = ws_url(&mut agent).await;
    let out = Command::new(env!("CARGO_BIN_EXE_usphub"))
        .args([
            "ctl",
            "--url",
            &url,
            "--agent",
            "self::cli-agent",
            "--json",
            "get",
            "Device.ProxiedDevice.",
        ])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.len() > 256 * 1024, "only {} bytes", stdout.len());
    assert!(stdout.contains("Device.ProxiedDevice.300."));

    // A refused request exits non-zero with the USP error code and message.
    let out = Command::new(env!("CARGO_BIN_EXE_usphub"))
        .args(["ctl", "--url", &url, "--agent", "self::cli-agent"])
        .args(["set", "Device.LocalAgent.EndpointID=other"])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.starts_with("error 7"), "{stdout}");
    assert!(agent.terminate().await.success());
}

/// Sends a sensor's advert until `path` (a wildcard Get) reads `want` somewhere, as a real
/// sensor advertises every few seconds until someone listens.
async fn advertise_until(
    standin: &mut ble_common::StandIn,
    c: &mut RuspController,
    service_data: &str,
    path: &str,
    want: &str,
) -> String {
    for _ in 0..300 {
        standin
            .advert(
                BTHOME_SENSOR,
                "ATC_8D18B2",
                ble_common::BTHOME,
                service_data,
            )
            .await;
        if let Some((k, _)) = c.get_map(path).await.into_iter().find(|(_, v)| v == want) {
            return k;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never read {want}");
}

const BTHOME_SENSOR: &str = "A4:C1:38:8D:18:B2";

#[tokio::test]
async fn run_with_ble_pairs_a_sensor_through_bluez_and_mounts_it_again_after_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let bus = ble_common::Bus::private().await;
    let address = bus.address().to_string();
    let mut standin = ble_common::StandIn::start(bus).await;
    let db = tmp.path().join("state/usphub.redb");
    let args = |permit: bool| {
        let mut a = vec![
            "run",
            "--endpoint-id",
            "self::ble-agent",
            "--db",
            db.to_str().unwrap(),
            "--ws-listen",
            "127.0.0.1:0",
            "--controller",
            "self::ble-controller",
            "--ble",
        ];
        if permit {
            a.extend(["--permit-join", "120"]);
        }
        a
    };
    let env = [("DBUS_SYSTEM_BUS_ADDRESS", address.as_str())];
    let readings = "Device.ProxiedDevice.*.IoTCapability.*.LevelSensor.Value";

    // Joining permitted at start-up: an unknown BTHome sensor is heard through BlueZ and paired.
    let mut agent = Proc::spawn_env(&args(true), tmp.path(), &env);
    let url = ws_url(&mut agent).await;
    standin.expect_line("DISCOVERING").await;
    let mut c = RuspController::websocket(&url, "self::ble-controller", "self::ble-agent").await;
    let first = advertise_until(&mut standin, &mut c, "4002ca0903bf13", readings, "25.06").await;
    let protocols = c.get_map("Device.ProxiedDevice.*.ProxyProtocol").await;
    assert_eq!(
        protocols.values().collect::<Vec<_>>(),
        ["X_USPHUB_BLE"],
        "{protocols:?}"
    );
    c.close().await;
    assert!(agent.terminate().await.success());

    // Joining closed after a restart: the paired sensor is mounted again, same row, new value.
    let mut agent = Proc::spawn_env(&args(false), tmp.path(), &env);
    let url = ws_url(&mut agent).await;
    standin.expect_line("DISCOVERING").await;
    let mut c = RuspController::websocket(&url, "self::ble-controller", "self::ble-agent").await;
    let again = advertise_until(&mut standin, &mut c, "4002d209", readings, "25.14").await;
    assert_eq!(again, first, "the sensor keeps its instance");
    c.close().await;
    assert!(agent.terminate().await.success());
}
