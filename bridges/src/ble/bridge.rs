//! The BLE bridge actor: one task owns the [`BleRegistry`]; a scanner (btleplug, or a test)
//! feeds it [`ScanEvent`]s over a bounded channel; the agent talks to it through the common
//! [`BridgeHandle`].
//!
//! Concurrency: the scanner channel is bounded; when the actor falls behind, the scanner's
//! `try_send` drops adverts (and counts them) instead of queueing without limit — a flood of
//! adverts must not grow memory. Requests and adverts are served by one `select!` loop; no
//! request waits on the radio (advertisement sensors are never written to).

use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::api::{
    BleAddress, BridgeError, BridgeEvent, BridgeHandle, BridgeInbox, BridgeRequest, DeviceId,
    EventSender, ProxyProtocol, bridge_channel,
};

use super::decode::Advert;
use super::gatt::GattUpdate;
use super::registry::{BleConfig, BleRegistry};

/// How often availability and the pairing window are checked.
pub const TICK: Duration = Duration::from_secs(1);
/// Capacity of the scanner-to-actor channel.
pub const SCAN_QUEUE: usize = 1024;

/// What the scanner reports.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanEvent {
    /// One advertisement.
    Advert(Advert),
    /// What a GATT session with a configured device read or was notified of.
    Gatt {
        /// The device.
        address: BleAddress,
        /// Information and readings.
        update: GattUpdate,
    },
    /// The adapter became usable or unusable (no BlueZ, no adapter, powered off).
    Adapter {
        /// Whether scanning runs.
        online: bool,
        /// Why, for the log and the data model.
        detail: String,
    },
}

/// Starts the actor; returns its handle and task. The actor stops when every handle is
/// dropped.
pub fn spawn(
    config: BleConfig,
    scans: mpsc::Receiver<ScanEvent>,
) -> (BridgeHandle, JoinHandle<()>) {
    let (handle, inbox) = bridge_channel(ProxyProtocol::Ble, 64, 1024);
    let task = tokio::spawn(run(inbox, scans, BleRegistry::new(config)));
    (handle, task)
}

async fn run(mut inbox: BridgeInbox, mut scans: mpsc::Receiver<ScanEvent>, mut reg: BleRegistry) {
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut scanning = true;
    let mut out = Vec::new();
    loop {
        tokio::select! {
            req = inbox.requests.recv() => match req {
                Some(r) => serve(&mut reg, r, &inbox.events),
                None => break,
            },
            ev = scans.recv(), if scanning => match ev {
                Some(ScanEvent::Advert(a)) => {
                    reg.handle_advert(&a, Instant::now().into_std(), SystemTime::now(), &mut out);
                }
                Some(ScanEvent::Gatt { address, update }) => {
                    reg.handle_gatt(address, update, Instant::now().into_std(), SystemTime::now(), &mut out);
                }
                Some(ScanEvent::Adapter { online, detail }) => {
                    tracing::info!(online, detail = %detail, "BLE adapter state");
                    out.push(BridgeEvent::RadioState { online, detail });
                }
                None => {
                    scanning = false;
                    tracing::warn!("BLE scanner stopped");
                    out.push(BridgeEvent::RadioState {
                        online: false,
                        detail: "scanner stopped".into(),
                    });
                }
            },
            _ = tick.tick() => reg.tick(Instant::now().into_std(), &mut out),
        }
        for e in out.drain(..) {
            inbox.events.emit(e);
        }
    }
}

fn read_only(reg: &BleRegistry, device: DeviceId) -> BridgeError {
    if reg.device(&device).is_some() {
        BridgeError::Unsupported("BLE advertisement sensors accept no writes or commands".into())
    } else {
        BridgeError::UnknownDevice(device)
    }
}

fn serve(reg: &mut BleRegistry, req: BridgeRequest, events: &EventSender) {
    // A dropped reply only means the caller gave up waiting; nothing to undo.
    match req {
        BridgeRequest::PermitJoin { duration, reply } => {
            events.emit(reg.permit_join(duration, Instant::now().into_std()));
            let _ = reply.send(Ok(()));
        }
        BridgeRequest::Remove { device, reply, .. } => {
            let r = reg.remove(&device).map(|ev| events.emit(ev));
            let _ = reply.send(r);
        }
        BridgeRequest::Write {
            device,
            capability,
            reply,
            ..
        } => {
            let err = match reg.device(&device) {
                Some(d) if d.capability(&capability).is_none() => {
                    BridgeError::UnknownCapability(capability)
                }
                _ => read_only(reg, device),
            };
            let _ = reply.send(Err(err));
        }
        BridgeRequest::Invoke { device, reply, .. } => {
            let _ = reply.send(Err(read_only(reg, device)));
        }
        BridgeRequest::Refresh { device, reply, .. } => {
            let r = if reg.device(&device).is_some() {
                Err(BridgeError::Unsupported(
                    "advertisement sensors cannot be polled; values arrive with each advert".into(),
                ))
            } else {
                Err(BridgeError::UnknownDevice(device))
            };
            let _ = reply.send(r);
        }
        BridgeRequest::Devices { reply } => {
            let _ = reply.send(Ok(reg.devices()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Value;
    use crate::ble::bthome::FrameBuilder;
    use crate::ble::bthome::frame::BTHOME_UUID16;
    use tokio::sync::broadcast;

    const A: BleAddress = BleAddress([0xA4, 0xC1, 0x38, 0x00, 0x00, 0x01]);

    fn advert(packet: u8, temp: i16) -> ScanEvent {
        ScanEvent::Advert(Advert {
            address: A,
            rssi: Some(-70),
            local_name: None,
            service_data: vec![(
                BTHOME_UUID16,
                FrameBuilder::new()
                    .object(0x00, &[packet])
                    .object(0x02, &temp.to_le_bytes())
                    .build(),
            )],
        })
    }

    async fn next_matching(
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
    async fn sensor_pairs_reports_goes_offline_and_is_removed() {
        let (tx, rx) = mpsc::channel(16);
        let config = BleConfig {
            availability_timeout: Duration::from_secs(600),
            ..BleConfig::default()
        };
        let (handle, task) = spawn(config, rx);
        let mut events = handle.subscribe();
        handle.permit_join(Duration::from_secs(60)).await.unwrap();
        tx.send(advert(1, 2150)).await.unwrap();
        let joined =
            next_matching(&mut events, |e| matches!(e, BridgeEvent::DeviceJoined(_))).await;
        let BridgeEvent::DeviceJoined(d) = joined else {
            unreachable!()
        };
        let id = d.id;
        let v = next_matching(&mut events, |e| matches!(e, BridgeEvent::Value { .. })).await;
        assert!(
            matches!(v, BridgeEvent::Value { value: Value::Decimal(d), .. } if d.to_string() == "21.5")
        );

        assert_eq!(handle.devices().await.unwrap().len(), 1);
        assert!(matches!(
            handle
                .write(id, "temperature".into(), Value::Bool(true))
                .await,
            Err(BridgeError::Unsupported(_))
        ));
        assert_eq!(
            handle.write(id, "nope".into(), Value::Bool(true)).await,
            Err(BridgeError::UnknownCapability("nope".into()))
        );

        // Silence for longer than the timeout: the paused clock jumps ahead.
        let offline = next_matching(&mut events, |e| {
            matches!(e, BridgeEvent::Online { online: false, .. })
        })
        .await;
        assert_eq!(offline, BridgeEvent::Online { id, online: false });

        handle.remove(id, false).await.unwrap();
        assert_eq!(
            next_matching(&mut events, |e| matches!(e, BridgeEvent::DeviceLeft(_))).await,
            BridgeEvent::DeviceLeft(id)
        );
        assert_eq!(
            handle.refresh(id, false).await,
            Err(BridgeError::UnknownDevice(id))
        );
        drop(tx);
        let stopped =
            next_matching(&mut events, |e| matches!(e, BridgeEvent::RadioState { .. })).await;
        assert!(matches!(
            stopped,
            BridgeEvent::RadioState { online: false, .. }
        ));
        drop(handle);
        task.await.unwrap();
    }

    #[tokio::test]
    async fn adapter_state_is_published() {
        let (tx, rx) = mpsc::channel(4);
        let (handle, _task) = spawn(BleConfig::default(), rx);
        let mut events = handle.subscribe();
        tx.send(ScanEvent::Adapter {
            online: false,
            detail: "org.bluez not on the system bus; retrying".into(),
        })
        .await
        .unwrap();
        let e = next_matching(&mut events, |e| matches!(e, BridgeEvent::RadioState { .. })).await;
        assert!(
            matches!(e, BridgeEvent::RadioState { online: false, detail } if detail.contains("org.bluez"))
        );
    }
}
