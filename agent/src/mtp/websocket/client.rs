//! The WebSocket client side of the WebSocket MTP (R-WS.5: an Agent originates sessions to
//! a Controller's endpoint), also used by the Controller side of `usphub ctl`.
//!
//! One actor per remote endpoint: it connects to `ws://host:port/path?eid=<own eid>` with
//! subprotocol `v1.usp` and the `bbf-usp-protocol` extension, refuses a server that does not
//! answer with `v1.usp` (R-WS.12), optionally sends the WebSocketConnect Record first, then
//! carries Records until the session ends, and reconnects with the TR-369 retry interval
//! algorithm (R-WS.19/20, [`RetryPolicy`]).
//!
//! Every Record given to this MTP goes to its one peer, whatever WebSocket address it names;
//! Records given while the session is down wait (within the queue bound) for the next one.
//! `wss://` URLs use TLS, trusting [`WsClientConfig::tls`] (or the system's roots).

use std::time::Duration;

use futures_util::SinkExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header};
use tracing::{info, warn};

use super::{
    DEFAULT_KEEP_ALIVE, Io, PumpEnd, PumpSettings, SUBPROTOCOL, WsStream, connect_record,
    disconnect_record, eid_from_extensions, extension_header, percent_encode_query, pump,
    ws_config,
};
use crate::mtp::retry::RetryPolicy;
use crate::mtp::tls::{self, TlsConfig};
use crate::mtp::{ConnId, Inbound, LinkState, MtpHandle, MtpId, MtpSender, MtpStatus};

/// Configuration of one WebSocket client session.
#[derive(Debug, Clone)]
pub struct WsClientConfig {
    /// `ws://host:port/path` of the remote endpoint.
    pub url: String,
    /// This Endpoint's EndpointID (sent as `eid`).
    pub endpoint_id: String,
    /// The remote EndpointID, when known (the WebSocketConnect Record's `to_id`); otherwise
    /// the one the server names in its `bbf-usp-protocol` extension is used.
    pub peer_endpoint_id: Option<String>,
    /// Send the WebSocketConnect Record when a session opens, and a DisconnectRecord before
    /// closing it on shutdown (an Agent does, R-MTP.6/7; a Controller not).
    pub send_connect_record: bool,
    /// Ping interval.
    pub keep_alive: Duration,
    /// Reconnection back-off (SessionRetryMinimumWaitInterval, ...IntervalMultiplier).
    pub retry: RetryPolicy,
    /// Records accepted but not yet written, at most.
    pub queue_capacity: usize,
    /// Largest Record (WebSocket message) accepted, in bytes.
    pub max_record_size: usize,
    /// Time allowed for TCP connect plus the opening handshake.
    pub connect_timeout: Duration,
    /// What a `wss://` session trusts; `None` trusts the system's roots.
    pub tls: Option<TlsConfig>,
}

impl WsClientConfig {
    /// A client of `url` with defaults for the rest.
    pub fn new(url: impl Into<String>, endpoint_id: impl Into<String>) -> WsClientConfig {
        WsClientConfig {
            url: url.into(),
            endpoint_id: endpoint_id.into(),
            peer_endpoint_id: None,
            send_connect_record: true,
            keep_alive: DEFAULT_KEEP_ALIVE,
            retry: RetryPolicy::default(),
            queue_capacity: 1024,
            max_record_size: 4 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            tls: None,
        }
    }
}

/// Starts the client; it connects at once and keeps reconnecting until shut down.
pub fn spawn(id: MtpId, cfg: WsClientConfig, inbound: mpsc::Sender<Inbound>) -> MtpHandle {
    let (sender, outbound) = MtpSender::channel(id, cfg.queue_capacity);
    let (status_tx, status_rx) = watch::channel(MtpStatus::new(
        LinkState::Connecting,
        format!("connecting to {}", cfg.url),
    ));
    let (shutdown_tx, shutdown_rx) = oneshot::channel::<()>();
    let (stop_tx, stop_rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let relay = tokio::spawn(async move {
            let _ = shutdown_rx.await;
            stop_tx.send_replace(true);
        });
        run(id, cfg, inbound, outbound, stop_rx, &status_tx).await;
        relay.abort();
        status_tx.send_replace(MtpStatus::new(LinkState::Down, "stopped"));
    });
    MtpHandle::new(sender, status_rx, shutdown_tx, task)
}

async fn run(
    id: MtpId,
    cfg: WsClientConfig,
    inbound: mpsc::Sender<Inbound>,
    mut outbound: mpsc::UnboundedReceiver<crate::mtp::Outbound>,
    mut stop: watch::Receiver<bool>,
    status: &watch::Sender<MtpStatus>,
) {
    let mut retries: u32 = 0;
    let mut sessions: u64 = 0;
    loop {
        let attempt = tokio::select! {
            r = tokio::time::timeout(cfg.connect_timeout, connect(&cfg)) => {
                r.unwrap_or_else(|_| Err("connect timed out".into()))
            }
            _ = stop.changed() => return,
        };
        let detail = match attempt {
            Ok((mut ws, server_eid)) => {
                retries = 0;
                sessions += 1;
                info!(mtp = %id, url = %cfg.url, server_eid = ?server_eid, "WebSocket session open");
                status.send_replace(MtpStatus::new(
                    LinkState::Up,
                    format!("connected to {}", cfg.url),
                ));
                let end = session(
                    &mut ws,
                    id,
                    ConnId(sessions),
                    &cfg,
                    server_eid,
                    &inbound,
                    &mut outbound,
                    &mut stop,
                )
                .await;
                if end == PumpEnd::Stopped {
                    return;
                }
                format!("session ended: {end:?}")
            }
            Err(e) => e,
        };
        retries = retries.saturating_add(1);
        let wait = cfg.retry.wait(retries);
        warn!(mtp = %id, url = %cfg.url, %detail, retry_in = ?wait, "WebSocket session down");
        status.send_replace(MtpStatus::new(
            LinkState::Down,
            format!("{detail}; retry {retries} in {wait:?}"),
        ));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        status.send_replace(MtpStatus::new(
            LinkState::Connecting,
            format!("connecting to {}", cfg.url),
        ));
    }
}

#[allow(clippy::too_many_arguments)]
async fn session(
    ws: &mut WsStream,
    id: MtpId,
    conn: ConnId,
    cfg: &WsClientConfig,
    server_eid: Option<String>,
    inbound: &mpsc::Sender<Inbound>,
    outbound: &mut mpsc::UnboundedReceiver<crate::mtp::Outbound>,
    stop: &mut watch::Receiver<bool>,
) -> PumpEnd {
    let to = cfg
        .peer_endpoint_id
        .clone()
        .or(server_eid)
        .unwrap_or_default();
    if cfg.send_connect_record
        && let Err(e) = ws
            .send(Message::Binary(connect_record(&to, &cfg.endpoint_id)))
            .await
    {
        return PumpEnd::PeerGone(e.to_string());
    }
    let settings = PumpSettings {
        mtp: id,
        conn,
        keep_alive: cfg.keep_alive,
        farewell: cfg
            .send_connect_record
            .then(|| disconnect_record(&to, &cfg.endpoint_id, "agent shutting down")),
    };
    pump(ws, &settings, inbound, outbound, stop).await
}

/// The request URI with `eid=<own eid>` added to its query (R-WS.10b).
fn url_with_eid(url: &str, eid: &str) -> String {
    let (base, fragment) = match url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (url, None),
    };
    let sep = if base.contains('?') { '&' } else { '?' };
    let mut s = format!("{base}{sep}eid={}", percent_encode_query(eid));
    if let Some(f) = fragment {
        s.push('#');
        s.push_str(f);
    }
    s
}

/// Opens one session: TCP (TCP_NODELAY), TLS for `wss://`, then the opening handshake.
/// Returns the server's EndpointID when it named one in the extension.
pub async fn connect(cfg: &WsClientConfig) -> Result<(WsStream, Option<String>), String> {
    let mut req = url_with_eid(&cfg.url, &cfg.endpoint_id)
        .into_client_request()
        .map_err(|e| format!("bad URL {:?}: {e}", cfg.url))?;
    let secure = match req.uri().scheme_str() {
        Some("ws") => false,
        Some("wss") => true,
        _ => return Err(format!("unsupported URL {:?}: ws:// or wss://", cfg.url)),
    };
    let host = req
        .uri()
        .host()
        .ok_or_else(|| format!("no host in {:?}", cfg.url))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = req
        .uri()
        .port_u16()
        .unwrap_or(if secure { 443 } else { 80 });
    let headers = req.headers_mut();
    headers.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(SUBPROTOCOL),
    );
    if let Ok(v) = HeaderValue::from_str(&extension_header(&cfg.endpoint_id)) {
        headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, v);
    }
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("cannot connect to {host}:{port}: {e}"))?;
    tcp.set_nodelay(true)
        .map_err(|e| format!("TCP_NODELAY: {e}"))?;
    let stream: Box<dyn Io> = if secure {
        let default = TlsConfig::default();
        let config =
            tls::client_config(cfg.tls.as_ref().unwrap_or(&default)).map_err(|e| e.to_string())?;
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| format!("bad TLS server name {host:?}: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}:{port}: {e}"))?;
        Box::new(tls)
    } else {
        Box::new(tcp)
    };
    let (ws, resp) = tokio_tungstenite::client_async_with_config(
        req,
        stream,
        Some(ws_config(cfg.max_record_size)),
    )
    .await
    .map_err(|e| format!("WebSocket handshake with {}: {e}", cfg.url))?;
    let proto = resp
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok());
    if proto != Some(SUBPROTOCOL) {
        return Err(format!("server did not accept subprotocol {SUBPROTOCOL}"));
    }
    let server_eid = resp
        .headers()
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(eid_from_extensions);
    Ok((ws, server_eid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eid_is_added_to_the_query_before_any_fragment() {
        assert_eq!(
            url_with_eid("ws://h:1/usp", "a::b"),
            "ws://h:1/usp?eid=a::b"
        );
        assert_eq!(
            url_with_eid("ws://h:1/usp?x=1#f", "a b"),
            "ws://h:1/usp?x=1&eid=a%20b#f"
        );
    }
}
