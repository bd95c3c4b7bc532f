//! The EZSP link actor: opens the port, resets the NCP through ASH (RST/RSTACK), serves
//! [`super::protocol`] requests, and survives port loss and NCP reboots (offline,
//! back-off, reconnect, reset again), publishing a [`LinkState`] with a generation number
//! that grows with every connection so the backend knows to set the NCP up again.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::ash::host::{AshConfig, AshEvent, AshHost};
use super::protocol::{
    self, Ended, EzspError, EzspHandle, FrameSink, LinkEvent, LinkState, ProtocolConfig,
    SendFuture, Served, Transport,
};
use crate::zigbee::znp::link::Connector as PortConnector;

/// Opens a transport; called on start and on every reconnect.
pub type TransportConnector =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<Transport, String>> + Send>> + Send + Sync>;

struct AshSink(AshHost);

impl FrameSink for AshSink {
    fn send_frame(&self, frame: Vec<u8>) -> SendFuture {
        let host = self.0.clone();
        Box::pin(async move { host.send(frame).await.map_err(|e| e.to_string()) })
    }
}

impl Drop for AshSink {
    fn drop(&mut self) {
        // The connection is over: release the port so the next one can open it.
        self.0.close();
    }
}

/// Runs ASH over ports from `port` (a serial device or `tcp://`, as the ZNP backend opens
/// them): every connection starts with an ASH reset, which also reboots the NCP's EZSP state.
pub fn ash_connector(port: PortConnector, config: AshConfig) -> TransportConnector {
    Arc::new(move || {
        let port = port.clone();
        let config = config.clone();
        Box::pin(async move {
            let io = port().await?;
            let (host, mut ash) = AshHost::start(io, config)
                .await
                .map_err(|e| format!("ASH reset failed: {e}"))?;
            let (tx, rx) = mpsc::channel(64);
            tokio::spawn(async move {
                while let Some(ev) = ash.recv().await {
                    let ev = match ev {
                        AshEvent::Frame(b) => LinkEvent::Frame(b),
                        AshEvent::NcpReset { reset_code } => {
                            LinkEvent::Reset(format!("RSTACK, reset code {reset_code:#04x}"))
                        }
                        AshEvent::NcpError { code } => {
                            LinkEvent::Reset(format!("ASH ERROR, code {code:#04x}"))
                        }
                        AshEvent::Closed(r) => LinkEvent::Closed(r),
                    };
                    if tx.send(ev).await.is_err() {
                        return;
                    }
                }
            });
            Ok(Transport {
                sink: Arc::new(AshSink(host)),
                events: rx,
            })
        })
    })
}

/// Link timing.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// ASH timing.
    pub ash: AshConfig,
    /// Response deadlines.
    pub protocol: ProtocolConfig,
    /// First reconnect delay; doubles up to `backoff_max`.
    pub backoff_min: Duration,
    /// Longest reconnect delay.
    pub backoff_max: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            ash: AshConfig::default(),
            protocol: ProtocolConfig::default(),
            backoff_min: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
        }
    }
}

/// Starts the link task; it runs until every handle is dropped.
pub fn spawn_link(connector: TransportConnector, config: LinkConfig) -> EzspHandle {
    let (handle, served) = protocol::channel();
    tokio::spawn(run(connector, config, served));
    handle
}

async fn run(connector: TransportConnector, config: LinkConfig, mut served: Served) {
    let mut backoff = config.backoff_min;
    let mut generation = 0u64;
    let mut seq = 0u8;
    loop {
        served.state.send_replace(LinkState::Connecting);
        let reason = match connector().await {
            Ok(mut t) => {
                generation += 1;
                backoff = config.backoff_min;
                tracing::info!(generation, "EZSP link up");
                served.state.send_replace(LinkState::Up { generation });
                match protocol::serve(&mut t, &mut served, &mut seq, &config.protocol).await {
                    Ended::HandlesGone => return,
                    Ended::Lost(r) => r,
                }
            }
            Err(e) => e,
        };
        tracing::warn!(%reason, retry_in = ?backoff, "EZSP link down");
        served.state.send_replace(LinkState::Down { reason });
        if !idle_for(&mut served, backoff).await {
            return;
        }
        backoff = (backoff * 2).min(config.backoff_max);
    }
}

/// Refuses requests while offline; false when every handle is gone.
async fn idle_for(served: &mut Served, d: Duration) -> bool {
    let until = tokio::time::sleep(d);
    tokio::pin!(until);
    loop {
        tokio::select! {
            () = &mut until => return true,
            req = served.requests.recv() => match req {
                Some(r) => r.fail(EzspError::Offline),
                None => return false,
            },
        }
    }
}
