//! The WebSocket server side of the WebSocket MTP (R-WS.6: an Agent accepts sessions from
//! Controllers). Loopback by default; one task per connection, one actor that knows which
//! connection carries which EndpointID.
//!
//! A handshake without `v1.usp` in `Sec-WebSocket-Protocol` is refused with
//! `400 Bad Request` (R-WS.12a); a configured path that does not match gets `404`. The
//! client's EndpointID comes from the `eid` query parameter (R-WS.10b) or, failing that,
//! the `bbf-usp-protocol` extension; when the client offered the extension the response
//! carries it back with this server's EndpointID (R-WS.11a). A second session from the same
//! EndpointID replaces the first (R-WS.4: at most one session between two Endpoints).
//! With [`WsServerConfig::tls`] set, sessions run over TLS (`wss://`, R-WS.22).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode, header};
use tracing::{debug, info, warn};

use super::{
    DEFAULT_KEEP_ALIVE, Io, PumpSettings, SUBPROTOCOL, connect_record, disconnect_record,
    eid_from_extensions, eid_from_query, extension_header, offers_extension, offers_subprotocol,
    pump, ws_config,
};
use crate::mtp::tls::{ServerTlsConfig, server_config};
use crate::mtp::{
    Address, ConnId, Inbound, LinkState, MtpError, MtpHandle, MtpId, MtpSender, MtpStatus, Outbound,
};

/// Configuration of the WebSocket server.
#[derive(Debug, Clone)]
pub struct WsServerConfig {
    /// Address to listen on (loopback by default; port 0 picks a free one).
    pub listen: SocketAddr,
    /// This Endpoint's EndpointID, echoed in the `bbf-usp-protocol` extension.
    pub endpoint_id: String,
    /// The resource path sessions must ask for; `None` accepts any path.
    pub path: Option<String>,
    /// Ping interval.
    pub keep_alive: Duration,
    /// Records accepted but not yet written, at most.
    pub queue_capacity: usize,
    /// Largest Record (WebSocket message) accepted, in bytes.
    pub max_record_size: usize,
    /// Time allowed for a client to complete TLS and the opening handshake.
    pub handshake_timeout: Duration,
    /// TLS identity for `wss://`; `None` for plain `ws://`.
    pub tls: Option<ServerTlsConfig>,
    /// Send the WebSocketConnect Record to a Controller that named its EndpointID, and a
    /// DisconnectRecord before closing on shutdown (an Agent does, R-MTP.6/7; a Controller
    /// listening for agents does not).
    pub send_connect_record: bool,
}

impl WsServerConfig {
    /// A server on `listen` with defaults for the rest.
    pub fn new(listen: SocketAddr, endpoint_id: impl Into<String>) -> WsServerConfig {
        WsServerConfig {
            listen,
            endpoint_id: endpoint_id.into(),
            path: None,
            keep_alive: DEFAULT_KEEP_ALIVE,
            queue_capacity: 1024,
            max_record_size: 4 * 1024 * 1024,
            handshake_timeout: Duration::from_secs(10),
            tls: None,
            send_connect_record: true,
        }
    }
}

/// Binds the listening socket and starts the server.
pub async fn spawn(
    id: MtpId,
    cfg: WsServerConfig,
    inbound: mpsc::Sender<Inbound>,
) -> Result<MtpHandle, MtpError> {
    let acceptor = match &cfg.tls {
        Some(t) => Some(tokio_rustls::TlsAcceptor::from(server_config(t)?)),
        None => None,
    };
    let listener = TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| MtpError::Connect(format!("cannot listen on {}: {e}", cfg.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| MtpError::Connect(e.to_string()))?;
    info!(mtp = %id, addr = %local, "WebSocket server listening");
    let (sender, outbound) = MtpSender::channel(id, cfg.queue_capacity);
    let mut st = MtpStatus::new(LinkState::Up, format!("listening on {local}"));
    st.local_addr = Some(local);
    let (status_tx, status_rx) = watch::channel(st);
    let (shutdown_tx, shutdown_rx) = oneshot::channel();
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (stop_tx, _) = watch::channel(false);
    let server = Server {
        id,
        acceptor,
        cfg: Arc::new(cfg),
        inbound,
        conns: HashMap::new(),
        by_eid: HashMap::new(),
        next_conn: 0,
        events_tx,
        tasks: JoinSet::new(),
        stop: stop_tx,
    };
    let task = tokio::spawn(async move {
        server.run(listener, outbound, events_rx, shutdown_rx).await;
        status_tx.send_replace(MtpStatus::new(LinkState::Down, "stopped"));
    });
    Ok(MtpHandle::new(sender, status_rx, shutdown_tx, task))
}

enum ConnEvent {
    Opened {
        conn: ConnId,
        eid: Option<String>,
        tx: mpsc::UnboundedSender<Outbound>,
    },
    Closed(ConnId),
}

struct Conn {
    eid: Option<String>,
    tx: mpsc::UnboundedSender<Outbound>,
}

struct Server {
    id: MtpId,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    cfg: Arc<WsServerConfig>,
    inbound: mpsc::Sender<Inbound>,
    conns: HashMap<ConnId, Conn>,
    by_eid: HashMap<String, ConnId>,
    next_conn: u64,
    events_tx: mpsc::UnboundedSender<ConnEvent>,
    tasks: JoinSet<()>,
    stop: watch::Sender<bool>,
}

impl Server {
    async fn run(
        mut self,
        listener: TcpListener,
        mut outbound: mpsc::UnboundedReceiver<Outbound>,
        mut events: mpsc::UnboundedReceiver<ConnEvent>,
        mut shutdown: oneshot::Receiver<()>,
    ) {
        loop {
            tokio::select! {
                acc = listener.accept() => match acc {
                    Ok((stream, peer)) => self.accept(stream, peer),
                    Err(e) => {
                        // Usually EMFILE: back off briefly rather than spin.
                        warn!(mtp = %self.id, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                ev = events.recv() => match ev {
                    Some(ev) => self.on_event(ev),
                    None => break,
                },
                out = outbound.recv() => match out {
                    Some(out) => self.route(out),
                    None => break,
                },
                Some(_) = self.tasks.join_next() => {}
                _ = &mut shutdown => break,
            }
        }
        // Connections close politely (Close frame 1001), then the tasks end.
        self.stop.send_replace(true);
        drop(listener);
        let drain = async { while self.tasks.join_next().await.is_some() {} };
        if tokio::time::timeout(Duration::from_secs(3), drain)
            .await
            .is_err()
        {
            self.tasks.abort_all();
        }
    }

    fn accept(&mut self, stream: TcpStream, peer: SocketAddr) {
        self.next_conn += 1;
        let conn = ConnId(self.next_conn);
        debug!(mtp = %self.id, conn = conn.0, %peer, "TCP connection");
        let ctx = ConnCtx {
            mtp: self.id,
            acceptor: self.acceptor.clone(),
            conn,
            cfg: Arc::clone(&self.cfg),
            inbound: self.inbound.clone(),
            events: self.events_tx.clone(),
            stop: self.stop.subscribe(),
        };
        self.tasks.spawn(serve(stream, peer, ctx));
    }

    fn on_event(&mut self, ev: ConnEvent) {
        match ev {
            ConnEvent::Opened { conn, eid, tx } => {
                if let Some(e) = &eid
                    && let Some(old) = self.by_eid.insert(e.clone(), conn)
                {
                    // Dropping the old sender ends that session (R-WS.4).
                    info!(mtp = %self.id, eid = %e, old = old.0, new = conn.0, "session replaced");
                    self.conns.remove(&old);
                }
                self.conns.insert(conn, Conn { eid, tx });
            }
            ConnEvent::Closed(conn) => {
                if let Some(c) = self.conns.remove(&conn)
                    && let Some(e) = c.eid
                    && self.by_eid.get(&e) == Some(&conn)
                {
                    self.by_eid.remove(&e);
                }
            }
        }
    }

    fn route(&mut self, out: Outbound) {
        let conn = match &out.to {
            Address::WebSocketConn(c) => Some(*c),
            Address::WebSocketEndpoint(eid) => self.by_eid.get(eid).copied(),
            _ => None,
        };
        match conn.and_then(|c| self.conns.get(&c)) {
            Some(c) => {
                if c.tx.send(out).is_err() {
                    debug!(mtp = %self.id, "connection ended; record dropped");
                }
            }
            None => {
                warn!(mtp = %self.id, to = ?out.to, "no open WebSocket session; record dropped")
            }
        }
    }
}

struct ConnCtx {
    mtp: MtpId,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    conn: ConnId,
    cfg: Arc<WsServerConfig>,
    inbound: mpsc::Sender<Inbound>,
    events: mpsc::UnboundedSender<ConnEvent>,
    stop: watch::Receiver<bool>,
}

async fn serve(stream: TcpStream, peer: SocketAddr, mut ctx: ConnCtx) {
    if let Err(e) = stream.set_nodelay(true) {
        debug!(error = %e, "TCP_NODELAY not set");
    }
    let mut eid: Option<String> = None;
    let opening = open(stream, &ctx, &mut eid);
    let mut ws = match tokio::time::timeout(ctx.cfg.handshake_timeout, opening).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            debug!(mtp = %ctx.mtp, %peer, error = %e, "WebSocket handshake refused or failed");
            return;
        }
        Err(_) => {
            debug!(mtp = %ctx.mtp, %peer, "WebSocket handshake timed out");
            return;
        }
    };
    info!(mtp = %ctx.mtp, conn = ctx.conn.0, %peer, eid = ?eid, "WebSocket session open");
    let mut farewell = None;
    if ctx.cfg.send_connect_record
        && let Some(to) = &eid
    {
        // R-MTP.6: the Controller's EndpointID is known, so it gets the connect Record.
        let me = &ctx.cfg.endpoint_id;
        if ws
            .send(Message::Binary(connect_record(to, me)))
            .await
            .is_err()
        {
            return;
        }
        farewell = Some(disconnect_record(to, me, "agent shutting down"));
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let opened = ConnEvent::Opened {
        conn: ctx.conn,
        eid,
        tx,
    };
    if ctx.events.send(opened).is_err() {
        return;
    }
    let settings = PumpSettings {
        mtp: ctx.mtp,
        conn: ctx.conn,
        keep_alive: ctx.cfg.keep_alive,
        farewell,
    };
    let end = pump(&mut ws, &settings, &ctx.inbound, &mut rx, &mut ctx.stop).await;
    info!(mtp = %ctx.mtp, conn = ctx.conn.0, ?end, "WebSocket session closed");
    let _ = ctx.events.send(ConnEvent::Closed(ctx.conn));
}

/// TLS (when configured), then the opening handshake.
async fn open(
    stream: TcpStream,
    ctx: &ConnCtx,
    eid: &mut Option<String>,
) -> Result<super::WsStream, String> {
    let stream: Box<dyn Io> = match &ctx.acceptor {
        Some(acceptor) => Box::new(
            acceptor
                .accept(stream)
                .await
                .map_err(|e| format!("TLS: {e}"))?,
        ),
        None => Box::new(stream),
    };
    let cfg = &ctx.cfg;
    // The error type is tungstenite's `Callback` contract, not ours to shrink.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, resp: Response| handshake(cfg, req, resp, eid);
    tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        callback,
        Some(ws_config(cfg.max_record_size)),
    )
    .await
    .map_err(|e| e.to_string())
}

fn refuse(status: StatusCode, why: &str) -> ErrorResponse {
    let mut r = ErrorResponse::new(Some(why.to_string()));
    *r.status_mut() = status;
    r
}

/// Checks the opening handshake and completes the response (see the module docs).
#[allow(clippy::result_large_err)] // tungstenite's `Callback` signature
fn handshake(
    cfg: &WsServerConfig,
    req: &Request,
    mut resp: Response,
    eid_out: &mut Option<String>,
) -> Result<Response, ErrorResponse> {
    if let Some(path) = &cfg.path
        && req.uri().path() != path
    {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "no USP endpoint at this path",
        ));
    }
    let offered = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(offers_subprotocol);
    if !offered {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol must offer v1.usp",
        ));
    }
    resp.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(SUBPROTOCOL),
    );
    let extensions: Vec<&str> = req
        .headers()
        .get_all(header::SEC_WEBSOCKET_EXTENSIONS)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    *eid_out = req
        .uri()
        .query()
        .and_then(eid_from_query)
        .or_else(|| extensions.iter().find_map(|h| eid_from_extensions(h)));
    if extensions.iter().any(|h| offers_extension(h))
        && let Ok(v) = HeaderValue::from_str(&extension_header(&cfg.endpoint_id))
    {
        resp.headers_mut()
            .insert(header::SEC_WEBSOCKET_EXTENSIONS, v);
    }
    Ok(resp)
}
