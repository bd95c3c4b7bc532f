//! Bridged devices as `Device.ProxiedDevice.{i}.`: mounting, stable numbers across
//! leave/re-join and restarts, Controller writes confirmed by the device, refusals,
//! commands and pairing — driven by a rusp-lib Controller over WebSocket.

use rusp_lib::usp::mod_OperateResp::mod_OperationResult::OneOfoperation_resp as OpResp;
use rusp_lib::usp::mod_Response::OneOfresp_type as Resp;
use rusp_lib::usp::mod_SetResp::mod_UpdatedObjectResult::mod_OperationStatus::OneOfoper_status as SetStatus;
use rusp_lib::usp_builder::OperateBuilder;
use usphub_bridges::api::{BridgeEvent, DeviceId, Eui64, Value};
use usphub_tests::agent::{AGENT_EID, CONTROLLER, TestAgent};
use usphub_tests::controller::{RuspController, error_of, response_of, set_one};
use usphub_tests::fake_bridge::{FakeBridge, plug};

#[tokio::test]
async fn a_bridged_plug_is_mounted_with_tr181_capabilities() {
    let agent = TestAgent::start().await;
    let bridge = FakeBridge::start(vec![plug(0x00124b0001020304)], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    c.eventually("Device.ProxiedDevice.1.ProxyProtocol", Some("ZigBee"))
        .await;
    let m = c.get_map("Device.ProxiedDevice.1.").await;
    assert_eq!(m["Device.ProxiedDevice.1.Online"], "true");
    assert_eq!(
        m["Device.ProxiedDevice.1.X_USPHUB_Address"],
        "zigbee:00124b0001020304"
    );
    assert_eq!(
        m["Device.ProxiedDevice.1.X_USPHUB_Model"],
        "TRADFRI control outlet"
    );
    assert_eq!(
        m["Device.ProxiedDevice.1.IoTCapabilityNumberOfEntries"],
        "2"
    );
    assert_eq!(
        m["Device.ProxiedDevice.1.IoTCapability.1.Class"],
        "BinaryControl"
    );
    assert_eq!(
        m["Device.ProxiedDevice.1.IoTCapability.1.BinaryControl.Type"],
        "Switch"
    );
    assert_eq!(
        m["Device.ProxiedDevice.1.IoTCapability.1.BinaryControl.Value"],
        "false"
    );
    assert_eq!(
        m["Device.ProxiedDevice.1.IoTCapability.2.LevelSensor.Type"],
        "Power"
    );
    assert_eq!(
        m["Device.ProxiedDevice.1.IoTCapability.2.LevelSensor.Unit"],
        "W"
    );
    assert_eq!(
        m["Device.ProxiedDevice.1.IoTCapability.2.LevelSensor.Value"],
        "12.5"
    );
    c.close().await;
}

#[tokio::test]
async fn set_of_a_control_value_answers_after_the_device_confirms() {
    let agent = TestAgent::start().await;
    let bridge = FakeBridge::start(vec![plug(0x1)], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let value = "Device.ProxiedDevice.1.IoTCapability.1.BinaryControl.Value";
    c.eventually(value, Some("false")).await;
    let msg = c.request(set_one(value, "true")).await;
    let Resp::set_resp(s) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    assert!(
        matches!(
            s.updated_obj_results[0]
                .oper_status
                .as_ref()
                .unwrap()
                .oper_status,
            SetStatus::oper_success(_)
        ),
        "{msg:?}"
    );
    let writes = bridge.writes.lock().unwrap().clone();
    assert_eq!(
        writes,
        vec![(
            DeviceId::Zigbee(Eui64(1)),
            "ep1/0x0006/0x0000".to_string(),
            Value::Bool(true)
        )]
    );
    assert_eq!(c.get_map(value).await[value], "true");

    // Toggle() (asynchronous in TR-181) flips it back through the bridge.
    let msg = c
        .request(
            OperateBuilder::new(
                "Device.ProxiedDevice.1.IoTCapability.1.BinaryControl.Toggle()".into(),
            )
            .with_send_resp(true)
            .build()
            .unwrap(),
        )
        .await;
    let Resp::operate_resp(o) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    assert!(
        matches!(
            o.operation_results[0].operation_resp,
            OpResp::req_obj_path(_)
        ),
        "{o:?}"
    );
    c.eventually(value, Some("false")).await;
    assert_eq!(
        bridge.writes.lock().unwrap().last().unwrap().2,
        Value::Bool(false)
    );
    c.close().await;
}

#[tokio::test]
async fn a_refused_write_is_an_error_and_the_value_is_unchanged() {
    let agent = TestAgent::start().await;
    let bridge = FakeBridge::start(vec![plug(0x2)], &["ep1/0x0006/0x0000"]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let value = "Device.ProxiedDevice.1.IoTCapability.1.BinaryControl.Value";
    c.eventually(value, Some("false")).await;
    let msg = c.request(set_one(value, "true")).await;
    let err = error_of(&msg).expect("an Error message (allow_partial=false)");
    assert_eq!(err.param_errs[0].param_path, value);
    assert!(err.param_errs[0].err_msg.contains("ZCL failure"), "{err:?}");
    assert_eq!(c.get_map(value).await[value], "false");
    // A sensor value is not writable at all.
    let msg = c
        .request(set_one(
            "Device.ProxiedDevice.1.IoTCapability.2.LevelSensor.Value",
            "3",
        ))
        .await;
    assert_eq!(error_of(&msg).unwrap().param_errs[0].err_code, 7013);
    c.close().await;
}

#[tokio::test]
async fn reports_update_values_and_a_rejoined_device_keeps_its_number() {
    let agent = TestAgent::start().await;
    let bridge = FakeBridge::start(vec![plug(0xa)], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let power = "Device.ProxiedDevice.1.IoTCapability.2.LevelSensor.Value";
    c.eventually(power, Some("12.5")).await;
    bridge.events.emit(BridgeEvent::Value {
        id: DeviceId::Zigbee(Eui64(0xa)),
        capability: "ep1/0x0b04/0x050b".into(),
        value: Value::Decimal(usphub_bridges::api::Decimal::new(4031, 1)),
        at: std::time::SystemTime::now(),
    });
    c.eventually(power, Some("403.1")).await;

    bridge.events.emit(BridgeEvent::DeviceJoined(plug(0xb)));
    c.eventually(
        "Device.ProxiedDevice.2.X_USPHUB_Address",
        Some("zigbee:000000000000000b"),
    )
    .await;
    bridge
        .events
        .emit(BridgeEvent::DeviceLeft(DeviceId::Zigbee(Eui64(0xa))));
    c.eventually("Device.ProxiedDevice.1.X_USPHUB_Address", None)
        .await;
    bridge.events.emit(BridgeEvent::DeviceJoined(plug(0xa)));
    c.eventually(
        "Device.ProxiedDevice.1.X_USPHUB_Address",
        Some("zigbee:000000000000000a"),
    )
    .await;
    c.close().await;
}

#[tokio::test]
async fn names_and_numbers_survive_an_agent_restart() {
    let mut agent = TestAgent::start().await;
    let bridge = FakeBridge::start(vec![plug(0x10), plug(0x20)], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    c.eventually(
        "Device.ProxiedDevice.2.X_USPHUB_Address",
        Some("zigbee:0000000000000020"),
    )
    .await;
    let msg = c
        .request(set_one("Device.ProxiedDevice.2.Name", "Kitchen plug"))
        .await;
    assert!(matches!(response_of(&msg), Resp::set_resp(_)), "{msg:?}");
    c.close().await;

    agent.restart().await;
    // The bridge reports its devices in the other order: numbers must not follow order.
    let bridge = FakeBridge::start(vec![plug(0x20), plug(0x10)], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    c.eventually(
        "Device.ProxiedDevice.2.X_USPHUB_Address",
        Some("zigbee:0000000000000020"),
    )
    .await;
    c.eventually(
        "Device.ProxiedDevice.1.X_USPHUB_Address",
        Some("zigbee:0000000000000010"),
    )
    .await;
    c.eventually("Device.ProxiedDevice.2.Name", Some("Kitchen plug"))
        .await;
    c.close().await;
}

#[tokio::test]
async fn permit_join_opens_the_bridge_for_pairing() {
    let agent = TestAgent::start().await;
    let bridge = FakeBridge::start(vec![], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let msg = c
        .request(
            OperateBuilder::new("Device.X_USPHUB_Bridge.1.PermitJoin()".into())
                .with_input_args(vec![("Duration".into(), "120".into())])
                .with_send_resp(true)
                .build()
                .unwrap(),
        )
        .await;
    let Resp::operate_resp(o) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    let OpResp::req_obj_path(req) = &o.operation_results[0].operation_resp else {
        panic!("{o:?}")
    };
    assert!(req.starts_with("Device.LocalAgent.Request."), "{req}");
    c.eventually("Device.X_USPHUB_Bridge.1.PermitJoinRemaining", Some("120"))
        .await;
    c.close().await;
}

#[tokio::test]
async fn a_re_interview_adds_only_the_new_capability() {
    use rusp_lib::usp::mod_Notify::OneOfnotification as N;
    use rusp_lib::usp_builder::{AddBuilder, CreateObjectBuilder};
    use usphub_bridges::api::{BinarySensorType, Capability, CapabilityKind};
    let agent = TestAgent::start().await;
    let bridge = FakeBridge::start(vec![plug(0x42)], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    c.eventually(
        "Device.ProxiedDevice.1.IoTCapabilityNumberOfEntries",
        Some("2"),
    )
    .await;
    let msg = c
        .request(
            AddBuilder::new()
                .with_allow_partial(false)
                .with_create_objs(vec![
                    CreateObjectBuilder::new("Device.LocalAgent.Subscription.".into())
                        .with_param_settings(vec![
                            ("ID".into(), "objs".into(), true),
                            ("NotifType".into(), "ObjectCreation".into(), true),
                            ("ReferenceList".into(), "Device.ProxiedDevice.".into(), true),
                            ("Enable".into(), "true".into(), true),
                        ]),
                ])
                .build()
                .unwrap(),
        )
        .await;
    assert!(matches!(response_of(&msg), Resp::add_resp(_)));
    let mut d = plug(0x42);
    d.model = "TRADFRI control outlet v2".into();
    d.capabilities.push(Capability::new(
        "ep1/0x0500/zone",
        "Leak",
        CapabilityKind::BinarySensor {
            kind: BinarySensorType::WaterDetected,
        },
    ));
    bridge.events.emit(BridgeEvent::DeviceUpdated(d));
    let (_, n) = c
        .next_notify(usphub_tests::controller::WAIT)
        .await
        .expect("ObjectCreation");
    let N::obj_creation(oc) = n.notification else {
        panic!("{n:?}")
    };
    assert_eq!(
        oc.obj_path, "Device.ProxiedDevice.1.IoTCapability.3.",
        "only the new capability is created"
    );
    c.eventually(
        "Device.ProxiedDevice.1.X_USPHUB_Model",
        Some("TRADFRI control outlet v2"),
    )
    .await;
    c.eventually(
        "Device.ProxiedDevice.1.IoTCapability.3.BinarySensor.Type",
        Some("WaterDetected"),
    )
    .await;
    c.close().await;
}
