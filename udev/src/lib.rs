//! usphub-udev: the dongles of a real hub. Finds USB serial ports and what they are, probes
//! ambiguous ones safely, follows hot-plug, and says which sticks to start a bridge for.
//!
//! * [`usbid`]: the USB id table (ids, strings, candidate firmwares, serial settings).
//! * [`sysfs`]: enumeration of USB serial ports from sysfs and `/dev/serial/by-id`.
//! * [`probe`]: Z-Wave GetVersion, ASH RST → RSTACK and ZNP SYS_PING probes.
//! * [`identify`](mod@identify): table + probe → [`Identified`].
//! * [`netlink`]: udevd's and the kernel's uevents, read from netlink without libudev.
//! * [`hotplug`]: add/remove events (udev or a test double) and the [`DongleTracker`].
//! * [`policy`]: the auto-start decision.
//! * [`autostart`]: hot-plug changes → start/stop actions for the agent ([`AutoStart`]).
//! * [`report`]: the `usphub dongles` table.
//!
//! The udev rules (`udev/rules/60-usphub.rules`) and `docs/DONGLES.md` list the same ids as
//! [`usbid::DONGLES`]; a test keeps the three in step.

pub mod autostart;
pub mod hotplug;
pub mod identify;
pub mod netlink;
pub mod policy;
pub mod probe;
pub mod report;
pub mod sysfs;
pub mod usbid;

pub use autostart::{Action, AutoStart};
#[cfg(target_os = "linux")]
pub use hotplug::UdevMonitor;
pub use hotplug::{ChannelSource, DongleChange, DongleTracker, HotplugEvent, HotplugSource};
pub use identify::{
    Evidence, Identified, ProbeMode, identify, identify_spec, identify_usb, list_dongles,
};
pub use policy::{AutoStartConfig, Decision, NamedDongle, Selector, decide};
pub use probe::{ProbeConfig, ProbeReport, probe_port, probe_stream};
pub use report::render_table;
pub use sysfs::{SerialPortInfo, SysRoots, UsbInfo, enumerate, port_info};
pub use usbid::{Firmware, Kind};
