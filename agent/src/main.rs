//! The `usphub` command: the agent daemon (`run`), the embedded default (`demo`), and a
//! Controller for humans and scripts (`ctl`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing::{error, info};
use usphub::config::{Config, ControllerConfig, MqttConfig, RadioConfig, Role, WsServerConfig};
use usphub_bridges::zigbee::config::ZigbeeSection;

#[derive(Parser)]
#[command(
    name = "usphub",
    version,
    about = "USP (TR-369) agent for smart-home hubs"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs the agent (daemon).
    Run(RunArgs),
    /// Runs the agent on its embedded default: WebSocket on loopback, a local state file.
    Demo {
        /// WebSocket server address.
        #[arg(long, default_value = "127.0.0.1:5683")]
        ws_listen: SocketAddr,
    },
    /// A USP Controller on the command line.
    Ctl(usphub::ctl::CtlArgs),
    /// A radio's simulator on a loopback TCP port or a pseudo-terminal (no hardware).
    Sim(usphub::sim::SimArgs),
    /// Lists the USB serial ports and what each one was identified as.
    Dongles {
        /// Probe sticks whose USB identity is ambiguous (opens the port briefly).
        #[arg(long)]
        probe: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// TOML configuration file (docs/CONFIG.md).
    #[arg(long)]
    config: Option<PathBuf>,
    /// The agent's EndpointID.
    #[arg(long)]
    endpoint_id: Option<String>,
    /// The database file.
    #[arg(long)]
    db: Option<PathBuf>,
    /// MQTT broker, `mqtt://HOST:PORT`.
    #[arg(long)]
    mqtt: Option<String>,
    /// The MQTT topic the agent subscribes to.
    #[arg(long)]
    agent_topic: Option<String>,
    /// WebSocket server address (ADDR:PORT).
    #[arg(long)]
    ws_listen: Option<SocketAddr>,
    /// Connect to this Controller WebSocket endpoint (`ws://HOST:PORT/PATH`); it is the
    /// first `--controller` given.
    #[arg(long)]
    ws_connect: Option<String>,
    /// A trusted Controller (full access): `ENDPOINT_ID[=MQTT_REPLY_TOPIC]`; repeatable.
    #[arg(long = "controller")]
    controllers: Vec<String>,
    /// Enable the Bluetooth LE bridge (BlueZ on the system bus that
    /// DBUS_SYSTEM_BUS_ADDRESS names).
    #[arg(long)]
    ble: bool,
    /// The BlueZ adapter to use (implies --ble), e.g. hci0.
    #[arg(long)]
    ble_adapter: Option<String>,
    /// The Zigbee coordinator: a serial device (`/dev/serial/by-id/...?baud=115200`) or
    /// `tcp://HOST:PORT`; overrides `[zigbee] port`.
    #[arg(long, value_name = "PORT_OR_URL")]
    zigbee: Option<String>,
    /// The Zigbee coordinator's firmware family: znp (TI Z-Stack), ezsp (Silicon Labs
    /// EmberZNet), or auto (probe the port at start-up).
    #[arg(long, value_name = "BACKEND")]
    zigbee_backend: Option<String>,
    /// The Z-Wave controller stick: a serial device or `tcp://HOST:PORT`; overrides
    /// `[zwave] port`.
    #[arg(long, value_name = "PORT_OR_URL")]
    zwave: Option<String>,
    /// Permit joining on every radio for this many seconds at start-up.
    #[arg(long)]
    permit_join: Option<u32>,
    /// Benchmarks only: mounts this many fixture devices (8 capabilities each) under
    /// Device.ProxiedDevice. (see docs/PERFORMANCE.md).
    #[arg(long, hide = true)]
    bench_fixture_devices: Option<usize>,
    /// Benchmarks only: attaches the simulated BLE radio with this many sensors (the real
    /// BLE bridge decoding simulated adverts, as `usphub demo` does).
    #[arg(long, hide = true)]
    bench_ble_sim: Option<usize>,
}

/// `pow` from the pure-Rust `libm` crate (musl's implementation). tokio's scheduler (its
/// poll-time average) is the only user of glibc's libm in the agent, and loading libm.so for
/// that one function cost 0.5 MB of an idle agent's RSS; defined here, the linker resolves
/// the call to this and leaves libm out (`--as-needed`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[unsafe(no_mangle)]
pub extern "C" fn pow(x: f64, y: f64) -> f64 {
    libm::pow(x, y)
}

fn main() -> ExitCode {
    usphub::memory::tune_allocator();
    let cli = Cli::parse();
    // The daemon logs what it does; the command-line tools only what went wrong.
    use tracing_subscriber::filter::LevelFilter;
    let default_level = match cli.cmd {
        Cmd::Run(_) | Cmd::Demo { .. } | Cmd::Sim(_) => LevelFilter::INFO,
        Cmd::Ctl(_) | Cmd::Dongles { .. } => LevelFilter::WARN,
    };
    let fmt = tracing_subscriber::fmt().with_writer(std::io::stderr);
    // RUST_LOG's per-module directives need EnvFilter; without them a plain level is enough,
    // and cheaper for every log call site.
    match tracing_subscriber::EnvFilter::try_from_default_env() {
        Ok(filter) => fmt.with_env_filter(filter).init(),
        Err(_) => fmt.with_max_level(default_level).init(),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("usphub: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        match cli.cmd {
            Cmd::Run(args) => {
                let extra = args
                    .bench_fixture_devices
                    .map(Extra::Fixture)
                    .or(args.bench_ble_sim.map(Extra::BleSim));
                match run_config(args) {
                    Ok(cfg) => serve(cfg, extra).await,
                    Err(e) => {
                        eprintln!("usphub: {e}");
                        ExitCode::from(2)
                    }
                }
            }
            Cmd::Demo { ws_listen } => serve(demo_config(ws_listen), Some(Extra::Demo)).await,
            Cmd::Ctl(args) => usphub::ctl::main(args).await,
            Cmd::Sim(args) => usphub::sim::main(args).await,
            Cmd::Dongles { probe, json } => dongles(probe, json).await,
        }
    })
}

fn run_config(a: RunArgs) -> Result<Config, String> {
    let mut cfg = match &a.config {
        Some(path) => Config::load(path).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    if let Some(id) = a.endpoint_id {
        cfg.endpoint_id = id;
    }
    if let Some(db) = a.db {
        cfg.db = db;
    }
    if let Some(url) = a.mqtt {
        let rest = url
            .strip_prefix("mqtt://")
            .ok_or_else(|| format!("--mqtt {url}: expected mqtt://HOST:PORT"))?;
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| format!("--mqtt {url}: expected mqtt://HOST:PORT"))?;
        let port = port
            .parse()
            .map_err(|_| format!("--mqtt {url}: bad port"))?;
        let m = cfg.mqtt.get_or_insert_with(MqttConfig::default);
        m.host = host.to_string();
        m.port = port;
    }
    if let Some(topic) = a.agent_topic {
        cfg.mqtt.get_or_insert_with(MqttConfig::default).agent_topic = topic;
    }
    if a.ble || a.ble_adapter.is_some() {
        let ble = cfg.ble.get_or_insert_with(Default::default);
        if a.ble_adapter.is_some() {
            ble.adapter = a.ble_adapter;
        }
    }
    if let Some(port) = a.zigbee {
        match &mut cfg.zigbee {
            Some(z) => z.port = port,
            None => cfg.zigbee = Some(ZigbeeSection::new(port)),
        }
    }
    if let Some(b) = a.zigbee_backend {
        let z = cfg
            .zigbee
            .as_mut()
            .ok_or("--zigbee-backend needs --zigbee or a [zigbee] section")?;
        z.backend = b.parse().map_err(|e| format!("--zigbee-backend: {e}"))?;
    }
    if let Some(port) = a.zwave {
        match &mut cfg.zwave {
            Some(z) => z.port = port,
            None => cfg.zwave = Some(RadioConfig::new(port)),
        }
    }
    if let Some(s) = a.permit_join {
        cfg.permit_join_s = s;
    }
    if let Some(addr) = a.ws_listen {
        cfg.websocket
            .get_or_insert_with(WsServerConfig::default)
            .listen = addr;
    }
    for c in a.controllers {
        let (eid, topic) = match c.split_once('=') {
            Some((e, t)) => (e.to_string(), Some(t.to_string())),
            None => (c, None),
        };
        cfg.controllers.push(ControllerConfig {
            endpoint_id: eid,
            role: Role::Full,
            mqtt_topic: topic,
            ws_url: None,
        });
    }
    if let Some(url) = a.ws_connect {
        let c = cfg.controllers.first_mut().ok_or(
            "--ws-connect needs a --controller (the EndpointID of the Controller at that URL)",
        )?;
        c.ws_url = Some(url);
    }
    cfg.check().map_err(|e| e.to_string())?;
    Ok(cfg)
}

/// The embedded default: loopback WebSocket, state under the temp directory, and the
/// `usphub ctl` Controller trusted with full access.
fn demo_config(ws_listen: SocketAddr) -> Config {
    Config {
        endpoint_id: "self::usphub-demo".into(),
        db: std::env::temp_dir().join("usphub-demo").join("usphub.redb"),
        websocket: Some(WsServerConfig {
            listen: ws_listen,
            path: "/usp".into(),
        }),
        controllers: [
            usphub::ctl::DEFAULT_CONTROLLER_ID,
            usphub::ctl::WATCH_CONTROLLER_ID,
        ]
        .into_iter()
        .map(|id| ControllerConfig {
            endpoint_id: id.into(),
            role: Role::Full,
            mqtt_topic: None,
            ws_url: None,
        })
        .collect(),
        // The demo's radios are simulated: a real stick plugged in must not join them (it
        // would share their state files).
        dongles: usphub::hotplug::AutoStartConfig {
            enable: false,
            ..Default::default()
        },
        ..Config::default()
    }
}

/// What runs beside the agent.
enum Extra {
    /// Simulated radios (`usphub demo`).
    Demo,
    /// Fixture devices for benchmarks.
    Fixture(usize),
    /// A simulated BLE radio with this many sensors, for benchmarks.
    BleSim(usize),
}

/// `n` simulated BLE sensors, all configured: mostly thermometers (BTHome and encrypted
/// MiBeacon), some buttons and door sensors, one round of adverts every 5 s.
fn bench_ble_scenario(n: usize) -> usphub_bridges::ble::sim::SimScenario {
    use usphub_bridges::ble::sim::{SimKind, SimScenario, SimSensor};
    let key = usphub_bridges::ble::crypto::BindKey([0x5a; 16]);
    let sensors = (0..n)
        .map(|i| {
            let kind = match i % 10 {
                0..=4 => SimKind::BthomeThermometer,
                5..=6 => SimKind::MiBeaconThermometer(key.clone()),
                7 => SimKind::BthomeButton,
                _ => SimKind::BthomeDoor,
            };
            let [hi, lo] = (i as u16).to_be_bytes();
            SimSensor {
                address: usphub_bridges::api::BleAddress([0xA4, 0xC1, 0x38, 0x10, hi, lo]),
                name: format!("BENCH_{i:04}"),
                kind,
            }
        })
        .collect();
    SimScenario {
        sensors,
        joinable: Vec::new(),
        interval: std::time::Duration::from_secs(5),
    }
}

async fn serve(cfg: Config, extra: Option<Extra>) -> ExitCode {
    let state_dir = cfg.db.parent().map(|p| p.to_path_buf()).unwrap_or_default();
    let cfg_radios = cfg.clone();
    let agent = match usphub::agent::start(cfg).await {
        Ok(a) => a,
        Err(e) => {
            error!(error = %e, "agent could not start");
            eprintln!("usphub: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut _radios = None;
    let mut _ble_sim = None;
    match extra {
        Some(Extra::Fixture(n)) => {
            if let Err(e) = usp_datamodel::fixture::populate(&agent.dm, n, 8).await {
                eprintln!("usphub: fixture devices: {e}");
                agent.shutdown().await;
                return ExitCode::FAILURE;
            }
        }
        Some(Extra::BleSim(n)) => {
            let (ble, task) = usphub_bridges::ble::sim::start(
                &usphub_bridges::ble::BleSettings::default(),
                bench_ble_scenario(n),
            );
            if let Err(e) = agent.proxy.attach(ble).await {
                eprintln!("usphub: simulated BLE radio: {e}");
                agent.shutdown().await;
                return ExitCode::FAILURE;
            }
            _ble_sim = Some(task);
        }
        Some(Extra::Demo) => match usphub::demo::start(&agent, &state_dir).await {
            Ok(r) => _radios = Some(r),
            Err(e) => {
                eprintln!("usphub: demo radios: {e}");
                agent.shutdown().await;
                return ExitCode::FAILURE;
            }
        },
        None => {}
    }
    let _bridges = match usphub::radios::start_configured(&agent, &cfg_radios, &state_dir).await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("usphub: {e}");
            agent.shutdown().await;
            return ExitCode::FAILURE;
        }
    };
    println!("EndpointID: {}", agent.endpoint_id);
    println!("Data model root: Device.");
    if let Some(addr) = agent.ws_addr {
        println!("WebSocket: ws://{addr}/usp (subprotocol v1.usp)");
        println!("Try: usphub ctl --url ws://{addr}/usp get Device.DeviceInfo.");
    }
    usphub::signals::terminated().await;
    info!("stopping");
    agent.shutdown().await;
    ExitCode::SUCCESS
}

async fn dongles(probe: bool, json: bool) -> ExitCode {
    use usphub_udev::{ProbeConfig, ProbeMode, SysRoots};
    let mode = if probe {
        ProbeMode::WhenAmbiguous
    } else {
        ProbeMode::Never
    };
    match usphub_udev::list_dongles(&SysRoots::default(), mode, &ProbeConfig::default()).await {
        Ok(ids) if json => match serde_json::to_string_pretty(&ids) {
            Ok(s) => {
                println!("{s}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("usphub dongles: {e}");
                ExitCode::FAILURE
            }
        },
        Ok(ids) => {
            print!("{}", usphub_udev::render_table(&ids));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("usphub dongles: cannot list serial ports: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    #[test]
    fn the_binarys_pow_is_exact_where_pow_is_exact_and_close_elsewhere() {
        assert_eq!(super::pow(2.0, 10.0), 1024.0);
        assert_eq!(super::pow(10.0, -2.0), 0.01);
        assert_eq!(super::pow(0.0, 0.0), 1.0);
        assert!(super::pow(-8.0, 0.5).is_nan());
        // tokio's use: (1 - alpha)^polls.
        let v = super::pow(0.9, 61.0);
        assert!((v - 0.001_617_309_269_922_990_6).abs() < 1e-18, "{v}");
        // Within one unit in the last place of sqrt(10).
        let v = super::pow(10.0, 0.5);
        assert!((v - 3.162_277_660_168_379_5).abs() <= 4.5e-16, "{v}");
    }
}
