//! A USP Controller for end-to-end tests whose codec is the independent `rusp-lib` crate:
//! requests are built and responses decoded by rusp-lib, so the agent's own codec never
//! checks itself. Only the transport (WebSocket/MQTT client) is the project's.

use std::collections::VecDeque;
use std::time::Duration;

use rusp_lib::usp as r;
use rusp_lib::usp::mod_Body::OneOfmsg_body;
use rusp_lib::usp::mod_Request::OneOfreq_type;
use rusp_lib::usp_builder::{MsgBuilder, RecordBuilder};
use rusp_lib::usp_decoder::{try_decode_msg, try_decode_record};
use rusp_lib::usp_record::mod_Record::OneOfrecord_type;
use usphub::mtp::controller_client::ControllerClient;

/// How long a test waits for the agent.
pub const WAIT: Duration = Duration::from_secs(10);

/// A Controller talking to one agent.
pub struct RuspController {
    client: ControllerClient,
    agent_eid: String,
    next_id: u64,
    /// Messages received that were not the answer being waited for (notifications).
    pending: VecDeque<r::Msg>,
}

impl RuspController {
    /// Connects over the agent's WebSocket server.
    pub async fn websocket(url: &str, eid: &str, agent_eid: &str) -> RuspController {
        let client = ControllerClient::connect_websocket(url, eid, WAIT)
            .await
            .expect("controller connects to the agent's WebSocket server");
        Self::new(client, agent_eid)
    }

    /// Wraps an already-connected transport.
    pub fn new(client: ControllerClient, agent_eid: &str) -> RuspController {
        RuspController {
            client,
            agent_eid: agent_eid.to_string(),
            next_id: 1,
            pending: VecDeque::new(),
        }
    }

    /// This Controller's EndpointID.
    pub fn eid(&self) -> &str {
        self.client.endpoint_id()
    }

    /// Encodes a Msg with rusp-lib into a no-session Record addressed to the agent.
    pub fn record_bytes(&self, msg: &r::Msg, to: &str) -> Vec<u8> {
        RecordBuilder::new()
            .with_version("1.4".into())
            .with_to_id(to.into())
            .with_from_id(self.eid().into())
            .with_no_session_context_payload(msg)
            .build()
            .expect("rusp-lib builds the record")
            .to_vec()
            .expect("rusp-lib encodes the record")
    }

    /// Sends raw bytes to the agent.
    pub fn send_raw(&self, bytes: Vec<u8>) {
        self.client
            .send(bytes)
            .expect("transport accepts the record");
    }

    /// Sends a request body with a fresh msg_id and returns that msg_id.
    pub fn send(&mut self, body: r::Body) -> String {
        let msg_id = format!("req-{}", self.next_id);
        self.next_id += 1;
        let msg = MsgBuilder::new()
            .with_msg_id(msg_id.clone())
            .with_body(body)
            .build()
            .expect("rusp-lib builds the msg");
        let agent = self.agent_eid.clone();
        self.send_raw(self.record_bytes(&msg, &agent));
        msg_id
    }

    /// Sends a request and waits for the Msg answering it.
    pub async fn request(&mut self, body: r::Body) -> r::Msg {
        let id = self.send(body);
        self.answer_to(&id).await
    }

    /// Waits for the Msg with `msg_id`, keeping anything else for later.
    pub async fn answer_to(&mut self, msg_id: &str) -> r::Msg {
        loop {
            let msg = self.recv_msg(WAIT).await.expect("the agent answers");
            if msg.msg_id() == msg_id {
                return msg;
            }
            self.pending.push_back(msg);
        }
    }

    /// The next Record from the agent (any type), or None after `timeout`.
    pub async fn recv_record(&mut self, timeout: Duration) -> Option<rusp_lib::usp_record::Record> {
        let inbound = self.client.recv(timeout).await.ok()?;
        Some(try_decode_record(&inbound.bytes).expect("rusp-lib decodes the agent's record"))
    }

    /// The next Msg from the agent, or None after `timeout`.
    pub async fn recv_msg(&mut self, timeout: Duration) -> Option<r::Msg> {
        loop {
            let inbound = self.client.recv(timeout).await.ok()?;
            let rec =
                try_decode_record(&inbound.bytes).expect("rusp-lib decodes the agent's record");
            assert_eq!(rec.to_id, self.eid(), "record addressed to us");
            assert_eq!(rec.from_id, self.agent_eid, "record from the agent");
            if let OneOfrecord_type::no_session_context(nsc) = &rec.record_type {
                return Some(
                    try_decode_msg(&nsc.payload).expect("rusp-lib decodes the agent's msg"),
                );
            }
        }
    }

    /// The next Notify request from the agent (already received ones first).
    pub async fn next_notify(&mut self, timeout: Duration) -> Option<(String, r::Notify)> {
        loop {
            let msg = match self.pending.pop_front() {
                Some(m) => m,
                None => self.recv_msg(timeout).await?,
            };
            let id = msg.msg_id().to_string();
            if let Some(r::Body {
                msg_body:
                    OneOfmsg_body::request(r::Request {
                        req_type: OneOfreq_type::notify(n),
                    }),
            }) = msg.body
            {
                return Some((id, n));
            }
        }
    }

    /// Closes the transport.
    pub async fn close(self) {
        self.client.close().await;
    }
}

/// The Error body of a Msg, if it is one.
pub fn error_of(msg: &r::Msg) -> Option<&r::Error> {
    match &msg.body.as_ref()?.msg_body {
        OneOfmsg_body::error(e) => Some(e),
        _ => None,
    }
}

/// The Response body of a Msg; panics with the message when it is something else.
pub fn response_of(msg: &r::Msg) -> &rusp_lib::usp::mod_Response::OneOfresp_type {
    match msg.body.as_ref().map(|b| &b.msg_body) {
        Some(OneOfmsg_body::response(r)) => &r.resp_type,
        other => panic!("expected a response, got {other:?}"),
    }
}

impl RuspController {
    /// Get of one path with every resolved parameter as `full path -> value`.
    pub async fn get_map(&mut self, path: &str) -> std::collections::BTreeMap<String, String> {
        let body = rusp_lib::usp_builder::GetBuilder::new()
            .with_max_depth(0)
            .with_params(vec![path.into()])
            .build()
            .expect("rusp-lib builds the Get");
        let msg = self.request(body).await;
        let rusp_lib::usp::mod_Response::OneOfresp_type::get_resp(g) = response_of(&msg) else {
            panic!("not a GetResp: {msg:?}")
        };
        g.req_path_results[0]
            .resolved_path_results
            .iter()
            .flat_map(|r| {
                r.result_params
                    .iter()
                    .map(move |(k, v)| (format!("{}{k}", r.resolved_path), v.clone()))
            })
            .collect()
    }

    /// Polls `path` until it reads `want` (None: until it no longer exists); for effects
    /// that reach the data model asynchronously (bridge events).
    pub async fn eventually(&mut self, path: &str, want: Option<&str>) {
        for _ in 0..200 {
            if self.get_map(path).await.get(path).map(String::as_str) == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{path} never became {want:?}");
    }

    /// Adds an enabled subscription with `extra` settings and returns its instance path.
    pub async fn subscribe(
        &mut self,
        id: &str,
        notif: &str,
        refs: &str,
        extra: &[(&str, &str)],
    ) -> String {
        use rusp_lib::usp::mod_AddResp::mod_CreatedObjectResult::mod_OperationStatus::OneOfoper_status;
        let mut settings = vec![
            ("ID".to_string(), id.to_string(), true),
            ("NotifType".to_string(), notif.to_string(), true),
            ("ReferenceList".to_string(), refs.to_string(), true),
            ("Enable".to_string(), "true".to_string(), true),
        ];
        settings.extend(
            extra
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string(), true)),
        );
        let body = rusp_lib::usp_builder::AddBuilder::new()
            .with_allow_partial(false)
            .with_create_objs(vec![
                rusp_lib::usp_builder::CreateObjectBuilder::new(
                    "Device.LocalAgent.Subscription.".into(),
                )
                .with_param_settings(settings),
            ])
            .build()
            .expect("rusp-lib builds the Add");
        let msg = self.request(body).await;
        let rusp_lib::usp::mod_Response::OneOfresp_type::add_resp(a) = response_of(&msg) else {
            panic!("not an AddResp: {msg:?}")
        };
        match &a.created_obj_results[0]
            .oper_status
            .as_ref()
            .expect("a status")
            .oper_status
        {
            OneOfoper_status::oper_success(s) => s.instantiated_path.clone(),
            other => panic!("subscription not created: {other:?}"),
        }
    }
}

/// A Set of one parameter (`Device.X.Y.Param`), allow_partial false, required.
pub fn set_one(path: &str, value: &str) -> rusp_lib::usp::Body {
    let (obj, param) = path.rsplit_once('.').expect("a parameter path");
    rusp_lib::usp_builder::SetBuilder::new()
        .with_allow_partial(false)
        .with_update_objs(vec![
            rusp_lib::usp_builder::UpdateObjectBuilder::new(format!("{obj}."))
                .with_param_settings(vec![(param.into(), value.into(), true)]),
        ])
        .build()
        .expect("rusp-lib builds the Set")
}

impl RuspController {
    /// Operates `<bridge_row>PermitJoin()` for `seconds` and checks it was accepted.
    pub async fn permit_join(&mut self, bridge_row: &str, seconds: u32) {
        let body = rusp_lib::usp_builder::OperateBuilder::new(format!("{bridge_row}PermitJoin()"))
            .with_input_args(vec![("Duration".into(), seconds.to_string())])
            .with_send_resp(true)
            .build()
            .expect("rusp-lib builds the Operate");
        let msg = self.request(body).await;
        assert!(
            matches!(
                response_of(&msg),
                rusp_lib::usp::mod_Response::OneOfresp_type::operate_resp(_)
            ),
            "{msg:?}"
        );
    }
}
