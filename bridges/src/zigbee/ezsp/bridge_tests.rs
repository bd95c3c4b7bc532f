//! The bridge on the EZSP backend where EZSP has something ZNP has not. Every scenario both
//! radios share (pairing, reports, writes, removal, restart, unplug, reset) runs on EZSP
//! through `both_radios!` in `zigbee/bridge_tests.rs` and its neighbours.

use std::time::Duration;

use super::ash::reset_code;
use crate::api::BridgeEvent;
use crate::zigbee::bridge_tests::{COORDINATOR, expect, interviewed, switch_plug};
use crate::zigbee::test_radio::{AnySim, Radio};

// EZSP only: an NCP that reboots by itself announces it with an ASH RSTACK; the ZNP backend
// has no handling of an unsolicited SYS_RESET_IND to test against.
#[tokio::test]
async fn ncp_reboot_marks_the_radio_offline_until_it_is_up_again() {
    let scenario = "[[device]]\npreset = \"plug\"\nieee = \"00124b0000000102\"\n";
    let sim = AnySim::start(Radio::Ezsp, COORDINATOR, scenario).await;
    let AnySim::Ezsp(ncp) = &sim else {
        unreachable!("started as EZSP")
    };
    let dir = tempfile::tempdir().unwrap();
    let (handle, _task) = sim.bridge(dir.path()).await;
    let mut events = handle.subscribe();
    handle.permit_join(Duration::from_secs(60)).await.unwrap();
    interviewed(&mut events).await;

    assert!(ncp.reboot(reset_code::POWER_ON));
    expect(&mut events, |e| {
        matches!(e, BridgeEvent::RadioState { online: false, .. }).then_some(())
    })
    .await;
    expect(&mut events, |e| {
        matches!(e, BridgeEvent::RadioState { online: true, .. }).then_some(())
    })
    .await;
    switch_plug(&sim, &handle, true).await;
    switch_plug(&sim, &handle, false).await;
}
