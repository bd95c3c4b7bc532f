//! The BLE bridge's state without I/O: every advertiser heard (last seen, RSSI; bounded),
//! the paired sensors with their descriptors and last values, de-duplication, the pairing
//! window, and availability. The actor feeds it adverts and clock ticks and publishes the
//! events it returns; tests drive it with a fake clock.
//!
//! Pairing: an advertiser becomes a device when its address is configured, or when joining
//! is permitted and it sends a decodable sensor advert. Unknown advertisers are only tracked.
//! A removed device stays out until joining is permitted again.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant, SystemTime};

use crate::api::{
    BleAddress, BridgeError, BridgeEvent, CapabilityId, DeviceDescriptor, DeviceId, EventSpec,
    InterviewState, IoTDeviceType, PowerSource,
};

use super::crypto::BindKey;
use super::decode::{self, Advert, AdvertFormat, Decoded, Sequence};
use super::gatt::GattUpdate;
use super::mapping::{self, EVENT_BUTTON, EVENT_DIMMER, Mapped};
use super::reading::{Quantity, Reading};

/// Default availability timeout for advertisers (issue: 10 minutes).
pub const DEFAULT_AVAILABILITY_TIMEOUT: Duration = Duration::from_secs(600);
/// Default availability timeout for trigger-based devices (25 h, as zigbee2mqtt uses for
/// battery devices): they may stay silent for hours and are not gone.
pub const DEFAULT_TRIGGER_BASED_TIMEOUT: Duration = Duration::from_secs(25 * 3600);
/// Default bound on tracked advertisers.
pub const DEFAULT_MAX_TRACKED: usize = 1024;
/// Repeats of one packet id within this window are duplicates (BTHome receivers use 4 s).
const DUPLICATE_WINDOW: Duration = Duration::from_secs(4);

/// A configured BLE device (`[[ble.devices]]` in the configuration file).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BleDeviceConfig {
    /// Its address.
    pub address: BleAddress,
    /// Bind key for encrypted adverts (32 hex digits).
    #[serde(default)]
    pub bind_key: Option<BindKey>,
    /// Connect over GATT and read Device Information, Battery and Environmental Sensing.
    #[serde(default)]
    pub gatt: bool,
}

/// BLE registry settings (built from [`BleSettings`](super::BleSettings)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BleConfig {
    /// Devices to mount whenever heard.
    pub devices: Vec<BleDeviceConfig>,
    /// A device not heard for this long is offline.
    pub availability_timeout: Duration,
    /// The same for devices that advertise only on events (BTHome trigger-based).
    pub trigger_based_timeout: Duration,
    /// At most this many advertisers are tracked at once.
    pub max_tracked: usize,
}

impl Default for BleConfig {
    fn default() -> Self {
        Self {
            devices: Vec::new(),
            availability_timeout: DEFAULT_AVAILABILITY_TIMEOUT,
            trigger_based_timeout: DEFAULT_TRIGGER_BASED_TIMEOUT,
            max_tracked: DEFAULT_MAX_TRACKED,
        }
    }
}

/// What is known about any advertiser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advertiser {
    /// Last time heard.
    pub last_seen: Instant,
    /// Last RSSI, dBm.
    pub rssi: Option<i16>,
    /// Adverts heard.
    pub adverts: u64,
}

#[derive(Debug)]
struct Device {
    descriptor: DeviceDescriptor,
    last_seen: Instant,
    online: bool,
    last_sequence: Option<(Sequence, Instant)>,
    /// Sends only on events (buttons, door sensors in trigger mode): the long timeout applies.
    trigger_based: bool,
}

/// Counters for the log and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Adverts handled.
    pub adverts: u64,
    /// Duplicates dropped.
    pub duplicates: u64,
    /// Service data that failed to decode.
    pub rejected: u64,
    /// New advertisers not tracked because the table was full.
    pub untracked: u64,
}

/// The BLE registry.
#[derive(Debug)]
pub struct BleRegistry {
    config: BleConfig,
    keys: HashMap<BleAddress, BindKey>,
    configured: HashSet<BleAddress>,
    removed: HashSet<BleAddress>,
    tracked: HashMap<BleAddress, Advertiser>,
    devices: BTreeMap<BleAddress, Device>,
    permit_until: Option<Instant>,
    stats: Stats,
    warned: HashMap<BleAddress, String>,
}

/// Whether `new` repeats (or predates) `old`, heard `age` later.
fn is_duplicate(new: Sequence, old: Sequence, age: Duration) -> bool {
    match (new, old) {
        // Encrypted BTHome: a counter that does not advance is a replay, whatever its age;
        // one that restarted low is a device reset (battery change).
        (Sequence::Counter(n), Sequence::Counter(o)) => n == o || (n < o && n >= 100),
        // Packet ids wrap at 256: within the window, anything not up to 63 ahead is a repeat.
        (Sequence::PacketId(n), Sequence::PacketId(o))
        | (Sequence::FrameCounter(n), Sequence::FrameCounter(o)) => {
            let d = n.wrapping_sub(o);
            age <= DUPLICATE_WINDOW && (d == 0 || d >= 64)
        }
        _ => false,
    }
}

impl BleRegistry {
    /// A registry with `config`.
    pub fn new(config: BleConfig) -> Self {
        let keys = config
            .devices
            .iter()
            .filter_map(|d| d.bind_key.clone().map(|k| (d.address, k)))
            .collect();
        let configured = config.devices.iter().map(|d| d.address).collect();
        Self {
            config,
            keys,
            configured,
            removed: HashSet::new(),
            tracked: HashMap::new(),
            devices: BTreeMap::new(),
            permit_until: None,
            stats: Stats::default(),
            warned: HashMap::new(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// What is known of an advertiser.
    pub fn advertiser(&self, address: &BleAddress) -> Option<&Advertiser> {
        self.tracked.get(address)
    }

    /// How many advertisers are tracked.
    pub fn tracked_count(&self) -> usize {
        self.tracked.len()
    }

    /// The descriptor of one paired device.
    pub fn device(&self, id: &DeviceId) -> Option<&DeviceDescriptor> {
        match id {
            DeviceId::Ble(a) => self.devices.get(a).map(|d| &d.descriptor),
            _ => None,
        }
    }

    /// Descriptors of every paired device.
    pub fn devices(&self) -> Vec<DeviceDescriptor> {
        self.devices
            .values()
            .map(|d| d.descriptor.clone())
            .collect()
    }

    fn track(&mut self, advert: &Advert, now: Instant) {
        if let Some(a) = self.tracked.get_mut(&advert.address) {
            a.last_seen = now;
            a.rssi = advert.rssi.or(a.rssi);
            a.adverts += 1;
        } else if self.tracked.len() < self.config.max_tracked {
            self.tracked.insert(
                advert.address,
                Advertiser {
                    last_seen: now,
                    rssi: advert.rssi,
                    adverts: 1,
                },
            );
        } else {
            self.stats.untracked += 1;
        }
    }

    fn may_join(&self, address: &BleAddress, now: Instant) -> bool {
        let permitted = self.permit_until.is_some_and(|t| now < t);
        permitted || (self.configured.contains(address) && !self.removed.contains(address))
    }

    /// Handles one advertisement, appending the events it causes.
    pub fn handle_advert(
        &mut self,
        advert: &Advert,
        now: Instant,
        at: SystemTime,
        out: &mut Vec<BridgeEvent>,
    ) {
        self.stats.adverts += 1;
        self.track(advert, now);
        let known = self.devices.contains_key(&advert.address);
        if !known && !self.may_join(&advert.address, now) {
            return;
        }
        let decoded = match decode::decode(advert, self.keys.get(&advert.address)) {
            Ok(Some(d)) => d,
            Ok(None) => return,
            Err(e) => {
                self.stats.rejected += 1;
                self.warn_once(advert.address, format!("BLE advert rejected: {e}"));
                return;
            }
        };
        if let Some(why) = &decoded.partial {
            self.warn_once(advert.address, format!("BLE advert partly decoded: {why}"));
        }
        self.apply_decoded(advert.address, &decoded, now, at, out);
    }

    /// Logs a problem with a device's adverts at warn level the first time (and whenever it
    /// changes), at debug level when it repeats: a sensor sends the same frame every few
    /// seconds and must not fill the log.
    fn warn_once(&mut self, address: BleAddress, message: String) {
        if self.warned.get(&address) == Some(&message) {
            tracing::debug!(device = %address, "{message}");
            return;
        }
        tracing::warn!(device = %address, "{message}");
        if self.warned.len() >= self.config.max_tracked {
            self.warned.clear();
        }
        self.warned.insert(address, message);
    }

    /// Handles what a GATT connection read or was notified of (configured devices only).
    pub fn handle_gatt(
        &mut self,
        address: BleAddress,
        update: GattUpdate,
        now: Instant,
        at: SystemTime,
        out: &mut Vec<BridgeEvent>,
    ) {
        let known = self.devices.contains_key(&address);
        if !known && !self.may_join(&address, now) {
            return;
        }
        if let Some(dev) = self.devices.get_mut(&address) {
            let d = &mut dev.descriptor;
            let mut changed = false;
            for (field, new) in [
                (&mut d.manufacturer, &update.manufacturer),
                (&mut d.model, &update.model),
                (&mut d.firmware, &update.firmware),
            ] {
                if let Some(v) = new
                    && field != v
                {
                    field.clone_from(v);
                    changed = true;
                }
            }
            if changed {
                out.push(BridgeEvent::DeviceUpdated(d.clone()));
            }
        }
        let decoded = Decoded {
            format: AdvertFormat::Gatt,
            readings: update.readings,
            sequence: Sequence::None,
            manufacturer: update.manufacturer.unwrap_or_default(),
            model: update.model.unwrap_or_else(|| "GATT sensor".to_owned()),
            firmware: update.firmware.unwrap_or_default(),
            partial: None,
            trigger_based: false,
        };
        self.apply_decoded(address, &decoded, now, at, out);
    }

    fn apply_decoded(
        &mut self,
        address: BleAddress,
        decoded: &Decoded,
        now: Instant,
        at: SystemTime,
        out: &mut Vec<BridgeEvent>,
    ) {
        if !self.devices.contains_key(&address) {
            self.join(address, decoded, now, out);
        }
        let Some(dev) = self.devices.get_mut(&address) else {
            return;
        };
        dev.last_seen = now;
        dev.trigger_based |= decoded.trigger_based;
        if !dev.online {
            dev.online = true;
            out.push(BridgeEvent::Online {
                id: dev.descriptor.id,
                online: true,
            });
        }
        if let Some((last, t)) = dev.last_sequence
            && is_duplicate(decoded.sequence, last, now.duration_since(t))
        {
            self.stats.duplicates += 1;
            return;
        }
        if decoded.sequence != Sequence::None {
            dev.last_sequence = Some((decoded.sequence, now));
        }
        apply(dev, decoded, at, out);
    }

    fn join(
        &mut self,
        address: BleAddress,
        decoded: &Decoded,
        now: Instant,
        out: &mut Vec<BridgeEvent>,
    ) {
        let mut d = DeviceDescriptor::new(DeviceId::Ble(address));
        d.manufacturer = decoded.manufacturer.clone();
        d.model = decoded.model.clone();
        d.firmware = decoded.firmware.clone();
        d.device_type = Some(IoTDeviceType::Sensor);
        let via = match decoded.format {
            AdvertFormat::Bthome => "BTHome v2 advertisements",
            AdvertFormat::MiBeacon => "MiBeacon advertisements",
            AdvertFormat::Gatt => "GATT connection",
        };
        d.description = format!("{} ({via})", decoded.model);
        d.interview = InterviewState::Complete;
        let mut dev = Device {
            descriptor: d,
            last_seen: now,
            online: true,
            last_sequence: None,
            trigger_based: decoded.trigger_based,
        };
        // Capabilities come from the first advert; values are published by `apply` next.
        let mut scratch = Vec::new();
        apply(&mut dev, decoded, SystemTime::UNIX_EPOCH, &mut scratch);
        if dev.descriptor.capabilities.is_empty() && dev.descriptor.events.is_empty() {
            return;
        }
        for c in &mut dev.descriptor.capabilities {
            c.value = None;
        }
        self.removed.remove(&address);
        tracing::info!(device = %address, model = %dev.descriptor.model, "BLE device joined");
        out.push(BridgeEvent::DeviceJoined(dev.descriptor.clone()));
        self.devices.insert(address, dev);
    }

    /// Opens (or with zero, closes) the pairing window.
    pub fn permit_join(&mut self, duration: Duration, now: Instant) -> BridgeEvent {
        self.permit_until = (!duration.is_zero()).then(|| now + duration);
        BridgeEvent::PermitJoin {
            open: !duration.is_zero(),
            remaining_s: duration.as_secs().min(u64::from(u32::MAX)) as u32,
        }
    }

    /// Removes a paired device.
    pub fn remove(&mut self, id: &DeviceId) -> Result<BridgeEvent, BridgeError> {
        let DeviceId::Ble(addr) = id else {
            return Err(BridgeError::UnknownDevice(*id));
        };
        self.devices
            .remove(addr)
            .ok_or(BridgeError::UnknownDevice(*id))?;
        self.removed.insert(*addr);
        Ok(BridgeEvent::DeviceLeft(*id))
    }

    /// Advances the clock: closes the pairing window, marks silent devices offline and
    /// forgets stale advertisers.
    pub fn tick(&mut self, now: Instant, out: &mut Vec<BridgeEvent>) {
        if self.permit_until.is_some_and(|t| now >= t) {
            self.permit_until = None;
            out.push(BridgeEvent::PermitJoin {
                open: false,
                remaining_s: 0,
            });
        }
        let timeout = self.config.availability_timeout;
        let trigger_timeout = self.config.trigger_based_timeout;
        for dev in self.devices.values_mut() {
            let limit = if dev.trigger_based {
                trigger_timeout
            } else {
                timeout
            };
            if dev.online && now.duration_since(dev.last_seen) > limit {
                dev.online = false;
                out.push(BridgeEvent::Online {
                    id: dev.descriptor.id,
                    online: false,
                });
            }
        }
        self.tracked
            .retain(|_, a| now.duration_since(a.last_seen) <= timeout);
    }
}

/// Applies readings: adds new capabilities/events to the descriptor (one `DeviceUpdated`),
/// publishes changed values and every event.
fn apply(dev: &mut Device, decoded: &Decoded, at: SystemTime, out: &mut Vec<BridgeEvent>) {
    let id = dev.descriptor.id;
    let mut changed_shape = false;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut updates = Vec::new();
    // Buttons and dimmers are numbered by position among their kind, idle ones included,
    // so "Button 2" is always the same physical button.
    let (mut buttons, mut dimmers) = (0u32, 0u32);
    for reading in &decoded.readings {
        match reading {
            Reading::Button(_) => buttons += 1,
            Reading::Dimmer { .. } => dimmers += 1,
            _ => {}
        }
        if let Reading::Level {
            quantity: Quantity::Battery,
            ..
        } = reading
        {
            dev.descriptor.power = PowerSource::Battery;
        }
        match mapping::map(reading) {
            Mapped::Capability(mut cap) => {
                let n = seen.entry(cap.id.0.clone()).or_insert(0);
                *n += 1;
                if *n > 1 {
                    cap.id = CapabilityId(format!("{}_{}", cap.id, n));
                    cap.name = format!("{} {}", cap.name, n);
                }
                let value = cap.value.take();
                match dev
                    .descriptor
                    .capabilities
                    .iter_mut()
                    .find(|c| c.id == cap.id)
                {
                    Some(existing) => {
                        if let Some(v) = value
                            && existing.value.as_ref() != Some(&v)
                        {
                            existing.value = Some(v.clone());
                            updates.push((existing.id.clone(), v));
                        }
                    }
                    None => {
                        changed_shape = true;
                        cap.value = value.clone();
                        if let Some(v) = value {
                            updates.push((cap.id.clone(), v));
                        }
                        dev.descriptor.capabilities.push(cap);
                    }
                }
            }
            Mapped::Event(name, mut args) => {
                let (index_arg, n) = if name == EVENT_DIMMER {
                    ("Dimmer", dimmers)
                } else {
                    ("Button", buttons)
                };
                args.insert(index_arg.to_owned(), n.to_string());
                if !dev.descriptor.events.iter().any(|e| e.name == name) {
                    changed_shape = true;
                    dev.descriptor.events.push(event_spec(name));
                }
                out.push(BridgeEvent::Event {
                    id,
                    capability: None,
                    name: name.to_owned(),
                    args,
                    at,
                });
            }
            Mapped::Firmware(f) => {
                if dev.descriptor.firmware != f {
                    dev.descriptor.firmware = f;
                    changed_shape = true;
                }
            }
            Mapped::Ignored => {}
        }
    }
    if changed_shape {
        out.push(BridgeEvent::DeviceUpdated(dev.descriptor.clone()));
    }
    for (capability, value) in updates {
        out.push(BridgeEvent::Value {
            id,
            capability,
            value,
            at,
        });
    }
}

fn event_spec(name: &str) -> EventSpec {
    let args: &[&str] = if name == EVENT_BUTTON {
        &["Button", "Event"]
    } else {
        &["Dimmer", "Direction", "Steps"]
    };
    EventSpec {
        name: name.to_owned(),
        args: args.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
