//! The Z-Wave Serial API host side: framing, functions and the transport.

pub mod codec;
pub mod frame;
pub mod functions;
pub mod network;
pub mod port;
pub mod transport;
