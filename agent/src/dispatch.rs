//! From Record bytes to an answer: decode and check the Record (usp-proto), check who sent
//! it and to whom (TP-469 2.1/2.2: ignore our own Records and those addressed elsewhere),
//! check the sender's role, run the handler, wrap the answer in a Record and send it back
//! on the route the request came on.
//!
//! Every failure is logged; a reply is sent only where TR-369 asks for one (a request we
//! could read far enough to know its msg_id); nothing here can panic on input.

use std::sync::Arc;

use tracing::{debug, info, warn};
use usp_datamodel::DataModel;
use usp_proto::decode::{DecodeError, DecodeLimits, DecodedRecord, decode_record};
use usp_proto::usp::request::ReqType;
use usp_proto::usp::{Msg, body, response};
use usp_proto::{ErrorCode, builder};

use crate::access::AccessCache;
use crate::handlers::{self, Ctx};
use crate::mtp::{Address, Inbound, MtpRouter, Route};
use crate::session::{Controllers, Session};

/// Receives each NotifyResp with the sending Controller's EndpointID.
pub type NotifyRespHook = Arc<dyn Fn(&str, &Msg) + Send + Sync>;

/// What the dispatcher needs; shared by every in-flight request.
pub struct Dispatcher {
    /// The data model.
    pub dm: DataModel,
    /// Our EndpointID.
    pub endpoint_id: String,
    /// Decode limits.
    pub limits: DecodeLimits,
    /// Known Controllers and their routes.
    pub controllers: Controllers,
    /// The MTPs.
    pub router: Arc<std::sync::RwLock<MtpRouter>>,
    /// Where NotifyResp messages go (the notification engine).
    pub on_notify_resp: Option<NotifyRespHook>,
    /// Controller permissions (ControllerTrust), cached.
    pub access: AccessCache,
}

impl Dispatcher {
    /// Handles one inbound Record to the end, answering it when there is an answer.
    pub async fn dispatch(&self, inbound: Inbound) {
        let (record, msg) = match decode_record(&inbound.bytes, &self.limits) {
            Ok(DecodedRecord::Msg { record, msg }) => (record, msg),
            Ok(DecodedRecord::Control(rec)) => {
                debug!(from = %rec.from_id, "control record received");
                return;
            }
            Err(e) => return self.refuse_record(&inbound, e),
        };
        if record.from_id == self.endpoint_id {
            debug!("dropping a record from our own EndpointID");
            return;
        }
        if record.to_id != self.endpoint_id {
            info!(to = %record.to_id, from = %record.from_id, "dropping a record addressed to another endpoint");
            return;
        }
        let msg_id = builder::msg_id(&msg).to_string();
        let Some(reply_to) = self.reply_route(&record.from_id, &inbound.reply_to) else {
            warn!(from = %record.from_id, %msg_id, "no way to answer: MQTT publish without Response Topic from an unconfigured Controller");
            return;
        };
        let from = record.from_id;
        let session = Session {
            role: self.controllers.role(&from),
            controller: from,
            reply_to,
        };
        // Take the request out of the Msg rather than copying it (a Get may carry
        // thousands of paths); anything else is looked at in place.
        let req = match msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) {
            Some(body::MsgBody::Request(_)) => match msg.body.and_then(|b| b.msg_body) {
                Some(body::MsgBody::Request(r)) => r.req_type,
                _ => None,
            },
            _ => return self.on_non_request(&session, &msg),
        };
        let Some(req) = req else { return };
        if self.controllers.is_known(&session.controller) {
            self.controllers
                .learn(&session.controller, &session.reply_to);
        }
        let access = self.access.get(&self.dm, &session.controller);
        // A Controller without any permission may still learn which USP versions we speak.
        let permitted =
            matches!(req, ReqType::GetSupportedProtocol(_)) || !access.denies_everything();
        let answer = if permitted {
            let writes_trust = writes_local_agent(&req);
            let ctx = Ctx {
                dm: &self.dm,
                msg_id: &msg_id,
                session: &session,
                access: &access,
            };
            let answer = handlers::handle(&ctx, req).await;
            if writes_trust {
                // Before the answer goes out: the Controller's next request must see it.
                self.access.invalidate();
            }
            match answer {
                Some(answer) => answer,
                None => return,
            }
        } else {
            info!(controller = %session.controller, %msg_id, "request refused: permission denied");
            builder::error(
                &msg_id,
                ErrorCode::PermissionDenied,
                format!(
                    "controller {} is not allowed to do this",
                    session.controller
                ),
                Vec::new(),
            )
        };
        self.send(&session.controller, &session.reply_to, &answer);
    }

    fn reply_route(&self, from: &str, reply_to: &Route) -> Option<Route> {
        match reply_to.to {
            Address::MqttNoReplyTopic => self.controllers.configured_route(from),
            _ => Some(reply_to.clone()),
        }
    }

    fn on_non_request(&self, session: &Session, msg: &Msg) {
        let msg_id = builder::msg_id(msg);
        match msg.body.as_ref().and_then(|b| b.msg_body.as_ref()) {
            Some(body::MsgBody::Response(r))
                if matches!(r.resp_type, Some(response::RespType::NotifyResp(_))) =>
            {
                if let Some(f) = &self.on_notify_resp {
                    f(&session.controller, msg);
                }
            }
            Some(body::MsgBody::Error(e)) => {
                warn!(controller = %session.controller, %msg_id, code = e.err_code, err = %e.err_msg, "controller answered with an Error");
            }
            _ => debug!(controller = %session.controller, %msg_id, "unexpected response ignored"),
        }
    }

    fn refuse_record(&self, inbound: &Inbound, e: DecodeError) {
        warn!(error = %e, code = e.usp_code().code(), "record refused");
        // An Error message needs a msg_id to answer and an EndpointID to address.
        let (Some(msg_id), Some(from)) = (e.msg_id(), e.from_id()) else {
            return;
        };
        let Some(route) = self.reply_route(from, &inbound.reply_to) else {
            return;
        };
        let answer = builder::error(msg_id, e.usp_code(), e.to_string(), Vec::new());
        self.send(from, &route, &answer);
    }

    /// Wraps a Msg into a Record for `to` and sends it on `route`.
    pub fn send(&self, to: &str, route: &Route, msg: &Msg) {
        let rec = builder::no_session_record(to, &self.endpoint_id, msg);
        let bytes = builder::encode_record(&rec);
        let large = bytes.len() >= crate::memory::LARGE_ANSWER;
        let result = match self.router.read() {
            Ok(r) => r.send(route, bytes),
            Err(_) => return,
        };
        if let Err(e) = result {
            warn!(to, msg_id = builder::msg_id(msg), error = %e, "answer could not be sent");
        }
        if large {
            // The answer's intermediate values are freed by now; hand the memory back.
            crate::memory::trim_soon();
        }
    }
}

/// Whether `req` may change Controller rows or the trust tables (so permissions).
fn writes_local_agent(req: &ReqType) -> bool {
    let under = |p: &str| p.starts_with("Device.LocalAgent.") || !p.starts_with("Device.");
    match req {
        ReqType::Set(r) => r.update_objs.iter().any(|o| under(&o.obj_path)),
        ReqType::Add(r) => r.create_objs.iter().any(|o| under(&o.obj_path)),
        ReqType::Delete(r) => r.obj_paths.iter().any(|p| under(p)),
        _ => false,
    }
}
