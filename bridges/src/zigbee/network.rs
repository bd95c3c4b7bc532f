//! The host's copy of the network parameters (PAN id, extended PAN id, channel, network key):
//! generated once at random, persisted in a TOML file readable by its owner only (mode 0600,
//! written atomically), and handed to the backend to resume or form the network.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::backend::NetworkSettings;

/// Errors loading or saving the network file.
#[derive(Debug, thiserror::Error)]
pub enum NetworkFileError {
    /// Reading or writing failed.
    #[error("network file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file does not hold valid settings.
    #[error("network file {path}: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// What the configuration may fix; unset values are chosen at random on first start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Channel 11-26 (default 15).
    pub channel: Option<u8>,
    /// PAN id.
    pub pan_id: Option<u16>,
    /// Extended PAN id.
    pub extended_pan_id: Option<u64>,
    /// Network key.
    pub network_key: Option<[u8; 16]>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    pan_id: String,
    extended_pan_id: String,
    channel: u8,
    network_key: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn random_bytes<const N: usize>() -> std::io::Result<[u8; N]> {
    let mut b = [0u8; N];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut b)?;
    Ok(b)
}

/// Reads the settings file, or creates it from `config` and random values.
pub fn load_or_create(
    path: &Path,
    config: &NetworkConfig,
) -> Result<NetworkSettings, NetworkFileError> {
    let p = path.display().to_string();
    let io = |source| NetworkFileError::Io {
        path: p.clone(),
        source,
    };
    let invalid = |reason: &str| NetworkFileError::Invalid {
        path: p.clone(),
        reason: reason.to_owned(),
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let f: File = toml::from_str(&text).map_err(|e| invalid(&e.to_string()))?;
            let pan =
                unhex::<2>(&f.pan_id).ok_or_else(|| invalid("pan_id must be 4 hex digits"))?;
            let ext = unhex::<8>(&f.extended_pan_id)
                .ok_or_else(|| invalid("extended_pan_id must be 16 hex digits"))?;
            let key = unhex::<16>(&f.network_key)
                .ok_or_else(|| invalid("network_key must be 32 hex digits"))?;
            if !(11..=26).contains(&f.channel) {
                return Err(invalid("channel must be 11-26"));
            }
            Ok(NetworkSettings {
                pan_id: u16::from_be_bytes(pan),
                extended_pan_id: u64::from_be_bytes(ext),
                channel: f.channel,
                network_key: key,
            })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let rnd: [u8; 26] = random_bytes().map_err(io)?;
            let mut pan = u16::from_le_bytes([rnd[0], rnd[1]]) % 0xFFF0;
            if pan == 0 {
                pan = 1;
            }
            let mut key = [0u8; 16];
            key.copy_from_slice(&rnd[10..26]);
            let mut ext = [0u8; 8];
            ext.copy_from_slice(&rnd[2..10]);
            let s = NetworkSettings {
                pan_id: config.pan_id.unwrap_or(pan),
                extended_pan_id: config.extended_pan_id.unwrap_or(u64::from_le_bytes(ext)),
                channel: config.channel.unwrap_or(15),
                network_key: config.network_key.unwrap_or(key),
            };
            save(path, &s)?;
            Ok(s)
        }
        Err(e) => Err(io(e)),
    }
}

/// Writes the settings atomically with mode 0600.
pub fn save(path: &Path, s: &NetworkSettings) -> Result<(), NetworkFileError> {
    let io = |source| NetworkFileError::Io {
        path: path.display().to_string(),
        source,
    };
    let f = File {
        pan_id: hex(&s.pan_id.to_be_bytes()),
        extended_pan_id: hex(&s.extended_pan_id.to_be_bytes()),
        channel: s.channel,
        network_key: hex(&s.network_key),
    };
    let text = toml::to_string(&f).map_err(|e| NetworkFileError::Invalid {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    // A pre-existing temp file keeps its old mode; force 0600 before the key is written.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))
        .map_err(io)?;
    file.write_all(b"# Zigbee network parameters: keep secret, keep with the paired devices.\n")
        .map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_created_once_with_mode_0600_and_reloaded_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zigbee-network.toml");
        let cfg = NetworkConfig {
            channel: Some(20),
            ..Default::default()
        };
        let first = load_or_create(&path, &cfg).unwrap();
        assert_eq!(first.channel, 20);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let second = load_or_create(&path, &NetworkConfig::default()).unwrap();
        assert_eq!(first, second);
    }

    #[test]
    fn configured_values_win_over_random_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.toml");
        let cfg = NetworkConfig {
            channel: Some(25),
            pan_id: Some(0x1234),
            extended_pan_id: Some(7),
            network_key: Some([9; 16]),
        };
        let s = load_or_create(&path, &cfg).unwrap();
        assert_eq!(
            s,
            NetworkSettings {
                pan_id: 0x1234,
                extended_pan_id: 7,
                channel: 25,
                network_key: [9; 16]
            }
        );
    }

    #[test]
    fn malformed_file_is_an_error_not_a_new_network() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.toml");
        std::fs::write(
            &path,
            "pan_id = \"zz\"\nextended_pan_id = \"00\"\nchannel = 15\nnetwork_key = \"00\"\n",
        )
        .unwrap();
        assert!(matches!(
            load_or_create(&path, &NetworkConfig::default()),
            Err(NetworkFileError::Invalid { .. })
        ));
    }
}
