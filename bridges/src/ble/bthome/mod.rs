//! BTHome v2 (bthome.io "BTHome format v2"): the frame view ([`frame`]), the object table
//! ([`objects`]), the object walker, decryption (AES-CCM, "Encryption" section) and a builder
//! that emits frames (used by tests and the simulated adapter).
//!
//! Objects follow each other as `id, data` with no length (except text/raw, which carry a
//! length byte), so an id missing from the table ends the walk: the readings before it are
//! kept, the rest of the frame is reported as skipped.

pub mod frame;
pub mod objects;

use crate::api::{BleAddress, Decimal};

use super::crypto::{self, BindKey, DecryptError};
use super::reading::{ButtonEvent, DimmerEvent, Reading};
use frame::{Frame, FrameError};
use objects::{Format, ObjectSpec};

/// Why an object could not be read; the walk stops there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// An id the table does not know (its length is unknowable).
    #[error("unknown object id {id:#04x} at offset {offset}")]
    UnknownId {
        /// The id.
        id: u8,
        /// Offset in the (decrypted) object bytes.
        offset: usize,
    },
    /// The frame ends inside an object.
    #[error("object {id:#04x} truncated at offset {offset}")]
    Truncated {
        /// The id.
        id: u8,
        /// Offset in the object bytes.
        offset: usize,
    },
    /// Text that is not UTF-8.
    #[error("object {id:#04x} holds invalid UTF-8")]
    InvalidText {
        /// The id.
        id: u8,
    },
}

/// Why a frame could not be decoded at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BthomeError {
    /// Not a valid v2 frame.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Encrypted, and no bind key is configured for the device.
    #[error("encrypted frame and no bind key configured")]
    NoKey,
    /// A bind key is configured but the frame came unencrypted (possible downgrade attack).
    #[error("unencrypted frame from a device with a bind key")]
    Downgrade,
    /// Decryption failed.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
}

/// One object as found in the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawObject<'a> {
    /// Its table row.
    pub spec: &'static ObjectSpec,
    /// Its data bytes (without the id or length byte).
    pub data: &'a [u8],
}

/// Walks the objects of a plain (or decrypted) payload.
#[derive(Debug, Clone)]
pub struct Objects<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Objects<'a> {
    /// A walker over `data` (the bytes after the header, decrypted if needed).
    pub fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for Objects<'a> {
    type Item = Result<RawObject<'a>, ObjectError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let offset = self.pos;
        let id = self.data[offset];
        let Some(spec) = objects::spec(id) else {
            self.done = true;
            return Some(Err(ObjectError::UnknownId { id, offset }));
        };
        let (start, len) = match spec.format.fixed_len() {
            Some(n) => (offset + 1, n),
            None => match self.data.get(offset + 1) {
                Some(n) => (offset + 2, usize::from(*n)),
                None => {
                    self.done = true;
                    return Some(Err(ObjectError::Truncated { id, offset }));
                }
            },
        };
        let Some(data) = self.data.get(start..start + len) else {
            self.done = true;
            return Some(Err(ObjectError::Truncated { id, offset }));
        };
        self.pos = start + len;
        Some(Ok(RawObject { spec, data }))
    }
}

fn le_unsigned(b: &[u8]) -> u64 {
    b.iter()
        .rev()
        .fold(0u64, |acc, x| (acc << 8) | u64::from(*x))
}

fn le_signed(b: &[u8]) -> i64 {
    let u = le_unsigned(b);
    let bits = 8 * b.len() as u32;
    if bits == 0 || bits >= 64 {
        return u as i64;
    }
    // Sign-extend from the object's width.
    let shift = 64 - bits;
    ((u << shift) as i64) >> shift
}

impl RawObject<'_> {
    /// The typed reading of this object.
    pub fn reading(&self) -> Result<Reading, ObjectError> {
        let d = self.data;
        Ok(match self.spec.format {
            Format::PacketId => Reading::PacketId(d[0]),
            Format::Level {
                quantity,
                signed,
                mult,
                scale,
                ..
            } => {
                // At most 4 bytes: the product with a u16 multiplier fits in i64.
                let raw = if signed {
                    le_signed(d)
                } else {
                    le_unsigned(d) as i64
                };
                Reading::Level {
                    quantity,
                    value: Decimal::new(raw * i64::from(mult), scale),
                }
            }
            Format::Binary(kind) => Reading::Binary {
                kind,
                value: d[0] != 0,
            },
            Format::Button => Reading::Button(ButtonEvent::from_bthome(d[0])),
            Format::Dimmer => Reading::Dimmer {
                event: DimmerEvent::from_bthome(d[0]),
                steps: d[1],
            },
            Format::Text => Reading::Text(
                std::str::from_utf8(d)
                    .map_err(|_| ObjectError::InvalidText { id: self.spec.id })?
                    .to_owned(),
            ),
            Format::Raw => Reading::Raw(d.to_vec()),
            Format::Timestamp => Reading::Timestamp(le_unsigned(d) as u32),
            Format::DeviceTypeId => Reading::DeviceTypeId(le_unsigned(d) as u16),
            Format::Firmware { .. } => {
                let parts: Vec<String> = d.iter().rev().map(u8::to_string).collect();
                Reading::Firmware(parts.join("."))
            }
        })
    }
}

/// A decoded BTHome v2 frame.
#[derive(Debug, Clone, PartialEq)]
pub struct BthomeRepr {
    /// The frame was encrypted (and authenticated with the bind key).
    pub encrypted: bool,
    /// The device sends only on events.
    pub trigger_based: bool,
    /// Encryption counter (replay protection), for encrypted frames.
    pub counter: Option<u32>,
    /// Readings in frame order.
    pub readings: Vec<Reading>,
    /// Where and why the object walk stopped early, if it did.
    pub stopped: Option<ObjectError>,
}

impl BthomeRepr {
    /// Decodes a frame heard from `address`, decrypting with `key` when the frame is
    /// encrypted. A configured key makes unencrypted frames an error (downgrade).
    pub fn parse<T: AsRef<[u8]>>(
        frame: &Frame<T>,
        address: BleAddress,
        key: Option<&BindKey>,
    ) -> Result<Self, BthomeError> {
        let plain;
        let (objects, counter) = if frame.is_encrypted() {
            let key = key.ok_or(BthomeError::NoKey)?;
            let addr = frame.mac().unwrap_or(address);
            plain =
                crypto::decrypt_bthome(key, &frame.nonce(addr), frame.ciphertext(), &frame.mic())?;
            (&plain[..], Some(u32::from_le_bytes(frame.counter_bytes())))
        } else {
            if key.is_some() {
                return Err(BthomeError::Downgrade);
            }
            (frame.payload(), None)
        };
        let mut readings = Vec::new();
        let mut stopped = None;
        for obj in Objects::new(objects) {
            match obj.and_then(|o| o.reading()) {
                Ok(r) => readings.push(r),
                Err(e) => {
                    stopped = Some(e);
                    break;
                }
            }
        }
        Ok(Self {
            encrypted: frame.is_encrypted(),
            trigger_based: frame.is_trigger_based(),
            counter,
            readings,
            stopped,
        })
    }

    /// The packet id, if the frame carries one.
    pub fn packet_id(&self) -> Option<u8> {
        self.readings.iter().find_map(|r| match r {
            Reading::PacketId(p) => Some(*p),
            _ => None,
        })
    }
}

/// Emits BTHome v2 frames from raw objects (the device side: tests, simulated sensors).
#[derive(Debug, Clone, Default)]
pub struct FrameBuilder {
    objects: Vec<u8>,
    trigger_based: bool,
}

impl FrameBuilder {
    /// An empty frame.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks the device as trigger-based.
    pub fn trigger_based(mut self) -> Self {
        self.trigger_based = true;
        self
    }

    /// Appends an object: its id and its data bytes exactly as the table lays them out
    /// (for text/raw: the content; the length byte is added here).
    pub fn object(mut self, id: u8, data: &[u8]) -> Self {
        self.objects.push(id);
        if matches!(
            objects::spec(id).map(|s| s.format),
            Some(Format::Text | Format::Raw)
        ) {
            self.objects.push(data.len().min(255) as u8);
            self.objects.extend_from_slice(&data[..data.len().min(255)]);
        } else {
            self.objects.extend_from_slice(data);
        }
        self
    }

    /// The unencrypted service data.
    pub fn build(&self) -> Vec<u8> {
        let mut out = vec![frame::device_info(false, self.trigger_based)];
        out.extend_from_slice(&self.objects);
        out
    }

    /// The service data encrypted for `address` with `key` and `counter`.
    pub fn build_encrypted(&self, key: &BindKey, address: BleAddress, counter: u32) -> Vec<u8> {
        let info = frame::device_info(true, self.trigger_based);
        let mut nonce = [0u8; 13];
        nonce[..6].copy_from_slice(&address.0);
        nonce[6..8].copy_from_slice(&frame::BTHOME_UUID16.to_le_bytes());
        nonce[8] = info;
        nonce[9..].copy_from_slice(&counter.to_le_bytes());
        let (ct, mic) = crypto::encrypt_bthome(key, &nonce, &self.objects);
        let mut out = vec![info];
        out.extend_from_slice(&ct);
        out.extend_from_slice(&counter.to_le_bytes());
        out.extend_from_slice(&mic);
        out
    }
}

#[cfg(test)]
mod tests;
