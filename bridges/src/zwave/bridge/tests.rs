//! End-to-end tests: the bridge against the Serial API simulator over loopback TCP.

use std::time::Duration;

use tokio::sync::broadcast;

use super::*;
use crate::api::{
    BridgeError, BridgeEvent, CapabilityClass, CapabilityId, Decimal, DeviceDescriptor, DeviceId,
    InterviewState, IoTUnitType, Value,
};
use crate::zwave::cc::{binary_switch, central_scene};
use crate::zwave::sim::node::{NodeKind, VirtualNode};
use crate::zwave::sim::scenario::Scenario;
use crate::zwave::sim::{SimHandle, spawn_tcp};

const HOME: u32 = 0xC0FF_EE01;
const WAIT: Duration = Duration::from_secs(30);

fn dev(node: u16) -> DeviceId {
    DeviceId::ZWave {
        home_id: HOME,
        node_id: node,
    }
}

async fn start(
    registry: Option<PathBuf>,
) -> (SimHandle, BridgeHandle, broadcast::Receiver<BridgeEvent>) {
    let sim = spawn_tcp(&Scenario::demo(), "127.0.0.1:0").await.unwrap();
    let (h, ev) = bridge_for(&sim, registry);
    (sim, h, ev)
}

fn bridge_for(
    sim: &SimHandle,
    registry: Option<PathBuf>,
) -> (BridgeHandle, broadcast::Receiver<BridgeEvent>) {
    let mut cfg = ZWaveConfig::new(sim.url().parse().unwrap());
    cfg.registry = registry;
    let h = spawn(cfg).unwrap();
    let ev = h.subscribe();
    (h, ev)
}

async fn until<T>(
    rx: &mut broadcast::Receiver<BridgeEvent>,
    mut f: impl FnMut(&BridgeEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(WAIT, async {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    if let Some(t) = f(&e) {
                        return t;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => panic!("bridge stopped"),
            }
        }
    })
    .await
    .expect("expected event did not arrive")
}

async fn interviewed(rx: &mut broadcast::Receiver<BridgeEvent>, node: u16) -> DeviceDescriptor {
    until(rx, |e| match e {
        BridgeEvent::DeviceUpdated(d) | BridgeEvent::DeviceJoined(d)
            if d.id == dev(node) && d.interview == InterviewState::Complete =>
        {
            Some(d.clone())
        }
        _ => None,
    })
    .await
}

/// Polls the device list until `node` is interviewed (its event may have passed already).
async fn complete(h: &BridgeHandle, node: u16) {
    tokio::time::timeout(WAIT, async {
        loop {
            let list = h.devices().await.unwrap();
            if list
                .iter()
                .any(|d| d.id == dev(node) && d.interview == InterviewState::Complete)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("node never completed its interview");
}

fn cap(id: &str) -> CapabilityId {
    CapabilityId::new(id)
}

#[tokio::test]
async fn startup_interviews_listening_nodes_and_maps_their_capabilities() {
    let (_sim, h, mut ev) = start(None).await;
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    let mut seen = std::collections::BTreeMap::new();
    while seen.len() < 3 {
        let d = until(&mut ev, |e| match e {
            BridgeEvent::DeviceUpdated(d) if d.interview == InterviewState::Complete => {
                Some(d.clone())
            }
            _ => None,
        })
        .await;
        if [dev(2), dev(4), dev(5)].contains(&d.id) {
            seen.insert(d.id, d);
        }
    }
    let plug = &seen[&dev(2)];
    assert_eq!(plug.manufacturer, "0x7fff");
    assert_eq!(plug.firmware, "1.2");
    let switch = plug.capability(&cap("ep0/0x25/switch")).unwrap();
    assert_eq!(switch.class(), CapabilityClass::BinaryControl);
    assert_eq!(switch.value, Some(Value::Bool(false)));
    let energy = plug.capability(&cap("ep0/0x32/electric_kWh")).unwrap();
    assert_eq!(energy.kind.unit(), Some(IoTUnitType::KilowattHour));
    assert_eq!(energy.value, Some(Value::Decimal(Decimal::new(1234, 2))));
    assert!(plug.capability(&cap("ep0/0x32/electric_W")).is_some());
    let dimmer = &seen[&dev(4)];
    assert_eq!(
        dimmer.capability(&cap("ep0/0x26/level")).unwrap().class(),
        CapabilityClass::LevelControl
    );
    let double = &seen[&dev(5)];
    assert_eq!(double.nodes.len(), 2);
    assert_eq!(double.nodes[1].key, "ep2");
    assert_eq!(
        double.nodes[1].capabilities[0].id.as_str(),
        "ep2/0x25/switch"
    );

    let all = h.devices().await.unwrap();
    let sensor = all.iter().find(|d| d.id == dev(3)).unwrap();
    assert_ne!(
        sensor.interview,
        InterviewState::Complete,
        "sleeping node waits for wake-up"
    );
}

#[tokio::test]
async fn write_is_confirmed_by_the_device_report() {
    let (sim, h, mut ev) = start(None).await;
    interviewed(&mut ev, 2).await;
    h.write(dev(2), cap("ep0/0x25/switch"), Value::Bool(true))
        .await
        .unwrap();
    assert_eq!(sim.nodes().await[&2].end_points[0].switch, Some(true));
    let value = until(&mut ev, |e| match e {
        BridgeEvent::Value {
            id,
            capability,
            value,
            ..
        } if *id == dev(2) && capability.as_str() == "ep0/0x25/switch" => Some(value.clone()),
        _ => None,
    })
    .await;
    assert_eq!(value, Value::Bool(true));
    // End point of the double switch, through Multi Channel encapsulation.
    complete(&h, 5).await;
    h.write(dev(5), cap("ep2/0x25/switch"), Value::Bool(true))
        .await
        .unwrap();
    let nodes = sim.nodes().await;
    assert_eq!(nodes[&5].end_points[2].switch, Some(true));
    assert_eq!(nodes[&5].end_points[1].switch, Some(false));
    // A value that does not fit is refused before anything is sent.
    assert!(matches!(
        h.write(
            dev(2),
            cap("ep0/0x25/switch"),
            Value::Decimal(Decimal::from_int(3))
        )
        .await,
        Err(BridgeError::InvalidValue(_))
    ));
}

#[tokio::test]
async fn write_to_dead_node_times_out_and_marks_it_offline() {
    let (sim, h, mut ev) = start(None).await;
    interviewed(&mut ev, 4).await;
    sim.set_dead(4, true).await;
    let r = h
        .write(
            dev(4),
            cap("ep0/0x26/level"),
            Value::Decimal(Decimal::from_int(50)),
        )
        .await;
    assert_eq!(r, Err(BridgeError::Timeout));
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::Online { id, online: false } if *id == dev(4)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn unsolicited_reports_and_scenes_become_values_and_events() {
    let (sim, _h, mut ev) = start(None).await;
    interviewed(&mut ev, 2).await;
    sim.report(2, 0, binary_switch::report(true)).await;
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::Value { id, value: Value::Bool(true), .. } if *id == dev(2))
            .then_some(())
    })
    .await;
    sim.report(6, 0, central_scene::notification(1, 0, 2)).await;
    let args = until(&mut ev, |e| match e {
        BridgeEvent::Event { id, name, args, .. } if *id == dev(6) && name == "CentralScene" => {
            Some(args.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(args["Scene"], "2");
    assert_eq!(args["Action"], "KeyPressed");
}

#[tokio::test]
async fn bad_input_is_survived_and_other_nodes_are_unaffected() {
    let (sim, _h, mut ev) = start(None).await;
    interviewed(&mut ev, 2).await;
    sim.report(99, 0, binary_switch::report(true)).await;
    sim.report(2, 0, vec![0x31, 0x05, 0x01]).await;
    sim.report(2, 0, vec![0xF3, 0x01]).await;
    sim.fault(crate::zwave::sim::Fault::GarbageBeforeNextOutgoing)
        .await;
    sim.report(2, 0, binary_switch::report(true)).await;
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::Value { id, value: Value::Bool(true), .. } if *id == dev(2))
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn sleeping_node_is_interviewed_at_wake_up_and_queued_write_is_sent() {
    let (sim, h, mut ev) = start(None).await;
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    sim.wake_up(3).await;
    let d = interviewed(&mut ev, 3).await;
    let temp = d.capability(&cap("ep0/0x31/temperature")).unwrap();
    assert_eq!(temp.kind.unit(), Some(IoTUnitType::DegC));
    assert_eq!(temp.value, Some(Value::Decimal(Decimal::new(215, 1))));
    assert_eq!(
        d.capability(&cap("ep0/0x80/battery")).unwrap().value,
        Some(Value::Decimal(Decimal::from_int(90)))
    );
    assert!(d.capability(&cap("ep0/0x71/motion")).is_some());
    // The batch ends with No More Information: the node sleeps again.
    tokio::time::timeout(WAIT, async {
        while sim.nodes().await[&3].awake {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    let nodes = sim.nodes().await;
    assert_eq!(nodes[&3].wake_up, (3600, 1));
    assert_eq!(nodes[&3].associations.get(&1), Some(&vec![1]));
    // A refresh while asleep is queued and sent at the next wake-up.
    h.refresh(dev(3), false).await.unwrap();
    sim.set_sensor(3, 0x01, 230).await;
    until(&mut ev, |e| matches!(e, BridgeEvent::Value { id, value: Value::Decimal(d), .. } if *id == dev(3) && *d == Decimal::from_int(23)).then_some(())).await;
}

#[tokio::test]
async fn inclusion_adds_and_interviews_a_node_and_exclusion_removes_one() {
    let (sim, h, mut ev) = start(None).await;
    interviewed(&mut ev, 4).await;
    h.permit_join(Duration::from_secs(30)).await.unwrap();
    let joined = until(&mut ev, |e| match e {
        BridgeEvent::DeviceJoined(d) if d.id == dev(7) => Some(d.clone()),
        _ => None,
    })
    .await;
    assert_ne!(joined.interview, InterviewState::Complete);
    let d = interviewed(&mut ev, 7).await;
    assert!(d.capability(&cap("ep0/0x26/level")).is_some());
    sim.add_pending(VirtualNode::new(8, NodeKind::BinarySwitch))
        .await;
    interviewed(&mut ev, 8).await;
    h.permit_join(Duration::ZERO).await.unwrap();
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::PermitJoin { open: false, .. }).then_some(())
    })
    .await;

    sim.exclude_next(4).await;
    h.remove(dev(4), false).await.unwrap();
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::DeviceLeft(id) if *id == dev(4)).then_some(())
    })
    .await;
    assert!(!sim.nodes().await.contains_key(&4));
    assert!(h.devices().await.unwrap().iter().all(|d| d.id != dev(4)));

    sim.set_dead(8, true).await;
    h.remove(dev(8), true).await.unwrap();
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::DeviceLeft(id) if *id == dev(8)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn unplugged_stick_makes_devices_offline_and_they_resume() {
    let (sim, h, mut ev) = start(None).await;
    interviewed(&mut ev, 2).await;
    sim.disconnect().await;
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::Online { id, online: false } if *id == dev(2)).then_some(())
    })
    .await;
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::RadioState { online: false, .. }).then_some(())
    })
    .await;
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::Online { id, online: true } if *id == dev(2)).then_some(())
    })
    .await;
    h.write(dev(2), cap("ep0/0x25/switch"), Value::Bool(true))
        .await
        .unwrap();
}

#[tokio::test]
async fn restart_with_registry_mounts_nodes_without_reinterview() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zwave.redb");
    let sim = spawn_tcp(&Scenario::demo(), "127.0.0.1:0").await.unwrap();
    {
        let (_h, mut ev) = bridge_for(&sim, Some(path.clone()));
        interviewed(&mut ev, 2).await;
    }
    sim.disconnect().await;
    let before = sim.nodes().await[&2].received.len();
    // The old bridge releases the database once its tasks (and registry writes) ended.
    let mut cfg = ZWaveConfig::new(sim.url().parse().unwrap());
    cfg.registry = Some(path);
    let h = tokio::time::timeout(WAIT, async {
        loop {
            match spawn(cfg.clone()) {
                Ok(h) => return h,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .unwrap();
    let mut ev = h.subscribe();
    let d = until(&mut ev, |e| match e {
        BridgeEvent::DeviceJoined(d) if d.id == dev(2) => Some(d.clone()),
        _ => None,
    })
    .await;
    assert_eq!(d.interview, InterviewState::Complete);
    assert!(d.capability(&cap("ep0/0x32/electric_kWh")).is_some());
    h.write(dev(2), cap("ep0/0x25/switch"), Value::Bool(true))
        .await
        .unwrap();
    // Only the write's Set and Get reached the node: no interview frames.
    assert_eq!(sim.nodes().await[&2].received.len(), before + 2);
}

#[tokio::test]
async fn thermostat_maps_mode_setpoint_state_and_supervised_writes_confirm() {
    let (sim, h, mut ev) = start(None).await;
    let d = interviewed(&mut ev, 9).await;
    let mode = d.capability(&cap("ep0/0x40/mode")).unwrap();
    assert_eq!(mode.class(), CapabilityClass::EnumControl);
    assert_eq!(mode.value, Some(Value::String("Heat".into())));
    let heating = d.capability(&cap("ep0/0x43/heating")).unwrap();
    assert_eq!(heating.class(), CapabilityClass::LevelControl);
    assert_eq!(heating.kind.unit(), Some(IoTUnitType::DegC));
    assert_eq!(heating.value, Some(Value::Decimal(Decimal::from_int(20))));
    assert!(d.capability(&cap("ep0/0x43/cooling")).is_some());
    let state = d.capability(&cap("ep0/0x42/state")).unwrap();
    assert_eq!(state.class(), CapabilityClass::EnumSensor);
    assert_eq!(state.value, Some(Value::String("Idle".into())));

    // Supervision Report Success confirms the write; the value follows.
    h.write(
        dev(9),
        cap("ep0/0x43/heating"),
        Value::Decimal(Decimal::new(225, 1)),
    )
    .await
    .unwrap();
    assert_eq!(sim.nodes().await[&9].end_points[0].setpoints[&1], 225);
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::Value { id, capability, value: Value::Decimal(v), .. }
        if *id == dev(9) && capability.as_str() == "ep0/0x43/heating" && *v == Decimal::new(225, 1))
        .then_some(())
    })
    .await;
    h.write(dev(9), cap("ep0/0x40/mode"), Value::String("Cool".into()))
        .await
        .unwrap();
    assert_eq!(sim.nodes().await[&9].end_points[0].mode, Some(2));
    assert!(matches!(
        h.write(dev(9), cap("ep0/0x40/mode"), Value::String("Warp".into()))
            .await,
        Err(BridgeError::InvalidValue(_))
    ));
}

#[tokio::test]
async fn door_lock_reports_and_unlocks() {
    let (sim, h, mut ev) = start(None).await;
    let d = interviewed(&mut ev, 10).await;
    assert_eq!(
        d.capability(&cap("ep0/0x62/locked")).unwrap().value,
        Some(Value::Bool(true))
    );
    assert_eq!(
        d.capability(&cap("ep0/0x62/door")).unwrap().value,
        Some(Value::Bool(false))
    );
    h.write(dev(10), cap("ep0/0x62/locked"), Value::Bool(false))
        .await
        .unwrap();
    assert_eq!(
        sim.nodes().await[&10].end_points[0].lock,
        Some((false, false))
    );
}

#[tokio::test]
async fn secure_lock_gets_s0_key_at_inclusion_and_is_controlled_encrypted() {
    let scenario =
        Scenario::from_toml("[[node]]\nid = 12\nkind = \"secure_door_lock\"\nincluded = false\n")
            .unwrap();
    let sim = spawn_tcp(&scenario, "127.0.0.1:0").await.unwrap();
    let key = [0x11u8; 16];
    let mut cfg = ZWaveConfig::new(sim.url().parse().unwrap());
    cfg.network_key = Some(key);
    let h = spawn(cfg).unwrap();
    let mut ev = h.subscribe();
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    h.permit_join(Duration::from_secs(30)).await.unwrap();
    let d = interviewed(&mut ev, 12).await;
    assert_eq!(
        sim.nodes().await[&12].s0.as_ref().unwrap().network_key,
        Some(key)
    );
    let locked = d.capability(&cap("ep0/0x62/locked")).unwrap();
    assert_eq!(locked.value, Some(Value::Bool(true)));
    assert!(d.capability(&cap("ep0/0x80/battery")).is_some());
    h.write(dev(12), cap("ep0/0x62/locked"), Value::Bool(false))
        .await
        .unwrap();
    let nodes = sim.nodes().await;
    assert_eq!(nodes[&12].end_points[0].lock, Some((false, false)));
    // Every Door Lock frame the lock received was encrypted.
    assert!(nodes[&12].received.iter().all(|f| f.first() != Some(&0x62)));
}

#[tokio::test]
async fn failed_node_is_replaced_by_a_new_device_and_config_commands_work() {
    let (sim, h, mut ev) = start(None).await;
    interviewed(&mut ev, 2).await;
    let mut args = crate::api::Args::new();
    args.insert("Parameter".into(), "1".into());
    args.insert("Value".into(), "-300".into());
    let out = h
        .invoke(dev(2), None, "ConfigSet", args.clone())
        .await
        .unwrap();
    assert_eq!(out["Value"], "-300");
    args.remove("Value");
    assert_eq!(
        h.invoke(dev(2), None, "ConfigGet", args).await.unwrap()["Value"],
        "-300"
    );
    // A live node cannot be replaced.
    assert!(matches!(
        h.invoke(dev(4), None, "ReplaceFailedNode", Default::default())
            .await,
        Err(BridgeError::Refused(_))
    ));
    complete(&h, 4).await;
    sim.set_dead(4, true).await;
    h.invoke(dev(4), None, "ReplaceFailedNode", Default::default())
        .await
        .unwrap();
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::DeviceLeft(id) if *id == dev(4)).then_some(())
    })
    .await;
    // The pending dimmer (node 7 in the scenario) took node id 4.
    let d = interviewed(&mut ev, 4).await;
    assert!(d.capability(&cap("ep0/0x26/level")).is_some());
    assert!(!sim.nodes().await[&4].dead);
}

#[tokio::test]
async fn dead_node_gets_partial_interview_and_other_nodes_are_unaffected() {
    let sim = spawn_tcp(&Scenario::demo(), "127.0.0.1:0").await.unwrap();
    sim.set_dead(6, true).await;
    let (h, mut ev) = bridge_for(&sim, None);
    let d = until(&mut ev, |e| match e {
        BridgeEvent::DeviceUpdated(d)
            if d.id == dev(6) && d.interview == InterviewState::Partial =>
        {
            Some(d.clone())
        }
        _ => None,
    })
    .await;
    assert_eq!(
        d.events.len(),
        1,
        "only the generic BasicSet event for a silent node"
    );
    for n in [2, 4, 5, 9, 10] {
        complete(&h, n).await;
    }
}

#[tokio::test]
async fn included_s0_lock_is_interviewed_through_security_with_the_configured_key() {
    let sim = spawn_tcp(&Scenario::demo(), "127.0.0.1:0").await.unwrap();
    let mut cfg = ZWaveConfig::new(sim.url().parse().unwrap());
    cfg.network_key = Some(crate::zwave::sim::scenario::DEMO_NETWORK_KEY);
    let h = spawn(cfg).unwrap();
    complete(&h, 11).await;
    let d = h
        .devices()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == dev(11))
        .unwrap();
    assert_eq!(
        d.capability(&cap("ep0/0x62/locked")).unwrap().value,
        Some(Value::Bool(true))
    );
    h.write(dev(11), cap("ep0/0x62/locked"), Value::Bool(false))
        .await
        .unwrap();
    assert_eq!(
        sim.nodes().await[&11].end_points[0].lock,
        Some((false, false))
    );
}

#[tokio::test]
async fn s0_lock_without_key_is_mounted_without_its_secure_functions() {
    let (_sim, h, _ev) = start(None).await;
    complete(&h, 11).await;
    let d = h
        .devices()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == dev(11))
        .unwrap();
    assert!(d.capability(&cap("ep0/0x62/locked")).is_none());
}

#[tokio::test]
async fn sleeping_node_goes_offline_after_missed_wake_ups_and_back_online_when_it_wakes() {
    let sim = spawn_tcp(&Scenario::demo(), "127.0.0.1:0").await.unwrap();
    let mut cfg = ZWaveConfig::new(sim.url().parse().unwrap());
    cfg.wake_up_interval_s = 1;
    cfg.missed_wake_up_slack = Duration::ZERO;
    cfg.online_check = Duration::from_millis(100);
    let h = spawn(cfg).unwrap();
    let mut ev = h.subscribe();
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    sim.wake_up(3).await;
    interviewed(&mut ev, 3).await;
    assert_eq!(sim.nodes().await[&3].wake_up.0, 1);
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::Online { id, online: false } if *id == dev(3)).then_some(())
    })
    .await;
    sim.wake_up(3).await;
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::Online { id, online: true } if *id == dev(3)).then_some(())
    })
    .await;
}

#[tokio::test]
async fn toggle_and_step_commands_are_confirmed_writes() {
    let (sim, h, mut ev) = start(None).await;
    interviewed(&mut ev, 4).await;
    let level = cap("ep0/0x26/level");
    h.invoke(dev(4), Some(level.clone()), "StepUp", Default::default())
        .await
        .unwrap();
    h.invoke(dev(4), Some(level.clone()), "StepUp", Default::default())
        .await
        .unwrap();
    assert_eq!(sim.nodes().await[&4].end_points[0].level, Some(20));
    h.invoke(dev(4), Some(level.clone()), "StepDown", Default::default())
        .await
        .unwrap();
    assert_eq!(sim.nodes().await[&4].end_points[0].level, Some(10));
    complete(&h, 2).await;
    h.invoke(
        dev(2),
        Some(cap("ep0/0x25/switch")),
        "Toggle",
        Default::default(),
    )
    .await
    .unwrap();
    assert_eq!(sim.nodes().await[&2].end_points[0].switch, Some(true));
    assert!(matches!(
        h.invoke(
            dev(2),
            Some(cap("ep0/0x25/switch")),
            "StepUp",
            Default::default()
        )
        .await,
        Err(BridgeError::Unsupported(_))
    ));
}

#[tokio::test]
async fn end_point_report_updates_that_end_points_capability() {
    let (sim, h, mut ev) = start(None).await;
    complete(&h, 5).await;
    sim.report(5, 1, binary_switch::report(true)).await;
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::Value { id, capability, value: Value::Bool(true), .. }
            if *id == dev(5) && capability.as_str() == "ep1/0x25/switch")
        .then_some(())
    })
    .await;
    let d = h
        .devices()
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.id == dev(5))
        .unwrap();
    assert_eq!(d.nodes[0].capabilities[0].value, Some(Value::Bool(true)));
    assert_eq!(d.nodes[1].capabilities[0].value, Some(Value::Bool(false)));
}

#[tokio::test]
async fn failed_start_up_is_retried_until_the_stick_answers() {
    let sim = spawn_tcp(&Scenario::demo(), "127.0.0.1:0").await.unwrap();
    for _ in 0..3 {
        sim.fault(crate::zwave::sim::Fault::IgnoreNextFrame).await;
    }
    let mut cfg = ZWaveConfig::new(sim.url().parse().unwrap());
    cfg.port_config.timeouts.ack = Duration::from_millis(50);
    cfg.startup_retry = Duration::from_millis(50);
    let h = spawn(cfg).unwrap();
    let mut ev = h.subscribe();
    let detail = until(&mut ev, |e| match e {
        BridgeEvent::RadioState {
            online: false,
            detail,
        } => Some(detail.clone()),
        _ => None,
    })
    .await;
    assert!(detail.contains("start-up failed"), "{detail}");
    until(&mut ev, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    complete(&h, 2).await;
}
