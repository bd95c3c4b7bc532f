//! Inclusion (AddNodeToNetwork) and exclusion (RemoveNodeFromNetwork, RemoveFailedNode)
//! as tasks: each follows the stick's status callbacks (Host API spec, "Network
//! management": LearnReady → NodeFound → Adding/Removing → ProtocolDone → Done).
//!
//! Inclusion stays open for the permitted time and includes any number of nodes, re-arming
//! after each; stop (PermitJoin 0, or the time running out) sends the Stop mode.

use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::zwave::serial::functions::{
    FailedNodeStatus, FunctionId, HostRequest, NodeInfo, NodeStatus, NodeStatusCallback, mode,
};

use super::context::{NodeIo, Pattern, ZwError};

/// What an inclusion or exclusion task reports to the actor.
#[derive(Debug)]
pub enum Membership {
    /// A node joined; `info` is its NIF from the inclusion callbacks.
    Added(NodeInfo),
    /// A node left (excluded or removed as failed).
    Removed(u8),
    /// Inclusion closed.
    InclusionClosed,
}

fn status(function: FunctionId, p: &[u8]) -> Option<NodeStatusCallback> {
    NodeStatusCallback::parse(function, p).ok()
}

async fn arm(
    io: &NodeIo,
    function: FunctionId,
    m: u8,
) -> Result<(u8, mpsc::UnboundedReceiver<bytes::Bytes>), ZwError> {
    let cb = io.next_callback_id();
    let rx = io.wait_for(Pattern::Frame {
        function,
        first: Some(cb),
    });
    let out = io.request(HostRequest::node_mode(function, m, cb)).await?;
    match out.callback.as_deref().and_then(|p| status(function, p)) {
        Some(s) if s.status == NodeStatus::LearnReady => Ok((cb, rx)),
        _ => Err(ZwError::Malformed),
    }
}

async fn stop(io: &NodeIo, function: FunctionId) {
    if let Err(e) = io
        .request(HostRequest::node_mode(function, mode::STOP, 0))
        .await
    {
        tracing::warn!(error = %e, ?function, "zwave: stop failed");
    }
}

/// Opens inclusion for `duration`; `ready` is answered once the stick is listening.
pub async fn include(
    io: NodeIo,
    duration: Duration,
    mut cancel: oneshot::Receiver<()>,
    ready: oneshot::Sender<Result<(), ZwError>>,
    out: mpsc::Sender<Membership>,
) {
    let f = FunctionId::AddNodeToNetwork;
    let any = mode::ANY | mode::HIGH_POWER | mode::NETWORK_WIDE;
    let deadline = Instant::now() + duration;
    let (mut _cb, mut rx) = match arm(&io, f, any).await {
        Ok(x) => {
            let _ = ready.send(Ok(()));
            x
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            let _ = out.send(Membership::InclusionClosed).await;
            return;
        }
    };
    let mut found: Option<NodeInfo> = None;
    loop {
        let next = tokio::select! {
            _ = &mut cancel => None,
            r = tokio::time::timeout_at(deadline, rx.recv()) => r.ok().flatten(),
        };
        let Some(p) = next else {
            stop(&io, f).await;
            break;
        };
        let Some(s) = status(f, &p) else { continue };
        match s.status {
            NodeStatus::AddingEndNode | NodeStatus::AddingController => found = Some(s.info),
            NodeStatus::ProtocolDone => {
                let cb = io.next_callback_id();
                if let Err(e) = io.request(HostRequest::node_mode(f, mode::STOP, cb)).await {
                    tracing::warn!(error = %e, "zwave: inclusion stop after protocol done failed");
                }
                if let Some(info) = found.take() {
                    tracing::info!(node = info.node_id, "zwave: node included");
                    let _ = out.send(Membership::Added(info)).await;
                }
                if Instant::now() >= deadline {
                    break;
                }
                match arm(&io, f, any).await {
                    Ok((c, r)) => (_cb, rx) = (c, r),
                    Err(_) => break,
                }
            }
            NodeStatus::Failed => {
                tracing::warn!("zwave: inclusion failed");
                stop(&io, f).await;
                break;
            }
            _ => {}
        }
    }
    let _ = out.send(Membership::InclusionClosed).await;
}

/// Runs exclusion until `node` leaves (or `timeout`); true if it left.
pub async fn exclude(
    io: &NodeIo,
    node: u8,
    timeout: Duration,
    out: &mpsc::Sender<Membership>,
) -> Result<bool, ZwError> {
    let f = FunctionId::RemoveNodeFromNetwork;
    let (_cb, mut rx) = arm(io, f, mode::ANY | mode::HIGH_POWER).await?;
    let deadline = Instant::now() + timeout;
    let mut left = false;
    while let Ok(Some(p)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        let Some(s) = status(f, &p) else { continue };
        match s.status {
            NodeStatus::Done => {
                let gone = s.info.node_id;
                if gone != 0 {
                    let _ = out.send(Membership::Removed(gone)).await;
                }
                left = gone == node;
                break;
            }
            NodeStatus::Failed => break,
            _ => {}
        }
    }
    stop(io, f).await;
    Ok(left)
}

/// Removes a node the controller considers failed; true if removed.
pub async fn remove_failed(io: &NodeIo, node: u8) -> Result<bool, ZwError> {
    let cb = io.next_callback_id();
    let out = io
        .request(HostRequest::failed_node(
            FunctionId::RemoveFailedNode,
            node,
            cb,
        ))
        .await?;
    let status = out
        .callback
        .as_deref()
        .and_then(|p| p.get(1))
        .map(|b| FailedNodeStatus::from(*b));
    Ok(status == Some(FailedNodeStatus::NodeRemoved))
}

/// Replaces a failed node with a new device that joins under the same node id; true if
/// the replacement joined within `timeout`.
pub async fn replace_failed(io: &NodeIo, node: u8, timeout: Duration) -> Result<bool, ZwError> {
    let f = FunctionId::ReplaceFailedNode;
    let cb = io.next_callback_id();
    let mut rx = io.wait_for(Pattern::Frame {
        function: f,
        first: Some(cb),
    });
    let out = io.request(HostRequest::failed_node(f, node, cb)).await?;
    let status = |p: &[u8]| p.get(1).map(|b| FailedNodeStatus::from(*b));
    match out.callback.as_deref().and_then(status) {
        Some(FailedNodeStatus::Replace) => {}
        Some(FailedNodeStatus::ReplaceDone) => return Ok(true),
        _ => return Ok(false),
    }
    let deadline = Instant::now() + timeout;
    while let Ok(Some(p)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        match status(&p) {
            Some(FailedNodeStatus::ReplaceDone) => return Ok(true),
            Some(FailedNodeStatus::ReplaceFailed) => return Ok(false),
            _ => {}
        }
    }
    Ok(false)
}
