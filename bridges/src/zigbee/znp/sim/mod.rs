//! A ZNP coordinator simulator: the dongle side of the MT protocol on a loopback TCP port or
//! a PTY, byte for byte (framing by [`MtCodec`], behaviour in [`state`]), with NV items,
//! network formation and resume, permit join and the scenario's virtual devices. Serving,
//! unplugging and the test controls all simulators share are [`SimHost`]'s; this module
//! adds MT framing, the CC26xx boot loader's skip byte and raw byte injection.
//!
//! Concurrency: see [`crate::zigbee::sim::host`]; frames for the host go through an unbounded
//! channel to the task owning the current connection.

pub mod nib;
pub mod nv;
pub mod state;

use std::sync::Arc;

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::codec::{Framed, FramedParts};

use super::frame::{MtCodec, MtFrame};
use super::link::BOOTLOADER_SKIP_BYTE;
pub use crate::zigbee::sim::SimPort;
use crate::zigbee::sim::{Radio, Scenario, Shared, SimHost};
use state::SimState;

/// Simulator settings.
#[derive(Debug, Clone, Default)]
pub struct ZnpSimConfig {
    /// Coordinator IEEE address.
    pub ieee: u64,
    /// Virtual devices.
    pub scenario: Scenario,
    /// Ignore every byte of a new connection until the boot loader skip byte (0xEF) arrives,
    /// as a CC26xx stick sitting in its serial boot loader does.
    pub require_bootloader_skip: bool,
}

/// A running ZNP simulator; dropping it stops it.
pub type ZnpSim = SimHost<ZnpRadio>;

/// What goes to the connected host.
pub enum ToHost {
    /// A well-formed frame.
    Frame(MtFrame),
    /// Raw bytes (bad-input tests: garbage, broken frames).
    Raw(Vec<u8>),
}

/// The ZNP side of [`ZnpSim`]: MT framing of one connection.
pub struct ZnpRadio {
    require_skip: bool,
}

impl Radio for ZnpRadio {
    type Config = ZnpSimConfig;
    type State = SimState;
    type Link = mpsc::UnboundedSender<ToHost>;
    const NAME: &'static str = "ZNP";

    fn new(config: ZnpSimConfig) -> (Self, SimState) {
        let radio = ZnpRadio {
            require_skip: config.require_bootloader_skip,
        };
        (radio, SimState::new(config.ieee, config.scenario))
    }

    fn send(link: &Self::Link, frame: MtFrame) -> bool {
        link.send(ToHost::Frame(frame)).is_ok()
    }

    async fn serve<S: AsyncRead + AsyncWrite + Unpin + Send>(
        mut stream: S,
        shared: &Arc<Shared<Self>>,
    ) {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let mut kicked = shared.kicked();
        let mut leftover = BytesMut::new();
        if shared.radio().require_skip {
            let mut buf = [0u8; 512];
            loop {
                let n = tokio::select! {
                    n = stream.read(&mut buf) => match n { Ok(0) | Err(_) => return, Ok(n) => n },
                    () = &mut kicked => return,
                };
                if let Some(p) = buf[..n].iter().position(|&b| b == BOOTLOADER_SKIP_BYTE) {
                    leftover.extend_from_slice(&buf[p..n]);
                    break;
                }
            }
        }
        let _connected = shared.connect(tx);
        // from_parts marks a non-empty read buffer readable, so bytes that came with the skip
        // byte are decoded without waiting for more input.
        let mut parts = FramedParts::new::<MtFrame>(stream, MtCodec::new());
        parts.read_buf = leftover;
        let mut port = Framed::from_parts(parts);
        loop {
            tokio::select! {
                frame = port.next() => match frame {
                    Some(Ok(f)) => shared.from_host(|s| s.handle(&f)),
                    _ => break,
                },
                out = rx.recv() => match out {
                    Some(ToHost::Frame(f)) => if port.send(f).await.is_err() { break },
                    Some(ToHost::Raw(b)) => {
                        let io = port.get_mut();
                        if io.write_all(&b).await.is_err() || io.flush().await.is_err() { break }
                    }
                    None => break,
                },
                () = &mut kicked => break,
            }
        }
    }
}

impl ZnpSim {
    /// The coordinator resets under a connected host (watchdog, brown-out): its network
    /// stops and its endpoints are gone, as after a SYS_RESET_REQ, and it sends an unsolicited
    /// SYS_RESET_IND with `reason`. False without a host.
    pub fn reboot(&self, reason: u8) -> bool {
        self.with_state(|s| {
            s.reset();
        });
        let ind = super::commands::sys::ResetInd {
            reason,
            transport_rev: 2,
            product: 1,
            major_rel: 2,
            minor_rel: 7,
            hw_rev: 0,
        };
        self.inject_frame(super::commands::MtMessage::to_frame(&ind))
    }

    /// Writes raw bytes to the connected host (garbage, frames with a bad FCS); false when
    /// no host is connected.
    pub fn inject_raw(&self, bytes: &[u8]) -> bool {
        let raw = ToHost::Raw(bytes.to_vec());
        self.shared().with_link(|tx| tx.send(raw).is_ok()) == Some(true)
    }

    /// Sends a frame to the connected host as the firmware would (an AF_INCOMING_MSG from a
    /// device, an indication); false when no host is connected.
    pub fn inject_frame(&self, frame: MtFrame) -> bool {
        self.shared().with_link(|tx| ZnpRadio::send(tx, frame)) == Some(true)
    }
}
