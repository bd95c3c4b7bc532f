//! `usphub sim`: the radios' simulators as standalone commands, for people who develop
//! Controllers or host software without hardware. Each speaks its stick's real serial
//! protocol on a loopback TCP port or on a pseudo-terminal linked at a path of the user's
//! choosing, so `usphub run --zigbee tcp://127.0.0.1:PORT` (or the PTY path) drives it
//! exactly as it would drive a stick.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use tokio::net::TcpStream;
use tokio_serial::{SerialPort, SerialStream};
use tracing::{info, warn};
use usphub_bridges::zigbee::znp::sim::{SimPort, ZnpSim, ZnpSimConfig};
use usphub_bridges::zwave;

/// `usphub sim <radio>`.
#[derive(Args)]
pub struct SimArgs {
    #[command(subcommand)]
    radio: SimRadio,
}

#[derive(Subcommand)]
enum SimRadio {
    /// A TI Z-Stack ZNP Zigbee coordinator (MT protocol) with scripted devices.
    Znp(SimOpts),
    /// A Silicon Labs EmberZNet Zigbee NCP (EZSP over ASH) with scripted devices.
    Ezsp(SimOpts),
    /// A Z-Wave Serial API controller with scripted nodes.
    Zwave(SimOpts),
}

#[derive(Args)]
struct SimOpts {
    /// Serve on this loopback TCP address (port 0 picks a free port; it is printed).
    #[arg(long, conflicts_with = "pty")]
    listen: Option<SocketAddr>,
    /// Serve on a new pseudo-terminal and make PATH a symbolic link to it (removed on exit).
    #[arg(long)]
    pty: Option<PathBuf>,
    /// TOML scenario with the virtual devices (default: the demo's devices).
    #[arg(long)]
    scenario: Option<PathBuf>,
}

/// Why a simulator could not start.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct SimError(String);

/// Runs the simulator until SIGINT or SIGTERM.
pub async fn main(args: SimArgs) -> ExitCode {
    let result = match args.radio {
        SimRadio::Znp(o) => znp(o).await,
        SimRadio::Ezsp(o) => ezsp(o).await,
        SimRadio::Zwave(o) => zwave(o).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("usphub sim: {e}");
            ExitCode::FAILURE
        }
    }
}

const DEFAULT_LISTEN: &str = "127.0.0.1:0";

/// Simulators are development tools: they stay on the loopback interface.
fn loopback(listen: Option<SocketAddr>) -> Result<SocketAddr, SimError> {
    let addr = listen.unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("literal address"));
    if !addr.ip().is_loopback() {
        return Err(SimError(format!(
            "--listen {addr}: simulators listen on loopback addresses only"
        )));
    }
    Ok(addr)
}

async fn read_scenario(path: &Path, max: usize) -> Result<String, SimError> {
    let err = |e: &dyn std::fmt::Display| SimError(format!("{}: {e}", path.display()));
    let len = tokio::fs::metadata(path).await.map_err(|e| err(&e))?.len();
    if len > max as u64 {
        return Err(err(&format!("larger than {max} bytes")));
    }
    tokio::fs::read_to_string(path).await.map_err(|e| err(&e))
}

async fn znp(o: SimOpts) -> Result<(), SimError> {
    use usphub_bridges::zigbee::sim::Scenario;
    let text = match &o.scenario {
        Some(p) => read_scenario(p, 256 * 1024).await?,
        None => crate::demo::ZIGBEE_SCENARIO.to_string(),
    };
    let scenario = Scenario::parse(&text).map_err(|e| SimError(format!("scenario: {e}")))?;
    let config = ZnpSimConfig {
        ieee: crate::demo::ZIGBEE_COORDINATOR_IEEE,
        scenario,
        require_bootloader_skip: false,
    };
    let err = |e: std::io::Error| SimError(format!("ZNP simulator: {e}"));
    let sim = match &o.pty {
        Some(_) => ZnpSim::start_pty(config).await.map_err(err)?,
        None => {
            let addr = loopback(o.listen)?;
            if addr.ip() != std::net::Ipv4Addr::LOCALHOST {
                return Err(SimError(format!(
                    "--listen {addr}: the ZNP simulator listens on 127.0.0.1"
                )));
            }
            ZnpSim::start_tcp(config, addr.port()).await.map_err(err)?
        }
    };
    let _link = match (&o.pty, sim.port()) {
        (Some(link), SimPort::Pty(target)) => Some(PtyLink::create(target, link)?),
        _ => None,
    };
    announce("ZNP coordinator", &sim.url(), o.pty.as_deref());
    crate::signals::terminated().await;
    Ok(())
}

async fn ezsp(o: SimOpts) -> Result<(), SimError> {
    use usphub_bridges::zigbee::ezsp::sim::{EzspSim, EzspSimConfig};
    use usphub_bridges::zigbee::sim::Scenario;
    let text = match &o.scenario {
        Some(p) => read_scenario(p, 256 * 1024).await?,
        None => crate::demo::ZIGBEE_SCENARIO.to_string(),
    };
    let scenario = Scenario::parse(&text).map_err(|e| SimError(format!("scenario: {e}")))?;
    let config = EzspSimConfig {
        scenario,
        ..EzspSimConfig::default()
    };
    let err = |e: std::io::Error| SimError(format!("EZSP simulator: {e}"));
    let sim = match &o.pty {
        Some(_) => EzspSim::start_pty(config).await.map_err(err)?,
        None => {
            let addr = loopback(o.listen)?;
            if addr.ip() != std::net::Ipv4Addr::LOCALHOST {
                return Err(SimError(format!(
                    "--listen {addr}: the EZSP simulator listens on 127.0.0.1"
                )));
            }
            EzspSim::start_tcp(config, addr.port()).await.map_err(err)?
        }
    };
    let _link = match (&o.pty, sim.port()) {
        (Some(link), SimPort::Pty(target)) => Some(PtyLink::create(target, link)?),
        _ => None,
    };
    announce("EZSP coordinator", &sim.url(), o.pty.as_deref());
    crate::signals::terminated().await;
    Ok(())
}

async fn zwave(o: SimOpts) -> Result<(), SimError> {
    let listen = match &o.pty {
        Some(_) => DEFAULT_LISTEN.parse().expect("literal address"),
        None => loopback(o.listen)?,
    };
    let sim = zwave::sim::serve(&listen.to_string(), o.scenario.as_deref())
        .await
        .map_err(|e| SimError(e.to_string()))?;
    let _relay = match &o.pty {
        Some(link) => Some(PtyRelay::start(sim.addr(), link).await?),
        None => None,
    };
    announce("Z-Wave controller", &sim.url(), o.pty.as_deref());
    crate::signals::terminated().await;
    Ok(())
}

fn announce(what: &str, url: &str, pty: Option<&Path>) {
    match pty {
        Some(p) => {
            info!(port = %p.display(), "simulated {what} ready");
            println!("Simulated {what} on {}", p.display());
            println!("Try: usphub run --{} {}", flag_for(what), p.display());
        }
        None => {
            info!(%url, "simulated {what} ready");
            println!("Simulated {what} on {url}");
            println!("Try: usphub run --{} {url}", flag_for(what));
        }
    }
}

fn flag_for(what: &str) -> &'static str {
    if what.starts_with("Z-Wave") {
        "zwave"
    } else {
        "zigbee"
    }
}

/// A symbolic link to a PTY, removed when dropped. An existing file at the path is only
/// replaced when it is itself a symbolic link (a stale one from an earlier run).
struct PtyLink(PathBuf);

impl PtyLink {
    fn create(target: &Path, link: &Path) -> Result<PtyLink, SimError> {
        let err = |e: std::io::Error| SimError(format!("--pty {}: {e}", link.display()));
        match std::fs::symlink_metadata(link) {
            Ok(m) if m.file_type().is_symlink() => std::fs::remove_file(link).map_err(err)?,
            Ok(_) => {
                return Err(SimError(format!(
                    "--pty {}: exists and is not a symbolic link",
                    link.display()
                )));
            }
            Err(_) => {}
        }
        std::os::unix::fs::symlink(target, link).map_err(err)?;
        Ok(PtyLink(link.to_path_buf()))
    }
}

impl Drop for PtyLink {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0) {
            warn!(path = %self.0.display(), error = %e, "cannot remove the PTY link");
        }
    }
}

/// Serves a simulator that only listens on TCP on a PTY instead: the PTY's master side is
/// copied to and from one TCP connection to the simulator. The relay keeps the slave side
/// open, so a host may close and reopen the path; the simulator's state survives like a
/// powered stick's.
struct PtyRelay {
    _link: PtyLink,
    task: tokio::task::JoinHandle<()>,
}

impl PtyRelay {
    async fn start(sim: SocketAddr, link: &Path) -> Result<PtyRelay, SimError> {
        let err = |e: &dyn std::fmt::Display| SimError(format!("PTY: {e}"));
        let (mut master, slave) = SerialStream::pair().map_err(|e| err(&e))?;
        let name = slave
            .name()
            .ok_or_else(|| SimError("PTY without a name".into()))?;
        let link = PtyLink::create(Path::new(&name), link)?;
        let mut tcp = TcpStream::connect(sim).await.map_err(|e| err(&e))?;
        tcp.set_nodelay(true).map_err(|e| err(&e))?;
        let task = tokio::spawn(async move {
            let _slave = slave;
            match tokio::io::copy_bidirectional(&mut master, &mut tcp).await {
                Ok(_) => warn!("the simulator closed its connection; PTY relay stopped"),
                Err(e) => warn!(error = %e, "PTY relay stopped"),
            }
        });
        Ok(PtyRelay { _link: link, task })
    }
}

impl Drop for PtyRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}
