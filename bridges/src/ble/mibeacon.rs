//! Xiaomi MiBeacon (service data UUID 0xFE95; MiEcosystem "MiBeacon" advertising format and
//! "BLE Object" definitions): frame control, the common object ids, and v4/v5 AES-CCM
//! encryption with the device's bind key.
//!
//! ```text
//! | frame control (2) | product id (2) | frame counter (1) | [MAC (6, LSB first)]
//! | [capability (1)] [I/O capability (2) if capability bit 5]
//! | objects: id (2, LE) len (1) data ... | [ext. counter (3) MIC (4) if encrypted]
//! frame control: bit 3 encrypted, 4 MAC, 5 capability, 6 object, 7 mesh, 12-15 version
//! ```
//! v4/v5 nonce (12 bytes): MAC (LSB first), product id, frame counter, ext. counter;
//! associated data `0x11`. Legacy (v2/v3) encryption and mesh frames are refused.

use crate::api::{BleAddress, Decimal};

use super::crypto::{self, BindKey, DecryptError, MIC_LEN};
use super::reading::{BinaryKind, ButtonEvent, Quantity, Reading};

/// The 16-bit service UUID of MiBeacon.
pub const MIBEACON_UUID16: u16 = 0xFE95;

const FC_ENCRYPTED: u16 = 1 << 3;
const FC_MAC: u16 = 1 << 4;
const FC_CAPABILITY: u16 = 1 << 5;
const FC_OBJECT: u16 = 1 << 6;
const FC_MESH: u16 = 1 << 7;
const CAP_IO: u8 = 1 << 5;
const EXT_COUNTER_LEN: usize = 3;

/// Why service data is not a usable MiBeacon frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MiBeaconError {
    /// Shorter than its header says.
    #[error("frame truncated")]
    Truncated,
    /// Mesh frames, versions below 2 or legacy (v2/v3) encryption.
    #[error("unsupported MiBeacon frame (version {version}, control {control:#06x})")]
    Unsupported {
        /// Version bits.
        version: u8,
        /// The frame control word.
        control: u16,
    },
    /// Encrypted, and no bind key is configured.
    #[error("encrypted frame and no bind key configured")]
    NoKey,
    /// Decryption failed.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
}

/// A MiBeacon frame over a byte buffer; accessors are infallible after `new_checked`.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
    header_len: usize,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps and validates the header and trailer lengths once.
    pub fn new_checked(buffer: T) -> Result<Self, MiBeaconError> {
        let b = buffer.as_ref();
        if b.len() < 5 {
            return Err(MiBeaconError::Truncated);
        }
        let control = u16::from_le_bytes([b[0], b[1]]);
        let version = (control >> 12) as u8;
        if control & FC_MESH != 0 || version < 2 {
            return Err(MiBeaconError::Unsupported { version, control });
        }
        let mut h = 5;
        if control & FC_MAC != 0 {
            h += 6;
        }
        if control & FC_CAPABILITY != 0 {
            let cap = *b.get(h).ok_or(MiBeaconError::Truncated)?;
            h += 1;
            if cap & CAP_IO != 0 {
                h += 2;
            }
        }
        let mut min = h;
        if control & FC_ENCRYPTED != 0 && control & FC_OBJECT != 0 {
            if version < 4 {
                return Err(MiBeaconError::Unsupported { version, control });
            }
            min += EXT_COUNTER_LEN + MIC_LEN;
        }
        if b.len() < min {
            return Err(MiBeaconError::Truncated);
        }
        Ok(Self {
            buffer,
            header_len: h,
        })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// The frame control word.
    pub fn frame_control(&self) -> u16 {
        u16::from_le_bytes([self.b()[0], self.b()[1]])
    }

    /// MiBeacon version (2-5).
    pub fn version(&self) -> u8 {
        (self.frame_control() >> 12) as u8
    }

    /// Product id (device model).
    pub fn product_id(&self) -> u16 {
        u16::from_le_bytes([self.b()[2], self.b()[3]])
    }

    /// Frame counter (repeats of one event share it).
    pub fn frame_counter(&self) -> u8 {
        self.b()[4]
    }

    /// Whether the objects are encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.frame_control() & FC_ENCRYPTED != 0
    }

    /// Whether the frame carries objects at all (pairing beacons do not).
    pub fn has_objects(&self) -> bool {
        self.frame_control() & FC_OBJECT != 0
    }

    /// The MAC in the frame, most significant byte first.
    pub fn mac(&self) -> Option<BleAddress> {
        if self.frame_control() & FC_MAC == 0 {
            return None;
        }
        let m = &self.b()[5..11];
        Some(BleAddress([m[5], m[4], m[3], m[2], m[1], m[0]]))
    }

    /// The object bytes (still encrypted if the frame is).
    pub fn objects(&self) -> &[u8] {
        let b = self.b();
        if !self.has_objects() {
            return &[];
        }
        if self.is_encrypted() {
            &b[self.header_len..b.len() - EXT_COUNTER_LEN - MIC_LEN]
        } else {
            &b[self.header_len..]
        }
    }

    /// v4/v5 nonce for a device at `address`.
    pub fn nonce(&self, address: BleAddress) -> [u8; 12] {
        let b = self.b();
        let mut n = [0u8; 12];
        for (i, byte) in address.0.iter().rev().enumerate() {
            n[i] = *byte;
        }
        n[6..9].copy_from_slice(&b[2..5]);
        let ext = b.len() - EXT_COUNTER_LEN - MIC_LEN;
        n[9..].copy_from_slice(&b[ext..ext + EXT_COUNTER_LEN]);
        n
    }

    /// The MIC of an encrypted frame.
    pub fn mic(&self) -> [u8; MIC_LEN] {
        let b = self.b();
        let mut m = [0u8; MIC_LEN];
        m.copy_from_slice(&b[b.len() - MIC_LEN..]);
        m
    }
}

/// One object that could not be used (wrong length for its id); later objects still decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedObject {
    /// Object id.
    pub id: u16,
    /// Its data length.
    pub len: u8,
}

/// A decoded MiBeacon frame.
#[derive(Debug, Clone, PartialEq)]
pub struct MiBeaconRepr {
    /// MiBeacon version.
    pub version: u8,
    /// Product id.
    pub product_id: u16,
    /// Frame counter.
    pub frame_counter: u8,
    /// Whether the frame was encrypted (and authenticated).
    pub encrypted: bool,
    /// Readings in frame order.
    pub readings: Vec<Reading>,
    /// Objects with unknown ids or unexpected lengths.
    pub skipped: Vec<SkippedObject>,
    /// The object list ended inside an object.
    pub truncated: bool,
}

fn le(b: &[u8]) -> u32 {
    b.iter().rev().fold(0u32, |a, x| (a << 8) | u32::from(*x))
}

fn level(quantity: Quantity, mantissa: i64, scale: u8) -> Reading {
    Reading::Level {
        quantity,
        value: Decimal::new(mantissa, scale),
    }
}

fn binary(kind: BinaryKind, value: bool) -> Reading {
    Reading::Binary { kind, value }
}

/// Decodes one object by the common object table; `false` for unknown ids or bad lengths.
fn decode_object(id: u16, d: &[u8], out: &mut Vec<Reading>) -> bool {
    let n = d.len();
    match (id, n) {
        (0x0003, _) => out.push(binary(BinaryKind::Motion, true)),
        (0x000F, 3) => out.push(binary(BinaryKind::Motion, true)),
        (0x1001, 3) => {
            let ev = match d[2] {
                0 => ButtonEvent::Press,
                1 => ButtonEvent::DoublePress,
                2 => ButtonEvent::LongPress,
                other => ButtonEvent::Unknown(other),
            };
            out.push(Reading::Button(ev));
        }
        (0x1004, 2) => out.push(level(
            Quantity::Temperature,
            i64::from(i16::from_le_bytes([d[0], d[1]])),
            1,
        )),
        (0x1006, 2) => out.push(level(Quantity::Humidity, i64::from(le(d)), 1)),
        (0x1007, 3) => out.push(level(Quantity::Illuminance, i64::from(le(d)), 0)),
        (0x1008, 1) => out.push(level(Quantity::Moisture, i64::from(d[0]), 0)),
        (0x1009, 2) => out.push(level(Quantity::Conductivity, i64::from(le(d)), 0)),
        (0x100A, 1) => out.push(level(Quantity::Battery, i64::from(d[0]), 0)),
        (0x100D, 4) => {
            out.push(level(
                Quantity::Temperature,
                i64::from(i16::from_le_bytes([d[0], d[1]])),
                1,
            ));
            out.push(level(Quantity::Humidity, i64::from(le(&d[2..4])), 1));
        }
        (0x1010, 2) => out.push(level(Quantity::Formaldehyde, i64::from(le(d)), 2)),
        (0x1014, 1) => out.push(binary(BinaryKind::Moisture, d[0] != 0)),
        (0x1015, 1) => out.push(binary(BinaryKind::Smoke, d[0] != 0)),
        // Seconds since the last motion; the Mi Home app shows "motion" up to 30 s.
        (0x1017, 4) => out.push(binary(BinaryKind::Motion, le(d) <= 30)),
        (0x1018, 1) => out.push(binary(BinaryKind::Light, d[0] != 0)),
        // 0 open, 1 closed, 2 left open (timeout); 3 is a device reset, not a state.
        (0x1019, 1) if d[0] <= 2 => out.push(binary(BinaryKind::Opening, d[0] != 1)),
        (0x101B, _) => out.push(binary(BinaryKind::Motion, false)),
        // MIoT-spec objects of newer models.
        (0x4803, 1) | (0x4C03, 1) => out.push(level(Quantity::Battery, i64::from(d[0]), 0)),
        (0x4804, 1) | (0x4A12, 1) if matches!(d[0], 1 | 2) => {
            out.push(binary(BinaryKind::Opening, d[0] == 1));
        }
        (0x4805, 4) => return push_float(out, Quantity::Illuminance, d, 0),
        (0x4818, 2) => out.push(binary(BinaryKind::Motion, le(d) <= 30)),
        (0x4A08, 4) => {
            out.push(binary(BinaryKind::Motion, true));
            return push_float(out, Quantity::Illuminance, d, 0);
        }
        (0x4C01, 4) => return push_float(out, Quantity::Temperature, d, 2),
        (0x4C02, 1) => out.push(level(Quantity::Humidity, i64::from(d[0]), 0)),
        (0x4C08, 4) => return push_float(out, Quantity::Humidity, d, 1),
        _ => return false,
    }
    true
}

/// A little-endian IEEE float rounded to `places`; `false` (skipped) if not finite.
fn push_float(out: &mut Vec<Reading>, quantity: Quantity, d: &[u8], places: u8) -> bool {
    let Ok(b) = <[u8; 4]>::try_from(d) else {
        return false;
    };
    match Decimal::from_f64(f64::from(f32::from_le_bytes(b)), places) {
        Some(value) => {
            out.push(Reading::Level { quantity, value });
            true
        }
        None => false,
    }
}

impl MiBeaconRepr {
    /// Decodes a frame heard from `address` (the MAC in the frame wins if present).
    pub fn parse<T: AsRef<[u8]>>(
        frame: &Frame<T>,
        address: BleAddress,
        key: Option<&BindKey>,
    ) -> Result<Self, MiBeaconError> {
        let plain;
        let objects = if frame.is_encrypted() && frame.has_objects() {
            let key = key.ok_or(MiBeaconError::NoKey)?;
            let addr = frame.mac().unwrap_or(address);
            plain =
                crypto::decrypt_mibeacon(key, &frame.nonce(addr), frame.objects(), &frame.mic())?;
            &plain[..]
        } else {
            frame.objects()
        };
        let mut repr = Self {
            version: frame.version(),
            product_id: frame.product_id(),
            frame_counter: frame.frame_counter(),
            encrypted: frame.is_encrypted(),
            readings: Vec::new(),
            skipped: Vec::new(),
            truncated: false,
        };
        let mut pos = 0;
        while pos < objects.len() {
            let Some(hdr) = objects.get(pos..pos + 3) else {
                repr.truncated = true;
                break;
            };
            let id = u16::from_le_bytes([hdr[0], hdr[1]]);
            let len = hdr[2];
            let Some(data) = objects.get(pos + 3..pos + 3 + usize::from(len)) else {
                repr.truncated = true;
                break;
            };
            if !decode_object(id, data, &mut repr.readings) {
                repr.skipped.push(SkippedObject { id, len });
            }
            pos += 3 + usize::from(len);
        }
        Ok(repr)
    }
}

/// Known product ids (model names) of common MiBeacon sensors.
pub fn product_name(product_id: u16) -> Option<&'static str> {
    Some(match product_id {
        0x0098 => "HHCCJCY01",
        0x03BC => "GCLS002",
        0x055B => "LYWSD03MMC",
        0x0863 => "SJWS01LM",
        0x0997 => "JTYJGD03MI",
        0x0A8D => "RTCGQ02LM",
        0x1203 => "XMWSDJ04MMC",
        _ => return None,
    })
}

/// Emits a v5 frame (MAC and objects included), optionally encrypted (tests, simulation).
pub fn build_frame(
    product_id: u16,
    frame_counter: u8,
    address: BleAddress,
    objects: &[(u16, &[u8])],
    encryption: Option<(&BindKey, [u8; 3])>,
) -> Vec<u8> {
    let mut control: u16 = (5 << 12) | FC_MAC | FC_OBJECT | (1 << 8);
    if encryption.is_some() {
        control |= FC_ENCRYPTED;
    }
    let mut out = control.to_le_bytes().to_vec();
    out.extend_from_slice(&product_id.to_le_bytes());
    out.push(frame_counter);
    out.extend(address.0.iter().rev());
    let mut body = Vec::new();
    for (id, data) in objects {
        body.extend_from_slice(&id.to_le_bytes());
        body.push(data.len().min(255) as u8);
        body.extend_from_slice(&data[..data.len().min(255)]);
    }
    match encryption {
        None => out.extend_from_slice(&body),
        Some((key, ext)) => {
            let mut nonce = [0u8; 12];
            for (i, b) in address.0.iter().rev().enumerate() {
                nonce[i] = *b;
            }
            nonce[6..8].copy_from_slice(&product_id.to_le_bytes());
            nonce[8] = frame_counter;
            nonce[9..].copy_from_slice(&ext);
            let (ct, mic) = crypto::encrypt_mibeacon(key, &nonce, &body);
            out.extend_from_slice(&ct);
            out.extend_from_slice(&ext);
            out.extend_from_slice(&mic);
        }
    }
    out
}

#[cfg(test)]
#[path = "mibeacon_tests.rs"]
mod tests;
