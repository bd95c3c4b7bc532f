//! The radio-neutral bridge API: the only thing the agent sees of a radio.
//!
//! Each radio (Zigbee, Z-Wave, BLE) is an **actor**: one task owns the port or adapter and
//! every piece of radio state; the rest of the program talks to it through a
//! [`BridgeHandle`] and listens to its [`BridgeEvent`]s.
//!
//! ```text
//!  agent (proxy glue)                       bridge actor task (one per radio)
//!  ------------------                       --------------------------------
//!  BridgeHandle::write(dev, cap, v) --mpsc BridgeRequest::Write{reply}-->  radio I/O
//!        ... awaits oneshot reply <--------- Ok(()) once the device confirmed
//!  handle.subscribe() <----broadcast BridgeEvent------- DeviceJoined / Value / Online ...
//! ```
//!
//! * [`DeviceDescriptor`]: stable [`DeviceId`] (`zigbee:<eui64>`, `zwave:<home>:<node>`,
//!   `ble:<address>`), [`ProxyProtocol`], manufacturer/model/firmware, TR-181
//!   [`IoTDeviceType`], [`InterviewState`], device-level capabilities, [`Node`]s (endpoints /
//!   end points) with their own capabilities, vendor [`CommandSpec`]s and [`EventSpec`]s.
//! * [`Capability`]: a stable [`CapabilityId`], a name, and a [`CapabilityKind`] — exactly one
//!   TR-181 IoTCapability sub-object with its Type, Unit, Min/Max/Step, ValidValues,
//!   Low/HighLevelThreshold — plus `writable` and the last known [`Value`].
//! * The TR-181 IoT vocabulary ([`vocab`]): `CapabilityClass`, `BinaryControlType`,
//!   `BinarySensorType`, `MultiLevelSensorType`, `IoTLevelType`, `IoTEnumControlType`,
//!   `IoTEnumSensorType`, `IoTBlobSensorType`, `IoTDeviceType`, `IoTUnitType`,
//!   `ProxyProtocol` (BLE uses the vendor value [`PROXY_PROTOCOL_BLE`]). Each `as_str()` is the
//!   XML's exact string; a test compares every set with `tr-181-2-iot.xml`.
//! * [`Value`]: Bool, Int, exact [`Decimal`], String, Bytes, Decimals, with TR-181 string forms;
//!   [`Capability::parse_value`] turns a Controller's string into the right typed value.
//! * [`BridgeHandle`]: `permit_join`, `remove`, `write`, `invoke`, `refresh`, `devices`,
//!   `subscribe`, `status` (latest [`RadioStatus`], for subscribers that attached late);
//!   errors are [`BridgeError`].
//! * Implementing a radio: call [`bridge_channel`] to get the handle and a [`BridgeInbox`];
//!   the actor loops on `inbox.requests.recv()` (a [`BridgeRequest`] carries its own `oneshot`
//!   reply, which the actor may keep until the device confirms) and publishes with
//!   `inbox.events.emit(..)`. Emit [`BridgeEvent::Value`] only when a value changed.
//! * Ports: [`SerialPortSpec`] (`/dev/tty*`, `/dev/serial/by-id/...`, `tcp://host:port`,
//!   `?baud=&flow=`) and [`open_port`], shared by the Zigbee and Z-Wave bridges.
//!
//! # Conventions every bridge keeps
//!
//! * At start, a bridge emits `DeviceJoined` for every device it already knows (its own
//!   registry), then `RadioState`; the agent mounts by [`DeviceId`], so a re-join of a known
//!   device is harmless. The BLE bridge keeps no registry: the agent hands it the addresses
//!   it has paired (`BleSettings::paired`) and each is re-announced when next heard. A
//!   descriptor that changes later (interview progress, new capability) is sent whole as
//!   `DeviceUpdated`.
//! * [`CapabilityId`]s are stable across restarts and re-interviews, unique within the
//!   device including its nodes, and readable: `ep1/0x0402/0x0000` (Zigbee),
//!   `ep0/0x31/...` (Z-Wave), `temperature` (BLE).
//! * `Value` events carry the new value in the capability's own type and unit and are sent
//!   only on change; `Online` only on change.
//! * Event and command names carry no vendor prefix and no `!`/`()`: the agent adds the
//!   project's `X_<VENDOR>_` prefix. TR-181's own commands (`Toggle`, `StepUp`, `StepDown`)
//!   arrive through [`BridgeHandle::invoke`] with the capability set.
//! * A write resolves only when the device confirmed it; radio-level timeouts give
//!   [`BridgeError::Timeout`], a refusal [`BridgeError::Refused`]; a sleeping device whose
//!   write is not queued gives [`BridgeError::Asleep`].

pub mod capability;
pub mod device;
pub mod event;
pub mod handle;
pub mod port;
pub mod value;
pub mod vocab;

#[cfg(test)]
mod vocab_xml;

pub use capability::{Capability, CapabilityId, CapabilityKind, InvalidValue};
pub use device::{
    BleAddress, CommandSpec, DeviceDescriptor, DeviceId, DeviceIdParseError, Eui64, EventSpec,
    InterviewState, Node, PowerSource,
};
pub use event::{BridgeEvent, EventArgs, RadioInfo};
pub use handle::{
    Args, BridgeError, BridgeHandle, BridgeInbox, BridgeRequest, DEFAULT_REQUEST_TIMEOUT,
    EventSender, RadioStatus, Reply, bridge_channel,
};
pub use port::{AsyncPort, FlowControl, PortAddress, PortError, SerialPortSpec, open_port};
pub use value::{Decimal, Value, ValueParseError};
pub use vocab::{
    BinaryControlType, BinarySensorType, CapabilityClass, IoTBlobSensorType, IoTDeviceType,
    IoTEnumControlType, IoTEnumSensorType, IoTLevelType, IoTUnitType, MultiLevelSensorType,
    PROXY_PROTOCOL_BLE, ProxyProtocol, UnknownEnumValue,
};
