//! Bluetooth LE end to end: simulated BTHome and MiBeacon advertisers (encoded by the real
//! encoders) decoded by the real BLE bridge, mounted by the agent, driven by a rusp-lib
//! Controller: a joinable sensor pairs only while joining is permitted, readings arrive
//! as ValueChange, button presses as events.

use std::collections::BTreeMap;
use std::time::Duration;

use rusp_lib::usp::mod_Notify::OneOfnotification as N;
use usphub_bridges::ble;
use usphub_tests::agent::{AGENT_EID, CONTROLLER, TestAgent};
use usphub_tests::controller::RuspController;

const LONG: Duration = Duration::from_secs(30);

#[tokio::test]
async fn ble_sensors_report_and_a_new_one_pairs_only_when_permitted() {
    let agent = TestAgent::start().await;
    let scenario = ble::sim::SimScenario {
        interval: Duration::from_millis(50),
        ..Default::default()
    };
    let joinable = scenario.joinable.len();
    let configured = scenario.sensors.len();
    assert!(joinable > 0, "the scenario has a sensor to pair");
    let (handle, task) = ble::sim::start(&ble::BleSettings::default(), scenario);
    agent.agent().proxy.attach(handle).await.unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    c.subscribe(
        "readings",
        "ValueChange",
        "Device.ProxiedDevice.*.IoTCapability.*.LevelSensor.Value",
        &[],
    )
    .await;

    // Configured sensors are mounted and their readings arrive as ValueChange.
    let (_, n) = c.next_notify(LONG).await.expect("a reading");
    let N::value_change(vc) = n.notification else {
        panic!("{n:?}")
    };
    assert!(vc.param_path.starts_with("Device.ProxiedDevice."), "{vc:?}");
    let mut before = BTreeMap::new();
    for _ in 0..200 {
        before = c.get_map("Device.ProxiedDevice.*.ProxyProtocol").await;
        if before.len() == configured {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        before.len(),
        configured,
        "every configured sensor is mounted, nothing else"
    );
    assert!(before.values().all(|p| p == "X_USPHUB_BLE"));

    // A sensor that is not configured stays out until joining is permitted.
    c.subscribe("paired", "ObjectCreation", "Device.ProxiedDevice.", &[])
        .await;
    c.permit_join("Device.X_USPHUB_Bridge.1.", 30).await;
    loop {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .expect("the joinable sensor pairs");
        if let N::obj_creation(oc) = n.notification
            && oc.obj_path.matches('.').count() == 3
        {
            break;
        }
    }
    let mut after = BTreeMap::new();
    for _ in 0..200 {
        after = c.get_map("Device.ProxiedDevice.*.ProxyProtocol").await;
        if after.len() == configured + joinable {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(after.len(), configured + joinable);
    task.abort();
    c.close().await;
}

#[tokio::test]
async fn a_removed_ble_sensor_is_unmounted_and_stays_out_while_joining_is_closed() {
    use rusp_lib::usp::mod_Response::OneOfresp_type as Resp;
    use usphub_tests::controller::response_of;
    let agent = TestAgent::start().await;
    let scenario = ble::sim::SimScenario {
        interval: Duration::from_millis(50),
        ..Default::default()
    };
    let configured = scenario.sensors.len();
    let (handle, task) = ble::sim::start(&ble::BleSettings::default(), scenario);
    agent.agent().proxy.attach(handle).await.unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let mut rows = BTreeMap::new();
    for _ in 0..200 {
        rows = c.get_map("Device.ProxiedDevice.*.ProxyProtocol").await;
        if rows.len() == configured {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(rows.len(), configured);
    let row = rows
        .keys()
        .next()
        .unwrap()
        .trim_end_matches("ProxyProtocol")
        .to_string();
    c.subscribe("gone", "ObjectDeletion", "Device.ProxiedDevice.", &[])
        .await;

    let body = rusp_lib::usp_builder::OperateBuilder::new(format!("{row}X_USPHUB_Remove()"))
        .with_send_resp(true)
        .build()
        .unwrap();
    let msg = c.request(body).await;
    assert!(
        matches!(response_of(&msg), Resp::operate_resp(_)),
        "{msg:?}"
    );
    loop {
        let (_, n) = c.next_notify(LONG).await.expect("an ObjectDeletion");
        if let N::obj_deletion(od) = n.notification {
            assert_eq!(od.obj_path, row);
            break;
        }
    }
    // It keeps advertising (every 50 ms), but joining is closed: it is not mounted again.
    c.subscribe("back", "ObjectCreation", "Device.ProxiedDevice.", &[])
        .await;
    while let Some((_, n)) = c.next_notify(Duration::from_secs(1)).await {
        assert!(
            !matches!(n.notification, N::obj_creation(_)),
            "the removed sensor came back: {n:?}"
        );
    }
    let now = c.get_map("Device.ProxiedDevice.*.ProxyProtocol").await;
    assert_eq!(now.len(), configured - 1);
    task.abort();
    c.close().await;
}
