//! Z-Wave Serial API data frames: a zero-copy view ([`Frame`]) and a typed [`Repr`].
//!
//! Implements the frame layout of the Z-Wave Host API Specification (Silicon Labs
//! INS13954 / "Serial API Host Application Programming Guide", section "Data frame"):
//!
//! ```text
//! +-----+-----+------+----------+-------------+----------+
//! | SOF | LEN | TYPE | FUNCTION | payload ... | CHECKSUM |
//! | 01  |  n  | 0/1  |   id     |  n - 3      |   xor    |
//! +-----+-----+------+----------+-------------+----------+
//! ```
//!
//! `LEN` counts TYPE, FUNCTION, the payload and CHECKSUM (so a frame is `LEN + 2` bytes).
//! `TYPE` is 0x00 for a request and 0x01 for a response. `CHECKSUM` is 0xFF XOR-ed with
//! every byte from `LEN` to the last payload byte. Besides data frames the link carries
//! the single-byte units ACK (0x06), NAK (0x15) and CAN (0x18); see [`super::codec`].

use std::fmt;

use bytes::Bytes;

use super::functions::FunctionId;

/// Start Of Frame: the first byte of every data frame.
pub const SOF: u8 = 0x01;
/// Acknowledge: the frame was received and its checksum is valid.
pub const ACK: u8 = 0x06;
/// Not acknowledge: the frame's checksum was wrong; the sender retransmits.
pub const NAK: u8 = 0x15;
/// Cancel: a frame collided with one the other side was sending; the sender retransmits.
pub const CAN: u8 = 0x18;

/// Smallest valid `LEN` value: TYPE, FUNCTION and CHECKSUM with an empty payload.
pub const MIN_LEN_FIELD: u8 = 3;
/// Bytes of a frame that are not payload: SOF, LEN, TYPE, FUNCTION, CHECKSUM.
pub const OVERHEAD: usize = 5;
/// Largest payload one frame can carry (`LEN` is one byte).
pub const MAX_PAYLOAD: usize = u8::MAX as usize - MIN_LEN_FIELD as usize;

mod field {
    pub const SOF: usize = 0;
    pub const LEN: usize = 1;
    pub const TYPE: usize = 2;
    pub const FUNCTION: usize = 3;
    pub const PAYLOAD: usize = 4;
}

/// Why a byte sequence is not a valid data frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer bytes than the header or than `LEN` announces.
    #[error("frame truncated")]
    Truncated,
    /// The first byte is not SOF.
    #[error("frame does not start with SOF")]
    NoSof,
    /// `LEN` is below the minimum of 3.
    #[error("frame length field {0} below minimum")]
    BadLength(u8),
    /// The checksum byte does not match the computed one.
    #[error("frame checksum {found:#04x}, expected {expected:#04x}")]
    BadChecksum {
        /// Checksum carried by the frame.
        found: u8,
        /// Checksum computed over LEN..payload.
        expected: u8,
    },
}

/// The Serial API checksum: 0xFF XOR-ed with every byte of `bytes`.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0xFF, |acc, b| acc ^ b)
}

/// Frame TYPE field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameType {
    /// 0x00: a request (host to stick) or an unsolicited/callback frame (stick to host).
    Request,
    /// 0x01: the stick's response to a request.
    Response,
    /// Any other value, kept so the frame can still be logged.
    Unknown(u8),
}

impl From<u8> for FrameType {
    fn from(v: u8) -> Self {
        match v {
            0x00 => Self::Request,
            0x01 => Self::Response,
            other => Self::Unknown(other),
        }
    }
}

impl From<FrameType> for u8 {
    fn from(t: FrameType) -> u8 {
        match t {
            FrameType::Request => 0x00,
            FrameType::Response => 0x01,
            FrameType::Unknown(v) => v,
        }
    }
}

/// A zero-copy view over the bytes of one data frame (SOF to CHECKSUM).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checks; accessors may panic unless [`Self::check_len`] passed.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer after checking SOF, lengths and the checksum.
    pub fn new_checked(buffer: T) -> Result<Self, FrameError> {
        let frame = Self::new_unchecked(buffer);
        frame.check_len()?;
        frame.check_checksum()?;
        Ok(frame)
    }

    /// Checks that the buffer holds SOF and exactly the bytes that `LEN` announces.
    pub fn check_len(&self) -> Result<(), FrameError> {
        let data = self.buffer.as_ref();
        if data.len() < field::PAYLOAD + 1 {
            return Err(FrameError::Truncated);
        }
        if data[field::SOF] != SOF {
            return Err(FrameError::NoSof);
        }
        let len = data[field::LEN];
        if len < MIN_LEN_FIELD {
            return Err(FrameError::BadLength(len));
        }
        if data.len() < usize::from(len) + 2 {
            return Err(FrameError::Truncated);
        }
        Ok(())
    }

    /// Checks the checksum; call after [`Self::check_len`].
    pub fn check_checksum(&self) -> Result<(), FrameError> {
        let expected = self.computed_checksum();
        let found = self.checksum();
        if expected == found {
            Ok(())
        } else {
            Err(FrameError::BadChecksum { found, expected })
        }
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole frame as bytes (SOF to CHECKSUM).
    pub fn as_bytes(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.total_len()]
    }

    /// The `LEN` field.
    pub fn len_field(&self) -> u8 {
        self.buffer.as_ref()[field::LEN]
    }

    /// Length of the frame on the wire: `LEN + 2`.
    pub fn total_len(&self) -> usize {
        usize::from(self.len_field()) + 2
    }

    /// The TYPE field.
    pub fn frame_type(&self) -> FrameType {
        FrameType::from(self.buffer.as_ref()[field::TYPE])
    }

    /// The FUNCTION field.
    pub fn function_id(&self) -> FunctionId {
        FunctionId::from(self.buffer.as_ref()[field::FUNCTION])
    }

    /// The payload between FUNCTION and CHECKSUM.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[field::PAYLOAD..self.total_len() - 1]
    }

    /// The CHECKSUM field.
    pub fn checksum(&self) -> u8 {
        self.buffer.as_ref()[self.total_len() - 1]
    }

    /// The checksum computed over LEN..payload.
    pub fn computed_checksum(&self) -> u8 {
        checksum(&self.buffer.as_ref()[field::LEN..self.total_len() - 1])
    }
}

impl Frame<Bytes> {
    /// The payload as a zero-copy slice of the frame's buffer.
    pub fn payload_bytes(&self) -> Bytes {
        self.buffer.slice(field::PAYLOAD..self.total_len() - 1)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets SOF and `LEN` for a payload of `payload_len` bytes.
    pub fn set_header(&mut self, payload_len: u8) {
        let data = self.buffer.as_mut();
        data[field::SOF] = SOF;
        data[field::LEN] = payload_len + MIN_LEN_FIELD;
    }

    /// Sets the TYPE field.
    pub fn set_frame_type(&mut self, t: FrameType) {
        self.buffer.as_mut()[field::TYPE] = t.into();
    }

    /// Sets the FUNCTION field.
    pub fn set_function_id(&mut self, f: FunctionId) {
        self.buffer.as_mut()[field::FUNCTION] = f.into();
    }

    /// The payload, writable; `LEN` must be set first.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = self.total_len() - 1;
        &mut self.buffer.as_mut()[field::PAYLOAD..end]
    }

    /// Computes and stores the checksum; call last.
    pub fn fill_checksum(&mut self) {
        let sum = self.computed_checksum();
        let at = self.total_len() - 1;
        self.buffer.as_mut()[at] = sum;
    }
}

impl<T: AsRef<[u8]>> fmt::Debug for Frame<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.check_len().is_err() {
            return write!(f, "Frame(invalid {:02x?})", self.buffer.as_ref());
        }
        write!(
            f,
            "Frame({:?} {:?} {:02x?})",
            self.frame_type(),
            self.function_id(),
            self.payload()
        )
    }
}

/// A data frame's typed contents, borrowed from a [`Frame`] or built for sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Request or response.
    pub frame_type: FrameType,
    /// The Serial API function.
    pub function: FunctionId,
    /// Function-specific payload (see [`super::functions`]).
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Parses a checked frame; fails only when the checks were skipped.
    pub fn parse<T: AsRef<[u8]>>(frame: &'a Frame<T>) -> Result<Self, FrameError> {
        frame.check_len()?;
        frame.check_checksum()?;
        Ok(Self {
            frame_type: frame.frame_type(),
            function: frame.function_id(),
            payload: frame.payload(),
        })
    }

    /// Number of bytes [`Self::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        self.payload.len() + OVERHEAD
    }

    /// Writes the frame into a buffer of at least [`Self::buffer_len`] bytes.
    ///
    /// Fails with [`FrameError::BadLength`] when the payload exceeds [`MAX_PAYLOAD`].
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        frame: &mut Frame<T>,
    ) -> Result<(), FrameError> {
        let len = u8::try_from(self.payload.len())
            .ok()
            .filter(|l| usize::from(*l) <= MAX_PAYLOAD)
            .ok_or(FrameError::BadLength(u8::MAX))?;
        if frame.buffer.as_ref().len() < self.buffer_len() {
            return Err(FrameError::Truncated);
        }
        frame.set_header(len);
        frame.set_frame_type(self.frame_type);
        frame.set_function_id(self.function);
        frame.payload_mut().copy_from_slice(self.payload);
        frame.fill_checksum();
        Ok(())
    }

    /// Builds an owned frame ready to be written to the port.
    pub fn to_frame(&self) -> Result<Frame<Bytes>, FrameError> {
        let mut buf = vec![0u8; self.buffer_len()];
        self.emit(&mut Frame::new_unchecked(&mut buf[..]))?;
        Ok(Frame::new_unchecked(Bytes::from(buf)))
    }
}

/// Builds an owned request frame (host to stick, or stick callback) for `function`.
pub fn request(function: FunctionId, payload: &[u8]) -> Result<Frame<Bytes>, FrameError> {
    Repr {
        frame_type: FrameType::Request,
        function,
        payload,
    }
    .to_frame()
}

/// Builds an owned response frame (stick to host) for `function`.
pub fn response(function: FunctionId, payload: &[u8]) -> Result<Frame<Bytes>, FrameError> {
    Repr {
        frame_type: FrameType::Response,
        function,
        payload,
    }
    .to_frame()
}

#[cfg(test)]
mod tests {
    use super::*;

    // Host API spec example: FUNC_ID_ZW_GET_VERSION request.
    const GET_VERSION_REQ: [u8; 5] = [0x01, 0x03, 0x00, 0x15, 0xE9];
    // FUNC_ID_SERIAL_API_GET_INIT_DATA request.
    const GET_INIT_DATA_REQ: [u8; 5] = [0x01, 0x03, 0x00, 0x02, 0xFE];
    // FUNC_ID_ZW_SEND_DATA: node 2, Basic Set 0xFF, tx options 0x25, callback 0x01.
    const SEND_DATA_REQ: [u8; 12] = [
        0x01, 0x0A, 0x00, 0x13, 0x02, 0x03, 0x20, 0x01, 0xFF, 0x25, 0x01, 0x1D,
    ];

    #[test]
    fn get_version_request_parses_from_spec_bytes() {
        let frame = Frame::new_checked(&GET_VERSION_REQ[..]).unwrap();
        let repr = Repr::parse(&frame).unwrap();
        assert_eq!(repr.frame_type, FrameType::Request);
        assert_eq!(repr.function, FunctionId::GetVersion);
        assert!(repr.payload.is_empty());
    }

    #[test]
    fn emitted_requests_match_spec_bytes() {
        assert_eq!(
            request(FunctionId::GetVersion, &[]).unwrap().as_bytes(),
            GET_VERSION_REQ
        );
        assert_eq!(
            request(FunctionId::GetSerialApiInitData, &[])
                .unwrap()
                .as_bytes(),
            GET_INIT_DATA_REQ
        );
        let send = request(
            FunctionId::SendData,
            &[0x02, 0x03, 0x20, 0x01, 0xFF, 0x25, 0x01],
        )
        .unwrap();
        assert_eq!(send.as_bytes(), SEND_DATA_REQ);
    }

    #[test]
    fn parse_emit_round_trip_keeps_every_field() {
        let frame = Frame::new_checked(&SEND_DATA_REQ[..]).unwrap();
        let repr = Repr::parse(&frame).unwrap();
        let again = repr.to_frame().unwrap();
        assert_eq!(again.as_bytes(), SEND_DATA_REQ);
        assert_eq!(repr.payload, &SEND_DATA_REQ[4..11]);
    }

    #[test]
    fn wrong_checksum_is_rejected_with_both_values() {
        let mut bad = GET_VERSION_REQ;
        bad[4] = 0x00;
        assert_eq!(
            Frame::new_checked(&bad[..]).unwrap_err(),
            FrameError::BadChecksum {
                found: 0x00,
                expected: 0xE9
            }
        );
    }

    #[test]
    fn truncated_and_malformed_frames_are_rejected_without_panic() {
        for cut in 0..GET_VERSION_REQ.len() {
            assert!(Frame::new_checked(&GET_VERSION_REQ[..cut]).is_err());
        }
        assert_eq!(
            Frame::new_checked(&[0x01, 0x02, 0x00, 0x15, 0xE9][..]).unwrap_err(),
            FrameError::BadLength(2)
        );
        assert_eq!(
            Frame::new_checked(&[0x06, 0x03, 0x00, 0x15, 0xE9][..]).unwrap_err(),
            FrameError::NoSof
        );
    }

    #[test]
    fn oversized_payload_is_refused_by_emit() {
        let payload = vec![0u8; MAX_PAYLOAD + 1];
        assert!(request(FunctionId::SendData, &payload).is_err());
        assert!(request(FunctionId::SendData, &payload[..MAX_PAYLOAD]).is_ok());
    }

    #[test]
    fn unknown_frame_type_survives_as_value() {
        let mut raw = [0x01, 0x03, 0x07, 0x15, 0x00];
        raw[4] = checksum(&raw[1..4]);
        let frame = Frame::new_checked(&raw[..]).unwrap();
        assert_eq!(frame.frame_type(), FrameType::Unknown(7));
    }
}
