//! [`ZigbeeBackend`] over EZSP (UG100): version negotiation, configuration and policies,
//! endpoint registration, network resume (`networkInit`) or formation
//! (`setInitialSecurityState` + `formNetwork`), APS data through `sendUnicast` confirmed by
//! `messageSentHandler`, and incoming frames through `incomingMessageHandler`. ZDP travels
//! as ordinary APS frames on endpoint 0 / profile 0 in both directions. Every ASH connection
//! resets the NCP, so after a port loss or an NCP reboot the whole set-up runs again and the
//! network is resumed (never formed) before `RadioUp` is reported.

mod events;

use std::sync::atomic::{AtomicU8, AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;

use super::commands::{
    self as ezsp, AddEndpoint, EmberApsFrame, ExportKey, FormNetwork, GetEui64, GetKey,
    GetNetworkParameters, InitialSecurityState, LeaveNetwork, MessageSentHandler, NetworkInit,
    NetworkParameters, PermitJoining, SecurityManagerContext, SendBroadcast, SendUnicast,
    SetConcentrator, SetConfigurationValue, SetInitialSecurityState, SetPolicy, StackStatusHandler,
    VersionRsp, aps_option, security_bitmask,
};
use super::link::{LinkConfig, TransportConnector, ash_connector, spawn_link};
use super::protocol::{EzspError, EzspHandle, LinkState, wait_for};
use super::wire::{LvBytes, Status};
use crate::zigbee::backend::{
    ApsFrame, BackendError, BackendEvent, HOST_ENDPOINT, NetworkInfo, NetworkSettings, PROFILE_HA,
    PROFILE_ZDP, ZigbeeBackend,
};
use crate::zigbee::zdo::Zdp;
use crate::zigbee::znp::link::Connector as PortConnector;

/// Configuration values set after every NCP reset (`EzspConfigId`, value), the set hosts
/// such as bellows use for a coordinator. Failures are logged: firmware builds differ in
/// what they allow, and keep their own value.
const CONFIG: [(u8, u16); 8] = [
    (0x0C, 2),    // STACK_PROFILE: Zigbee PRO
    (0x0D, 5),    // SECURITY_LEVEL
    (0x2D, 1),    // SUPPORTED_NETWORKS
    (0x12, 7680), // INDIRECT_TRANSMISSION_TIMEOUT, ms: sleepy end devices poll slowly
    (0x1A, 200),  // SOURCE_ROUTE_TABLE_SIZE: routes to 80-170 devices stay on the NCP
    (0x13, 8),    // END_DEVICE_POLL_TIMEOUT
    (0x11, 32),   // MAX_END_DEVICE_CHILDREN
    (0x01, 255),  // PACKET_BUFFER_COUNT: the NCP takes what its RAM allows
];

/// Policies (`EzspPolicyId`, decision).
const POLICIES: [(u8, u8); 4] = [
    (0x00, 0x03), // TRUST_CENTER_POLICY: ALLOW_JOINS | ALLOW_UNSECURED_REJOINS
    (0x04, 0x40), // MESSAGE_CONTENTS_IN_CALLBACK_POLICY: tag only
    (0x05, 0x51), // TC_KEY_REQUEST_POLICY: allow, send current key
    (0x06, 0x60), // APP_KEY_REQUEST_POLICY: deny
];

/// Backend timing.
#[derive(Debug, Clone)]
pub struct EzspBackendConfig {
    /// Link timing (ASH, responses, reconnect back-off).
    pub link: LinkConfig,
    /// How long `start` waits for the port to come up.
    pub startup_timeout: Duration,
    /// Deadline for the network to come up after `networkInit` / `formNetwork`.
    pub network_timeout: Duration,
    /// Deadline for `messageSentHandler`.
    pub sent_timeout: Duration,
    /// Attempts of one APS frame when delivery fails.
    pub data_attempts: u32,
    /// Delay before retry n is n times this.
    pub retry_delay: Duration,
    /// Radio transmit power for a formed network, dBm.
    pub tx_power: u8,
}

impl Default for EzspBackendConfig {
    fn default() -> Self {
        EzspBackendConfig {
            link: LinkConfig::default(),
            startup_timeout: Duration::from_secs(60),
            network_timeout: Duration::from_secs(20),
            sent_timeout: Duration::from_secs(10),
            data_attempts: 3,
            retry_delay: Duration::from_millis(250),
            tx_power: 8,
        }
    }
}

struct Inner {
    config: EzspBackendConfig,
    tag: AtomicU16,
    aps_seq: AtomicU8,
    zdp_tsn: AtomicU8,
    events: Mutex<Option<mpsc::Sender<BackendEvent>>>,
}

/// The EZSP backend handle.
#[derive(Clone)]
pub struct EzspBackend {
    ezsp: EzspHandle,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EzspBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EzspBackend")
            .field("ezsp", &self.ezsp)
            .finish()
    }
}

fn err(e: EzspError) -> BackendError {
    match e {
        EzspError::Offline | EzspError::Stopped => BackendError::Offline,
        EzspError::Timeout(w) => BackendError::Timeout(w.to_owned()),
        other => BackendError::Failed(other.to_string()),
    }
}

fn check(what: &'static str, status: Status) -> Result<(), BackendError> {
    if status.is_ok() {
        Ok(())
    } else {
        Err(err(EzspError::Status {
            what,
            status: status.0,
        }))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// "EmberZNet 7.4.0.0 (EZSP v13)" from the `version` answer.
fn firmware(v: &VersionRsp) -> String {
    let s = v.stack_version;
    format!(
        "EmberZNet {}.{}.{}.{} (EZSP v{})",
        s >> 12,
        (s >> 8) & 0xF,
        (s >> 4) & 0xF,
        s & 0xF,
        v.protocol_version
    )
}

impl EzspBackend {
    /// Starts the link on ports from `port` (serial device or `tcp://`, see
    /// [`crate::zigbee::znp::link::port_connector`]) with ASH on top.
    pub fn new(port: PortConnector, config: EzspBackendConfig) -> Self {
        let connector = ash_connector(port, config.link.ash.clone());
        Self::with_transport(connector, config)
    }

    /// Starts the link on any frame transport (tests, other link layers).
    pub fn with_transport(connector: TransportConnector, config: EzspBackendConfig) -> Self {
        let ezsp = spawn_link(connector, config.link.clone());
        let inner = Arc::new(Inner {
            config,
            tag: AtomicU16::new(1),
            aps_seq: AtomicU8::new(0),
            zdp_tsn: AtomicU8::new(0x80),
            events: Mutex::new(None),
        });
        EzspBackend { ezsp, inner }
    }

    /// The EZSP link, for diagnostics and tests.
    pub fn link(&self) -> &EzspHandle {
        &self.ezsp
    }

    async fn wait_up(&self) -> Result<(), BackendError> {
        let mut state = self.ezsp.state();
        let up = state.wait_for(|s| matches!(s, LinkState::Up { .. }));
        match tokio::time::timeout(self.inner.config.startup_timeout, up).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(BackendError::Offline),
        }
    }

    fn v(&self) -> u8 {
        self.ezsp.version()
    }

    /// Message tags are one byte before v14.
    fn tag_mask(&self) -> u16 {
        if self.v() >= 14 { 0xFFFF } else { 0x00FF }
    }

    /// Version, configuration, policies and endpoint: what every NCP reset undoes.
    async fn set_up_ncp(&self) -> Result<VersionRsp, BackendError> {
        let version = self.ezsp.negotiate().await.map_err(err)?;
        for (config_id, value) in CONFIG {
            let r = self
                .ezsp
                .request(&SetConfigurationValue { config_id, value })
                .await
                .map_err(err)?;
            if !r.status.is_ok() {
                tracing::debug!(config_id, status = %r.status, "NCP kept its configuration value");
            }
        }
        for (policy_id, decision_id) in POLICIES {
            let r = self
                .ezsp
                .request(&SetPolicy {
                    policy_id,
                    decision_id,
                })
                .await
                .map_err(err)?;
            if !r.status.is_ok() {
                tracing::warn!(policy_id, status = %r.status, "NCP refused a policy");
            }
        }
        let ep = AddEndpoint {
            endpoint: HOST_ENDPOINT,
            profile_id: PROFILE_HA,
            device_id: 0x0005,
            device_version: 0,
            input_clusters: vec![0x0000, 0x0006, 0x000A, 0x0019, 0x0500],
            output_clusters: vec![
                0x0000, 0x0001, 0x0003, 0x0006, 0x0008, 0x0300, 0x0402, 0x0405, 0x0500, 0x0702,
                0x0B04,
            ],
        };
        let st = self.ezsp.request(&ep).await.map_err(err)?.status;
        if !st.is_ok() {
            tracing::warn!(status = %st, "addEndpoint refused (endpoint already present?)");
        }
        Ok(version)
    }

    /// Sends `cmd` and waits for `stackStatusHandler` to report the network up.
    async fn until_network_up<C: ezsp::Command<Response = ezsp::StatusRsp>>(
        &self,
        cmd: &C,
    ) -> Result<Status, BackendError> {
        let mut cbs = self.ezsp.callbacks();
        let st = self.ezsp.request(cmd).await.map_err(err)?.status;
        if !st.is_ok() {
            return Ok(st);
        }
        let up = Status::network_up(self.v());
        wait_for(
            &mut cbs,
            self.v(),
            self.inner.config.network_timeout,
            |s: &StackStatusHandler| s.status == up,
        )
        .await
        .map_err(err)?;
        Ok(st)
    }

    /// Brings the network up: resume if the NCP has one (it must match `settings`), else
    /// form it from `settings`. Only a *different* stored network is refused.
    async fn bring_up(&self, settings: &NetworkSettings) -> Result<NetworkInfo, BackendError> {
        let version = self.set_up_ncp().await?;
        let st = self.until_network_up(&NetworkInit { bitmask: 0 }).await?;
        let formed = if st.is_ok() {
            false
        } else if st == Status::not_joined(self.v()) {
            self.form(settings).await?;
            true
        } else {
            return Err(err(EzspError::Status {
                what: "networkInit",
                status: st.0,
            }));
        };
        let p = self
            .ezsp
            .request(&GetNetworkParameters {})
            .await
            .map_err(err)?;
        check("getNetworkParameters", p.status)?;
        let p = p.parameters;
        let mut diff = Vec::new();
        if p.pan_id != settings.pan_id {
            diff.push(format!(
                "PAN id {:#06x} != {:#06x}",
                p.pan_id, settings.pan_id
            ));
        }
        if p.extended_pan_id != settings.extended_pan_id {
            diff.push("extended PAN id".to_owned());
        }
        if p.radio_channel != settings.channel {
            diff.push(format!(
                "channel {} != {}",
                p.radio_channel, settings.channel
            ));
        }
        if self
            .network_key()
            .await?
            .is_some_and(|k| k != settings.network_key)
        {
            diff.push("network key".to_owned());
        }
        if !diff.is_empty() {
            return Err(BackendError::NetworkMismatch(diff.join(", ")));
        }
        let concentrator = SetConcentrator {
            on: true,
            concentrator_type: 0xFFF9,
            min_time: 10,
            max_time: 90,
            route_error_threshold: 4,
            delivery_failure_threshold: 3,
            max_hops: 0,
        };
        let st = self.ezsp.request(&concentrator).await.map_err(err)?.status;
        if !st.is_ok() {
            tracing::debug!(status = %st, "setConcentrator refused");
        }
        let ieee = self.ezsp.request(&GetEui64 {}).await.map_err(err)?.eui64;
        let firmware = firmware(&version);
        tracing::info!(%firmware, pan = format_args!("{:#06x}", p.pan_id), channel = p.radio_channel, formed, "Zigbee network up");
        Ok(NetworkInfo {
            ieee,
            pan_id: p.pan_id,
            extended_pan_id: p.extended_pan_id,
            channel: p.radio_channel,
            firmware,
            formed,
        })
    }

    /// The NCP's current network key, if the firmware lets the host read it.
    async fn network_key(&self) -> Result<Option<[u8; 16]>, BackendError> {
        let r = if self.v() >= 13 {
            let ctx = SecurityManagerContext {
                core_key_type: ezsp::KEY_TYPE_NETWORK,
                ..Default::default()
            };
            let r = self.ezsp.request(&ExportKey { context: ctx }).await;
            r.map(|r| (r.status == 0).then_some(r.key))
        } else {
            let r = self
                .ezsp
                .request(&GetKey {
                    key_type: ezsp::EMBER_CURRENT_NETWORK_KEY,
                })
                .await;
            r.map(|r| r.status.is_ok().then_some(r.key_struct.key))
        };
        match r {
            Ok(k) => Ok(k),
            Err(e @ (EzspError::Offline | EzspError::Stopped | EzspError::Timeout(_))) => {
                Err(err(e))
            }
            Err(e) => {
                tracing::warn!(error = %e, "network key not readable; not compared");
                Ok(None)
            }
        }
    }

    async fn form(&self, s: &NetworkSettings) -> Result<(), BackendError> {
        tracing::info!(
            channel = s.channel,
            pan = format_args!("{:#06x}", s.pan_id),
            "forming a new Zigbee network"
        );
        let state = InitialSecurityState {
            bitmask: security_bitmask::TRUST_CENTER_GLOBAL_LINK_KEY
                | security_bitmask::HAVE_PRECONFIGURED_KEY
                | security_bitmask::HAVE_NETWORK_KEY
                | security_bitmask::REQUIRE_ENCRYPTED_KEY
                | security_bitmask::TRUST_CENTER_USES_HASHED_LINK_KEY,
            preconfigured_key: ezsp::ZIGBEE_ALLIANCE_09,
            network_key: s.network_key,
            network_key_sequence_number: 0,
            preconfigured_trust_center_eui64: 0,
        };
        let st = self
            .ezsp
            .request(&SetInitialSecurityState { state })
            .await
            .map_err(err)?
            .status;
        check("setInitialSecurityState", st)?;
        let parameters = NetworkParameters {
            extended_pan_id: s.extended_pan_id,
            pan_id: s.pan_id,
            radio_tx_power: self.inner.config.tx_power,
            radio_channel: s.channel,
            join_method: 0,
            nwk_manager_id: 0,
            nwk_update_id: 0,
            channels: 1 << s.channel,
        };
        let st = self.until_network_up(&FormNetwork { parameters }).await?;
        check("formNetwork", st)
    }

    /// One `sendUnicast`; returns `messageSentHandler`'s status.
    async fn send_once(&self, frame: &ApsFrame) -> Result<Status, BackendError> {
        let tag = self.inner.tag.fetch_add(1, Ordering::Relaxed) & self.tag_mask();
        let v = self.v();
        let mut cbs = self.ezsp.callbacks();
        let req = SendUnicast {
            message_type: ezsp::OUTGOING_DIRECT,
            destination: frame.dst_nwk,
            aps_frame: EmberApsFrame {
                profile_id: frame.profile,
                cluster_id: frame.cluster,
                source_endpoint: frame.src_endpoint,
                destination_endpoint: frame.dst_endpoint,
                options: aps_option::RETRY
                    | aps_option::ENABLE_ROUTE_DISCOVERY
                    | aps_option::ENABLE_ADDRESS_DISCOVERY,
                group_id: 0,
                sequence: self.inner.aps_seq.fetch_add(1, Ordering::Relaxed),
            },
            message_tag: tag,
            message: LvBytes(frame.payload.clone()),
        };
        let st = self.ezsp.request(&req).await.map_err(err)?.status;
        if !st.is_ok() {
            return Ok(st);
        }
        let sent = wait_for(
            &mut cbs,
            v,
            self.inner.config.sent_timeout,
            |m: &MessageSentHandler| m.message_tag == tag && m.destination == frame.dst_nwk,
        )
        .await
        .map_err(err)?;
        Ok(sent.status)
    }
}

impl ZigbeeBackend for EzspBackend {
    async fn start(
        &self,
        settings: NetworkSettings,
        events: mpsc::Sender<BackendEvent>,
    ) -> Result<NetworkInfo, BackendError> {
        self.wait_up().await?;
        let cbs = self.ezsp.callbacks();
        let info = self.bring_up(&settings).await?;
        *lock(&self.inner.events) = Some(events.clone());
        tokio::spawn(self.clone().pump(settings, cbs, events));
        Ok(info)
    }

    async fn send(&self, frame: ApsFrame) -> Result<(), BackendError> {
        let attempts = self.inner.config.data_attempts.max(1);
        let mut attempt = 1;
        loop {
            let status = self.send_once(&frame).await?;
            if status.is_ok() || attempt >= attempts {
                return check("sendUnicast", status);
            }
            tracing::debug!(nwk = format_args!("{:#06x}", frame.dst_nwk), %status, attempt, "APS frame retried");
            tokio::time::sleep(self.inner.config.retry_delay * attempt).await;
            attempt += 1;
        }
    }

    async fn permit_join(&self, seconds: u8) -> Result<(), BackendError> {
        // permitJoining only opens the coordinator itself: routers open on the ZDP
        // Mgmt_Permit_Joining_req broadcast to every router (0xFFFC).
        let zdp = Zdp::MgmtPermitJoinReq {
            duration: seconds,
            tc_significance: 1,
        };
        let tsn = self.inner.zdp_tsn.fetch_add(1, Ordering::Relaxed);
        let broadcast = SendBroadcast {
            destination: 0xFFFC,
            aps_frame: EmberApsFrame {
                profile_id: PROFILE_ZDP,
                cluster_id: zdp.cluster(),
                source_endpoint: 0,
                destination_endpoint: 0,
                options: 0,
                group_id: 0,
                sequence: self.inner.aps_seq.fetch_add(1, Ordering::Relaxed),
            },
            radius: 30,
            message_tag: self.inner.tag.fetch_add(1, Ordering::Relaxed) & self.tag_mask(),
            message: LvBytes(zdp.encode(tsn)),
        };
        let st = self.ezsp.request(&broadcast).await.map_err(err)?.status;
        check("sendBroadcast", st)?;
        let st = self
            .ezsp
            .request(&PermitJoining { duration: seconds })
            .await
            .map_err(err)?
            .status;
        check("permitJoining", st)?;
        let events = lock(&self.inner.events).clone();
        if let Some(tx) = events {
            let _ = tx.send(BackendEvent::PermitJoin { seconds }).await;
        }
        Ok(())
    }

    async fn reset_network(&self) -> Result<(), BackendError> {
        self.wait_up().await?;
        tracing::warn!("resetting the Zigbee network: every paired device is orphaned");
        if self.v() < super::protocol::MIN_VERSION {
            self.ezsp.negotiate().await.map_err(err)?;
        }
        let mut cbs = self.ezsp.callbacks();
        // After an ASH reset the NCP has not loaded its network yet: do so, then leave it.
        let st = self
            .ezsp
            .request(&NetworkInit { bitmask: 0 })
            .await
            .map_err(err)?
            .status;
        if st.is_ok() {
            let up = Status::network_up(self.v());
            let _ = wait_for(
                &mut cbs,
                self.v(),
                self.inner.config.network_timeout,
                |s: &StackStatusHandler| s.status == up,
            )
            .await;
        }
        let st = self
            .ezsp
            .request(&LeaveNetwork { options: 0 })
            .await
            .map_err(err)?
            .status;
        if st.is_ok() {
            let down = Status::network_down(self.v());
            wait_for(
                &mut cbs,
                self.v(),
                self.inner.config.network_timeout,
                |s: &StackStatusHandler| s.status == down,
            )
            .await
            .map_err(err)?;
            return Ok(());
        }
        if st == Status::invalid_call(self.v()) || st == Status::not_joined(self.v()) {
            // No network to leave.
            return Ok(());
        }
        check("leaveNetwork", st)
    }
}
