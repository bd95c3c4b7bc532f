//! Lists the USB serial ports and what they are, like `usphub dongles` will.
//!
//! ```text
//! cargo run -p usphub-udev --example dongles                 # table only, opens nothing
//! cargo run -p usphub-udev --example dongles -- --probe      # probe ambiguous sticks
//! cargo run -p usphub-udev --example dongles -- tcp://192.0.2.7:6638   # probe a network port
//! cargo run -p usphub-udev --example dongles -- --monitor    # then follow hot-plug
//! cargo run -p usphub-udev --example dongles -- --monitor --kernel   # without udevd
//! ```

use usphub_udev::{
    DongleChange, DongleTracker, HotplugSource, ProbeConfig, ProbeMode, SysRoots, identify_spec,
    render_table,
};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = if args.iter().any(|a| a == "--probe") {
        ProbeMode::WhenAmbiguous
    } else {
        ProbeMode::Never
    };
    let config = ProbeConfig::default();
    let mut ids = Vec::new();
    for spec in args.iter().filter(|a| !a.starts_with("--")) {
        ids.push(identify_spec(&spec.parse()?, &config).await);
    }
    let mut tracker = DongleTracker::new(mode, config);
    tracker.scan(&SysRoots::default()).await?;
    ids.extend(tracker.present().cloned());
    print!("{}", render_table(&ids));
    if args.iter().any(|a| a == "--monitor") {
        let mut monitor = if args.iter().any(|a| a == "--kernel") {
            usphub_udev::UdevMonitor::start_kernel(SysRoots::default()).await?
        } else {
            usphub_udev::UdevMonitor::start(SysRoots::default()).await?
        };
        println!("following hot-plug (Ctrl-C to stop)");
        let source: &mut dyn HotplugSource = &mut monitor;
        while let Some(change) = tracker.next_change(source).await {
            match change {
                DongleChange::Appeared(id) => print!("added\n{}", render_table(&[id])),
                DongleChange::Gone(id) => print!("removed\n{}", render_table(&[id])),
            }
        }
    }
    Ok(())
}
