//! Request/response over the air for the core: sends a ZDP or ZCL request through the
//! backend and waits for the matching answer (same source, cluster and TSN, and an expected
//! response command, so a device's own report that reuses the TSN never matches).
//!
//! Concurrency: waiters live in a map behind a `std::sync::Mutex`, taken only to insert or
//! remove an entry (never across an `.await`); the bridge actor offers every incoming frame.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::backend::{
    ApsFrame, ApsIncoming, BackendError, HOST_ENDPOINT, PROFILE_HA, PROFILE_ZDP, ZigbeeBackend,
};
use super::zcl::frame::cmd;
use super::zcl::{Direction, FrameKind, ZclFrame, ZclHeader};
use super::zdo::{Zdp, cluster};

/// Why a request got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// The backend could not send it.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// No answer in time.
    #[error("no answer from {nwk:#06x} to {what}")]
    Timeout {
        /// Device short address.
        nwk: u16,
        /// What was asked.
        what: String,
    },
    /// The answer did not decode.
    #[error("malformed answer from {nwk:#06x}: {reason}")]
    Malformed {
        /// Device short address.
        nwk: u16,
        /// Why.
        reason: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    nwk: u16,
    zdp: bool,
    cluster: u16,
    tsn: u8,
}

struct Waiter {
    /// Acceptable ZCL general response command ids (empty for ZDP).
    expect: &'static [u8],
    tx: oneshot::Sender<ApsIncoming>,
}

/// Where a ZCL request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Target {
    /// Device short address.
    pub nwk: u16,
    /// Device endpoint.
    pub endpoint: u8,
    /// Cluster.
    pub cluster: u16,
}

/// Sends requests and matches answers; cheap to clone.
#[derive(Clone)]
pub struct Requester<B> {
    backend: B,
    waiters: Arc<Mutex<HashMap<Key, Waiter>>>,
    tsn: Arc<AtomicU8>,
    timeout: Duration,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<B: ZigbeeBackend> Requester<B> {
    /// A requester over `backend` waiting `timeout` for each answer.
    pub fn new(backend: B, timeout: Duration) -> Self {
        Requester {
            backend,
            waiters: Arc::default(),
            tsn: Arc::new(AtomicU8::new(0)),
            timeout,
        }
    }

    /// The backend.
    pub fn backend(&self) -> &B {
        &self.backend
    }

    fn next_tsn(&self) -> u8 {
        self.tsn.fetch_add(1, Ordering::Relaxed).wrapping_add(1)
    }

    /// Hands an incoming frame to its waiter; true if one took it.
    pub fn offer(&self, m: &ApsIncoming) -> bool {
        let Some(&tsn) = m.payload.first() else {
            return false;
        };
        if m.profile == PROFILE_ZDP && m.src_endpoint == 0 {
            let key = Key {
                nwk: m.src_nwk,
                zdp: true,
                cluster: m.cluster,
                tsn,
            };
            return self.deliver(key, None, m);
        }
        let Ok(f) = ZclFrame::parse(&m.payload) else {
            return false;
        };
        if f.header.direction != Direction::ServerToClient && f.header.kind == FrameKind::Global {
            return false;
        }
        let key = Key {
            nwk: m.src_nwk,
            zdp: false,
            cluster: m.cluster,
            tsn: f.header.tsn,
        };
        let command = (f.header.kind == FrameKind::Global).then_some(f.header.command);
        self.deliver(key, command, m)
    }

    fn deliver(&self, key: Key, command: Option<u8>, m: &ApsIncoming) -> bool {
        let mut waiters = lock(&self.waiters);
        let fits = waiters.get(&key).is_some_and(|w| match command {
            None => w.expect.is_empty() || key.zdp,
            Some(c) => w.expect.contains(&c),
        });
        if !fits {
            return false;
        }
        if let Some(w) = waiters.remove(&key) {
            let _ = w.tx.send(m.clone());
        }
        true
    }

    async fn exchange(
        &self,
        key: Key,
        expect: &'static [u8],
        frame: ApsFrame,
        what: String,
    ) -> Result<ApsIncoming, RequestError> {
        let (tx, rx) = oneshot::channel();
        lock(&self.waiters).insert(key, Waiter { expect, tx });
        let result = async {
            self.backend.send(frame).await?;
            match tokio::time::timeout(self.timeout, rx).await {
                Ok(Ok(m)) => Ok(m),
                _ => Err(RequestError::Timeout { nwk: key.nwk, what }),
            }
        }
        .await;
        lock(&self.waiters).remove(&key);
        result
    }

    /// Sends a ZDP request to `nwk` and returns its response.
    pub async fn zdp(&self, nwk: u16, req: Zdp) -> Result<Zdp, RequestError> {
        let tsn = self.next_tsn();
        let rsp_cluster = req.cluster() | cluster::RESPONSE;
        let frame = ApsFrame {
            dst_nwk: nwk,
            dst_endpoint: 0,
            src_endpoint: 0,
            profile: PROFILE_ZDP,
            cluster: req.cluster(),
            payload: req.encode(tsn),
        };
        let key = Key {
            nwk,
            zdp: true,
            cluster: rsp_cluster,
            tsn,
        };
        let m = self
            .exchange(key, &[], frame, format!("ZDP {:#06x}", req.cluster()))
            .await?;
        Zdp::parse(m.cluster, &m.payload)
            .map(|(_, z)| z)
            .map_err(|e| RequestError::Malformed {
                nwk,
                reason: e.to_string(),
            })
    }

    /// Sends a ZCL frame (general when `general`, else cluster-specific) and returns the
    /// answer: one of `expect` for general commands, or the Default Response.
    pub async fn zcl(
        &self,
        to: Target,
        general: bool,
        command: u8,
        payload: Vec<u8>,
        expect: &'static [u8],
    ) -> Result<ZclFrame, RequestError> {
        let Target {
            nwk,
            endpoint,
            cluster: cluster_id,
        } = to;
        let tsn = self.next_tsn();
        let header = if general {
            ZclHeader::global(tsn, command)
        } else {
            ZclHeader::cluster(tsn, command)
        };
        let frame = ApsFrame {
            dst_nwk: nwk,
            dst_endpoint: endpoint,
            src_endpoint: HOST_ENDPOINT,
            profile: PROFILE_HA,
            cluster: cluster_id,
            payload: ZclFrame { header, payload }.to_bytes(),
        };
        let key = Key {
            nwk,
            zdp: false,
            cluster: cluster_id,
            tsn,
        };
        let what = format!(
            "ZCL {} command {command:#04x} on endpoint {endpoint}",
            super::zcl::clusters::cluster_name(cluster_id)
        );
        let m = self.exchange(key, expect, frame, what).await?;
        ZclFrame::parse(&m.payload).map_err(|e| RequestError::Malformed {
            nwk,
            reason: e.to_string(),
        })
    }

    /// Sends a frame without waiting for an answer (responses we owe a device).
    pub async fn send_only(&self, frame: ApsFrame) -> Result<(), RequestError> {
        Ok(self.backend.send(frame).await?)
    }
}

/// Expected answers to Read Attributes.
pub const EXPECT_READ: &[u8] = &[cmd::READ_ATTRIBUTES_RSP, cmd::DEFAULT_RSP];
/// Expected answers to Write Attributes.
pub const EXPECT_WRITE: &[u8] = &[cmd::WRITE_ATTRIBUTES_RSP, cmd::DEFAULT_RSP];
/// Expected answers to Configure Reporting.
pub const EXPECT_CONFIGURE: &[u8] = &[cmd::CONFIGURE_REPORTING_RSP, cmd::DEFAULT_RSP];
/// Expected answer to a cluster-specific command.
pub const EXPECT_DEFAULT: &[u8] = &[cmd::DEFAULT_RSP];
