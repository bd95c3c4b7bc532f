//! Putting it together: what a port is, from its USB identity and, when that is ambiguous,
//! from a probe. [`Identified`] is what `usphub dongles` prints and auto-start decides on.

use std::path::PathBuf;

use serde::Serialize;
use usphub_bridges::api::{FlowControl, PortAddress, SerialPortSpec};

use crate::probe::{ProbeConfig, ProbeReport, probe_port};
use crate::sysfs::{SerialPortInfo, SysRoots, UsbInfo, enumerate};
use crate::usbid::{self, DongleEntry, Firmware, Kind};

/// How the firmware was established.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "by", content = "detail")]
pub enum Evidence {
    /// The USB id and strings name one firmware.
    UsbTable,
    /// A probe got an answer (the detail says what it was).
    Probe(String),
    /// Not established: not in the table, not probed, or no probe answered (why).
    None(String),
}

/// When to probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProbeMode {
    /// Never open the port (listing only).
    Never,
    /// Only when the USB identity leaves more than one candidate firmware.
    #[default]
    WhenAmbiguous,
    /// Always, to confirm the table.
    Always,
}

/// One port and what it was identified as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identified {
    /// Device node (`/dev/ttyUSB0`) or network URL (`tcp://host:port`).
    pub path: String,
    /// The stable `/dev/serial/by-id/...` link, if any.
    pub by_id: Option<PathBuf>,
    /// USB identity, for USB ports.
    pub usb: Option<UsbInfo>,
    /// Zigbee, Z-Wave, or `Radio` when still ambiguous.
    pub kind: Kind,
    /// The firmware, or `Unknown`.
    pub firmware: Firmware,
    /// The table's name for the stick, if the id is known.
    pub product: Option<&'static str>,
    /// How `firmware` was established.
    pub evidence: Evidence,
    /// Baud rate to open it with.
    pub baud: u32,
    /// Flow control to open it with.
    #[serde(serialize_with = "flow_str")]
    pub flow: FlowControl,
}

fn flow_str<S: serde::Serializer>(f: &FlowControl, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.as_str())
}

impl Identified {
    /// The spec a bridge should open: the by-id link when there is one (it survives
    /// re-plugging into another socket), with the stick's baud rate and flow control.
    pub fn port_spec(&self) -> SerialPortSpec {
        let mut spec = match &self.by_id {
            Some(p) => SerialPortSpec::device(p),
            None => self
                .path
                .parse()
                .unwrap_or_else(|_| SerialPortSpec::device(&self.path)),
        };
        spec.baud = self.baud;
        spec.flow = self.flow;
        spec
    }

    /// A key that names the same physical stick across re-plugging.
    pub fn stable_key(&self) -> String {
        if let Some(by_id) = &self.by_id {
            return by_id.display().to_string();
        }
        match &self.usb {
            Some(u) if u.serial.is_some() => format!(
                "usb:{}:{}:if{:02x}",
                u.id_string(),
                u.serial.as_deref().unwrap_or_default(),
                u.interface_num.unwrap_or(0)
            ),
            _ => self.path.clone(),
        }
    }

    /// The USB serial number, if the stick has one.
    pub fn serial(&self) -> Option<&str> {
        self.usb.as_ref().and_then(|u| u.serial.as_deref())
    }

    /// The `/dev/usphub/<kind>-<serial>` link the udev rules make for it (see the rules file
    /// for the `-ifNN` suffix on interfaces other than 00).
    pub fn usphub_link(&self) -> Option<PathBuf> {
        let usb = self.usb.as_ref()?;
        let serial = usb.serial.as_deref()?;
        let rule_kind = table_entry(usb).map(DongleEntry::kind)?;
        let suffix = match usb.interface_num {
            Some(n) if n != 0 => format!("-if{n:02x}"),
            _ => String::new(),
        };
        Some(PathBuf::from(format!(
            "/dev/usphub/{}-{serial}{suffix}",
            rule_kind.as_str()
        )))
    }

    fn apply_probe(&mut self, report: ProbeReport) {
        if let Some(baud) = report.baud {
            self.baud = baud;
        }
        self.firmware = report.firmware;
        self.evidence = if report.firmware == Firmware::Unknown {
            Evidence::None(report.detail)
        } else {
            Evidence::Probe(report.detail)
        };
        if report.firmware != Firmware::Unknown {
            self.kind = report.firmware.kind();
        }
    }
}

fn table_entry(usb: &UsbInfo) -> Option<&'static DongleEntry> {
    usbid::lookup(usb.vid, usb.pid, &usb.strings())
}

/// Identification from the USB table alone; no I/O.
pub fn identify_usb(port: &SerialPortInfo) -> Identified {
    let entry = port.usb.as_ref().and_then(table_entry);
    let (kind, firmware, evidence) = match entry {
        Some(e) if e.is_unambiguous() => (e.kind(), e.firmwares[0], Evidence::UsbTable),
        Some(e) => (
            e.kind(),
            Firmware::Unknown,
            Evidence::None(format!(
                "USB id shared by {}; probe to tell",
                e.firmwares
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join("/")
            )),
        ),
        None => (
            Kind::Radio,
            Firmware::Unknown,
            Evidence::None("USB id not in the dongle table".into()),
        ),
    };
    Identified {
        path: port.path.to_string_lossy().into_owned(),
        by_id: port.by_id.clone(),
        usb: port.usb.clone(),
        kind,
        firmware,
        product: entry.map(|e| e.name),
        evidence,
        baud: entry.map_or(usphub_bridges::api::port::DEFAULT_BAUD, |e| e.baud),
        flow: entry.map_or(FlowControl::None, |e| e.flow),
    }
}

/// Identification from the table, then a probe as `mode` says. Ports whose id is not in the
/// table are probed only in [`ProbeMode::Always`]: an unknown USB serial device may be
/// anything (a GPS, a UPS), and writing to it is not ours to do.
pub async fn identify(port: &SerialPortInfo, mode: ProbeMode, config: &ProbeConfig) -> Identified {
    let mut id = identify_usb(port);
    let entry = port.usb.as_ref().and_then(table_entry);
    let probe = match mode {
        ProbeMode::Never => false,
        ProbeMode::WhenAmbiguous => entry.is_some_and(|e| !e.is_unambiguous()),
        ProbeMode::Always => true,
    };
    let candidates: &[Firmware] = entry.map_or(&[], |e| e.firmwares);
    let probeable = candidates.is_empty() || candidates.iter().any(|f| usbid::PROBED.contains(f));
    if probe && probeable {
        match probe_port(&id.port_spec(), candidates, config).await {
            Ok(report) => id.apply_probe(report),
            Err(e) => id.evidence = Evidence::None(format!("probe could not open the port: {e}")),
        }
    }
    id
}

/// Everything `usphub dongles` shows: every USB serial port present, identified as `mode`
/// says, sorted by kernel name.
pub async fn list_dongles(
    roots: &SysRoots,
    mode: ProbeMode,
    config: &ProbeConfig,
) -> std::io::Result<Vec<Identified>> {
    let mut out = Vec::new();
    for port in enumerate(roots)? {
        out.push(identify(&port, mode, config).await);
    }
    Ok(out)
}

/// Identifies a port given only as a spec (`tcp://host:port`, or a device path with no USB
/// information) by probing it for every firmware.
pub async fn identify_spec(spec: &SerialPortSpec, config: &ProbeConfig) -> Identified {
    let path = match &spec.address {
        PortAddress::Device(p) => p.to_string_lossy().into_owned(),
        PortAddress::Tcp { .. } => spec.to_string(),
    };
    let mut id = Identified {
        path,
        by_id: None,
        usb: None,
        kind: Kind::Radio,
        firmware: Firmware::Unknown,
        product: None,
        evidence: Evidence::None("not probed".into()),
        baud: spec.baud,
        flow: spec.flow,
    };
    match probe_port(spec, &[], config).await {
        Ok(report) => id.apply_probe(report),
        Err(e) => id.evidence = Evidence::None(format!("probe could not open the port: {e}")),
    }
    id
}
