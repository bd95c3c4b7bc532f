//! The EZSP frame header (UG100 §2 "EZSP frame format"), in the three layouts hosts meet:
//!
//! ```text
//! legacy v4:            | seq | fc |                  frame id (1) | parameters ...
//! legacy extended v5-7: | seq | fc | 0xFF | 0x00 |     frame id (1) | parameters ...
//! extended v8+:         | seq | fc lo | fc hi |        frame id (2 LE) | parameters ...
//! ```
//!
//! Frame control, low byte: bit 7 set in responses and callbacks; in responses bit 0 is
//! "overflow", bit 1 "truncated", bit 2 "callback pending", bits 3-4 the callback type
//! (1 synchronous, 2 asynchronous), bits 5-6 the network index. The extended high byte
//! carries the frame format version (1) in bits 0-1.
//!
//! `version` (frame id 0) is always sent first with the legacy v4 layout, whatever the NCP
//! speaks: its answer names the NCP's protocol version, and the host then repeats `version`
//! in the layout that version uses.

/// The `version` command's frame id.
pub const VERSION_FRAME_ID: u16 = 0x0000;
/// Frame control low byte: this is a response or callback.
pub const FC_RESPONSE: u8 = 0x80;
/// Frame control low byte: the NCP ran out of memory since the last response.
pub const FC_OVERFLOW: u8 = 0x01;
/// Frame control low byte: the NCP truncated this frame.
pub const FC_TRUNCATED: u8 = 0x02;
/// Frame control low byte: callbacks are pending on the NCP.
pub const FC_CALLBACK_PENDING: u8 = 0x04;
/// Frame control low byte: callback type mask.
pub const FC_CALLBACK_TYPE_MASK: u8 = 0x18;
/// Callback type: a synchronous callback (answer to `callback`).
pub const FC_CALLBACK_SYNC: u8 = 0x08;
/// Callback type: an asynchronous callback (UART hosts get these unprompted).
pub const FC_CALLBACK_ASYNC: u8 = 0x10;
/// Extended frame control high byte: frame format version 1.
pub const FC_HI_FORMAT_V1: u8 = 0x01;
/// The marker of the legacy extended header (v5-7).
const LEGACY_EXTENDED_MARKER: u8 = 0xFF;

/// Header layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderFormat {
    /// v4: one frame control byte, one-byte frame id.
    Legacy,
    /// v5-7: 0xFF 0x00 between frame control and the one-byte frame id.
    LegacyExtended,
    /// v8 and later: two-byte frame control and frame id.
    Extended,
}

impl HeaderFormat {
    /// The layout a protocol version uses.
    pub fn for_version(version: u8) -> Self {
        match version {
            0..=4 => HeaderFormat::Legacy,
            5..=7 => HeaderFormat::LegacyExtended,
            _ => HeaderFormat::Extended,
        }
    }

    /// The layout a frame from a host uses, guessed from its bytes the way an NCP does:
    /// 0xFF after the frame control marks v5-7, format version 1 in the high control byte
    /// marks v8+, anything else is v4.
    pub fn sniff(bytes: &[u8]) -> Self {
        match bytes.get(2) {
            Some(&LEGACY_EXTENDED_MARKER) => HeaderFormat::LegacyExtended,
            Some(b) if b & 0x03 == FC_HI_FORMAT_V1 && bytes.len() >= 5 => HeaderFormat::Extended,
            _ => HeaderFormat::Legacy,
        }
    }

    /// Header length in bytes.
    pub fn header_len(self) -> usize {
        match self {
            HeaderFormat::Legacy => 3,
            HeaderFormat::LegacyExtended => 5,
            HeaderFormat::Extended => 5,
        }
    }
}

/// Errors decoding a header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than the header needs.
    #[error("EZSP frame of {0} bytes is shorter than its header")]
    Truncated(usize),
    /// A frame id above 0xFF in a legacy header.
    #[error("frame id {0:#06x} does not fit a legacy header")]
    FrameIdTooLarge(u16),
}

/// A decoded EZSP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Sequence number (echoed by the NCP in the response).
    pub seq: u8,
    /// Frame control low byte.
    pub control: u8,
    /// Frame control high byte (extended header only; 0 otherwise).
    pub control_hi: u8,
    /// Frame id.
    pub frame_id: u16,
}

impl Header {
    /// A host command header.
    pub fn command(seq: u8, frame_id: u16) -> Self {
        Header {
            seq,
            control: 0,
            control_hi: FC_HI_FORMAT_V1,
            frame_id,
        }
    }

    /// An NCP response (or callback, with `callback_type`) header.
    pub fn response(seq: u8, frame_id: u16, callback_type: u8) -> Self {
        Header {
            seq,
            control: FC_RESPONSE | (callback_type & FC_CALLBACK_TYPE_MASK),
            control_hi: FC_HI_FORMAT_V1,
            frame_id,
        }
    }

    /// Whether this is a response or callback (not a command).
    pub fn is_response(&self) -> bool {
        self.control & FC_RESPONSE != 0
    }

    /// Whether this is an asynchronous callback (never the answer to a command).
    pub fn is_async_callback(&self) -> bool {
        self.control & FC_CALLBACK_TYPE_MASK == FC_CALLBACK_ASYNC
    }

    /// Writes the header and `params` in `format`.
    pub fn emit(&self, format: HeaderFormat, params: &[u8]) -> Result<Vec<u8>, FrameError> {
        let mut out = Vec::with_capacity(format.header_len() + params.len());
        out.push(self.seq);
        out.push(self.control);
        match format {
            HeaderFormat::Extended => {
                out.push(self.control_hi);
                out.extend_from_slice(&self.frame_id.to_le_bytes());
            }
            legacy => {
                let id = u8::try_from(self.frame_id)
                    .map_err(|_| FrameError::FrameIdTooLarge(self.frame_id))?;
                if legacy == HeaderFormat::LegacyExtended {
                    out.extend_from_slice(&[LEGACY_EXTENDED_MARKER, 0x00]);
                }
                out.push(id);
            }
        }
        out.extend_from_slice(params);
        Ok(out)
    }

    /// Splits `bytes` into the header and the parameters.
    pub fn parse(bytes: &[u8], format: HeaderFormat) -> Result<(Header, &[u8]), FrameError> {
        let n = format.header_len();
        if bytes.len() < n {
            return Err(FrameError::Truncated(bytes.len()));
        }
        let (seq, control) = (bytes[0], bytes[1]);
        let (control_hi, frame_id) = match format {
            HeaderFormat::Legacy => (0, u16::from(bytes[2])),
            HeaderFormat::LegacyExtended => (bytes[3], u16::from(bytes[4])),
            HeaderFormat::Extended => (bytes[2], u16::from_le_bytes([bytes[3], bytes[4]])),
        };
        let header = Header {
            seq,
            control,
            control_hi,
            frame_id,
        };
        Ok((header, &bytes[n..]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_command_uses_the_legacy_layout_bellows_sends() {
        // bellows' first frame after RSTACK: seq 0, fc 0, id 0, desired version 4.
        let b = Header::command(0, VERSION_FRAME_ID)
            .emit(HeaderFormat::Legacy, &[4])
            .unwrap();
        assert_eq!(b, [0x00, 0x00, 0x00, 0x04]);
    }

    #[test]
    fn extended_header_is_seq_fc_le_and_frame_id_le() {
        // sendUnicast (0x0034) with seq 7 in the v8+ layout.
        let b = Header::command(7, 0x0034)
            .emit(HeaderFormat::Extended, &[0xAA])
            .unwrap();
        assert_eq!(b, [0x07, 0x00, 0x01, 0x34, 0x00, 0xAA]);
        // exportKey (0x0114): the high id byte goes second.
        let b = Header::command(1, 0x0114)
            .emit(HeaderFormat::Extended, &[])
            .unwrap();
        assert_eq!(b, [0x01, 0x00, 0x01, 0x14, 0x01]);
    }

    #[test]
    fn legacy_extended_header_carries_the_ff_marker() {
        let b = Header::command(3, 0x0017)
            .emit(HeaderFormat::LegacyExtended, &[])
            .unwrap();
        assert_eq!(b, [0x03, 0x00, 0xFF, 0x00, 0x17]);
        assert!(matches!(
            Header::command(3, 0x0114).emit(HeaderFormat::Legacy, &[]),
            Err(FrameError::FrameIdTooLarge(0x0114))
        ));
    }

    #[test]
    fn response_headers_parse_in_every_layout() {
        // A v13 NCP's legacy answer to version(4): protocol 13, stack type 2, 7.4.0.0.
        let (h, p) = Header::parse(
            &[0x00, 0x80, 0x00, 0x0D, 0x02, 0x00, 0x74],
            HeaderFormat::Legacy,
        )
        .unwrap();
        assert_eq!((h.seq, h.frame_id, h.is_response()), (0, 0, true));
        assert_eq!(p, [0x0D, 0x02, 0x00, 0x74]);
        // An async incomingMessageHandler callback (0x0045) in the extended layout.
        let (h, p) = Header::parse(
            &[0x05, 0x90, 0x01, 0x45, 0x00, 0x01],
            HeaderFormat::Extended,
        )
        .unwrap();
        assert!(h.is_async_callback());
        assert_eq!((h.frame_id, p), (0x0045, &[0x01][..]));
        let (h, _) = Header::parse(
            &[0x05, 0x80, 0xFF, 0x00, 0x58],
            HeaderFormat::LegacyExtended,
        )
        .unwrap();
        assert_eq!(h.frame_id, 0x0058);
    }

    #[test]
    fn short_frames_are_refused_not_indexed() {
        for n in 0..5 {
            let bytes = vec![0u8; n];
            assert_eq!(
                Header::parse(&bytes, HeaderFormat::Extended),
                Err(FrameError::Truncated(n))
            );
        }
        assert!(Header::parse(&[1, 2], HeaderFormat::Legacy).is_err());
    }

    #[test]
    fn sniffing_tells_the_layouts_apart() {
        assert_eq!(HeaderFormat::sniff(&[0, 0, 0, 4]), HeaderFormat::Legacy);
        assert_eq!(
            HeaderFormat::sniff(&[0, 0, 0xFF, 0, 0x17]),
            HeaderFormat::LegacyExtended
        );
        assert_eq!(
            HeaderFormat::sniff(&[0, 0, 0x01, 0, 0, 13]),
            HeaderFormat::Extended
        );
        assert_eq!(HeaderFormat::for_version(13), HeaderFormat::Extended);
        assert_eq!(HeaderFormat::for_version(6), HeaderFormat::LegacyExtended);
    }
}
