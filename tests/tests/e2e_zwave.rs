//! Z-Wave end to end: the Serial API simulator behind the real Z-Wave bridge, mounted by
//! the agent, driven by a rusp-lib Controller: read, switch (the simulated node receives
//! the command), reports as ValueChange, pairing as ObjectCreation, removal as
//! ObjectDeletion, and stable numbers across an agent restart.

use std::time::Duration;

use rusp_lib::usp::mod_Notify::OneOfnotification as N;
use rusp_lib::usp::mod_Response::OneOfresp_type as Resp;
use rusp_lib::usp::mod_SetResp::mod_UpdatedObjectResult::mod_OperationStatus::OneOfoper_status as SetStatus;
use usphub_bridges::zwave;
use usphub_tests::agent::{AGENT_EID, CONTROLLER, TestAgent};
use usphub_tests::controller::{RuspController, response_of, set_one};

const LONG: Duration = Duration::from_secs(30);

/// The ProxiedDevice row of Z-Wave node `node`, once it is mounted with capabilities.
async fn row_of(c: &mut RuspController, node: u8) -> String {
    // Up to 30 s: after an in-process restart the simulated stick takes a while to hand
    // its link to the new bridge (a real restart closes the port with the process).
    for _ in 0..600 {
        let m = c.get_map("Device.ProxiedDevice.*.X_USPHUB_Address").await;
        if let Some((k, _)) = m.iter().find(|(_, v)| v.ends_with(&format!(":{node}"))) {
            let row = k.trim_end_matches("X_USPHUB_Address").to_string();
            let caps = c
                .get_map(&format!("{row}IoTCapabilityNumberOfEntries"))
                .await;
            if caps.values().next().is_some_and(|n| n != "0") {
                return row;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("node {node} was never mounted");
}

#[tokio::test]
async fn zwave_devices_are_read_switched_reported_paired_and_removed() {
    let agent = TestAgent::start().await;
    let sim = zwave::sim::spawn_tcp(&zwave::sim::scenario::Scenario::demo(), "127.0.0.1:0")
        .await
        .unwrap();
    let mut cfg = zwave::bridge::ZWaveConfig::new(sim.url().parse().unwrap());
    cfg.registry = Some(agent.dir.path().join("zwave.redb"));
    let handle = zwave::bridge::spawn(cfg).unwrap();
    agent.agent().proxy.attach(handle).await.unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;

    // Node 2 is a binary switch with a meter.
    let row = row_of(&mut c, 2).await;
    let m = c.get_map(&row).await;
    assert_eq!(m[&format!("{row}ProxyProtocol")], "Z-Wave");
    let (switch_obj, _) = m
        .iter()
        .find(|(k, v)| k.ends_with(".Class") && v.as_str() == "BinaryControl")
        .map(|(k, v)| {
            (
                k.trim_end_matches("Class").to_string() + "BinaryControl.",
                v.clone(),
            )
        })
        .expect("a BinaryControl capability");
    c.subscribe("switch", "ValueChange", &format!("{switch_obj}Value"), &[])
        .await;

    // Switch it on: the answer comes after the node confirmed, and the node has it.
    let msg = c
        .request(set_one(&format!("{switch_obj}Value"), "true"))
        .await;
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
    assert_eq!(sim.nodes().await[&2].end_points[0].switch, Some(true));

    // The node reports "off" on its own (someone pressed its button).
    sim.report(2, 0, vec![0x25, 0x03, 0x00]).await;
    loop {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .expect("a ValueChange for the report");
        if let N::value_change(vc) = n.notification
            && vc.param_path == format!("{switch_obj}Value")
            && vc.param_value == "false"
        {
            break;
        }
    }

    // Pairing: the scenario's pending dimmer (node 7) joins once joining is permitted.
    c.subscribe("joined", "ObjectCreation", "Device.ProxiedDevice.", &[])
        .await;
    c.permit_join("Device.X_USPHUB_Bridge.1.", 60).await;
    // Other rows may be created meanwhile (a sleeping node finishing its interview), so
    // look for the new node's own ObjectCreation among them.
    let new_row = row_of(&mut c, 7).await;
    let mut created = Vec::new();
    while !created.contains(&new_row) {
        let (_, n) = c
            .next_notify(LONG)
            .await
            .unwrap_or_else(|| panic!("no ObjectCreation for {new_row}; saw {created:?}"));
        if let N::obj_creation(oc) = n.notification {
            created.push(oc.obj_path);
        }
    }
    c.close().await;
}

#[tokio::test]
async fn zwave_numbers_survive_an_agent_restart_without_re_pairing() {
    let mut agent = TestAgent::start().await;
    let sim = zwave::sim::spawn_tcp(&zwave::sim::scenario::Scenario::demo(), "127.0.0.1:0")
        .await
        .unwrap();
    let registry = agent.dir.path().join("zwave.redb");
    let bridge = |registry: std::path::PathBuf| {
        let mut cfg = zwave::bridge::ZWaveConfig::new(sim.url().parse().unwrap());
        cfg.registry = Some(registry);
        zwave::bridge::spawn(cfg)
    };
    let first = bridge(registry.clone()).unwrap();
    agent.agent().proxy.attach(first.clone()).await.unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let before = (row_of(&mut c, 2).await, row_of(&mut c, 4).await);
    c.close().await;
    agent.stop().await;
    // As in a process restart, the first bridge must be gone (and its registry closed):
    // its event stream closes when the actor ends.
    let mut ended = first.subscribe();
    drop(first);
    while !matches!(
        ended.recv().await,
        Err(tokio::sync::broadcast::error::RecvError::Closed)
    ) {}
    agent.restart().await;
    // The old actor's last tasks release the registry file a moment after its event
    // stream closed; a restarted process would simply find it free.
    let mut second = bridge(registry.clone());
    for _ in 0..100 {
        if second.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        second = bridge(registry.clone());
    }
    agent
        .agent()
        .proxy
        .attach(second.expect("the registry is free again"))
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let after = (row_of(&mut c, 2).await, row_of(&mut c, 4).await);
    assert_eq!(before, after);
    c.close().await;
}

/// Runs `command` on `row` with `args` and returns its OperationComplete (the Controller
/// must already subscribe to OperationComplete for it).
async fn operate_async(
    c: &mut RuspController,
    row: &str,
    command: &str,
    args: &[(&str, &str)],
) -> rusp_lib::usp::mod_Notify::mod_OperationComplete::OneOfoperation_resp {
    let body = rusp_lib::usp_builder::OperateBuilder::new(format!("{row}{command}"))
        .with_command_key(format!("key-{command}"))
        .with_input_args(
            args.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
        .with_send_resp(true)
        .build()
        .unwrap();
    let msg = c.request(body).await;
    assert!(
        matches!(response_of(&msg), Resp::operate_resp(_)),
        "{msg:?}"
    );
    loop {
        let (_, n) = c.next_notify(LONG).await.expect("an OperationComplete");
        if let N::oper_complete(oc) = n.notification
            && oc.command_key == format!("key-{command}")
        {
            return oc.operation_resp;
        }
    }
}

#[tokio::test]
async fn zwave_configuration_parameters_are_written_and_read_through_vendor_commands() {
    use rusp_lib::usp::mod_Notify::mod_OperationComplete::OneOfoperation_resp as Done;
    let agent = TestAgent::start().await;
    let sim = zwave::sim::spawn_tcp(&zwave::sim::scenario::Scenario::demo(), "127.0.0.1:0")
        .await
        .unwrap();
    let mut cfg = zwave::bridge::ZWaveConfig::new(sim.url().parse().unwrap());
    cfg.registry = Some(agent.dir.path().join("zwave.redb"));
    agent
        .agent()
        .proxy
        .attach(zwave::bridge::spawn(cfg).unwrap())
        .await
        .unwrap();
    let mut c = RuspController::websocket(&agent.ws_url(), CONTROLLER, AGENT_EID).await;
    let row = row_of(&mut c, 2).await;
    // The bridge row shows the stick's network, not its key.
    let home = format!("{:08X}", zwave::sim::scenario::Scenario::demo().home_id);
    c.eventually("Device.X_USPHUB_Bridge.1.HomeId", Some(&home))
        .await;
    let bridge = c.get_map("Device.X_USPHUB_Bridge.1.").await;
    assert_eq!(bridge["Device.X_USPHUB_Bridge.1.Address"], "1");
    assert!(bridge["Device.X_USPHUB_Bridge.1.Firmware"].starts_with("Z-Wave"));
    assert_ne!(bridge["Device.X_USPHUB_Bridge.1.DeviceCount"], "0");
    let commands = c.get_map(&format!("{row}X_USPHUB_Commands")).await;
    let commands = commands.values().next().unwrap();
    assert!(commands.split(',').any(|x| x == "ConfigSet"), "{commands}");
    assert!(!commands.split(',').any(|x| x == "Identify"), "{commands}");
    c.subscribe(
        "ops",
        "OperationComplete",
        &format!("{row}X_USPHUB_ConfigSet(),{row}X_USPHUB_ConfigGet(),{row}X_USPHUB_Identify()"),
        &[],
    )
    .await;

    let set = operate_async(
        &mut c,
        &row,
        "X_USPHUB_ConfigSet()",
        &[("Parameter", "3"), ("Value", "42")],
    )
    .await;
    assert!(matches!(set, Done::req_output_args(_)), "{set:?}");
    let get = operate_async(&mut c, &row, "X_USPHUB_ConfigGet()", &[("Parameter", "3")]).await;
    let Done::req_output_args(out) = get else {
        panic!("{get:?}")
    };
    assert_eq!(out.output_args["Value"], "42");

    // A command the node does not offer fails with a reason, not silence.
    let identify = operate_async(&mut c, &row, "X_USPHUB_Identify()", &[("Seconds", "5")]).await;
    let Done::cmd_failure(f) = identify else {
        panic!("{identify:?}")
    };
    assert!(
        f.err_msg.contains("does not support Identify"),
        "{}",
        f.err_msg
    );
    c.close().await;
}
