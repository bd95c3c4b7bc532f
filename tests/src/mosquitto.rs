//! A real mosquitto broker for tests: started on 127.0.0.1 with a free port, stopped on
//! drop, and restartable on the same port to test broker restarts.
//!
//! The configuration enables `set_tcp_nodelay` (without it every round trip gains ~40 ms of
//! Nagle/delayed-ACK delay) and disables persistence, so a restart loses every session and
//! queued message: what an MQTT client must survive. No `pid_file`: running as root,
//! mosquitto drops to its own user and could not write one in a root-owned temp dir.
//!
//! The binary is `$MOSQUITTO`, else `/usr/sbin/mosquitto`, else `mosquitto` on `PATH`. If it
//! is missing the harness panics: run `scripts/test` (or `scripts/setup`) to install it.
//! Tests never skip silently.

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a start may take before the harness gives up.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running mosquitto; killed when dropped.
#[derive(Debug)]
pub struct Mosquitto {
    port: u16,
    /// A second listener with TLS (certificates made by `openssl` in `dir`).
    tls_port: Option<u16>,
    dir: tempfile::TempDir,
    child: Option<Child>,
    starts: u32,
    /// Extra configuration lines.
    extra: String,
}

impl Mosquitto {
    /// Starts a broker on a free loopback port and waits until it accepts connections.
    pub fn start() -> Mosquitto {
        Self::start_inner(false, "")
    }

    /// Like [`Mosquitto::start`], with extra lines appended to the configuration (e.g.
    /// `max_packet_size 2000`).
    pub fn start_with_config(extra: &str) -> Mosquitto {
        Self::start_inner(false, extra)
    }

    /// Like [`Mosquitto::start`], plus a TLS listener whose certificate (for IP 127.0.0.1)
    /// is signed by a fresh test CA: see [`Mosquitto::tls_port`] and [`Mosquitto::ca_pem`].
    /// Needs the `openssl` command.
    pub fn start_with_tls() -> Mosquitto {
        Self::start_inner(true, "")
    }

    fn start_inner(tls: bool, extra: &str) -> Mosquitto {
        // Another process may take the port between our probe and mosquitto's bind: retry.
        for _ in 0..5 {
            let dir = tempfile::Builder::new()
                .prefix("usphub-mosquitto-")
                .tempdir()
                .unwrap_or_else(|e| panic!("cannot create a temp dir for mosquitto: {e}"));
            if tls {
                make_certificates(dir.path());
            }
            let mut m = Mosquitto {
                port: free_port(),
                tls_port: tls.then(free_port),
                dir,
                child: None,
                starts: 0,
                extra: extra.to_string(),
            };
            match m.try_start() {
                Ok(()) => return m,
                Err(e) => eprintln!("mosquitto on port {} failed: {e}", m.port),
            }
        }
        panic!("mosquitto did not start on any of 5 free ports (see the errors above)");
    }

    /// The host to connect to.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// The port it listens on (the same across restarts).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The TLS listener's port, when started with [`Mosquitto::start_with_tls`].
    pub fn tls_port(&self) -> Option<u16> {
        self.tls_port
    }

    /// The PEM of the CA that signed the TLS listener's certificate.
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("ca.crt"))
            .unwrap_or_else(|e| panic!("no test CA certificate: {e}"))
    }

    /// True while the broker process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Kills the broker (as a crash or power loss would) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the broker (SIGSTOP): connections stay open but nothing is read or answered,
    /// so a client's publishes stay unacknowledged. [`Mosquitto::stop`] still kills it.
    pub fn pause(&mut self) {
        let Some(child) = self.child.as_ref() else {
            panic!("mosquitto is not running");
        };
        let status = Command::new("kill")
            .arg("-STOP")
            .arg(child.id().to_string())
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
        assert!(status.success(), "kill -STOP failed: {status}");
    }

    /// Stops the broker and starts a fresh one on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.try_start() {
                Ok(()) => return,
                Err(e) if Instant::now() < deadline => {
                    eprintln!(
                        "mosquitto restart on port {} failed ({e}); retrying",
                        self.port
                    );
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("mosquitto did not restart on port {}: {e}", self.port),
            }
        }
    }

    fn try_start(&mut self) -> Result<(), String> {
        let bin = binary();
        self.starts += 1;
        let conf = self.dir.path().join("mosquitto.conf");
        let text = format!(
            "listener {} 127.0.0.1\nallow_anonymous true\npersistence false\n\
             set_tcp_nodelay true\nlog_dest stderr\nlog_type error\nlog_type warning\n",
            self.port
        );
        let mut text = text;
        text.push_str(&self.extra);
        text.push('\n');
        if let Some(tls_port) = self.tls_port {
            let d = self.dir.path().display();
            text.push_str(&format!(
                "listener {tls_port} 127.0.0.1\ncafile {d}/ca.crt\ncertfile {d}/server.crt\n\
                 keyfile {d}/server.key\n"
            ));
        }
        std::fs::write(&conf, text).map_err(|e| format!("write {}: {e}", conf.display()))?;
        let log_path = self
            .dir
            .path()
            .join(format!("mosquitto-{}.log", self.starts));
        let log = File::create(&log_path).map_err(|e| format!("log file: {e}"))?;
        let child = Command::new(&bin)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if !self.is_running() {
                self.child = None;
                return Err(format!("mosquitto exited: {}", read_log(&log_path)));
            }
            let ports = [Some(self.port), self.tls_port];
            let up = ports.iter().flatten().all(|&p| {
                let addr = (Ipv4Addr::LOCALHOST, p);
                TcpStream::connect_timeout(&addr.into(), Duration::from_millis(200)).is_ok()
            });
            if up {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        self.stop();
        Err(format!(
            "mosquitto did not accept connections: {}",
            read_log(&log_path)
        ))
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A test CA and a server identity for IP 127.0.0.1 that it signed, in PEM.
#[derive(Debug, Clone)]
pub struct TestCertificates {
    /// The CA certificate a client must trust.
    pub ca_pem: Vec<u8>,
    /// The server's certificate.
    pub server_cert_pem: Vec<u8>,
    /// The server's private key.
    pub server_key_pem: Vec<u8>,
    /// A client certificate (extended key usage clientAuth) signed by the same CA.
    pub client_cert_pem: Vec<u8>,
    /// The client certificate's private key.
    pub client_key_pem: Vec<u8>,
}

/// Makes [`TestCertificates`] with the `openssl` command in `dir` (for TLS servers in tests).
pub fn test_certificates(dir: &Path) -> TestCertificates {
    make_certificates(dir);
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("read {f}: {e}"));
    TestCertificates {
        ca_pem: read("ca.crt"),
        server_cert_pem: read("server.crt"),
        server_key_pem: read("server.key"),
        client_cert_pem: read("client.crt"),
        client_key_pem: read("client.key"),
    }
}

/// A test CA, a server certificate for IP 127.0.0.1 and a client certificate, both signed
/// by the CA, as PEM files in `dir`.
fn make_certificates(dir: &Path) {
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("write {name}: {e}"))
    };
    write(
        "server.ext",
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    );
    write(
        "client.ext",
        "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n",
    );
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let sign = "x509 -req -CA ca.crt -CAkey ca.key -CAcreateserial -days 2";
    let steps = [
        format!("req -x509 {ec} -keyout ca.key -out ca.crt -days 2 -subj /CN=usphub-test-CA"),
        format!("req {ec} -keyout server.key -out server.csr -subj /CN=127.0.0.1"),
        format!("{sign} -in server.csr -out server.crt -extfile server.ext"),
        format!("req {ec} -keyout client.key -out client.csr -subj /CN=usphub-test-client"),
        format!("{sign} -in client.csr -out client.crt -extfile client.ext"),
    ];
    for step in &steps {
        let args: Vec<&str> = step.split_whitespace().collect();
        let out = Command::new("openssl")
            .args(&args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run openssl ({e}); install the Debian package `openssl`")
            });
        assert!(
            out.status.success(),
            "openssl {step} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // mosquitto reads the key after dropping root for its own user.
    set_mode(dir, 0o755);
    for f in ["ca.crt", "server.crt", "server.key"] {
        set_mode(&dir.join(f), 0o644);
    }
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
}

fn read_log(p: &Path) -> String {
    let mut s = String::new();
    if let Ok(mut f) = File::open(p) {
        let _ = f.read_to_string(&mut s);
    }
    s
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free loopback port: {e}"))
}

/// The mosquitto binary, or a panic that says how to install it.
fn binary() -> PathBuf {
    if let Some(p) = std::env::var_os("MOSQUITTO") {
        return PathBuf::from(p);
    }
    let sbin = PathBuf::from("/usr/sbin/mosquitto");
    if sbin.exists() {
        return sbin;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join("mosquitto");
            if p.exists() {
                return p;
            }
        }
    }
    panic!(
        "mosquitto is not installed (looked at $MOSQUITTO, /usr/sbin/mosquitto and PATH). \
         Run scripts/test, which installs it (Debian package `mosquitto`)."
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_listener_comes_up_with_its_ca() {
        let m = Mosquitto::start_with_tls();
        let port = m.tls_port().expect("tls port");
        assert!(TcpStream::connect((m.host(), port)).is_ok());
        assert!(String::from_utf8_lossy(&m.ca_pem()).contains("BEGIN CERTIFICATE"));
    }

    #[test]
    fn broker_accepts_connections_and_restarts_on_the_same_port() {
        let mut m = Mosquitto::start();
        let port = m.port();
        assert!(TcpStream::connect((m.host(), port)).is_ok());
        m.stop();
        assert!(TcpStream::connect((m.host(), port)).is_err());
        m.restart();
        m.pause();
        assert!(m.is_running());
        m.restart();
        assert_eq!(m.port(), port);
        assert!(m.is_running());
        assert!(TcpStream::connect((m.host(), port)).is_ok());
    }
}
