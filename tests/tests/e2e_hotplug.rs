//! Hot-plug end to end: the agent follows a udev stand-in (`ChannelSource`); the "plugged"
//! stick is the ZNP or EZSP coordinator simulator on a PTY, reached through a fake
//! `/dev/serial/by-id/` link and presented with a Sonoff ZBDongle-P's or a SkyConnect's USB
//! identity (so the agent identifies its firmware from the USB table, as on a hub). A
//! rusp-lib Controller sees the bridge start, a paired device come online, go offline when
//! the stick is pulled (its row kept), and come back under the same instance number when the
//! stick is plugged in again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusp_lib::usp::mod_Notify::OneOfnotification as N;
use tokio::sync::mpsc;
use usphub::agent::StartOptions;
use usphub::config::Config;
use usphub::hotplug::{
    ChannelSource, HotplugEvent, HotplugOptions, HotplugStatus, ProbeMode, SerialPortInfo,
    SysRoots, UsbInfo,
};
use usphub_bridges::zigbee::config::ZigbeeSection;
use usphub_bridges::zigbee::ezsp::sim::{EzspSim, EzspSimConfig};
use usphub_bridges::zigbee::sim::Scenario;
use usphub_bridges::zigbee::znp::sim::{SimPort, ZnpSim, ZnpSimConfig};
use usphub_tests::agent::{AGENT_EID, CONTROLLER, TestAgent};
use usphub_tests::controller::RuspController;

const LONG: Duration = Duration::from_secs(30);

/// A stick's USB identity, as its descriptors and udev's by-id link give it.
struct Model {
    vid: u16,
    pid: u16,
    serial: &'static str,
    manufacturer: &'static str,
    product: &'static str,
}

/// Sonoff ZBDongle-P: CP210x, identified as ZNP from its product string.
const SONOFF_P: Model = Model {
    vid: 0x10c4,
    pid: 0xea60,
    serial: "b8b49abd27a6ed11a280eba32981d111",
    manufacturer: "ITead",
    product: "Sonoff Zigbee 3.0 USB Dongle Plus",
};

/// Home Assistant SkyConnect: CP210x, identified as EZSP (115200, RTS/CTS).
const SKYCONNECT: Model = Model {
    vid: 0x10c4,
    pid: 0xea60,
    serial: "9e2adbd75b8beb119fe564a0f320645d",
    manufacturer: "Nabu Casa",
    product: "SkyConnect v1.0",
};

const SCENARIO: &str = r#"
[[device]]
preset = "plug"
ieee = "00124b0000e2e402"
model = "PLUG-HOTPLUG"
join = "on_permit"
"#;

/// A fake `/dev` (`ttyUSB0` -> the PTY, and the stick's by-id link to it) and sysfs, laid
/// out as the kernel and udev do; the stick is in sysfs only if present at start-up. The add
/// event carries the stick's identity as udev's monitor reads it.
struct FakeStick {
    _dir: tempfile::TempDir,
    roots: SysRoots,
    info: SerialPortInfo,
}

impl FakeStick {
    fn new(pty: &Path, model: &Model, present_at_start: bool) -> FakeStick {
        let dir = tempfile::tempdir().expect("temp dir");
        let roots = SysRoots {
            sys: dir.path().join("sys"),
            dev: dir.path().join("dev"),
        };
        let by_id_dir = roots.dev.join("serial/by-id");
        std::fs::create_dir_all(&by_id_dir).expect("fake /dev");
        std::os::unix::fs::symlink(pty, roots.dev.join("ttyUSB0")).expect("device node");
        let by_id: PathBuf = by_id_dir.join(
            format!(
                "usb-{}_{}_{}-if00-port0",
                model.manufacturer, model.product, model.serial
            )
            .replace(' ', "_"),
        );
        std::os::unix::fs::symlink("../../ttyUSB0", &by_id).expect("by-id link");
        std::fs::create_dir_all(roots.sys.join("class/tty")).expect("fake sysfs");
        if present_at_start {
            let usb = roots.sys.join("devices/pci0000:00/0000:00:14.0/usb1/1-1");
            let port = usb.join("1-1:1.0/ttyUSB0");
            std::fs::create_dir_all(&port).expect("usb-serial port");
            for (name, value) in [
                ("idVendor", format!("{:04x}", model.vid)),
                ("idProduct", format!("{:04x}", model.pid)),
                ("serial", model.serial.into()),
                ("manufacturer", model.manufacturer.into()),
                ("product", model.product.into()),
                ("1-1:1.0/bInterfaceNumber", "00".into()),
            ] {
                std::fs::write(usb.join(name), format!("{value}\n")).expect("attribute");
            }
            let class = roots.sys.join("class/tty/ttyUSB0");
            std::fs::create_dir_all(&class).expect("tty class");
            std::os::unix::fs::symlink(&port, class.join("device")).expect("device link");
        }
        let info = SerialPortInfo {
            name: "ttyUSB0".into(),
            path: roots.dev.join("ttyUSB0"),
            by_id: Some(by_id),
            usb: Some(UsbInfo {
                vid: model.vid,
                pid: model.pid,
                serial: Some(model.serial.into()),
                manufacturer: Some(model.manufacturer.into()),
                product: Some(model.product.into()),
                interface_num: Some(0),
                interface: None,
            }),
        };
        FakeStick {
            _dir: dir,
            roots,
            info,
        }
    }

    fn key(&self) -> String {
        self.info
            .by_id
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }
}

/// A coordinator simulator on a PTY, as the plugged stick.
enum Sim {
    Znp(ZnpSim),
    Ezsp(EzspSim),
}

impl Sim {
    fn pty(&self) -> PathBuf {
        let port = match self {
            Sim::Znp(s) => s.port(),
            Sim::Ezsp(s) => s.port(),
        };
        match port {
            SimPort::Pty(p) => p.clone(),
            SimPort::Tcp(a) => panic!("expected a PTY, got {a}"),
        }
    }

    fn unplug(&self) {
        match self {
            Sim::Znp(s) => s.unplug(),
            Sim::Ezsp(s) => s.unplug(),
        }
    }

    fn replug(&self) {
        match self {
            Sim::Znp(s) => s.replug(),
            Sim::Ezsp(s) => s.replug(),
        }
    }
}

async fn ezsp_sim(ieee: u64) -> Sim {
    let sim = EzspSim::start_pty(EzspSimConfig {
        ieee,
        scenario: Scenario::parse(SCENARIO).expect("scenario"),
        ..EzspSimConfig::default()
    })
    .await
    .expect("EZSP simulator on a PTY");
    Sim::Ezsp(sim)
}

async fn znp_sim(ieee: u64) -> (ZnpSim, PathBuf) {
    let sim = ZnpSim::start_pty(ZnpSimConfig {
        ieee,
        scenario: Scenario::parse(SCENARIO).expect("scenario"),
        require_bootloader_skip: false,
    })
    .await
    .expect("ZNP simulator on a PTY");
    let SimPort::Pty(pty) = sim.port().clone() else {
        panic!("start_pty gives a PTY")
    };
    (sim, pty)
}

/// Waits until the agent's hot-plug status satisfies `pred`.
async fn status_until(agent: &TestAgent, pred: impl Fn(&HotplugStatus) -> bool) -> HotplugStatus {
    let mut rx = agent
        .agent()
        .hotplug
        .as_ref()
        .expect("hot-plug runs")
        .status();
    tokio::time::timeout(LONG, rx.wait_for(|s| pred(s)))
        .await
        .expect("hot-plug status in time")
        .expect("hot-plug task runs")
        .clone()
}

/// An agent following `source` for hot-plug, with `[dongles]` at its defaults and `setup`
/// applied to its configuration.
async fn agent_with_hotplug(
    source: ChannelSource,
    roots: SysRoots,
    setup: impl FnOnce(&mut Config),
) -> TestAgent {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = TestAgent::config(&dir);
    config.dongles.enable = true;
    setup(&mut config);
    let mut hotplug = HotplugOptions::new(source, roots);
    hotplug.probe = ProbeMode::Never;
    let options = StartOptions {
        hotplug: Some(hotplug),
    };
    TestAgent::start_with_options(dir, config, options).await
}

/// Waits for an ObjectCreation of an instance of `table` (e.g. `Device.ProxiedDevice.`) and
/// returns its path.
async fn created(c: &mut RuspController, table: &str) -> String {
    loop {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .unwrap_or_else(|| panic!("ObjectCreation in {table}"));
        if let N::obj_creation(oc) = n.notification
            && let Some(rest) = oc.obj_path.strip_prefix(table)
            && rest.trim_end_matches('.').parse::<u32>().is_ok()
        {
            return oc.obj_path;
        }
    }
}

/// Waits until `param` reads `want`, reading it again after each notification (the caller
/// subscribed to what changes it).
async fn reads(c: &mut RuspController, param: &str, want: &str) {
    loop {
        if c.get_map(param).await.get(param).map(String::as_str) == Some(want) {
            return;
        }
        let (_, n) = c
            .next_notify(LONG)
            .await
            .unwrap_or_else(|| panic!("{param} never became {want}"));
        if let N::value_change(vc) = n.notification
            && vc.param_path == param
            && vc.param_value == want
        {
            return;
        }
    }
}

async fn send(tx: &mpsc::Sender<HotplugEvent>, ev: HotplugEvent) {
    tx.send(ev)
        .await
        .expect("the agent follows hot-plug events");
}

#[tokio::test]
async fn plugged_znp_stick_is_bridged_and_its_devices_follow_unplug_and_replug() {
    let (sim, _) = znp_sim(0x00124b0000e2e400).await;
    plug_pair_unplug_replug(Sim::Znp(sim), &SONOFF_P).await;
}

#[tokio::test]
async fn plugged_ezsp_stick_is_bridged_and_its_devices_follow_unplug_and_replug() {
    let sim = ezsp_sim(0x000d6f0000e2e400).await;
    plug_pair_unplug_replug(sim, &SKYCONNECT).await;
}

/// Plug `sim` in as a stick of `model`, pair the scenario's plug, pull the stick out and put
/// it back, checking the device's row and Online flag at each step.
async fn plug_pair_unplug_replug(sim: Sim, model: &Model) {
    let stick = FakeStick::new(&sim.pty(), model, false);
    let (tx, source) = ChannelSource::new(8);
    let mut agent = agent_with_hotplug(source, stick.roots.clone(), |_| {}).await;
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    c.subscribe("radios", "ObjectCreation", "Device.X_USPHUB_Bridge.", &[])
        .await;

    // Plugged in: a Zigbee bridge is started on the stick's by-id link and attached.
    send(&tx, HotplugEvent::Added(stick.info.clone())).await;
    let bridge = created(&mut c, "Device.X_USPHUB_Bridge.").await;
    let protocol = c.get_map(&format!("{bridge}Protocol")).await;
    assert_eq!(protocol.values().next().map(String::as_str), Some("ZigBee"));
    let status = status_until(&agent, |s| !s.bridged.is_empty()).await;
    assert_eq!(status.bridged, [stick.key()]);
    assert_eq!(status.plugged, [stick.key()]);

    // A device pairs through it and is online.
    c.subscribe("devices", "ObjectCreation", "Device.ProxiedDevice.", &[])
        .await;
    c.permit_join(&bridge, 60).await;
    let row = created(&mut c, "Device.ProxiedDevice.").await;
    let online = format!("{row}Online");
    let model = format!("{row}X_USPHUB_Model");
    c.subscribe("online", "ValueChange", &online, &[]).await;
    c.subscribe("model", "ValueChange", &model, &[]).await;
    // Interviewed (its model known) and online.
    reads(&mut c, &model, "PLUG-HOTPLUG").await;
    reads(&mut c, &online, "true").await;

    // Pulled out: the bridge stops, the device is offline and keeps its row.
    sim.unplug();
    send(
        &tx,
        HotplugEvent::Removed {
            name: "ttyUSB0".into(),
        },
    )
    .await;
    reads(&mut c, &online, "false").await;
    let status = status_until(&agent, |s| s.plugged.is_empty()).await;
    assert_eq!(status.bridged, [stick.key()], "the bridge is kept");
    let models = c.get_map("Device.ProxiedDevice.*.X_USPHUB_Model").await;
    assert_eq!(
        models.get(&model).map(String::as_str),
        Some("PLUG-HOTPLUG"),
        "{models:?}"
    );

    // Plugged in again: the same bridge resumes; same row, online, nothing re-paired.
    sim.replug();
    send(&tx, HotplugEvent::Added(stick.info.clone())).await;
    reads(&mut c, &online, "true").await;
    let models = c.get_map("Device.ProxiedDevice.*.X_USPHUB_Model").await;
    assert_eq!(models.len(), 1, "{models:?}");
    assert!(models.contains_key(&model), "{models:?}");
    let bridges = c.get_map("Device.X_USPHUB_Bridge.*.Protocol").await;
    assert_eq!(bridges.len(), 1, "no second bridge: {bridges:?}");

    c.close().await;
    agent.stop().await;
}

#[tokio::test]
async fn stick_present_at_start_up_is_bridged_without_an_event() {
    let (_sim, pty) = znp_sim(0x00124b0000e2e410).await;
    let stick = FakeStick::new(&pty, &SONOFF_P, true);
    let (_tx, source) = ChannelSource::new(8);
    let mut agent = agent_with_hotplug(source, stick.roots.clone(), |_| {}).await;
    let status = status_until(&agent, |s| s.scanned && !s.bridged.is_empty()).await;
    assert_eq!(status.bridged, [stick.key()], "{status:?}");
    assert_eq!(status.actions, 1, "one stick, one action: {status:?}");

    // A bridge counts as started once attached, its row mounted.
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let bridges = c.get_map("Device.X_USPHUB_Bridge.*.Protocol").await;
    assert_eq!(
        bridges.values().collect::<Vec<_>>(),
        ["ZigBee"],
        "{bridges:?}"
    );
    c.close().await;
    agent.stop().await;
}

#[tokio::test]
async fn configured_zigbee_stick_is_not_started_twice() {
    let (_sim, pty) = znp_sim(0x00124b0000e2e420).await;
    let stick = FakeStick::new(&pty, &SONOFF_P, true);
    let (tx, source) = ChannelSource::new(8);
    let by_id = stick.key();
    let mut agent = agent_with_hotplug(source, stick.roots.clone(), |c| {
        c.zigbee = Some(ZigbeeSection::new(by_id.clone()));
    })
    .await;
    // As `usphub run` does: the configured radios, beside hot-plug.
    let state_dir = agent.dir.path().to_path_buf();
    let handles = usphub::radios::start_configured(agent.agent(), &agent.config, &state_dir)
        .await
        .expect("configured radios start");
    assert_eq!(handles.len(), 1);

    // Present at start-up and plugged in again: seen both times, started neither time.
    status_until(&agent, |s| s.scanned && s.actions >= 1).await;
    send(
        &tx,
        HotplugEvent::Removed {
            name: "ttyUSB0".into(),
        },
    )
    .await;
    send(&tx, HotplugEvent::Added(stick.info.clone())).await;
    // Start (left to [zigbee]), Stop (nothing to stop), Start again.
    let status = status_until(&agent, |s| s.actions >= 3).await;
    assert!(status.bridged.is_empty(), "{status:?}");

    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let bridges = c.get_map("Device.X_USPHUB_Bridge.*.Protocol").await;
    assert_eq!(bridges.len(), 1, "only the configured bridge: {bridges:?}");
    c.close().await;
    agent.stop().await;
}

/// A Z-Wave stick gets a Z-Wave bridge. The Z-Wave simulator serves TCP only, so the stick's
/// "device node" is its `tcp://` address (the port spec a by-id-less stick is opened by);
/// the bridge opens its port itself, so pulling the stick is followed by the bridge noticing
/// the port loss (not exercised here: the simulator accepts a reconnect at once).
#[tokio::test]
async fn plugged_zwave_stick_gets_a_zwave_bridge_that_is_resumed_not_doubled() {
    use usphub_bridges::zwave;
    let sim = zwave::sim::spawn_tcp(&zwave::sim::scenario::Scenario::demo(), "127.0.0.1:0")
        .await
        .expect("Z-Wave simulator");
    let dir = tempfile::tempdir().expect("temp dir");
    let roots = SysRoots {
        sys: dir.path().join("sys"),
        dev: dir.path().join("dev"),
    };
    std::fs::create_dir_all(roots.sys.join("class/tty")).expect("fake sysfs");
    // Aeotec Z-Stick Gen5: 0658:0200, no serial number, no by-id link.
    let info = SerialPortInfo {
        name: "ttyACM0".into(),
        path: PathBuf::from(sim.url()),
        by_id: None,
        usb: Some(UsbInfo {
            vid: 0x0658,
            pid: 0x0200,
            serial: None,
            manufacturer: None,
            product: None,
            interface_num: Some(0),
            interface: None,
        }),
    };
    let (tx, source) = ChannelSource::new(8);
    let mut agent = agent_with_hotplug(source, roots, |_| {}).await;
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    c.subscribe("devices", "ObjectCreation", "Device.ProxiedDevice.", &[])
        .await;

    send(&tx, HotplugEvent::Added(info.clone())).await;
    let status = status_until(&agent, |s| !s.bridged.is_empty()).await;
    assert_eq!(status.bridged, [sim.url()]);
    let bridges = c.get_map("Device.X_USPHUB_Bridge.*.Protocol").await;
    assert_eq!(
        bridges.values().collect::<Vec<_>>(),
        ["Z-Wave"],
        "{bridges:?}"
    );
    // The stick's nodes are mounted.
    let row = created(&mut c, "Device.ProxiedDevice.").await;
    c.eventually(&format!("{row}ProxyProtocol"), Some("Z-Wave"))
        .await;
    let online = format!("{row}Online");
    c.subscribe("online", "ValueChange", &online, &[]).await;
    reads(&mut c, &online, "true").await;

    // Pulled out: the agent closes the port at once (the simulator behind it stays up, as a
    // stick whose reads do not fail would), so the nodes go offline.
    send(
        &tx,
        HotplugEvent::Removed {
            name: "ttyACM0".into(),
        },
    )
    .await;
    let status = status_until(&agent, |s| s.plugged.is_empty()).await;
    assert_eq!(status.bridged, [sim.url()], "the bridge is kept");
    reads(&mut c, &online, "false").await;

    // Plugged in again: one bridge throughout, resumed, its nodes online again.
    send(&tx, HotplugEvent::Added(info)).await;
    status_until(&agent, |s| s.plugged == [sim.url()]).await;
    reads(&mut c, &online, "true").await;
    let bridges = c.get_map("Device.X_USPHUB_Bridge.*.Protocol").await;
    assert_eq!(bridges.len(), 1, "no second bridge: {bridges:?}");

    c.close().await;
    agent.stop().await;
}
