//! The agent's own objects in the data model: `Device.DeviceInfo.`, `Device.LocalAgent.`
//! and `Device.MQTT.Client.` — their schema ([`schema`]), their values at start-up, the
//! live values (UpTime) and what the agent does when a Controller creates a row
//! (a Subscription's Recipient and CreationDate).

pub mod schema;

use std::sync::Arc;
use std::time::Instant;

use tracing::warn;
use usp_datamodel::DataModel;
use usp_datamodel::InitValue;
use usp_datamodel::provider::{BoxFuture, FnProvider, LiveGet};
use usp_datamodel::value::Value;

use crate::config::{Config, Role};
use crate::session::Session;

/// The TR-181 ControllerTrust role rows the agent creates: (Name, instance path).
pub const ROLE_FULL: &str = "Device.LocalAgent.ControllerTrust.Role.1.";
/// The untrusted role's row.
pub const ROLE_UNTRUSTED: &str = "Device.LocalAgent.ControllerTrust.Role.2.";

/// Static facts about this agent, written into DeviceInfo and LocalAgent at start-up.
#[derive(Debug, Clone)]
pub struct Identity {
    /// Our EndpointID.
    pub endpoint_id: String,
    /// The MTPs enabled, in TR-181 `Protocol` spelling (`MQTT`, `WebSocket`).
    pub mtps: Vec<&'static str>,
}

/// Fills the agent's objects: identity, roles, configured Controllers; attaches the
/// UpTime providers.
pub async fn populate(dm: &DataModel, cfg: &Config, id: &Identity) -> usp_datamodel::DmResult<()> {
    let version = env!("CARGO_PKG_VERSION");
    let serial = cfg
        .endpoint_id
        .rsplit("::")
        .next()
        .unwrap_or(&cfg.endpoint_id)
        .to_string();
    for (p, v) in [
        ("Device.DeviceInfo.Manufacturer", "usphub"),
        ("Device.DeviceInfo.ModelName", "usphub smart-home hub"),
        (
            "Device.DeviceInfo.Description",
            "USP agent bridging Zigbee, Z-Wave and BLE devices",
        ),
        ("Device.DeviceInfo.ProductClass", "usphub"),
        ("Device.DeviceInfo.SoftwareVersion", version),
        ("Device.DeviceInfo.SerialNumber", serial.as_str()),
        ("Device.LocalAgent.EndpointID", id.endpoint_id.as_str()),
        ("Device.LocalAgent.SoftwareVersion", version),
        ("Device.LocalAgent.SupportedThresholdOperator", ""),
        ("Device.LocalAgent.SupportedFingerprintAlgorithms", ""),
    ] {
        dm.set_value(p, v).await?;
    }
    dm.set_value("Device.LocalAgent.SupportedProtocols", id.mtps.join(","))
        .await?;
    ensure_roles(dm).await?;
    for c in &cfg.controllers {
        ensure_controller(dm, &c.endpoint_id, c.role, c.mqtt_topic.as_deref()).await?;
    }
    let started = Instant::now();
    let uptime = Arc::new(
        FnProvider::new().on_get(move |req: LiveGet| -> BoxFuture<_> {
            let secs = started.elapsed().as_secs().min(u32::MAX as u64) as u32;
            let values = req
                .params
                .iter()
                .map(|_| Value::UnsignedInt(secs))
                .collect();
            Box::pin(async move { Ok(values) })
        }),
    );
    dm.attach_provider("Device.DeviceInfo.", uptime.clone())?;
    dm.attach_provider("Device.LocalAgent.", uptime)?;
    Ok(())
}

/// The built-in roles: number, path, Name, and the rwxn strings of their one Permission
/// (Param, Obj, InstantiatedObj, CommandEvent) on `Device.`.
const BUILT_IN_ROLES: [(u32, &str, &str, [&str; 4]); 2] = [
    (1, ROLE_FULL, "FullAccess", ["rw-n", "rw-n", "rw-n", "r-xn"]),
    (
        2,
        ROLE_UNTRUSTED,
        "Untrusted",
        ["----", "----", "----", "----"],
    ),
];

/// Creates the built-in roles (FullAccess, Untrusted) and their permission rows if missing.
pub async fn ensure_roles(dm: &DataModel) -> usp_datamodel::DmResult<()> {
    for (number, path, name, perms) in BUILT_IN_ROLES {
        if dm.stored_value(&format!("{path}Name")).is_err() {
            dm.create_instance(
                "Device.LocalAgent.ControllerTrust.Role.",
                Some(number),
                vec![("Name".into(), name.into()), ("Enable".into(), true.into())],
            )
            .await?;
        }
        // A built-in role without any permission row (a new database, or one from before
        // permissions were kept) gets its default again; edited rows are left alone.
        let table = format!("{path}Permission.");
        if dm.instance_numbers(&table)?.is_empty() {
            let [param, obj, inst, cmd] = perms;
            add_row(
                dm,
                &table,
                &[
                    ("Enable", "true"),
                    ("Order", "1"),
                    ("Targets", "Device."),
                    ("Param", param),
                    ("Obj", obj),
                    ("InstantiatedObj", inst),
                    ("CommandEvent", cmd),
                ],
            )
            .await?;
        }
    }
    dm.set_value(
        "Device.LocalAgent.ControllerTrust.UntrustedRole",
        ROLE_UNTRUSTED,
    )
    .await?;
    Ok(())
}

/// Creates a row with text values (in-process: Controller access rules do not apply).
pub async fn add_row(
    dm: &DataModel,
    table: &str,
    values: &[(&str, &str)],
) -> usp_datamodel::DmResult<String> {
    let values = values
        .iter()
        .map(|(k, v)| (k.to_string(), InitValue::from(*v)))
        .collect();
    dm.create_instance(table, None, values).await
}

/// The Controller row for an EndpointID, created if missing (configured Controllers).
pub async fn ensure_controller(
    dm: &DataModel,
    endpoint_id: &str,
    role: Role,
    mqtt_topic: Option<&str>,
) -> usp_datamodel::DmResult<String> {
    let role_path = match role {
        Role::Full => ROLE_FULL,
        Role::Untrusted => ROLE_UNTRUSTED,
    };
    let path = match controller_path(dm, endpoint_id) {
        Some(p) => p,
        None => {
            add_row(
                dm,
                "Device.LocalAgent.Controller.",
                &[("EndpointID", endpoint_id), ("Enable", "true")],
            )
            .await?
        }
    };
    dm.set_value(&format!("{path}AssignedRole"), role_path)
        .await?;
    if let Some(topic) = mqtt_topic
        && controller_mqtt_topic(dm, &path).as_deref() != Some(topic)
    {
        let mtp = add_row(
            dm,
            &format!("{path}MTP."),
            &[("Protocol", "MQTT"), ("Enable", "true")],
        )
        .await?;
        dm.create_object(&format!("{mtp}MQTT.")).await?;
        dm.set_value(&format!("{mtp}MQTT.Topic"), topic).await?;
    }
    Ok(path)
}

fn controller_mqtt_topic(dm: &DataModel, controller_path: &str) -> Option<String> {
    let n = dm
        .instance_numbers(&format!("{controller_path}MTP."))
        .ok()?;
    n.into_iter().find_map(|i| {
        dm.stored_value(&format!("{controller_path}MTP.{i}.MQTT.Topic"))
            .ok()
    })
}

/// The `Device.LocalAgent.Controller.{i}.` path of an EndpointID.
pub fn controller_path(dm: &DataModel, endpoint_id: &str) -> Option<String> {
    let numbers = dm.instance_numbers("Device.LocalAgent.Controller.").ok()?;
    numbers.into_iter().find_map(|i| {
        let p = format!("Device.LocalAgent.Controller.{i}.");
        (dm.stored_value(&format!("{p}EndpointID")).ok()? == endpoint_id).then_some(p)
    })
}

/// The supported path of the Subscription table.
pub const SUBSCRIPTION_TABLE: &str = "Device.LocalAgent.Subscription.{i}.";

/// The `Device.LocalAgent.Controller.{i}.` row of the requesting Controller (created for a
/// Controller that is not configured, with its role), as a Subscription's Recipient.
pub async fn recipient_for(dm: &DataModel, session: &Session) -> Option<String> {
    if let Some(p) = controller_path(dm, &session.controller) {
        return Some(p);
    }
    match ensure_controller(dm, &session.controller, session.role, None).await {
        Ok(p) => Some(p),
        Err(e) => {
            warn!(error = %e, controller = %session.controller, "no Controller row for the recipient");
            None
        }
    }
}

/// Called after a Controller's Add created `instance`: a Subscription row records when it
/// was created.
pub async fn on_instance_added(dm: &DataModel, instance: &str) {
    if !instance.starts_with("Device.LocalAgent.Subscription.") {
        return;
    }
    let now = usp_datamodel::value::DateTime::now().to_string();
    if let Err(e) = dm
        .set_value(&format!("{instance}CreationDate"), now.as_str())
        .await
    {
        warn!(error = %e, instance, "cannot set the new subscription's CreationDate");
    }
}

/// One MTP as `Device.LocalAgent.MTP.{i}.` (and, for MQTT, `Device.MQTT.Client.{i}.`) shows it.
pub struct MtpRow {
    /// `MQTT` or `WebSocket`.
    pub protocol: &'static str,
    /// The MTP's status.
    pub status: tokio::sync::watch::Receiver<crate::mtp::MtpStatus>,
    /// Protocol-specific parameters: (relative path, value), e.g. `("WebSocket.Port", "5683")`.
    pub params: Vec<(String, String)>,
    /// For MQTT: the `Device.MQTT.Client.{i}.` parameters.
    pub mqtt_client: Option<Vec<(String, String)>>,
}

/// Creates the MTP rows and keeps their Status current until each MTP stops.
pub async fn mtp_rows(
    dm: &DataModel,
    rows: Vec<MtpRow>,
) -> usp_datamodel::DmResult<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = Vec::new();
    for row in rows {
        let status = row.status.borrow().local_agent_mtp_status().to_string();
        let path = add_row(
            dm,
            "Device.LocalAgent.MTP.",
            &[
                ("Protocol", row.protocol),
                ("Enable", "true"),
                ("Status", &status),
            ],
        )
        .await?;
        let sub = if row.protocol == "MQTT" {
            "MQTT"
        } else {
            "WebSocket"
        };
        dm.create_object(&format!("{path}{sub}.")).await?;
        for (k, v) in &row.params {
            dm.set_value(&format!("{path}{k}"), v.as_str()).await?;
        }
        let client = match &row.mqtt_client {
            Some(params) => {
                // Always instance 1: Controllers address the client by path, and its
                // settings (crate::mqtt_client) outlive restarts.
                let c = dm
                    .create_instance(
                        "Device.MQTT.Client.",
                        Some(1),
                        vec![
                            ("Enable".into(), "true".into()),
                            ("ProtocolVersion".into(), "5.0".into()),
                        ],
                    )
                    .await?;
                for (k, v) in params {
                    dm.set_value(&format!("{c}{k}"), v.as_str()).await?;
                }
                dm.set_value(&format!("{path}MQTT.Reference"), c.trim_end_matches('.'))
                    .await?;
                Some(c)
            }
            None => None,
        };
        let dm = dm.clone();
        let mut watch = row.status;
        tasks.push(tokio::spawn(async move {
            // Ends when the MTP stops (its status sender is dropped).
            loop {
                let s = watch.borrow_and_update().clone();
                if let Err(e) = dm
                    .set_value(&format!("{path}Status"), s.local_agent_mtp_status())
                    .await
                {
                    warn!(error = %e, "MTP status not updated");
                }
                if let Some(c) = &client
                    && let Err(e) = dm
                        .set_value(&format!("{c}Status"), s.mqtt_client_status())
                        .await
                {
                    warn!(error = %e, "MQTT client status not updated");
                }
                if watch.changed().await.is_err() {
                    break;
                }
            }
        }));
    }
    Ok(tasks)
}
