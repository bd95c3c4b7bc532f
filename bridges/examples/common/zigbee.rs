//! What the Zigbee benches (ZNP and EZSP) share: the simulated household and pairing it.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use tokio::sync::broadcast;
use usphub_bridges::api::{BridgeEvent, BridgeHandle, InterviewState};
use usphub_bridges::zigbee::sim::Scenario;

/// `n` devices, temperature/humidity sensors and plugs in turn, IEEE `<prefix><index>`.
pub fn scenario(ieee_prefix: &str, n: usize) -> Scenario {
    let mut text = String::new();
    for i in 0..n {
        let preset = if i % 2 == 0 {
            "temperature_humidity"
        } else {
            "plug"
        };
        text.push_str(&format!(
            "[[device]]\npreset = \"{preset}\"\nieee = \"{ieee_prefix}{:08x}\"\n",
            0x1000 + i
        ));
    }
    Scenario::parse(&text).unwrap_or_default()
}

/// Opens joining and waits until `n` devices are interviewed; the time it took.
pub async fn pair_all(
    h: &BridgeHandle,
    events: &mut broadcast::Receiver<BridgeEvent>,
    n: usize,
) -> Duration {
    let t = Instant::now();
    let _ = h.permit_join(Duration::from_secs(250)).await;
    let mut done = HashSet::new();
    while done.len() < n {
        match events.recv().await {
            Ok(BridgeEvent::DeviceUpdated(d)) if d.interview == InterviewState::Complete => {
                done.insert(d.id);
            }
            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
    t.elapsed()
}
