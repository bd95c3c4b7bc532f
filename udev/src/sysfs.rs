//! Serial ports from sysfs: each `/sys/class/tty/<name>/device` that leads to a USB interface,
//! with the USB device's ids and strings, plus its `/dev/serial/by-id/` link.
//!
//! ```text
//! /sys/class/tty/ttyUSB0/device -> .../usb1/1-1/1-1:1.0/ttyUSB0   (usb-serial port; cp210x, ch341)
//! /sys/class/tty/ttyACM0/device -> .../usb1/1-2/1-2:1.0           (cdc_acm: the interface itself)
//!   interface directory: bInterfaceNumber, interface (iInterface string, optional)
//!   its parent (USB device): idVendor, idProduct, serial, manufacturer, product
//! ```
//!
//! Both roots are injectable ([`SysRoots`]) so tests run on a fake tree in a temporary
//! directory. Unreadable or malformed attributes make a field `None`, never an error.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::usbid::UsbStrings;

/// How far up from a tty device the USB device may be (tty → port → interface → device).
const MAX_PARENT_HOPS: usize = 6;
/// Longest attribute accepted (USB string descriptors are at most 126 characters).
const MAX_ATTR_LEN: usize = 512;

/// Where sysfs and /dev are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysRoots {
    /// Normally `/sys`.
    pub sys: PathBuf,
    /// Normally `/dev`.
    pub dev: PathBuf,
}

impl Default for SysRoots {
    fn default() -> Self {
        Self {
            sys: PathBuf::from("/sys"),
            dev: PathBuf::from("/dev"),
        }
    }
}

/// The USB identity of a serial port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsbInfo {
    /// idVendor.
    pub vid: u16,
    /// idProduct.
    pub pid: u16,
    /// iSerial string.
    pub serial: Option<String>,
    /// iManufacturer string.
    pub manufacturer: Option<String>,
    /// iProduct string.
    pub product: Option<String>,
    /// bInterfaceNumber of the port's interface.
    pub interface_num: Option<u8>,
    /// iInterface string of the port's interface.
    pub interface: Option<String>,
}

impl UsbInfo {
    /// The strings the USB id table matches on.
    pub fn strings(&self) -> UsbStrings<'_> {
        UsbStrings {
            manufacturer: self.manufacturer.as_deref(),
            product: self.product.as_deref(),
            interface: self.interface.as_deref(),
        }
    }

    /// `vid:pid` as lsusb prints it.
    pub fn id_string(&self) -> String {
        format!("{:04x}:{:04x}", self.vid, self.pid)
    }
}

/// One serial port found on the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SerialPortInfo {
    /// Kernel name, e.g. `ttyUSB0`.
    pub name: String,
    /// Device node, e.g. `/dev/ttyUSB0`.
    pub path: PathBuf,
    /// The `/dev/serial/by-id/...` link to it, if udev made one.
    pub by_id: Option<PathBuf>,
    /// USB identity; `None` for ports not on USB.
    pub usb: Option<UsbInfo>,
}

fn read_attr(dir: &Path, name: &str) -> Option<String> {
    let bytes = fs::read(dir.join(name)).ok()?;
    if bytes.len() > MAX_ATTR_LEN {
        return None;
    }
    let s = String::from_utf8_lossy(&bytes).trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn read_hex_u16(dir: &Path, name: &str) -> Option<u16> {
    u16::from_str_radix(&read_attr(dir, name)?, 16).ok()
}

/// Reads the USB identity above a resolved tty device directory.
fn usb_info_above(device_dir: &Path, sys_root: &Path) -> Option<UsbInfo> {
    let mut interface: Option<&Path> = None;
    let mut dir = device_dir;
    for _ in 0..MAX_PARENT_HOPS {
        if !dir.starts_with(sys_root) {
            return None;
        }
        if interface.is_none() && dir.join("bInterfaceNumber").is_file() {
            interface = Some(dir);
        }
        if dir.join("idVendor").is_file() {
            let (interface_num, interface_str) = match interface {
                Some(i) => (
                    read_attr(i, "bInterfaceNumber").and_then(|n| u8::from_str_radix(&n, 16).ok()),
                    read_attr(i, "interface"),
                ),
                None => (None, None),
            };
            return Some(UsbInfo {
                vid: read_hex_u16(dir, "idVendor")?,
                pid: read_hex_u16(dir, "idProduct")?,
                serial: read_attr(dir, "serial"),
                manufacturer: read_attr(dir, "manufacturer"),
                product: read_attr(dir, "product"),
                interface_num,
                interface: interface_str,
            });
        }
        dir = dir.parent()?;
    }
    None
}

/// Maps tty names to their `/dev/serial/by-id/` links (the first link name in sort order).
fn by_id_links(dev_root: &Path) -> Vec<(String, PathBuf)> {
    let dir = dev_root.join("serial").join("by-id");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut links: Vec<(String, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let target = fs::read_link(e.path()).ok()?;
            let tty = target.file_name()?.to_str()?.to_owned();
            Some((tty, e.path()))
        })
        .collect();
    links.sort_by(|a, b| a.1.cmp(&b.1));
    links
}

fn port_with_links(
    roots: &SysRoots,
    name: &str,
    links: &[(String, PathBuf)],
) -> Option<SerialPortInfo> {
    let class_dev = roots
        .sys
        .join("class")
        .join("tty")
        .join(name)
        .join("device");
    let device_dir = fs::canonicalize(&class_dev).ok()?;
    let sys_root = fs::canonicalize(&roots.sys).ok()?;
    let usb = usb_info_above(&device_dir, &sys_root);
    Some(SerialPortInfo {
        name: name.to_owned(),
        path: roots.dev.join(name),
        by_id: links
            .iter()
            .find(|(t, _)| t == name)
            .map(|(_, p)| p.clone()),
        usb,
    })
}

/// Identity of one tty by kernel name (`ttyUSB0`); `None` if it has no physical device.
pub fn port_info(roots: &SysRoots, name: &str) -> Option<SerialPortInfo> {
    port_with_links(roots, name, &by_id_links(&roots.dev))
}

/// Every USB serial port, sorted by name. Ports not on USB (e.g. the 8250 `ttyS*` the
/// kernel always registers) are left out.
pub fn enumerate(roots: &SysRoots) -> io::Result<Vec<SerialPortInfo>> {
    let links = by_id_links(&roots.dev);
    let mut out: Vec<SerialPortInfo> = fs::read_dir(roots.sys.join("class").join("tty"))?
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter_map(|name| port_with_links(roots, &name, &links))
        .filter(|p| p.usb.is_some())
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}
