//! A scripted bridge actor for testing the proxy glue without a radio: it speaks the
//! bridge API (requests in, events out) exactly as the radio actors do, confirms writes
//! (or refuses writes to capabilities named in `refuse`), and lets the test inject events.

use std::sync::{Arc, Mutex};

use usphub_bridges::api::{
    BridgeEvent, BridgeHandle, BridgeRequest, Capability, CapabilityKind, Decimal,
    DeviceDescriptor, DeviceId, Eui64, EventSender, IoTLevelType, IoTUnitType, ProxyProtocol,
    Value, bridge_channel,
};

/// The test's side of a fake bridge.
pub struct FakeBridge {
    /// The handle to give the agent.
    pub handle: BridgeHandle,
    /// Emits events as the radio would.
    pub events: EventSender,
    /// The devices the bridge reports.
    pub devices: Arc<Mutex<Vec<DeviceDescriptor>>>,
    /// Every write the bridge received: (device, capability, value).
    pub writes: Arc<Mutex<Vec<(DeviceId, String, Value)>>>,
}

impl FakeBridge {
    /// Starts the actor; writes to capability ids in `refuse` are refused.
    pub fn start(devices: Vec<DeviceDescriptor>, refuse: &[&str]) -> FakeBridge {
        let (handle, mut inbox) = bridge_channel(ProxyProtocol::ZigBee, 16, 256);
        let devices = Arc::new(Mutex::new(devices));
        let writes = Arc::new(Mutex::new(Vec::new()));
        let refuse: Vec<String> = refuse.iter().map(|s| s.to_string()).collect();
        let events = inbox.events.clone();
        let (d2, w2) = (devices.clone(), writes.clone());
        tokio::spawn(async move {
            while let Some(req) = inbox.requests.recv().await {
                match req {
                    BridgeRequest::Devices { reply } => {
                        let list = d2.lock().map(|d| d.clone()).unwrap_or_default();
                        let _ = reply.send(Ok(list));
                    }
                    BridgeRequest::Write {
                        device,
                        capability,
                        value,
                        reply,
                    } => {
                        if refuse.contains(&capability.0) {
                            let _ = reply.send(Err(usphub_bridges::api::BridgeError::Refused(
                                "device answered with a ZCL failure status".into(),
                            )));
                            continue;
                        }
                        if let Ok(mut w) = w2.lock() {
                            w.push((device, capability.0.clone(), value.clone()));
                        }
                        let _ = reply.send(Ok(()));
                        inbox.events.emit(BridgeEvent::Value {
                            id: device,
                            capability,
                            value,
                            at: std::time::SystemTime::now(),
                        });
                    }
                    BridgeRequest::PermitJoin { duration, reply } => {
                        let _ = reply.send(Ok(()));
                        inbox.events.emit(BridgeEvent::PermitJoin {
                            open: true,
                            remaining_s: duration.as_secs() as u32,
                        });
                    }
                    BridgeRequest::Remove { device, reply, .. } => {
                        let _ = reply.send(Ok(()));
                        inbox.events.emit(BridgeEvent::DeviceLeft(device));
                    }
                    BridgeRequest::Refresh { reply, .. } => {
                        let _ = reply.send(Ok(()));
                    }
                    BridgeRequest::Invoke { reply, .. } => {
                        let _ = reply.send(Err(usphub_bridges::api::BridgeError::Unsupported(
                            "invoke".into(),
                        )));
                    }
                }
            }
        });
        FakeBridge {
            handle,
            events,
            devices,
            writes,
        }
    }
}

/// A Zigbee smart plug: an on/off switch and a power meter.
pub fn plug(ieee: u64) -> DeviceDescriptor {
    let mut d = DeviceDescriptor::new(DeviceId::Zigbee(Eui64(ieee)));
    d.manufacturer = "IKEA of Sweden".into();
    d.model = "TRADFRI control outlet".into();
    let mut onoff = Capability::new(
        "ep1/0x0006/0x0000",
        "Switch",
        CapabilityKind::BinaryControl {
            kind: usphub_bridges::api::BinaryControlType::Switch,
        },
    );
    onoff.value = Some(Value::Bool(false));
    let mut power = Capability::new(
        "ep1/0x0b04/0x050b",
        "Power",
        CapabilityKind::LevelSensor {
            kind: IoTLevelType::Power,
            unit: IoTUnitType::Watt,
            low_level_threshold: None,
            high_level_threshold: None,
        },
    );
    power.value = Some(Value::Decimal(Decimal::new(125, 1)));
    d.capabilities = vec![onoff, power];
    d
}
