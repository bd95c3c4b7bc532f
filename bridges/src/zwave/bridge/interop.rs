//! Interop with zwave-js's mock Serial API controller (`mock-server` of the `zwave-js` npm
//! package, v15): the bridge's start-up, interview and a confirmed write against a host
//! implementation written by others.
//!
//! The mock server advertises itself over mDNS, so it must run in a network namespace with
//! only loopback, together with this test (FACTS.md); `run-zwave-js-interop.sh` beside this
//! file does that. The test is ignored by default and needs `ZWAVE_JS_MOCK=host:port`, with
//! the mock started with `interop-mock.json` (node 2: a binary switch).

use std::time::Duration;

use super::*;
use crate::api::{BridgeEvent, CapabilityId, DeviceId, InterviewState, Value};

#[tokio::test]
#[ignore = "needs the zwave-js mock server, see run-zwave-js-interop.sh"]
async fn bridge_starts_interviews_and_writes_against_zwave_js_mock_server() {
    let addr = std::env::var("ZWAVE_JS_MOCK")
        .expect("ZWAVE_JS_MOCK=host:port of the zwave-js mock server");
    let mut cfg = ZWaveConfig::new(format!("tcp://{addr}").parse().expect("valid address"));
    // The mock takes one TCP chunk per unit and crashes on gaps under ~5 ms (FACTS.md).
    cfg.port_config.min_write_gap = Duration::from_millis(20);
    let h = spawn(cfg).expect("bridge starts");
    let mut ev = h.subscribe();
    let detail = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Ok(BridgeEvent::RadioState {
                online: true,
                detail,
            }) = ev.recv().await
            {
                return detail;
            }
        }
    })
    .await
    .expect("start-up against the mock");
    assert!(detail.contains("Z-Wave 7.17.99"), "{detail}");
    assert!(detail.contains("7e570001"), "{detail}");

    let node = DeviceId::ZWave {
        home_id: 0x7e57_0001,
        node_id: 2,
    };
    let switch = CapabilityId::new("ep0/0x25/switch");
    let d = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let list = h.devices().await.expect("devices");
            if let Some(d) = list.into_iter().find(|d| {
                d.id == node
                    && d.interview != InterviewState::InProgress
                    && d.interview != InterviewState::Pending
            }) {
                return d;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("node 2 interviewed");
    assert_eq!(d.interview, InterviewState::Complete, "{d:?}");
    assert!(d.capability(&switch).is_some(), "{d:?}");
    h.write(node, switch.clone(), Value::Bool(true))
        .await
        .expect("write confirmed by the mock node");
    let d = h
        .devices()
        .await
        .expect("devices")
        .into_iter()
        .find(|d| d.id == node)
        .expect("node 2");
    assert_eq!(
        d.capability(&switch).and_then(|c| c.value.clone()),
        Some(Value::Bool(true))
    );
}
