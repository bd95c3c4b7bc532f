//! Enumeration and identification on a fake sysfs tree.

mod common;

use std::path::PathBuf;

use usphub_bridges::api::FlowControl;
use usphub_udev::{
    Evidence, Firmware, Kind, ProbeMode, enumerate, identify, identify_usb, port_info,
};

use common::*;

fn quick() -> usphub_udev::ProbeConfig {
    usphub_udev::ProbeConfig {
        zwave_timeout: std::time::Duration::from_millis(300),
        ash_timeout: std::time::Duration::from_millis(300),
        znp_timeout: std::time::Duration::from_millis(300),
        znp_bootloader_skip: true,
        ezsp_extra_bauds: vec![],
    }
}

#[test]
fn enumerate_lists_usb_ports_with_ids_strings_and_by_id_links() {
    let fake = FakeSys::new();
    let p_link = fake.add_usb_port("ttyUSB0", &sonoff_p());
    fake.add_usb_port("ttyACM0", &sonoff_e());
    fake.add_usb_port("ttyUSB1", &husbzb(0));
    fake.add_usb_port("ttyUSB2", &husbzb(1));
    fake.add_platform_port("ttyS0");
    fake.add_virtual_tty("tty0");

    let ports = enumerate(&fake.roots).unwrap();
    let names: Vec<&str> = ports.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["ttyACM0", "ttyUSB0", "ttyUSB1", "ttyUSB2"]);

    let p = &ports[1];
    assert_eq!(p.path, fake.roots.dev.join("ttyUSB0"));
    assert_eq!(p.by_id.as_ref(), Some(&p_link));
    let usb = p.usb.as_ref().unwrap();
    assert_eq!(usb.id_string(), "10c4:ea60");
    assert_eq!(
        usb.serial.as_deref(),
        Some("b8b49abd27a6ed11a280eba32981d111")
    );
    assert_eq!(usb.manufacturer.as_deref(), Some("ITead"));
    assert_eq!(
        usb.product.as_deref(),
        Some("Sonoff Zigbee 3.0 USB Dongle Plus")
    );
    assert_eq!(usb.interface_num, Some(0));

    // cdc_acm: the tty's device is the interface itself.
    let e = ports[0].usb.as_ref().unwrap();
    assert_eq!((e.vid, e.pid, e.interface_num), (0x1a86, 0x55d4, Some(0)));

    let zigbee_port = ports[3].usb.as_ref().unwrap();
    assert_eq!(zigbee_port.interface_num, Some(1));
    assert_eq!(
        zigbee_port.interface.as_deref(),
        Some("HubZ ZigBee Com Port")
    );
}

#[test]
fn port_info_reads_one_port_and_ignores_missing_or_virtual_ones() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyACM1", &zstick_gen5());
    fake.add_virtual_tty("console");
    let z = port_info(&fake.roots, "ttyACM1").unwrap();
    assert_eq!(
        z.usb.as_ref().map(|u| u.id_string()).as_deref(),
        Some("0658:0200")
    );
    assert_eq!(z.by_id, None, "no serial, no by-id link");
    assert!(port_info(&fake.roots, "console").is_none());
    assert!(port_info(&fake.roots, "ttyUSB7").is_none());
}

#[test]
fn malformed_attributes_leave_the_port_without_usb_identity() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyUSB0", &sonoff_p());
    let dev_dir = fake
        .roots
        .sys
        .join("devices/pci0000:00/0000:00:14.0/usb1/1-1");
    std::fs::write(dev_dir.join("idVendor"), "not-hex\n").unwrap();
    assert!(port_info(&fake.roots, "ttyUSB0").unwrap().usb.is_none());
    assert!(enumerate(&fake.roots).unwrap().is_empty());
}

#[test]
fn table_identifies_unambiguous_sticks_without_opening_them() {
    let fake = FakeSys::new();
    let link = fake.add_usb_port("ttyUSB0", &sonoff_p());
    fake.add_usb_port("ttyACM0", &sonoff_e());
    fake.add_usb_port("ttyUSB2", &husbzb(1));
    fake.add_usb_port("ttyACM1", &zstick_gen5());

    let p = identify_usb(&port_info(&fake.roots, "ttyUSB0").unwrap());
    assert_eq!((p.kind, p.firmware), (Kind::Zigbee, Firmware::Znp));
    assert_eq!(p.evidence, Evidence::UsbTable);
    assert_eq!(p.product, Some("Sonoff ZBDongle-P"));
    let spec = p.port_spec();
    assert_eq!(spec, usphub_bridges::api::SerialPortSpec::device(&link));

    let e = identify_usb(&port_info(&fake.roots, "ttyACM0").unwrap());
    assert_eq!((e.firmware, e.flow), (Firmware::Ezsp, FlowControl::XonXoff));
    assert_eq!(
        e.usphub_link(),
        Some(PathBuf::from("/dev/usphub/zigbee-20240122184111"))
    );

    let hz = identify_usb(&port_info(&fake.roots, "ttyUSB2").unwrap());
    assert_eq!(
        (hz.kind, hz.firmware, hz.baud),
        (Kind::Zigbee, Firmware::Ezsp, 57_600)
    );
    assert_eq!(
        hz.usphub_link(),
        Some(PathBuf::from("/dev/usphub/zigbee-613024F5-if01"))
    );

    let z = identify_usb(&port_info(&fake.roots, "ttyACM1").unwrap());
    assert_eq!((z.kind, z.firmware), (Kind::ZWave, Firmware::ZWave));
    assert_eq!(z.usphub_link(), None, "no serial number");
}

#[test]
fn shared_and_unknown_ids_stay_unidentified_without_a_probe() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyUSB5", &generic_cp210x());
    fake.add_usb_port("ttyUSB6", &pl2303());
    let g = identify_usb(&port_info(&fake.roots, "ttyUSB5").unwrap());
    assert_eq!((g.kind, g.firmware), (Kind::Radio, Firmware::Unknown));
    assert!(matches!(&g.evidence, Evidence::None(why) if why.contains("probe")));
    let u = identify_usb(&port_info(&fake.roots, "ttyUSB6").unwrap());
    assert_eq!(
        (u.kind, u.firmware, u.product),
        (Kind::Radio, Firmware::Unknown, None)
    );
    assert!(matches!(&u.evidence, Evidence::None(why) if why.contains("not in the dongle table")));
}

#[tokio::test]
async fn ambiguous_stick_is_probed_through_its_device_node() {
    use tokio_serial::SerialPort;
    let sim = usphub_bridges::zwave::sim::spawn_tcp(
        &usphub_bridges::zwave::sim::scenario::Scenario::demo(),
        "127.0.0.1:0",
    )
    .await
    .unwrap();
    let (mut master, slave) = tokio_serial::SerialStream::pair().unwrap();
    let pty = slave.name().unwrap();
    let mut tcp = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let relay = tokio::spawn(async move {
        let _ = tokio::io::copy_bidirectional(&mut master, &mut tcp).await;
    });

    let fake = FakeSys::new();
    let mut usb = generic_cp210x();
    usb.serial = None; // no by-id link: the probe opens /dev/ttyUSB5 itself
    fake.add_usb_port("ttyUSB5", &usb);
    fake.link_dev("ttyUSB5", std::path::Path::new(&pty));
    let port = port_info(&fake.roots, "ttyUSB5").unwrap();

    let listed = identify(&port, ProbeMode::Never, &quick()).await;
    assert_eq!(listed.firmware, Firmware::Unknown);

    let probed = identify(&port, ProbeMode::WhenAmbiguous, &quick()).await;
    assert_eq!(
        (probed.kind, probed.firmware),
        (Kind::ZWave, Firmware::ZWave)
    );
    assert!(matches!(probed.evidence, Evidence::Probe(_)));
    relay.abort();
    drop(slave);
}

#[tokio::test]
async fn ports_not_in_the_table_are_not_probed_unless_asked() {
    let fake = FakeSys::new();
    fake.add_usb_port("ttyUSB6", &pl2303());
    // /dev/ttyUSB6 does not exist: a probe would report that it could not open it.
    let port = port_info(&fake.roots, "ttyUSB6").unwrap();
    let id = identify(&port, ProbeMode::WhenAmbiguous, &quick()).await;
    assert!(matches!(&id.evidence, Evidence::None(why) if why.contains("not in the dongle table")));
    let id = identify(&port, ProbeMode::Always, &quick()).await;
    assert!(matches!(&id.evidence, Evidence::None(why) if why.contains("could not open")));
}
