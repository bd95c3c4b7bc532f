//! The btleplug scanner: BlueZ over the D-Bus **system** bus (whatever
//! `DBUS_SYSTEM_BUS_ADDRESS` names), scanning continuously and forwarding service-data
//! adverts to the bridge actor as [`ScanEvent`]s.
//!
//! No BlueZ, no adapter or a powered-off adapter is a retryable state: it is reported as
//! `ScanEvent::Adapter { online: false }` with the reason, and retried with back-off
//! (1 s doubling to 60 s). btleplug re-reads the device for every advert and has no "device
//! lost" event; availability is the registry's job. To keep the host cost per advert small,
//! the address comes from BlueZ's object path (no extra D-Bus call), the local name is read
//! once per new advertiser, and a full actor queue drops adverts (counted) instead of
//! buffering them.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use btleplug::api::bleuuid::BleUuid;
use btleplug::api::{
    Central, CentralEvent, CentralState, Manager as _, Peripheral as _, PeripheralProperties,
    ScanFilter,
};
use btleplug::platform::{Adapter, Manager, PeripheralId};
use futures_util::StreamExt;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Semaphore, mpsc};

use crate::api::BleAddress;

use super::bridge::ScanEvent;
use super::decode::Advert;
use super::gatt_client;

/// Longest wait between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Bound on the per-advertiser caches (name, RSSI).
const CACHE_LIMIT: usize = 4096;

/// Scanner settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScannerConfig {
    /// Adapter to use (e.g. `hci0`); the first one when `None`.
    pub adapter: Option<String>,
    /// Devices to read over GATT.
    pub gatt_devices: Vec<BleAddress>,
    /// How often GATT devices without notifications are read.
    pub gatt_poll_interval: Duration,
    /// At most this many GATT connections at once.
    pub gatt_max_connections: usize,
}

impl Default for ScannerConfig {
    fn default() -> Self {
        Self {
            adapter: None,
            gatt_devices: Vec::new(),
            gatt_poll_interval: gatt_client::DEFAULT_POLL_INTERVAL,
            gatt_max_connections: gatt_client::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The address in a BlueZ device path (`/org/bluez/hci0/dev_A4_C1_38_8D_18_B2`).
pub fn address_from_path(path: &str) -> Option<BleAddress> {
    let last = path.rsplit('/').next()?;
    let hex = last.strip_prefix("dev_")?;
    hex.replace('_', ":").parse().ok()
}

/// Runs until the bridge's receiver is dropped, retrying adapter failures with back-off.
pub async fn run(config: ScannerConfig, tx: mpsc::Sender<ScanEvent>) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let reason = match scan(&config, &tx, &mut backoff).await {
            Ok(()) if tx.is_closed() => return,
            Ok(()) => "BLE event stream ended".to_owned(),
            Err(e) => e,
        };
        tracing::warn!(reason = %reason, retry_in = ?backoff, "BLE scanner not running");
        let detail = format!("{reason}; retrying in {}s", backoff.as_secs());
        if tx
            .send(ScanEvent::Adapter {
                online: false,
                detail,
            })
            .await
            .is_err()
        {
            return;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn pick_adapter(config: &ScannerConfig) -> Result<(Adapter, String), String> {
    let manager = Manager::new()
        .await
        .map_err(|e| format!("BlueZ not reachable on the system bus: {e}"))?;
    let adapters = manager
        .adapters()
        .await
        .map_err(|e| format!("cannot list Bluetooth adapters: {e}"))?;
    for a in adapters {
        let info = a.adapter_info().await.unwrap_or_default();
        let wanted = config
            .adapter
            .as_deref()
            .is_none_or(|name| info.split_whitespace().next() == Some(name));
        if wanted {
            return Ok((a, info));
        }
    }
    Err(match &config.adapter {
        Some(n) => format!("no Bluetooth adapter {n}"),
        None => "no Bluetooth adapter".to_owned(),
    })
}

struct Caches {
    names: HashMap<BleAddress, Option<String>>,
    rssi: HashMap<BleAddress, i16>,
    dropped: u64,
}

impl Caches {
    fn bound(&mut self) {
        // Forgetting is harmless (the name is re-read, the RSSI re-learned), unbounded is not.
        if self.names.len() > CACHE_LIMIT {
            self.names.clear();
        }
        if self.rssi.len() > CACHE_LIMIT {
            self.rssi.clear();
        }
    }
}

async fn scan(
    config: &ScannerConfig,
    tx: &mpsc::Sender<ScanEvent>,
    backoff: &mut Duration,
) -> Result<(), String> {
    let (central, info) = pick_adapter(config).await?;
    let mut events = central
        .events()
        .await
        .map_err(|e| format!("cannot subscribe to adapter events: {e}"))?;
    central
        .start_scan(ScanFilter::default())
        .await
        .map_err(|e| format!("cannot start scanning: {e}"))?;
    tracing::info!(adapter = %info, "BLE scanning");
    *backoff = Duration::from_secs(1);
    tx.send(ScanEvent::Adapter {
        online: true,
        detail: info,
    })
    .await
    .map_err(|_| "bridge stopped".to_owned())?;
    // GATT sessions share this adapter; they end (abort) when this scan ends.
    let mut gatt_sessions = tokio::task::JoinSet::new();
    let slots = Arc::new(Semaphore::new(config.gatt_max_connections.max(1)));
    for address in &config.gatt_devices {
        gatt_sessions.spawn(gatt_client::run(
            central.clone(),
            *address,
            config.gatt_poll_interval,
            slots.clone(),
            tx.clone(),
        ));
    }
    let mut caches = Caches {
        names: HashMap::new(),
        rssi: HashMap::new(),
        dropped: 0,
    };
    while let Some(ev) = events.next().await {
        match ev {
            CentralEvent::ServiceDataAdvertisement { id, service_data } => {
                let Some(address) = address_from_path(&id.to_string()) else {
                    continue;
                };
                let local_name = match caches.names.get(&address) {
                    Some(n) => n.clone(),
                    None => {
                        let n = properties(&central, &id).await.and_then(|p| p.local_name);
                        caches.names.insert(address, n.clone());
                        n
                    }
                };
                let advert = Advert {
                    address,
                    rssi: caches.rssi.get(&address).copied(),
                    local_name,
                    service_data: uuid16_data(service_data),
                };
                if forward(tx, advert, &mut caches.dropped) {
                    return Ok(());
                }
            }
            // BlueZ announces a new device with its first advert's data in InterfacesAdded,
            // which btleplug reports only as "discovered": read that first advert here.
            CentralEvent::DeviceDiscovered(id) => {
                let Some(address) = address_from_path(&id.to_string()) else {
                    continue;
                };
                let Some(props) = properties(&central, &id).await else {
                    continue;
                };
                caches.names.insert(address, props.local_name.clone());
                if let Some(r) = props.rssi {
                    caches.rssi.insert(address, r);
                }
                if !props.service_data.is_empty() {
                    let advert = Advert {
                        address,
                        rssi: props.rssi,
                        local_name: props.local_name,
                        service_data: uuid16_data(props.service_data),
                    };
                    if forward(tx, advert, &mut caches.dropped) {
                        return Ok(());
                    }
                }
            }
            CentralEvent::RssiUpdate { id, rssi } => {
                if let Some(a) = address_from_path(&id.to_string()) {
                    caches.rssi.insert(a, rssi);
                }
            }
            CentralEvent::StateUpdate(CentralState::PoweredOff) => {
                return Err("Bluetooth adapter powered off".to_owned());
            }
            _ => {}
        }
        caches.bound();
    }
    Ok(())
}

async fn properties(central: &Adapter, id: &PeripheralId) -> Option<PeripheralProperties> {
    let p = central.peripheral(id).await.ok()?;
    p.properties().await.ok().flatten()
}

fn uuid16_data<U: BleUuid>(data: HashMap<U, Vec<u8>>) -> Vec<(u16, Vec<u8>)> {
    data.into_iter()
        .filter_map(|(u, d)| u.to_ble_u16().map(|s| (s, d)))
        .collect()
}

/// Hands an advert to the actor without waiting; true when the actor is gone.
fn forward(tx: &mpsc::Sender<ScanEvent>, advert: Advert, dropped: &mut u64) -> bool {
    match tx.try_send(ScanEvent::Advert(advert)) {
        Ok(()) => false,
        Err(TrySendError::Full(_)) => {
            *dropped += 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped = *dropped, "BLE adverts dropped: bridge busy");
            }
            false
        }
        Err(TrySendError::Closed(_)) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_come_from_bluez_object_paths() {
        assert_eq!(
            address_from_path("/org/bluez/hci0/dev_A4_C1_38_8D_18_B2"),
            Some(BleAddress([0xA4, 0xC1, 0x38, 0x8D, 0x18, 0xB2]))
        );
        assert_eq!(address_from_path("/org/bluez/hci0"), None);
        assert_eq!(address_from_path("/org/bluez/hci0/dev_A4_C1"), None);
        assert_eq!(address_from_path(""), None);
    }
}
