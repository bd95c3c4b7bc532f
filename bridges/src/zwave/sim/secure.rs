//! Security 0 on the device side of the simulator: a virtual node that issues nonces,
//! decrypts what the controller sends, accepts its secure CCs only encrypted, and asks the
//! controller for a nonce before each encrypted answer — the exchanges of SDS10865.

use std::collections::VecDeque;

use super::node::VirtualNode;
use crate::zwave::cc::security0::{
    self, COMMANDS_SUPPORTED_GET, ENCAP, Keys, NETWORK_KEY_SET, NETWORK_KEY_VERIFY, NONCE_GET,
    NONCE_LEN, NONCE_REPORT, SCHEME_GET, SCHEME_REPORT,
};

/// The controller's node id in the simulator.
const CONTROLLER: u8 = 1;

/// A secure node's S0 state.
#[derive(Debug, Clone)]
pub struct S0Device {
    /// The network key, once the controller sent it.
    pub network_key: Option<[u8; 16]>,
    /// CCs accepted only encrypted.
    pub secure_ccs: Vec<u8>,
    issued: Vec<[u8; NONCE_LEN]>,
    pending: VecDeque<Vec<u8>>,
}

impl S0Device {
    /// A node without a key yet.
    pub fn new(secure_ccs: Vec<u8>) -> Self {
        Self {
            network_key: None,
            secure_ccs,
            issued: Vec::new(),
            pending: VecDeque::new(),
        }
    }

    fn keys(&self) -> Keys {
        self.network_key
            .map_or_else(Keys::temporary, |k| Keys::new(&k))
    }
}

impl VirtualNode {
    /// Handles S0 frames and refuses plain frames of secure CCs; `None` = not S0 business.
    pub(super) fn handle_s0(&mut self, cmd: &[u8]) -> Option<Vec<Vec<u8>>> {
        let id = self.id;
        let s0 = self.s0.as_mut()?;
        match (cmd.first().copied(), cmd.get(1).copied()) {
            (Some(0x98), Some(NONCE_GET)) => {
                let n = security0::new_nonce();
                s0.issued.push(n);
                Some(vec![security0::nonce_report(&n)])
            }
            (Some(0x98), Some(SCHEME_GET)) => Some(vec![vec![0x98, SCHEME_REPORT, 0x00]]),
            (Some(0x98), Some(NONCE_REPORT)) => {
                let receiver = security0::parse_nonce_report(cmd)?;
                let next = s0.pending.pop_front()?;
                let keys = s0.keys();
                let mut out = vec![security0::encapsulate(
                    &keys,
                    id,
                    CONTROLLER,
                    &security0::new_nonce(),
                    &receiver,
                    &next,
                )];
                if !s0.pending.is_empty() {
                    out.push(vec![0x98, NONCE_GET]);
                }
                Some(out)
            }
            (Some(0x98), Some(ENCAP)) => {
                let nonce_id = security0::receiver_nonce_id(cmd)?;
                let i = s0.issued.iter().position(|n| n[0] == nonce_id)?;
                let nonce = s0.issued.swap_remove(i);
                // Before the key exchange only the temporary key is known.
                let inner = security0::decapsulate(&s0.keys(), CONTROLLER, id, &nonce, cmd)
                    .or_else(|_| {
                        security0::decapsulate(&Keys::temporary(), CONTROLLER, id, &nonce, cmd)
                    });
                let Ok(inner) = inner else {
                    tracing::debug!(node = id, "zwave sim: S0 frame rejected");
                    return Some(Vec::new());
                };
                let replies = self.handle_secure(&inner);
                let s0 = self.s0.as_mut()?;
                let was_idle = s0.pending.is_empty();
                s0.pending.extend(replies);
                Some(if was_idle && !s0.pending.is_empty() {
                    vec![vec![0x98, NONCE_GET]]
                } else {
                    Vec::new()
                })
            }
            (Some(cc), _) if s0.secure_ccs.contains(&cc) => {
                tracing::debug!(
                    node = id,
                    cc,
                    "zwave sim: plain frame of a secure CC ignored"
                );
                Some(Vec::new())
            }
            _ => None,
        }
    }

    fn handle_secure(&mut self, inner: &[u8]) -> Vec<Vec<u8>> {
        let s0 = match self.s0.as_mut() {
            Some(s) => s,
            None => return Vec::new(),
        };
        match (inner.first().copied(), inner.get(1).copied()) {
            (Some(0x98), Some(NETWORK_KEY_SET)) if inner.len() >= 18 => {
                let mut k = [0u8; 16];
                k.copy_from_slice(&inner[2..18]);
                s0.network_key = Some(k);
                vec![vec![0x98, NETWORK_KEY_VERIFY]]
            }
            (Some(0x98), Some(COMMANDS_SUPPORTED_GET)) => {
                vec![security0::commands_supported_report(&s0.secure_ccs)]
            }
            _ => self.handle_unsecured(inner),
        }
    }
}
