//! A fake sysfs + /dev tree in a temporary directory, laid out as the kernel and udev do.

#![allow(dead_code)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use tempfile::TempDir;
use usphub_udev::SysRoots;

/// One USB serial port to create.
#[derive(Debug, Clone)]
pub struct FakeUsb {
    /// USB device path on the bus, e.g. "1-1.4".
    pub bus_path: &'static str,
    pub vid: u16,
    pub pid: u16,
    pub serial: Option<&'static str>,
    pub manufacturer: Option<&'static str>,
    pub product: Option<&'static str>,
    pub interface_num: u8,
    pub interface: Option<&'static str>,
    /// cdc_acm (the tty hangs off the interface) rather than usb-serial (off a port dir).
    pub acm: bool,
}

impl FakeUsb {
    pub fn new(bus_path: &'static str, vid: u16, pid: u16) -> Self {
        Self {
            bus_path,
            vid,
            pid,
            serial: None,
            manufacturer: None,
            product: None,
            interface_num: 0,
            interface: None,
            acm: false,
        }
    }
}

pub struct FakeSys {
    pub dir: TempDir,
    pub roots: SysRoots,
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("{text}\n")).unwrap();
}

impl FakeSys {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let roots = SysRoots {
            sys: dir.path().join("sys"),
            dev: dir.path().join("dev"),
        };
        fs::create_dir_all(roots.sys.join("class/tty")).unwrap();
        fs::create_dir_all(roots.dev.join("serial/by-id")).unwrap();
        Self { dir, roots }
    }

    fn usb_root(&self) -> PathBuf {
        self.roots.sys.join("devices/pci0000:00/0000:00:14.0/usb1")
    }

    /// Creates the USB device, its interface, the tty and its by-id link.
    pub fn add_usb_port(&self, tty: &str, usb: &FakeUsb) -> PathBuf {
        let dev_dir = self.usb_root().join(usb.bus_path);
        write(&dev_dir.join("idVendor"), &format!("{:04x}", usb.vid));
        write(&dev_dir.join("idProduct"), &format!("{:04x}", usb.pid));
        for (name, v) in [
            ("serial", usb.serial),
            ("manufacturer", usb.manufacturer),
            ("product", usb.product),
        ] {
            if let Some(v) = v {
                write(&dev_dir.join(name), v);
            }
        }
        let if_dir = dev_dir.join(format!("{}:1.{}", usb.bus_path, usb.interface_num));
        write(
            &if_dir.join("bInterfaceNumber"),
            &format!("{:02x}", usb.interface_num),
        );
        if let Some(i) = usb.interface {
            write(&if_dir.join("interface"), i);
        }
        let device = if usb.acm {
            if_dir.clone()
        } else {
            let port = if_dir.join(tty);
            fs::create_dir_all(&port).unwrap();
            port
        };
        let class = self.roots.sys.join("class/tty").join(tty);
        fs::create_dir_all(&class).unwrap();
        symlink(&device, class.join("device")).unwrap();
        if let Some(serial) = usb.serial {
            let name = format!(
                "usb-{}_{}_{}-if{:02x}{}",
                usb.manufacturer.unwrap_or("unknown").replace(' ', "_"),
                usb.product.unwrap_or("unknown").replace(' ', "_"),
                serial,
                usb.interface_num,
                if usb.acm { "" } else { "-port0" }
            );
            let link = self.roots.dev.join("serial/by-id").join(name);
            symlink(format!("../../{tty}"), &link).unwrap();
            return link;
        }
        PathBuf::new()
    }

    /// A serial port that is not on USB (the 8250 ports every PC kernel registers).
    pub fn add_platform_port(&self, tty: &str) {
        let device = self.roots.sys.join("devices/platform/serial8250");
        fs::create_dir_all(&device).unwrap();
        let class = self.roots.sys.join("class/tty").join(tty);
        fs::create_dir_all(&class).unwrap();
        symlink(&device, class.join("device")).unwrap();
    }

    /// A virtual tty without a device link (tty0, console).
    pub fn add_virtual_tty(&self, tty: &str) {
        fs::create_dir_all(self.roots.sys.join("class/tty").join(tty)).unwrap();
    }

    /// Makes `/dev/<tty>` a link to a real device node (a PTY slave) so it can be probed.
    pub fn link_dev(&self, tty: &str, target: &Path) {
        symlink(target, self.roots.dev.join(tty)).unwrap();
    }
}

pub fn sonoff_p() -> FakeUsb {
    FakeUsb {
        serial: Some("b8b49abd27a6ed11a280eba32981d111"),
        manufacturer: Some("ITead"),
        product: Some("Sonoff Zigbee 3.0 USB Dongle Plus"),
        ..FakeUsb::new("1-1", 0x10c4, 0xea60)
    }
}

pub fn sonoff_e() -> FakeUsb {
    FakeUsb {
        serial: Some("20240122184111"),
        manufacturer: Some("ITEAD"),
        product: Some("SONOFF Zigbee 3.0 USB Dongle Plus V2"),
        acm: true,
        ..FakeUsb::new("1-2", 0x1a86, 0x55d4)
    }
}

pub fn conbee2() -> FakeUsb {
    FakeUsb {
        serial: Some("DE2135791"),
        manufacturer: Some("dresden elektronik ingenieurtechnik GmbH"),
        product: Some("ConBee II"),
        acm: true,
        ..FakeUsb::new("1-7", 0x1cf1, 0x0030)
    }
}

pub fn zstick_gen5() -> FakeUsb {
    FakeUsb {
        serial: None,
        manufacturer: None,
        product: None,
        acm: true,
        ..FakeUsb::new("1-3", 0x0658, 0x0200)
    }
}

pub fn husbzb(interface_num: u8) -> FakeUsb {
    FakeUsb {
        serial: Some("613024F5"),
        manufacturer: Some("Silicon Labs"),
        product: Some("HubZ Smart Home Controller"),
        interface_num,
        interface: Some(if interface_num == 0 {
            "HubZ Z-Wave Com Port"
        } else {
            "HubZ ZigBee Com Port"
        }),
        ..FakeUsb::new("1-4", 0x10c4, 0x8a2a)
    }
}

pub fn generic_cp210x() -> FakeUsb {
    FakeUsb {
        serial: Some("a215650c853bec119a079e957a0af111"),
        manufacturer: Some("Silicon Labs"),
        product: Some("CP2102N USB to UART Bridge Controller"),
        ..FakeUsb::new("1-5", 0x10c4, 0xea60)
    }
}

pub fn pl2303() -> FakeUsb {
    FakeUsb {
        manufacturer: Some("Prolific Technology Inc."),
        product: Some("USB-Serial Controller"),
        ..FakeUsb::new("1-6", 0x067b, 0x2303)
    }
}
