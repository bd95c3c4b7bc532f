//! The probe's own minimal ASH: the RST frame it sends and recognition of the RSTACK (or
//! ERROR) frame an EmberZNet NCP answers. Not a codec: the project has no EZSP backend yet,
//! and a full ASH (DATA frames, randomisation, ack numbers, retransmission) belongs beside
//! one in `bridges/src/zigbee/ezsp/`.
//!
//! Silicon Labs UG101 "UART-EZSP Gateway Protocol Reference" (ASH version 2):
//!
//! ```text
//! frame on the wire:  [control][data...][CRC high][CRC low] FLAG(0x7E)   (all but FLAG byte-stuffed)
//! CRC: CRC-CCITT, polynomial 0x1021, initial 0xFFFF, over control + data, sent high byte first
//! RST    = C0 38 BC 7E            control 0xC0, no data
//! RSTACK = C1 02 02 9B 7B 7E      control 0xC1, data: ASH version (2), reset code
//! ERROR  = C2 <version> <code> CRC  control 0xC2 (UG101's example `C2 01 52 FA BD 7E` carries a
//!                                   CRC that does not match its bytes; not used as a test vector)
//! reserved bytes: 7E flag, 7D escape (next byte XOR 0x20), 11 XON, 13 XOFF,
//!                 18 substitute (frame is bad), 1A cancel (discard the frame in progress)
//! ```
//!
//! The host sends CANCEL before RST so that whatever the NCP had buffered (for instance the
//! bytes of another probe) is discarded rather than spoiling the RST. RST makes the NCP
//! restart its software; it changes no stored setting or network state.

/// Flag byte: ends every frame.
pub const FLAG: u8 = 0x7E;
/// Escape byte: the next byte is XOR-ed with [`FLIP`].
pub const ESCAPE: u8 = 0x7D;
/// XOR applied to an escaped byte.
pub const FLIP: u8 = 0x20;
/// Software flow control: resume.
pub const XON: u8 = 0x11;
/// Software flow control: pause.
pub const XOFF: u8 = 0x13;
/// A byte the UART received with an error; the frame is bad.
pub const SUBSTITUTE: u8 = 0x18;
/// Discards the frame in progress.
pub const CANCEL: u8 = 0x1A;
/// RST control byte.
pub const RST: u8 = 0xC0;
/// RSTACK control byte.
pub const RSTACK: u8 = 0xC1;
/// ERROR control byte.
pub const ERROR: u8 = 0xC2;

/// What the probe writes: CANCEL, then RST (UG101's example bytes).
pub const RST_REQUEST: [u8; 5] = [CANCEL, RST, 0x38, 0xBC, FLAG];

/// A frame longer than this (after unstuffing) is not RSTACK/ERROR; it is dropped unread.
const MAX_FRAME: usize = 16;

/// CRC-CCITT as ASH computes it.
pub fn crc_ccitt(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0xFFFF;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// A reset or error report from an NCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NcpReport {
    /// RSTACK(version, reset code).
    ResetAck {
        /// ASH version (2).
        version: u8,
        /// Why the NCP reset (0x0B = software reset, as after RST).
        reset_code: u8,
    },
    /// ERROR(version, error code): the NCP is in the FAILED state.
    Error {
        /// ASH version.
        version: u8,
        /// The error code.
        code: u8,
    },
}

/// Incremental receiver: feed it bytes, it reports RSTACK/ERROR frames with a valid CRC.
#[derive(Debug, Default)]
pub struct RstackScanner {
    frame: Vec<u8>,
    escaped: bool,
    /// The current frame overflowed or had a substitute byte: drop it at the next flag.
    bad: bool,
}

impl RstackScanner {
    /// A fresh scanner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one byte; returns a report when it completes a valid RSTACK or ERROR frame.
    pub fn push(&mut self, byte: u8) -> Option<NcpReport> {
        match byte {
            FLAG => {
                let report = if self.bad { None } else { parse(&self.frame) };
                self.reset();
                report
            }
            CANCEL => {
                self.reset();
                None
            }
            SUBSTITUTE => {
                self.bad = true;
                None
            }
            XON | XOFF => None,
            ESCAPE => {
                self.escaped = true;
                None
            }
            b => {
                let b = if std::mem::take(&mut self.escaped) {
                    b ^ FLIP
                } else {
                    b
                };
                if self.frame.len() < MAX_FRAME {
                    self.frame.push(b);
                } else {
                    self.bad = true;
                }
                None
            }
        }
    }

    fn reset(&mut self) {
        self.frame.clear();
        self.escaped = false;
        self.bad = false;
    }
}

fn parse(frame: &[u8]) -> Option<NcpReport> {
    let [control, version, code, crc_hi, crc_lo] = *frame else {
        return None;
    };
    if crc_ccitt(&frame[..3]) != u16::from_be_bytes([crc_hi, crc_lo]) {
        return None;
    }
    match control {
        RSTACK => Some(NcpReport::ResetAck {
            version,
            reset_code: code,
        }),
        ERROR => Some(NcpReport::Error { version, code }),
        _ => None,
    }
}

/// Byte-stuffs a frame body (control + data + CRC) and appends the flag: what an NCP sends.
/// The probe never needs it for RST (whose bytes are fixed); tests and fakes build answers
/// with it.
pub fn encode_frame(control: u8, data: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(3 + data.len());
    body.push(control);
    body.extend_from_slice(data);
    let crc = crc_ccitt(&body);
    body.extend_from_slice(&crc.to_be_bytes());
    let mut out = Vec::with_capacity(body.len() * 2 + 1);
    for b in body {
        if matches!(b, FLAG | ESCAPE | XON | XOFF | SUBSTITUTE | CANCEL) {
            out.extend_from_slice(&[ESCAPE, b ^ FLIP]);
        } else {
            out.push(b);
        }
    }
    out.push(FLAG);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(bytes: &[u8]) -> Vec<NcpReport> {
        let mut s = RstackScanner::new();
        bytes.iter().filter_map(|&b| s.push(b)).collect()
    }

    #[test]
    fn rst_request_matches_ug101_example() {
        assert_eq!(crc_ccitt(&[RST]), 0x38BC);
        assert_eq!(encode_frame(RST, &[]), [0xC0, 0x38, 0xBC, 0x7E]);
        assert_eq!(RST_REQUEST[1..], encode_frame(RST, &[])[..]);
    }

    #[test]
    fn ug101_rstack_example_is_recognised() {
        let example = [0xC1, 0x02, 0x02, 0x9B, 0x7B, 0x7E];
        assert_eq!(encode_frame(RSTACK, &[0x02, 0x02]), example);
        assert_eq!(
            scan(&example),
            [NcpReport::ResetAck {
                version: 2,
                reset_code: 2
            }]
        );
    }

    #[test]
    fn error_frame_is_recognised() {
        let frame = encode_frame(ERROR, &[0x02, 0x52]);
        assert_eq!(frame, [0xC2, 0x02, 0x52, 0x98, 0xDE, 0x7E]);
        assert_eq!(
            scan(&frame),
            [NcpReport::Error {
                version: 2,
                code: 0x52
            }]
        );
    }

    #[test]
    fn stuffed_rstack_after_garbage_is_recognised() {
        // Reset code 0x11 (XON) must be escaped on the wire.
        let frame = encode_frame(RSTACK, &[0x02, 0x11]);
        assert!(frame.contains(&ESCAPE));
        let mut bytes = vec![0xFE, 0x00, 0x21, 0x01, 0x20, CANCEL];
        bytes.extend_from_slice(&frame);
        assert_eq!(
            scan(&bytes),
            [NcpReport::ResetAck {
                version: 2,
                reset_code: 0x11
            }]
        );
    }

    #[test]
    fn corrupted_or_cancelled_frames_are_not_reports() {
        assert!(scan(&[0xC1, 0x02, 0x02, 0x9B, 0x7C, 0x7E]).is_empty());
        assert!(scan(&[0xC1, 0x02, 0x18, 0x02, 0x9B, 0x7B, 0x7E]).is_empty());
        assert!(scan(&[0xC1, 0x02, 0x02, 0x9B, 0x1A, 0x7B, 0x7E]).is_empty());
        assert!(scan(&[0x7E; 40]).is_empty());
        assert!(scan(&[0x42; 300]).is_empty());
    }
}
