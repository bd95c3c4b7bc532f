//! Sleeping nodes: what happens at a Wake Up Notification (queued work, then No More
//! Information) and how missed wake-ups make a node `Online = false`.

use std::time::Duration;

use super::actor::{Actor, Internal, Pending};
use super::interview::interview;
use crate::zwave::cc::wake_up;

impl Actor {
    /// A sleeping node is awake: run what was queued for it, then let it sleep again.
    pub(super) fn on_wake_up(&mut self, node: u8) {
        let cfg = self.interview_config();
        let Some(s) = self.nodes.get_mut(&node) else {
            return;
        };
        s.awake = true;
        let queue: Vec<Pending> = s.queue.drain(..).collect();
        let rec = s.rec.clone();
        tracing::info!(node, queued = queue.len(), "zwave: node awake");
        let io = self.io.clone();
        let tx = self.internal.clone();
        tokio::spawn(async move {
            for op in queue {
                match op {
                    Pending::Interview => {
                        let rec = interview(&io, rec.clone(), cfg).await;
                        let _ = tx.send(Internal::Interviewed(rec)).await;
                    }
                    Pending::Write { ep, set, get } => {
                        let r = match io.send(node, ep, &set).await {
                            Ok(()) => match get {
                                Some(g) => io.get(node, ep, &g).await.map(|_| ()),
                                None => Ok(()),
                            },
                            Err(e) => Err(e),
                        };
                        if let Err(e) = r {
                            tracing::warn!(node, error = %e, "zwave: queued write failed");
                        }
                    }
                }
            }
            if let Err(e) = io.send(node, 0, &wake_up::no_more_information()).await {
                tracing::info!(node, error = %e, "zwave: No More Information not delivered");
            }
            let _ = tx.send(Internal::BatchDone(node)).await;
        });
    }

    pub(super) fn check_sleepers(&mut self) {
        let late: Vec<u8> = self
            .nodes
            .iter()
            .filter(|(_, s)| s.rec.is_sleeping() && s.online)
            .filter(|(_, s)| {
                let interval = u64::from(
                    s.rec
                        .wake_up_interval
                        .unwrap_or(self.cfg.wake_up_interval_s),
                );
                // Two missed wake-ups (plus slack) make a sleeping node offline.
                s.last_heard.elapsed()
                    > Duration::from_secs(interval * 2) + self.cfg.missed_wake_up_slack
            })
            .map(|(n, _)| *n)
            .collect();
        for n in late {
            tracing::info!(node = n, "zwave: sleeping node missed its wake-ups");
            self.set_online(n, false);
        }
    }
}
