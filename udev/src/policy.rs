//! The auto-start policy: given a stick that appeared and the configuration, start a bridge
//! for it or leave it alone. Pure; the agent owns the bridges and calls [`decide`].
//!
//! 1. A stick the configuration names (by USB serial number, device path, by-id link or
//!    `/dev/usphub/...` link) is started, with the firmware the configuration gives or, if it
//!    gives none, the identified one.
//! 2. Otherwise, with `auto_start` on, a stick identified as a firmware usphub has a bridge
//!    for is started.
//! 3. Everything else is listed by `usphub dongles` and left alone: unknown ports, firmwares
//!    without a bridge (deCONZ today), and everything when `auto_start` is off.
//!
//! `auto_start` defaults to on: a person who plugs a stick into a hub expects it to work.
//! [`AutoStartConfig`] deserialises from the agent's TOML, e.g.
//!
//! ```toml
//! [dongles]
//! enable = true             # follow sticks at all (scan at start-up, udev hot-plug)
//! auto_start = false
//! [[dongles.named]]
//! path = "/dev/serial/by-id/usb-ITead_Sonoff_Zigbee_3.0_USB_Dongle_Plus_b8b4...-if00-port0"
//! [[dongles.named]]
//! serial = "a215650c853bec119a079e957a0af111"
//! firmware = "zwave"        # settles a stick whose USB id is shared, without a probe
//! ```

use std::path::PathBuf;

use serde::Deserialize;
use usphub_bridges::api::SerialPortSpec;

use crate::identify::Identified;
use crate::usbid::Firmware;

/// Firmwares the bridges crate has a backend for.
pub const BRIDGED: &[Firmware] = &[Firmware::Znp, Firmware::Ezsp, Firmware::ZWave];

/// How the configuration names a stick (`serial = "..."` or `path = "..."`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Selector {
    /// The USB serial number (`iSerial`).
    Serial(String),
    /// A device path, `/dev/serial/by-id/...` link or `/dev/usphub/...` link.
    Path(PathBuf),
}

/// A stick the configuration names.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NamedDongle {
    /// Which stick.
    #[serde(flatten)]
    pub selector: Selector,
    /// Its firmware, when the configuration says (otherwise the identified one is used).
    #[serde(default)]
    pub firmware: Option<Firmware>,
}

/// The part of the configuration the policy reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AutoStartConfig {
    /// Follow sticks at all: identify those present at start-up and follow udev's hot-plug
    /// events (default on). Off: only the agent's `[zigbee]`/`[zwave]` sections start radios.
    pub enable: bool,
    /// Start a bridge for any identified stick with a bridged firmware (default on).
    pub auto_start: bool,
    /// Sticks started whatever `auto_start` says.
    pub named: Vec<NamedDongle>,
}

impl Default for AutoStartConfig {
    fn default() -> Self {
        Self {
            enable: true,
            auto_start: true,
            named: Vec::new(),
        }
    }
}

/// What to do with a stick that appeared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Start the bridge for `firmware` on `port`.
    Start {
        /// Which backend.
        firmware: Firmware,
        /// The port to open (by-id link preferred).
        port: SerialPortSpec,
    },
    /// Leave it alone, for this reason.
    Ignore(&'static str),
}

impl Selector {
    fn matches(&self, id: &Identified) -> bool {
        match self {
            Selector::Serial(s) => id.serial() == Some(s.as_str()),
            Selector::Path(p) => {
                std::path::Path::new(&id.path) == p
                    || id.by_id.as_ref() == Some(p)
                    || id.usphub_link().as_ref() == Some(p)
            }
        }
    }
}

/// Decides whether to start a bridge for `id`.
pub fn decide(config: &AutoStartConfig, id: &Identified) -> Decision {
    let named = config.named.iter().find(|n| n.selector.matches(id));
    let firmware = match named {
        Some(n) => n.firmware.unwrap_or(id.firmware),
        None if config.auto_start => id.firmware,
        None => {
            return Decision::Ignore("auto-start is off and the configuration does not name it");
        }
    };
    match firmware {
        Firmware::Unknown => Decision::Ignore("firmware not identified"),
        f if BRIDGED.contains(&f) => Decision::Start {
            firmware: f,
            port: id.port_spec(),
        },
        _ => Decision::Ignore("no bridge for this firmware yet"),
    }
}
