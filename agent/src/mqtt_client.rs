//! `Device.MQTT.Client.{i}.` as configuration: a Controller's Set of Enable, BrokerAddress,
//! BrokerPort, ClientID, Username or KeepAliveTime reconnects the MQTT MTP with the new
//! values (queued Records are kept) and is stored, so it also holds after a restart. The
//! stored values win over the file's `[mqtt]` section until the database is reset; the
//! agent logs when they do.

use tokio::sync::{broadcast::error::RecvError, watch};
use tokio::task::JoinHandle;
use tracing::{info, warn};
use usp_datamodel::{Change, DataModel};

use crate::mtp::MtpStatus;
use crate::mtp::mqtt::{MqttControl, MqttSettings};

const NAMESPACE: &str = "mqtt-client";
const KEY: &str = "1";

/// The parameters a Controller may write, as the settings they make up.
pub const WRITABLE: [&str; 6] = [
    "Enable",
    "BrokerAddress",
    "BrokerPort",
    "ClientID",
    "Username",
    "KeepAliveTime",
];

fn encode(s: &MqttSettings) -> String {
    serde_json::json!({
        "enable": s.enable,
        "broker_host": s.broker_host,
        "broker_port": s.broker_port,
        "client_id": s.client_id,
        "username": s.username,
        "keep_alive_s": s.keep_alive_s,
    })
    .to_string()
}

fn decode(bytes: &[u8]) -> Option<MqttSettings> {
    let v: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    Some(MqttSettings {
        enable: v["enable"].as_bool()?,
        broker_host: v["broker_host"].as_str()?.to_string(),
        broker_port: u16::try_from(v["broker_port"].as_u64()?).ok()?,
        client_id: v["client_id"].as_str()?.to_string(),
        username: v["username"].as_str()?.to_string(),
        keep_alive_s: u32::try_from(v["keep_alive_s"].as_u64()?).ok()?,
    })
}

/// The settings a Controller stored earlier, if any.
pub fn stored(dm: &DataModel) -> Option<MqttSettings> {
    let store = dm.store()?;
    match store.kv_get(NAMESPACE, KEY) {
        Ok(Some(bytes)) => {
            let s = decode(&bytes);
            if s.is_none() {
                warn!("stored MQTT client settings unreadable; using the configuration file");
            }
            s
        }
        Ok(None) => None,
        Err(e) => {
            warn!(error = %e, "stored MQTT client settings not read");
            None
        }
    }
}

/// The `Device.MQTT.Client.{i}.` parameters showing `s`.
pub fn row_params(s: &MqttSettings) -> Vec<(String, String)> {
    vec![
        ("Enable".into(), s.enable.to_string()),
        ("BrokerAddress".into(), s.broker_host.clone()),
        ("BrokerPort".into(), s.broker_port.to_string()),
        ("ClientID".into(), s.client_id.clone()),
        ("Username".into(), s.username.clone()),
        ("KeepAliveTime".into(), s.keep_alive_s.to_string()),
    ]
}

/// The settings the row holds now; `None` when a value is missing or unusable.
fn from_row(dm: &DataModel, row: &str) -> Option<MqttSettings> {
    let get = |p: &str| dm.stored_value(&format!("{row}{p}")).ok();
    let s = MqttSettings {
        enable: get("Enable")? == "true",
        broker_host: get("BrokerAddress")?,
        broker_port: get("BrokerPort")?.parse().ok()?,
        client_id: get("ClientID")?,
        username: get("Username")?,
        keep_alive_s: get("KeepAliveTime")?.parse().ok()?,
    };
    (!s.broker_host.is_empty() && s.broker_port != 0).then_some(s)
}

/// Applies Controller writes to `row` until the MTP stops (its status channel closes).
pub fn watch(
    dm: DataModel,
    row: String,
    control: MqttControl,
    mut status: watch::Receiver<MtpStatus>,
) -> JoinHandle<()> {
    let mut changes = dm.changes();
    tokio::spawn(async move {
        loop {
            let change = tokio::select! {
                c = changes.recv() => c,
                r = status.changed() => match r {
                    Ok(()) => continue,
                    Err(_) => return,
                },
            };
            let relevant = match change.as_deref() {
                Ok(Change::ValueChange { path, .. }) => path
                    .strip_prefix(row.as_str())
                    .is_some_and(|p| WRITABLE.contains(&p)),
                Ok(_) => false,
                Err(RecvError::Lagged(_)) => true,
                Err(RecvError::Closed) => return,
            };
            if !relevant {
                continue;
            }
            let Some(new) = from_row(&dm, &row) else {
                warn!(%row, "MQTT client settings incomplete (empty BrokerAddress?); not applied");
                continue;
            };
            if new == control.settings() {
                continue;
            }
            info!(%row, broker = %new.broker_host, port = new.broker_port, enable = new.enable,
                "MQTT client settings changed by a Controller; reconnecting");
            control.apply(new.clone());
            if let Some(store) = dm.store()
                && let Err(e) = store
                    .kv_put_async(NAMESPACE.into(), KEY.into(), encode(&new).into_bytes())
                    .await
            {
                warn!(error = %e, "MQTT client settings not stored; they hold until restart");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_settings_round_trip_and_refuse_garbage() {
        let s = MqttSettings {
            enable: false,
            broker_host: "127.0.0.2".into(),
            broker_port: 8883,
            client_id: "hub-1".into(),
            username: String::new(),
            keep_alive_s: 30,
        };
        assert_eq!(decode(encode(&s).as_bytes()), Some(s));
        assert_eq!(decode(b"{\"enable\":true}"), None);
        assert_eq!(decode(b"\xff"), None);
    }
}
