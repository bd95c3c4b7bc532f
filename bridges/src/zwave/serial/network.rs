//! Network management payloads of the Serial API (Host API spec, "Network management"):
//! node information frames, ApplicationUpdate, and the status callbacks of
//! AddNodeToNetwork, RemoveNodeFromNetwork, RemoveFailedNode and ReplaceFailedNode.

use super::functions::{FunctionId, PayloadError, need};

/// AddNodeToNetwork / RemoveNodeFromNetwork modes.
pub mod mode {
    /// Include/exclude any node type.
    pub const ANY: u8 = 0x01;
    /// Stop inclusion/exclusion.
    pub const STOP: u8 = 0x05;
    /// Flag: transmit at normal power.
    pub const HIGH_POWER: u8 = 0x80;
    /// Flag: network-wide inclusion.
    pub const NETWORK_WIDE: u8 = 0x40;
}

enum_with_unknown! {
    /// ApplicationUpdate event types.
    pub enum UpdateType {
        /// Node information received (after RequestNodeInfo or unsolicited).
        NodeInfoReceived = 0x84,
        /// RequestNodeInfo completed.
        NodeInfoRequestDone = 0x82,
        /// RequestNodeInfo failed.
        NodeInfoRequestFailed = 0x81,
        /// A node was added by another controller.
        NodeAdded = 0x40,
        /// A node was removed by another controller.
        NodeRemoved = 0x20,
    }
}

/// A node information frame as carried by ApplicationUpdate and AddNode/RemoveNode callbacks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeInfo {
    /// Node id.
    pub node_id: u8,
    /// Basic, generic and specific device class.
    pub classes: (u8, u8, u8),
    /// Command classes listed in the NIF (support marks only, before 0xEF).
    pub command_classes: Vec<u8>,
}

impl NodeInfo {
    /// Parses `node, len, basic, generic, specific, CCs...` (len counts classes + CCs).
    pub fn parse_at(p: &[u8], function: FunctionId) -> Result<Self, PayloadError> {
        need(p, 2, function)?;
        let node_id = p[0];
        let len = usize::from(p[1]);
        if len == 0 {
            return Ok(Self {
                node_id,
                ..Self::default()
            });
        }
        need(p, 2 + len, function)?;
        if len < 3 {
            return Err(PayloadError { function });
        }
        let body = &p[2..2 + len];
        let command_classes = body[3..]
            .iter()
            .copied()
            .take_while(|cc| *cc != 0xEF)
            .collect();
        Ok(Self {
            node_id,
            classes: (body[0], body[1], body[2]),
            command_classes,
        })
    }

    /// Encodes `node, len, classes, CCs`.
    pub fn encode(&self) -> Vec<u8> {
        let ccs = &self.command_classes[..self.command_classes.len().min(250)];
        let mut out = vec![self.node_id, (3 + ccs.len()) as u8];
        out.extend_from_slice(&[self.classes.0, self.classes.1, self.classes.2]);
        out.extend_from_slice(ccs);
        out
    }
}

/// An ApplicationUpdate request from the stick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationUpdate {
    /// Event type.
    pub update: UpdateType,
    /// Node information (node id only for events without a NIF).
    pub info: NodeInfo,
}

impl ApplicationUpdate {
    /// Parses update type and node information.
    pub fn parse(p: &[u8]) -> Result<Self, PayloadError> {
        let f = FunctionId::ApplicationUpdate;
        need(p, 2, f)?;
        Ok(Self {
            update: UpdateType::from(p[0]),
            info: NodeInfo::parse_at(&p[1..], f)?,
        })
    }
}

enum_with_unknown! {
    /// AddNodeToNetwork / RemoveNodeFromNetwork callback status.
    pub enum NodeStatus {
        /// Ready: waiting for a node to press its button.
        LearnReady = 0x01,
        /// A node was found.
        NodeFound = 0x02,
        /// Adding/removing an end node.
        AddingEndNode = 0x03,
        /// Adding/removing a controller.
        AddingController = 0x04,
        /// Protocol part done (inclusion only): send Stop next.
        ProtocolDone = 0x05,
        /// Done.
        Done = 0x06,
        /// Failed.
        Failed = 0x07,
    }
}

/// An AddNodeToNetwork or RemoveNodeFromNetwork status callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeStatusCallback {
    /// The callback id from the request.
    pub callback_id: u8,
    /// Progress.
    pub status: NodeStatus,
    /// The node (and its NIF, while adding).
    pub info: NodeInfo,
}

impl NodeStatusCallback {
    /// Parses `callback, status, node, len, classes, CCs`.
    pub fn parse(function: FunctionId, p: &[u8]) -> Result<Self, PayloadError> {
        need(p, 2, function)?;
        let info = if p.len() >= 4 {
            NodeInfo::parse_at(&p[2..], function)?
        } else {
            NodeInfo {
                node_id: p.get(2).copied().unwrap_or(0),
                ..NodeInfo::default()
            }
        };
        Ok(Self {
            callback_id: p[0],
            status: NodeStatus::from(p[1]),
            info,
        })
    }

    /// Encodes the callback payload.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.callback_id, self.status.into()];
        if self.info.command_classes.is_empty() && self.info.classes == (0, 0, 0) {
            out.extend_from_slice(&[self.info.node_id, 0]);
        } else {
            out.extend(self.info.encode());
        }
        out
    }
}

enum_with_unknown! {
    /// RemoveFailedNode / ReplaceFailedNode callback status.
    pub enum FailedNodeStatus {
        /// The node answered: it is not failed.
        NodeOk = 0x00,
        /// The failed node was removed.
        NodeRemoved = 0x01,
        /// The failed node was not removed.
        NodeNotRemoved = 0x02,
        /// Replace: ready for the new node.
        Replace = 0x03,
        /// Replace: done.
        ReplaceDone = 0x04,
        /// Replace: failed.
        ReplaceFailed = 0x05,
    }
}
