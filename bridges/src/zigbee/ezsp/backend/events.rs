//! From NCP callbacks to [`BackendEvent`]s, and the task that forwards them and sets the NCP
//! up again after every reconnect.

use tokio::sync::{broadcast, mpsc};

use super::{EzspBackend, ezsp};
use crate::zigbee::backend::{
    ApsIncoming, BackendError, BackendEvent, NetworkSettings, PROFILE_ZDP,
};
use crate::zigbee::ezsp::commands::{
    Callback, IncomingMessageHandler, StackStatusHandler, TrustCenterJoinHandler, device_update,
};
use crate::zigbee::ezsp::protocol::{CallbackFrame, LinkState};
use crate::zigbee::ezsp::wire::Status;
use crate::zigbee::zdo::{Zdp, cluster as zdp_cluster};

impl EzspBackend {
    pub(super) fn convert(&self, f: &CallbackFrame) -> Vec<BackendEvent> {
        let v = self.v();
        fn parse<C: Callback>(f: &CallbackFrame, v: u8) -> Option<C> {
            if f.frame_id != C::ID {
                return None;
            }
            ezsp::decode(&f.params, v)
                .map_err(
                    |e| tracing::warn!(error = %e, what = C::NAME, "malformed callback dropped"),
                )
                .ok()
        }
        if let Some(m) = parse::<IncomingMessageHandler>(f, v) {
            let msg = ApsIncoming {
                src_nwk: m.sender,
                src_endpoint: m.aps_frame.source_endpoint,
                dst_endpoint: m.aps_frame.destination_endpoint,
                profile: m.aps_frame.profile_id,
                cluster: m.aps_frame.cluster_id,
                lqi: m.lqi,
                payload: m.message.0,
            };
            let mut out = Vec::new();
            if msg.profile == PROFILE_ZDP
                && msg.cluster == zdp_cluster::DEVICE_ANNCE
                && let Ok((_, Zdp::DeviceAnnce { nwk, ieee, .. })) =
                    Zdp::parse(msg.cluster, &msg.payload)
            {
                out.push(BackendEvent::DeviceJoined { nwk, ieee });
            }
            out.push(BackendEvent::Message(msg));
            return out;
        }
        if let Some(j) = parse::<TrustCenterJoinHandler>(f, v) {
            let (nwk, ieee) = (j.new_node_id, j.new_node_eui64);
            return vec![if j.status == device_update::DEVICE_LEFT {
                BackendEvent::DeviceLeft {
                    nwk,
                    ieee,
                    rejoin: false,
                }
            } else {
                BackendEvent::DeviceJoined { nwk, ieee }
            }];
        }
        if let Some(c) = parse::<ezsp::ChildJoinHandler>(f, v) {
            // A child leaving the table may only have moved to another parent: not a leave.
            if c.joining {
                return vec![BackendEvent::DeviceJoined {
                    nwk: c.child_id,
                    ieee: c.child_eui64,
                }];
            }
        }
        if let Some(s) = parse::<StackStatusHandler>(f, v) {
            let closed = if v >= 14 { 0x0C19 } else { 0x9D };
            if s.status.0 == closed {
                return vec![BackendEvent::PermitJoin { seconds: 0 }];
            }
            if s.status == Status::network_down(v) {
                tracing::warn!("NCP reports the network down");
            }
        }
        Vec::new()
    }

    /// Forwards callbacks as events and sets the NCP up again after every reconnect.
    pub(super) async fn pump(
        self,
        settings: NetworkSettings,
        mut cbs: broadcast::Receiver<CallbackFrame>,
        events: mpsc::Sender<BackendEvent>,
    ) {
        let mut state = self.ezsp.state();
        let mut generation = match &*state.borrow_and_update() {
            LinkState::Up { generation } => *generation,
            _ => 0,
        };
        loop {
            tokio::select! {
                () = events.closed() => return,
                cb = cbs.recv() => match cb {
                    Ok(f) => for ev in self.convert(&f) {
                        if events.send(ev).await.is_err() { return }
                    },
                    Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(n, "EZSP callbacks lost: subscriber lagged"),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                changed = state.changed() => {
                    if changed.is_err() { return; }
                    let now = state.borrow_and_update().clone();
                    let event = match now {
                        LinkState::Down { reason } => Some(BackendEvent::RadioDown(reason)),
                        LinkState::Up { generation: g } if g > generation => {
                            generation = g;
                            Some(match self.bring_up(&settings).await {
                                Ok(info) => BackendEvent::RadioUp(info),
                                Err(e @ BackendError::NetworkMismatch(_)) => BackendEvent::RadioDown(e.to_string()),
                                Err(e) => {
                                    // Set-up failed half way (a hung NCP answering ASH only):
                                    // reset it through a new connection and try again.
                                    self.ezsp.reconnect();
                                    BackendEvent::RadioDown(format!("resume failed: {e}"))
                                }
                            })
                        }
                        _ => None,
                    };
                    if let Some(ev) = event && events.send(ev).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}
