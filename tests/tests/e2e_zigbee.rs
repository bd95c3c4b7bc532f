//! Zigbee end to end: the ZNP coordinator simulator behind the real ZNP backend and Zigbee
//! core, mounted by the agent, driven by a rusp-lib Controller: pairing as ObjectCreation,
//! Types and Units, a switch command reaching the simulated plug, a report as ValueChange,
//! a button press as an Event, removal as ObjectDeletion.

use std::collections::BTreeMap;
use std::time::Duration;

use rusp_lib::usp::mod_Notify::OneOfnotification as N;
use rusp_lib::usp::mod_Response::OneOfresp_type as Resp;
use rusp_lib::usp::mod_SetResp::mod_UpdatedObjectResult::mod_OperationStatus::OneOfoper_status as SetStatus;
use rusp_lib::usp_builder::OperateBuilder;
use usphub_bridges::zigbee::config::ZigbeeSection;
use usphub_bridges::zigbee::sim::Scenario;
use usphub_bridges::zigbee::zcl::ZclValue;
use usphub_bridges::zigbee::znp::sim::{ZnpSim, ZnpSimConfig};
use usphub_tests::agent::{AGENT_EID, CONTROLLER, TestAgent};
use usphub_tests::controller::{RuspController, response_of, set_one};

const LONG: Duration = Duration::from_secs(30);
const PLUG: u64 = 0x00124b0000e2e002;
const SENSOR: u64 = 0x00124b0000e2e001;
const REMOTE: u64 = 0x00124b0000e2e003;

const SCENARIO: &str = r#"
[[device]]
preset = "temperature_humidity"
ieee = "00124b0000e2e001"
model = "TH-E2E"
join = "on_permit"

[[device]]
preset = "plug"
ieee = "00124b0000e2e002"
model = "PLUG-E2E"
join = "on_permit"

[[device]]
preset = "remote"
ieee = "00124b0000e2e003"
model = "REMOTE-E2E"
join = "on_permit"
"#;

/// The row of the device with `model`, once it has `caps` capabilities mounted.
async fn row_with(c: &mut RuspController, model: &str, caps: usize) -> String {
    for _ in 0..400 {
        let m = c.get_map("Device.ProxiedDevice.*.X_USPHUB_Model").await;
        if let Some((k, _)) = m.iter().find(|(_, v)| v.as_str() == model) {
            let row = k.trim_end_matches("X_USPHUB_Model").to_string();
            let n = c
                .get_map(&format!("{row}IoTCapabilityNumberOfEntries"))
                .await;
            if n.values()
                .next()
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
                >= caps
            {
                return row;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{model} was never mounted with {caps} capabilities");
}

/// The class sub-object (`...IoTCapability.N.<Class>.`) whose Type is `ty`.
fn capability(m: &BTreeMap<String, String>, ty: &str) -> String {
    m.iter()
        .find(|(k, v)| k.ends_with(".Type") && k.contains(".IoTCapability.") && v.as_str() == ty)
        .map(|(k, _)| k.trim_end_matches("Type").to_string())
        .unwrap_or_else(|| panic!("no capability of Type {ty} in {m:#?}"))
}

/// The ZNP simulator with [`SCENARIO`] and a Zigbee bridge on it, set up as the agent sets
/// up a configured `[zigbee]` stick.
async fn start_zigbee(agent: &TestAgent, ieee: u64) -> (ZnpSim, usphub_bridges::api::BridgeHandle) {
    let sim = ZnpSim::start_tcp(
        ZnpSimConfig {
            ieee,
            scenario: Scenario::parse(SCENARIO).unwrap(),
            require_bootloader_skip: false,
        },
        0,
    )
    .await
    .unwrap();
    let section: ZigbeeSection = toml::from_str(&format!("port = {:?}", sim.url())).unwrap();
    let handle = usphub::radios::zigbee_bridge(&section, agent.dir.path())
        .await
        .unwrap();
    (sim, handle)
}

#[tokio::test]
async fn zigbee_devices_pair_report_switch_and_leave() {
    let agent = TestAgent::start().await;
    let (sim, handle) = start_zigbee(&agent, 0x00124b0000e2e000).await;
    agent.agent().proxy.attach(handle).await.unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    c.subscribe("joined", "ObjectCreation", "Device.ProxiedDevice.", &[])
        .await;

    // The bridge row shows the coordinator and its network (never the key).
    c.eventually("Device.X_USPHUB_Bridge.1.Address", Some("00124b0000e2e000"))
        .await;
    let bridge = c.get_map("Device.X_USPHUB_Bridge.1.").await;
    let channel: u32 = bridge["Device.X_USPHUB_Bridge.1.Channel"].parse().unwrap();
    assert!((11..=26).contains(&channel), "{bridge:?}");
    assert_eq!(bridge["Device.X_USPHUB_Bridge.1.PANId"].len(), 4);
    assert_eq!(bridge["Device.X_USPHUB_Bridge.1.ExtendedPANId"].len(), 16);
    assert!(!bridge.keys().any(|k| k.contains("Key")), "{bridge:?}");

    // Permit joining: both scripted devices join and are interviewed.
    c.permit_join("Device.X_USPHUB_Bridge.1.", 60).await;
    loop {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .expect("ObjectCreation for a joined device");
        if let N::obj_creation(oc) = n.notification
            && oc.obj_path.matches('.').count() == 3
        {
            break;
        }
    }
    let sensor = row_with(&mut c, "TH-E2E", 2).await;
    let plug = row_with(&mut c, "PLUG-E2E", 1).await;
    let s = c.get_map(&sensor).await;
    assert_eq!(s[&format!("{sensor}ProxyProtocol")], "ZigBee");
    let temp = capability(&s, "Temperature");
    assert_eq!(s[&format!("{temp}Unit")], "degC");
    let hum = capability(&s, "Humidity");
    assert_eq!(s[&format!("{hum}Unit")], "%");

    // A report: 23.45 °C arrives as a ValueChange.
    c.subscribe("temp", "ValueChange", &format!("{temp}Value"), &[])
        .await;
    assert!(sim.report(SENSOR, 1, 0x0402, 0x0000, ZclValue::Signed(2345)));
    loop {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .expect("ValueChange for the report");
        if let N::value_change(vc) = n.notification
            && vc.param_path == format!("{temp}Value")
        {
            assert_eq!(vc.param_value, "23.45");
            break;
        }
    }

    // Switch the plug on: answered once the plug confirmed; the simulated plug is on.
    let p = c.get_map(&plug).await;
    let switch = capability(&p, "Switch");
    let msg = c.request(set_one(&format!("{switch}Value"), "true")).await;
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
    let on = sim
        .attribute(PLUG, 1, 0x0006, 0x0000)
        .expect("the plug has an On/Off attribute");
    assert_eq!(on.value, ZclValue::Bool(true));

    // A button press on the remote arrives as the device's vendor event.
    let remote = row_with(&mut c, "REMOTE-E2E", 0).await;
    c.subscribe(
        "buttons",
        "Event",
        "Device.ProxiedDevice.*.X_USPHUB_Event!",
        &[],
    )
    .await;
    assert!(sim.press(REMOTE, 1, 0x0006, 0x02, Vec::new()));
    loop {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .expect("an Event for the button press");
        if let N::event(e) = n.notification {
            assert_eq!(e.obj_path, remote);
            assert_eq!(e.event_name, "X_USPHUB_Event!");
            assert!(!e.params["Name"].is_empty(), "{e:?}");
            break;
        }
    }

    // Remove the sensor: ObjectDeletion of its row.
    c.subscribe("left", "ObjectDeletion", "Device.ProxiedDevice.", &[])
        .await;
    let msg = c
        .request(
            OperateBuilder::new(format!("{sensor}X_USPHUB_Remove()"))
                .with_send_resp(true)
                .build()
                .unwrap(),
        )
        .await;
    assert!(
        matches!(response_of(&msg), Resp::operate_resp(_)),
        "{msg:?}"
    );
    loop {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .expect("ObjectDeletion for the removed device");
        if let N::obj_deletion(od) = n.notification
            && od.obj_path == sensor
        {
            break;
        }
    }
    c.close().await;
}

#[tokio::test]
async fn unplugging_the_coordinator_marks_devices_offline_until_it_returns() {
    let agent = TestAgent::start().await;
    let (sim, handle) = start_zigbee(&agent, 0x00124b0000e2e100).await;
    usphub::radios::permit_join(std::slice::from_ref(&handle), 60).await;
    agent.agent().proxy.attach(handle).await.unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let plug = row_with(&mut c, "PLUG-E2E", 1).await;
    c.subscribe(
        "online",
        "ValueChange",
        "Device.ProxiedDevice.*.Online",
        &[],
    )
    .await;

    sim.unplug();
    loop {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .expect("Online=false after the unplug");
        if let N::value_change(vc) = n.notification
            && vc.param_path == format!("{plug}Online")
            && vc.param_value == "false"
        {
            break;
        }
    }
    let bridge = c.get_map("Device.X_USPHUB_Bridge.1.Status").await;
    assert_eq!(bridge.values().next().map(String::as_str), Some("Down"));

    sim.replug();
    loop {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .expect("Online=true once the coordinator is back");
        if let N::value_change(vc) = n.notification
            && vc.param_path == format!("{plug}Online")
            && vc.param_value == "true"
        {
            break;
        }
    }
    // Nothing was re-paired: the same row, the same capabilities.
    assert_eq!(row_with(&mut c, "PLUG-E2E", 1).await, plug);
    c.close().await;
}
