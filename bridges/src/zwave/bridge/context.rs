//! What the bridge's helper tasks (start-up, interview, inclusion, confirmed writes) share:
//! the Serial API handle and a list of waiters for frames the stick sends unsolicited.
//!
//! Concurrency: the bridge actor is the only reader of inbound frames; it offers each one
//! to [`Waiters::dispatch_command`] / [`Waiters::dispatch_frame`] before its own
//! processing. A task registers a waiter *before* sending the request that provokes the
//! answer, so the answer cannot slip past. The waiter list sits behind a `std` mutex that
//! is held only to push or scan, never across an `.await`.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::security::S0;
use crate::api::BridgeError;
use crate::zwave::cc::multi_channel;
use crate::zwave::serial::functions::{
    FunctionId, HostRequest, SendDataCallback, TX_OPTIONS_DEFAULT, TxStatus,
};
use crate::zwave::serial::port::SerialHandle;
use crate::zwave::serial::transport::{Outcome, TransactionError};

/// Why a node operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZwError {
    /// The Serial API transaction failed.
    #[error(transparent)]
    Transport(#[from] TransactionError),
    /// The node did not acknowledge the frame.
    #[error("node {0} did not acknowledge ({1:?})")]
    NoAck(u8, TxStatus),
    /// The node acknowledged but sent no report in time.
    #[error("node {0} sent no report")]
    NoReport(u8),
    /// A payload from the stick could not be parsed.
    #[error("malformed answer from the stick")]
    Malformed,
}

impl From<ZwError> for BridgeError {
    fn from(e: ZwError) -> Self {
        match e {
            ZwError::Transport(TransactionError::Offline | TransactionError::PortLost) => {
                BridgeError::RadioOffline
            }
            ZwError::Transport(t) => BridgeError::Refused(t.to_string()),
            ZwError::NoAck(..) | ZwError::NoReport(_) => BridgeError::Timeout,
            ZwError::Malformed => BridgeError::Refused(e.to_string()),
        }
    }
}

/// What a waiter waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    /// A CC frame of `cc` from `node`, end point `ep`.
    Command {
        /// Source node.
        node: u8,
        /// Source end point.
        ep: u8,
        /// Command class.
        cc: u8,
    },
    /// A request frame of `function` from the stick whose first payload byte is `first`
    /// (a callback id), or any first byte.
    Frame {
        /// Function.
        function: FunctionId,
        /// First payload byte, if it must match.
        first: Option<u8>,
    },
}

/// Registered waiters.
#[derive(Debug, Default)]
pub struct Waiters {
    list: Vec<(Pattern, mpsc::UnboundedSender<Bytes>)>,
}

impl Waiters {
    /// Offers a CC frame (already un-encapsulated) to the waiters; true if one took it.
    pub fn dispatch_command(&mut self, node: u8, ep: u8, cmd: &Bytes) -> bool {
        let Some(&cc) = cmd.first() else {
            return false;
        };
        self.dispatch(Pattern::Command { node, ep, cc }, cmd)
    }

    /// Offers a stick request frame's payload to the waiters; true if one took it.
    pub fn dispatch_frame(&mut self, function: FunctionId, payload: &Bytes) -> bool {
        let first = payload.first().copied();
        self.list.retain(|(_, tx)| !tx.is_closed());
        let mut taken = false;
        for (p, tx) in &self.list {
            if let Pattern::Frame {
                function: f,
                first: want,
            } = p
                && *f == function
                && (want.is_none() || *want == first)
            {
                taken |= tx.send(payload.clone()).is_ok();
            }
        }
        taken
    }

    fn dispatch(&mut self, pattern: Pattern, data: &Bytes) -> bool {
        self.list.retain(|(_, tx)| !tx.is_closed());
        let mut taken = false;
        for (p, tx) in &self.list {
            if *p == pattern {
                taken |= tx.send(data.clone()).is_ok();
            }
        }
        taken
    }
}

/// Shared by the actor and its tasks; cheap to clone.
#[derive(Debug, Clone)]
pub struct NodeIo {
    /// The Serial API.
    pub serial: SerialHandle,
    waiters: Arc<Mutex<Waiters>>,
    callback_id: Arc<AtomicU8>,
    own_id: Arc<AtomicU8>,
    /// One RequestNodeInfo at a time: its failure update does not name the node.
    pub nif_lock: Arc<tokio::sync::Mutex<()>>,
    /// Security 0, when a network key is configured.
    pub s0: Option<Arc<S0>>,
    /// How long to wait for a node's report.
    pub report_timeout: Duration,
}

impl NodeIo {
    /// A context over `serial`; `network_key` enables Security 0.
    pub fn new(
        serial: SerialHandle,
        report_timeout: Duration,
        network_key: Option<[u8; 16]>,
    ) -> Self {
        Self {
            serial,
            waiters: Arc::default(),
            callback_id: Arc::new(AtomicU8::new(0)),
            own_id: Arc::new(AtomicU8::new(1)),
            nif_lock: Arc::default(),
            s0: network_key.map(|k| Arc::new(S0::new(k))),
            report_timeout,
        }
    }

    /// The controller's node id (learned at start-up).
    pub fn own_id(&self) -> u8 {
        self.own_id.load(Ordering::Relaxed)
    }

    /// Records the controller's node id.
    pub fn set_own_id(&self, id: u8) {
        self.own_id.store(id, Ordering::Relaxed);
    }

    /// Runs `f` with the waiter list locked (no `.await` inside).
    pub fn with_waiters<R>(&self, f: impl FnOnce(&mut Waiters) -> R) -> R {
        let mut guard = match self.waiters.lock() {
            Ok(g) => g,
            // A panicking task cannot leave the list inconsistent: every operation is a
            // single push or retain.
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Registers a waiter; dropping the receiver unregisters it.
    pub fn wait_for(&self, pattern: Pattern) -> mpsc::UnboundedReceiver<Bytes> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.with_waiters(|w| w.list.push((pattern, tx)));
        rx
    }

    /// The next callback id (1-255; 0 means "no callback").
    pub fn next_callback_id(&self) -> u8 {
        loop {
            let id = self
                .callback_id
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_add(1);
            if id != 0 {
                return id;
            }
        }
    }

    /// A host request.
    pub async fn request(&self, req: HostRequest) -> Result<Outcome, ZwError> {
        Ok(self.serial.request(req).await?)
    }

    /// Sends a CC frame to `node` end point `ep` (inside S0 if the node requires it for that
    /// CC) and waits for the node's acknowledgement.
    pub async fn send(&self, node: u8, ep: u8, cmd: &[u8]) -> Result<(), ZwError> {
        let framed;
        let inner_cc = cmd.first().copied().unwrap_or(0);
        let cmd = if ep > 0 {
            framed = multi_channel::wrap(0, ep, cmd);
            &framed[..]
        } else {
            cmd
        };
        if let Some(s0) = self.s0.as_ref().filter(|s| s.is_secure(node, inner_cc)) {
            let keys = s0.keys().clone();
            return self.send_s0(node, &keys, cmd).await;
        }
        self.send_plain(node, cmd).await
    }

    /// Sends a CC frame as it is (no encapsulation added).
    pub async fn send_plain(&self, node: u8, cmd: &[u8]) -> Result<(), ZwError> {
        let cb = self.next_callback_id();
        let out = self
            .request(HostRequest::send_data(node, cmd, TX_OPTIONS_DEFAULT, cb))
            .await?;
        let status = out
            .callback
            .as_deref()
            .and_then(|p| SendDataCallback::parse(p).ok())
            .map(|c| c.status)
            .ok_or(ZwError::Malformed)?;
        match status {
            TxStatus::Ok => Ok(()),
            other => Err(ZwError::NoAck(node, other)),
        }
    }

    /// Sends `cmd` and waits for the node's next frame of the same CC from that end point.
    pub async fn get(&self, node: u8, ep: u8, cmd: &[u8]) -> Result<Bytes, ZwError> {
        let cc = cmd.first().copied().unwrap_or(0);
        let mut rx = self.wait_for(Pattern::Command { node, ep, cc });
        self.send(node, ep, cmd).await?;
        match tokio::time::timeout(self.report_timeout, rx.recv()).await {
            Ok(Some(report)) => Ok(report),
            _ => Err(ZwError::NoReport(node)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiters_get_matching_frames_and_closed_ones_are_dropped() {
        let mut w = Waiters::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        w.list.push((
            Pattern::Command {
                node: 2,
                ep: 0,
                cc: 0x25,
            },
            tx,
        ));
        let (tx2, rx2) = mpsc::unbounded_channel();
        w.list.push((
            Pattern::Frame {
                function: FunctionId::AddNodeToNetwork,
                first: Some(3),
            },
            tx2,
        ));
        assert!(!w.dispatch_command(2, 1, &Bytes::from_static(&[0x25, 0x03, 0xFF])));
        assert!(w.dispatch_command(2, 0, &Bytes::from_static(&[0x25, 0x03, 0xFF])));
        assert_eq!(rx.try_recv().unwrap()[..], [0x25, 0x03, 0xFF]);
        assert!(!w.dispatch_frame(FunctionId::AddNodeToNetwork, &Bytes::from_static(&[4, 1])));
        drop(rx2);
        assert!(!w.dispatch_frame(FunctionId::AddNodeToNetwork, &Bytes::from_static(&[3, 1])));
        assert_eq!(w.list.len(), 1);
    }
}
