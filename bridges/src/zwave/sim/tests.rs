//! The simulator driven by the real host transport over loopback TCP.

use super::*;
use crate::zwave::cc::binary_switch;
use crate::zwave::serial::functions::{
    ApplicationCommand, FunctionId, HostRequest, InitData, TX_OPTIONS_DEFAULT, VersionInfo,
};
use crate::zwave::serial::port::{Inbound, PortConfig, SerialHandle, spawn, tcp_connector};

async fn start() -> (SimHandle, SerialHandle, mpsc::Receiver<Inbound>) {
    let sim = spawn_tcp(&Scenario::demo(), "127.0.0.1:0").await.unwrap();
    let (host, mut inbound) = spawn(tcp_connector(sim.addr().to_string()), PortConfig::default());
    assert_eq!(inbound.recv().await, Some(Inbound::Up));
    (sim, host, inbound)
}

async fn next_command(inbound: &mut mpsc::Receiver<Inbound>) -> ApplicationCommand {
    loop {
        match inbound.recv().await {
            Some(Inbound::Frame(f)) if f.function_id() == FunctionId::ApplicationCommandHandler => {
                return ApplicationCommand::parse(f.function_id(), &f.payload_bytes()).unwrap();
            }
            Some(_) => continue,
            None => panic!("inbound closed"),
        }
    }
}

#[tokio::test]
async fn host_reads_version_and_node_list_from_simulator() {
    let (_sim, host, _inbound) = start().await;
    let v = host
        .request(HostRequest::simple(FunctionId::GetVersion))
        .await
        .unwrap();
    assert_eq!(
        VersionInfo::parse(&v.response.unwrap()).unwrap().version,
        "Z-Wave 7.17"
    );
    let d = host
        .request(HostRequest::simple(FunctionId::GetSerialApiInitData))
        .await
        .unwrap();
    assert_eq!(
        InitData::parse(&d.response.unwrap()).unwrap().nodes,
        vec![1, 2, 3, 4, 5, 6, 9, 10, 11]
    );
}

#[tokio::test]
async fn send_data_reaches_node_and_its_report_comes_back() {
    let (sim, host, mut inbound) = start().await;
    let set = HostRequest::send_data(2, &[0x25, 0x01, 0xFF], TX_OPTIONS_DEFAULT, 1);
    let out = host.request(set).await.unwrap();
    assert_eq!(out.callback.as_deref(), Some(&[1u8, 0][..]));
    let get = HostRequest::send_data(2, &[0x25, 0x02], TX_OPTIONS_DEFAULT, 2);
    host.request(get).await.unwrap();
    let report = next_command(&mut inbound).await;
    assert_eq!(report.source, 2);
    assert_eq!(&report.command[..], &binary_switch::report(true)[..]);
    assert_eq!(sim.nodes().await[&2].end_points[0].switch, Some(true));
}

#[tokio::test]
async fn sleeping_node_does_not_ack_until_woken() {
    let (sim, host, mut inbound) = start().await;
    let get = HostRequest::send_data(3, &[0x80, 0x02], TX_OPTIONS_DEFAULT, 3);
    assert_eq!(
        host.request(get.clone()).await.unwrap().callback.as_deref(),
        Some(&[3u8, 1][..])
    );
    sim.wake_up(3).await;
    assert_eq!(&next_command(&mut inbound).await.command[..], &[0x84, 0x07]);
    assert_eq!(
        host.request(get).await.unwrap().callback.as_deref(),
        Some(&[3u8, 0][..])
    );
}

#[tokio::test]
async fn nak_can_and_ignored_frames_are_retransmitted_by_the_host() {
    let (sim, host, _inbound) = start().await;
    for fault in [
        Fault::NakNextFrame,
        Fault::CanNextFrame,
        Fault::IgnoreNextFrame,
    ] {
        sim.fault(fault).await;
        let v = host
            .request(HostRequest::simple(FunctionId::GetVersion))
            .await;
        assert!(v.is_ok(), "{fault:?}: {v:?}");
    }
}

#[tokio::test]
async fn corrupt_and_garbled_frames_from_stick_are_naked_and_resent() {
    let (sim, host, _inbound) = start().await;
    sim.fault(Fault::CorruptNextOutgoing).await;
    sim.fault(Fault::GarbageBeforeNextOutgoing).await;
    let v = host
        .request(HostRequest::simple(FunctionId::MemoryGetId))
        .await
        .unwrap();
    assert_eq!(v.response.unwrap().len(), 5);
}

#[tokio::test]
async fn unplug_reports_down_and_host_reconnects() {
    let (sim, host, mut inbound) = start().await;
    sim.disconnect().await;
    assert_eq!(inbound.recv().await, Some(Inbound::Down));
    assert_eq!(inbound.recv().await, Some(Inbound::Up));
    assert!(
        host.request(HostRequest::simple(FunctionId::GetVersion))
            .await
            .is_ok()
    );
}

#[tokio::test(start_paused = true)]
async fn live_scenario_wakes_sleeping_nodes_on_their_own() {
    let mut scenario = Scenario::demo();
    scenario.live = true;
    let sim = spawn_tcp(&scenario, "127.0.0.1:0").await.unwrap();
    let (_host, mut inbound) = spawn(tcp_connector(sim.addr().to_string()), PortConfig::default());
    assert_eq!(inbound.recv().await, Some(Inbound::Up));
    let wake = next_command(&mut inbound).await;
    assert_eq!((wake.source, &wake.command[..]), (3, &[0x84, 0x07][..]));
    // (A retransmission may repeat the notification before the report.)
    loop {
        let c = next_command(&mut inbound).await;
        if c.command.first() == Some(&0x31) {
            assert_eq!((c.source, &c.command[..3]), (3, &[0x31, 0x05, 0x01][..]));
            break;
        }
    }
}

#[tokio::test]
async fn serve_loads_a_scenario_file_and_rejects_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "home_id = 0x01020304\n[[node]]\nid = 2\nkind = \"dimmer\"\n",
    )
    .unwrap();
    let sim = serve("127.0.0.1:0", Some(&good)).await.unwrap();
    let (host, _inbound) = spawn(tcp_connector(sim.addr().to_string()), PortConfig::default());
    let m = host
        .request(HostRequest::simple(FunctionId::MemoryGetId))
        .await
        .unwrap();
    assert_eq!(&m.response.unwrap()[..4], &[1, 2, 3, 4]);
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[node]]\nid = 1\nkind = \"dimmer\"\n").unwrap();
    assert!(matches!(
        serve("127.0.0.1:0", Some(&bad)).await,
        Err(SimError::Scenario(_))
    ));
    assert!(matches!(
        serve("127.0.0.1:0", Some(&dir.path().join("missing.toml"))).await,
        Err(SimError::Io(_))
    ));
}
