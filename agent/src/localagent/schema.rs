//! The part of TR-181 the agent itself implements: `Device.` root items,
//! `Device.DeviceInfo.` basics and `Device.LocalAgent.` (TR-181 USPLocalAgent component:
//! MTP, Controller, Subscription, Request, ControllerTrust), and `Device.MQTT.Client.`.
//! Names, types and access follow the TR-181 XML; a test checks them against it.

use usp_datamodel::schema::{ArgDef, CommandDef, EventDef, Obj, ParamDef, SchemaBuilder};
use usp_datamodel::value::ParamType as T;

fn ro(name: &str, ty: T) -> ParamDef {
    ParamDef::new(name, ty)
}

fn rw(name: &str, ty: T) -> ParamDef {
    ParamDef::new(name, ty).writable().persistent()
}

/// Declares the agent's own objects in `b`.
pub fn declare(b: &mut SchemaBuilder) {
    b.extend_object("Device.")
        .param(ro("RootDataModelVersion", T::String).default_value("2.19"))
        .event(
            EventDef::new("Boot!")
                .arg(ArgDef::new("CommandKey", T::String))
                .arg(ArgDef::new("Cause", T::String))
                .arg(ArgDef::new("FirmwareUpdated", T::Boolean))
                .arg(ArgDef::new("ParameterMap", T::String)),
        )
        .event(EventDef::new("Periodic!"));

    b.object("Device.DeviceInfo.", Obj::single())
        .param(ro("Manufacturer", T::String).max_len(64))
        .param(ro("ManufacturerOUI", T::String).max_len(6))
        .param(ro("ModelName", T::String).max_len(64))
        .param(ro("Description", T::String).max_len(256))
        .param(ro("ProductClass", T::String).max_len(64))
        .param(ro("SerialNumber", T::String).max_len(64))
        .param(ro("HardwareVersion", T::String).max_len(64))
        .param(ro("SoftwareVersion", T::String).max_len(64))
        .param(ro("UpTime", T::UnsignedInt).live().value_change_ignored());

    declare_local_agent(b);
    declare_mqtt_client(b);
}

fn declare_local_agent(b: &mut SchemaBuilder) {
    b.object("Device.LocalAgent.", Obj::single())
        .param(ro("EndpointID", T::String))
        .param(ro("SoftwareVersion", T::String).max_len(64))
        .param(ro("UpTime", T::UnsignedInt).live().value_change_ignored())
        .param(ro("SupportedProtocols", T::String).list())
        .param(ro("SupportedThresholdOperator", T::String).list())
        .param(ro("SupportedFingerprintAlgorithms", T::String).list());

    b.object(
        "Device.LocalAgent.MTP.{i}.",
        Obj::table()
            .key(&["Alias"])
            .key(&["Protocol"])
            .persistent_numbering(),
    )
    .param(ParamDef::alias())
    .param(ro("Enable", T::Boolean))
    .param(ro("Protocol", T::String).enumeration(&["CoAP", "STOMP", "WebSocket", "MQTT", "UDS"]))
    .param(ro("Status", T::String).enumeration(&["Up", "Down", "Error"]));
    b.object("Device.LocalAgent.MTP.{i}.WebSocket.", Obj::optional())
        .param(ro("Interfaces", T::String).list())
        .param(ro("Port", T::UnsignedInt).range(1, 65535))
        .param(ro("Path", T::String))
        .param(ro("EnableEncryption", T::Boolean))
        .param(ro("KeepAliveInterval", T::UnsignedInt));
    b.object("Device.LocalAgent.MTP.{i}.MQTT.", Obj::optional())
        .param(ro("Reference", T::String).reference())
        .param(ro("ResponseTopicConfigured", T::String))
        .param(ro("ResponseTopicDiscovered", T::String))
        .param(ro("PublishQoS", T::UnsignedInt).range(0, 2));

    b.object(
        "Device.LocalAgent.Controller.{i}.",
        Obj::table()
            .key(&["Alias"])
            .key(&["EndpointID"])
            .persistent(),
    )
    .param(ParamDef::alias().persistent())
    .param(rw("EndpointID", T::String).max_len(64))
    .param(rw("Enable", T::Boolean).default_value(true))
    .param(rw("AssignedRole", T::String).list().reference())
    .param(ro("InheritedRole", T::String).list().reference())
    .param(
        rw("PeriodicNotifInterval", T::UnsignedInt)
            .range(1, u32::MAX as i128)
            .default_value(86400u32),
    )
    .param(
        rw("USPNotifRetryMinimumWaitInterval", T::UnsignedInt)
            .range(1, 65535)
            .default_value(5u32),
    )
    .param(
        rw("USPNotifRetryIntervalMultiplier", T::UnsignedInt)
            .range(1000, 65535)
            .default_value(2000u32),
    );
    b.object(
        "Device.LocalAgent.Controller.{i}.MTP.{i}.",
        Obj::table().key(&["Alias"]).key(&["Protocol"]).persistent(),
    )
    .param(ParamDef::alias().persistent())
    .param(rw("Enable", T::Boolean).default_value(true))
    .param(rw("Protocol", T::String).enumeration(&[
        "CoAP",
        "STOMP",
        "WebSocket",
        "MQTT",
        "UDS",
    ]));
    b.object(
        "Device.LocalAgent.Controller.{i}.MTP.{i}.MQTT.",
        Obj::optional(),
    )
    .param(rw("Reference", T::String).reference())
    .param(rw("Topic", T::String));
    b.object(
        "Device.LocalAgent.Controller.{i}.MTP.{i}.WebSocket.",
        Obj::optional(),
    )
    .param(rw("Host", T::String).max_len(256))
    .param(rw("Port", T::UnsignedInt).range(1, 65535))
    .param(rw("Path", T::String))
    .param(rw("EnableEncryption", T::Boolean))
    .param(rw("KeepAliveInterval", T::UnsignedInt))
    .param(
        rw("SessionRetryMinimumWaitInterval", T::UnsignedInt)
            .range(1, 65535)
            .default_value(5u32),
    )
    .param(
        rw("SessionRetryIntervalMultiplier", T::UnsignedInt)
            .range(1000, 65535)
            .default_value(2000u32),
    );
    b.object(
        "Device.LocalAgent.Controller.{i}.BootParameter.{i}.",
        Obj::table()
            .key(&["Alias"])
            .key(&["ParameterName"])
            .add_delete()
            .persistent(),
    )
    .param(ParamDef::alias().persistent())
    .param(rw("Enable", T::Boolean))
    .param(rw("ParameterName", T::String));

    b.object(
        "Device.LocalAgent.Subscription.{i}.",
        Obj::table()
            .key(&["Alias"])
            .key(&["Recipient", "ID"])
            .add_delete()
            .persistent(),
    )
    .param(ParamDef::alias().persistent())
    .param(rw("Enable", T::Boolean))
    .param(ro("Recipient", T::String).reference().persistent())
    .param(rw("ID", T::String).max_len(256))
    .param(ro("CreationDate", T::DateTime).persistent())
    .param(rw("NotifType", T::String).enumeration(&[
        "ValueChange",
        "ObjectCreation",
        "ObjectDeletion",
        "OperationComplete",
        "Event",
    ]))
    .param(rw("ReferenceList", T::String).list())
    .param(rw("Persistent", T::Boolean))
    .param(rw("TimeToLive", T::UnsignedInt))
    .param(rw("NotifRetry", T::Boolean))
    .param(rw("NotifExpiration", T::UnsignedInt));

    b.object(
        "Device.LocalAgent.Request.{i}.",
        Obj::table().key(&["Alias"]),
    )
    .param(ParamDef::alias())
    .param(ro("Originator", T::String))
    .param(ro("Command", T::String).reference())
    .param(ro("CommandKey", T::String))
    .param(ro("Status", T::String).enumeration(&[
        "Requested",
        "Active",
        "Canceling",
        "Canceled",
        "Success",
        "Error",
    ]))
    .command(CommandDef::new("Cancel()"));

    b.object("Device.LocalAgent.ControllerTrust.", Obj::single())
        .param(ro("UntrustedRole", T::String).list().reference())
        .param(ro("BannedRole", T::String).list().reference());
    // Controllers with write access may define roles and permissions (TR-181 readWrite);
    // the rows persist, and the agent re-creates its two built-in roles if they are gone.
    b.object(
        "Device.LocalAgent.ControllerTrust.Role.{i}.",
        Obj::table()
            .key(&["Alias"])
            .key(&["Name"])
            .add_delete()
            .persistent(),
    )
    .param(ParamDef::alias().persistent())
    .param(rw("Enable", T::Boolean).default_value(false))
    .param(rw("Name", T::String).max_len(64));
    let perms = |name: &str| {
        rw(name, T::String)
            .max_len(4)
            .pattern(crate::access::PERMS_PATTERN)
            .default_value("----")
    };
    b.object(
        "Device.LocalAgent.ControllerTrust.Role.{i}.Permission.{i}.",
        Obj::table()
            .key(&["Alias"])
            .key(&["Order"])
            .add_delete()
            .persistent(),
    )
    .param(ParamDef::alias().persistent())
    .param(rw("Enable", T::Boolean).default_value(false))
    .param(rw("Order", T::UnsignedInt))
    .param(rw("Targets", T::String).list())
    .param(perms("Param"))
    .param(perms("Obj"))
    .param(perms("InstantiatedObj"))
    .param(perms("CommandEvent"));
}

fn declare_mqtt_client(b: &mut SchemaBuilder) {
    b.object("Device.MQTT.", Obj::single());
    b.object(
        "Device.MQTT.Client.{i}.",
        Obj::table().key(&["Alias"]).persistent_numbering(),
    )
    .param(ParamDef::alias())
    .param(ro("Name", T::String).max_len(64))
    // Writable, applied at once and stored by crate::mqtt_client (not as rows: the row is
    // rebuilt from the effective settings at every start).
    .param(ParamDef::new("Enable", T::Boolean).writable())
    .param(ro("Status", T::String).enumeration(&[
        "Connecting",
        "Connected",
        "Error_Misconfigured",
        "Error_BrokerUnreachable",
        "Error",
        "Disabled",
    ]))
    .param(ro("ProtocolVersion", T::String).enumeration(&["3.1", "3.1.1", "5.0"]))
    .param(
        ParamDef::new("BrokerAddress", T::String)
            .writable()
            .max_len(256),
    )
    .param(
        ParamDef::new("BrokerPort", T::UnsignedInt)
            .writable()
            .range(1, 65535),
    )
    .param(ro("TransportProtocol", T::String).enumeration(&[
        "TCP/IP",
        "TLS",
        "WebSocket",
        "WebSocketTLS",
    ]))
    .param(
        ParamDef::new("ClientID", T::String)
            .writable()
            .max_len(65535),
    )
    .param(ParamDef::new("Username", T::String).writable().max_len(256))
    .param(
        ParamDef::new("KeepAliveTime", T::UnsignedInt)
            .writable()
            .range(0, 65535),
    );
}
