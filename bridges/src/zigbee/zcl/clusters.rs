//! ZCL clusters as data (ZCL r8 chapters 3-10): ids, attribute ids/types and the
//! cluster-specific commands the bridge sends or understands. Adding a cluster is adding a
//! table entry; the capability mapping in `zigbee::mapping` refers to these ids.

use super::types::ty;

/// Cluster ids.
pub mod id {
    /// Basic.
    pub const BASIC: u16 = 0x0000;
    /// Power Configuration.
    pub const POWER_CONFIG: u16 = 0x0001;
    /// Identify.
    pub const IDENTIFY: u16 = 0x0003;
    /// On/Off.
    pub const ON_OFF: u16 = 0x0006;
    /// Level Control.
    pub const LEVEL_CONTROL: u16 = 0x0008;
    /// Door Lock.
    pub const DOOR_LOCK: u16 = 0x0101;
    /// Window Covering.
    pub const WINDOW_COVERING: u16 = 0x0102;
    /// Thermostat.
    pub const THERMOSTAT: u16 = 0x0201;
    /// Color Control.
    pub const COLOR_CONTROL: u16 = 0x0300;
    /// Illuminance Measurement.
    pub const ILLUMINANCE: u16 = 0x0400;
    /// Temperature Measurement.
    pub const TEMPERATURE: u16 = 0x0402;
    /// Pressure Measurement.
    pub const PRESSURE: u16 = 0x0403;
    /// Relative Humidity Measurement.
    pub const HUMIDITY: u16 = 0x0405;
    /// Occupancy Sensing.
    pub const OCCUPANCY: u16 = 0x0406;
    /// IAS Zone.
    pub const IAS_ZONE: u16 = 0x0500;
    /// Metering.
    pub const METERING: u16 = 0x0702;
    /// Electrical Measurement.
    pub const ELECTRICAL_MEASUREMENT: u16 = 0x0B04;
}

/// Basic cluster attribute ids read during the interview.
pub mod basic {
    /// ZCLVersion.
    pub const ZCL_VERSION: u16 = 0x0000;
    /// ManufacturerName.
    pub const MANUFACTURER_NAME: u16 = 0x0004;
    /// ModelIdentifier.
    pub const MODEL_IDENTIFIER: u16 = 0x0005;
    /// DateCode.
    pub const DATE_CODE: u16 = 0x0006;
    /// PowerSource (0x01 mains single phase, 0x03 battery, ...).
    pub const POWER_SOURCE: u16 = 0x0007;
    /// SWBuildID.
    pub const SW_BUILD_ID: u16 = 0x4000;
}

/// One attribute of a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeDef {
    /// Attribute id.
    pub id: u16,
    /// Name as the ZCL specification spells it.
    pub name: &'static str,
    /// Data type id.
    pub ty: u8,
    /// Writable by a client.
    pub writable: bool,
}

/// One cluster-specific command (client to server unless noted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandDef {
    /// Command id.
    pub id: u8,
    /// Name as the ZCL specification spells it.
    pub name: &'static str,
}

/// One cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterDef {
    /// Cluster id.
    pub id: u16,
    /// Name as the ZCL specification spells it.
    pub name: &'static str,
    /// Attributes the bridge knows.
    pub attributes: &'static [AttributeDef],
    /// Cluster-specific commands the bridge knows.
    pub commands: &'static [CommandDef],
}

const fn a(id: u16, name: &'static str, ty: u8, writable: bool) -> AttributeDef {
    AttributeDef {
        id,
        name,
        ty,
        writable,
    }
}

const fn c(id: u8, name: &'static str) -> CommandDef {
    CommandDef { id, name }
}

/// Every cluster the bridge knows.
pub const CLUSTERS: &[ClusterDef] = &[
    ClusterDef {
        id: id::BASIC,
        name: "Basic",
        attributes: &[
            a(0x0000, "ZCLVersion", ty::UINT8, false),
            a(0x0004, "ManufacturerName", ty::CHAR_STRING, false),
            a(0x0005, "ModelIdentifier", ty::CHAR_STRING, false),
            a(0x0006, "DateCode", ty::CHAR_STRING, false),
            a(0x0007, "PowerSource", ty::ENUM8, false),
            a(0x4000, "SWBuildID", ty::CHAR_STRING, false),
        ],
        commands: &[],
    },
    ClusterDef {
        id: id::POWER_CONFIG,
        name: "Power Configuration",
        attributes: &[
            a(0x0020, "BatteryVoltage", ty::UINT8, false),
            a(0x0021, "BatteryPercentageRemaining", ty::UINT8, false),
        ],
        commands: &[],
    },
    ClusterDef {
        id: id::IDENTIFY,
        name: "Identify",
        attributes: &[a(0x0000, "IdentifyTime", ty::UINT16, true)],
        commands: &[c(0x00, "Identify")],
    },
    ClusterDef {
        id: id::ON_OFF,
        name: "On/Off",
        attributes: &[a(0x0000, "OnOff", ty::BOOL, false)],
        commands: &[c(0x00, "Off"), c(0x01, "On"), c(0x02, "Toggle")],
    },
    ClusterDef {
        id: id::LEVEL_CONTROL,
        name: "Level Control",
        attributes: &[a(0x0000, "CurrentLevel", ty::UINT8, false)],
        commands: &[
            c(0x00, "Move to Level"),
            c(0x02, "Step"),
            c(0x04, "Move to Level (with On/Off)"),
            c(0x06, "Step (with On/Off)"),
        ],
    },
    ClusterDef {
        id: id::DOOR_LOCK,
        name: "Door Lock",
        attributes: &[a(0x0000, "LockState", ty::ENUM8, false)],
        commands: &[c(0x00, "Lock Door"), c(0x01, "Unlock Door")],
    },
    ClusterDef {
        id: id::WINDOW_COVERING,
        name: "Window Covering",
        attributes: &[a(0x0008, "CurrentPositionLiftPercentage", ty::UINT8, false)],
        commands: &[
            c(0x00, "Up / Open"),
            c(0x01, "Down / Close"),
            c(0x02, "Stop"),
            c(0x05, "Go To Lift Percentage"),
        ],
    },
    ClusterDef {
        id: id::THERMOSTAT,
        name: "Thermostat",
        attributes: &[
            a(0x0000, "LocalTemperature", ty::INT16, false),
            a(0x0012, "OccupiedHeatingSetpoint", ty::INT16, true),
        ],
        commands: &[],
    },
    ClusterDef {
        id: id::COLOR_CONTROL,
        name: "Color Control",
        attributes: &[
            a(0x0000, "CurrentHue", ty::UINT8, false),
            a(0x0001, "CurrentSaturation", ty::UINT8, false),
            a(0x0003, "CurrentX", ty::UINT16, false),
            a(0x0004, "CurrentY", ty::UINT16, false),
            a(0x0007, "ColorTemperatureMireds", ty::UINT16, false),
        ],
        commands: &[
            c(0x06, "Move to Hue and Saturation"),
            c(0x07, "Move to Color"),
            c(0x0A, "Move to Color Temperature"),
        ],
    },
    ClusterDef {
        id: id::ILLUMINANCE,
        name: "Illuminance Measurement",
        attributes: &[a(0x0000, "MeasuredValue", ty::UINT16, false)],
        commands: &[],
    },
    ClusterDef {
        id: id::TEMPERATURE,
        name: "Temperature Measurement",
        attributes: &[a(0x0000, "MeasuredValue", ty::INT16, false)],
        commands: &[],
    },
    ClusterDef {
        id: id::PRESSURE,
        name: "Pressure Measurement",
        attributes: &[a(0x0000, "MeasuredValue", ty::INT16, false)],
        commands: &[],
    },
    ClusterDef {
        id: id::HUMIDITY,
        name: "Relative Humidity Measurement",
        attributes: &[a(0x0000, "MeasuredValue", ty::UINT16, false)],
        commands: &[],
    },
    ClusterDef {
        id: id::OCCUPANCY,
        name: "Occupancy Sensing",
        attributes: &[a(0x0000, "Occupancy", ty::BITMAP8, false)],
        commands: &[],
    },
    ClusterDef {
        id: id::IAS_ZONE,
        name: "IAS Zone",
        attributes: &[
            a(0x0000, "ZoneState", ty::ENUM8, false),
            a(0x0001, "ZoneType", ty::ENUM16, false),
            a(0x0002, "ZoneStatus", ty::BITMAP16, false),
            a(0x0010, "IAS_CIE_Address", ty::IEEE, true),
        ],
        commands: &[c(0x00, "Zone Enroll Response")],
    },
    ClusterDef {
        id: id::METERING,
        name: "Metering",
        attributes: &[
            a(0x0000, "CurrentSummationDelivered", ty::UINT48, false),
            a(0x0301, "Multiplier", ty::UINT24, false),
            a(0x0302, "Divisor", ty::UINT24, false),
            a(0x0400, "InstantaneousDemand", ty::INT24, false),
        ],
        commands: &[],
    },
    ClusterDef {
        id: id::ELECTRICAL_MEASUREMENT,
        name: "Electrical Measurement",
        attributes: &[
            a(0x0505, "RMSVoltage", ty::UINT16, false),
            a(0x0508, "RMSCurrent", ty::UINT16, false),
            a(0x050B, "ActivePower", ty::INT16, false),
            a(0x0600, "ACVoltageMultiplier", ty::UINT16, false),
            a(0x0601, "ACVoltageDivisor", ty::UINT16, false),
            a(0x0602, "ACCurrentMultiplier", ty::UINT16, false),
            a(0x0603, "ACCurrentDivisor", ty::UINT16, false),
            a(0x0604, "ACPowerMultiplier", ty::UINT16, false),
            a(0x0605, "ACPowerDivisor", ty::UINT16, false),
        ],
        commands: &[],
    },
];

/// The definition of cluster `id`, if the table has it.
pub fn cluster(id: u16) -> Option<&'static ClusterDef> {
    CLUSTERS.iter().find(|c| c.id == id)
}

/// The definition of attribute `attr` of cluster `cluster`.
pub fn attribute(cluster_id: u16, attr: u16) -> Option<&'static AttributeDef> {
    cluster(cluster_id)?
        .attributes
        .iter()
        .find(|a| a.id == attr)
}

/// A readable cluster name, or its id in hex when unknown.
pub fn cluster_name(id: u16) -> String {
    cluster(id).map_or_else(|| format!("{id:#06x}"), |c| c.name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_and_attribute_ids_are_unique() {
        for (i, c) in CLUSTERS.iter().enumerate() {
            assert!(CLUSTERS[i + 1..].iter().all(|o| o.id != c.id), "{}", c.name);
            for (j, a) in c.attributes.iter().enumerate() {
                assert!(
                    c.attributes[j + 1..].iter().all(|o| o.id != a.id),
                    "{}.{}",
                    c.name,
                    a.name
                );
            }
        }
    }

    #[test]
    fn lookups_find_table_entries_and_name_unknown_ids() {
        assert_eq!(attribute(id::TEMPERATURE, 0).map(|a| a.ty), Some(ty::INT16));
        assert_eq!(cluster_name(id::ON_OFF), "On/Off");
        assert_eq!(cluster_name(0xFC00), "0xfc00");
    }
}
