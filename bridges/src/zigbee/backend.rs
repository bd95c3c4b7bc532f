//! The boundary between the radio-neutral Zigbee core and a coordinator backend (ZNP today,
//! EZSP next): send an APS frame, permit joining, start/resume the network, and a stream of
//! incoming messages and network events. ZDP travels as APS frames on endpoint 0 / profile 0
//! in both directions; a backend whose firmware has dedicated ZDO commands translates.

use std::future::Future;

use tokio::sync::mpsc;

/// The host application endpoint every backend registers.
pub const HOST_ENDPOINT: u8 = 1;
/// Home Automation profile id.
pub const PROFILE_HA: u16 = 0x0104;
/// ZigBee Device Profile id.
pub const PROFILE_ZDP: u16 = 0x0000;

/// An outgoing unicast APS data frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApsFrame {
    /// Destination short address.
    pub dst_nwk: u16,
    /// Destination endpoint (0 for ZDP).
    pub dst_endpoint: u8,
    /// Our endpoint (0 for ZDP).
    pub src_endpoint: u8,
    /// Profile (0 for ZDP).
    pub profile: u16,
    /// Cluster.
    pub cluster: u16,
    /// ZCL or ZDP payload, TSN included.
    pub payload: Vec<u8>,
}

/// An incoming APS data frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApsIncoming {
    /// Sender's short address.
    pub src_nwk: u16,
    /// Sender's endpoint (0 for ZDP).
    pub src_endpoint: u8,
    /// Our endpoint (0 for ZDP).
    pub dst_endpoint: u8,
    /// Profile (0 for ZDP).
    pub profile: u16,
    /// Cluster.
    pub cluster: u16,
    /// Link quality.
    pub lqi: u8,
    /// ZCL or ZDP payload, TSN included.
    pub payload: Vec<u8>,
}

/// The coordinator's network, as started or resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    /// Coordinator IEEE address.
    pub ieee: u64,
    /// PAN id.
    pub pan_id: u16,
    /// Extended PAN id.
    pub extended_pan_id: u64,
    /// Channel 11-26.
    pub channel: u8,
    /// Firmware description.
    pub firmware: String,
    /// Whether the network was formed now (false: resumed).
    pub formed: bool,
}

/// The network parameters the host keeps (and persists) to resume or form a network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSettings {
    /// PAN id.
    pub pan_id: u16,
    /// Extended PAN id.
    pub extended_pan_id: u64,
    /// Channel 11-26.
    pub channel: u8,
    /// Network key.
    pub network_key: [u8; 16],
}

/// What a backend reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendEvent {
    /// An APS frame for us (ZCL or ZDP).
    Message(ApsIncoming),
    /// A device joined or rejoined (trust-centre join or Device_annce).
    DeviceJoined {
        /// Short address.
        nwk: u16,
        /// IEEE address.
        ieee: u64,
    },
    /// A device left.
    DeviceLeft {
        /// Short address.
        nwk: u16,
        /// IEEE address.
        ieee: u64,
        /// The device leaves only to rejoin (it stays paired).
        rejoin: bool,
    },
    /// Joining opened (seconds > 0) or closed.
    PermitJoin {
        /// Seconds left.
        seconds: u8,
    },
    /// The radio is up with this network (after start and after every recovery).
    RadioUp(NetworkInfo),
    /// The radio is unusable (port lost, firmware not answering).
    RadioDown(String),
}

/// Errors of a backend operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The radio is offline.
    #[error("radio offline")]
    Offline,
    /// The radio or the network did not answer in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The stored network differs from the settings; forming would orphan every device.
    #[error("stored network differs from configuration ({0}); an explicit reset is needed")]
    NetworkMismatch(String),
    /// The radio refused or failed an operation.
    #[error("{0}")]
    Failed(String),
}

/// A coordinator backend. Implementations are cheap handles (clone per task).
pub trait ZigbeeBackend: Clone + Send + Sync + 'static {
    /// Starts the radio: resumes the stored network if it matches `settings`, forms it from
    /// `settings` if the radio has none, and fails on a mismatch. Events flow to `events`
    /// from then on, including recovery after port loss (`RadioDown` then `RadioUp`).
    fn start(
        &self,
        settings: NetworkSettings,
        events: mpsc::Sender<BackendEvent>,
    ) -> impl Future<Output = Result<NetworkInfo, BackendError>> + Send;

    /// Sends a unicast APS frame; resolves when the radio confirmed delivery to the next hop
    /// (or the device's APS ACK where the backend requests one).
    fn send(&self, frame: ApsFrame) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Opens joining network-wide for `seconds` (0 closes).
    fn permit_join(&self, seconds: u8) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Makes the radio forget its network (the explicit reset that allows forming a new
    /// one; every paired device is orphaned). The next `start` forms a network.
    fn reset_network(&self) -> impl Future<Output = Result<(), BackendError>> + Send;
}
