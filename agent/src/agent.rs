//! The running agent: builds the data model, starts the MTPs, and dispatches every
//! inbound Record on its own task (bounded), so one slow request (a radio round trip)
//! never holds up the others.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, RwLock};

use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{error, info};
use usp_datamodel::DataModel;
use usp_datamodel::schema::Schema;
use usp_datamodel::store::Store;
use usp_proto::DecodeLimits;

use crate::config::Config;
use crate::dispatch::Dispatcher;
use crate::localagent::{self, Identity};
use crate::mtp::{self, Address, Inbound, MtpHandle, MtpId, MtpRouter, Route};
use crate::session::Controllers;
use crate::subscriptions::{BootInfo, ControllerLink, LinkError, Notifier};

/// Requests handled at the same time, at most; further Records wait in the inbound queue.
const MAX_IN_FLIGHT: usize = 256;
/// Inbound Records queued before MTPs stop reading their sockets.
const INBOUND_QUEUE: usize = 1024;

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The data model or its store.
    #[error("data model: {0}")]
    DataModel(String),
    /// An MTP.
    #[error("MTP: {0}")]
    Mtp(#[from] mtp::MtpError),
    /// Configuration.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
}

/// The MTP ids the agent uses.
pub const MTP_WEBSOCKET: MtpId = MtpId(1);
/// The MQTT MTP.
pub const MTP_MQTT: MtpId = MtpId(2);

/// A running agent.
pub struct RunningAgent {
    /// The data model (tests and the demo inspect it).
    pub dm: DataModel,
    /// Where the WebSocket server listens, when enabled.
    pub ws_addr: Option<SocketAddr>,
    /// The agent's EndpointID.
    pub endpoint_id: String,
    /// Mounts bridged devices; attach bridges with [`crate::proxy::Proxy::attach`].
    pub proxy: crate::proxy::Proxy,
    /// Follows USB sticks and runs bridges for them (`[dongles]`), when enabled.
    pub hotplug: Option<crate::hotplug::Hotplug>,
    mtps: Vec<MtpHandle>,
    notifier: Option<Notifier>,
    status_tasks: Vec<JoinHandle<()>>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl RunningAgent {
    /// Stops the MTPs and the dispatcher.
    pub async fn shutdown(mut self) {
        if let Some(h) = self.hotplug.take() {
            h.shutdown().await;
        }
        self.proxy.stop().await;
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(n) = self.notifier.take() {
            n.shutdown().await;
        }
        for m in self.mtps.drain(..) {
            m.shutdown().await;
        }
        // They end once their MTP's status sender is gone.
        for t in self.status_tasks.drain(..) {
            let _ = t.await;
        }
        let _ = (&mut self.task).await;
    }
}

/// Builds the supported data model of the agent itself.
pub fn build_schema() -> Result<Schema, StartError> {
    let mut b = Schema::builder();
    localagent::schema::declare(&mut b);
    crate::proxy::schema::declare(&mut b);
    b.build().map_err(|e| StartError::DataModel(e.to_string()))
}

/// Opens the data model; also says whether its store was created just now.
fn open_data_model(cfg: &Config) -> Result<(DataModel, bool), StartError> {
    let schema = build_schema()?;
    if let Some(dir) = cfg.db.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .map_err(|e| StartError::DataModel(format!("cannot create {}: {e}", dir.display())))?;
    }
    let fresh = !cfg.db.exists();
    let store = Store::open(&cfg.db).map_err(|e| StartError::DataModel(e.to_string()))?;
    let dm =
        DataModel::with_store(schema, store).map_err(|e| StartError::DataModel(e.to_string()))?;
    Ok((dm, fresh))
}

/// Delivers notifications: a Msg for a Controller becomes a Record on its route.
struct Link {
    endpoint_id: String,
    controllers: Controllers,
    router: Arc<RwLock<MtpRouter>>,
}

impl ControllerLink for Link {
    fn send(&self, controller: &str, msg: usp_proto::usp::Msg) -> Result<(), LinkError> {
        let route = self
            .controllers
            .route(controller)
            .ok_or_else(|| LinkError::UnknownController(controller.to_string()))?;
        let rec = usp_proto::builder::no_session_record(controller, &self.endpoint_id, &msg);
        let bytes = usp_proto::builder::encode_record(&rec);
        let router = self
            .router
            .read()
            .map_err(|_| LinkError::NotConnected(controller.to_string()))?;
        router.send(&route, bytes).map_err(|e| match e {
            mtp::MtpError::QueueFull(_) => LinkError::QueueFull(controller.to_string()),
            _ => LinkError::NotConnected(controller.to_string()),
        })
    }
}

/// What [`start_with`] takes besides the configuration.
#[derive(Default)]
pub struct StartOptions {
    /// Where hot-plug events come from when `[dongles]` is enabled; `None`: udev and `/sys`.
    pub hotplug: Option<crate::hotplug::HotplugOptions>,
}

/// Starts the agent described by `cfg`; with `[dongles]` enabled (the default) it follows
/// the USB sticks udev reports.
pub async fn start(cfg: Config) -> Result<RunningAgent, StartError> {
    start_with(cfg, StartOptions::default()).await
}

/// Starts the agent described by `cfg`, with `options`.
pub async fn start_with(cfg: Config, options: StartOptions) -> Result<RunningAgent, StartError> {
    cfg.check()?;
    let (dm, fresh_store) = open_data_model(&cfg)?;
    let (inbound_tx, inbound_rx) = mpsc::channel::<Inbound>(INBOUND_QUEUE);
    let mut router = MtpRouter::new();
    let mut mtps = Vec::new();
    let mut protocols = Vec::new();
    let mut ws_addr = None;
    let controllers = Controllers::default();

    if let Some(ws) = &cfg.websocket {
        let mut wcfg = mtp::websocket::server::WsServerConfig::new(ws.listen, &cfg.endpoint_id);
        wcfg.path = Some(ws.path.clone());
        wcfg.max_record_size = cfg.max_record_size;
        let handle = mtp::websocket::server::spawn(MTP_WEBSOCKET, wcfg, inbound_tx.clone()).await?;
        ws_addr = handle.status.borrow().local_addr;
        router.insert(handle.sender.clone());
        mtps.push(handle);
        protocols.push("WebSocket");
    }
    let mut mqtt_control = None;
    let mut mqtt_settings = None;
    if let Some(m) = &cfg.mqtt {
        let topic = cfg.agent_topic().unwrap_or_default();
        let mut mcfg = mtp::mqtt::MqttConfig::new(&m.host, m.port, &cfg.endpoint_id, &topic);
        if !m.client_id.is_empty() {
            mcfg.client_id = m.client_id.clone();
        }
        mcfg.username = m.username.clone();
        mcfg.password = m.password.clone();
        mcfg.keep_alive = std::time::Duration::from_secs(u64::from(m.keepalive_s.max(5)));
        mcfg.controllers = cfg
            .controllers
            .iter()
            .filter_map(|c| {
                Some(mtp::mqtt::MqttPeer {
                    endpoint_id: c.endpoint_id.clone(),
                    topic: c.mqtt_topic.clone()?,
                })
            })
            .collect();
        if let Some(saved) = crate::mqtt_client::stored(&dm) {
            info!(broker = %saved.broker_host, port = saved.broker_port, enable = saved.enable,
                "MQTT client settings a Controller stored override the configuration file");
            mcfg.apply(&saved);
            mqtt_settings = Some(saved);
        } else {
            mqtt_settings = Some(mcfg.settings());
        }
        let (handle, control) = mtp::mqtt::spawn_configurable(MTP_MQTT, mcfg, inbound_tx.clone());
        mqtt_control = Some(control);
        router.insert(handle.sender.clone());
        mtps.push(handle);
        protocols.push("MQTT");
    }
    let mut ws_clients = std::collections::HashMap::new();
    for (i, c) in cfg.controllers.iter().enumerate() {
        let Some(url) = &c.ws_url else { continue };
        // The agent as WebSocket client of a Controller's endpoint; it reconnects with
        // the TR-369 retry interval algorithm.
        let id = MtpId(10 + i as u32);
        let mut wcfg = mtp::websocket::client::WsClientConfig::new(url, &cfg.endpoint_id);
        wcfg.peer_endpoint_id = Some(c.endpoint_id.clone());
        wcfg.max_record_size = cfg.max_record_size;
        let handle = mtp::websocket::client::spawn(id, wcfg, inbound_tx.clone());
        router.insert(handle.sender.clone());
        mtps.push(handle);
        ws_clients.insert(c.endpoint_id.clone(), id);
        if !protocols.contains(&"WebSocket") {
            protocols.push("WebSocket");
        }
    }
    for c in &cfg.controllers {
        // Notifications take the Controller's MQTT topic, or else whatever WebSocket
        // session it has open (its EndpointID is known from the handshake).
        let configured = match (&c.mqtt_topic, &cfg.mqtt, &cfg.websocket) {
            _ if ws_clients.contains_key(&c.endpoint_id) => Some(Route {
                mtp: ws_clients[&c.endpoint_id],
                to: Address::WebSocketConn(mtp::ConnId(0)),
            }),
            (Some(t), Some(_), _) => Some(Route {
                mtp: MTP_MQTT,
                to: Address::MqttTopic(t.clone()),
            }),
            (_, _, Some(_)) => Some(Route {
                mtp: MTP_WEBSOCKET,
                to: Address::WebSocketEndpoint(c.endpoint_id.clone()),
            }),
            _ => None,
        };
        controllers.insert(&c.endpoint_id, c.role, configured);
    }
    drop(inbound_tx);

    let mut rows = Vec::new();
    for m in &mtps {
        let status = m.status.clone();
        if m.id() == MTP_WEBSOCKET
            && let Some(ws) = &cfg.websocket
        {
            let port = ws_addr.map(|a| a.port()).unwrap_or(ws.listen.port());
            rows.push(localagent::MtpRow {
                protocol: "WebSocket",
                status,
                params: vec![
                    ("WebSocket.Port".into(), port.to_string()),
                    ("WebSocket.Path".into(), ws.path.clone()),
                    ("WebSocket.Interfaces".into(), ws.listen.ip().to_string()),
                ],
                mqtt_client: None,
            });
        } else if m.id() == MTP_MQTT
            && let Some(settings) = &mqtt_settings
        {
            rows.push(localagent::MtpRow {
                protocol: "MQTT",
                status,
                params: vec![
                    (
                        "MQTT.ResponseTopicConfigured".into(),
                        cfg.agent_topic().unwrap_or_default(),
                    ),
                    ("MQTT.PublishQoS".into(), "1".into()),
                ],
                mqtt_client: Some({
                    let mut p = crate::mqtt_client::row_params(settings);
                    p.push(("TransportProtocol".into(), "TCP/IP".into()));
                    p
                }),
            });
        }
    }

    let identity = Identity {
        endpoint_id: cfg.endpoint_id.clone(),
        mtps: protocols,
    };
    localagent::populate(&dm, &cfg, &identity)
        .await
        .map_err(|e| StartError::DataModel(e.to_string()))?;

    let mut status_tasks = localagent::mtp_rows(&dm, rows)
        .await
        .map_err(|e| StartError::DataModel(e.to_string()))?;
    if let (Some(control), Some(m)) = (mqtt_control, mtps.iter().find(|m| m.id() == MTP_MQTT))
        && let Some(n) = dm
            .instance_numbers("Device.MQTT.Client.")
            .ok()
            .and_then(|n| n.first().copied())
    {
        status_tasks.push(crate::mqtt_client::watch(
            dm.clone(),
            format!("Device.MQTT.Client.{n}."),
            control,
            m.status.clone(),
        ));
    }
    let router = Arc::new(RwLock::new(router));
    let link = Arc::new(Link {
        endpoint_id: cfg.endpoint_id.clone(),
        controllers: controllers.clone(),
        router: router.clone(),
    });
    let notifier = Notifier::start(
        dm.clone(),
        &cfg.endpoint_id,
        link,
        BootInfo::new(fresh_store),
    )
    .await;
    let notify = notifier.handle();
    let access = crate::access::AccessCache::default();
    // Ends by itself when the data model (its change stream) is dropped.
    drop(access.watch(&dm));
    let dispatcher = Arc::new(Dispatcher {
        access,
        dm: dm.clone(),
        endpoint_id: cfg.endpoint_id.clone(),
        limits: DecodeLimits {
            max_record_size: cfg.max_record_size,
        },
        controllers,
        router,
        on_notify_resp: Some(Arc::new(move |from: &str, msg: &usp_proto::usp::Msg| {
            notify.notify_resp_msg(from, msg)
        })),
    });
    let (stop_tx, stop_rx) = oneshot::channel();
    let task = tokio::spawn(run_dispatch(dispatcher, inbound_rx, stop_rx));
    let proxy = crate::proxy::Proxy::new(dm.clone());
    let hotplug = if cfg.dongles.enable {
        let state_dir = cfg.db.parent().map(Path::to_path_buf).unwrap_or_default();
        Some(crate::hotplug::Hotplug::start(proxy.clone(), &cfg, state_dir, options.hotplug).await)
    } else {
        None
    };
    info!(endpoint_id = %cfg.endpoint_id, "agent started");
    Ok(RunningAgent {
        proxy,
        hotplug,
        dm,
        ws_addr,
        endpoint_id: cfg.endpoint_id,
        mtps,
        notifier: Some(notifier),
        status_tasks,
        stop: Some(stop_tx),
        task,
    })
}

async fn run_dispatch(
    dispatcher: Arc<Dispatcher>,
    mut inbound: mpsc::Receiver<Inbound>,
    mut stop: oneshot::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        let next = tokio::select! {
            _ = &mut stop => break,
            next = inbound.recv() => next,
            // Reap finished requests so the set does not grow.
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => continue,
        };
        let Some(record) = next else { break };
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            break;
        };
        let d = Arc::clone(&dispatcher);
        in_flight.spawn(async move {
            d.dispatch(record).await;
            drop(permit);
        });
    }
    // Requests already taken are finished (they may be waiting for a radio), so that
    // nothing holds the data model once the agent has stopped; a stuck one is abandoned.
    let drain = async { while in_flight.join_next().await.is_some() {} };
    if tokio::time::timeout(std::time::Duration::from_secs(10), drain)
        .await
        .is_err()
    {
        error!("requests still running after 10 s at shutdown; abandoning them");
        in_flight.shutdown().await;
    }
}
