//! Finds the Python interpreter of the venv `scripts/setup` creates with the Zigbee host
//! libraries (zigpy-znp, bellows) that the simulators are checked against.

use std::path::PathBuf;

/// The venv's interpreter: `$USPHUB_INTEROP_PYTHON`, else `target/interop-venv/bin/python`.
/// Panics with the command to run when neither exists: CI never skips these tests.
pub fn interop_python() -> PathBuf {
    if let Some(p) = std::env::var_os("USPHUB_INTEROP_PYTHON") {
        return PathBuf::from(p);
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/interop-venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup (it creates the venv with zigpy-znp and bellows)",
        p.display()
    );
    p
}
