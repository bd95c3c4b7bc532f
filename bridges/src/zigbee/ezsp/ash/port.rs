//! The port as both link actors use it: a framed read half and a write half with an output
//! buffer that the actor drains in its `select!` loop.
//!
//! Why not `Framed` with `send().await`: an actor blocked writing does not read, and two
//! peers that both stop reading while writing (a PTY or TCP pipe with small buffers, heavy
//! traffic both ways) deadlock. Here frames are encoded into [`AshPort::out`] at once and
//! written whenever the port accepts bytes, while the read half stays polled.

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio_util::codec::FramedRead;

use super::codec::{AshFrame, encode};
use super::framer::AshCodec;

/// Output bytes past which the actors stop reading: the peer is not draining the port.
pub(crate) const MAX_OUT: usize = 64 * 1024;

/// A split port with a pending-output buffer.
pub(crate) struct AshPort<S> {
    pub(crate) reader: FramedRead<ReadHalf<S>, AshCodec>,
    pub(crate) writer: WriteHalf<S>,
    pub(crate) out: BytesMut,
}

impl<S: AsyncRead + AsyncWrite> AshPort<S> {
    pub(crate) fn new(io: S) -> Self {
        let (read, writer) = tokio::io::split(io);
        AshPort {
            reader: FramedRead::new(read, AshCodec::new()),
            writer,
            out: BytesMut::with_capacity(1024),
        }
    }

    /// Queues a frame for writing.
    pub(crate) fn queue(&mut self, frame: &AshFrame) {
        encode(frame, &mut self.out);
    }

    /// Whether the output buffer is so full that reading should pause.
    pub(crate) fn congested(&self) -> bool {
        self.out.len() >= MAX_OUT
    }

    /// Writes everything queued (used where blocking is harmless: reset, shutdown).
    pub(crate) async fn flush_all(&mut self) -> std::io::Result<()> {
        while !self.out.is_empty() {
            let n = self.writer.write(&self.out).await?;
            self.advance(n)?;
        }
        self.writer.flush().await
    }

    /// Consumes `n` written bytes; a zero-byte write means the port is gone.
    pub(crate) fn advance(&mut self, n: usize) -> std::io::Result<()> {
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.out.advance(n.min(self.out.len()));
        Ok(())
    }
}
