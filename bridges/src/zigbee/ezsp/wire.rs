//! EZSP parameter encoding (UG100 §3 "Named types"): little-endian integers, fixed byte
//! arrays, one-byte-length byte strings and lists, and the status type that widens from one
//! byte (`EmberStatus`/`EzspStatus`) to four (`sl_status_t`) at protocol version 14. Every
//! encoder and decoder takes the negotiated version; decoding is bounded by the input.

/// Errors decoding parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The parameters end early.
    #[error("parameters truncated")]
    Truncated,
    /// A field holds a value the command cannot take.
    #[error("invalid {0}")]
    Invalid(&'static str),
}

/// A bounded cursor over received parameters.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    /// Takes `n` bytes or fails without consuming.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.buf.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// The bytes not read yet.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

/// A value with an EZSP encoding.
pub trait Wire: Sized {
    /// Appends the encoding for protocol `version`.
    fn encode(&self, version: u8, out: &mut Vec<u8>);
    /// Reads one value for protocol `version`.
    fn decode(version: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

macro_rules! le_int {
    ($($t:ty),*) => {$(
        impl Wire for $t {
            fn encode(&self, _: u8, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
            fn decode(_: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(<$t>::from_le_bytes(r.array()?))
            }
        }
    )*};
}
le_int!(u8, i8, u16, u32, u64);

impl Wire for bool {
    fn encode(&self, _: u8, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
    fn decode(_: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(r.take(1)?[0] != 0)
    }
}

impl Wire for [u8; 16] {
    fn encode(&self, _: u8, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode(_: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.array()
    }
}

impl Wire for () {
    fn encode(&self, _: u8, _: &mut Vec<u8>) {}
    fn decode(_: u8, _: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(())
    }
}

/// Bytes with a one-byte length prefix (`LVBytes`); longer input is cut at 255 bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LvBytes(pub Vec<u8>);

impl Wire for LvBytes {
    fn encode(&self, _: u8, out: &mut Vec<u8>) {
        let n = self.0.len().min(255);
        out.push(n as u8);
        out.extend_from_slice(&self.0[..n]);
    }
    fn decode(_: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = usize::from(r.take(1)?[0]);
        Ok(LvBytes(r.take(n)?.to_vec()))
    }
}

/// 16-bit values with a one-byte count prefix (`LVList<uint16_t>`); at most 255 entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LvList16(pub Vec<u16>);

impl Wire for LvList16 {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        let n = self.0.len().min(255);
        out.push(n as u8);
        for x in &self.0[..n] {
            x.encode(v, out);
        }
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = usize::from(r.take(1)?[0]);
        (0..n)
            .map(|_| u16::decode(v, r))
            .collect::<Result<_, _>>()
            .map(LvList16)
    }
}

/// A command status: `EmberStatus`/`EzspStatus` (one byte) before v14, `sl_status_t`
/// (four bytes) from v14. The numbers differ too; see [`Status::is_ok`] and the helpers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status(pub u32);

impl Status {
    /// Success in every version.
    pub const OK: Status = Status(0);

    /// Whether this is success.
    pub fn is_ok(self) -> bool {
        self.0 == 0
    }

    /// "Network up" as `stackStatusHandler` reports it in `version`.
    pub fn network_up(version: u8) -> Status {
        Status(if version >= 14 { 0x15 } else { 0x90 })
    }

    /// "Network down".
    pub fn network_down(version: u8) -> Status {
        Status(if version >= 14 { 0x16 } else { 0x91 })
    }

    /// "Not joined" (no network to initialise).
    pub fn not_joined(version: u8) -> Status {
        Status(if version >= 14 { 0x17 } else { 0x93 })
    }

    /// "Invalid call" (a command the current state does not allow).
    pub fn invalid_call(version: u8) -> Status {
        Status(if version >= 14 { 0x02 } else { 0x70 })
    }

    /// "Delivery failed" in `messageSentHandler`.
    pub fn delivery_failed(version: u8) -> Status {
        Status(if version >= 14 { 0x0C02 } else { 0x66 })
    }
}

impl Wire for Status {
    fn encode(&self, v: u8, out: &mut Vec<u8>) {
        if v >= 14 {
            self.0.encode(v, out);
        } else {
            out.push(self.0 as u8);
        }
    }
    fn decode(v: u8, r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if v >= 14 {
            u32::decode(v, r).map(Status)
        } else {
            u8::decode(v, r).map(|s| Status(u32::from(s)))
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#04x}", self.0)
    }
}

/// Declares a struct whose encoding is its fields in order.
macro_rules! wire_struct {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $f:ident : $t:ty),* $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name { $($(#[$fm])* pub $f: $t),* }
        impl $crate::zigbee::ezsp::wire::Wire for $name {
            #[allow(unused_variables)]
            fn encode(&self, v: u8, out: &mut Vec<u8>) {
                $($crate::zigbee::ezsp::wire::Wire::encode(&self.$f, v, out);)*
            }
            #[allow(unused_variables)]
            fn decode(
                v: u8,
                r: &mut $crate::zigbee::ezsp::wire::Reader<'_>,
            ) -> Result<Self, $crate::zigbee::ezsp::wire::DecodeError> {
                Ok($name { $($f: <$t as $crate::zigbee::ezsp::wire::Wire>::decode(v, r)?),* })
            }
        }
    };
}
pub(crate) use wire_struct;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_one_byte_before_v14_and_four_after() {
        let mut a = Vec::new();
        Status(0x90).encode(13, &mut a);
        assert_eq!(a, [0x90]);
        let mut b = Vec::new();
        Status(0x15).encode(14, &mut b);
        assert_eq!(b, [0x15, 0, 0, 0]);
        assert_eq!(
            Status::decode(14, &mut Reader::new(&[0x02, 0x0C, 0, 0])),
            Ok(Status(0x0C02))
        );
        assert_eq!(
            Status::decode(14, &mut Reader::new(&[0x02])),
            Err(DecodeError::Truncated)
        );
    }

    #[test]
    fn length_prefixed_values_never_read_past_the_input() {
        assert_eq!(
            LvBytes::decode(8, &mut Reader::new(&[5, 1, 2])),
            Err(DecodeError::Truncated)
        );
        assert_eq!(
            LvList16::decode(8, &mut Reader::new(&[2, 1, 0, 2])),
            Err(DecodeError::Truncated)
        );
        let mut r = Reader::new(&[2, 0xAA, 0xBB, 0xCC]);
        assert_eq!(LvBytes::decode(8, &mut r), Ok(LvBytes(vec![0xAA, 0xBB])));
        assert_eq!(r.rest(), [0xCC]);
    }
}
