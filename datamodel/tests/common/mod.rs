//! A small schema shaped like the parts of TR-181 the tests need: LocalAgent tables,
//! IP interfaces with statistics and references, DeviceInfo with a live parameter, a
//! command and an event.
#![allow(dead_code)]

use usp_datamodel::{
    Access, AddObject, AddRequest, ArgDef, CommandDef, DataModel, EventDef, InitValue, Obj,
    ParamDef, ParamSetting, ParamType, Schema, SchemaBuilder, SetObject, SetRequest,
};

pub fn declare(b: &mut SchemaBuilder) {
    let s = |n: &str| ParamDef::new(n, ParamType::String);
    b.object("Device.DeviceInfo.", Obj::single())
        .param(s("Manufacturer"))
        .param(
            ParamDef::new("UpTime", ParamType::UnsignedInt)
                .live()
                .value_change_ignored(),
        );
    b.extend_object("Device.")
        .command(
            CommandDef::new("Reboot()")
                .input(ArgDef::new("Cause", ParamType::String).mandatory())
                .output(ArgDef::new("Status", ParamType::String)),
        )
        .command(
            CommandDef::new("SelfTest()")
                .asynchronous()
                .input(ArgDef::new("Rounds", ParamType::UnsignedInt).range(1, 10)),
        )
        .event(EventDef::new("Boot!").arg(ArgDef::new("Cause", ParamType::String)));
    b.object("Device.LocalAgent.", Obj::single())
        .param(s("EndpointID"));
    b.object(
        "Device.LocalAgent.Subscription.{i}.",
        Obj::table()
            .key(&["Alias"])
            .key(&["ID"])
            .add_delete()
            .persistent()
            .max_entries(50),
    )
    .param(ParamDef::alias())
    .param(
        ParamDef::new("Enable", ParamType::Boolean)
            .writable()
            .persistent(),
    )
    .param(
        s("ID")
            .access(Access::WriteOnceReadOnly)
            .max_len(64)
            .persistent(),
    )
    .param(s("NotifType").writable().persistent().enumeration(&[
        "ValueChange",
        "ObjectCreation",
        "ObjectDeletion",
        "OperationComplete",
        "Event",
    ]))
    .param(s("ReferenceList").list().writable().persistent())
    .param(
        ParamDef::new("TimeToLive", ParamType::UnsignedInt)
            .writable()
            .persistent()
            .range(0, 86_400),
    )
    .param(s("Secret").access(Access::WriteOnly).persistent());
    b.object(
        "Device.LocalAgent.Subscription.{i}.X_USPHUB_Extra.",
        Obj::optional(),
    )
    .param(s("Note").writable().persistent());
    b.object(
        "Device.LocalAgent.Controller.{i}.",
        Obj::table().key(&["EndpointID"]).add_delete(),
    )
    .param(ParamDef::alias())
    .param(s("EndpointID").writable())
    .param(ParamDef::new("Enable", ParamType::Boolean).writable());
    b.object(
        "Device.LocalAgent.Controller.{i}.MTP.{i}.",
        Obj::table().key(&["Alias"]).add_delete(),
    )
    .param(ParamDef::alias())
    .param(s("Protocol").writable().enumeration(&["MQTT", "WebSocket"]));
    b.object("Device.IP.", Obj::single());
    b.object(
        "Device.IP.Interface.{i}.",
        Obj::table().key(&["Alias"]).add_delete(),
    )
    .param(ParamDef::alias())
    .param(ParamDef::new("Enable", ParamType::Boolean).writable())
    .param(s("Name").writable().max_len(16))
    .param(s("LowerLayers").list().writable().reference())
    .param(
        ParamDef::new("MTU", ParamType::UnsignedInt)
            .writable()
            .range(64, 9000),
    )
    .param(ParamDef::mac_address("MACAddress").writable())
    .param(ParamDef::new("Updated", ParamType::DateTime).writable())
    .param(ParamDef::new("Weight", ParamType::Decimal).writable());
    b.object("Device.IP.Interface.{i}.Stats.", Obj::single())
        .param(ParamDef::new("BytesSent", ParamType::UnsignedLong));
    b.object("Device.NAT.", Obj::single());
    b.object(
        "Device.NAT.PortMapping.{i}.",
        Obj::table().key(&["Alias"]).add_delete(),
    )
    .param(ParamDef::alias())
    .param(s("Interface").writable().reference())
    .param(s("Description").writable());
}

pub fn schema() -> Schema {
    let mut b = Schema::builder();
    declare(&mut b);
    b.build().expect("test schema")
}

pub fn t(s: &str) -> InitValue {
    InitValue::Text(s.to_owned())
}

/// A model with two IP interfaces (eth0 enabled, wlan0 disabled), a port mapping on
/// each, two controllers with MTPs.
pub async fn populated() -> DataModel {
    let dm = DataModel::new(schema());
    fill(&dm).await;
    dm
}

pub async fn fill(dm: &DataModel) {
    let v = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), t(v)))
            .collect::<Vec<_>>()
    };
    dm.create_instance(
        "Device.IP.Interface.",
        None,
        v(&[
            ("Name", "eth0"),
            ("Enable", "true"),
            ("MTU", "1500"),
            ("LowerLayers", ""),
        ]),
    )
    .await
    .unwrap();
    dm.create_instance(
        "Device.IP.Interface.",
        None,
        v(&[
            ("Name", "wlan0"),
            ("Enable", "false"),
            ("MTU", "1400"),
            ("LowerLayers", "Device.IP.Interface.1."),
        ]),
    )
    .await
    .unwrap();
    dm.set_value("Device.IP.Interface.1.Stats.BytesSent", "5000")
        .await
        .unwrap();
    dm.set_value("Device.IP.Interface.2.Stats.BytesSent", "10")
        .await
        .unwrap();
    dm.create_instance(
        "Device.NAT.PortMapping.",
        None,
        v(&[
            ("Interface", "Device.IP.Interface.1."),
            ("Description", "web"),
        ]),
    )
    .await
    .unwrap();
    dm.create_instance(
        "Device.NAT.PortMapping.",
        None,
        v(&[
            ("Interface", "Device.IP.Interface.2"),
            ("Description", "cam"),
        ]),
    )
    .await
    .unwrap();
    for ep in ["ctrl-a", "ctrl-b"] {
        let p = dm
            .create_instance(
                "Device.LocalAgent.Controller.",
                None,
                v(&[("EndpointID", ep), ("Enable", "true")]),
            )
            .await
            .unwrap();
        dm.create_instance(&format!("{p}MTP."), None, v(&[("Protocol", "MQTT")]))
            .await
            .unwrap();
    }
}

pub fn set_req(allow_partial: bool, objs: &[(&str, Vec<ParamSetting>)]) -> SetRequest {
    SetRequest {
        allow_partial,
        objects: objs
            .iter()
            .map(|(p, params)| SetObject {
                obj_path: p.to_string(),
                params: params.clone(),
            })
            .collect(),
    }
}

pub fn add_req(allow_partial: bool, objs: &[(&str, Vec<ParamSetting>)]) -> AddRequest {
    AddRequest {
        allow_partial,
        objects: objs
            .iter()
            .map(|(p, params)| AddObject {
                obj_path: p.to_string(),
                params: params.clone(),
            })
            .collect(),
    }
}

pub fn req(n: &str, v: &str) -> ParamSetting {
    ParamSetting::required(n, v)
}
