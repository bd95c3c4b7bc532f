//! Test support shared by the BLE end-to-end tests: a private D-Bus daemon and the BlueZ
//! stand-in (`bluez_standin.py`) driven over its stdin/stdout.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::broadcast;
use usphub_bridges::api::BridgeEvent;

pub const WAIT: Duration = Duration::from_secs(30);
pub const BTHOME: &str = "0000fcd2-0000-1000-8000-00805f9b34fb";
pub const MIBEACON: &str = "0000fe95-0000-1000-8000-00805f9b34fb";

/// A private D-Bus daemon whose address is exported as `DBUS_SYSTEM_BUS_ADDRESS`.
pub struct Bus {
    _daemon: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Bus {
    /// Starts the daemon and exports its address to this process (btleplug in-process).
    pub async fn start() -> Self {
        let bus = Self::private().await;
        // SAFETY: this binary holds one test, and nothing else reads the environment while
        // the variable is set; libdbus reads it later when btleplug connects.
        unsafe { std::env::set_var("DBUS_SYSTEM_BUS_ADDRESS", &bus.address) };
        bus
    }

    /// The daemon's address, for a child process's `DBUS_SYSTEM_BUS_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Starts the daemon without touching this process's environment.
    pub async fn private() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let address = format!("unix:path={}", dir.path().join("bus").display());
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address"])
            .arg(format!("--address={address}"))
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("dbus-daemon (Debian package dbus) must be installed: run scripts/setup");
        let mut lines = BufReader::new(daemon.stdout.take().unwrap()).lines();
        let printed = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("dbus-daemon printed no address");
        assert!(printed.starts_with("unix:"), "{printed}");
        Self {
            _daemon: daemon,
            address: printed,
            _dir: dir,
        }
    }
}

/// The BlueZ stand-in process on a [`Bus`].
pub struct StandIn {
    _bus: Bus,
    _python: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
}

impl StandIn {
    pub async fn start(bus: Bus) -> Self {
        // Through the workspace root: this module is also compiled into the agent's tests.
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../bridges/tests/bluez_standin.py");
        let mut python = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(&bus.address)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("/usr/bin/python3 with python3-dbusmock must be installed: run scripts/setup");
        let stdin = python.stdin.take().unwrap();
        let stdout = BufReader::new(python.stdout.take().unwrap()).lines();
        let mut s = Self {
            _bus: bus,
            _python: python,
            stdin,
            stdout,
        };
        s.expect_line("READY").await;
        s
    }

    pub async fn expect_line(&mut self, prefix: &str) {
        loop {
            let line = tokio::time::timeout(WAIT, self.stdout.next_line())
                .await
                .unwrap_or_else(|_| panic!("stand-in never printed {prefix}"))
                .unwrap()
                .unwrap_or_else(|| panic!("stand-in exited before {prefix}"));
            if line.starts_with(prefix) {
                return;
            }
        }
    }

    pub async fn send(&mut self, json: String) {
        self.stdin.write_all(json.as_bytes()).await.unwrap();
        self.stdin.write_all(b"\n").await.unwrap();
        self.stdin.flush().await.unwrap();
        self.expect_line("SENT").await;
    }

    pub async fn advert(&mut self, address: &str, name: &str, uuid: &str, hex: &str) {
        let cmd = format!(
            "{{\"advert\":\"{address}\",\"name\":\"{name}\",\"rssi\":-61,\"service_data\":{{\"{uuid}\":\"{hex}\"}}}}\n"
        );
        self.stdin.write_all(cmd.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
        self.expect_line("SENT").await;
    }
}

pub async fn next(
    rx: &mut broadcast::Receiver<BridgeEvent>,
    what: &str,
    f: impl Fn(&BridgeEvent) -> bool,
) -> BridgeEvent {
    tokio::time::timeout(WAIT, async {
        loop {
            let e = rx.recv().await.unwrap();
            if f(&e) {
                return e;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} event"))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn value_of(e: &BridgeEvent) -> (String, String) {
    match e {
        BridgeEvent::Value {
            capability, value, ..
        } => (capability.to_string(), value.to_string()),
        other => panic!("not a value: {other:?}"),
    }
}
