//! Port actor tests against a scripted stick on an in-memory pipe.

use std::sync::{Arc, Mutex};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};
use tokio::sync::mpsc;
use tokio_util::codec::Decoder;

use super::*;
use crate::zwave::serial::frame::{ACK, CAN, NAK, response};
use crate::zwave::serial::functions::{FunctionId, TX_OPTIONS_DEFAULT};

/// The stick's end of a pipe, reading units with the real codec.
struct Stick {
    io: DuplexStream,
    codec: SerialCodec,
    buf: BytesMut,
}

impl Stick {
    async fn unit(&mut self) -> Unit {
        loop {
            if let Some(u) = self.codec.decode(&mut self.buf).unwrap() {
                return u;
            }
            let n = self.io.read_buf(&mut self.buf).await.unwrap();
            assert!(n > 0, "host closed the port");
        }
    }

    async fn frame(&mut self) -> Frame<Bytes> {
        match self.unit().await {
            Unit::Frame(f) => f,
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.unwrap();
    }

    async fn send_frame(&mut self, f: Frame<Bytes>) {
        self.write(f.as_bytes()).await;
        assert_eq!(self.unit().await, Unit::Ack, "host must ACK every frame");
    }
}

/// A connector handing out pipes the test creates; fails while none is available.
fn pipes() -> (impl Connector, mpsc::UnboundedSender<DuplexStream>) {
    let (tx, rx) = mpsc::unbounded_channel::<DuplexStream>();
    let rx = Arc::new(Mutex::new(rx));
    let connector = move || -> ConnectFuture {
        let next = rx.lock().ok().and_then(|mut r| r.try_recv().ok());
        Box::pin(async move {
            next.map(|d| Box::new(d) as BoxPort)
                .ok_or_else(|| io::Error::new(io::ErrorKind::ConnectionRefused, "no stick"))
        })
    };
    (connector, tx)
}

async fn connected() -> (
    SerialHandle,
    mpsc::Receiver<Inbound>,
    Stick,
    mpsc::UnboundedSender<DuplexStream>,
) {
    let (connector, pipes) = pipes();
    let (host, stick) = duplex(4096);
    pipes.send(host).unwrap();
    let (handle, mut inbound) = spawn(connector, PortConfig::default());
    assert_eq!(inbound.recv().await, Some(Inbound::Up));
    let stick = Stick {
        io: stick,
        codec: SerialCodec::new(),
        buf: BytesMut::new(),
    };
    (handle, inbound, stick, pipes)
}

#[tokio::test]
async fn request_is_sent_acked_answered_and_response_acked() {
    let (handle, _inbound, mut stick, _pipes) = connected().await;
    let req = tokio::spawn({
        let h = handle.clone();
        async move { h.request(HostRequest::simple(FunctionId::GetVersion)).await }
    });
    let f = stick.frame().await;
    assert_eq!(f.as_bytes(), [0x01, 0x03, 0x00, 0x15, 0xE9]);
    stick.write(&[ACK]).await;
    stick
        .send_frame(response(FunctionId::GetVersion, b"Z-Wave 7.17\0\x01").unwrap())
        .await;
    let out = req.await.unwrap().unwrap();
    assert_eq!(out.response.as_deref(), Some(&b"Z-Wave 7.17\0\x01"[..]));
}

#[tokio::test(start_paused = true)]
async fn nak_and_can_are_followed_by_retransmissions() {
    let (handle, _inbound, mut stick, _pipes) = connected().await;
    let req = tokio::spawn(async move {
        handle
            .request(HostRequest::simple(FunctionId::MemoryGetId))
            .await
    });
    let first = stick.frame().await;
    stick.write(&[NAK]).await;
    let t0 = Instant::now();
    assert_eq!(stick.frame().await, first);
    assert!(t0.elapsed() >= Duration::from_millis(1100));
    stick.write(&[CAN]).await;
    assert_eq!(stick.frame().await, first);
    stick.write(&[ACK]).await;
    stick
        .send_frame(response(FunctionId::MemoryGetId, &[0xC0, 0xFF, 0xEE, 0x01, 0x01]).unwrap())
        .await;
    assert!(req.await.unwrap().is_ok());
}

#[tokio::test(start_paused = true)]
async fn silent_stick_fails_request_after_three_attempts() {
    let (handle, _inbound, mut stick, _pipes) = connected().await;
    let req = tokio::spawn(async move {
        handle
            .request(HostRequest::simple(FunctionId::GetVersion))
            .await
    });
    for _ in 0..3 {
        stick.frame().await;
    }
    assert!(matches!(
        req.await.unwrap(),
        Err(TransactionError::NoAck { attempts: 3, .. })
    ));
}

#[tokio::test]
async fn callback_is_matched_by_id_and_others_are_forwarded() {
    let (handle, mut inbound, mut stick, _pipes) = connected().await;
    let req = tokio::spawn(async move {
        handle
            .request(HostRequest::send_data(
                5,
                &[0x25, 0x02],
                TX_OPTIONS_DEFAULT,
                9,
            ))
            .await
    });
    stick.frame().await;
    stick.write(&[ACK]).await;
    stick
        .send_frame(response(FunctionId::SendData, &[1]).unwrap())
        .await;
    // A stale callback (id 8) is not ours: it reaches the bridge as unsolicited.
    stick
        .send_frame(request(FunctionId::SendData, &[8, 0]).unwrap())
        .await;
    stick
        .send_frame(request(FunctionId::SendData, &[9, 0]).unwrap())
        .await;
    let out = req.await.unwrap().unwrap();
    assert_eq!(out.callback.as_deref(), Some(&[9u8, 0][..]));
    match inbound.recv().await {
        Some(Inbound::Frame(f)) => assert_eq!(f.payload(), [8, 0]),
        other => panic!("expected forwarded frame, got {other:?}"),
    }
}

#[tokio::test]
async fn unsolicited_frame_is_acked_and_corrupt_frame_is_naked() {
    let (_handle, mut inbound, mut stick, _pipes) = connected().await;
    stick.write(&[0x01, 0x03, 0x00, 0x15, 0x00]).await;
    assert_eq!(stick.unit().await, Unit::Nak);
    let report = request(
        FunctionId::ApplicationCommandHandler,
        &[0, 5, 3, 0x25, 0x03, 0xFF],
    )
    .unwrap();
    stick.send_frame(report.clone()).await;
    assert_eq!(inbound.recv().await, Some(Inbound::Frame(report)));
}

#[tokio::test(start_paused = true)]
async fn port_loss_fails_in_flight_goes_down_and_resumes_on_new_port() {
    let (handle, mut inbound, mut stick, pipes) = connected().await;
    let h = handle.clone();
    let req =
        tokio::spawn(async move { h.request(HostRequest::simple(FunctionId::GetVersion)).await });
    stick.frame().await;
    drop(stick);
    assert_eq!(req.await.unwrap(), Err(TransactionError::PortLost));
    assert_eq!(inbound.recv().await, Some(Inbound::Down));
    // While down (no pipe available) requests fail fast.
    assert_eq!(
        handle
            .request(HostRequest::simple(FunctionId::GetVersion))
            .await,
        Err(TransactionError::Offline)
    );
    let (host, io) = duplex(4096);
    pipes.send(host).unwrap();
    assert_eq!(inbound.recv().await, Some(Inbound::Up));
    let mut stick = Stick {
        io,
        codec: SerialCodec::new(),
        buf: BytesMut::new(),
    };
    let req = tokio::spawn(async move {
        handle
            .request(HostRequest::simple(FunctionId::SoftReset))
            .await
    });
    stick.frame().await;
    stick.write(&[ACK]).await;
    assert!(req.await.unwrap().is_ok());
}

#[tokio::test(start_paused = true)]
async fn partial_frame_is_dropped_after_byte_timeout() {
    let (_handle, mut inbound, mut stick, _pipes) = connected().await;
    // A frame head whose tail never comes, then silence past the byte timeout.
    stick.write(&[0x01, 0x09, 0x00, 0x04]).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let report = request(
        FunctionId::ApplicationCommandHandler,
        &[0, 5, 3, 0x25, 0x03, 0x00],
    )
    .unwrap();
    stick.send_frame(report.clone()).await;
    assert_eq!(inbound.recv().await, Some(Inbound::Frame(report)));
}
