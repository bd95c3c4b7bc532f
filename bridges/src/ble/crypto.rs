//! AES-128-CCM with a 4-byte tag, as encrypted BTHome v2 (13-byte nonce, no associated data)
//! and Xiaomi MiBeacon v4/v5 (12-byte nonce, associated data `0x11`) use it, and the
//! per-device 16-byte bind key from configuration.

use std::fmt;
use std::str::FromStr;

use aes::Aes128;
use ccm::Ccm;
use ccm::aead::{AeadInOut, KeyInit};
use ccm::consts::{U4, U12, U13};

/// Length of the CCM authentication tag (MIC) both formats use.
pub const MIC_LEN: usize = 4;

/// A device's 128-bit bind key. `Debug` does not print it.
#[derive(Clone, PartialEq, Eq)]
pub struct BindKey(pub [u8; 16]);

impl fmt::Debug for BindKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BindKey(..)")
    }
}

/// A bind key that is not 32 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bind key must be 32 hex digits")]
pub struct BindKeyParseError;

impl FromStr for BindKey {
    type Err = BindKeyParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BindKeyParseError);
        }
        let mut out = [0u8; 16];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).map_err(|_| BindKeyParseError)?;
        }
        Ok(Self(out))
    }
}

impl<'de> serde::Deserialize<'de> for BindKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Decryption failed: wrong key, tampered or truncated frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("authentication failed (wrong bind key or corrupted frame)")]
pub struct DecryptError;

type Ccm13 = Ccm<Aes128, U4, U13>;
type Ccm12 = Ccm<Aes128, U4, U12>;

fn decrypt_with<C>(
    key: &BindKey,
    nonce: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    mic: &[u8],
) -> Result<Vec<u8>, DecryptError>
where
    C: AeadInOut + KeyInit + ccm::aead::AeadCore<TagSize = U4>,
{
    let cipher = C::new_from_slice(&key.0).map_err(|_| DecryptError)?;
    let nonce: &ccm::aead::Nonce<C> = nonce.try_into().map_err(|_| DecryptError)?;
    let tag: &ccm::aead::Tag<C> = mic.try_into().map_err(|_| DecryptError)?;
    let mut buf = ciphertext.to_vec();
    cipher
        .decrypt_inout_detached(nonce, aad, buf.as_mut_slice().into(), tag)
        .map_err(|_| DecryptError)?;
    Ok(buf)
}

fn encrypt_with<C>(
    key: &BindKey,
    nonce: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Option<(Vec<u8>, [u8; MIC_LEN])>
where
    C: AeadInOut + KeyInit + ccm::aead::AeadCore<TagSize = U4>,
{
    let cipher = C::new_from_slice(&key.0).ok()?;
    let nonce: &ccm::aead::Nonce<C> = nonce.try_into().ok()?;
    let mut buf = plaintext.to_vec();
    let tag = cipher
        .encrypt_inout_detached(nonce, aad, buf.as_mut_slice().into())
        .ok()?;
    let mut mic = [0u8; MIC_LEN];
    mic.copy_from_slice(&tag);
    Some((buf, mic))
}

/// Decrypts a BTHome v2 payload (13-byte nonce, no associated data).
pub fn decrypt_bthome(
    key: &BindKey,
    nonce: &[u8; 13],
    ciphertext: &[u8],
    mic: &[u8; MIC_LEN],
) -> Result<Vec<u8>, DecryptError> {
    decrypt_with::<Ccm13>(key, nonce, &[], ciphertext, mic)
}

/// Encrypts a BTHome v2 payload; returns ciphertext and MIC (used by the simulator and tests).
pub fn encrypt_bthome(key: &BindKey, nonce: &[u8; 13], plaintext: &[u8]) -> (Vec<u8>, [u8; 4]) {
    // Key and nonce have the cipher's exact sizes and advert payloads are far below CCM's
    // length limit, so encryption cannot fail; an empty result would still fail to decrypt.
    encrypt_with::<Ccm13>(key, nonce, &[], plaintext).unwrap_or_default()
}

/// Associated data MiBeacon v4/v5 authenticates.
pub const MIBEACON_AAD: [u8; 1] = [0x11];

/// Decrypts a MiBeacon v4/v5 payload (12-byte nonce, associated data `0x11`).
pub fn decrypt_mibeacon(
    key: &BindKey,
    nonce: &[u8; 12],
    ciphertext: &[u8],
    mic: &[u8; MIC_LEN],
) -> Result<Vec<u8>, DecryptError> {
    decrypt_with::<Ccm12>(key, nonce, &MIBEACON_AAD, ciphertext, mic)
}

/// Encrypts a MiBeacon v4/v5 payload; returns ciphertext and MIC.
pub fn encrypt_mibeacon(key: &BindKey, nonce: &[u8; 12], plaintext: &[u8]) -> (Vec<u8>, [u8; 4]) {
    encrypt_with::<Ccm12>(key, nonce, &MIBEACON_AAD, plaintext).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_keys_parse_from_hex_and_do_not_print() {
        let k: BindKey = "231d39c1d7cc1ab1aee224cd096db932".parse().unwrap();
        assert_eq!(k.0[0], 0x23);
        assert_eq!(k.0[15], 0x32);
        assert_eq!(format!("{k:?}"), "BindKey(..)");
        assert!("231d39".parse::<BindKey>().is_err());
        assert!(
            "zz1d39c1d7cc1ab1aee224cd096db932"
                .parse::<BindKey>()
                .is_err()
        );
    }

    #[test]
    fn wrong_key_fails_authentication() {
        let k = BindKey([1; 16]);
        let nonce = [7u8; 13];
        let (ct, mic) = encrypt_bthome(&k, &nonce, b"\x02\xca\x09");
        assert_eq!(
            decrypt_bthome(&k, &nonce, &ct, &mic).unwrap(),
            b"\x02\xca\x09"
        );
        assert_eq!(
            decrypt_bthome(&BindKey([2; 16]), &nonce, &ct, &mic),
            Err(DecryptError)
        );
    }
}
