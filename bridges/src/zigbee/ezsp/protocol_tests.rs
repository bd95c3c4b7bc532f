//! The protocol layer over an in-memory transport; the test plays the NCP byte for byte.

use super::*;
use crate::zigbee::ezsp::commands::{GetEui64, GetNodeId, StackStatusHandler};
use crate::zigbee::ezsp::frame::FC_CALLBACK_ASYNC;
use crate::zigbee::ezsp::wire::Status;

struct ChanSink(mpsc::UnboundedSender<Vec<u8>>);

impl FrameSink for ChanSink {
    fn send_frame(&self, frame: Vec<u8>) -> SendFuture {
        let r = self.0.send(frame).map_err(|e| e.to_string());
        Box::pin(async move { r })
    }
}

struct Ncp {
    from_host: mpsc::UnboundedReceiver<Vec<u8>>,
    to_host: mpsc::Sender<LinkEvent>,
}

impl Ncp {
    async fn next(&mut self) -> Vec<u8> {
        tokio::time::timeout(Duration::from_secs(5), self.from_host.recv())
            .await
            .expect("host frame in time")
            .expect("host connected")
    }

    async fn push(&self, bytes: Vec<u8>) {
        self.to_host
            .send(LinkEvent::Frame(bytes.into()))
            .await
            .unwrap();
    }
}

fn start(config: ProtocolConfig) -> (EzspHandle, Ncp, tokio::task::JoinHandle<Ended>) {
    let (handle, mut served) = channel();
    let (htx, hrx) = mpsc::unbounded_channel();
    let (etx, erx) = mpsc::channel(16);
    let mut t = Transport {
        sink: Arc::new(ChanSink(htx)),
        events: erx,
    };
    let task = tokio::spawn(async move {
        let mut seq = 0;
        serve(&mut t, &mut served, &mut seq, &config).await
    });
    (
        handle,
        Ncp {
            from_host: hrx,
            to_host: etx,
        },
        task,
    )
}

fn rsp(seq: u8, frame_id: u16, params: &[u8]) -> Vec<u8> {
    Header::response(seq, frame_id, 0)
        .emit(HeaderFormat::Extended, params)
        .unwrap()
}

fn async_cb(seq: u8, frame_id: u16, params: &[u8]) -> Vec<u8> {
    Header::response(seq, frame_id, FC_CALLBACK_ASYNC)
        .emit(HeaderFormat::Extended, params)
        .unwrap()
}

async fn negotiated(config: ProtocolConfig) -> (EzspHandle, Ncp, tokio::task::JoinHandle<Ended>) {
    let (h, mut ncp, task) = start(config);
    let n = tokio::spawn({
        let h = h.clone();
        async move { h.negotiate().await }
    });
    assert_eq!(ncp.next().await, [0x00, 0x00, 0x00, 0x04]);
    ncp.push(vec![0x00, 0x80, 0x00, 13, 2, 0x00, 0x74]).await;
    assert_eq!(ncp.next().await, [0x01, 0x00, 0x01, 0x00, 0x00, 13]);
    ncp.push(rsp(1, 0, &[13, 2, 0x00, 0x74])).await;
    let v = n.await.unwrap().unwrap();
    assert_eq!((v.protocol_version, v.stack_version), (13, 0x7400));
    assert_eq!(h.version(), 13);
    (h, ncp, task)
}

#[tokio::test]
async fn version_is_negotiated_legacy_first_then_in_the_ncp_layout() {
    negotiated(ProtocolConfig::default()).await;
}

#[tokio::test]
async fn an_ncp_older_than_v8_is_refused() {
    let (h, mut ncp, _task) = start(ProtocolConfig::default());
    let n = tokio::spawn(async move { h.negotiate().await });
    ncp.next().await;
    ncp.push(vec![0x00, 0x80, 0x00, 6, 2, 0x30, 0x63]).await;
    assert_eq!(n.await.unwrap(), Err(EzspError::UnsupportedVersion(6)));
}

#[tokio::test]
async fn callbacks_interleaved_before_the_response_are_broadcast_and_the_response_matched() {
    let (h, mut ncp, _task) = negotiated(ProtocolConfig::default()).await;
    let mut cbs = h.callbacks();
    let req = tokio::spawn({
        let h = h.clone();
        async move { h.request(&GetEui64 {}).await }
    });
    let cmd = ncp.next().await;
    assert_eq!(cmd, [0x02, 0x00, 0x01, 0x26, 0x00]);
    // An async callback reusing the command's sequence number, a response to an older
    // sequence, then the real answer.
    ncp.push(async_cb(2, 0x0019, &[0x90])).await;
    ncp.push(rsp(1, 0x0027, &[0x00, 0x00])).await;
    ncp.push(rsp(2, 0x0026, &0x0012_4B00_C0FF_EE00u64.to_le_bytes()))
        .await;
    assert_eq!(req.await.unwrap().unwrap().eui64, 0x0012_4B00_C0FF_EE00);
    let s: StackStatusHandler = wait_for(&mut cbs, 13, Duration::from_secs(1), |_| true)
        .await
        .unwrap();
    assert_eq!(s.status, Status::network_up(13));
}

#[tokio::test]
async fn a_timed_out_command_fails_alone_and_repeated_timeouts_end_the_connection() {
    let config = ProtocolConfig {
        response_timeout: Duration::from_millis(50),
        max_timeouts: 2,
    };
    let (h, mut ncp, task) = negotiated(config).await;
    assert_eq!(
        h.request(&GetNodeId {}).await,
        Err(EzspError::Timeout("getNodeId"))
    );
    ncp.next().await;
    let req = tokio::spawn({
        let h = h.clone();
        async move { h.request(&GetNodeId {}).await }
    });
    let cmd = ncp.next().await;
    ncp.push(rsp(cmd[0], 0x0027, &[0x00, 0x00])).await;
    assert_eq!(req.await.unwrap().unwrap().node_id, 0);
    for _ in 0..2 {
        assert!(h.request(&GetNodeId {}).await.is_err());
    }
    assert!(matches!(task.await.unwrap(), Ended::Lost(_)));
    assert_eq!(h.request(&GetNodeId {}).await, Err(EzspError::Stopped));
}

#[tokio::test]
async fn invalid_command_unknown_frames_and_truncated_responses_are_reported_not_fatal() {
    let (h, mut ncp, _task) = negotiated(ProtocolConfig::default()).await;
    let mut cbs = h.callbacks();
    let req = tokio::spawn({
        let h = h.clone();
        async move { h.request(&GetNodeId {}).await }
    });
    let cmd = ncp.next().await;
    // An unknown callback id and garbage too short for a header come first.
    ncp.push(async_cb(0, 0x7777, &[1, 2, 3])).await;
    ncp.push(vec![0x01]).await;
    ncp.push(rsp(cmd[0], INVALID_COMMAND, &[0x31])).await;
    assert_eq!(
        req.await.unwrap(),
        Err(EzspError::InvalidCommand {
            what: "getNodeId",
            status: 0x31
        })
    );
    let unknown = cbs.recv().await.unwrap();
    assert_eq!(unknown.frame_id, 0x7777);

    let req = tokio::spawn({
        let h = h.clone();
        async move { h.request(&GetEui64 {}).await }
    });
    let cmd = ncp.next().await;
    ncp.push(rsp(cmd[0], 0x0026, &[1, 2, 3])).await;
    assert!(matches!(
        req.await.unwrap(),
        Err(EzspError::Decode {
            what: "getEui64",
            ..
        })
    ));
    let req = tokio::spawn({
        let h = h.clone();
        async move { h.request(&GetEui64 {}).await }
    });
    let cmd = ncp.next().await;
    let mut flagged = rsp(cmd[0], 0x0026, &[0; 8]);
    flagged[1] |= FC_TRUNCATED;
    ncp.push(flagged).await;
    assert_eq!(req.await.unwrap(), Err(EzspError::Truncated("getEui64")));
}

#[tokio::test]
async fn an_ncp_reset_ends_the_connection_and_fails_the_command_in_flight() {
    let (h, mut ncp, task) = negotiated(ProtocolConfig::default()).await;
    let req = tokio::spawn({
        let h = h.clone();
        async move { h.request(&GetEui64 {}).await }
    });
    ncp.next().await;
    ncp.to_host
        .send(LinkEvent::Reset("RSTACK".into()))
        .await
        .unwrap();
    assert_eq!(req.await.unwrap(), Err(EzspError::Offline));
    assert_eq!(task.await.unwrap(), Ended::Lost("NCP reset: RSTACK".into()));
}
