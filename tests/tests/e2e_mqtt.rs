//! The agent over MQTT 5 through a real mosquitto broker, with rusp-lib as the Controller's
//! codec: requests and answers, notifications, and a broker restart in the middle.

use std::time::Duration;

use rusp_lib::usp::mod_Notify::OneOfnotification as N;
use rusp_lib::usp::mod_Response::OneOfresp_type as Resp;
use rusp_lib::usp_builder::{AddBuilder, CreateObjectBuilder, GetBuilder};
use usphub::config::Role;
use usphub::mtp::controller_client::ControllerClient;
use usphub::mtp::mqtt::MqttConfig;
use usphub_bridges::api::{BridgeEvent, DeviceId, Eui64, Value};
use usphub_tests::agent::{AGENT_EID, CONTROLLER, TestAgent, controller, mqtt};
use usphub_tests::controller::{RuspController, WAIT, response_of};
use usphub_tests::fake_bridge::{FakeBridge, plug};
use usphub_tests::mosquitto::Mosquitto;

const AGENT_TOPIC: &str = "usp/test/agent";
const CONTROLLER_TOPIC: &str = "usp/test/controller";

async fn start(broker: &Mosquitto) -> TestAgent {
    let dir = tempfile::tempdir().unwrap();
    let mut config = TestAgent::config(&dir);
    let mut m = mqtt(broker.port());
    m.agent_topic = AGENT_TOPIC.into();
    config.mqtt = Some(m);
    config.controllers = vec![controller(CONTROLLER, Role::Full, Some(CONTROLLER_TOPIC))];
    TestAgent::start_with(dir, config).await
}

async fn mqtt_controller(broker: &Mosquitto) -> RuspController {
    let cfg = MqttConfig::new("127.0.0.1", broker.port(), CONTROLLER, CONTROLLER_TOPIC);
    let client = ControllerClient::connect_mqtt(cfg, AGENT_TOPIC, WAIT)
        .await
        .expect("controller connects");
    RuspController::new(client, AGENT_EID)
}

#[tokio::test]
async fn get_over_mqtt_is_answered_on_the_controllers_topic() {
    let broker = Mosquitto::start();
    let _agent = start(&broker).await;
    let mut c = mqtt_controller(&broker).await;
    let msg = c
        .request(
            GetBuilder::new()
                .with_params(vec!["Device.LocalAgent.SupportedProtocols".into()])
                .build()
                .unwrap(),
        )
        .await;
    let Resp::get_resp(g) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    let v = &g.req_path_results[0].resolved_path_results[0].result_params["SupportedProtocols"];
    assert!(v.contains("MQTT") && v.contains("WebSocket"), "{v}");
    c.close().await;
}

#[tokio::test]
async fn notifications_queued_while_the_broker_is_down_arrive_after_it_returns() {
    let mut broker = Mosquitto::start();
    let agent = start(&broker).await;
    let bridge = FakeBridge::start(vec![plug(0x99)], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = mqtt_controller(&broker).await;
    let msg = c
        .request(
            AddBuilder::new()
                .with_allow_partial(false)
                .with_create_objs(vec![
                    CreateObjectBuilder::new("Device.LocalAgent.Subscription.".into())
                        .with_param_settings(vec![
                            ("ID".into(), "power".into(), true),
                            ("NotifType".into(), "ValueChange".into(), true),
                            (
                                "ReferenceList".into(),
                                "Device.ProxiedDevice.1.IoTCapability.2.LevelSensor.Value".into(),
                                true,
                            ),
                            ("Enable".into(), "true".into(), true),
                            ("NotifRetry".into(), "true".into(), true),
                        ]),
                ])
                .build()
                .unwrap(),
        )
        .await;
    assert!(matches!(response_of(&msg), Resp::add_resp(_)), "{msg:?}");

    broker.stop();
    for watts in [101, 102, 103] {
        bridge.events.emit(BridgeEvent::Value {
            id: DeviceId::Zigbee(Eui64(0x99)),
            capability: "ep1/0x0b04/0x050b".into(),
            value: Value::Decimal(usphub_bridges::api::Decimal::from_int(watts)),
            at: std::time::SystemTime::now(),
        });
    }
    broker.restart();
    let mut got = Vec::new();
    while got.len() < 3 {
        let (_, n) = c
            .next_notify(Duration::from_secs(40))
            .await
            .expect("notification after the broker returned");
        if let N::value_change(vc) = n.notification
            && !got.contains(&vc.param_value)
        {
            got.push(vc.param_value);
        }
    }
    got.sort();
    assert_eq!(got, vec!["101", "102", "103"]);
    c.close().await;
}

#[tokio::test]
async fn a_controller_moves_the_agent_to_another_broker_and_it_stays_there() {
    let first = Mosquitto::start();
    let second = Mosquitto::start();
    let mut agent = start(&first).await;
    let mut ws = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let client = "Device.MQTT.Client.1.";
    ws.eventually(&format!("{client}Status"), Some("Connected"))
        .await;
    assert_eq!(
        ws.get_map(&format!("{client}BrokerPort")).await[&format!("{client}BrokerPort")],
        first.port().to_string()
    );

    // Point it at the second broker: it reconnects there and answers over it.
    let msg = ws
        .request(usphub_tests::controller::set_one(
            &format!("{client}BrokerPort"),
            &second.port().to_string(),
        ))
        .await;
    assert!(matches!(response_of(&msg), Resp::set_resp(_)), "{msg:?}");
    let mut c = mqtt_controller(&second).await;
    let get = GetBuilder::new()
        .with_params(vec![format!("{client}BrokerPort")])
        .build()
        .unwrap();
    let msg = c.request(get.clone()).await;
    let Resp::get_resp(g) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    assert_eq!(
        g.req_path_results[0].resolved_path_results[0].result_params["BrokerPort"],
        second.port().to_string()
    );
    c.close().await;
    ws.close().await;

    // The setting is kept: after a restart (same file, naming the first broker) the agent
    // is on the second one again.
    agent.restart().await;
    let mut c = mqtt_controller(&second).await;
    let msg = c.request(get).await;
    assert!(matches!(response_of(&msg), Resp::get_resp(_)), "{msg:?}");

    // Disabled: the client disconnects and says so.
    let mut ws = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let msg = ws
        .request(usphub_tests::controller::set_one(
            &format!("{client}Enable"),
            "false",
        ))
        .await;
    assert!(matches!(response_of(&msg), Resp::set_resp(_)), "{msg:?}");
    ws.eventually(&format!("{client}Status"), Some("Disabled"))
        .await;
    ws.close().await;
    c.close().await;
}

#[tokio::test]
async fn every_request_type_is_answered_over_mqtt() {
    use rusp_lib::usp_builder::{
        DeleteBuilder, GetInstancesBuilder, GetSupportedDMBuilder, GetSupportedProtocolBuilder,
        OperateBuilder,
    };
    let broker = Mosquitto::start();
    let agent = start(&broker).await;
    let bridge = FakeBridge::start(vec![plug(0x42)], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut c = mqtt_controller(&broker).await;

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
    assert!(p.agent_supported_protocol_versions.contains("1.4"));

    let sub = c
        .subscribe("mqtt-all", "ValueChange", "Device.DeviceInfo.UpTime", &[])
        .await;
    let msg = c
        .request(usphub_tests::controller::set_one(
            &format!("{sub}NotifRetry"),
            "true",
        ))
        .await;
    assert!(matches!(response_of(&msg), Resp::set_resp(_)), "{msg:?}");

    let msg = c
        .request(
            GetInstancesBuilder::new()
                .with_obj_paths(vec!["Device.LocalAgent.Subscription.".into()])
                .with_first_level_only(true)
                .build()
                .unwrap(),
        )
        .await;
    let Resp::get_instances_resp(i) = response_of(&msg) else {
        panic!("{msg:?}")
    };
    assert!(
        i.req_path_results[0]
            .curr_insts
            .iter()
            .any(|x| x.instantiated_obj_path == sub)
    );

    let msg = c
        .request(
            GetSupportedDMBuilder::new()
                .with_obj_paths(vec!["Device.LocalAgent.Subscription.".into()])
                .with_return_params(true)
                .build()
                .unwrap(),
        )
        .await;
    assert!(
        matches!(response_of(&msg), Resp::get_supported_dm_resp(_)),
        "{msg:?}"
    );

    // Operate on the bridged plug: Toggle() is asynchronous and accepted with a Request path.
    let rows = c.get_map("Device.ProxiedDevice.*.X_USPHUB_Model").await;
    let row = rows.keys().next().expect("the plug is mounted");
    let row = row.trim_end_matches("X_USPHUB_Model");
    let caps = c.get_map(&format!("{row}IoTCapability.*.Class")).await;
    let (cap, _) = caps
        .iter()
        .find(|(_, v)| v.as_str() == "BinaryControl")
        .expect("a switch");
    let cap = cap.trim_end_matches("Class");
    let msg = c
        .request(
            OperateBuilder::new(format!("{cap}BinaryControl.Toggle()"))
                .with_send_resp(true)
                .build()
                .unwrap(),
        )
        .await;
    assert!(
        matches!(response_of(&msg), Resp::operate_resp(_)),
        "{msg:?}"
    );

    let msg = c
        .request(
            DeleteBuilder::new()
                .with_allow_partial(false)
                .with_obj_paths(vec![sub.clone()])
                .build()
                .unwrap(),
        )
        .await;
    assert!(matches!(response_of(&msg), Resp::delete_resp(_)), "{msg:?}");

    // An error travels the same way: a Set of a read-only parameter.
    let msg = c
        .request(usphub_tests::controller::set_one(
            "Device.DeviceInfo.UpTime",
            "1",
        ))
        .await;
    assert!(
        usphub_tests::controller::error_of(&msg).is_some(),
        "{msg:?}"
    );
    c.close().await;
}
