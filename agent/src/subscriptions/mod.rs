//! Subscriptions and notifications (TR-369 sections "Subscriptions and Notifications",
//! "Notify", "Notification Retry"; TR-181 `Device.LocalAgent.Subscription.{i}.`, the
//! `Device.Boot!` and `Device.Periodic!` events).
//!
//! The [`Notifier`] is an actor: one task owns the compiled Subscription table, the
//! notifications awaiting a NotifyResp and every timer (retry, TimeToLive, Periodic!).
//! It reads the data model's change stream and sends each Notify to the one Controller
//! named by the subscription's `Recipient`, through a [`ControllerLink`] the agent
//! provides. Nothing polls: the table is re-read when a change under
//! `Device.LocalAgent.Subscription.` or `Device.LocalAgent.Controller.` arrives.
//!
//! Concurrency: the agent talks to the task through a [`NotifierHandle`] (a bounded
//! queue of NotifyResps; when it is full the NotifyResp is dropped with a warning and
//! the notification is simply retried). [`ControllerLink::send`] is synchronous and must
//! not block: it queues the message for the Controller's MTP.
//!
//! Start-up ([`Notifier::start`]): Persistent=false subscriptions are deleted (they must
//! not survive a restart), the table is loaded, CreationDate is filled in where unknown,
//! then `Device.Boot!` goes to every Controller subscribed to it, with the ParameterMap
//! built from that Controller's `BootParameter.{i}.` rows.
//!
//! Wiring it into the agent:
//! ```no_run
//! # use std::sync::Arc;
//! # use usphub::subscriptions::{BootInfo, ControllerLink, Notifier};
//! # use usp_proto::usp::Msg;
//! # async fn wire(dm: usp_datamodel::DataModel, link: Arc<dyn ControllerLink>, fresh_store: bool) {
//! let notifier = Notifier::start(dm, "os::012345-hub", link, BootInfo::new(fresh_store)).await;
//! let handle = notifier.handle();
//! // The dispatcher's NotifyResp hook:
//! let _hook = Arc::new(move |from: &str, msg: &Msg| handle.notify_resp_msg(from, msg));
//! // ... and when the agent stops:
//! notifier.shutdown().await;
//! # }
//! ```

mod actor;
mod boot;
mod message;
mod periodic;
mod retry;
mod table;

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use usp_datamodel::DataModel;
use usp_proto::usp::{self, Msg, NotifyResp, body, response};

pub use actor::MAX_PENDING;
pub use boot::{BootCause, BootInfo};

/// How many NotifyResps may wait for the notifier task.
const COMMAND_QUEUE: usize = 256;

/// Delivers a Msg to a Controller: the agent wraps it into a Record and routes it over
/// that Controller's MTP.
pub trait ControllerLink: Send + Sync {
    /// Queues `msg` for the Controller whose EndpointID is `controller_endpoint_id`.
    /// Must not block. Boot! is sent while the MTPs may still be connecting, so a link
    /// should queue (bounded) rather than fail while a Controller is not yet reachable;
    /// an error loses a Notify without NotifRetry, and only delays one with it.
    fn send(&self, controller_endpoint_id: &str, msg: Msg) -> Result<(), LinkError>;
}

/// Why a Msg could not be handed to a Controller's MTP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// No MTP route is known for this Controller.
    #[error("no route to Controller {0}")]
    UnknownController(String),
    /// The Controller's MTP is down and does not queue.
    #[error("Controller {0} is not connected")]
    NotConnected(String),
    /// The outgoing queue is full.
    #[error("outgoing queue to Controller {0} is full")]
    QueueFull(String),
}

/// Requests to the notifier task.
#[derive(Debug)]
enum Command {
    NotifyResp {
        from: String,
        msg_id: String,
        subscription_id: String,
    },
}

/// A cheap, cloneable way to reach a running [`Notifier`].
#[derive(Debug, Clone)]
pub struct NotifierHandle {
    tx: mpsc::Sender<Command>,
}

impl NotifierHandle {
    /// A NotifyResp arrived from `from_endpoint_id` answering the Notify whose header
    /// carried `msg_id`: stops that notification's retries (matched on msg_id,
    /// subscription_id and sender).
    pub fn notify_resp(&self, from_endpoint_id: &str, msg_id: &str, resp: &NotifyResp) {
        let cmd = Command::NotifyResp {
            from: from_endpoint_id.to_owned(),
            msg_id: msg_id.to_owned(),
            subscription_id: resp.subscription_id.clone(),
        };
        if let Err(e) = self.tx.try_send(cmd) {
            tracing::warn!(msg_id, error = %e, "NotifyResp dropped: notifier busy or stopped");
        }
    }

    /// [`NotifierHandle::notify_resp`] for a whole Msg (the dispatcher's NotifyResp
    /// hook); a Msg that is not a NotifyResp is ignored.
    pub fn notify_resp_msg(&self, from_endpoint_id: &str, msg: &Msg) {
        let resp = match msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) {
            Some(body::MsgBody::Response(usp::Response {
                resp_type: Some(response::RespType::NotifyResp(r)),
            })) => r,
            _ => return,
        };
        let msg_id = msg.header.as_ref().map_or("", |h| h.msg_id.as_str());
        self.notify_resp(from_endpoint_id, msg_id, resp);
    }
}

/// The running notifier: sends Notify messages for the data model's changes.
/// Dropping it stops the task, as does [`Notifier::shutdown`].
#[derive(Debug)]
pub struct Notifier {
    handle: NotifierHandle,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Notifier {
    /// Starts the notifier for the agent `endpoint_id`: removes non-persistent
    /// subscriptions, loads the table, sends `Device.Boot!` per `boot`, and from then
    /// on notifies every change. Returns once Boot! has been handed to `link`.
    pub async fn start(
        dm: DataModel,
        endpoint_id: impl Into<String>,
        link: Arc<dyn ControllerLink>,
        boot: BootInfo,
    ) -> Notifier {
        let (tx, rx) = mpsc::channel(COMMAND_QUEUE);
        let (stop_tx, stop_rx) = oneshot::channel();
        let actor = actor::Actor::start(dm, endpoint_id.into(), link, &boot).await;
        let task = tokio::spawn(actor.run(rx, stop_rx));
        Notifier {
            handle: NotifierHandle { tx },
            stop: stop_tx,
            task,
        }
    }

    /// A handle for the parts of the agent that receive NotifyResps.
    pub fn handle(&self) -> NotifierHandle {
        self.handle.clone()
    }

    /// See [`NotifierHandle::notify_resp`].
    pub fn notify_resp(&self, from_endpoint_id: &str, msg_id: &str, resp: &NotifyResp) {
        self.handle.notify_resp(from_endpoint_id, msg_id, resp);
    }

    /// See [`NotifierHandle::notify_resp_msg`].
    pub fn notify_resp_msg(&self, from_endpoint_id: &str, msg: &Msg) {
        self.handle.notify_resp_msg(from_endpoint_id, msg);
    }

    /// Stops the task (pending retries are abandoned) and waits for it to end.
    pub async fn shutdown(self) {
        // The task also stops when the sender is dropped; sending is just explicit.
        let _ = self.stop.send(());
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "notifier task failed");
        }
    }
}
