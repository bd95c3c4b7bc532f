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
