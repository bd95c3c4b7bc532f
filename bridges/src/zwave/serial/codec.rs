//! Framer for the Z-Wave Serial API byte stream: a `tokio_util::codec` Decoder/Encoder.
//!
//! Implements the link layer of the Z-Wave Host API Specification ("Data frame",
//! "ACK/NAK/CAN frame", "Error handling"): the stream is a sequence of units, each either
//! a single byte (ACK 0x06, NAK 0x15, CAN 0x18) or a data frame starting with SOF 0x01.
//! The decoder only finds unit boundaries; [`super::frame`] parses the frame itself.
//!
//! Any other byte where a unit should start is garbage: it is skipped, counted in
//! [`SerialCodec::skipped_bytes`] and logged once per run of garbage. A data frame with a
//! wrong checksum is consumed whole and reported as [`Unit::Corrupt`], so the host can
//! answer NAK as the spec requires. The decoder never allocates from a length it read:
//! `LEN` is one byte, so a frame is at most 257 bytes.

use bytes::{Buf, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::frame::{ACK, CAN, Frame, MIN_LEN_FIELD, NAK, SOF};

/// One unit on the Serial API link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit {
    /// ACK 0x06.
    Ack,
    /// NAK 0x15.
    Nak,
    /// CAN 0x18.
    Can,
    /// A data frame whose length and checksum are valid.
    Frame(Frame<Bytes>),
    /// A data frame whose checksum is wrong (the raw bytes, for logging); answer NAK.
    Corrupt(Bytes),
}

impl Unit {
    /// The unit's bytes on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Unit::Ack => &[ACK],
            Unit::Nak => &[NAK],
            Unit::Can => &[CAN],
            Unit::Frame(f) => f.as_bytes(),
            Unit::Corrupt(b) => b,
        }
    }
}

/// The Serial API framer. Keeps a count of the garbage bytes it skipped.
#[derive(Debug, Default)]
pub struct SerialCodec {
    skipped: u64,
    /// Garbage bytes skipped since the last good unit, for one log line per run.
    run: u64,
}

impl SerialCodec {
    /// A new codec with zero counters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Total number of bytes skipped while resynchronising.
    pub fn skipped_bytes(&self) -> u64 {
        self.skipped
    }

    fn skip(&mut self, src: &mut BytesMut, n: usize) {
        src.advance(n);
        self.skipped += n as u64;
        self.run += n as u64;
    }

    fn end_run(&mut self) {
        if self.run > 0 {
            tracing::warn!(
                skipped = self.run,
                total = self.skipped,
                "zwave serial: skipped garbage bytes while resynchronising"
            );
            self.run = 0;
        }
    }

    /// Drops a partial frame that has waited longer than the byte timeout.
    ///
    /// The caller (the port actor) owns the clock; it calls this when no byte completed the
    /// frame in time, so a lost byte does not stall the link until the next SOF.
    pub fn discard_partial(&mut self, src: &mut BytesMut) {
        if !src.is_empty() {
            // Skip only the SOF: a valid frame may start inside the bytes already buffered.
            self.skip(src, 1);
            self.end_run();
        }
    }
}

impl Decoder for SerialCodec {
    type Item = Unit;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Unit>, Self::Error> {
        loop {
            let Some(&first) = src.first() else {
                return Ok(None);
            };
            let single = match first {
                ACK => Some(Unit::Ack),
                NAK => Some(Unit::Nak),
                CAN => Some(Unit::Can),
                SOF => None,
                _ => {
                    self.skip(src, 1);
                    continue;
                }
            };
            if let Some(unit) = single {
                self.end_run();
                src.advance(1);
                return Ok(Some(unit));
            }
            let Some(&len) = src.get(1) else {
                return Ok(None);
            };
            if len < MIN_LEN_FIELD {
                // A data frame cannot be this short: this SOF was garbage.
                self.skip(src, 1);
                continue;
            }
            let total = usize::from(len) + 2;
            if src.len() < total {
                src.reserve(total - src.len());
                return Ok(None);
            }
            self.end_run();
            let bytes = src.split_to(total).freeze();
            let frame = Frame::new_unchecked(bytes);
            return Ok(Some(match frame.check_checksum() {
                Ok(()) => Unit::Frame(frame),
                Err(e) => {
                    tracing::warn!(error = %e, bytes = ?frame.as_bytes(), "zwave serial: corrupt frame");
                    Unit::Corrupt(frame.into_inner())
                }
            }));
        }
    }
}

impl Encoder<Unit> for SerialCodec {
    type Error = std::io::Error;

    fn encode(&mut self, unit: Unit, dst: &mut BytesMut) -> Result<(), Self::Error> {
        dst.extend_from_slice(unit.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zwave::serial::frame::request;
    use crate::zwave::serial::functions::FunctionId;

    fn decode_all(codec: &mut SerialCodec, bytes: &[u8]) -> Vec<Unit> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(u) = codec.decode(&mut buf).unwrap() {
            out.push(u);
        }
        out
    }

    #[test]
    fn single_byte_units_decode() {
        let mut c = SerialCodec::new();
        assert_eq!(
            decode_all(&mut c, &[ACK, NAK, CAN]),
            vec![Unit::Ack, Unit::Nak, Unit::Can]
        );
        assert_eq!(c.skipped_bytes(), 0);
    }

    #[test]
    fn garbled_bytes_are_skipped_counted_and_next_frame_decodes() {
        let mut c = SerialCodec::new();
        let mut stream = vec![0xAA, 0x55, 0x01, 0x00, 0x42];
        stream.extend_from_slice(&[0x01, 0x03, 0x00, 0x15, 0xE9]);
        let units = decode_all(&mut c, &stream);
        assert_eq!(units.len(), 1);
        let Unit::Frame(f) = &units[0] else {
            panic!("expected frame, got {units:?}")
        };
        assert_eq!(f.function_id(), FunctionId::GetVersion);
        // 0xAA, 0x55, SOF with LEN 0, 0x00 and 0x42.
        assert_eq!(c.skipped_bytes(), 5);
    }

    #[test]
    fn frame_split_across_reads_waits_for_the_rest() {
        let mut c = SerialCodec::new();
        let mut buf = BytesMut::from(&[0x01, 0x03, 0x00][..]);
        assert_eq!(c.decode(&mut buf).unwrap(), None);
        buf.extend_from_slice(&[0x15, 0xE9, ACK]);
        assert!(matches!(c.decode(&mut buf).unwrap(), Some(Unit::Frame(_))));
        assert_eq!(c.decode(&mut buf).unwrap(), Some(Unit::Ack));
        assert_eq!(c.decode(&mut buf).unwrap(), None);
    }

    #[test]
    fn corrupt_frame_is_reported_whole_and_following_unit_survives() {
        let mut c = SerialCodec::new();
        let units = decode_all(&mut c, &[0x01, 0x03, 0x00, 0x15, 0x00, ACK]);
        assert_eq!(
            units,
            vec![
                Unit::Corrupt(Bytes::from_static(&[0x01, 0x03, 0x00, 0x15, 0x00])),
                Unit::Ack
            ]
        );
    }

    #[test]
    fn stale_partial_frame_is_discarded_on_byte_timeout() {
        let mut c = SerialCodec::new();
        // A frame announcing 10 bytes whose tail was lost, then a complete frame.
        let mut buf = BytesMut::from(&[0x01, 0x0A, 0x00, 0x13][..]);
        assert_eq!(c.decode(&mut buf).unwrap(), None);
        c.discard_partial(&mut buf);
        buf.extend_from_slice(&[0x01, 0x03, 0x00, 0x15, 0xE9]);
        let mut got = Vec::new();
        while let Some(u) = c.decode(&mut buf).unwrap() {
            got.push(u);
        }
        assert!(
            matches!(got.as_slice(), [Unit::Frame(f)] if f.function_id() == FunctionId::GetVersion)
        );
        assert_eq!(c.skipped_bytes(), 4);
    }

    #[test]
    fn encoder_writes_unit_bytes_verbatim() {
        let mut c = SerialCodec::new();
        let mut dst = BytesMut::new();
        c.encode(Unit::Ack, &mut dst).unwrap();
        c.encode(
            Unit::Frame(request(FunctionId::GetVersion, &[]).unwrap()),
            &mut dst,
        )
        .unwrap();
        assert_eq!(&dst[..], &[ACK, 0x01, 0x03, 0x00, 0x15, 0xE9]);
    }

    #[test]
    fn arbitrary_noise_never_panics() {
        let mut c = SerialCodec::new();
        let mut seed = 0x1234_5678u32;
        let noise: Vec<u8> = (0..4096)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed & 0xFF) as u8
            })
            .collect();
        let mut buf = BytesMut::from(&noise[..]);
        let mut n = 0;
        while let Some(_u) = c.decode(&mut buf).unwrap() {
            n += 1;
        }
        assert!(n > 0);
        assert!(buf.len() < 258);
    }
}
