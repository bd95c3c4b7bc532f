//! [`ZigbeeBackend`] over Z-Stack ZNP: network resume/formation through NV items and BDB
//! commissioning, APS data through AF_DATA_REQUEST/AF_DATA_CONFIRM, ZDP requests through the
//! dedicated ZDO_*_REQ commands (Z-Stack does not take AF frames for endpoint 0), and ZDP
//! responses through ZDO_MSG_CB_INCOMING. After a port loss the link reconnects and the
//! network is resumed (never formed) before `RadioUp` is reported again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, mpsc};

use super::commands::{self as mt, MtMessage, ShortBytes, af, app_cnf, sys, util, zdo as mtzdo};
use super::frame::MtFrame;
use super::link::{Connector, LinkConfig, LinkState, ZnpError, ZnpHandle, spawn_link, wait_for};
use crate::zigbee::backend::{
    ApsFrame, ApsIncoming, BackendError, BackendEvent, NetworkInfo, NetworkSettings, PROFILE_HA,
    PROFILE_ZDP, ZigbeeBackend,
};
use crate::zigbee::zdo::{Zdp, cluster};

pub use crate::zigbee::backend::HOST_ENDPOINT;

/// ZDP response clusters delivered to the host as ZDO_MSG_CB_INCOMING.
const ZDP_CALLBACK_CLUSTERS: [u16; 7] = [0x8001, 0x8002, 0x8004, 0x8005, 0x8021, 0x8034, 0x8036];

/// Backend timing.
#[derive(Debug, Clone)]
pub struct ZnpBackendConfig {
    /// Link timing.
    pub link: LinkConfig,
    /// How long `start` waits for the port to come up.
    pub startup_timeout: Duration,
    /// Deadline for network formation / start-up callbacks.
    pub network_timeout: Duration,
    /// Deadline for AF_DATA_CONFIRM.
    pub data_confirm_timeout: Duration,
    /// Attempts of one APS data request when delivery fails transiently.
    pub data_attempts: u32,
    /// Delay before retry n is n times this.
    pub retry_delay: Duration,
}

impl Default for ZnpBackendConfig {
    fn default() -> Self {
        ZnpBackendConfig {
            link: LinkConfig::default(),
            startup_timeout: Duration::from_secs(60),
            network_timeout: Duration::from_secs(30),
            data_confirm_timeout: Duration::from_secs(10),
            data_attempts: 3,
            retry_delay: Duration::from_millis(250),
        }
    }
}

struct Inner {
    config: ZnpBackendConfig,
    /// SYS_RESET_INDs the backend asked for and has not seen yet; any other is the
    /// coordinator resetting by itself (watchdog, brown-out) with its network stopped.
    expected_resets: AtomicU32,
    af_tsn: AtomicU8,
    /// The core's ZDP TSN per (device, response cluster): Z-Stack numbers ZDP frames itself.
    zdp_tsns: Mutex<HashMap<(u16, u16), u8>>,
}

/// The ZNP backend handle.
#[derive(Clone)]
pub struct ZnpBackend {
    znp: ZnpHandle,
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ZnpBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZnpBackend")
            .field("znp", &self.znp)
            .finish()
    }
}

fn err(e: ZnpError) -> BackendError {
    match e {
        ZnpError::Offline | ZnpError::Stopped => BackendError::Offline,
        ZnpError::Transaction(super::transaction::TransactionError::PortLost) => {
            BackendError::Offline
        }
        ZnpError::Transaction(super::transaction::TransactionError::Timeout(w)) => {
            BackendError::Timeout(w)
        }
        ZnpError::CallbackTimeout(w) => BackendError::Timeout(w.to_owned()),
        other => BackendError::Failed(other.to_string()),
    }
}

fn check(what: &'static str, status: u8) -> Result<(), BackendError> {
    if status == 0 {
        Ok(())
    } else {
        Err(err(ZnpError::Status { what, status }))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl ZnpBackend {
    /// Starts the link task on `connector`; the network starts with [`ZigbeeBackend::start`].
    pub fn new(connector: Connector, config: ZnpBackendConfig) -> Self {
        let znp = spawn_link(connector, config.link.clone());
        let inner = Arc::new(Inner {
            config,
            expected_resets: AtomicU32::new(0),
            af_tsn: AtomicU8::new(0),
            zdp_tsns: Mutex::new(HashMap::new()),
        });
        ZnpBackend { znp, inner }
    }

    /// The MT link, for diagnostics and tests.
    pub fn link(&self) -> &ZnpHandle {
        &self.znp
    }

    async fn nv_read(&self, id: u16) -> Result<Option<Vec<u8>>, BackendError> {
        let r = self
            .znp
            .request(&sys::OsalNvRead { id, offset: 0 })
            .await
            .map_err(err)?;
        Ok((r.status == 0).then_some(r.value.0))
    }

    async fn nv_write(&self, id: u16, value: &[u8]) -> Result<(), BackendError> {
        let init = sys::OsalNvItemInit {
            id,
            item_len: value.len() as u16,
            value: ShortBytes(value.to_vec()),
        };
        let st = self.znp.request(&init).await.map_err(err)?.status;
        if st != sys::status::SUCCESS && st != sys::status::NV_ITEM_UNINIT {
            return check("SYS_OSAL_NV_ITEM_INIT", st);
        }
        let w = sys::OsalNvWrite {
            id,
            offset: 0,
            value: ShortBytes(value.to_vec()),
        };
        check(
            "SYS_OSAL_NV_WRITE",
            self.znp.request(&w).await.map_err(err)?.status,
        )
    }

    async fn wait_up(&self) -> Result<(), BackendError> {
        let mut state = self.znp.state();
        let up = state.wait_for(|s| matches!(s, LinkState::Up { .. }));
        match tokio::time::timeout(self.inner.config.startup_timeout, up).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(BackendError::Offline),
        }
    }

    /// Brings the network up: resume if Z-Stack has one (it must match `settings`), else form
    /// it from `settings`. Forming the host's own network on a radio without one is safe
    /// (a swapped or wiped stick gets the same PAN, extended PAN, channel and key back);
    /// only a *different* stored network is refused.
    async fn bring_up(&self, settings: &NetworkSettings) -> Result<NetworkInfo, BackendError> {
        let v = self.znp.request(&sys::Version {}).await.map_err(err)?;
        let firmware = match v.code_revision {
            Some(rev) => format!(
                "Z-Stack {}.{}.{} ({rev})",
                v.major_rel, v.minor_rel, v.maint_rel
            ),
            None => format!("Z-Stack {}.{}.{}", v.major_rel, v.minor_rel, v.maint_rel),
        };
        let on_network = self
            .nv_read(sys::nv::BDBNODEISONANETWORK)
            .await?
            .is_some_and(|v| v.first() == Some(&1));
        if !on_network {
            self.form(settings).await?;
        }
        let formed = !on_network;
        self.startup().await?;
        let info = self.znp.request(&mtzdo::ExtNwkInfo {}).await.map_err(err)?;
        let key = self.nv_read(sys::nv::PRECFGKEY).await?;
        let mut diff = Vec::new();
        if info.pan_id != settings.pan_id {
            diff.push(format!(
                "PAN id {:#06x} != {:#06x}",
                info.pan_id, settings.pan_id
            ));
        }
        if info.extended_pan_id != settings.extended_pan_id {
            diff.push("extended PAN id".to_owned());
        }
        if info.channel != settings.channel {
            diff.push(format!("channel {} != {}", info.channel, settings.channel));
        }
        if key.as_deref().is_some_and(|k| k != settings.network_key) {
            diff.push("network key".to_owned());
        }
        if !diff.is_empty() {
            return Err(BackendError::NetworkMismatch(diff.join(", ")));
        }
        self.register().await?;
        let dev = self
            .znp
            .request(&util::GetDeviceInfo {})
            .await
            .map_err(err)?;
        tracing::info!(%firmware, pan = format_args!("{:#06x}", info.pan_id), channel = info.channel, formed, "Zigbee network up");
        Ok(NetworkInfo {
            ieee: dev.ieee,
            pan_id: info.pan_id,
            extended_pan_id: info.extended_pan_id,
            channel: info.channel,
            firmware,
            formed,
        })
    }

    async fn form(&self, s: &NetworkSettings) -> Result<(), BackendError> {
        tracing::info!(
            channel = s.channel,
            pan = format_args!("{:#06x}", s.pan_id),
            "forming a new Zigbee network"
        );
        self.nv_write(sys::nv::LOGICAL_TYPE, &[0]).await?;
        self.nv_write(sys::nv::PANID, &s.pan_id.to_le_bytes())
            .await?;
        // Z-Stack 3 forms with APS_USE_EXT_PANID; EXTENDED_PAN_ID is what it saves afterwards.
        self.nv_write(sys::nv::APS_USE_EXT_PANID, &s.extended_pan_id.to_le_bytes())
            .await?;
        self.nv_write(sys::nv::EXTENDED_PAN_ID, &s.extended_pan_id.to_le_bytes())
            .await?;
        self.nv_write(sys::nv::CHANLIST, &(1u32 << s.channel).to_le_bytes())
            .await?;
        self.nv_write(sys::nv::PRECFGKEY, &s.network_key).await?;
        self.nv_write(sys::nv::PRECFGKEYS_ENABLE, &[1]).await?;
        let primary = app_cnf::BdbSetChannel {
            is_primary: true,
            channel_mask: 1 << s.channel,
        };
        check(
            "APP_CNF_BDB_SET_CHANNEL",
            self.znp.request(&primary).await.map_err(err)?.status,
        )?;
        let secondary = app_cnf::BdbSetChannel {
            is_primary: false,
            channel_mask: 0,
        };
        check(
            "APP_CNF_BDB_SET_CHANNEL",
            self.znp.request(&secondary).await.map_err(err)?.status,
        )?;
        let mut cbs = self.znp.callbacks();
        let start = app_cnf::BdbStartCommissioning {
            mode: app_cnf::mode::FORMATION,
        };
        check(
            "APP_CNF_BDB_START_COMMISSIONING",
            self.znp.request(&start).await.map_err(err)?.status,
        )?;
        let done: app_cnf::BdbCommissioningNotification = wait_for(
            &mut cbs,
            self.inner.config.network_timeout,
            "BDB formation",
            |n: &app_cnf::BdbCommissioningNotification| n.remaining_modes == 0,
        )
        .await
        .map_err(err)?;
        check("BDB formation", done.status)
    }

    async fn startup(&self) -> Result<(), BackendError> {
        let info = self.znp.request(&mtzdo::ExtNwkInfo {}).await.map_err(err)?;
        if info.dev_state == mtzdo::state::ZB_COORD {
            return Ok(());
        }
        let mut cbs = self.znp.callbacks();
        let st = self
            .znp
            .request(&mtzdo::StartupFromApp { start_delay: 100 })
            .await
            .map_err(err)?
            .state;
        if st == 2 {
            return Err(BackendError::Failed(
                "ZDO_STARTUP_FROM_APP: network not started".into(),
            ));
        }
        wait_for(
            &mut cbs,
            self.inner.config.network_timeout,
            "coordinator start",
            |s: &mtzdo::StateChangeInd| s.state == mtzdo::state::ZB_COORD,
        )
        .await
        .map_err(err)?;
        Ok(())
    }

    async fn register(&self) -> Result<(), BackendError> {
        let reg = af::Register {
            endpoint: HOST_ENDPOINT,
            profile_id: PROFILE_HA,
            device_id: 0x0005,
            device_version: 0,
            latency_req: 0,
            input_clusters: mt::List8(vec![0x0000, 0x0006, 0x000A, 0x0019, 0x0500]),
            output_clusters: mt::List8(vec![
                0x0000, 0x0001, 0x0003, 0x0006, 0x0008, 0x0300, 0x0402, 0x0405, 0x0500, 0x0702,
                0x0B04,
            ]),
        };
        let st = self.znp.request(&reg).await.map_err(err)?.status;
        // 0xB8 (duplicate entry): still registered from before a host reconnect.
        if st != 0 && st != 0xB8 {
            return check("AF_REGISTER", st);
        }
        for c in ZDP_CALLBACK_CLUSTERS {
            check(
                "ZDO_MSG_CB_REGISTER",
                self.znp
                    .request(&mtzdo::MsgCbRegister { cluster_id: c })
                    .await
                    .map_err(err)?
                    .status,
            )?;
        }
        Ok(())
    }

    async fn send_zdp(&self, frame: &ApsFrame) -> Result<(), BackendError> {
        let (tsn, msg) = Zdp::parse(frame.cluster, &frame.payload)
            .map_err(|e| BackendError::Failed(format!("bad ZDP frame: {e}")))?;
        let dst = frame.dst_nwk;
        lock(&self.inner.zdp_tsns).insert((dst, frame.cluster | cluster::RESPONSE), tsn);
        let status = match msg {
            Zdp::IeeeAddrReq { nwk } => {
                let r = mtzdo::IeeeAddrReq {
                    short_addr: nwk,
                    req_type: 0,
                    start_index: 0,
                };
                self.znp.request(&r).await.map_err(err)?.status
            }
            Zdp::NodeDescReq { nwk } => {
                self.znp
                    .request(&mtzdo::NodeDescReq {
                        dst_addr: dst,
                        nwk_addr_of_interest: nwk,
                    })
                    .await
                    .map_err(err)?
                    .status
            }
            Zdp::ActiveEpReq { nwk } => {
                self.znp
                    .request(&mtzdo::ActiveEpReq {
                        dst_addr: dst,
                        nwk_addr_of_interest: nwk,
                    })
                    .await
                    .map_err(err)?
                    .status
            }
            Zdp::SimpleDescReq { nwk, endpoint } => {
                let r = mtzdo::SimpleDescReq {
                    dst_addr: dst,
                    nwk_addr_of_interest: nwk,
                    endpoint,
                };
                self.znp.request(&r).await.map_err(err)?.status
            }
            Zdp::BindReq {
                src,
                src_endpoint,
                cluster,
                dst: to,
                dst_endpoint,
            } => {
                let r = mtzdo::BindReq {
                    dst_addr: dst,
                    src_addr: src,
                    src_endpoint,
                    cluster_id: cluster,
                    dst_addr_mode: 3,
                    dst_address: to,
                    dst_endpoint,
                };
                self.znp.request(&r).await.map_err(err)?.status
            }
            Zdp::MgmtLeaveReq { ieee, flags } => {
                let r = mtzdo::MgmtLeaveReq {
                    dst_addr: dst,
                    ieee,
                    remove_children_rejoin: flags,
                };
                self.znp.request(&r).await.map_err(err)?.status
            }
            Zdp::MgmtPermitJoinReq {
                duration,
                tc_significance,
            } => {
                let r = mtzdo::MgmtPermitJoinReq {
                    addr_mode: 0x02,
                    dst,
                    duration,
                    tc_significance,
                };
                self.znp.request(&r).await.map_err(err)?.status
            }
            other => {
                return Err(BackendError::Failed(format!(
                    "ZDP cluster {:#06x} not supported by ZNP",
                    other.cluster()
                )));
            }
        };
        check("ZDO request", status)
    }

    /// One AF_DATA_REQUEST; returns AF_DATA_CONFIRM's status.
    async fn send_af_once(&self, frame: &ApsFrame) -> Result<u8, BackendError> {
        let tsn = self.inner.af_tsn.fetch_add(1, Ordering::Relaxed);
        let mut cbs = self.znp.callbacks();
        let req = af::DataRequest {
            dst_addr: frame.dst_nwk,
            dst_endpoint: frame.dst_endpoint,
            src_endpoint: frame.src_endpoint,
            cluster_id: frame.cluster,
            tsn,
            options: af::options::ACK_REQUEST | af::options::DISCOVER_ROUTE,
            radius: 30,
            data: ShortBytes(frame.payload.clone()),
        };
        check(
            "AF_DATA_REQUEST",
            self.znp.request(&req).await.map_err(err)?.status,
        )?;
        let timeout = self.inner.config.data_confirm_timeout;
        let confirm = wait_for(
            &mut cbs,
            timeout,
            "AF_DATA_CONFIRM",
            |c: &af::DataConfirm| c.tsn == tsn,
        )
        .await
        .map_err(err)?;
        Ok(confirm.status)
    }

    fn convert(&self, f: &MtFrame) -> Option<BackendEvent> {
        if let Ok(m) = af::IncomingMsg::from_frame(f) {
            return Some(BackendEvent::Message(ApsIncoming {
                src_nwk: m.src_addr,
                src_endpoint: m.src_endpoint,
                dst_endpoint: m.dst_endpoint,
                profile: PROFILE_HA,
                cluster: m.cluster_id,
                lqi: m.lqi,
                payload: m.data.0,
            }));
        }
        if let Ok(m) = mtzdo::MsgCbIncoming::from_frame(f) {
            let tsn = lock(&self.inner.zdp_tsns)
                .remove(&(m.src_addr, m.cluster_id))
                .unwrap_or(m.seq_num);
            let mut payload = vec![tsn];
            payload.extend_from_slice(&m.data.0);
            return Some(BackendEvent::Message(ApsIncoming {
                src_nwk: m.src_addr,
                src_endpoint: 0,
                dst_endpoint: 0,
                profile: PROFILE_ZDP,
                cluster: m.cluster_id,
                lqi: 0,
                payload,
            }));
        }
        if let Ok(m) = mtzdo::EndDeviceAnnceInd::from_frame(f) {
            return Some(BackendEvent::DeviceJoined {
                nwk: m.nwk_addr,
                ieee: m.ieee,
            });
        }
        if let Ok(m) = mtzdo::TcDevInd::from_frame(f) {
            return Some(BackendEvent::DeviceJoined {
                nwk: m.src_nwk,
                ieee: m.src_ieee,
            });
        }
        if let Ok(m) = mtzdo::LeaveInd::from_frame(f) {
            return Some(BackendEvent::DeviceLeft {
                nwk: m.nwk_addr,
                ieee: m.ieee,
                rejoin: m.rejoin != 0,
            });
        }
        if let Ok(m) = mtzdo::PermitJoinInd::from_frame(f) {
            return Some(BackendEvent::PermitJoin {
                seconds: m.duration,
            });
        }
        None
    }

    /// Forwards callbacks as events and resumes the network after every reconnect.
    /// Whether a SYS_RESET_IND was not asked for (one that was is counted off).
    fn spontaneous_reset(&self, f: &MtFrame) -> bool {
        let asked = self
            .inner
            .expected_resets
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if !asked {
            let reason = sys::ResetInd::from_frame(f)
                .map(|r| r.reason)
                .unwrap_or(0xFF);
            tracing::warn!(
                reason,
                "the coordinator reset itself; starting its network again"
            );
        }
        !asked
    }

    /// Brings the network up again after a reconnect or a reset: the radio's next state.
    async fn resume(&self, settings: &NetworkSettings) -> BackendEvent {
        match self.bring_up(settings).await {
            Ok(info) => BackendEvent::RadioUp(info),
            Err(e) => BackendEvent::RadioDown(format!("resume failed: {e}")),
        }
    }

    async fn pump(
        self,
        settings: NetworkSettings,
        mut cbs: broadcast::Receiver<MtFrame>,
        events: mpsc::Sender<BackendEvent>,
    ) {
        let mut state = self.znp.state();
        let mut generation = match &*state.borrow_and_update() {
            LinkState::Up { generation } => *generation,
            _ => 0,
        };
        loop {
            tokio::select! {
                // The bridge is gone: stop, releasing the link so its task ends too.
                () = events.closed() => return,
                cb = cbs.recv() => match cb {
                    Ok(f) if sys::ResetInd::from_frame(&f).is_ok() => {
                        if !self.spontaneous_reset(&f) {
                            continue;
                        }
                        // Its network and endpoints are gone until started again: the same
                        // resume as after a reconnect.
                        let down = BackendEvent::RadioDown("the coordinator reset itself".into());
                        if events.send(down).await.is_err() {
                            return;
                        }
                        if events.send(self.resume(&settings).await).await.is_err() {
                            return;
                        }
                    }
                    Ok(f) => if let Some(ev) = self.convert(&f) && events.send(ev).await.is_err() { return },
                    Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(n, "ZNP callbacks lost: subscriber lagged"),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                changed = state.changed() => {
                    if changed.is_err() { return; }
                    let now = state.borrow_and_update().clone();
                    let event = match now {
                        LinkState::Down { reason } => Some(BackendEvent::RadioDown(reason)),
                        LinkState::Up { generation: g } if g > generation => {
                            generation = g;
                            Some(self.resume(&settings).await)
                        }
                        _ => None,
                    };
                    if let Some(ev) = event && events.send(ev).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
}

impl ZigbeeBackend for ZnpBackend {
    async fn start(
        &self,
        settings: NetworkSettings,
        events: mpsc::Sender<BackendEvent>,
    ) -> Result<NetworkInfo, BackendError> {
        self.wait_up().await?;
        let cbs = self.znp.callbacks();
        let info = self.bring_up(&settings).await?;
        tokio::spawn(self.clone().pump(settings, cbs, events));
        Ok(info)
    }

    async fn send(&self, frame: ApsFrame) -> Result<(), BackendError> {
        if frame.dst_endpoint == 0 && frame.profile == PROFILE_ZDP {
            return self.send_zdp(&frame).await;
        }
        let attempts = self.inner.config.data_attempts.max(1);
        let mut attempt = 1;
        loop {
            let status = self.send_af_once(&frame).await?;
            // MAC no ACK, MAC channel access failure, NWK no route, APS no ACK: worth a retry.
            let transient = matches!(status, 0xE9 | 0xE1 | 0xCD | 0xB7);
            if status == 0 || !transient || attempt >= attempts {
                return check("AF_DATA_CONFIRM", status);
            }
            tracing::debug!(
                nwk = format_args!("{:#06x}", frame.dst_nwk),
                status,
                attempt,
                "AF data request retried"
            );
            tokio::time::sleep(self.inner.config.retry_delay * attempt).await;
            attempt += 1;
        }
    }

    async fn reset_network(&self) -> Result<(), BackendError> {
        self.wait_up().await?;
        tracing::warn!("resetting the Zigbee network: every paired device is orphaned");
        // ZCD_STARTOPT_CLEAR_STATE | ZCD_STARTOPT_CLEAR_CONFIG, applied by the soft reset.
        self.nv_write(sys::nv::STARTUP_OPTION, &[0x03]).await?;
        let mut cbs = self.znp.callbacks();
        self.inner.expected_resets.fetch_add(1, Ordering::SeqCst);
        if let Err(e) = self.znp.send(&sys::ResetReq { kind: 1 }).await {
            self.inner.expected_resets.fetch_sub(1, Ordering::SeqCst);
            return Err(err(e));
        }
        wait_for(
            &mut cbs,
            self.inner.config.network_timeout,
            "SYS_RESET_IND",
            |_: &sys::ResetInd| true,
        )
        .await
        .map_err(err)?;
        Ok(())
    }

    async fn permit_join(&self, seconds: u8) -> Result<(), BackendError> {
        let req = mtzdo::MgmtPermitJoinReq {
            addr_mode: 0x0F,
            dst: 0xFFFC,
            duration: seconds,
            tc_significance: 1,
        };
        check(
            "ZDO_MGMT_PERMIT_JOIN_REQ",
            self.znp.request(&req).await.map_err(err)?.status,
        )
    }
}
