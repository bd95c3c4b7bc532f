//! Zero-copy view of BTHome v2 service data (16-bit UUID 0xFCD2; the bytes after the UUID).
//!
//! ```text
//! +------+-----------------+----------------------------------------------+
//! | info | MAC (6, LSB 1st)| plain: object id, data, object id, data ...   |
//! |      | if info bit 1   | encrypted: ciphertext | counter (4) | MIC (4)   |
//! +------+-----------------+----------------------------------------------+
//! info: bit 0 encrypted, bit 1 MAC included, bit 2 trigger-based, bits 5-7 version (2)
//! ```

use crate::api::BleAddress;

use super::super::crypto::MIC_LEN;

/// The 16-bit service UUID of BTHome v2.
pub const BTHOME_UUID16: u16 = 0xFCD2;

const INFO_ENCRYPTED: u8 = 1 << 0;
const INFO_MAC_INCLUDED: u8 = 1 << 1;
const INFO_TRIGGER_BASED: u8 = 1 << 2;
/// Length of the encryption counter.
pub const COUNTER_LEN: usize = 4;

/// Why service data is not a BTHome v2 frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Shorter than its header says.
    #[error("frame truncated")]
    Truncated,
    /// Version bits are not 2.
    #[error("BTHome version {0} not supported")]
    Version(u8),
}

/// A BTHome v2 frame over a byte buffer; accessors are infallible after `new_checked`.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps without checking; accessors may panic on short buffers.
    pub fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps and validates lengths and version once.
    pub fn new_checked(buffer: T) -> Result<Self, FrameError> {
        let f = Self::new_unchecked(buffer);
        f.check()?;
        Ok(f)
    }

    fn check(&self) -> Result<(), FrameError> {
        let b = self.buffer.as_ref();
        let info = *b.first().ok_or(FrameError::Truncated)?;
        let version = info >> 5;
        if version != 2 {
            return Err(FrameError::Version(version));
        }
        let mut min = self.header_len();
        if info & INFO_ENCRYPTED != 0 {
            min += COUNTER_LEN + MIC_LEN;
        }
        if b.len() < min {
            return Err(FrameError::Truncated);
        }
        Ok(())
    }

    fn header_len(&self) -> usize {
        if self.device_info() & INFO_MAC_INCLUDED != 0 {
            7
        } else {
            1
        }
    }

    /// The device-information byte.
    pub fn device_info(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Whether the objects are encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.device_info() & INFO_ENCRYPTED != 0
    }

    /// Whether the device sends only on events (no regular interval).
    pub fn is_trigger_based(&self) -> bool {
        self.device_info() & INFO_TRIGGER_BASED != 0
    }

    /// The MAC carried in the frame (legacy bit 1), most significant byte first.
    pub fn mac(&self) -> Option<BleAddress> {
        if self.device_info() & INFO_MAC_INCLUDED == 0 {
            return None;
        }
        let b = &self.buffer.as_ref()[1..7];
        Some(BleAddress([b[5], b[4], b[3], b[2], b[1], b[0]]))
    }

    /// Everything after the header: objects, or ciphertext + counter + MIC.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// The encrypted objects (encrypted frames only; empty otherwise).
    pub fn ciphertext(&self) -> &[u8] {
        let p = self.payload();
        if !self.is_encrypted() {
            return &[];
        }
        &p[..p.len() - COUNTER_LEN - MIC_LEN]
    }

    /// The encryption counter bytes as sent (encrypted frames only).
    pub fn counter_bytes(&self) -> [u8; COUNTER_LEN] {
        let p = self.payload();
        let mut c = [0u8; COUNTER_LEN];
        if self.is_encrypted() {
            let start = p.len() - COUNTER_LEN - MIC_LEN;
            c.copy_from_slice(&p[start..start + COUNTER_LEN]);
        }
        c
    }

    /// The MIC (encrypted frames only).
    pub fn mic(&self) -> [u8; MIC_LEN] {
        let p = self.payload();
        let mut m = [0u8; MIC_LEN];
        if self.is_encrypted() {
            m.copy_from_slice(&p[p.len() - MIC_LEN..]);
        }
        m
    }

    /// The CCM nonce: device address (MSB first), UUID (LE), device info, counter.
    pub fn nonce(&self, address: BleAddress) -> [u8; 13] {
        let mut n = [0u8; 13];
        n[..6].copy_from_slice(&address.0);
        n[6..8].copy_from_slice(&BTHOME_UUID16.to_le_bytes());
        n[8] = self.device_info();
        n[9..].copy_from_slice(&self.counter_bytes());
        n
    }
}

/// Builds the device-information byte for a version 2 frame.
pub fn device_info(encrypted: bool, trigger_based: bool) -> u8 {
    let mut b = 2 << 5;
    if encrypted {
        b |= INFO_ENCRYPTED;
    }
    if trigger_based {
        b |= INFO_TRIGGER_BASED;
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_frame_exposes_flags_and_objects() {
        let f = Frame::new_checked(&[0x44u8, 0x04, 0x13, 0x8a, 0x01][..]).unwrap();
        assert!(!f.is_encrypted());
        assert!(f.is_trigger_based());
        assert_eq!(f.mac(), None);
        assert_eq!(f.payload(), &[0x04, 0x13, 0x8a, 0x01]);
    }

    #[test]
    fn wrong_version_and_short_frames_are_rejected() {
        assert_eq!(
            Frame::new_checked(&[0x20u8, 0x01][..]).unwrap_err(),
            FrameError::Version(1)
        );
        assert_eq!(
            Frame::new_checked(&[][..]).unwrap_err(),
            FrameError::Truncated
        );
        // Encrypted needs counter + MIC.
        assert_eq!(
            Frame::new_checked(&[0x41u8, 1, 2, 3, 4, 5, 6, 7][..]).unwrap_err(),
            FrameError::Truncated
        );
        // MAC flag needs 6 address bytes.
        assert_eq!(
            Frame::new_checked(&[0x42u8, 1, 2, 3][..]).unwrap_err(),
            FrameError::Truncated
        );
    }

    #[test]
    fn included_mac_is_reversed_to_printed_order() {
        let f = Frame::new_checked(&[0x42u8, 0xa5, 0x80, 0x8f, 0xe6, 0x48, 0x54, 0x01, 0x64][..])
            .unwrap();
        assert_eq!(f.mac().unwrap().to_string(), "54:48:E6:8F:80:A5");
        assert_eq!(f.payload(), &[0x01, 0x64]);
    }
}
