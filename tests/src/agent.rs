//! Starting a real agent for a test: its own temp database, a WebSocket server on a free
//! loopback port, and the Controllers the test names.

use usphub::agent::{RunningAgent, StartOptions};
use usphub::config::{Config, ControllerConfig, MqttConfig, Role, WsServerConfig};

/// The agent's EndpointID in tests.
pub const AGENT_EID: &str = "proto::usphub-test-agent";
/// A Controller trusted with full access.
pub const CONTROLLER: &str = "proto::controller-a";
/// A second full-access Controller.
pub const CONTROLLER_B: &str = "proto::controller-b";
/// A Controller with the untrusted role.
pub const GUEST: &str = "proto::guest";

/// A running agent and the directory holding its state.
pub struct TestAgent {
    /// The agent (None after [`TestAgent::stop`]).
    pub agent: Option<RunningAgent>,
    /// The state directory (kept across restarts).
    pub dir: tempfile::TempDir,
    /// The configuration it was started with.
    pub config: Config,
}

impl TestAgent {
    /// A config for a test agent with a WebSocket server on a free port.
    pub fn config(dir: &tempfile::TempDir) -> Config {
        Config {
            endpoint_id: AGENT_EID.into(),
            db: dir.path().join("usphub.redb"),
            websocket: Some(WsServerConfig {
                listen: "127.0.0.1:0".parse().expect("loopback address"),
                path: "/usp".into(),
            }),
            controllers: vec![
                controller(CONTROLLER, Role::Full, None),
                controller(CONTROLLER_B, Role::Full, None),
                controller(GUEST, Role::Untrusted, None),
            ],
            // Tests never touch the machine's own USB sticks; hot-plug tests pass a double.
            dongles: usphub::hotplug::AutoStartConfig {
                enable: false,
                ..Default::default()
            },
            ..Config::default()
        }
    }

    /// Starts an agent with the default test configuration.
    pub async fn start() -> TestAgent {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = Self::config(&dir);
        Self::start_with(dir, config).await
    }

    /// Starts an agent with `config` in `dir`.
    pub async fn start_with(dir: tempfile::TempDir, config: Config) -> TestAgent {
        Self::start_with_options(dir, config, StartOptions::default()).await
    }

    /// Starts an agent with `config` in `dir` and `options` (e.g. a hot-plug double).
    pub async fn start_with_options(
        dir: tempfile::TempDir,
        config: Config,
        options: StartOptions,
    ) -> TestAgent {
        let agent = usphub::agent::start_with(config.clone(), options)
            .await
            .expect("agent starts");
        TestAgent {
            agent: Some(agent),
            dir,
            config,
        }
    }

    /// The WebSocket URL of the running agent.
    pub fn ws_url(&self) -> String {
        let addr = self
            .agent
            .as_ref()
            .and_then(|a| a.ws_addr)
            .expect("agent runs a WebSocket server");
        format!("ws://{addr}/usp")
    }

    /// The running agent.
    pub fn agent(&self) -> &RunningAgent {
        self.agent.as_ref().expect("agent is running")
    }

    /// Stops the agent, keeping its state directory.
    pub async fn stop(&mut self) {
        if let Some(a) = self.agent.take() {
            a.shutdown().await;
        }
    }

    /// Starts the agent again on the same state (and a new free port).
    pub async fn restart(&mut self) {
        self.stop().await;
        let agent = usphub::agent::start(self.config.clone())
            .await
            .expect("agent restarts");
        self.agent = Some(agent);
    }
}

/// A Controller entry for a test config.
pub fn controller(eid: &str, role: Role, mqtt_topic: Option<&str>) -> ControllerConfig {
    ControllerConfig {
        endpoint_id: eid.into(),
        role,
        mqtt_topic: mqtt_topic.map(str::to_string),
        ws_url: None,
    }
}

/// An MQTT section pointing at a local broker.
pub fn mqtt(port: u16) -> MqttConfig {
    MqttConfig {
        host: "127.0.0.1".into(),
        port,
        ..MqttConfig::default()
    }
}
