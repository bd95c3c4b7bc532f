//! Hot-plug with a test double for udev: the tracker turns add/remove events into
//! appeared/gone sticks, and the auto-start policy decides which bridges run — driven here by
//! a minimal stand-in for the agent's bridge supervisor.

mod common;

use std::path::PathBuf;

use usphub_bridges::api::SerialPortSpec;
use usphub_udev::{
    Action, AutoStart, AutoStartConfig, ChannelSource, Decision, DongleChange, DongleTracker,
    Firmware, HotplugEvent, HotplugSource, Identified, NamedDongle, ProbeConfig, ProbeMode,
    Selector, decide, identify_usb, port_info,
};

use common::*;

fn tracker() -> DongleTracker {
    DongleTracker::new(ProbeMode::Never, ProbeConfig::default())
}

fn appeared(c: Option<DongleChange>) -> Identified {
    match c {
        Some(DongleChange::Appeared(id)) => id,
        other => panic!("expected Appeared, got {other:?}"),
    }
}

fn gone(c: Option<DongleChange>) -> Identified {
    match c {
        Some(DongleChange::Gone(id)) => id,
        other => panic!("expected Gone, got {other:?}"),
    }
}

#[tokio::test]
async fn scan_reports_every_usb_port_present_at_start() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyUSB0", &sonoff_p());
    fake.add_usb_port("ttyACM1", &zstick_gen5());
    fake.add_platform_port("ttyS0");
    let mut t = tracker();
    let changes = t.scan(&fake.roots).await.unwrap();
    assert_eq!(changes.len(), 2);
    let firmwares: Vec<Firmware> = t.present().map(|i| i.firmware).collect();
    assert_eq!(firmwares, [Firmware::ZWave, Firmware::Znp]);
}

#[tokio::test]
async fn add_remove_add_reports_the_same_stick_each_time() {
    let fake = FakeSys::new();
    let by_id = fake.add_usb_port("ttyUSB0", &sonoff_p());
    let info = port_info(&fake.roots, "ttyUSB0").unwrap();
    let (tx, mut source) = ChannelSource::new(8);
    let mut t = tracker();

    tx.send(HotplugEvent::Added(info.clone())).await.unwrap();
    let first = appeared(t.next_change(&mut source).await);
    assert_eq!(first.firmware, Firmware::Znp);
    assert_eq!(t.find(&by_id).map(|i| &i.path), Some(&first.path));

    // A repeated add and a remove of an unknown port change nothing; the tracker skips them.
    tx.send(HotplugEvent::Added(info.clone())).await.unwrap();
    tx.send(HotplugEvent::Removed {
        name: "ttyUSB9".into(),
    })
    .await
    .unwrap();
    tx.send(HotplugEvent::Removed {
        name: "ttyUSB0".into(),
    })
    .await
    .unwrap();
    let left = gone(t.next_change(&mut source).await);
    assert_eq!(left, first, "removal carries the identity the stick had");
    assert_eq!(t.present().count(), 0);

    tx.send(HotplugEvent::Added(info)).await.unwrap();
    let back = appeared(t.next_change(&mut source).await);
    assert_eq!(back, first);

    drop(tx);
    assert_eq!(t.next_change(&mut source).await, None, "source ended");
}

#[test]
fn policy_starts_bridged_firmwares_only_when_allowed() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyUSB0", &sonoff_p());
    fake.add_usb_port("ttyACM0", &sonoff_e());
    fake.add_usb_port("ttyACM2", &conbee2());
    fake.add_usb_port("ttyUSB5", &generic_cp210x());
    let p = identify_usb(&port_info(&fake.roots, "ttyUSB0").unwrap());
    let e = identify_usb(&port_info(&fake.roots, "ttyACM0").unwrap());
    let d = identify_usb(&port_info(&fake.roots, "ttyACM2").unwrap());
    let g = identify_usb(&port_info(&fake.roots, "ttyUSB5").unwrap());

    let off = AutoStartConfig {
        auto_start: false,
        ..AutoStartConfig::default()
    };
    assert!(matches!(decide(&off, &p), Decision::Ignore(_)));

    let on = AutoStartConfig::default();
    assert_eq!(
        decide(&on, &p),
        Decision::Start {
            firmware: Firmware::Znp,
            port: p.port_spec()
        }
    );
    // EZSP with the stick's own serial settings (the ZBDongle-E uses XON/XOFF).
    assert_eq!(
        decide(&on, &e),
        Decision::Start {
            firmware: Firmware::Ezsp,
            port: e.port_spec()
        }
    );
    assert_eq!(
        e.port_spec().flow,
        usphub_bridges::api::FlowControl::XonXoff
    );
    assert_eq!(
        decide(&on, &d),
        Decision::Ignore("no bridge for this firmware yet")
    );
    assert_eq!(decide(&on, &g), Decision::Ignore("firmware not identified"));
}

#[test]
fn policy_starts_sticks_the_configuration_names() {
    let fake = FakeSys::new();
    let by_id = fake.add_usb_port("ttyUSB0", &sonoff_p());
    fake.add_usb_port("ttyUSB5", &generic_cp210x());
    let p = identify_usb(&port_info(&fake.roots, "ttyUSB0").unwrap());
    let g = identify_usb(&port_info(&fake.roots, "ttyUSB5").unwrap());
    let named = |selector, firmware| AutoStartConfig {
        auto_start: false,
        named: vec![NamedDongle { selector, firmware }],
        ..AutoStartConfig::default()
    };

    let by_serial = named(
        Selector::Serial("b8b49abd27a6ed11a280eba32981d111".into()),
        None,
    );
    assert!(matches!(
        decide(&by_serial, &p),
        Decision::Start {
            firmware: Firmware::Znp,
            ..
        }
    ));
    assert!(matches!(decide(&by_serial, &g), Decision::Ignore(_)));

    assert!(matches!(
        decide(&named(Selector::Path(by_id), None), &p),
        Decision::Start { .. }
    ));
    let link = PathBuf::from("/dev/usphub/zigbee-b8b49abd27a6ed11a280eba32981d111");
    assert!(matches!(
        decide(&named(Selector::Path(link), None), &p),
        Decision::Start { .. }
    ));

    // The configuration can settle an ambiguous stick without a probe.
    let serial = Selector::Serial("a215650c853bec119a079e957a0af111".into());
    assert!(matches!(
        decide(&named(serial.clone(), None), &g),
        Decision::Ignore(_)
    ));
    assert!(matches!(
        decide(&named(serial, Some(Firmware::ZWave)), &g),
        Decision::Start {
            firmware: Firmware::ZWave,
            ..
        }
    ));
}

#[tokio::test]
async fn replugged_stick_restarts_its_bridge_under_the_same_key() {
    let fake = FakeSys::new();
    let by_id = fake.add_usb_port("ttyUSB0", &sonoff_p());
    fake.add_usb_port("ttyACM0", &conbee2());
    let stick = port_info(&fake.roots, "ttyUSB0").unwrap();
    let deconz = port_info(&fake.roots, "ttyACM0").unwrap();
    // Re-plugged into another socket: another kernel name, the same by-id link.
    let moved = usphub_udev::SerialPortInfo {
        name: "ttyUSB1".into(),
        path: fake.roots.dev.join("ttyUSB1"),
        ..stick.clone()
    };
    let (tx, mut source) = ChannelSource::new(8);
    let source: &mut dyn HotplugSource = &mut source;
    let mut auto = AutoStart::new(tracker(), AutoStartConfig::default());
    let key = by_id.display().to_string();

    tx.send(HotplugEvent::Added(stick)).await.unwrap();
    let Some(Action::Start {
        key: k,
        firmware,
        port,
        ..
    }) = auto.next_action(source).await
    else {
        panic!("expected Start");
    };
    assert_eq!((k.as_str(), firmware), (key.as_str(), Firmware::Znp));
    assert_eq!(port, SerialPortSpec::device(&by_id));

    tx.send(HotplugEvent::Added(deconz)).await.unwrap();
    assert!(matches!(
        auto.next_action(source).await,
        Some(Action::Ignored {
            reason: "no bridge for this firmware yet",
            ..
        })
    ));

    // Removing the ignored stick needs no action; removing the started one stops it.
    tx.send(HotplugEvent::Removed {
        name: "ttyACM0".into(),
    })
    .await
    .unwrap();
    tx.send(HotplugEvent::Removed {
        name: "ttyUSB0".into(),
    })
    .await
    .unwrap();
    assert!(
        matches!(auto.next_action(source).await, Some(Action::Stop { key: k, .. }) if k == key)
    );

    tx.send(HotplugEvent::Added(moved)).await.unwrap();
    let Some(Action::Start { key: k, stick, .. }) = auto.next_action(source).await else {
        panic!("expected Start");
    };
    assert_eq!(k, key, "same stick, same bridge state");
    assert!(stick.path.ends_with("ttyUSB1"));
    assert_eq!(auto.tracker().present().count(), 1);
}

#[tokio::test]
async fn scan_starts_sticks_present_at_start_up() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyUSB0", &sonoff_p());
    fake.add_usb_port("ttyACM1", &zstick_gen5());
    fake.add_usb_port("ttyUSB6", &pl2303());
    let mut auto = AutoStart::new(tracker(), AutoStartConfig::default());
    let actions = auto.scan(&fake.roots).await.unwrap();
    let started: Vec<(String, Firmware)> = actions
        .iter()
        .filter_map(|a| match a {
            Action::Start { key, firmware, .. } => Some((key.clone(), *firmware)),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 2, "{actions:?}");
    // The Z-Stick has no serial number and no by-id link: its key is its device path.
    assert_eq!(
        started[0],
        (
            fake.roots.dev.join("ttyACM1").display().to_string(),
            Firmware::ZWave
        )
    );
    assert_eq!(started[1].1, Firmware::Znp);
    assert!(matches!(
        actions[2],
        Action::Ignored {
            reason: "firmware not identified",
            ..
        }
    ));
}

#[tokio::test]
async fn ports_a_bridge_has_open_are_never_probed() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyUSB5", &generic_cp210x());
    // /dev/ttyUSB5 does not exist here: a probe would say it could not open the port.
    let info = port_info(&fake.roots, "ttyUSB5").unwrap();
    let mut t = DongleTracker::new(ProbeMode::WhenAmbiguous, ProbeConfig::default());
    t.mark_busy(info.by_id.clone().unwrap());
    let id = appeared(t.apply(HotplugEvent::Added(info.clone())).await);
    assert!(
        matches!(&id.evidence, usphub_udev::Evidence::None(why) if why.contains("probe to tell"))
    );

    t.apply(HotplugEvent::Removed {
        name: "ttyUSB5".into(),
    })
    .await;
    t.mark_free(info.by_id.as_deref().unwrap());
    let id = appeared(t.apply(HotplugEvent::Added(info)).await);
    assert!(
        matches!(&id.evidence, usphub_udev::Evidence::None(why) if why.contains("could not open"))
    );
}

#[test]
fn identified_serialises_for_usphub_dongles_json() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyUSB2", &husbzb(1));
    let id = identify_usb(&port_info(&fake.roots, "ttyUSB2").unwrap());
    let json = serde_json::to_value(&id).unwrap();
    assert_eq!(json["kind"], "zigbee");
    assert_eq!(json["firmware"], "ezsp");
    assert_eq!(json["flow"], "xon-xoff");
    assert_eq!(json["baud"], 57_600);
    assert_eq!(json["usb"]["vid"], 0x10c4);
    assert_eq!(json["usb"]["interface"], "HubZ ZigBee Com Port");
    assert_eq!(json["evidence"]["by"], "usb-table");
}

#[test]
fn auto_start_config_reads_from_toml_with_defaults() {
    #[derive(serde::Deserialize)]
    struct Agent {
        #[serde(default)]
        dongles: AutoStartConfig,
    }
    let empty: Agent = toml::from_str("").unwrap();
    assert!(empty.dongles.auto_start, "auto-start is on by default");
    assert!(empty.dongles.enable, "sticks are followed by default");
    assert!(empty.dongles.named.is_empty());

    let text = r#"
        [dongles]
        enable = true
        auto_start = false
        [[dongles.named]]
        path = "/dev/serial/by-id/usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus_b8b4-if00-port0"
        [[dongles.named]]
        serial = "a215650c853bec119a079e957a0af111"
        firmware = "zwave"
    "#;
    let cfg: Agent = toml::from_str(text).unwrap();
    assert!(!cfg.dongles.auto_start);
    assert_eq!(
        cfg.dongles.named,
        [
            NamedDongle {
                selector: Selector::Path(
                    "/dev/serial/by-id/usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus_b8b4-if00-port0"
                        .into()
                ),
                firmware: None,
            },
            NamedDongle {
                selector: Selector::Serial("a215650c853bec119a079e957a0af111".into()),
                firmware: Some(Firmware::ZWave),
            },
        ]
    );
    assert!(toml::from_str::<Agent>("[dongles]\nauto_strat = true").is_err());
    assert!(
        toml::from_str::<Agent>("[[dongles.named]]\nfirmware = \"zigbee3\"\nserial = \"x\"")
            .is_err()
    );
}

#[tokio::test]
async fn dongles_table_lists_every_port_with_its_identification() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyUSB0", &sonoff_p());
    fake.add_usb_port("ttyACM1", &zstick_gen5());
    fake.add_usb_port("ttyUSB5", &generic_cp210x());
    let ids = usphub_udev::list_dongles(&fake.roots, ProbeMode::Never, &ProbeConfig::default())
        .await
        .unwrap();
    let text = usphub_udev::render_table(&ids);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("PORT"));
    assert!(
        lines[1].contains("zwave") && lines[1].contains("0658:0200"),
        "{text}"
    );
    assert!(
        lines[2].contains("zigbee") && lines[2].contains("znp"),
        "{text}"
    );
    assert!(
        lines[2].contains("Sonoff ZBDongle-P") && lines[2].contains("by-id"),
        "{text}"
    );
    assert!(
        lines[3].contains("radio") && lines[3].contains("unknown"),
        "{text}"
    );
    // Columns line up: FIRMWARE starts at the same offset on every line.
    let col = lines[0].find("FIRMWARE").unwrap();
    assert!(
        lines[1..]
            .iter()
            .all(|l| l[col..].starts_with(|c: char| c.is_ascii_lowercase()))
    );
    assert_eq!(
        usphub_udev::render_table(&[]),
        "no USB serial ports found\n"
    );
}
