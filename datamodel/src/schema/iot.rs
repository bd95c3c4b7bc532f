//! TR-181's IoT model as usphub supports it: `Device.ProxiedDevice.{i}.` (a mount
//! point, rows created by the agent only, numbers never reused), its `Node.{i}.`
//! sub-devices, and `IoTCapability.{i}.` with the discriminated capability objects
//! (`BinaryControl`, `LevelControl`, `EnumControl`, `BinarySensor`, `LevelSensor`,
//! `MultiLevelSensor`, `EnumSensor`, `BlobSensor`) mounted under both.
//!
//! Names, types and access follow `tr-181-2-iot.xml` / `tr-181-2-usp.xml` (checked by
//! the `tr181_conformance` test). Values a device reports are read-only and stored;
//! writable values of a device (`Value` of a control, thresholds, ...) are
//! write-through to the device's provider; `Name` and `Alias` are persistent.
//! Enumerated vocabularies (device/level/unit types) are left to the bridges, which
//! own them and check them against the XML.

use super::{CommandDef, Obj, ParamDef, ParamType, SchemaBuilder};

/// Supported path of the proxied-device table.
pub const PROXIED_DEVICE: &str = "Device.ProxiedDevice.{i}.";

/// The capability sub-objects, in TR-181 order (the values of `IoTCapability.Class`).
pub const CAPABILITY_CLASSES: [&str; 8] = [
    "BinaryControl",
    "LevelControl",
    "EnumControl",
    "BinarySensor",
    "LevelSensor",
    "MultiLevelSensor",
    "EnumSensor",
    "BlobSensor",
];

/// `ProxyProtocol` values TR-181 enumerates (vendor values `X_...` are also accepted).
pub const PROXY_PROTOCOLS: [&str; 3] = ["Z-Wave", "ZigBee", "UPnP-DM"];

/// Declares `Device.ProxiedDevice.{i}.` with `Node.{i}.` and `IoTCapability.{i}.`.
pub fn declare(b: &mut SchemaBuilder) {
    let s = |name: &str| ParamDef::new(name, ParamType::String);
    b.object(
        PROXIED_DEVICE,
        Obj::table().key(&["Alias"]).persistent_numbering(),
    )
    .param(ParamDef::alias())
    .param(s("Type"))
    .param(s("Description").max_len(256))
    .param(s("Name").writable().max_len(64).persistent())
    .param(ParamDef::new("Online", ParamType::Boolean))
    .param(ParamDef::new("LastTimeContacted", ParamType::DateTime).value_change_ignored())
    .param(s("InterfaceReference").reference())
    .param(s("ProxyProtocol").enumeration(&PROXY_PROTOCOLS));
    declare_capabilities(b, PROXIED_DEVICE);
    let node = "Device.ProxiedDevice.{i}.Node.{i}.";
    b.object(node, Obj::table().key(&["Alias"]))
        .param(ParamDef::alias())
        .param(s("Type"))
        .param(s("Description").max_len(256));
    declare_capabilities(b, node);
}

/// Declares `IoTCapability.{i}.` and its capability objects below `parent`.
pub fn declare_capabilities(b: &mut SchemaBuilder, parent: &str) {
    let s = |name: &str| ParamDef::new(name, ParamType::String);
    let dec = |name: &str| ParamDef::new(name, ParamType::Decimal);
    let time = |name: &str| ParamDef::new(name, ParamType::DateTime);
    let cap = format!("{parent}IoTCapability.{{i}}.");
    b.object(&cap, Obj::table().key(&["Alias"]).key(&["Name"]))
        .param(ParamDef::alias())
        .param(s("Name").writable().max_len(64).persistent())
        .param(s("Class").enumeration(&CAPABILITY_CLASSES));
    let sub = |class: &str| format!("{cap}{class}.");
    let step = |name: &str| CommandDef::new(name).asynchronous();
    b.object(&sub("BinaryControl"), Obj::optional())
        .param(s("Type").enumeration(&["Switch", "Locked"]))
        .param(s("Description").max_len(256))
        .param(
            ParamDef::new("Value", ParamType::Boolean)
                .writable()
                .write_through(),
        )
        .command(step("Toggle()"));
    b.object(&sub("LevelControl"), Obj::optional())
        .param(s("Type"))
        .param(s("Description").max_len(256))
        .param(dec("Value").writable().write_through())
        .param(s("Unit"))
        .param(dec("MinValue"))
        .param(dec("MaxValue"))
        .param(dec("StepValue").writable().write_through())
        .command(step("StepUp()"))
        .command(step("StepDown()"));
    b.object(&sub("EnumControl"), Obj::optional())
        .param(s("Type"))
        .param(s("Description").max_len(256))
        .param(s("Value").writable().write_through())
        .param(s("ValidValues").list())
        .command(step("StepUp()"))
        .command(step("StepDown()"));
    b.object(&sub("BinarySensor"), Obj::optional())
        .param(s("Type"))
        .param(s("Description").max_len(256))
        .param(ParamDef::new("Value", ParamType::Boolean))
        .param(time("LastChange"))
        .param(time("LastContactTime").value_change_ignored())
        .param(
            ParamDef::new("Sensitivity", ParamType::UnsignedInt)
                .writable()
                .range(0, 100)
                .write_through(),
        )
        .param(
            ParamDef::new("HoldTime", ParamType::UnsignedInt)
                .writable()
                .write_through(),
        )
        .param(
            ParamDef::new("RestTime", ParamType::UnsignedInt)
                .writable()
                .write_through(),
        );
    b.object(&sub("LevelSensor"), Obj::optional())
        .param(s("Type"))
        .param(s("Description").max_len(256))
        .param(dec("Value"))
        .param(time("LastChange"))
        .param(time("LastContactTime").value_change_ignored())
        .param(s("Unit"))
        .param(ParamDef::new("LowLevel", ParamType::Boolean))
        .param(dec("LowLevelThreshold").writable().write_through())
        .param(ParamDef::new("HighLevel", ParamType::Boolean))
        .param(dec("HighLevelThreshold").writable().write_through());
    b.object(&sub("MultiLevelSensor"), Obj::optional())
        .param(s("Type").enumeration(&["RGB", "Location"]))
        .param(s("Description").max_len(256))
        .param(dec("Values").list())
        .param(s("ValueNames").list())
        .param(time("LastChange"))
        .param(time("LastContactTime").value_change_ignored())
        .param(s("Unit"));
    b.object(&sub("EnumSensor"), Obj::optional())
        .param(s("Type"))
        .param(s("Description").max_len(256))
        .param(s("Value"))
        .param(time("LastChange"))
        .param(time("LastContactTime").value_change_ignored())
        .param(s("ValidValues").list());
    b.object(&sub("BlobSensor"), Obj::optional())
        .param(s("Type"))
        .param(s("Description").max_len(256))
        .param(time("LastChange"))
        .param(time("LastContactTime").value_change_ignored())
        .param(ParamDef::new("Value", ParamType::Base64));
}
