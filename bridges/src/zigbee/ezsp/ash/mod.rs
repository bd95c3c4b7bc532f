//! ASH, the asynchronous serial host protocol between an EZSP host and its NCP (UG101).
//!
//! - [`codec`]: typed frames to bytes and back: CRC, randomisation, stuffing (UG101 §2-4).
//! - [`framer`]: the `tokio_util` codec that finds frames in a byte stream (UG101 §4).
//! - [`arq`]: the CONNECTED-state DATA exchange as a state machine without I/O (UG101 §5).
//! - [`host`]: the host link, [`AshHost`], used by the EZSP backend.
//! - [`ncp`]: the NCP link, [`serve_ncp`], used by the EZSP simulator.
//!
//! ASH guarantees ordered, exactly-once delivery of EZSP frames in both directions while the
//! link is up; everything EZSP-level (sequence numbers, versions) is the layer above's.

pub mod arq;
pub mod codec;
pub mod framer;
pub mod host;
pub mod ncp;
mod port;

pub use codec::{AshFrame, AshFrameError, AshFrameView, FrameKind, encode, reset_code};
pub use framer::{AshCodec, AshDecoder, CodecStats};
pub use host::{AshConfig, AshError, AshEvent, AshHost};
pub use ncp::{AshNcpConfig, AshNcpEvent, AshNcpHandle, NcpFault, serve_ncp};

#[cfg(test)]
mod arq_tests;
#[cfg(test)]
mod codec_tests;
#[cfg(test)]
mod link_tests;
