//! The two coordinator simulators behind one face, so that a radio-neutral bridge test runs
//! against ZNP and EZSP alike (issue 6: what the ZNP backend's tests prove, the same tests
//! prove for EZSP). `both_radios!(test_fn)` makes a `znp` and an `ezsp` test of an
//! `async fn test_fn(radio: Radio)`.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::bridge::{ZigbeeBridgeConfig, start};
use super::bridge_tests::start_bridge_with;
use super::ezsp::backend::EzspBackend;
use super::ezsp::backend_tests::test_config;
use super::ezsp::sim::{EzspSim, EzspSimConfig};
use super::sim::Scenario;
use super::zcl::{TypedValue, ZclValue};
use super::znp::link::port_connector;
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
        match self {
            AnySim::Znp(sim) => start_bridge_with(sim, dir, tweak).await,
            AnySim::Ezsp(sim) => {
                let backend = EzspBackend::new(port_connector(sim.port_spec()), test_config());
                let mut config = ZigbeeBridgeConfig::new(dir);
                config.response_timeout = Duration::from_secs(2);
                tweak(&mut config);
                start(backend, config).await.expect("bridge starts")
            }
        }
    }

    /// Resolves once the host has sent an APS frame matching `pred` (of the last few kept).
    pub(super) async fn host_sent(&self, pred: impl Fn(&super::backend::ApsFrame) -> bool) {
        match self {
            AnySim::Znp(s) => s.wait_until(|st| st.data_log.iter().any(&pred)).await,
            AnySim::Ezsp(s) => s.wait_until(|st| st.data_log.iter().any(&pred)).await,
        }
    }

    /// A virtual device's attribute.
    pub(super) fn attribute(
        &self,
        ieee: u64,
        ep: u8,
        cluster: u16,
        attr: u16,
    ) -> Option<TypedValue> {
        match self {
            AnySim::Znp(s) => s.attribute(ieee, ep, cluster, attr),
            AnySim::Ezsp(s) => s.attribute(ieee, ep, cluster, attr),
        }
    }

    /// A virtual device reports an attribute now.
    pub(super) fn report(&self, ieee: u64, ep: u8, cluster: u16, attr: u16, v: ZclValue) -> bool {
        match self {
            AnySim::Znp(s) => s.report(ieee, ep, cluster, attr, v),
            AnySim::Ezsp(s) => s.report(ieee, ep, cluster, attr, v),
        }
    }

    /// A virtual device sends a cluster command (a button press).
    pub(super) fn press(&self, ieee: u64, ep: u8, cluster: u16, cmd: u8, payload: Vec<u8>) -> bool {
        match self {
            AnySim::Znp(s) => s.press(ieee, ep, cluster, cmd, payload),
            AnySim::Ezsp(s) => s.press(ieee, ep, cluster, cmd, payload),
        }
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
        match self {
            AnySim::Znp(s) => {
                s.wait_until(|st| st.devices.iter().any(|d| has(&d.device)))
                    .await
            }
            AnySim::Ezsp(s) => {
                s.wait_until(|st| st.devices.iter().any(|d| has(&d.device)))
                    .await
            }
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
