//! Security 0 CC (0x98, SDS10865 "Z-Wave Transport Encapsulation Command Class / Security
//! 0"): AES-128 encryption of CC frames with a network key, as older locks and secure
//! devices require.
//!
//! Keys: authentication key `Ka = AES(K, 0x55 × 16)`, encryption key `Ke = AES(K, 0xAA ×
//! 16)`. Every encrypted frame uses a one-time 8-byte nonce issued by the *receiver* (Nonce
//! Get → Nonce Report) and one chosen by the sender:
//!
//! ```text
//! [0x98, 0x81, sender nonce(8), AES-OFB(Ke, IV = sender nonce ‖ receiver nonce,
//!  [sequence byte, cmd...]), receiver nonce id (= its first byte), MAC(8)]
//! MAC = first 8 bytes of the last block of AES-CBC(Ka, IV = 0,
//!       zero-padded IV ‖ 0x81 ‖ sender id ‖ receiver id ‖ length ‖ ciphertext)
//! ```
//!
//! During inclusion the network key itself is sent with Network Key Set encrypted under
//! the all-zero key. S2 (0x9F) would plug in beside this module: the bridge asks
//! [`Keys`] for encapsulation only through [`encapsulate`] / [`decapsulate`].

use aes::Aes128;
use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};

use super::{CcError, CcId, CcSpec, Decoded, need, no_follow_up, no_get, read_only};

/// SECURITY_COMMANDS_SUPPORTED_GET.
pub const COMMANDS_SUPPORTED_GET: u8 = 0x02;
/// SECURITY_COMMANDS_SUPPORTED_REPORT.
pub const COMMANDS_SUPPORTED_REPORT: u8 = 0x03;
/// SECURITY_SCHEME_GET.
pub const SCHEME_GET: u8 = 0x04;
/// SECURITY_SCHEME_REPORT.
pub const SCHEME_REPORT: u8 = 0x05;
/// NETWORK_KEY_SET.
pub const NETWORK_KEY_SET: u8 = 0x06;
/// NETWORK_KEY_VERIFY.
pub const NETWORK_KEY_VERIFY: u8 = 0x07;
/// SECURITY_NONCE_GET.
pub const NONCE_GET: u8 = 0x40;
/// SECURITY_NONCE_REPORT.
pub const NONCE_REPORT: u8 = 0x80;
/// SECURITY_MESSAGE_ENCAPSULATION.
pub const ENCAP: u8 = 0x81;

/// Nonce length.
pub const NONCE_LEN: usize = 8;
/// Smallest encapsulated frame: header, nonce, sequence byte, one CC byte, id, MAC.
const MIN_ENCAP: usize = 2 + NONCE_LEN + 2 + 1 + 8;

/// The table entry: security frames are handled by the bridge, not decoded as values.
pub const CC: CcSpec = CcSpec {
    id: CcId::Security,
    name: "Security 0",
    controls: super::none_controls,
    interview: super::no_frames,
    follow_up: no_follow_up,
    decode: |cmd| {
        need(cmd, 2, CcId::Security)?;
        Ok(Vec::<Decoded>::new())
    },
    set: read_only,
    get: no_get,
};

fn aes(key: &[u8; 16], block: [u8; 16]) -> [u8; 16] {
    let cipher = Aes128::new(&Array::from(*key));
    let mut b = Array::from(block);
    cipher.encrypt_block(&mut b);
    b.into()
}

/// The keys derived from one network key.
#[derive(Clone, PartialEq, Eq)]
pub struct Keys {
    auth: [u8; 16],
    enc: [u8; 16],
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.write_str("Keys(..)")
    }
}

impl Keys {
    /// Derives Ka and Ke from network key `k`.
    pub fn new(k: &[u8; 16]) -> Self {
        Self {
            auth: aes(k, [0x55; 16]),
            enc: aes(k, [0xAA; 16]),
        }
    }

    /// The temporary keys of inclusion (network key all zeros).
    pub fn temporary() -> Self {
        Self::new(&[0; 16])
    }

    fn ofb(&self, iv: [u8; 16], data: &mut [u8]) {
        let mut stream = iv;
        for chunk in data.chunks_mut(16) {
            stream = aes(&self.enc, stream);
            for (d, s) in chunk.iter_mut().zip(stream) {
                *d ^= s;
            }
        }
    }

    fn mac(&self, iv: &[u8; 16], header: [u8; 4], ciphertext: &[u8]) -> [u8; 8] {
        let mut data = iv.to_vec();
        data.extend_from_slice(&header);
        data.extend_from_slice(ciphertext);
        data.resize(data.len().div_ceil(16) * 16, 0);
        let mut state = [0u8; 16];
        for block in data.chunks(16) {
            for (s, b) in state.iter_mut().zip(block) {
                *s ^= b;
            }
            state = aes(&self.auth, state);
        }
        let mut mac = [0u8; 8];
        mac.copy_from_slice(&state[..8]);
        mac
    }
}

fn iv(sender: &[u8; NONCE_LEN], receiver: &[u8; NONCE_LEN]) -> [u8; 16] {
    let mut iv = [0u8; 16];
    iv[..8].copy_from_slice(sender);
    iv[8..].copy_from_slice(receiver);
    iv
}

/// Encrypts `cmd` from node `src` to node `dst` with the receiver's nonce.
pub fn encapsulate(
    keys: &Keys,
    src: u8,
    dst: u8,
    sender_nonce: &[u8; NONCE_LEN],
    receiver_nonce: &[u8; NONCE_LEN],
    cmd: &[u8],
) -> Vec<u8> {
    let iv = iv(sender_nonce, receiver_nonce);
    let mut payload = Vec::with_capacity(cmd.len() + 1);
    // Sequence byte 0: a single, unsequenced frame.
    payload.push(0x00);
    payload.extend_from_slice(cmd);
    keys.ofb(iv, &mut payload);
    let mac = keys.mac(&iv, [ENCAP, src, dst, payload.len() as u8], &payload);
    let mut out = vec![0x98, ENCAP];
    out.extend_from_slice(sender_nonce);
    out.extend_from_slice(&payload);
    out.push(receiver_nonce[0]);
    out.extend_from_slice(&mac);
    out
}

/// The receiver nonce id of an encapsulated frame (to find the nonce it was made with).
pub fn receiver_nonce_id(frame: &[u8]) -> Option<u8> {
    if frame.len() < MIN_ENCAP || frame[0] != 0x98 || frame[1] != ENCAP {
        return None;
    }
    frame.get(frame.len() - 9).copied()
}

/// Verifies and decrypts an encapsulated frame from `src` to `dst`; returns the CC frame.
pub fn decapsulate(
    keys: &Keys,
    src: u8,
    dst: u8,
    receiver_nonce: &[u8; NONCE_LEN],
    frame: &[u8],
) -> Result<Vec<u8>, CcError> {
    let invalid = |reason| CcError::Invalid {
        cc: CcId::Security,
        reason,
    };
    if frame.len() < MIN_ENCAP || frame[1] != ENCAP {
        return Err(invalid("encapsulated frame too short"));
    }
    let mut sender = [0u8; NONCE_LEN];
    sender.copy_from_slice(&frame[2..10]);
    let body_end = frame.len() - 9;
    let ciphertext = &frame[10..body_end];
    if frame[body_end] != receiver_nonce[0] {
        return Err(invalid("nonce id mismatch"));
    }
    let iv = iv(&sender, receiver_nonce);
    let mac = keys.mac(&iv, [ENCAP, src, dst, ciphertext.len() as u8], ciphertext);
    if mac[..] != frame[body_end + 1..] {
        return Err(invalid("MAC mismatch"));
    }
    let mut plain = ciphertext.to_vec();
    keys.ofb(iv, &mut plain);
    if plain[0] & 0x30 != 0 {
        return Err(invalid("sequenced S0 frames not supported"));
    }
    Ok(plain.split_off(1))
}

/// SECURITY_NONCE_REPORT carrying `nonce`.
pub fn nonce_report(nonce: &[u8; NONCE_LEN]) -> Vec<u8> {
    let mut out = vec![0x98, NONCE_REPORT];
    out.extend_from_slice(nonce);
    out
}

/// The nonce in a SECURITY_NONCE_REPORT.
pub fn parse_nonce_report(cmd: &[u8]) -> Option<[u8; NONCE_LEN]> {
    if cmd.len() < 2 + NONCE_LEN || cmd[0] != 0x98 || cmd[1] != NONCE_REPORT {
        return None;
    }
    let mut n = [0u8; NONCE_LEN];
    n.copy_from_slice(&cmd[2..2 + NONCE_LEN]);
    Some(n)
}

/// A fresh random nonce (its first byte, the id, is never 0).
pub fn new_nonce() -> [u8; NONCE_LEN] {
    let mut n: [u8; NONCE_LEN] = rand::random();
    if n[0] == 0 {
        n[0] = 1;
    }
    n
}

/// NETWORK_KEY_SET (to be sent encapsulated under [`Keys::temporary`]).
pub fn network_key_set(key: &[u8; 16]) -> Vec<u8> {
    let mut out = vec![0x98, NETWORK_KEY_SET];
    out.extend_from_slice(key);
    out
}

/// CCs listed in SECURITY_COMMANDS_SUPPORTED_REPORT (supported ones, before the mark).
pub fn parse_commands_supported(cmd: &[u8]) -> Option<Vec<u8>> {
    if cmd.len() < 3 || cmd[0] != 0x98 || cmd[1] != COMMANDS_SUPPORTED_REPORT {
        return None;
    }
    Some(
        cmd[3..]
            .iter()
            .copied()
            .take_while(|c| *c != 0xEF)
            .collect(),
    )
}

/// SECURITY_COMMANDS_SUPPORTED_REPORT (simulator side).
pub fn commands_supported_report(ccs: &[u8]) -> Vec<u8> {
    let mut out = vec![0x98, COMMANDS_SUPPORTED_REPORT, 0x00];
    out.extend_from_slice(ccs);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 16] = [
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F,
        0x10,
    ];

    #[test]
    fn key_derivation_matches_fips197_aes() {
        // FIPS-197 C.1 AES-128 vector: the primitive behind Ka/Ke derivation.
        let k: [u8; 16] = std::array::from_fn(|i| i as u8);
        let p: [u8; 16] = std::array::from_fn(|i| (i as u8) * 0x11);
        assert_eq!(
            aes(&k, p),
            [
                0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30, 0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4,
                0xc5, 0x5a
            ]
        );
        let keys = Keys::new(&KEY);
        assert_eq!(keys.auth, aes(&KEY, [0x55; 16]));
        assert_ne!(keys.auth, keys.enc);
    }

    #[test]
    fn encapsulation_round_trips_and_hides_the_command() {
        let keys = Keys::new(&KEY);
        let (sn, rn) = (
            [1u8, 2, 3, 4, 5, 6, 7, 8],
            [9u8, 10, 11, 12, 13, 14, 15, 16],
        );
        let cmd = [0x62, 0x01, 0xFF];
        let frame = encapsulate(&keys, 1, 7, &sn, &rn, &cmd);
        assert_eq!(frame.len(), 2 + 8 + 4 + 1 + 8);
        assert!(!frame.windows(3).any(|w| w == cmd));
        assert_eq!(receiver_nonce_id(&frame), Some(9));
        assert_eq!(decapsulate(&keys, 1, 7, &rn, &frame).unwrap(), cmd);
    }

    #[test]
    fn tampered_frames_wrong_key_wrong_nonce_or_addresses_are_rejected() {
        let keys = Keys::new(&KEY);
        let (sn, rn) = ([1u8; 8], [2u8; 8]);
        let frame = encapsulate(&keys, 1, 7, &sn, &rn, &[0x62, 0x02]);
        let mut bad = frame.clone();
        bad[11] ^= 0x01;
        assert!(decapsulate(&keys, 1, 7, &rn, &bad).is_err());
        assert!(decapsulate(&Keys::temporary(), 1, 7, &rn, &frame).is_err());
        assert!(decapsulate(&keys, 1, 7, &[3u8; 8], &frame).is_err());
        assert!(decapsulate(&keys, 2, 7, &rn, &frame).is_err());
        assert!(decapsulate(&keys, 1, 7, &rn, &frame[..10]).is_err());
    }

    #[test]
    fn nonce_and_supported_reports_parse() {
        let n = new_nonce();
        assert_ne!(n[0], 0);
        assert_eq!(parse_nonce_report(&nonce_report(&n)), Some(n));
        assert_eq!(
            parse_commands_supported(&commands_supported_report(&[0x62, 0x80, 0xEF, 0x20])),
            Some(vec![0x62, 0x80])
        );
    }
}
