//! The ASH framer: finds frame boundaries in a byte stream (flag, cancel, substitute,
//! XON/XOFF, escapes; UG101 §4) and hands each unstuffed frame to the pure parser in
//! [`super::codec`]. A damaged frame is an item, not a stream error, so the link can NAK it;
//! resynchronisation is at the next flag by construction, since ASH has no start byte.

use bytes::{BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::codec::{
    AshFrame, AshFrameError, AshFrameView, CANCEL, ESCAPE, FLAG, FLIP, FrameKind, MAX_FRAME_LEN,
    SUBSTITUTE, WAKE, XOFF, XON, encode, randomize,
};

/// Counters kept by the decoder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodecStats {
    /// Frames decoded.
    pub frames: u64,
    /// Frames reported as errors (cancelled ones included).
    pub bad_frames: u64,
    /// Bytes dropped outside frames: XON/XOFF, wake bytes, extra flags.
    pub skipped_bytes: u64,
}

/// `tokio_util` codec for ASH over a byte stream: decodes to `Result<AshFrame,
/// AshFrameError>` items (a bad frame is an item, so the link can NAK it; the decoder
/// resynchronises at the next flag by construction) and encodes [`AshFrame`]s.
///
/// Memory is bounded: at most [`MAX_FRAME_LEN`] unstuffed bytes are kept per frame.
#[derive(Debug, Default)]
pub struct AshCodec {
    frame: BytesMut,
    escaped: bool,
    error: Option<AshFrameError>,
    stats: CodecStats,
}

/// The decoding half of [`AshCodec`] under the name the link layers use.
pub type AshDecoder = AshCodec;

impl AshCodec {
    /// A fresh codec.
    pub fn new() -> Self {
        AshCodec::default()
    }

    /// Counters since creation.
    pub fn stats(&self) -> CodecStats {
        self.stats
    }

    #[cfg(test)]
    pub(crate) fn frame_capacity(&self) -> usize {
        self.frame.capacity()
    }

    fn in_progress(&self) -> bool {
        !self.frame.is_empty() || self.escaped || self.error.is_some()
    }

    fn reset(&mut self) {
        self.frame.clear();
        self.escaped = false;
        self.error = None;
    }

    /// Ends the frame in progress at a flag.
    fn finish(&mut self) -> Result<AshFrame, AshFrameError> {
        let error = if self.escaped {
            Some(AshFrameError::BadEscape)
        } else {
            self.error.take()
        };
        let mut raw = self.frame.split();
        self.reset();
        if let Some(e) = error {
            return Err(e);
        }
        let view = AshFrameView::new_checked(&raw[..])?;
        let control = view.control();
        let kind = view.kind().ok_or(AshFrameError::BadControl(control))?;
        if kind != FrameKind::Data {
            return AshFrame::from_short(kind, control, view.data())
                .ok_or(AshFrameError::BadLength { control, len: 0 });
        }
        // De-randomise in place and hand out a slice of the receive buffer.
        let len = raw.len();
        raw.truncate(len - 2);
        let mut payload = raw.split_off(1);
        randomize(&mut payload);
        Ok(AshFrame::Data {
            frm_num: (control >> 4) & 7,
            ack_num: control & 7,
            re_tx: control & 0x08 != 0,
            payload: payload.freeze(),
        })
    }

    fn push(&mut self, b: u8) {
        if self.error.is_some() {
            return;
        }
        if self.frame.len() >= MAX_FRAME_LEN {
            self.error = Some(AshFrameError::TooLong);
            return;
        }
        if self.frame.capacity() == 0 {
            self.frame.reserve(MAX_FRAME_LEN);
        }
        self.frame.put_u8(b);
    }
}

impl Decoder for AshCodec {
    type Item = Result<AshFrame, AshFrameError>;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, std::io::Error> {
        let mut consumed = 0;
        let mut item = None;
        for &b in src.iter() {
            consumed += 1;
            match b {
                FLAG if !self.in_progress() => self.stats.skipped_bytes += 1,
                FLAG => {
                    item = Some(self.finish());
                    break;
                }
                CANCEL if !self.in_progress() => self.stats.skipped_bytes += 1,
                CANCEL => {
                    self.reset();
                    item = Some(Err(AshFrameError::Cancelled));
                    break;
                }
                SUBSTITUTE => {
                    self.escaped = false;
                    self.error.get_or_insert(AshFrameError::Substitute);
                }
                XON | XOFF => self.stats.skipped_bytes += 1,
                WAKE if !self.in_progress() => self.stats.skipped_bytes += 1,
                ESCAPE if self.escaped => {
                    self.escaped = false;
                    self.error.get_or_insert(AshFrameError::BadEscape);
                }
                ESCAPE => self.escaped = true,
                b => {
                    let b = if self.escaped { b ^ FLIP } else { b };
                    self.escaped = false;
                    self.push(b);
                }
            }
        }
        let _ = src.split_to(consumed);
        match &item {
            Some(Ok(_)) => self.stats.frames += 1,
            Some(Err(e)) => {
                self.stats.bad_frames += 1;
                tracing::debug!(error = %e, "ASH frame discarded");
            }
            None => {}
        }
        Ok(item)
    }
}

impl Encoder<AshFrame> for AshCodec {
    type Error = std::io::Error;

    fn encode(&mut self, item: AshFrame, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        encode(&item, dst);
        Ok(())
    }
}
