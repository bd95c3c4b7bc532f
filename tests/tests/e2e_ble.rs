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
