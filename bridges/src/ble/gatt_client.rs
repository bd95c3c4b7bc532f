//! GATT sessions with configured devices (`gatt = true`): connect, discover services, read
//! Device Information, Battery Level and Environmental Sensing characteristics, then either
//! stay connected for notifications or — when nothing notifies — disconnect and poll again
//! later, so the adapter's few connection slots are not held by idle devices. Failures
//! (device not found, connect timeout, disconnect) retry with back-off.

use std::sync::Arc;
use std::time::Duration;

use btleplug::api::bleuuid::BleUuid;
use btleplug::api::{Central, CharPropFlags, Characteristic, Peripheral as _};
use btleplug::platform::{Adapter, Peripheral};
use futures_util::StreamExt;
use tokio::sync::{Semaphore, mpsc};

use crate::api::BleAddress;

use super::bridge::ScanEvent;
use super::gatt::{self, GattUpdate};

/// Default bound on simultaneous GATT connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 4;
/// How often a device without notifying characteristics is read again.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(300);
/// Longest wait between failed attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(300);
/// Deadline for connecting and resolving services.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(40);
/// How often a notification session checks that the link is still up.
const LINK_CHECK: Duration = Duration::from_secs(2);

/// How a session ended without error.
enum Ended {
    /// Read everything, disconnected to free the slot.
    Released,
    /// The bridge stopped.
    BridgeGone,
}

/// Runs sessions with one device until the bridge stops.
///
/// `slots` bounds the connections open at once across all GATT devices (adapters have few
/// connection slots; advertising sensors need none): a session waits for a slot, and a
/// polled device gives it back when it disconnects.
pub async fn run(
    central: Adapter,
    address: BleAddress,
    poll: Duration,
    slots: Arc<Semaphore>,
    tx: mpsc::Sender<ScanEvent>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let result = session(&central, address, &tx).await;
        drop(slot);
        match result {
            Ok(Ended::BridgeGone) => return,
            Ok(Ended::Released) => {
                backoff = Duration::from_secs(1);
                tokio::time::sleep(poll).await;
            }
            Err(e) => {
                tracing::warn!(device = %address, error = %e, retry_in = ?backoff, "GATT session failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        if tx.is_closed() {
            return;
        }
    }
}

async fn find(central: &Adapter, address: BleAddress) -> Result<Peripheral, String> {
    let peripherals = central
        .peripherals()
        .await
        .map_err(|e| format!("cannot list devices: {e}"))?;
    for p in peripherals {
        if p.address().into_inner() == address.0 {
            return Ok(p);
        }
    }
    Err("not discovered yet".to_owned())
}

fn known(c: &Characteristic) -> Option<u16> {
    c.uuid.to_ble_u16().filter(|u| gatt::spec(*u).is_some())
}

async fn session(
    central: &Adapter,
    address: BleAddress,
    tx: &mpsc::Sender<ScanEvent>,
) -> Result<Ended, String> {
    let p = find(central, address).await?;
    if !p.is_connected().await.unwrap_or(false) {
        tokio::time::timeout(CONNECT_TIMEOUT, p.connect())
            .await
            .map_err(|_| "connect timed out".to_owned())?
            .map_err(|e| format!("connect failed: {e}"))?;
    }
    p.discover_services()
        .await
        .map_err(|e| format!("service discovery failed: {e}"))?;
    let chars = p.characteristics();
    let mut update = GattUpdate::default();
    for c in &chars {
        let Some(uuid) = known(c) else { continue };
        if !c.properties.contains(CharPropFlags::READ) {
            continue;
        }
        match p.read(c).await {
            Ok(v) => match gatt::decode(uuid, &v) {
                Some(value) => update.add(value),
                None => {
                    tracing::warn!(device = %address, uuid = %format!("{uuid:#06x}"), len = v.len(), "GATT value of unexpected length")
                }
            },
            Err(e) => return Err(format!("read {uuid:#06x} failed: {e}")),
        }
    }
    tracing::info!(device = %address, readings = update.readings.len(), "GATT device read");
    if tx.send(ScanEvent::Gatt { address, update }).await.is_err() {
        return Ok(Ended::BridgeGone);
    }
    let notifying: Vec<&Characteristic> = chars
        .iter()
        .filter(|c| known(c).is_some() && c.properties.contains(CharPropFlags::NOTIFY))
        .collect();
    if notifying.is_empty() {
        // Nothing will be pushed: free the connection slot until the next poll.
        let _ = p.disconnect().await;
        return Ok(Ended::Released);
    }
    let mut stream = p
        .notifications()
        .await
        .map_err(|e| format!("cannot receive notifications: {e}"))?;
    for c in notifying {
        p.subscribe(c)
            .await
            .map_err(|e| format!("subscribe failed: {e}"))?;
    }
    let mut check = tokio::time::interval(LINK_CHECK);
    loop {
        tokio::select! {
            n = stream.next() => {
                let Some(n) = n else { return Err("notification stream ended".into()) };
                let Some(value) = n.uuid.to_ble_u16().and_then(|u| gatt::decode(u, &n.value)) else {
                    continue;
                };
                let mut update = GattUpdate::default();
                update.add(value);
                if tx.send(ScanEvent::Gatt { address, update }).await.is_err() {
                    return Ok(Ended::BridgeGone);
                }
            }
            _ = check.tick() => {
                if !p.is_connected().await.unwrap_or(false) {
                    return Err("disconnected".into());
                }
                // A live link is a sign of life even when no value changes.
                let alive = ScanEvent::Gatt { address, update: GattUpdate::default() };
                if tx.send(alive).await.is_err() {
                    return Ok(Ended::BridgeGone);
                }
            }
        }
    }
}
