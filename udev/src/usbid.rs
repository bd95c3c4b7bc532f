//! The USB id table: which dongle a USB serial port is, and which firmwares it may speak.
//!
//! One place, data only. Every `vid:pid` here has a rule in `udev/rules/60-usphub.rules` and
//! a row in `docs/DONGLES.md` (a test checks all three agree); the sources for each id are
//! cited in the document.
//!
//! Several ids are generic USB-UART bridge chips (Silicon Labs CP210x `10c4:ea60`, WCH CH340
//! `1a86:7523` and CH9102 `1a86:55d4`, FTDI FT230X `0403:6015`, Espressif `303a:4001`) that
//! carry sticks of different radios and firmwares. Entries for such an id are tried in
//! order: the first whose [`Hint`]s all match the USB strings wins; an entry without hints is
//! the id's fallback. An id without a fallback (FTDI, Espressif) matches only with its
//! strings, because many non-radio devices share it.

use serde::{Deserialize, Serialize};
use usphub_bridges::api::FlowControl;

/// What a port speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Firmware {
    /// TI Z-Stack ZNP (Monitor and Test API).
    Znp,
    /// Silicon Labs EmberZNet NCP: EZSP over ASH.
    Ezsp,
    /// A Z-Wave Serial API controller.
    ZWave,
    /// dresden elektronik deCONZ (ConBee); recognised, no bridge yet.
    Deconz,
    /// Not known (no probe answered, or not probed).
    Unknown,
}

impl Firmware {
    /// Short lower-case name, as `usphub dongles` prints it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Znp => "znp",
            Self::Ezsp => "ezsp",
            Self::ZWave => "zwave",
            Self::Deconz => "deconz",
            Self::Unknown => "unknown",
        }
    }

    /// The radio this firmware belongs to.
    pub const fn kind(self) -> Kind {
        match self {
            Self::Znp | Self::Ezsp | Self::Deconz => Kind::Zigbee,
            Self::ZWave => Kind::ZWave,
            Self::Unknown => Kind::Radio,
        }
    }
}

/// Which radio a port is, as far as known; `Radio` when the id is ambiguous.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A Zigbee coordinator.
    Zigbee,
    /// A Z-Wave controller.
    ZWave,
    /// A radio stick whose protocol is not known yet.
    Radio,
}

impl Kind {
    /// The name used in `/dev/usphub/<kind>-<serial>` links.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Zigbee => "zigbee",
            Self::ZWave => "zwave",
            Self::Radio => "radio",
        }
    }

    /// The kind of a set of candidate firmwares: one radio if they agree, else `Radio`.
    pub fn of(firmwares: &[Firmware]) -> Kind {
        let mut kinds = firmwares.iter().map(|f| f.kind());
        match kinds.next() {
            Some(first) if kinds.all(|k| k == first) => first,
            _ => Kind::Radio,
        }
    }
}

/// A case-insensitive substring a USB string must contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// The device's iManufacturer string.
    Manufacturer(&'static str),
    /// The device's iProduct string.
    Product(&'static str),
    /// The interface's iInterface string (multi-interface sticks).
    Interface(&'static str),
}

/// The strings a USB serial port reports, as far as the device has them.
#[derive(Debug, Clone, Copy, Default)]
pub struct UsbStrings<'a> {
    /// iManufacturer.
    pub manufacturer: Option<&'a str>,
    /// iProduct.
    pub product: Option<&'a str>,
    /// iInterface of the port's interface.
    pub interface: Option<&'a str>,
}

impl Hint {
    fn matches(&self, s: &UsbStrings<'_>) -> bool {
        let (field, needle) = match *self {
            Hint::Manufacturer(n) => (s.manufacturer, n),
            Hint::Product(n) => (s.product, n),
            Hint::Interface(n) => (s.interface, n),
        };
        field.is_some_and(|f| {
            f.to_ascii_lowercase()
                .contains(&needle.to_ascii_lowercase())
        })
    }
}

/// One known dongle (or family sharing an id and strings).
#[derive(Debug, Clone, Copy)]
pub struct DongleEntry {
    /// USB vendor id.
    pub vid: u16,
    /// USB product id.
    pub pid: u16,
    /// Strings that must all match; empty = the id's fallback.
    pub hints: &'static [Hint],
    /// Human name, e.g. "Sonoff ZBDongle-P".
    pub name: &'static str,
    /// Firmwares this stick may run, most likely first; more than one means: probe.
    pub firmwares: &'static [Firmware],
    /// Baud rate the stock firmware uses.
    pub baud: u32,
    /// Flow control the stock firmware uses.
    pub flow: FlowControl,
}

impl DongleEntry {
    /// The radio kind the entry implies.
    pub fn kind(&self) -> Kind {
        Kind::of(self.firmwares)
    }

    /// Whether the USB strings alone settle the firmware.
    pub fn is_unambiguous(&self) -> bool {
        self.firmwares.len() == 1
    }
}

const B115200: u32 = 115_200;
/// Every firmware a probe can recognise, in the probe's safe order.
pub const PROBED: &[Firmware] = &[Firmware::ZWave, Firmware::Ezsp, Firmware::Znp];

macro_rules! dongle {
    ($vid:expr, $pid:expr, [$($h:expr),*], $name:expr, [$($f:ident),+]) => {
        dongle!($vid, $pid, [$($h),*], $name, [$($f),+], B115200, FlowControl::None)
    };
    ($vid:expr, $pid:expr, [$($h:expr),*], $name:expr, [$($f:ident),+], $baud:expr, $flow:expr) => {
        DongleEntry {
            vid: $vid,
            pid: $pid,
            hints: &[$($h),*],
            name: $name,
            firmwares: &[$(Firmware::$f),+],
            baud: $baud,
            flow: $flow,
        }
    };
}

use Hint::{Interface as I, Manufacturer as M, Product as P};

/// The table. Order matters within an id: specific strings first, the fallback last.
pub static DONGLES: &[DongleEntry] = &[
    // Silicon Labs CP210x: the most shared id of all.
    dongle!(
        0x10c4,
        0xea60,
        [P("SkyConnect")],
        "Home Assistant SkyConnect",
        [Ezsp],
        B115200,
        FlowControl::RtsCts
    ),
    dongle!(
        0x10c4,
        0xea60,
        [P("ZBT-1")],
        "Home Assistant Connect ZBT-1",
        [Ezsp],
        B115200,
        FlowControl::RtsCts
    ),
    dongle!(
        0x10c4,
        0xea60,
        [P("Dongle Plus V2")],
        "Sonoff ZBDongle-E (CP2102N)",
        [Ezsp],
        B115200,
        FlowControl::XonXoff
    ),
    dongle!(
        0x10c4,
        0xea60,
        [P("Dongle Max")],
        "Sonoff Dongle Max (ZBDongle-M)",
        [Ezsp]
    ),
    dongle!(
        0x10c4,
        0xea60,
        [P("Dongle Plus")],
        "Sonoff ZBDongle-P",
        [Znp]
    ),
    dongle!(0x10c4, 0xea60, [P("SLZB-07p")], "SMLIGHT SLZB-07p7", [Znp]),
    dongle!(
        0x10c4,
        0xea60,
        [P("SLZB-07")],
        "SMLIGHT SLZB-07 / SLZB-07Mg24",
        [Ezsp],
        B115200,
        FlowControl::RtsCts
    ),
    dongle!(
        0x10c4,
        0xea60,
        [P("SLZB-06p")],
        "SMLIGHT SLZB-06p7 / SLZB-06p10 (USB)",
        [Znp]
    ),
    dongle!(
        0x10c4,
        0xea60,
        [P("2652")],
        "CC2652 stick (slae.sh CC2652RB and similar)",
        [Znp]
    ),
    dongle!(
        0x10c4,
        0xea60,
        [P("tubeszb")],
        "TubesZB (CP210x)",
        [Znp, Ezsp]
    ),
    dongle!(
        0x10c4,
        0xea60,
        [],
        "CP210x USB-UART: Zooz ZST10-700, Aeotec Z-Stick 7, other sticks",
        [ZWave, Ezsp, Znp]
    ),
    // Nortek GoControl HUSBZB-1: one CP210x with two ports, told apart by interface string.
    dongle!(
        0x10c4,
        0x8a2a,
        [I("Z-Wave")],
        "Nortek HUSBZB-1 (Z-Wave port)",
        [ZWave]
    ),
    dongle!(
        0x10c4,
        0x8a2a,
        [I("ZigBee")],
        "Nortek HUSBZB-1 (Zigbee port)",
        [Ezsp],
        57_600,
        FlowControl::XonXoff
    ),
    dongle!(
        0x10c4,
        0x8a2a,
        [],
        "Nortek HUSBZB-1 (port not named)",
        [ZWave, Ezsp]
    ),
    // WCH CH340 and CH9102.
    dongle!(
        0x1a86,
        0x7523,
        [P("tubeszb")],
        "TubesZB (CH340)",
        [Znp, Ezsp]
    ),
    dongle!(0x1a86, 0x7523, [P("zigstar")], "ZigStar (CH340)", [Znp]),
    dongle!(
        0x1a86,
        0x7523,
        [],
        "CH340 USB-UART stick",
        [ZWave, Ezsp, Znp]
    ),
    dongle!(
        0x1a86,
        0x55d4,
        [P("Dongle Plus")],
        "Sonoff ZBDongle-E (CH9102)",
        [Ezsp],
        B115200,
        FlowControl::XonXoff
    ),
    dongle!(
        0x1a86,
        0x55d4,
        [],
        "CH9102 USB-UART stick",
        [ZWave, Ezsp, Znp]
    ),
    // Texas Instruments USB CDC (ZNP on the chip's own USB, or a LaunchPad's XDS110).
    dongle!(0x0451, 0x16a8, [], "TI CC2531 USB dongle", [Znp]),
    dongle!(0x0451, 0x16c8, [], "TI CC2538 USB", [Znp]),
    dongle!(
        0x0451,
        0xbef3,
        [],
        "TI LaunchPad (CC26x2R1 / CC1352P-2, XDS110)",
        [Znp]
    ),
    // Sigma Designs: 500-series Z-Wave sticks (USB CDC on the Z-Wave chip).
    dongle!(
        0x0658,
        0x0200,
        [],
        "Z-Wave 500 series: Aeotec Z-Stick Gen5/Gen5+, Z-Wave.Me UZB, Zooz ZST10",
        [ZWave]
    ),
    // Espressif USB ids used by Nabu Casa's ESP32-S3 bridges; only with their strings.
    dongle!(
        0x303a,
        0x4001,
        [P("ZWA-2")],
        "Home Assistant Connect ZWA-2",
        [ZWave]
    ),
    dongle!(
        0x303a,
        0x4001,
        [P("ZBT-2")],
        "Home Assistant Connect ZBT-2",
        [Ezsp],
        460_800,
        FlowControl::None
    ),
    dongle!(
        0x303a,
        0x831a,
        [P("ZBT-2")],
        "Home Assistant Connect ZBT-2",
        [Ezsp],
        460_800,
        FlowControl::None
    ),
    // FTDI FT230X: only with a radio maker's strings.
    dongle!(
        0x0403,
        0x6015,
        [M("dresden elektronik")],
        "dresden elektronik ConBee III",
        [Deconz]
    ),
    dongle!(0x0403, 0x6015, [M("Electrolama")], "Electrolama zzh", [Znp]),
    // dresden elektronik's own id.
    dongle!(0x1cf1, 0x0030, [], "dresden elektronik ConBee II", [Deconz]),
];

/// The first table entry for this id whose strings match, if any.
pub fn lookup(vid: u16, pid: u16, strings: &UsbStrings<'_>) -> Option<&'static DongleEntry> {
    DONGLES
        .iter()
        .filter(|e| e.vid == vid && e.pid == pid)
        .find(|e| e.hints.iter().all(|h| h.matches(strings)))
}

/// Every distinct `vid:pid` in the table, in table order.
pub fn known_ids() -> Vec<(u16, u16)> {
    let mut out: Vec<(u16, u16)> = Vec::new();
    for e in DONGLES {
        if !out.contains(&(e.vid, e.pid)) {
            out.push((e.vid, e.pid));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(p: &str) -> UsbStrings<'_> {
        UsbStrings {
            product: Some(p),
            ..UsbStrings::default()
        }
    }

    #[test]
    fn sonoff_p_and_e_share_the_cp210x_id_but_not_the_firmware() {
        let p = lookup(
            0x10c4,
            0xea60,
            &product("Sonoff Zigbee 3.0 USB Dongle Plus"),
        )
        .unwrap();
        assert_eq!(p.firmwares, &[Firmware::Znp]);
        let e = lookup(
            0x10c4,
            0xea60,
            &product("Sonoff Zigbee 3.0 USB Dongle Plus V2"),
        )
        .unwrap();
        assert_eq!(e.firmwares, &[Firmware::Ezsp]);
        assert_eq!(e.flow, FlowControl::XonXoff);
    }

    #[test]
    fn slzb_07p7_is_znp_while_slzb_07_is_ezsp() {
        let p7 = lookup(0x10c4, 0xea60, &product("SMLIGHT SLZB-07p7")).unwrap();
        assert_eq!(p7.firmwares, &[Firmware::Znp]);
        let e = lookup(0x10c4, 0xea60, &product("SMLIGHT SLZB-07")).unwrap();
        assert_eq!(e.firmwares, &[Firmware::Ezsp]);
    }

    #[test]
    fn generic_cp210x_falls_back_to_an_ambiguous_radio() {
        let g = lookup(
            0x10c4,
            0xea60,
            &product("CP2102N USB to UART Bridge Controller"),
        )
        .unwrap();
        assert_eq!(g.kind(), Kind::Radio);
        assert!(!g.is_unambiguous());
        assert!(lookup(0x10c4, 0xea60, &UsbStrings::default()).is_some());
    }

    #[test]
    fn husbzb1_ports_are_told_apart_by_interface_string() {
        let zw = UsbStrings {
            interface: Some("HubZ Z-Wave Com Port"),
            ..UsbStrings::default()
        };
        let zb = UsbStrings {
            interface: Some("HubZ ZigBee Com Port"),
            ..UsbStrings::default()
        };
        assert_eq!(lookup(0x10c4, 0x8a2a, &zw).unwrap().kind(), Kind::ZWave);
        let zigbee = lookup(0x10c4, 0x8a2a, &zb).unwrap();
        assert_eq!((zigbee.kind(), zigbee.baud), (Kind::Zigbee, 57_600));
    }

    #[test]
    fn espressif_and_ftdi_ids_need_their_strings() {
        assert!(lookup(0x303a, 0x4001, &product("USB JTAG/serial debug unit")).is_none());
        assert!(lookup(0x0403, 0x6015, &product("FT230X Basic UART")).is_none());
        let zwa = lookup(0x303a, 0x4001, &product("ZWA-2")).unwrap();
        assert_eq!(zwa.kind(), Kind::ZWave);
        let zbt2 = lookup(0x303a, 0x831a, &product("ZBT-2")).unwrap();
        assert_eq!(zbt2.baud, 460_800);
        let conbee3 = UsbStrings {
            manufacturer: Some("dresden elektronik ingenieurtechnik GmbH"),
            product: Some("ConBee III"),
            interface: None,
        };
        assert_eq!(
            lookup(0x0403, 0x6015, &conbee3).unwrap().firmwares,
            &[Firmware::Deconz]
        );
    }

    #[test]
    fn unknown_ids_are_not_in_the_table() {
        assert!(lookup(0x1234, 0x5678, &UsbStrings::default()).is_none());
    }

    #[test]
    fn kind_of_mixed_candidates_is_radio() {
        assert_eq!(Kind::of(&[Firmware::Znp, Firmware::Ezsp]), Kind::Zigbee);
        assert_eq!(Kind::of(&[Firmware::ZWave, Firmware::Ezsp]), Kind::Radio);
        assert_eq!(Kind::of(&[]), Kind::Radio);
    }
}
