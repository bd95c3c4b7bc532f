//! MT commands declared as tables: one module per subsystem lists each command's id, type
//! and fields; the small engine here encodes and decodes the fields and names frames.
//!
//! Field layouts follow the Z-Stack Monitor and Test API (SWRA198) and Z-Stack 3.x's
//! `MT_*.c`; multi-byte integers are little-endian.

use super::frame::{FrameType, Header, MtFrame, Subsystem};

pub mod af;
pub mod app_cnf;
pub mod sapi;
pub mod sys;
pub mod util;
pub mod zdo;

/// Largest list count accepted while decoding (bounded by the 250-byte payload anyway).
const MAX_LIST: usize = 125;

/// Errors decoding a command payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The payload ended before the field layout did.
    #[error("payload truncated")]
    Truncated,
    /// A list or string length is larger than the payload could hold.
    #[error("length {0} out of range")]
    BadLength(usize),
    /// The frame's header is not the one this type decodes.
    #[error("frame is not this command")]
    WrongCommand,
}

/// A cursor over a payload; every read is bounds-checked.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts reading `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Takes `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Takes everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
}

/// A value with an MT wire encoding.
pub trait Wire: Sized {
    /// Appends the encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>);
    /// Reads one value.
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

macro_rules! wire_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn encode(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                let b = r.take(std::mem::size_of::<$t>())?;
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                Ok(<$t>::from_le_bytes(a))
            }
        }
    )*};
}
wire_int!(u8, u16, u32, u64);

impl Wire for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(u8::decode(r)? != 0)
    }
}

impl<const N: usize> Wire for [u8; N] {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(r.take(N)?);
        Ok(a)
    }
}

/// Bytes prefixed by a one-byte length.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShortBytes(pub Vec<u8>);

impl Wire for ShortBytes {
    fn encode(&self, out: &mut Vec<u8>) {
        // Payloads are bounded by MAX_PAYLOAD (250) before encoding reaches here.
        out.push(self.0.len().min(255) as u8);
        out.extend_from_slice(&self.0[..self.0.len().min(255)]);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = usize::from(u8::decode(r)?);
        if n > r.remaining() {
            return Err(DecodeError::BadLength(n));
        }
        Ok(ShortBytes(r.take(n)?.to_vec()))
    }
}

/// Bytes prefixed by a two-byte little-endian length (SYS_OSAL_NV_WRITE_EXT's value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LongBytes(pub Vec<u8>);

impl Wire for LongBytes {
    fn encode(&self, out: &mut Vec<u8>) {
        let n = self.0.len().min(usize::from(u16::MAX));
        out.extend_from_slice(&(n as u16).to_le_bytes());
        out.extend_from_slice(&self.0[..n]);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = usize::from(u16::decode(r)?);
        if n > r.remaining() {
            return Err(DecodeError::BadLength(n));
        }
        Ok(LongBytes(r.take(n)?.to_vec()))
    }
}

/// Everything remaining in the payload (only valid as a last field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rest(pub Vec<u8>);

impl Wire for Rest {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Rest(r.rest().to_vec()))
    }
}

/// A list prefixed by a one-byte count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List8<T>(pub Vec<T>);

impl<T: Wire> Wire for List8<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.0.len().min(255) as u8);
        for item in self.0.iter().take(255) {
            item.encode(out);
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = usize::from(u8::decode(r)?);
        if n > MAX_LIST || n > r.remaining() {
            return Err(DecodeError::BadLength(n));
        }
        (0..n)
            .map(|_| T::decode(r))
            .collect::<Result<Vec<_>, _>>()
            .map(List8)
    }
}

/// A trailing field that older firmware omits.
impl<T: Wire> Wire for Option<T> {
    fn encode(&self, out: &mut Vec<u8>) {
        if let Some(v) = self {
            v.encode(out);
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if r.remaining() == 0 {
            Ok(None)
        } else {
            T::decode(r).map(Some)
        }
    }
}

/// An MT message type: its fixed header and field layout.
pub trait MtMessage: Sized {
    /// CMD0/CMD1 of this message.
    const HEADER: Header;
    /// Encodes the fields into a payload.
    fn encode_payload(&self) -> Vec<u8>;
    /// Decodes the fields from a payload; trailing bytes are tolerated (newer firmware).
    fn decode_payload(payload: &[u8]) -> Result<Self, DecodeError>;

    /// Builds the whole frame.
    fn to_frame(&self) -> MtFrame {
        MtFrame::new(Self::HEADER, self.encode_payload())
    }

    /// Decodes `frame` if it carries this message.
    fn from_frame(frame: &MtFrame) -> Result<Self, DecodeError> {
        if frame.header != Self::HEADER {
            return Err(DecodeError::WrongCommand);
        }
        Self::decode_payload(&frame.payload)
    }
}

/// An SREQ and the SRSP type that answers it.
pub trait Request: MtMessage {
    /// The synchronous response.
    type Response: MtMessage;
}

/// The kind of a table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandKind {
    /// Synchronous request answered by an SRSP with the same id.
    Sreq,
    /// Asynchronous message.
    Areq,
}

/// One row of a subsystem's command table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// Subsystem.
    pub subsystem: Subsystem,
    /// CMD1.
    pub id: u8,
    /// SREQ/SRSP pair or AREQ.
    pub kind: CommandKind,
    /// Name as the MT specification spells it.
    pub name: &'static str,
}

/// Every command table, for naming frames in logs.
pub fn tables() -> [&'static [CommandInfo]; 7] {
    [
        sys::TABLE,
        af::TABLE,
        zdo::TABLE,
        util::TABLE,
        app_cnf::TABLE,
        sapi::TABLE,
        RPC_TABLE,
    ]
}

const RPC_TABLE: &[CommandInfo] = &[CommandInfo {
    subsystem: Subsystem::RpcError,
    id: 0x00,
    kind: CommandKind::Sreq,
    name: "RPC_ERROR",
}];

/// The table row for a frame header, if any table knows it.
pub fn lookup(header: Header) -> Option<&'static CommandInfo> {
    let kind = match header.frame_type {
        FrameType::Sreq | FrameType::Srsp => CommandKind::Sreq,
        FrameType::Areq => CommandKind::Areq,
        _ => return None,
    };
    tables()
        .into_iter()
        .flatten()
        .find(|c| c.subsystem == header.subsystem && c.id == header.id && c.kind == kind)
}

/// A readable name for a frame header, e.g. `SRSP SYS_PING` or `AREQ 0x05/0xE0`.
pub fn describe(header: Header) -> String {
    let t = match header.frame_type {
        FrameType::Sreq => "SREQ",
        FrameType::Srsp => "SRSP",
        FrameType::Areq => "AREQ",
        _ => "?",
    };
    match lookup(header) {
        Some(info) => format!("{t} {}", info.name),
        None => format!("{t} {:#04x}/{:#04x}", u8::from(header.subsystem), header.id),
    }
}

/// RPC error: Z-Stack's SRSP to a request it could not process (MT_RPC_SRSP_ERR).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    /// 1 invalid subsystem, 2 invalid command id, 3 invalid parameter, 4 invalid length.
    pub error_code: u8,
    /// CMD0 of the rejected request.
    pub cmd0: u8,
    /// CMD1 of the rejected request.
    pub cmd1: u8,
}

impl MtMessage for RpcError {
    const HEADER: Header = Header::new(FrameType::Srsp, Subsystem::RpcError, 0x00);
    fn encode_payload(&self) -> Vec<u8> {
        vec![self.error_code, self.cmd0, self.cmd1]
    }
    fn decode_payload(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(payload);
        Ok(RpcError {
            error_code: u8::decode(&mut r)?,
            cmd0: u8::decode(&mut r)?,
            cmd1: u8::decode(&mut r)?,
        })
    }
}

/// Declares one message struct with its header and field layout.
macro_rules! mt_message {
    ($(#[$m:meta])* $name:ident, $ft:ident, $sub:ident, $id:literal { $($(#[$fm:meta])* $f:ident : $t:ty),* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name {
            $($(#[$fm])* #[allow(missing_docs)] pub $f: $t,)*
        }
        impl $crate::zigbee::znp::commands::MtMessage for $name {
            const HEADER: $crate::zigbee::znp::frame::Header = $crate::zigbee::znp::frame::Header::new(
                $crate::zigbee::znp::frame::FrameType::$ft,
                $crate::zigbee::znp::frame::Subsystem::$sub,
                $id,
            );
            #[allow(unused_mut)]
            fn encode_payload(&self) -> Vec<u8> {
                let mut out = Vec::new();
                $($crate::zigbee::znp::commands::Wire::encode(&self.$f, &mut out);)*
                out
            }
            #[allow(unused_mut, unused_variables)]
            fn decode_payload(payload: &[u8]) -> Result<Self, $crate::zigbee::znp::commands::DecodeError> {
                let mut r = $crate::zigbee::znp::commands::Reader::new(payload);
                Ok($name { $($f: $crate::zigbee::znp::commands::Wire::decode(&mut r)?,)* })
            }
        }
    };
}
pub(crate) use mt_message;

/// Declares a subsystem's command table:
/// `sreq Name = id, "MT_NAME" { fields } => NameRsp { fields };` or
/// `areq Name = id, "MT_NAME" { fields };`.
macro_rules! mt_commands {
    (subsystem = $sub:ident; $($(#[$m:meta])* $kind:ident $name:ident = $id:literal, $mt:literal { $($(#[$fm:meta])* $f:ident : $t:ty),* $(,)? } $(=> $rsp:ident { $($(#[$rm:meta])* $rf:ident : $rt:ty),* $(,)? })? ;)*) => {
        $( $crate::zigbee::znp::commands::mt_commands!(@one $sub, #[doc = concat!("`", $mt, "`: ")] $(#[$m])* $kind $name $id { $($(#[$fm])* $f : $t),* } $(=> $rsp { $($(#[$rm])* $rf : $rt),* })?); )*

        /// This subsystem's command table.
        pub const TABLE: &[$crate::zigbee::znp::commands::CommandInfo] = &[
            $($crate::zigbee::znp::commands::CommandInfo {
                subsystem: $crate::zigbee::znp::frame::Subsystem::$sub,
                id: $id,
                kind: $crate::zigbee::znp::commands::mt_commands!(@kind $kind),
                name: $mt,
            },)*
        ];
    };
    (@kind sreq) => { $crate::zigbee::znp::commands::CommandKind::Sreq };
    (@kind areq) => { $crate::zigbee::znp::commands::CommandKind::Areq };
    (@one $sub:ident, $(#[$m:meta])* sreq $name:ident $id:literal { $($(#[$fm:meta])* $f:ident : $t:ty),* } => $rsp:ident { $($(#[$rm:meta])* $rf:ident : $rt:ty),* }) => {
        $crate::zigbee::znp::commands::mt_message!($(#[$m])* $name, Sreq, $sub, $id { $($(#[$fm])* $f : $t),* });
        $crate::zigbee::znp::commands::mt_message!(
            #[doc = concat!("SRSP of [`", stringify!($name), "`].")]
            $rsp, Srsp, $sub, $id { $($(#[$rm])* $rf : $rt),* }
        );
        impl $crate::zigbee::znp::commands::Request for $name {
            type Response = $rsp;
        }
    };
    (@one $sub:ident, $(#[$m:meta])* areq $name:ident $id:literal { $($(#[$fm:meta])* $f:ident : $t:ty),* }) => {
        $crate::zigbee::znp::commands::mt_message!($(#[$m])* $name, Areq, $sub, $id { $($(#[$fm])* $f : $t),* });
    };
}
pub(crate) use mt_commands;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_names_known_frames_and_shows_ids_of_unknown_ones() {
        assert_eq!(
            describe(Header::new(FrameType::Srsp, Subsystem::Sys, 0x01)),
            "SRSP SYS_PING"
        );
        assert_eq!(
            describe(Header::new(FrameType::Areq, Subsystem::Zdo, 0xC1)),
            "AREQ ZDO_END_DEVICE_ANNCE_IND"
        );
        assert_eq!(
            describe(Header::new(FrameType::Areq, Subsystem::Zdo, 0xEE)),
            "AREQ 0x05/0xee"
        );
    }

    #[test]
    fn list_with_count_beyond_payload_is_rejected() {
        let mut r = Reader::new(&[200, 1, 0]);
        assert_eq!(
            List8::<u16>::decode(&mut r),
            Err(DecodeError::BadLength(200))
        );
        let mut r = Reader::new(&[2, 1, 0]);
        assert_eq!(List8::<u16>::decode(&mut r), Err(DecodeError::Truncated));
    }

    #[test]
    fn short_bytes_longer_than_payload_is_rejected() {
        let mut r = Reader::new(&[5, 1, 2]);
        assert_eq!(ShortBytes::decode(&mut r), Err(DecodeError::BadLength(5)));
    }

    #[test]
    fn rpc_error_decodes_rejected_header() {
        let f = MtFrame::new(RpcError::HEADER, vec![0x02, 0x21, 0x99]);
        let e = RpcError::from_frame(&f).unwrap();
        assert_eq!(
            e,
            RpcError {
                error_code: 2,
                cmd0: 0x21,
                cmd1: 0x99
            }
        );
    }

    #[test]
    fn every_table_row_is_unique() {
        let all: Vec<_> = tables().into_iter().flatten().collect();
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert!(
                    !(a.subsystem == b.subsystem && a.id == b.id && a.kind == b.kind),
                    "{} and {} share an id",
                    a.name,
                    b.name
                );
            }
        }
    }
}
