//! The two coordinator simulators behind one face, so that a radio-neutral bridge test runs
//! against ZNP and EZSP alike (issue 6: what the ZNP backend's tests prove, the same tests
//! prove for EZSP). `both_radios!(test_fn)` makes a `znp` and an `ezsp` test of an
//! `async fn test_fn(radio: Radio)`.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::backend::{
    ApsFrame, BackendError, BackendEvent, NetworkInfo, NetworkSettings, ZigbeeBackend,
};
use super::bridge::{ZigbeeBridgeConfig, reset_network, start};
use super::bridge_tests::znp_test_config;
use super::ezsp::backend::EzspBackend;
use super::ezsp::backend_tests::test_config;
use super::ezsp::sim::{EzspSim, EzspSimConfig};
use super::sim::{CoordinatorState, Scenario};
use super::zcl::{TypedValue, ZclValue};
use super::znp::backend::ZnpBackend;
use super::znp::link::port_connector;
use super::znp::sim::nv::NvStore;
use super::znp::sim::{ZnpSim, ZnpSimConfig};
use crate::api::BridgeHandle;

/// Which coordinator firmware a test runs against.
#[derive(Debug, Clone, Copy)]
pub(super) enum Radio {
    Znp,
    Ezsp,
}

/// A running simulator of either kind.
pub(super) enum AnySim {
    Znp(ZnpSim),
    Ezsp(EzspSim),
}

/// `on_each!(sim, s => expr)`: `expr` with `s` bound to the simulator of whichever kind.
macro_rules! on_each {
    ($sim:expr, $s:ident => $e:expr) => {
        match $sim {
            AnySim::Znp($s) => $e,
            AnySim::Ezsp($s) => $e,
        }
    };
}

/// Starts a bridge on `backend`, first resetting its network when `reset` is given (and
/// running that check between the reset and the start).
async fn launch<B: ZigbeeBackend>(
    backend: B,
    config: ZigbeeBridgeConfig,
    reset: Option<Box<dyn FnOnce() + '_>>,
) -> (BridgeHandle, JoinHandle<()>) {
    if let Some(after_reset) = reset {
        reset_network(&backend, &config)
            .await
            .expect("network resets");
        after_reset();
    }
    start(backend, config).await.expect("bridge starts")
}

impl AnySim {
    /// Starts the simulator on loopback TCP with the coordinator `ieee` and `scenario`.
    pub(super) async fn start(radio: Radio, ieee: u64, scenario: &str) -> AnySim {
        let scenario = Scenario::parse(scenario).expect("test scenario parses");
        match radio {
            Radio::Znp => AnySim::Znp(
                ZnpSim::start_tcp(
                    ZnpSimConfig {
                        ieee,
                        scenario,
                        require_bootloader_skip: false,
                    },
                    0,
                )
                .await
                .expect("ZNP simulator starts"),
            ),
            Radio::Ezsp => AnySim::Ezsp(
                EzspSim::start_tcp(
                    EzspSimConfig {
                        ieee,
                        scenario,
                        ..EzspSimConfig::default()
                    },
                    0,
                )
                .await
                .expect("EZSP simulator starts"),
            ),
        }
    }

    /// Starts the simulator on a pseudo-terminal, opened by the host like a USB stick. The
    /// ZNP one also waits for the boot-loader skip bytes, as a CC2652 stick fresh from
    /// power-on does.
    pub(super) async fn start_pty(radio: Radio, ieee: u64, scenario: &str) -> AnySim {
        let scenario = Scenario::parse(scenario).expect("test scenario parses");
        match radio {
            Radio::Znp => AnySim::Znp(
                ZnpSim::start_pty(ZnpSimConfig {
                    ieee,
                    scenario,
                    require_bootloader_skip: true,
                })
                .await
                .expect("ZNP simulator starts"),
            ),
            Radio::Ezsp => AnySim::Ezsp(
                EzspSim::start_pty(EzspSimConfig {
                    ieee,
                    scenario,
                    ..EzspSimConfig::default()
                })
                .await
                .expect("EZSP simulator starts"),
            ),
        }
    }

    /// Where the host opens the simulator (a `/dev/pts/N` path for a PTY).
    pub(super) fn url(&self) -> String {
        on_each!(self, s => s.url())
    }

    /// A backend on this simulator with the tests' short timeouts.
    pub(super) fn backend(&self) -> AnyBackend {
        match self {
            AnySim::Znp(s) => AnyBackend::Znp(ZnpBackend::new(
                port_connector(s.port_spec()),
                znp_test_config(),
            )),
            AnySim::Ezsp(s) => AnyBackend::Ezsp(EzspBackend::new(
                port_connector(s.port_spec()),
                test_config(),
            )),
        }
    }

    /// A bridge on this simulator with the tests' short timeouts.
    pub(super) async fn bridge(&self, dir: &std::path::Path) -> (BridgeHandle, JoinHandle<()>) {
        self.bridge_with(dir, |_| {}).await
    }

    /// A bridge on this simulator, its configuration changed by `tweak`.
    pub(super) async fn bridge_with(
        &self,
        dir: &std::path::Path,
        tweak: impl FnOnce(&mut ZigbeeBridgeConfig),
    ) -> (BridgeHandle, JoinHandle<()>) {
        let mut config = ZigbeeBridgeConfig::new(dir);
        config.response_timeout = Duration::from_secs(2);
        tweak(&mut config);
        self.launch(config, None, None).await
    }

    /// A bridge whose backend gives the radio only `startup` to come up before it reports
    /// the radio offline (and keeps trying in the background).
    pub(super) async fn bridge_with_startup_timeout(
        &self,
        dir: &std::path::Path,
        startup: Duration,
    ) -> (BridgeHandle, JoinHandle<()>) {
        self.launch(ZigbeeBridgeConfig::new(dir), Some(startup), None)
            .await
    }

    /// Resets the radio's network and the bridge files of `config` (as the explicit reset
    /// does), runs `after_reset`, then starts a bridge on the same backend.
    pub(super) async fn reset_network_then_bridge(
        &self,
        config: ZigbeeBridgeConfig,
        after_reset: impl FnOnce(),
    ) -> (BridgeHandle, JoinHandle<()>) {
        self.launch(config, None, Some(Box::new(after_reset))).await
    }

    async fn launch(
        &self,
        config: ZigbeeBridgeConfig,
        startup: Option<Duration>,
        reset: Option<Box<dyn FnOnce() + '_>>,
    ) -> (BridgeHandle, JoinHandle<()>) {
        match self {
            AnySim::Znp(sim) => {
                let mut be_cfg = znp_test_config();
                be_cfg.startup_timeout = startup.unwrap_or(be_cfg.startup_timeout);
                let backend = ZnpBackend::new(port_connector(sim.port_spec()), be_cfg);
                launch(backend, config, reset).await
            }
            AnySim::Ezsp(sim) => {
                let mut be_cfg = test_config();
                be_cfg.startup_timeout = startup.unwrap_or(be_cfg.startup_timeout);
                let backend = EzspBackend::new(port_connector(sim.port_spec()), be_cfg);
                launch(backend, config, reset).await
            }
        }
    }

    /// Pulls the radio out: the host's port closes and reconnecting fails until `replug`.
    pub(super) fn unplug(&self) {
        on_each!(self, s => s.unplug())
    }

    /// The coordinator resets by itself under the connected bridge (a ZNP SYS_RESET_IND, an
    /// EZSP RSTACK after power-on); false without a host.
    pub(super) fn reboot(&self) -> bool {
        match self {
            AnySim::Znp(s) => s.reboot(0),
            AnySim::Ezsp(s) => s.reboot(super::ezsp::ash::reset_code::POWER_ON),
        }
    }

    /// Plugs the radio back in.
    pub(super) fn replug(&self) {
        on_each!(self, s => s.replug())
    }

    /// Waits until no host is connected.
    pub(super) async fn wait_idle(&self) {
        on_each!(self, s => s.wait_idle().await)
    }

    /// Makes a virtual device answer (or ignore) the host.
    pub(super) fn set_responsive(&self, ieee: u64, responsive: bool) {
        on_each!(self, s => s.set_responsive(ieee, responsive))
    }

    /// Whether the virtual device `ieee` is in the radio's network now.
    pub(super) fn joined(&self, ieee: u64) -> bool {
        on_each!(self, s => s.with_state(|st| {
            st.devices_mut().iter().any(|d| d.device.ieee == ieee && d.joined)
        }))
    }

    /// The PAN id of the network the radio holds, if any.
    pub(super) fn pan_id(&self) -> Option<u16> {
        match self {
            AnySim::Znp(s) => Some(s.with_state(|st| st.network().0)),
            AnySim::Ezsp(s) => s.with_state(|st| st.network.map(|n| n.pan_id)),
        }
    }

    /// The network key the radio holds (for ZNP, the one the next formation would use when
    /// it is on no network).
    pub(super) fn network_key(&self) -> Option<[u8; 16]> {
        match self {
            AnySim::Znp(s) => Some(s.with_state(|st| st.network().3)),
            AnySim::Ezsp(s) => s.with_state(|st| st.network.map(|n| n.network_key)),
        }
    }

    /// The radio already holds this network, as if formed in an earlier session.
    pub(super) fn form_network(
        &self,
        pan_id: u16,
        extended_pan_id: u64,
        channel: u8,
        key: [u8; 16],
    ) {
        on_each!(self, s => s.with_state(|st| st.form_network(pan_id, extended_pan_id, channel, key)))
    }

    /// The radio forgets its network as a factory-new stick would (ZNP: factory NV; EZSP:
    /// no network in the tokens).
    pub(super) fn forget_network(&self) {
        match self {
            AnySim::Znp(s) => s.with_state(|st| st.nv = NvStore::factory(st.ieee)),
            AnySim::Ezsp(s) => s.with_state(|st| st.network = None),
        }
    }

    /// Resolves once the host has sent an APS frame matching `pred` (of the last few kept).
    pub(super) async fn host_sent(&self, pred: impl Fn(&super::backend::ApsFrame) -> bool) {
        on_each!(self, s => s.wait_until(|st| st.data_log.iter().any(&pred)).await)
    }

    /// A virtual device's attribute.
    pub(super) fn attribute(
        &self,
        ieee: u64,
        ep: u8,
        cluster: u16,
        attr: u16,
    ) -> Option<TypedValue> {
        on_each!(self, s => s.attribute(ieee, ep, cluster, attr))
    }

    /// A virtual device reports an attribute now.
    pub(super) fn report(&self, ieee: u64, ep: u8, cluster: u16, attr: u16, v: ZclValue) -> bool {
        on_each!(self, s => s.report(ieee, ep, cluster, attr, v))
    }

    /// A virtual device sends a cluster command (a button press).
    pub(super) fn press(&self, ieee: u64, ep: u8, cluster: u16, cmd: u8, payload: Vec<u8>) -> bool {
        on_each!(self, s => s.press(ieee, ep, cluster, cmd, payload))
    }

    /// Resolves once a virtual device's attribute has the value `want`.
    pub(super) async fn attribute_becomes(
        &self,
        ieee: u64,
        ep: u8,
        cluster: u16,
        attr: u16,
        want: ZclValue,
    ) {
        let has = |d: &super::sim::VirtualDevice| {
            d.ieee == ieee
                && d.attribute(ep, cluster, attr)
                    .is_some_and(|v| v.value == want)
        };
        on_each!(self, s => s.wait_until(|st| st.devices.iter().any(|d| has(&d.device))).await)
    }
}

/// A backend of either kind, forwarding to the real one, so that a backend-level test body
/// runs against both radios.
#[derive(Clone)]
pub(super) enum AnyBackend {
    Znp(ZnpBackend),
    Ezsp(EzspBackend),
}

impl ZigbeeBackend for AnyBackend {
    async fn start(
        &self,
        settings: NetworkSettings,
        events: mpsc::Sender<BackendEvent>,
    ) -> Result<NetworkInfo, BackendError> {
        match self {
            AnyBackend::Znp(b) => b.start(settings, events).await,
            AnyBackend::Ezsp(b) => b.start(settings, events).await,
        }
    }

    async fn send(&self, frame: ApsFrame) -> Result<(), BackendError> {
        match self {
            AnyBackend::Znp(b) => b.send(frame).await,
            AnyBackend::Ezsp(b) => b.send(frame).await,
        }
    }

    async fn permit_join(&self, seconds: u8) -> Result<(), BackendError> {
        match self {
            AnyBackend::Znp(b) => b.permit_join(seconds).await,
            AnyBackend::Ezsp(b) => b.permit_join(seconds).await,
        }
    }

    async fn reset_network(&self) -> Result<(), BackendError> {
        match self {
            AnyBackend::Znp(b) => b.reset_network().await,
            AnyBackend::Ezsp(b) => b.reset_network().await,
        }
    }
}

/// `both_radios!(f)`: tests `f::znp` and `f::ezsp` running `f(Radio::Znp)` / `f(Radio::Ezsp)`.
macro_rules! both_radios {
    ($name:ident) => {
        mod $name {
            use super::super::test_radio::Radio;

            #[tokio::test]
            async fn znp() {
                super::$name(Radio::Znp).await
            }

            #[tokio::test]
            async fn ezsp() {
                super::$name(Radio::Ezsp).await
            }
        }
    };
}
pub(super) use both_radios;
