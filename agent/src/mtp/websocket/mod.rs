//! The WebSocket MTP (TR-369 "WebSocket Binding"): the agent as WebSocket server
//! ([`server`]) and as client of a Controller's endpoint ([`client`]).
//!
//! - Subprotocol `v1.usp` is required both ways (R-WS.9/10/12/12a).
//! - The client names itself with `eid=` in the request URI's query (R-WS.10b) and, for
//!   older servers, with the `bbf-usp-protocol; eid="..."` extension (R-WS.10a, deprecated
//!   but harmless); a server echoes the extension with its own EndpointID (R-WS.11a).
//! - Records travel in binary frames (R-WS.14); a text frame, or a binary frame that does not
//!   parse as a Record, closes the connection with status 1003 (R-WS.16).
//! - Ping frames keep the session alive (R-WS.17/18); a peer that does not answer one ping
//!   before the next is due is considered gone.
//!
//! - `wss://` (TLS, R-WS.22) uses rustls with the `ring` provider, as the MQTT MTP does.
//!
//! [`pump`] is the per-connection loop both sides share.

pub mod client;
pub mod server;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tracing::{debug, warn};

use super::{Address, ConnId, Inbound, MtpId, Outbound, Route};
pub use super::{Io, disconnect_record};

/// The WebSocket subprotocol for protobuf-encoded USP Records.
pub const SUBPROTOCOL: &str = "v1.usp";
/// The WebSocket extension carrying an EndpointID.
pub const EXTENSION: &str = "bbf-usp-protocol";

/// Default ping interval (`Device.LocalAgent.Controller.{i}.MTP.{i}.WebSocket.KeepAliveInterval`).
pub const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// The EndpointID of a `Sec-WebSocket-Extensions` value offering `bbf-usp-protocol; eid="..."`.
///
/// The header may list several extensions separated by commas, each with `;` parameters;
/// the eid value may be quoted or a bare token.
pub fn eid_from_extensions(header: &str) -> Option<String> {
    header.split(',').find_map(|ext| {
        let mut parts = ext.split(';').map(str::trim);
        if !parts.next()?.eq_ignore_ascii_case(EXTENSION) {
            return None;
        }
        parts.find_map(|param| {
            let (k, v) = param.split_once('=')?;
            if !k.trim().eq_ignore_ascii_case("eid") {
                return None;
            }
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(v);
            (!v.is_empty()).then(|| v.to_string())
        })
    })
}

/// True when a `Sec-WebSocket-Extensions` value offers `bbf-usp-protocol` at all.
pub fn offers_extension(header: &str) -> bool {
    header.split(',').any(|ext| {
        ext.split(';')
            .next()
            .is_some_and(|name| name.trim().eq_ignore_ascii_case(EXTENSION))
    })
}

/// The `eid` of a request URI's query component (R-WS.10b), percent-decoded.
pub fn eid_from_query(query: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == "eid" && !v.is_empty()).then(|| percent_decode(v))
    })
}

/// The `Sec-WebSocket-Extensions` value naming `eid`.
pub fn extension_header(eid: &str) -> String {
    format!("{EXTENSION}; eid=\"{eid}\"")
}

/// True when a `Sec-WebSocket-Protocol` value lists `v1.usp`.
pub fn offers_subprotocol(header: &str) -> bool {
    header.split(',').any(|p| p.trim() == SUBPROTOCOL)
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (b[i], b.get(i + 1).copied(), b.get(i + 2).copied()) {
            (b'%', Some(h), Some(l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(v as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value, keeping the characters RFC 3986 allows there unescaped.
pub fn percent_encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = b.is_ascii_alphanumeric() || b"-._~:@!$'()*,;/?".contains(&b);
        if keep {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The tungstenite configuration for Records of at most `max_record_size` bytes.
fn ws_config(max_record_size: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(max_record_size))
        .max_frame_size(Some(max_record_size))
}

/// True when `bytes` parse as a protobuf USP Record (R-WS.16 asks to close the session on
/// a frame whose Record "cannot be extracted"; checks of the Record's contents are the
/// handler's, answered with USP errors).
fn is_record(bytes: &[u8]) -> bool {
    use prost::Message as _;
    usp_proto::usp_record::Record::decode(bytes).is_ok()
}

/// A WebSocket over TCP or TLS.
pub type WsStream = WebSocketStream<Box<dyn Io>>;

/// Per-session settings of [`pump`].
#[derive(Debug, Clone)]
pub struct PumpSettings {
    /// The MTP the session belongs to.
    pub mtp: MtpId,
    /// The session.
    pub conn: ConnId,
    /// Ping interval.
    pub keep_alive: Duration,
    /// A Record sent before closing on shutdown (the agent's DisconnectRecord, R-MTP.7).
    pub farewell: Option<Bytes>,
}

/// The WebSocketConnect Record an agent sends once a session is open (R-MTP.6).
pub fn connect_record(to_id: &str, from_id: &str) -> Bytes {
    let rec = usp_proto::builder::websocket_connect_record(to_id, from_id);
    usp_proto::builder::encode_record(&rec).into()
}

/// Why a connection's pump ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PumpEnd {
    /// The peer closed, or the socket failed.
    PeerGone(String),
    /// The peer missed a ping.
    KeepAliveTimeout,
    /// A frame that cannot carry a Record (closed with 1003).
    Unsupported,
    /// Asked to stop (shutdown, or replaced by a newer session).
    Stopped,
}

/// Carries Records both ways over one open WebSocket until it ends.
///
/// Inbound binary frames become [`Inbound`]s routed back to `conn`; when the inbound channel
/// is full the pump stops reading (back-pressure) but keeps writing.
pub async fn pump<S>(
    ws: &mut WebSocketStream<S>,
    settings: &PumpSettings,
    inbound: &mpsc::Sender<Inbound>,
    out: &mut mpsc::UnboundedReceiver<Outbound>,
    stop: &mut watch::Receiver<bool>,
) -> PumpEnd
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (mtp, conn) = (settings.mtp, settings.conn);
    let mut ticker = tokio::time::interval(settings.keep_alive);
    ticker.tick().await;
    let mut awaiting_pong = false;
    let mut stalled: Option<Inbound> = None;
    loop {
        tokio::select! {
            permit = inbound.reserve(), if stalled.is_some() => {
                match (permit, stalled.take()) {
                    (Ok(p), Some(m)) => p.send(m),
                    _ => return close(ws, CloseCode::Away, PumpEnd::Stopped).await,
                }
            }
            frame = ws.next(), if stalled.is_none() => match frame {
                Some(Ok(Message::Binary(bytes))) if !is_record(&bytes) => {
                    warn!(%mtp, conn = conn.0, len = bytes.len(), "binary frame is not a USP record; closing with 1003");
                    return close(ws, CloseCode::Unsupported, PumpEnd::Unsupported).await;
                }
                Some(Ok(Message::Binary(bytes))) => {
                    let msg = Inbound { bytes, reply_to: Route { mtp, to: Address::WebSocketConn(conn) } };
                    match inbound.try_send(msg) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(m)) => stalled = Some(m),
                        Err(mpsc::error::TrySendError::Closed(_)) => {
                            return close(ws, CloseCode::Away, PumpEnd::Stopped).await;
                        }
                    }
                }
                Some(Ok(Message::Pong(_))) => awaiting_pong = false,
                Some(Ok(Message::Ping(_))) | Some(Ok(Message::Frame(_))) => {}
                Some(Ok(Message::Text(_))) => {
                    warn!(%mtp, conn = conn.0, "text frame cannot carry a USP record; closing with 1003");
                    return close(ws, CloseCode::Unsupported, PumpEnd::Unsupported).await;
                }
                Some(Ok(Message::Close(frame))) => {
                    debug!(%mtp, conn = conn.0, ?frame, "peer closed");
                    return PumpEnd::PeerGone("closed by peer".into());
                }
                Some(Err(e)) => return PumpEnd::PeerGone(e.to_string()),
                None => return PumpEnd::PeerGone("connection ended".into()),
            },
            o = out.recv() => match o {
                Some(first) => {
                    if let Err(e) = write_batch(ws, first, out).await {
                        return PumpEnd::PeerGone(e);
                    }
                }
                None => return close(ws, CloseCode::Normal, PumpEnd::Stopped).await,
            },
            _ = ticker.tick() => {
                // While stalled nothing is read, so a Pong could not have been seen.
                if awaiting_pong && stalled.is_none() {
                    return close(ws, CloseCode::Away, PumpEnd::KeepAliveTimeout).await;
                }
                awaiting_pong = true;
                if let Err(e) = ws.send(Message::Ping(Bytes::new())).await {
                    return PumpEnd::PeerGone(e.to_string());
                }
            }
            _ = stop.changed() => {
                if let Some(bytes) = settings.farewell.clone() {
                    // R-MTP.7: say why before closing (best effort).
                    let _ = ws.send(Message::Binary(bytes)).await;
                }
                return close(ws, CloseCode::Away, PumpEnd::Stopped).await;
            }
        }
    }
}

/// Writes one Record and whatever else is already queued, then flushes once.
async fn write_batch<S>(
    ws: &mut WebSocketStream<S>,
    first: Outbound,
    out: &mut mpsc::UnboundedReceiver<Outbound>,
) -> Result<(), String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.feed(Message::Binary(first.bytes))
        .await
        .map_err(|e| e.to_string())?;
    for _ in 0..64 {
        match out.try_recv() {
            Ok(o) => ws
                .feed(Message::Binary(o.bytes))
                .await
                .map_err(|e| e.to_string())?,
            Err(_) => break,
        }
    }
    ws.flush().await.map_err(|e| e.to_string())
}

async fn close<S>(ws: &mut WebSocketStream<S>, code: CloseCode, end: PumpEnd) -> PumpEnd
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame = CloseFrame {
        code,
        reason: "".into(),
    };
    // The peer may already be gone; closing is best effort, bounded in time.
    let _ = tokio::time::timeout(Duration::from_secs(2), ws.close(Some(frame))).await;
    end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eid_is_read_from_quoted_and_bare_extension_values() {
        assert_eq!(
            eid_from_extensions(r#"bbf-usp-protocol; eid="proto::ctrl-1""#).as_deref(),
            Some("proto::ctrl-1")
        );
        assert_eq!(
            eid_from_extensions(
                "permessage-deflate; client_max_window_bits, bbf-usp-protocol;eid=os::x"
            )
            .as_deref(),
            Some("os::x")
        );
        assert_eq!(eid_from_extensions("bbf-usp-protocol"), None);
        assert_eq!(eid_from_extensions(r#"other; eid="a""#), None);
        assert_eq!(eid_from_extensions(r#"bbf-usp-protocol; eid="""#), None);
        assert!(offers_extension("permessage-deflate, bbf-usp-protocol"));
        assert!(!offers_extension("permessage-deflate"));
    }

    #[test]
    fn eid_query_round_trips_through_percent_encoding() {
        let eid = "proto::agent 1%/&x";
        let q = format!("a=b&eid={}", percent_encode_query(eid));
        assert!(!q.contains(' '));
        assert_eq!(eid_from_query(&q).as_deref(), Some(eid));
        assert_eq!(eid_from_query("x=1"), None);
        assert_eq!(eid_from_query("eid="), None);
        // A stray '%' is kept, not a panic.
        assert_eq!(eid_from_query("eid=a%zz%").as_deref(), Some("a%zz%"));
    }

    #[test]
    fn subprotocol_must_be_listed_exactly() {
        assert!(offers_subprotocol("v1.usp"));
        assert!(offers_subprotocol("mqtt, v1.usp"));
        assert!(!offers_subprotocol("v1.usp2"));
        assert!(!offers_subprotocol(""));
    }
}
