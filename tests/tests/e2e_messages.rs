//! Every USP message against a running agent over WebSocket, with rusp-lib as the
//! Controller's codec: results, error codes, permissions, persistence, bad input.

use rusp_lib::usp::mod_AddResp::mod_CreatedObjectResult::mod_OperationStatus::OneOfoper_status as AddStatus;
use rusp_lib::usp::mod_DeleteResp::mod_DeletedObjectResult::mod_OperationStatus::OneOfoper_status as DeleteStatus;
use rusp_lib::usp::mod_Response::OneOfresp_type as Resp;
use rusp_lib::usp::mod_SetResp::mod_UpdatedObjectResult::mod_OperationStatus::OneOfoper_status as SetStatus;
use rusp_lib::usp_builder::{
    AddBuilder, CreateObjectBuilder, DeleteBuilder, GetBuilder, GetInstancesBuilder,
    GetSupportedDMBuilder, GetSupportedProtocolBuilder, MsgBuilder, OperateBuilder, SetBuilder,
    UpdateObjectBuilder,
};
use usphub_tests::agent::{AGENT_EID, CONTROLLER, GUEST, TestAgent};
use usphub_tests::controller::{RuspController, WAIT, error_of, response_of};

fn get(paths: &[&str], max_depth: u32) -> rusp_lib::usp::Body {
    GetBuilder::new()
        .with_max_depth(max_depth)
        .with_params(paths.iter().map(|p| p.to_string()).collect())
        .build()
        .unwrap()
}

async fn connect(agent: &TestAgent, eid: &str) -> RuspController {
    RuspController::websocket(&agent.ws_url(), eid, AGENT_EID).await
}

/// One requested path's result: the path, its err_code, and its `full path = value` pairs.
type PathResult = (String, u32, Vec<(String, String)>);

fn get_params(msg: &rusp_lib::usp::Msg) -> Vec<PathResult> {
    let Resp::get_resp(g) = response_of(msg) else {
        panic!("not a GetResp: {msg:?}")
    };
    g.req_path_results
        .iter()
        .map(|r| {
            let mut params: Vec<(String, String)> = r
                .resolved_path_results
                .iter()
                .flat_map(|res| {
                    res.result_params
                        .iter()
                        .map(move |(k, v)| (format!("{}{k}", res.resolved_path), v.clone()))
                })
                .collect();
            params.sort();
            (r.requested_path.clone(), r.err_code, params)
        })
        .collect()
}

async fn add_subscription(c: &mut RuspController, id: &str, notif: &str, refs: &str) -> String {
    let body = AddBuilder::new()
        .with_allow_partial(false)
        .with_create_objs(vec![
            CreateObjectBuilder::new("Device.LocalAgent.Subscription.".into()).with_param_settings(
                vec![
                    ("ID".into(), id.into(), true),
                    ("NotifType".into(), notif.into(), true),
                    ("ReferenceList".into(), refs.into(), true),
                    ("Enable".into(), "true".into(), true),
                    ("Persistent".into(), "true".into(), true),
                ],
            ),
        ])
        .build()
        .unwrap();
    let msg = c.request(body).await;
    let Resp::add_resp(a) = response_of(&msg) else {
        panic!("not an AddResp: {msg:?}")
    };
    match &a.created_obj_results[0]
        .oper_status
        .as_ref()
        .unwrap()
        .oper_status
    {
        AddStatus::oper_success(s) => s.instantiated_path.clone(),
        other => panic!("add failed: {other:?}"),
    }
}

#[tokio::test]
async fn get_returns_leaf_object_and_per_path_errors() {
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let msg = c
        .request(get(
            &[
                "Device.LocalAgent.EndpointID",
                "Device.DeviceInfo.",
                "Device.NoSuchThing.",
                "Device..Bad",
            ],
            0,
        ))
        .await;
    let results = get_params(&msg);
    assert_eq!(results[0].1, 0);
    assert_eq!(
        results[0].2,
        vec![(
            "Device.LocalAgent.EndpointID".to_string(),
            AGENT_EID.to_string()
        )]
    );
    assert_eq!(results[1].1, 0);
    assert!(
        results[1]
            .2
            .iter()
            .any(|(k, v)| k == "Device.DeviceInfo.Manufacturer" && v == "usphub")
    );
    assert!(
        results[1]
            .2
            .iter()
            .any(|(k, _)| k == "Device.DeviceInfo.UpTime")
    );
    assert_eq!(
        results[2].1, 7026,
        "a path outside the supported model is 7026"
    );
    assert_eq!(results[3].1, 7008, "a malformed path is 7008");
    c.close().await;
}

#[tokio::test]
async fn get_honours_max_depth() {
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let shallow = get_params(&c.request(get(&["Device.LocalAgent."], 1)).await);
    let deep = get_params(&c.request(get(&["Device.LocalAgent."], 0)).await);
    assert!(
        shallow[0]
            .2
            .iter()
            .all(|(k, _)| !k["Device.LocalAgent.".len()..].contains('.'))
    );
    assert!(deep[0].2.len() > shallow[0].2.len());
    assert!(
        deep[0]
            .2
            .iter()
            .any(|(k, _)| k.starts_with("Device.LocalAgent.Controller.1."))
    );
    c.close().await;
}

#[tokio::test]
async fn add_set_get_instances_and_delete_a_subscription() {
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let path = add_subscription(&mut c, "sub-1", "ValueChange", "Device.DeviceInfo.").await;
    assert!(path.starts_with("Device.LocalAgent.Subscription."));

    let recipient = get_params(&c.request(get(&[&format!("{path}Recipient")], 0)).await);
    assert!(
        recipient[0].2[0]
            .1
            .starts_with("Device.LocalAgent.Controller."),
        "{recipient:?}"
    );

    let set = SetBuilder::new()
        .with_allow_partial(false)
        .with_update_objs(vec![
            UpdateObjectBuilder::new(path.clone()).with_param_settings(vec![(
                "Enable".into(),
                "false".into(),
                true,
            )]),
        ])
        .build()
        .unwrap();
    let msg = c.request(set).await;
    let Resp::set_resp(s) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    let SetStatus::oper_success(ok) = &s.updated_obj_results[0]
        .oper_status
        .as_ref()
        .unwrap()
        .oper_status
    else {
        panic!("set failed: {msg:?}")
    };
    assert_eq!(
        ok.updated_inst_results[0]
            .updated_params
            .get("Enable")
            .map(String::as_str),
        Some("false")
    );

    let inst = c
        .request(
            GetInstancesBuilder::new()
                .with_first_level_only(true)
                .with_obj_paths(vec!["Device.LocalAgent.Subscription.".into()])
                .build()
                .unwrap(),
        )
        .await;
    let Resp::get_instances_resp(gi) = response_of(&inst) else {
        panic!("{inst:?}")
    };
    let insts = &gi.req_path_results[0].curr_insts;
    assert_eq!(insts.len(), 1);
    assert_eq!(insts[0].instantiated_obj_path, path);
    assert_eq!(
        insts[0].unique_keys.get("ID").map(String::as_str),
        Some("sub-1")
    );

    let del = c
        .request(
            DeleteBuilder::new()
                .with_allow_partial(false)
                .with_obj_paths(vec![path.clone()])
                .build()
                .unwrap(),
        )
        .await;
    let Resp::delete_resp(d) = response_of(&del) else {
        panic!("{del:?}")
    };
    let DeleteStatus::oper_success(ok) = &d.deleted_obj_results[0]
        .oper_status
        .as_ref()
        .unwrap()
        .oper_status
    else {
        panic!("{del:?}")
    };
    assert_eq!(ok.affected_paths, vec![path.clone()]);
    let after = get_params(
        &c.request(get(&["Device.LocalAgent.Subscription."], 0))
            .await,
    );
    assert!(after[0].2.is_empty());
    c.close().await;
}

#[tokio::test]
async fn set_of_a_read_only_parameter_is_refused_and_nothing_changes() {
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let set = SetBuilder::new()
        .with_allow_partial(false)
        .with_update_objs(vec![
            UpdateObjectBuilder::new("Device.DeviceInfo.".into()).with_param_settings(vec![(
                "Manufacturer".into(),
                "evil".into(),
                true,
            )]),
        ])
        .build()
        .unwrap();
    let msg = c.request(set).await;
    let err = error_of(&msg).expect("an Error message");
    assert!(matches!(err.err_code, 7004 | 7013 | 7020), "{err:?}");
    assert_eq!(
        err.param_errs[0].param_path,
        "Device.DeviceInfo.Manufacturer"
    );
    assert_eq!(err.param_errs[0].err_code, 7013);
    let now = get_params(&c.request(get(&["Device.DeviceInfo.Manufacturer"], 0)).await);
    assert_eq!(now[0].2[0].1, "usphub");
    c.close().await;
}

#[tokio::test]
async fn duplicate_subscription_key_is_refused_with_7025() {
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    add_subscription(&mut c, "same", "ValueChange", "Device.DeviceInfo.").await;
    let body = AddBuilder::new()
        .with_allow_partial(true)
        .with_create_objs(vec![
            CreateObjectBuilder::new("Device.LocalAgent.Subscription.".into()).with_param_settings(
                vec![
                    ("ID".into(), "same".into(), true),
                    ("NotifType".into(), "ValueChange".into(), true),
                ],
            ),
        ])
        .build()
        .unwrap();
    let msg = c.request(body).await;
    let Resp::add_resp(a) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    let AddStatus::oper_failure(f) = &a.created_obj_results[0]
        .oper_status
        .as_ref()
        .unwrap()
        .oper_status
    else {
        panic!("second add succeeded: {msg:?}")
    };
    assert_eq!(f.err_code, 7025);
    c.close().await;
}

#[tokio::test]
async fn get_supported_dm_describes_the_subscription_table() {
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let msg = c
        .request(
            GetSupportedDMBuilder::new()
                .with_obj_paths(vec!["Device.LocalAgent.Subscription.{i}.".into()])
                .with_first_level_only(true)
                .with_return_params(true)
                .with_return_commands(true)
                .with_return_events(true)
                .with_return_unique_key_sets(true)
                .build()
                .unwrap(),
        )
        .await;
    let Resp::get_supported_dm_resp(g) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    let r = &g.req_obj_results[0];
    assert_eq!(r.err_code, 0, "{r:?}");
    let obj = r
        .supported_objs
        .iter()
        .find(|o| o.supported_obj_path == "Device.LocalAgent.Subscription.{i}.")
        .expect("the table itself is described");
    assert!(obj.is_multi_instance);
    use rusp_lib::usp::mod_GetSupportedDMResp::{ObjAccessType, ParamAccessType, ParamValueType};
    assert_eq!(obj.access, ObjAccessType::OBJ_ADD_DELETE);
    let enable = obj
        .supported_params
        .iter()
        .find(|p| p.param_name == "Enable")
        .unwrap();
    assert_eq!(enable.access, ParamAccessType::PARAM_READ_WRITE);
    assert_eq!(enable.value_type, ParamValueType::PARAM_BOOLEAN);
    let recipient = obj
        .supported_params
        .iter()
        .find(|p| p.param_name == "Recipient")
        .unwrap();
    assert_eq!(recipient.access, ParamAccessType::PARAM_READ_ONLY);
    let keys: Vec<Vec<String>> = obj
        .unique_key_sets
        .iter()
        .map(|k| k.key_names.clone())
        .collect();
    assert!(keys.contains(&vec!["Alias".to_string()]), "{keys:?}");
    assert!(
        keys.contains(&vec!["Recipient".to_string(), "ID".to_string()]),
        "{keys:?}"
    );
    c.close().await;
}

#[tokio::test]
async fn get_supported_protocol_lists_1_0_to_1_4() {
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let msg = c
        .request(
            GetSupportedProtocolBuilder::new("1.3,1.4".into())
                .build()
                .unwrap(),
        )
        .await;
    let Resp::get_supported_protocol_resp(p) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    assert_eq!(p.agent_supported_protocol_versions, "1.0,1.1,1.2,1.3,1.4");
    c.close().await;
}

#[tokio::test]
async fn operate_on_a_non_command_path_is_an_error_and_unknown_command_too() {
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let msg = c
        .request(
            OperateBuilder::new("Device.NoSuch()".into())
                .with_send_resp(true)
                .build()
                .unwrap(),
        )
        .await;
    assert_eq!(error_of(&msg).map(|e| e.err_code), Some(7026));
    c.close().await;
}

#[tokio::test]
async fn untrusted_controller_gets_permission_denied_but_may_ask_versions() {
    let agent = TestAgent::start().await;
    let mut g = connect(&agent, GUEST).await;
    let msg = g.request(get(&["Device.DeviceInfo."], 0)).await;
    assert_eq!(error_of(&msg).map(|e| e.err_code), Some(7006));
    let msg = g
        .request(
            GetSupportedProtocolBuilder::new("1.4".into())
                .build()
                .unwrap(),
        )
        .await;
    assert!(matches!(
        response_of(&msg),
        Resp::get_supported_protocol_resp(_)
    ));
    g.close().await;
    let mut stranger = connect(&agent, "proto::stranger").await;
    let msg = stranger.request(get(&["Device.DeviceInfo."], 0)).await;
    assert_eq!(
        error_of(&msg).map(|e| e.err_code),
        Some(7006),
        "unknown controllers are untrusted"
    );
    stranger.close().await;
}

#[tokio::test]
async fn bad_records_are_survived_and_the_agent_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TestAgent::config(&dir);
    // Room for the 10,000-path Get below (about 450 KB).
    config.max_record_size = 1 << 20;
    let agent = TestAgent::start_with(dir, config).await;
    let mut c = connect(&agent, CONTROLLER).await;
    // An empty record, a record to another endpoint, a record claiming to be from the agent.
    c.send_raw(Vec::new());
    let msg = MsgBuilder::new()
        .with_msg_id("elsewhere".into())
        .with_body(get(&["Device.DeviceInfo."], 0))
        .build()
        .unwrap();
    c.send_raw(c.record_bytes(&msg, "proto::someone-else"));
    // A Get header around a Set body: answered with an Error naming the msg_id.
    let mut mismatched = MsgBuilder::new()
        .with_msg_id("mismatch".into())
        .with_body(get(&["Device."], 0))
        .build()
        .unwrap();
    if let Some(h) = mismatched.header.as_mut() {
        h.msg_type = rusp_lib::usp::mod_Header::MsgType::SET;
    }
    c.send_raw(c.record_bytes(&mismatched, AGENT_EID));
    let err = c.answer_to("mismatch").await;
    assert_eq!(error_of(&err).map(|e| e.err_code), Some(7000));
    // 10,000 paths in one Get are answered, one result each.
    let many: Vec<String> = (0..10_000)
        .map(|i| format!("Device.LocalAgent.Controller.{i}.Enable"))
        .collect();
    let big = GetBuilder::new()
        .with_max_depth(0)
        .with_params(many)
        .build()
        .unwrap();
    let msg = c.request(big).await;
    assert_eq!(get_params(&msg).len(), 10_000);
    // Still serving, and nothing was answered for the record addressed elsewhere.
    let ok = get_params(&c.request(get(&["Device.LocalAgent.EndpointID"], 0)).await);
    assert_eq!(ok[0].1, 0);
    // Bytes that are not a Record end that WebSocket session (close 1003, TR-369 WebSocket
    // binding); the agent itself keeps serving new sessions.
    c.send_raw(vec![0xff, 0x00, 0x13, 0x37]);
    c.close().await;
    let mut again = connect(&agent, CONTROLLER).await;
    let ok = get_params(
        &again
            .request(get(&["Device.LocalAgent.EndpointID"], 0))
            .await,
    );
    assert_eq!(ok[0].1, 0);
    again.close().await;
}

#[tokio::test]
async fn persistent_subscription_survives_a_restart_with_its_instance_number() {
    let mut agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let path = add_subscription(
        &mut c,
        "keep",
        "ObjectCreation",
        "Device.LocalAgent.Subscription.",
    )
    .await;
    c.close().await;
    agent.restart().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let got = get_params(&c.request(get(&[&format!("{path}ID")], 0)).await);
    assert_eq!(got[0].1, 0, "{got:?}");
    assert_eq!(got[0].2[0].1, "keep");
    let second = add_subscription(&mut c, "next", "ValueChange", "Device.DeviceInfo.").await;
    assert_ne!(second, path, "instance numbers are never reused");
    c.close().await;
}

#[tokio::test]
async fn a_record_over_the_size_limit_is_dropped_and_the_agent_keeps_serving() {
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let many: Vec<String> = (0..10_000)
        .map(|i| format!("Device.LocalAgent.Controller.{i}.Enable"))
        .collect();
    let id = c.send(
        GetBuilder::new()
            .with_max_depth(0)
            .with_params(many)
            .build()
            .unwrap(),
    );
    assert!(
        c.recv_msg(std::time::Duration::from_millis(500))
            .await
            .is_none(),
        "no answer to {id}"
    );
    c.close().await;
    let mut again = connect(&agent, CONTROLLER).await;
    let ok = get_params(
        &again
            .request(get(&["Device.LocalAgent.EndpointID"], 0))
            .await,
    );
    assert_eq!(ok[0].1, 0);
    again.close().await;
}

#[tokio::test]
async fn agent_connects_out_to_a_controllers_websocket_endpoint() {
    use usphub_tests::agent::controller;
    let listen: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    // The Controller listens; the agent is the WebSocket client.
    let probe = std::net::TcpListener::bind(listen).unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let client = usphub::mtp::controller_client::ControllerClient::listen_websocket(
        addr, CONTROLLER, AGENT_EID,
    )
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = TestAgent::config(&dir);
    let mut c = controller(CONTROLLER, usphub::config::Role::Full, None);
    c.ws_url = Some(format!("ws://127.0.0.1:{port}/usp"));
    config.controllers = vec![c];
    let _agent = TestAgent::start_with(dir, config).await;
    let mut c = RuspController::new(client, AGENT_EID);
    // The agent's session opens with its WebSocketConnect Record; then requests flow.
    let first = c.recv_record(WAIT).await.expect("the agent connects");
    assert!(
        matches!(
            first.record_type,
            rusp_lib::usp_record::mod_Record::OneOfrecord_type::websocket_connect(_)
        ),
        "{first:?}"
    );
    let msg = c.request(get(&["Device.LocalAgent.EndpointID"], 0)).await;
    assert_eq!(get_params(&msg)[0].2[0].1, AGENT_EID);
    c.close().await;
}

#[tokio::test]
async fn a_repeated_msg_id_is_answered_each_time() {
    // TR-369 leaves de-duplication to the Controller: the agent answers every request,
    // and a Controller re-using a msg_id (a retry) gets the same answer again.
    let agent = TestAgent::start().await;
    let mut c = connect(&agent, CONTROLLER).await;
    let msg = MsgBuilder::new()
        .with_msg_id("same-id".into())
        .with_body(get(&["Device.LocalAgent.EndpointID"], 0))
        .build()
        .unwrap();
    let bytes = c.record_bytes(&msg, AGENT_EID);
    c.send_raw(bytes.clone());
    c.send_raw(bytes);
    for _ in 0..2 {
        let answer = c.answer_to("same-id").await;
        assert_eq!(get_params(&answer)[0].2[0].1, AGENT_EID);
    }
    c.close().await;
}
