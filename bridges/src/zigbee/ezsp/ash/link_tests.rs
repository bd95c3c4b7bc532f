//! Host and NCP links against each other over in-memory duplex pipes.

use std::time::Duration;

use bytes::Bytes;
use futures_util::future::join_all;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, DuplexStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Framed;

use super::codec::{AshFrame, reset_code};
use super::framer::AshCodec;
use super::host::{AshConfig, AshError, AshEvent, AshHost};
use super::ncp::{AshNcpConfig, AshNcpEvent, AshNcpHandle, NcpFault, serve_ncp};

const WAIT: Duration = Duration::from_secs(30);

async fn connected() -> (
    AshHost,
    mpsc::Receiver<AshEvent>,
    AshNcpHandle,
    mpsc::UnboundedReceiver<AshNcpEvent>,
) {
    let (host_io, ncp_io) = tokio::io::duplex(256);
    let (ncp, mut ncp_events) = serve_ncp(ncp_io, AshNcpConfig::default());
    let (host, events) = AshHost::start(host_io, AshConfig::default()).await.unwrap();
    assert_eq!(ncp_events.recv().await, Some(AshNcpEvent::Reset));
    (host, events, ncp, ncp_events)
}

fn ezsp(i: usize) -> Vec<u8> {
    let mut v = vec![(i % 256) as u8, 0x01, 0x00];
    v.extend_from_slice(&(i as u32).to_le_bytes());
    v.extend((0..(i % 30)).map(|k| k as u8 ^ 0x7E));
    v
}

async fn next_host_event(events: &mut mpsc::Receiver<AshEvent>) -> AshEvent {
    tokio::time::timeout(WAIT, events.recv())
        .await
        .unwrap()
        .unwrap()
}

async fn next_ncp_frame(events: &mut mpsc::UnboundedReceiver<AshNcpEvent>) -> Bytes {
    match tokio::time::timeout(WAIT, events.recv()).await.unwrap() {
        Some(AshNcpEvent::Frame(b)) => b,
        other => panic!("expected a frame, got {other:?}"),
    }
}

#[tokio::test]
async fn start_resets_the_ncp_and_reports_its_reset_code() {
    let (host, _events, _ncp, _ncp_events) = connected().await;
    assert_eq!(host.reset_code(), reset_code::SOFTWARE);
}

#[tokio::test]
async fn thousand_frames_each_way_arrive_in_order_exactly_once() {
    let (host, mut events, ncp, mut ncp_events) = connected().await;
    const N: usize = 1000;
    let sender = {
        let host = host.clone();
        tokio::spawn(async move {
            let results = join_all((0..N).map(|i| host.send(ezsp(i)))).await;
            results.into_iter().all(|r| r.is_ok())
        })
    };
    for i in 0..N {
        assert!(ncp.send(ezsp(i)));
    }
    for i in 0..N {
        assert_eq!(
            next_host_event(&mut events).await,
            AshEvent::Frame(ezsp(i).into())
        );
        assert_eq!(next_ncp_frame(&mut ncp_events).await, ezsp(i));
    }
    assert!(sender.await.unwrap());
    assert!(events.try_recv().is_err());
    assert!(ncp_events.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn dropped_ack_makes_host_retransmit_and_ncp_discard_the_duplicate() {
    let (host, _events, ncp, mut ncp_events) = connected().await;
    ncp.fault(NcpFault::DropNextAck);
    let started = Instant::now();
    host.send(ezsp(1)).await.unwrap();
    // Only the retransmission after T_RX_ACK_INIT can have been acknowledged.
    assert!(started.elapsed() >= Duration::from_millis(1600));
    assert_eq!(next_ncp_frame(&mut ncp_events).await, ezsp(1));
    host.send(ezsp(2)).await.unwrap();
    assert_eq!(next_ncp_frame(&mut ncp_events).await, ezsp(2));
    assert!(ncp_events.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn corrupted_frame_is_naked_and_retransmitted_at_once() {
    let (_host, mut events, ncp, _ncp_events) = connected().await;
    ncp.fault(NcpFault::CorruptNextFrame);
    let started = Instant::now();
    assert!(ncp.send(ezsp(7)));
    assert!(ncp.send(ezsp(8)));
    assert_eq!(
        next_host_event(&mut events).await,
        AshEvent::Frame(ezsp(7).into())
    );
    assert_eq!(
        next_host_event(&mut events).await,
        AshEvent::Frame(ezsp(8).into())
    );
    // Recovered through the host's NAK, not through the NCP's ACK timer.
    assert!(started.elapsed() < Duration::from_millis(1600));
    assert!(events.try_recv().is_err());
}

#[tokio::test(start_paused = true)]
async fn frame_rejected_by_the_ncp_is_retransmitted_by_the_host() {
    let (host, _events, ncp, mut ncp_events) = connected().await;
    ncp.fault(NcpFault::NakNext);
    let started = Instant::now();
    host.send(ezsp(3)).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(1600));
    assert_eq!(next_ncp_frame(&mut ncp_events).await, ezsp(3));
    assert!(ncp_events.try_recv().is_err());
}

#[tokio::test]
async fn garbage_between_frames_does_not_lose_or_duplicate_frames() {
    let (host, mut events, ncp, mut ncp_events) = connected().await;
    assert!(ncp.send(ezsp(1)));
    ncp.fault(NcpFault::SendRaw(vec![
        0x00, 0x12, 0x7D, 0x7E, 0x42, 0x18, 0x99, 0x7E,
    ]));
    assert!(ncp.send(ezsp(2)));
    host.send(ezsp(3)).await.unwrap();
    assert_eq!(
        next_host_event(&mut events).await,
        AshEvent::Frame(ezsp(1).into())
    );
    assert_eq!(
        next_host_event(&mut events).await,
        AshEvent::Frame(ezsp(2).into())
    );
    assert_eq!(next_ncp_frame(&mut ncp_events).await, ezsp(3));
}

#[tokio::test]
async fn error_frame_is_reported_and_ends_the_link() {
    let (host, mut events, ncp, _ncp_events) = connected().await;
    ncp.fault(NcpFault::SendError(0x51));
    assert_eq!(
        next_host_event(&mut events).await,
        AshEvent::NcpError { code: 0x51 }
    );
    assert!(matches!(
        next_host_event(&mut events).await,
        AshEvent::Closed(_)
    ));
    assert_eq!(host.send(ezsp(1)).await, Err(AshError::Closed));
    ncp.closed().await;
}

#[tokio::test]
async fn unsolicited_rstack_reports_an_ncp_reset() {
    let (host, mut events, ncp, _ncp_events) = connected().await;
    ncp.fault(NcpFault::SendRstAck(reset_code::POWER_ON));
    assert_eq!(
        next_host_event(&mut events).await,
        AshEvent::NcpReset {
            reset_code: reset_code::POWER_ON
        }
    );
    assert!(matches!(
        next_host_event(&mut events).await,
        AshEvent::Closed(_)
    ));
    assert!(host.is_closed());
}

#[tokio::test(start_paused = true)]
async fn silent_ncp_makes_start_time_out_after_every_rst() {
    let (host_io, mut ncp_io) = tokio::io::duplex(4096);
    let config = AshConfig::default();
    let attempts = config.reset_attempts;
    let err = AshHost::start(host_io, config).await.unwrap_err();
    assert_eq!(err, AshError::Timeout);
    let mut seen = Vec::new();
    ncp_io.read_to_end(&mut seen).await.unwrap();
    let rst = [0x1A, 0xC0, 0x38, 0xBC, 0x7E];
    assert_eq!(seen, rst.repeat(attempts as usize));
}

/// A hand-driven NCP end: answers the first RST with RSTACK and then does nothing itself.
async fn manual_ncp(
    version: u8,
) -> (
    Result<(AshHost, mpsc::Receiver<AshEvent>), AshError>,
    Framed<DuplexStream, AshCodec>,
) {
    let (host_io, ncp_io) = tokio::io::duplex(4096);
    let mut ncp = Framed::new(ncp_io, AshCodec::new());
    let start = tokio::spawn(AshHost::start(host_io, AshConfig::default()));
    // Noise from before the reset must be discarded by the host.
    ncp.send(AshFrame::Ack {
        ack_num: 3,
        n_rdy: false,
    })
    .await
    .unwrap();
    assert_eq!(ncp.next().await.unwrap().unwrap(), Ok(AshFrame::Rst));
    ncp.send(AshFrame::RstAck {
        version,
        reset_code: reset_code::EXTERNAL,
    })
    .await
    .unwrap();
    (start.await.unwrap(), ncp)
}

#[tokio::test]
async fn rstack_with_another_ash_version_is_refused() {
    let (result, _ncp) = manual_ncp(3).await;
    assert_eq!(result.err(), Some(AshError::BadVersion(3)));
}

#[tokio::test]
async fn port_eof_closes_the_link_and_fails_pending_sends() {
    let (result, mut ncp) = manual_ncp(2).await;
    let (host, mut events) = result.unwrap();
    assert_eq!(host.reset_code(), reset_code::EXTERNAL);
    let pending = {
        let host = host.clone();
        tokio::spawn(async move { host.send(ezsp(1)).await })
    };
    // The DATA frame arrives; the NCP hangs up instead of acknowledging it.
    let frame = ncp.next().await.unwrap().unwrap().unwrap();
    assert!(matches!(
        frame,
        AshFrame::Data {
            frm_num: 0,
            re_tx: false,
            ..
        }
    ));
    drop(ncp);
    assert_eq!(
        next_host_event(&mut events).await,
        AshEvent::Closed("port closed".into())
    );
    assert_eq!(pending.await.unwrap(), Err(AshError::Closed));
    assert_eq!(host.send(ezsp(2)).await, Err(AshError::Closed));
}

#[tokio::test]
async fn close_stops_the_host_and_the_ncp_sees_the_port_end() {
    let (host, mut events, ncp, _ncp_events) = connected().await;
    host.close();
    assert!(matches!(
        next_host_event(&mut events).await,
        AshEvent::Closed(_)
    ));
    tokio::time::timeout(WAIT, ncp.closed()).await.unwrap();
    assert_eq!(host.send(ezsp(1)).await, Err(AshError::Closed));
}

#[tokio::test]
async fn oversized_or_undersized_frames_are_refused_before_queueing() {
    let (host, _events, ncp, _ncp_events) = connected().await;
    assert_eq!(host.send(vec![0; 129]).await, Err(AshError::TooLong(129)));
    assert_eq!(host.send(vec![0; 2]).await, Err(AshError::TooShort(2)));
    assert!(!ncp.send(vec![0; 129]));
    host.send(vec![0; 128]).await.unwrap();
}

#[tokio::test]
async fn slow_consumer_sets_nrdy_until_drained_and_loses_nothing() {
    let (host_io, ncp_io) = tokio::io::duplex(4096);
    let mut ncp = Framed::new(ncp_io, AshCodec::new());
    let config = AshConfig {
        event_capacity: 1,
        not_ready_threshold: 4,
        ..AshConfig::default()
    };
    let start = tokio::spawn(AshHost::start(host_io, config));
    assert_eq!(ncp.next().await.unwrap().unwrap(), Ok(AshFrame::Rst));
    ncp.send(AshFrame::RstAck {
        version: 2,
        reset_code: reset_code::SOFTWARE,
    })
    .await
    .unwrap();
    let (_host, mut events) = start.await.unwrap().unwrap();
    for i in 0..7u8 {
        ncp.send(AshFrame::Data {
            frm_num: i,
            ack_num: 0,
            re_tx: false,
            payload: ezsp(usize::from(i)).into(),
        })
        .await
        .unwrap();
    }
    let last_ack = loop {
        match ncp.next().await.unwrap().unwrap().unwrap() {
            AshFrame::Ack { ack_num: 7, n_rdy } => break n_rdy,
            AshFrame::Ack { .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    };
    assert!(
        last_ack,
        "nobody reads the events: the host must be not ready"
    );
    for i in 0..7 {
        assert_eq!(
            next_host_event(&mut events).await,
            AshEvent::Frame(ezsp(i).into())
        );
    }
    assert_eq!(
        ncp.next().await.unwrap().unwrap(),
        Ok(AshFrame::Ack {
            ack_num: 7,
            n_rdy: false
        })
    );
}

#[tokio::test(start_paused = true)]
async fn host_gives_up_after_max_retries_without_acks() {
    let (result, mut ncp) = manual_ncp(2).await;
    let (host, mut events) = result.unwrap();
    let pending = {
        let host = host.clone();
        tokio::spawn(async move { host.send(ezsp(1)).await })
    };
    // The NCP end never acknowledges; the host retransmits, gives up and drops the port.
    let mut retransmissions = 0;
    while let Some(frame) = ncp.next().await {
        match frame.unwrap().unwrap() {
            AshFrame::Data { re_tx: true, .. } => retransmissions += 1,
            AshFrame::Data { re_tx: false, .. } => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let closed = next_host_event(&mut events).await;
    assert!(matches!(closed, AshEvent::Closed(reason) if reason.contains("no ACK")));
    assert_eq!(retransmissions, AshConfig::default().max_retries);
    assert_eq!(pending.await.unwrap(), Err(AshError::Closed));
}

#[tokio::test(start_paused = true)]
async fn ncp_enters_failed_state_when_the_host_never_acks_and_rst_recovers() {
    let (host_io, ncp_io) = tokio::io::duplex(4096);
    let (ncp, mut ncp_events) = serve_ncp(ncp_io, AshNcpConfig::default());
    let mut host = Framed::new(host_io, AshCodec::new());
    host.send(AshFrame::Rst).await.unwrap();
    assert!(matches!(
        host.next().await.unwrap().unwrap(),
        Ok(AshFrame::RstAck { version: 2, .. })
    ));
    assert_eq!(ncp_events.recv().await, Some(AshNcpEvent::Reset));
    assert!(ncp.send(ezsp(1)));
    let failed = AshFrame::Error {
        version: 2,
        code: reset_code::EXCEEDED_MAXIMUM_ACK_TIMEOUT_COUNT,
    };
    let mut data_frames = 0;
    loop {
        match host.next().await.unwrap().unwrap().unwrap() {
            AshFrame::Data { .. } => data_frames += 1,
            frame => {
                assert_eq!(frame, failed);
                break;
            }
        }
    }
    assert_eq!(data_frames, 1 + AshNcpConfig::default().max_retries);
    // FAILED: everything but RST is answered with ERROR.
    host.send(AshFrame::Ack {
        ack_num: 0,
        n_rdy: false,
    })
    .await
    .unwrap();
    assert_eq!(host.next().await.unwrap().unwrap(), Ok(failed));
    host.send(AshFrame::Rst).await.unwrap();
    assert!(matches!(
        host.next().await.unwrap().unwrap(),
        Ok(AshFrame::RstAck { .. })
    ));
}

#[tokio::test]
async fn sends_fail_at_once_after_the_link_ended_even_if_events_are_unread() {
    let (host_io, ncp_io) = tokio::io::duplex(4096);
    let (ncp, _ncp_events) = serve_ncp(ncp_io, AshNcpConfig::default());
    let config = AshConfig {
        event_capacity: 1,
        ..AshConfig::default()
    };
    let (host, _events) = AshHost::start(host_io, config).await.unwrap();
    for i in 0..3 {
        assert!(ncp.send(ezsp(i)));
    }
    ncp.fault(NcpFault::SendError(0x06));
    tokio::time::timeout(WAIT, host.closed()).await.unwrap();
    let send = tokio::time::timeout(WAIT, host.send(ezsp(9))).await;
    assert_eq!(send, Ok(Err(AshError::Closed)));
}
