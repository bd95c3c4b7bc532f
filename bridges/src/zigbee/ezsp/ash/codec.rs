//! ASH frames on the wire: CRC, data randomisation, byte stuffing, a zero-copy view of an
//! unstuffed frame and typed frames; [`super::framer`] finds them in a byte stream.
//!
//! Implements UG101 ("UART-EZSP Gateway Protocol Reference") §2 "Frames", §3 "Frame Formats"
//! and §4 "Reserved Bytes and Byte Stuffing":
//!
//! ```text
//! +---------+-------------------+---------+------+
//! | Control | Data (0..=128)    | CRC     | Flag |
//! | u8      | DATA: randomised  | u16 BE  | 0x7E |
//! +---------+-------------------+---------+------+
//! DATA    0 frmNum(3) reTx(1) ackNum(3)     data 3..=128 (one EZSP frame)
//! ACK     1 0 0 res nRdy ackNum(3)          no data
//! NAK     1 0 1 res nRdy ackNum(3)          no data
//! RST     0xC0                              no data
//! RSTACK  0xC1                              version 0x02, reset code
//! ERROR   0xC2                              version 0x02, error code
//! CRC     CRC-CCITT (poly 0x1021, init 0xFFFF) over control + data, before stuffing
//! ```
//!
//! The DATA field is XORed with the output of an 8-bit LFSR (seed 0x42, feedback 0xB8) so
//! that EZSP frames full of zeros or reserved bytes do not need much stuffing. Between the
//! CRC and stuffing, the reserved bytes 0x7E, 0x7D, 0x11, 0x13, 0x18 and 0x1A become 0x7D
//! followed by the byte XOR 0x20. On receive, CANCEL (0x1A) discards the frame in progress,
//! SUBSTITUTE (0x18) marks it bad up to the next flag, and raw XON/XOFF (0x11/0x13) are
//! dropped: they belong to software flow control, never to a frame.

use bytes::{BufMut, Bytes, BytesMut};

/// Frame delimiter.
pub const FLAG: u8 = 0x7E;
/// Escape byte of byte stuffing.
pub const ESCAPE: u8 = 0x7D;
/// Software flow control: resume.
pub const XON: u8 = 0x11;
/// Software flow control: pause.
pub const XOFF: u8 = 0x13;
/// A byte the UART received with an error: the frame in progress is bad.
pub const SUBSTITUTE: u8 = 0x18;
/// Terminates the frame in progress without an error.
pub const CANCEL: u8 = 0x1A;
/// The NCP's "callback pending" wake byte, only meaningful between frames.
pub const WAKE: u8 = 0xFF;
/// XOR applied to an escaped byte.
pub const FLIP: u8 = 0x20;
/// The only ASH version (RSTACK/ERROR first data byte).
pub const ASH_VERSION: u8 = 0x02;
/// Smallest DATA field: an EZSP frame has at least sequence, frame control and frame id.
pub const MIN_DATA_LEN: usize = 3;
/// Largest DATA field UG101 allows.
pub const MAX_DATA_LEN: usize = 128;
/// Largest unstuffed frame without flag: control + data + CRC.
pub const MAX_FRAME_LEN: usize = 1 + MAX_DATA_LEN + 2;
/// Smallest unstuffed frame without flag: control + CRC.
pub const MIN_FRAME_LEN: usize = 3;

/// Whether a byte must be stuffed.
pub const fn is_reserved(b: u8) -> bool {
    matches!(b, FLAG | ESCAPE | XON | XOFF | SUBSTITUTE | CANCEL)
}

const CRC_TABLE: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u16) << 8;
        let mut bit = 0;
        while bit < 8 {
            c = if c & 0x8000 != 0 {
                (c << 1) ^ 0x1021
            } else {
                c << 1
            };
            bit += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// Continues a CRC-CCITT over `data`.
pub fn crc16_update(crc: u16, data: &[u8]) -> u16 {
    data.iter().fold(crc, |crc, &b| {
        (crc << 8) ^ CRC_TABLE[usize::from((crc >> 8) as u8 ^ b)]
    })
}

/// CRC-CCITT (poly 0x1021, init 0xFFFF) of `data`, as ASH computes it.
pub fn crc16(data: &[u8]) -> u16 {
    crc16_update(0xFFFF, data)
}

/// The pseudo-random sequence XORed over DATA fields (UG101 §4, data randomization).
pub const PSEUDO_RANDOM: [u8; MAX_DATA_LEN] = {
    let mut seq = [0u8; MAX_DATA_LEN];
    let mut rand: u8 = 0x42;
    let mut i = 0;
    while i < MAX_DATA_LEN {
        seq[i] = rand;
        rand = if rand & 1 == 1 {
            (rand >> 1) ^ 0xB8
        } else {
            rand >> 1
        };
        i += 1;
    }
    seq
};

/// XORs `data` with the pseudo-random sequence in place; applying it twice restores `data`.
/// Bytes past [`MAX_DATA_LEN`] are left as they are (no valid frame has them).
pub fn randomize(data: &mut [u8]) {
    for (b, r) in data.iter_mut().zip(PSEUDO_RANDOM.iter()) {
        *b ^= r;
    }
}

/// Why a received frame was discarded. Each is reported once, at the frame's end.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AshFrameError {
    /// The CRC does not match control + data.
    #[error("ASH frame CRC mismatch (control {control:#04x})")]
    BadCrc {
        /// Control byte as received.
        control: u8,
    },
    /// Fewer than control + CRC bytes between two flags.
    #[error("ASH frame too short ({0} bytes)")]
    TooShort(usize),
    /// More than [`MAX_FRAME_LEN`] bytes before the flag.
    #[error("ASH frame longer than {MAX_FRAME_LEN} bytes")]
    TooLong,
    /// A SUBSTITUTE byte (UART error) was seen in the frame.
    #[error("ASH frame contained a SUBSTITUTE byte")]
    Substitute,
    /// A CANCEL byte discarded the frame in progress.
    #[error("ASH frame cancelled")]
    Cancelled,
    /// An ESCAPE byte was followed by a flag or another escape.
    #[error("ASH byte stuffing error")]
    BadEscape,
    /// A control byte that names no frame type.
    #[error("unknown ASH control byte {0:#04x}")]
    BadControl(u8),
    /// The data length does not fit the frame type.
    #[error("ASH frame with control {control:#04x} has {len} data bytes")]
    BadLength {
        /// Control byte.
        control: u8,
        /// Data field length.
        len: usize,
    },
}

impl AshFrameError {
    /// The control byte of the discarded frame, when it was read intact enough to tell.
    pub fn control(&self) -> Option<u8> {
        match self {
            AshFrameError::BadCrc { control } | AshFrameError::BadLength { control, .. } => {
                Some(*control)
            }
            AshFrameError::BadControl(c) => Some(*c),
            _ => None,
        }
    }

    /// Whether the receiver should answer with a NAK: anything that may have been a DATA
    /// frame (a cancelled frame is not an error, UG101 §4).
    pub fn may_be_data(&self) -> bool {
        match self {
            AshFrameError::Cancelled => false,
            other => other.control().is_none_or(|c| c & 0x80 == 0),
        }
    }
}

/// Frame type, from the control byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// 0xxxxxxx
    Data,
    /// 100xxxxx
    Ack,
    /// 101xxxxx
    Nak,
    /// 0xC0
    Rst,
    /// 0xC1
    RstAck,
    /// 0xC2
    Error,
}

impl FrameKind {
    /// Classifies a control byte; `None` for 0xC3..=0xFF.
    pub fn from_control(control: u8) -> Option<Self> {
        match control {
            0x00..=0x7F => Some(FrameKind::Data),
            0x80..=0x9F => Some(FrameKind::Ack),
            0xA0..=0xBF => Some(FrameKind::Nak),
            0xC0 => Some(FrameKind::Rst),
            0xC1 => Some(FrameKind::RstAck),
            0xC2 => Some(FrameKind::Error),
            _ => None,
        }
    }

    /// Whether `len` data bytes are valid for this frame type.
    pub fn data_len_ok(self, len: usize) -> bool {
        match self {
            FrameKind::Data => (MIN_DATA_LEN..=MAX_DATA_LEN).contains(&len),
            FrameKind::Ack | FrameKind::Nak | FrameKind::Rst => len == 0,
            FrameKind::RstAck | FrameKind::Error => len == 2,
        }
    }
}

/// A zero-copy view of one unstuffed ASH frame: control, data and CRC (no flag).
#[derive(Debug, Clone)]
pub struct AshFrameView<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> AshFrameView<T> {
    /// Wraps a buffer without checks; accessors may panic on a short buffer.
    pub fn new_unchecked(buffer: T) -> Self {
        AshFrameView { buffer }
    }

    /// Wraps a buffer after checking length, CRC, control byte and data length; the
    /// accessors cannot panic afterwards.
    pub fn new_checked(buffer: T) -> Result<Self, AshFrameError> {
        let b = buffer.as_ref();
        if b.len() < MIN_FRAME_LEN {
            return Err(AshFrameError::TooShort(b.len()));
        }
        if b.len() > MAX_FRAME_LEN {
            return Err(AshFrameError::TooLong);
        }
        let view = AshFrameView { buffer };
        let control = view.control();
        if view.crc() != view.compute_crc() {
            return Err(AshFrameError::BadCrc { control });
        }
        let kind = FrameKind::from_control(control).ok_or(AshFrameError::BadControl(control))?;
        let len = view.data().len();
        if !kind.data_len_ok(len) {
            return Err(AshFrameError::BadLength { control, len });
        }
        Ok(view)
    }

    /// The control byte.
    pub fn control(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Frame type; only `None` on an unchecked view.
    pub fn kind(&self) -> Option<FrameKind> {
        FrameKind::from_control(self.control())
    }

    /// The data field as on the wire (still randomised for DATA).
    pub fn data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[1..b.len() - 2]
    }

    /// The received CRC.
    pub fn crc(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[b.len() - 2], b[b.len() - 1]])
    }

    fn compute_crc(&self) -> u16 {
        let b = self.buffer.as_ref();
        crc16(&b[..b.len() - 2])
    }

    /// DATA: frmNum.
    pub fn frm_num(&self) -> u8 {
        (self.control() >> 4) & 0x07
    }

    /// DATA, ACK, NAK: ackNum.
    pub fn ack_num(&self) -> u8 {
        self.control() & 0x07
    }

    /// DATA: reTx; ACK/NAK: nRdy (the same bit).
    pub fn flag_bit(&self) -> bool {
        self.control() & 0x08 != 0
    }

    /// Gives back the buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }
}

/// One ASH frame, typed. DATA payloads are de-randomised EZSP bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AshFrame {
    /// Carries one EZSP frame.
    Data {
        /// This frame's number (0..=7).
        frm_num: u8,
        /// Next frame number the sender expects (acknowledges all before it).
        ack_num: u8,
        /// Set on a retransmission.
        re_tx: bool,
        /// The EZSP frame.
        payload: Bytes,
    },
    /// Acknowledges every DATA frame before `ack_num`.
    Ack {
        /// Next frame number expected.
        ack_num: u8,
        /// Sender is not ready for callbacks.
        n_rdy: bool,
    },
    /// Asks for retransmission from `ack_num`.
    Nak {
        /// Next frame number expected.
        ack_num: u8,
        /// Sender is not ready for callbacks.
        n_rdy: bool,
    },
    /// Host to NCP: reset.
    Rst,
    /// NCP to host: reset done.
    RstAck {
        /// ASH version (2).
        version: u8,
        /// Why the NCP reset (see [`reset_code`]).
        reset_code: u8,
    },
    /// NCP to host: fatal error, NCP in the FAILED state until RST.
    Error {
        /// ASH version (2).
        version: u8,
        /// Error code (see [`reset_code`]).
        code: u8,
    },
}

/// Reset and error codes of RSTACK and ERROR frames (UG101 §6).
pub mod reset_code {
    /// Unknown reason.
    pub const UNKNOWN: u8 = 0x00;
    /// External reset (nRESET pin).
    pub const EXTERNAL: u8 = 0x01;
    /// Power-on.
    pub const POWER_ON: u8 = 0x02;
    /// Watchdog.
    pub const WATCHDOG: u8 = 0x03;
    /// Assert.
    pub const ASSERT: u8 = 0x06;
    /// Boot loader.
    pub const BOOTLOADER: u8 = 0x09;
    /// Software reset: what an NCP answers to RST.
    pub const SOFTWARE: u8 = 0x0B;
    /// Error: exceeded the maximum ACK timeout count.
    pub const EXCEEDED_MAXIMUM_ACK_TIMEOUT_COUNT: u8 = 0x51;
    /// Chip-specific reset codes start here.
    pub const CHIP_SPECIFIC: u8 = 0x80;
}

impl AshFrame {
    /// The control byte this frame is sent with.
    pub fn control(&self) -> u8 {
        match *self {
            AshFrame::Data {
                frm_num,
                ack_num,
                re_tx,
                ..
            } => ((frm_num & 7) << 4) | (u8::from(re_tx) << 3) | (ack_num & 7),
            AshFrame::Ack { ack_num, n_rdy } => 0x80 | (u8::from(n_rdy) << 3) | (ack_num & 7),
            AshFrame::Nak { ack_num, n_rdy } => 0xA0 | (u8::from(n_rdy) << 3) | (ack_num & 7),
            AshFrame::Rst => 0xC0,
            AshFrame::RstAck { .. } => 0xC1,
            AshFrame::Error { .. } => 0xC2,
        }
    }

    /// Reads a checked view; DATA payloads are copied out and de-randomised.
    pub fn parse<T: AsRef<[u8]>>(view: &AshFrameView<T>) -> Option<AshFrame> {
        let data = view.data();
        Some(match view.kind()? {
            FrameKind::Data => {
                let mut payload = BytesMut::from(data);
                randomize(&mut payload);
                AshFrame::Data {
                    frm_num: view.frm_num(),
                    ack_num: view.ack_num(),
                    re_tx: view.flag_bit(),
                    payload: payload.freeze(),
                }
            }
            kind => AshFrame::from_short(kind, view.control(), data)?,
        })
    }

    pub(crate) fn from_short(kind: FrameKind, control: u8, data: &[u8]) -> Option<AshFrame> {
        Some(match kind {
            FrameKind::Data => return None,
            FrameKind::Ack => AshFrame::Ack {
                ack_num: control & 7,
                n_rdy: control & 0x08 != 0,
            },
            FrameKind::Nak => AshFrame::Nak {
                ack_num: control & 7,
                n_rdy: control & 0x08 != 0,
            },
            FrameKind::Rst => AshFrame::Rst,
            FrameKind::RstAck => AshFrame::RstAck {
                version: *data.first()?,
                reset_code: *data.get(1)?,
            },
            FrameKind::Error => AshFrame::Error {
                version: *data.first()?,
                code: *data.get(1)?,
            },
        })
    }
}

/// Appends `frame` to `out`: stuffed control, data (randomised for DATA), CRC, flag.
///
/// Never fails: a DATA payload longer than [`MAX_DATA_LEN`] is written as given (the peer
/// will reject it), so callers check lengths first, as the host and NCP link layers do.
pub fn encode(frame: &AshFrame, out: &mut BytesMut) {
    encode_with_crc_xor(frame, out, 0);
}

/// [`encode`] with the CRC XORed by `crc_xor` before stuffing: a frame that is correctly
/// stuffed but fails its CRC check, for fault injection in simulators and tests.
pub fn encode_with_crc_xor(frame: &AshFrame, out: &mut BytesMut, crc_xor: u16) {
    fn put(out: &mut BytesMut, b: u8) {
        if is_reserved(b) {
            out.put_u8(ESCAPE);
            out.put_u8(b ^ FLIP);
        } else {
            out.put_u8(b);
        }
    }
    let control = frame.control();
    let mut crc = crc16_update(0xFFFF, &[control]);
    out.reserve(8);
    put(out, control);
    match frame {
        AshFrame::Data { payload, .. } => {
            out.reserve(payload.len() + payload.len() / 4);
            for (i, &b) in payload.iter().enumerate() {
                let r = b ^ PSEUDO_RANDOM.get(i).copied().unwrap_or(0);
                crc = crc16_update(crc, &[r]);
                put(out, r);
            }
        }
        AshFrame::RstAck {
            version,
            reset_code: code,
        }
        | AshFrame::Error { version, code } => {
            for b in [*version, *code] {
                crc = crc16_update(crc, &[b]);
                put(out, b);
            }
        }
        AshFrame::Ack { .. } | AshFrame::Nak { .. } | AshFrame::Rst => {}
    }
    for b in (crc ^ crc_xor).to_be_bytes() {
        put(out, b);
    }
    out.put_u8(FLAG);
}
