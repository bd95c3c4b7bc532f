//! A simulated BLE radio for `usphub demo` and tests that need no D-Bus: scripted sensors
//! whose adverts are built with the real encoders ([`FrameBuilder`], [`mibeacon::build_frame`])
//! and fed to the real bridge actor, exactly as the btleplug scanner would.
//!
//! The default scenario has a BTHome thermometer, an encrypted MiBeacon thermometer, a
//! BTHome button, a BTHome door sensor (all configured, so they mount at start), and one
//! more thermometer that starts advertising while joining is permitted.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::api::{BleAddress, BridgeHandle, RadioStatus};

use super::BleSettings;
use super::bridge::{self, ScanEvent};
use super::bthome::FrameBuilder;
use super::bthome::frame::BTHOME_UUID16;
use super::crypto::BindKey;
use super::decode::Advert;
use super::mibeacon::{self, MIBEACON_UUID16};
use super::registry::BleDeviceConfig;

/// What a simulated sensor is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimKind {
    /// BTHome temperature/humidity/battery sensor.
    BthomeThermometer,
    /// BTHome trigger-based button; presses every 6th round (single, double, long in turn).
    BthomeButton,
    /// BTHome door/window sensor that opens and closes.
    BthomeDoor,
    /// Encrypted MiBeacon v5 LYWSD03MMC-like thermometer.
    MiBeaconThermometer(BindKey),
}

/// One simulated sensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimSensor {
    /// Address.
    pub address: BleAddress,
    /// Advertised local name.
    pub name: String,
    /// Behaviour.
    pub kind: SimKind,
}

/// A scenario.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimScenario {
    /// Sensors mounted at start (configured).
    pub sensors: Vec<SimSensor>,
    /// Sensors that advertise only while joining is permitted (until they joined).
    pub joinable: Vec<SimSensor>,
    /// Time between two rounds of adverts.
    pub interval: Duration,
}

fn addr(b: [u8; 6]) -> BleAddress {
    BleAddress(b)
}

impl Default for SimScenario {
    fn default() -> Self {
        let key = BindKey([
            0xe9, 0xea, 0x89, 0x5f, 0xac, 0x7c, 0xca, 0x6d, 0x30, 0x53, 0x24, 0x32, 0xa5, 0x16,
            0xf3, 0xa8,
        ]);
        let s = |a, name: &str, kind| SimSensor {
            address: addr(a),
            name: name.to_owned(),
            kind,
        };
        Self {
            sensors: vec![
                s(
                    [0xA4, 0xC1, 0x38, 0, 0, 1],
                    "ATC_000001",
                    SimKind::BthomeThermometer,
                ),
                s(
                    [0xA4, 0xC1, 0x38, 0, 0, 2],
                    "LYWSD03MMC",
                    SimKind::MiBeaconThermometer(key),
                ),
                s(
                    [0x3C, 0x2E, 0xF5, 0, 0, 3],
                    "SBBT-002C",
                    SimKind::BthomeButton,
                ),
                s(
                    [0x3C, 0x2E, 0xF5, 0, 0, 4],
                    "SBDW-002C",
                    SimKind::BthomeDoor,
                ),
            ],
            joinable: vec![s(
                [0xA4, 0xC1, 0x38, 0, 0, 5],
                "ATC_000005",
                SimKind::BthomeThermometer,
            )],
            interval: Duration::from_secs(5),
        }
    }
}

impl SimScenario {
    /// The `[[ble.devices]]` entries that mount the scenario's sensors.
    pub fn device_configs(&self) -> Vec<BleDeviceConfig> {
        self.sensors
            .iter()
            .map(|s| BleDeviceConfig {
                address: s.address,
                bind_key: match &s.kind {
                    SimKind::MiBeaconThermometer(k) => Some(k.clone()),
                    _ => None,
                },
                gatt: false,
            })
            .collect()
    }
}

/// The service data sensor `s` sends in round `n`.
pub fn advert(s: &SimSensor, n: u32) -> Advert {
    let packet = (n % 256) as u8;
    // A slow, deterministic wave: 20.00-22.90 °C, 40-69 % in steps.
    let temp = 2000 + (n % 30) as i16 * 10;
    let hum = 4000 + (n % 30) as u16 * 100;
    let data = match &s.kind {
        SimKind::BthomeThermometer => (
            BTHOME_UUID16,
            FrameBuilder::new()
                .object(0x00, &[packet])
                .object(0x01, &[100 - (n / 100 % 50) as u8])
                .object(0x02, &temp.to_le_bytes())
                .object(0x03, &hum.to_le_bytes())
                .build(),
        ),
        SimKind::BthomeButton => {
            // Presses every 6th round (single, double, long in turn); otherwise idle.
            let event = if n % 6 == 5 {
                [1u8, 2, 4][(n / 6 % 3) as usize]
            } else {
                0
            };
            (
                BTHOME_UUID16,
                FrameBuilder::new()
                    .trigger_based()
                    .object(0x00, &[packet])
                    .object(0x01, &[90])
                    .object(0x3a, &[event])
                    .build(),
            )
        }
        SimKind::BthomeDoor => (
            BTHOME_UUID16,
            FrameBuilder::new()
                .object(0x00, &[packet])
                .object(0x01, &[80])
                .object(0x2d, &[u8::from(n / 4 % 2 == 1)])
                .build(),
        ),
        SimKind::MiBeaconThermometer(key) => {
            let t = (temp / 10).to_le_bytes();
            let h = (hum / 10).to_le_bytes();
            let th = [t[0], t[1], h[0], h[1]];
            let ext = n.to_le_bytes();
            (
                MIBEACON_UUID16,
                mibeacon::build_frame(
                    0x055b,
                    packet,
                    s.address,
                    &[(0x100d, &th[..])],
                    Some((key, [ext[0], ext[1], ext[2]])),
                ),
            )
        }
    };
    Advert {
        address: s.address,
        rssi: Some(-55 - (n % 10) as i16),
        local_name: Some(s.name.clone()),
        service_data: vec![data],
    }
}

async fn run(
    scenario: SimScenario,
    tx: mpsc::Sender<ScanEvent>,
    mut status: watch::Receiver<RadioStatus>,
) {
    let online = ScanEvent::Adapter {
        online: true,
        detail: "simulated BLE adapter".into(),
    };
    if tx.send(online).await.is_err() {
        return;
    }
    let mut tick = tokio::time::interval(scenario.interval);
    let mut joinable_rounds = 0u32;
    for n in 0u32.. {
        tokio::select! {
            _ = tick.tick() => {}
            // React at once when joining opens, as a user pressing a pairing button would.
            r = status.changed() => if r.is_err() { return },
        }
        let permit = status.borrow().permit_join;
        let mut batch: Vec<Advert> = scenario.sensors.iter().map(|s| advert(s, n)).collect();
        if permit {
            joinable_rounds += 1;
            batch.extend(scenario.joinable.iter().map(|s| advert(s, joinable_rounds)));
        }
        for a in batch {
            if tx.send(ScanEvent::Advert(a)).await.is_err() {
                return;
            }
        }
    }
}

/// Starts the bridge actor fed by a simulated radio playing `scenario`. `settings` adds to
/// (or replaces, for the same address) the scenario's configured devices.
pub fn start(settings: &BleSettings, scenario: SimScenario) -> (BridgeHandle, JoinHandle<()>) {
    let mut settings = settings.clone();
    for d in scenario.device_configs() {
        if !settings.devices.iter().any(|x| x.address == d.address) {
            settings.devices.push(d);
        }
    }
    let (tx, rx) = mpsc::channel(bridge::SCAN_QUEUE);
    let (handle, task) = bridge::spawn(settings.registry(), rx);
    tokio::spawn(run(scenario, tx, handle.watch_status()));
    (handle, task)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::BridgeEvent;
    use std::collections::BTreeSet;
    use tokio::sync::broadcast;

    async fn until(
        rx: &mut broadcast::Receiver<BridgeEvent>,
        f: impl Fn(&BridgeEvent) -> bool,
    ) -> BridgeEvent {
        loop {
            let e = rx.recv().await.unwrap();
            if f(&e) {
                return e;
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn default_scenario_mounts_sensors_reports_events_and_pairs_one_more() {
        let (handle, _task) = start(&BleSettings::default(), SimScenario::default());
        let mut events = handle.subscribe();
        let mut joined = BTreeSet::new();
        while joined.len() < 4 {
            if let BridgeEvent::DeviceJoined(d) =
                until(&mut events, |e| matches!(e, BridgeEvent::DeviceJoined(_))).await
            {
                joined.insert(d.model.clone());
            }
        }
        assert_eq!(
            joined,
            ["ATC_000001", "LYWSD03MMC", "SBBT-002C", "SBDW-002C"]
                .into_iter()
                .map(String::from)
                .collect()
        );
        assert!(handle.status().online);
        let press = until(&mut events, |e| matches!(e, BridgeEvent::Event { .. })).await;
        assert!(matches!(press, BridgeEvent::Event { name, .. } if name == "ButtonPress"));
        until(&mut events, |e| {
            matches!(e, BridgeEvent::Value { capability, .. } if capability.as_str() == "window")
        })
        .await;

        handle.permit_join(Duration::from_secs(60)).await.unwrap();
        let new = until(&mut events, |e| matches!(e, BridgeEvent::DeviceJoined(_))).await;
        assert!(matches!(new, BridgeEvent::DeviceJoined(d) if d.model == "ATC_000005"));
        assert_eq!(handle.devices().await.unwrap().len(), 5);
    }

    #[test]
    fn simulated_adverts_decode_with_the_real_decoders() {
        let sc = SimScenario::default();
        for s in &sc.sensors {
            let key = match &s.kind {
                SimKind::MiBeaconThermometer(k) => Some(k),
                _ => None,
            };
            let d = crate::ble::decode::decode(&advert(s, 7), key)
                .unwrap()
                .unwrap();
            assert!(!d.readings.is_empty(), "{}", s.name);
            assert!(d.partial.is_none(), "{}", s.name);
        }
    }
}
