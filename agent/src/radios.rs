//! Starting the radios the configuration names (`[zwave]`, `[zigbee]`, `[ble]`), attaching
//! each bridge to the proxy, and opening them for pairing at start-up (`permit_join_s`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tracing::{debug, info, warn};
use usp_datamodel::Store;
use usphub_bridges::api::{BleAddress, BridgeEvent, BridgeHandle, DeviceId, SerialPortSpec};
use usphub_bridges::ble::BleSettings;
use usphub_bridges::zwave;

use crate::agent::RunningAgent;
use crate::config::Config;

/// Why a radio could not start.
#[derive(Debug, thiserror::Error)]
#[error("{radio}: {reason}")]
pub struct RadioError {
    /// Which radio.
    pub radio: &'static str,
    /// Why.
    pub reason: String,
}

/// Starts a Z-Wave bridge on `port`, keeping its node registry in `state_dir`; S0 needs
/// the network's key.
pub fn zwave_bridge(
    port: SerialPortSpec,
    state_dir: &Path,
    network_key: Option<[u8; 16]>,
) -> Result<BridgeHandle, RadioError> {
    zwave::bridge::spawn(zwave_config(port, state_dir, network_key)).map_err(zwave_error)
}

/// The settings of a Z-Wave bridge on `port` with its registry in `state_dir`.
pub fn zwave_config(
    port: SerialPortSpec,
    state_dir: &Path,
    network_key: Option<[u8; 16]>,
) -> zwave::bridge::ZWaveConfig {
    let mut cfg = zwave::bridge::ZWaveConfig::new(port);
    cfg.registry = Some(state_dir.join("zwave.redb"));
    cfg.network_key = network_key;
    cfg
}

/// A Z-Wave bridge that could not start (its registry file).
fn zwave_error(e: impl std::fmt::Display) -> RadioError {
    RadioError {
        radio: "Z-Wave",
        reason: e.to_string(),
    }
}

/// Store namespace of the BLE devices paired through a join window (configured ones are in
/// the file): BLE has no network to remember them, so the agent does.
const BLE_PAIRED: &str = "usphub.ble.paired";

/// Starts the BLE bridge of a `[ble]` section on BlueZ, with the devices paired earlier;
/// devices paired or removed from now on are remembered in `store`.
pub fn ble_bridge(settings: &BleSettings, store: Option<Arc<Store>>) -> BridgeHandle {
    let mut settings = settings.clone();
    if let Some(s) = &store {
        match s.kv_list(BLE_PAIRED) {
            Ok(rows) => settings.paired = rows.iter().filter_map(|(k, _)| k.parse().ok()).collect(),
            Err(e) => warn!(error = %e, "paired BLE devices could not be read"),
        }
    }
    let configured: Vec<BleAddress> = settings.devices.iter().map(|d| d.address).collect();
    let (handle, _actor) = usphub_bridges::ble::start(&settings);
    if let Some(store) = store {
        // Subscribed before any advert can be heard, so no pairing is missed.
        let events = handle.subscribe();
        tokio::spawn(remember_ble_pairings(events, store, configured));
    }
    handle
}

async fn remember_ble_pairings(
    mut events: tokio::sync::broadcast::Receiver<BridgeEvent>,
    store: Arc<Store>,
    configured: Vec<BleAddress>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let (address, joined) = match events.recv().await {
            Ok(BridgeEvent::DeviceJoined(d)) => match d.id {
                DeviceId::Ble(a) => (a, true),
                _ => continue,
            },
            Ok(BridgeEvent::DeviceLeft(DeviceId::Ble(a))) => (a, false),
            Ok(_) => continue,
            Err(RecvError::Lagged(n)) => {
                warn!(
                    missed = n,
                    "BLE events missed; a pairing made meanwhile may not be remembered"
                );
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        if configured.contains(&address) {
            continue;
        }
        let key = address.to_string();
        let done = if joined {
            store
                .clone()
                .kv_put_async(BLE_PAIRED.to_string(), key.clone(), Vec::new())
                .await
        } else {
            store
                .clone()
                .kv_delete_async(BLE_PAIRED.to_string(), key.clone())
                .await
        };
        match done {
            Ok(()) => debug!(device = %key, joined, "BLE pairing recorded"),
            Err(e) => warn!(device = %key, error = %e, "BLE pairing not recorded"),
        }
    }
}

/// Starts the Zigbee bridge of a `[zigbee]` section (ZNP or EZSP backend, or the one a
/// probe finds), keeping its network and device files in `state_dir/zigbee`.
pub async fn zigbee_bridge(
    section: &usphub_bridges::zigbee::config::ZigbeeSection,
    state_dir: &Path,
) -> Result<BridgeHandle, RadioError> {
    use usphub_bridges::zigbee::config::BackendKind;
    use usphub_bridges::zigbee::{bridge, ezsp, znp};
    let e = |reason: String| RadioError {
        radio: "Zigbee",
        reason,
    };
    let dir = state_dir.join("zigbee");
    std::fs::create_dir_all(&dir).map_err(|x| e(format!("{}: {x}", dir.display())))?;
    let setup = section.setup(&dir).map_err(|x| e(x.to_string()))?;
    let kind = match setup.backend {
        BackendKind::Auto => probe_zigbee(&setup.port).await.map_err(e)?,
        k => k,
    };
    let connector = znp::link::port_connector(setup.port);
    // The actor task runs until the last handle is dropped.
    let started = match kind {
        BackendKind::Ezsp => {
            let backend = ezsp::backend::EzspBackend::new(
                connector,
                ezsp::backend::EzspBackendConfig::default(),
            );
            bridge::start(backend, setup.bridge).await
        }
        _ => {
            bridge::start(
                znp::backend::ZnpBackend::new(connector, setup.znp),
                setup.bridge,
            )
            .await
        }
    };
    let (handle, _task) = started.map_err(|x| e(x.to_string()))?;
    Ok(handle)
}

/// Which coordinator firmware answers on `port` (`backend = "auto"`): the safe probes of
/// `usphub dongles --probe`, once. A stick that answers neither is an error that says
/// what to configure, not a guess.
async fn probe_zigbee(
    port: &SerialPortSpec,
) -> Result<usphub_bridges::zigbee::config::BackendKind, String> {
    use usphub_bridges::zigbee::config::BackendKind;
    use usphub_udev::Firmware;
    let report = usphub_udev::probe_port(
        port,
        &[Firmware::Znp, Firmware::Ezsp],
        &usphub_udev::ProbeConfig::default(),
    )
    .await
    .map_err(|x| format!("{port}: cannot probe: {x}"))?;
    match report.firmware {
        Firmware::Znp => Ok(BackendKind::Znp),
        Firmware::Ezsp => Ok(BackendKind::Ezsp),
        _ => Err(format!(
            "{port}: neither a ZNP nor an EZSP coordinator answered ({}); set backend = \"znp\" or \"ezsp\"",
            report.detail
        )),
    }
    .inspect(|k| info!(%port, backend = ?k, "Zigbee coordinator identified"))
}

/// Parses 32 hex digits into a 16-byte key.
pub fn parse_key(hex: &str) -> Option<[u8; 16]> {
    let hex = hex.trim();
    if hex.len() != 32 || !hex.is_ascii() {
        return None;
    }
    let mut key = [0u8; 16];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

/// The file that keeps a generated Z-Wave S0 network key.
pub const ZWAVE_KEY_FILE: &str = "zwave-s0.key";

/// The S0 network key: the configured one, else the one generated on an earlier start, else
/// a new random key written to `state_dir` (mode 0600) before any device can be included
/// with it. Losing it would make every secure device unreachable, so a file that exists but
/// cannot be read is an error, never a reason to make a new key.
pub fn zwave_network_key(
    configured: Option<&str>,
    state_dir: &Path,
) -> Result<[u8; 16], RadioError> {
    let e = |reason: String| RadioError {
        radio: "Z-Wave",
        reason,
    };
    if let Some(k) = configured {
        return parse_key(k).ok_or_else(|| e("network_key: expected 32 hex digits".into()));
    }
    let path = state_dir.join(ZWAVE_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            parse_key(&text).ok_or_else(|| e(format!("{}: not a 32-hex-digit key", path.display())))
        }
        Err(x) if x.kind() == std::io::ErrorKind::NotFound => {
            let key: [u8; 16] = rand::random();
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            std::fs::create_dir_all(state_dir)
                .map_err(|x| e(format!("{}: {x}", state_dir.display())))?;
            write_private(&path, format!("{hex}\n").as_bytes())
                .map_err(|x| e(format!("{}: {x}", path.display())))?;
            info!(path = %path.display(), "generated a new Z-Wave S0 network key");
            Ok(key)
        }
        Err(x) => Err(e(format!("{}: {x}", path.display()))),
    }
}

/// Writes a new file readable by its owner only (written whole, then renamed into place).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)
}

/// Starts the configured radios, attaches them, and permits joining if configured.
pub async fn start_configured(
    agent: &RunningAgent,
    cfg: &Config,
    state_dir: &Path,
) -> Result<Vec<BridgeHandle>, RadioError> {
    let mut handles = Vec::new();
    if let Some(z) = &cfg.zwave {
        let spec: SerialPortSpec =
            z.port
                .parse()
                .map_err(|e: usphub_bridges::api::PortError| RadioError {
                    radio: "Z-Wave",
                    reason: e.to_string(),
                })?;
        let key = zwave_network_key(z.network_key.as_deref(), state_dir)?;
        handles.push(zwave_bridge(spec, state_dir, Some(key))?);
    }
    if let Some(z) = &cfg.zigbee {
        // An absent or unplugged stick is retried by the bridge in the background.
        handles.push(zigbee_bridge(z, state_dir).await?);
    }
    if let Some(b) = &cfg.ble {
        // No BlueZ or no adapter yet is retried by the scanner in the background.
        handles.push(ble_bridge(b, agent.dm.store()));
    }
    for h in &handles {
        agent
            .proxy
            .attach(h.clone())
            .await
            .map_err(|e| RadioError {
                radio: "bridge",
                reason: e.to_string(),
            })?;
    }
    permit_join(&handles, cfg.permit_join_s).await;
    Ok(handles)
}

/// Opens every radio for pairing for `seconds` (nothing when 0).
pub async fn permit_join(handles: &[BridgeHandle], seconds: u32) {
    if seconds == 0 {
        return;
    }
    for h in handles {
        match h.permit_join(Duration::from_secs(u64::from(seconds))).await {
            Ok(()) => info!(
                protocol = h.protocol().as_str(),
                seconds, "joining permitted"
            ),
            Err(e) => warn!(protocol = h.protocol().as_str(), error = %e, "permit join failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn ble_pairings_are_remembered_until_the_device_leaves_and_configured_ones_never() {
        use usphub_bridges::api::DeviceDescriptor;
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path().join("db.redb")).unwrap());
        let paired: BleAddress = "A4:C1:38:8D:18:B2".parse().unwrap();
        let configured: BleAddress = "A4:C1:38:02:83:F4".parse().unwrap();
        let (tx, rx) = tokio::sync::broadcast::channel(16);
        let task = tokio::spawn(remember_ble_pairings(rx, store.clone(), vec![configured]));
        let joined = |a| BridgeEvent::DeviceJoined(DeviceDescriptor::new(DeviceId::Ble(a)));
        let listed = || -> Vec<String> {
            store
                .kv_list(BLE_PAIRED)
                .unwrap()
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        };
        tx.send(joined(paired)).unwrap();
        tx.send(joined(configured)).unwrap();
        tx.send(BridgeEvent::DeviceLeft(DeviceId::Ble(configured)))
            .unwrap();
        // The sender gone, the task ends after handling everything sent.
        drop(tx);
        task.await.unwrap();
        assert_eq!(listed(), [paired.to_string()]);

        let (tx, rx) = tokio::sync::broadcast::channel(16);
        let task = tokio::spawn(remember_ble_pairings(rx, store.clone(), vec![configured]));
        tx.send(BridgeEvent::DeviceLeft(DeviceId::Ble(paired)))
            .unwrap();
        drop(tx);
        task.await.unwrap();
        assert!(listed().is_empty());
    }

    #[test]
    fn a_generated_zwave_key_is_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = zwave_network_key(None, dir.path()).unwrap();
        let path = dir.path().join(ZWAVE_KEY_FILE);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(zwave_network_key(None, dir.path()).unwrap(), first);
    }

    #[test]
    fn a_configured_zwave_key_wins_and_is_validated() {
        let dir = tempfile::tempdir().unwrap();
        let key = zwave_network_key(Some("00112233445566778899aabbccddeeff"), dir.path()).unwrap();
        assert_eq!(key[1], 0x11);
        assert!(!dir.path().join(ZWAVE_KEY_FILE).exists());
        assert!(zwave_network_key(Some("0011"), dir.path()).is_err());
    }

    #[test]
    fn a_damaged_key_file_is_an_error_not_a_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(ZWAVE_KEY_FILE);
        std::fs::write(&path, "not a key").unwrap();
        let e = zwave_network_key(None, dir.path()).unwrap_err();
        assert!(e.reason.contains("not a 32-hex-digit key"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
    }
}
