//! Acceptance of the simulator by the unmodified `bellows` host library (PyPI): its `info`
//! command resets the NCP over ASH, negotiates the version, configures it, starts the
//! network and reads EUI-64, node id, network state and parameters, security state and
//! board information. Needs the venv `scripts/setup` creates (`target/interop-venv`,
//! bellows 1.2.1) or `$USPHUB_INTEROP_PYTHON`'s; a missing venv fails the test.

use std::path::PathBuf;
use std::time::Duration;

use super::{EzspSim, EzspSimConfig};

fn bellows_cli() -> PathBuf {
    let python = std::env::var_os("USPHUB_INTEROP_PYTHON").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/interop-venv/bin/python"),
        PathBuf::from,
    );
    let cli = python.with_file_name("bellows");
    assert!(
        cli.exists(),
        "{} is missing: run scripts/setup (it creates the venv with bellows)",
        cli.display()
    );
    cli
}

async fn bellows_info(version: u8) -> String {
    let cfg = EzspSimConfig {
        protocol_version: version,
        ..EzspSimConfig::default()
    };
    let sim = EzspSim::start_tcp(cfg, 0).await.unwrap();
    sim.with_state(|s| s.form_network(0x1A62, 0xDDDD_0000_1111_2222, 20, [3; 16]));
    let url = sim.url().replace("tcp://", "socket://");
    let run = tokio::process::Command::new(bellows_cli())
        .args(["-d", &url, "info"])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("bellows finished in time")
        .expect("bellows ran");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "bellows failed: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[tokio::test]
async fn bellows_info_reads_the_simulated_ncp_from_v8_to_v17() {
    for version in [8, 13, 14, 17] {
        let text = bellows_info(version).await;
        for expected in [
            "00:0d:6f:00:00:00:00:01",
            "JOINED_NETWORK",
            "panId=0x1A62",
            "radioChannel=20",
            "Board name: ezsp-sim",
        ] {
            assert!(
                text.contains(expected),
                "v{version}: {expected} missing in {text}"
            );
        }
    }
}
