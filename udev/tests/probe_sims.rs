//! The identification probes against the project's simulators (ZNP, Z-Wave), a fake EZSP NCP
//! that answers RST with UG101's RSTACK example, and ports that answer nothing or garbage —
//! over loopback TCP and over a PTY pair (the serial path, as a real stick is opened).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_serial::SerialPort;

use usphub_bridges::api::SerialPortSpec;
use usphub_bridges::zigbee::znp::sim::{ZnpSim, ZnpSimConfig};
use usphub_bridges::zwave::sim::{SimHandle, scenario::Scenario, spawn_tcp};
use usphub_udev::{Evidence, Firmware, Kind, ProbeConfig, identify_spec, probe_port};

/// UG101's RSTACK example: version 2, reset code 2.
const UG101_RSTACK: [u8; 6] = [0xC1, 0x02, 0x02, 0x9B, 0x7B, 0x7E];
const RST: [u8; 4] = [0xC0, 0x38, 0xBC, 0x7E];

fn quick() -> ProbeConfig {
    ProbeConfig {
        zwave_timeout: Duration::from_millis(300),
        ash_timeout: Duration::from_millis(300),
        znp_timeout: Duration::from_millis(300),
        znp_bootloader_skip: true,
        ezsp_extra_bauds: vec![],
    }
}

async fn zwave_sim() -> SimHandle {
    spawn_tcp(&Scenario::demo(), "127.0.0.1:0").await.unwrap()
}

async fn znp_sim(require_skip: bool) -> ZnpSim {
    let config = ZnpSimConfig {
        ieee: 0x00124b0001020304,
        require_bootloader_skip: require_skip,
        ..ZnpSimConfig::default()
    };
    ZnpSim::start_tcp(config, 0).await.unwrap()
}

/// A fake NCP: answers every ASH RST with RSTACK, and reports what came before the RST.
async fn ezsp_fake() -> (SocketAddr, mpsc::UnboundedReceiver<Vec<u8>>, JoinHandle<()>) {
    ezsp_fake_ignoring(0).await
}

/// A fake NCP that ignores its first `ignore` RSTs (as one at another baud rate would).
async fn ezsp_fake_ignoring(
    mut ignore: usize,
) -> (SocketAddr, mpsc::UnboundedReceiver<Vec<u8>>, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let mut seen = Vec::new();
            let mut buf = [0u8; 512];
            loop {
                let n = match sock.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                seen.extend_from_slice(&buf[..n]);
                if let Some(at) = seen.windows(RST.len()).position(|w| w == RST) {
                    let _ = tx.send(seen[..at].to_vec());
                    seen.drain(..at + RST.len());
                    if ignore > 0 {
                        ignore -= 1;
                        continue;
                    }
                    if sock.write_all(&UG101_RSTACK).await.is_err() {
                        break;
                    }
                }
            }
        }
    });
    (addr, rx, task)
}

/// A peer that accepts and then either says nothing or streams garbage.
async fn bad_peer(garbage: bool) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut x: u32 = 0x1234_5678;
                let mut buf = [0u8; 64];
                loop {
                    if garbage {
                        // Includes every protocol's start bytes (0x01, 0x06, 0x7E, 0xFE, 0xC1).
                        let chunk: Vec<u8> = (0..64)
                            .map(|_| {
                                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                                (x >> 16) as u8
                            })
                            .collect();
                        if sock.write_all(&chunk).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    } else if matches!(sock.read(&mut buf).await, Ok(0) | Err(_)) {
                        return;
                    }
                }
            });
        }
    });
    (addr, task)
}

/// A PTY pair whose master side is relayed to `addr`; returns the slave's path.
struct PtyRelay {
    path: String,
    _slave: tokio_serial::SerialStream,
    task: JoinHandle<()>,
}

impl Drop for PtyRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pty_to(addr: SocketAddr) -> PtyRelay {
    let (mut master, slave) = tokio_serial::SerialStream::pair().unwrap();
    let path = slave.name().unwrap();
    // `pair()` neither sets TIOCEXCL nor takes a flock on the slave, so the probe's own
    // (exclusive) open of the path succeeds while `slave` stays open, for any user.
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let task = tokio::spawn(async move {
        let _ = tokio::io::copy_bidirectional(&mut master, &mut tcp).await;
    });
    // The slave end stays open here so the master never sees a hang-up between probes.
    PtyRelay {
        path,
        _slave: slave,
        task,
    }
}

/// The address of a simulator listening on loopback TCP, from its `tcp://` URL.
fn sim_addr(url: &str) -> SocketAddr {
    url.strip_prefix("tcp://").unwrap().parse().unwrap()
}

fn tcp_spec(addr: SocketAddr) -> SerialPortSpec {
    format!("tcp://{addr}").parse().unwrap()
}

#[tokio::test]
async fn znp_simulator_is_identified_over_tcp() {
    let sim = znp_sim(false).await;
    let id = identify_spec(&sim.url().parse().unwrap(), &quick()).await;
    assert_eq!(id.firmware, Firmware::Znp, "{:?}", id.evidence);
    assert_eq!(id.kind, Kind::Zigbee);
    assert!(matches!(&id.evidence, Evidence::Probe(d) if d.contains("SYS_PING")));
}

#[tokio::test]
async fn znp_stick_in_its_boot_loader_is_identified_after_the_skip_bytes() {
    let sim = znp_sim(true).await;
    let report = probe_port(&sim.url().parse().unwrap(), &[], &quick())
        .await
        .unwrap();
    assert_eq!(report.firmware, Firmware::Znp, "{}", report.detail);

    let without_skip = ProbeConfig {
        znp_bootloader_skip: false,
        ..quick()
    };
    let report = probe_port(&sim.url().parse().unwrap(), &[Firmware::Znp], &without_skip)
        .await
        .unwrap();
    assert_eq!(report.firmware, Firmware::Unknown);
}

#[tokio::test]
async fn zwave_simulator_is_identified_over_tcp_with_its_version() {
    let sim = zwave_sim().await;
    let id = identify_spec(&sim.url().parse().unwrap(), &quick()).await;
    assert_eq!(id.firmware, Firmware::ZWave, "{:?}", id.evidence);
    assert_eq!(id.kind, Kind::ZWave);
    let Evidence::Probe(detail) = &id.evidence else {
        panic!("{:?}", id.evidence)
    };
    assert!(detail.contains("Z-Wave"), "{detail}");
}

#[tokio::test]
async fn ezsp_ncp_is_identified_by_rstack_after_a_cancel() {
    let (addr, mut before_rst, _task) = ezsp_fake().await;
    let id = identify_spec(&tcp_spec(addr), &quick()).await;
    assert_eq!(id.firmware, Firmware::Ezsp, "{:?}", id.evidence);
    assert!(matches!(&id.evidence, Evidence::Probe(d) if d.contains("RSTACK")));
    // The Z-Wave probe's bytes came first, and CANCEL told the NCP to drop them.
    let prefix = before_rst.recv().await.unwrap();
    assert_eq!(prefix, [0x01, 0x03, 0x00, 0x15, 0xE9, 0x1A]);
}

#[tokio::test]
async fn silent_and_garbage_ports_are_unknown_within_the_timeouts() {
    for garbage in [false, true] {
        let (addr, _task) = bad_peer(garbage).await;
        let started = tokio::time::Instant::now();
        let id = identify_spec(&tcp_spec(addr), &quick()).await;
        assert_eq!(
            id.firmware,
            Firmware::Unknown,
            "garbage={garbage}: {:?}",
            id.evidence
        );
        assert_eq!(id.kind, Kind::Radio);
        // Three probes of 300 ms each, plus slack for a loaded machine.
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[tokio::test]
async fn closed_port_is_unknown_and_says_why() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (sock, _) = listener.accept().await.unwrap();
        drop(sock);
    });
    let report = probe_port(&tcp_spec(addr), &[], &quick()).await.unwrap();
    task.await.unwrap();
    assert_eq!(report.firmware, Firmware::Unknown);
    assert!(report.detail.contains("port failed"), "{}", report.detail);
}

#[tokio::test]
async fn unreachable_port_is_an_open_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    assert!(probe_port(&tcp_spec(addr), &[], &quick()).await.is_err());
}

#[tokio::test]
async fn each_firmware_is_identified_through_a_pty_pair() {
    let zwave = zwave_sim().await;
    let znp = znp_sim(true).await;
    let (ezsp, _rx, _task) = ezsp_fake().await;
    for (addr, want) in [
        (zwave.addr(), Firmware::ZWave),
        (sim_addr(&znp.url()), Firmware::Znp),
        (ezsp, Firmware::Ezsp),
    ] {
        let relay = pty_to(addr).await;
        let report = probe_port(&SerialPortSpec::device(&relay.path), &[], &quick())
            .await
            .unwrap();
        assert_eq!(report.firmware, want, "{}: {}", relay.path, report.detail);
    }
}

#[tokio::test]
async fn silent_pty_is_unknown() {
    let (_master, slave) = tokio_serial::SerialStream::pair().unwrap();
    let path = slave.name().unwrap();
    let report = probe_port(&SerialPortSpec::device(&path), &[], &quick())
        .await
        .unwrap();
    assert_eq!(report.firmware, Firmware::Unknown, "{}", report.detail);
}

#[tokio::test]
async fn candidates_limit_which_probes_are_sent() {
    let sim = zwave_sim().await;
    let report = probe_port(
        &sim.url().parse().unwrap(),
        &[Firmware::Znp, Firmware::Ezsp],
        &quick(),
    )
    .await
    .unwrap();
    assert_eq!(report.firmware, Firmware::Unknown);
    assert!(report.detail.contains("ezsp, znp"), "{}", report.detail);
}

#[tokio::test]
async fn znp_simulator_on_its_own_pty_is_identified_like_a_usb_stick() {
    for require_skip in [false, true] {
        let config = ZnpSimConfig {
            require_bootloader_skip: require_skip,
            ..ZnpSimConfig::default()
        };
        let sim = ZnpSim::start_pty(config).await.unwrap();
        let spec = sim.port_spec();
        assert!(!spec.is_tcp());
        let id = identify_spec(&spec, &quick()).await;
        assert_eq!(
            id.firmware,
            Firmware::Znp,
            "skip={require_skip}: {:?}",
            id.evidence
        );
        // The probe closed the port: the simulator still answers the next opener.
        let again = probe_port(&spec, &[Firmware::Znp], &quick()).await.unwrap();
        assert_eq!(again.firmware, Firmware::Znp);
    }
}

#[tokio::test]
async fn ezsp_ncp_at_another_baud_rate_is_found_and_its_rate_kept() {
    let (addr, _rx, _task) = ezsp_fake_ignoring(1).await;
    let relay = pty_to(addr).await;
    let config = ProbeConfig {
        ezsp_extra_bauds: vec![115_200, 57_600],
        ..quick()
    };
    let id = identify_spec(&SerialPortSpec::device(&relay.path), &config).await;
    assert_eq!(id.firmware, Firmware::Ezsp, "{:?}", id.evidence);
    assert_eq!(id.baud, 57_600);
    assert_eq!(id.port_spec().baud, 57_600);
    assert!(matches!(&id.evidence, Evidence::Probe(d) if d.ends_with("at 57600 baud")));

    // Network ports have no baud rate to try.
    let (addr, _rx, _task) = ezsp_fake_ignoring(1).await;
    let report = probe_port(&tcp_spec(addr), &[Firmware::Ezsp], &config)
        .await
        .unwrap();
    assert_eq!(report.firmware, Firmware::Unknown);
}
