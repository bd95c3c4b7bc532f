//! Subscriptions end to end: a Controller subscribes through Add, the agent's changes
//! arrive as Notify messages decoded by rusp-lib, Boot! is sent on restart.

use std::time::Duration;

use rusp_lib::usp::mod_Notify::OneOfnotification as N;
use rusp_lib::usp::mod_Response::OneOfresp_type as Resp;
use rusp_lib::usp_builder::DeleteBuilder;
use usphub_bridges::api::{BridgeEvent, DeviceId, Eui64, Value};
use usphub_tests::agent::{AGENT_EID, CONTROLLER, CONTROLLER_B, TestAgent};
use usphub_tests::controller::{RuspController, WAIT, response_of};
use usphub_tests::fake_bridge::{FakeBridge, plug};

#[tokio::test]
async fn a_device_report_reaches_the_subscribed_controller_only() {
    let agent = TestAgent::start().await;
    let bridge = FakeBridge::start(vec![plug(0x77)], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    let mut a = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let mut b = RuspController::websocket(&agent.ws_url(), CONTROLLER_B, AGENT_EID).await;
    a.subscribe(
        "power",
        "ValueChange",
        "Device.ProxiedDevice.*.IoTCapability.*.LevelSensor.Value",
        &[],
    )
    .await;
    // b is connected but has no subscription: it must hear nothing.
    let _ = b
        .request(
            rusp_lib::usp_builder::GetSupportedProtocolBuilder::new("1.4".into())
                .build()
                .unwrap(),
        )
        .await;

    bridge.events.emit(BridgeEvent::Value {
        id: DeviceId::Zigbee(Eui64(0x77)),
        capability: "ep1/0x0b04/0x050b".into(),
        value: Value::Decimal(usphub_bridges::api::Decimal::new(996, 1)),
        at: std::time::SystemTime::now(),
    });
    let (_, n) = a.next_notify(WAIT).await.expect("a Notify arrives");
    assert_eq!(n.subscription_id, "power");
    match n.notification {
        N::value_change(vc) => {
            assert_eq!(
                vc.param_path,
                "Device.ProxiedDevice.1.IoTCapability.2.LevelSensor.Value"
            );
            assert_eq!(vc.param_value, "99.6");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        b.next_notify(Duration::from_millis(300)).await.is_none(),
        "b did not subscribe"
    );
    a.close().await;
    b.close().await;
}

#[tokio::test]
async fn object_creation_and_deletion_are_notified() {
    let agent = TestAgent::start().await;
    let mut a = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    a.subscribe("created", "ObjectCreation", "Device.ProxiedDevice.", &[])
        .await;
    a.subscribe(
        "deleted",
        "ObjectDeletion",
        "Device.LocalAgent.Subscription.",
        &[],
    )
    .await;
    let bridge = FakeBridge::start(vec![], &[]);
    agent
        .agent()
        .proxy
        .attach(bridge.handle.clone())
        .await
        .unwrap();
    bridge.events.emit(BridgeEvent::DeviceJoined(plug(0x5)));
    let mut seen = Vec::new();
    while let Some((_, n)) = a.next_notify(WAIT).await {
        if let N::obj_creation(oc) = &n.notification {
            seen.push(oc.obj_path.clone());
            if oc.obj_path == "Device.ProxiedDevice.1." {
                assert_eq!(n.subscription_id, "created");
                break;
            }
        }
    }
    assert!(
        seen.contains(&"Device.ProxiedDevice.1.".to_string()),
        "{seen:?}"
    );

    let tmp = a
        .subscribe("tmp", "ValueChange", "Device.DeviceInfo.", &[])
        .await;
    let del = a
        .request(
            DeleteBuilder::new()
                .with_allow_partial(false)
                .with_obj_paths(vec![tmp.clone()])
                .build()
                .unwrap(),
        )
        .await;
    assert!(matches!(response_of(&del), Resp::delete_resp(_)));
    loop {
        let (_, n) = a.next_notify(WAIT).await.expect("ObjectDeletion arrives");
        if let N::obj_deletion(od) = n.notification {
            assert_eq!(od.obj_path, tmp);
            assert_eq!(n.subscription_id, "deleted");
            break;
        }
    }
    a.close().await;
}

#[tokio::test]
async fn boot_event_is_sent_on_restart_with_the_parameter_map() {
    let mut agent = TestAgent::start().await;
    let mut a = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    a.subscribe(
        "boot",
        "Event",
        "Device.Boot!",
        &[("Persistent", "true"), ("NotifRetry", "true")],
    )
    .await;
    a.close().await;
    agent.restart().await;
    // The Controller reconnects after the restart; with NotifRetry the Boot! reaches it.
    let mut a = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let (_, n) = a
        .next_notify(Duration::from_secs(30))
        .await
        .expect("Boot! arrives");
    assert_eq!(n.subscription_id, "boot");
    let N::event(e) = n.notification else {
        panic!("not an event")
    };
    assert_eq!(e.obj_path, "Device.");
    assert_eq!(e.event_name, "Boot!");
    assert_eq!(
        e.params.get("Cause").map(String::as_str),
        Some("LocalReboot")
    );
    assert!(e.params.contains_key("ParameterMap"));
    a.close().await;
}
