//! `Device.ProxiedDevice.{i}.` as TR-181 defines it (the USP root's ProxiedDevice table with
//! the IoT model's Node and IoTCapability objects mounted below it), plus the project's
//! vendor extensions (`X_USPHUB_`): the device's radio identity and the bridges' pairing
//! controls in `Device.X_USPHUB_Bridge.{i}.`.

use usp_datamodel::schema::{ArgDef, CommandDef, EventDef, Obj, ParamDef, SchemaBuilder, iot};
use usp_datamodel::value::ParamType as T;

/// The project's vendor prefix (TR-106 vendor extension naming).
pub const VENDOR: &str = "X_USPHUB_";
/// The table every bridged device is mounted in.
pub const TABLE: &str = "Device.ProxiedDevice.";
/// The pairing/bridge table.
pub const BRIDGE_TABLE: &str = "Device.X_USPHUB_Bridge.";

fn ro(name: &str, ty: T) -> ParamDef {
    ParamDef::new(name, ty)
}

/// Declares the ProxiedDevice subtree (the data model's TR-181 IoT declaration) with the
/// project's vendor parameters, commands and event, and the vendor bridge table.
pub fn declare(b: &mut SchemaBuilder) {
    iot::declare(b);
    let mut protocols = iot::PROXY_PROTOCOLS.to_vec();
    // TR-181 allows vendor values in ProxyProtocol; BLE has no standard one.
    protocols.push(usphub_bridges::api::PROXY_PROTOCOL_BLE);
    b.extend_object(iot::PROXIED_DEVICE)
        .param(ro("ProxyProtocol", T::String).enumeration(&protocols))
        .param(ParamDef::alias().persistent())
        .param(ro("X_USPHUB_Address", T::String))
        .param(ro("X_USPHUB_Manufacturer", T::String))
        .param(ro("X_USPHUB_Model", T::String))
        .param(ro("X_USPHUB_Firmware", T::String))
        .param(ro("X_USPHUB_PowerSource", T::String))
        .param(ro("X_USPHUB_InterviewState", T::String))
        .param(ro("X_USPHUB_Commands", T::String).list())
        .command(
            CommandDef::new("X_USPHUB_Remove()")
                .asynchronous()
                .input(ArgDef::new("Force", T::Boolean)),
        )
        .command(
            CommandDef::new("X_USPHUB_Refresh()")
                .asynchronous()
                .input(ArgDef::new("Reinterview", T::Boolean)),
        )
        // Radio-specific commands; X_USPHUB_Commands lists those a device accepts.
        .command(
            CommandDef::new("X_USPHUB_Identify()")
                .asynchronous()
                .input(ArgDef::new("Seconds", T::UnsignedInt).range(0, 65535)),
        )
        .command(
            CommandDef::new("X_USPHUB_ConfigGet()")
                .asynchronous()
                .input(
                    ArgDef::new("Parameter", T::UnsignedInt)
                        .range(1, 255)
                        .mandatory(),
                )
                .output(ArgDef::new("Value", T::Int)),
        )
        .command(
            CommandDef::new("X_USPHUB_ConfigSet()")
                .asynchronous()
                .input(
                    ArgDef::new("Parameter", T::UnsignedInt)
                        .range(1, 255)
                        .mandatory(),
                )
                .input(ArgDef::new("Value", T::Int).mandatory()),
        )
        .command(CommandDef::new("X_USPHUB_ReplaceFailedNode()").asynchronous())
        .event(
            EventDef::new("X_USPHUB_Event!")
                .arg(ArgDef::new("Name", T::String))
                .arg(ArgDef::new("Capability", T::String))
                .arg(ArgDef::new("Arguments", T::String)),
        );
    for cap in [
        "Device.ProxiedDevice.{i}.IoTCapability.{i}.",
        "Device.ProxiedDevice.{i}.Node.{i}.IoTCapability.{i}.",
    ] {
        b.extend_object(cap).param(ro("X_USPHUB_Id", T::String));
    }

    b.object(
        "Device.X_USPHUB_Bridge.{i}.",
        Obj::table().key(&["Alias"]).key(&["Protocol"]),
    )
    .param(ParamDef::alias())
    .param(ro("Protocol", T::String))
    .param(ro("Status", T::String).enumeration(&["Up", "Down"]))
    .param(ro("StatusDetail", T::String))
    .param(ro("PermitJoinRemaining", T::UnsignedInt))
    // The radio and its network as the radio reports them (never a key).
    .param(ro("Firmware", T::String))
    .param(ro("Address", T::String))
    .param(ro("Channel", T::UnsignedInt))
    .param(ro("PANId", T::String))
    .param(ro("ExtendedPANId", T::String))
    .param(ro("HomeId", T::String))
    .param(ro("DeviceCount", T::UnsignedInt))
    .command(
        CommandDef::new("PermitJoin()")
            .asynchronous()
            .input(ArgDef::new("Duration", T::UnsignedInt).range(0, 254)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendor_command_the_provider_runs_is_declared_on_the_device_row_and_no_other() {
        let dm = usp_datamodel::DataModel::new(crate::agent::build_schema().unwrap());
        let row = format!("{TABLE}{{i}}.");
        let opts = usp_datamodel::ops::SupportedDmOptions {
            first_level_only: true,
            return_commands: true,
            return_events: false,
            return_params: false,
            return_unique_key_sets: false,
        };
        let objs = dm
            .get_supported_dm(&[row.as_str()], opts)
            .remove(0)
            .unwrap();
        let device = objs.iter().find(|o| o.path == row).expect("the row");
        // Remove and Refresh are the proxy's own; the others go to the bridge by name.
        let mut to_bridge: Vec<String> = device
            .commands
            .iter()
            .map(|c| c.name.clone())
            .filter(|n| n.starts_with(VENDOR))
            .filter(|n| n != "X_USPHUB_Remove()" && n != "X_USPHUB_Refresh()")
            .collect();
        to_bridge.sort();
        let mut runs: Vec<String> = super::super::provider::VENDOR_COMMANDS
            .iter()
            .map(|n| format!("{VENDOR}{n}()"))
            .collect();
        runs.sort();
        assert_eq!(to_bridge, runs);
    }
}
