//! Z-Stack Monitor and Test (MT) framing over UART: a zero-copy frame view, a typed
//! header/payload repr and a resynchronising `tokio_util` codec.
//!
//! Implements the "General Frame Format" of the Z-Stack Monitor and Test API (SWRA198) §2.1
//! and the UART transport of §2.2:
//!
//! ```text
//! +------+-----+------+------+-------------+-----+
//! | SOF  | LEN | CMD0 | CMD1 | DATA (LEN)  | FCS |
//! | 0xFE | u8  |      |      | 0..=250     | u8  |
//! +------+-----+------+------+-------------+-----+
//! CMD0 = type << 5 | subsystem   (type: POLL 0, SREQ 1, AREQ 2, SRSP 3)
//! FCS  = XOR of LEN, CMD0, CMD1 and DATA
//! ```
//!
//! The framer ([`MtCodec`]) only finds boundaries and checks the FCS; the payload stays a
//! `Bytes` slice of the receive buffer and is decoded by the command tables.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Start-of-frame byte.
pub const SOF: u8 = 0xFE;
/// Largest DATA field Z-Stack accepts (MT_RPC_DATA_MAX).
pub const MAX_PAYLOAD: usize = 250;
/// SOF + LEN + CMD0 + CMD1 + FCS.
pub const OVERHEAD: usize = 5;

mod field {
    pub const SOF: usize = 0;
    pub const LEN: usize = 1;
    pub const CMD0: usize = 2;
    pub const CMD1: usize = 3;
    pub const DATA: usize = 4;
}

/// Errors of the MT framing layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than the header or the announced length needs.
    #[error("MT frame truncated")]
    Truncated,
    /// The first byte is not 0xFE.
    #[error("MT frame does not start with SOF")]
    NoSof,
    /// LEN exceeds [`MAX_PAYLOAD`].
    #[error("MT frame length {0} exceeds {MAX_PAYLOAD}")]
    TooLong(usize),
    /// The FCS does not match the frame contents.
    #[error("MT frame check sequence mismatch: got {got:#04x}, computed {computed:#04x}")]
    BadFcs {
        /// FCS byte received.
        got: u8,
        /// FCS computed over LEN..DATA.
        computed: u8,
    },
    /// An I/O error from the underlying port (codec use only).
    #[error("port I/O: {0}")]
    Io(String),
}

impl From<std::io::Error> for FrameError {
    fn from(e: std::io::Error) -> Self {
        FrameError::Io(e.to_string())
    }
}

macro_rules! enum_with_unknown {
    ($(#[$m:meta])* pub enum $name:ident : $ty:ty { $($(#[$vm:meta])* $v:ident = $n:expr,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $v,)*
            /// A value this table does not name.
            Unknown($ty),
        }
        impl From<$ty> for $name {
            fn from(v: $ty) -> Self {
                match v { $($n => $name::$v,)* other => $name::Unknown(other) }
            }
        }
        impl From<$name> for $ty {
            fn from(v: $name) -> Self {
                match v { $($name::$v => $n,)* $name::Unknown(other) => other }
            }
        }
    };
}

enum_with_unknown! {
    /// MT command type (CMD0 bits 7..5).
    pub enum FrameType: u8 {
        /// Poll (SPI only).
        Poll = 0,
        /// Synchronous request: answered by exactly one SRSP.
        Sreq = 1,
        /// Asynchronous request or indication.
        Areq = 2,
        /// Synchronous response.
        Srsp = 3,
    }
}

enum_with_unknown! {
    /// MT subsystem (CMD0 bits 4..0).
    pub enum Subsystem: u8 {
        /// RPC error reports (unknown command, bad length, ...).
        RpcError = 0x00,
        /// SYS interface.
        Sys = 0x01,
        /// MAC interface.
        Mac = 0x02,
        /// NWK interface.
        Nwk = 0x03,
        /// AF (application framework) interface.
        Af = 0x04,
        /// ZDO interface.
        Zdo = 0x05,
        /// Simple API (ZB_*) interface.
        Sapi = 0x06,
        /// UTIL interface.
        Util = 0x07,
        /// DEBUG interface.
        Debug = 0x08,
        /// APP interface.
        App = 0x09,
        /// APP_CNF (BDB commissioning) interface.
        AppCnf = 0x0F,
        /// Green Power interface.
        Zgp = 0x15,
    }
}

/// The command identity carried by CMD0/CMD1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Header {
    /// SREQ / SRSP / AREQ / POLL.
    pub frame_type: FrameType,
    /// Subsystem of the command.
    pub subsystem: Subsystem,
    /// CMD1: the command id inside the subsystem.
    pub id: u8,
}

impl Header {
    /// Builds a header.
    pub const fn new(frame_type: FrameType, subsystem: Subsystem, id: u8) -> Self {
        Header {
            frame_type,
            subsystem,
            id,
        }
    }

    /// Decodes CMD0/CMD1.
    pub fn from_cmd(cmd0: u8, cmd1: u8) -> Self {
        Header {
            frame_type: FrameType::from(cmd0 >> 5),
            subsystem: Subsystem::from(cmd0 & 0x1F),
            id: cmd1,
        }
    }

    /// Encodes CMD0.
    pub fn cmd0(&self) -> u8 {
        (u8::from(self.frame_type) << 5) | (u8::from(self.subsystem) & 0x1F)
    }
}

/// XOR of all bytes: the MT frame check sequence.
pub fn fcs(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// A zero-copy view of one MT frame, SOF through FCS.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without any check.
    pub fn new_unchecked(buffer: T) -> Self {
        Frame { buffer }
    }

    /// Wraps a buffer after checking its length, SOF and FCS; accessors cannot panic after.
    pub fn new_checked(buffer: T) -> Result<Self, FrameError> {
        let frame = Frame::new_unchecked(buffer);
        frame.check_len()?;
        frame.check_fcs()?;
        Ok(frame)
    }

    /// Checks that the buffer holds a whole frame whose length is within limits.
    pub fn check_len(&self) -> Result<(), FrameError> {
        let b = self.buffer.as_ref();
        if b.len() < OVERHEAD {
            return Err(FrameError::Truncated);
        }
        if b[field::SOF] != SOF {
            return Err(FrameError::NoSof);
        }
        let len = usize::from(b[field::LEN]);
        if len > MAX_PAYLOAD {
            return Err(FrameError::TooLong(len));
        }
        if b.len() < OVERHEAD + len {
            return Err(FrameError::Truncated);
        }
        Ok(())
    }

    /// Checks the FCS; call after [`Frame::check_len`].
    pub fn check_fcs(&self) -> Result<(), FrameError> {
        let computed = self.compute_fcs();
        let got = self.fcs();
        if got == computed {
            Ok(())
        } else {
            Err(FrameError::BadFcs { got, computed })
        }
    }

    fn compute_fcs(&self) -> u8 {
        let end = field::DATA + self.len();
        fcs(&self.buffer.as_ref()[field::LEN..end])
    }

    /// LEN: number of DATA bytes.
    pub fn len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::LEN])
    }

    /// True when the frame carries no DATA.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The decoded CMD0/CMD1.
    pub fn header(&self) -> Header {
        let b = self.buffer.as_ref();
        Header::from_cmd(b[field::CMD0], b[field::CMD1])
    }

    /// The DATA field.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA..field::DATA + self.len()]
    }

    /// The FCS byte as received.
    pub fn fcs(&self) -> u8 {
        self.buffer.as_ref()[field::DATA + self.len()]
    }

    /// Total frame length in bytes.
    pub fn total_len(&self) -> usize {
        OVERHEAD + self.len()
    }

    /// Gives back the wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Writes SOF and LEN.
    pub fn set_len(&mut self, len: u8) {
        let b = self.buffer.as_mut();
        b[field::SOF] = SOF;
        b[field::LEN] = len;
    }

    /// Writes CMD0/CMD1.
    pub fn set_header(&mut self, header: Header) {
        let b = self.buffer.as_mut();
        b[field::CMD0] = header.cmd0();
        b[field::CMD1] = header.id;
    }

    /// The DATA field, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let len = self.len();
        &mut self.buffer.as_mut()[field::DATA..field::DATA + len]
    }

    /// Computes and writes the FCS.
    pub fn fill_fcs(&mut self) {
        let value = self.compute_fcs();
        let at = field::DATA + self.len();
        self.buffer.as_mut()[at] = value;
    }
}

/// Typed contents of an MT frame: the header and a borrowed payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Command identity.
    pub header: Header,
    /// DATA field.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a checked frame.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &'a Frame<&'a T>) -> Self {
        Repr {
            header: frame.header(),
            payload: frame.payload(),
        }
    }

    /// Bytes needed to emit this repr.
    pub fn buffer_len(&self) -> usize {
        OVERHEAD + self.payload.len()
    }

    /// Writes the frame into `frame`, whose buffer must be `buffer_len()` long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        frame: &mut Frame<T>,
    ) -> Result<(), FrameError> {
        let len = self.payload.len();
        if len > MAX_PAYLOAD {
            return Err(FrameError::TooLong(len));
        }
        if frame.buffer.as_ref().len() < OVERHEAD + len {
            return Err(FrameError::Truncated);
        }
        frame.set_len(len as u8);
        frame.set_header(self.header);
        frame.payload_mut().copy_from_slice(self.payload);
        frame.fill_fcs();
        Ok(())
    }
}

/// An owned MT frame as the codec yields it: the payload shares the receive buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MtFrame {
    /// Command identity.
    pub header: Header,
    /// DATA field.
    pub payload: Bytes,
}

impl MtFrame {
    /// Builds a frame from a header and payload bytes.
    pub fn new(header: Header, payload: impl Into<Bytes>) -> Self {
        MtFrame {
            header,
            payload: payload.into(),
        }
    }

    /// Serialises the frame to bytes, SOF through FCS.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FrameError> {
        let repr = Repr {
            header: self.header,
            payload: &self.payload,
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Frame::new_unchecked(&mut buf[..]))?;
        Ok(buf)
    }
}

/// Counters kept by the decoder while resynchronising.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CodecStats {
    /// Frames decoded.
    pub frames: u64,
    /// Bytes discarded while looking for a valid frame.
    pub skipped_bytes: u64,
    /// Frames dropped for a bad FCS or an impossible length.
    pub bad_frames: u64,
}

/// `tokio_util` codec for MT frames over a byte stream (UART, TCP).
///
/// Resynchronisation: bytes before a SOF are skipped; a candidate frame with an impossible
/// LEN or a bad FCS has only its SOF skipped, so a real frame starting inside it is found.
#[derive(Debug, Default)]
pub struct MtCodec {
    stats: CodecStats,
}

impl MtCodec {
    /// A fresh codec.
    pub fn new() -> Self {
        MtCodec::default()
    }

    /// Counters since creation.
    pub fn stats(&self) -> CodecStats {
        self.stats
    }

    fn skip(&mut self, src: &mut BytesMut, n: usize, why: &'static str) {
        src.advance(n);
        self.stats.skipped_bytes += n as u64;
        tracing::warn!(
            skipped = n,
            total_skipped = self.stats.skipped_bytes,
            why,
            "MT resync"
        );
    }
}

impl Decoder for MtCodec {
    type Item = MtFrame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<MtFrame>, FrameError> {
        loop {
            match src.iter().position(|&b| b == SOF) {
                None => {
                    if !src.is_empty() {
                        let n = src.len();
                        self.skip(src, n, "no start of frame");
                    }
                    return Ok(None);
                }
                Some(0) => {}
                Some(n) => self.skip(src, n, "bytes before start of frame"),
            }
            if src.len() < 2 {
                return Ok(None);
            }
            let len = usize::from(src[field::LEN]);
            if len > MAX_PAYLOAD {
                self.stats.bad_frames += 1;
                self.skip(src, 1, "impossible length");
                continue;
            }
            if src.len() < OVERHEAD + len {
                src.reserve(OVERHEAD + len - src.len());
                return Ok(None);
            }
            let frame = Frame::new_unchecked(&src[..OVERHEAD + len]);
            if let Err(e) = frame.check_fcs() {
                self.stats.bad_frames += 1;
                tracing::warn!(error = %e, "MT frame dropped");
                self.skip(src, 1, "bad FCS");
                continue;
            }
            let header = frame.header();
            let mut whole = src.split_to(OVERHEAD + len);
            whole.advance(field::DATA);
            whole.truncate(len);
            self.stats.frames += 1;
            return Ok(Some(MtFrame {
                header,
                payload: whole.freeze(),
            }));
        }
    }
}

impl Encoder<MtFrame> for MtCodec {
    type Error = FrameError;

    fn encode(&mut self, item: MtFrame, dst: &mut BytesMut) -> Result<(), FrameError> {
        let len = item.payload.len();
        if len > MAX_PAYLOAD {
            return Err(FrameError::TooLong(len));
        }
        dst.reserve(OVERHEAD + len);
        dst.put_u8(SOF);
        dst.put_u8(len as u8);
        dst.put_u8(item.header.cmd0());
        dst.put_u8(item.header.id);
        dst.put_slice(&item.payload);
        dst.put_u8(fcs(&dst[dst.len() - len - 3..]));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYS_PING_REQ: [u8; 5] = [0xFE, 0x00, 0x21, 0x01, 0x20];
    // SYS_PING SRSP, capabilities 0x0659 (SYS, AF, ZDO, SAPI, UTIL, DEBUG, APP, ZOAD... bits).
    const SYS_PING_RSP: [u8; 7] = [0xFE, 0x02, 0x61, 0x01, 0x59, 0x06, 0x3D];

    fn decode_all(codec: &mut MtCodec, bytes: &[u8]) -> Vec<MtFrame> {
        let mut buf = BytesMut::from(bytes);
        let mut out = Vec::new();
        while let Some(f) = codec.decode(&mut buf).unwrap_or(None) {
            out.push(f);
        }
        out
    }

    #[test]
    fn sys_ping_request_view_matches_spec_bytes() {
        let frame = Frame::new_checked(&SYS_PING_REQ[..]).unwrap();
        assert_eq!(
            frame.header(),
            Header::new(FrameType::Sreq, Subsystem::Sys, 0x01)
        );
        assert!(frame.is_empty());
        assert_eq!(frame.fcs(), 0x20);
    }

    #[test]
    fn repr_emit_produces_spec_bytes_for_ping_response() {
        let repr = Repr {
            header: Header::new(FrameType::Srsp, Subsystem::Sys, 0x01),
            payload: &[0x59, 0x06],
        };
        let mut buf = vec![0u8; repr.buffer_len()];
        repr.emit(&mut Frame::new_unchecked(&mut buf[..])).unwrap();
        assert_eq!(buf, SYS_PING_RSP);
        let view = Frame::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&view), repr);
    }

    #[test]
    fn new_checked_rejects_bad_fcs_truncation_and_missing_sof() {
        let mut bad = SYS_PING_RSP;
        bad[6] ^= 0xFF;
        assert!(matches!(
            Frame::new_checked(&bad[..]),
            Err(FrameError::BadFcs { .. })
        ));
        assert_eq!(
            Frame::new_checked(&SYS_PING_RSP[..6]).err(),
            Some(FrameError::Truncated)
        );
        assert_eq!(
            Frame::new_checked(&[0x00, 0, 0x21, 1, 0x20][..]).err(),
            Some(FrameError::NoSof)
        );
        assert_eq!(
            Frame::new_checked(&[0xFE, 0xFF, 0, 0, 0][..]).err(),
            Some(FrameError::TooLong(255))
        );
    }

    #[test]
    fn unknown_type_and_subsystem_survive_round_trip() {
        let h = Header::from_cmd(0xFF, 0x42);
        assert_eq!(h.subsystem, Subsystem::Unknown(0x1F));
        assert_eq!(h.frame_type, FrameType::Unknown(7));
        assert_eq!(h.cmd0(), 0xFF);
    }

    #[test]
    fn encoder_writes_spec_bytes() {
        let mut codec = MtCodec::new();
        let mut dst = BytesMut::new();
        let ping = MtFrame::new(
            Header::new(FrameType::Sreq, Subsystem::Sys, 0x01),
            Bytes::new(),
        );
        codec.encode(ping, &mut dst).unwrap();
        assert_eq!(&dst[..], &SYS_PING_REQ);
        // SYS_VERSION request: FE 00 21 02 23.
        let version = MtFrame::new(
            Header::new(FrameType::Sreq, Subsystem::Sys, 0x02),
            Bytes::new(),
        );
        assert_eq!(version.to_bytes().unwrap(), [0xFE, 0x00, 0x21, 0x02, 0x23]);
    }

    #[test]
    fn encoder_refuses_oversized_payload() {
        let big = MtFrame::new(
            Header::new(FrameType::Sreq, Subsystem::Af, 1),
            vec![0u8; 251],
        );
        assert_eq!(
            MtCodec::new().encode(big, &mut BytesMut::new()),
            Err(FrameError::TooLong(251))
        );
    }

    #[test]
    fn garbled_bytes_before_frame_are_skipped_and_counted() {
        let mut codec = MtCodec::new();
        let mut bytes = vec![0x00, 0x13, 0xEF, 0xEF];
        bytes.extend_from_slice(&SYS_PING_RSP);
        let frames = decode_all(&mut codec, &bytes);
        assert_eq!(frames.len(), 1);
        assert_eq!(&frames[0].payload[..], &[0x59, 0x06]);
        assert_eq!(codec.stats().skipped_bytes, 4);
    }

    #[test]
    fn bad_fcs_frame_is_dropped_and_next_frame_decodes() {
        let mut codec = MtCodec::new();
        let mut bytes = SYS_PING_RSP.to_vec();
        bytes[6] ^= 0x01;
        bytes.extend_from_slice(&SYS_PING_REQ);
        let frames = decode_all(&mut codec, &bytes);
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].header.frame_type, FrameType::Sreq);
        assert_eq!(codec.stats().bad_frames, 1);
        assert_eq!(codec.stats().skipped_bytes, 7);
    }

    #[test]
    fn sof_inside_garbage_with_huge_length_does_not_stall_decoding() {
        let mut codec = MtCodec::new();
        let mut bytes = vec![0xFE, 0xFB];
        bytes.extend_from_slice(&SYS_PING_REQ);
        let frames = decode_all(&mut codec, &bytes);
        assert_eq!(frames.len(), 1);
        assert_eq!(codec.stats().skipped_bytes, 2);
    }

    #[test]
    fn frame_split_across_reads_waits_then_decodes() {
        let mut codec = MtCodec::new();
        let mut buf = BytesMut::from(&SYS_PING_RSP[..3]);
        assert_eq!(codec.decode(&mut buf), Ok(None));
        buf.extend_from_slice(&SYS_PING_RSP[3..]);
        let f = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(f.header, Header::new(FrameType::Srsp, Subsystem::Sys, 1));
        assert!(buf.is_empty());
    }

    #[test]
    fn back_to_back_frames_decode_in_order() {
        let mut codec = MtCodec::new();
        let mut bytes = SYS_PING_REQ.to_vec();
        bytes.extend_from_slice(&SYS_PING_RSP);
        bytes.extend_from_slice(&SYS_PING_REQ);
        let frames = decode_all(&mut codec, &bytes);
        let types: Vec<_> = frames.iter().map(|f| f.header.frame_type).collect();
        assert_eq!(types, [FrameType::Sreq, FrameType::Srsp, FrameType::Sreq]);
        assert_eq!(codec.stats().skipped_bytes, 0);
    }

    #[test]
    fn decoder_never_panics_on_arbitrary_bytes() {
        let mut codec = MtCodec::new();
        let mut seed = 0x1234_5678u32;
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                if seed.is_multiple_of(7) {
                    SOF
                } else {
                    seed as u8
                }
            })
            .collect();
        for chunk in bytes.chunks(37) {
            decode_all(&mut codec, chunk);
        }
        assert!(codec.stats().skipped_bytes > 0);
    }
}
