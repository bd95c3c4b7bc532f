//! The on/off switch in front of a hot-plugged stick's port (see the parent module): a
//! connector (for the ZNP/EZSP link or the Z-Wave port actor) that opens the stick's current
//! port or fails at once while it is unplugged, and a port wrapper that fails every read and
//! write once the stick is gone, so its owner drops (closes) it.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use usphub_bridges::api::{AsyncPort, SerialPortSpec, open_port};

/// Whether a stick is present, and which plug-in session: each plug and unplug starts a new
/// one, and a port opened in one session fails as soon as the session ends.
#[derive(Debug, Clone)]
struct GateState {
    spec: Option<SerialPortSpec>,
    session: u64,
}

/// The on/off switch in front of a hot-plugged stick's port. The ZNP link reopens its port
/// after a loss on its own back-off; through the gate, a removed stick's port is closed at
/// once (a stick that vanished may not fail its reads, e.g. behind a PTY or USB hub) and not
/// reopened until the stick is plugged again.
#[derive(Debug, Clone)]
pub(super) struct PortGate {
    tx: Arc<watch::Sender<GateState>>,
}

impl PortGate {
    pub(super) fn new(spec: SerialPortSpec) -> PortGate {
        let (tx, _) = watch::channel(GateState {
            spec: Some(spec),
            session: 0,
        });
        PortGate { tx: Arc::new(tx) }
    }

    pub(super) fn plug(&self, spec: SerialPortSpec) {
        self.tx.send_modify(|s| {
            s.spec = Some(spec);
            s.session += 1;
        });
    }

    pub(super) fn unplug(&self) {
        self.tx.send_modify(|s| {
            s.spec = None;
            s.session += 1;
        });
    }

    /// A ZNP/EZSP link connector that opens the stick's current port, or fails at once while
    /// it is unplugged.
    pub(super) fn connector(&self) -> usphub_bridges::zigbee::znp::link::Connector {
        let tx = self.tx.clone();
        Arc::new(move || {
            let tx = tx.clone();
            Box::pin(async move {
                let port = open_gated(&tx).await?;
                Ok(Box::new(port) as Box<dyn AsyncPort>)
            })
        })
    }

    /// The same for the Z-Wave bridge's port actor.
    pub(super) fn zwave_connector(&self) -> impl usphub_bridges::zwave::serial::port::Connector {
        use usphub_bridges::zwave::serial::port::{BoxPort, ConnectFuture};
        let tx = self.tx.clone();
        move || -> ConnectFuture {
            let tx = tx.clone();
            Box::pin(async move {
                let port = open_gated(&tx).await.map_err(io::Error::other)?;
                Ok(Box::new(port) as BoxPort)
            })
        }
    }
}

/// Opens the port of the current plug-in session, wrapped to fail once the session ends.
async fn open_gated(tx: &watch::Sender<GateState>) -> Result<GatedPort, String> {
    let state = tx.borrow().clone();
    let spec = state.spec.ok_or_else(|| "stick unplugged".to_string())?;
    let io = open_port(&spec).await.map_err(|e| e.to_string())?;
    let mut rx = tx.subscribe();
    let ended: SessionEnd = Box::pin(async move {
        // Err: the gate is gone, which ends the session too.
        let _ = rx.wait_for(|s| s.session != state.session).await;
    });
    Ok(GatedPort {
        io,
        ended,
        closed: false,
    })
}

type SessionEnd = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A port that fails every read and write once its plug-in session has ended, so its owner
/// drops (closes) it.
struct GatedPort {
    io: Box<dyn AsyncPort>,
    ended: SessionEnd,
    closed: bool,
}

impl GatedPort {
    fn check(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        if !self.closed && self.ended.as_mut().poll(cx).is_ready() {
            self.closed = true;
        }
        if self.closed {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "stick unplugged",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for GatedPort {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for GatedPort {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    #[tokio::test]
    async fn gated_port_closes_on_unplug_and_reopens_only_after_plug() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let gate = PortGate::new(SerialPortSpec::tcp("127.0.0.1", addr.port()));
        let connect = gate.connector();

        let mut port = connect().await.unwrap();
        let (mut stick, _) = listener.accept().await.unwrap();
        stick.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        port.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hi");

        // A read waiting on the stick fails as soon as the stick is unplugged.
        let pending = tokio::spawn(async move {
            let mut b = [0u8; 1];
            let r = port.read(&mut b).await;
            (r.map_err(|e| e.kind()), port)
        });
        gate.unplug();
        let (read, mut port) = pending.await.unwrap();
        assert_eq!(read, Err(io::ErrorKind::NotConnected));
        assert!(port.write_all(b"x").await.is_err(), "writes fail too");
        // The owner drops it: the stick side sees the port closed.
        drop(port);
        let mut rest = Vec::new();
        assert_eq!(stick.read_to_end(&mut rest).await.unwrap(), 0);

        let refused = connect().await.err().unwrap();
        assert!(refused.contains("unplugged"), "{refused}");

        gate.plug(SerialPortSpec::tcp("127.0.0.1", addr.port()));
        let mut port = connect().await.unwrap();
        let (mut stick, _) = listener.accept().await.unwrap();
        port.write_all(b"ok").await.unwrap();
        stick.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    }
}
