//! Simulator scenarios (TOML): the network's home id and its virtual nodes.
//!
//! ```toml
//! home_id = 0xc0ffee01
//! live = true                 # sleeping nodes wake up and report on their own
//!
//! [[node]]
//! id = 2
//! kind = "binary_switch"      # binary_switch | dimmer | multisensor | double_switch |
//!                             # button | thermostat | door_lock
//!
//! [[node]]
//! id = 5
//! kind = "dimmer"
//! included = false            # joins at the next inclusion instead of at start
//! ```

use serde::Deserialize;

use super::node::{NodeKind, VirtualNode};

/// Largest scenario file accepted.
pub const MAX_SCENARIO_BYTES: usize = 64 * 1024;

/// A scenario as read from TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The network's home id.
    #[serde(default = "default_home_id")]
    pub home_id: u32,
    /// Nodes act on their own: sleeping nodes wake up at their interval (the first time
    /// within 10 s) and report their sensors when awake. Off for deterministic tests.
    #[serde(default)]
    pub live: bool,
    /// S0 network key (32 hex digits) that secure nodes already included at start know.
    #[serde(default)]
    pub network_key: Option<String>,
    /// Virtual nodes.
    #[serde(default, rename = "node")]
    pub nodes: Vec<NodeSpec>,
}

/// The S0 key of [`Scenario::demo`] (configure the bridge with the same key).
pub const DEMO_NETWORK_KEY: [u8; 16] = [
    0x9A, 0x1B, 0x3C, 0x4D, 0x5E, 0x6F, 0x70, 0x81, 0x92, 0xA3, 0xB4, 0xC5, 0xD6, 0xE7, 0xF8, 0x09,
];

/// Parses 32 hex digits into a key.
pub fn parse_key(hex: &str) -> Option<[u8; 16]> {
    let hex = hex.trim();
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut k = [0u8; 16];
    for (i, b) in k.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(k)
}

/// One virtual node.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    /// Node id (2-232; 1 is the controller).
    pub id: u8,
    /// What it is.
    pub kind: NodeKind,
    /// In the network at start (`true`) or waiting for inclusion (`false`).
    #[serde(default = "yes")]
    pub included: bool,
}

fn default_home_id() -> u32 {
    0xC0FF_EE01
}

fn yes() -> bool {
    true
}

/// A scenario that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Not valid TOML or not the expected shape.
    #[error("scenario: {0}")]
    Toml(#[from] toml::de::Error),
    /// Bigger than [`MAX_SCENARIO_BYTES`].
    #[error("scenario larger than {MAX_SCENARIO_BYTES} bytes")]
    TooLarge,
    /// The network key is not 32 hex digits.
    #[error("scenario: network_key must be 32 hex digits")]
    Key,
    /// A node id outside 2-232 or used twice.
    #[error("scenario: invalid or duplicate node id {0}")]
    NodeId(u8),
}

impl Scenario {
    /// Parses and checks a TOML scenario.
    pub fn from_toml(text: &str) -> Result<Self, ScenarioError> {
        if text.len() > MAX_SCENARIO_BYTES {
            return Err(ScenarioError::TooLarge);
        }
        let s: Scenario = toml::from_str(text)?;
        if s.network_key
            .as_deref()
            .is_some_and(|k| parse_key(k).is_none())
        {
            return Err(ScenarioError::Key);
        }
        let mut seen = std::collections::BTreeSet::new();
        for n in &s.nodes {
            if !(2..=232).contains(&n.id) || !seen.insert(n.id) {
                return Err(ScenarioError::NodeId(n.id));
            }
        }
        Ok(s)
    }

    /// The built-in demo: a switch with meter, a multisensor that sleeps, a dimmer, a
    /// double switch, a scene button, a thermostat, a door lock and an S0 door lock (key
    /// [`DEMO_NETWORK_KEY`]); a second dimmer waits for inclusion.
    pub fn demo() -> Self {
        let node = |id, kind, included| NodeSpec { id, kind, included };
        let key: String = DEMO_NETWORK_KEY
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self {
            home_id: default_home_id(),
            network_key: Some(key),
            live: false,
            nodes: vec![
                node(2, NodeKind::BinarySwitch, true),
                node(3, NodeKind::Multisensor, true),
                node(4, NodeKind::Dimmer, true),
                node(5, NodeKind::DoubleSwitch, true),
                node(6, NodeKind::Button, true),
                node(7, NodeKind::Dimmer, false),
                node(9, NodeKind::Thermostat, true),
                node(10, NodeKind::DoorLock, true),
                node(11, NodeKind::SecureDoorLock, true),
            ],
        }
    }

    /// Virtual nodes in the network at start, and those waiting for inclusion.
    pub fn build(&self) -> (Vec<VirtualNode>, Vec<VirtualNode>) {
        let key = self.network_key.as_deref().and_then(parse_key);
        let mut inc = Vec::new();
        let mut pending = Vec::new();
        for n in &self.nodes {
            let mut node = VirtualNode::new(n.id, n.kind);
            if n.included {
                // Included before the simulation started: it already has the network key.
                if let Some(s0) = node.s0.as_mut() {
                    s0.network_key = key;
                }
                inc.push(node);
            } else {
                pending.push(node);
            }
        }
        (inc, pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_scenario_parses_with_defaults() {
        let s = Scenario::from_toml(
            "home_id = 0x11223344\n[[node]]\nid = 2\nkind = \"binary_switch\"\n[[node]]\nid = 9\nkind = \"multisensor\"\nincluded = false\n",
        )
        .unwrap();
        assert_eq!(s.home_id, 0x1122_3344);
        let (inc, pending) = s.build();
        assert_eq!(inc.len(), 1);
        assert_eq!(pending[0].id, 9);
    }

    #[test]
    fn bad_scenarios_are_rejected() {
        assert!(Scenario::from_toml("[[node]]\nid = 1\nkind = \"dimmer\"\n").is_err());
        assert!(Scenario::from_toml("[[node]]\nid = 2\nkind = \"toaster\"\n").is_err());
        assert!(
            Scenario::from_toml(
                "[[node]]\nid = 2\nkind = \"dimmer\"\n[[node]]\nid = 2\nkind = \"dimmer\"\n"
            )
            .is_err()
        );
        assert!(Scenario::from_toml(&"#".repeat(MAX_SCENARIO_BYTES + 1)).is_err());
        assert!(Scenario::from_toml("network_key = \"00ff\"\n").is_err());
        assert_eq!(parse_key(&"0f".repeat(16)), Some([0x0F; 16]));
    }
}
