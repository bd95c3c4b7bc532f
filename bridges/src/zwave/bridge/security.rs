//! Security 0 on the host side: which CCs of which node must be encrypted, the nonces the
//! controller issued, and the S0 exchanges (nonce request before every encrypted frame,
//! nonce report when a node asks, network key exchange at inclusion).
//!
//! Nonces the controller issues are kept for [`NONCE_LIFETIME`] and used once (SDS10865
//! allows 3-20 s). S2 would be a second implementation of the same three hooks: `send`
//! (encapsulate), `decapsulate` and `key_exchange`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::zwave::cc::security0::{
    self, COMMANDS_SUPPORTED_GET, Keys, NETWORK_KEY_VERIFY, NONCE_GET, NONCE_LEN, SCHEME_GET,
};

use super::actor::Actor;
use super::context::{NodeIo, Pattern, ZwError};

/// How long an issued nonce stays valid.
pub const NONCE_LIFETIME: Duration = Duration::from_secs(10);

/// S0 state shared by the actor and its tasks.
#[derive(Debug)]
pub struct S0 {
    network_key: [u8; 16],
    keys: Keys,
    issued: Mutex<Vec<([u8; NONCE_LEN], Instant)>>,
    secure: Mutex<HashMap<u8, Vec<u8>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Each critical section is a single push/retain/lookup: a poisoned lock holds valid data.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl S0 {
    /// S0 with network key `key`.
    pub fn new(key: [u8; 16]) -> Self {
        Self {
            network_key: key,
            keys: Keys::new(&key),
            issued: Mutex::default(),
            secure: Mutex::default(),
        }
    }

    /// The derived keys.
    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    /// Records the CCs `node` accepts only encrypted.
    pub fn set_secure(&self, node: u8, ccs: &[u8]) {
        lock(&self.secure).insert(node, ccs.to_vec());
    }

    /// Whether frames of `cc` to `node` must be encrypted.
    pub fn is_secure(&self, node: u8, cc: u8) -> bool {
        cc != 0x98
            && lock(&self.secure)
                .get(&node)
                .is_some_and(|c| c.contains(&cc))
    }

    /// A fresh nonce, remembered for one use.
    pub fn issue_nonce(&self) -> [u8; NONCE_LEN] {
        let n = security0::new_nonce();
        let mut issued = lock(&self.issued);
        issued.retain(|(_, at)| at.elapsed() < NONCE_LIFETIME);
        issued.push((n, Instant::now()));
        n
    }

    /// Decrypts a frame from `node` to `own`, consuming the nonce it names.
    pub fn decapsulate(&self, node: u8, own: u8, frame: &[u8]) -> Result<Vec<u8>, String> {
        let id = security0::receiver_nonce_id(frame).ok_or("malformed encapsulation")?;
        let nonce = {
            let mut issued = lock(&self.issued);
            issued.retain(|(_, at)| at.elapsed() < NONCE_LIFETIME);
            let i = issued
                .iter()
                .position(|(n, _)| n[0] == id)
                .ok_or("no valid nonce with this id (expired or never issued)")?;
            issued.swap_remove(i).0
        };
        security0::decapsulate(&self.keys, node, own, &nonce, frame).map_err(|e| e.to_string())
    }
}

impl NodeIo {
    /// Sends `cmd` to `node` inside S0 with `keys` (nonce exchange first).
    pub async fn send_s0(&self, node: u8, keys: &Keys, cmd: &[u8]) -> Result<(), ZwError> {
        let mut rx = self.wait_for(Pattern::Command {
            node,
            ep: 0,
            cc: 0x98,
        });
        self.send_plain(node, &[0x98, NONCE_GET]).await?;
        let deadline = Instant::now() + self.report_timeout;
        let receiver_nonce = loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(f)) => {
                    if let Some(n) = security0::parse_nonce_report(&f) {
                        break n;
                    }
                }
                _ => return Err(ZwError::NoReport(node)),
            }
        };
        drop(rx);
        let frame = security0::encapsulate(
            keys,
            self.own_id(),
            node,
            &security0::new_nonce(),
            &receiver_nonce,
            cmd,
        );
        self.send_plain(node, &frame).await
    }

    /// Answers a node's Nonce Get.
    pub async fn reply_nonce(&self, node: u8) -> Result<(), ZwError> {
        let Some(s0) = self.s0.as_ref() else {
            return Ok(());
        };
        let n = s0.issue_nonce();
        self.send_plain(node, &security0::nonce_report(&n)).await
    }

    /// Learns the CCs `node` supports securely (Commands Supported Get inside S0).
    pub async fn secure_commands(&self, node: u8) -> Result<Vec<u8>, ZwError> {
        let s0 = self.s0.clone().ok_or(ZwError::Malformed)?;
        let report = self
            .get_secure_reply(
                node,
                &s0.keys,
                &[0x98, COMMANDS_SUPPORTED_GET],
                security0::COMMANDS_SUPPORTED_REPORT,
            )
            .await?;
        let ccs = security0::parse_commands_supported(&report).ok_or(ZwError::Malformed)?;
        s0.set_secure(node, &ccs);
        Ok(ccs)
    }

    /// The S0 network key exchange of a newly included node.
    pub async fn key_exchange(&self, node: u8) -> Result<(), ZwError> {
        let s0 = self.s0.clone().ok_or(ZwError::Malformed)?;
        self.get(node, 0, &[0x98, SCHEME_GET, 0x00]).await?;
        let key_set = security0::network_key_set(&s0.network_key);
        self.get_secure_reply(node, &Keys::temporary(), &key_set, NETWORK_KEY_VERIFY)
            .await?;
        Ok(())
    }

    /// Sends a Security CC command encrypted and waits for the decrypted answer `answer`.
    async fn get_secure_reply(
        &self,
        node: u8,
        keys: &Keys,
        cmd: &[u8],
        answer: u8,
    ) -> Result<Vec<u8>, ZwError> {
        let mut rx = self.wait_for(Pattern::Command {
            node,
            ep: 0,
            cc: 0x98,
        });
        self.send_s0(node, keys, cmd).await?;
        let deadline = Instant::now() + self.report_timeout;
        loop {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(f)) if f.get(1) == Some(&answer) => return Ok(f.to_vec()),
                Ok(Some(_)) => continue,
                _ => return Err(ZwError::NoReport(node)),
            }
        }
    }
}

impl Actor {
    /// Handles a Security CC frame from `node`: answers Nonce Get (`None`), decrypts a
    /// Message Encapsulation (`Some(inner)`), passes anything else through.
    pub(super) fn s0_inbound(&self, node: u8, cmd: Bytes) -> Option<Bytes> {
        match cmd.get(1).copied() {
            Some(security0::NONCE_GET) => {
                let io = self.io.clone();
                tokio::spawn(async move {
                    if let Err(e) = io.reply_nonce(node).await {
                        tracing::info!(node, error = %e, "zwave: nonce report not delivered");
                    }
                });
                None
            }
            Some(security0::ENCAP) => {
                let own = self.io.own_id();
                match self.io.s0.as_ref().map(|s| s.decapsulate(node, own, &cmd)) {
                    Some(Ok(inner)) => Some(Bytes::from(inner)),
                    Some(Err(e)) => {
                        tracing::warn!(node, error = %e, "zwave: S0 frame rejected");
                        None
                    }
                    None => {
                        tracing::warn!(node, "zwave: S0 frame but no network key configured");
                        None
                    }
                }
            }
            _ => Some(cmd),
        }
    }
}
