//! TOML scenarios for the simulators: which virtual devices exist, whether they are already
//! paired or join when joining is permitted, and scripted attribute reports.
//!
//! ```toml
//! [[device]]
//! preset = "temperature_humidity"      # see presets::PRESETS
//! ieee = "00124b0000000101"
//! nwk = 0x1001                         # optional
//! manufacturer = "usphub"              # optional
//! model = "SIM-TH"                     # optional
//! join = "on_permit"                   # or "paired" (already in the network)
//! [[device.report]]
//! after_ms = 2000                      # after joining (repeats every `every_ms` if set)
//! endpoint = 1
//! cluster = 0x0402
//! attribute = 0x0000
//! value = 2210                         # integer, float or boolean
//! ```
//!
//! A device may also `silent_after_ms = N` (stop answering N ms after joining) and
//! `leave_after_ms = N` (leave the network by itself).

use serde::Deserialize;

use super::device::VirtualDevice;
use super::presets;
use crate::zigbee::zcl::ZclValue;

/// Errors loading a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not valid TOML or not the expected shape.
    #[error("scenario syntax: {0}")]
    Syntax(#[from] toml::de::Error),
    /// A value is not acceptable.
    #[error("scenario: {0}")]
    Invalid(String),
    /// The file could not be read.
    #[error("scenario file: {0}")]
    Io(#[from] std::io::Error),
}

/// When a device joins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum JoinMode {
    /// Joins the first time joining is permitted.
    #[default]
    OnPermit,
    /// Already in the network when the simulator starts.
    Paired,
}

/// A scripted attribute report.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedReport {
    /// Delay after joining (or start, for paired devices).
    pub after_ms: u64,
    /// Repeat period, if any.
    pub every_ms: Option<u64>,
    /// Endpoint.
    pub endpoint: u8,
    /// Cluster.
    pub cluster: u16,
    /// Attribute.
    pub attribute: u16,
    /// New value.
    pub value: toml::Value,
}

impl ScriptedReport {
    /// The value as a ZCL value.
    pub fn zcl_value(&self) -> Option<ZclValue> {
        Some(match &self.value {
            toml::Value::Boolean(b) => ZclValue::Bool(*b),
            toml::Value::Integer(i) if *i >= 0 => ZclValue::Unsigned(*i as u64),
            toml::Value::Integer(i) => ZclValue::Signed(*i),
            toml::Value::Float(f) => ZclValue::Float(*f),
            toml::Value::String(s) => ZclValue::String(s.clone()),
            _ => return None,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceEntry {
    preset: String,
    ieee: String,
    nwk: Option<u16>,
    manufacturer: Option<String>,
    model: Option<String>,
    #[serde(default)]
    join: JoinMode,
    #[serde(default)]
    report: Vec<ScriptedReport>,
    silent_after_ms: Option<u64>,
    leave_after_ms: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    #[serde(default)]
    device: Vec<DeviceEntry>,
}

/// One scripted device.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioDevice {
    /// The device model.
    pub device: VirtualDevice,
    /// When it joins.
    pub join: JoinMode,
    /// Its scripted reports.
    pub reports: Vec<ScriptedReport>,
    /// Stops answering this long after joining (a dead battery).
    pub silent_after_ms: Option<u64>,
    /// Leaves the network by itself this long after joining.
    pub leave_after_ms: Option<u64>,
}

/// A parsed scenario.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scenario {
    /// The devices.
    pub devices: Vec<ScenarioDevice>,
}

fn parse_ieee(s: &str) -> Option<u64> {
    let hex: String = s
        .trim_start_matches("0x")
        .chars()
        .filter(|c| *c != ':' && *c != '-')
        .collect();
    if hex.len() != 16 {
        return None;
    }
    u64::from_str_radix(&hex, 16).ok()
}

impl Scenario {
    /// Parses scenario text.
    pub fn parse(text: &str) -> Result<Self, ScenarioError> {
        let file: ScenarioFile = toml::from_str(text)?;
        let mut devices = Vec::new();
        for (n, d) in file.device.into_iter().enumerate() {
            let ieee = parse_ieee(&d.ieee)
                .ok_or_else(|| ScenarioError::Invalid(format!("bad ieee {:?}", d.ieee)))?;
            let nwk = d.nwk.unwrap_or(0x1000 + n as u16);
            if nwk == 0 || nwk >= 0xFFF8 {
                return Err(ScenarioError::Invalid(format!(
                    "nwk {nwk:#06x} is reserved"
                )));
            }
            let manufacturer = d.manufacturer.as_deref().unwrap_or("usphub");
            let model = d
                .model
                .unwrap_or_else(|| format!("SIM-{}", d.preset.to_uppercase()));
            let device =
                presets::build(&d.preset, ieee, nwk, manufacturer, &model).ok_or_else(|| {
                    ScenarioError::Invalid(format!(
                        "unknown preset {:?} (known: {})",
                        d.preset,
                        presets::PRESETS.join(", ")
                    ))
                })?;
            for r in &d.report {
                if device
                    .attribute(r.endpoint, r.cluster, r.attribute)
                    .is_none()
                    || r.zcl_value().is_none()
                {
                    return Err(ScenarioError::Invalid(format!(
                        "device {}: report of unknown attribute {:#06x}/{:#06x} or bad value",
                        d.ieee, r.cluster, r.attribute
                    )));
                }
            }
            devices.push(ScenarioDevice {
                device,
                join: d.join,
                reports: d.report,
                silent_after_ms: d.silent_after_ms,
                leave_after_ms: d.leave_after_ms,
            });
        }
        Ok(Scenario { devices })
    }

    /// Reads and parses a scenario file.
    pub fn load(path: &std::path::Path) -> Result<Self, ScenarioError> {
        Self::parse(&std::fs::read_to_string(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_with_three_presets_parses() {
        let s = Scenario::parse(
            r#"
            [[device]]
            preset = "plug"
            ieee = "00:12:4b:00:00:00:00:01"
            join = "paired"
            [[device]]
            preset = "temperature_humidity"
            ieee = "00124b0000000002"
            nwk = 0x2002
            [[device.report]]
            after_ms = 100
            endpoint = 1
            cluster = 0x0402
            attribute = 0
            value = 2210
            [[device]]
            preset = "dimmable_bulb"
            ieee = "00124b0000000003"
            "#,
        )
        .unwrap();
        assert_eq!(s.devices.len(), 3);
        assert_eq!(s.devices[0].join, JoinMode::Paired);
        assert_eq!(s.devices[1].device.nwk, 0x2002);
        assert_eq!(
            s.devices[1].reports[0].zcl_value(),
            Some(ZclValue::Unsigned(2210))
        );
    }

    #[test]
    fn unknown_preset_and_bad_report_are_rejected() {
        let e = Scenario::parse("[[device]]\npreset = \"toaster\"\nieee = \"00124b0000000002\"\n")
            .unwrap_err();
        assert!(e.to_string().contains("toaster"));
        let e = Scenario::parse(
            "[[device]]\npreset = \"plug\"\nieee = \"00124b0000000002\"\n[[device.report]]\nafter_ms = 1\nendpoint = 1\ncluster = 0x0402\nattribute = 0\nvalue = 1\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown attribute"));
    }
}
