//! The simulated controller's Serial API functions: what a 700-series static controller
//! answers to each host request (Host API spec, "Serial API functions"), with inclusion,
//! exclusion and failed-node handling over the scenario's virtual nodes.
//!
//! Pure: [`Controller::on_request`] takes a request and returns the frames the stick sends
//! back (response, callbacks, node answers) in order; the link layer sends them.

use std::collections::{BTreeMap, VecDeque};

use bytes::Bytes;

use super::node::VirtualNode;
use crate::zwave::serial::frame::{Frame, request, response};
use crate::zwave::serial::functions::{
    ApplicationCommand, FailedNodeStatus, FunctionId, InitData, MemoryId, NodeInfo, NodeStatus,
    NodeStatusCallback, SerialApiCapabilities, TxStatus, UpdateType, VersionInfo, bitmask_from,
    mode,
};

/// The controller's own node id.
pub const OWN_NODE_ID: u8 = 1;

/// Functions the simulator implements (advertised by GetSerialApiCapabilities).
pub const SUPPORTED: &[FunctionId] = &[
    FunctionId::GetSerialApiInitData,
    FunctionId::GetControllerCapabilities,
    FunctionId::GetSerialApiCapabilities,
    FunctionId::SoftReset,
    FunctionId::SerialApiSetup,
    FunctionId::SendData,
    FunctionId::GetVersion,
    FunctionId::MemoryGetId,
    FunctionId::GetNodeProtocolInfo,
    FunctionId::AddNodeToNetwork,
    FunctionId::RemoveNodeFromNetwork,
    FunctionId::RequestNodeInfo,
    FunctionId::RemoveFailedNode,
    FunctionId::IsFailedNode,
    FunctionId::ReplaceFailedNode,
];

/// The simulated controller.
#[derive(Debug, Default)]
pub struct Controller {
    /// Home id.
    pub home_id: u32,
    /// Nodes in the network.
    pub nodes: BTreeMap<u8, VirtualNode>,
    /// Nodes that join at the next inclusion, in order.
    pub pending: VecDeque<VirtualNode>,
    /// A node whose button was pressed for exclusion.
    pub exclude_next: Option<u8>,
    /// Inclusion callback id while inclusion runs.
    inclusion: Option<u8>,
    /// Node added in the current inclusion.
    added: Option<u8>,
}

fn out(f: Result<Frame<Bytes>, crate::zwave::serial::frame::FrameError>) -> Vec<Frame<Bytes>> {
    match f {
        Ok(f) => vec![f],
        Err(e) => {
            tracing::warn!(error = %e, "zwave sim: frame does not fit");
            Vec::new()
        }
    }
}

impl Controller {
    /// A controller with these nodes.
    pub fn new(home_id: u32, nodes: Vec<VirtualNode>, pending: Vec<VirtualNode>) -> Self {
        Self {
            home_id,
            nodes: nodes.into_iter().map(|n| (n.id, n)).collect(),
            pending: pending.into(),
            ..Self::default()
        }
    }

    /// An unsolicited ApplicationCommandHandler frame from `node`.
    pub fn from_node(node: u8, cmd: &[u8]) -> Vec<Frame<Bytes>> {
        out(request(
            FunctionId::ApplicationCommandHandler,
            &ApplicationCommand::encode(node, cmd),
        ))
    }

    /// Handles one host request.
    pub fn on_request(&mut self, f: FunctionId, p: &[u8]) -> Vec<Frame<Bytes>> {
        let arg = |i: usize| p.get(i).copied().unwrap_or(0);
        if let Some(frames) = self.controller_function(f, p) {
            return frames;
        }
        match f {
            FunctionId::SendData => self.send_data(p),
            FunctionId::RequestNodeInfo => self.request_node_info(arg(0)),
            FunctionId::AddNodeToNetwork => self.add_node(arg(0), arg(1)),
            FunctionId::RemoveNodeFromNetwork => self.remove_node(arg(0), arg(1)),
            FunctionId::IsFailedNode => {
                let failed = self.nodes.get(&arg(0)).is_none_or(|n| n.dead);
                out(response(f, &[u8::from(failed)]))
            }
            FunctionId::RemoveFailedNode => self.remove_failed(arg(0), arg(1)),
            FunctionId::ReplaceFailedNode => self.replace_failed(arg(0), arg(1)),
            other => {
                tracing::debug!(function = ?other, "zwave sim: function not implemented");
                Vec::new()
            }
        }
    }

    /// Start-up and controller-information functions.
    fn controller_function(&self, f: FunctionId, p: &[u8]) -> Option<Vec<Frame<Bytes>>> {
        let arg = |i: usize| p.get(i).copied().unwrap_or(0);
        Some(match f {
            FunctionId::SoftReset => out(request(
                FunctionId::SerialApiStarted,
                &[0x00, 0x00, 0x01, 0x02, 0x07, 0x00, 0x00],
            )),
            FunctionId::GetSerialApiCapabilities => {
                let mut supported = [0u8; 32];
                supported
                    .copy_from_slice(&bitmask_from(SUPPORTED.iter().map(|f| u8::from(*f)), 32));
                let caps = SerialApiCapabilities {
                    firmware: (1, 0),
                    manufacturer_id: 0x7FFF,
                    product_type: 0x0001,
                    product_id: 0x0001,
                    supported,
                };
                out(response(f, &caps.encode()))
            }
            FunctionId::GetVersion => {
                let v = VersionInfo {
                    version: "Z-Wave 7.17".into(),
                    library_type: 1,
                };
                out(response(f, &v.encode()))
            }
            FunctionId::MemoryGetId => {
                let m = MemoryId {
                    home_id: self.home_id,
                    node_id: OWN_NODE_ID,
                };
                out(response(f, &m.encode()))
            }
            FunctionId::GetControllerCapabilities => out(response(f, &[0x1C])),
            FunctionId::GetSerialApiInitData => {
                let mut nodes: Vec<u8> = vec![OWN_NODE_ID];
                nodes.extend(self.nodes.keys());
                let d = InitData {
                    api_version: 9,
                    capabilities: 0x08,
                    nodes,
                    chip: (7, 0),
                };
                out(response(f, &d.encode()))
            }
            FunctionId::GetNodeProtocolInfo => {
                let info = self
                    .nodes
                    .get(&arg(0))
                    .map(|n| n.protocol.encode())
                    .unwrap_or_else(|| vec![0, 0, 0, 0x03, 0, 0]);
                out(response(f, &info))
            }
            FunctionId::SerialApiSetup => match arg(0) {
                0x01 => out(response(f, &[0x01, 0b0000_0010])),
                0x02 => out(response(f, &[0x02, 0x01])),
                other => out(response(f, &[other, 0x00])),
            },
            _ => return None,
        })
    }

    fn send_data(&mut self, p: &[u8]) -> Vec<Frame<Bytes>> {
        let f = FunctionId::SendData;
        let Some((&node, rest)) = p.split_first() else {
            return out(response(f, &[0]));
        };
        let len = usize::from(rest.first().copied().unwrap_or(0));
        let (Some(cmd), Some(&cb)) = (rest.get(1..1 + len), rest.get(len + 2)) else {
            return out(response(f, &[0]));
        };
        let mut frames = out(response(f, &[1]));
        let reachable = self.nodes.get(&node).is_some_and(|n| n.reachable());
        let status = if reachable {
            TxStatus::Ok
        } else {
            TxStatus::NoAck
        };
        if cb != 0 {
            frames.extend(out(request(f, &[cb, status.into()])));
        }
        if let Some(n) = self.nodes.get_mut(&node).filter(|_| reachable) {
            for reply in n.handle(cmd) {
                frames.extend(Self::from_node(node, &reply));
            }
        }
        frames
    }

    fn request_node_info(&mut self, node: u8) -> Vec<Frame<Bytes>> {
        let f = FunctionId::RequestNodeInfo;
        let mut frames = out(response(f, &[1]));
        let mut payload = vec![];
        match self.nodes.get(&node).filter(|n| n.reachable()) {
            Some(n) => {
                payload.push(UpdateType::NodeInfoReceived.into());
                payload.extend(n.nif().encode());
            }
            None => payload.extend([UpdateType::NodeInfoRequestFailed.into(), 0, 0]),
        }
        frames.extend(out(request(FunctionId::ApplicationUpdate, &payload)));
        frames
    }

    fn status(f: FunctionId, cb: u8, status: NodeStatus, info: NodeInfo) -> Vec<Frame<Bytes>> {
        if cb == 0 {
            return Vec::new();
        }
        let c = NodeStatusCallback {
            callback_id: cb,
            status,
            info,
        };
        out(request(f, &c.encode()))
    }

    fn add_node(&mut self, m: u8, cb: u8) -> Vec<Frame<Bytes>> {
        let f = FunctionId::AddNodeToNetwork;
        let node_only = |id| NodeInfo {
            node_id: id,
            ..NodeInfo::default()
        };
        if m & 0x0F == mode::STOP {
            self.inclusion = None;
            let added = self.added.take().unwrap_or(0);
            return Self::status(f, cb, NodeStatus::Done, node_only(added));
        }
        self.inclusion = Some(cb);
        let mut frames = Self::status(f, cb, NodeStatus::LearnReady, node_only(0));
        frames.extend(self.include_pending());
        frames
    }

    /// Includes the next pending node if inclusion is running ("button pressed").
    pub fn include_pending(&mut self) -> Vec<Frame<Bytes>> {
        let f = FunctionId::AddNodeToNetwork;
        let Some(cb) = self.inclusion else {
            return Vec::new();
        };
        let Some(mut node) = self.pending.pop_front() else {
            return Vec::new();
        };
        if self.nodes.contains_key(&node.id) {
            node.id = (2..=232)
                .find(|i| !self.nodes.contains_key(i))
                .unwrap_or(232);
        }
        let id = node.id;
        let nif = node.nif();
        self.nodes.insert(id, node);
        self.added = Some(id);
        let mut frames = Self::status(f, cb, NodeStatus::NodeFound, NodeInfo::default());
        frames.extend(Self::status(f, cb, NodeStatus::AddingEndNode, nif));
        frames.extend(Self::status(
            f,
            cb,
            NodeStatus::ProtocolDone,
            NodeInfo {
                node_id: id,
                ..NodeInfo::default()
            },
        ));
        frames
    }

    fn remove_node(&mut self, m: u8, cb: u8) -> Vec<Frame<Bytes>> {
        let f = FunctionId::RemoveNodeFromNetwork;
        let only = |id| NodeInfo {
            node_id: id,
            ..NodeInfo::default()
        };
        if m & 0x0F == mode::STOP {
            return Self::status(f, cb, NodeStatus::Done, only(0));
        }
        let mut frames = Self::status(f, cb, NodeStatus::LearnReady, only(0));
        if let Some(id) = self.exclude_next.take()
            && let Some(n) = self.nodes.remove(&id)
        {
            frames.extend(Self::status(f, cb, NodeStatus::NodeFound, only(0)));
            frames.extend(Self::status(f, cb, NodeStatus::AddingEndNode, n.nif()));
            frames.extend(Self::status(f, cb, NodeStatus::Done, only(id)));
        }
        frames
    }

    fn remove_failed(&mut self, node: u8, cb: u8) -> Vec<Frame<Bytes>> {
        let f = FunctionId::RemoveFailedNode;
        let failed = self.nodes.get(&node).is_some_and(|n| n.dead);
        let mut frames = out(response(f, &[0]));
        let status = if failed {
            self.nodes.remove(&node);
            FailedNodeStatus::NodeRemoved
        } else {
            FailedNodeStatus::NodeOk
        };
        frames.extend(out(request(f, &[cb, status.into()])));
        frames
    }

    fn replace_failed(&mut self, node: u8, cb: u8) -> Vec<Frame<Bytes>> {
        let f = FunctionId::ReplaceFailedNode;
        let failed = self.nodes.get(&node).is_some_and(|n| n.dead);
        let mut frames = out(response(f, &[0]));
        if !failed {
            frames.extend(out(request(f, &[cb, FailedNodeStatus::NodeOk.into()])));
            return frames;
        }
        let status = match self.pending.pop_front() {
            Some(mut n) => {
                n.id = node;
                self.nodes.insert(node, n);
                FailedNodeStatus::ReplaceDone
            }
            None => FailedNodeStatus::ReplaceFailed,
        };
        frames.extend(out(request(f, &[cb, FailedNodeStatus::Replace.into()])));
        frames.extend(out(request(f, &[cb, status.into()])));
        frames
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zwave::sim::node::NodeKind;

    fn ctl() -> Controller {
        Controller::new(
            0xC0FF_EE01,
            vec![VirtualNode::new(2, NodeKind::BinarySwitch)],
            vec![VirtualNode::new(5, NodeKind::Dimmer)],
        )
    }

    #[test]
    fn startup_functions_answer_with_parseable_responses() {
        let mut c = ctl();
        let v = c.on_request(FunctionId::GetVersion, &[]);
        assert_eq!(
            VersionInfo::parse(v[0].payload()).unwrap().version,
            "Z-Wave 7.17"
        );
        let m = c.on_request(FunctionId::MemoryGetId, &[]);
        assert_eq!(
            MemoryId::parse(m[0].payload()).unwrap().home_id,
            0xC0FF_EE01
        );
        let d = c.on_request(FunctionId::GetSerialApiInitData, &[]);
        assert_eq!(InitData::parse(d[0].payload()).unwrap().nodes, vec![1, 2]);
        let caps = c.on_request(FunctionId::GetSerialApiCapabilities, &[]);
        let caps = SerialApiCapabilities::parse(caps[0].payload()).unwrap();
        assert!(caps.supports(FunctionId::SendData) && !caps.supports(FunctionId::Unknown(0xEE)));
    }

    #[test]
    fn send_data_gives_response_callback_then_node_report() {
        let mut c = ctl();
        let frames = c.on_request(FunctionId::SendData, &[2, 2, 0x25, 0x02, 0x25, 7]);
        let kinds: Vec<_> = frames
            .iter()
            .map(|f| (f.frame_type(), f.function_id()))
            .collect();
        assert_eq!(kinds.len(), 3);
        assert_eq!(frames[1].payload(), [7, 0]);
        assert_eq!(frames[2].payload(), [0, 2, 3, 0x25, 0x03, 0x00]);
        // Unknown node: NoAck.
        let frames = c.on_request(FunctionId::SendData, &[9, 2, 0x25, 0x02, 0x25, 8]);
        assert_eq!(frames[1].payload(), [8, 1]);
    }

    #[test]
    fn inclusion_adds_pending_node_and_stop_reports_done() {
        let mut c = ctl();
        let frames = c.on_request(FunctionId::AddNodeToNetwork, &[0xC1, 3]);
        let statuses: Vec<u8> = frames.iter().map(|f| f.payload()[1]).collect();
        assert_eq!(statuses, vec![1, 2, 3, 5]);
        assert!(c.nodes.contains_key(&5));
        let done = c.on_request(FunctionId::AddNodeToNetwork, &[0x05, 4]);
        assert_eq!(&done[0].payload()[..3], &[4, 6, 5]);
    }

    #[test]
    fn exclusion_removes_marked_node() {
        let mut c = ctl();
        c.exclude_next = Some(2);
        let frames = c.on_request(FunctionId::RemoveNodeFromNetwork, &[0x81, 9]);
        assert_eq!(frames.last().unwrap().payload()[..3], [9, 6, 2]);
        assert!(c.nodes.is_empty());
    }
}
