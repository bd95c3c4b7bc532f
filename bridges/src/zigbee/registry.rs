//! The paired-device registry on disk: every device's addresses, descriptors, identity,
//! interview state and last attribute values, so a restart resumes without re-pairing or
//! re-interviewing. A TOML file written atomically (temp file + rename) after joins,
//! interviews and removals — not on every report, to spare SD cards.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::api::InterviewState;
use crate::zigbee::record::DeviceRecord;
use crate::zigbee::zcl::ZclValue;
use crate::zigbee::zdo::{NodeDescriptor, SimpleDescriptor};

/// Errors reading or writing the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// I/O failed.
    #[error("device registry {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a registry.
    #[error("device registry {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredNode {
    logical_type: u8,
    mac_capabilities: u8,
    manufacturer_code: u16,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredEndpoint {
    endpoint: u8,
    profile: u16,
    device_id: u16,
    device_version: u8,
    in_clusters: Vec<u16>,
    out_clusters: Vec<u16>,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredAttr {
    endpoint: u8,
    cluster: u16,
    attribute: u16,
    /// `b:true`, `u:123`, `i:-5`, `f:1.5`, `s:text`, `x:0a0b` (bytes), `n:` (no data).
    value: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct StoredDevice {
    ieee: String,
    nwk: u16,
    node: Option<StoredNode>,
    #[serde(default)]
    endpoints: Vec<StoredEndpoint>,
    #[serde(default)]
    manufacturer: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    firmware: String,
    power_source: Option<u8>,
    interview: InterviewState,
    #[serde(default)]
    attributes: Vec<StoredAttr>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RegistryFile {
    #[serde(default)]
    device: Vec<StoredDevice>,
}

fn value_to_string(v: &ZclValue) -> String {
    match v {
        ZclValue::None => "n:".into(),
        ZclValue::Bool(b) => format!("b:{b}"),
        ZclValue::Unsigned(u) => format!("u:{u}"),
        ZclValue::Signed(i) => format!("i:{i}"),
        ZclValue::Float(f) => format!("f:{f}"),
        ZclValue::String(s) => format!("s:{s}"),
        ZclValue::Bytes(b) => format!(
            "x:{}",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

fn value_from_string(s: &str) -> Option<ZclValue> {
    let (tag, v) = s.split_once(':')?;
    Some(match tag {
        "n" => ZclValue::None,
        "b" => ZclValue::Bool(v.parse().ok()?),
        "u" => ZclValue::Unsigned(v.parse().ok()?),
        "i" => ZclValue::Signed(v.parse().ok()?),
        "f" => ZclValue::Float(v.parse().ok()?),
        "s" => ZclValue::String(v.to_owned()),
        "x" if v.len() % 2 == 0 && v.is_ascii() => ZclValue::Bytes(
            (0..v.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&v[i..i + 2], 16))
                .collect::<Result<_, _>>()
                .ok()?,
        ),
        _ => return None,
    })
}

fn store(r: &DeviceRecord) -> StoredDevice {
    StoredDevice {
        ieee: format!("{:016x}", r.ieee),
        nwk: r.nwk,
        node: r.node.map(|n| StoredNode {
            logical_type: n.logical_type,
            mac_capabilities: n.mac_capabilities,
            manufacturer_code: n.manufacturer_code,
        }),
        endpoints: r
            .endpoints
            .iter()
            .map(|e| StoredEndpoint {
                endpoint: e.endpoint,
                profile: e.profile,
                device_id: e.device_id,
                device_version: e.device_version,
                in_clusters: e.in_clusters.clone(),
                out_clusters: e.out_clusters.clone(),
            })
            .collect(),
        manufacturer: r.manufacturer.clone(),
        model: r.model.clone(),
        firmware: r.firmware.clone(),
        power_source: r.power_source,
        interview: r.interview,
        attributes: r
            .cache
            .iter()
            .map(|(&(endpoint, cluster, attribute), v)| StoredAttr {
                endpoint,
                cluster,
                attribute,
                value: value_to_string(v),
            })
            .collect(),
    }
}

fn load_one(s: StoredDevice) -> Option<DeviceRecord> {
    let ieee = u64::from_str_radix(&s.ieee, 16).ok()?;
    let mut r = DeviceRecord::new(ieee, s.nwk);
    r.node = s.node.map(|n| NodeDescriptor {
        logical_type: n.logical_type,
        mac_capabilities: n.mac_capabilities,
        manufacturer_code: n.manufacturer_code,
    });
    r.endpoints = s
        .endpoints
        .into_iter()
        .map(|e| SimpleDescriptor {
            endpoint: e.endpoint,
            profile: e.profile,
            device_id: e.device_id,
            device_version: e.device_version,
            in_clusters: e.in_clusters,
            out_clusters: e.out_clusters,
        })
        .collect();
    r.manufacturer = s.manufacturer;
    r.model = s.model;
    r.firmware = s.firmware;
    r.power_source = s.power_source;
    // An interview cut short by the restart is resumed when the device next talks.
    r.interview = if s.interview == InterviewState::InProgress {
        InterviewState::Partial
    } else {
        s.interview
    };
    for a in s.attributes {
        if let Some(v) = value_from_string(&a.value) {
            r.cache.insert((a.endpoint, a.cluster, a.attribute), v);
        }
    }
    Some(r)
}

/// Loads the registry; a missing file is an empty registry.
pub fn load(path: &Path) -> Result<Vec<DeviceRecord>, RegistryError> {
    let p = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(RegistryError::Io { path: p, source }),
    };
    let file: RegistryFile = toml::from_str(&text).map_err(|e| RegistryError::Invalid {
        path: p.clone(),
        reason: e.to_string(),
    })?;
    let mut out = Vec::new();
    for d in file.device {
        let ieee = d.ieee.clone();
        match load_one(d) {
            Some(r) => out.push(r),
            None => tracing::warn!(path = %p, %ieee, "unreadable device entry skipped"),
        }
    }
    Ok(out)
}

/// Writes the registry atomically.
pub fn save<'a>(
    path: &Path,
    records: impl Iterator<Item = &'a DeviceRecord>,
) -> Result<(), RegistryError> {
    let p = path.display().to_string();
    let file = RegistryFile {
        device: records.map(store).collect(),
    };
    let text = toml::to_string(&file).map_err(|e| RegistryError::Invalid {
        path: p.clone(),
        reason: e.to_string(),
    })?;
    let tmp = path.with_extension("tmp");
    let io = |source| RegistryError::Io {
        path: p.clone(),
        source,
    };
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(text.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("devices.toml");
        let mut r = DeviceRecord::new(0x00124B0000000101, 0x1234);
        r.node = Some(NodeDescriptor {
            logical_type: 2,
            mac_capabilities: 0x80,
            manufacturer_code: 0x1037,
        });
        r.endpoints = vec![SimpleDescriptor {
            endpoint: 1,
            profile: 0x0104,
            device_id: 0x0302,
            device_version: 1,
            in_clusters: vec![0, 0x0402],
            out_clusters: vec![],
        }];
        r.model = "TH-1".into();
        r.interview = InterviewState::Complete;
        r.cache.insert((1, 0x0402, 0), ZclValue::Signed(-550));
        r.cache.insert((1, 0, 5), ZclValue::String("a:b".into()));
        r.cache
            .insert((1, 0x0B04, 0x050B), ZclValue::Unsigned(u64::MAX));
        save(&path, [&r].into_iter()).unwrap();
        assert_eq!(load(&path).unwrap(), vec![r]);
    }

    #[test]
    fn missing_file_is_empty_and_garbage_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(&dir.path().join("none.toml")).unwrap().is_empty());
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "device = 5").unwrap();
        assert!(matches!(load(&bad), Err(RegistryError::Invalid { .. })));
    }
}
