//! Shared harness of the notifier tests: a data model with the agent's LocalAgent
//! schema plus a small `Device.Thing.{i}.` table, and a fake ControllerLink that records
//! every Msg handed to it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use usp_datamodel::{
    ArgDef, CommandDef, DataModel, EventDef, InitValue, Obj, ParamDef, ParamType, Schema,
};
use usp_proto::usp::{self, Msg, body, notify, request};
use usphub::subscriptions::{BootInfo, ControllerLink, LinkError, Notifier};

pub const SUBS: &str = "Device.LocalAgent.Subscription.";
pub const CTL_A: &str = "Device.LocalAgent.Controller.1.";
pub const CTL_B: &str = "Device.LocalAgent.Controller.2.";

/// Records what the notifier sends.
pub struct FakeLink {
    tx: mpsc::UnboundedSender<(String, Msg)>,
    /// While set, every send fails as if the Controller's MTP were down.
    pub down: AtomicBool,
}

impl FakeLink {
    pub fn new(tx: mpsc::UnboundedSender<(String, Msg)>) -> FakeLink {
        FakeLink {
            tx,
            down: AtomicBool::new(false),
        }
    }
}

impl ControllerLink for FakeLink {
    fn send(&self, controller_endpoint_id: &str, msg: Msg) -> Result<(), LinkError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(LinkError::NotConnected(controller_endpoint_id.to_owned()));
        }
        self.tx
            .send((controller_endpoint_id.to_owned(), msg))
            .map_err(|_| LinkError::NotConnected(controller_endpoint_id.to_owned()))
    }
}

pub struct Harness {
    pub dm: DataModel,
    pub sent: mpsc::UnboundedReceiver<(String, Msg)>,
    pub link: Arc<FakeLink>,
}

pub fn schema() -> Schema {
    let mut b = Schema::builder();
    usphub::localagent::schema::declare(&mut b);
    b.object(
        "Device.Thing.{i}.",
        Obj::table().key(&["Alias"]).add_delete(),
    )
    .param(ParamDef::alias())
    .param(ParamDef::new("Name", ParamType::String).writable())
    .param(ParamDef::new("Status", ParamType::String))
    .command(CommandDef::new("Reset()").asynchronous())
    .event(EventDef::new("Alarm!").arg(ArgDef::new("Level", ParamType::UnsignedInt)));
    let schema = match b.build() {
        Ok(s) => s,
        Err(e) => panic!("test schema: {e:?}"),
    };
    // TR-181's PeriodicNotifTime, in case the agent's schema does not declare it yet.
    let controller = "Device.LocalAgent.Controller.{i}.";
    let has_time = schema
        .object_by_path(controller)
        .is_some_and(|id| schema.obj(id).param("PeriodicNotifTime").is_some());
    if has_time {
        return schema;
    }
    let mut b = schema.extend();
    b.extend_object(controller)
        .param(ParamDef::new("PeriodicNotifTime", ParamType::DateTime).writable());
    match b.build() {
        Ok(s) => s,
        Err(e) => panic!("test schema: {e:?}"),
    }
}

pub fn text(pairs: &[(&str, &str)]) -> Vec<(String, InitValue)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), InitValue::from(*v)))
        .collect()
}

/// A data model with Controllers `ctl-a` and `ctl-b` and two Things (lamp, fan).
pub async fn harness() -> Harness {
    let dm = DataModel::new(schema());
    // Notifications follow the Controllers' notify permissions: both have full access.
    usphub::localagent::ensure_roles(&dm).await.unwrap();
    for ep in ["ctl-a", "ctl-b"] {
        dm.create_instance(
            "Device.LocalAgent.Controller.",
            None,
            text(&[
                ("EndpointID", ep),
                ("AssignedRole", usphub::localagent::ROLE_FULL),
            ]),
        )
        .await
        .unwrap();
    }
    for name in ["lamp", "fan"] {
        dm.create_instance(
            "Device.Thing.",
            None,
            text(&[("Name", name), ("Status", "Idle")]),
        )
        .await
        .unwrap();
    }
    let (tx, sent) = mpsc::unbounded_channel();
    Harness {
        dm,
        sent,
        link: Arc::new(FakeLink::new(tx)),
    }
}

impl Harness {
    pub async fn start(&self) -> Notifier {
        self.start_with(BootInfo::default()).await
    }

    pub async fn start_with(&self, boot: BootInfo) -> Notifier {
        Notifier::start(self.dm.clone(), "proto::agent", self.link.clone(), boot).await
    }

    /// Adds a Subscription row; `extra` overrides the defaults.
    pub async fn subscribe(
        &self,
        id: &str,
        recipient: &str,
        notif_type: &str,
        refs: &str,
        extra: &[(&str, &str)],
    ) -> String {
        let mut values = text(&[
            ("Enable", "true"),
            ("ID", id),
            ("Recipient", recipient),
            ("NotifType", notif_type),
            ("ReferenceList", refs),
            ("Persistent", "true"),
        ]);
        for (k, v) in extra {
            values.retain(|(n, _)| n != k);
            values.push(((*k).to_owned(), InitValue::from(*v)));
        }
        self.dm.create_instance(SUBS, None, values).await.unwrap()
    }

    pub async fn next(&mut self) -> (String, Msg) {
        match tokio::time::timeout(Duration::from_secs(3600), self.sent.recv()).await {
            Ok(Some(x)) => x,
            other => panic!("expected a Notify, got {other:?}"),
        }
    }

    /// Lets `secs` of (paused) time pass with every task idle and checks nothing was sent.
    pub async fn assert_quiet(&mut self, secs: u64) {
        if let Ok(got) = tokio::time::timeout(Duration::from_secs(secs), self.sent.recv()).await {
            panic!("expected nothing to be sent, got {got:?}");
        }
    }
}

pub fn notify_of(msg: &Msg) -> &usp::Notify {
    match msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) {
        Some(body::MsgBody::Request(usp::Request {
            req_type: Some(request::ReqType::Notify(n)),
        })) => n,
        other => panic!("not a Notify: {other:?}"),
    }
}

pub fn msg_id(msg: &Msg) -> String {
    msg.header
        .as_ref()
        .map(|h| h.msg_id.clone())
        .unwrap_or_default()
}

pub fn value_change(n: &usp::Notify) -> (&str, &str) {
    match &n.notification {
        Some(notify::Notification::ValueChange(v)) => (&v.param_path, &v.param_value),
        other => panic!("not a ValueChange: {other:?}"),
    }
}

pub fn event(n: &usp::Notify) -> &notify::Event {
    match &n.notification {
        Some(notify::Notification::Event(e)) => e,
        other => panic!("not an Event: {other:?}"),
    }
}

pub async fn set(dm: &DataModel, path: &str, value: &str) {
    dm.set_value(path, value).await.unwrap();
}
